// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* upgrade: the layout version of the pinned state, and the migrations that
 * carry an older release's state into this one in place.
 *
 * The pinned maps under <bpffs>/sluice carry a layout version (sl_meta,
 * abi.h; layout 1 is the release before the version existed). When
 * sl_open() meets an older layout it runs the steps from that layout to
 * this binary's, under the state's lock. A step:
 *   1. moves the pins of the maps whose shape or format changed into
 *      <dir>/upgrade-v<from>/ (the running programs keep the maps: a pin is
 *      only a name); the steps from an older layout all do this first,
 *      then share one load, one switch and one meta write;
 *   2. loads this release's object, which reuses every unchanged pinned map
 *      (sets, host bitmap, rule counters, links) and creates the changed
 *      ones afresh;
 *   3. converts what the changed maps held that is needed before the
 *      switch (rule definitions, the config blob rebuilt from them);
 *   4. moves every attachment to the new programs (sl_reload: bpf_link
 *      update and filter replace, atomic per hook; all or nothing);
 *   5. carries the old counters into the new maps (after the switch, so
 *      no packet the old programs counted is lost; reason/action counters
 *      of a layout without hooks under SL_HK_UNKNOWN), removes the old
 *      pins and writes the new layout into sl_meta.
 * A failure before 4 completes puts the old pins back: the old release's
 * state is as it was. A run killed part way is resumed by the next one
 * (the upgrade-v<from> folder says where it stopped). A binary that meets
 * a newer layout refuses with one line and changes nothing. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sluice.h"

/* ---- layout 1: the frozen formats of the release before versions ---- */

/* A stored rule definition of layout 1 (the control plane's struct sl_rule
 * of that release, in SL_RULE_DEF_SIZE 256-byte values). */
struct rule_v1 {
	__u32 id, priority;
	__u8 action, dirs, l3, has_src, has_dst, has_proto;
	struct {
		__u8 family, plen, addr[16];
	} src, dst;
	__u8 proto, tcp_mask, tcp_flags;
	__u16 sport_lo, sport_hi, dport_lo, dport_hi;
	__s16 icmp_type, icmp_code;
	__s32 vlan;
	char iface[16];
	__u32 ifindex, rate_pps;
	char comment[128];
	__u32 line, col;
};
_Static_assert(sizeof(struct rule_v1) == 232, "layout 1 rule size");
_Static_assert(__builtin_offsetof(struct rule_v1, rate_pps) == 92,
	       "layout 1 rule_pps offset");
_Static_assert(__builtin_offsetof(struct rule_v1, comment) == 96,
	       "layout 1 comment offset");
#define RULE_V1_VALUE 256

/* The config blob header of layouts 1 and 2 (what follows it differs:
 * layout 3 puts the classifier's nodes and leaf lists in one pool). */
struct blob_hdr_v1 {
	__u32 magic; /* "SLC1" */
	__u32 set_gen;
	__u8 policy[2];
	__u8 defs_gen, pad;
	__u32 nrules;
	__u64 serial;
};
#define BLOB_V1_MAGIC 0x534c4331U

/* sl_stats of layout 1: reason * 2 + action, 9 reasons, 2 actions. */
#define STATS_V1_ACTIONS 2

/* ---- helpers ---- */

static int aside_path(const struct sl_ctx *ctx, __u32 from, const char *name,
		      char *buf, size_t len)
{
	int n =
	    name ? snprintf(buf, len, "%s/upgrade-v%u/%s", ctx->dir, from, name)
		 : snprintf(buf, len, "%s/upgrade-v%u", ctx->dir, from);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int pin_path(const struct sl_ctx *ctx, const char *name, char *buf,
		    size_t len)
{
	int n = snprintf(buf, len, "%s/%s", ctx->dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool exists(const char *path)
{
	return !access(path, F_OK);
}

/* The fd of the map pinned as `name` in the aside folder of a step. */
static int aside_fd(const struct sl_ctx *ctx, __u32 from, const char *name)
{
	char p[700];
	int fd;

	if (aside_path(ctx, from, name, p, sizeof(p)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(p);
	return fd < 0 ? -errno : fd;
}

/* The fd of the inner map in slot `key` of an outer map, -ENOENT if none. */
static int inner_of(int outer, __u32 key)
{
	__u32 id;
	int fd;

	if (bpf_map_lookup_elem(outer, &key, &id))
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

/* ---- layout 1 -> 2 ---- */

static void rule_from_v1(const struct rule_v1 *o, struct sl_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->id = o->id;
	r->priority = o->priority;
	r->action = o->action;
	r->dirs = o->dirs;
	r->l3 = o->l3;
	r->has_src = o->has_src;
	r->has_dst = o->has_dst;
	r->has_proto = o->has_proto;
	r->src.family = o->src.family;
	r->src.plen = o->src.plen;
	memcpy(r->src.addr, o->src.addr, 16);
	r->dst.family = o->dst.family;
	r->dst.plen = o->dst.plen;
	memcpy(r->dst.addr, o->dst.addr, 16);
	r->proto = o->proto;
	r->tcp_mask = o->tcp_mask;
	r->tcp_flags = o->tcp_flags;
	r->sport_lo = o->sport_lo;
	r->sport_hi = o->sport_hi;
	r->dport_lo = o->dport_lo;
	r->dport_hi = o->dport_hi;
	r->icmp_type = o->icmp_type;
	r->icmp_code = o->icmp_code;
	r->vlan = o->vlan;
	memcpy(r->iface, o->iface, sizeof(r->iface));
	r->iface[sizeof(r->iface) - 1] = '\0';
	r->rate_pps = o->rate_pps;
	memcpy(r->comment, o->comment, sizeof(o->comment));
	r->comment[sizeof(o->comment) - 1] = '\0';
}

/* Rule definitions: each slot of the old sl_rule_defs, record by record,
 * into a new inner map of the same slot. */
static int v1_defs(struct sl_ctx *ctx, int old_outer)
{
	unsigned char val[RULE_V1_VALUE];
	int err = 0;

	for (int gen = 0; gen < SL_SET_GENS && !err; gen++) {
		int in = inner_of(old_outer, gen), out;
		__u32 key, next, *prev = NULL;

		if (in == -ENOENT)
			continue;
		if (in < 0)
			return in;
		err = sl_sets_new_slot(ctx, gen, SL_SLOT_DEFS);
		out = err ? err : sl_set_inner_fd(ctx, SL_MAP_RULE_DEFS, gen);
		if (out < 0)
			err = out;
		while (!err && !bpf_map_get_next_key(in, prev, &next)) {
			struct sl_rule_rec rec;
			struct rule_v1 o;
			struct sl_rule r;

			key = next;
			prev = &key;
			if (bpf_map_lookup_elem(in, &key, val))
				continue;
			memcpy(&o, val, sizeof(o));
			rule_from_v1(&o, &r);
			sl_rule_to_rec(&r, &rec);
			if (bpf_map_update_elem(out, &key, &rec, BPF_ANY)) {
				err = -errno;
				pr_err("upgrade: cannot store rule %u: %s", key,
				       strerror(errno));
			}
		}
		close(in);
	}
	return err;
}

/* The config blob: rebuilt by this release from the (converted) rules,
 * with the old one's slots, policy and serial (+1). old_outer: the aside
 * sl_config of the step from layout `from`. */
static int blob_rebuild_from(struct sl_ctx *ctx, int old_outer, __u32 from)
{
	struct blob_hdr_v1 h;
	int fd = inner_of(old_outer, 0);
	void *m;

	if (fd == -ENOENT)
		return 0; /* never applied: nothing to carry */
	if (fd < 0)
		return fd;
	m = mmap(NULL, sizeof(h), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	memcpy(&h, m, sizeof(h));
	munmap(m, sizeof(h));
	if (h.magic != BLOB_V1_MAGIC) {
		pr_err("upgrade: the running config blob is not one of layout "
		       "%u (magic %#x)",
		       from, h.magic);
		return -EIO;
	}
	ctx->set_gen = h.set_gen & 1;
	ctx->defs_gen = h.defs_gen & 1;
	return sl_blob_rebuild(ctx, h.policy, h.serial + 1);
}

static int v1_pre(struct sl_ctx *ctx)
{
	int defs = aside_fd(ctx, 1, SL_MAP_RULE_DEFS);
	int cfg = aside_fd(ctx, 1, SL_MAP_CONFIG);
	int err = 0;

	if (defs >= 0)
		err = v1_defs(ctx, defs);
	if (!err && cfg >= 0)
		err = blob_rebuild_from(ctx, cfg, 1);
	if (defs >= 0)
		close(defs);
	if (cfg >= 0)
		close(cfg);
	return err;
}

/* The reason and action counters of an older layout, which had no hook
 * dimension, into the SL_HK_UNKNOWN cells of the new sl_stats: nothing
 * tells which hook counted them, and no program counts there, so the cells
 * are set (not added to: a resumed run writes the same), and no count is
 * lost or doubled. Read once no program still runs with the old map: what
 * the old programs counted up to their last packet is kept. old_actions:
 * the old map's actions per reason (its cell k is reason k / old_actions,
 * action k % old_actions). */
static int stats_carry(struct sl_ctx *ctx, __u32 from, __u32 old_actions)
{
	int old = aside_fd(ctx, from, SL_MAP_STATS), fd, err;
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct sl_counter *o;

	if (old < 0)
		return old == -ENOENT ? 0 : old;
	fd = sl_map_fd(ctx, SL_MAP_STATS);
	o = calloc(ncpu > 0 ? ncpu : 1, sizeof(*o));
	err = fd < 0 ? fd : !o || ncpu <= 0 ? -ENOMEM : 0;
	if (!err && bpf_obj_get_info_by_fd(old, &info, &len))
		err = -errno;
	if (!err)
		err = sl_wait_programs();
	for (__u32 k = 0; !err && k < info.max_entries; k++) {
		__u32 r = k / old_actions, a = k % old_actions,
		      cell = sl_stats_hidx(SL_HK_UNKNOWN, r, a);

		if (r >= SL_STATS_REASONS || a >= SL_STATS_ACTIONS ||
		    bpf_map_lookup_elem(old, &k, o))
			continue;
		if (bpf_map_update_elem(fd, &cell, o, BPF_EXIST))
			err = -errno;
	}
	if (err)
		pr_err("upgrade: cannot carry the counters over: %s",
		       strerror(-err));
	free(o);
	close(old);
	return err;
}

/* Layout 1's reason and action counters (9 x 2 cells). */
static int v1_post(struct sl_ctx *ctx)
{
	return stats_carry(ctx, 1, STATS_V1_ACTIONS);
}

/* ---- layout 2 -> 3 ---- */

/* The blob's classifier regions changed (one pool for nodes and leaf
 * lists): the blob is rebuilt from the stored rules into the new
 * sl_config before the programs that read the new format move. */
static int v2_pre_blob(struct sl_ctx *ctx)
{
	int cfg = aside_fd(ctx, 2, SL_MAP_CONFIG);
	int err;

	if (cfg == -ENOENT)
		return 0;
	if (cfg < 0)
		return cfg;
	err = blob_rebuild_from(ctx, cfg, 2);
	close(cfg);
	return err;
}

/* The rule counters come in chunks (the new sl_rule_stats): the chunks of
 * the running rules are made before the programs move. */
static int v2_pre_chunks(struct sl_ctx *ctx)
{
	struct sl_rule *r = NULL;
	size_t n = 0;
	int err = sl_ctx_sync_slots(ctx);

	if (!err)
		err = sl_rules_read(ctx, &r, &n);
	if (!err)
		err = sl_rule_stats_fit(ctx, r, n);
	free(r);
	return err;
}

/* Both, the blob first: the rules are read through the slot the rebuilt
 * blob names. */
static int v2_pre(struct sl_ctx *ctx)
{
	int err = v2_pre_blob(ctx);

	return err ? err : v2_pre_chunks(ctx);
}

/* After the switch: the old per-CPU array's counts into sl_rule_base
 * (written by user space only, once no program still runs with the old
 * array: no count is lost or doubled). */
static int v2_post(struct sl_ctx *ctx)
{
	int old = aside_fd(ctx, 2, SL_MAP_RULE_STATS), err;

	if (old < 0)
		return old == -ENOENT ? 0 : old;
	err = sl_rule_stats_carry(ctx, old);
	close(old);
	return err;
}

/* A step: the maps it moves aside and its conversions. */
struct step {
	__u32 from; /* upgrades layout `from` to from + 1 */
	/* Maps whose pins go aside and are made afresh. */
	const char *moved[8];
	int (*pre)(struct sl_ctx *ctx);	 /* before the programs move */
	int (*post)(struct sl_ctx *ctx); /* after */
};

/* ---- layout 5 -> 6 ---- */

/* Layout 5's connection table value: this release's without the windows
 * (its first 64 bytes). */
#define CT_VAL_V5_SIZE 64
_Static_assert(offsetof(struct sl_ct_val, win) == CT_VAL_V5_SIZE,
	       "layout 5's sl_ct_val is this one's head");

/* The layout-5 table's entries into the new sl_ct, windows unknown (0:
 * tracked liberally, as picked-up flows). Before the switch every entry;
 * after it (newer_only) those the old programs touched since, i.e. whose
 * last packet is newer than the copy's. In batches of 4,096. */
static int v5_ct(struct sl_ctx *ctx, bool newer_only)
{
	enum { B = 4096 };
	int old = aside_fd(ctx, 5, SL_MAP_CT), fd = sl_map_fd(ctx, SL_MAP_CT);
	struct sl_ct_key *keys = calloc(B, sizeof(*keys));
	__u8 *vals = calloc(B, CT_VAL_V5_SIZE);
	__u32 batch = 0, n;
	bool first = true, done = false;
	size_t copied = 0;
	int err = 0;

	if (old < 0) {
		free(keys);
		free(vals);
		return old == -ENOENT ? 0 : old;
	}
	if (fd < 0 || !keys || !vals)
		err = fd < 0 ? fd : -ENOMEM;
	while (!err && !done) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		n = B;
		if (bpf_map_lookup_batch(old, first ? NULL : &batch, &batch,
					 keys, vals, &n, &o)) {
			if (errno != ENOENT) {
				err = -errno;
				break;
			}
			done = true;
		}
		first = false;
		for (__u32 i = 0; i < n && !err; i++) {
			struct sl_ct_val v = {}, cur;

			memcpy(&v, vals + (size_t)i * CT_VAL_V5_SIZE,
			       CT_VAL_V5_SIZE);
			if (newer_only &&
			    !bpf_map_lookup_elem(fd, &keys[i], &cur) &&
			    cur.last >= v.last)
				continue;
			if (bpf_map_update_elem(fd, &keys[i], &v, BPF_ANY))
				err = -errno;
			else
				copied++;
		}
	}
	if (err)
		pr_err("upgrade: cannot carry the connection table over: %s",
		       strerror(-err));
	else if (copied)
		pr_info("upgrade: %zu flows carried into the new connection "
			"table%s",
			copied, newer_only ? " (updated since the copy)" : "");
	free(keys);
	free(vals);
	close(old);
	return err;
}

static int v5_pre(struct sl_ctx *ctx)
{
	return v5_ct(ctx, false);
}

static int v5_post(struct sl_ctx *ctx)
{
	return v5_ct(ctx, true);
}

/* ---- layout 6 -> 7 ---- */

/* sl_stats of layouts 2-6: SL_STATS_REASONS x SL_STATS_ACTIONS cells, no
 * hook; carried under SL_HK_UNKNOWN. */
static int v6_post(struct sl_ctx *ctx)
{
	return stats_carry(ctx, 6, SL_STATS_ACTIONS);
}

/* The capacity of a map a step of st[0..n) moves aside (0: none moved). */
static __u32 aside_cap(const struct sl_ctx *ctx, const struct step *st,
		       size_t n, const char *name)
{
	char p[700];

	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < 8 && st[i].moved[j]; j++)
			if (!strcmp(st[i].moved[j], name))
				return aside_path(ctx, st[i].from, name, p,
						  sizeof(p))
					   ? 0
					   : sl_pin_max(p);
	return 0;
}

/* ---- the steps ---- */

static const struct step steps[] = {
    /* Layout 2: sl_stats holds 64 reasons x 8 actions; rule definitions
     * are struct sl_rule_rec (512 bytes); the config blob is rebuilt; new
     * map sl_meta. */
    {1, {SL_MAP_STATS, SL_MAP_RULE_DEFS, SL_MAP_CONFIG}, v1_pre, v1_post},
    /* Layout 3: the config blob's classifier pool (sl_config is made
     * afresh and the blob rebuilt); the rule counters in chunks
     * (sl_rule_stats is an array of per-CPU chunks of SL_RULE_CHUNK rule
     * ids, present where rules are; new map sl_rule_base, carried
     * counts); new map sl_iface_stats (made by the load). */
    {2, {SL_MAP_CONFIG, SL_MAP_RULE_STATS}, v2_pre, v2_post},
    /* Layout 4: new maps sl_ban_v4, sl_ban_v6 (made by the load, empty),
     * new reasons (counter cells that exist and start at 0); the config
     * record (key 0 of the rule definitions) is written by the next
     * apply that has one to write. Nothing moves. */
    {3, {NULL}, NULL, NULL},
    /* Layout 5: new maps sl_synproxy (the protected ports, empty),
     * sl_frags (fragment verdicts, empty) and the events' sl_events,
     * sl_ev_lost, sl_ev_conf and sl_ev_log (empty; events off), made by
     * the load; new reasons (syn-cookie, syn-cookie-invalid, fragment:
     * cells that start at 0); rule records gain `fragment` and `log`
     * (from reserved, 0: unset); the config blob's rule actions may carry
     * fragment conditions (bits 4-6), its rule ids the log bit and its
     * header the fragment settings, which a layout-4 program would
     * misread: the step moves every attachment to this
     * build's programs before anything else, and a layout-4 binary
     * refuses the state. The connection table's cached verdicts are new
     * bits of existing fields (0 in older entries: nothing cached).
     * Nothing moves. */
    {4, {NULL}, NULL, NULL},
    /* Layout 6: the connection table's value grows by the TCP windows
     * (struct sl_ct_win per direction): sl_ct is made afresh with the old
     * one's capacity, its entries converted before the switch (windows
     * unknown: those flows are tracked liberally) and, after it, the
     * entries the old programs touched meanwhile again. New maps made
     * by the load (empty): sl_ev_cap (capture off) and the load
     * balancer's (no service). */
    {5, {SL_MAP_CT}, v5_pre, v5_post},
    /* Layout 7: sl_stats gains the hook dimension (SL_STATS_HOOKS x 64 x
     * 8 cells): it is made afresh and, after the switch, once no program
     * still runs with the old map, the old counts are set into the
     * SL_HK_UNKNOWN cells (no hook can honestly be named for them);
     * the new programs count under their own hook from the switch. */
    {6, {SL_MAP_STATS}, NULL, v6_post},
#ifdef SL_NEXT_LAYOUT
    /* The test build's next release: a new map (made by the load), a
     * reason and an action (counter cells that exist and start at 0). */
    {7, {NULL}, NULL, NULL},
#endif
};

/* Moves the step's pins aside (or, resuming, drops the new maps a killed
 * run left in their place). */
static int pins_aside(struct sl_ctx *ctx, const struct step *st)
{
	char from[700], to[700];

	if (aside_path(ctx, st->from, NULL, to, sizeof(to)))
		return -ENAMETOOLONG;
	if (mkdir(to, 0700) && errno != EEXIST) {
		pr_err("upgrade: cannot create %s: %s", to, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < 8 && st->moved[i]; i++) {
		pin_path(ctx, st->moved[i], from, sizeof(from));
		aside_path(ctx, st->from, st->moved[i], to, sizeof(to));
		if (exists(to)) {
			if (exists(from) && unlink(from))
				return -errno;
		} else if (exists(from) && rename(from, to)) {
			pr_err("upgrade: cannot move %s to %s: %s", from, to,
			       strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Puts the step's pins back where the old release has them. */
static void pins_back(struct sl_ctx *ctx, const struct step *st)
{
	char from[700], to[700];

	for (int i = 0; i < 8 && st->moved[i]; i++) {
		pin_path(ctx, st->moved[i], to, sizeof(to));
		aside_path(ctx, st->from, st->moved[i], from, sizeof(from));
		if (!exists(from))
			continue;
		unlink(to);
		if (rename(from, to))
			pr_err("upgrade: cannot move %s back to %s: %s", from,
			       to, strerror(errno));
	}
	if (st->from == 1) {
		/* Layout 1 has no sl_meta: without it, it is layout 1 again. */
		pin_path(ctx, SL_MAP_META, to, sizeof(to));
		unlink(to);
	}
	aside_path(ctx, st->from, NULL, from, sizeof(from));
	rmdir(from);
}

/* Removes the step's old pins (the old maps go with the last program
 * holding them). */
static void pins_drop(struct sl_ctx *ctx, const struct step *st)
{
	char p[700];

	for (int i = 0; i < 8 && st->moved[i]; i++) {
		aside_path(ctx, st->from, st->moved[i], p, sizeof(p));
		if (unlink(p) && errno != ENOENT)
			pr_warn("upgrade: cannot remove %s: %s", p,
				strerror(errno));
	}
	aside_path(ctx, st->from, NULL, p, sizeof(p));
	if (rmdir(p) && errno != ENOENT)
		pr_warn("upgrade: cannot remove %s: %s", p, strerror(errno));
}

/* Runs steps st[0..n) with one load of this release's object: the pins
 * of every step go aside first (the object's maps must meet no pin of an
 * older shape), then each step's pre, the switch, each step's post. */
static int run_steps(struct sl_ctx *ctx, const struct step *st, size_t n)
{
	size_t moved = 0, aside = 0;
	int err = 0;

	while (aside < n && !err)
		err = pins_aside(ctx, &st[aside++]);
	if (err)
		goto back;
	/* a moved connection table is made with the old one's capacity */
	ctx->skel =
	    sl_xdp_load_ct(ctx->dir, NULL, 0, aside_cap(ctx, st, n, SL_MAP_CT));
	if (!ctx->skel) {
		err = -errno ?: -EIO;
		goto back;
	}
	for (size_t i = 0; i < n && !err; i++)
		if (st[i].pre)
			err = st[i].pre(ctx);
	if (err)
		goto back;
	/* The switch: from here on the new maps count every packet. */
	err = sl_reload(ctx, 0, NULL, &moved);
	if (err)
		goto back;
	for (size_t i = 0; i < n; i++) {
		int e = st[i].post ? st[i].post(ctx) : 0;

		err = err ?: e;
		pins_drop(ctx, &st[i]);
	}
	if (!err)
		err = sl_meta_write(ctx, st[n - 1].from + 1);
	pr_notice("upgraded the state in %s from layout %u to %u (%zu "
		  "attachments moved to the new programs)",
		  ctx->dir, st[0].from, st[n - 1].from + 1, moved);
	return err;
back:
	pr_err("upgrade from layout %u failed; the state stays as the older "
	       "release left it",
	       st[0].from);
	sl_close_skel(ctx);
	while (aside-- > 0)
		pins_back(ctx, &st[aside]);
	return err;
}

/* The steps' folders left by a killed run: the first layout it was
 * upgrading. */
static __u32 interrupted(const struct sl_ctx *ctx)
{
	__u32 from, first = 0;
	struct dirent *de;
	DIR *d = opendir(ctx->dir);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "upgrade-v%u", &from) == 1 && from &&
		    (!first || from < first))
			first = from;
	closedir(d);
	return first;
}

int sl_layout_read(const struct sl_ctx *ctx, __u32 *layout)
{
	struct sl_meta m = {};
	char p[700];
	__u32 key = 0;
	int fd;

	*layout = interrupted(ctx);
	if (*layout)
		return 0;
	pin_path(ctx, SL_MAP_META, p, sizeof(p));
	fd = bpf_obj_get(p);
	if (fd >= 0) {
		if (!bpf_map_lookup_elem(fd, &key, &m) &&
		    m.magic == SL_META_MAGIC)
			*layout = m.layout;
		close(fd);
		/* 0: made by this release's load, not yet written. */
		return 0;
	}
	pin_path(ctx, SL_MAP_STATS, p, sizeof(p));
	if (exists(p))
		*layout = 1; /* pins from before the version existed */
	return 0;
}

int sl_upgrade(struct sl_ctx *ctx, __u32 layout)
{
	if (layout > SL_LAYOUT_VERSION) {
		pr_err(
		    "the state in %s has pinned layout %u, written by a newer "
		    "Sluice; this one (layout %u) changed nothing: use the "
		    "newer binary, or 'sluice reset' to drop all state",
		    ctx->dir, layout, SL_LAYOUT_VERSION);
		return -EPROTO;
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (layout && steps[i].from >= layout)
			return run_steps(ctx, &steps[i],
					 sizeof(steps) / sizeof(steps[0]) - i);
	return 0;
}
