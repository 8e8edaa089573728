// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The hooks: each parses the frame once and runs the shared pipeline
 * (bpf/lib/pipeline.h), then turns its verdict into the hook's return code.
 * All hooks share the pinned maps. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lib/pipeline.h"

SEC("xdp")
int sluice_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sl_pkt p = {};
	int r;

	r = sl_parse(data, data_end, &p);
	r = sl_pipeline(&p, r, SL_RDIR_IN, ctx->ingress_ifindex);
	return r == SL_ACT_DROP ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
