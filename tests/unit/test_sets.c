// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_sets: the set writers of libsluice on private maps (sl_xdp_load
 * without programs): block/unblock leave the sets exactly as before when
 * they fail (entries and counters), capacity errors say the limit, the
 * count and how to raise it, a whole slot filled by apply equals its
 * config and keeps the maps (and counters) that did not change, and the
 * radix orders agree with a plain comparison sort. Needs root (BPF). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "sluice.h"

static struct sl_ctx ctx;
static char captured[8192];

/* Runs fn(arg) with stderr captured into `captured`. */
static int captured_call(int (*fn)(void *), void *arg)
{
	FILE *cap = tmpfile();
	int saved, err;
	size_t got;

	captured[0] = '\0';
	if (!cap)
		return -errno;
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(cap), 2);
	err = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(cap);
	got = fread(captured, 1, sizeof(captured) - 1, cap);
	captured[got] = '\0';
	fclose(cap);
	return err;
}

static struct sl_prefix pfx(const char *s)
{
	struct sl_prefix p;
	char msg[128];

	if (sl_prefix_parse(s, &p, msg, sizeof(msg))) {
		fprintf(stderr, "test_sets: bad prefix %s: %s\n", s, msg);
		exit(1);
	}
	return p;
}

/* Every entry of both kinds, in canonical order. */
static struct sl_set_entry *snapshot(size_t *n)
{
	struct sl_set_entry *e = NULL;
	int err = sl_set_list(&ctx, 0, &e, n);

	if (err || sl_set_entries_sort(e, *n)) {
		fprintf(stderr, "test_sets: sl_set_list: %s\n", strerror(-err));
		free(e);
		return NULL;
	}
	return e ? e : calloc(1, sizeof(*e)); /* empty: not an error */
}

static bool same_snapshot(const struct sl_set_entry *a, size_t na,
			  const struct sl_set_entry *b, size_t nb)
{
	if (!ASSERT_EQ(nb, na, "entries"))
		return false;
	for (size_t i = 0; i < na; i++) {
		char x[64], y[64];

		sl_prefix_format(&a[i].prefix, x, sizeof(x));
		sl_prefix_format(&b[i].prefix, y, sizeof(y));
		if (!ASSERT_TRUE(!strcmp(x, y) && a[i].kind == b[i].kind &&
				     a[i].dir == b[i].dir,
				 "entry %zu is %s, was %s", i, y, x) ||
		    !ASSERT_TRUE(a[i].packets == b[i].packets &&
				     a[i].bytes == b[i].bytes,
				 "%s: counters %llu/%llu, were %llu/%llu", x,
				 (unsigned long long)b[i].packets,
				 (unsigned long long)b[i].bytes,
				 (unsigned long long)a[i].packets,
				 (unsigned long long)a[i].bytes))
			return false;
	}
	return true;
}

/* Gives every entry distinct counters (as hits would), written straight
 * into the running slot's maps. */
static int set_counters(void)
{
	static const char *const names[8] = {
	    SL_MAP_SET_SRC_V4,	SL_MAP_SET_DST_V4,  SL_MAP_SET_SRC_V6,
	    SL_MAP_SET_DST_V6,	SL_MAP_HOST_SRC_V4, SL_MAP_HOST_DST_V4,
	    SL_MAP_HOST_SRC_V6, SL_MAP_HOST_DST_V6,
	};
	__u64 next = 1000;

	for (int m = 0; m < 8; m++) {
		int fd = sl_map_fd(&ctx, names[m]);
		unsigned char *keys = NULL, nk[32];
		size_t n = 0, cap = 0;
		struct sl_set_val v;
		int err = 0;

		if (fd < 0)
			return fd;
		/* Keys first: updating a hash entry moves it, so a walk
		 * that updates as it goes need not end. */
		while (!bpf_map_get_next_key(fd, n ? keys + (n - 1) * 32 : NULL,
					     nk)) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				keys = realloc(keys, cap * 32);
				if (!keys)
					return -ENOMEM;
			}
			memcpy(keys + n++ * 32, nk, 32);
		}
		for (size_t i = 0; i < n && !err; i++) {
			if (bpf_map_lookup_elem(fd, keys + i * 32, &v)) {
				err = -errno;
				break;
			}
			v.packets = next++;
			v.bytes = 1500 * v.packets;
			if (bpf_map_update_elem(fd, keys + i * 32, &v,
						BPF_EXIST))
				err = -errno;
		}
		free(keys);
		if (err)
			return err;
	}
	return 0;
}

/* Empties every set (apply of an empty config). */
static int sets_clear(void)
{
	struct sl_config c = {0};

	return sl_apply(&ctx, &c, 0, NULL);
}

struct op {
	int kind, dir;
	bool add;
	struct sl_prefix *p;
	size_t n;
};

static int op_run(void *arg)
{
	struct op *o = arg;

	return o->add ? sl_set_add(&ctx, o->kind, o->dir, o->p, o->n, NULL)
		      : sl_set_del(&ctx, o->kind, o->dir, o->p, o->n);
}

/* A small deny and allow set over both families, hosts and prefixes,
 * with counters. */
static bool base_sets(void)
{
	struct sl_prefix d[] = {pfx("198.18.1.0/24"), pfx("198.18.2.1"),
				pfx("2001:db8:1::/48"), pfx("2001:db8:2::1")};
	struct sl_prefix a[] = {pfx("198.18.1.7"), pfx("2001:db8:1:5::/64")};

	return ASSERT_EQ(sets_clear(), 0, "clear") &&
	       ASSERT_EQ(sl_set_add(&ctx, SL_SET_DENY, SL_DIR_SRC, d, 4, NULL),
			 0, "block") &&
	       ASSERT_EQ(sl_set_add(&ctx, SL_SET_DENY, SL_DIR_DST, d, 2, NULL),
			 0, "block --dst") &&
	       ASSERT_EQ(sl_set_add(&ctx, SL_SET_ALLOW, SL_DIR_SRC, a, 2, NULL),
			 0, "allow") &&
	       ASSERT_EQ(set_counters(), 0, "counters");
}

/* op must fail with `want` and leave every entry and counter as it was;
 * stderr must contain `msg`. */
static bool fails_unchanged(struct op *o, int want, const char *msg)
{
	struct sl_set_entry *before, *after;
	size_t nb, na;
	bool ok;

	before = snapshot(&nb);
	if (!ASSERT_TRUE(before != NULL, "cannot list the sets"))
		return false;
	ok = ASSERT_EQ(captured_call(op_run, o), want, "return value") &&
	     ASSERT_STR_HAS(captured, msg, "stderr");
	after = snapshot(&na);
	ok = ok && ASSERT_TRUE(after != NULL, "cannot list the sets") &&
	     same_snapshot(before, nb, after, na);
	free(before);
	free(after);
	return ok;
}

static bool check_unblock_absent(void)
{
	struct sl_prefix p[] = {pfx("198.18.1.0/24"), pfx("198.18.2.1"),
				pfx("2001:db8:1::/48"), pfx("198.18.3.0/24")};
	struct op o = {SL_SET_DENY, SL_DIR_SRC, false, p, 4};

	return base_sets() &&
	       fails_unchanged(&o, -EINVAL,
			       "198.18.3.0/24 (src) is not in the deny set "
			       "(nothing was removed)");
}

static bool check_unblock_other_kind(void)
{
	struct sl_prefix p[] = {pfx("2001:db8:2::1"), pfx("198.18.1.7")};
	struct op o = {SL_SET_DENY, SL_DIR_SRC, false, p, 2};

	return base_sets() &&
	       fails_unchanged(&o, -EINVAL,
			       "198.18.1.7/32 (src) is not in the deny set");
}

static bool check_unallow_other_dir(void)
{
	struct sl_prefix p[] = {pfx("198.18.1.7"), pfx("2001:db8:1:5::/64")};
	struct op o = {SL_SET_ALLOW, SL_DIR_DST, false, p, 2};

	return base_sets() &&
	       fails_unchanged(&o, -EINVAL,
			       "198.18.1.7/32 (dst) is not in the allow set");
}

/* A successful unblock of several maps removes exactly those. */
static bool check_unblock_all(void)
{
	struct sl_prefix p[] = {pfx("198.18.1.0/24"), pfx("198.18.2.1"),
				pfx("2001:db8:1::/48"), pfx("2001:db8:2::1")};
	struct sl_set_entry *e;
	size_t n;
	bool ok;

	if (!base_sets() ||
	    !ASSERT_EQ(sl_set_del(&ctx, SL_SET_DENY, SL_DIR_SRC, p, 4), 0,
		       "unblock"))
		return false;
	e = snapshot(&n);
	/* left: 2 dst deny entries and 2 allow entries */
	ok = ASSERT_TRUE(e != NULL, "cannot list") && ASSERT_EQ(n, 4, "left");
	for (size_t i = 0; ok && i < n; i++)
		ok = ASSERT_TRUE(e[i].kind == SL_SET_ALLOW ||
				     e[i].dir == SL_DIR_DST,
				 "entry %zu left in the src deny set", i);
	free(e);
	return ok;
}

/* n distinct IPv4 hosts from 16.0.0.0 (dir's table). */
static struct sl_prefix *hosts(size_t n, __u32 base)
{
	struct sl_prefix *p = calloc(n, sizeof(*p));

	for (size_t i = 0; p && i < n; i++) {
		__u32 a = htonl(base + i);

		p[i].family = AF_INET;
		p[i].plen = 32;
		memcpy(p[i].addr, &a, 4);
	}
	return p;
}

/* The host table full but one: a block whose second new host does not fit
 * fails part-way in the kernel; everything it wrote is undone. */
static bool check_block_full_midway(void)
{
	size_t n = SL_HOST_MAX_ENTRIES - 3; /* base_sets has 2 IPv4 hosts */
	struct sl_prefix *h = hosts(n, 0x10000000);
	struct sl_prefix p[] = {pfx("198.18.5.0/24"), pfx("198.18.6.1"),
				pfx("198.18.6.2"), pfx("2001:db8:7::/48")};
	struct op o = {SL_SET_DENY, SL_DIR_SRC, true, p, 4};
	char want[160];
	bool ok;

	if (!ASSERT_TRUE(h != NULL, "out of memory") || !base_sets()) {
		free(h);
		return false;
	}
	ok = ASSERT_EQ(sl_set_add(&ctx, SL_SET_DENY, SL_DIR_SRC, h, n, NULL), 0,
		       "fill the host table");
	free(h);
	snprintf(want, sizeof(want),
		 "cannot add 2 IPv4 hosts, /32 (src): the table holds %u of "
		 "at most %u",
		 SL_HOST_MAX_ENTRIES - 1, SL_HOST_MAX_ENTRIES);
	ok = ok && fails_unchanged(&o, -EINVAL, want) &&
	     ASSERT_STR_HAS(captured, "limits: {set-hosts: N}", "stderr");
	return ok;
}

/* More hosts than the table holds at all: refused before any write. */
static bool check_block_too_many(void)
{
	size_t n = SL_HOST_MAX_ENTRIES + 1;
	struct sl_prefix *h = hosts(n, 0x20000000);
	struct op o = {SL_SET_DENY, SL_DIR_DST, true, h, n};
	char want[160];
	bool ok;

	if (!ASSERT_TRUE(h != NULL, "out of memory") ||
	    !ASSERT_EQ(sets_clear(), 0, "clear")) {
		free(h);
		return false;
	}
	snprintf(want, sizeof(want),
		 "cannot add %u IPv4 hosts, /32 (dst): at most %u fit",
		 SL_HOST_MAX_ENTRIES + 1, SL_HOST_MAX_ENTRIES);
	ok = fails_unchanged(&o, -EINVAL, want) &&
	     ASSERT_STR_HAS(captured, "nothing was added", "stderr") &&
	     ASSERT_STR_HAS(captured, "limits: {set-hosts: N}", "stderr");
	free(h);
	return ok;
}

/* ---- whole slots (apply) ---- */

static void entry(struct sl_set_entry *e, const char *s, int kind, int dir)
{
	memset(e, 0, sizeof(*e));
	e->prefix = pfx(s);
	e->kind = kind;
	e->dir = dir;
}

/* n entries over all eight maps (deterministic); a prefix's kind follows
 * from the prefix, so a repeated prefix is a repeated entry. */
static struct sl_set_entry *mixed(size_t n, unsigned seed)
{
	struct sl_set_entry *v = calloc(n, sizeof(*v));

	for (size_t i = 0; v && i < n; i++) {
		unsigned x = (unsigned)i * 2654435761U ^ seed, h = 0;
		char s[64];
		int m = i % 8;

		if (m & 2)
			snprintf(s, sizeof(s), "2001:db8:%x:%x::%s",
				 (x >> 16) & 0xffff, x & 0xffff,
				 m & 4 ? "1" : "/64");
		else
			snprintf(s, sizeof(s), "%u.%u.%u.%s",
				 16 + (x >> 24) % 64, (x >> 16) & 255,
				 (x >> 8) & 255, m & 4 ? "1" : "0/24");
		for (const char *c = s; *c; c++)
			h = h * 31 + (unsigned char)*c;
		entry(&v[i], s, h % 5 ? SL_SET_DENY : SL_SET_ALLOW,
		      m & 1 ? SL_DIR_DST : SL_DIR_SRC);
	}
	return v;
}

/* Sorts and drops repeated entries. */
static size_t dedup(struct sl_set_entry *v, size_t n)
{
	size_t m = 0;

	sl_set_entries_sort(v, n);
	for (size_t i = 0; i < n; i++)
		if (!m || v[m - 1].kind != v[i].kind ||
		    v[m - 1].dir != v[i].dir ||
		    memcmp(&v[m - 1].prefix, &v[i].prefix, sizeof(v[i].prefix)))
			v[m++] = v[i];
	return m;
}

static bool apply_sets(struct sl_set_entry *v, size_t n)
{
	struct sl_config c = {0};

	c.sets = v;
	c.n_sets = n;
	return ASSERT_EQ(sl_apply(&ctx, &c, 0, NULL), 0, "apply");
}

static bool listed_equal(const struct sl_set_entry *v, size_t n)
{
	struct sl_set_entry *e;
	size_t m;
	bool ok;

	e = snapshot(&m);
	ok = ASSERT_TRUE(e != NULL, "cannot list") &&
	     ASSERT_EQ(m, n, "entries listed") &&
	     ASSERT_TRUE(sl_set_entries_equal(v, n, e, m),
			 "the listed entries differ from the config's");
	free(e);
	return ok;
}

/* Counter of one entry, or -1. */
static long long packets_of(const char *s, int kind, int dir)
{
	struct sl_set_entry *e;
	struct sl_prefix p = pfx(s);
	long long r = -1;
	size_t n;

	e = snapshot(&n);
	for (size_t i = 0; e && i < n; i++)
		if (e[i].kind == kind && e[i].dir == dir &&
		    !memcmp(&e[i].prefix, &p, sizeof(p)))
			r = e[i].packets;
	free(e);
	return r;
}

static bool check_fill_and_share(void)
{
	size_t n = 4000, na, nb;
	struct sl_set_entry *a = mixed(n, 1), *b = mixed(n, 2);
	struct sl_set_entry extra;
	long long v4, v6;
	bool ok;

	if (!ASSERT_TRUE(a && b, "out of memory"))
		goto fail;
	na = dedup(a, n);
	nb = dedup(b, n);
	/* The first IPv4 source deny prefix of a (not a host) and one IPv6
	 * host: their counters tell whether their maps were kept. */
	ok = ASSERT_EQ(sets_clear(), 0, "clear") && apply_sets(a, na) &&
	     listed_equal(a, na) && ASSERT_EQ(set_counters(), 0, "counters");
	if (!ok)
		goto fail;
	v4 = -1;
	for (size_t i = 0; i < na && v4 < 0; i++)
		if (a[i].prefix.family == AF_INET && a[i].prefix.plen == 24 &&
		    a[i].dir == SL_DIR_SRC) {
			char s[64];

			sl_prefix_format(&a[i].prefix, s, sizeof(s));
			v4 = packets_of(s, a[i].kind, SL_DIR_SRC);
		}
	/* One more IPv6 destination host: only that map changes. */
	a = realloc(a, (na + 1) * sizeof(*a));
	entry(&extra, "2001:db8:ffff::9", SL_SET_DENY, SL_DIR_DST);
	a[na] = extra;
	ok = ASSERT_TRUE(v4 > 0, "no counter on the IPv4 prefixes") &&
	     apply_sets(a, na + 1) && listed_equal(a, na + 1);
	for (size_t i = 0; ok && i < na; i++) {
		char s[64];

		if (a[i].prefix.family != AF_INET || a[i].prefix.plen != 24 ||
		    a[i].dir != SL_DIR_SRC)
			continue;
		sl_prefix_format(&a[i].prefix, s, sizeof(s));
		ok = ASSERT_EQ(packets_of(s, a[i].kind, SL_DIR_SRC), v4,
			       "an unchanged map keeps its counters");
		break;
	}
	v6 = packets_of("2001:db8:ffff::9", SL_SET_DENY, SL_DIR_DST);
	ok = ok && ASSERT_EQ(v6, 0, "the new entry starts at 0");
	/* Every entry new: the listing is b's. */
	ok = ok && apply_sets(b, nb) && listed_equal(b, nb);
	/* And back to nothing. */
	ok = ok && ASSERT_EQ(sets_clear(), 0, "clear") && listed_equal(b, 0);
	free(a);
	free(b);
	return ok;
fail:
	free(a);
	free(b);
	return false;
}

/* A trie big enough that apply fills it from several threads, in parts
 * over consecutive address ranges (sets.c, fill_split): every entry is
 * written, and the entries that stay keep their counters across a refill
 * of the map, whichever part carried them. */
static bool check_fill_split(void)
{
	size_t n = 120000, m, nl;
	struct sl_set_entry *v = calloc(n + 1, sizeof(*v)), *before, *after;
	bool ok = ASSERT_TRUE(v != NULL, "out of memory");

	for (size_t i = 0; ok && i < n; i++) {
		__u32 a = htonl(0x10000000U + (__u32)(i * 2) * 256);

		v[i].prefix.family = AF_INET;
		v[i].prefix.plen = 24;
		memcpy(v[i].prefix.addr, &a, 4);
		v[i].kind = i % 7 ? SL_SET_DENY : SL_SET_ALLOW;
		v[i].dir = SL_DIR_SRC;
	}
	ok = ok && ASSERT_EQ(sets_clear(), 0, "clear") && apply_sets(v, n) &&
	     listed_equal(v, n) && ASSERT_EQ(set_counters(), 0, "counters");
	before = ok ? snapshot(&m) : NULL;
	ok = ok && ASSERT_TRUE(before != NULL, "cannot list") &&
	     ASSERT_EQ(m, n, "entries listed");
	/* One new /24 between two others: the trie is filled anew. */
	if (ok) {
		__u32 a = htonl(0x10000000U + (__u32)(n + 1) * 256);

		v[n] = v[0];
		memcpy(v[n].prefix.addr, &a, 4);
		v[n].kind = SL_SET_DENY;
	}
	ok = ok && apply_sets(v, n + 1) && listed_equal(v, n + 1);
	after = ok ? snapshot(&nl) : NULL;
	ok = ok && ASSERT_TRUE(after != NULL, "cannot list") &&
	     ASSERT_EQ(nl, n + 1, "entries listed");
	/* Both listings are sorted; the new entry is the only extra. */
	for (size_t i = 0, j = 0; ok && i < m; i++, j++) {
		if (memcmp(&after[j].prefix, &before[i].prefix,
			   sizeof(before[i].prefix))) {
			ok = ASSERT_EQ(after[j].packets, 0,
				       "the new entry starts at 0");
			j++;
		}
		ok = ok &&
		     ASSERT_TRUE(!memcmp(&after[j].prefix, &before[i].prefix,
					 sizeof(before[i].prefix)),
				 "entry %zu listed", i) &&
		     ASSERT_TRUE(before[i].packets >= 1000,
				 "entry %zu has its counter", i) &&
		     ASSERT_TRUE(after[j].packets == before[i].packets &&
				     after[j].bytes == before[i].bytes,
				 "entry %zu keeps its counters: %llu/%llu, "
				 "was %llu/%llu",
				 i, (unsigned long long)after[j].packets,
				 (unsigned long long)after[j].bytes,
				 (unsigned long long)before[i].packets,
				 (unsigned long long)before[i].bytes);
	}
	ok = ok && ASSERT_EQ(sets_clear(), 0, "clear");
	free(before);
	free(after);
	free(v);
	return ok;
}

struct fill_arg {
	struct sl_set_entry *v;
	size_t n;
};

static int apply_run(void *arg)
{
	struct fill_arg *f = arg;
	struct sl_config c = {0};

	c.sets = f->v;
	c.n_sets = f->n;
	return sl_apply(&ctx, &c, 0, NULL);
}

/* A prefix in both kinds for one direction: refused, nothing changes. */
static bool check_fill_conflict(void)
{
	struct sl_set_entry v[3];
	struct fill_arg f = {v, 3};
	struct sl_set_entry *before, *after;
	size_t nb, na;
	bool ok;

	if (!base_sets())
		return false;
	entry(&v[0], "198.18.9.0/24", SL_SET_DENY, SL_DIR_SRC);
	entry(&v[1], "198.18.9.0/24", SL_SET_ALLOW, SL_DIR_SRC);
	entry(&v[2], "198.18.9.0/24", SL_SET_ALLOW, SL_DIR_DST);
	before = snapshot(&nb);
	ok = ASSERT_EQ(captured_call(apply_run, &f), -EINVAL, "apply") &&
	     ASSERT_STR_HAS(captured,
			    "198.18.9.0/24 (src) is in both the allow and the "
			    "deny set",
			    "stderr");
	after = snapshot(&na);
	ok = ok && before && after && same_snapshot(before, nb, after, na);
	free(before);
	free(after);
	return ok;
}

/* Over capacity: refused with the count and the limit before writing. */
static bool check_fill_capacity(void)
{
	size_t n = SL_HOST_MAX_ENTRIES + 3;
	struct sl_set_entry *v = calloc(n, sizeof(*v));
	struct fill_arg f = {v, n};
	char want[200];
	bool ok;

	if (!ASSERT_TRUE(v != NULL, "out of memory") || !base_sets()) {
		free(v);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		__u32 a = htonl(0x30000000 + i);

		v[i].prefix.family = AF_INET;
		v[i].prefix.plen = 32;
		memcpy(v[i].prefix.addr, &a, 4);
		v[i].kind = SL_SET_DENY;
		v[i].dir = SL_DIR_SRC;
	}
	snprintf(want, sizeof(want),
		 "too many set entries: %zu IPv4 hosts, /32 (src) asked for, "
		 "at most %u",
		 n, SL_HOST_MAX_ENTRIES);
	ok = ASSERT_EQ(captured_call(apply_run, &f), -EINVAL, "apply") &&
	     ASSERT_STR_HAS(captured, want, "stderr") &&
	     ASSERT_STR_HAS(captured, "limits: {set-hosts: N}", "stderr") &&
	     ASSERT_EQ(packets_of("198.18.1.0/24", SL_SET_DENY, SL_DIR_SRC),
		       1000, "the running sets are kept");
	free(v);
	return ok;
}

/* The id of the running slot's map `name`, or 0. */
static __u32 map_id(const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = sl_map_fd(&ctx, name);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* An apply that writes only IPv4 source entries makes no new map for the
 * six other tables: they stay the ones in use (empty maps are shared). */
static bool check_no_new_maps(void)
{
	static const char *const other[] = {
	    SL_MAP_SET_DST_V4,	SL_MAP_SET_SRC_V6,  SL_MAP_SET_DST_V6,
	    SL_MAP_HOST_DST_V4, SL_MAP_HOST_SRC_V6, SL_MAP_HOST_DST_V6,
	};
	struct sl_set_entry v[2];
	__u32 before[6];
	bool ok = ASSERT_EQ(sets_clear(), 0, "clear");

	for (int i = 0; ok && i < 6; i++)
		ok = ASSERT_TRUE((before[i] = map_id(other[i])) != 0,
				 "no map %s", other[i]);
	entry(&v[0], "198.18.4.0/24", SL_SET_DENY, SL_DIR_SRC);
	entry(&v[1], "198.18.4.9", SL_SET_ALLOW, SL_DIR_SRC);
	ok = ok && apply_sets(v, 2) && listed_equal(v, 2);
	for (int i = 0; ok && i < 6; i++)
		ok = ASSERT_EQ(map_id(other[i]), before[i], other[i]);
	/* A later write into one of them gets a map of its own. */
	if (ok) {
		struct sl_prefix p = pfx("2001:db8:4::1");

		ok = ASSERT_EQ(
			 sl_set_add(&ctx, SL_SET_DENY, SL_DIR_DST, &p, 1, NULL),
			 0, "block --dst") &&
		     ASSERT_EQ(
			 packets_of("2001:db8:4::1", SL_SET_DENY, SL_DIR_DST),
			 0, "the entry is listed");
	}
	return ok;
}

/* ---- orders ---- */

static int ref_cmp(const void *x, const void *y)
{
	const struct sl_set_entry *a = x, *b = y;
	int c;

	if (a->kind != b->kind)
		return a->kind == SL_SET_DENY ? -1 : 1;
	if (a->dir != b->dir)
		return a->dir - b->dir;
	if (a->prefix.family != b->prefix.family)
		return a->prefix.family - b->prefix.family;
	c = memcmp(a->prefix.addr, b->prefix.addr, 16);
	return c ? c : a->prefix.plen - b->prefix.plen;
}

static bool check_orders(void)
{
	size_t n = 20000;
	struct sl_set_entry *v = mixed(n, 7), *w = calloc(n, sizeof(*w));
	bool ok = ASSERT_TRUE(v && w, "out of memory");

	for (size_t i = 0; ok && i < n; i++)
		v[i].prefix.plen = v[i].prefix.family == AF_INET
				       ? v[i].prefix.plen - i % 3
				       : v[i].prefix.plen;
	if (ok) {
		memcpy(w, v, n * sizeof(*v));
		qsort(w, n, sizeof(*w), ref_cmp);
		ok = ASSERT_EQ(sl_set_entries_sort(v, n), 0, "sort");
	}
	for (size_t i = 0; ok && i < n; i++)
		ok = ASSERT_TRUE(!ref_cmp(&v[i], &w[i]),
				 "entry %zu differs from qsort's", i);
	/* Equality in any order; one bit of one entry differs: unequal. */
	for (size_t i = 0; ok && i < n / 2; i++) {
		struct sl_set_entry t = w[i];

		w[i] = w[n - 1 - i];
		w[n - 1 - i] = t;
	}
	ok = ok && ASSERT_TRUE(sl_set_entries_equal(v, n, w, n),
			       "equal lists in other orders are unequal");
	if (ok)
		w[n / 3].prefix.addr[3] ^= 1;
	ok = ok && ASSERT_TRUE(!sl_set_entries_equal(v, n, w, n),
			       "lists that differ in one entry are equal");
	free(v);
	free(w);
	return ok;
}

int main(void)
{
	struct sluice_xdp *skel;

	sl_log_set_prefix("test_sets");
	sl_log_hook_libbpf();
	skel = sl_xdp_load(NULL, NULL, 0);
	if (!skel) {
		printf("not ok - the maps load: %s\n", strerror(errno));
		return 1;
	}
	sl_ctx_wrap(&ctx, skel);
	check_report("radix orders agree with qsort; equality in any order",
		     check_orders());
	check_report("unblock of present and absent prefixes removes nothing",
		     check_unblock_absent());
	check_report("unblock of an allow entry removes nothing",
		     check_unblock_other_kind());
	check_report("unallow in the wrong direction removes nothing",
		     check_unallow_other_dir());
	check_report("unblock of four maps' entries removes exactly those",
		     check_unblock_all());
	check_report("block failing part-way (host table full) leaves the sets "
		     "as before and names the limit",
		     check_block_full_midway());
	check_report("block of more hosts than fit is refused up front with "
		     "the count and the limit",
		     check_block_too_many());
	check_report("apply fills every map, keeps unchanged maps and their "
		     "counters",
		     check_fill_and_share());
	check_report("apply of a 120,000-entry trie fills it in parts from "
		     "several threads, every entry written, counters kept",
		     check_fill_split());
	check_report("apply of IPv4 source entries makes no new map for the "
		     "other six tables",
		     check_no_new_maps());
	check_report("apply of a prefix in both kinds is refused, nothing "
		     "changes",
		     check_fill_conflict());
	check_report("apply over capacity is refused with the count and the "
		     "limit",
		     check_fill_capacity());
	sl_close(&ctx);
	sl_xdp_destroy(skel);
	return check_failed ? 1 : 0;
}
