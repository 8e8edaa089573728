/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* rules: the rule classifier's datapath. Walks the decision trees that
 * src/lib/classify.c built into the config blob (layout: abi.h, algorithm:
 * docs/classifier.md) and counts the deciding rule and the count rules
 * before it in sl_rule_stats.
 *
 * Verifier shape: the work runs in two bpf_loop callbacks, each verified
 * once whatever the caller's state: walk_cb walks SL_CLS_LEAF_GROUP trees
 * in lock-step (their node loads are independent, so they overlap), scan_cb
 * scans one tree's leaf. The blob pointer is read once by the caller and
 * handed to the callbacks next to the walk state (struct sl_cls_loop, on
 * the caller's stack: a pointer kept in a map value would come back as a
 * scalar): the whole packet sees one blob. The walk state itself may live
 * anywhere (the pipeline keeps it in the per-CPU context's scratch). */
#ifndef SL_RULES_H
#define SL_RULES_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "maps.h"
#include "ratelimit.h"
#include "stage.h"

/* Per-CPU packet and byte counters of each rule, by rule id (id 0 unused),
 * in chunks of SL_RULE_CHUNK ids: slot id / SL_RULE_CHUNK of sl_rule_stats
 * holds a per-CPU array of the chunk's counters, cell id % SL_RULE_CHUNK.
 * The control plane installs a chunk before a config with a rule in it
 * goes live and removes it once no running rule is in it (src/lib/stats.c),
 * so the memory follows the rules in use; a chunk never moves, so no count
 * is lost or doubled. An empty slot counts nothing. */
struct sl_rule_chunk {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_RULE_CHUNK);
	/* by size: an inner map's types reach the BTF only as declarations
	 * in an object without another use of them (tests/unit/cls_test) */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct sl_counter));
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SL_RULE_CHUNKS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct sl_rule_chunk);
} sl_rule_stats SEC(".maps");

#define SL_CLS_GROUP 8 /* trees walked in lock-step */

struct sl_cls_ctx {
	__u32 key[SL_DIM_MAX];
	__u64 leaf[SL_CLS_TREE_MAX]; /* leaf reached in each tree */
	/* smallest matching count positions, ascending; none: unused */
	__u32 hits[SL_COUNT_HITS_MAX];
	__u32 best; /* order position of the best terminal match so far */
	__u32 nt;
	__u32 tcp;
	__u8 dmac[6]; /* the frame's MAC addresses, for MAC conditions */
	__u8 smac[6];
	__u32 tail_base; /* leaf list start of the long leaf being scanned */
};

/* What the bpf_loop callbacks get (on the caller's stack). */
struct sl_cls_loop {
	struct sl_cls_ctx *c;
	__u8 *blob;
};

/* The blob's class, a load-time constant (sl_features.blob_log): the
 * verifier knows it, so the bounds below are constants it checks against
 * the blob map's value size. */
static __always_inline __u32 sl_blob_log(void)
{
	__u32 l = sl_feat.blob_log;

	return l >= SL_BLOB_LOG_MIN && l <= SL_BLOB_LOG_MAX ? l
							    : SL_BLOB_LOG_V2;
}
#define SL_CLS_RCAP SL_CLS_RULE_CAP_OF(sl_blob_log())
/* node and leaf-slot indexes count from the blob's start (abi.h) */
#define SL_CLS_NMASK ((1U << (sl_blob_log() - 3)) - 1)
#define SL_CLS_WMASK ((1U << (sl_blob_log() - 2)) - 1)

static __always_inline struct sl_cls_hdr *sl_cls_hdr(__u8 *blob)
{
	return (void *)(blob + __builtin_offsetof(struct sl_blob_hdr, cls));
}

static __always_inline struct sl_cls_rule *sl_cls_rule_at(__u8 *blob, __u32 pos)
{
	__u64 off = SL_CLS_RULE_OFF + (__u64)(pos & (SL_CLS_RCAP - 1)) *
					  sizeof(struct sl_cls_rule);

	return (void *)(blob + off);
}

static __always_inline __u64 sl_cls_descend(__u8 *blob, const __u32 *kv,
					    __u64 n)
{
	__u32 f = kv[n & (SL_DIM_MAX - 1)];
	__u32 bits = (n >> 16) & 0xffff, sh = (n >> 8) & 0xff;
	__u32 idx = (__u32)(n >> 32) + ((f >> sh) & ((1U << bits) - 1));

	/* from the blob's start, masked to its size: no compare */
	return *(__u64 *)(blob + (__u64)(idx & SL_CLS_NMASK) * 8);
}

static long sl_cls_walk_cb(__u32 g, void *data)
{
	struct sl_cls_loop *l = data;
	struct sl_cls_ctx *c = l->c;
	__u8 *blob = l->blob;
	struct sl_cls_hdr *h = sl_cls_hdr(blob);
	__u32 t0 = g * SL_CLS_GROUP, nt = c->nt;
	const __u32 *kv = c->key;
	__u64 cur[SL_CLS_GROUP];

	if (t0 >= nt || t0 >= SL_CLS_TREE_MAX)
		return 1;
#pragma unroll
	for (int j = 0; j < SL_CLS_GROUP; j++)
		cur[j] =
		    t0 + j < nt
			? *(__u64 *)&h->root[(t0 + j) & (SL_CLS_TREE_MAX - 1)]
			: (__u64)SL_CLS_LEAF;
	for (int d = 0; d < SL_CLS_DEPTH_MAX; d++) {
		__u32 active = 0;

#pragma unroll
		for (int j = 0; j < SL_CLS_GROUP; j++) {
			if ((cur[j] & 0xff) != SL_CLS_LEAF) {
				cur[j] = sl_cls_descend(blob, kv, cur[j]);
				active = 1;
			}
		}
		if (!active)
			break;
	}
#pragma unroll
	for (int j = 0; j < SL_CLS_GROUP; j++)
		c->leaf[(t0 + j) & (SL_CLS_TREE_MAX - 1)] = cur[j];
	return 0;
}

/* Rule r holds the key: dimensions in the order that rejects soonest. */
static __always_inline int sl_cls_match(const struct sl_cls_rule *r,
					const struct sl_cls_ctx *c)
{
	static const __u8 order[SL_DIM_MAX] = {
	    SL_DIM_L3,	  SL_DIM_SRC3,	SL_DIM_DST3,	SL_DIM_DPORT,
	    SL_DIM_SPORT, SL_DIM_PROTO, SL_DIM_ICMP,	SL_DIM_SRC2,
	    SL_DIM_DST2,  SL_DIM_SRC1,	SL_DIM_DST1,	SL_DIM_SRC0,
	    SL_DIM_DST0,  SL_DIM_VLAN,	SL_DIM_IFINDEX, SL_DIM_DIR,
	};

	/* ct-state: the rule's id holds the states it excludes, the packet's
	 * state is a bit of c->tcp above the flags; fragment: the same with
	 * the action's top bits and the bit above those; one test for all */
	if (((c->tcp & r->tcp_mask) != r->tcp_val) |
	    ((r->id >> SL_CLS_CT_SHIFT) & (c->tcp >> 8) & SL_CLS_CT_BITS) |
	    ((r->action >> SL_CLS_FRAG_SHIFT) & (c->tcp >> 16) &
	     SL_CLS_FRAG_BITS))
		return 0;
#pragma unroll
	for (int i = 0; i < SL_DIM_MAX; i++) {
		__u32 k = c->key[order[i]];

		if (k < r->lo[order[i]] || k > r->hi[order[i]])
			return 0;
	}
	return 1;
}

/* Inserts pos into hits, kept sorted ascending, dropping the largest.
 * Constant offsets only: no counter for the verifier to track. */
static __always_inline void sl_cls_hit_count(struct sl_cls_ctx *c, __u32 pos)
{
#pragma unroll
	for (int i = 0; i < SL_COUNT_HITS_MAX; i++) {
		__u32 h = c->hits[i];

		if (pos < h) {
			c->hits[i] = pos;
			pos = h;
		}
	}
}

static __always_inline int sl_mac_eq(const __u8 *a, const __u8 *b)
{
	__u8 d = 0;

#pragma unroll
	for (int i = 0; i < 6; i++)
		d |= a[i] ^ b[i];
	return !d;
}

/* The MAC condition of rule r (top byte of its id) holds for the frame. */
static __always_inline int sl_cls_mac_ok(__u8 *blob,
					 const struct sl_cls_rule *r,
					 const struct sl_cls_ctx *c)
{
	__u32 idx = r->id >> SL_CLS_MAC_SHIFT;
	struct sl_cls_mac *m;

	if (!idx)
		return 1;
	if (idx >= SL_CLS_MAC_MAX)
		return 0;
	m = (void *)(blob + SL_CLS_MAC_OFF + idx * sizeof(*m));
	if ((m->flags & SL_CLS_MAC_SRC) && !sl_mac_eq(m->smac, c->smac))
		return 0;
	if ((m->flags & SL_CLS_MAC_DST) && !sl_mac_eq(m->dmac, c->dmac))
		return 0;
	return 1;
}

/* The rule at order position pos: 1 when it decides (c->best = pos). */
static __always_inline long sl_cls_try(struct sl_cls_ctx *c, __u8 *blob,
				       __u32 pos)
{
	struct sl_cls_rule *r = sl_cls_rule_at(blob, pos);

	if (!sl_cls_match(r, c) || !sl_cls_mac_ok(blob, r, c))
		return 0;
	if ((r->action & SL_CLS_ACT_MASK) == SL_RACT_COUNT) {
		sl_cls_hit_count(c, pos);
		return 0;
	}
	c->best = pos;
	return 1;
}

/* One rule of a leaf: 1 when the scan of the leaf ends here. */
static __always_inline long sl_cls_scan_one(struct sl_cls_ctx *c, __u8 *blob,
					    __u32 base, __u32 j)
{
	__u32 pos, w = (base + j) & SL_CLS_WMASK;

	pos = *(__u32 *)(blob + (__u64)w * 4);
	if (pos >= c->best)
		return 1;
	return sl_cls_try(c, blob, pos);
}

/* The tail of a long leaf, past its first SL_CLS_LEAF_MAX rules (data:
 * the struct sl_cls_loop of the scan; the leaf's start in c->tail_base). */
static long sl_cls_tail_cb(__u32 j, void *data)
{
	struct sl_cls_loop *l = data;

	return sl_cls_scan_one(l->c, l->blob, l->c->tail_base,
			       SL_CLS_LEAF_MAX + j);
}

/* The first n (at most SL_CLS_LINEAR_MAX) rules of the table in order
 * (SL_CLS_F_LINEAR). A function of its own: inlined, its locals would sit
 * in the frame of every program. */
static __noinline int sl_cls_linear(struct sl_cls_ctx *c, __u8 *blob, __u32 n)
{
	if (!sl_cls_try(c, blob, 0) && n > 1)
		sl_cls_try(c, blob, 1);
	return 0;
}

static long sl_cls_scan_cb(__u32 t, void *data)
{
	struct sl_cls_loop *l = data;
	struct sl_cls_ctx *c = l->c;
	__u8 *blob = l->blob;
	struct sl_cls_hdr *h = sl_cls_hdr(blob);
	__u64 n;
	__u32 cnt, base;

	if (t >= c->nt || t >= SL_CLS_TREE_MAX)
		return 1;
	if (h->minpos[t] >= c->best)
		return 1;
	n = c->leaf[t];
	if ((n & 0xff) != SL_CLS_LEAF)
		return 0;
	cnt = (n >> 16) & 0xffff;
	base = n >> 32;
	for (__u32 j = 0; j < SL_CLS_LEAF_MAX; j++) {
		if (j >= cnt)
			return 0;
		if (sl_cls_scan_one(c, blob, base, j))
			return 0;
	}
	if (cnt > SL_CLS_LEAF_MAX) {
		c->tail_base = base;
		bpf_loop(cnt - SL_CLS_LEAF_MAX, sl_cls_tail_cb, l, 0);
	}
	return 0;
}

static __always_inline void sl_rule_count(__u32 id, __u32 len)
{
	__u32 slot = id / SL_RULE_CHUNK, cell = id % SL_RULE_CHUNK;
	struct sl_counter *ctr;
	void *chunk;

	if (!id)
		return;
	if (sl_feat.trace) {
		/* sluice explain: a count rule is listed, nothing counts. */
		struct sl_trace *t = sl_trace_get();

		if (t && t->n_count < SL_TRACE_COUNTS)
			t->count_ids[t->n_count++ & (SL_TRACE_COUNTS - 1)] = id;
		return;
	}
	chunk = bpf_map_lookup_elem(&sl_rule_stats, &slot);
	if (!chunk)
		return;
	ctr = bpf_map_lookup_elem(chunk, &cell);
	if (ctr) {
		ctr->packets++;
		ctr->bytes += len;
	}
}

/* Classifies the key the caller wrote into c->key (enum sl_dim order,
 * host order; the rest of *c need not be initialised) with the tcp flags of
 * the packet (0 for other protocols) in bits 0-7, 1 << its connection
 * state (enum sl_ct_pkt) in bits 8-15 (0 there: rules with a ct-state
 * condition never match) and 1 << its fragment state (enum sl_frag) in
 * bits 16-23 (0 there: rules with a fragment condition never match). Returns
 * the deciding rule's action (SL_RACT_PASS, SL_RACT_DROP, SL_RACT_RATELIMIT or
 * SL_RACT_REDIRECT) with its id in *rule_id and its slot in *target (redirect:
 * of the redirect maps, ratelimit: of sl_rl_params; 0 for other actions), or -1
 * (id and target 0) when no deciding rule holds the packet. Adds 1 packet and
 * len bytes to the deciding rule and to the first SL_COUNT_HITS_MAX count rules
 * before it. blob: from sl_blob_get(), non-NULL. */
static __always_inline int sl_rules_classify(struct sl_cls_ctx *c, __u8 *blob,
					     __u32 tcp_flags, __u32 len,
					     __u32 *rule_id, __u32 *target)
{
	struct sl_cls_hdr *h = sl_cls_hdr(blob);
	struct sl_cls_loop l = {.c = c, .blob = blob};
	struct sl_cls_rule *r;
	int action = -1;

	*rule_id = 0;
	*target = 0;
	c->tcp = tcp_flags;
	c->nt = h->ntrees;
	c->best = h->none;
#pragma unroll
	for (int i = 0; i < SL_COUNT_HITS_MAX; i++)
		c->hits[i] = c->best;
	if (c->nt > SL_CLS_TREE_MAX)
		c->nt = SL_CLS_TREE_MAX;
	if (!c->nt)
		return -1;
	if ((h->flags & SL_CLS_F_LINEAR) &&
	    ((struct sl_blob_hdr *)blob)->nrules <= SL_CLS_LINEAR_MAX) {
		/* A few rules: the table in order is cheaper than a walk. */
		sl_cls_linear(c, blob, ((struct sl_blob_hdr *)blob)->nrules);
	} else {
		bpf_loop(SL_CLS_TREE_MAX / SL_CLS_GROUP, sl_cls_walk_cb, &l, 0);
		bpf_loop(SL_CLS_TREE_MAX, sl_cls_scan_cb, &l, 0);
	}

	if (c->best != SL_CLS_NONE) {
		r = sl_cls_rule_at(blob, c->best);
		*rule_id = r->id & SL_CLS_ID_MASK;
		*target = r->target;
		action = r->action & SL_CLS_ACT_MASK;
		sl_rule_count(r->id & SL_CLS_ID_MASK, len);
	}
#pragma unroll
	for (int i = 0; i < SL_COUNT_HITS_MAX; i++) {
		if (c->hits[i] < c->best)
			sl_rule_count(sl_cls_rule_at(blob, c->hits[i])->id &
					  SL_CLS_ID_MASK,
				      len);
	}
	return action;
}

/* The packet as a point of the rule space (abi.h, enum sl_dim); kv must
 * be zeroed. */
static __always_inline void sl_rule_key(const struct sl_pkt *p, __u32 dir,
					__u32 ifindex, __u32 *kv)
{
	if (p->l3_proto == ETH_P_IP) {
		kv[SL_DIM_SRC3] = bpf_ntohl(p->saddr[0]);
		kv[SL_DIM_DST3] = bpf_ntohl(p->daddr[0]);
		kv[SL_DIM_L3] = SL_L3_IPV4;
	} else if (p->l3_proto == ETH_P_IPV6) {
#pragma unroll
		for (int i = 0; i < 4; i++) {
			kv[SL_DIM_SRC0 + i] = bpf_ntohl(p->saddr[i]);
			kv[SL_DIM_DST0 + i] = bpf_ntohl(p->daddr[i]);
		}
		kv[SL_DIM_L3] = SL_L3_IPV6;
	} else {
		kv[SL_DIM_L3] =
		    p->l3_proto == ETH_P_ARP ? SL_L3_ARP : SL_L3_OTHER;
	}
	kv[SL_DIM_SPORT] = p->sport;
	kv[SL_DIM_DPORT] = p->dport;
	kv[SL_DIM_PROTO] = p->l4_proto;
	if (p->l4_proto == IPPROTO_ICMP || p->l4_proto == IPPROTO_ICMPV6)
		kv[SL_DIM_ICMP] = (__u32)p->icmp_type << 8 | p->icmp_code;
	kv[SL_DIM_IFINDEX] = ifindex;
	kv[SL_DIM_VLAN] = p->vlan_id[0] & 0xfff;
	kv[SL_DIM_DIR] = dir;
}

_Static_assert(SL_TRACE_COUNTS > SL_COUNT_HITS_MAX,
	       "a trace lists every count rule a packet meets, and the "
	       "deciding rule");
_Static_assert(sizeof(struct sl_cls_ctx) <= SL_STAGE_SCRATCH,
	       "the classifier's walk state fits the stage scratch");

/* The stage (IP and ARP frames that reached it, both directions): the
 * first pass/drop/ratelimit/redirect rule decides with reason rule. A
 * ratelimit rule passes while its bucket has tokens, else drops with
 * reason ratelimit (ratelimit.h). A redirect rule whose slot is empty (its
 * interface went away), or a ratelimit rule whose slot does not hold its
 * parameters, aborts: dropped, and traced at XDP. No rule: go on to the
 * policy. */
static __always_inline int sl_stage_rules(struct sl_pctx *c,
					  const struct sl_hook *h)
{
	struct sl_cls_ctx *cc = (void *)c->scratch;
	struct sl_cls_hdr *ch;
	__u32 id, target;
	int act;

	if (!h->blob || !((struct sl_blob_hdr *)h->blob)->nrules)
		return SL_CONT;
	ch = sl_cls_hdr(h->blob);
	if (ch->flags & SL_CLS_F_CLASSES) {
		/* No rule for the packet's direction and family: skip. */
		__u32 l3 = c->pkt.l3_proto == ETH_P_IP	   ? SL_L3_IPV4
			   : c->pkt.l3_proto == ETH_P_IPV6 ? SL_L3_IPV6
			   : c->pkt.l3_proto == ETH_P_ARP  ? SL_L3_ARP
							   : SL_L3_OTHER;

		if (!((ch->classes >> ((h->dir & 1) * 4 + l3)) & 1))
			return SL_CONT;
	}
	__builtin_memset(cc->key, 0, sizeof(cc->key));
	sl_rule_key(&c->pkt, h->dir, h->ifindex, cc->key);
	__builtin_memcpy(cc->dmac, c->pkt.dmac, 6);
	__builtin_memcpy(cc->smac, c->pkt.smac, 6);
	/* the TCP flags, the packet's connection state as a bit above them
	 * (untracked when the conntrack stage is off) and its fragment
	 * state as a bit above that */
	act = sl_rules_classify(cc, h->blob,
				c->pkt.tcp_flags | (1U << (c->ct & 7)) << 8 |
				    (1U << (c->pkt.frag & 3)) << 16,
				c->pkt.len, &id, &target);
	if (sl_feat.trace && act >= 0) {
		struct sl_trace *t = sl_trace_get();

		if (t && t->n_count) {
			/* The deciding rule went through sl_rule_count
			 * first: take it out of the count rules. */
			t->rule_id = id;
#pragma unroll
			for (int i = 0; i < SL_TRACE_COUNTS - 1; i++)
				t->count_ids[i] = t->count_ids[i + 1];
			t->n_count--;
		}
	}
	/* A ratelimit rule's pass, or count rules met: each packet must be
	 * classified, so conntrack's fast path may not cache the pass. */
	if (act == SL_RACT_RATELIMIT || cc->hits[0] < cc->best)
		c->ct_fp &= ~SL_CT_FP_STORE;
	if (act < 0)
		return SL_CONT;
	/* Events: the deciding rule for the record, and whether it logs (a
	 * log rule's packets are never served by the fast path). */
	if (sl_feat.events) {
		c->rule = sl_cls_rule_at(h->blob, cc->best)->id &
			  (SL_CLS_ID_MASK | SL_CLS_LOG);
		if (c->rule & SL_CLS_LOG)
			c->ct_fp &= ~SL_CT_FP_STORE;
	}
	if (act == SL_RACT_DROP)
		return sl_done(c, SL_ACT_DROP, SL_R_RULE, 0);
	if (act == SL_RACT_REDIRECT) {
		if (!target || !sl_redirect_target(target))
			return sl_done(c, SL_ACT_ABORT, SL_R_RULE, 0);
		return sl_done(c, SL_ACT_REDIRECT, SL_R_RULE, target);
	}
	if (act == SL_RACT_RATELIMIT) {
		int ok = sl_ratelimit(c, h, id, target);

		if (ok < 0)
			return sl_done(c, SL_ACT_ABORT, SL_R_RULE, 0);
		if (!ok)
			return sl_done(c, SL_ACT_DROP, SL_R_RATELIMIT, 0);
	}
	return sl_done(c, SL_ACT_PASS, SL_R_RULE, 0);
}

#endif /* SL_RULES_H */
