/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sets: the allow/deny stage. Looks the packet's source and destination up
 * in the set tries; the longest matching prefix decides, a deny entry wins a
 * tie between directions. The deciding entry counts the hit. */
#ifndef SL_SETS_H
#define SL_SETS_H

#include "maps.h"
#include "parse.h"

static __always_inline struct sl_set_val *sl_set_lookup_v4(void *map,
							   __u32 addr)
{
	struct sl_lpm_v4 key = {.prefixlen = 32};

	__builtin_memcpy(key.addr, &addr, 4);
	return bpf_map_lookup_elem(map, &key);
}

static __always_inline struct sl_set_val *sl_set_lookup_v6(void *map,
							   __u32 *addr)
{
	struct sl_lpm_v6 key = {.prefixlen = 128};

	__builtin_memcpy(key.addr, addr, 16);
	return bpf_map_lookup_elem(map, &key);
}

/* Returns SL_R_ALLOW_SET, SL_R_DENY_SET, or SL_R_PASS where no entry
 * matches. */
static __always_inline int sl_sets_check(struct sl_pkt *p)
{
	struct sl_set_val *s, *d, *win;
	__u8 full;

	if (p->l3_proto == ETH_P_IP) {
		s = sl_set_lookup_v4(&sl_set_src_v4, p->saddr[0]);
		full = 32;
	} else {
		s = sl_set_lookup_v6(&sl_set_src_v6, p->saddr);
		full = 128;
	}
	/* A full-length source deny is final: no destination entry can be
	 * longer, and deny wins a tie. Saves the second lookup. */
	if (s && s->kind == SL_SET_DENY && s->plen == full) {
		win = s;
		goto hit;
	}
	if (p->l3_proto == ETH_P_IP)
		d = sl_set_lookup_v4(&sl_set_dst_v4, p->daddr[0]);
	else
		d = sl_set_lookup_v6(&sl_set_dst_v6, p->daddr);

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
	__sync_fetch_and_add(&win->packets, 1);
	__sync_fetch_and_add(&win->bytes, p->len);
	return win->kind == SL_SET_DENY ? SL_R_DENY_SET : SL_R_ALLOW_SET;
}

#endif /* SL_SETS_H */
