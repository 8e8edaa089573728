// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* slots: the registry of slotted maps. Config-owned tables (the sets, the
 * rule definitions) are arrays of SL_SET_GENS slots (ARRAY_OF_MAPS); apply
 * fills a new inner map in the unused slot off to the side and one write
 * of the config blob switches to it. Here: which maps are slotted, their
 * inner maps' shapes, making and dropping a slot's maps, and the map fds
 * by name (sl_map_fd: a slotted map resolves to the slot the ctx works
 * on). Runtime-owned state is never slotted. Below the loader: it needs
 * only the object. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

/* The slotted maps: the sets (by kind of entry, family, direction), and
 * the rule definitions that go with the config blob naming the slot. */
static const char *const set_maps[SL_N_SET_MAPS] = {
    SL_MAP_SET_SRC_V4,	SL_MAP_SET_DST_V4,  SL_MAP_SET_SRC_V6,
    SL_MAP_SET_DST_V6,	SL_MAP_HOST_SRC_V4, SL_MAP_HOST_DST_V4,
    SL_MAP_HOST_SRC_V6, SL_MAP_HOST_DST_V6, SL_MAP_RULE_DEFS,
};

static int set_map_idx(const char *name)
{
	for (int i = 0; i < SL_N_SET_MAPS; i++)
		if (!strcmp(set_maps[i], name))
			return i;
	return -1;
}

const char *sl_slot_name(int i)
{
	return i >= 0 && i < SL_N_SET_MAPS ? set_maps[i] : NULL;
}

bool sl_map_empty(int fd)
{
	unsigned char next[sizeof(struct sl_lpm_v6)];

	return bpf_map_get_next_key(fd, NULL, next) && errno == ENOENT;
}

/* Entry by entry (kernels without batch operations on the map). */
static int walk_keys(int fd, __u32 ksz, __u32 vsz, sl_map_fn fn, void *arg)
{
	unsigned char *k = malloc(ksz), *next = malloc(ksz), *v = malloc(vsz);
	void *prev = NULL;
	int err = k && next && v ? 0 : -ENOMEM;

	while (!err && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(k, next, ksz);
		prev = k;
		if (!bpf_map_lookup_elem(fd, k, v))
			err = fn(arg, k, v);
	}
	free(k);
	free(next);
	free(v);
	return err;
}

/* A batch of MAP_BATCH entries per system call (1,000,000 entries: 245
 * calls). */
#define MAP_BATCH 4096
int sl_map_walk(int fd, sl_map_fn fn, void *arg)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), n;
	unsigned char *k = NULL, *v = NULL, *in = NULL, *out = NULL;
	bool first = true, done = false;
	size_t bsz; /* the batch position: a bucket (hash maps) or a key */
	int err = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	bsz = info.key_size > 8 ? info.key_size : 8;
	k = malloc((size_t)MAP_BATCH * info.key_size);
	v = malloc((size_t)MAP_BATCH * info.value_size);
	in = malloc(bsz);
	out = malloc(bsz);
	if (!k || !v || !in || !out)
		err = -ENOMEM;
	while (!err && !done) {
		n = MAP_BATCH;
		if (bpf_map_lookup_batch(fd, first ? NULL : in, out, k, v, &n,
					 &o)) {
			if (errno != ENOENT) {
				/* no batch support: one by one */
				err = first
					  ? walk_keys(fd, info.key_size,
						      info.value_size, fn, arg)
					  : -errno;
				break;
			}
			done = true; /* the last batch (n may be > 0) */
		}
		first = false;
		memcpy(in, out, bsz);
		for (__u32 i = 0; !err && i < n; i++)
			err = fn(arg, k + (size_t)i * info.key_size,
				 v + (size_t)i * info.value_size);
	}
	free(k);
	free(v);
	free(in);
	free(out);
	return err;
}

struct copy_arg {
	int to;
	size_t had;
};

static int copy_one(void *arg, const void *k, const void *v)
{
	struct copy_arg *a = arg;

	a->had++;
	bpf_map_update_elem(a->to, k, v, BPF_NOEXIST);
	return 0;
}

static int count_one(void *arg, const void *k, const void *v)
{
	(void)k;
	(void)v;
	(*(size_t *)arg)++;
	return 0;
}

size_t sl_map_count_all(int fd)
{
	size_t n = 0;

	sl_map_walk(fd, count_one, &n);
	return n;
}

size_t sl_map_copy(int from, int to, size_t *had)
{
	struct copy_arg a = {.to = to};

	sl_map_walk(from, copy_one, &a);
	if (had)
		*had = a.had;
	return sl_map_count_all(to);
}

/* ---- slots ---- */

/* Shapes of the inner maps, read from the object's templates before load
 * (libbpf frees the templates once the outer maps exist). */
static struct inner_shape {
	enum bpf_map_type type;
	__u32 key_size, value_size, max_entries, flags;
} shapes[SL_N_SET_MAPS];

void sl_sets_capture(struct bpf_object *obj)
{
	for (int i = 0; i < SL_N_SET_MAPS; i++) {
		struct bpf_map *m =
		    bpf_object__find_map_by_name(obj, set_maps[i]);
		struct bpf_map *t = m ? bpf_map__inner_map(m) : NULL;

		if (!t)
			continue;
		shapes[i] = (struct inner_shape){
		    bpf_map__type(t), bpf_map__key_size(t),
		    bpf_map__value_size(t), bpf_map__max_entries(t),
		    bpf_map__map_flags(t)};
	}
}

/* ---- capacities ---- */

#define DEFS_MIN 64 /* rule definitions of a new state's first slot */

__u32 sl_map_max(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

__u32 sl_pin_max(const char *path)
{
	int fd = bpf_obj_get(path);
	__u32 n;

	if (fd < 0)
		return 0;
	n = sl_map_max(fd);
	close(fd);
	return n;
}

const struct sl_limits *sl_ctx_limits(struct sl_ctx *ctx)
{
	struct sl_meta m = {};
	struct sl_limits l = {};
	__u32 key = 0;
	int fd;

	if (ctx->limits_known)
		return &ctx->limits;
	fd = ctx->skel ? sl_map_fd(ctx, SL_MAP_META) : -ENOENT;
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &key, &m) &&
	    m.magic == SL_META_MAGIC)
		l = (struct sl_limits){m.lim_prefixes, m.lim_hosts,
				       m.lim_rules};
	sl_limits_effective(&l, &ctx->limits);
	ctx->limits_known = true;
	return &ctx->limits;
}

int sl_meta_limits_write(struct sl_ctx *ctx, const struct sl_limits *lim)
{
	int fd = sl_map_fd(ctx, SL_MAP_META);
	struct sl_meta m = {};
	__u32 key = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, &m) || m.magic != SL_META_MAGIC)
		m = (struct sl_meta){.magic = SL_META_MAGIC,
				     .layout = SL_LAYOUT_VERSION};
	m.lim_prefixes = lim->prefixes;
	m.lim_hosts = lim->hosts;
	m.lim_rules = lim->rules;
	if (bpf_map_update_elem(fd, &key, &m, BPF_ANY)) {
		pr_err("cannot record the capacities: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Entries of a new inner map for set map i: the set maps take the ctx's
 * capacities, the rule definitions as many as apply asked for (without a
 * ctx, a new state's first slot: a few). */
static __u32 inner_max(struct sl_ctx *ctx, int i)
{
	if (!strcmp(set_maps[i], SL_MAP_RULE_DEFS))
		return !ctx	       ? DEFS_MIN
		       : ctx->defs_cap ? ctx->defs_cap
				       : shapes[i].max_entries;
	if (!ctx)
		return shapes[i].max_entries;
	return i >= 4 ? sl_ctx_limits(ctx)->hosts
		      : sl_ctx_limits(ctx)->prefixes;
}

/* A new, empty inner map for set map i. */
static int inner_create(struct sl_ctx *ctx, int i)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	struct inner_shape *sh = &shapes[i];
	int fd;

	if (!sh->key_size) {
		pr_err("%s: no inner map template captured", set_maps[i]);
		return -EINVAL;
	}
	o.map_flags = sh->flags;
	fd = bpf_map_create(sh->type, set_maps[i], sh->key_size, sh->value_size,
			    inner_max(ctx, i), &o);
	if (fd < 0) {
		fd = -errno;
		pr_err("cannot create a map for %s: %s", set_maps[i],
		       strerror(errno));
	}
	return fd;
}

static int slot_install(struct sl_ctx *ctx, struct bpf_map *outer, int i,
			int gen)
{
	__u32 key = gen;
	int fd = inner_create(ctx, i), err = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(bpf_map__fd(outer), &key, &fd, BPF_ANY)) {
		err = -errno;
		pr_err("cannot install a map in %s: %s", bpf_map__name(outer),
		       strerror(errno));
	}
	close(fd);
	return err;
}

static struct bpf_map *outer_map(struct bpf_object *obj, int i)
{
	return bpf_object__find_map_by_name(obj, set_maps[i]);
}

/* Map i belongs to the slot maps selected by `which`. */
static bool slot_selected(int i, unsigned which)
{
	bool defs = !strcmp(set_maps[i], SL_MAP_RULE_DEFS);

	return defs ? which & SL_SLOT_DEFS : which & SL_SLOT_SETS;
}

int sl_sets_prepare(struct sluice_xdp *skel)
{
	struct bpf_object *obj = skel->obj;

	/* The eight set maps start without inner maps: a slot without one
	 * is an empty set to the datapath, and sl_set_inner_fd() creates
	 * the map on the first write (an empty attach saves four 16 MiB
	 * hash bucket arrays). The rule definitions get theirs now. */
	for (int i = 0; i < SL_N_SET_MAPS; i++) {
		struct bpf_map *m = outer_map(obj, i);
		__u32 key = 0, id;
		int err;

		if (!m)
			return -ENOENT;
		if (!slot_selected(i, SL_SLOT_DEFS))
			continue;
		/* Only when no slot holds one (new state): the running
		 * config may use slot 1 alone. */
		for (key = 0; key < SL_SET_GENS; key++)
			if (!bpf_map_lookup_elem(bpf_map__fd(m), &key, &id))
				break;
		if (key < SL_SET_GENS)
			continue;
		err = slot_install(NULL, m, i, 0);
		if (err)
			return err;
	}
	return 0;
}

static void slot_forget(struct sl_ctx *ctx, int i, int gen)
{
	if (ctx->set_fd[gen][i] > 0)
		close(ctx->set_fd[gen][i]);
	ctx->set_fd[gen][i] = 0;
	ctx->set_cow[gen][i] = false;
}

/* Slot gen of set map i gets the other slot's map when that one is empty:
 * no new map until something is written (sl_set_inner_fd). */
static bool slot_share_empty(struct sl_ctx *ctx, int i, int gen)
{
	struct bpf_map *outer = outer_map(ctx->skel->obj, i);
	int fd = sl_slot_inner_fd(ctx, i, gen ^ 1, false);
	__u32 key = gen;

	if (fd == -ENOENT && outer) {
		/* No map there either: none here until written. */
		if (bpf_map_delete_elem(bpf_map__fd(outer), &key) &&
		    errno != ENOENT)
			return false;
		return true;
	}
	if (fd < 0 || !outer || !sl_map_empty(fd) ||
	    sl_map_max(fd) != inner_max(ctx, i) ||
	    bpf_map_update_elem(bpf_map__fd(outer), &key, &fd, BPF_ANY))
		return false;
	ctx->set_cow[gen][i] = true;
	return true;
}

int sl_sets_new_slot(struct sl_ctx *ctx, int gen, unsigned which)
{
	struct bpf_object *obj = ctx->skel->obj;

	for (int i = 0; i < SL_N_SET_MAPS; i++) {
		int err;

		if (!slot_selected(i, which))
			continue;
		slot_forget(ctx, i, gen);
		if (!slot_selected(i, SL_SLOT_DEFS) &&
		    slot_share_empty(ctx, i, gen))
			continue;
		err = slot_install(ctx, outer_map(obj, i), i, gen);

		if (err)
			return err;
	}
	return 0;
}

int sl_sets_drop_slot(struct sl_ctx *ctx, int gen, unsigned which)
{
	struct bpf_object *obj = ctx->skel->obj;
	int err = 0;

	for (int i = 0; i < SL_N_SET_MAPS; i++) {
		__u32 key = gen;

		if (!slot_selected(i, which))
			continue;
		slot_forget(ctx, i, gen);
		/* A map the other slot shared with this one is its own now. */
		ctx->set_cow[gen ^ 1][i] = false;
		if (bpf_map_delete_elem(bpf_map__fd(outer_map(obj, i)), &key) &&
		    errno != ENOENT && !err) {
			err = -errno;
			pr_err("cannot empty slot %d of %s: %s", gen,
			       set_maps[i], strerror(errno));
		}
	}
	return err;
}

bool sl_set_slotted(const char *name)
{
	return set_map_idx(name) >= 0;
}

/* The fd of set map i in slot gen. A slot without a map (an empty set)
 * gets a new one when `create`, else -ENOENT. */
int sl_slot_inner_fd(struct sl_ctx *ctx, int i, int gen, bool create)
{
	struct bpf_map *outer = outer_map(ctx->skel->obj, i);
	__u32 key = gen, id;
	int fd, err;

	if (i < 0 || gen < 0 || gen >= SL_SET_GENS || !outer)
		return -EINVAL;
	if (ctx->set_cow[gen][i] && create) {
		/* Still the other slot's map: a new one of its own first. */
		slot_forget(ctx, i, gen);
		err = slot_install(ctx, outer, i, gen);
		if (err)
			return err;
	}
	if (ctx->set_fd[gen][i] > 0)
		return ctx->set_fd[gen][i];
	if (bpf_map_lookup_elem(bpf_map__fd(outer), &key, &id)) {
		if (errno != ENOENT || !create)
			return -ENOENT;
		err = slot_install(ctx, outer, i, gen);
		if (err)
			return err;
		if (bpf_map_lookup_elem(bpf_map__fd(outer), &key, &id))
			return -ENOENT;
	}
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	ctx->set_fd[gen][i] = fd;
	return fd;
}

int sl_inner_fd(int outer_fd, __u32 key)
{
	__u32 id;
	int fd;

	if (outer_fd < 0)
		return outer_fd;
	if (bpf_map_lookup_elem(outer_fd, &key, &id))
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

int sl_set_inner_fd(struct sl_ctx *ctx, const char *name, int gen)
{
	return sl_slot_inner_fd(ctx, set_map_idx(name), gen, true);
}

/* A copy of map fd (entries and their counters) in a new map of
 * capacity m's (the capacities changed) in slot gen. Counts the datapath
 * adds to the running map after the copy are not carried. */
static int slot_copy(struct sl_ctx *ctx, int m, int gen, int fd)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	struct inner_shape *sh = &shapes[m];
	unsigned char *k = NULL, *v = NULL, key[64];
	size_t n = 0, cap = 0;
	int out, err = 0;
	__u32 cnt;

	out = sl_slot_inner_fd(ctx, m, gen, true);
	if (out < 0)
		return out;
	if (sh->key_size > sizeof(key))
		return -EINVAL;
	for (void *prev = NULL; !bpf_map_get_next_key(fd, prev, key);
	     prev = k + (n - 1) * sh->key_size) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 4096;
			void *nk = realloc(k, nc * sh->key_size);
			void *nv = nk ? realloc(v, nc * sh->value_size) : NULL;

			if (nk)
				k = nk;
			if (!nk || !nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		memcpy(k + n * sh->key_size, key, sh->key_size);
		if (bpf_map_lookup_elem(fd, key, v + n * sh->value_size))
			continue; /* deleted meanwhile */
		n++;
	}
	cnt = n;
	if (!err && n && bpf_map_update_batch(out, k, v, &cnt, &o))
		err = -errno;
	if (err)
		pr_err("cannot copy %s into a map of the new capacity: %s",
		       set_maps[m], strerror(-err));
	free(k);
	free(v);
	return err;
}

/* Puts the running slot's map m into slot gen as well (a copy when the
 * capacities changed). */
int sl_slot_share(struct sl_ctx *ctx, int m, int gen, int from)
{
	struct bpf_map *outer = outer_map(ctx->skel->obj, m);
	int fd = sl_slot_inner_fd(ctx, m, from, false);
	__u32 key = gen;

	if (!outer)
		return -ENOENT;
	if (fd == -ENOENT) {
		/* The running slot has no map (empty): nor does this one. */
		slot_forget(ctx, m, gen);
		if (bpf_map_delete_elem(bpf_map__fd(outer), &key) &&
		    errno != ENOENT)
			return -errno;
		return 0;
	}
	if (fd < 0)
		return fd;
	if (sl_map_max(fd) != inner_max(ctx, m))
		return slot_copy(ctx, m, gen, fd);
	if (bpf_map_update_elem(bpf_map__fd(outer), &key, &fd, BPF_ANY)) {
		pr_err("cannot install a map in %s: %s", sl_slot_name(m),
		       strerror(errno));
		return -errno;
	}
	slot_forget(ctx, m, gen);
	return 0;
}

int sl_map_fd(struct sl_ctx *ctx, const char *name)
{
	struct bpf_map *map;

	/* A slotted map: the instance of the slot the ctx works on. */
	if (sl_set_slotted(name))
		return sl_set_inner_fd(ctx, name,
				       strcmp(name, SL_MAP_RULE_DEFS)
					   ? ctx->set_gen
					   : ctx->defs_gen);
	map = bpf_object__find_map_by_name(ctx->skel->obj, name);
	if (!map)
		return -ENOENT;
	return bpf_map__fd(map);
}

void sl_close_skel(struct sl_ctx *ctx)
{
	for (int g = 0; g < SL_SET_GENS; g++)
		for (int i = 0; i < SL_N_SET_MAPS; i++) {
			if (ctx->set_fd[g][i] > 0)
				close(ctx->set_fd[g][i]);
			ctx->set_fd[g][i] = 0;
		}
	memset(ctx->set_cow, 0, sizeof(ctx->set_cow));
	if (ctx->skel && !ctx->wrapped)
		sluice_xdp__destroy(ctx->skel);
	ctx->skel = NULL;
}

int sl_cfg_rec_get(struct sl_ctx *ctx, struct sl_cfg_rec *rec)
{
	int fd = sl_map_fd(ctx, SL_MAP_RULE_DEFS);
	__u32 key = SL_CFG_REC_KEY;

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, rec))
		return -errno;
	return rec->magic == SL_CFG_REC_MAGIC ? 0 : -ENOENT;
}

int sl_cfg_rec_put(struct sl_ctx *ctx, const struct sl_cfg_rec *rec)
{
	int fd = sl_map_fd(ctx, SL_MAP_RULE_DEFS);
	__u32 key = SL_CFG_REC_KEY;

	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(fd, &key, rec, BPF_ANY)) {
		pr_err("cannot store the config record: %s", strerror(errno));
		return -errno;
	}
	return 0;
}
