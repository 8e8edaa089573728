// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bench_rules: ns/packet of the whole XDP program (parse, sets, rules,
 * counters) by rule count, through bpf_prog_test_run_opts, next to an empty
 * XDP program in the same run. For each size N: N-1 generated rules
 * (bench/rulegen.c: the IPv4 5-tuple profile, or the full one with --full)
 * plus a last rule that drops the benchmark frame (UDP 198.18.0.1:40000 ->
 * 198.19.0.1:53), applied with sl_apply() on private maps, exactly as
 * `sluice apply` writes them. The frame is replayed (--repeat per test run,
 * median of --runs), so this is the cache-hot cost; the last rule's counter
 * must have counted every run.
 *   bench_rules [--repeat N] [--runs N] [--full] [SIZES...]
 * Also prints the apply time (classifier build and switch) and the blob
 * bytes in use. A benchmark, not a test. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>

#include "classify.h"
#include "config.h"
#include "log.h"
#include "rulegen.h"
#include "sluice.h"
#include "xdp_empty.skel.h"

#define MAX_RUNS 15

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Ethernet / IPv4 / UDP 198.18.0.1:40000 -> 198.19.0.1:53, 64 bytes. */
static size_t frame(unsigned char *f)
{
	unsigned char *ip = f + 14, *udp = ip + 20;
	unsigned int sum = 0;

	memset(f, 0, 64);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	ip[0] = 0x45;
	ip[3] = 50; /* tot_len 50 */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	inet_pton(AF_INET, "198.18.0.1", ip + 12);
	inet_pton(AF_INET, "198.19.0.1", ip + 16);
	for (int i = 0; i < 20; i += 2)
		sum += ip[i] << 8 | ip[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~((sum & 0xffff) + (sum >> 16)) & 0xffff;
	ip[10] = sum >> 8;
	ip[11] = sum & 0xff;
	udp[0] = 40000 >> 8;
	udp[1] = 40000 & 0xff;
	udp[3] = 53;
	udp[5] = 30; /* len 30 */
	return 64;
}

/* Ethernet / IPv6 / UDP 2001:db8::1:40000 -> 2001:db8::2:53, 70 bytes:
 * a class (address family) the IPv4 profile has no rule for. */
static size_t frame6(unsigned char *f)
{
	unsigned char *ip = f + 14, *udp = ip + 40;

	memset(f, 0, 70);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x86\xdd", 14);
	ip[0] = 0x60;
	ip[5] = 16; /* payload_len */
	ip[6] = IPPROTO_UDP;
	ip[7] = 64;
	inet_pton(AF_INET6, "2001:db8::1", ip + 8);
	inet_pton(AF_INET6, "2001:db8::2", ip + 24);
	udp[0] = 40000 >> 8;
	udp[1] = 40000 & 0xff;
	udp[3] = 53;
	udp[5] = 16; /* len; checksum 0 is not checked */
	return 70;
}

/* Median ns/packet of prog on the frame (IPv4, or IPv6 with v6); -1 on
 * error or another verdict than want. */
static double measure_f(int prog, int repeat, int runs, int want, int v6)
{
	unsigned char f[70];
	size_t len = v6 ? frame6(f) : frame(f);
	double ns[MAX_RUNS];

	for (int r = 0; r < runs; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f,
			    .data_size_in = len, .repeat = repeat);

		if (bpf_prog_test_run_opts(prog, &o) ||
		    (want >= 0 && (int)o.retval != want))
			return -1;
		ns[r] = o.duration;
	}
	qsort(ns, runs, sizeof(ns[0]), cmp_d);
	return ns[runs / 2];
}

static double measure(int prog, int repeat, int runs, int want)
{
	return measure_f(prog, repeat, runs, want, 0);
}

static int last_rule(struct sl_rule *r, uint32_t id)
{
	static const char *const kv[][2] = {
	    {"action", "drop"},	   {"direction", "in"}, {"src", "198.18.0.1"},
	    {"dst", "198.19.0.1"}, {"proto", "udp"},	{"sport", "1024-65535"},
	    {"dport", "53"},
	};
	char err[256];

	sl_rule_init(r);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		if (sl_rule_set_field(r, kv[i][0], kv[i][1], err, sizeof(err)))
			return -EINVAL;
	r->id = id;
	r->priority = 65535; /* after every generated rule */
	return sl_rule_validate(r, err, sizeof(err));
}

int main(int argc, char **argv)
{
	static const size_t def_sizes[] = {1, 10, 100, 10000, 100000};
	size_t sizes[16], nsizes = 0;
	int repeat = 1000000, runs = 5, full = 0;
	double floor_ns, base = 0;
	struct xdp_empty *empty;
	struct sluice_xdp *skel;
	struct sl_ctx ctx;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--full"))
			full = 1;
		else if (nsizes < 16 && atol(argv[i]) > 0)
			sizes[nsizes++] = atol(argv[i]);
		else {
			fprintf(stderr,
				"usage: bench_rules [--repeat N] [--runs N] "
				"[--full] [SIZES...]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || repeat < 1) {
		fprintf(stderr, "bench_rules: --runs 1..%d, --repeat >= 1\n",
			MAX_RUNS);
		return 2;
	}
	if (!nsizes)
		for (; nsizes < sizeof(def_sizes) / sizeof(def_sizes[0]);
		     nsizes++)
			sizes[nsizes] = def_sizes[nsizes];
	sl_log_hook_libbpf();
	if (getenv("SLUICE_DEBUG"))
		sl_log_set_level(SL_LOG_DEBUG);
	if (sl_check_privileges())
		return 1;

	empty = xdp_empty__open_and_load();
	skel = sl_xdp_load(NULL, NULL, SL_PROG_XDP);
	if (!empty || !skel) {
		fprintf(stderr, "bench_rules: cannot load the programs\n");
		return 1;
	}
	sl_ctx_wrap(&ctx, skel);
	floor_ns =
	    measure(bpf_program__fd(empty->progs.xdp_empty), repeat, runs, -1);
	printf("Rules: ns/packet of the whole XDP program, frame replayed "
	       "(cache-hot), repeat %d, median of %d; rules: %s + the "
	       "matching rule last\n",
	       repeat, runs,
	       full ? "rulegen full profile" : "rulegen IPv4 5-tuple");
	/* Sets only: an applied config without rules (the rules stage
	 * returns at once), for the IPv6 frame no IPv4 rule covers. */
	double sets6 = -1, res_v6[16];
	{
		struct sl_config c0 = {0};
		struct sl_apply_report rep0;

		if (sl_apply(&ctx, &c0, 0, &rep0)) {
			fprintf(stderr, "bench_rules: cannot apply no rules\n");
			return 1;
		}
		sets6 =
		    measure_f(sl_xdp_prog_fd(skel), repeat, runs, XDP_PASS, 1);
	}
	double res_ns[16], res_apply[16], res_build[16];
	unsigned long long res_bytes[16];
	unsigned res_trees[16];

	for (size_t k = 0; k < nsizes; k++) {
		size_t n = sizes[k];
		struct sl_apply_report rep;
		struct sl_gen_opts o;
		struct sl_config c = {0};
		struct sl_counter cnt;
		double t0, t1, ns;
		int err;

		sl_gen_opts_default(&o, 42 + n);
		o.ipv4_5tuple = !full;
		c.rules = calloc(n, sizeof(*c.rules));
		c.n_rules = n;
		if (!c.rules || (n > 1 && sl_gen_rules(c.rules, n - 1, &o)) ||
		    last_rule(&c.rules[n - 1], n)) {
			fprintf(stderr,
				"bench_rules: cannot generate %zu rules\n", n);
			return 1;
		}
		/* The frame must meet only the last rule: drop generated
		 * rules whose box holds it (a wildcard rule of the profile). */
		{
			uint32_t fk[SL_DIM_MAX] = {0}, lo[SL_DIM_MAX],
				 hi[SL_DIM_MAX];
			size_t m = 0;

			fk[SL_DIM_SRC3] = 0xc6120001; /* 198.18.0.1 */
			fk[SL_DIM_DST3] = 0xc6130001; /* 198.19.0.1 */
			fk[SL_DIM_SPORT] = 40000;
			fk[SL_DIM_DPORT] = 53;
			fk[SL_DIM_PROTO] = IPPROTO_UDP;
			fk[SL_DIM_IFINDEX] = 1; /* test-run: lo */
			fk[SL_DIM_DIR] = SL_RDIR_IN;
			fk[SL_DIM_L3] = SL_L3_IPV4;
			for (size_t i = 0; i + 1 < n; i++) {
				bool hit = true;

				c.rules[i].iface[0] = '\0';
				sl_rule_box(&c.rules[i], lo, hi);
				for (int d = 0; d < SL_DIM_MAX; d++)
					hit = hit && fk[d] >= lo[d] &&
					      fk[d] <= hi[d];
				if (!hit)
					c.rules[m++] = c.rules[i];
			}
			c.rules[m++] = c.rules[n - 1];
			c.n_rules = m;
		}
		t0 = now();
		err = sl_apply(&ctx, &c, 0, &rep);
		t1 = now();
		if (err) {
			fprintf(stderr, "bench_rules: apply of %zu rules: %s\n",
				n, strerror(-err));
			return 1;
		}
		ns = measure(sl_xdp_prog_fd(skel), repeat, runs, XDP_DROP);
		struct sl_rule last = {.id = n};

		if (ns < 0 || sl_rule_stats_read(&ctx, &last, 1, &cnt) ||
		    cnt.packets != (uint64_t)repeat * runs) {
			fprintf(stderr,
				"bench_rules: %zu rules: the last rule did not "
				"decide every run (%llu of %llu)\n",
				n, (unsigned long long)cnt.packets,
				(unsigned long long)repeat * runs);
			return 1;
		}
		/* The IPv6 frame meets no rule of the IPv4 profile. */
		res_v6[k] = full ? -1
				 : measure_f(sl_xdp_prog_fd(skel), repeat, runs,
					     XDP_PASS, 1);
		if (n == 10)
			base = ns;
		res_ns[k] = ns;
		res_apply[k] = (t1 - t0) * 1e3;
		res_build[k] = rep.cls.build_ms;
		res_bytes[k] = rep.cls.bytes;
		res_trees[k] = rep.cls.trees;
		sl_config_free(&c);
	}
	printf("%-9s %9s %8s %8s %10s %9s %11s %6s %8s\n", "rules", "ns/pkt",
	       "x 10", "x empty", "apply ms", "build ms", "blob bytes", "trees",
	       "v6 ns");
	printf("%-9s %9.1f %8s %8.2f\n", "empty", floor_ns, "-", 1.0);
	printf("%-9s %9s %8s %8s %10s %9s %11s %6s %8.1f\n", "0 (sets)", "-",
	       "-", "-", "-", "-", "-", "-", sets6);
	double worst6 = -1;

	for (size_t k = 0; k < nsizes; k++) {
		char x10[16] = "-", v6[16] = "-";

		if (base)
			snprintf(x10, sizeof(x10), "%.2f", res_ns[k] / base);
		if (res_v6[k] >= 0) {
			snprintf(v6, sizeof(v6), "%.1f", res_v6[k]);
			if (res_v6[k] > worst6)
				worst6 = res_v6[k];
		}
		printf("%-9zu %9.1f %8s %8.2f %10.1f %9.1f %11llu %6u %8s\n",
		       sizes[k], res_ns[k], x10, res_ns[k] / floor_ns,
		       res_apply[k], res_build[k], res_bytes[k], res_trees[k],
		       v6);
	}
	if (base)
		printf("target: %zu rules <= 2x the 10-rule cost: %.2fx, %s\n",
		       sizes[nsizes - 1], res_ns[nsizes - 1] / base,
		       res_ns[nsizes - 1] <= 2 * base ? "PASS" : "MISS");
	if (worst6 >= 0)
		printf("target: a class no rule covers (IPv6 frame, IPv4 "
		       "rules) <= sets only + 5 ns: worst %.1f vs %.1f + 5, "
		       "%s\n",
		       worst6, sets6, worst6 <= sets6 + 5 ? "PASS" : "MISS");
	sl_close(&ctx);
	sl_xdp_destroy(skel);
	xdp_empty__destroy(empty);
	return 0;
}
