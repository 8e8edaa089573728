/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* pkt: a frame builder for the unit tests. One struct pkt_spec describes a
 * frame: Ethernet, up to three VLAN tags, then IPv4 (options, fragments),
 * IPv6 (extension headers), ARP or any other ethertype, then TCP, UDP, ICMP,
 * ICMPv6 or raw payload. Every length field is computed unless overridden,
 * so a test names only what it makes wrong. The IPv4 header checksum is
 * always correct; L4 checksums are left 0 (the datapath does not read
 * them). */
#ifndef SL_TEST_PKT_H
#define SL_TEST_PKT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <sluice/abi.h>

#define PKT_MAX 2048

#define PKT_SRC4 "198.18.0.1"
#define PKT_DST4 "198.19.0.1"
#define PKT_SRC6 "2001:db8:1::1"
#define PKT_DST6 "2001:db8:2::1"

/* Shorthands for the specs of test tables: V4(UDP, .payload = 4). */
#define V4(...)                                    \
	{                                          \
		.ethertype = ETH_P_IP, __VA_ARGS__ \
	}
#define V6(...)                                      \
	{                                            \
		.ethertype = ETH_P_IPV6, __VA_ARGS__ \
	}
#define TCP   .proto = IPPROTO_TCP
#define UDP   .proto = IPPROTO_UDP
#define ICMP  .proto = IPPROTO_ICMP
#define ICMP6 .proto = IPPROTO_ICMPV6

/* IPv4 frag_off field: flags and offset in 8-byte units. */
#define PKT_IP4_DF 0x4000
#define PKT_IP4_MF 0x2000
/* IPv6 fragment header offset/flags field: offset in 8-byte units << 3. */
#define PKT_IP6_OFF(units) ((uint16_t)((units) << 3))
#define PKT_IP6_M	   0x0001

#define PKT_EXT_MAX 12

struct pkt_spec {
	uint16_t vlan[3]; /* TPIDs of the VLAN tags, outermost first; 0 ends */
	uint16_t ethertype; /* ETH_P_IP, ETH_P_IPV6, ETH_P_ARP or any other */
	const char *src, *dst; /* addresses; NULL: PKT_SRC4/6, PKT_DST4/6 */

	/* IPv4 */
	uint8_t ip_opts; /* bytes of options (NOPs), a multiple of 4 */
	uint16_t frag;	 /* IPv4 frag_off, or the IPv6 fragment header's
			  * offset/flags field */
	int ihl;	 /* override (0: computed) */
	int version;	 /* override of the IP version nibble (0: 4 or 6) */
	int ip_len;	 /* override of IPv4 tot_len or IPv6 payload_len */

	/* IPv6 extension headers, in order (IPPROTO_HOPOPTS, _ROUTING,
	 * _DSTOPTS, _FRAGMENT, _AH). ext_hlen is each header's Hdr Ext Len
	 * byte (8-byte units beyond the first 8; ignored for fragment and
	 * AH, which are 8 and 24 bytes). */
	uint8_t n_ext;
	uint8_t ext[PKT_EXT_MAX];
	uint8_t ext_hlen[PKT_EXT_MAX];

	/* L4 */
	uint8_t proto;	   /* IP protocol / last next-header */
	uint8_t tcp_flags; /* 0: ACK */
	uint8_t tcp_opts;  /* bytes of TCP options (NOPs), a multiple of 4 */
	int doff;	   /* override (0: computed) */
	int udp_len;	   /* override (0: computed) */
	uint8_t icmp_type; /* 0: echo request */
	uint16_t payload;  /* bytes after the L4 header (or after L3 for
			    * other protocols and ethertypes) */
	uint8_t icmp_code;
	uint16_t sport, dport; /* TCP/UDP/SCTP ports; 0: 40000 and 80 (TCP) or
				* 53 (UDP) */

	/* Lengths */
	uint16_t cut;	 /* bytes cut off the end; the IP length follows */
	uint8_t smac[6]; /* source MAC; all zero: 02:00:00:00:00:01 */
	uint16_t pad;	 /* bytes after the IP packet (Ethernet padding) */
};

/* Where the builder put things. */
struct pkt_off {
	size_t l3;
	size_t l4;
	size_t len;
};

static void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t pkt_ip4_csum(const uint8_t *h, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* The Internet checksum sum (RFC 1071) of n bytes added to s, folded, not
 * inverted. */
static inline uint32_t pkt_sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* The TCP/UDP checksum over the pseudo header of the IP header at ip and
 * the len bytes of the segment at l4, inverted: 0 when the segment's
 * checksum verifies; with the checksum field zeroed, the value it needs. */
static inline uint16_t pkt_l4_csum(const uint8_t *ip, const uint8_t *l4,
				   size_t len, bool v6, uint8_t proto)
{
	uint8_t ph[40] = {0};
	uint32_t s;

	if (v6) {
		memcpy(ph, ip + 8, 32);
		ph[34] = (uint8_t)(len >> 8);
		ph[35] = (uint8_t)len;
		ph[39] = proto;
		s = pkt_sum16(0, ph, 40);
	} else {
		memcpy(ph, ip + 12, 8);
		ph[9] = proto;
		ph[10] = (uint8_t)(len >> 8);
		ph[11] = (uint8_t)len;
		s = pkt_sum16(0, ph, 12);
	}
	return (uint16_t)~pkt_sum16(s, l4, len);
}

/* Recomputes the checksum of the IPv4 header at h, hlen bytes long. */
static void pkt_ip4_fix_csum(uint8_t *h, size_t hlen)
{
	h[10] = h[11] = 0;
	pkt_put16(h + 10, pkt_ip4_csum(h, hlen));
}

static size_t pkt_eth(const struct pkt_spec *s, uint8_t *b)
{
	static const uint8_t mac[12] = {0x02, 0, 0, 0, 0, 0x02,
					0x02, 0, 0, 0, 0, 0x01};
	size_t n = 12;
	int i;

	memcpy(b, mac, 12);
	if (memcmp(s->smac, "\0\0\0\0\0\0", 6))
		memcpy(b + 6, s->smac, 6);
	for (i = 0; i < 3 && s->vlan[i]; i++) {
		pkt_put16(b + n, s->vlan[i]);
		pkt_put16(b + n + 2, 100 + i); /* TCI: VLAN id 100, 101, ... */
		n += 4;
	}
	pkt_put16(b + n, s->ethertype);
	return n + 2;
}

static size_t pkt_arp(const struct pkt_spec *s, uint8_t *b)
{
	memset(b, 0, 28);
	pkt_put16(b, 1); /* Ethernet */
	pkt_put16(b + 2, ETH_P_IP);
	b[4] = 6;
	b[5] = 4;
	pkt_put16(b + 6, 1); /* request */
	b[13] = 0x02;	     /* sender MAC 02:00:00:00:00:02 */
	inet_pton(AF_INET, s->src ? s->src : PKT_SRC4, b + 14);
	inet_pton(AF_INET, s->dst ? s->dst : PKT_DST4, b + 24);
	return 28;
}

static size_t pkt_ip4(const struct pkt_spec *s, uint8_t *b)
{
	size_t hlen = 20 + s->ip_opts;

	memset(b, 0, hlen);
	b[0] = (s->version ? s->version : 4) << 4 |
	       (s->ihl ? s->ihl : (int)hlen / 4);
	pkt_put16(b + 4, 0x1234); /* id */
	pkt_put16(b + 6, s->frag);
	b[8] = 64;
	b[9] = s->proto;
	inet_pton(AF_INET, s->src ? s->src : PKT_SRC4, b + 12);
	inet_pton(AF_INET, s->dst ? s->dst : PKT_DST4, b + 16);
	memset(b + 20, 1, s->ip_opts); /* NOP options */
	return hlen;
}

static size_t pkt_ip6_ext(const struct pkt_spec *s, int i, uint8_t *b)
{
	uint8_t next = i + 1 < s->n_ext ? s->ext[i + 1] : s->proto;
	size_t n;

	switch (s->ext[i]) {
	case IPPROTO_FRAGMENT:
		n = 8;
		memset(b, 0, n);
		pkt_put16(b + 2, s->frag);
		b[7] = 0x42; /* identification */
		break;
	case IPPROTO_AH:
		n = 24; /* 12 fixed bytes + 96-bit ICV */
		memset(b, 0, n);
		b[1] = n / 4 - 2;
		b[7] = 0x42; /* SPI */
		break;
	default: /* hop-by-hop, routing, destination options */
		n = (s->ext_hlen[i] + 1) * 8;
		memset(b, 0, n);
		b[1] = s->ext_hlen[i];
		if (s->ext[i] != IPPROTO_ROUTING) {
			b[2] = 1; /* PadN option filling the header */
			b[3] = n - 4;
		}
		break;
	}
	b[0] = next;
	return n;
}

static size_t pkt_ip6(const struct pkt_spec *s, uint8_t *b)
{
	size_t n = 40;

	memset(b, 0, 40);
	b[0] = (s->version ? s->version : 6) << 4;
	b[6] = s->n_ext ? s->ext[0] : s->proto;
	b[7] = 64;
	inet_pton(AF_INET6, s->src ? s->src : PKT_SRC6, b + 8);
	inet_pton(AF_INET6, s->dst ? s->dst : PKT_DST6, b + 24);
	for (int i = 0; i < s->n_ext; i++)
		n += pkt_ip6_ext(s, i, b + n);
	return n;
}

/* The L4 header; 0 for protocols the builder does not know. */
static size_t pkt_l4(const struct pkt_spec *s, uint8_t *b)
{
	size_t n;

	switch (s->proto) {
	case IPPROTO_TCP:
		n = 20 + s->tcp_opts;
		memset(b, 0, n);
		pkt_put16(b, s->sport ? s->sport : 40000);
		pkt_put16(b + 2, s->dport ? s->dport : 80);
		b[7] = 1;				       /* seq */
		b[12] = (s->doff ? s->doff : (int)n / 4) << 4; /* doff */
		b[13] = s->tcp_flags ? s->tcp_flags : 0x10;    /* ACK */
		pkt_put16(b + 14, 64240);		       /* window */
		memset(b + 20, 1, s->tcp_opts);		       /* NOPs */
		return n;
	case IPPROTO_UDP:
		memset(b, 0, 8);
		pkt_put16(b, s->sport ? s->sport : 40000);
		pkt_put16(b + 2, s->dport ? s->dport : 53);
		pkt_put16(b + 4, s->udp_len ? s->udp_len : 8 + s->payload);
		return 8;
	case IPPROTO_SCTP:
		memset(b, 0, 12);
		pkt_put16(b, s->sport ? s->sport : 40000);
		pkt_put16(b + 2, s->dport ? s->dport : 9);
		return 12;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		memset(b, 0, 8);
		b[0] = s->icmp_type ? s->icmp_type
				    : (s->proto == IPPROTO_ICMP ? 8 : 128);
		b[1] = s->icmp_code;
		b[5] = 1; /* id */
		b[7] = 1; /* sequence */
		return 8;
	}
	return 0;
}

/* Builds the frame into b (PKT_MAX bytes); returns its length. off may be
 * NULL. */
static size_t pkt_build(const struct pkt_spec *s, uint8_t *b,
			struct pkt_off *off)
{
	size_t n, l3, l4, l3hdr, full;
	bool ip4 = s->ethertype == ETH_P_IP, ip6 = s->ethertype == ETH_P_IPV6;

	memset(b, 0, PKT_MAX);
	n = l3 = pkt_eth(s, b);
	if (ip4)
		n += pkt_ip4(s, b + n);
	else if (ip6)
		n += pkt_ip6(s, b + n);
	else if (s->ethertype == ETH_P_ARP)
		n += pkt_arp(s, b + n);
	l4 = n;
	if (ip4 || ip6)
		n += pkt_l4(s, b + n);
	for (int i = 0; i < s->payload; i++)
		b[n++] = 0xa0 + (i & 0x0f);

	/* The IP length covers what is left after the cut; a cut into the
	 * IP header itself leaves the full length. */
	full = n;
	n -= s->cut;
	l3hdr = ip4 ? 20u + s->ip_opts : 40u;
	if (n >= l3 + l3hdr)
		full = n;
	if (ip4)
		pkt_put16(b + l3 + 2, s->ip_len ? s->ip_len : (int)(full - l3));
	if (ip6)
		pkt_put16(b + l3 + 4,
			  s->ip_len ? s->ip_len : (int)(full - l3 - 40));
	if (ip4)
		pkt_ip4_fix_csum(b + l3, l3hdr);
	memset(b + n, 0, s->pad);
	n += s->pad;

	if (off) {
		off->l3 = l3;
		off->l4 = l4;
		off->len = n;
	}
	return n;
}

/* ---- verdicts and output frames (every hook, every action) ---- */

/* The Sluice action a hook's return code stands for, or -1. XDP codes are
 * one to one; at TC, TC_ACT_SHOT is drop or abort and TC_ACT_REDIRECT tx or
 * redirect, so TC cases name the action they expect. */
static inline int pkt_xdp_action(unsigned int retval)
{
	switch (retval) {
	case XDP_PASS:
		return SL_ACT_PASS;
	case XDP_DROP:
		return SL_ACT_DROP;
	case XDP_TX:
		return SL_ACT_TX;
	case XDP_REDIRECT:
		return SL_ACT_REDIRECT;
	case XDP_ABORTED:
		return SL_ACT_ABORT;
	}
	return -1;
}

static inline const char *pkt_xdp_name(unsigned int retval)
{
	static const char *const n[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS",
					"XDP_TX", "XDP_REDIRECT"};

	return retval < 5 ? n[retval] : "XDP_(unknown)";
}

static inline const char *pkt_tc_name(int retval)
{
	switch (retval) {
	case TC_ACT_OK:
		return "TC_ACT_OK";
	case TC_ACT_SHOT:
		return "TC_ACT_SHOT";
	case TC_ACT_REDIRECT:
		return "TC_ACT_REDIRECT";
	}
	return "TC_ACT_(other)";
}

/* Compares the frame a program returned with the expected one, byte by
 * byte; on a difference writes where (offset, both bytes, or the lengths)
 * into why and returns false. */
static inline bool pkt_same(const uint8_t *got, size_t glen,
			    const uint8_t *want, size_t wlen, char *why,
			    size_t whylen)
{
	size_t n = glen < wlen ? glen : wlen;

	for (size_t i = 0; i < n; i++) {
		if (got[i] != want[i]) {
			snprintf(why, whylen,
				 "output byte %zu is 0x%02x, want 0x%02x "
				 "(%zu bytes out, %zu expected)",
				 i, got[i], want[i], glen, wlen);
			return false;
		}
	}
	if (glen != wlen) {
		snprintf(why, whylen,
			 "output is %zu bytes, want %zu (equal up to byte %zu)",
			 glen, wlen, n);
		return false;
	}
	return true;
}

/* What the datapath's abusive-TCP check (bpf/lib/malformed.h) makes of a
 * well-formed TCP header's flags: its reason, or SL_R_PASS. The first of
 * these that holds decides (FIN 01, SYN 02, RST 04, PSH 08, ACK 10, URG
 * 20). */
static inline int pkt_tcp_abusive(uint8_t flags)
{
	static const struct {
		uint8_t mask, val;
		int reason;
	} order[] = {
	    {0x03, 0x03, SL_R_TCP_SYNFIN},    {0x06, 0x06, SL_R_TCP_SYNRST},
	    {0x3f, 0x00, SL_R_TCP_NOFLAGS},   {0x39, 0x29, SL_R_TCP_XMAS},
	    {0x11, 0x01, SL_R_TCP_FIN_NOACK},
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if ((flags & order[i].mask) == order[i].val)
			return order[i].reason;
	return SL_R_PASS;
}

#endif /* SL_TEST_PKT_H */
