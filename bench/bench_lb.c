// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bench_lb: the XDP load balancer's ns/packet through test-run (issue 11),
 * and the Maglev table build of 1,000 services x 100 backends.
 *
 * Runs in a network namespace of its own (unshare), tests/unit/lb_lab.h,
 * test_lb's lab: the client side lbc0 (the ingress) and the
 * backend side lbb0 with permanent neighbours, forwarding on, so
 * bpf_fib_lookup() answers and a forwarded frame is XDP_REDIRECT. Six TCP
 * services, written by the control plane's writer (sl_lb_write): VIP:80
 * nat, VIP:81 dsr-l2 and VIP:82 dsr-ipip (IPv4 in IPv4, IPv6 in IPv6),
 * IPv4 and IPv6, 3 backends each.
 *
 * A program that rewrites sees its own output on the next `repeat`, so
 * every row is a loop of single runs (repeat 1), one frame per run held
 * in user memory (never the program's output): the figure is the median
 * of the kernel's per-run `duration` (it includes test-run's own per-run
 * overhead; nothing is subtracted). The wall time per run around the
 * whole loop (clock_gettime, syscalls included) is printed beside it.
 * The in-run anchor is the same program loaded with sl_feat.lb off and no
 * service, the same frames, the same loop: a stateless pass.
 *   established: one flow, recorded by a warm-up run, then N runs of it;
 *     checked: the service's backends counted N packets and no new
 *     connection, lb-forward (redirect) rose by N.
 *   new-flow SYN: N prepared SYNs of N distinct source ports (a fresh
 *     flow each); checked: N new connections, N packets, lb-forward +N.
 * The connection table is emptied before each row.
 * Anchors printed as such: Katran's figures quoted in issue 11
 * (established ~150 ns, a SYN writing its table ~330 ns).
 *
 * Then the same rows by restored frames (-m restored): one test run of a
 * large repeat through bench/lb_harness.bpf.c, which puts the frame back
 * (and, for the SYN rows, a new source port) before tail-calling the
 * program on every run; beside the floor (the empty program run
 * directly) and the harness anchor (the harness tail-calling the empty
 * program), in rounds, the medians printed raw, net of the harness and
 * net + floor ("as t-r", compared with Katran). Same counter checks.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include "../tests/unit/lb_lab.h"
#include "frame.h"
#include "lb_harness.h"
#include "lb_harness.skel.h"
#include "log.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"
#include "xdp_empty.skel.h"

#define VIP4 "198.18.100.1"
#define VIP6 "2001:db8:100::1"
#define CLI4 "198.18.0.1"
#define CLI6 "2001:db8:1::1"
#define NBE  3

#define KATRAN_EST_NS 150.0
#define KATRAN_SYN_NS 330.0

static int if_c;

/* The namespace: test_lb's lab (lb_lab.h). */
static int lab_up(void)
{
	if (lb_lab_up())
		return -1;
	if_c = (int)if_nametoindex("lbc0");
	return if_c ? 0 : -1;
}

/* ---- services ---- */

static void addr_of(int v6, const char *s, uint8_t *a)
{
	memset(a, 0, 16);
	inet_pton(v6 ? AF_INET6 : AF_INET, s, a);
}

static void svc_fill(struct sl_lb_service_cfg *s, int v6, uint16_t port,
		     uint8_t mode)
{
	memset(s, 0, sizeof(*s));
	addr_of(v6, v6 ? VIP6 : VIP4, s->vip);
	s->family = v6 ? 6 : 4;
	s->port = port;
	s->proto = IPPROTO_TCP;
	s->mode = mode;
	s->be = calloc(NBE, sizeof(*s->be));
	for (int n = 10; s->be && n < 10 + NBE; n++) {
		struct sl_lb_backend_cfg *b = &s->be[s->n_be++];
		char a[64];

		snprintf(a, sizeof(a), v6 ? "2001:db8:5::%x" : "198.18.1.%d",
			 n);
		addr_of(v6, a, b->addr);
		b->family = s->family;
		b->port = (uint16_t)(8000 + n);
		b->weight = 1;
	}
}

/* The service's counters summed over its backends (sl_lb_read). */
static int svc_counts(struct sl_ctx *ctx, int v6, uint16_t port,
		      struct sl_lb_counts *sum)
{
	struct sl_lb_cfg cur = {0};
	struct sl_lb_service_cfg *s;
	uint8_t vip[16];
	int err = sl_lb_read(ctx, &cur);

	memset(sum, 0, sizeof(*sum));
	if (err)
		return err;
	addr_of(v6, v6 ? VIP6 : VIP4, vip);
	s = sl_lb_find(&cur, vip, v6 ? 6 : 4, port, IPPROTO_TCP);
	for (size_t i = 0; s && i < s->n_be; i++) {
		sum->packets += s->be[i].cnt.packets;
		sum->conns += s->be[i].cnt.conns;
	}
	sl_lb_cfg_free(&cur);
	return s ? 0 : -ENOENT;
}

static uint64_t fwd_count(int stats_fd)
{
	struct sl_counter c[SL_STATS_MAX];

	if (sl_stats_read_fd(stats_fd, c))
		return ~0ULL;
	return c[sl_stats_idx(SL_R_LB_FWD, SL_ACT_REDIRECT)].packets;
}

/* Empties the connection table (between rows). */
static int conn_flush(int conn_fd)
{
	struct sl_lb_conn_key k, next;
	__u32 zero = 0, id;
	int fd, n = 0;

	if (bpf_map_lookup_elem(conn_fd, &zero, &id))
		return 0; /* not made yet */
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		if (bpf_map_delete_elem(fd, &k))
			break;
		n++;
	}
	close(fd);
	return n;
}

/* ---- frames ---- */

#define FRAME_LEN 96

/* client:sport -> VIP:dport, TCP flags (0x02 SYN, 0x10 ACK). */
static size_t lb_frame(__u8 *buf, int v6, __u16 sport, __u16 dport, __u8 flags)
{
	return bench_tcp_frame(buf, FRAME_LEN, v6 ? 6 : 4, v6 ? CLI6 : CLI4,
			       v6 ? VIP6 : VIP4, sport, dport, flags);
}

/* ---- the loop ---- */

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct row {
	__u32 median, min, max;
	double wall; /* ns per run around the loop, syscalls included */
};

/* n single runs (repeat 1), run i on frames[i % nframes]; every run must
 * return want. */
static int loop(int prog, __u8 (*frames)[FRAME_LEN], size_t len, int nframes,
		int n, __u32 want, struct row *r)
{
	__u32 *d = calloc(n, sizeof(*d));
	struct xdp_md xctx = {.data_end = (__u32)len,
			      .ingress_ifindex = (__u32)if_c};
	__u8 out[256];
	double t0;
	int err = 0;

	if (!d)
		return -ENOMEM;
	t0 = now_ns();
	for (int i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t,
			    .data_in = frames[i % nframes],
			    .data_size_in = (__u32)len, .data_out = out,
			    .data_size_out = sizeof(out), .ctx_in = &xctx,
			    .ctx_size_in = sizeof(xctx), .repeat = 1);

		err = bpf_prog_test_run_opts(prog, &t);
		if (err || t.retval != want) {
			pr_err("run %d: %s, returned %u (expected %u)", i,
			       err ? strerror(-err) : "ok", t.retval, want);
			err = -EINVAL;
			break;
		}
		d[i] = t.duration;
	}
	r->wall = (now_ns() - t0) / n;
	if (!err) {
		qsort(d, n, sizeof(d[0]), cmp_u32);
		r->median = d[n / 2];
		r->min = d[0];
		r->max = d[n - 1];
	}
	free(d);
	return err;
}

/* ---- the rows ---- */

struct env {
	struct sl_ctx ctx;
	int lb_prog, pass_prog, stats_fd, conn_fd, n;
	/* the restored-frame method */
	struct lb_harness *hx;
	int empty_prog, runs;
	__u32 repeat, repeat_syn;
};

static void print_row(const char *what, const struct row *r,
		      const struct row *anchor, double katran)
{
	printf("  %-40s %8u %8.0f %9.2fx %s", what, r->median, r->wall,
	       (double)r->median / anchor->median,
	       katran > 0 ? (r->median <= katran ? "PASS" : "MISS") : "");
	if (katran > 0)
		printf(" (<= %.0f ns)", katran);
	printf("\n");
	fflush(stdout);
}

/* The service's counters and lb-forward before a row (*snap). */
struct snap {
	struct sl_lb_counts c;
	uint64_t fwd;
};

static int snap_take(struct env *e, int v6, uint16_t port, struct snap *sn)
{
	if (svc_counts(&e->ctx, v6, port, &sn->c))
		return -1;
	sn->fwd = fwd_count(e->stats_fd);
	return 0;
}

/* Since s0, the row must have counted pk packets, conns new connections
 * and pk lb-forward verdicts: every run took the path it names. */
static int snap_check(struct env *e, int v6, uint16_t port, const char *what,
		      const struct snap *s0, uint64_t pk, uint64_t conns)
{
	struct snap s1;

	if (snap_take(e, v6, port, &s1))
		return -1;
	if (s1.c.packets - s0->c.packets == pk &&
	    s1.c.conns - s0->c.conns == conns && s1.fwd - s0->fwd == pk)
		return 0;
	pr_err("IPv%d %s: %llu packets, %llu new connections, %llu "
	       "lb-forward (want %llu, %llu, %llu)",
	       v6 ? 6 : 4, what,
	       (unsigned long long)(s1.c.packets - s0->c.packets),
	       (unsigned long long)(s1.c.conns - s0->c.conns),
	       (unsigned long long)(s1.fwd - s0->fwd), (unsigned long long)pk,
	       (unsigned long long)conns, (unsigned long long)pk);
	return -1;
}

/* One family and mode: the anchor, the established flow and new-flow
 * SYNs, each checked from the counters. */
static int bench_mode(struct env *e, int v6, uint16_t port, const char *mode)
{
	__u8(*syn)[FRAME_LEN];
	__u8 est[1][FRAME_LEN];
	struct row anchor, r;
	struct snap s0;
	size_t len = 0;
	char what[64];
	int n = e->n;

	syn = calloc(n, FRAME_LEN);
	if (!syn)
		return -1;
	for (int i = 0; i < n; i++)
		len = lb_frame(syn[i], v6, (__u16)(1024 + i), port, 0x02);
	lb_frame(est[0], v6, 60000, port, 0x10);

	/* the anchor: the same SYN frames through the program without lb */
	if (loop(e->pass_prog, syn, len, n, n, XDP_PASS, &anchor))
		goto fail;
	snprintf(what, sizeof(what), "IPv%d %s: stateless pass (anchor)",
		 v6 ? 6 : 4, mode);
	print_row(what, &anchor, &anchor, 0);

	/* established: a warm-up run records the flow */
	snprintf(what, sizeof(what), "%s established", mode);
	if (conn_flush(e->conn_fd) < 0 ||
	    loop(e->lb_prog, est, len, 1, 1, XDP_REDIRECT, &r) ||
	    snap_take(e, v6, port, &s0) ||
	    loop(e->lb_prog, est, len, 1, n, XDP_REDIRECT, &r) ||
	    snap_check(e, v6, port, what, &s0, (uint64_t)n, 0))
		goto fail;
	snprintf(what, sizeof(what), "IPv%d %s: established flow", v6 ? 6 : 4,
		 mode);
	print_row(what, &r, &anchor, KATRAN_EST_NS);

	/* new flows: each SYN's source port is new */
	snprintf(what, sizeof(what), "%s SYN", mode);
	if (conn_flush(e->conn_fd) < 0 || snap_take(e, v6, port, &s0) ||
	    loop(e->lb_prog, syn, len, n, n, XDP_REDIRECT, &r) ||
	    snap_check(e, v6, port, what, &s0, (uint64_t)n, (uint64_t)n))
		goto fail;
	snprintf(what, sizeof(what), "IPv%d %s: new-flow SYN", v6 ? 6 : 4,
		 mode);
	print_row(what, &r, &anchor, KATRAN_SYN_NS);
	free(syn);
	return 0;
fail:
	free(syn);
	return -1;
}

/* ---- the restored-frame method (bench/lb_harness.bpf.c) ---- */

/* One test run of `repeat` through the harness into target (the frame
 * restored before every run, source port sport + run * step): its
 * duration per run in *d. The run must return want and the harness must
 * have run `repeat` times. */
static int hx_run(struct env *e, int target, const __u8 *frame, size_t len,
		  int v6, __u16 sport, __u16 step, __u32 repeat, __u32 want,
		  __u32 *d)
{
	struct xdp_md xctx = {.data_end = (__u32)len,
			      .ingress_ifindex = (__u32)if_c};
	struct lbh_frame f = {.len = (__u32)len,
			      .sport_off = (__u16)(14 + (v6 ? 40 : 20)),
			      .sport = sport,
			      .step = step};
	__u8 out[256];
	__u32 zero = 0;
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
		    .data_size_in = (__u32)len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &xctx,
		    .ctx_size_in = sizeof(xctx), .repeat = repeat);
	int err;

	memcpy(f.bytes, frame, len);
	if (bpf_map__update_elem(e->hx->maps.lbh_frame, &zero, sizeof(zero), &f,
				 sizeof(f), BPF_ANY) ||
	    bpf_map__update_elem(e->hx->maps.lbh_target, &zero, sizeof(zero),
				 &target, sizeof(target), BPF_ANY)) {
		pr_err("harness: map update: %s", strerror(errno));
		return -1;
	}
	e->hx->bss->lbh_runs = 0;
	err = bpf_prog_test_run_opts(bpf_program__fd(e->hx->progs.lbh_run), &t);
	if (err || t.retval != want || e->hx->bss->lbh_runs != repeat) {
		pr_err("harness: %s, returned %u (expected %u), %llu runs of "
		       "%u",
		       err ? strerror(-err) : "ok", t.retval, want,
		       (unsigned long long)e->hx->bss->lbh_runs, repeat);
		return -1;
	}
	*d = t.duration;
	return 0;
}

/* The empty program run directly: test-run's own per-packet cost. */
static int floor_run(struct env *e, const __u8 *frame, size_t len, __u32 repeat,
		     __u32 *d)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
		    .data_size_in = (__u32)len, .repeat = repeat);
	int err = bpf_prog_test_run_opts(e->empty_prog, &t);

	if (err || t.retval != XDP_PASS) {
		pr_err("empty program: %s", err ? strerror(-err) : "not pass");
		return -1;
	}
	*d = t.duration;
	return 0;
}

static __u32 median_u32(__u32 *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	return v[n / 2];
}

enum { HX_FLOOR, HX_HARNESS, HX_STATELESS, HX_EST, HX_SYN, HX_ROWS };

static void print_hx(const char *fam, const char *mode, int i, __u32 raw,
		     __u32 harness, __u32 fl)
{
	static const char *const name[HX_ROWS] = {
	    "empty program, no harness (floor)",
	    "harness -> empty program (anchor)", "harness -> stateless pass",
	    "harness -> established flow", "harness -> new-flow SYN"};
	double katran = i == HX_EST   ? KATRAN_EST_NS
			: i == HX_SYN ? KATRAN_SYN_NS
				      : 0;
	char what[80];
	int net, tr;

	snprintf(what, sizeof(what), "IPv%s %s: %s", fam, mode, name[i]);
	if (i == HX_FLOOR) {
		printf("  %-52s %6u %6s %7s\n", what, raw, "", "");
		return;
	}
	/* net: the harness anchor taken off; as test-run: plus the floor */
	net = (int)raw - (int)harness;
	tr = net + (int)fl;
	printf("  %-52s %6u %6d %7d %s", what, raw, net, tr,
	       katran > 0 ? (tr <= katran ? "PASS" : "MISS") : "");
	if (katran > 0)
		printf(" (<= %.0f ns)", katran);
	printf("\n");
	fflush(stdout);
}

/* One family and mode by the restored-frame method: runs rounds of the
 * floor, the harness anchor, the stateless pass, the established flow and
 * the new-flow SYNs, each checked; the medians per row. */
static int bench_hx(struct env *e, int v6, uint16_t port, const char *mode)
{
	__u8 syn[FRAME_LEN], est[FRAME_LEN];
	__u32 *d[HX_ROWS] = {0};
	char what_est[64], what_syn[64];
	struct snap s0;
	size_t len;
	int err = -1, runs = e->runs;
	__u32 rep = e->repeat, rs = e->repeat_syn, med[HX_ROWS];

	len = lb_frame(syn, v6, 1024, port, 0x02);
	lb_frame(est, v6, 60000, port, 0x10);
	snprintf(what_est, sizeof(what_est), "%s established (harness)", mode);
	snprintf(what_syn, sizeof(what_syn), "%s SYN (harness)", mode);
	for (int i = 0; i < HX_ROWS; i++)
		if (!(d[i] = calloc(runs, sizeof(__u32))))
			goto out;
	for (int r = 0; r < runs; r++) {
		if (floor_run(e, syn, len, rep, &d[HX_FLOOR][r]) ||
		    hx_run(e, e->empty_prog, syn, len, v6, 1024, 1, rep,
			   XDP_PASS, &d[HX_HARNESS][r]) ||
		    hx_run(e, e->pass_prog, syn, len, v6, 1024, 1, rep,
			   XDP_PASS, &d[HX_STATELESS][r]))
			goto out;
		/* established: a warm-up run records the flow */
		if (conn_flush(e->conn_fd) < 0 ||
		    hx_run(e, e->lb_prog, est, len, v6, 60000, 0, 1,
			   XDP_REDIRECT, &d[HX_EST][r]) ||
		    snap_take(e, v6, port, &s0) ||
		    hx_run(e, e->lb_prog, est, len, v6, 60000, 0, rep,
			   XDP_REDIRECT, &d[HX_EST][r]) ||
		    snap_check(e, v6, port, what_est, &s0, rep, 0))
			goto out;
		/* new flows: source ports 1024 + run, an empty table */
		if (conn_flush(e->conn_fd) < 0 || snap_take(e, v6, port, &s0) ||
		    hx_run(e, e->lb_prog, syn, len, v6, 1024, 1, rs,
			   XDP_REDIRECT, &d[HX_SYN][r]) ||
		    snap_check(e, v6, port, what_syn, &s0, rs, rs))
			goto out;
	}
	for (int i = 0; i < HX_ROWS; i++)
		med[i] = median_u32(d[i], runs);
	for (int i = 0; i < HX_ROWS; i++)
		print_hx(v6 ? "6" : "4", mode, i, med[i], med[HX_HARNESS],
			 med[HX_FLOOR]);
	err = 0;
out:
	for (int i = 0; i < HX_ROWS; i++)
		free(d[i]);
	return err;
}

/* ---- the Maglev build ---- */

#define MG_SVC 1000
#define MG_BE  100

static int bench_maglev(void)
{
	struct sl_maglev_backend b[MG_BE];
	uint32_t *table = malloc(SL_MAGLEV_M * sizeof(*table));
	double t0, t;
	int err = 0;

	if (!table)
		return -1;
	t0 = now_ns();
	for (int s = 0; s < MG_SVC && !err; s++) {
		for (int i = 0; i < MG_BE; i++) {
			memset(&b[i], 0, sizeof(b[i]));
			b[i].family = 4;
			b[i].addr[0] = 10;
			b[i].addr[1] = (uint8_t)(s >> 8);
			b[i].addr[2] = (uint8_t)s;
			b[i].addr[3] = (uint8_t)(i + 1);
			b[i].port = 8080;
			b[i].weight = 1;
		}
		err = sl_maglev_build(b, MG_BE, SL_MAGLEV_M, table);
	}
	t = now_ns() - t0;
	free(table);
	if (err) {
		pr_err("sl_maglev_build: %s", strerror(-err));
		return -1;
	}
	printf("\n  Maglev tables, %d services x %d backends (user space, "
	       "sl_maglev_build, M = %u):\n",
	       MG_SVC, MG_BE, SL_MAGLEV_M);
	printf("  %-58s %10.3f s (%.2f ms per service)\n",
	       "build time, all services", t / 1e9, t / 1e6 / MG_SVC);
	printf("  %-58s %10.1f MiB\n",
	       "tables, 1,000 x 65,537 x 4 bytes (backend ids)",
	       (double)MG_SVC * SL_MAGLEV_M * 4 / (1 << 20));
	printf("  %-58s %10.1f MiB\n",
	       "the same in sl_lb_maglev's arrays (values take 8 bytes)",
	       (double)MG_SVC * SL_MAGLEV_M * 8 / (1 << 20));
	printf("  %-58s %10d bytes\n",
	       "build's own allocations per service (4 x n x 4, freed)",
	       4 * MG_BE * 4);
	return 0;
}

/* The repeat-1 method's table (the figures reported so far). */
static int bench_single(struct env *e)
{
	printf("load balancer (TCP to VIP %s / %s, %d backends; %d single "
	       "runs (repeat 1) per row, median of the kernel's duration per "
	       "run; anchors: the same frames through the program without lb "
	       "(a stateless pass) in this run, and Katran's figures, issue "
	       "11's anchor):\n",
	       VIP4, VIP6, NBE, e->n);
	printf("  %-40s %8s %8s %10s %s\n", "packet class", "ns/pkt",
	       "wall/run", "vs anchor", "vs Katran, issue 11's anchor");
	for (int v6 = 0; v6 < 2; v6++)
		if (bench_mode(e, v6, 80, "nat") ||
		    bench_mode(e, v6, 81, "dsr-l2") ||
		    bench_mode(e, v6, 82, "dsr-ipip"))
			return -1;
	printf("  (wall/run: clock_gettime around the loop, per run, the "
	       "bpf(2) call included)\n");
	return 0;
}

/* The restored-frame method's table. */
static int bench_restored(struct env *e)
{
	printf("\nload balancer, restored frames (bench/lb_harness.bpf.c: "
	       "every run restores the frame, then tail-calls the program; "
	       "repeat %u, SYN rows %u (a new source port per run, an empty "
	       "connection table), median of %d test runs; raw: ns/run "
	       "through the harness; net: raw - the harness anchor (the "
	       "harness tail-calling an empty program, this run); as "
	       "test-run: net + the floor, the figure test-run with repeat "
	       "gives a program alone, Katran's method: compared with "
	       "Katran):\n",
	       e->repeat, e->repeat_syn, e->runs);
	printf("  %-52s %6s %6s %7s %s\n", "packet class", "raw", "net",
	       "as t-r", "vs Katran, issue 11's anchor");
	for (int v6 = 0; v6 < 2; v6++)
		if (bench_hx(e, v6, 80, "nat") ||
		    bench_hx(e, v6, 81, "dsr-l2") ||
		    bench_hx(e, v6, 82, "dsr-ipip"))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sl_lb_cfg cfg = {0}, none = {0};
	struct sluice_xdp *lb = NULL, *pass = NULL;
	struct xdp_empty *empty = NULL;
	struct sl_features f;
	struct env e = {
	    .n = 10000, .runs = 5, .repeat = 200000, .repeat_syn = 20000};
	int c, ret = 1, cpu = -2, method = 3;

	sl_log_set_prefix("bench_lb");
	sl_log_hook_libbpf();
	while ((c = getopt(argc, argv, "n:c:m:r:R:S:h")) != -1) {
		switch (c) {
		case 'n':
			e.n = atoi(optarg);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'm':
			method = !strcmp(optarg, "single")     ? 1
				 : !strcmp(optarg, "restored") ? 2
				 : !strcmp(optarg, "both")     ? 3
							       : 0;
			if (method)
				break;
			pr_err("-m %s: single, restored or both", optarg);
			return 2;
		case 'r':
			e.runs = atoi(optarg);
			break;
		case 'R':
			e.repeat = (__u32)atoi(optarg);
			break;
		case 'S':
			e.repeat_syn = (__u32)atoi(optarg);
			break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
				"usage: bench_lb [-m single|restored|both] "
				"[-n RUNS (single runs per row: 10000, <= "
				"30000)] [-r ROUNDS (restored: 5)] [-R REPEAT "
				"(restored: 200000)] [-S REPEAT (restored, "
				"SYN rows: 20000, <= 30000)] [-c CPU (default "
				"the last; -1: none)]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (e.n < 1 || e.n > 30000 || e.repeat_syn < 1 ||
	    e.repeat_syn > 30000) {
		pr_err("-n %d, -S %u: 1..30000 (a nat flow takes 2 of the "
		       "connection table's 65,536 entries)",
		       e.n, e.repeat_syn);
		return 2;
	}
	if (e.runs < 1 || e.runs > 1000 || e.repeat < 1) {
		pr_err("-r %d: 1..1000, -R %u: at least 1", e.runs, e.repeat);
		return 2;
	}
	if (cpu == -2)
		cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	if (lab_up())
		return 1;
	sl_features_default(&f);
	f.lb = 1;
	lb = sl_xdp_load(NULL, &f, SL_PROG_XDP);
	f.lb = 0;
	pass = sl_xdp_load(NULL, &f, SL_PROG_XDP);
	empty = xdp_empty__open_and_load();
	e.hx = lb_harness__open_and_load();
	if (!lb || !pass || !empty || !e.hx) {
		pr_err("loading the programs failed");
		goto out;
	}
	e.empty_prog = bpf_program__fd(empty->progs.xdp_empty);
	sl_ctx_wrap(&e.ctx, lb);
	e.lb_prog = sl_xdp_prog_fd(lb);
	e.pass_prog = sl_xdp_prog_fd(pass);
	e.stats_fd = bpf_map__fd(lb->maps.sl_stats);
	e.conn_fd = bpf_map__fd(lb->maps.sl_lb_conn);
	cfg.svc = calloc(6, sizeof(*cfg.svc));
	if (!cfg.svc)
		goto out;
	for (int v6 = 0; v6 < 2; v6++) {
		svc_fill(&cfg.svc[cfg.n_svc++], v6, 80, SL_LB_NAT);
		svc_fill(&cfg.svc[cfg.n_svc++], v6, 81, SL_LB_DSR_L2);
		svc_fill(&cfg.svc[cfg.n_svc++], v6, 82, SL_LB_DSR_IPIP);
	}
	if (sl_lb_write(&e.ctx, &cfg, &none)) {
		pr_err("sl_lb_write failed");
		goto out;
	}
	if ((method & 1) && bench_single(&e))
		goto out;
	if ((method & 2) && bench_restored(&e))
		goto out;
	if (bench_maglev())
		goto out;
	ret = 0;
out:
	if (ret)
		pr_err("failed: a row did not take the path it names");
	sl_lb_cfg_free(&cfg);
	if (lb)
		sl_close(&e.ctx);
	if (pass)
		sl_xdp_destroy(pass);
	lb_harness__destroy(e.hx);
	xdp_empty__destroy(empty);
	if (lb)
		sl_xdp_destroy(lb);
	return ret;
}
