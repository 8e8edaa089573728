// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bench_xdp: ns/packet of XDP programs through bpf_prog_test_run_opts.
 * Each case test-runs one fixed frame `--repeat` times, `--runs` times over,
 * and prints the median, min and max of the kernel's per-packet duration.
 * Every run's return value is checked against the expected verdict, so a
 * figure always belongs to the path it names. bench/run.sh drives it and
 * prints the table; the commands are:
 *   empty                    the floor: an XDP program returning XDP_PASS
 *   sluice -f 4|6 -n N ...   Sluice with N prefixes in the source deny set,
 *                            written through libsluice (sl_set_add/_del)
 *   prog --prog-id ID ...    any loaded XDP program by id (xdp-filter)
 *   conntrack                conntrack's rows (established fast path at 1
 *                            and 1M entries, new flow, drops) next to a
 *                            stateless pass with no rules
 *   ctbreakdown -n N         conntrack's lookup piece by piece (variants)
 *   events                   events off (anchor), the switch on with nothing
 *                            asked, sampling 1-in-1000 and 1-in-1, a log
 *                            rule under flood, a drop event per packet;
 *                            a consumer thread drains the ring meanwhile
 *   evrate                   events/s a ring consumer keeps up with
 *                            (sample 1): paced steps, then saturating
 * Output is one `key=value` line per case (`case ...`) or load (`load ...`).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "frame.h"
#include "log.h"
#include "sluice.h"
#include "sluice_nostage.skel.h"
#include "sluice_variants.skel.h"
#include "sluice_xdp.skel.h"
#include "variants.h"
#include "xdp_empty.skel.h"

#define MAX_RUNS 15

/* The addresses of every benchmark frame; the deny cases put the source in
 * the set (by default exactly, like `xdp-filter ip 198.18.0.1 --mode src`,
 * which libsluice puts in the host hash; --hit-plen 24: its /24, a trie
 * entry). */
#define SRC_V4 "198.18.0.1"
#define DST_V4 "198.18.0.2"
#define SRC_V6 "2001:db8::1"
#define DST_V6 "2001:db8::2"

struct opts {
	const char *cmd;
	const char *name;
	int family;
	long prefixes;
	int pass;
	int deny;
	int shared;
	int hit_plen;
	unsigned int prog_id;
	int expect;
	int repeat;
	int runs;
	int cpu;
	unsigned long long seed;
};

/* ---- frames ---- */

/* Ethernet + IPv4 or IPv6 + TCP SYN 40000 -> 80, no payload (54 or 74
 * bytes). */
static size_t build_frame(int family, __u8 *buf, size_t cap)
{
	return bench_tcp_frame(buf, cap, family, family == 4 ? SRC_V4 : SRC_V6,
			       family == 4 ? DST_V4 : DST_V6, 40000, 80, 0x02);
}

/* ---- test-run ---- */

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static const char *xdp_name(__u32 r)
{
	static const char *n[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS",
				  "XDP_TX", "XDP_REDIRECT"};

	return r < 5 ? n[r] : "?";
}

/* Test-runs prog_fd on frame: one warm-up run, then o->runs runs of
 * o->repeat packets. Prints the `case` line. *packets receives the number of
 * packets run in all. Returns 0, or -1 when a run fails or returns another
 * verdict than expect. */
static int bench_case(const struct opts *o, const char *name, int prog_fd,
		      const void *frame, size_t len, int expect,
		      unsigned long long *packets)
{
	__u32 d[MAX_RUNS], s[MAX_RUNS];
	int err;

	*packets = 0;
	for (int i = -1; i < o->runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
			    .data_size_in = len,
			    .repeat = i < 0 ? 10000 : o->repeat);

		err = bpf_prog_test_run_opts(prog_fd, &t);
		if (err) {
			pr_err("%s: test run failed: %s", name, strerror(-err));
			return -1;
		}
		*packets += t.repeat;
		if (t.retval != (__u32)expect) {
			pr_err("%s: the program returned %s, expected %s: the "
			       "frame did not take the path under test",
			       name, xdp_name(t.retval), xdp_name(expect));
			return -1;
		}
		if (i >= 0)
			d[i] = t.duration;
	}
	memcpy(s, d, sizeof(d[0]) * o->runs);
	qsort(s, o->runs, sizeof(s[0]), cmp_u32);
	printf("case name=%s median=%u min=%u max=%u retval=%s runs=", name,
	       s[o->runs / 2], s[0], s[o->runs - 1], xdp_name(expect));
	for (int i = 0; i < o->runs; i++)
		printf("%s%u", i ? "," : "", d[i]);
	printf("\n");
	fflush(stdout);
	return 0;
}

/* ---- prefix generator ---- */

/* xorshift64*: reproducible for a given --seed. */
static unsigned long long rng_state;

static unsigned long long rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Prefix-length mixes, per mille. IPv4 is BGP-table-like (most routes /24,
 * a tail of /16-/23 aggregates) with the /32 hosts of published block
 * lists; IPv6 is mostly /48 sites and /64 subnets, some /128 hosts. */
struct plen_w {
	int lo, hi, per_mille;
};

static const struct plen_w mix_v4[] = {
    {16, 16, 10},  {17, 17, 10}, {18, 18, 15},	{19, 19, 25},
    {20, 20, 30},  {21, 21, 30}, {22, 22, 80},	{23, 23, 60},
    {24, 24, 600}, {25, 31, 35}, {32, 32, 105}, {0, 0, 0},
};

static const struct plen_w mix_v6[] = {
    {32, 32, 20},  {33, 47, 50},    {48, 48, 350}, {49, 63, 80},
    {64, 64, 400}, {128, 128, 100}, {0, 0, 0},
};

static int draw_plen(const struct plen_w *mix)
{
	int r = rng() % 1000;

	for (; mix->per_mille; mix++) {
		if (r < mix->per_mille)
			return mix->lo + rng() % (mix->hi - mix->lo + 1);
		r -= mix->per_mille;
	}
	return 24;
}

/* Public unicast IPv4 only: no 0/8, 10/8, 100.64/10, 127/8, 169.254/16,
 * 172.16/12, 192.168/16, 198.18/15 (the benchmark frames), 224/3. */
static int v4_public(__u32 a)
{
	__u8 o1 = a >> 24, o2 = a >> 16;

	if (o1 == 0 || o1 == 10 || o1 == 127 || o1 >= 224)
		return 0;
	if (o1 == 100 && (o2 & 0xc0) == 64)
		return 0;
	if ((o1 == 169 && o2 == 254) || (o1 == 172 && (o2 & 0xf0) == 16) ||
	    (o1 == 192 && o2 == 168) || (o1 == 198 && (o2 & 0xfe) == 18))
		return 0;
	return 1;
}

static void mask_bytes(__u8 *addr, int nbytes, int plen)
{
	for (int i = 0; i < nbytes; i++) {
		int bits = plen - i * 8;

		if (bits >= 8)
			continue;
		addr[i] &= bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

/* One random prefix with the host bits cleared. The frames' ranges are never
 * drawn, so the only entries matching a frame are the ones a case puts in. */
static void draw_prefix(int family, struct sl_prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (family == 4) {
		__u32 a;

		do
			a = rng() >> 32;
		while (!v4_public(a));
		p->family = AF_INET;
		p->plen = draw_plen(mix_v4);
		a = htonl(a);
		memcpy(p->addr, &a, 4);
		mask_bytes(p->addr, 4, p->plen);
	} else {
		unsigned long long hi, lo;

		/* 2000::/3 without 2001:db8::/32. */
		do {
			hi = rng();
			hi = (hi & ~(7ULL << 61)) | (1ULL << 61);
		} while ((hi >> 32) == 0x20010db8ULL);
		lo = rng();
		for (int i = 0; i < 8; i++) {
			p->addr[i] = hi >> (56 - 8 * i);
			p->addr[8 + i] = lo >> (56 - 8 * i);
		}
		p->family = AF_INET6;
		p->plen = draw_plen(mix_v6);
		mask_bytes(p->addr, 16, p->plen);
	}
}

static __u64 hash_bytes(const void *p, size_t n)
{
	const __u8 *b = p;
	__u64 h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/* Fills p[0..n) with n distinct random prefixes (open-addressing set over
 * the prefix bytes). Returns 0 or -ENOMEM. */
static int gen_prefixes(int family, struct sl_prefix *p, size_t n)
{
	size_t cap = 16;
	__u32 *slot;

	while (cap < 2 * n)
		cap <<= 1;
	slot = calloc(cap, sizeof(*slot)); /* 0: empty, else index + 1 */
	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < n;) {
		size_t h;

		draw_prefix(family, &p[i]);
		h = hash_bytes(&p[i], sizeof(p[i])) & (cap - 1);
		while (slot[h] && memcmp(&p[slot[h] - 1], &p[i], sizeof(p[i])))
			h = (h + 1) & (cap - 1);
		if (slot[h])
			continue; /* duplicate: draw again */
		slot[h] = i + 1;
		i++;
	}
	free(slot);
	return 0;
}

/* Full-length entries go to the host hash, the others to the trie. */
static int is_host(const struct sl_prefix *p)
{
	return p->plen == (p->family == AF_INET ? 32 : 128);
}

static size_t count_hosts(const struct sl_prefix *p, size_t n)
{
	size_t h = 0;

	for (size_t i = 0; i < n; i++)
		h += is_host(&p[i]);
	return h;
}

/* The frame's source address (family 4 or 6) as a prefix of plen bits. */
static void src_prefix(int family, int plen, struct sl_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = family == 4 ? AF_INET : AF_INET6;
	p->plen = plen;
	inet_pton(p->family, family == 4 ? SRC_V4 : SRC_V6, p->addr);
	mask_bytes(p->addr, family == 4 ? 4 : 16, plen);
}

/* ---- presence bitmap ---- */

static __u32 addr_bucket(const struct sl_prefix *p)
{
	__u32 w[4];

	memcpy(w, p->addr, sizeof(w));
	return sl_host_bucket(w, p->family == AF_INET ? 1 : 4);
}

/* The inverse of an odd number modulo 2^32 (Newton's iteration). */
static __u32 inv32(__u32 k)
{
	__u32 x = k;

	for (int i = 0; i < 5; i++)
		x *= 2 - k * x;
	return x;
}

/* A host address other than src whose presence-bitmap bucket is src's:
 * sl_host_bucket() keeps the top bits of a multiplication by an odd
 * constant, so the words mapping to one bucket are found by inverting it.
 * IPv4: public unicast; IPv6: a random 2000::/3 address whose last word is
 * solved for. Returns 0, or -ENOENT when no candidate fits. */
static int collide_addr(const struct sl_prefix *src, struct sl_prefix *out)
{
	__u32 b = addr_bucket(src), kinv = inv32(0x9e3779b1U);
	int v6 = src->family == AF_INET6;

	for (__u32 low = 0; low < 256; low++) {
		__u32 x = ((b << (32 - SL_HOST_BUCKET_BITS)) | low) * kinv;

		if (v6) {
			__u32 w[4];

			draw_prefix(6, out);
			out->plen = 128;
			memcpy(w, out->addr, sizeof(w));
			w[3] = (x ^ w[0] ^ w[1] * 0x85ebca6bU ^
				w[2] * 0xc2b2ae35U) *
			       inv32(0x27d4eb2fU);
			memcpy(out->addr, w, sizeof(w));
		} else {
			if (!v4_public(ntohl(x)))
				continue;
			memset(out, 0, sizeof(*out));
			out->family = AF_INET;
			out->plen = 32;
			memcpy(out->addr, &x, 4);
		}
		if (memcmp(out->addr, src->addr, sizeof(out->addr)) &&
		    addr_bucket(out) == b)
			return 0;
	}
	return -ENOENT;
}

/* 1 when the bit of p's bucket is set in the source region, 0 when clear,
 * negative on error. */
static int bucket_bit(struct sl_ctx *ctx, const struct sl_prefix *p)
{
	__u32 b = addr_bucket(p);
	__u32 idx =
	    sl_host_region(p->family == AF_INET6, SL_DIR_SRC) + (b >> 6);
	int fd = sl_map_fd(ctx, SL_MAP_HOST_BITS);
	__u64 w;

	if (fd < 0 || bpf_map_lookup_elem(fd, &idx, &w)) {
		pr_err("cannot read the presence bitmap: %s",
		       strerror(fd < 0 ? -fd : errno));
		return -1;
	}
	return (w >> (b & 63)) & 1;
}

/* Fails unless the bit of the frame's source bucket is `want`. */
static int expect_bucket(struct sl_ctx *ctx, const char *name,
			 const struct sl_prefix *src, int want)
{
	int bit = bucket_bit(ctx, src);

	if (bit < 0)
		return -1;
	if (bit != want) {
		pr_err("%s: the presence bit of the source's bucket is %s, "
		       "expected %s%s",
		       name, bit ? "set" : "clear", want ? "set" : "clear",
		       want ? ""
			    : " (a random host entry shares it; try "
			      "another --seed)");
		return -1;
	}
	return 0;
}

/* ---- set writes: all through the control plane ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* sl_set_add of n source deny entries, all of which must be new. */
static int set_add(struct sl_ctx *ctx, const struct sl_prefix *p, size_t n)
{
	size_t added = 0;
	int err;

	if (!n)
		return 0;
	err = sl_set_add(ctx, SL_SET_DENY, SL_DIR_SRC, p, n, &added);
	if (err)
		return err; /* libsluice has said why */
	if (added != n) {
		pr_err("sl_set_add added %zu of %zu prefixes", added, n);
		return -EEXIST;
	}
	return 0;
}

/* Swaps the prefix `in` into the set for one of the loaded random prefixes
 * of the same structure (host hash or trie), so each keeps its size. The
 * candidates are taken from the end of p; *cursor moves down past each one
 * taken. */
static int set_swap(struct sl_ctx *ctx, const struct sl_prefix *p,
		    size_t *cursor, const struct sl_prefix *in)
{
	size_t i = *cursor;
	int err;

	while (i > 0 && is_host(&p[i - 1]) != is_host(in))
		i--;
	if (!i) {
		pr_err("no random %s entry left to swap out",
		       is_host(in) ? "host" : "trie");
		return -ENOENT;
	}
	*cursor = i - 1;
	err = set_add(ctx, in, 1);
	if (!err)
		err = sl_set_del(ctx, SL_SET_DENY, SL_DIR_SRC, &p[i - 1], 1);
	return err;
}

/* The number a sscanf format (e.g. "memlock: %lld") reads from the first
 * matching line of a /proc text file, or -1. */
static long long proc_field(const char *path, const char *fmt)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The `memlock` the kernel charges to a map (/proc/self/fdinfo). */
static unsigned long long map_memlock(int fd)
{
	char path[64];
	long long v;

	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	v = proc_field(path, "memlock: %lld");
	return v < 0 ? 0 : (unsigned long long)v;
}

/* Unreclaimable slab in KiB: where LPM trie nodes and hash elements live.
 * Other activity on the machine makes its delta approximate. */
static long long slab_kib(void)
{
	return proc_field("/proc/meminfo", "SUnreclaim: %lld kB");
}

/* Waits (up to 3 s) until the slab stops moving by more than 1 MiB per
 * 200 ms: the maps of an earlier process may still be being freed. */
static long long slab_settled_kib(void)
{
	long long a = slab_kib(), b;

	for (int i = 0; i < 15; i++) {
		usleep(200000);
		b = slab_kib();
		if (llabs(b - a) < 1024)
			return b;
		a = b;
	}
	return a;
}

/* SUnreclaim before the last large load, so the process can wait for the
 * kernel to free its maps before the next one measures (-1: none). */
static long long slab_before = -1;

/* Waits (up to 5 s) until the slab is back near slab_before. */
static void slab_wait_freed(void)
{
	if (slab_before < 0)
		return;
	for (int i = 0; i < 50 && slab_kib() > slab_before + 16384; i++)
		usleep(100000);
}

/* Adds p[0..n) to the source deny set with one sl_set_add (what `sluice
 * block --file` does) and prints the `load` line: the time, how the entries
 * split between the trie and the host hash, and the memlock of the three
 * maps that hold them (the source trie and host hash of the family, and the
 * presence bitmap, a fixed array shared by all four). hit: the plen of a
 * hit prefix among p, or -1. memlock_all_sets adds up every set map, both
 * families and directions, empty ones included. */
static int timed_load(const struct opts *o, struct sl_ctx *ctx,
		      const struct sl_prefix *p, size_t n, int hit)
{
	int v6 = o->family == 6;
	long long s0 = n >= 100000 ? slab_settled_kib() : slab_kib(), s1;
	static const char *const all[] = {
	    SL_MAP_SET_SRC_V4,	SL_MAP_SET_DST_V4,  SL_MAP_SET_SRC_V6,
	    SL_MAP_SET_DST_V6,	SL_MAP_HOST_SRC_V4, SL_MAP_HOST_DST_V4,
	    SL_MAP_HOST_SRC_V6, SL_MAP_HOST_DST_V6, SL_MAP_HOST_BITS,
	};
	unsigned long long mt, mh, mb, ma = 0;
	size_t hosts = count_hosts(p, n);
	double t0 = now_s(), t;
	int err;

	err = set_add(ctx, p, n);
	if (err)
		return err;
	t = now_s() - t0;
	s1 = slab_kib();
	if (n >= 100000)
		slab_before = s0;
	mt = map_memlock(
	    sl_map_fd(ctx, v6 ? SL_MAP_SET_SRC_V6 : SL_MAP_SET_SRC_V4));
	mh = map_memlock(
	    sl_map_fd(ctx, v6 ? SL_MAP_HOST_SRC_V6 : SL_MAP_HOST_SRC_V4));
	mb = map_memlock(sl_map_fd(ctx, SL_MAP_HOST_BITS));
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ma += map_memlock(sl_map_fd(ctx, all[i]));
	printf("load family=%d prefixes=%zu hit=%d trie=%zu host=%zu "
	       "seconds=%.3f per_sec=%.0f method=sl_set_add memlock=%llu "
	       "memlock_trie=%llu memlock_host=%llu memlock_bits=%llu "
	       "memlock_all_sets=%llu slab_delta_kib=%lld\n",
	       o->family, n, hit, n - hosts, hosts, t, t > 0 ? n / t : 0.0,
	       mt + mh + mb, mt, mh, mb, ma, s1 - s0);
	fflush(stdout);
	return 0;
}

/* ---- commands ---- */

static int cmd_empty(const struct opts *o)
{
	__u8 frame[128];
	size_t len = build_frame(4, frame, sizeof(frame));
	struct xdp_empty *skel = xdp_empty__open_and_load();
	unsigned long long n;
	int err;

	if (!skel) {
		pr_err("cannot load bench/xdp_empty.bpf.c: %s",
		       strerror(errno));
		return 1;
	}
	err = bench_case(o, o->name ? o->name : "empty",
			 bpf_program__fd(skel->progs.xdp_empty), frame, len,
			 XDP_PASS, &n);
	xdp_empty__destroy(skel);
	return err ? 1 : 0;
}

static int cmd_prog(const struct opts *o)
{
	__u8 frame[128];
	size_t len = build_frame(o->family, frame, sizeof(frame));
	unsigned long long n;
	int fd, err;

	if (!o->prog_id || !o->name) {
		pr_err("prog needs --prog-id and --name");
		return 2;
	}
	fd = bpf_prog_get_fd_by_id(o->prog_id);
	if (fd < 0) {
		pr_err("no BPF program with id %u: %s", o->prog_id,
		       strerror(-fd));
		return 1;
	}
	err = bench_case(o, o->name, fd, frame, len, o->expect, &n);
	close(fd);
	return err ? 1 : 0;
}

/* Checks Sluice's own counters: `packets` verdicts of reason/action so far
 * in this process. */
static int check_counters(struct sl_ctx *ctx, const char *name, __u32 reason,
			  __u32 action, unsigned long long packets)
{
	struct sl_counter c[SL_STATS_MAX];
	__u32 i = sl_stats_idx(reason, action);

	if (sl_stats_read(ctx, c))
		return -1;
	if (c[i].packets != packets) {
		pr_err("%s: Sluice counted %llu verdicts of this path, "
		       "expected %llu",
		       name, (unsigned long long)c[i].packets, packets);
		return -1;
	}
	return 0;
}

/* Checks, through sl_set_list, that the hit entry counted every packet of
 * the deny case and that no other entry counted any. */
static int check_hit(struct sl_ctx *ctx, const char *name,
		     const struct sl_prefix *hit, unsigned long long packets)
{
	struct sl_set_entry *e = NULL;
	unsigned long long mine = 0, all = 0;
	size_t n = 0;
	int found = 0;

	if (sl_set_list(ctx, SL_SET_DENY, &e, &n)) {
		pr_err("%s: cannot list the deny set", name);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		all += e[i].packets;
		if (e[i].dir == SL_DIR_SRC &&
		    !memcmp(&e[i].prefix, hit, sizeof(*hit))) {
			found = 1;
			mine = e[i].packets;
		}
	}
	free(e);
	if (!found || mine != packets || all != packets) {
		pr_err("%s: the deny entry %s counted %llu hits (all entries "
		       "%llu), expected %llu",
		       name, found ? "" : "(not listed) ", mine, all, packets);
		return -1;
	}
	return 0;
}

/* Sluice with a source deny set of n prefixes, written through libsluice.
 * The phases run in this order, each on the set the previous one left:
 *   --pass    n random prefixes, none matching the frame; the bit of the
 *             source's presence bucket is clear (checked)
 *   --shared  one random host entry swapped for one in the source's bucket:
 *             the bit is set, the host probe misses, the trie decides
 *   --deny    one random entry of the hit's structure swapped for the hit
 *             (or, alone: the hit plus n - 1 random, loaded at once) */
static int cmd_sluice(const struct opts *o)
{
	size_t n = o->prefixes, nrand, cursor;
	unsigned long long pkts, pass_pkts = 0;
	struct sl_prefix *p = NULL, hit, src, other;
	struct sluice_xdp *skel;
	struct sl_ctx ctx;
	char name[64];
	__u8 frame[128];
	size_t len;
	int prog, ret = 1;

	if ((o->family != 4 && o->family != 6) || o->prefixes < 0 ||
	    o->prefixes > SL_SET_MAX_ENTRIES - 1 ||
	    (!o->pass && !o->deny && !o->shared) || (o->shared && !o->pass) ||
	    (o->deny && n < 1)) {
		pr_err("sluice needs -f 4|6, -n N (N >= 1 with --deny) and "
		       "--pass [--shared] and/or --deny");
		return 2;
	}
	len = build_frame(o->family, frame, sizeof(frame));
	skel = sl_xdp_load(NULL, NULL, SL_PROG_XDP);
	if (!skel)
		return 1;
	sl_ctx_wrap(&ctx, skel);
	prog = sl_xdp_prog_fd(skel);

	/* The hit entry: the frame's source address with --hit-plen bits. */
	src_prefix(o->family, o->family == 4 ? 32 : 128, &src);
	src_prefix(o->family, o->hit_plen, &hit);

	/* --pass: n random prefixes; --deny alone: the hit plus n - 1. */
	nrand = o->pass ? n : n - 1;
	p = calloc(n ? n : 1, sizeof(*p));
	if (!p)
		goto out;
	if (!o->pass)
		p[0] = hit;
	if (gen_prefixes(o->family, p + (n - nrand), nrand))
		goto out;
	cursor = n;

	if (o->pass) {
		snprintf(name, sizeof(name), "sluice-pass-v%d-%zu", o->family,
			 n);
		if (timed_load(o, &ctx, p, nrand, -1) ||
		    expect_bucket(&ctx, name, &src, 0) ||
		    bench_case(o, name, prog, frame, len, XDP_PASS, &pkts) ||
		    check_counters(&ctx, name, SL_R_PASS, SL_ACT_PASS,
				   pass_pkts += pkts))
			goto out;
	}
	if (o->shared) {
		snprintf(name, sizeof(name), "sluice-pass-v%d-%zu-shared",
			 o->family, n);
		if (collide_addr(&src, &other)) {
			pr_err("%s: no address shares the source's bucket",
			       name);
			goto out;
		}
		if (set_swap(&ctx, p, &cursor, &other) ||
		    expect_bucket(&ctx, name, &src, 1) ||
		    bench_case(o, name, prog, frame, len, XDP_PASS, &pkts) ||
		    check_counters(&ctx, name, SL_R_PASS, SL_ACT_PASS,
				   pass_pkts += pkts))
			goto out;
	}
	if (o->deny) {
		if (is_host(&hit))
			snprintf(name, sizeof(name), "sluice-deny-v%d-%zu",
				 o->family, n);
		else
			snprintf(name, sizeof(name), "sluice-deny-v%d-%zu-p%d",
				 o->family, n, o->hit_plen);
		if (o->pass ? set_swap(&ctx, p, &cursor, &hit)
			    : timed_load(o, &ctx, p, n, o->hit_plen))
			goto out;
		/* A shorter hit is the trie's alone: no host probe before. */
		if (!is_host(&hit) && !o->shared &&
		    expect_bucket(&ctx, name, &src, 0))
			goto out;
		if (bench_case(o, name, prog, frame, len, XDP_DROP, &pkts) ||
		    check_counters(&ctx, name, SL_R_DENY_SET, SL_ACT_DROP,
				   pkts) ||
		    check_hit(&ctx, name, &hit, pkts))
			goto out;
	}
	ret = 0;
out:
	free(p);
	sl_close(&ctx);
	sl_xdp_destroy(skel);
	slab_wait_freed();
	return ret;
}

/* ---- experiments: where the time goes ---- */

/* Deny ns/packet as the set grows: the hit entry (/32, host hash), then
 * random prefixes added in steps with sl_set_add, measured at each size. */
static int cmd_sweep(const struct opts *o)
{
	static const size_t steps[] = {1,     10,     100,    1000,
				       10000, 100000, 1000000};
	size_t n = o->prefixes > 0 ? (size_t)o->prefixes : 1000000, have = 1;
	struct sl_prefix hit, *p;
	struct sluice_xdp *skel;
	struct sl_ctx ctx;
	unsigned long long pkts;
	__u8 frame[128];
	size_t len = build_frame(4, frame, sizeof(frame));
	char name[64];
	int ret = 1;

	skel = sl_xdp_load(NULL, NULL, SL_PROG_XDP);
	if (!skel)
		return 1;
	sl_ctx_wrap(&ctx, skel);
	src_prefix(4, 32, &hit);
	p = calloc(n, sizeof(*p));
	if (!p || gen_prefixes(4, p, n - 1) || set_add(&ctx, &hit, 1))
		goto out;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		size_t want = steps[i] < n ? steps[i] : n;

		if (set_add(&ctx, p + (have - 1), want - have))
			goto out;
		have = want;
		snprintf(name, sizeof(name), "sweep-deny-v4-%zu", have);
		if (bench_case(o, name, sl_xdp_prog_fd(skel), frame, len,
			       XDP_DROP, &pkts))
			goto out;
		if (have == n)
			break;
	}
	ret = 0;
out:
	free(p);
	sl_close(&ctx);
	sl_xdp_destroy(skel);
	slab_wait_freed();
	return ret;
}

static const char *variant_names[] = {
    "full",	    "no-counters", "src-only",	"src-bare",
    "parse-only",   "lpm-only",	   "array24",	"hash32",
    "ct-parse",	    "ct-key",	   "ct-lookup", "ct-lookup-hash",
    "ct-lookup-16", "ct-atomic",   "ct-plain",	"ct-clock",
};
#define V_CT_FIRST 8 /* the first conntrack variant */

/* Opens and loads variant v. Its set maps are Sluice's own (`maps`, written
 * through libsluice); its experiment maps are those of `first` (if any),
 * else new, the conntrack ones with capacity ct_cap (if not 0). */
static struct sluice_variants *variant_load(int v, __u32 addr,
					    struct sluice_xdp *maps,
					    struct sluice_variants *first,
					    __u32 ct_cap)
{
	struct sluice_variants *skel = sluice_variants__open();
	struct bpf_map *m, *f;
	int err;

	if (!skel) {
		pr_err("cannot open bench/sluice_variants.bpf.c: %s",
		       strerror(errno));
		return NULL;
	}
	skel->rodata->sl_variant = v;
	skel->rodata->sl_fixed_addr = addr;
	if (!first && ct_cap &&
	    (bpf_map__set_max_entries(skel->maps.exp_ct, ct_cap) ||
	     bpf_map__set_max_entries(skel->maps.exp_ct_h, ct_cap) ||
	     bpf_map__set_max_entries(skel->maps.exp_ct16, ct_cap)))
		goto fail;
	bpf_object__for_each_map (m, skel->obj) {
		bpf_map__set_pin_path(m, NULL);
		if (bpf_map__is_internal(m))
			continue;
		f = bpf_object__find_map_by_name(maps->obj, bpf_map__name(m));
		if (!f && first)
			f = bpf_object__find_map_by_name(first->obj,
							 bpf_map__name(m));
		if (f && bpf_map__reuse_fd(m, bpf_map__fd(f))) {
			pr_err("cannot share map %s", bpf_map__name(m));
			goto fail;
		}
	}
	err = sluice_variants__load(skel);
	if (err) {
		pr_err("cannot load variant %s: %s", variant_names[v],
		       strerror(-err));
		goto fail;
	}
	return skel;
fail:
	sluice_variants__destroy(skel);
	return NULL;
}

/* Test-runs variants from..to-1 on frame (each loaded on the maps of
 * `maps` and `first`, which is variant `from`), named exp-NAME-N. */
static int variants_run(const struct opts *o, struct sluice_xdp *maps,
			struct sluice_variants *first, __u32 addr, int from,
			int to, size_t n, const void *frame, size_t len,
			int expect)
{
	struct sluice_variants *skel;
	unsigned long long pkts;
	char name[64];
	int err;

	for (int i = from; i < to; i++) {
		skel =
		    i != from ? variant_load(i, addr, maps, first, 0) : first;
		if (!skel)
			return -1;
		snprintf(name, sizeof(name), "exp-%s-%zu", variant_names[i], n);
		err = bench_case(o, name,
				 bpf_program__fd(skel->progs.sluice_variant),
				 frame, len, expect, &pkts);
		if (skel != first)
			sluice_variants__destroy(skel);
		if (err)
			return -1;
	}
	return 0;
}

/* Every variant of bench/sluice_variants.bpf.c on the deny frame. The
 * source deny set, written with sl_set_add, holds the hit (/32, host hash),
 * its /24 (a trie entry for the trie-only variant) and n - 1 random
 * prefixes; the array and hash of the alternative lookups hold the hit. */
static int cmd_breakdown(const struct opts *o)
{
	size_t n = o->prefixes > 0 ? (size_t)o->prefixes : 1;
	struct sluice_variants *first = NULL;
	struct sluice_xdp *maps;
	struct sl_ctx ctx;
	struct sl_prefix *p, hit24;
	struct sl_set_val v = {.kind = SL_SET_DENY, .plen = 32};
	__u8 frame[128];
	size_t len = build_frame(4, frame, sizeof(frame));
	__u32 addr, idx, one = 1;
	int ret = 1;

	inet_pton(AF_INET, SRC_V4, &addr);
	maps = sl_xdp_load(NULL, NULL, 0);
	if (!maps)
		return 1;
	sl_ctx_wrap(&ctx, maps);
	p = calloc(n, sizeof(*p));
	if (!p)
		goto out;
	src_prefix(4, 32, &p[0]);
	src_prefix(4, 24, &hit24);
	if (gen_prefixes(4, p + 1, n - 1) || timed_load(o, &ctx, p, n, 32) ||
	    set_add(&ctx, &hit24, 1))
		goto out;
	first = variant_load(0, addr, maps, NULL, 0);
	if (!first)
		goto out;
	idx = ntohl(addr) >> 8;
	if (bpf_map_update_elem(bpf_map__fd(first->maps.exp_dir24), &idx, &one,
				BPF_ANY))
		goto out;
	/* The experiment's hash holds as many exact addresses as the set has
	 * prefixes (not a set: only hash32 reads it). */
	for (size_t i = 0; i < n; i++) {
		__u32 k;

		memcpy(&k, p[i].addr, 4);
		if (bpf_map_update_elem(bpf_map__fd(first->maps.exp_hash32), &k,
					&v, BPF_ANY))
			goto out;
	}
	if (variants_run(o, maps, first, addr, 0, V_CT_FIRST, n, frame, len,
			 XDP_DROP))
		goto out;
	ret = 0;
out:
	free(p);
	sluice_variants__destroy(first);
	sl_close(&ctx);
	sl_xdp_destroy(maps);
	slab_wait_freed();
	return ret;
}

/* Translated instructions of a loaded program; 0 if unknown. */
static __u32 prog_insns(int fd)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.xlated_prog_len / 8;
}

/* A stage switched off at load time costs 0 ns: Sluice with every stage
 * on, with sets, bans and rules off (sl_feat.stages_off), and built without
 * those rows (bench/sluice_nostage.bpf.c), on an IPv4 frame that meets a
 * deny set of N entries and a rule set, neither of which holds it (pass
 * by policy). Each loads on maps of its own holding the same config. */
static int cmd_stages(const struct opts *o)
{
	static const char *const names[] = {"stages-all-on", "stages-off",
					    "stages-built-without"};
	size_t n = o->prefixes > 0 ? (size_t)o->prefixes : 1000;
	struct sluice_xdp *skel[2] = {NULL, NULL};
	struct sluice_nostage *bare = NULL;
	struct sl_ctx ctx[2];
	struct sl_features feat;
	struct sl_prefix *p = NULL;
	unsigned long long pkts;
	__u8 frame[128];
	size_t len = build_frame(4, frame, sizeof(frame));
	int fd[3], ret = 1, k;

	p = calloc(n, sizeof(*p));
	if (!p || gen_prefixes(4, p, n))
		goto out;
	for (k = 0; k < 2; k++) {
		struct sl_config c = {0};
		struct sl_apply_report rep;
		struct sl_rule r;
		char err[128];

		sl_features_default(&feat);
		if (k)
			feat.stages_off =
			    SL_STAGE_OFF_SETS | SL_STAGE_OFF_BANS |
			    SL_STAGE_OFF_RULES | SL_STAGE_OFF_FRAG;
		skel[k] = sl_xdp_load(NULL, &feat, SL_PROG_XDP);
		if (!skel[k])
			goto out;
		sl_ctx_wrap(&ctx[k], skel[k]);
		/* One rule, not for this frame (dport 1). */
		sl_rule_init(&r);
		if (sl_rule_set_field(&r, "action", "drop", err, sizeof(err)) ||
		    sl_rule_set_field(&r, "proto", "tcp", err, sizeof(err)) ||
		    sl_rule_set_field(&r, "dport", "1", err, sizeof(err)) ||
		    sl_rule_validate(&r, err, sizeof(err))) {
			pr_err("stages: rule: %s", err);
			goto out;
		}
		r.id = 1;
		c.rules = &r;
		c.n_rules = 1;
		if (set_add(&ctx[k], p, n) || sl_apply(&ctx[k], &c, 0, &rep))
			goto out;
		fd[k] = sl_xdp_prog_fd(skel[k]);
	}
	bare = sluice_nostage__open();
	if (!bare)
		goto out;
	{
		struct bpf_map *m, *f;

		bpf_object__for_each_map (m, bare->obj) {
			bpf_map__set_pin_path(m, NULL);
			if (bpf_map__is_internal(m))
				continue;
			f = bpf_object__find_map_by_name(skel[1]->obj,
							 bpf_map__name(m));
			if (f && bpf_map__reuse_fd(m, bpf_map__fd(f)))
				goto out;
		}
		for (k = 0; k < 3; k++) {
			struct bpf_program *pr =
			    k == 0   ? bare->progs.sluice_xdp
			    : k == 1 ? bare->progs.sluice_tc_in
				     : bare->progs.sluice_tc_out;

			bpf_program__set_autoload(pr, k == 0);
		}
	}
	if (sluice_nostage__load(bare)) {
		pr_err("stages: cannot load bench/sluice_nostage.bpf.c");
		goto out;
	}
	fd[2] = bpf_program__fd(bare->progs.sluice_xdp);
	for (k = 0; k < 3; k++) {
		if (bench_case(o, names[k], fd[k], frame, len, XDP_PASS, &pkts))
			goto out;
		printf("insns name=%s xlated=%u\n", names[k],
		       prog_insns(fd[k]));
	}
	ret = 0;
out:
	free(p);
	sluice_nostage__destroy(bare);
	for (k = 0; k < 2; k++)
		if (skel[k]) {
			sl_close(&ctx[k]);
			sl_xdp_destroy(skel[k]);
		}
	return ret;
}

/* ---- conntrack (issue 9) ---- */

#define CT_FILL	 1000000U
#define CT_CAP	 (1U << 20) /* sl_ct's capacity: the fill and some room */
#define CT_NEW_N 20000	    /* fresh flows of the new-flow rows */

/* Applies a config given as YAML text (through a temporary file, as
 * `sluice apply -f` reads it). */
static int apply_yaml(struct sl_ctx *ctx, const char *yaml)
{
	char path[] = "/tmp/bench_xdp_XXXXXX";
	struct sl_apply_report rep;
	struct sl_config cfg;
	int fd = mkstemp(path), err;

	if (fd < 0)
		return -errno;
	err = write(fd, yaml, strlen(yaml)) == (ssize_t)strlen(yaml) ? 0 : -EIO;
	close(fd);
	if (!err)
		err = sl_config_load(path, &cfg);
	unlink(path);
	if (err)
		return err;
	err = sl_apply(ctx, &cfg, 0, &rep);
	if (!err)
		sl_apply_report_free(&rep);
	sl_config_free(&cfg);
	return err;
}

/* The IPv4 frame of build_frame() with TCP flags and source port. */
static size_t ct_frame(__u8 *buf, size_t cap, __u8 flags, __u16 sport)
{
	size_t len = build_frame(4, buf, cap);
	struct tcphdr *th = (void *)(buf + ETH_HLEN + sizeof(struct iphdr));

	th->source = htons(sport);
	((__u8 *)th)[13] = flags;
	return len;
}

/* The key of the IPv4 flow src:sport -> dst:80 (src, dst: network order). */
static __u32 ct_key(struct sl_ct_key *k, __u32 src, __u32 dst, __u16 sport)
{
	__u32 sa[4] = {src}, da[4] = {dst};

	return sl_ct_key_make(k, sa, da, sport, 80, IPPROTO_TCP, 4);
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns()'s clock */
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* An established TCP entry (both directions seen), its source the end
 * `side` of the key. */
static void ct_val_est(struct sl_ct_val *v, __u32 side)
{
	memset(v, 0, sizeof(*v));
	v->first = v->last = mono_ns();
	v->packets[0] = v->packets[1] = 1;
	v->state = SL_CTS_ESTABLISHED;
	v->orig = side;
	v->flags = SL_CT_F_REPLIED;
}

/* Window state on entry v (ct_tcp.h) in which the benchmark's ACK (sequence
 * 1, no data, ACK 0, from the initiator) fits each time: a checked flow. */
static void ct_val_checked(struct sl_ct_val *v)
{
	v->win[0] = (struct sl_ct_win){.end = 1,
				       .maxend = 1 + 65535,
				       .maxwin = 65535,
				       .flags = SL_CT_W_SEEN | SL_CT_W_CHECK};
	v->win[1] = (struct sl_ct_win){
	    .end = 0, .maxend = 65535, .maxwin = 65535, .flags = SL_CT_W_SEEN};
}

/* Writes n established entries of flows 198.19.x.y:port -> 198.18.0.2:80
 * with batch updates; k16: keyed by exp_ct16_key (bench/variants.h)
 * instead of sl_ct_key. */
static int ct_fill(int fd, __u32 n, int k16)
{
	const __u32 chunk = 10000;
	struct sl_ct_key *k = calloc(chunk, sizeof(*k));
	struct exp_ct16_key *k2 = calloc(chunk, sizeof(*k2));
	struct sl_ct_val *v = calloc(chunk, sizeof(*v));
	__u32 dst, side;
	int err = 0;

	if (!k || !k2 || !v) {
		err = -ENOMEM;
		goto out;
	}
	inet_pton(AF_INET, DST_V4, &dst);
	for (__u32 i = 0; i < n && !err; i += chunk) {
		__u32 m = n - i < chunk ? n - i : chunk;
		LIBBPF_OPTS(bpf_map_batch_opts, bo);

		for (__u32 j = 0; j < m; j++) {
			__u32 x = i + j, a = htonl(0xc6130000U | (x & 0xffff));

			side = ct_key(&k[j], a, dst, 1024 + (x >> 16));
			exp_ct16_key_make(&k2[j], a, dst, 1024 + (x >> 16), 80,
					  IPPROTO_TCP);
			ct_val_est(&v[j], side);
		}
		err = bpf_map_update_batch(fd, k16 ? (void *)k2 : (void *)k, v,
					   &m, &bo);
	}
out:
	free(k);
	free(k2);
	free(v);
	return err;
}

/* The cached slots of the benchmark flow (sl_ct_val.verdict) and the
 * serial they hold for, -1: none (test with ct_slot0()). */
static int ct_cached(int fd, const struct sl_ct_key *k, __u64 *serial)
{
	struct sl_ct_val v;

	if (bpf_map_lookup_elem(fd, k, &v) || !(v.flags & SL_CT_F_VERDICT))
		return -1;
	*serial = v.serial;
	return v.verdict;
}

/* Whether the benchmark flow's slot 0 (XDP, original direction) holds a
 * cached pass. */
static int ct_slot0(int fd, const struct sl_ct_key *k, __u64 *serial)
{
	int vd = ct_cached(fd, k, serial);

	return vd >= 0 && (vd & 1);
}

/* A case whose runs each see a different frame: n test runs of repeat 1,
 * the i-th frame's source port sport0 + i (SYN: a fresh flow each when
 * conntrack is on: the lookup misses, the entry is inserted). The
 * duration of a repeat-1 run includes the test-run's own overhead, so the
 * row compares with its anchor measured the same way. */
static int bench_fresh(const char *name, int prog_fd, __u16 sport0, int n,
		       __u32 want)
{
	__u32 *d = calloc(n, sizeof(*d));
	__u8 frame[128];
	int err = 0;

	if (!d)
		return -ENOMEM;
	for (int i = 0; i < n && !err; i++) {
		size_t len = ct_frame(frame, sizeof(frame), 0x02, sport0 + i);
		__u8 out[256];
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
			    .data_size_in = len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		err = bpf_prog_test_run_opts(prog_fd, &t);
		if (!err && t.retval != want) {
			pr_err("%s: the program returned %s", name,
			       xdp_name(t.retval));
			err = -EINVAL;
		}
		d[i] = t.duration;
	}
	if (!err) {
		qsort(d, n, sizeof(d[0]), cmp_u32);
		printf("case name=%s median=%u min=%u max=%u retval=%s "
		       "runs=%d\n",
		       name, d[n / 2], d[0], d[n - 1], xdp_name(want), n);
		fflush(stdout);
	}
	free(d);
	return err;
}

/* Conntrack's rows, next to the anchor (a stateless pass with no rules,
 * conntrack off) measured in the same run: an established packet (fast
 * path) at 1 and 1,000,000 live entries, the same flow classified every
 * packet (a rule set the fast path cannot cache), a fresh flow (lookup
 * miss and insert), a rate-limited drop and an invalid ACK dropped; then
 * the memory of the connection table. */
static int cmd_conntrack(const struct opts *o)
{
	static const char anchor_yaml[] = "policy: {in: pass, out: pass}\n";
	static const char ct_yaml[] =
	    "policy: {in: pass, out: pass}\n"
	    "conntrack: {enabled: true, max: 1048576}\n"
	    "rules:\n"
	    "  - {id: 1, action: pass, proto: tcp, dport: 80}\n"
	    "  - {id: 2, action: drop, proto: udp, dport: 9}\n";
	static const char flags_yaml[] =
	    "policy: {in: pass, out: pass}\n"
	    "conntrack: {enabled: true, max: 1048576}\n"
	    "rules:\n"
	    "  - {id: 3, action: drop, proto: tcp, tcp-flags: fin/fin}\n"
	    "  - {id: 1, action: pass, proto: tcp, dport: 80}\n"
	    "  - {id: 2, action: drop, proto: udp, dport: 9}\n";
	static const char rl_yaml[] =
	    "policy: {in: pass, out: pass}\n"
	    "conntrack: {enabled: true, max: 1048576}\n"
	    "rules:\n"
	    "  - {id: 4, action: ratelimit, proto: tcp, dport: 80, rate: 1/s, "
	    "burst: 1, per: rule}\n";
	static const char inv_yaml[] =
	    "policy: {in: pass, out: pass}\n"
	    "conntrack: {enabled: true, max: 1048576, drop-invalid: true}\n"
	    "rules:\n"
	    "  - {id: 1, action: pass, proto: tcp, dport: 80}\n";
	static const char syn_yaml[] =
	    "policy: {in: pass, out: pass}\n"
	    "conntrack: {enabled: true, max: 1048576}\n"
	    "synproxy: {ports: [80]}\n"
	    "rules:\n"
	    "  - {id: 1, action: pass, proto: tcp, dport: 80}\n";
	struct sluice_xdp *skel[2] = {NULL, NULL};
	struct sl_ctx ctx[2];
	struct sl_features feat;
	struct sl_ct_key k;
	struct sl_ct_val v;
	unsigned long long pkts, ml;
	__u64 s0 = 0, s1 = 0;
	__u8 frame[128], inv[128];
	size_t len, ilen;
	__u32 src, dst, side;
	int fd[2], ct = -1, ret = 1, i;
	double t0;

	len = ct_frame(frame, sizeof(frame), 0x10, 40000); /* ACK */
	ilen = ct_frame(inv, sizeof(inv), 0x10, 40001);	   /* no flow */
	for (i = 0; i < 2; i++) {
		sl_features_default(&feat);
		feat.conntrack = i;
		skel[i] =
		    sl_xdp_load_ct(NULL, &feat, SL_PROG_XDP, i ? CT_CAP : 0);
		if (!skel[i])
			goto out;
		sl_ctx_wrap(&ctx[i], skel[i]);
		if (apply_yaml(&ctx[i], i ? ct_yaml : anchor_yaml))
			goto out;
		fd[i] = sl_xdp_prog_fd(skel[i]);
	}
	ct = bpf_map__fd(skel[1]->maps.sl_ct);
	inet_pton(AF_INET, SRC_V4, &src);
	inet_pton(AF_INET, DST_V4, &dst);
	side = ct_key(&k, src, dst, 40000);
	ct_val_est(&v, side);
	if (bpf_map_update_elem(ct, &k, &v, BPF_ANY))
		goto out;

	if (bench_case(o, "stateless-pass", fd[0], frame, len, XDP_PASS,
		       &pkts) ||
	    bench_case(o, "ct-established-1", fd[1], frame, len, XDP_PASS,
		       &pkts))
		goto out;
	if (!ct_slot0(ct, &k, &s0)) {
		pr_err("ct-established-1: the flow's pass is not cached");
		goto out;
	}
	/* the same flow with window state, as a flow whose SYN Sluice saw:
	 * the segment is read and checked (the frame's sequence 1, ACK 0 is
	 * in the windows every time) */
	ct_val_est(&v, side);
	ct_val_checked(&v);
	if (bpf_map_update_elem(ct, &k, &v, BPF_ANY) ||
	    bench_case(o, "ct-established-checked-1", fd[1], frame, len,
		       XDP_PASS, &pkts))
		goto out;
	if (!ct_slot0(ct, &k, &s0) || bpf_map_lookup_elem(ct, &k, &v) ||
	    !(v.win[0].flags & SL_CT_W_CHECK) || v.packets[0] != 1 + pkts) {
		pr_err("ct-established-checked-1: not every packet was in the "
		       "window on the fast path");
		goto out;
	}
	if (apply_yaml(&ctx[1], flags_yaml) ||
	    bench_case(o, "ct-established-classified-1", fd[1], frame, len,
		       XDP_PASS, &pkts))
		goto out;
	if (ct_cached(ct, &k, &s1) < 0 || s1 != s0) {
		pr_err("ct-established-classified-1: the pass was cached");
		goto out;
	}
	if (bench_fresh("stateless-pass-r1", fd[0], 20000, CT_NEW_N,
			XDP_PASS) ||
	    bench_fresh("ct-new-flow-r1", fd[1], 20000, CT_NEW_N, XDP_PASS))
		goto out;
	for (i = 0; i < CT_NEW_N; i++) {
		struct sl_ct_key nk;

		ct_key(&nk, src, dst, 20000 + i);
		if (bpf_map_delete_elem(ct, &nk)) {
			pr_err("ct-new-flow-r1: flow %d made no entry", i);
			goto out;
		}
	}
	if (apply_yaml(&ctx[1], rl_yaml) ||
	    bench_case(o, "ratelimit-drop", fd[1], frame, len, XDP_DROP,
		       &pkts) ||
	    apply_yaml(&ctx[1], inv_yaml) ||
	    bench_case(o, "ct-invalid-drop", fd[1], inv, ilen, XDP_DROP, &pkts))
		goto out;
	/* SYN cookies: a SYN answered from XDP (the frame becomes the
	 * SYN-ACK, so runs of repeat 1, against that anchor), and an ACK of
	 * no flow whose cookie does not check */
	if (apply_yaml(&ctx[1], syn_yaml) ||
	    bench_fresh("syn-cookie-answer-r1", fd[1], 30000, CT_NEW_N,
			XDP_TX) ||
	    bench_case(o, "syn-cookie-bad-ack", fd[1], inv, ilen, XDP_DROP,
		       &pkts) ||
	    apply_yaml(&ctx[1], ct_yaml))
		goto out;
	t0 = now_s();
	if (ct_fill(ct, CT_FILL, 0)) {
		pr_err("cannot fill sl_ct with %u entries", CT_FILL);
		goto out;
	}
	printf("load name=ct-fill entries=%u seconds=%.3f\n", CT_FILL,
	       now_s() - t0);
	/* the flow's own entry, in case the fill made the LRU evict it */
	ct_val_est(&v, side);
	if (bpf_map_update_elem(ct, &k, &v, BPF_ANY) ||
	    bench_case(o, "stateless-pass-again", fd[0], frame, len, XDP_PASS,
		       &pkts) ||
	    bench_case(o, "ct-established-1M", fd[1], frame, len, XDP_PASS,
		       &pkts))
		goto out;
	if (!ct_slot0(ct, &k, &s1)) {
		pr_err("ct-established-1M: the flow's pass is not cached");
		goto out;
	}
	ml = map_memlock(ct);
	printf("mem name=ct capacity=%u memlock=%llu per_entry=%.1f "
	       "per_1M_mib=%.1f\n",
	       CT_CAP, ml, (double)ml / CT_CAP,
	       (double)ml / CT_CAP * 1e6 / (1 << 20));
	ret = 0;
out:
	for (i = 0; i < 2; i++)
		if (skel[i]) {
			sl_close(&ctx[i]);
			sl_xdp_destroy(skel[i]);
		}
	return ret;
}

/* Conntrack's lookup piece by piece (bench/sluice_variants.bpf.c, the
 * V_CT_* variants) on the established ACK of the conntrack rows: parse;
 * the 40-byte key; its lookup in an LRU hash like sl_ct, in a plain hash,
 * and a 16-byte IPv4 key's in an LRU hash; the lookup and the entry's two
 * counter adds, atomic and plain. Each table holds the flow and n - 1
 * (-n, default 1) more established flows, as the conntrack rows' fill. */
static int cmd_ctbreakdown(const struct opts *o)
{
	__u32 n = o->prefixes > 0 ? (__u32)o->prefixes : 1;
	const int nv = sizeof(variant_names) / sizeof(variant_names[0]);
	struct sluice_variants *first = NULL;
	struct sluice_xdp *maps;
	struct sl_ct_key k;
	struct exp_ct16_key k2;
	struct sl_ct_val v;
	__u8 frame[128];
	size_t len = ct_frame(frame, sizeof(frame), 0x10, 40000);
	__u32 src, dst, side;
	int ret = 1;

	maps = sl_xdp_load(NULL, NULL, 0);
	if (!maps)
		return 1;
	first = variant_load(V_CT_FIRST, 0, maps, NULL, CT_CAP);
	if (!first)
		goto out;
	inet_pton(AF_INET, SRC_V4, &src);
	inet_pton(AF_INET, DST_V4, &dst);
	side = ct_key(&k, src, dst, 40000);
	exp_ct16_key_make(&k2, src, dst, 40000, 80, IPPROTO_TCP);
	ct_val_est(&v, side);
	if ((n > 1 && (ct_fill(bpf_map__fd(first->maps.exp_ct), n - 1, 0) ||
		       ct_fill(bpf_map__fd(first->maps.exp_ct_h), n - 1, 0) ||
		       ct_fill(bpf_map__fd(first->maps.exp_ct16), n - 1, 1))) ||
	    bpf_map_update_elem(bpf_map__fd(first->maps.exp_ct), &k, &v,
				BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(first->maps.exp_ct_h), &k, &v,
				BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(first->maps.exp_ct16), &k2, &v,
				BPF_ANY)) {
		pr_err("ctbreakdown: cannot fill the tables");
		goto out;
	}
	if (variants_run(o, maps, first, 0, V_CT_FIRST, nv, n, frame, len,
			 XDP_PASS))
		goto out;
	ret = 0;
out:
	sluice_variants__destroy(first);
	sl_xdp_destroy(maps);
	return ret;
}

/* ---- events (issue 10) ---- */

/* The consumer: drains the ring on another CPU while the rows run, as
 * `sluice events --follow` would, counting what it read. */
struct ev_consumer {
	struct ring_buffer *rb;
	volatile int stop;
	unsigned long long read;
	int cpu;
};

static int ev_count(void *ctx, void *data, size_t size)
{
	(void)data, (void)size;
	((struct ev_consumer *)ctx)->read++;
	return 0;
}

static void *ev_drain(void *arg)
{
	struct ev_consumer *c = arg;

	if (c->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(c->cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	/* woken once a quarter of the ring is queued (events.h): read
	 * after every wait */
	while (!c->stop) {
		ring_buffer__poll(c->rb, 20);
		ring_buffer__consume(c->rb);
	}
	ring_buffer__consume(c->rb);
	return NULL;
}

/* Starts the consumer of skel's ring on another CPU than the runs'
 * (--cpu). 0, or -1 (nothing to stop). */
static int ev_consumer_start(struct ev_consumer *c, struct sluice_xdp *skel,
			     const struct opts *o, pthread_t *th)
{
	c->rb = ring_buffer__new(bpf_map__fd(skel->maps.sl_events), ev_count, c,
				 NULL);
	c->cpu = o->cpu > 0 ? 0 : (sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : -1);
	if (c->rb && !pthread_create(th, NULL, ev_drain, c))
		return 0;
	ring_buffer__free(c->rb);
	c->rb = NULL;
	return -1;
}

static void ev_consumer_stop(struct ev_consumer *c, pthread_t th)
{
	c->stop = 1;
	pthread_join(th, NULL);
	ring_buffer__free(c->rb);
	c->rb = NULL;
}

/* One row with the events program: the case line, then what the consumer
 * read and what was lost during it. */
static int ev_row(const struct opts *o, struct sl_ctx *ctx, int fd, int lost,
		  struct ev_consumer *c, const char *name, const char *yaml,
		  const void *frame, size_t len, int expect)
{
	unsigned long long pkts, r0;
	uint64_t l0 = 0, l1 = 0;

	if (yaml && apply_yaml(ctx, yaml)) {
		pr_err("%s: apply failed", name);
		return -1;
	}
	usleep(100000); /* the consumer empties the ring first */
	r0 = c->read;
	sl_ev_lost_fd(lost, &l0, NULL, 0);
	if (bench_case(o, name, fd, frame, len, expect, &pkts))
		return -1;
	usleep(100000);
	sl_ev_lost_fd(lost, &l1, NULL, 0);
	printf("events name=%s packets=%llu read=%llu lost=%llu\n", name, pkts,
	       c->read - r0, (unsigned long long)(l1 - l0));
	fflush(stdout);
	return 0;
}

/* The events rows next to the anchor (the same rules, programs loaded
 * without the events switch) measured in the same run. */
static int cmd_events(const struct opts *o)
{
	static const char base_yaml[] =
	    "policy: {in: pass, out: pass}\n"
	    "rules:\n"
	    "  - {id: 1, action: pass, proto: tcp, dport: 80}\n"
	    "  - {id: 2, action: drop, proto: udp, dport: 9}\n";
	static const char s1000_yaml[] =
	    "policy: {in: pass, out: pass}\n"
	    "events: {sample: 1000}\n"
	    "rules:\n"
	    "  - {id: 1, action: pass, proto: tcp, dport: 80}\n"
	    "  - {id: 2, action: drop, proto: udp, dport: 9}\n";
	static const char s1_yaml[] =
	    "policy: {in: pass, out: pass}\n"
	    "events: {sample: 1}\n"
	    "rules:\n"
	    "  - {id: 1, action: pass, proto: tcp, dport: 80}\n"
	    "  - {id: 2, action: drop, proto: udp, dport: 9}\n";
	static const char log_yaml[] =
	    "policy: {in: pass, out: pass}\n"
	    "rules:\n"
	    "  - {id: 1, action: pass, proto: tcp, dport: 80, log: true}\n"
	    "  - {id: 2, action: drop, proto: udp, dport: 9}\n";
	static const char drop_yaml[] =
	    "policy: {in: pass, out: pass}\n"
	    "events: {drops: true}\n"
	    "rules:\n"
	    "  - {id: 3, action: drop, proto: tcp, dport: 80}\n";
	struct sluice_xdp *skel[2] = {NULL, NULL};
	struct ev_consumer c = {.cpu = -1};
	struct sl_ctx ctx[2];
	struct sl_features feat;
	unsigned long long pkts;
	pthread_t th;
	bool th_up = false;
	__u8 frame[128];
	size_t len;
	int fd[2], lost, ret = 1, i;

	len = ct_frame(frame, sizeof(frame), 0x10, 40000); /* ACK to :80 */
	for (i = 0; i < 2; i++) {
		sl_features_default(&feat);
		feat.events = i;
		skel[i] = sl_xdp_load(NULL, &feat, SL_PROG_XDP);
		if (!skel[i])
			goto out;
		sl_ctx_wrap(&ctx[i], skel[i]);
		if (apply_yaml(&ctx[i], base_yaml))
			goto out;
		fd[i] = sl_xdp_prog_fd(skel[i]);
	}
	lost = bpf_map__fd(skel[1]->maps.sl_ev_lost);
	if (ev_consumer_start(&c, skel[1], o, &th))
		goto out;
	th_up = true;
	if (bench_case(o, "events-off", fd[0], frame, len, XDP_PASS, &pkts) ||
	    ev_row(o, &ctx[1], fd[1], lost, &c, "events-on-idle", NULL, frame,
		   len, XDP_PASS) ||
	    ev_row(o, &ctx[1], fd[1], lost, &c, "events-sample-1000",
		   s1000_yaml, frame, len, XDP_PASS) ||
	    ev_row(o, &ctx[1], fd[1], lost, &c, "events-sample-1", s1_yaml,
		   frame, len, XDP_PASS) ||
	    ev_row(o, &ctx[1], fd[1], lost, &c, "events-log-rule", log_yaml,
		   frame, len, XDP_PASS) ||
	    ev_row(o, &ctx[1], fd[1], lost, &c, "events-drops", drop_yaml,
		   frame, len, XDP_DROP) ||
	    bench_case(o, "events-off-again", fd[0], frame, len, XDP_PASS,
		       &pkts))
		goto out;
	ret = 0;
out:
	if (th_up)
		ev_consumer_stop(&c, th);
	for (i = 0; i < 2; i++)
		if (skel[i]) {
			sl_close(&ctx[i]);
			sl_xdp_destroy(skel[i]);
		}
	return ret;
}

/* ---- events: the consumer's rate (issue 10) ---- */

#define EVR_BATCH                                                \
	100000 /* packets per test run (smaller batches made the \
		* producer itself slower than the steps here) */

/* One producer phase of `seconds`: test runs of `batch` packets, paced
 * to `rate` packets/s (0: as fast as test-run goes), while the consumer
 * drains the ring; then the consumer catches up. Prints the row: events
 * produced (every packet: sample 1), read, lost, per second. Fails when
 * read + lost is not the packets run (an event neither read nor counted
 * lost). */
static int evr_phase(int fd, int lost, struct ev_consumer *c, const void *frame,
		     size_t len, const char *what, double rate, double seconds,
		     int batch, unsigned long long *lost_out, double *rate_out)
{
	unsigned long long pkts = 0, r0, r1;
	uint64_t l0 = 0, l1 = 0;
	double t0, t, el;
	int err;

	usleep(100000); /* the ring empty first */
	r0 = c->read;
	sl_ev_lost_fd(lost, &l0, NULL, 0);
	t0 = now_s();
	for (;;) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
			    .data_size_in = len, .repeat = batch);

		t = now_s() - t0;
		if (t >= seconds)
			break;
		if (rate > 0 && pkts >= rate * t) {
			/* ahead of the pace: wait for the next batch's time */
			usleep((useconds_t)((pkts / rate - t) * 1e6) + 1);
			continue;
		}
		err = bpf_prog_test_run_opts(fd, &o);
		if (err || o.retval != XDP_PASS) {
			pr_err("%s: test run failed (%d, %s)", what, err,
			       xdp_name(o.retval));
			return -1;
		}
		pkts += batch;
	}
	el = now_s() - t0;
	usleep(200000); /* the consumer catches up */
	r1 = c->read;
	sl_ev_lost_fd(lost, &l1, NULL, 0);
	*lost_out = l1 - l0;
	*rate_out = pkts / el;
	printf("  %-34s %12.0f %12.0f %12.0f %12llu %7.2f%%\n", what, pkts / el,
	       (r1 - r0) / el, (l1 - l0) / el, *lost_out,
	       pkts ? 100.0 * (l1 - l0) / pkts : 0.0);
	fflush(stdout);
	if (r1 - r0 + (l1 - l0) != pkts) {
		pr_err("%s: %llu packets but %llu read + %llu lost", what, pkts,
		       r1 - r0, (unsigned long long)(l1 - l0));
		return -1;
	}
	return 0;
}

/* How many events a second a consumer of the ring keeps up with: with
 * `events: {sample: 1}` (every verdict an event), test runs of the IPv4
 * pass in this thread (pinned to --cpu) while a consumer thread (libbpf
 * ring_buffer__poll, counting each record: the floor of any reader;
 * `sluice events` also formats it) drains the ring on another CPU. Paced
 * steps of 0.5 s each, then 2 s of a saturating producer. */
static int cmd_evrate(const struct opts *o)
{
	static const char s1_yaml[] =
	    "policy: {in: pass, out: pass}\n"
	    "events: {sample: 1}\n"
	    "rules:\n"
	    "  - {id: 1, action: pass, proto: tcp, dport: 80}\n";
	static const double steps[] = {250e3, 500e3, 1e6, 2e6, 4e6};
	struct ev_consumer c = {.cpu = -1};
	struct sluice_xdp *skel;
	struct sl_features feat;
	unsigned long long l;
	double best = 0, got;
	struct sl_ctx ctx;
	bool th_up = false;
	__u8 frame[128];
	char what[64];
	pthread_t th;
	size_t len;
	int fd, lost, ret = 1;

	len = ct_frame(frame, sizeof(frame), 0x10, 40000); /* ACK to :80 */
	sl_features_default(&feat);
	feat.events = 1;
	skel = sl_xdp_load(NULL, &feat, SL_PROG_XDP);
	if (!skel)
		return 1;
	sl_ctx_wrap(&ctx, skel);
	if (apply_yaml(&ctx, s1_yaml))
		goto out;
	fd = sl_xdp_prog_fd(skel);
	lost = bpf_map__fd(skel->maps.sl_ev_lost);
	if (ev_consumer_start(&c, skel, o, &th))
		goto out;
	th_up = true;
	printf("  %-34s %12s %12s %12s %12s %8s\n", "producer", "produced/s",
	       "read/s", "lost/s", "lost", "share");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		snprintf(what, sizeof(what), "paced, %.2fM packets/s",
			 steps[i] / 1e6);
		if (evr_phase(fd, lost, &c, frame, len, what, steps[i], 0.5,
			      EVR_BATCH, &l, &got))
			goto out;
		/* a step counts only when the producer reached its pace */
		if (!l && got >= 0.95 * steps[i] && steps[i] > best)
			best = steps[i];
	}
	if (evr_phase(fd, lost, &c, frame, len, "saturating (repeat batches)",
		      0, 2.0, EVR_BATCH, &l, &got))
		goto out;
	if (best > 0)
		printf("  highest paced step reached with 0 lost: %.2fM "
		       "events/s\n",
		       best / 1e6);
	else
		printf("  highest paced step reached with 0 lost: none\n");
	if (!l)
		printf("  saturating: the consumer kept up, 0 lost at %.2fM "
		       "events/s (the most this producer made in this run)\n",
		       got / 1e6);
	ret = 0;
out:
	if (th_up)
		ev_consumer_stop(&c, th);
	sl_close(&ctx);
	sl_xdp_destroy(skel);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: bench_xdp [OPTIONS] empty\n"
	    "       bench_xdp [OPTIONS] sluice -f 4|6 -n N [--pass "
	    "[--shared]] [--deny] [--hit-plen P]\n"
	    "       bench_xdp [OPTIONS] prog --prog-id ID --name NAME "
	    "[--expect pass|drop] [-f 4|6]\n"
	    "       bench_xdp [OPTIONS] sweep [-n MAX]      (deny, IPv4, "
	    "1..MAX prefixes)\n"
	    "       bench_xdp [OPTIONS] breakdown [-n N]    (variants of "
	    "the program)\n"
	    "       bench_xdp [OPTIONS] stages [-n N]       (sets and rules "
	    "on, off, built without)\n"
	    "       bench_xdp [OPTIONS] conntrack           (established, "
	    "new, drops; 1 and 1M entries)\n"
	    "       bench_xdp [OPTIONS] ctbreakdown [-n N]  (conntrack's "
	    "lookup, piece by piece)\n"
	    "       bench_xdp [OPTIONS] events              (off, sampling, "
	    "log rule, drop events)\n"
	    "       bench_xdp [OPTIONS] evrate              (events/s a ring "
	    "consumer keeps up with)\n"
	    "options: --repeat N (1000000)  --runs N (5, odd, <= %d)  "
	    "--cpu N (pin; -1: none; default the last CPU)  --seed N\n",
	    MAX_RUNS);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"family", required_argument, NULL, 'f'},
	    {"prefixes", required_argument, NULL, 'n'},
	    {"pass", no_argument, NULL, 'P'},
	    {"deny", no_argument, NULL, 'D'},
	    {"shared", no_argument, NULL, 'S'},
	    {"hit-plen", required_argument, NULL, 'H'},
	    {"prog-id", required_argument, NULL, 'i'},
	    {"name", required_argument, NULL, 'N'},
	    {"expect", required_argument, NULL, 'e'},
	    {"repeat", required_argument, NULL, 'r'},
	    {"runs", required_argument, NULL, 'R'},
	    {"cpu", required_argument, NULL, 'c'},
	    {"seed", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {.family = 4,
			 .hit_plen = -1,
			 .expect = XDP_DROP,
			 .repeat = 1000000,
			 .runs = 5,
			 .cpu = -2,
			 .seed = 0x5101ce5eedULL};
	int c;

	sl_log_set_prefix("bench_xdp");
	sl_log_hook_libbpf();
	while ((c = getopt_long(argc, argv, "f:n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.family = atoi(optarg);
			break;
		case 'n':
			o.prefixes = atol(optarg);
			break;
		case 'P':
			o.pass = 1;
			break;
		case 'D':
			o.deny = 1;
			break;
		case 'S':
			o.shared = 1;
			break;
		case 'H':
			o.hit_plen = atoi(optarg);
			break;
		case 'i':
			o.prog_id = strtoul(optarg, NULL, 0);
			break;
		case 'N':
			o.name = optarg;
			break;
		case 'e':
			o.expect =
			    !strcmp(optarg, "pass") ? XDP_PASS : XDP_DROP;
			break;
		case 'r':
			o.repeat = atoi(optarg);
			break;
		case 'R':
			o.runs = atoi(optarg);
			break;
		case 'c':
			o.cpu = atoi(optarg);
			break;
		case 's':
			o.seed = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || o.repeat < 1 || o.runs < 1 ||
	    o.runs > MAX_RUNS || !(o.runs & 1)) {
		usage(stderr);
		return 2;
	}
	o.cmd = argv[optind];
	if (o.hit_plen < 0)
		o.hit_plen = o.family == 4 ? 32 : 128;
	if (o.hit_plen > (o.family == 4 ? 32 : 128)) {
		pr_err("--hit-plen %d is too long for IPv%d", o.hit_plen,
		       o.family);
		return 2;
	}
	rng_state = o.seed ? o.seed : 1;

	/* One CPU for every run: test-run figures move with the CPU. */
	if (o.cpu == -2)
		o.cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			pr_warn("cannot pin to CPU %d: %s", o.cpu,
				strerror(errno));
	}

	if (!strcmp(o.cmd, "empty"))
		return cmd_empty(&o);
	if (!strcmp(o.cmd, "sluice"))
		return cmd_sluice(&o);
	if (!strcmp(o.cmd, "prog"))
		return cmd_prog(&o);
	if (!strcmp(o.cmd, "sweep"))
		return cmd_sweep(&o);
	if (!strcmp(o.cmd, "breakdown"))
		return cmd_breakdown(&o);
	if (!strcmp(o.cmd, "stages"))
		return cmd_stages(&o);
	if (!strcmp(o.cmd, "conntrack"))
		return cmd_conntrack(&o);
	if (!strcmp(o.cmd, "ctbreakdown"))
		return cmd_ctbreakdown(&o);
	if (!strcmp(o.cmd, "events"))
		return cmd_events(&o);
	if (!strcmp(o.cmd, "evrate"))
		return cmd_evrate(&o);
	usage(stderr);
	return 2;
}
