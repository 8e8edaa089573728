/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* skelmaps: what the unit tests of runtime-owned tables share: a member's
 * place in a BPF object's struct (by BTF, for reading the per-CPU context
 * the programs leave behind), the entries of a hash map counted or
 * removed, and the verdict counters' cells that moved, per hook. */
#ifndef SL_TEST_SKELMAPS_H
#define SL_TEST_SKELMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "names.h"
#include "sluice.h"

/* The offset of `member` in struct `type` of the object, and the struct's
 * size; false when either is missing. */
static inline bool skel_btf_member(const struct bpf_object *obj,
				   const char *type, const char *member,
				   size_t *off, size_t *size)
{
	const struct btf *btf = bpf_object__btf(obj);
	int id = btf ? btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT) : -1;
	const struct btf_type *t;
	const struct btf_member *m;

	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	*size = t->size;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), member)) {
			*off = m->offset / 8;
			return true;
		}
	return false;
}

/* The u32 at offset off of CPU 0's value (value_size bytes) at key 0 of
 * the per-CPU array fd: what the last packet on CPU 0 left in the
 * per-CPU context (the tests pin themselves there); 0xffff when it cannot
 * be read. */
static inline __u32 pcpu_u32(int fd, size_t value_size, size_t off)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t sz = (value_size + 7) & ~7UL;
	__u8 *buf = ncpu > 0 ? calloc(ncpu, sz) : NULL;
	__u32 key = 0, v = 0xffff;

	if (buf && off + sizeof(v) <= sz && !bpf_map_lookup_elem(fd, &key, buf))
		memcpy(&v, buf + off, sizeof(v));
	free(buf);
	return v;
}

/* The entries of the hash map fd (keys of at most 64 bytes). */
static inline size_t map_count(int fd)
{
	unsigned char k[64], next[64];
	size_t n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(k, next, sizeof(k));
		prev = k;
		n++;
	}
	return n;
}

/* Removes every entry of the hash map fd (keys of at most 64 bytes). */
static inline void map_flush(int fd)
{
	unsigned char next[64];

	while (!bpf_map_get_next_key(fd, NULL, next))
		bpf_map_delete_elem(fd, next);
}

/* Loads a config given as YAML text (through a temporary file, as `sluice
 * apply -f` reads one) into cfg: 0, or a negative errno (the loader has
 * said why). */
static inline int skel_config_text(const char *yaml, struct sl_config *cfg)
{
	char path[] = "/tmp/sluice_test_XXXXXX";
	size_t n = strlen(yaml);
	int fd = mkstemp(path), err;

	if (fd < 0)
		return -errno;
	err = write(fd, yaml, n) == (ssize_t)n ? 0 : -EIO;
	close(fd);
	if (!err)
		err = sl_config_load(path, cfg);
	unlink(path);
	return err;
}

/* One reading of the verdict counters, per hook (sl_stats_read_hooks_fd). */
struct skel_hstats {
	struct sl_counter tot[SL_STATS_MAX];
	struct sl_counter h[SL_HK_MAX][SL_STATS_MAX];
};

static inline int skel_hstats_read(int stats_fd, struct skel_hstats *s)
{
	return sl_stats_read_hooks_fd(stats_fd, s->tot, s->h);
}

/* True when, from b to a, exactly the cell sl_stats_idx(reason, action)
 * of `hook` moved, by one packet of len bytes, and no cell of any hook
 * else (reason < 0: nothing may move); buf says what moved ("nothing",
 * or "hook/reason/action +P/+BB, ..."). */
static inline bool skel_stats_moved(const struct skel_hstats *b,
				    const struct skel_hstats *a, int hook,
				    int reason, int action, __u64 len,
				    char *buf, size_t size)
{
	size_t n = 0;
	bool ok = true;

	buf[0] = '\0';
	for (int h = 0; h < SL_HK_MAX; h++)
		for (int r = 0; r < SL_R_MAX; r++)
			for (int x = 0; x < SL_ACT_MAX; x++) {
				__u32 i = sl_stats_idx(r, x);
				__u64 dp =
				    a->h[h][i].packets - b->h[h][i].packets;
				__u64 db = a->h[h][i].bytes - b->h[h][i].bytes;
				bool want = reason >= 0 && h == hook &&
					    r == reason && x == action;

				if (dp != (want ? 1u : 0u) ||
				    db != (want ? len : 0))
					ok = false;
				if ((dp || db) && n < size)
					n += snprintf(buf + n, size - n,
						      "%s%s/%s/%s +%llu/+%lluB",
						      n ? ", " : "",
						      sl_hook_name(h),
						      sl_reason_name(r),
						      sl_action_name(x),
						      (unsigned long long)dp,
						      (unsigned long long)db);
			}
	if (!n)
		snprintf(buf, size, "nothing");
	return ok;
}

#ifdef _GNU_SOURCE /* sched_setaffinity */
/* The start of a datapath unit test: libbpf's messages through Sluice's
 * log, root checked (skip without: CI counts a skip as a failure), the
 * process pinned to CPU 0 (per-CPU results are read there). -1 to go on,
 * else the exit status. */
static inline int skel_test_start(const char *name)
{
	cpu_set_t cpus;

	sl_log_hook_libbpf();
	if (sl_check_privileges()) {
		printf("skip - %s: needs root\n", name);
		return 0;
	}
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
		printf("not ok - pin to CPU 0: %s\n", strerror(errno));
		return 1;
	}
	return -1;
}
#endif

#endif /* SL_TEST_SKELMAPS_H */
