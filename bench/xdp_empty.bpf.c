// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The floor of the benchmarks: an XDP program that does nothing but pass.
 * Its ns/packet is the cost of the test-run harness itself. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_empty(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
