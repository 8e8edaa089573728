/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* events: the records the choke point (pipeline.h, sl_verdict_commit)
 * writes into the ring buffer sl_events in programs loaded with
 * sl_features.events (abi.h, Events). At most one record a verdict, in
 * this order: a drop event (action drop or abort, `events: {drops:
 * true}`), a log event (the deciding rule has `log` and a token in its
 * bucket: `log-rate` a second, `log-burst` at once), a sampled flow event
 * (`sample: N`: the CPU's countdown for the hook ran out; each countdown
 * restarts at a random 1..2N-1, so 1 in N verdicts on average, without
 * locking onto periodic traffic). A full ring counts the record in
 * sl_ev_lost. The choice is inline in the choke point (one array lookup
 * and a countdown per verdict); the record's write is one subprogram,
 * called for the verdicts that get one. Inline, the programs loaded
 * without the switch verify in about the instructions of a build without
 * events (build/verifier_stats); a subprogram for the whole decision made
 * them verify in up to 50% more. While `sluice dump` runs (sl_ev_cap set),
 * each record carries the frame's first bytes: one lookup a record when
 * it does not. */
#ifndef SL_EVENTS_H
#define SL_EVENTS_H

#include "ratelimit.h"
#include "stage.h"

/* ---- the maps ---- */

/* The records: runtime-owned, one consumer at a time. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SL_EV_RING_SIZE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_events SEC(".maps");

/* Records the ring had no room for, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ev_lost SEC(".maps");

/* The parameters: config-owned, written by apply. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_ev_conf);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ev_conf SEC(".maps");

/* The log rules' buckets, by rule id: runtime-owned, the least recently
 * used go first when full (a rule coming back starts with a full one). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SL_EV_LOG_BUCKETS);
	__type(key, __u32);
	__type(value, struct sl_rl_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ev_log SEC(".maps");

/* Capture (sluice dump): the bytes of each frame a record carries; 0 off.
 * Runtime-owned: sluice dump sets it while it runs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_ev_cap);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ev_cap SEC(".maps");

/* A record with its frame's first bytes, assembled off the stack before
 * bpf_ringbuf_output copies it (bpf_ringbuf_reserve takes only a constant
 * size). Not pinned: it holds nothing between packets. */
struct sl_ev_capbuf {
	struct sl_event e;
	__u8 data[SL_EV_CAP_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_ev_capbuf);
} sl_ev_buf SEC(".maps");

/* 1: rule id may log one more event now (a token taken). Two CPUs racing
 * on one bucket may both take the same token (as in ratelimit.h). */
static __always_inline int sl_ev_log_take(const struct sl_ev_conf *cf, __u32 id)
{
	__u64 now = bpf_ktime_get_boot_ns();
	__u64 cap = (__u64)cf->log_burst * SL_RL_SCALE, t;
	struct sl_rl_bucket *b, nb;
	int ok;

	if (!cf->log_rate || !cap)
		return 0;
	b = bpf_map_lookup_elem(&sl_ev_log, &id);
	t = b ? sl_tb_refill(b, now, cf->log_rate, cap, cf->log_fill_ns) : cap;
	ok = t >= SL_RL_SCALE;
	if (ok)
		t -= SL_RL_SCALE;
	if (b) {
		b->tokens = t;
		b->last = now;
	} else {
		nb.tokens = t;
		nb.last = now;
		bpf_map_update_elem(&sl_ev_log, &id, &nb, BPF_ANY);
	}
	return ok;
}

/* The record of the verdict of type `type` (sampled at rate n). */
static __always_inline void sl_ev_fill(struct sl_event *e,
				       const struct sl_pctx *c,
				       const struct sl_hook *h, __u32 type,
				       __u32 n)
{
	const struct sl_pkt *p = &c->pkt;

	e->ts = bpf_ktime_get_boot_ns();
	e->type = type;
	e->action = c->v.action;
	e->reason = c->v.reason;
	e->dir = h->dir;
	e->hook = !h->xdp;
	e->family = p->l3_proto == ETH_P_IP	? 4
		    : p->l3_proto == ETH_P_IPV6 ? 6
						: 0;
	e->proto = e->family ? p->l4_proto : 0;
	e->tcp_flags = p->tcp_flags;
	e->rule_id = c->rule & SL_CLS_ID_MASK;
	e->ifindex = h->ifindex;
	e->len = p->len;
	e->vlan = p->vlan_id[0] & 0xfff;
	e->sport = p->sport;
	e->dport = p->dport;
	e->icmp_type = p->icmp_type;
	e->icmp_code = p->icmp_code;
	__builtin_memcpy(e->src, p->saddr, 16);
	__builtin_memcpy(e->dst, p->daddr, 16);
	e->sample = type == SL_EV_SAMPLE ? n : 0;
}

/* Wake the consumer only once a quarter of the ring is queued: a wakeup
 * per record costs the producer microseconds (irq_work and an IPI); the
 * reader polls meanwhile (sluice events: 200 ms). */
static __always_inline __u64 sl_ev_wakeup(void)
{
	return bpf_ringbuf_query(&sl_events, BPF_RB_AVAIL_DATA) >=
		       SL_EV_RING_SIZE / 4
		   ? BPF_RB_FORCE_WAKEUP
		   : BPF_RB_NO_WAKEUP;
}

/* The record in sl_ev_buf (written by the caller), followed by the
 * frame's first len bytes (at most SL_EV_CAP_MAX; 0 when they cannot be
 * read), into the ring. Global functions: the verifier checks each once,
 * not once per verdict path that writes a record (as a static subprogram
 * of the writer it tripled the instructions TC egress verifies in). 0 or
 * the ring's error (no room). */
static __always_inline long sl_ev_cap_out(void *ctx, const __u32 xdp, __u32 len)
{
	struct sl_ev_capbuf *b;
	__u32 zero = 0;
	long err;

	b = bpf_map_lookup_elem(&sl_ev_buf, &zero);
	if (!b)
		return 0;
	if (len > SL_EV_CAP_MAX)
		len = SL_EV_CAP_MAX;
	/* the bounds the verifier wants, in a register it sees */
	asm volatile("%0 &= 0xfff" : "+r"(len));
	if (len > SL_EV_CAP_MAX || len < 1) {
		len = 0;
	} else {
		err = xdp ? bpf_xdp_load_bytes(ctx, 0, b->data, len)
			  : bpf_skb_load_bytes(ctx, 0, b->data, len);
		if (err)
			len = 0;
	}
	return bpf_ringbuf_output(&sl_events, b, sizeof(b->e) + len,
				  sl_ev_wakeup());
}

__noinline int sl_ev_cap_xdp(struct xdp_md *ctx, __u32 len)
{
	/* the frame as it leaves: a stage may have resized it (lb.h's
	 * dsr-ipip grows it, its too-big answer shrinks it) */
	__u32 now = ctx->data_end - ctx->data;

	return sl_ev_cap_out(ctx, 1, len < now ? len : now) ? -1 : 0;
}

__noinline int sl_ev_cap_skb(struct __sk_buff *ctx, __u32 len)
{
	return sl_ev_cap_out(ctx, 0, len) ? -1 : 0;
}

/* Writes the verdict's record of `type` (sampled at rate n), or counts it
 * lost. While a capture runs (sl_ev_cap; one lookup a record), the record
 * is followed by the frame's first min(caplen, frame length) bytes, read
 * with the hook's own helper (xdp: a constant of each writer; TC reads
 * past the linear part too). */
static __always_inline void sl_ev_write(void *ctx, const __u32 xdp,
					const struct sl_pctx *c,
					const struct sl_hook *h, __u32 type,
					__u32 n)
{
	struct sl_ev_capbuf *b;
	struct sl_ev_cap *cap;
	struct sl_event *e;
	__u32 zero = 0, len;
	__u64 *lost;

	cap = bpf_map_lookup_elem(&sl_ev_cap, &zero);
	if (cap && cap->caplen) {
		b = bpf_map_lookup_elem(&sl_ev_buf, &zero);
		if (!b)
			return;
		sl_ev_fill(&b->e, c, h, type, n);
		len = h->len < cap->caplen ? h->len : cap->caplen;
		if (!(xdp ? sl_ev_cap_xdp(ctx, len) : sl_ev_cap_skb(ctx, len)))
			return;
		goto lost;
	}
	e = bpf_ringbuf_reserve(&sl_events, sizeof(*e), 0);
	if (!e)
		goto lost;
	sl_ev_fill(e, c, h, type, n);
	bpf_ringbuf_submit(e, sl_ev_wakeup());
	return;
lost:
	lost = bpf_map_lookup_elem(&sl_ev_lost, &zero);
	if (lost)
		(*lost)++;
}

/* The record's write, one subprogram per kind of hook (each calls only
 * its own helpers). */
static __noinline void sl_ev_write_xdp(struct xdp_md *ctx,
				       const struct sl_pctx *c,
				       const struct sl_hook *h, __u32 type,
				       __u32 n)
{
	sl_ev_write(ctx, 1, c, h, type, n);
}

static __noinline void sl_ev_write_skb(struct __sk_buff *ctx,
				       const struct sl_pctx *c,
				       const struct sl_hook *h, __u32 type,
				       __u32 n)
{
	sl_ev_write(ctx, 0, c, h, type, n);
}

/* The choke point's call: which record, if any, the verdict gets. */
static __always_inline int sl_ev_verdict(struct sl_pctx *c,
					 const struct sl_hook *h, void *ctx,
					 const __u32 xdp)
{
	__u32 zero = 0, type = 0, n = 0, k, left;
	struct sl_ev_conf *cf;

	cf = bpf_map_lookup_elem(&sl_ev_conf, &zero);
	if (!cf)
		return 0;
	if ((c->v.action == SL_ACT_DROP || c->v.action == SL_ACT_ABORT) &&
	    (cf->flags & SL_EV_F_DROPS)) {
		type = SL_EV_DROP;
	} else if ((c->rule & SL_CLS_LOG) &&
		   sl_ev_log_take(cf, c->rule & SL_CLS_ID_MASK)) {
		type = SL_EV_LOG;
	} else if ((n = cf->sample) && n <= SL_EV_SAMPLE_MAX) {
		k = (h->xdp ? 0 : 1 + (h->dir & 1)) & 3;
		left = c->ev_left[k];
		if (left > 1 && left < 2 * n) {
			c->ev_left[k] = left - 1;
			return 0;
		}
		c->ev_left[k] =
		    n == 1 ? 1 : 1 + bpf_get_prandom_u32() % (2 * n - 1);
		type = SL_EV_SAMPLE;
	}
	if (type && xdp)
		sl_ev_write_xdp(ctx, c, h, type, n);
	else if (type)
		sl_ev_write_skb(ctx, c, h, type, n);
	return 0;
}

#endif /* SL_EVENTS_H */
