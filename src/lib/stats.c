// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* stats: reads the per-CPU counters and sums them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sluice.h"

int sl_stats_read_fd(int fd, struct sl_counter out[SL_STATS_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	struct sl_counter *per;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ?: -EINVAL;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	memset(out, 0, sizeof(*out) * SL_STATS_MAX);
	for (__u32 i = 0; i < SL_STATS_MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, per)) {
			err = -errno;
			pr_err("cannot read the counters: %s", strerror(errno));
			break;
		}
		for (int c = 0; c < ncpu; c++) {
			out[i].packets += per[c].packets;
			out[i].bytes += per[c].bytes;
		}
	}
	free(per);
	return err;
}

int sl_stats_read(struct sl_ctx *ctx, struct sl_counter out[SL_STATS_MAX])
{
	int fd = sl_map_fd(ctx, SL_MAP_STATS);

	return fd < 0 ? fd : sl_stats_read_fd(fd, out);
}
