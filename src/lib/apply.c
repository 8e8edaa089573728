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

static int rule_cmp(const void *a, const void *b)
{
	return sl_rule_order_cmp(a, b);
}

/* The config's record of the current defs slot into cfg (none: nothing). */
static int cfg_rec_read(struct sl_ctx *ctx, struct sl_config *cfg)
{
	struct sl_cfg_rec rec;
	int err = sl_cfg_rec_get(ctx, &rec);

	if (err)
		return err == -ENOENT ? 0 : err;
	for (__u32 i = 0; i < rec.n_mgmt && i < SL_MGMT_MAX; i++) {
		struct sl_prefix *p = &cfg->mgmt[cfg->n_mgmt++];

		p->family = rec.mgmt[i].family;
		p->plen = rec.mgmt[i].plen;
		memcpy(p->addr, rec.mgmt[i].addr, sizeof(p->addr));
	}
	cfg->sets_digest = rec.sets_digest;
	return 0;
}

/* Writes cfg's record, with the digest of the sets that go live, into the
 * current defs slot. */
static int cfg_rec_write(struct sl_ctx *ctx, const struct sl_config *cfg,
			 __u64 sets_digest)
{
	struct sl_cfg_rec rec = {.magic = SL_CFG_REC_MAGIC};

	rec.n_mgmt = cfg->n_mgmt;
	rec.sets_digest = sets_digest;
	for (size_t i = 0; i < cfg->n_mgmt; i++) {
		rec.mgmt[i].family = cfg->mgmt[i].family;
		rec.mgmt[i].plen = cfg->mgmt[i].plen;
		memcpy(rec.mgmt[i].addr, cfg->mgmt[i].addr,
		       sizeof(rec.mgmt[i].addr));
	}
	return sl_cfg_rec_put(ctx, &rec);
}

/* Stores digest in the running slot's record when it has one (an update:
 * it never inserts into a map sized for the rules alone). */
static int update_digest(struct sl_ctx *ctx, __u64 digest)
{
	struct sl_cfg_rec rec;
	int err = sl_cfg_rec_get(ctx, &rec);

	if (err)
		return err;
	rec.sets_digest = digest;
	return sl_cfg_rec_put(ctx, &rec);
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
		if (key == SL_CFG_REC_KEY)
			continue; /* the config's record (sl_cfg_rec_read) */
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

/* The capacity runtime map i (enum sl_rt_map) has (0: no such map). */
static __u32 rt_have(struct sl_ctx *ctx, int i)
{
	int fd = sl_map_fd(ctx, sl_rt_map_name(i));

	return fd < 0 ? 0 : sl_map_max(fd);
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
	cfg->limits = *sl_ctx_limits(ctx);
	cfg->policy[SL_RDIR_IN] = err ? SL_ACT_PASS : h.policy[SL_RDIR_IN];
	cfg->policy[SL_RDIR_OUT] = err ? SL_ACT_PASS : h.policy[SL_RDIR_OUT];
	if (!err) {
		sl_blob_ct_read(ctx, &cfg->ct);
		sl_blob_frag_read(ctx, &cfg->frag);
	}
	/* The capacities of the rate limits' and fragments' tables are their
	 * maps' (0: none, the default). */
	cfg->rl.max = rt_have(ctx, SL_RT_RL);
	cfg->frag.max = rt_have(ctx, SL_RT_FRAGS);
	ctx->set_gen = err ? 0 : (int)(h.set_gen & 1);
	ctx->defs_gen = err ? 0 : (int)(h.defs_gen & 1);

	err = sl_rules_read(ctx, &cfg->rules, &cfg->n_rules);
	if (!err)
		err = cfg_rec_read(ctx, cfg);
	if (!err)
		err = sl_syn_read(ctx, &cfg->syn);
	if (!err)
		err = sl_ev_read(ctx, &cfg->ev);
	if (!err)
		err = sl_lb_read(ctx, &cfg->lb);
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

			/* A hook whose interface is gone (deleted, or made
			 * again: the new one is not attached) runs nothing:
			 * it is not part of the running config. */
			if (!att[i].ifindex)
				continue;
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

/* A rule's match and action as bytes (its canonical record without id,
 * priority and comment), for finding a running rule's twin. */
struct match_key {
	struct sl_rule_rec rec;
	__u32 idx;
};

static void match_key(const struct sl_rule *r, struct match_key *k, __u32 idx)
{
	sl_rule_to_rec(r, &k->rec);
	k->rec.id = 0;
	k->rec.priority = 0;
	memset(k->rec.comment, 0, sizeof(k->rec.comment));
	k->idx = idx;
}

static int match_key_cmp(const void *a, const void *b)
{
	const struct match_key *x = a, *y = b;
	int c = memcmp(&x->rec, &y->rec, sizeof(x->rec));

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

int sl_rules_assign_ids(struct sl_rule *r, size_t n, const struct sl_rule *old,
			size_t nold)
{
	/* 1: taken by this config; 2: a running rule's (counters of its own) */
	unsigned char *used = calloc(SL_RULE_MAX, 1);
	struct match_key *ok = NULL, k;
	__u32 next = 1;
	int err = 0;

	if (!used)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (r[i].id && r[i].id < SL_RULE_MAX)
			used[r[i].id] = 1;
	/* A rule without an id takes the id of a running rule with the same
	 * match and action (so it keeps its counters), if no rule of this
	 * config names that id. */
	if (nold) {
		ok = malloc(nold * sizeof(*ok));
		if (!ok) {
			free(used);
			return -ENOMEM;
		}
		for (size_t i = 0; i < nold; i++)
			match_key(&old[i], &ok[i], i);
		qsort(ok, nold, sizeof(*ok), match_key_cmp);
	}
	for (size_t i = 0; i < n && nold; i++) {
		size_t lo = 0, hi = nold;

		if (r[i].id)
			continue;
		match_key(&r[i], &k, 0);
		while (lo < hi) { /* the first record >= k */
			size_t mid = (lo + hi) / 2;

			if (memcmp(&ok[mid].rec, &k.rec, sizeof(k.rec)) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < nold && !memcmp(&ok[lo].rec, &k.rec, sizeof(k.rec));
		     lo++) {
			__u32 id = old[ok[lo].idx].id;

			if (id && id < SL_RULE_MAX && used[id] != 1) {
				r[i].id = id;
				used[id] = 1;
				break;
			}
		}
	}
	/* The others take the lowest ids neither this config nor a running
	 * rule holds: an id never passes one rule's counters to another. */
	for (size_t i = 0; i < nold; i++)
		if (old[i].id < SL_RULE_MAX && !used[old[i].id])
			used[old[i].id] = 2;
	for (int pass = 0; pass < 2 && !err; pass++) {
		next = 1;
		for (size_t i = 0; i < n; i++) {
			if (r[i].id)
				continue;
			while (next < SL_RULE_MAX && used[next] &&
			       (pass == 0 || used[next] == 1))
				next++;
			if (next >= SL_RULE_MAX)
				break; /* pass 1 takes running rules' ids */
			r[i].id = next;
			used[next] = 1;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!r[i].id) {
			pr_err("too many rules: at most %u", SL_RULE_MAX - 1);
			err = -EINVAL;
			break;
		}
	free(ok);
	free(used);
	return err;
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

/* ---- redirect targets ----
 * A redirect rule names its target by a slot of the redirect maps
 * (SL_MAP_REDIRECT for XDP, SL_MAP_REDIRECT_IFX for TC, abi.h). A slot
 * holding the target's ifindex is reused; otherwise a free one (ifindex 0)
 * is filled before the switch. The running config only names filled
 * slots, so it never sees one change; after the switch the slots the new
 * config does not name are emptied. */

static int redirect_read(struct sl_ctx *ctx, __u32 ifx[SL_REDIRECT_SLOTS],
			 int *ifx_fd, int *dev_fd)
{
	*ifx_fd = sl_map_fd(ctx, SL_MAP_REDIRECT_IFX);
	*dev_fd = sl_map_fd(ctx, SL_MAP_REDIRECT);
	if (*ifx_fd < 0 || *dev_fd < 0) {
		pr_err("cannot find the redirect maps (%s, %s)",
		       SL_MAP_REDIRECT, SL_MAP_REDIRECT_IFX);
		return -ENOENT;
	}
	for (__u32 s = 0; s < SL_REDIRECT_SLOTS; s++)
		if (bpf_map_lookup_elem(*ifx_fd, &s, &ifx[s]))
			ifx[s] = 0;
	return 0;
}

/* filled (or NULL): marks the slots it fills, which were free. */
static int redirect_slots_fill(struct sl_ctx *ctx, struct sl_rule *r, size_t n,
			       bool *filled)
{
	__u32 ifx[SL_REDIRECT_SLOTS];
	int ifx_fd, dev_fd, err = 0;

	bool any = false;

	for (size_t i = 0; i < n; i++) {
		r[i].to_slot = 0;
		any |= r[i].action == SL_RACT_REDIRECT;
	}
	if (!any)
		return 0;
	err = redirect_read(ctx, ifx, &ifx_fd, &dev_fd);
	for (size_t i = 0; i < n && !err; i++) {
		struct bpf_devmap_val v = {.ifindex = r[i].to_ifindex};
		__u32 s, free_s = 0;

		/* (0: the target is missing; only a rebuild keeps such a
		 * rule, with no slot: the datapath drops as 'abort'.) */
		if (r[i].action != SL_RACT_REDIRECT || !r[i].to_ifindex)
			continue;
		for (s = 1; s < SL_REDIRECT_SLOTS; s++) {
			if (ifx[s] == r[i].to_ifindex)
				break;
			if (!ifx[s] && !free_s)
				free_s = s;
		}
		if (s < SL_REDIRECT_SLOTS) {
			r[i].to_slot = s;
			continue;
		}
		if (!free_s) {
			pr_err("rule %u: to: more than %u redirect target "
			       "interfaces",
			       r[i].id, SL_REDIRECT_SLOTS - 1);
			return -EINVAL;
		}
		/* The DEVMAP refuses an interface that cannot be a target. */
		if (bpf_map_update_elem(dev_fd, &free_s, &v, BPF_ANY) ||
		    bpf_map_update_elem(ifx_fd, &free_s, &v.ifindex, BPF_ANY)) {
			err = -errno;
			pr_err("rule %u: to: cannot use '%s' as a redirect "
			       "target: %s",
			       r[i].id, r[i].to, strerror(-err));
			bpf_map_delete_elem(dev_fd, &free_s);
			return err == -EINVAL ? -EINVAL : err;
		}
		ifx[free_s] = v.ifindex;
		r[i].to_slot = free_s;
		if (filled)
			filled[free_s] = true;
	}
	return err;
}

/* Every redirect target of r holds a slot with its current ifindex (an
 * interface re-created under the same name gets a new one: then an apply
 * of the same config is no no-op, it fills a slot again). */
static bool redirect_slots_current(struct sl_ctx *ctx, const struct sl_rule *r,
				   size_t n)
{
	__u32 ifx[SL_REDIRECT_SLOTS];
	int ifx_fd, dev_fd;
	bool read = false;

	for (size_t i = 0; i < n; i++) {
		__u32 s;

		if (r[i].action != SL_RACT_REDIRECT)
			continue;
		if (!read && redirect_read(ctx, ifx, &ifx_fd, &dev_fd))
			return false;
		read = true;
		for (s = 1; s < SL_REDIRECT_SLOTS; s++)
			if (ifx[s] == r[i].to_ifindex)
				break;
		if (s == SL_REDIRECT_SLOTS)
			return false;
	}
	return true;
}

/* Empties the slots marked (what a fill of an apply that does not go live
 * filled: free before, so no running rule names them). */
static void redirect_slots_undo(struct sl_ctx *ctx, const bool *filled)
{
	__u32 ifx[SL_REDIRECT_SLOTS], zero = 0;
	int ifx_fd, dev_fd;

	if (redirect_read(ctx, ifx, &ifx_fd, &dev_fd))
		return;
	for (__u32 s = 1; s < SL_REDIRECT_SLOTS; s++) {
		if (!filled[s])
			continue;
		bpf_map_update_elem(ifx_fd, &s, &zero, BPF_ANY);
		bpf_map_delete_elem(dev_fd, &s);
	}
}

/* After the switch: empties the slots the running rules do not name. */
static void redirect_slots_prune(struct sl_ctx *ctx, const struct sl_rule *r,
				 size_t n)
{
	__u32 ifx[SL_REDIRECT_SLOTS], zero = 0;
	bool used[SL_REDIRECT_SLOTS] = {false};
	int ifx_fd, dev_fd;

	if (redirect_read(ctx, ifx, &ifx_fd, &dev_fd))
		return;
	for (size_t i = 0; i < n; i++)
		if (r[i].action == SL_RACT_REDIRECT)
			used[r[i].to_slot] = true;
	for (__u32 s = 1; s < SL_REDIRECT_SLOTS; s++) {
		if (!ifx[s] || used[s])
			continue;
		bpf_map_update_elem(ifx_fd, &s, &zero, BPF_ANY);
		bpf_map_delete_elem(dev_fd, &s);
	}
}

/* ---- rate limit parameters ----
 * A ratelimit rule names its bucket parameters by a slot of
 * SL_MAP_RL_PARAMS (abi.h), the redirect targets' scheme: a slot holding
 * the rule's parameters is reused (its buckets go on); otherwise a free one
 * (rule_id 0) is filled before the switch, with a new epoch, so the rule's
 * buckets start fresh. After the switch the slots the new config does not
 * name are emptied. */

/* The parameters of r's packet bucket (bytes false) or byte bucket. A rule
 * with both rates has both: the packet slot names the byte slot (and_slot,
 * set by the caller). */
static void rl_params_of(const struct sl_rule *r, bool bytes,
			 struct sl_rl_params *p)
{
	bool two = r->rate_pps && r->rate_bytes;
	uint64_t rate = bytes ? r->rate_bytes : r->rate_pps;
	uint64_t burst = two && bytes ? r->burst_bytes : r->burst;

	if (!burst)
		burst = rate;
	memset(p, 0, sizeof(*p));
	p->rule_id = r->id;
	p->flags = bytes ? SL_RL_F_BYTES : 0;
	p->per = r->rl_per;
	p->plen4 = r->rl_plen4 ? r->rl_plen4 : 32;
	p->plen6 = r->rl_plen6 ? r->rl_plen6 : 128;
	p->rate = rate;
	p->cap = burst * SL_RL_SCALE;
	p->fill_ns = (p->cap + rate - 1) / rate;
	p->ban_ns = (uint64_t)r->ban_secs * SL_RL_SCALE;
}

/* The same parameters, epochs aside. */
static bool rl_params_same(const struct sl_rl_params *a,
			   const struct sl_rl_params *b)
{
	struct sl_rl_params x = *a, y = *b;

	x.epoch = y.epoch = 0;
	return !memcmp(&x, &y, sizeof(x));
}

static int rl_read(struct sl_ctx *ctx, struct sl_rl_params *v, int *fd)
{
	*fd = sl_map_fd(ctx, SL_MAP_RL_PARAMS);
	if (*fd < 0) {
		pr_err("cannot find the rate limit map %s", SL_MAP_RL_PARAMS);
		return -ENOENT;
	}
	for (__u32 s = 0; s < SL_RL_SLOTS; s++)
		if (bpf_map_lookup_elem(*fd, &s, &v[s]))
			memset(&v[s], 0, sizeof(v[s]));
	return 0;
}

/* The slot holding r's parameters of one bucket (bytes, and_slot as
 * rl_params_of), or 0. */
static __u32 rl_slot_find(const struct sl_rl_params *v, const struct sl_rule *r,
			  bool bytes, __u32 and_slot)
{
	struct sl_rl_params want;

	rl_params_of(r, bytes, &want);
	want.and_slot = and_slot;
	for (__u32 s = 1; s < SL_RL_SLOTS; s++)
		if (v[s].rule_id && rl_params_same(&v[s], &want))
			return s;
	return 0;
}

/* The slot r's rules stage names (its packet bucket's when it has both
 * rates; that slot's and_slot the byte bucket's), or 0 when the slots do
 * not hold r's parameters. */
static __u32 rl_rule_slot(const struct sl_rl_params *v, const struct sl_rule *r)
{
	__u32 and_slot = 0;

	if (r->rate_pps && r->rate_bytes) {
		and_slot = rl_slot_find(v, r, true, 0);
		if (!and_slot)
			return 0;
	}
	return rl_slot_find(v, r, !r->rate_pps, and_slot);
}

/* The slot holding r's parameters of one bucket, a free one filled with
 * them (a new epoch: fresh buckets) when none does; 0 on error. */
static __u32 rl_slot_get(struct sl_rl_params *v, int fd, __u32 *epoch,
			 const struct sl_rule *r, bool bytes, __u32 and_slot,
			 const char *src, bool *filled)
{
	__u32 s = rl_slot_find(v, r, bytes, and_slot);

	if (s)
		return s;
	for (s = 1; s < SL_RL_SLOTS && v[s].rule_id; s++)
		;
	if (s == SL_RL_SLOTS) {
		sl_err_at(src, r->pos.line, r->pos.col,
			  "rule %u: more than %u ratelimit buckets (a rule "
			  "with two rates takes two)",
			  r->id, SL_RL_SLOTS - 1);
		return 0;
	}
	rl_params_of(r, bytes, &v[s]);
	v[s].and_slot = and_slot;
	v[s].epoch = ++*epoch;
	if (bpf_map_update_elem(fd, &s, &v[s], BPF_ANY)) {
		pr_err("rule %u: cannot write its rate limit: %s", r->id,
		       strerror(errno));
		memset(&v[s], 0, sizeof(v[s]));
		return 0;
	}
	if (filled)
		filled[s] = true;
	return s;
}

/* src: the file the rules come from, for errors (or NULL); filled (or
 * NULL): marks the slots it fills, which were free. */
static int rl_slots_fill(struct sl_ctx *ctx, struct sl_rule *r, size_t n,
			 const char *src, bool *filled)
{
	struct sl_rl_params *v;
	__u32 epoch = 0, s;
	bool any = false;
	int fd, err;

	for (size_t i = 0; i < n; i++) {
		r[i].rl_slot = 0;
		any |= r[i].action == SL_RACT_RATELIMIT;
	}
	if (!any)
		return 0;
	v = calloc(SL_RL_SLOTS, sizeof(*v));
	if (!v)
		return -ENOMEM;
	err = rl_read(ctx, v, &fd);
	for (s = 1; s < SL_RL_SLOTS; s++)
		epoch = v[s].epoch > epoch ? v[s].epoch : epoch;
	for (size_t i = 0; i < n && !err; i++) {
		__u32 and_slot = 0;

		if (r[i].action != SL_RACT_RATELIMIT)
			continue;
		if (r[i].rate_pps && r[i].rate_bytes) {
			and_slot = rl_slot_get(v, fd, &epoch, &r[i], true, 0,
					       src, filled);
			if (!and_slot) {
				err = -EINVAL;
				break;
			}
		}
		s = rl_slot_get(v, fd, &epoch, &r[i], !r[i].rate_pps, and_slot,
				src, filled);
		if (!s) {
			err = -EINVAL;
			break;
		}
		r[i].rl_slot = s;
	}
	free(v);
	return err;
}

/* Every ratelimit rule of r has a slot holding its parameters. */
static bool rl_slots_current(struct sl_ctx *ctx, const struct sl_rule *r,
			     size_t n)
{
	struct sl_rl_params *v = NULL;
	bool ok = true;
	int fd;

	for (size_t i = 0; i < n && ok; i++) {
		if (r[i].action != SL_RACT_RATELIMIT)
			continue;
		if (!v) {
			v = calloc(SL_RL_SLOTS, sizeof(*v));
			if (!v || rl_read(ctx, v, &fd)) {
				ok = false;
				break;
			}
		}
		ok = rl_rule_slot(v, &r[i]) != 0;
	}
	free(v);
	return ok;
}

/* Empties the slots marked (as redirect_slots_undo). */
static void rl_slots_undo(struct sl_ctx *ctx, const bool *filled)
{
	struct sl_rl_params zero = {0};
	int fd = sl_map_fd(ctx, SL_MAP_RL_PARAMS);

	for (__u32 s = 1; fd >= 0 && s < SL_RL_SLOTS; s++)
		if (filled[s])
			bpf_map_update_elem(fd, &s, &zero, BPF_ANY);
}

/* After the switch: empties the slots the running rules do not name. */
static void rl_slots_prune(struct sl_ctx *ctx, const struct sl_rule *r,
			   size_t n)
{
	bool used[SL_RL_SLOTS] = {false};
	struct sl_rl_params *v = calloc(SL_RL_SLOTS, sizeof(*v)), zero = {0};
	int fd;

	if (!v || rl_read(ctx, v, &fd)) {
		free(v);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (r[i].action == SL_RACT_RATELIMIT) {
			used[r[i].rl_slot] = true; /* a __u8: < SL_RL_SLOTS */
			if (v[r[i].rl_slot].and_slot < SL_RL_SLOTS)
				used[v[r[i].rl_slot].and_slot] = true;
		}
	for (__u32 s = 1; s < SL_RL_SLOTS; s++)
		if (v[s].rule_id && !used[s])
			bpf_map_update_elem(fd, &s, &zero, BPF_ANY);
	free(v);
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

/* Zeroes the counters of rules that are new in this config or that replace
 * a running rule of another match or action under its id, so counters
 * belong to a rule, not to an id. First makes the counter chunks of the
 * config's ids (before the switch: every packet of the new config is
 * counted). */
static int counters_reset(struct sl_ctx *ctx, const struct sl_rule *r, size_t n,
			  const struct sl_rule *old, size_t nold)
{
	size_t *was = calloc(SL_RULE_MAX, sizeof(*was));
	__u32 *ids = malloc((n ? n : 1) * sizeof(*ids)), count = 0;
	int err = 0;

	if (!was || !ids) {
		err = -ENOMEM;
		goto out;
	}
	/* was[id]: 1 + the index of the running rule with that id */
	for (size_t i = 0; i < nold; i++)
		if (old[i].id < SL_RULE_MAX)
			was[old[i].id] = i + 1;
	for (size_t i = 0; i < n; i++)
		if (r[i].id < SL_RULE_MAX &&
		    (!was[r[i].id] ||
		     !sl_rule_same_match(&r[i], &old[was[r[i].id] - 1])))
			ids[count++] = r[i].id;
	err = sl_rule_stats_fit(ctx, r, n);
	if (!err)
		err = sl_rule_stats_reset(ctx, ids, count);
out:
	free(was);
	free(ids);
	return err;
}

/* A new blob map of class log (2^log bytes), filled; returns its fd.
 * fine_only: as sl_cls_build_class(). */
static int blob_build_class(const struct sl_config *cfg,
			    const struct sl_rule *rules, size_t n, int gen,
			    int defs, __u64 serial, unsigned log,
			    bool fine_only, struct sl_cls_stats *st)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	size_t size = (size_t)1 << log;
	struct sl_blob_hdr *h;
	void *m;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_blob", 4, size, 1, &o);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot create a config blob (%zu KiB): %s", size >> 10,
		       strerror(errno));
		return err;
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		pr_err("cannot map the config blob: %s", strerror(errno));
		close(fd);
		return err;
	}
	err = sl_cls_build_class(rules, n, m, log, fine_only, cfg->file, st);
	if (!err) {
		h = m;
		h->magic = SL_BLOB_MAGIC;
		h->set_gen = gen;
		h->defs_gen = defs;
		h->policy[SL_RDIR_IN] = cfg->policy[SL_RDIR_IN];
		h->policy[SL_RDIR_OUT] = cfg->policy[SL_RDIR_OUT];
		h->serial = serial;
		sl_blob_ct_put(m, &cfg->ct);
		sl_blob_frag_put(m, &cfg->frag);
	}
	munmap(m, size);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* The blob of rules in the class they need (docs/classifier.md, size
 * classes): the smallest class, from the one whose rule table holds them,
 * whose trees fit without a coarse level; else 2 classes above that one,
 * where the trees may be coarse. A class up to 16 times larger than needed
 * that the programs run with (run_log) is kept: no reload for small
 * changes. fixed: run_log only (the programs cannot change here). Returns
 * the fd, the class in *log. */
static int blob_build(const struct sl_config *cfg, const struct sl_rule *rules,
		      size_t n, int gen, int defs, __u64 serial,
		      unsigned run_log, bool fixed, unsigned *log,
		      struct sl_cls_stats *st)
{
	unsigned lo = sl_cls_min_log(n), last = lo + 2;
	int fd = -E2BIG;

	if (last > SL_BLOB_LOG_MAX)
		last = SL_BLOB_LOG_MAX;
	if (fixed) {
		*log = run_log;
		return blob_build_class(cfg, rules, n, gen, defs, serial,
					run_log, false, st);
	}
	for (unsigned l = lo; l <= last && fd == -E2BIG; l++) {
		if (l < run_log && l + 2 >= run_log)
			l = run_log;
		*log = l;
		fd = blob_build_class(cfg, rules, n, gen, defs, serial, l,
				      l < last, st);
	}
	return fd;
}

int sl_blob_rebuild(struct sl_ctx *ctx, const __u8 policy[SL_RDIR_MAX],
		    __u64 serial)
{
	struct sl_config cfg = {};
	struct sl_cls_stats st;
	struct sl_rule *rules;
	unsigned log;
	__u32 key = 0;
	size_t n;
	int err, fd, outer;

	err = sl_rules_read(ctx, &rules, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		char msg[160];

		/* As in the blob it replaces, a rule on an interface that is
		 * gone matches nothing (ifindex 0), and a redirect to one that
		 * is gone has no target (abort); apply will refuse them. */
		if (sl_rule_resolve(&rules[i], msg, sizeof(msg)))
			pr_warn("rule %u: %s; kept (it matches nothing, or its "
				"packets are dropped as 'abort' while the "
				"redirect target is missing)",
				rules[i].id, msg);
	}
	err = redirect_slots_fill(ctx, rules, n, NULL)
		  ?: rl_slots_fill(ctx, rules, n, NULL, NULL);
	if (err)
		goto out;
	memcpy(cfg.policy, policy, sizeof(cfg.policy));
	/* The conntrack and fragment settings stay (defaults for an earlier
	 * blob). */
	sl_blob_ct_read(ctx, &cfg.ct);
	sl_blob_frag_read(ctx, &cfg.frag);
	/* Into the class of the loaded programs (an upgrade's). */
	fd = blob_build(&cfg, rules, n, ctx->set_gen, ctx->defs_gen, serial,
			sl_xdp_blob_log(ctx->skel), true, &log, &st);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	outer = sl_map_fd(ctx, SL_MAP_CONFIG);
	if (outer < 0 || bpf_map_update_elem(outer, &key, &fd, BPF_ANY)) {
		err = outer < 0 ? outer : -errno;
		pr_err("cannot install the config blob: %s", strerror(-err));
	}
	close(fd);
out:
	free(rules);
	return err;
}

static const struct sl_cfg_iface *cfg_iface(const struct sl_config *c,
					    const char *name)
{
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (!strcmp(c->ifaces[i].name, name))
			return &c->ifaces[i];
	return NULL;
}

/* An interface whose attachments differ between the running config and
 * the new one: have (NULL: not attached) becomes want (NULL: detach). */
struct iface_change {
	const char *name;
	const struct sl_cfg_iface *have, *want;
};

static bool iface_same(const struct sl_cfg_iface *a,
		       const struct sl_cfg_iface *b)
{
	return a->hooks == b->hooks &&
	       (!(a->hooks & SL_HOOK_XDP) || a->mode == b->mode);
}

/* The interface changes from cur to cfg, attachments (and mode or hook
 * changes) first, detaches last. *out is malloc'ed. */
static int ifaces_plan(const struct sl_config *cur, const struct sl_config *cfg,
		       struct iface_change **out, size_t *n)
{
	struct iface_change *v =
	    calloc(cfg->n_ifaces + cur->n_ifaces + 1, sizeof(*v));

	*out = v;
	*n = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_ifaces; i++) {
		const struct sl_cfg_iface *want = &cfg->ifaces[i];
		const struct sl_cfg_iface *have = cfg_iface(cur, want->name);

		if (!have || !iface_same(have, want))
			v[(*n)++] =
			    (struct iface_change){want->name, have, want};
	}
	for (size_t i = 0; i < cur->n_ifaces; i++)
		if (!cfg_iface(cfg, cur->ifaces[i].name))
			v[(*n)++] = (struct iface_change){
			    cur->ifaces[i].name, &cur->ifaces[i], NULL};
	return 0;
}

/* The feature switches the attached programs run with (the last attach's),
 * so that attaching from apply keeps them; false when nothing is attached. */
static bool running_features(struct sl_ctx *ctx, struct sl_features *feat)
{
	struct sl_attachment *att = NULL;
	size_t n = 0;
	bool found = false;

	if (sl_attachments(ctx, &att, &n))
		return false;
	for (size_t i = 0; i < n && !found; i++)
		if (att[i].ifindex && att[i].feat_known) {
			*feat = att[i].feat;
			found = true;
		}
	free(att);
	return found;
}

/* Puts one interface on the hooks of c (NULL: none). */
static int iface_set(struct sl_ctx *ctx, const char *name,
		     const struct sl_cfg_iface *c,
		     const struct sl_features *feat)
{
	return c ? sl_attach(ctx, name, c->mode, c->hooks, feat)
		 : sl_detach(ctx, name);
}

/* Puts the interfaces of ch[0..n) back as they were, last change first. */
static void ifaces_undo(struct sl_ctx *ctx, const struct iface_change *ch,
			size_t n, const struct sl_features *feat)
{
	while (n-- > 0)
		if (iface_set(ctx, ch[n].name, ch[n].have, feat))
			pr_warn("%s: could not be put back as it was",
				ch[n].name);
}

/* Makes the changes of ch[0..n). A failing change leaves its own interface
 * as it was (sl_attach does); the changes made before it are undone, in
 * reverse order, by the same gapless attaches (a detach is undone by
 * attaching again), so a failure changes nothing. */
static int ifaces_apply(struct sl_ctx *ctx, const struct iface_change *ch,
			size_t n, const struct sl_features *feat)
{
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++)
		err = iface_set(ctx, ch[i].name, ch[i].want, feat);
	if (err)
		ifaces_undo(ctx, ch, i - 1, feat);
	return err;
}

/* ---- the diff (what an apply changes) ---- */

void sl_apply_report_free(struct sl_apply_report *rep)
{
	struct sl_apply_diff *d = rep->diff;

	if (!d)
		return;
	free(d->rules_added);
	free(d->rules_removed);
	free(d->rules_from);
	free(d->rules_to);
	free(d->sets_added);
	free(d->sets_removed);
	free(d->ifaces);
	free(d->lb);
	free(d);
	rep->diff = NULL;
}

static int entry_order(const void *pa, const void *pb)
{
	const struct sl_set_entry *a = pa, *b = pb;

	if (a->kind != b->kind)
		return a->kind - b->kind;
	if (a->dir != b->dir)
		return a->dir - b->dir;
	if (a->prefix.family != b->prefix.family)
		return a->prefix.family - b->prefix.family;
	if (a->prefix.plen != b->prefix.plen)
		return a->prefix.plen - b->prefix.plen;
	return memcmp(a->prefix.addr, b->prefix.addr, sizeof(a->prefix.addr));
}

/* A sorted copy of n entries, counters cleared. */
static struct sl_set_entry *entries_sorted(const struct sl_set_entry *e,
					   size_t n)
{
	struct sl_set_entry *v = calloc(n + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		v[i].prefix = e[i].prefix;
		v[i].kind = e[i].kind;
		v[i].dir = e[i].dir;
	}
	qsort(v, n, sizeof(*v), entry_order);
	return v;
}

static int diff_sets(const struct sl_config *cur, const struct sl_config *cfg,
		     struct sl_apply_diff *d)
{
	struct sl_set_entry *a = entries_sorted(cur->sets, cur->n_sets);
	struct sl_set_entry *b = entries_sorted(cfg->sets, cfg->n_sets);
	size_t i = 0, j = 0;
	int err = -ENOMEM;

	d->sets_removed = calloc(cur->n_sets + 1, sizeof(*a));
	d->sets_added = calloc(cfg->n_sets + 1, sizeof(*b));
	if (!a || !b || !d->sets_removed || !d->sets_added)
		goto out;
	while (i < cur->n_sets || j < cfg->n_sets) {
		int c = i == cur->n_sets   ? 1
			: j == cfg->n_sets ? -1
					   : entry_order(&a[i], &b[j]);

		if (c < 0)
			d->sets_removed[d->n_sets_removed++] = a[i++];
		else if (c > 0)
			d->sets_added[d->n_sets_added++] = b[j++];
		else
			i++, j++;
	}
	err = 0;
out:
	free(a);
	free(b);
	return err;
}

/* Rules matched by id (both lists have unique ids). */
static int diff_rules(const struct sl_config *cur, const struct sl_config *cfg,
		      struct sl_apply_diff *d)
{
	const struct sl_rule **old = calloc(SL_RULE_MAX, sizeof(*old));
	unsigned char *kept = calloc(SL_RULE_MAX, 1);
	size_t nc = cfg->n_rules + 1;
	int err = -ENOMEM;

	d->rules_added = calloc(nc, sizeof(struct sl_rule));
	d->rules_from = calloc(nc, sizeof(struct sl_rule));
	d->rules_to = calloc(nc, sizeof(struct sl_rule));
	d->rules_removed = calloc(cur->n_rules + 1, sizeof(struct sl_rule));
	if (!old || !kept || !d->rules_added || !d->rules_from ||
	    !d->rules_to || !d->rules_removed)
		goto out;
	for (size_t i = 0; i < cur->n_rules; i++)
		if (cur->rules[i].id < SL_RULE_MAX)
			old[cur->rules[i].id] = &cur->rules[i];
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct sl_rule *r = &cfg->rules[i];
		const struct sl_rule *o =
		    r->id < SL_RULE_MAX ? old[r->id] : NULL;

		if (!o) {
			d->rules_added[d->n_rules_added++] = *r;
			continue;
		}
		kept[r->id] = 1;
		if (!sl_rule_equal(o, r)) {
			d->rules_from[d->n_rules_changed] = *o;
			d->rules_to[d->n_rules_changed++] = *r;
		}
	}
	for (size_t i = 0; i < cur->n_rules; i++)
		if (cur->rules[i].id >= SL_RULE_MAX || !kept[cur->rules[i].id])
			d->rules_removed[d->n_rules_removed++] = cur->rules[i];
	err = 0;
out:
	free(old);
	free(kept);
	return err;
}

static int diff_build(const struct sl_config *cur, const struct sl_config *cfg,
		      bool sets, const struct iface_change *ch, size_t n_ch,
		      struct sl_apply_report *rep)
{
	struct sl_apply_diff *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	rep->diff = d;
	memcpy(d->policy_from, cur->policy, sizeof(d->policy_from));
	memcpy(d->policy_to, cfg->policy, sizeof(d->policy_to));
	err = diff_rules(cur, cfg, d);
	if (!err && sets)
		err = diff_sets(cur, cfg, d);
	if (!err)
		err = sl_lb_diff(&cur->lb, &cfg->lb, &d->lb, &d->n_lb);
	d->ifaces = calloc(n_ch + 1, sizeof(*d->ifaces));
	if (!err && !d->ifaces)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < n_ch; i++) {
		struct sl_iface_diff *f = &d->ifaces[d->n_ifaces++];

		snprintf(f->name, sizeof(f->name), "%.15s", ch[i].name);
		if (ch[i].have) {
			f->from_hooks = ch[i].have->hooks;
			f->from_mode = ch[i].have->mode;
		}
		if (ch[i].want) {
			f->to_hooks = ch[i].want->hooks;
			f->to_mode = ch[i].want->mode;
		}
	}
	if (err)
		sl_apply_report_free(rep);
	return err;
}

/* Moves the running config to a blob of another class (blob_fd, class
 * log): the pin of sl_config goes aside, a load for the class makes a new
 * sl_config (its template has the class's size) holding the blob, and
 * every attachment moves to programs loaded for the class (sl_reload:
 * bpf_link_update / filter replace, atomic per hook, all or nothing). A
 * packet sees the old programs with the old blob or the new with the new.
 * On failure the old pin is put back: nothing changed. */
static int class_switch(struct sl_ctx *ctx, int blob_fd, unsigned log)
{
	char pin[400], aside[420];
	unsigned was = sl_xdp_blob_log(ctx->skel);
	struct sl_features feat;
	struct sluice_xdp *skel, *old;
	struct bpf_map *map;
	size_t moved = 0;
	__u32 key = 0;
	int err;

	snprintf(pin, sizeof(pin), "%s/%s", ctx->dir, SL_MAP_CONFIG);
	/* (bpffs names have no dots) */
	snprintf(aside, sizeof(aside), "%s/%s_old", ctx->dir, SL_MAP_CONFIG);
	if (rename(pin, aside))
		return -errno;
	if (!running_features(ctx, &feat))
		sl_features_default(&feat);
	feat.blob_log = log;
	skel = sl_xdp_load(ctx->dir, &feat, 0); /* pins the new sl_config */
	if (!skel) {
		err = -errno ?: -EIO;
		goto back;
	}
	map = bpf_object__find_map_by_name(sl_xdp_object(skel), SL_MAP_CONFIG);
	if (!map ||
	    bpf_map_update_elem(bpf_map__fd(map), &key, &blob_fd, BPF_ANY)) {
		err = map ? -errno : -ENOENT;
		goto back_skel;
	}
	err = sl_reload(ctx, SL_FEAT_BLOB_LOG, &feat, &moved);
	if (err)
		goto back_skel;
	unlink(aside);
	/* From here on the ctx works on the new sl_config. */
	old = ctx->skel;
	ctx->skel = skel;
	if (!ctx->wrapped)
		sl_xdp_destroy(old);
	ctx->wrapped = false;
	pr_info("config blob: %u KiB (was %u KiB); %zu attachments moved to "
		"programs for it",
		(1U << log) >> 10, (1U << was) >> 10, moved);
	/* Loads take the class from the installed blob first: a failed
	 * write only leaves sl_meta behind. */
	if (sl_meta_write(ctx, SL_LAYOUT_VERSION))
		pr_warn("the blob class (%u KiB) is not recorded in sl_meta",
			(1U << log) >> 10);
	return 0;
back_skel:
	sl_xdp_destroy(skel);
	unlink(pin);
back:
	if (rename(aside, pin))
		pr_warn("cannot put %s back: %s", pin, strerror(errno));
	return err;
}

/* ---- runtime-owned tables: their capacities, and conntrack's switch ---- */

/* The capacity cfg asks of runtime map i (enum sl_rt_map); 0: none asked
 * (a connection table while conntrack is off keeps whatever it has). */
static __u32 rt_want(const struct sl_config *cfg, int i)
{
	struct sl_ct_cfg ct;

	switch (i) {
	case SL_RT_CT:
		sl_ct_cfg_effective(&cfg->ct, &ct);
		return ct.enabled ? ct.max : 0;
	case SL_RT_RL:
		return cfg->rl.max ? cfg->rl.max : SL_RL_MAX_BUCKETS;
	case SL_RT_FRAGS:
		return cfg->frag.max ? cfg->frag.max : SL_FRAG_MAX_ENTRIES;
	}
	return 0;
}

/* The runtime tables an apply of cfg makes anew with another capacity,
 * into the diff (their entries copied over: `entries` now). */
static void rt_diff(struct sl_ctx *ctx, const struct sl_config *cfg,
		    struct sl_apply_diff *d)
{
	d->n_caps = 0;
	for (int i = 0; i < SL_RT_MAPS && !ctx->wrapped; i++) {
		__u32 want = rt_want(cfg, i), have = rt_have(ctx, i);
		int fd = sl_map_fd(ctx, sl_rt_map_name(i));

		if (!want || !have || want == have || fd < 0)
			continue;
		d->caps[d->n_caps++] =
		    (struct sl_cap_diff){i, have, want, sl_map_count_all(fd)};
	}
	/* the load balancer's connection table, while a service uses it */
	if (cfg->lb.n_svc && !ctx->wrapped) {
		__u32 have = 0, want = sl_lb_conn_max(&cfg->lb);
		size_t entries = 0;

		if (!sl_lb_conn_usage(ctx, &have, &entries) && have &&
		    have != want)
			d->caps[d->n_caps++] = (struct sl_cap_diff){
			    SL_RT_LB_CONN, have, want, entries};
	}
}

/* What rt_prepare() changed, for rt_undo() and rt_done(). */
struct rt_change {
	bool reload;	 /* attachments moved to the new tables and switch */
	bool was_on, on; /* conntrack before and after */
	bool any;	 /* a table was made anew */
	struct rt_table {
		bool remade;  /* made anew; the old pin is aside */
		bool had_old; /* there was an old pin */
		char pin[400], aside[420];
	} t[SL_RT_MAPS];
};

/* Puts the old pins back where tables were made anew. */
static void rt_pins_back(struct rt_change *ch)
{
	for (int i = 0; i < SL_RT_MAPS; i++) {
		struct rt_table *t = &ch->t[i];

		if (!t->remade)
			continue;
		unlink(t->pin);
		if (t->had_old && rename(t->aside, t->pin))
			pr_warn("cannot put %s back: %s", t->pin,
				strerror(errno));
		t->remade = false;
	}
}

/* Before the switch to cfg (the running config: run): each runtime-owned
 * table (the connection table while conntrack is on, the rate limits'
 * buckets, the fragment table) whose pinned capacity differs from the one
 * cfg asks is made anew with it (its pin replaces the old one, which goes
 * aside, and the entries are copied over; entries that do not fit a
 * smaller table are counted and said); when the conntrack switch changes
 * or a table was made anew, every attachment moves to programs loaded
 * with the new switch and tables (sl_reload: atomic per hook, all or
 * nothing). Only for pinned state. On failure nothing is left changed. */
static int rt_prepare(struct sl_ctx *ctx, const struct sl_config *run,
		      const struct sl_config *cfg, struct rt_change *ch)
{
	__u32 caps[SL_RT_MAPS] = {0}, was[SL_RT_MAPS] = {0};
	struct sl_features feat;
	struct sluice_xdp *skel;
	int err;

	memset(ch, 0, sizeof(*ch));
	if (ctx->lock_fd < 0 || ctx->wrapped)
		return 0;
	ch->was_on = run->ct.enabled;
	ch->on = cfg->ct.enabled;
	for (int i = 0; i < SL_RT_MAPS; i++) {
		struct rt_table *t = &ch->t[i];
		__u32 want = rt_want(cfg, i);

		snprintf(t->pin, sizeof(t->pin), "%s/%s", ctx->dir,
			 sl_rt_map_name(i));
		/* (bpffs names have no dots) */
		snprintf(t->aside, sizeof(t->aside), "%s/%s_old", ctx->dir,
			 sl_rt_map_name(i));
		was[i] = sl_pin_max(t->pin);
		if (!want || was[i] == want)
			continue;
		t->had_old = was[i] != 0;
		if (t->had_old && rename(t->pin, t->aside)) {
			err = -errno;
			rt_pins_back(ch);
			return err;
		}
		t->remade = true;
		caps[i] = want;
		ch->any = true;
	}
	if (ch->any) {
		if (!running_features(ctx, &feat))
			sl_features_default(&feat);
		feat.conntrack = 1;
		skel = sl_xdp_load_caps(ctx->dir, &feat, 0, caps);
		if (!skel) {
			err = -errno ?: -EIO;
			for (int i = 0; i < SL_RT_MAPS; i++)
				if (caps[i])
					pr_err("cannot make %s (%u entries)",
					       sl_rt_map_name(i), caps[i]);
			rt_pins_back(ch);
			return err;
		}
		for (int i = 0; i < SL_RT_MAPS; i++) {
			struct rt_table *t = &ch->t[i];
			/* entries packets touch meanwhile are refreshed in
			 * the old table: they may be older in the new one */
			struct bpf_map *m = bpf_object__find_map_by_name(
			    sl_xdp_object(skel), sl_rt_map_name(i));
			size_t had = 0, kept = 0;
			int from;

			if (!t->remade || !t->had_old)
				continue;
			from = bpf_obj_get(t->aside);
			if (from >= 0 && m)
				kept = sl_map_copy(from, bpf_map__fd(m), &had);
			if (from >= 0)
				close(from);
			pr_info("%s: %u entries (was %u); %zu entries carried "
				"over",
				sl_rt_map_key(i), caps[i], was[i], kept);
			if (kept < had)
				pr_warn("%s: %zu of the %zu entries of %s did "
					"not fit its new capacity (%u) and are "
					"gone",
					sl_rt_map_key(i), had - kept, had,
					sl_rt_map_name(i), caps[i]);
		}
		sl_xdp_destroy(skel);
	}
	if (ch->was_on != ch->on || ch->any) {
		feat.conntrack = ch->on;
		err = sl_reload(ctx, SL_FEAT_CONNTRACK, &feat, NULL);
		if (err) {
			if (ch->was_on != ch->on)
				pr_err("cannot switch conntrack %s: %s",
				       ch->on ? "on" : "off", strerror(-err));
			else
				pr_err("cannot move the attachments to the "
				       "resized tables: %s",
				       strerror(-err));
			rt_pins_back(ch);
			return err;
		}
		ch->reload = true;
	}
	return 0;
}

/* Undoes rt_prepare() after a later failure. */
static void rt_undo(struct sl_ctx *ctx, struct rt_change *ch)
{
	rt_pins_back(ch);
	if (ch->reload) {
		struct sl_features feat = {.conntrack = ch->was_on};

		if (sl_reload(ctx, SL_FEAT_CONNTRACK, &feat, NULL))
			pr_warn("the attachments still run with conntrack %s "
				"and the new tables",
				ch->on ? "on" : "off");
	}
}

/* ---- events: the parameters and the programs' switch ---- */

/* What ev_prepare() changed, for ev_undo(). */
struct ev_change {
	bool wrote;  /* sl_ev_conf holds the new config's record */
	bool reload; /* attachments moved to the other events switch */
	bool was_on;
};

/* Before the switch to cfg (the running one: cur): its record into
 * sl_ev_conf, and, when the programs must run with the other events
 * switch (drops, sampling or a log rule on or off), every attachment
 * onto programs loaded with it (sl_reload, like conntrack's). A packet
 * meets the old programs or the new ones with the new record: either is
 * a whole record. On failure the old record is put back. */
static int ev_prepare(struct sl_ctx *ctx, const struct sl_config *cur,
		      const struct sl_config *cfg, struct ev_change *ch)
{
	struct sl_features feat;
	bool on = sl_ev_cfg_on(cfg);
	int err;

	memset(ch, 0, sizeof(*ch));
	err = sl_ev_write(ctx, cfg);
	if (err == -ENOENT)
		return 0; /* programs without events (a test's variant) */
	if (err) {
		pr_err("cannot write the events settings: %s", strerror(-err));
		return err;
	}
	ch->wrote = true;
	if (ctx->lock_fd < 0 || ctx->wrapped || !running_features(ctx, &feat) ||
	    feat.events == on)
		return 0;
	ch->was_on = feat.events;
	feat.events = on;
	err = sl_reload(ctx, SL_FEAT_EVENTS, &feat, NULL);
	if (err) {
		pr_err("cannot switch events %s: %s", on ? "on" : "off",
		       strerror(-err));
		if (sl_ev_write(ctx, cur))
			pr_warn("the events settings may be the new ones");
		return err;
	}
	ch->reload = true;
	return 0;
}

/* Undoes ev_prepare() after a later failure. */
static void ev_undo(struct sl_ctx *ctx, const struct sl_config *cur,
		    struct ev_change *ch)
{
	if (ch->reload) {
		struct sl_features feat = {.events = ch->was_on};

		if (sl_reload(ctx, SL_FEAT_EVENTS, &feat, NULL))
			pr_warn("the attachments still run with events %s",
				ch->was_on ? "off" : "on");
	}
	if (ch->wrote && sl_ev_write(ctx, cur))
		pr_warn("the events settings may be the new ones");
}

/* The load balancer's part of an apply (lb.c). */
struct lb_change {
	bool wrote;  /* the services were written */
	bool reload; /* the attachments moved to the other lb switch */
	bool was_on;
};

/* Before the switch to cfg (the running one: cur): the services into
 * their maps (each service's table switched whole), and, when the first
 * service comes or the last goes, every attachment onto programs loaded
 * with the lb switch on or off (sl_reload, like events'): on, the stage
 * starts with its maps filled; off, it goes before they are emptied.
 * On failure the running services are put back. */
static int lb_prepare(struct sl_ctx *ctx, const struct sl_config *cur,
		      const struct sl_config *cfg, struct lb_change *ch)
{
	struct sl_features feat;
	bool on = cfg->lb.n_svc > 0;
	bool pinned = ctx->lock_fd >= 0 && !ctx->wrapped;
	bool switch_feat;
	int err = 0;

	memset(ch, 0, sizeof(*ch));
	switch_feat = pinned && running_features(ctx, &feat) && feat.lb != on;
	if (switch_feat) {
		ch->was_on = feat.lb;
		feat.lb = on;
	}
	if (switch_feat && !on) {
		err = sl_reload(ctx, SL_FEAT_LB, &feat, NULL);
		if (err)
			goto fail;
		ch->reload = true;
	}
	if (!sl_lb_cfg_equal(&cur->lb, &cfg->lb)) {
		err = sl_lb_write(ctx, &cfg->lb, &cur->lb);
		if (err)
			goto fail;
		ch->wrote = true;
	}
	if (switch_feat && on) {
		err = sl_reload(ctx, SL_FEAT_LB, &feat, NULL);
		if (err)
			goto fail;
		ch->reload = true;
	}
	return 0;
fail:
	if (err && switch_feat)
		pr_err("cannot switch the load balancer %s: %s",
		       on ? "on" : "off", strerror(-err));
	if (ch->wrote && sl_lb_write(ctx, &cur->lb, NULL))
		pr_warn("the load balancer's services may be the new ones");
	if (ch->reload) {
		feat.lb = ch->was_on;
		if (sl_reload(ctx, SL_FEAT_LB, &feat, NULL))
			pr_warn("the attachments still run with the load "
				"balancer %s",
				on ? "on" : "off");
	}
	return err;
}

/* Undoes lb_prepare() after a later failure. */
static void lb_undo(struct sl_ctx *ctx, const struct sl_config *cur,
		    struct lb_change *ch)
{
	if (ch->reload && !ch->was_on) {
		struct sl_features feat = {.lb = 0};

		if (sl_reload(ctx, SL_FEAT_LB, &feat, NULL))
			pr_warn("the attachments still run with the load "
				"balancer on");
	}
	if (ch->wrote && sl_lb_write(ctx, &cur->lb, NULL))
		pr_warn("the load balancer's services may be the new ones");
	if (ch->reload && ch->was_on) {
		struct sl_features feat = {.lb = 1};

		if (sl_reload(ctx, SL_FEAT_LB, &feat, NULL))
			pr_warn("the attachments still run with the load "
				"balancer off");
	}
}

/* After the switch: the old tables go with their last reference. */
static void rt_done(struct rt_change *ch)
{
	for (int i = 0; i < SL_RT_MAPS; i++)
		if (ch->t[i].remade && ch->t[i].had_old)
			unlink(ch->t[i].aside);
}

/* What to do when the conntrack stage is off: a file says so itself. */
static const char *ct_needed(const struct sl_config *cfg)
{
	return cfg->file ? "add 'conntrack: {enabled: true}' to the file"
			 : "apply 'conntrack: {enabled: true}' first";
}

int sl_apply(struct sl_ctx *ctx, struct sl_config *cfg, unsigned flags,
	     struct sl_apply_report *rep)
{
	struct sl_apply_report dummy;
	struct iface_change *ch = NULL;
	struct sl_features feat, *featp = NULL;
	struct sl_config cur;
	struct sl_blob_hdr h;
	struct sl_limits run_lim;
	struct rt_change ctc = {};
	struct ev_change evc = {};
	struct lb_change lbc = {};
	char lberr[160];
	size_t n_ch = 0;
	bool keep_sets, had_blob, lim_changed, same_by_digest, syn_changed;
	bool syn_kernel = false;
	/* the slots this apply fills, emptied again if it does not go live */
	bool rd_filled[SL_REDIRECT_SLOTS] = {false};
	bool rl_filled[SL_RL_SLOTS] = {false};
	__u64 new_digest;
	unsigned run_log, new_log;
	int err, old_gen, gen, old_defs = 0, defs, fd = -1, outer;
	double t = mono();
	__u32 key = 0;

	if (!rep)
		rep = &dummy;
	memset(rep, 0, sizeof(*rep));
	err = sl_config_read(ctx, &cur,
			     SL_READ_NO_SETS |
				 (cfg->has_ifaces ? 0 : SL_READ_NO_IFACES));
	if (err)
		return err;
	/* Capacities: the config's (the rule verbs keep the running ones). */
	run_lim = cur.limits;
	if (flags & SL_APPLY_KEEP_SETS)
		cfg->limits = run_lim;
	sl_limits_effective(&cfg->limits, &cfg->limits);
	lim_changed = !sl_limits_equal(&cfg->limits, &run_lim);
	/* The running sets are read back only when they may differ (their
	 * stored digest is unknown or another) or move to maps of other
	 * capacities: reading a million entries costs about half a second. */
	new_digest = (flags & SL_APPLY_KEEP_SETS)
			 ? cur.sets_digest
			 : sl_sets_digest(cfg->sets, cfg->n_sets);
	same_by_digest = !(flags & SL_APPLY_KEEP_SETS) && cur.sets_digest &&
			 cur.sets_digest == new_digest;
	if (!(flags & SL_APPLY_KEEP_SETS) && (!same_by_digest || lim_changed))
		err = sl_set_list(ctx, 0, &cur.sets, &cur.n_sets);
	if (err) {
		sl_config_free(&cur);
		return err;
	}
	lap(&t, "read the running config");
	if (cfg->n_rules > cfg->limits.rules) {
		/* the first rule over the capacity, in file order */
		struct sl_srcpos p = cfg->rules[cfg->limits.rules].pos;

		sl_err_at(cfg->file, p.line, p.col,
			  "too many rules: %zu, at most %u (limits: rules)",
			  cfg->n_rules, cfg->limits.rules);
		sl_config_free(&cur);
		return -EINVAL;
	}
	/* ct-state conditions need the conntrack stage (off, every packet is
	 * untracked). */
	for (size_t i = 0; !cfg->ct.enabled && i < cfg->n_rules; i++)
		if (cfg->rules[i].ct_state) {
			sl_err_at(
			    cfg->file, cfg->rules[i].pos.line,
			    cfg->rules[i].pos.col,
			    "rule %u: ct-state needs the conntrack stage; "
			    "%s",
			    cfg->rules[i].id, ct_needed(cfg));
			sl_config_free(&cur);
			return -EINVAL;
		}
	/* So do the synproxy ports (the final ACK starts a flow). */
	if (sl_syn_count(&cfg->syn) && !cfg->ct.enabled) {
		sl_err_at(cfg->file, cfg->syn_pos.line, cfg->syn_pos.col,
			  "synproxy needs the conntrack stage; %s",
			  ct_needed(cfg));
		sl_config_free(&cur);
		return -EINVAL;
	}
	syn_changed = !sl_syn_equal(&cur.syn, &cfg->syn);
	if (sl_lb_cfg_check(&cfg->lb, lberr, sizeof(lberr))) {
		pr_err("loadbalancer: %s", lberr);
		sl_config_free(&cur);
		return -EINVAL;
	}
	/* Rules without ids take their running twin's (counters follow the
	 * rule), else ids no running rule holds. */
	err = sl_rules_assign_ids(cfg->rules, cfg->n_rules, cur.rules,
				  cur.n_rules);
	if (!err)
		err = resolve_ifaces(cfg->rules, cfg->n_rules);
	if (err) {
		sl_config_free(&cur);
		return err;
	}
	qsort(cfg->rules, cfg->n_rules, sizeof(*cfg->rules), rule_cmp);
	lap(&t, "ids and order");
	had_blob = !sl_blob_hdr_read(ctx, &h);
	old_gen = ctx->set_gen;
	keep_sets = (flags & SL_APPLY_KEEP_SETS) ||
		    (!lim_changed && (same_by_digest || sets_equal(&cur, cfg)));
	if (flags & SL_APPLY_KEEP_SETS) {
		/* The rule verbs pass no sets; the running ones stay. */
		cfg->n_sets = 0;
	}
	rep->rules = cfg->n_rules;
	rep->set_entries =
	    (flags & SL_APPLY_KEEP_SETS) ? cur.n_sets : cfg->n_sets;
	if (had_blob && keep_sets && equal_but_sets(&cur, cfg) &&
	    redirect_slots_current(ctx, cfg->rules, cfg->n_rules) &&
	    rl_slots_current(ctx, cfg->rules, cfg->n_rules)) {
		rep->unchanged = true;
		/* The kernel's SYNPROXY table is outside the maps: put back
		 * if something removed it (idempotent). */
		if (sl_syn_count(&cfg->syn) && !(flags & SL_APPLY_DRY_RUN) &&
		    ctx->lock_fd >= 0 && !ctx->wrapped &&
		    sl_syn_kernel(&cfg->syn, false))
			pr_warn("the kernel's SYNPROXY table could not be "
				"renewed");
		/* Found equal by reading: remember it for the next apply
		 * (user-space data of the running slot; nothing else moves). */
		if (!(flags & (SL_APPLY_KEEP_SETS | SL_APPLY_DRY_RUN)) &&
		    cur.sets_digest != new_digest &&
		    update_digest(ctx, new_digest))
			/* Best effort: the digest only saves a read. (State
			 * upgraded from layout 3 may have no room for a new
			 * record; the next changing apply makes it.) */
			pr_debug("the sets digest was not stored");
		goto out;
	}
	/* A config without interfaces leaves the attachments alone. */
	if (cfg->has_ifaces) {
		err = ifaces_plan(&cur, cfg, &ch, &n_ch);
		if (err)
			goto out;
	}
	rep->ifaces_changed = n_ch;
	rep->dry_run = flags & SL_APPLY_DRY_RUN;
	if ((flags & SL_APPLY_DIFF) &&
	    (err = diff_build(&cur, cfg,
			      !(flags & SL_APPLY_KEEP_SETS) && !same_by_digest,
			      ch, n_ch, rep)))
		goto out;
	if (rep->diff)
		rt_diff(ctx, cfg, rep->diff);
	/* What can be told without changing anything fails first: an
	 * interface that carries programs Sluice does not manage. */
	for (size_t i = 0; i < n_ch && !err; i++)
		if (ch[i].want)
			err = sl_attach_check(ctx, ch[i].name, ch[i].want->mode,
					      ch[i].want->hooks);
	if (err)
		goto out;

	/* Off to the side: new rule definitions in the other defs slot, new
	 * sets in the other set slot (unless they are unchanged: then the
	 * running set maps stay where they are), a new blob. */
	lap(&t, "compare");
	old_defs = ctx->defs_gen;
	defs = old_defs ^ 1;
	gen = keep_sets ? old_gen : old_gen ^ 1;
	/* New maps take the new capacities; the rule definitions map holds
	 * these rules (a power of two, at least 64). */
	ctx->limits = cfg->limits;
	ctx->limits_known = true;
	/* (and the config's record, key 0) */
	for (ctx->defs_cap = 64; ctx->defs_cap < cfg->n_rules + 1;)
		ctx->defs_cap *= 2;
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
	if (!err)
		err = cfg_rec_write(ctx, cfg, new_digest);
	lap(&t, "rule definitions");
	if (!err && !rep->dry_run)
		sl_die_point("apply-filled");
	if (!err && !rep->dry_run)
		err = counters_reset(ctx, cfg->rules, cfg->n_rules, cur.rules,
				     cur.n_rules);
	if (!err)
		err = redirect_slots_fill(ctx, cfg->rules, cfg->n_rules,
					  rd_filled);
	if (!err)
		err = rl_slots_fill(ctx, cfg->rules, cfg->n_rules, cfg->file,
				    rl_filled);
	if (err)
		goto undo;
	lap(&t, "rule counters, redirect and rate limit slots");
	run_log = sl_xdp_blob_log(ctx->skel);
	/* Another class needs other programs: only for pinned state. */
	fd = blob_build(cfg, cfg->rules, cfg->n_rules, gen, defs,
			had_blob ? h.serial + 1 : 1, run_log,
			ctx->lock_fd < 0 || ctx->wrapped, &new_log, &rep->cls);
	if (fd < 0) {
		err = fd;
		goto undo;
	}

	lap(&t, "blob (classifier build)");
	/* The kernel's SYNPROXY table for the new ports: checked (nft -c),
	 * and for real before anything switches (a SYNPROXY for more ports
	 * than the datapath protects yet answers their SYNs itself). */
	if (syn_changed && ctx->lock_fd >= 0 && !ctx->wrapped) {
		err = sl_syn_kernel(&cfg->syn, rep->dry_run);
		if (err)
			goto undo;
		syn_kernel = !rep->dry_run;
	}
	/* A dry run stops here: everything was built and checked, nothing
	 * went live; what it built goes again. */
	if (rep->dry_run)
		goto undo;
	/* The interfaces, before the switch: they run the old config until
	 * it, and if one cannot be changed, the others are put back and the
	 * new config never goes live. */
	if (n_ch) {
		if (running_features(ctx, &feat))
			featp = &feat;
		err = ifaces_apply(ctx, ch, n_ch, featp);
		lap(&t, "interfaces");
		if (err)
			goto undo;
	}
	/* Conntrack switched on or off, or another capacity of a runtime
	 * table: the tables and the programs, before the switch (a packet meets
	 * the old programs with the old blob, or the new ones with either: the
	 * blob's conntrack settings are only timeouts and drop-invalid). */
	err = rt_prepare(ctx, &cur, cfg, &ctc);
	if (err) {
		ifaces_undo(ctx, ch, n_ch, featp);
		goto undo;
	}
	/* Events: the new parameters, and the programs' switch. */
	err = ev_prepare(ctx, &cur, cfg, &evc);
	if (err) {
		rt_undo(ctx, &ctc);
		ifaces_undo(ctx, ch, n_ch, featp);
		goto undo;
	}
	/* The load balancer: its services, and the programs' switch. */
	err = lb_prepare(ctx, &cur, cfg, &lbc);
	if (err) {
		ev_undo(ctx, &cur, &evc);
		rt_undo(ctx, &ctc);
		ifaces_undo(ctx, ch, n_ch, featp);
		goto undo;
	}
	/* The first protected ports: the attachments may still run programs
	 * of an earlier build (without the synproxy stage); this build's
	 * take over, each hook atomically (done already when conntrack
	 * switched). */
	if (syn_changed && !sl_syn_count(&cur.syn) && !ctc.reload &&
	    ctx->lock_fd >= 0 && !ctx->wrapped && !evc.reload && !lbc.reload &&
	    (err = sl_reload(ctx, 0, NULL, NULL))) {
		pr_err("cannot move the attachments to this build's programs: "
		       "%s",
		       strerror(-err));
		lb_undo(ctx, &cur, &lbc);
		ev_undo(ctx, &cur, &evc);
		rt_undo(ctx, &ctc);
		ifaces_undo(ctx, ch, n_ch, featp);
		goto undo;
	}
	/* The protected ports: one batch write, just before the switch. */
	if (syn_changed && (err = sl_syn_write(ctx, &cfg->syn))) {
		lb_undo(ctx, &cur, &lbc);
		ev_undo(ctx, &cur, &evc);
		rt_undo(ctx, &ctc);
		ifaces_undo(ctx, ch, n_ch, featp);
		goto undo;
	}
	/* The switch: one map write. The kernel returns once no program
	 * still runs with the old blob. Or, to another class, new programs
	 * and sl_config (class_switch). */
	outer = sl_map_fd(ctx, SL_MAP_CONFIG);
	if (new_log != run_log)
		err = class_switch(ctx, fd, new_log);
	else if (outer < 0 || bpf_map_update_elem(outer, &key, &fd, BPF_ANY))
		err = outer < 0 ? outer : -errno;
	if (err) {
		pr_err("cannot switch to the new config: %s", strerror(-err));
		if (syn_changed && sl_syn_write(ctx, &cur.syn))
			pr_warn("the synproxy ports may be the new ones");
		lb_undo(ctx, &cur, &lbc);
		ev_undo(ctx, &cur, &evc);
		rt_undo(ctx, &ctc);
		ifaces_undo(ctx, ch, n_ch, featp);
		goto undo;
	}
	rt_done(&ctc);
	close(fd);
	fd = -1;
	rep->swapped = true;

	lap(&t, "switch");
	if (lim_changed)
		err = sl_meta_limits_write(ctx, &cfg->limits);
	/* The old slots are unused now, and the counter chunks no running
	 * rule is in. */
	redirect_slots_prune(ctx, cfg->rules, cfg->n_rules);
	rl_slots_prune(ctx, cfg->rules, cfg->n_rules);
	sl_rule_stats_prune(ctx, cfg->rules, cfg->n_rules);
	err = sl_sets_drop_slot(ctx, old_defs, SL_SLOT_DEFS) ?: err;
	if (!err && !keep_sets)
		err = sl_sets_drop_slot(ctx, old_gen, SL_SLOT_SETS);
	lap(&t, "drop old slots");
	goto out;
undo:
	if (err)
		rep->ifaces_changed = 0;
	/* The redirect and rate limit slots filled for the new rules go
	 * again (a dry run, or a refused apply, must not use them up). */
	redirect_slots_undo(ctx, rd_filled);
	rl_slots_undo(ctx, rl_filled);
	if (syn_kernel && sl_syn_kernel(&cur.syn, false))
		pr_warn("the kernel's SYNPROXY table may be the new one");
	ctx->set_gen = old_gen;
	ctx->defs_gen = old_defs;
	ctx->limits = run_lim;
	sl_sets_drop_slot(ctx, old_defs ^ 1, SL_SLOT_DEFS);
	if (!keep_sets)
		sl_sets_drop_slot(ctx, old_gen ^ 1, SL_SLOT_SETS);
out:
	if (fd >= 0)
		close(fd);
	ctx->defs_cap = 0;
	free(ch);
	sl_config_free(&cur);
	return err;
}
