/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* ratelimit: the token buckets of ratelimit rules (abi.h, Rate limits).
 * The rules stage calls sl_ratelimit() for a packet a ratelimit rule
 * decided: within the rate it passes, over it drops (reason ratelimit) and,
 * if the rule says so, bans its source in the bans stage's tries (ingress
 * only), with an expiry, so the ban ends by itself.
 *
 * Buckets refill lazily on the packets that find them, in integer
 * nano-tokens: elapsed ns x rate (no division, no floating point). Two
 * CPUs updating one bucket at once may both read the same token count:
 * each such race lets at most one extra packet through (no lock: the
 * update is a plain read-modify-write of the bucket's two words). */
#ifndef SL_RATELIMIT_H
#define SL_RATELIMIT_H

#include "bans.h"
#include "maps.h"
#include "stage.h"

/* ---- the stage's maps ---- */

/* Bucket parameters by slot: config-owned, filled by apply before the
 * config naming a slot is switched in. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_RL_SLOTS);
	__type(key, __u32);
	__type(value, struct sl_rl_params);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_rl_params SEC(".maps");

/* The buckets: runtime-owned (apply never flushes them; a changed rule's
 * key has a new epoch), the least recently used go first when full. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SL_RL_MAX_BUCKETS);
	__type(key, struct sl_rl_key);
	__type(value, struct sl_rl_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_rl_buckets SEC(".maps");

/* Off the stack, in the context's scratch (the classifier is done with
 * it when the rules stage calls sl_ratelimit). */
struct sl_rl_scratch {
	struct sl_rl_key key;
	struct sl_rl_bucket nb;
	struct sl_lpm_v6 bkey;
	struct sl_ban_val bval;
};
_Static_assert(sizeof(struct sl_rl_scratch) <= SL_STAGE_SCRATCH,
	       "the rate limit's scratch fits");

/* The tokens of bucket b at now (nano-tokens): those it held at b->last
 * plus the elapsed ns x rate, at most cap (fill_ns: cap / rate, up; a
 * bucket idle that long is full). el x rate < cap + rate: no overflow. The
 * rate limits' and the log events' buckets (events.h). */
static __always_inline __u64 sl_tb_refill(const struct sl_rl_bucket *b,
					  __u64 now, __u64 rate, __u64 cap,
					  __u64 fill_ns)
{
	__u64 el = now > b->last ? now - b->last : 0;
	__u64 t = b->tokens < cap ? b->tokens : cap;

	t = el >= fill_ns ? cap : t + el * rate;
	return t > cap ? cap : t;
}

/* The first plen bits of addr (n bytes) kept, the rest cleared. */
static __always_inline void sl_rl_mask(__u8 *addr, __u32 n, __u32 plen)
{
#pragma unroll
	for (__u32 i = 0; i < 16; i++) {
		if (i >= n)
			break;
		if (plen >= 8 * (i + 1))
			continue;
		addr[i] &=
		    plen > 8 * i ? (__u8)(0xff << (8 - (plen - 8 * i))) : 0;
	}
}

/* Bans the key's prefix (per src), or the packet's source (per rule),
 * until now + ban_ns. */
static __always_inline void sl_rl_ban(struct sl_pctx *c,
				      const struct sl_rl_params *pr, __u64 now)
{
	struct sl_rl_scratch *s = (void *)c->scratch;
	__u32 v4 = c->pkt.l3_proto == ETH_P_IP;
	void *map = v4 ? (void *)&sl_ban_v4 : (void *)&sl_ban_v6;

	__builtin_memset(&s->bkey, 0, sizeof(s->bkey));
	__builtin_memset(&s->bval, 0, sizeof(s->bval));
	if (pr->per == SL_RL_PER_SRC) {
		s->bkey.prefixlen = s->key.plen;
		__builtin_memcpy(s->bkey.addr, s->key.addr, 16);
	} else {
		s->bkey.prefixlen = v4 ? 32 : 128;
		__builtin_memcpy(s->bkey.addr, c->pkt.saddr, 16);
	}
	s->bval.expires = now + pr->ban_ns;
	s->bval.plen = s->bkey.prefixlen;
	bpf_map_update_elem(map, &s->bkey, &s->bval, BPF_ANY);
}

/* The scratch key of the packet's bucket of rule `id` under params pr. */
static __always_inline void
sl_rl_key_of(struct sl_pctx *c, const struct sl_rl_params *pr, __u32 id)
{
	struct sl_rl_scratch *s = (void *)c->scratch;
	struct sl_pkt *p = &c->pkt;

	__builtin_memset(&s->key, 0, sizeof(s->key));
	s->key.rule_id = id;
	s->key.epoch = pr->epoch;
	if (pr->per == SL_RL_PER_SRC && p->l3_proto == ETH_P_IP) {
		s->key.family = 4;
		s->key.plen = pr->plen4;
		__builtin_memcpy(s->key.addr, p->saddr, 4);
		sl_rl_mask(s->key.addr, 4, pr->plen4);
	} else if (pr->per == SL_RL_PER_SRC && p->l3_proto == ETH_P_IPV6) {
		s->key.family = 6;
		s->key.plen = pr->plen6;
		__builtin_memcpy(s->key.addr, p->saddr, 16);
		sl_rl_mask(s->key.addr, 16, pr->plen6);
	}
}

/* The nano-tokens the packet costs under pr: one packet or its bytes. */
static __always_inline __u64 sl_rl_cost(const struct sl_rl_params *pr,
					const struct sl_pkt *p)
{
	return pr->flags & SL_RL_F_BYTES ? (__u64)p->len * SL_RL_SCALE
					 : SL_RL_SCALE;
}

/* Writes t tokens at now into bucket b, or, when b is NULL (a new bucket),
 * a bucket under the scratch key. */
static __always_inline void sl_rl_put(struct sl_pctx *c, struct sl_rl_bucket *b,
				      __u64 t, __u64 now)
{
	struct sl_rl_scratch *s = (void *)c->scratch;

	if (b) {
		b->tokens = t;
		b->last = now;
		return;
	}
	s->nb.tokens = t;
	s->nb.last = now;
	bpf_map_update_elem(&sl_rl_buckets, &s->key, &s->nb, BPF_ANY);
}

/* The packet against the buckets of rule `id` (parameters in slot `slot`,
 * and in the slot it names by and_slot for a rule with a packet and a
 * byte rate): 1 within the rate(s) (the tokens taken from each bucket), 0
 * over one (no token taken; banned if the rule says so), -1 when a slot
 * does not hold the rule's parameters (never after an apply: the caller
 * aborts). A trace copy (explain) reads the buckets and changes nothing. */
static __always_inline int
sl_ratelimit(struct sl_pctx *c, const struct sl_hook *h, __u32 id, __u32 slot)
{
	struct sl_rl_scratch *s = (void *)c->scratch;
	struct sl_pkt *p = &c->pkt;
	struct sl_rl_params *pr, *pr2;
	struct sl_rl_bucket *b, *b2;
	__u64 now, cost, t, cost2, t2;
	__u32 slot2;
	int ok;

	pr = bpf_map_lookup_elem(&sl_rl_params, &slot);
	if (!pr || pr->rule_id != id || !pr->rate)
		return -1;
	now = bpf_ktime_get_boot_ns();
	sl_rl_key_of(c, pr, id);
	b = bpf_map_lookup_elem(&sl_rl_buckets, &s->key);
	/* a new bucket starts full */
	t = b ? sl_tb_refill(b, now, pr->rate, pr->cap, pr->fill_ns) : pr->cap;
	cost = sl_rl_cost(pr, p);
	ok = t >= cost;
	slot2 = pr->and_slot;
	if (slot2) {
		/* the byte bucket: both must allow the packet */
		pr2 = bpf_map_lookup_elem(&sl_rl_params, &slot2);
		if (!pr2 || pr2->rule_id != id || !pr2->rate)
			return -1;
		sl_rl_key_of(c, pr2, id);
		b2 = bpf_map_lookup_elem(&sl_rl_buckets, &s->key);
		t2 = b2 ? sl_tb_refill(b2, now, pr2->rate, pr2->cap,
				       pr2->fill_ns)
			: pr2->cap;
		cost2 = sl_rl_cost(pr2, p);
		ok = ok && t2 >= cost2;
		if (ok)
			t2 -= cost2;
		if (sl_feat.trace)
			return ok;
		sl_rl_put(c, b2, t2, now);
		/* the scratch key back to the first bucket's (the ban's
		 * prefix and a new first bucket need it) */
		sl_rl_key_of(c, pr, id);
	}
	if (ok)
		t -= cost;
	if (sl_feat.trace)
		return ok;
	sl_rl_put(c, b, t, now);
	if (!ok && pr->ban_ns && h->dir == SL_RDIR_IN &&
	    (p->l3_proto == ETH_P_IP || p->l3_proto == ETH_P_IPV6))
		sl_rl_ban(c, pr, now);
	return ok;
}

#endif /* SL_RATELIMIT_H */
