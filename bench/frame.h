/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* frame.h: the TCP frames of the test-run benchmarks (bench_xdp, bench_lb):
 * Ethernet 02:00:00:00:00:01 -> 02:00:00:00:00:02, IPv4 (header checksum
 * right) or IPv6, TCP with no options and no payload (54 or 74 bytes). The
 * TCP checksum is left 0: the datapath does not verify it. */
#ifndef SL_BENCH_FRAME_H
#define SL_BENCH_FRAME_H

#include <arpa/inet.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <netinet/in.h>

static __u16 csum16(const void *buf, size_t len)
{
	const __u8 *b = buf;
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/* src:sport -> dst:dport (addresses of family 4 or 6 as text), TCP flags
 * (0x02 SYN, 0x10 ACK). Returns the frame's length; buf must hold cap >=
 * 74 bytes (cleared first). */
static size_t bench_tcp_frame(__u8 *buf, size_t cap, int family,
			      const char *src, const char *dst, __u16 sport,
			      __u16 dport, __u8 flags)
{
	static const __u8 dmac[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x02};
	static const __u8 smac[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x01};
	struct ethhdr *eth = (void *)buf;
	struct tcphdr *th;

	memset(buf, 0, cap);
	memcpy(eth->h_dest, dmac, ETH_ALEN);
	memcpy(eth->h_source, smac, ETH_ALEN);
	if (family == 4) {
		struct iphdr *iph = (void *)(eth + 1);

		eth->h_proto = htons(ETH_P_IP);
		iph->version = 4;
		iph->ihl = 5;
		iph->tot_len = htons(sizeof(*iph) + sizeof(*th));
		iph->ttl = 64;
		iph->protocol = IPPROTO_TCP;
		inet_pton(AF_INET, src, &iph->saddr);
		inet_pton(AF_INET, dst, &iph->daddr);
		iph->check = csum16(iph, sizeof(*iph));
		th = (void *)(iph + 1);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->payload_len = htons(sizeof(*th));
		ip6->nexthdr = IPPROTO_TCP;
		ip6->hop_limit = 64;
		inet_pton(AF_INET6, src, &ip6->saddr);
		inet_pton(AF_INET6, dst, &ip6->daddr);
		th = (void *)(ip6 + 1);
	}
	th->source = htons(sport);
	th->dest = htons(dport);
	th->seq = htonl(1);
	th->doff = 5;
	((__u8 *)th)[13] = flags;
	th->window = htons(64240);
	return (__u8 *)(th + 1) - buf;
}

#endif
