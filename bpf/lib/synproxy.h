/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* synproxy: SYN-flood protection for the local TCP ports of `synproxy:
 * {ports: [...]}` (the bitmap sl_synproxy, abi.h). Two halves:
 *   - this stage, at XDP ingress (before conntrack, so a flood of spoofed
 *     SYNs writes nothing): a SYN (no ACK, RST or FIN) to a protected port
 *     is answered with a SYN-ACK whose sequence number is a SYN cookie
 *     (bpf_tcp_raw_gen_syncookie_ipv4/6), sent back out of the interface
 *     (action tx, reason syn-cookie; the XDP hook rewrites the frame with
 *     sl_synack_xmit()). Its options: MSS (sl_syn_params), and, when the
 *     SYN has them, SACK-permitted, window scale (sl_syn_params.wscale)
 *     and a timestamp whose low 6 bits carry the client's window scale
 *     (0xf: none), SACK and ECN, as the kernel's own cookies do, so the
 *     kernel's netfilter SYNPROXY (which Sluice configures, apply.c) can
 *     complete the connection to the listener with the options the client
 *     asked for. The window is 0: the client sends nothing before SYNPROXY
 *     opens it with the listener's. VLAN tags stay; IPv4 options and IPv6
 *     extension headers of the SYN are not copied into the answer.
 *     TC ingress (no XDP) passes the SYN: the kernel's SYNPROXY answers.
 *   - the ACK that ends the handshake (conntrack.h): an ACK to a protected
 *     port with no tracked flow goes on only when its cookie checks
 *     (bpf_tcp_raw_check_syncookie_ipv4/6); it then starts an established
 *     flow. Otherwise it is dropped (reason syn-cookie-invalid).
 * The stage needs the connection table: it runs with conntrack. */
#ifndef SL_SYNPROXY_H
#define SL_SYNPROXY_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "stage.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_SYN_WORDS + 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_synproxy SEC(".maps");

/* 1 when TCP port `port` (host order) is protected. */
static __always_inline int sl_syn_port(__u16 port)
{
	__u32 k = port >> 6;
	__u64 *w = bpf_map_lookup_elem(&sl_synproxy, &k);

	return w && ((*w >> (port & 63)) & 1);
}

#define SL_SYN_O_TS   0x1 /* the SYN has a timestamp option */
#define SL_SYN_O_SACK 0x2 /* SACK permitted */
#define SL_SYN_O_WS   0x4 /* window scale */

/* The stage's scratch: copies of the SYN's IP and TCP headers (the cookie
 * helpers read them there), what the answer needs from them, and the
 * answer's headers being built. Placed after the conntrack stage's own
 * scratch (sl_ct_scratch, asserted in conntrack.h), which the ACK check
 * keeps. */
#define SL_SYN_SCRATCH_OFF 160
struct sl_syn_scratch {
	__u8 ip[40];  /* IPv4 (20) or IPv6 (40) header */
	__u8 tcp[64]; /* TCP header and options (60), 4 spare */
	__u8 ph[40];  /* the answer's checksum pseudo header */
	__u32 cookie; /* the answer's sequence number (host order) */
	__u32 seq;    /* the SYN's (host order) */
	__u32 tsval;  /* the SYN's timestamp (host order) */
	__u8 opts;    /* SL_SYN_O_* */
	__u8 wscale;  /* the SYN's window scale */
} __attribute__((aligned(8)));
_Static_assert(SL_SYN_SCRATCH_OFF + sizeof(struct sl_syn_scratch) <=
		   SL_STAGE_SCRATCH,
	       "the synproxy scratch fits the stage scratch");

static __always_inline struct sl_syn_scratch *sl_syn_scratch(struct sl_pctx *c)
{
	return (void *)((__u8 *)c->scratch + SL_SYN_SCRATCH_OFF);
}

/* Copies n 4-byte words (n a constant): word accesses, not the bytes
 * clang makes of a memcpy between pointers of unknown alignment. */
static __always_inline void sl_syn_cp32(void *dst, const void *src, int n)
{
	__u32 *d = dst;
	const __u32 *f = src;

#pragma unroll
	for (int i = 0; i < n; i++)
		d[i] = f[i];
}

/* Copies the packet's IP header (without IPv4 options or IPv6 extension
 * headers) and its TCP header (with the options when opts) into s. 0, or
 * -1 when the frame is shorter (not after the parser: it saw them). */
static __always_inline int sl_syn_copy(struct sl_syn_scratch *s,
				       const struct sl_pkt *p,
				       const struct sl_hook *h, int opts)
{
	__u8 *ip, *th;

	if (sl_pkt_hdrs(p, h, &ip, &th))
		return -1;
	if (p->l3_proto == ETH_P_IPV6) {
		if ((void *)(ip + 40) > h->data_end)
			return -1;
		sl_syn_cp32(s->ip, ip, 10);
	} else {
		if ((void *)(ip + 20) > h->data_end)
			return -1;
		sl_syn_cp32(s->ip, ip, 5);
	}
	if ((void *)(th + 20) > h->data_end)
		return -1;
	sl_syn_cp32(s->tcp, th, 5);
	if (!opts)
		return 0;
	/* the options, a word at a time (the data offset says how many) */
	for (__u32 i = 5; i < 15; i++) {
		if (i >= (__u32)(s->tcp[12] >> 4))
			break;
		if ((void *)(th + i * 4 + 4) > h->data_end)
			return -1;
		*(__u32 *)(s->tcp + i * 4) = *(__u32 *)(th + i * 4);
	}
	return 0;
}

/* The ACK check of a packet to a protected port with no tracked flow: 1
 * when its cookie checks. */
static __always_inline int sl_syn_ack_ok(struct sl_pctx *c,
					 const struct sl_hook *h)
{
	struct sl_syn_scratch *s = sl_syn_scratch(c);
	const struct sl_pkt *p = &c->pkt;

	if (sl_syn_copy(s, p, h, 0))
		return 0;
	if (p->l3_proto == ETH_P_IPV6)
		return !bpf_tcp_raw_check_syncookie_ipv6((void *)s->ip,
							 (void *)s->tcp);
	return !bpf_tcp_raw_check_syncookie_ipv4((void *)s->ip, (void *)s->tcp);
}

/* The walk over a SYN's options (sl_syn_opts): on the caller's stack. */
struct sl_syn_walk {
	struct sl_syn_scratch *s;
	__u32 off, olen; /* the next option's offset; the options' length */
};

/* One option of the walk: 1 ends it (the end, a malformed length, the
 * last byte), 0 goes on. */
static long sl_syn_opt_cb(__u64 i, void *ctx)
{
	struct sl_syn_walk *w = ctx;
	struct sl_syn_scratch *s = w->s;
	const __u8 *o = s->tcp + 20;
	__u32 off = w->off;
	__u8 kind, len;

	(void)i;
	if (off >= w->olen || off >= 40)
		return 1;
	kind = o[off & 63];
	if (kind == 0) /* end of options */
		return 1;
	if (kind == 1) { /* no-op */
		w->off = off + 1;
		return 0;
	}
	if (off + 1 >= w->olen)
		return 1;
	len = o[(off + 1) & 63];
	if (len < 2 || off + len > w->olen)
		return 1;
	if (kind == 3 && len == 3) {
		s->opts |= SL_SYN_O_WS;
		kind = o[(off + 2) & 63];
		s->wscale = kind > 14 ? 14 : kind;
	} else if (kind == 4 && len == 2) {
		s->opts |= SL_SYN_O_SACK;
	} else if (kind == 8 && len == 10) {
		s->opts |= SL_SYN_O_TS;
		s->tsval = (__u32)o[(off + 2) & 63] << 24 |
			   (__u32)o[(off + 3) & 63] << 16 |
			   (__u32)o[(off + 4) & 63] << 8 | o[(off + 5) & 63];
	}
	w->off = off + len;
	return 0;
}

/* The SYN's options (from its copy in s, thlen bytes of TCP header): MSS
 * is the cookie helper's; timestamp, SACK-permitted and window scale are
 * remembered for the answer and for conntrack's window tracking. One
 * option a bpf_loop step (at most 40: all no-ops), so the verifier sees
 * the step once, whatever the options. */
static __always_inline void sl_syn_opts(struct sl_syn_scratch *s, __u32 thlen)
{
	struct sl_syn_walk w = {.s = s, .olen = thlen > 20 ? thlen - 20 : 0};

	s->opts = 0;
	s->wscale = 0;
	s->tsval = 0;
	/* 0, read back from the map: a number the verifier does not know,
	 * so the steps' states converge at once instead of one per offset */
	w.off = *(volatile __u8 *)&s->opts;
	bpf_loop(40, sl_syn_opt_cb, &w, 0);
}

/* A SYN to a protected port: its cookie and what the answer needs, in the
 * scratch. 1 when it is to be answered; 0 leaves it to the stack (a SYN
 * the helpers refuse). A subprogram, so that the stages after it are
 * verified once, not once per path through the options. */
static __noinline int sl_syn_answer(struct sl_pctx *c, const struct sl_hook *h)
{
	struct sl_syn_scratch *s = sl_syn_scratch(c);
	struct sl_pkt *p = &c->pkt;
	__u32 thlen;
	__s64 r;

	if (sl_syn_copy(s, p, h, 1))
		return 0;
	thlen = (s->tcp[12] >> 4) * 4;
	if (thlen < 20)
		return 0;
	/* the helpers want exactly the header the data offset says */
	if (p->l3_proto == ETH_P_IPV6)
		r = bpf_tcp_raw_gen_syncookie_ipv6(
		    (void *)s->ip, (void *)s->tcp, thlen & 0x3c);
	else
		r = bpf_tcp_raw_gen_syncookie_ipv4(
		    (void *)s->ip, (void *)s->tcp, thlen & 0x3c);
	if (r < 0)
		return 0;
	s->cookie = (__u32)r;
	s->seq = bpf_ntohl(*(__u32 *)(s->tcp + 4));
	return 1;
}

/* The stage: at XDP ingress, a SYN to a protected port gets a cookie. */
static __always_inline int sl_stage_synproxy(struct sl_pctx *c,
					     const struct sl_hook *h)
{
	struct sl_pkt *p = &c->pkt;

	if (!h->xdp || h->dir != SL_RDIR_IN || c->parsed != SL_R_PASS ||
	    p->l4_proto != IPPROTO_TCP || p->frag != SL_FRAG_NONE ||
	    (p->tcp_flags & 0x17) != 0x02 || !sl_syn_port(p->dport))
		return SL_CONT;
	if (!sl_syn_answer(c, h))
		return SL_CONT;
	return sl_done(c, SL_ACT_TX, SL_R_SYN_COOKIE, 0);
}

static __always_inline __u16 sl_csum_fold(__s64 sum)
{
	__u32 x = (__u32)sum;

	x = (x & 0xffff) + (x >> 16);
	x = (x & 0xffff) + (x >> 16);
	return (__u16)~x;
}

/* The XDP hook's half: turns the SYN the stage answered into its SYN-ACK
 * (addresses and ports swapped, the cookie as sequence number) and
 * returns XDP_TX; XDP_DROP when the frame cannot be resized. A subprogram:
 * its stack is its own, not the hook's. */
static __noinline __attribute__((unused)) int sl_synack_xmit(struct xdp_md *ctx,
							     struct sl_pctx *c)
{
	struct sl_syn_scratch *s = sl_syn_scratch(c);
	const struct sl_pkt *p = &c->pkt;
	int v6 = p->l3_proto == ETH_P_IPV6;
	__u32 l3 = p->l3_off, iphl = v6 ? 40 : 20, k = SL_SYN_WORDS;
	__u32 tcplen = 40, plen;
	int delta;
	struct sl_syn_params par = {.mss4 = SL_SYN_MSS4_DEF,
				    .mss6 = SL_SYN_MSS6_DEF,
				    .wscale = SL_SYN_WSCALE_DEF};
	__u64 *pw = bpf_map_lookup_elem(&sl_synproxy, &k);
	__u8 *t = s->tcp, *data, *end, *ip;
	__u16 mss;
	__s64 sum;

	if (pw && *pw)
		__builtin_memcpy(&par, pw, sizeof(par));
	/* the SYN's options, from its copy, before the answer replaces it */
	sl_syn_opts(s, (t[12] >> 4) * 4);
	mss = v6 ? par.mss6 : par.mss4;
	/* the answer's TCP header in the scratch: always 20 bytes of
	 * options, MSS at 20, SACK-permitted and timestamp at 24..35, window
	 * scale at 36..39, no-ops where an option is left out */
	__builtin_memset(t, 0, 20);
	__builtin_memset(t + 20, 1, 20);
	*(__u16 *)(t + 0) = bpf_htons(p->dport);
	*(__u16 *)(t + 2) = bpf_htons(p->sport);
	*(__u32 *)(t + 4) = bpf_htonl(s->cookie);
	*(__u32 *)(t + 8) = bpf_htonl(s->seq + 1);
	t[12] = (40 / 4) << 4;
	t[13] = 0x12; /* SYN, ACK; the window stays 0: SYNPROXY opens it */
	t[20] = 2;    /* MSS */
	t[21] = 4;
	*(__u16 *)(t + 22) = bpf_htons(mss);
	if (s->opts & SL_SYN_O_SACK) {
		t[24] = 4;
		t[25] = 2;
	}
	if (s->opts & SL_SYN_O_TS) {
		/* the kernel's cookie timestamp: a millisecond clock with the
		 * low 6 bits holding window scale (0xf: none), SACK, ECN */
		__u32 now = bpf_ktime_get_ns() / 1000000;
		__u32 tso = (s->opts & SL_SYN_O_WS ? s->wscale : 0xf) |
			    (s->opts & SL_SYN_O_SACK ? 0x10 : 0);

		t[26] = 8;
		t[27] = 10;
		*(__u32 *)(t + 28) = bpf_htonl((now & ~0x3fU) | tso);
		*(__u32 *)(t + 32) = bpf_htonl(s->tsval);
	}
	if (s->opts & SL_SYN_O_WS) {
		t[37] = 3;
		t[38] = 3;
		t[39] = par.wscale > 14 ? 14 : par.wscale;
	}

	/* the answer's IP header and the pseudo header */
	__builtin_memset(s->ph, 0, 40);
	if (v6) {
		sl_syn_cp32(s->ip + 8, p->daddr, 4);
		sl_syn_cp32(s->ip + 24, p->saddr, 4);
		*(__u32 *)s->ip = bpf_htonl(0x60000000);
		*(__u16 *)(s->ip + 4) = bpf_htons(tcplen);
		s->ip[6] = IPPROTO_TCP;
		s->ip[7] = 64;
		sl_syn_cp32(s->ph, s->ip + 8, 8);
		*(__u32 *)(s->ph + 32) = bpf_htonl(tcplen);
		s->ph[39] = IPPROTO_TCP;
	} else {
		__builtin_memset(s->ip, 0, 20);
		s->ip[0] = 0x45;
		*(__u16 *)(s->ip + 2) = bpf_htons(20 + tcplen);
		*(__u16 *)(s->ip + 6) = bpf_htons(0x4000); /* DF */
		s->ip[8] = 64;
		s->ip[9] = IPPROTO_TCP;
		*(__u32 *)(s->ip + 12) = p->daddr[0];
		*(__u32 *)(s->ip + 16) = p->saddr[0];
		*(__u16 *)(s->ip + 10) =
		    sl_csum_fold(bpf_csum_diff(NULL, 0, (void *)s->ip, 20, 0));
		sl_syn_cp32(s->ph, s->ip + 12, 2);
		s->ph[9] = IPPROTO_TCP;
		*(__u16 *)(s->ph + 10) = bpf_htons(tcplen);
	}
	sum = bpf_csum_diff(NULL, 0, (void *)s->ph, 40, 0);
	sum = bpf_csum_diff(NULL, 0, (void *)t, 40, (__u32)sum);
	*(__u16 *)(t + 16) = sl_csum_fold(sum);

	/* the frame: Ethernet and VLAN tags stay, the rest is the answer */
	asm volatile("" : "+r"(l3));
	if (l3 > 64)
		return XDP_DROP;
	plen = l3 + iphl + tcplen;
	delta = (int)plen - (int)p->len;
	if (delta && bpf_xdp_adjust_tail(ctx, delta)) {
		/* A frame without tailroom (veth's, from an skb) grows at
		 * the front instead: the VLAN tags and ethertype move to
		 * their new place, the rest is written below. */
		asm volatile("" : "+r"(delta));
		if (delta < 0 || delta > 64 || bpf_xdp_adjust_head(ctx, -delta))
			return XDP_DROP;
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		if (data + 22 > end)
			return XDP_DROP;
		for (int i = 12; i < 22; i++) {
			__u8 *src = data + delta + i;

			asm volatile("" : "+r"(src));
			if (i >= (int)l3 || (void *)(src + 1) > (void *)end)
				break;
			data[i] = *src;
		}
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + 12 > end)
		return XDP_DROP;
	__builtin_memcpy(data, p->smac, 6);
	__builtin_memcpy(data + 6, p->dmac, 6);
	ip = data + l3;
	asm volatile("" : "+r"(ip));
	if (v6) {
		if ((void *)(ip + 80) > (void *)end)
			return XDP_DROP;
		sl_syn_cp32(ip, s->ip, 10);
		sl_syn_cp32(ip + 40, t, 10);
	} else {
		if ((void *)(ip + 60) > (void *)end)
			return XDP_DROP;
		sl_syn_cp32(ip, s->ip, 5);
		sl_syn_cp32(ip + 20, t, 10);
	}
	return XDP_TX;
}

#endif /* SL_SYNPROXY_H */
