/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* stats: per-CPU counters by hook, reason and action. */
#ifndef SL_STATS_H
#define SL_STATS_H

#include "maps.h"

/* Per-CPU counters by hook, reason and action, indexed by sl_stats_hidx():
 * the hook is a constant of each program, so its cells cost nothing more
 * than one offset (no second lookup). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_STATS_CELLS);
	__type(key, __u32);
	__type(value, struct sl_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_stats SEC(".maps");

static __always_inline void sl_count(__u32 hook, __u32 reason, __u32 action,
				     __u32 len)
{
	__u32 idx = sl_stats_hidx(hook, reason, action);
	struct sl_counter *c = bpf_map_lookup_elem(&sl_stats, &idx);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* Per-interface counters by direction and action (abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_IFACE_SLOTS);
	__type(key, __u32);
	__type(value, struct sl_iface_ctr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_iface_stats SEC(".maps");

static __always_inline void sl_count_iface(__u32 ifindex, __u32 dir,
					   __u32 action, __u32 len)
{
	__u32 slot = ifindex & (SL_IFACE_SLOTS - 1);
	struct sl_iface_ctr *v = bpf_map_lookup_elem(&sl_iface_stats, &slot);
	struct sl_counter *c;

	if (!v || v->ifindex != ifindex)
		return; /* unclaimed, or another interface's */
	c = &v->c[dir & 1][action & (SL_STATS_ACTIONS - 1)];
	c->packets++;
	c->bytes += len;
}

#endif /* SL_STATS_H */
