/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* frag: fragment tracking. Later fragments carry no L4 header, so no port
 * rule can hold them: the first fragment's final verdict (pass, drop, tx
 * or redirect, whichever stage gave it) is written into one pinned LRU
 * hash (sl_frags, abi.h) by the pipeline's choke point (sl_frag_note),
 * and the fragment stage gives a later fragment of a datagram it knows
 * that verdict, with reason fragment. The row runs after the sets and the
 * bans (a denied or banned source stays dropped) and before conntrack and
 * the rules. A later fragment of no known datagram (its first came late,
 * never, or was evicted; the entry is older than the timeout: the
 * config's `fragments: timeout`, SL_FRAG_TIMEOUT_S by default) goes
 * on to the rules and the policy. Every hook, both directions (the
 * direction is part of the key). The trace copy of `sluice explain` looks
 * up but never writes. */
#ifndef SL_FRAG_H
#define SL_FRAG_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "stage.h"

/* The datagrams whose first fragment was judged. Runtime-owned: made by
 * the load when missing, kept by apply, upgrades and detach; reset
 * removes it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SL_FRAG_MAX_ENTRIES);
	__type(key, struct sl_frag_key);
	__type(value, struct sl_frag_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_frags SEC(".maps");

/* The scratch (over sl_pctx.scratch): the key and a new entry, off the
 * stack. */
struct sl_frag_scratch {
	struct sl_frag_key key;
	struct sl_frag_val val;
};
_Static_assert(sizeof(struct sl_frag_scratch) <= SL_STAGE_SCRATCH,
	       "the fragment scratch fits the stage scratch");

/* How long a first fragment's verdict holds, in ns: the config blob's
 * `fragments: timeout`, else SL_FRAG_TIMEOUT_S. */
static __always_inline __u64 sl_frag_timeout_ns(const __u8 *blob)
{
	__u32 s = 0;

	if (blob &&
	    (((const struct sl_blob_hdr *)blob)->ct_flags & SL_BLOB_FRAG_CONF))
		s = ((const struct sl_frag_conf *)(blob + SL_FRAG_CONF_OFF))
			->timeout;
	if (!s || s > SL_FRAG_TIMEOUT_MAX)
		s = SL_FRAG_TIMEOUT_S;
	return (__u64)s * 1000000000ULL;
}

/* The key of the packet's datagram into s->key. */
static __always_inline void sl_frag_key(struct sl_frag_scratch *s,
					const struct sl_pkt *p, __u32 dir)
{
	__builtin_memcpy(s->key.saddr, p->saddr, sizeof(s->key.saddr));
	__builtin_memcpy(s->key.daddr, p->daddr, sizeof(s->key.daddr));
	s->key.id = p->frag_id;
	s->key.family = p->l3_proto == ETH_P_IP ? 4 : 6;
	s->key.proto = p->l3_proto == ETH_P_IP ? p->l4_proto : 0;
	s->key.dir = dir;
	s->key.pad = 0;
}

/* The choke point's part (pipeline.h): a well-formed first fragment's
 * verdict is remembered. The scratch is free by then. A subprogram: its
 * stores stay out of the callers' frames. */
static __noinline void sl_frag_note(struct sl_pctx *c, __u32 dir)
{
	struct sl_frag_scratch *s = (void *)c->scratch;

	if (c->parsed != SL_R_PASS || c->pkt.frag != SL_FRAG_FIRST)
		return;
	sl_frag_key(s, &c->pkt, dir);
	s->val.first = bpf_ktime_get_ns();
	s->val.target = c->v.target;
	s->val.action = c->v.action;
	s->val.reason = c->v.reason;
	s->val.pad[0] = s->val.pad[1] = 0;
	bpf_map_update_elem(&sl_frags, &s->key, &s->val, BPF_ANY);
}

/* The lookup of the stage: 1 with the verdict written into c->v when the
 * packet is a later fragment of a datagram whose first fragment was judged
 * less than the timeout ago, else 0. A subprogram: its paths meet again at
 * its return, so the stages after it are verified once. */
static __noinline int sl_frag_find(struct sl_pctx *c, const struct sl_hook *h)
{
	struct sl_frag_scratch *s = (void *)c->scratch;
	struct sl_frag_val *v;

	if (c->pkt.frag != SL_FRAG_LATER || c->parsed != SL_R_PASS)
		return 0;
	sl_frag_key(s, &c->pkt, h->dir);
	v = bpf_map_lookup_elem(&sl_frags, &s->key);
	if (!v || bpf_ktime_get_ns() - v->first >= sl_frag_timeout_ns(h->blob))
		return 0;
	sl_done(c, v->action, SL_R_FRAG, v->target);
	return 1;
}

/* The stage: later fragments of known datagrams get their verdict. */
static __always_inline int sl_stage_frag(struct sl_pctx *c,
					 const struct sl_hook *h)
{
	return sl_frag_find(c, h) ? SL_DONE : SL_CONT;
}

#endif /* SL_FRAG_H */
