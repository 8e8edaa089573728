// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* sets: the allow/deny set tries. Validates a whole request against the
 * running tables, then writes it with batch map operations, undoing what it
 * wrote if the kernel refuses part of it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "log.h"
#include "names.h"
#include "sluice.h"

/* The trie for a family and direction. */
static const char *set_map_name(int family, int dir)
{
	if (family == AF_INET)
		return dir == SL_DIR_SRC ? SL_MAP_SET_SRC_V4
					 : SL_MAP_SET_DST_V4;
	return dir == SL_DIR_SRC ? SL_MAP_SET_SRC_V6 : SL_MAP_SET_DST_V6;
}

static size_t key_size(int family)
{
	return family == AF_INET ? sizeof(struct sl_lpm_v4)
				 : sizeof(struct sl_lpm_v6);
}

/* Writes the LPM key of p into buf (at least sizeof(struct sl_lpm_v6)). */
static void key_from_prefix(const struct sl_prefix *p, void *buf)
{
	struct sl_lpm_v6 *k = buf;

	memset(k, 0, sizeof(*k));
	k->prefixlen = p->plen;
	memcpy(k->addr, p->addr, p->family == AF_INET ? 4 : 16);
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct sl_prefix *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	if (x->plen != y->plen)
		return x->plen - y->plen;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* Sorted, de-duplicated copy of the input. */
static struct sl_prefix *unique_prefixes(const struct sl_prefix *p, size_t n,
					 size_t *out_n)
{
	struct sl_prefix *v = malloc((n ? n : 1) * sizeof(*v));
	size_t m = 0;

	if (!v)
		return NULL;
	memcpy(v, p, n * sizeof(*v));
	qsort(v, n, sizeof(*v), prefix_cmp);
	for (size_t i = 0; i < n; i++)
		if (!m || prefix_cmp(&v[m - 1], &v[i]))
			v[m++] = v[i];
	*out_n = m;
	return v;
}

static bool map_empty(int fd)
{
	unsigned char next[sizeof(struct sl_lpm_v6)];

	return bpf_map_get_next_key(fd, NULL, next) && errno == ENOENT;
}

/* One batch of keys and values for one trie. */
struct batch {
	int fd;
	bool empty; /* the trie had no entry: nothing to check against */
	size_t ksz;
	size_t n;
	unsigned char *keys;
	struct sl_set_val *vals;
};

static int batch_update(struct batch *b, size_t *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	__u32 count = b->n;
	int err;

	*done = 0;
	if (!b->n)
		return 0;
	err = bpf_map_update_batch(b->fd, b->keys, b->vals, &count, &o);
	if (!err) {
		*done = b->n;
		return 0;
	}
	if (errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP) {
		*done = count;
		return -errno;
	}
	/* No batch support for this map type: one element at a time. */
	for (size_t i = 0; i < b->n; i++) {
		if (bpf_map_update_elem(b->fd, b->keys + i * b->ksz,
					&b->vals[i], BPF_ANY))
			return -errno;
		*done = i + 1;
	}
	return 0;
}

static void batch_undo(struct batch *b, size_t done)
{
	for (size_t i = 0; i < done; i++)
		bpf_map_delete_elem(b->fd, b->keys + i * b->ksz);
}

static void batches_free(struct batch *b, int nb)
{
	for (int i = 0; i < nb; i++) {
		free(b[i].keys);
		free(b[i].vals);
	}
}

/* Looks p up exactly in its trie; returns 0 and fills val, or -ENOENT. An
 * LPM lookup returns the longest match, so the match must have p's length. */
static int lookup_exact(int fd, const struct sl_prefix *p,
			struct sl_set_val *val)
{
	unsigned char key[sizeof(struct sl_lpm_v6)];

	key_from_prefix(p, key);
	if (bpf_map_lookup_elem(fd, key, val))
		return -ENOENT;
	return val->plen == p->plen ? 0 : -ENOENT;
}

int sl_set_add(struct sl_ctx *ctx, int kind, int dir,
	       const struct sl_prefix *in, size_t n, size_t *added)
{
	struct batch b[2] = {};
	size_t done[2] = {}, m;
	struct sl_prefix *p;
	int err = 0;

	if (added)
		*added = 0;
	p = unique_prefixes(in, n, &m);
	if (!p)
		return -ENOMEM;
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;

		b[f].fd = sl_map_fd(ctx, set_map_name(family, dir));
		b[f].ksz = key_size(family);
		b[f].keys = malloc((m ? m : 1) * b[f].ksz);
		b[f].vals = calloc(m ? m : 1, sizeof(struct sl_set_val));
		if (b[f].fd < 0 || !b[f].keys || !b[f].vals) {
			err = b[f].fd < 0 ? b[f].fd : -ENOMEM;
			goto out;
		}
		b[f].empty = map_empty(b[f].fd);
	}
	/* Validate everything against the running tables first. */
	for (size_t i = 0; i < m; i++) {
		struct batch *t = &b[p[i].family == AF_INET6];
		struct sl_set_val cur;
		unsigned char key[sizeof(struct sl_lpm_v6)];

		if (!t->empty && !lookup_exact(t->fd, &p[i], &cur)) {
			char buf[64];

			if (cur.kind == kind)
				continue; /* already there: keep its counters */
			sl_prefix_format(&p[i], buf, sizeof(buf));
			pr_err(
			    "%s (%s) is in the %s set; remove it with 'sluice "
			    "%s' first",
			    buf, sl_dir_name(dir), sl_set_kind_name(cur.kind),
			    cur.kind == SL_SET_DENY ? "unblock" : "unallow");
			err = -EINVAL;
			goto out;
		}
		key_from_prefix(&p[i], key);
		memcpy(t->keys + t->n * t->ksz, key, t->ksz);
		t->vals[t->n].kind = kind;
		t->vals[t->n].plen = p[i].plen;
		t->n++;
	}
	for (int f = 0; f < 2; f++) {
		err = batch_update(&b[f], &done[f]);
		if (err) {
			pr_err(
			    "cannot add to the %s set: %s (nothing was added)",
			    sl_set_kind_name(kind), strerror(-err));
			for (int g = 0; g <= f; g++)
				batch_undo(&b[g], done[g]);
			goto out;
		}
	}
	if (added)
		*added = b[0].n + b[1].n;
out:
	batches_free(b, 2);
	free(p);
	return err;
}

int sl_set_del(struct sl_ctx *ctx, int kind, int dir,
	       const struct sl_prefix *in, size_t n)
{
	struct sl_prefix *p;
	size_t m;
	int err = 0;

	p = unique_prefixes(in, n, &m);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < m; i++) {
		int fd = sl_map_fd(ctx, set_map_name(p[i].family, dir));
		struct sl_set_val cur;
		char buf[64];

		if (fd < 0) {
			err = fd;
			goto out;
		}
		if (!lookup_exact(fd, &p[i], &cur) && cur.kind == kind)
			continue;
		sl_prefix_format(&p[i], buf, sizeof(buf));
		pr_err("%s (%s) is not in the %s set (nothing was removed)",
		       buf, sl_dir_name(dir), sl_set_kind_name(kind));
		err = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < m; i++) {
		int fd = sl_map_fd(ctx, set_map_name(p[i].family, dir));
		unsigned char key[sizeof(struct sl_lpm_v6)];

		key_from_prefix(&p[i], key);
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT) {
			err = -errno;
			pr_err("cannot remove from the %s set: %s",
			       sl_set_kind_name(kind), strerror(errno));
			goto out;
		}
	}
out:
	free(p);
	return err;
}

int sl_set_list(struct sl_ctx *ctx, int kind, struct sl_set_entry **out,
		size_t *n)
{
	struct sl_set_entry *v = NULL;
	size_t cnt = 0, cap = 0;

	for (int f = 0; f < 2; f++) {
		for (int dir = 0; dir < SL_DIR_MAX; dir++) {
			int family = f ? AF_INET6 : AF_INET;
			int fd = sl_map_fd(ctx, set_map_name(family, dir));
			unsigned char key[sizeof(struct sl_lpm_v6)];
			unsigned char next[sizeof(struct sl_lpm_v6)];
			struct sl_set_val val;
			void *prev = NULL;

			if (fd < 0) {
				free(v);
				return fd;
			}
			while (!bpf_map_get_next_key(fd, prev, next)) {
				struct sl_lpm_v6 *k = (void *)next;
				struct sl_set_entry *e;

				memcpy(key, next, sizeof(key));
				prev = key;
				if (bpf_map_lookup_elem(fd, next, &val))
					continue; /* removed meanwhile */
				if (kind && val.kind != kind)
					continue;
				if (cnt == cap) {
					size_t nc = cap ? cap * 2 : 256;
					void *nv = realloc(v, nc * sizeof(*v));

					if (!nv) {
						free(v);
						return -ENOMEM;
					}
					v = nv;
					cap = nc;
				}
				e = &v[cnt++];
				memset(e, 0, sizeof(*e));
				e->prefix.family = family;
				e->prefix.plen = k->prefixlen;
				memcpy(e->prefix.addr, k->addr,
				       family == AF_INET ? 4 : 16);
				e->kind = val.kind;
				e->dir = dir;
				e->packets = val.packets;
				e->bytes = val.bytes;
			}
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}
