// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_sets: the `deny` and `allow` sections: prefixes inline or from
 * prefix-list files, gathered across both keys, then de-duplicated,
 * checked (a prefix in both sets, capacities) and stored in canonical
 * order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_sec.h"
#include "log.h"
#include "mem.h"
#include "rulefield.h"

/* A set entry while loading, and where it came from (the position of its
 * YAML node; the file order is the index). */
struct pending_set {
	struct sl_set_entry e;
	struct sl_srcpos pos;
};

/* The entries of both keys, in file order (the section's state). */
struct pending {
	struct sl_cfg_loader *L;
	struct pending_set *v;
	size_t n, cap;
};

/* Room for at least want entries. The n entries so far are copied into a
 * fresh block: growing by copying the whole capacity (realloc) would touch
 * memory reserved but never used. */
static int pending_grow(struct pending *P, size_t want)
{
	struct pending_set *nv;

	if (want <= P->cap)
		return 0;
	nv = sl_malloc_big(want * sizeof(*nv));
	if (!nv) {
		pr_err("%s: out of memory", P->L->path);
		return -ENOMEM;
	}
	if (P->n)
		memcpy(nv, P->v, P->n * sizeof(*nv));
	free(P->v);
	P->v = nv;
	P->cap = want;
	return 0;
}

static int add_set(struct pending *P, int kind, int dir,
		   const struct sl_prefix *p, struct sl_srcpos pos)
{
	struct pending_set *s;

	if (P->n == P->cap) {
		int err = pending_grow(P, P->cap ? P->cap * 2 : 64);

		if (err)
			return err;
	}
	s = &P->v[P->n++];
	memset(s, 0, sizeof(*s));
	s->e.prefix = *p;
	s->e.kind = kind;
	s->e.dir = dir;
	s->pos = pos;
	return 0;
}

/* The entries of a prefix-list file go straight into the pending list. */
struct file_add {
	struct pending *P;
	int kind, dir;
	struct sl_srcpos pos;
};

static int file_add_one(void *arg, const struct sl_prefix *p)
{
	struct file_add *f = arg;

	return add_set(f->P, f->kind, f->dir, p, f->pos);
}

/* The prefix of scalar n (what names it in errors) as an entry. */
static int add_prefix(struct sl_cfg_loader *L, struct pending *P,
		      yaml_node_t *n, const char *what, int kind, int dir)
{
	struct sl_prefix p;
	const char *s;
	char msg[128];
	int err = sl_cfg_scalar(L, n, what, &s);

	if (err)
		return err;
	if (sl_prefix_parse(s, &p, msg, sizeof(msg)))
		return sl_cfg_err(L, n,
				  "%s: expected a prefix, got '%.64s' (%s)",
				  what, s, msg);
	return add_set(P, kind, dir, &p, sl_cfg_pos(n));
}

static int parse_set(struct sl_cfg_loader *L, struct pending *P, yaml_node_t *n,
		     int kind)
{
	static const char *const keys[] = {"prefix", "file", "dir", NULL};
	const char *what = kind == SL_SET_DENY ? "deny" : "allow";
	yaml_node_item_t *it, *top;
	int err;

	err = sl_cfg_list(L, n, what, &it, &top);
	if (err)
		return err;
	for (; it < top; it++) {
		yaml_node_t *m = sl_cfg_node(L, *it), *pv, *fv, *dv;
		const char *s;
		int dir = SL_DIR_SRC;

		if (m->type == YAML_SCALAR_NODE) {
			err = add_prefix(L, P, m, what, kind, SL_DIR_SRC);
			if (err)
				return err;
			continue;
		}
		if (m->type != YAML_MAPPING_NODE)
			return sl_cfg_err(L, m,
					  "%s: expected a prefix or a mapping "
					  "{prefix|file, dir}, got %s",
					  what, sl_cfg_type_name(m));
		err = sl_cfg_check_map(L, m, what, keys);
		if (err)
			return err;
		pv = sl_cfg_map_get(L, m, "prefix");
		fv = sl_cfg_map_get(L, m, "file");
		dv = sl_cfg_map_get(L, m, "dir");
		if (!pv == !fv)
			return sl_cfg_err(
			    L, m,
			    "%s: expected exactly one of 'prefix' and "
			    "'file'",
			    what);
		if (dv) {
			err = sl_cfg_scalar(L, dv, "dir", &s);
			if (err)
				return err;
			if (!strcmp(s, "src"))
				dir = SL_DIR_SRC;
			else if (!strcmp(s, "dst"))
				dir = SL_DIR_DST;
			else
				return sl_cfg_err(
				    L, dv,
				    "dir: expected src or dst, got "
				    "'%.64s'",
				    s);
		}
		if (pv) {
			err = add_prefix(L, P, pv, "prefix", kind, dir);
			if (err)
				return err;
		} else {
			char path[PATH_MAX * 2];
			struct file_add fa;
			struct stat st = {0};

			err = sl_cfg_scalar(L, fv, "file", &s);
			if (err)
				return err;
			if (!*s)
				return sl_cfg_err(L, fv,
						  "file: expected a path");
			if (s[0] == '/')
				snprintf(path, sizeof(path), "%s", s);
			else
				snprintf(path, sizeof(path), "%s/%s", L->dir,
					 s);
			if (access(path, R_OK))
				return sl_cfg_err(L, fv,
						  "file: cannot read '%s': %s",
						  path, strerror(errno));
			if (!stat(path, &st) && !S_ISREG(st.st_mode))
				return sl_cfg_err(
				    L, fv,
				    "file: expected a prefix list file, "
				    "'%s' is %s",
				    path,
				    S_ISDIR(st.st_mode) ? "a directory"
							: "not a regular file");
			/* Room for the file's lines up front (a line takes at
			 * least 8 bytes but for rare short IPv6 ones; at most
			 * 16M entries reserved): one block, touched only as
			 * far as used, instead of doublings that copy and
			 * fault in twice the memory. */
			if (S_ISREG(st.st_mode)) {
				size_t lines = st.st_size / 8;

				err = pending_grow(P, P->n + 64 +
							  (lines < (1U << 24)
							       ? lines
							       : (1U << 24)));
				if (err)
					return err;
			}
			fa = (struct file_add){P, kind, dir, sl_cfg_pos(fv)};
			err = sl_prefix_file_each(path, file_add_one, &fa);
			if (err)
				return err;
		}
	}
	return 0;
}

static bool same_place(const struct sl_set_entry *a,
		       const struct sl_set_entry *b)
{
	return a->dir == b->dir && a->prefix.family == b->prefix.family &&
	       a->prefix.plen == b->prefix.plen &&
	       !memcmp(a->prefix.addr, b->prefix.addr, sizeof(a->prefix.addr));
}

/* Drops repeated entries, refuses a prefix in both kinds for one direction
 * and stores the sets in canonical order. */
static int finish_sets(struct sl_cfg_loader *L, struct pending *P)
{
	struct sl_config *cfg = L->cfg;
	size_t i, n = 0;
	char msg[512];
	uint32_t *perm;
	int err = 0;

	if (!P->n)
		return 0;
	/* File order among equal prefixes (a stable sort), so the error
	 * names the later listing. */
	perm = sl_malloc_big(P->n * sizeof(*perm));
	cfg->sets = sl_calloc_big(P->n, sizeof(*cfg->sets));
	if (!perm || !cfg->sets ||
	    sl_set_order(P->v, sizeof(*P->v), P->n, false, perm)) {
		free(perm);
		return -ENOMEM;
	}
	for (i = 0; i < P->n; i++) {
		struct pending_set *s = &P->v[perm[i]];
		struct pending_set *p = i ? &P->v[perm[i - 1]] : NULL;

		/* A gather in sorted order misses the cache on nearly every
		 * entry (1,000,000 entries: 64 MiB): ask for one ahead. */
		if (i + 16 < P->n)
			__builtin_prefetch(&P->v[perm[i + 16]]);

		if (p && same_place(&p->e, &s->e)) {
			if (p->e.kind != s->e.kind) {
				char buf[64];

				sl_prefix_format(&s->e.prefix, buf,
						 sizeof(buf));
				free(perm);
				return sl_cfg_err_at(
				    L, s->pos,
				    "%s: prefix %s (dir %s) is in both "
				    "allow and deny",
				    s->e.kind == SL_SET_DENY ? "deny" : "allow",
				    buf,
				    s->e.dir == SL_DIR_SRC ? "src" : "dst");
			}
			continue;
		}
		if (s->e.kind == SL_SET_DENY && !s->e.prefix.plen &&
		    (!cfg->deny_all_pos.line ||
		     s->pos.line < cfg->deny_all_pos.line))
			cfg->deny_all_pos = s->pos;
		/* for the lockout guard: deny entries on the management path */
		for (size_t m = 0; s->e.kind == SL_SET_DENY && m < cfg->n_mgmt;
		     m++)
			if (sl_prefix_overlap(&s->e.prefix, &cfg->mgmt[m])) {
				if (cfg->n_deny_mgmt < SL_GUARD_HITS)
					cfg->deny_mgmt[cfg->n_deny_mgmt++] =
					    (struct sl_guard_hit){s->e, s->pos};
				else
					cfg->deny_mgmt_overflow = true;
				break;
			}
		cfg->sets[n++] = s->e;
	}
	free(perm);
	cfg->n_sets = n;
	/* Canonical order: deny first, each kind in the order above (a
	 * stable partition; allow entries are usually few). */
	{
		struct sl_set_entry *allow;
		size_t na = 0, nd = 0;

		for (i = 0; i < n; i++)
			na += cfg->sets[i].kind != SL_SET_DENY;
		allow = malloc((na ? na : 1) * sizeof(*allow));
		if (!allow)
			return -ENOMEM;
		for (i = 0, na = 0; i < n; i++) {
			if (cfg->sets[i].kind == SL_SET_DENY)
				cfg->sets[nd++] = cfg->sets[i];
			else
				allow[na++] = cfg->sets[i];
		}
		memcpy(cfg->sets + nd, allow, na * sizeof(*allow));
		free(allow);
	}
	if (sl_set_capacity_check(cfg->sets, n, &cfg->limits, msg,
				  sizeof(msg))) {
		pr_err("%s: %s", L->path, msg);
		err = -EINVAL;
	}
	return err;
}

/* A prefix as a YAML scalar: IPv6 quoted (it holds colons). */
static void yaml_prefix(const struct sl_prefix *p, char *buf, size_t len)
{
	char t[64];

	sl_prefix_format(p, t, sizeof(t));
	if (p->family == AF_INET6)
		snprintf(buf, len, "\"%s\"", t);
	else
		snprintf(buf, len, "%s", t);
}

static void write_set(FILE *f, const struct sl_config *cfg, int kind)
{
	bool any = false;
	char buf[80];

	for (size_t i = 0; i < cfg->n_sets; i++) {
		const struct sl_set_entry *e = &cfg->sets[i];

		if (e->kind != kind)
			continue;
		if (!any)
			fprintf(f, "%s:\n",
				kind == SL_SET_DENY ? "deny" : "allow");
		any = true;
		yaml_prefix(&e->prefix, buf, sizeof(buf));
		if (e->dir == SL_DIR_DST)
			fprintf(f, "  - {prefix: %s, dir: dst}\n", buf);
		else
			fprintf(f, "  - %s\n", buf);
	}
}

static void json_set(struct jw *w, const struct sl_config *cfg, int kind)
{
	bool any = false;
	char buf[64];

	for (size_t i = 0; i < cfg->n_sets; i++) {
		const struct sl_set_entry *e = &cfg->sets[i];

		if (e->kind != kind)
			continue;
		if (!any) {
			jw_key(w, kind == SL_SET_DENY ? "deny" : "allow");
			jw_arr_open(w);
		}
		any = true;
		sl_prefix_format(&e->prefix, buf, sizeof(buf));
		if (e->dir == SL_DIR_DST) {
			jw_obj_open(w);
			jw_key(w, "prefix");
			jw_str(w, buf);
			jw_key(w, "dir");
			jw_str(w, "dst");
			jw_obj_close(w);
		} else {
			jw_str(w, buf);
		}
	}
	if (any)
		jw_arr_close(w);
}

static int parse_sets(struct sl_cfg_loader *L, const char *key, yaml_node_t *n,
		      void **state)
{
	struct pending *P = *state;

	if (!P) {
		P = calloc(1, sizeof(*P));
		if (!P)
			return -ENOMEM;
		P->L = L;
		*state = P;
	}
	return parse_set(L, P, n,
			 !strcmp(key, "deny") ? SL_SET_DENY : SL_SET_ALLOW);
}

static int sets_finish(struct sl_cfg_loader *L, void *state)
{
	struct pending none = {.L = L};

	return finish_sets(L, state ? state : &none);
}

static void sets_drop(void *state)
{
	struct pending *P = state;

	free(P->v);
	free(P);
}

static int write_sets(FILE *f, const struct sl_config *cfg)
{
	write_set(f, cfg, SL_SET_DENY);
	write_set(f, cfg, SL_SET_ALLOW);
	return 0;
}

static int json_sets(struct jw *w, const struct sl_config *cfg)
{
	json_set(w, cfg, SL_SET_DENY);
	json_set(w, cfg, SL_SET_ALLOW);
	return 0;
}

/* The same entries, as sets. */
static bool sets_equal(const struct sl_config *a, const struct sl_config *b)
{
	return a->n_sets == b->n_sets &&
	       sl_set_entries_equal(a->sets, a->n_sets, b->sets, b->n_sets);
}

static void sets_free(struct sl_config *cfg)
{
	free(cfg->sets);
	cfg->sets = NULL;
	cfg->n_sets = 0;
}

const struct sl_cfg_section sl_cfg_sets = {
    .name = "sets",
    .keys = (const char *const[]){"deny", "allow", NULL},
    .parse = parse_sets,
    .finish = sets_finish,
    .drop = sets_drop,
    .write = write_sets,
    .write_json = json_sets,
    .equal = sets_equal,
    .free = sets_free,
};
