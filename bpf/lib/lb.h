/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* lb: the XDP L4 load balancer (docs/loadbalancer.md; maps in abi.h, Load
 * balancer). A TCP or UDP packet (not a fragment) to a service's
 * VIP:port/proto keeps the backend its flow has in the connection table;
 * a new flow (or one whose backend was removed or is down: sl_lb_health)
 * takes the backend of the service's Maglev table at hash(5-tuple) %
 * SL_LB_M and is recorded
 * (counted as a new connection). Then, by the service's mode:
 *   dsr-l2  the destination MAC becomes the backend's next hop's (the
 *           source MAC the egress interface's); nothing else changes.
 *   nat     the destination address and port become the backend's, the
 *           IPv4 header and TCP/UDP checksums are updated incrementally,
 *           the TTL / hop limit decremented; a reverse entry (backend ->
 *           client) makes the backend's replies leave from VIP:port.
 * The next hop is bpf_fib_lookup()'s, kept per CPU and backend for 1 s
 * (sl_lb_hop; the nat return path looks up every packet) (the node must
 * forward: net.ipv4.ip_forward / net.ipv6.conf.all.forwarding): XDP_TX when it
 * is out of the ingress interface, else bpf_redirect() (action redirect, the
 * target an ifindex). Without a resolved neighbour or route the packet goes to
 * the stack (reason lb-no-route): nat rewritten (the stack forwards it and
 * resolves the neighbour), dsr-l2 unchanged. A service whose table has no
 * backend drops (reason lb-no-backend). XDP only: at TC the stage does nothing.
 * Runs after the sets and bans (a denied or banned source never reaches a
 * backend), before conntrack and rules. */
#ifndef SL_LB_H
#define SL_LB_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "stage.h"
#include "synproxy.h" /* sl_csum_fold */

#ifndef AF_INET
#define AF_INET	 2
#define AF_INET6 10
#endif

/* VIP:port/proto -> service (config-owned; no memory until a service) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_LB_SVC_MAX);
	__type(key, struct sl_lb_svc_key);
	__type(value, struct sl_lb_svc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_lb_svc SEC(".maps");

/* backend id -> backend (config-owned) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_LB_BE_MAX);
	__type(key, __u32);
	__type(value, struct sl_lb_be);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_lb_be SEC(".maps");

/* backend id -> its counters, per CPU (runtime-owned; made with the
 * backend by the control plane, so an uncounted id costs no memory) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_LB_BE_MAX);
	__type(key, __u32);
	__type(value, struct sl_lb_ctr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_lb_stats SEC(".maps");

/* backend id -> its health (runtime-owned; written by the daemon's health
 * checks; no entry: up) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_LB_BE_MAX);
	__type(key, __u32);
	__type(value, struct sl_lb_be_health);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_lb_health SEC(".maps");

/* A service's Maglev table: slot -> backend id (SL_LB_NONE: none). */
struct sl_lb_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_LB_M);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
};
/* service id -> its Maglev table, switched whole with one write */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SL_LB_SVC_MAX);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct sl_lb_maglev_inner);
} sl_lb_maglev SEC(".maps");

/* The connection table: an LRU hash the control plane makes with
 * SL_LB_CONN_MAX entries when the first service comes (the template's
 * capacity is not compared for hashes); the one slot is empty until then
 * (flows are then balanced by the table alone). Runtime-owned. */
struct sl_lb_conn_inner {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(struct sl_lb_conn_key));
	__uint(value_size, sizeof(struct sl_lb_conn));
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct sl_lb_conn_inner);
} sl_lb_conn SEC(".maps");

/* A backend's next hop as bpf_fib_lookup() last answered it on this CPU
 * (sl_lb_hop). */
struct sl_lb_hop {
	__u8 addr[16];	  /* the backend's address it was looked up for */
	__u64 until;	  /* coarse ns: looked up again from then on */
	__u32 in_ifindex; /* the ingress interface it was looked up from */
	__u32 ifindex;	  /* the egress interface */
	__u32 mtu;	  /* its MTU (dsr-ipip; 0 for the other modes) */
	__u8 dmac[6];
	__u8 smac[6];
};

_Static_assert(sizeof(struct sl_lb_hop) == 48, "sl_lb_hop size");

/* How long a cached next hop is used before it is looked up again: a
 * route or neighbour change reaches the stage within this. */
#define SL_LB_HOP_NS 1000000000ULL

/* backend id -> its next hop, per CPU: a cache, not state (not pinned,
 * each load starts it empty); the loader sizes it (SL_LB_BE_MAX entries
 * with the stage, 1 without). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_LB_BE_MAX);
	__type(key, __u32);
	__type(value, struct sl_lb_hop);
} sl_lb_hops SEC(".maps");

/* A flow's `last` is rewritten when it is older than this: the entry's
 * cache line is not dirtied by every packet. */
#define SL_LB_LAST_NS 1000000000ULL

/* The stage's scratch (the flow's keys; the conntrack stage after it
 * rewrites the scratch only when this stage went on). */
struct sl_lb_scratch {
	struct sl_lb_conn_key key;
	struct sl_lb_conn val;
	struct sl_lb_svc_key sk;
	struct bpf_fib_lookup fib;
	__u64 now; /* bpf_ktime_get_coarse_ns() of the packet */
} __attribute__((aligned(8)));
_Static_assert(sizeof(struct sl_lb_scratch) <= SL_STAGE_SCRATCH,
	       "the lb scratch fits the stage scratch");

/* The Maglev hash of a flow: the same on every node (no seed). */
static __always_inline __u32 sl_lb_hash(const struct sl_lb_conn_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 h = 0x9e3779b9U;

#pragma unroll
	for (int i = 0; i < 9; i++) {
		__u32 x = w[i] * 0xcc9e2d51U;

		x = (x << 15) | (x >> 17);
		h ^= x * 0x1b873593U;
		h = ((h << 13) | (h >> 19)) * 5 + 0xe6546b64U;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

static __always_inline void sl_lb_count(__u32 be, __u32 len, int new_conn)
{
	struct sl_lb_ctr *ctr;

	/* a trace copy (sluice explain) counts nothing */
	if (sl_feat.trace)
		return;
	ctr = bpf_map_lookup_elem(&sl_lb_stats, &be);
	if (!ctr)
		return;
	ctr->packets++;
	ctr->bytes += len;
	ctr->conns += new_conn;
}

/* Folds a 64-bit one's complement sum into a checksum field's value. */
static __always_inline __u16 sl_lb_fold(__u64 s)
{
	s = (s & 0xffffffffULL) + (s >> 32);
	s = (s & 0xffffffffULL) + (s >> 32);
	return sl_csum_fold((__s64)s);
}

/* The checksum field *cs after n address words from -> to and a port
 * (network order) op -> np; udp: 0 stays 0 (no checksum), a result of 0
 * is sent as 0xffff. */
static __always_inline void sl_lb_l4csum(__u16 *cs, const __u32 *from,
					 const __u32 *to, int n, __u16 op,
					 __u16 np, int udp)
{
	__u64 s;

	if (udp && !*cs)
		return;
	s = (__u16) ~*cs;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (i >= n)
			break;
		s += ~from[i];
		s += to[i];
	}
	s += (__u16)~op;
	s += np;
	*cs = sl_lb_fold(s);
	if (udp && !*cs)
		*cs = 0xffff;
}

/* Looks up the next hop to addr (4 words; the packet's other fields in
 * s->fib) from the ingress interface: 0 and s->fib filled, 1 when a
 * tot_len was given and exceeds the egress MTU, else -1. */
static __always_inline int sl_lb_fib(struct sl_lb_scratch *s,
				     const struct sl_hook *h,
				     const struct sl_pkt *p, const __u32 *src,
				     const __u32 *dst, __u16 tot_len)
{
	struct bpf_fib_lookup *f = &s->fib;
	int rc;

	__builtin_memset(f, 0, sizeof(*f));
	f->ifindex = h->ifindex;
	/* non-zero: the egress MTU is checked against it (dsr-ipip) */
	f->tot_len = tot_len;
	f->l4_protocol = p->l4_proto;
	if (p->l3_proto == ETH_P_IP) {
		f->family = AF_INET;
		f->ipv4_src = src[0];
		f->ipv4_dst = dst[0];
	} else {
		f->family = AF_INET6;
#pragma unroll
		for (int i = 0; i < 4; i++) {
			f->ipv6_src[i] = src[i];
			f->ipv6_dst[i] = dst[i];
		}
	}
	rc = bpf_fib_lookup(h->ctx, f, sizeof(*f), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS)
		return 0;
	/* f->mtu_result holds the egress MTU */
	return rc == BPF_FIB_LKUP_RET_FRAG_NEEDED ? 1 : -1;
}

/* Whether a packet of tot_len bytes (IP, before the tunnel header is
 * counted: the caller adds it) fits the cached next hop e: under the MTU
 * the lookup gave (the route's, else the device's) and, checked now, the
 * egress device's own MTU, so a device whose MTU went down is seen at the
 * next packet. */
static __always_inline int sl_lb_hop_fits(const struct sl_hook *h,
					  const struct sl_lb_hop *e,
					  __u32 tot_len)
{
	__u32 l = tot_len;

	return tot_len <= e->mtu && bpf_check_mtu(h->ctx, e->ifindex, &l, 0,
						  0) == BPF_MTU_CHK_RET_SUCCESS;
}

/* sl_lb_fib() to the backend s->key.dst (id beid) through the per-CPU
 * cache sl_lb_hops: an entry of the same backend address and ingress
 * interface younger than SL_LB_HOP_NS answers without a lookup (its MACs
 * and egress interface into s->fib), given a tot_len only when the packet
 * fits (sl_lb_hop_fits; else the lookup decides, and answers too big). A
 * successful lookup refills the entry (given a tot_len, the kernel returns
 * the egress MTU in mtu_result); a failed one is not cached, so the next
 * packet looks up again. */
static __always_inline int sl_lb_hop(struct sl_lb_scratch *s,
				     const struct sl_hook *h,
				     const struct sl_pkt *p, __u32 beid,
				     const __u32 *src, __u16 tot_len)
{
	const __u64 *dst = (const __u64 *)s->key.dst;
	struct sl_lb_hop *e = bpf_map_lookup_elem(&sl_lb_hops, &beid);
	__u64 *a;
	int rc;

	if (e) {
		a = (__u64 *)e->addr;
		if (e->until > s->now && e->in_ifindex == h->ifindex &&
		    a[0] == dst[0] && a[1] == dst[1] &&
		    (!tot_len || sl_lb_hop_fits(h, e, tot_len))) {
			__builtin_memcpy(s->fib.dmac, e->dmac, 6);
			__builtin_memcpy(s->fib.smac, e->smac, 6);
			s->fib.ifindex = e->ifindex;
			return 0;
		}
	}
	rc = sl_lb_fib(s, h, p, src, (const __u32 *)s->key.dst, tot_len);
	if (rc || !e)
		return rc;
	a = (__u64 *)e->addr;
	a[0] = dst[0];
	a[1] = dst[1];
	e->until = s->now + SL_LB_HOP_NS;
	e->in_ifindex = h->ifindex;
	e->ifindex = s->fib.ifindex;
	/* (0 for nat and dsr-l2: a service whose mode changes to dsr-ipip
	 * keeps its backend ids, and its first packet looks up) */
	e->mtu = tot_len ? s->fib.mtu_result : 0;
	__builtin_memcpy(e->dmac, s->fib.dmac, 6);
	__builtin_memcpy(e->smac, s->fib.smac, 6);
	return 0;
}

/* Rewrites the frame for nat: the destination (fwd) or the source (the
 * reply) address and port become addr:port, checksums follow, and the
 * TTL / hop limit drops by one when ttl. 0, or -1 when the frame is not
 * readable there (not after the parser). */
static __always_inline int sl_lb_nat(const struct sl_hook *h,
				     const struct sl_pkt *p, const __u32 *addr,
				     __u16 port, int fwd, int ttl)
{
	__u8 *ip, *th;
	__u16 *cs, *pp;
	__u32 *a;
	int udp = p->l4_proto == IPPROTO_UDP;

	if (sl_pkt_hdrs(p, h, &ip, &th))
		return -1;
	if ((void *)(th + 8) > h->data_end)
		return -1;
	if (!udp && (void *)(th + 20) > h->data_end)
		return -1;
	cs = (__u16 *)(th + (udp ? 6 : 16));
	pp = (__u16 *)(th + (fwd ? 2 : 0));
	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *i4 = (void *)ip;
		__u32 c;

		if ((void *)(i4 + 1) > h->data_end)
			return -1;
		a = fwd ? &i4->daddr : &i4->saddr;
		sl_lb_l4csum(cs, a, addr, 1, *pp, bpf_htons(port), udp);
		/* the header checksum: the address, then the TTL as
		 * ip_decrease_ttl() does */
		c = (__u16)~i4->check;
		c += (__u16) ~(*a & 0xffff) + (__u16) ~(*a >> 16);
		c += (addr[0] & 0xffff) + (addr[0] >> 16);
		i4->check = sl_lb_fold(c);
		*a = addr[0];
		if (ttl) {
			c = i4->check;
			c += bpf_htons(0x0100);
			i4->check = (__u16)(c + (c >= 0xffff));
			i4->ttl--;
		}
	} else {
		struct ipv6hdr *i6 = (void *)ip;

		if ((void *)(i6 + 1) > h->data_end)
			return -1;
		a = fwd ? i6->daddr.in6_u.u6_addr32 : i6->saddr.in6_u.u6_addr32;
		sl_lb_l4csum(cs, a, addr, 4, *pp, bpf_htons(port), udp);
#pragma unroll
		for (int i = 0; i < 4; i++)
			a[i] = addr[i];
		if (ttl)
			i6->hop_limit--;
	}
	*pp = bpf_htons(port);
	return 0;
}

/* The verdict of a packet to forward through s->fib (filled by a
 * successful lookup): the MACs written, tx or redirect. */
static __always_inline int sl_lb_out(struct sl_pctx *c, const struct sl_hook *h,
				     struct sl_lb_scratch *s)
{
	__u8 *eth = h->data;

	if ((void *)(eth + 12) > h->data_end)
		return sl_done(c, SL_ACT_DROP, SL_R_MALFORMED_L2, 0);
	__builtin_memcpy(eth, s->fib.dmac, 6);
	__builtin_memcpy(eth + 6, s->fib.smac, 6);
	if (s->fib.ifindex == h->ifindex)
		return sl_done(c, SL_ACT_TX, SL_R_LB_FWD, 0);
	return sl_done(c, SL_ACT_REDIRECT, SL_R_LB_FWD, s->fib.ifindex);
}

/* nat: the reverse entry (backend -> client) of the flow in s->key, from
 * the forward direction: written with a new flow and with a client's SYN
 * (afresh, so a connection that reuses the tuple of one that closed is
 * translated again), marked by the client's FIN and RST (SL_LB_C_*). v
 * is the forward entry of a recorded flow (s->val of a new one). Leaves
 * s->key the reverse key. */
static __always_inline void sl_lb_rev_fwd(void *conn, struct sl_lb_scratch *s,
					  const struct sl_pkt *p,
					  const struct sl_lb_be *be,
					  const struct sl_lb_conn *v,
					  int new_conn)
{
	__u8 f = p->l4_proto == IPPROTO_TCP ? p->tcp_flags : 0;
	struct sl_lb_conn *r;

	__builtin_memcpy(s->key.dst, p->saddr, 16);
	__builtin_memcpy(s->key.src, be->addr, 16);
	s->key.dport = p->sport;
	s->key.sport = be->port;
	s->key.dir = 1;
	if (!new_conn && (f & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN && v) {
		s->val = *v;
		s->val.tcp = 0;
	}
	if (new_conn || (f & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN) {
		bpf_map_update_elem(conn, &s->key, &s->val, BPF_ANY);
		return;
	}
	r = bpf_map_lookup_elem(conn, &s->key);
	if (r)
		r->tcp |= (f & SL_TCP_FIN ? SL_LB_C_FIN_FWD : 0) |
			  (f & SL_TCP_RST ? SL_LB_C_RST : 0);
}

/* The return path of nat: a packet of a recorded backend -> client flow
 * leaves from VIP:port. SL_CONT when it is none. */
static __always_inline int sl_lb_reply(struct sl_pctx *c,
				       const struct sl_hook *h,
				       struct sl_lb_scratch *s, void *conn)
{
	const struct sl_pkt *p = &c->pkt;
	struct sl_lb_conn *v;
	int routed;

	if (!conn)
		return SL_CONT;
	s->key.dir = 1;
	v = bpf_map_lookup_elem(conn, &s->key);
	if (!v)
		return SL_CONT;
	if (p->l4_proto == IPPROTO_TCP &&
	    (p->tcp_flags & (SL_TCP_SYN | SL_TCP_FIN | SL_TCP_RST))) {
		/* over: a SYN is another connection's (not translated) */
		if ((p->tcp_flags & SL_TCP_SYN) &&
		    ((v->tcp & SL_LB_C_RST) ||
		     (v->tcp & (SL_LB_C_FIN_FWD | SL_LB_C_FIN_REV)) ==
			 (SL_LB_C_FIN_FWD | SL_LB_C_FIN_REV))) {
			bpf_map_delete_elem(conn, &s->key);
			return SL_CONT;
		}
		v->tcp |= (p->tcp_flags & SL_TCP_FIN ? SL_LB_C_FIN_REV : 0) |
			  (p->tcp_flags & SL_TCP_RST ? SL_LB_C_RST : 0);
	}
	v->last = bpf_ktime_get_coarse_ns();
	s->val = *v;
	sl_lb_count(s->val.be, p->len, 0);
	routed = !sl_lb_fib(s, h, p, (const __u32 *)s->val.vip, p->daddr, 0);
	if (sl_lb_nat(h, p, (const __u32 *)s->val.vip, s->val.vport, 0, routed))
		return sl_done(c, SL_ACT_DROP, SL_R_MALFORMED_L4, 0);
	if (!routed)
		return sl_done(c, SL_ACT_PASS, SL_R_LB_NO_ROUTE, 0);
	return sl_lb_out(c, h, s);
}

/* ---- dsr-ipip ----
 * The packet leaves in a tunnel header to the backend: IPv4 in IPv4
 * (protocol 4) or IPv6 in IPv6 (next header 41), the inner packet
 * unchanged. The outer source is the VIP (the service's own address: a
 * valid unicast source on every node of the service, nothing to
 * configure; the backend's decap stage does not look at it), TTL / hop
 * limit 64, the outer IPv4 header DF copied from the inner one and its
 * TOS / traffic class copied too. The lookup checks the outer length
 * against the egress MTU; a packet too big is answered as Katran does,
 * out of the ingress interface (MACs swapped), from the VIP:
 *   IPv4 with DF  ICMP 3/4 "fragmentation needed", next-hop MTU = egress
 *                 MTU - 20, quoting the IP header and 8 bytes
 *   IPv4 no DF    dropped (the tunnel does not fragment)
 *   IPv6          ICMPv6 2 "packet too big", MTU = egress MTU - 40,
 *                 quoting the first 1232 bytes (1280 in all)
 * all with reason lb-too-big. Only untagged frames reach here (l3 at 14).
 * Both rewrite the frame through h->ctx: h->data is stale afterwards,
 * and the verdict is final (nothing after the stage reads the frame but
 * through the context). */

#define SL_LB_ICMP6_QUOTE 1232 /* 1280 - 40 - 8 */

/* Adds the 16-bit words of [b, b + n) (n even, at most 76) to sum. */
static __always_inline __u64 sl_lb_sum16(const __u8 *b, const void *end,
					 __u32 n, __u64 sum)
{
	for (__u32 i = 0; i < 38; i++) {
		const __u8 *w = b + 2 * i;

		if (2 * i >= n || (void *)(w + 2) > end)
			break;
		sum += *(const __u16 *)w;
	}
	return sum;
}

/* ICMP "fragmentation needed" (IPv4) or ICMPv6 "packet too big" back to
 * the client; the frame becomes the answer. mtu: the egress MTU. */
static __always_inline int sl_lb_too_big(struct sl_pctx *c,
					 const struct sl_hook *h,
					 struct sl_lb_scratch *s, __u32 mtu)
{
	const struct sl_pkt *p = &c->pkt;
	struct xdp_md *ctx = h->ctx;
	int v6 = p->l3_proto == ETH_P_IPV6;
	__u32 q, hl = v6 ? 48 : 28, ihl = p->l4_off - p->l3_off;
	__u8 *mac = s->key.src, *d, *end; /* the MACs, swapped */
	__u64 sum;

	d = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if ((void *)(d + 14 + 20) > (void *)end)
		return sl_done(c, SL_ACT_DROP, SL_R_MALFORMED_L2, 0);
	/* IPv4 without DF: not answered (Katran drops it too) */
	if (!v6 && !(d[14 + 6] & 0x40))
		return sl_done(c, SL_ACT_DROP, SL_R_LB_TOO_BIG, 0);
	q = v6 ? SL_LB_ICMP6_QUOTE : ihl + 8;
	if (ihl < 20 || ihl > 60 || p->len < 14 + q)
		return sl_done(c, SL_ACT_DROP, SL_R_LB_TOO_BIG, 0);
	__builtin_memcpy(mac, d + 6, 6);
	__builtin_memcpy(mac + 6, d, 6);
	if (bpf_xdp_adjust_tail(ctx, (int)(14 + q) - (int)p->len) ||
	    bpf_xdp_adjust_head(ctx, -(int)hl))
		return sl_done(c, SL_ACT_DROP, SL_R_LB_TOO_BIG, 0);
	d = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (v6) {
		if ((void *)(d + 14 + 48 + SL_LB_ICMP6_QUOTE) > (void *)end)
			return sl_done(c, SL_ACT_DROP, SL_R_LB_TOO_BIG, 0);
		__builtin_memcpy(d, mac, 12);
		*(__u16 *)(d + 12) = bpf_htons(ETH_P_IPV6);
		*(__u32 *)(d + 14) = bpf_htonl(0x60000000);
		*(__u16 *)(d + 18) = bpf_htons(8 + SL_LB_ICMP6_QUOTE);
		d[20] = IPPROTO_ICMPV6;
		d[21] = 64;
		__builtin_memcpy(d + 22, p->daddr, 16);
		__builtin_memcpy(d + 38, p->saddr, 16);
		d[54] = 2; /* packet too big */
		d[55] = 0;
		*(__u16 *)(d + 56) = 0;
		*(__u32 *)(d + 58) = bpf_htonl(mtu - 40);
		/* pseudo header: addresses, length, next header */
		sum = (__u32)bpf_csum_diff(NULL, 0, (void *)(d + 22), 32, 0);
		sum += bpf_htonl(8 + SL_LB_ICMP6_QUOTE);
		sum += bpf_htonl(IPPROTO_ICMPV6);
		sum += (__u32)bpf_csum_diff(NULL, 0, (void *)(d + 54), 512, 0);
		sum += (__u32)bpf_csum_diff(NULL, 0, (void *)(d + 566), 512, 0);
		sum +=
		    (__u32)bpf_csum_diff(NULL, 0, (void *)(d + 1078), 216, 0);
		*(__u16 *)(d + 56) = sl_lb_fold(sum);
		return sl_done(c, SL_ACT_TX, SL_R_LB_TOO_BIG, 0);
	}
	if ((void *)(d + 14 + 28 + 28) > (void *)end)
		return sl_done(c, SL_ACT_DROP, SL_R_LB_TOO_BIG, 0);
	__builtin_memcpy(d, mac, 12);
	*(__u16 *)(d + 12) = bpf_htons(ETH_P_IP);
	__builtin_memset(d + 14, 0, 28);
	d[14] = 0x45;
	*(__u16 *)(d + 16) = bpf_htons(28 + q);
	d[22] = 64;
	d[23] = IPPROTO_ICMP;
	*(__u32 *)(d + 26) = p->daddr[0];
	*(__u32 *)(d + 30) = p->saddr[0];
	*(__u16 *)(d + 24) =
	    sl_csum_fold(bpf_csum_diff(NULL, 0, (void *)(d + 14), 20, 0));
	d[34] = 3; /* destination unreachable */
	d[35] = 4; /* fragmentation needed */
	*(__u16 *)(d + 40) = bpf_htons(mtu - 20);
	*(__u16 *)(d + 36) = sl_lb_fold(sl_lb_sum16(d + 34, end, 8 + q, 0));
	return sl_done(c, SL_ACT_TX, SL_R_LB_TOO_BIG, 0);
}

/* dsr-ipip: the next hop to the backend (s->key.dst, id beid), then the tunnel
 * header in front of the packet, or the too-big answer. A subprogram of
 * its own: its stack frame does not add to sl_lb_run's. */
static __noinline int sl_lb_ipip(struct sl_pctx *c, const struct sl_hook *h,
				 struct sl_lb_scratch *s, __u32 beid)
{
	const struct sl_pkt *p = &c->pkt;
	struct xdp_md *ctx = h->ctx;
	int v6 = p->l3_proto == ETH_P_IPV6;
	__u32 hl = v6 ? 40 : 20, in_len = p->len - 14;
	__u8 *d, *end, *o, *in;
	int rc;

	if (p->l3_off != 14 || in_len > 0xffff - 40)
		return sl_done(c, SL_ACT_DROP, SL_R_LB_TOO_BIG, 0);
	rc = sl_lb_hop(s, h, p, beid, p->daddr, in_len + hl);
	if (rc > 0)
		return sl_lb_too_big(c, h, s, s->fib.mtu_result);
	if (rc < 0)
		/* unchanged: the stack resolves the neighbour for the next
		 * packets (it cannot send this one through a tunnel) */
		return sl_done(c, SL_ACT_PASS, SL_R_LB_NO_ROUTE, 0);
	if (bpf_xdp_adjust_head(ctx, -(int)hl))
		return sl_done(c, SL_ACT_DROP, SL_R_MALFORMED_L2, 0);
	d = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if ((void *)(d + 14 + 40 + 2) > (void *)end)
		return sl_done(c, SL_ACT_DROP, SL_R_MALFORMED_L2, 0);
	o = d + 14;
	in = o + hl;
	__builtin_memcpy(d, s->fib.dmac, 6);
	__builtin_memcpy(d + 6, s->fib.smac, 6);
	*(__u16 *)(d + 12) = bpf_htons(p->l3_proto);
	if (v6) {
		/* version, the inner traffic class, flow label 0 */
		*(__u32 *)o = bpf_htonl(
		    0x60000000 | (((in[0] & 0x0f) << 4 | in[1] >> 4) << 20));
		*(__u16 *)(o + 4) = bpf_htons(in_len);
		o[6] = IPPROTO_IPV6;
		o[7] = 64;
		__builtin_memcpy(o + 8, p->daddr, 16);
		__builtin_memcpy(o + 24, s->key.dst, 16);
	} else {
		o[0] = 0x45;
		o[1] = in[1]; /* TOS */
		*(__u16 *)(o + 2) = bpf_htons(in_len + 20);
		*(__u16 *)(o + 4) = 0;
		*(__u16 *)(o + 6) = *(__u16 *)(in + 6) & bpf_htons(0x4000);
		o[8] = 64;
		o[9] = IPPROTO_IPIP;
		*(__u16 *)(o + 10) = 0;
		*(__u32 *)(o + 12) = p->daddr[0];
		*(__u32 *)(o + 16) = *(__u32 *)s->key.dst;
		*(__u16 *)(o + 10) =
		    sl_csum_fold(bpf_csum_diff(NULL, 0, (void *)o, 20, 0));
	}
	if (s->fib.ifindex == h->ifindex)
		return sl_done(c, SL_ACT_TX, SL_R_LB_FWD, 0);
	return sl_done(c, SL_ACT_REDIRECT, SL_R_LB_FWD, s->fib.ifindex);
}

/* The stage's work: a subprogram, so that its many paths join in its
 * return value (SL_CONT, or the verdict it decided in c) instead of
 * reshaping the code around the choke point (inlined, its mere presence
 * doubled the verifier's work on the XDP programs with the stage off). */
static __noinline int sl_lb_run(struct sl_pctx *c, const struct sl_hook *h)
{
	struct sl_lb_scratch *s = (void *)c->scratch;
	const struct sl_pkt *p = &c->pkt;
	struct sl_lb_svc *svc;
	struct sl_lb_be *be = NULL;
	struct sl_lb_conn *v = NULL;
	struct sl_lb_be_health *hs;
	__u32 zero = 0, *slot, idx, beid;
	void *conn, *tbl;
	int new_conn = 0, routed;

	/* (VLAN-tagged frames are not balanced: they go on) */
	if (!h->xdp || c->parsed != SL_R_PASS || p->frag != SL_FRAG_NONE ||
	    p->nvlan ||
	    (p->l4_proto != IPPROTO_TCP && p->l4_proto != IPPROTO_UDP))
		return SL_CONT;
	if (p->l3_proto != ETH_P_IP && p->l3_proto != ETH_P_IPV6)
		return SL_CONT;
	__builtin_memcpy(s->key.src, p->saddr, 16);
	__builtin_memcpy(s->key.dst, p->daddr, 16);
	s->key.sport = p->sport;
	s->key.dport = p->dport;
	s->key.proto = p->l4_proto;
	s->key.family = p->l3_proto == ETH_P_IP ? 4 : 6;
	s->key.dir = 0;
	s->key.pad = 0;
	__builtin_memcpy(s->sk.vip, p->daddr, 16);
	s->sk.port = p->dport;
	s->sk.proto = p->l4_proto;
	s->sk.family = s->key.family;
	conn = bpf_map_lookup_elem(&sl_lb_conn, &zero);
	svc = bpf_map_lookup_elem(&sl_lb_svc, &s->sk);
	if (!svc)
		return sl_lb_reply(c, h, s, conn);
	s->now = bpf_ktime_get_coarse_ns();
	if (conn)
		v = bpf_map_lookup_elem(conn, &s->key);
	if (v) {
		beid = v->be;
		be = bpf_map_lookup_elem(&sl_lb_be, &beid);
		/* a removed or down backend's flows move; a drained one
		 * keeps its. Only a service with health checks has backends
		 * with a health entry (the daemon checks no other). */
		hs = be && svc->hc_type != SL_LB_HC_NONE
			 ? bpf_map_lookup_elem(&sl_lb_health, &beid)
			 : NULL;
		if (be && be->svc == svc->id &&
		    !(hs && hs->state == SL_LB_DOWN)) {
			if (s->now - v->last >= SL_LB_LAST_NS)
				v->last = s->now;
		} else {
			be = NULL;
		}
	}
	if (!be) {
		idx = sl_lb_hash(&s->key) % SL_LB_M;
		beid = svc->id;
		tbl = bpf_map_lookup_elem(&sl_lb_maglev, &beid);
		slot = tbl ? bpf_map_lookup_elem(tbl, &idx) : NULL;
		beid = slot ? *slot : SL_LB_NONE;
		be = beid != SL_LB_NONE ? bpf_map_lookup_elem(&sl_lb_be, &beid)
					: NULL;
		if (!be)
			return sl_done(c, SL_ACT_DROP, SL_R_LB_NO_BACKEND, 0);
		new_conn = 1;
		/* a trace copy (sluice explain) records no flow */
		if (conn && !sl_feat.trace) {
			s->val.last = s->now;
			s->val.be = beid;
			s->val.svc = svc->id;
			__builtin_memcpy(s->val.vip, p->daddr, 16);
			s->val.vport = p->dport;
			s->val.tcp = 0;
			__builtin_memset(s->val.pad, 0, sizeof(s->val.pad));
			bpf_map_update_elem(conn, &s->key, &s->val, BPF_ANY);
		}
	}
	if (svc->mode == SL_LB_NAT && conn && !sl_feat.trace &&
	    (new_conn ||
	     (p->l4_proto == IPPROTO_TCP &&
	      (p->tcp_flags & (SL_TCP_SYN | SL_TCP_FIN | SL_TCP_RST)))))
		sl_lb_rev_fwd(conn, s, p, be, v, new_conn);
	sl_lb_count(beid, p->len, new_conn);
	__builtin_memcpy(s->key.dst, be->addr, 16);
	if (svc->mode == SL_LB_DSR_IPIP)
		return sl_lb_ipip(c, h, s, beid);
	routed = !sl_lb_hop(s, h, p, beid, p->saddr, 0);
	if (svc->mode == SL_LB_DSR_L2)
		return routed ? sl_lb_out(c, h, s)
			      : sl_done(c, SL_ACT_PASS, SL_R_LB_NO_ROUTE, 0);
	if (sl_lb_nat(h, p, (const __u32 *)s->key.dst, be->port, 1, routed))
		return sl_done(c, SL_ACT_DROP, SL_R_MALFORMED_L4, 0);
	if (!routed)
		return sl_done(c, SL_ACT_PASS, SL_R_LB_NO_ROUTE, 0);
	return sl_lb_out(c, h, s);
}

static __always_inline int sl_stage_lb(struct sl_pctx *c,
				       const struct sl_hook *h)
{
	return sl_lb_run(c, h);
}

#endif /* SL_LB_H */
