// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* stats: reads the per-CPU counters and sums them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sluice.h"

int sl_stats_read_hooks_fd(int fd, struct sl_counter out[SL_STATS_MAX],
			   struct sl_counter (*hooks)[SL_STATS_MAX])
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
	if (hooks)
		memset(hooks, 0, sizeof(*hooks) * SL_HK_MAX);
	/* Only the hooks that exist: no program counts in the others. */
	for (__u32 h = 0; !err && h < SL_HK_MAX; h++)
		for (__u32 i = 0; i < SL_STATS_MAX; i++) {
			__u32 k = h * SL_STATS_MAX + i;
			struct sl_counter t = {};

			if (bpf_map_lookup_elem(fd, &k, per)) {
				err = -errno;
				pr_err("cannot read the counters: %s",
				       strerror(errno));
				break;
			}
			for (int c = 0; c < ncpu; c++) {
				t.packets += per[c].packets;
				t.bytes += per[c].bytes;
			}
			out[i].packets += t.packets;
			out[i].bytes += t.bytes;
			if (hooks)
				hooks[h][i] = t;
		}
	free(per);
	return err;
}

int sl_stats_read_fd(int fd, struct sl_counter out[SL_STATS_MAX])
{
	return sl_stats_read_hooks_fd(fd, out, NULL);
}

int sl_stats_read_hooks(struct sl_ctx *ctx, struct sl_counter out[SL_STATS_MAX],
			struct sl_counter (*hooks)[SL_STATS_MAX])
{
	int fd = sl_map_fd(ctx, SL_MAP_STATS);

	return fd < 0 ? fd : sl_stats_read_hooks_fd(fd, out, hooks);
}

int sl_stats_read(struct sl_ctx *ctx, struct sl_counter out[SL_STATS_MAX])
{
	return sl_stats_read_hooks(ctx, out, NULL);
}

int sl_wait_programs(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	__u32 key = 0;
	int in, outer, err = 0;

	in = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_wait", sizeof(__u32),
			    sizeof(__u32), 1, NULL);
	if (in < 0)
		return -errno;
	o.inner_map_fd = in;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "sl_wait",
			       sizeof(__u32), sizeof(__u32), 1, &o);
	/* The kernel returns from a write to an array of maps only after
	 * every program that was running has finished (synchronize_rcu). */
	if (outer < 0 || bpf_map_update_elem(outer, &key, &in, BPF_ANY))
		err = -errno;
	if (outer >= 0)
		close(outer);
	close(in);
	return err;
}

/* ---- rule counters ----
 * The per-CPU rule counters come in chunks of SL_RULE_CHUNK rule ids, each
 * in its slot of SL_MAP_RULE_STATS (maps.h); a chunk exists while a rule of
 * the running config (or of one about to go live) is in it, so their memory
 * grows with the rules, not with SL_RULE_MAX. A chunk is made before the
 * config that needs it goes live and never moves, so no count is lost or
 * doubled. A rule's count is its cell's sum over the CPUs plus its entry of
 * SL_MAP_RULE_BASE (counts carried over from an older layout). */

/* The fds of the chunks, opened on demand (-1: not yet; -ENOENT: none). */
struct chunks {
	int outer;
	int fd[SL_RULE_CHUNKS];
};

static int chunks_open(struct sl_ctx *ctx, struct chunks *c)
{
	c->outer = sl_map_fd(ctx, SL_MAP_RULE_STATS);
	for (__u32 i = 0; i < SL_RULE_CHUNKS; i++)
		c->fd[i] = -1;
	return c->outer < 0 ? c->outer : 0;
}

/* The chunk of rule id, -ENOENT if none. */
static int chunk_fd(struct chunks *c, __u32 id)
{
	__u32 slot = id / SL_RULE_CHUNK;

	if (slot >= SL_RULE_CHUNKS)
		return -ENOENT;
	if (c->fd[slot] == -1)
		c->fd[slot] = sl_inner_fd(c->outer, slot);
	return c->fd[slot];
}

static void chunks_close(struct chunks *c)
{
	for (__u32 i = 0; i < SL_RULE_CHUNKS; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
}

/* The hash of carried counts in SL_MAP_RULE_BASE's slot; -ENOENT: none. */
static int base_open(struct sl_ctx *ctx)
{
	return sl_inner_fd(sl_map_fd(ctx, SL_MAP_RULE_BASE), 0);
}

/* Empties SL_MAP_RULE_BASE's slot when its hash holds nothing any more. */
static void base_drop_if_empty(struct sl_ctx *ctx, int base)
{
	int outer = sl_map_fd(ctx, SL_MAP_RULE_BASE);
	__u32 key = 0;

	if (outer >= 0 && sl_map_empty(base))
		bpf_map_delete_elem(outer, &key);
}

int sl_rule_stats_fit(struct sl_ctx *ctx, const struct sl_rule *r, size_t n)
{
	bool need[SL_RULE_CHUNKS] = {false};
	struct chunks c;
	int err = chunks_open(ctx, &c);

	for (size_t i = 0; i < n; i++)
		if (r[i].id / SL_RULE_CHUNK < SL_RULE_CHUNKS)
			need[r[i].id / SL_RULE_CHUNK] = true;
	for (__u32 s = 0; !err && s < SL_RULE_CHUNKS; s++) {
		int fd;

		if (!need[s] || chunk_fd(&c, s * SL_RULE_CHUNK) != -ENOENT)
			continue;
		fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "sl_rule_chunk",
				    sizeof(__u32), sizeof(struct sl_counter),
				    SL_RULE_CHUNK, NULL);
		if (fd < 0 || bpf_map_update_elem(c.outer, &s, &fd, BPF_ANY)) {
			err = -errno;
			pr_err("cannot make the counters of rules %u-%u: %s",
			       s * SL_RULE_CHUNK, (s + 1) * SL_RULE_CHUNK - 1,
			       strerror(errno));
		}
		if (fd >= 0)
			close(fd);
	}
	if (c.outer >= 0)
		chunks_close(&c);
	return err;
}

int sl_rule_stats_prune(struct sl_ctx *ctx, const struct sl_rule *r, size_t n)
{
	bool need[SL_RULE_CHUNKS] = {false};
	struct chunks c;
	int err = chunks_open(ctx, &c), base;

	if (err)
		return err;
	base = base_open(ctx);
	for (size_t i = 0; i < n; i++)
		if (r[i].id / SL_RULE_CHUNK < SL_RULE_CHUNKS)
			need[r[i].id / SL_RULE_CHUNK] = true;
	for (__u32 s = 0; s < SL_RULE_CHUNKS; s++)
		if (!need[s] && bpf_map_delete_elem(c.outer, &s) &&
		    errno != ENOENT && !err) {
			err = -errno;
			pr_err("cannot drop the counters of rules %u-%u: %s",
			       s * SL_RULE_CHUNK, (s + 1) * SL_RULE_CHUNK - 1,
			       strerror(errno));
		}
	/* Carried counts of ids no running rule has. */
	if (base >= 0) {
		unsigned char *run = calloc(SL_RULE_MAX, 1);
		__u32 key, next, *prev = NULL;

		for (size_t i = 0; run && i < n; i++)
			if (r[i].id < SL_RULE_MAX)
				run[r[i].id] = 1;
		while (run && !bpf_map_get_next_key(base, prev, &next)) {
			if (next >= SL_RULE_MAX || !run[next])
				bpf_map_delete_elem(base, &next);
			else {
				key = next;
				prev = &key;
			}
		}
		free(run);
		base_drop_if_empty(ctx, base);
		close(base);
	}
	chunks_close(&c);
	return err;
}

int sl_rule_stats_reset(struct sl_ctx *ctx, const __u32 *ids, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	int base = -ENOENT, ncpu = libbpf_num_possible_cpus(), err = 0;
	struct sl_counter *zero = NULL;
	__u32 *cells = NULL, cnt[SL_RULE_CHUNKS] = {0};
	struct chunks c;

	if (!n)
		return 0;
	err = chunks_open(ctx, &c);
	if (err || ncpu <= 0)
		return err ?: -EINVAL;
	/* cells[s * SL_RULE_CHUNK + k]: the ids of chunk s to zero */
	cells = malloc((size_t)SL_RULE_MAX * sizeof(*cells));
	zero = calloc((size_t)SL_RULE_CHUNK * ncpu, sizeof(*zero));
	if (!cells || !zero) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 i = 0; i < n; i++) {
		__u32 s = ids[i] / SL_RULE_CHUNK;

		if (s < SL_RULE_CHUNKS && cnt[s] < SL_RULE_CHUNK)
			cells[s * SL_RULE_CHUNK + cnt[s]++] =
			    ids[i] % SL_RULE_CHUNK;
	}
	for (__u32 s = 0; !err && s < SL_RULE_CHUNKS; s++) {
		__u32 k = cnt[s];
		int fd = k ? chunk_fd(&c, s * SL_RULE_CHUNK) : -ENOENT;

		if (fd >= 0 && bpf_map_update_batch(
				   fd, cells + s * SL_RULE_CHUNK, zero, &k, &o))
			err = -errno;
	}
	base = err ? -ENOENT : base_open(ctx);
	if (base >= 0) {
		for (__u32 i = 0; i < n; i++)
			if (bpf_map_delete_elem(base, &ids[i]) &&
			    errno != ENOENT && !err)
				err = -errno;
		base_drop_if_empty(ctx, base);
		close(base);
	}
	if (err)
		pr_err("cannot reset the counters of new rules: %s",
		       strerror(-err));
out:
	chunks_close(&c);
	free(cells);
	free(zero);
	return err;
}

int sl_rule_stats_read(struct sl_ctx *ctx, const struct sl_rule *r, size_t n,
		       struct sl_counter *out)
{
	int base = base_open(ctx), ncpu = libbpf_num_possible_cpus(), err;
	bool carried = base >= 0;
	struct sl_counter *pc, b;
	struct chunks c;

	memset(out, 0, n * sizeof(*out));
	err = chunks_open(ctx, &c);
	pc = err || ncpu <= 0 ? NULL : calloc(ncpu, sizeof(*pc));
	if (!pc) {
		if (!err)
			chunks_close(&c);
		if (base >= 0)
			close(base);
		return err ?: ncpu <= 0 ? -EINVAL : -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		__u32 id = r[i].id, cell = id % SL_RULE_CHUNK;
		int fd = chunk_fd(&c, id);

		if (fd >= 0 && !bpf_map_lookup_elem(fd, &cell, pc))
			for (int k = 0; k < ncpu; k++) {
				out[i].packets += pc[k].packets;
				out[i].bytes += pc[k].bytes;
			}
		if (carried && !bpf_map_lookup_elem(base, &id, &b)) {
			out[i].packets += b.packets;
			out[i].bytes += b.bytes;
		}
	}
	free(pc);
	chunks_close(&c);
	if (base >= 0)
		close(base);
	return 0;
}

int sl_rule_stats_carry(struct sl_ctx *ctx, int old)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	int outer = sl_map_fd(ctx, SL_MAP_RULE_BASE), prev = base_open(ctx);
	int ncpu = libbpf_num_possible_cpus(), err, fd = -1;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), n = 0, key = 0;
	struct sl_counter *v = NULL, *vals = NULL, b;
	__u32 *ids = NULL;
	struct chunks c;

	err = chunks_open(ctx, &c);
	if (err || outer < 0 || ncpu <= 0) {
		if (!err)
			chunks_close(&c);
		if (prev >= 0)
			close(prev);
		return err ?: outer < 0 ? outer : -EINVAL;
	}
	if (bpf_obj_get_info_by_fd(old, &info, &len))
		err = -errno;
	v = calloc(ncpu, sizeof(*v));
	ids = calloc(info.max_entries + 1, sizeof(*ids));
	vals = calloc(info.max_entries + 1, sizeof(*vals));
	if (!err && (!v || !ids || !vals))
		err = -ENOMEM;
	if (!err)
		err = sl_wait_programs();
	for (__u32 id = 1; !err && id < info.max_entries; id++) {
		struct sl_counter d = {};

		if (bpf_map_lookup_elem(old, &id, v))
			continue;
		for (int k = 0; k < ncpu; k++) {
			d.packets += v[k].packets;
			d.bytes += v[k].bytes;
		}
		if (prev >= 0 && !bpf_map_lookup_elem(prev, &id, &b)) {
			d.packets += b.packets;
			d.bytes += b.bytes;
		}
		if (!d.packets && !d.bytes)
			continue;
		ids[n] = id;
		vals[n++] = d;
	}
	/* A hash of just these (its bucket array is sized by them). */
	if (!err && n) {
		__u32 cnt = n;

		fd = bpf_map_create(BPF_MAP_TYPE_HASH, SL_MAP_RULE_BASE,
				    sizeof(__u32), sizeof(struct sl_counter), n,
				    &mo);
		if (fd < 0 || bpf_map_update_batch(fd, ids, vals, &cnt, &o) ||
		    bpf_map_update_elem(outer, &key, &fd, BPF_ANY))
			err = -errno;
	}
	if (err)
		pr_err("cannot carry the rule counters over: %s",
		       strerror(-err));
	if (fd >= 0)
		close(fd);
	if (prev >= 0)
		close(prev);
	free(v);
	free(ids);
	free(vals);
	chunks_close(&c);
	return err;
}

int sl_stats_zero(struct sl_ctx *ctx)
{
	int fd = sl_map_fd(ctx, SL_MAP_STATS),
	    ncpu = libbpf_num_possible_cpus();
	struct sl_counter *zero;
	int err = 0;

	if (fd < 0)
		return fd;
	if (ncpu <= 0)
		return ncpu ?: -EINVAL;
	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	for (__u32 i = 0; !err && i < SL_HK_MAX * SL_STATS_MAX; i++)
		if (bpf_map_update_elem(fd, &i, zero, BPF_ANY))
			err = -errno;
	free(zero);
	return err;
}
