// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* ifstats: the per-interface counters (sl_iface_stats, abi.h): claiming an
 * interface's slot at attach, and reading the slots back. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sluice.h"

/* The slot's cells of every CPU (calloc'ed; *ncpu set), or NULL. */
static struct sl_iface_ctr *slot_read(int fd, __u32 slot, int *ncpu)
{
	struct sl_iface_ctr *v;

	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu <= 0)
		return NULL;
	v = calloc(*ncpu, sizeof(*v));
	if (v && bpf_map_lookup_elem(fd, &slot, v)) {
		free(v);
		return NULL;
	}
	return v;
}

int sl_iface_claim(struct sl_ctx *ctx, int ifindex, const int *live,
		   size_t nlive)
{
	int fd = sl_map_fd(ctx, SL_MAP_IFACE_STATS), ncpu, err = 0;
	__u32 slot = (__u32)ifindex % SL_IFACE_SLOTS;
	struct sl_iface_ctr *v;
	char name[IF_NAMESIZE];
	__u32 owner;

	if (fd < 0)
		return fd;
	v = slot_read(fd, slot, &ncpu);
	if (!v)
		return -errno ?: -ENOMEM;
	owner = v[0].ifindex;
	if (owner == (__u32)ifindex)
		goto out; /* already its own: the counters go on */
	if (owner && if_indextoname(owner, name))
		for (size_t i = 0; i < nlive; i++)
			if ((__u32)live[i] == owner) {
				err = -EBUSY; /* an attached interface's */
				goto out;
			}
	/* Free, or left by an interface that is gone or detached: start
	 * the new owner's counters at zero on every CPU. */
	memset(v, 0, sizeof(*v) * ncpu);
	for (int c = 0; c < ncpu; c++)
		v[c].ifindex = ifindex;
	if (bpf_map_update_elem(fd, &slot, v, BPF_ANY))
		err = -errno;
out:
	free(v);
	return err;
}

int sl_iface_stats_read(struct sl_ctx *ctx, struct sl_iface_stat **out,
			size_t *n)
{
	int fd = sl_map_fd(ctx, SL_MAP_IFACE_STATS), ncpu;
	struct sl_iface_stat *r;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return fd;
	r = calloc(SL_IFACE_SLOTS, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (__u32 s = 0; s < SL_IFACE_SLOTS; s++) {
		struct sl_iface_ctr *v = slot_read(fd, s, &ncpu);
		struct sl_iface_stat *x = &r[*n];

		if (!v) {
			free(r);
			return -errno ?: -ENOMEM;
		}
		if (!v[0].ifindex) {
			free(v);
			continue;
		}
		x->ifindex = v[0].ifindex;
		if (!if_indextoname(x->ifindex, x->name))
			x->name[0] = '\0';
		for (int c = 0; c < ncpu; c++)
			for (int d = 0; d < SL_RDIR_MAX; d++)
				for (int a = 0; a < SL_ACT_MAX; a++) {
					x->c[d][a].packets +=
					    v[c].c[d][a].packets;
					x->c[d][a].bytes += v[c].c[d][a].bytes;
				}
		(*n)++;
		free(v);
	}
	*out = r;
	return 0;
}

int sl_iface_stats_zero(struct sl_ctx *ctx, size_t *zeroed)
{
	int fd = sl_map_fd(ctx, SL_MAP_IFACE_STATS), ncpu, err = 0;

	*zeroed = 0;
	if (fd < 0)
		return fd;
	for (__u32 s = 0; !err && s < SL_IFACE_SLOTS; s++) {
		struct sl_iface_ctr *v = slot_read(fd, s, &ncpu);
		__u32 owner;

		if (!v)
			return -errno ?: -ENOMEM;
		owner = v[0].ifindex;
		if (owner) {
			/* The slot stays its owner's; only the counts go. */
			memset(v, 0, sizeof(*v) * ncpu);
			for (int c = 0; c < ncpu; c++)
				v[c].ifindex = owner;
			if (bpf_map_update_elem(fd, &s, v, BPF_EXIST))
				err = -errno;
			else
				(*zeroed)++;
		}
		free(v);
	}
	return err;
}
