// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* sets: the allow/deny set tries. Validates a whole request against the
 * running tables, then writes it with batch map operations, undoing what it
 * wrote if the kernel refuses part of it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "names.h"
#include "sluice.h"

/* Where an entry lives: host entries (full length) in the exact-match
 * hashes, every other prefix in the tries. */
static bool is_host(const struct sl_prefix *p)
{
	return p->plen == (p->family == AF_INET ? 32 : 128);
}

/* The set map of a family, direction and kind of entry (set_maps order). */
static const char *set_map_name(int family, int dir, bool host)
{
	return sl_slot_name((host ? 4 : 0) + (family == AF_INET6 ? 2 : 0) +
			    (dir == SL_DIR_DST ? 1 : 0));
}

static size_t key_size(int family, bool host)
{
	if (host)
		return family == AF_INET ? 4 : sizeof(struct sl_host_v6);
	return family == AF_INET ? sizeof(struct sl_lpm_v4)
				 : sizeof(struct sl_lpm_v6);
}

/* Writes p's key into buf (at least sizeof(struct sl_lpm_v6)): the address
 * for a host entry, the LPM key otherwise. */
static void key_from_prefix(const struct sl_prefix *p, void *buf)
{
	struct sl_lpm_v6 *k = buf;
	size_t alen = p->family == AF_INET ? 4 : 16;

	memset(k, 0, sizeof(*k));
	if (is_host(p)) {
		memcpy(buf, p->addr, alen);
		return;
	}
	k->prefixlen = p->plen;
	memcpy(k->addr, p->addr, alen);
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

/* Looks p up exactly; returns 0 and fills val, or -ENOENT. A trie lookup
 * returns the longest match, so the match must have p's length. */
static int lookup_exact(int fd, const struct sl_prefix *p,
			struct sl_set_val *val)
{
	unsigned char key[sizeof(struct sl_lpm_v6)];

	key_from_prefix(p, key);
	if (bpf_map_lookup_elem(fd, key, val))
		return -ENOENT;
	return val->plen == p->plen ? 0 : -ENOENT;
}

struct bitword {
	__u32 idx;
	__u64 mask;
};

static int bitword_cmp(const void *a, const void *b)
{
	const struct bitword *x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sets the presence bits of the host entries in p (all of one family and
 * direction) before they are inserted, so no packet misses an entry. */
static int host_bits_set(struct sl_ctx *ctx, int family, int dir,
			 const struct sl_prefix *p, size_t n)
{
	int fd = sl_map_fd(ctx, SL_MAP_HOST_BITS), err = 0;
	__u32 region = sl_host_region(family == AF_INET6, dir);
	struct bitword *w;
	__u64 *vals;
	__u32 *keys;
	size_t m = 0, k = 0;

	if (fd < 0)
		return fd;
	w = calloc(n ? n : 1, sizeof(*w));
	keys = calloc(n ? n : 1, sizeof(*keys));
	vals = calloc(n ? n : 1, sizeof(*vals));
	if (!w || !keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		__u32 a[4];
		__u32 b;

		if (!is_host(&p[i]) || p[i].family != family)
			continue;
		memcpy(a, p[i].addr, sizeof(a));
		b = sl_host_bucket(a, family == AF_INET ? 1 : 4);
		w[m].idx = region + (b >> 6);
		w[m++].mask = 1ULL << (b & 63);
	}
	qsort(w, m, sizeof(*w), bitword_cmp);
	for (size_t i = 0; i < m; i++) {
		if (k && keys[k - 1] == w[i].idx) {
			vals[k - 1] |= w[i].mask;
			continue;
		}
		keys[k] = w[i].idx;
		if (bpf_map_lookup_elem(fd, &keys[k], &vals[k])) {
			err = -errno;
			goto out;
		}
		vals[k++] |= w[i].mask;
	}
	for (size_t i = 0; i < k; i++)
		if (bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY)) {
			err = -errno;
			break;
		}
out:
	free(w);
	free(keys);
	free(vals);
	return err;
}

/* Batch index of a prefix: family x (trie, host). */
static int target_of(const struct sl_prefix *p)
{
	return (p->family == AF_INET6) * 2 + is_host(p);
}

#define NTARGETS 4

int sl_set_add(struct sl_ctx *ctx, int kind, int dir,
	       const struct sl_prefix *in, size_t n, size_t *added)
{
	struct batch b[NTARGETS] = {};
	size_t done[NTARGETS] = {}, m;
	struct sl_prefix *p;
	int err = 0;

	if (added)
		*added = 0;
	p = unique_prefixes(in, n, &m);
	if (!p)
		return -ENOMEM;
	for (int t = 0; t < NTARGETS; t++) {
		int family = t / 2 ? AF_INET6 : AF_INET;
		bool host = t % 2;

		b[t].fd = sl_map_fd(ctx, set_map_name(family, dir, host));
		b[t].ksz = key_size(family, host);
		b[t].keys = malloc((m ? m : 1) * b[t].ksz);
		b[t].vals = calloc(m ? m : 1, sizeof(struct sl_set_val));
		if (b[t].fd < 0 || !b[t].keys || !b[t].vals) {
			err = b[t].fd < 0 ? b[t].fd : -ENOMEM;
			goto out;
		}
		b[t].empty = map_empty(b[t].fd);
	}
	/* Validate everything against the running tables first. */
	for (size_t i = 0; i < m; i++) {
		struct batch *t = &b[target_of(&p[i])];
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
	/* Presence bits first: a host entry is never in place unseen. */
	if (b[1].n)
		err = host_bits_set(ctx, AF_INET, dir, p, m);
	if (!err && b[3].n)
		err = host_bits_set(ctx, AF_INET6, dir, p, m);
	if (err) {
		pr_err("cannot update the host presence bits: %s (nothing was "
		       "added)",
		       strerror(-err));
		goto out;
	}
	for (int t = 0; t < NTARGETS; t++) {
		err = batch_update(&b[t], &done[t]);
		if (err) {
			pr_err(
			    "cannot add to the %s set: %s (nothing was added)",
			    sl_set_kind_name(kind), strerror(-err));
			for (int u = 0; u <= t; u++)
				batch_undo(&b[u], done[u]);
			goto out;
		}
	}
	if (added)
		for (int t = 0; t < NTARGETS; t++)
			*added += b[t].n;
out:
	batches_free(b, NTARGETS);
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
		int fd = sl_map_fd(
		    ctx, set_map_name(p[i].family, dir, is_host(&p[i])));
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
	/* Presence bits stay set: a stale bit costs one probe, never a
	 * wrong verdict. */
	for (size_t i = 0; i < m; i++) {
		int fd = sl_map_fd(
		    ctx, set_map_name(p[i].family, dir, is_host(&p[i])));
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

/* Appends one entry read from a set map to the list. */
static int list_push(struct sl_set_entry **v, size_t *cnt, size_t *cap,
		     int family, int dir, bool host, const void *key,
		     const struct sl_set_val *val)
{
	const __u8 *addr = host ? key : ((const struct sl_lpm_v6 *)key)->addr;
	struct sl_set_entry *e;

	if (*cnt == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		void *nv = realloc(*v, nc * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	e = &(*v)[(*cnt)++];
	memset(e, 0, sizeof(*e));
	e->prefix.family = family;
	e->prefix.plen = val->plen;
	memcpy(e->prefix.addr, addr, family == AF_INET ? 4 : 16);
	e->kind = val->kind;
	e->dir = dir;
	e->packets = val->packets;
	e->bytes = val->bytes;
	return 0;
}

/* Reads a whole set map: batch lookups (one syscall per chunk), or one
 * key at a time where the kernel has no batch lookup for the map type. */
static int list_map(int fd, int family, int dir, bool host, int kind,
		    struct sl_set_entry **v, size_t *cnt, size_t *cap)
{
	size_t ksz = key_size(family, host), chunk = 4096;
	unsigned char key[sizeof(struct sl_lpm_v6)];
	unsigned char next[sizeof(struct sl_lpm_v6)];
	unsigned char in[32], out[32];
	struct sl_set_val *vals = NULL, val;
	unsigned char *keys = NULL;
	bool first = true;
	void *prev = NULL;
	int err = 0;

	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 n = chunk;

		if (!keys) {
			keys = malloc(chunk * ksz);
			vals = malloc(chunk * sizeof(*vals));
			if (!keys || !vals) {
				err = -ENOMEM;
				break;
			}
		}
		err = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys,
					   vals, &n, &o);
		if (err && errno == ENOSPC && chunk < (1U << 20)) {
			/* A hash bucket holds more than a chunk: grow. */
			chunk *= 2;
			free(keys);
			free(vals);
			keys = NULL;
			vals = NULL;
			continue;
		}
		if (err && errno != ENOENT) {
			err = -errno;
			break;
		}
		for (__u32 i = 0; i < n; i++)
			if ((!kind || vals[i].kind == kind) &&
			    list_push(v, cnt, cap, family, dir, host,
				      keys + i * ksz, &vals[i])) {
				free(keys);
				free(vals);
				return -ENOMEM;
			}
		if (err) { /* ENOENT: the map is done */
			err = 0;
			break;
		}
		memcpy(in, out, sizeof(in));
		first = false;
	}
	free(keys);
	free(vals);
	if (err != -EINVAL && err != -ENOTSUP && err != -EOPNOTSUPP)
		return err;
	/* No batch lookup for this map type: walk the keys. */
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		if (bpf_map_lookup_elem(fd, next, &val))
			continue; /* removed meanwhile */
		if ((!kind || val.kind == kind) &&
		    list_push(v, cnt, cap, family, dir, host, next, &val))
			return -ENOMEM;
	}
	return 0;
}

int sl_set_list(struct sl_ctx *ctx, int kind, struct sl_set_entry **out,
		size_t *n)
{
	struct sl_set_entry *v = NULL;
	size_t cnt = 0, cap = 0;

	for (int t = 0; t < NTARGETS; t++) {
		for (int dir = 0; dir < SL_DIR_MAX; dir++) {
			int family = t / 2 ? AF_INET6 : AF_INET;
			bool host = t % 2;
			int fd =
			    sl_map_fd(ctx, set_map_name(family, dir, host));
			int err = fd < 0 ? fd
					 : list_map(fd, family, dir, host, kind,
						    &v, &cnt, &cap);

			if (err) {
				free(v);
				return err;
			}
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}
