/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* stats: per-CPU counters by reason and action. */
#ifndef SL_STATS_H
#define SL_STATS_H

#include "maps.h"

static __always_inline void sl_count(__u32 reason, __u32 action, __u32 len)
{
	__u32 idx = sl_stats_idx(reason, action);
	struct sl_counter *c = bpf_map_lookup_elem(&sl_stats, &idx);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

#endif /* SL_STATS_H */
