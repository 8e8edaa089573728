// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* setbulk: set writes that survive the death of the writer. The running
 * config with the change is applied (apply.c): the sets are built in the
 * unused slot off to the side and switched in with one map write, so a
 * writer killed at any point, even by SIGKILL, leaves the sets as they
 * were (and the next command frees the slot it filled, ctx.c). Used for
 * the bulk writes (block/unblock/allow/unallow --file). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "names.h"
#include "sluice.h"

/* Entries ordered by direction, family, address and length. */
static int entry_cmp(const void *a, const void *b)
{
	const struct sl_set_entry *x = a, *y = b;
	int d;

	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	if (x->prefix.family != y->prefix.family)
		return x->prefix.family < y->prefix.family ? -1 : 1;
	d = memcmp(x->prefix.addr, y->prefix.addr, sizeof(x->prefix.addr));
	if (d)
		return d;
	return (int)x->prefix.plen - (int)y->prefix.plen;
}

/* The error of removing a prefix the set does not hold. */
static int not_there(const struct sl_prefix *p, int kind, int dir)
{
	char buf[64];

	sl_prefix_format(p, buf, sizeof(buf));
	pr_err("%s (%s) is not in the %s set (nothing was removed)", buf,
	       sl_dir_name(dir), sl_set_kind_name(kind));
	return -EINVAL;
}

int sl_set_write_aside(struct sl_ctx *ctx, int kind, int dir,
		       const struct sl_prefix *p, size_t n, bool add,
		       size_t *changed)
{
	struct sl_config cfg;
	struct sl_apply_report rep;
	struct sl_set_entry *want = NULL, *all = NULL;
	size_t nw = 0, na = 0, nchg = 0;
	int err;

	if (changed)
		*changed = 0;
	err = sl_config_read(ctx, &cfg, SL_READ_NO_IFACES);
	if (err)
		return err;
	cfg.has_ifaces = false; /* the attachments stay as they are */
	want = calloc(n ? n : 1, sizeof(*want));
	all = calloc(cfg.n_sets + n + 1, sizeof(*all));
	if (!want || !all) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		want[nw++] = (struct sl_set_entry){
		    .prefix = p[i], .kind = kind, .dir = dir};
	qsort(want, nw, sizeof(*want), entry_cmp);
	/* A prefix listed twice is one request. */
	for (size_t i = 1, k = 1; i <= nw; i++) {
		if (i == nw) {
			nw = nw ? k : 0;
			break;
		}
		if (entry_cmp(&want[k - 1], &want[i]))
			want[k++] = want[i];
	}
	qsort(cfg.sets, cfg.n_sets, sizeof(*cfg.sets), entry_cmp);
	/* Merge the running entries (sorted) with the request (sorted). */
	for (size_t i = 0, j = 0; i < cfg.n_sets || j < nw;) {
		int c = i == cfg.n_sets ? 1
			: j == nw	? -1
					: entry_cmp(&cfg.sets[i], &want[j]);
		char buf[64];

		if (c < 0) {
			all[na++] = cfg.sets[i++];
			continue;
		}
		if (c > 0) {
			if (!add) {
				err = not_there(&want[j].prefix, kind, dir);
				goto out;
			}
			all[na++] = want[j++];
			nchg++;
			continue;
		}
		/* The prefix is running. */
		if (cfg.sets[i].kind != kind) {
			sl_prefix_format(&want[j].prefix, buf, sizeof(buf));
			if (add)
				pr_err("%s (%s) is in the %s set; remove it "
				       "with 'sluice %s' first",
				       buf, sl_dir_name(dir),
				       sl_set_kind_name(cfg.sets[i].kind),
				       cfg.sets[i].kind == SL_SET_DENY
					   ? "unblock"
					   : "unallow");
			else
				(void)not_there(&want[j].prefix, kind, dir);
			err = -EINVAL;
			goto out;
		}
		if (add)
			all[na++] = cfg.sets[i]; /* kept, counters and all */
		else
			nchg++;
		i++;
		j++;
	}
	free(cfg.sets);
	cfg.sets = all;
	cfg.n_sets = na;
	all = NULL;
	err = sl_apply(ctx, &cfg, 0, &rep);
	if (!err && changed)
		*changed = nchg;
out:
	free(want);
	free(all);
	sl_config_free(&cfg);
	return err;
}

int sl_set_write(struct sl_ctx *ctx, int kind, int dir,
		 const struct sl_prefix *p, size_t n, bool add, bool aside,
		 size_t *changed)
{
	int err;

	if (aside || sl_set_maps_touched(p, n) > 1)
		return sl_set_write_aside(ctx, kind, dir, p, n, add, changed);
	if (add)
		return sl_set_add(ctx, kind, dir, p, n, changed);
	err = sl_set_del(ctx, kind, dir, p, n);
	if (!err && changed)
		*changed = n;
	return err;
}
