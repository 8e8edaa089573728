/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sets: the allow/deny stage. Looks the packet's source and destination up
 * in the sets (host entries in exact-match hashes, shorter prefixes in LPM
 * tries); the longest matching prefix decides, a deny entry wins a tie
 * between directions. The deciding entry counts the hit. */
#ifndef SL_SETS_H
#define SL_SETS_H

#include "maps.h"
#include "parse.h"
#include "stage.h"

/* True when the presence bitmap says a host entry may exist. */
static __always_inline int sl_host_maybe(__u32 region, __u32 bucket)
{
	__u32 idx = region + (bucket >> 6);
	__u64 *w = bpf_map_lookup_elem(&sl_host_bits, &idx);

	return w && ((*w >> (bucket & 63)) & 1);
}

/* The longest entry of one direction's IPv4 set matching addr: the host
 * entry if there is one (nothing is longer), else the trie's. */
static __always_inline struct sl_set_val *
sl_set_lookup_v4(void *hosts, void *tries, __u32 gen, __u32 dir, __u32 addr)
{
	struct sl_lpm_v4 key = {.prefixlen = 32};
	struct sl_set_val *v;
	void *m;

	if (sl_host_maybe(sl_host_region(0, dir), sl_host_bucket(&addr, 1))) {
		m = bpf_map_lookup_elem(hosts, &gen);
		v = m ? bpf_map_lookup_elem(m, &addr) : NULL;
		if (v)
			return v;
	}
	m = bpf_map_lookup_elem(tries, &gen);
	if (!m)
		return NULL;
	__builtin_memcpy(key.addr, &addr, 4);
	return bpf_map_lookup_elem(m, &key);
}

static __always_inline struct sl_set_val *
sl_set_lookup_v6(void *hosts, void *tries, __u32 gen, __u32 dir, __u32 *addr)
{
	struct sl_lpm_v6 key = {.prefixlen = 128};
	struct sl_set_val *v;
	void *m;

	if (sl_host_maybe(sl_host_region(1, dir), sl_host_bucket(addr, 4))) {
		m = bpf_map_lookup_elem(hosts, &gen);
		v = m ? bpf_map_lookup_elem(m, addr) : NULL;
		if (v)
			return v;
	}
	m = bpf_map_lookup_elem(tries, &gen);
	if (!m)
		return NULL;
	__builtin_memcpy(key.addr, addr, 16);
	return bpf_map_lookup_elem(m, &key);
}

/* Returns SL_R_ALLOW_SET, SL_R_DENY_SET, or SL_R_PASS where no entry
 * matches. gen: the set slot the packet's config blob names. */
static __always_inline int sl_sets_check(struct sl_pkt *p, __u32 gen)
{
	struct sl_set_val *s, *d, *win;
	__u8 full;

	if (p->l3_proto == ETH_P_IP) {
		s = sl_set_lookup_v4(&sl_host_src_v4, &sl_set_src_v4, gen,
				     SL_DIR_SRC, p->saddr[0]);
		full = 32;
	} else {
		s = sl_set_lookup_v6(&sl_host_src_v6, &sl_set_src_v6, gen,
				     SL_DIR_SRC, p->saddr);
		full = 128;
	}
	/* A full-length source deny is final: no destination entry can be
	 * longer, and deny wins a tie. Saves the second lookup. */
	if (s && s->kind == SL_SET_DENY && s->plen == full) {
		win = s;
		goto hit;
	}
	if (p->l3_proto == ETH_P_IP)
		d = sl_set_lookup_v4(&sl_host_dst_v4, &sl_set_dst_v4, gen,
				     SL_DIR_DST, p->daddr[0]);
	else
		d = sl_set_lookup_v6(&sl_host_dst_v6, &sl_set_dst_v6, gen,
				     SL_DIR_DST, p->daddr);

	/* Nested tests: clang turns `!s && !d` into `(s | d) == 0`, which the
	 * verifier rejects on pointers. */
	if (!s) {
		if (!d)
			return SL_R_PASS;
		win = d;
	} else if (!d)
		win = s;
	else if (s->plen != d->plen)
		win = s->plen > d->plen ? s : d;
	else
		win = s->kind == SL_SET_DENY ? s : d;
hit:
	if (sl_feat.trace) {
		/* sluice explain: the entry, not a hit. */
		struct sl_trace *t = sl_trace_get();

		if (t) {
			t->set_hit = 1;
			t->set_kind = win->kind;
			t->set_dir = win == s ? SL_DIR_SRC : SL_DIR_DST;
			t->set_plen = win->plen;
		}
	} else {
		__sync_fetch_and_add(&win->packets, 1);
		__sync_fetch_and_add(&win->bytes, p->len);
	}
	return win->kind == SL_SET_DENY ? SL_R_DENY_SET : SL_R_ALLOW_SET;
}

/* The stage (ingress, well-formed IP): a deny entry drops; an allow entry
 * passes and ends the pipeline (trusted traffic bypasses every later
 * stage). */
static __always_inline int sl_stage_sets(struct sl_pctx *c,
					 const struct sl_hook *h)
{
	int s;

	if (h->dir != SL_RDIR_IN || c->parsed != SL_R_PASS)
		return SL_CONT;
	s = sl_sets_check(&c->pkt, c->gen);
	if (s == SL_R_DENY_SET)
		return sl_done(c, SL_ACT_DROP, s, 0);
	if (s == SL_R_ALLOW_SET)
		return sl_done(c, SL_ACT_PASS, s, 0);
	return SL_CONT;
}

#endif /* SL_SETS_H */
