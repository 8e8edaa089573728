// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* lb_harness: bench_lb's frame restorer (bench only). Test-run with
 * repeat > 1 hands the program the frame it left behind the run before,
 * and the load balancer rewrites (nat), re-addresses (dsr-l2) or
 * encapsulates (dsr-ipip) its frame. So each run of this program first
 * puts the original frame back, then tail-calls the program under test
 * (slot 0 of lbh_target), which sees a fresh frame on every repeat:
 *   - the frame's length back to the original's (bpf_xdp_adjust_head by
 *     the difference from bpf_xdp_get_buff_len(): a dsr-ipip run grew it at the
 * front; called with 0 otherwise, so every run pays the same);
 *   - the original bytes (lbh_frame, written by bench_lb) stored over it;
 *   - the TCP source port: base + runs * step (lbh_runs counts the runs
 *     of this program): step 1 gives every run a new flow (the SYN rows),
 *     step 0 the same flow (established).
 * Its own cost is measured by tail-calling a program that only passes
 * (bench_lb's harness anchor), in the same run as the rows. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lb_harness.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lbh_frame);
} lbh_frame SEC(".maps");

/* slot 0: the program under test */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} lbh_target SEC(".maps");

/* runs of this program (bench_lb zeroes it before a test run) */
__u64 lbh_runs;

SEC("xdp")
int lbh_run(struct xdp_md *ctx)
{
	struct lbh_frame *f;
	__u32 zero = 0, len, off;
	__u8 *d, *end;
	__u16 port;

	f = bpf_map_lookup_elem(&lbh_frame, &zero);
	if (!f)
		return XDP_ABORTED;
	len = f->len;
	if (len < 14 || len > LBH_FRAME_MAX)
		return XDP_ABORTED;
	if (bpf_xdp_adjust_head(ctx, (int)bpf_xdp_get_buff_len(ctx) - (int)len))
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, f->bytes, len))
		return XDP_ABORTED;
	d = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	off = f->sport_off;
	if (off > LBH_FRAME_MAX - 2)
		return XDP_ABORTED;
	if ((void *)(d + off + 2) > (void *)end)
		return XDP_ABORTED;
	port = f->sport + (__u16)(lbh_runs * f->step);
	*(__u16 *)(d + off) = bpf_htons(port);
	lbh_runs++;
	bpf_tail_call(ctx, &lbh_target, 0);
	return XDP_ABORTED; /* the slot is empty */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
