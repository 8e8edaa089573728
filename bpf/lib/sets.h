/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sets: the allow/deny stage. Looks the packet's source and destination up
 * in the sets (host entries in exact-match hashes, shorter prefixes in LPM
 * tries); the longest matching prefix decides, a deny entry wins a tie
 * between directions. The deciding entry counts the hit. */
#ifndef SL_SETS_H
#define SL_SETS_H

#include "conntrack.h"
#include "maps.h"
#include "parse.h"
#include "stage.h"

/* ---- the stage's maps ---- */

/* Every set map is an array of SL_SET_GENS maps: the running config blob
 * names the slot in use (sl_blob_hdr.set_gen), so apply fills the other
 * slot off to the side and switches sets and rules with one write. The
 * inner maps below are the templates; the control plane creates the real
 * ones (src/lib/sets.c) with the capacities of the `limits:` section. A
 * template has one entry: the kernel keeps only its type, key and value
 * sizes and flags to check inner maps against (a hash or trie inner map may
 * have any max_entries), and libbpf frees it once the outer map exists, so
 * a full-size host template cost a 16 MiB bucket array, zeroed and freed,
 * per host map at every new state. */

/* A set map: SL_SET_GENS slots of an inner map of type `mtype`. The tries
 * hold prefixes shorter than a host, allow and deny entries together so
 * that one lookup finds the longest matching prefix of either; the hashes
 * hold host entries (/32, /128), exact match (see abi.h). */
#define SL_SET_SLOTS(name, mtype, key_t, max)                  \
	struct name##_inner {                                  \
		__uint(type, mtype);                           \
		__uint(map_flags, BPF_F_NO_PREALLOC);          \
		__uint(max_entries, max);                      \
		__uint(key_size, sizeof(key_t));               \
		__uint(value_size, sizeof(struct sl_set_val)); \
	};                                                     \
	struct {                                               \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);      \
		__uint(max_entries, SL_SET_GENS);              \
		__type(key, __u32);                            \
		__uint(pinning, LIBBPF_PIN_BY_NAME);           \
		__array(values, struct name##_inner);          \
	} name SEC(".maps")
#define SL_SET_TRIE(name, key_t) \
	SL_SET_SLOTS(name, BPF_MAP_TYPE_LPM_TRIE, key_t, 1)
#define SL_SET_HOSTS(name, key_t) \
	SL_SET_SLOTS(name, BPF_MAP_TYPE_HASH, key_t, 1)

/* One trie and one host hash per direction and family. */
SL_SET_TRIE(sl_set_src_v4, struct sl_lpm_v4);
SL_SET_TRIE(sl_set_dst_v4, struct sl_lpm_v4);
SL_SET_TRIE(sl_set_src_v6, struct sl_lpm_v6);
SL_SET_TRIE(sl_set_dst_v6, struct sl_lpm_v6);
SL_SET_HOSTS(sl_host_src_v4, __u32);
SL_SET_HOSTS(sl_host_dst_v4, __u32);
SL_SET_HOSTS(sl_host_src_v6, struct sl_host_v6);
SL_SET_HOSTS(sl_host_dst_v6, struct sl_host_v6);

/* Presence bitmap gating the host probes (8 MiB); see abi.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_HOST_BITS_WORDS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_host_bits SEC(".maps");

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
 * stage), except that with conntrack on the connection table still sees
 * the packet (a trusted peer's answers keep the host's own flows in
 * step; conntrack.h's tracker, not its verdict). */
static __always_inline int sl_stage_sets(struct sl_pctx *c,
					 const struct sl_hook *h)
{
	int s;

	if (h->dir != SL_RDIR_IN || c->parsed != SL_R_PASS)
		return SL_CONT;
	s = sl_sets_check(&c->pkt, c->gen);
	if (s == SL_R_DENY_SET)
		return sl_done(c, SL_ACT_DROP, s, 0);
	if (s == SL_R_ALLOW_SET) {
		if (sl_feat.conntrack)
			sl_ct_track(c, h);
		return sl_done(c, SL_ACT_PASS, s, 0);
	}
	return SL_CONT;
}

#endif /* SL_SETS_H */
