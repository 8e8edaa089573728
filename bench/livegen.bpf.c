// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The programs of bench/livegen.c, the live-frames traffic generator.
 *   livegen_tx  run by bpf_prog_test_run_opts(BPF_F_TEST_XDP_LIVE_FRAMES):
 *               returns XDP_TX, so each frame leaves through the ingress
 *               ifindex of the test run (the generator's veth end). With
 *               n_tuples > 1 it first overwrites the frame's first
 *               LIVEGEN_HDR_LEN bytes with header number seq % n_tuples,
 *               prepared (checksums included) by livegen.c: live frames
 *               are recycled through a page pool without being re-copied,
 *               so the rewrite is what makes the tuples cycle.
 *   sink_drop   XDP_DROP: the "empty XDP_DROP" receiver of bench/lab_pps.sh.
 *   sink_pass   XDP_PASS: lets XDP_TX frames into the receiver's stack (a
 *               veth only accepts XDP frames when its peer runs XDP).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "livegen.h"

const volatile __u32 n_tuples = 1;
__u64 seq = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to n_tuples by livegen.c */
	__type(key, __u32);
	__type(value, struct livegen_hdr);
} livegen_hdrs SEC(".maps");

SEC("xdp")
int livegen_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct livegen_hdr *h;
	__u32 k;

	if (n_tuples <= 1)
		return XDP_TX;
	if (data + LIVEGEN_HDR_LEN > end)
		return XDP_ABORTED;
	k = seq++ % n_tuples;
	h = bpf_map_lookup_elem(&livegen_hdrs, &k);
	if (!h)
		return XDP_ABORTED;
	__builtin_memcpy(data, h->bytes, LIVEGEN_HDR_LEN);
	return XDP_TX;
}

SEC("xdp")
int sink_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

SEC("xdp")
int sink_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
