/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bans: the bans stage. Drops packets whose source is in a banned prefix
 * (runtime-owned LPM tries written by `sluice ban`, never by apply) until
 * the ban expires; an expired entry is absent. It runs after the sets, so
 * an allowed source (the sets stage passes it) is never banned. */
#ifndef SL_BANS_H
#define SL_BANS_H

#include "maps.h"
#include "parse.h"
#include "stage.h"

/* ---- the stage's maps ---- */

/* Banned source prefixes per family (abi.h, Bans). Pinned, made by the
 * load when missing, kept by apply, upgrades and detach; reset removes
 * them. */
#define SL_BAN_TRIE(name, key_t)                         \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);     \
		__uint(map_flags, BPF_F_NO_PREALLOC);    \
		__uint(max_entries, SL_BAN_MAX_ENTRIES); \
		__type(key, key_t);                      \
		__type(value, struct sl_ban_val);        \
		__uint(pinning, LIBBPF_PIN_BY_NAME);     \
	} name SEC(".maps")

SL_BAN_TRIE(sl_ban_v4, struct sl_lpm_v4);
SL_BAN_TRIE(sl_ban_v6, struct sl_lpm_v6);

/* The stage's scratch: the lookup key, off the stack. An IPv4 key is the
 * first 8 bytes (prefixlen, 4 address bytes). */
struct sl_ban_scratch {
	struct sl_lpm_v6 key;
};
_Static_assert(sizeof(struct sl_ban_scratch) <= SL_STAGE_SCRATCH,
	       "the bans stage's scratch fits");

/* The active ban covering the packet's source, or NULL. An expired entry
 * sends the lookup on to the longest shorter prefix, at most
 * SL_BAN_PROBES lookups in all. */
static __always_inline struct sl_ban_val *sl_ban_find(struct sl_pctx *c)
{
	struct sl_ban_scratch *s = (struct sl_ban_scratch *)c->scratch;
	struct sl_pkt *p = &c->pkt;
	struct sl_ban_val *v;
	__u64 now = 0;
	void *map;

	if (p->l3_proto == ETH_P_IP) {
		map = &sl_ban_v4;
		s->key.prefixlen = 32;
		__builtin_memcpy(s->key.addr, p->saddr, 4);
	} else {
		map = &sl_ban_v6;
		s->key.prefixlen = 128;
		__builtin_memcpy(s->key.addr, p->saddr, 16);
	}
#pragma unroll
	for (int i = 0; i < SL_BAN_PROBES; i++) {
		v = bpf_map_lookup_elem(map, &s->key);
		if (!v)
			return NULL;
		if (!v->expires)
			return v;
		if (!now)
			now = bpf_ktime_get_boot_ns();
		if (v->expires > now)
			return v;
		if (!v->plen)
			return NULL;
		s->key.prefixlen = v->plen - 1;
	}
	return NULL;
}

/* 1 when the packet's source is banned; the entry counts the drop (not in
 * a trace copy). */
static __always_inline int sl_bans_check(struct sl_pctx *c)
{
	struct sl_ban_val *v = sl_ban_find(c);

	if (!v)
		return 0;
	if (!sl_feat.trace) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, c->pkt.len);
	}
	return 1;
}

/* The stage (ingress, well-formed IP): a banned source drops. */
static __always_inline int sl_stage_bans(struct sl_pctx *c,
					 const struct sl_hook *h)
{
	if (h->dir != SL_RDIR_IN || c->parsed != SL_R_PASS)
		return SL_CONT;
	return sl_bans_check(c) ? sl_done(c, SL_ACT_DROP, SL_R_BANNED, 0)
				: SL_CONT;
}

#endif /* SL_BANS_H */
