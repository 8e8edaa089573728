// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The floor of the veth labs' drop rows: an XDP program that drops every
 * frame. Its server CPU per packet is what the veth and its NAPI thread
 * cost before any filter runs (bench/syn_lab.sh). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
