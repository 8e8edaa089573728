/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* pipeline: the stages every hook runs after parsing, in order
 *   malformed checks -> allow/deny sets (ingress) -> rules -> policy
 * Hooks (XDP, TC ingress, TC egress) parse the frame, call sl_pipeline()
 * and map the returned SL_ACT_* onto their own return codes. */
#ifndef SL_PIPELINE_H
#define SL_PIPELINE_H

#include "parse.h"
#include "sets.h"
#include "stats.h"

/* Load-time switches, set by the loader before the programs are verified. */
const volatile struct sl_features sl_feat = {.drop_malformed = 1};

static __always_inline int sl_verdict(__u32 reason, __u32 action, __u32 len)
{
	sl_count(reason, action, len);
	return action;
}

/* r: what sl_parse() returned for p. dir: enum sl_rule_dir of the hook.
 * Returns SL_ACT_PASS or SL_ACT_DROP, counted by reason. */
static __always_inline int sl_pipeline(struct sl_pkt *p, int r, __u32 dir,
				       __u32 ifindex)
{
	__u8 *blob = sl_blob_get();
	__u32 gen = 0;

	(void)ifindex;
	if (blob)
		gen = ((struct sl_blob_hdr *)blob)->set_gen & 1;
	if (r == SL_R_NON_IP)
		return sl_verdict(r, SL_ACT_PASS, p->len);
	if (r != SL_R_PASS) {
		if (sl_feat.drop_malformed)
			return sl_verdict(r, SL_ACT_DROP, p->len);
		/* Passing malformed frames must not open a way around the
		 * deny set: a bad L4 header comes with valid addresses. */
		if (dir == SL_RDIR_IN && r == SL_R_MALFORMED_L4 &&
		    sl_sets_check(p, gen) == SL_R_DENY_SET)
			return sl_verdict(SL_R_DENY_SET, SL_ACT_DROP, p->len);
		return sl_verdict(r, SL_ACT_PASS, p->len);
	}

	if (dir == SL_RDIR_IN) {
		r = sl_sets_check(p, gen);
		if (r == SL_R_DENY_SET)
			return sl_verdict(r, SL_ACT_DROP, p->len);
		/* An allow entry ends the pipeline: trusted traffic bypasses
		 * every later stage. */
		if (r == SL_R_ALLOW_SET)
			return sl_verdict(r, SL_ACT_PASS, p->len);
	}
	return sl_verdict(SL_R_PASS, SL_ACT_PASS, p->len);
}

#endif /* SL_PIPELINE_H */
