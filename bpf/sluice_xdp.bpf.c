// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The XDP entry: parse once, then run the stages in order
 *   malformed checks -> allow/deny sets -> verdict
 * and count every verdict by reason and action. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lib/parse.h"
#include "lib/sets.h"
#include "lib/stats.h"

/* Load-time switches, set by the loader before the program is verified. */
const volatile struct sl_features sl_feat = {.drop_malformed = 1};

static __always_inline int sl_verdict(__u32 reason, __u32 action, __u32 len)
{
	sl_count(reason, action, len);
	return action == SL_ACT_DROP ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int sluice_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sl_pkt p = {};
	int r;

	r = sl_parse(data, data_end, &p);
	if (r == SL_R_NON_IP)
		return sl_verdict(r, SL_ACT_PASS, p.len);
	if (r != SL_R_PASS) {
		if (sl_feat.drop_malformed)
			return sl_verdict(r, SL_ACT_DROP, p.len);
		/* Passing malformed frames must not open a way around the
		 * deny set: a bad L4 header comes with valid addresses. */
		if (r == SL_R_MALFORMED_L4 &&
		    sl_sets_check(&p) == SL_R_DENY_SET)
			return sl_verdict(SL_R_DENY_SET, SL_ACT_DROP, p.len);
		return sl_verdict(r, SL_ACT_PASS, p.len);
	}

	r = sl_sets_check(&p);
	if (r == SL_R_DENY_SET)
		return sl_verdict(r, SL_ACT_DROP, p.len);
	/* An allow entry ends the pipeline: trusted traffic bypasses every
	 * later stage. */
	return sl_verdict(r, SL_ACT_PASS, p.len);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
