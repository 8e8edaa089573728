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
 *   bounce_tx   the generator without live frames (livegen send --loop),
 *               below.
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

/* Overwrites the frame's headers with those of tuple n % n_tuples; false
 * when the frame is too short or the header is missing. */
static __always_inline int put_hdr(struct xdp_md *ctx, __u64 n)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct livegen_hdr *h;
	__u32 k;

	if (n_tuples <= 1)
		return 1;
	if (data + LIVEGEN_HDR_LEN > end)
		return 0;
	k = n % n_tuples;
	h = bpf_map_lookup_elem(&livegen_hdrs, &k);
	if (!h)
		return 0;
	__builtin_memcpy(data, h->bytes, LIVEGEN_HDR_LEN);
	return 1;
}

SEC("xdp")
int livegen_tx(struct xdp_md *ctx)
{
	return put_hdr(ctx, seq++) ? XDP_TX : XDP_ABORTED;
}

/* The bounce generator (livegen send --loop): frames circle through a veth
 * pair of the generator's own, A -> B, and bounce_tx on B sends each one,
 * copied by the broadcast redirect, both back out of A (round again) and out
 * of the interface to the receiver: one frame to the receiver a round,
 * without live frames. It stops (drops what circles) at bounce_limit frames
 * or when livegen sets bounce_stop. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 2); /* A, the interface to the receiver */
	__type(key, __u32);
	__type(value, __u32);
} bounce_out SEC(".maps");

__u64 bounced = 0;
__u64 bounce_limit = 0;
__u32 bounce_stop = 0;

SEC("xdp")
int bounce_tx(struct xdp_md *ctx)
{
	if (bounce_stop || bounced >= bounce_limit)
		return XDP_DROP;
	if (!put_hdr(ctx, bounced))
		return XDP_ABORTED;
	bounced++;
	return bpf_redirect_map(&bounce_out, 0, BPF_F_BROADCAST);
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
