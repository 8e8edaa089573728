/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* parse: the parse-once cursor parser. One pass fills struct sl_pkt with the
 * offsets, addresses, ports and flags that every later stage reads; it
 * returns SL_R_PASS for a well-formed frame, SL_R_NON_IP for a frame that is
 * not IP, or the malformed-* reason that names the first bad header. */
#ifndef SL_PARSE_H
#define SL_PARSE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <sluice/abi.h>

#ifndef ETH_P_8021Q
#define ETH_P_8021Q 0x8100
#endif
#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

/* Largest header offset the parser follows; a header chain reaching past it
 * is malformed. */
#define SL_PARSE_MAX_OFF 4096
/* Most bytes from the frame's start the parser may read: an L4 header (at
 * most 60 bytes, TCP with options) at the largest offset. A hook whose
 * frame may be non-linear (TC) makes this much readable first. */
#define SL_PARSE_MAX_LEN (SL_PARSE_MAX_OFF + 60)

/* What the parser learnt about a frame. Addresses are in network order;
 * IPv4 uses saddr[0]/daddr[0]. Ports are in host order. */
struct sl_pkt {
	__u32 saddr[4];
	__u32 daddr[4];
	__u16 l3_proto; /* ETH_P_IP, ETH_P_IPV6 or the innermost ethertype */
	__u16 l3_off;
	__u16 l4_off;
	__u16 sport;
	__u16 dport;
	__u16 vlan_id[2]; /* outer first; 0 where absent */
	__u8 nvlan;
	__u8 l4_proto;
	__u8 frag; /* enum sl_frag (abi.h) */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	/* 1 once saddr/daddr hold the addresses of a whole fixed IPv4 or IPv6
	 * header of the right version, even when a later check calls the
	 * frame malformed: the sets judge every frame whose addresses could
	 * be read, so a malformed frame is no way around a deny entry. */
	__u8 addrs;
	__u8 dmac[6]; /* the Ethernet header's addresses */
	__u8 smac[6];
	__u32 len; /* frame length in bytes (may exceed the readable area) */
	/* the datagram a fragment belongs to (host order): the IPv4 id (of
	 * every IPv4 packet), the IPv6 fragment header's identification (0
	 * without one) */
	__u32 frag_id;
};

/* A cursor over the frame: every helper checks bounds, then advances. */
struct sl_cursor {
	void *start;
	void *pos;
	void *end;
};

/* Returns a pointer to the next n bytes and advances, or NULL when the frame
 * is shorter. The empty asm keeps the position in one register, so clang
 * cannot recompute it on a path the verifier has not bounds-checked. */
#define sl_cursor_take(c, n)                  \
	({                                    \
		void *__p = (c)->pos;         \
		asm volatile("" : "+r"(__p)); \
		if (__p + (n) > (c)->end)     \
			__p = NULL;           \
		else                          \
			(c)->pos = __p + (n); \
		__p;                          \
	})

/* Ethernet and up to two VLAN tags (802.1Q or 802.1ad, in any order). A
 * third tag is left as the ethertype, so the frame counts as non-IP. */
static __always_inline int sl_parse_eth(struct sl_cursor *c, struct sl_pkt *p)
{
	struct ethhdr *eth = sl_cursor_take(c, sizeof(*eth));
	__u16 proto;

	if (!eth)
		return SL_R_MALFORMED_L2;
	__builtin_memcpy(p->dmac, eth->h_dest, 6);
	__builtin_memcpy(p->smac, eth->h_source, 6);
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_tag {
			__be16 tci;
			__be16 proto;
		} * tag;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		tag = sl_cursor_take(c, sizeof(*tag));
		if (!tag)
			return SL_R_MALFORMED_L2;
		p->vlan_id[i] = bpf_ntohs(tag->tci) & 0x0fff;
		p->nvlan = i + 1;
		proto = tag->proto;
	}
	p->l3_proto = bpf_ntohs(proto);
	return SL_R_PASS;
}

/* TCP, UDP, ICMP and ICMPv6 headers; `room` is the number of L4 bytes the IP
 * header says the packet carries (for a first fragment, only this
 * fragment's). Other protocols are not inspected. */
static __always_inline int sl_parse_l4(struct sl_cursor *c, struct sl_pkt *p,
				       __u32 room)
{
	p->l4_off = c->pos - c->start;
	if (p->frag == SL_FRAG_LATER)
		return SL_R_PASS;

	switch (p->l4_proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = sl_cursor_take(c, sizeof(*th));
		__u32 hlen;

		if (!th || room < sizeof(*th))
			return SL_R_MALFORMED_L4;
		hlen = th->doff * 4;
		if (hlen < sizeof(*th) || hlen > room ||
		    c->pos + (hlen - sizeof(*th)) > c->end)
			return SL_R_MALFORMED_L4;
		p->sport = bpf_ntohs(th->source);
		p->dport = bpf_ntohs(th->dest);
		p->tcp_flags = ((__u8 *)th)[13];
		return SL_R_PASS;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = sl_cursor_take(c, sizeof(*uh));
		__u32 ulen;

		if (!uh || room < sizeof(*uh))
			return SL_R_MALFORMED_L4;
		ulen = bpf_ntohs(uh->len);
		/* A fragment's UDP length covers the reassembled datagram. */
		if (ulen < sizeof(*uh) ||
		    (p->frag == SL_FRAG_NONE && ulen > room))
			return SL_R_MALFORMED_L4;
		p->sport = bpf_ntohs(uh->source);
		p->dport = bpf_ntohs(uh->dest);
		return SL_R_PASS;
	}
	case IPPROTO_SCTP: {
		/* The 12-byte common header: ports, verification tag, sum. */
		__be16 *sh = sl_cursor_take(c, 12);

		if (!sh || room < 12)
			return SL_R_MALFORMED_L4;
		p->sport = bpf_ntohs(sh[0]);
		p->dport = bpf_ntohs(sh[1]);
		return SL_R_PASS;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		/* Every ICMP and ICMPv6 message has at least 8 bytes. ICMP
		 * inside IPv6 (or ICMPv6 inside IPv4) is just another
		 * protocol. */
		__u8 *ih;

		if ((p->l4_proto == IPPROTO_ICMP) != (p->l3_proto == ETH_P_IP))
			return SL_R_PASS;
		ih = sl_cursor_take(c, 8);
		if (!ih || room < 8)
			return SL_R_MALFORMED_L4;
		p->icmp_type = ih[0];
		p->icmp_code = ih[1];
		return SL_R_PASS;
	}
	}
	return SL_R_PASS;
}

/* IPv4 with options; fragments recognised. */
static __always_inline int sl_parse_ipv4(struct sl_cursor *c, struct sl_pkt *p)
{
	struct iphdr *iph = sl_cursor_take(c, sizeof(*iph));
	__u32 hlen, tot, avail, off;
	__u16 frag;

	if (!iph || iph->version != 4)
		return SL_R_MALFORMED_L3;
	p->saddr[0] = iph->saddr;
	p->daddr[0] = iph->daddr;
	p->addrs = 1;
	if (iph->ihl < 5)
		return SL_R_MALFORMED_L3;
	hlen = iph->ihl * 4;
	if (c->pos + (hlen - sizeof(*iph)) > c->end)
		return SL_R_MALFORMED_L3;
	c->pos += hlen - sizeof(*iph);
	tot = bpf_ntohs(iph->tot_len);
	/* The frame's length, not the readable area: a non-linear skb has
	 * more packet than its linear part shows. */
	off = (void *)iph - c->start;
	/* A scalar from here: clang must not fold the pointers into p->len
	 * (32-bit pointer arithmetic the verifier refuses). */
	asm volatile("" : "+r"(off));
	avail = p->len - off;
	if (tot < hlen || tot > avail)
		return SL_R_MALFORMED_L3;

	p->l4_proto = iph->protocol;
	frag = bpf_ntohs(iph->frag_off);
	if (frag & 0x1fff)
		p->frag = SL_FRAG_LATER;
	else if (frag & 0x2000)
		p->frag = SL_FRAG_FIRST;
	p->frag_id = bpf_ntohs(iph->id);
	return sl_parse_l4(c, p, tot - hlen);
}

static __always_inline int sl_ipv6_is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH ||
	       nh == IPPROTO_FRAGMENT;
}

/* IPv6 with a bounded walk over hop-by-hop, routing, fragment,
 * destination-options and AH headers.
 * The walk keeps scalar offsets and makes them opaque to the verifier at the
 * top of each iteration (empty asm, then a bound), so every path through an
 * iteration reaches the next one in the same verifier state and the walk
 * costs the verifier linear, not exponential, work. */
static __always_inline int sl_parse_ipv6(struct sl_cursor *c, struct sl_pkt *p)
{
	struct ipv6hdr *ip6 = sl_cursor_take(c, sizeof(*ip6));
	__u32 plen, avail, off, first, fragoff = 0;
	__u8 nh;

	if (!ip6 || ip6->version != 6)
		return SL_R_MALFORMED_L3;
	__builtin_memcpy(p->saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->daddr, &ip6->daddr, 16);
	p->addrs = 1;
	plen = bpf_ntohs(ip6->payload_len);
	off = c->pos - c->start;
	asm volatile("" : "+r"(off)); /* see sl_parse_ipv4() */
	avail = p->len - off;
	/* payload_len 0 is a jumbogram: its length is in hop-by-hop. */
	if (plen == 0)
		plen = avail;
	if (plen > avail)
		return SL_R_MALFORMED_L3;
	nh = ip6->nexthdr;
	first = c->pos - c->start;
	off = first;

	/* One more round than headers allowed: it may only find L4. */
	for (int i = 0; i <= SL_IPV6_MAX_EXT; i++) {
		__u8 *eh;
		__u32 elen;

		asm volatile("" : "+r"(off));
		asm volatile("" : "+r"(fragoff));
		if (off > SL_PARSE_MAX_OFF || fragoff > SL_PARSE_MAX_OFF)
			return SL_R_MALFORMED_L3;
		if (!sl_ipv6_is_ext(nh))
			goto l4;
		if (i == SL_IPV6_MAX_EXT)
			return SL_R_MALFORMED_L3; /* chain too long */
		eh = c->start + off;
		if ((void *)(eh + 8) > c->end)
			return SL_R_MALFORMED_L3;
		if (nh == IPPROTO_FRAGMENT) {
			fragoff = off;
			nh = eh[0];
			off += 8;
			/* Past a later fragment's header comes payload, not
			 * headers: stop walking. */
			if ((eh[2] << 8 | eh[3]) & 0xfff8)
				goto l4;
			continue;
		}
		if (nh == IPPROTO_AH) {
			/* AH counts 4-byte units minus 2. */
			elen = (eh[1] + 2) * 4;
		} else {
			/* 8-byte units beyond the first 8 bytes. */
			elen = (eh[1] + 1) * 8;
		}
		nh = eh[0];
		off += elen;
	}
	return SL_R_MALFORMED_L3; /* not reached: the last round returns */
l4:
	if (off - first > plen)
		return SL_R_MALFORMED_L3;
	if (fragoff) {
		__u8 *fh = c->start + fragoff;
		__u16 fo;

		if ((void *)(fh + 8) > c->end)
			return SL_R_MALFORMED_L3;
		fo = ((__u16)fh[2] << 8) | fh[3];
		if (fo & 0xfff8)
			p->frag = SL_FRAG_LATER;
		else if (fo & 1)
			p->frag = SL_FRAG_FIRST;
		p->frag_id = bpf_ntohl(*(__u32 *)(fh + 4));
	}
	p->l4_proto = nh;
	c->pos = c->start + off;
	return sl_parse_l4(c, p, plen - (off - first));
}

/* Parses the frame starting at data; [data, data_end) is what the hook can
 * read, len is the whole frame's length (>= data_end - data): it is counted
 * and the IP length fields are checked against it. XDP passes
 * data_end - data; TC passes skb->len, whose tail may lie in fragments. */
static __always_inline int sl_parse(void *data, void *data_end, __u32 len,
				    struct sl_pkt *p)
{
	struct sl_cursor c = {.start = data, .pos = data, .end = data_end};
	int r;

	p->len = len;
	r = sl_parse_eth(&c, p);
	if (r != SL_R_PASS)
		return r;
	p->l3_off = c.pos - c.start;
	if (p->l3_proto == ETH_P_IP)
		return sl_parse_ipv4(&c, p);
	if (p->l3_proto == ETH_P_IPV6)
		return sl_parse_ipv6(&c, p);
	return SL_R_NON_IP;
}

#endif /* SL_PARSE_H */
