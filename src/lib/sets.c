// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* sets: the allow/deny set tries. Validates a whole request against the
 * running tables, then writes it with batch map operations, undoing what it
 * wrote if the kernel refuses part of it. A whole slot (apply) is filled in
 * address order, one thread per map, sharing the maps that do not change
 * with the running slot. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "mem.h"
#include "names.h"
#include "sluice.h"

/* Where an entry lives: host entries (full length) in the exact-match
 * hashes, every other prefix in the tries. */
static bool is_host(const struct sl_prefix *p)
{
	return p->plen == (p->family == AF_INET ? 32 : 128);
}

/* The set map (slots.c index) of a family, direction and kind of entry. */
static int set_map_index(int family, int dir, bool host)
{
	return (host ? 4 : 0) + (family == AF_INET6 ? 2 : 0) +
	       (dir == SL_DIR_DST ? 1 : 0);
}

static const char *set_map_name(int family, int dir, bool host)
{
	return sl_slot_name(set_map_index(family, dir, host));
}

#define N_SET_MAPS 8 /* sl_slot_name(0..7): the tries and host hashes */

/* The set map (set_maps index) of an entry. */
static int map_of(const struct sl_set_entry *e)
{
	return set_map_index(e->prefix.family, e->dir, is_host(&e->prefix));
}

static const char *map_what(int m)
{
	static const char *const what[N_SET_MAPS] = {
	    "IPv4 prefixes (src)",    "IPv4 prefixes (dst)",
	    "IPv6 prefixes (src)",    "IPv6 prefixes (dst)",
	    "IPv4 hosts, /32 (src)",  "IPv4 hosts, /32 (dst)",
	    "IPv6 hosts, /128 (src)", "IPv6 hosts, /128 (dst)",
	};

	return what[m];
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

/* ---- order: a stable LSD radix sort on byte keys ---- */

#define RKEY 20

/* A sort record: the key, most significant byte first, and the index of
 * the element it stands for. */
struct rrec {
	__u8 k[RKEY];
	__u32 idx;
};

/* Sorts r[0..n) by key, stably (equal keys keep their order). tmp has room
 * for n records. A byte position where every key holds the same value is
 * skipped, so IPv4-only input costs about five passes. Returns the sorted
 * array: r or tmp. */
static struct rrec *radix_sort(struct rrec *r, struct rrec *tmp, size_t n)
{
	size_t(*h)[256] = calloc(RKEY, sizeof(*h));

	if (!h)
		return NULL;
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < RKEY; b++)
			h[b][r[i].k[b]]++;
	for (int b = RKEY - 1; b >= 0 && n; b--) {
		size_t off = 0;
		struct rrec *t;

		if (h[b][r[0].k[b]] == n)
			continue; /* one value: nothing to order */
		for (int v = 0; v < 256; v++) {
			size_t c = h[b][v];

			h[b][v] = off;
			off += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[h[b][r[i].k[b]]++] = r[i];
		t = r;
		r = tmp;
		tmp = t;
	}
	free(h);
	return r;
}

/* The canonical key of an entry: kind (deny first) when by_kind, then
 * direction, family, address, prefix length. */
static void key_canonical(struct rrec *r, const struct sl_set_entry *e,
			  bool by_kind)
{
	r->k[0] = by_kind ? e->kind != SL_SET_DENY : 0;
	r->k[1] = e->dir;
	r->k[2] = e->prefix.family;
	memcpy(r->k + 3, e->prefix.addr, 16);
	r->k[19] = e->prefix.plen;
}

/* Where sorted_recs() takes its entries, and which key it makes. */
struct rec_src {
	const char *base; /* entry i at base + i * stride */
	size_t stride;
	bool by_kind; /* canonical key: kind first */
	bool fill;    /* fill-order key (fill_order) instead */
};

static void rec_key(struct rrec *r, const struct rec_src *s, size_t i)
{
	const struct sl_set_entry *e = (const void *)(s->base + i * s->stride);

	if (s->fill) {
		memset(r->k, 0, RKEY);
		r->k[0] = map_of(e);
		memcpy(r->k + 1, e->prefix.addr, 16);
		r->k[17] = e->prefix.plen;
		r->k[18] = e->kind;
	} else {
		key_canonical(r, e, s->by_kind);
	}
	r->idx = i;
}

/* The n records of s, radix-sorted (malloc'ed: free it), or NULL when out
 * of memory. */
static struct rrec *sorted_recs(const struct rec_src *s, size_t n)
{
	struct rrec *r = sl_malloc_big((n ? n : 1) * sizeof(*r));
	struct rrec *tmp = sl_malloc_big((n ? n : 1) * sizeof(*tmp));
	struct rrec *out = NULL;

	if (r && tmp && n <= UINT32_MAX) {
		for (size_t i = 0; i < n; i++)
			rec_key(&r[i], s, i);
		out = radix_sort(r, tmp, n);
	}
	if (out != r)
		free(r);
	if (out != tmp)
		free(tmp);
	return out;
}

int sl_set_order(const void *base, size_t stride, size_t n, bool by_kind,
		 uint32_t *perm)
{
	struct rec_src src = {base, stride, by_kind, false};
	struct rrec *out = sorted_recs(&src, n);

	for (size_t i = 0; out && i < n; i++)
		perm[i] = out[i].idx;
	free(out);
	return out ? 0 : -ENOMEM;
}

/* Canonical records of v, sorted; NULL when out of memory. */
static struct rrec *canonical(const struct sl_set_entry *v, size_t n,
			      struct rrec **mem)
{
	struct rec_src src = {(const char *)v, sizeof(*v), true, false};

	*mem = sorted_recs(&src, n);
	return *mem;
}

bool sl_set_entries_equal(const struct sl_set_entry *a, size_t na,
			  const struct sl_set_entry *b, size_t nb)
{
	struct rrec *ra = NULL, *rb = NULL;
	bool eq = na == nb;

	if (eq && na) {
		/* Out of memory: "differs" is the safe answer. */
		eq = canonical(a, na, &ra) && canonical(b, nb, &rb);
		for (size_t i = 0; eq && i < na; i++)
			eq = !memcmp(ra[i].k, rb[i].k, RKEY);
	}
	free(ra);
	free(rb);
	return eq;
}

int sl_set_entries_sort(struct sl_set_entry *v, size_t n)
{
	uint32_t *perm = sl_malloc_big((n ? n : 1) * sizeof(*perm));
	struct sl_set_entry *c = sl_malloc_big((n ? n : 1) * sizeof(*c));
	int err = perm && c ? 0 : -ENOMEM;

	if (!err)
		err = sl_set_order(v, sizeof(*v), n, true, perm);
	if (!err) {
		for (size_t i = 0; i < n; i++)
			c[i] = v[perm[i]];
		memcpy(v, c, n * sizeof(*v));
	}
	free(perm);
	free(c);
	return err;
}

/* Sorted (address order, shorter first), de-duplicated copy of the
 * input: the order a trie fills fastest in. */
static struct sl_prefix *unique_prefixes(const struct sl_prefix *p, size_t n,
					 size_t *out_n)
{
	struct sl_prefix *v = sl_malloc_big((n ? n : 1) * sizeof(*v));
	struct rrec *r = sl_malloc_big((n ? n : 1) * sizeof(*r));
	struct rrec *tmp = sl_malloc_big((n ? n : 1) * sizeof(*tmp));
	struct rrec *o = NULL;
	size_t m = 0;

	if (v && r && tmp && n <= UINT32_MAX) {
		for (size_t i = 0; i < n; i++) {
			memset(r[i].k, 0, RKEY);
			r[i].k[0] = p[i].family;
			memcpy(r[i].k + 1, p[i].addr, 16);
			r[i].k[17] = p[i].plen;
			r[i].idx = i;
		}
		o = radix_sort(r, tmp, n);
	}
	for (size_t i = 0; o && i < n; i++)
		if (!i || memcmp(o[i - 1].k, o[i].k, 18))
			v[m++] = p[o[i].idx];
	free(r);
	free(tmp);
	if (!o) {
		free(v);
		return NULL;
	}
	*out_n = m;
	return v;
}

static double mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
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

/* ---- the host presence bitmap ---- */

/* Reads words region + w of the bitmap for the k word offsets in w[] into
 * cur[]: per word when few, else the whole region with batch lookups. */
static int bits_read(int fd, __u32 region, const __u32 *w, size_t k, __u64 *cur)
{
	__u32 *keys, prev, out, want = SL_HOST_REGION_WORDS, got = 0;
	__u64 *all;
	int err = 0;

	if (k <= 4096) {
		for (size_t j = 0; j < k; j++) {
			__u32 key = region + w[j];

			if (bpf_map_lookup_elem(fd, &key, &cur[j]))
				return -errno;
		}
		return 0;
	}
	keys = sl_malloc_big(want * sizeof(*keys));
	all = sl_malloc_big(want * sizeof(*all));
	if (!keys || !all) {
		err = -ENOMEM;
		goto out;
	}
	prev = region - 1;
	while (got < want) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 cnt = want - got;

		/* The batch goes on after in_batch: start before the
		 * region, or at the map's start for region 0. */
		if (bpf_map_lookup_batch(fd, got || region ? &prev : NULL, &out,
					 keys + got, all + got, &cnt, &o) &&
		    errno != ENOENT) {
			err = -errno;
			goto out;
		}
		if (!cnt)
			break;
		got += cnt;
		prev = region + got - 1;
	}
	if (got < want) {
		err = -EIO;
		goto out;
	}
	for (size_t j = 0; j < k; j++)
		cur[j] = all[w[j]];
out:
	free(keys);
	free(all);
	return err;
}

/* Sets the presence bits of n host entries of one family and direction
 * (keys: raw addresses, ksz bytes apart) before they are inserted, so no
 * packet misses an entry. Only the words that change are written, in one
 * batch. Bits are never cleared: a stale bit costs one probe. */
static int bits_set(int fd, int family, int dir, const unsigned char *keys,
		    size_t ksz, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	__u32 region = sl_host_region(family == AF_INET6, dir);
	size_t alen = family == AF_INET ? 4 : 16, k = 0, m = 0;
	__u64 *add = sl_calloc_big(SL_HOST_REGION_WORDS, sizeof(*add));
	__u64 *cur = NULL;
	__u32 *w = NULL, cnt;
	int err = 0;

	if (!add)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		__u32 a[4] = {0}, b;

		memcpy(a, keys + i * ksz, alen);
		b = sl_host_bucket(a, alen / 4);
		add[b >> 6] |= 1ULL << (b & 63);
	}
	for (__u32 i = 0; i < SL_HOST_REGION_WORDS; i++)
		k += !!add[i];
	w = sl_malloc_big((k ? k : 1) * sizeof(*w));
	cur = sl_malloc_big((k ? k : 1) * sizeof(*cur));
	if (!w || !cur) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 i = 0, j = 0; i < SL_HOST_REGION_WORDS; i++)
		if (add[i])
			w[j++] = i;
	err = bits_read(fd, region, w, k, cur);
	if (err)
		goto out;
	/* Keep the words that gain a bit: keys and values in place. */
	for (size_t j = 0; j < k; j++) {
		__u64 v = cur[j] | add[w[j]];

		if (v == cur[j])
			continue;
		w[m] = region + w[j];
		cur[m++] = v;
	}
	cnt = m;
	if (m && bpf_map_update_batch(fd, w, cur, &cnt, &o))
		err = -errno;
out:
	free(add);
	free(w);
	free(cur);
	return err;
}

/* The presence bits of the host entries among p[0..n) (one direction). */
static int host_bits_set(struct sl_ctx *ctx, int family, int dir,
			 const struct sl_prefix *p, size_t n)
{
	int fd = sl_map_fd(ctx, SL_MAP_HOST_BITS), err;
	size_t alen = family == AF_INET ? 4 : 16, m = 0;
	unsigned char *keys;

	if (fd < 0)
		return fd;
	keys = sl_malloc_big((n ? n : 1) * alen);
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (is_host(&p[i]) && p[i].family == family)
			memcpy(keys + alen * m++, p[i].addr, alen);
	err = bits_set(fd, family, dir, keys, alen, m);
	free(keys);
	return err;
}

/* ---- writes that a signal does not cut in two ---- */

/* Holds back SIGINT, SIGTERM, SIGHUP and SIGQUIT while a write and its
 * undo run: a signal that comes meanwhile takes effect once the sets are
 * as before or as asked, never between. (SIGKILL cannot be held.) */
void sl_signals_hold(sigset_t *old)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

void sl_signals_release(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Entries in a map (key size ksz), or 0 if they cannot be counted. */
static size_t map_count(int fd, size_t ksz)
{
	unsigned char in[32], out[32], *keys = malloc(4096 * ksz);
	struct sl_set_val *vals = malloc(4096 * sizeof(*vals));
	size_t total = 0;
	bool first = true;

	while (keys && vals) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 cnt = 4096;
		int err = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys,
					       vals, &cnt, &o);

		if (err && errno != ENOENT && errno != ENOSPC)
			break;
		total += cnt;
		if (err && errno == ENOENT)
			break;
		memcpy(in, out, sizeof(in));
		first = false;
		if (err) /* ENOSPC: a bucket larger than the chunk */
			break;
	}
	free(keys);
	free(vals);
	return total;
}

/* Batch index of a prefix: family x (trie, host). */
static int target_of(const struct sl_prefix *p)
{
	return (p->family == AF_INET6) * 2 + is_host(p);
}

#define NTARGETS 4

/* A 64-bit mix of one entry (splitmix64 over its fields). */
static __u64 entry_hash(const struct sl_set_entry *e)
{
	__u64 h = 0x9e3779b97f4a7c15ULL ^ ((__u64)e->kind << 48) ^
		  ((__u64)e->dir << 40) ^ ((__u64)e->prefix.family << 32) ^
		  e->prefix.plen;

	for (int i = 0; i < 16; i += 8) {
		__u64 w;

		memcpy(&w, e->prefix.addr + i, 8);
		h ^= w;
		h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
		h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
		h ^= h >> 31;
	}
	return h;
}

uint64_t sl_sets_digest(const struct sl_set_entry *e, size_t n)
{
	__u64 sum = 0, x = 0;

	/* Order-free: a sum and an xor of the entries' hashes, and the
	 * count. */
	for (size_t i = 0; i < n; i++) {
		__u64 h = entry_hash(&e[i]);

		sum += h;
		x ^= h * 0x2545f4914f6cdd1dULL;
	}
	sum ^= x ^ ((__u64)n * 0xff51afd7ed558ccdULL);
	return sum ? sum : 1;
}

/* Before a verb changes the running sets in place: the stored digest no
 * longer holds (the next apply reads the sets back). */
static int digest_forget(struct sl_ctx *ctx)
{
	struct sl_cfg_rec rec;
	int err = sl_cfg_rec_get(ctx, &rec);

	if (err || !rec.sets_digest)
		return err == -ENOENT ? 0 : err;
	rec.sets_digest = 0;
	return sl_cfg_rec_put(ctx, &rec);
}

int sl_set_maps_touched(const struct sl_prefix *p, size_t n)
{
	unsigned seen = 0;

	for (size_t i = 0; i < n; i++)
		seen |= 1U << target_of(&p[i]);
	return __builtin_popcount(seen);
}

/* Opens the batches of the targets that p[0..m) has entries for (the
 * others keep fd -1: their maps need not exist). */
static int batches_open(struct sl_ctx *ctx, int dir, const struct sl_prefix *p,
			size_t m, struct batch *b)
{
	size_t cnt[NTARGETS] = {0};

	for (size_t i = 0; i < m; i++)
		cnt[target_of(&p[i])]++;
	for (int t = 0; t < NTARGETS; t++) {
		int family = t / 2 ? AF_INET6 : AF_INET;
		bool host = t % 2;

		b[t].fd = -1;
		b[t].ksz = key_size(family, host);
		if (!cnt[t])
			continue;
		b[t].fd = sl_map_fd(ctx, set_map_name(family, dir, host));
		b[t].keys = sl_malloc_big(cnt[t] * b[t].ksz);
		b[t].vals = sl_calloc_big(cnt[t], sizeof(struct sl_set_val));
		if (b[t].fd < 0 || !b[t].keys || !b[t].vals)
			return b[t].fd < 0 ? b[t].fd : -ENOMEM;
	}
	return 0;
}

/* The set map index (set_maps order) of batch target t and direction. */
static int target_map(int t, int dir)
{
	return (t % 2 ? 4 : 0) + (t / 2 ? 2 : 0) + (dir == SL_DIR_DST);
}

static size_t target_max(struct sl_ctx *ctx, int t)
{
	const struct sl_limits *l = sl_ctx_limits(ctx);

	return t % 2 ? l->hosts : l->prefixes;
}

int sl_set_add(struct sl_ctx *ctx, int kind, int dir,
	       const struct sl_prefix *in, size_t n, size_t *added)
{
	struct batch b[NTARGETS] = {};
	size_t done[NTARGETS] = {}, m;
	struct sl_prefix *p;
	sigset_t sig;
	int err = 0;

	if (added)
		*added = 0;
	p = unique_prefixes(in, n, &m);
	if (!p)
		return -ENOMEM;
	err = batches_open(ctx, dir, p, m, b);
	if (err)
		goto out;
	for (int t = 0; t < NTARGETS; t++)
		b[t].empty = b[t].fd < 0 || sl_map_empty(b[t].fd);
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
	/* Capacity up front: more new entries than a table holds at all. */
	for (int t = 0; t < NTARGETS; t++)
		if (b[t].n > target_max(ctx, t)) {
			pr_err("cannot add %zu %s: at most %zu fit (allow and "
			       "deny together, per family and direction); "
			       "nothing was added; %s",
			       b[t].n, map_what(target_map(t, dir)),
			       target_max(ctx, t), SL_CAPACITY_HINT);
			err = -EINVAL;
			goto out;
		}
	err = digest_forget(ctx);
	if (err)
		goto out;
	sl_signals_hold(&sig);
	/* Presence bits first: a host entry is never in place unseen. */
	if (b[1].n)
		err = host_bits_set(ctx, AF_INET, dir, p, m);
	if (!err && b[3].n)
		err = host_bits_set(ctx, AF_INET6, dir, p, m);
	if (err) {
		sl_signals_release(&sig);
		pr_err("cannot update the host presence bits: %s (nothing was "
		       "added)",
		       strerror(-err));
		goto out;
	}
	for (int t = 0; t < NTARGETS; t++) {
		if (t && done[t - 1])
			/* Tests: a writer dead between two maps. */
			sl_die_point("set-between-maps");
		err = batch_update(&b[t], &done[t]);
		if (!err)
			continue;
		for (int u = 0; u <= t; u++)
			batch_undo(&b[u], done[u]);
		sl_signals_release(&sig);
		if (err == -E2BIG || err == -ENOSPC) {
			size_t have = map_count(b[t].fd, b[t].ksz);

			pr_err("cannot add %zu %s: the table holds %zu of at "
			       "most %zu (allow and deny together, per family "
			       "and direction); nothing was added; %s",
			       b[t].n, map_what(target_map(t, dir)), have,
			       target_max(ctx, t), SL_CAPACITY_HINT);
			err = -EINVAL;
		} else {
			pr_err(
			    "cannot add to the %s set: %s (nothing was added)",
			    sl_set_kind_name(kind), strerror(-err));
		}
		goto out;
	}
	sl_signals_release(&sig);
	if (added)
		for (int t = 0; t < NTARGETS; t++)
			*added += b[t].n;
out:
	batches_free(b, NTARGETS);
	free(p);
	return err;
}

/* Deletes b's keys: one batch, or one at a time where the map type has no
 * batch delete. *done: how many are gone. */
static int batch_delete(struct batch *b, size_t *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 count = b->n;

	*done = 0;
	if (!b->n)
		return 0;
	if (!bpf_map_delete_batch(b->fd, b->keys, &count, &o)) {
		*done = b->n;
		return 0;
	}
	if (errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP) {
		*done = count;
		return -errno;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (bpf_map_delete_elem(b->fd, b->keys + i * b->ksz))
			return -errno;
		*done = i + 1;
	}
	return 0;
}

int sl_set_del(struct sl_ctx *ctx, int kind, int dir,
	       const struct sl_prefix *in, size_t n)
{
	struct batch b[NTARGETS] = {};
	size_t done[NTARGETS] = {}, m;
	struct sl_prefix *p;
	sigset_t sig;
	int err = 0;

	p = unique_prefixes(in, n, &m);
	if (!p)
		return -ENOMEM;
	err = batches_open(ctx, dir, p, m, b);
	if (err)
		goto out;
	/* Every prefix must be there with that kind; keep each entry's value
	 * (counters included) to put it back if the kernel refuses a later
	 * delete. */
	for (size_t i = 0; i < m; i++) {
		struct batch *t = &b[target_of(&p[i])];
		unsigned char key[sizeof(struct sl_lpm_v6)];
		char buf[64];

		if (!lookup_exact(t->fd, &p[i], &t->vals[t->n]) &&
		    t->vals[t->n].kind == kind) {
			key_from_prefix(&p[i], key);
			memcpy(t->keys + t->n * t->ksz, key, t->ksz);
			t->n++;
			continue;
		}
		sl_prefix_format(&p[i], buf, sizeof(buf));
		pr_err("%s (%s) is not in the %s set (nothing was removed)",
		       buf, sl_dir_name(dir), sl_set_kind_name(kind));
		err = -EINVAL;
		goto out;
	}
	err = digest_forget(ctx);
	if (err)
		goto out;
	/* Presence bits stay set: a stale bit costs one probe, never a
	 * wrong verdict. */
	sl_signals_hold(&sig);
	for (int t = 0; t < NTARGETS; t++) {
		if (t && done[t - 1])
			sl_die_point("set-between-maps");
		err = batch_delete(&b[t], &done[t]);
		if (!err)
			continue;
		/* Put back what went: the set is as it was (hits counted
		 * since the lookup above are lost). */
		for (int u = 0; u <= t; u++) {
			struct batch r = b[u];
			size_t put;

			r.n = done[u];
			batch_update(&r, &put);
		}
		pr_err("cannot remove from the %s set: %s (nothing was "
		       "removed)",
		       sl_set_kind_name(kind), strerror(-err));
		break;
	}
	sl_signals_release(&sig);
out:
	batches_free(b, NTARGETS);
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
		void *nv = sl_realloc_big(*v, nc * sizeof(**v));

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

/* Calls fn on every set map of the running slot (a map not made yet is
 * empty and skipped); stops at the first error. */
static int running_maps(struct sl_ctx *ctx,
			int (*fn)(int fd, int family, int dir, bool host,
				  void *arg),
			void *arg)
{
	for (int t = 0; t < NTARGETS; t++)
		for (int dir = 0; dir < SL_DIR_MAX; dir++) {
			int family = t / 2 ? AF_INET6 : AF_INET;
			bool host = t % 2;
			int fd = sl_slot_inner_fd(
			    ctx, set_map_index(family, dir, host), ctx->set_gen,
			    false);
			int err;

			if (fd == -ENOENT)
				continue; /* no map in the slot: empty */
			err = fd < 0 ? fd : fn(fd, family, dir, host, arg);
			if (err)
				return err;
		}
	return 0;
}

struct list_arg {
	int kind;
	struct sl_set_entry *v;
	size_t cnt, cap;
};

static int list_one(int fd, int family, int dir, bool host, void *arg)
{
	struct list_arg *l = arg;

	return list_map(fd, family, dir, host, l->kind, &l->v, &l->cnt,
			&l->cap);
}

int sl_set_list(struct sl_ctx *ctx, int kind, struct sl_set_entry **out,
		size_t *n)
{
	struct list_arg l = {.kind = kind};
	int err = running_maps(ctx, list_one, &l);

	if (err) {
		free(l.v);
		return err;
	}
	*out = l.v;
	*n = l.cnt;
	return 0;
}

/* ---- filling a whole slot (apply) ---- */

static int entry_check(const struct sl_set_entry *e)
{
	char buf[64];

	if ((e->prefix.family == AF_INET && e->prefix.plen <= 32) ||
	    (e->prefix.family == AF_INET6 && e->prefix.plen <= 128))
		if ((e->kind == SL_SET_ALLOW || e->kind == SL_SET_DENY) &&
		    e->dir < SL_DIR_MAX)
			return 0;
	snprintf(buf, sizeof(buf), "family %u /%u", e->prefix.family,
		 e->prefix.plen);
	pr_err("invalid set entry (%s, kind %u, dir %u)", buf, e->kind, e->dir);
	return -EINVAL;
}

/* Fill order without a sort when e is in canonical order (kind, then
 * direction, family, address, length: what sl_config_load stores). The
 * entries of one map and one kind are then in fill order already, so a
 * stable partition by map and kind, and a merge of each map's two kinds,
 * give the order in two linear passes instead of a radix sort's five or
 * more. NULL when e is not canonical (or out of memory). */
static struct rrec *fill_order_canonical(const struct sl_set_entry *e, size_t n)
{
	struct rec_src src = {(const char *)e, sizeof(*e), false, true};
	size_t cnt[N_SET_MAPS][2] = {{0}}, at[N_SET_MAPS][2], pos = 0;
	struct rrec prev, cur, *part = NULL, *out = NULL;

	for (size_t i = 0; i < n; i++) {
		key_canonical(&cur, &e[i], true);
		if (i && memcmp(prev.k, cur.k, RKEY) > 0)
			return NULL;
		prev = cur;
		cnt[map_of(&e[i])][e[i].kind == SL_SET_DENY]++;
	}
	part = sl_malloc_big((n ? n : 1) * sizeof(*part));
	out = sl_malloc_big((n ? n : 1) * sizeof(*out));
	if (!part || !out || n > UINT32_MAX) {
		free(part);
		free(out);
		return NULL;
	}
	for (int m = 0; m < N_SET_MAPS; m++)
		for (int k = 0; k < 2; k++) {
			at[m][k] = pos;
			pos += cnt[m][k];
		}
	for (size_t i = 0; i < n; i++)
		rec_key(&part[at[map_of(&e[i])][e[i].kind == SL_SET_DENY]++],
			&src, i);
	/* at[m][k] is now the end of run (m, k); merge each map's two runs
	 * (key order: address, length, then kind). */
	for (int m = 0; m < N_SET_MAPS; m++) {
		size_t a = at[m][0] - cnt[m][0], ae = at[m][0];
		size_t b = ae, be = at[m][1], o = a;

		while (a < ae || b < be)
			out[o++] =
			    b == be || (a < ae &&
					memcmp(part[a].k, part[b].k, RKEY) <= 0)
				? part[a++]
				: part[b++];
	}
	free(part);
	return out;
}

/* Entries in fill order: by map, address, prefix length (shorter first),
 * kind; the records' idx index e. */
static struct rrec *fill_order(const struct sl_set_entry *e, size_t n,
			       struct rrec **mem)
{
	struct rec_src src = {(const char *)e, sizeof(*e), false, true};

	*mem = fill_order_canonical(e, n);
	if (!*mem)
		*mem = sorted_recs(&src, n);
	return *mem;
}

/* The same place in the same map (kind aside). */
static bool same_key(const struct rrec *a, const struct rrec *b)
{
	return !memcmp(a->k, b->k, 18);
}

/* Counts of the capacity check: entries per set map. */
int sl_set_capacity_check(const struct sl_set_entry *e, size_t n,
			  const struct sl_limits *lim, char *msg, size_t len)
{
	size_t cnt[N_SET_MAPS] = {0};
	struct sl_limits l;

	sl_limits_effective(lim, &l);
	for (size_t i = 0; i < n; i++)
		if (!entry_check(&e[i]))
			cnt[map_of(&e[i])]++;
	for (int m = 0; m < N_SET_MAPS; m++) {
		bool host = m >= 4;
		size_t max = host ? l.hosts : l.prefixes;

		if (cnt[m] <= max)
			continue;
		snprintf(msg, len,
			 "too many set entries: %zu %s asked for, at most %zu "
			 "(allow and deny together, per family and "
			 "direction); %s",
			 cnt[m], map_what(m), max,
			 host ? "aggregate hosts into prefixes or split the "
				"list by direction; " SL_CAPACITY_HINT
			      : SL_CAPACITY_HINT);
		return -EINVAL;
	}
	return 0;
}

/* One map to fill, or one part of a trie's: keys and values in address
 * order. */
struct fill_job {
	int m;	     /* set_maps index */
	int fd;	     /* the new slot's map */
	int bits_fd; /* the presence bitmap, for host maps */
	size_t n, ksz;
	unsigned char *keys;
	struct sl_set_val *vals;
	bool part; /* keys and vals point into another job's arrays */
	int err;
	const char *step;
};

/* The threads a fill runs on: one per CPU, at most FILL_THREADS. */
#define FILL_THREADS 4

static int fill_threads(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	return ncpu < 1 ? 1 : ncpu > FILL_THREADS ? FILL_THREADS : (int)ncpu;
}

/* A trie of at least this many new entries fills from several threads. */
#define FILL_SPLIT_MIN 32768

struct fill_pool {
	pthread_mutex_t lock;
	struct fill_job *jobs;
	int njobs, next;
};

static void fill_one(struct fill_job *j)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);
	__u32 cnt = j->n;

	if (j->m >= 4) {
		/* Presence bits first: a host entry is never in place
		 * unseen (bits are shared by both slots, set early is
		 * harmless). */
		j->step = "the host presence bits";
		j->err = bits_set(j->bits_fd, j->m & 2 ? AF_INET6 : AF_INET,
				  j->m & 1 ? SL_DIR_DST : SL_DIR_SRC, j->keys,
				  j->ksz, j->n);
		if (j->err)
			return;
	}
	j->step = map_what(j->m);
	if (bpf_map_update_batch(j->fd, j->keys, j->vals, &cnt, &o))
		j->err = -errno;
}

static void *fill_worker(void *arg)
{
	struct fill_pool *p = arg;

	for (;;) {
		struct fill_job *j = NULL;

		pthread_mutex_lock(&p->lock);
		if (p->next < p->njobs)
			j = &p->jobs[p->next++];
		pthread_mutex_unlock(&p->lock);
		if (!j)
			return NULL;
		fill_one(j);
	}
}

/* Runs the jobs (largest first) on fill_threads() threads. */
static void fill_run(struct fill_job *jobs, int njobs)
{
	struct fill_pool pool = {.jobs = jobs, .njobs = njobs};
	pthread_t th[FILL_THREADS - 1];
	int nth = 0;

	pthread_mutex_init(&pool.lock, NULL);
	/* LPT order: the big trie starts first, the rest fill around it. */
	for (int i = 1; i < njobs; i++)
		for (int k = i; k > 0 && jobs[k].n > jobs[k - 1].n; k--) {
			struct fill_job t = jobs[k];

			jobs[k] = jobs[k - 1];
			jobs[k - 1] = t;
		}
	for (int i = 1; i < fill_threads() && i < njobs; i++)
		if (!pthread_create(&th[nth], NULL, fill_worker, &pool))
			nth++;
	fill_worker(&pool);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&pool.lock);
}

/* Splits each big trie job into fill_threads() parts over consecutive
 * address ranges: the kernel takes a trie's lock only around the walk, so
 * two threads filling one trie overlap the rest (the copies from user
 * space, the node allocations): 1,000,000 prefixes 0.94 s -> 0.63 s on
 * two CPUs. Host maps stay whole (their presence bits are set first,
 * word by word, by one thread). Returns the new job count (jobs has room
 * for cap). */
static int fill_split(struct fill_job *jobs, int njobs, int cap)
{
	/* Two parts per thread: the host jobs fill around them. */
	int parts = fill_threads() * 2, n0 = njobs;

	for (int i = 0; i < n0 && parts > 2; i++) {
		struct fill_job *j = &jobs[i];
		size_t per = (j->n + parts - 1) / parts;

		if (j->m >= 4 || j->n < FILL_SPLIT_MIN)
			continue;
		for (size_t at = per; at < j->n && njobs < cap; at += per) {
			struct fill_job *q = &jobs[njobs++];

			*q = *j;
			q->part = true;
			q->keys = j->keys + at * j->ksz;
			q->vals = j->vals + at;
			q->n = j->n - at < per ? j->n - at : per;
		}
		j->n = per;
	}
	return njobs;
}

/* Start and end of each map's run in sorted records. */
static void map_runs(const struct rrec *r, size_t n, size_t *lo, size_t *hi)
{
	for (int m = 0; m < N_SET_MAPS; m++)
		lo[m] = hi[m] = 0;
	for (size_t i = 0; i < n; i++) {
		int m = r[i].k[0];

		if (!i || r[i - 1].k[0] != m)
			lo[m] = i;
		hi[m] = i + 1;
	}
}

int sl_sets_fill(struct sl_ctx *ctx, const struct sl_set_entry *e, size_t n,
		 const struct sl_set_entry *run, size_t nrun)
{
	size_t lo[N_SET_MAPS], hi[N_SET_MAPS], rlo[N_SET_MAPS], rhi[N_SET_MAPS];
	struct fill_job jobs[N_SET_MAPS * FILL_THREADS * 2] = {};
	struct rrec *r = NULL, *rr = NULL;
	int gen = ctx->set_gen, from = gen ^ 1, njobs = 0, err = 0;
	int bits = sl_map_fd(ctx, SL_MAP_HOST_BITS);
	double t0 = mono_ms();
	char msg[512];

	if (bits < 0)
		return bits;
	for (size_t i = 0; i < n; i++)
		if (entry_check(&e[i]))
			return -EINVAL;
	if (sl_set_capacity_check(e, n, sl_ctx_limits(ctx), msg, sizeof(msg))) {
		pr_err("%s", msg);
		return -EINVAL;
	}
	if (!fill_order(e, n, &r) || (run && !fill_order(run, nrun, &rr))) {
		err = -ENOMEM;
		goto out;
	}
	map_runs(r, n, lo, hi);
	if (run)
		map_runs(rr, nrun, rlo, rhi);
	pr_debug("sets: %zu entries (and %zu running) in map order: %.1f ms", n,
		 nrun, mono_ms() - t0);
	t0 = mono_ms();
	for (int m = 0; m < N_SET_MAPS && !err; m++) {
		bool host = m >= 4, v6 = m & 2;
		size_t alen = v6 ? 16 : 4, k = 0;
		struct fill_job *j;

		/* A map whose entries equal the running slot's is shared
		 * with it: nothing written, its counters kept. */
		if (run && hi[m] - lo[m] == rhi[m] - rlo[m]) {
			bool same = true;

			for (size_t i = 0; same && i < hi[m] - lo[m]; i++)
				same = !memcmp(r[lo[m] + i].k, rr[rlo[m] + i].k,
					       RKEY);
			if (same) {
				err = sl_slot_share(ctx, m, gen, from);
				continue;
			}
		}
		if (lo[m] == hi[m])
			continue; /* stays empty: the new slot's map is */
		j = &jobs[njobs++];
		j->m = m;
		j->bits_fd = bits;
		j->ksz = key_size(v6 ? AF_INET6 : AF_INET, host);
		j->fd = sl_set_inner_fd(ctx, sl_slot_name(m), gen);
		j->keys = sl_malloc_big((hi[m] - lo[m]) * j->ksz);
		j->vals = sl_calloc_big(hi[m] - lo[m], sizeof(*j->vals));
		if (j->fd < 0 || !j->keys || !j->vals) {
			err = j->fd < 0 ? j->fd : -ENOMEM;
			break;
		}
		size_t ri = run ? rlo[m] : 0;

		for (size_t i = lo[m]; i < hi[m]; i++) {
			const struct sl_set_entry *x = &e[r[i].idx];
			unsigned char *key = j->keys + k * j->ksz;

			if (i > lo[m] && same_key(&r[i - 1], &r[i])) {
				char buf[64];

				if (r[i - 1].k[18] == r[i].k[18])
					continue; /* listed twice: one entry */
				sl_prefix_format(&x->prefix, buf, sizeof(buf));
				pr_err("%s (%s) is in both the allow and the "
				       "deny set",
				       buf, sl_dir_name(x->dir));
				err = -EINVAL;
				break;
			}
			if (host) {
				memcpy(key, x->prefix.addr, alen);
			} else {
				struct sl_lpm_v6 lk;

				key_from_prefix(&x->prefix, &lk);
				memcpy(key, &lk, j->ksz);
			}
			j->vals[k].kind = x->kind;
			j->vals[k].plen = x->prefix.plen;
			/* An entry that stays (same prefix, direction and
			 * set) keeps its hit counters: both lists are in map
			 * order, so one pass finds it. */
			while (run && ri < rhi[m] &&
			       memcmp(rr[ri].k, r[i].k, RKEY) < 0)
				ri++;
			if (run && ri < rhi[m] &&
			    !memcmp(rr[ri].k, r[i].k, RKEY)) {
				j->vals[k].packets = run[rr[ri].idx].packets;
				j->vals[k].bytes = run[rr[ri].idx].bytes;
			}
			k++;
		}
		j->n = k;
	}
	if (err)
		goto out;
	pr_debug("sets: %d maps shared, %d to fill: %.1f ms",
		 N_SET_MAPS - njobs, njobs, mono_ms() - t0);
	t0 = mono_ms();
	njobs = fill_split(jobs, njobs, N_SET_MAPS * FILL_THREADS * 2);
	fill_run(jobs, njobs);
	pr_debug("sets: maps filled: %.1f ms", mono_ms() - t0);
	for (int i = 0; i < njobs && !err; i++)
		if (jobs[i].err) {
			err = jobs[i].err;
			pr_err("cannot fill the new sets (%s): %s",
			       jobs[i].step, strerror(-err));
		}
out:
	for (int i = 0; i < njobs; i++) {
		if (jobs[i].part)
			continue; /* its arrays are its whole job's */
		free(jobs[i].keys);
		free(jobs[i].vals);
	}
	free(r);
	free(rr);
	return err;
}

/* ---- zeroing the hit counters (stats --zero) ---- */

int sl_set_counters_zero(struct sl_ctx *ctx, size_t *zeroed)
{
	struct sl_set_entry *e = NULL;
	size_t n = 0;
	int err;

	*zeroed = 0;
	/* The listing has every fallback (no batch lookup, large buckets). */
	err = sl_set_list(ctx, 0, &e, &n);
	for (size_t i = 0; !err && i < n; i++) {
		unsigned char key[sizeof(struct sl_lpm_v6)];
		struct sl_set_val v = {.kind = e[i].kind,
				       .plen = e[i].prefix.plen};
		int m = map_of(&e[i]);
		int fd;

		if (!e[i].packets && !e[i].bytes)
			continue;
		fd = sl_slot_inner_fd(ctx, m, ctx->set_gen, false);
		key_from_prefix(&e[i].prefix, key);
		if (fd < 0)
			err = fd;
		else if (bpf_map_update_elem(fd, key, &v, BPF_EXIST) &&
			 errno != ENOENT)
			err = -errno;
		else
			(*zeroed)++;
		if (err)
			pr_err("cannot zero the counters of %s: %s",
			       map_what(m), strerror(-err));
	}
	free(e);
	return err;
}

static int count_one(int fd, int family, int dir, bool host, void *arg)
{
	(void)dir;
	*(size_t *)arg += map_count(fd, key_size(family, host));
	return 0;
}

int sl_set_count(struct sl_ctx *ctx, size_t *n)
{
	*n = 0;
	return running_maps(ctx, count_one, n);
}
