/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* conntrack: the connection-tracking stage. Every hook (XDP or TC ingress,
 * TC egress) looks the packet's flow up in one pinned LRU hash (sl_ct,
 * both directions of a flow on one entry, abi.h), moves the entry through
 * its state machine and writes the packet's state (enum sl_ct_pkt) into
 * the per-packet context for the stages after it:
 *   TCP   the state machine of the kernel's nf_conntrack (SYN_SENT,
 *         SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK,
 *         TIME_WAIT, CLOSE); a RST as the only answer to a SYN deletes
 *         the entry (refused); only a SYN starts a flow, a packet that fits
 *         no transition (a lone ACK, a SYN-ACK from the initiator) is
 *         invalid and leaves the entry as it was; so is a segment outside
 *         the window (ct_tcp.h: sequence and window tracking of the flows
 *         whose SYN was seen, scaled by the SYNs' window scale options).
 *   UDP   unreplied, then assured once the other end answered.
 *   ICMP  echo request/reply (ICMPv6 too), the identifier in the port
 *         places; errors (unreachable, time exceeded, ...) that quote a
 *         tracked flow are related, others invalid; other types untracked.
 * Entries expire by the timeouts of their state (the config blob's, else
 * the kernel's defaults): an expired entry is treated as absent. Later
 * fragments and other protocols are untracked. The stage decides only with
 * `drop-invalid` (SL_BLOB_CT_DROP_INVALID): an invalid packet is dropped
 * (reason ct-invalid). Switched at load time (sl_feat.conntrack); the
 * trace copy of `sluice explain` looks up but never writes.
 *
 * Established fast path: a packet of an established flow (packet state
 * SL_CT_ESTABLISHED) whose pass is cached skips the classifier (the rules
 * and policy stages): the stage decides pass itself, with the reason the
 * cached decision had (rule, or pass for the policy's). The stages before
 * it (malformed, sets, bans) still run on every packet, so blocking or
 * banning a source stops its established flows at once; the entry still
 * moves through its states and counts the packet.
 *   What is cached: only a pass of the rules stage or of the policy, and
 *   only when nothing in it needs the packet itself: not a ratelimit
 *   rule's pass (its bucket must see every packet), not when the packet
 *   met count rules (their counters must count every packet), and only
 *   under a config blob whose rules all decide alike for every packet of
 *   one direction of a flow (SL_CLS_F_FLOW, abi.h: no condition on TCP
 *   flags, MAC, interface, VLAN or ICMP code; or no rules at all). Drops
 *   and redirects are never cached.
 *   Slots: a flow's packets classify differently by their direction in
 *   the flow (addresses and ports swap) and by the hook's direction (in
 *   or out, a dimension of the rules; XDP and TC ingress are both in), so
 *   the entry keeps one pass bit per slot = hook direction * 2 + flow
 *   direction (sl_ct_val.verdict bits 0-3; bits 4-7: decided by a rule):
 *   an egress pass never lets an ingress packet, or a reply, skip the
 *   classifier.
 *   Invalidation: the bits hold for the blob serial in sl_ct_val.serial
 *   only; every apply makes a blob with a new serial, so each flow is
 *   classified again by its next packet per slot (and a now-dropping rule
 *   drops it). A new flow over an old entry starts with no bits.
 *   Counters: a fast-path packet counts in sl_stats under its cached
 *   reason, but not in the deciding rule's counters (the entry has no
 *   room for a rule id per slot): a pass rule's counters count the
 *   packets it classified, i.e. a cached flow's first packet per slot and
 *   apply, and those of flows it cannot cache.
 *   Neither the trace copy (sluice explain shows the real classifier
 *   path) nor a packet of a related or new flow uses or writes the cache.
 *   The bits are plain writes: two CPUs storing for one flow across an
 *   apply may leave a bit of the old blob under the new serial, as two
 *   CPUs racing on one flow may lose a transition; one flow's packets
 *   normally stay on one CPU (RSS). */
#ifndef SL_CONNTRACK_H
#define SL_CONNTRACK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "ct_tcp.h"
#include "stage.h"
#include "synproxy.h"

/* The connection table. The loader gives it its capacity (`conntrack:
 * max`, or the pinned map's) before creating it; runtime-owned: apply
 * never touches it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SL_CT_MAX_DEFAULT);
	__type(key, struct sl_ct_key);
	__type(value, struct sl_ct_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ct SEC(".maps");

/* The stage's scratch (over sl_pctx.scratch): the key of the packet (or
 * of the flow an ICMP error quotes) and a new entry's value. */
struct sl_ct_scratch {
	struct sl_ct_key key;
	struct sl_ct_val val;
	struct sl_ct_seg seg; /* TCP: the segment, for the window check */
	__u32 fp;	      /* the fast path's finding, for sl_pctx.ct_fp */
};

_Static_assert(sizeof(struct sl_ct_scratch) <= SL_STAGE_SCRATCH,
	       "the conntrack scratch fits the stage scratch");
_Static_assert(sizeof(struct sl_ct_scratch) <= SL_SYN_SCRATCH_OFF,
	       "the synproxy ACK check's copies leave the conntrack scratch");

/* ICMP and ICMPv6 types (linux/icmp.h needs libc headers). */
#define SL_ICMP_ECHOREPLY     0
#define SL_ICMP_DEST_UNREACH  3
#define SL_ICMP_SOURCE_QUENCH 4
#define SL_ICMP_REDIRECT      5
#define SL_ICMP_ECHO	      8
#define SL_ICMP_TIME_EXCEEDED 11
#define SL_ICMP_PARAMETERPROB 12
#define SL_ICMP6_DEST_UNREACH 1
#define SL_ICMP6_PKT_TOOBIG   2
#define SL_ICMP6_TIME_EXCEED  3
#define SL_ICMP6_PARAMPROB    4
#define SL_ICMP6_ECHO_REQUEST 128
#define SL_ICMP6_ECHO_REPLY   129

/* The timeout of an entry in `state`, in ns: the running config's, else
 * the default. */
static __always_inline __u64 sl_ct_timeout(const struct sl_hook *h, __u32 state)
{
	__u32 t = sl_ct_tmo_of(state), s = 0;

	if (h->blob &&
	    (((struct sl_blob_hdr *)h->blob)->ct_flags & SL_BLOB_CT_CONF) &&
	    t < SL_CT_TMO_MAX)
		s = ((struct sl_ct_conf *)(h->blob + SL_CT_CONF_OFF))->tmo[t];
	if (!s)
		s = sl_ct_tmo_default(t);
	return (__u64)s * 1000000000ULL;
}

/* The entry of the flow in the scratch key, NULL when there is none or it
 * expired (then *stale holds it, to be started over in place). */
static __always_inline struct sl_ct_val *sl_ct_find(struct sl_ct_scratch *s,
						    const struct sl_hook *h,
						    __u64 now,
						    struct sl_ct_val **stale)
{
	struct sl_ct_val *v = bpf_map_lookup_elem(&sl_ct, &s->key);

	*stale = NULL;
	/* signed: an entry written from user space (CLOCK_MONOTONIC) may be
	 * up to a tick ahead of the coarse clock */
	if (v && (__s64)(now - v->last) > (__s64)sl_ct_timeout(h, v->state)) {
		*stale = v;
		return NULL;
	}
	return v;
}

/* Starts a flow in `state`, the source being key end `side`: over an
 * expired entry in place, else as a new entry. The trace copy writes
 * nothing. */
static __always_inline void sl_ct_start(struct sl_ct_scratch *s,
					struct sl_ct_val *stale, __u32 state,
					__u32 side, __u64 now, __u32 len,
					__u8 tcp)
{
	struct sl_ct_val *v = stale ? stale : &s->val;

	if (sl_feat.trace)
		return;
	__builtin_memset(v, 0, sizeof(*v));
	v->first = now;
	v->last = now;
	v->packets[0] = 1;
	v->bytes[0] = len;
	v->state = state;
	v->orig = side;
	v->tcp_seen[0] = tcp;
	/* a SYN: the flow's segments are checked against its windows */
	if (state == SL_CTS_SYN_SENT)
		sl_ct_win_start(v->win, &s->seg);
	if (!stale)
		bpf_map_update_elem(&sl_ct, &s->key, v, BPF_ANY);
}

/* A packet that fits entry v's state, in direction dir (0: original). */
static __always_inline void sl_ct_seen(struct sl_ct_val *v, __u32 dir,
				       __u32 state, __u64 now, __u32 len,
				       __u8 tcp)
{
	if (sl_feat.trace)
		return;
	dir &= 1;
	v->state = state;
	v->last = now;
	if (dir)
		v->flags |= SL_CT_F_REPLIED;
	v->tcp_seen[dir] |= tcp;
	__sync_fetch_and_add(&v->packets[dir], 1);
	__sync_fetch_and_add(&v->bytes[dir], len);
}

/* The packet's state once v, which it fits, saw it. */
static __always_inline __u32 sl_ct_pkt_state(const struct sl_ct_val *v,
					     __u32 dir)
{
	return dir || (v->flags & SL_CT_F_REPLIED) ? SL_CT_ESTABLISHED
						   : SL_CT_NEW;
}

/* The packet state once v, which the packet fits in direction dir, saw
 * it; for an established flow's, what the fast path makes of it (in
 * s->fp): a cached pass of its slot under the running blob, or whether
 * the classifier's pass may be cached. */
static __always_inline __u32 sl_ct_fast(struct sl_ct_scratch *s,
					const struct sl_hook *h,
					const struct sl_ct_val *v, __u32 dir)
{
	__u32 ct = sl_ct_pkt_state(v, dir), slot, vd;
	struct sl_blob_hdr *b = (void *)h->blob;

	if (sl_feat.trace || ct != SL_CT_ESTABLISHED || !b)
		return ct;
	slot = 1U << ((h->dir & 1) * 2 + (dir & 1));
	vd = v->verdict;
	if ((v->flags & SL_CT_F_VERDICT) && v->serial == b->serial &&
	    (vd & slot))
		s->fp = slot | SL_CT_FP_HIT |
			(vd & (slot << 4) ? SL_CT_FP_RULE : 0);
	else if (!b->nrules ||
		 (((struct sl_cls_hdr *)b->cls)->flags & SL_CLS_F_FLOW))
		s->fp = slot | SL_CT_FP_STORE;
	return ct;
}

/* Caches the pass the classifier gave the packet in its slot (pipeline.h,
 * after the verdict, for a packet with SL_CT_FP_STORE): under the running
 * blob's serial, dropping the bits of an earlier blob. */
static __always_inline void sl_ct_store(struct sl_pctx *c,
					const struct sl_hook *h)
{
	__u32 slot = c->ct_fp & SL_CT_FP_SLOT, vd;
	struct sl_ct_val *v;
	__u64 serial;

	if (!h->blob)
		return;
	v = bpf_map_lookup_elem(&sl_ct, &c->ct_key);
	if (!v)
		return;
	serial = ((struct sl_blob_hdr *)h->blob)->serial;
	vd = (v->flags & SL_CT_F_VERDICT) && v->serial == serial ? v->verdict
								 : 0;
	vd |= slot;
	if (c->v.reason == SL_R_RULE)
		vd |= slot << 4;
	else
		vd &= ~(slot << 4);
	v->serial = serial;
	v->verdict = vd;
	v->flags |= SL_CT_F_VERDICT;
}

/* The window check of ct_tcp.h on entry v: a subprogram, so that its
 * branches join in its return value instead of multiplying the paths of
 * the tracking around it. */
static __noinline int sl_ct_window(struct sl_ct_val *v, __u32 dir,
				   struct sl_ct_seg *g)
{
	return sl_ct_win_check(v->win, dir, g, !sl_feat.trace);
}

static __noinline int sl_ct_seg_read(struct sl_pctx *c, const struct sl_hook *h,
				     struct sl_ct_seg *g);

/* The segment (s->seg) is read only where it is used: a SYN may start a
 * flow whose windows it sets, and a checked flow's segments go through
 * the window check. An established flow that is not checked (started by
 * a SYN cookie's ACK, carried over from layout 5) never reads it. A
 * segment that cannot be read (not after the parser) is untracked. */
static __always_inline __u32 sl_ct_tcp(struct sl_pctx *c,
				       const struct sl_hook *h, __u32 side,
				       __u8 flags, __u32 len, __u64 now)
{
	struct sl_ct_scratch *s = (void *)c->scratch;
	int ev = sl_ct_tcp_event(flags);
	struct sl_ct_val *v, *stale;
	__u32 dir, st, next;

	if (ev == SL_CT_EV_BAD)
		return SL_CT_INVALID;
	if (ev == SL_CT_EV_SYN && sl_ct_seg_read(c, h, &s->seg))
		return SL_CT_UNTRACKED;
	v = sl_ct_find(s, h, now, &stale);
	if (!v) {
		/* Only a SYN starts a flow (or a lone ACK whose SYN cookie
		 * checks: the caller's). */
		if (ev == SL_CT_EV_ACK)
			return SL_CT_PKT_MAX;
		if (ev != SL_CT_EV_SYN)
			return SL_CT_INVALID;
		sl_ct_start(s, stale, SL_CTS_SYN_SENT, side, now, len, flags);
		return SL_CT_NEW;
	}
	dir = side != v->orig;
	st = v->state;
	/* A SYN on a closed flow (either end) opens a new one. */
	if (ev == SL_CT_EV_SYN &&
	    (st == SL_CTS_TIME_WAIT || st == SL_CTS_CLOSE)) {
		sl_ct_start(s, v, SL_CTS_SYN_SENT, side, now, len, flags);
		return SL_CT_NEW;
	}
	/* A RST as the only answer (refused): no connection was made, the
	 * entry goes at once (as the kernel's). The RST itself is the
	 * reply of the flow. */
	if (ev == SL_CT_EV_RST && dir && !(v->flags & SL_CT_F_REPLIED)) {
		if (!sl_feat.trace)
			bpf_map_delete_elem(&sl_ct, &s->key);
		return SL_CT_ESTABLISHED;
	}
	next = sl_ct_tcp_next(st, ev, dir, (int)v->fin_dir - 1);
	if (next == SL_CTS_NONE)
		return SL_CT_INVALID;
	/* in the window, or invalid (the entry unchanged) */
	if (v->win[0].flags & SL_CT_W_CHECK) {
		if (ev != SL_CT_EV_SYN && sl_ct_seg_read(c, h, &s->seg))
			return SL_CT_UNTRACKED;
		if (!sl_ct_window(v, dir, &s->seg))
			return SL_CT_INVALID;
	}
	if (ev == SL_CT_EV_FIN && !v->fin_dir && !sl_feat.trace)
		v->fin_dir = dir + 1;
	sl_ct_seen(v, dir, next, now, len, flags);
	return sl_ct_fast(s, h, v, dir);
}

static __always_inline __u32 sl_ct_udp(struct sl_ct_scratch *s,
				       const struct sl_hook *h, __u32 side,
				       __u32 len, __u64 now)
{
	struct sl_ct_val *v, *stale;
	__u32 dir;

	v = sl_ct_find(s, h, now, &stale);
	if (!v) {
		sl_ct_start(s, stale, SL_CTS_UDP_UNREPLIED, side, now, len, 0);
		return SL_CT_NEW;
	}
	dir = side != v->orig;
	sl_ct_seen(v, dir,
		   dir || (v->flags & SL_CT_F_REPLIED) ? SL_CTS_UDP_ASSURED
						       : SL_CTS_UDP_UNREPLIED,
		   now, len, 0);
	return sl_ct_fast(s, h, v, dir);
}

/* ICMP echo (request: req 1) of identifier in the scratch key. */
static __always_inline __u32 sl_ct_echo(struct sl_ct_scratch *s,
					const struct sl_hook *h, __u32 side,
					int req, __u32 len, __u64 now)
{
	struct sl_ct_val *v, *stale;
	__u32 dir;

	v = sl_ct_find(s, h, now, &stale);
	if (!v) {
		/* A reply without its request fits nothing. */
		if (!req)
			return SL_CT_INVALID;
		sl_ct_start(s, stale, SL_CTS_ICMP_REQUEST, side, now, len, 0);
		return SL_CT_NEW;
	}
	dir = side != v->orig;
	/* requests go one way, replies the other */
	if (req == (int)dir)
		return SL_CT_INVALID;
	sl_ct_seen(v, dir, dir ? SL_CTS_ICMP_REPLIED : v->state, now, len, 0);
	return sl_ct_fast(s, h, v, dir);
}

/* An ICMP error at data[off..]: the header of the packet it quotes (IPv4
 * in IPv4, IPv6 in IPv6, no extension headers), then 8 bytes of its L4
 * header. Related when that packet's flow is tracked, else invalid. The
 * lookup changes nothing. */
static __always_inline __u32 sl_ct_related(struct sl_ct_scratch *s,
					   const struct sl_hook *h, __u32 off,
					   int v6, __u64 now)
{
	/* the quoted addresses, in the scratch's unused value */
	__u32 *sa = (__u32 *)&s->val, *da = sa + 4;
	struct sl_ct_val *v, *stale;
	__u16 sp = 0, dp = 0;
	__u8 proto, *ip, *l4;
	__u32 hl;

	asm volatile("" : "+r"(off));
	if (off > SL_PARSE_MAX_OFF)
		return SL_CT_INVALID;
	ip = h->data + off;
	if (!v6) {
		if ((void *)(ip + 20) > h->data_end || (ip[0] >> 4) != 4)
			return SL_CT_INVALID;
		hl = (ip[0] & 0xf) * 4;
		if (hl < 20)
			return SL_CT_INVALID;
		proto = ip[9];
		__builtin_memset(sa, 0, 32);
		__builtin_memcpy(sa, ip + 12, 4);
		__builtin_memcpy(da, ip + 16, 4);
	} else {
		if ((void *)(ip + 40) > h->data_end || (ip[0] >> 4) != 6)
			return SL_CT_INVALID;
		hl = 40;
		proto = ip[6];
		__builtin_memcpy(sa, ip + 8, 16);
		__builtin_memcpy(da, ip + 24, 16);
	}
	l4 = ip + hl;
	if ((void *)(l4 + 8) > h->data_end)
		return SL_CT_INVALID;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		sp = (__u16)l4[0] << 8 | l4[1];
		dp = (__u16)l4[2] << 8 | l4[3];
	} else if (proto == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
		/* a quoted echo request or reply: its identifier */
		if (l4[0] != (v6 ? SL_ICMP6_ECHO_REQUEST : SL_ICMP_ECHO) &&
		    l4[0] != (v6 ? SL_ICMP6_ECHO_REPLY : SL_ICMP_ECHOREPLY))
			return SL_CT_INVALID;
		sp = dp = (__u16)l4[4] << 8 | l4[5];
	} else {
		return SL_CT_INVALID;
	}
	sl_ct_key_make(&s->key, sa, da, sp, dp, proto, v6 ? 6 : 4);
	v = sl_ct_find(s, h, now, &stale);
	return v ? SL_CT_RELATED : SL_CT_INVALID;
}

/* ICMP (in IPv4) and ICMPv6 (in IPv6): echo, errors, the rest untracked. */
static __always_inline __u32 sl_ct_icmp(struct sl_ct_scratch *s,
					struct sl_pkt *p,
					const struct sl_hook *h, __u64 now)
{
	int v6 = p->l3_proto == ETH_P_IPV6;
	__u8 t = p->icmp_type, *ih;
	__u32 off = p->l4_off, side;
	int req;
	__u16 id;

	if (v6 ? t == SL_ICMP6_DEST_UNREACH || t == SL_ICMP6_PKT_TOOBIG ||
		     t == SL_ICMP6_TIME_EXCEED || t == SL_ICMP6_PARAMPROB
	       : t == SL_ICMP_DEST_UNREACH || t == SL_ICMP_SOURCE_QUENCH ||
		     t == SL_ICMP_REDIRECT || t == SL_ICMP_TIME_EXCEEDED ||
		     t == SL_ICMP_PARAMETERPROB)
		return sl_ct_related(s, h, off + 8, v6, now);
	req = t == (v6 ? SL_ICMP6_ECHO_REQUEST : SL_ICMP_ECHO);
	if (!req && t != (v6 ? SL_ICMP6_ECHO_REPLY : SL_ICMP_ECHOREPLY))
		return SL_CT_UNTRACKED;
	asm volatile("" : "+r"(off));
	if (off > SL_PARSE_MAX_OFF)
		return SL_CT_INVALID;
	ih = h->data + off;
	if ((void *)(ih + 8) > h->data_end)
		return SL_CT_INVALID; /* the parser saw 8 bytes: not reached */
	id = (__u16)ih[4] << 8 | ih[5];
	side = sl_ct_key_make(&s->key, p->saddr, p->daddr, id, id, p->l4_proto,
			      v6 ? 6 : 4);
	return sl_ct_echo(s, h, side, req, p->len, now);
}

/* A TCP ACK of no tracked flow: to a synproxy port at ingress, the end of
 * a handshake the synproxy stage (or the kernel's SYNPROXY) answered when
 * its SYN cookie checks: an established flow starts (the packet is new
 * until the other end answers); a bad cookie is marked for the drop
 * (SL_PCTX_SYN_BAD). Elsewhere invalid, as any lone ACK. */
static __always_inline __u32 sl_ct_lone_ack(struct sl_pctx *c,
					    const struct sl_hook *h, __u32 side,
					    __u64 now)
{
	struct sl_ct_scratch *s = (void *)c->scratch;
	struct sl_ct_val *stale;

	if (h->dir != SL_RDIR_IN || !sl_syn_port(c->pkt.dport))
		return SL_CT_INVALID;
	if (!sl_syn_ack_ok(c, h)) {
		c->flags |= SL_PCTX_SYN_BAD;
		return SL_CT_INVALID;
	}
	if (sl_ct_find(s, h, now, &stale))
		return SL_CT_INVALID; /* not reached: looked up just before */
	sl_ct_start(s, stale, SL_CTS_ESTABLISHED, side, now, c->pkt.len,
		    c->pkt.tcp_flags);
	return SL_CT_NEW;
}

/* The window scale option of the TCP SYN in the frame, + 1; 0: none (or
 * the frame is shorter). The synproxy stage's copy and option scan, in a
 * subprogram so that the tracking after it is verified once. */
static __noinline int sl_ct_syn_ws(struct sl_pctx *c, const struct sl_hook *h)
{
	struct sl_syn_scratch *s = sl_syn_scratch(c);

	if (sl_syn_copy(s, &c->pkt, h, 1))
		return 0;
	sl_syn_opts(s, (s->tcp[12] >> 4) * 4);
	return s->opts & SL_SYN_O_WS ? s->wscale + 1 : 0;
}

/* The TCP segment of the packet (its header read again: sequence and
 * acknowledgment numbers, window, payload length from the IP header) into
 * g; 0, or -1 when the headers cannot be read (not after the parser). */
static __noinline int sl_ct_seg_read(struct sl_pctx *c, const struct sl_hook *h,
				     struct sl_ct_seg *g)
{
	const struct sl_pkt *p = &c->pkt;
	__u32 ipend, hl;
	__u8 *ip, *th;
	__s32 dl;

	if (sl_pkt_hdrs(p, h, &ip, &th))
		return -1;
	if ((void *)(ip + 6) > h->data_end || (void *)(th + 20) > h->data_end)
		return -1;
	/* the IP packet's end, from its header's length */
	if (p->l3_proto == ETH_P_IPV6)
		ipend = p->l3_off + 40 + ((__u32)ip[4] << 8 | ip[5]);
	else
		ipend = p->l3_off + ((__u32)ip[2] << 8 | ip[3]);
	hl = (th[12] >> 4) * 4;
	dl = (__s32)(ipend - p->l4_off - hl);
	/* word loads (unaligned: fine for packet data on the JITs that
	 * Sluice runs on), not four byte loads each */
	g->seq = bpf_ntohl(*(__u32 *)(th + 4));
	g->ack = bpf_ntohl(*(__u32 *)(th + 8));
	g->win = bpf_ntohs(*(__u16 *)(th + 14));
	g->flags = th[13];
	g->end = g->seq + (dl > 0 ? (__u32)dl : 0) +
		 (g->flags & SL_TCP_SYN ? 1 : 0) +
		 (g->flags & SL_TCP_FIN ? 1 : 0);
	g->ws = g->flags & SL_TCP_SYN ? sl_ct_syn_ws(c, h) : 0;
	return 0;
}

/* Tracks the packet and writes its state into c->ct. A subprogram, not
 * inlined: its many paths all return the same state to the caller, which
 * reads the result back from the context (memory the verifier does not
 * track), so the stages after it are verified once, not once per path.
 * (Passing the hook's facts one by one instead of h made clang lay the
 * whole program out otherwise, doubling the verifier's work with conntrack
 * off; h on the stack costs its 40 bytes there instead.) It returns 0:
 * a subprogram must not leave a pointer to its stack in r0. */
static __noinline int sl_ct_track(struct sl_pctx *c, const struct sl_hook *h)
{
	struct sl_ct_scratch *s = (void *)c->scratch;
	struct sl_pkt *p = &c->pkt;
	__u64 now;
	__u32 ct, side;
	__u8 fam;

	c->ct = SL_CT_UNTRACKED;
	c->flags = 0;
	c->ct_fp = 0;
	s->fp = 0;
	if (c->parsed != SL_R_PASS || p->frag == SL_FRAG_LATER)
		return 0;
	fam = p->l3_proto == ETH_P_IP ? 4 : 6;
	/* The coarse clock (CLOCK_MONOTONIC at the last tick): timeouts are
	 * whole seconds, and the precise one cost ~20 ns a packet (bench_xdp
	 * conntrack). */
	now = bpf_ktime_get_coarse_ns();
	switch (p->l4_proto) {
	case IPPROTO_TCP:
		side = sl_ct_key_make(&s->key, p->saddr, p->daddr, p->sport,
				      p->dport, IPPROTO_TCP, fam);
		ct = sl_ct_tcp(c, h, side, p->tcp_flags, p->len, now);
		if (ct == SL_CT_PKT_MAX)
			ct = sl_ct_lone_ack(c, h, side, now);
		break;
	case IPPROTO_UDP:
		side = sl_ct_key_make(&s->key, p->saddr, p->daddr, p->sport,
				      p->dport, IPPROTO_UDP, fam);
		ct = sl_ct_udp(s, h, side, p->len, now);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* ICMP in IPv6 (ICMPv6 in IPv4) is just another protocol */
		if ((p->l4_proto == IPPROTO_ICMP) != (fam == 4))
			return 0;
		ct = sl_ct_icmp(s, p, h, now);
		break;
	default:
		return 0;
	}
	c->ct = ct;
	c->ct_fp = s->fp;
	if (s->fp & SL_CT_FP_STORE)
		__builtin_memcpy(&c->ct_key, &s->key, sizeof(c->ct_key));
	return 0;
}

/* The stage: well-formed IP packets (and first fragments) of TCP, UDP,
 * ICMP and ICMPv6, every hook. Decides pass for a cached established flow
 * (fast path), drop for an invalid packet with drop-invalid. */
static __always_inline int sl_stage_conntrack(struct sl_pctx *c,
					      const struct sl_hook *h)
{
	sl_ct_track(c, h);
	if (c->flags & SL_PCTX_SYN_BAD)
		return sl_done(c, SL_ACT_DROP, SL_R_SYN_COOKIE_BAD, 0);
	if (c->ct_fp & SL_CT_FP_HIT)
		return sl_done(c, SL_ACT_PASS,
			       c->ct_fp & SL_CT_FP_RULE ? SL_R_RULE : SL_R_PASS,
			       0);
	if (c->ct == SL_CT_INVALID && h->blob &&
	    (((struct sl_blob_hdr *)h->blob)->ct_flags &
	     SL_BLOB_CT_DROP_INVALID))
		return sl_done(c, SL_ACT_DROP, SL_R_CT_INVALID, 0);
	return SL_CONT;
}

#endif /* SL_CONNTRACK_H */
