// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* apply: replaces the running config (policy, sets, rules, interfaces) as a
 * whole. The new tables are built off to the side (a new config blob, the
 * set slot the datapath is not using), then one write to sl_config switches
 * the datapath over: every packet sees the old config or the new one,
 * never parts of both. Anything that fails before that write leaves the
 * datapath exactly as it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "classify.h"
#include "config.h"
#include "log.h"
#include "sluice.h"

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Debug output (-v): how long the phase since *t took; restarts *t. */
static void lap(double *t, const char *phase)
{
	double now = mono();

	pr_debug("apply: %s %.1f ms", phase, (now - *t) * 1e3);
	*t = now;
}

/* ---- the running blob ---- */

/* The fd of the running blob map, or -ENOENT before the first apply. */
static int blob_fd(struct sl_ctx *ctx)
{
	__u32 key = 0, id;
	int outer = sl_map_fd(ctx, SL_MAP_CONFIG), fd;

	if (outer < 0)
		return outer;
	if (bpf_map_lookup_elem(outer, &key, &id))
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

const void *sl_blob_map(struct sl_ctx *ctx)
{
	int fd = blob_fd(ctx);
	void *m;

	if (fd < 0)
		return NULL;
	m = mmap(NULL, SL_BLOB_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return m == MAP_FAILED ? NULL : m;
}

void sl_blob_unmap(const void *blob)
{
	if (blob)
		munmap((void *)blob, SL_BLOB_SIZE);
}

int sl_blob_hdr_read(struct sl_ctx *ctx, struct sl_blob_hdr *h)
{
	int fd = blob_fd(ctx);
	void *m;

	memset(h, 0, sizeof(*h));
	if (fd < 0)
		return fd;
	m = mmap(NULL, sizeof(*h), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	memcpy(h, m, sizeof(*h));
	munmap(m, sizeof(*h));
	if (h->magic != SL_BLOB_MAGIC) {
		pr_err("the running config was written by another version of "
		       "Sluice; run 'sluice reset'");
		return -EIO;
	}
	return 0;
}

int sl_ctx_sync_slots(struct sl_ctx *ctx)
{
	struct sl_blob_hdr h;
	int err = sl_blob_hdr_read(ctx, &h);

	ctx->set_gen = ctx->defs_gen = 0;
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	ctx->set_gen = h.set_gen & 1;
	ctx->defs_gen = h.defs_gen & 1;
	return 0;
}

/* ---- reading the running config ---- */

static unsigned sl_hook_bit(const char *hook)
{
	return !strcmp(hook, "xdp") ? SL_HOOK_XDP : SL_HOOK_TC;
}

/* The parts of two configs other than the sets are equal. */
static bool equal_but_sets(const struct sl_config *a, const struct sl_config *b)
{
	struct sl_config x = *a, y = *b;

	x.sets = y.sets = NULL;
	x.n_sets = y.n_sets = 0;
	if (!b->has_ifaces) {
		x.ifaces = y.ifaces = NULL;
		x.n_ifaces = y.n_ifaces = 0;
		x.has_ifaces = y.has_ifaces = false;
	}
	return sl_config_equal(&x, &y);
}

int sl_rule_stats_read(struct sl_ctx *ctx, const struct sl_rule *r, size_t n,
		       struct sl_counter *out)
{
	int fd = sl_map_fd(ctx, SL_MAP_RULE_STATS);
	int ncpu = libbpf_num_possible_cpus();
	struct sl_counter *pc;

	if (fd < 0 || ncpu < 0)
		return fd < 0 ? fd : ncpu;
	pc = calloc(ncpu, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		__u32 id = r[i].id;

		memset(&out[i], 0, sizeof(out[i]));
		if (bpf_map_lookup_elem(fd, &id, pc))
			continue;
		for (int c = 0; c < ncpu; c++) {
			out[i].packets += pc[c].packets;
			out[i].bytes += pc[c].bytes;
		}
	}
	free(pc);
	return 0;
}

static int rule_cmp(const void *a, const void *b)
{
	return sl_rule_order_cmp(a, b);
}

/* Every stored rule definition of the current slot, in rule order. */
int sl_rules_read(struct sl_ctx *ctx, struct sl_rule **out, size_t *n)
{
	int fd = sl_map_fd(ctx, SL_MAP_RULE_DEFS);
	__u32 key, next, *prev = NULL;
	struct sl_rule *v = NULL;
	size_t cnt = 0, cap = 0;
	struct sl_rule_rec rec;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &rec))
			continue; /* deleted meanwhile */
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 64;
			void *nv = realloc(v, nc * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = nc;
		}
		sl_rule_from_rec(&rec, &v[cnt++]);
	}
	qsort(v, cnt, sizeof(*v), rule_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

int sl_config_read(struct sl_ctx *ctx, struct sl_config *cfg, unsigned flags)
{
	struct sl_attachment *att = NULL;
	struct sl_blob_hdr h;
	size_t natt = 0;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	err = sl_blob_hdr_read(ctx, &h);
	if (err && err != -ENOENT)
		return err;
	cfg->policy[SL_RDIR_IN] = err ? SL_ACT_PASS : h.policy[SL_RDIR_IN];
	cfg->policy[SL_RDIR_OUT] = err ? SL_ACT_PASS : h.policy[SL_RDIR_OUT];
	ctx->set_gen = err ? 0 : (int)(h.set_gen & 1);
	ctx->defs_gen = err ? 0 : (int)(h.defs_gen & 1);

	err = sl_rules_read(ctx, &cfg->rules, &cfg->n_rules);
	if (!err && !(flags & SL_READ_NO_SETS))
		err = sl_set_list(ctx, 0, &cfg->sets, &cfg->n_sets);
	if (!err && !(flags & SL_READ_NO_IFACES)) {
		err = sl_attachments(ctx, &att, &natt);
		cfg->has_ifaces = true;
		cfg->ifaces = calloc(natt ? natt : 1, sizeof(*cfg->ifaces));
		if (!err && !cfg->ifaces)
			err = -ENOMEM;
		for (size_t i = 0; !err && i < natt; i++) {
			struct sl_cfg_iface *f = NULL;

			for (size_t j = 0; j < cfg->n_ifaces; j++)
				if (!strcmp(cfg->ifaces[j].name, att[i].ifname))
					f = &cfg->ifaces[j];
			if (!f) {
				f = &cfg->ifaces[cfg->n_ifaces++];
				snprintf(f->name, sizeof(f->name), "%.15s",
					 att[i].ifname);
			}
			f->hooks |= sl_hook_bit(att[i].hook);
			if (!strcmp(att[i].hook, "xdp"))
				f->mode = !strcmp(att[i].mode, "generic")
					      ? SL_MODE_GENERIC
					      : SL_MODE_NATIVE;
		}
		free(att);
	}
	if (err)
		sl_config_free(cfg);
	return err;
}

/* ---- writing ---- */

int sl_rules_assign_ids(struct sl_rule *r, size_t n)
{
	unsigned char *used = calloc(SL_RULE_MAX, 1);
	__u32 next = 1;

	if (!used)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (r[i].id && r[i].id < SL_RULE_MAX)
			used[r[i].id] = 1;
	for (size_t i = 0; i < n; i++) {
		if (r[i].id)
			continue;
		while (next < SL_RULE_MAX && used[next])
			next++;
		if (next >= SL_RULE_MAX) {
			free(used);
			pr_err("too many rules: at most %u", SL_RULE_MAX - 1);
			return -EINVAL;
		}
		r[i].id = next;
		used[next] = 1;
	}
	free(used);
	return 0;
}

/* Resolves rule interfaces to ifindexes (they must exist now). */
static int resolve_ifaces(struct sl_rule *r, size_t n)
{
	char msg[160];

	for (size_t i = 0; i < n; i++) {
		if (sl_rule_resolve(&r[i], msg, sizeof(msg))) {
			pr_err("rule %u: %s", r[i].id, msg);
			return -EINVAL;
		}
	}
	return 0;
}

/* Two configs have the same set entries (in any order). */
static bool sets_equal(const struct sl_config *a, const struct sl_config *b)
{
	struct sl_config x = {0}, y = {0};

	x.sets = a->sets;
	x.n_sets = a->n_sets;
	y.sets = b->sets;
	y.n_sets = b->n_sets;
	return sl_config_equal(&x, &y);
}

/* Writes the config's set entries into the slot ctx->set_gen; maps equal
 * to the running slot's (cur's entries) are shared with it. */
static int sets_fill(struct sl_ctx *ctx, const struct sl_config *cfg,
		     const struct sl_config *cur)
{
	return sl_sets_fill(ctx, cfg->sets, cfg->n_sets, cur->sets,
			    cur->n_sets);
}

static int defs_fill(struct sl_ctx *ctx, const struct sl_rule *r, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	int fd = sl_map_fd(ctx, SL_MAP_RULE_DEFS), err = 0;
	unsigned char *vals;
	__u32 *keys, count = n;

	if (fd < 0)
		return fd;
	if (!n)
		return 0;
	keys = malloc(n * sizeof(*keys));
	vals = calloc(n, SL_RULE_DEF_SIZE);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		keys[i] = r[i].id;
		sl_rule_to_rec(&r[i], (void *)(vals + i * SL_RULE_DEF_SIZE));
	}
	if (bpf_map_update_batch(fd, keys, vals, &count, &o)) {
		err = -errno;
		pr_err("cannot store the rule definitions: %s",
		       strerror(errno));
	}
out:
	free(keys);
	free(vals);
	return err;
}

/* Zeroes the counters of rules that are new in this config, so a reused id
 * does not inherit a removed rule's counts: one batch write. */
static int counters_reset(struct sl_ctx *ctx, const struct sl_rule *r, size_t n,
			  const struct sl_rule *old, size_t nold)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	int fd = sl_map_fd(ctx, SL_MAP_RULE_STATS);
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	unsigned char *was = calloc(SL_RULE_MAX, 1);
	struct sl_counter *zero = NULL;
	__u32 *ids = NULL, count = 0;

	if (fd < 0 || ncpu < 0) {
		free(was);
		return fd < 0 ? fd : ncpu;
	}
	ids = malloc((n ? n : 1) * sizeof(*ids));
	if (!was || !ids) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nold; i++)
		if (old[i].id < SL_RULE_MAX)
			was[old[i].id] = 1;
	for (size_t i = 0; i < n; i++)
		if (r[i].id < SL_RULE_MAX && !was[r[i].id])
			ids[count++] = r[i].id;
	if (!count)
		goto out;
	zero = calloc((size_t)count * ncpu, sizeof(*zero));
	if (!zero) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_update_batch(fd, ids, zero, &count, &o)) {
		err = -errno;
		pr_err("cannot reset the counters of new rules: %s",
		       strerror(errno));
	}
out:
	free(was);
	free(ids);
	free(zero);
	return err;
}

/* A new blob map, filled and mapped; returns its fd. */
static int blob_build(const struct sl_config *cfg, const struct sl_rule *rules,
		      size_t n, int gen, int defs, __u64 serial,
		      struct sl_cls_stats *st)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	struct sl_blob_hdr *h;
	void *m;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_blob", 4, SL_BLOB_SIZE, 1,
			    &o);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot create a config blob (%u MiB): %s",
		       SL_BLOB_SIZE >> 20, strerror(errno));
		return err;
	}
	m = mmap(NULL, SL_BLOB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		pr_err("cannot map the config blob: %s", strerror(errno));
		close(fd);
		return err;
	}
	err = sl_cls_build(rules, n, m, st);
	if (!err) {
		h = m;
		h->magic = SL_BLOB_MAGIC;
		h->set_gen = gen;
		h->defs_gen = defs;
		h->policy[SL_RDIR_IN] = cfg->policy[SL_RDIR_IN];
		h->policy[SL_RDIR_OUT] = cfg->policy[SL_RDIR_OUT];
		h->serial = serial;
	}
	munmap(m, SL_BLOB_SIZE);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static const struct sl_cfg_iface *cfg_iface(const struct sl_config *c,
					    const char *name)
{
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (!strcmp(c->ifaces[i].name, name))
			return &c->ifaces[i];
	return NULL;
}

/* Attaches and detaches so that the interfaces match cfg's. */
static int ifaces_sync(struct sl_ctx *ctx, const struct sl_config *cur,
		       const struct sl_config *cfg, struct sl_apply_report *rep)
{
	int err = 0;

	for (size_t i = 0; i < cfg->n_ifaces && !err; i++) {
		const struct sl_cfg_iface *want = &cfg->ifaces[i];
		const struct sl_cfg_iface *have = cfg_iface(cur, want->name);

		if (have && have->hooks == want->hooks &&
		    (!(want->hooks & SL_HOOK_XDP) || have->mode == want->mode))
			continue;
		if (have && (have->hooks & SL_HOOK_XDP) &&
		    (want->hooks & SL_HOOK_XDP) && have->mode != want->mode)
			err = sl_detach(ctx, want->name);
		if (!err)
			err = sl_attach(ctx, want->name, want->mode,
					want->hooks, NULL);
		if (!err)
			rep->ifaces_changed++;
	}
	for (size_t i = 0; i < cur->n_ifaces && !err; i++) {
		if (cfg_iface(cfg, cur->ifaces[i].name))
			continue;
		err = sl_detach(ctx, cur->ifaces[i].name);
		if (!err)
			rep->ifaces_changed++;
	}
	return err;
}

int sl_apply(struct sl_ctx *ctx, struct sl_config *cfg, unsigned flags,
	     struct sl_apply_report *rep)
{
	struct sl_apply_report dummy;
	struct sl_config cur;
	struct sl_blob_hdr h;
	bool keep_sets, had_blob;
	int err, old_gen, gen, old_defs = 0, defs, fd = -1, outer;
	double t = mono();
	__u32 key = 0;

	if (!rep)
		rep = &dummy;
	memset(rep, 0, sizeof(*rep));
	err = sl_rules_assign_ids(cfg->rules, cfg->n_rules);
	if (!err)
		err = resolve_ifaces(cfg->rules, cfg->n_rules);
	if (err)
		return err;
	qsort(cfg->rules, cfg->n_rules, sizeof(*cfg->rules), rule_cmp);

	lap(&t, "ids and order");
	err = sl_config_read(
	    ctx, &cur,
	    ((flags & SL_APPLY_KEEP_SETS) ? SL_READ_NO_SETS : 0) |
		(cfg->has_ifaces ? 0 : SL_READ_NO_IFACES));
	if (err)
		return err;
	lap(&t, "read the running config");
	had_blob = !sl_blob_hdr_read(ctx, &h);
	old_gen = ctx->set_gen;
	keep_sets = (flags & SL_APPLY_KEEP_SETS) || sets_equal(&cur, cfg);
	if (flags & SL_APPLY_KEEP_SETS) {
		/* The rule verbs pass no sets; the running ones stay. */
		cfg->n_sets = 0;
	}
	rep->rules = cfg->n_rules;
	rep->set_entries = keep_sets ? cur.n_sets : cfg->n_sets;
	if (had_blob && keep_sets && equal_but_sets(&cur, cfg)) {
		rep->unchanged = true;
		goto out;
	}
	if (flags & SL_APPLY_DRY_RUN) {
		rep->dry_run = true;
		goto out;
	}

	/* Off to the side: new rule definitions in the other defs slot, new
	 * sets in the other set slot (unless they are unchanged: then the
	 * running set maps stay where they are), a new blob. */
	lap(&t, "compare");
	old_defs = ctx->defs_gen;
	defs = old_defs ^ 1;
	gen = keep_sets ? old_gen : old_gen ^ 1;
	err = sl_sets_new_slot(ctx, defs, SL_SLOT_DEFS);
	if (!err && !keep_sets)
		err = sl_sets_new_slot(ctx, gen, SL_SLOT_SETS);
	ctx->defs_gen = defs;
	ctx->set_gen = gen;
	if (!err && !keep_sets)
		err = sets_fill(ctx, cfg, &cur);
	lap(&t, "new slots and sets");
	if (!err)
		err = defs_fill(ctx, cfg->rules, cfg->n_rules);
	lap(&t, "rule definitions");
	if (!err)
		err = counters_reset(ctx, cfg->rules, cfg->n_rules, cur.rules,
				     cur.n_rules);
	if (err)
		goto undo;
	lap(&t, "rule counters");
	fd = blob_build(cfg, cfg->rules, cfg->n_rules, gen, defs,
			had_blob ? h.serial + 1 : 1, &rep->cls);
	if (fd < 0) {
		err = fd;
		goto undo;
	}

	lap(&t, "blob (classifier build)");
	/* The switch: one map write. The kernel returns once no program
	 * still runs with the old blob. */
	outer = sl_map_fd(ctx, SL_MAP_CONFIG);
	if (outer < 0 || bpf_map_update_elem(outer, &key, &fd, BPF_ANY)) {
		err = outer < 0 ? outer : -errno;
		pr_err("cannot switch to the new config: %s", strerror(-err));
		goto undo;
	}
	close(fd);
	fd = -1;
	rep->swapped = true;

	lap(&t, "switch");
	/* The old slots are unused now. */
	err = sl_sets_drop_slot(ctx, old_defs, SL_SLOT_DEFS);
	if (!err && !keep_sets)
		err = sl_sets_drop_slot(ctx, old_gen, SL_SLOT_SETS);
	/* A config without interfaces leaves the attachments alone. */
	if (!err && cfg->has_ifaces)
		err = ifaces_sync(ctx, &cur, cfg, rep);
	lap(&t, "drop old slots, interfaces");
	goto out;
undo:
	ctx->set_gen = old_gen;
	ctx->defs_gen = old_defs;
	sl_sets_drop_slot(ctx, old_defs ^ 1, SL_SLOT_DEFS);
	if (!keep_sets)
		sl_sets_drop_slot(ctx, old_gen ^ 1, SL_SLOT_SETS);
out:
	if (fd >= 0)
		close(fd);
	sl_config_free(&cur);
	return err;
}
