// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* ct: the connection table (sl_ct, bpf/lib/conntrack.h) seen from user
 * space: its entries in the initiator's view with their expiry (the
 * running config's timeouts), filtered; flushing; counts by state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "log.h"
#include "sluice.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The table's fd: the pinned one (or a private ctx's empty one). */
static int ct_fd(struct sl_ctx *ctx)
{
	int fd = sl_map_fd(ctx, SL_MAP_CT);

	if (fd < 0)
		pr_err("no connection table (sl_ct) in this state: %s",
		       strerror(-fd));
	return fd;
}

/* Fills e from a key and value: the initiator's end first. */
static void entry_fill(struct sl_ct_entry *e, const struct sl_ct_key *k,
		       const struct sl_ct_val *v, const struct sl_ct_cfg *cf,
		       uint64_t now)
{
	unsigned o = v->orig & 1;
	uint64_t tmo, idle;

	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->val = *v;
	e->family = k->family == 6 ? AF_INET6 : AF_INET;
	e->proto = k->proto;
	memcpy(e->src, k->addr[o], 16);
	memcpy(e->dst, k->addr[o ^ 1], 16);
	e->sport = k->port[o];
	e->dport = k->port[o ^ 1];
	tmo = (uint64_t)cf->tmo[sl_ct_tmo_of(v->state)] * 1000000000ULL;
	idle = now > v->last ? now - v->last : 0;
	e->age_ns = now > v->first ? now - v->first : 0;
	e->expired = idle > tmo;
	e->expires_ns = e->expired ? 0 : tmo - idle;
}

static bool addr_in(const struct sl_prefix *p, int family, const uint8_t *a)
{
	int n = p->plen;

	if (p->family != family)
		return false;
	if (memcmp(p->addr, a, n / 8))
		return false;
	if (n % 8) {
		uint8_t m = 0xff << (8 - n % 8);

		return (p->addr[n / 8] & m) == (a[n / 8] & m);
	}
	return true;
}

bool sl_ct_match(const struct sl_ct_filter *f, const struct sl_ct_entry *e)
{
	if (!f)
		return true;
	if (f->has_src && !addr_in(&f->src, e->family, e->src))
		return false;
	if (f->has_dst && !addr_in(&f->dst, e->family, e->dst))
		return false;
	if (f->proto >= 0 && f->proto != e->proto)
		return false;
	if (f->state >= 0 && f->state != e->val.state)
		return false;
	/* ports only mean ports for TCP and UDP */
	if (f->port >= 0 &&
	    ((e->proto != IPPROTO_TCP && e->proto != IPPROTO_UDP) ||
	     (f->port != e->sport && f->port != e->dport)))
		return false;
	return true;
}

typedef int (*ct_fn)(void *arg, const struct sl_ct_key *k,
		     const struct sl_ct_val *v);

/* ct_walk's callback, over sl_map_walk's. */
struct ct_walk_arg {
	ct_fn fn;
	void *arg;
};

static int ct_walk_one(void *arg, const void *k, const void *v)
{
	struct ct_walk_arg *a = arg;

	return a->fn(a->arg, k, v);
}

/* Calls fn on every entry (its key and value as read). */
static int ct_walk(int fd, ct_fn fn, void *arg)
{
	struct ct_walk_arg a = {fn, arg};

	return sl_map_walk(fd, ct_walk_one, &a);
}

struct list_arg {
	const struct sl_ct_filter *f;
	struct sl_ct_cfg cf;
	uint64_t now;
	bool expired_too;
	struct sl_ct_entry *v;
	size_t n, cap;
};

static int list_one(void *arg, const struct sl_ct_key *k,
		    const struct sl_ct_val *v)
{
	struct list_arg *a = arg;
	struct sl_ct_entry e;

	entry_fill(&e, k, v, &a->cf, a->now);
	if ((e.expired && !a->expired_too) || !sl_ct_match(a->f, &e))
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		struct sl_ct_entry *nv = realloc(a->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n++] = e;
	return 0;
}

static int entry_cmp(const void *x, const void *y)
{
	const struct sl_ct_entry *a = x, *b = y;

	if (a->proto != b->proto)
		return a->proto - b->proto;
	if (a->family != b->family)
		return a->family - b->family;
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

static void list_init(struct sl_ctx *ctx, struct list_arg *a,
		      const struct sl_ct_filter *f)
{
	struct sl_ct_cfg run;

	memset(a, 0, sizeof(*a));
	a->f = f;
	sl_blob_ct_read(ctx, &run); /* defaults before the first apply */
	sl_ct_cfg_effective(&run, &a->cf);
	a->now = mono_ns();
}

/* The entries matching f into a->v (expired ones when expired_too). */
static int ct_collect(struct sl_ctx *ctx, const struct sl_ct_filter *f,
		      bool expired_too, struct list_arg *a)
{
	int fd = ct_fd(ctx), err;

	list_init(ctx, a, f);
	if (fd < 0)
		return fd;
	a->expired_too = expired_too;
	err = ct_walk(fd, list_one, a);
	if (err) {
		free(a->v);
		a->v = NULL;
	}
	return err ? err : fd;
}

int sl_ct_list(struct sl_ctx *ctx, const struct sl_ct_filter *f,
	       bool expired_too, struct sl_ct_entry **out, size_t *n)
{
	struct list_arg a;
	int err = ct_collect(ctx, f, expired_too, &a);

	*out = NULL;
	*n = 0;
	if (err < 0)
		return err;
	if (a.n)
		qsort(a.v, a.n, sizeof(*a.v), entry_cmp);
	*out = a.v;
	*n = a.n;
	return 0;
}

int sl_ct_flush(struct sl_ctx *ctx, const struct sl_ct_filter *f,
		size_t *deleted)
{
	struct list_arg a;
	/* the matching entries, expired ones too, then their keys go */
	int fd = ct_collect(ctx, f, true, &a), err = 0;

	*deleted = 0;
	if (fd < 0)
		return fd;
	for (size_t i = 0; !err && i < a.n; i++)
		if (!bpf_map_delete_elem(fd, &a.v[i].key))
			(*deleted)++;
		else if (errno != ENOENT) /* gone meanwhile: fine */
			err = -errno;
	if (err)
		pr_err("cannot flush the connection table: %s", strerror(-err));
	free(a.v);
	return err;
}

static int stats_one(void *arg, const struct sl_ct_key *k,
		     const struct sl_ct_val *v)
{
	struct list_arg *a = arg;
	struct sl_ct_stats *st = (void *)a->v;
	struct sl_ct_entry e;

	entry_fill(&e, k, v, &a->cf, a->now);
	if (e.expired) {
		st->expired++;
		return 0;
	}
	st->entries++;
	st->by_state[v->state < SL_CTS_MAX ? v->state : SL_CTS_NONE]++;
	if (k->proto == IPPROTO_TCP)
		st->tcp++;
	else if (k->proto == IPPROTO_UDP)
		st->udp++;
	else
		st->icmp++;
	if (k->family == 6)
		st->ipv6++;
	return 0;
}

int sl_ct_stats_read(struct sl_ctx *ctx, struct sl_ct_stats *st)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct list_arg a;
	struct sl_ct_cfg run;
	int fd = ct_fd(ctx), err;

	memset(st, 0, sizeof(*st));
	if (fd < 0)
		return fd;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		st->capacity = info.max_entries;
	sl_blob_ct_read(ctx, &run);
	st->enabled = run.enabled;
	list_init(ctx, &a, NULL);
	a.v = (void *)st; /* (stats_one's accumulator) */
	err = ct_walk(fd, stats_one, &a);
	return err;
}
