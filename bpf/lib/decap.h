/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* decap: a dsr-ipip backend's decapsulation (attach --decap, the
 * load-time switch sl_feat.decap; docs/loadbalancer.md). This kernel has
 * no ipip / ip6_tunnel module, so the XDP hook strips the tunnel header
 * itself, before the stage table runs: the stages (sets, bans, conntrack,
 * rules) judge the inner packet, and what they pass reaches the stack as
 * if it had arrived unencapsulated (its destination, the VIP, held on
 * lo). Stripped: an untagged IPv4 packet of protocol 4 (IPIP) with a
 * 20-byte header, not a fragment, carrying IPv4; an IPv6 packet whose
 * next header is 41 (no extension headers before it) carrying IPv6. The
 * outer destination is not compared with the host's addresses: every
 * such packet arriving on an interface of a --decap load is opened.
 * Anything else goes to the stages as it is. XDP only. */
#ifndef SL_DECAP_H
#define SL_DECAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Strips the tunnel header of the frame, the Ethernet header moved in
 * front of the inner packet: 1 when it did (the frame's pointers must be
 * read again from ctx), 0 when the frame is not a tunnel packet, -1 when
 * it could not be resized. A subprogram: the hook calls it once. */
static __noinline int sl_decap(struct xdp_md *ctx)
{
	__u8 *d = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	__u16 proto;
	int hl;

	if ((void *)(d + 14 + 40 + 1) > (void *)end)
		return 0;
	proto = bpf_ntohs(*(__u16 *)(d + 12));
	if (proto == ETH_P_IP) {
		/* 20-byte header, IPIP, not a fragment, IPv4 inside */
		if (d[14] != 0x45 || d[14 + 9] != IPPROTO_IPIP ||
		    (*(__u16 *)(d + 14 + 6) & bpf_htons(0x3fff)) ||
		    (d[14 + 20] >> 4) != 4)
			return 0;
		hl = 20;
	} else if (proto == ETH_P_IPV6) {
		if ((d[14] >> 4) != 6 || d[14 + 6] != IPPROTO_IPV6 ||
		    (d[14 + 40] >> 4) != 6)
			return 0;
		hl = 40;
	} else {
		return 0;
	}
	/* the Ethernet header moves forward over the outer header's end
	 * (the inner packet's ethertype is the outer's) */
	__builtin_memmove(d + hl, d, 14);
	if (bpf_xdp_adjust_head(ctx, hl))
		return -1;
	return 1;
}

#endif /* SL_DECAP_H */
