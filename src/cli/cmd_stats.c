// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_stats: counters by action, by reason and by set entry. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "json.h"
#include "log.h"
#include "names.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int by_packets(const void *a, const void *b)
{
	const struct sl_set_entry *x = a, *y = b;

	return x->packets < y->packets ? 1 : x->packets > y->packets ? -1 : 0;
}

/* With --watch, from the second print: the counters of the print before
 * and the seconds since, for packets/s and bits/s. */
struct rates {
	const struct sl_counter *prev; /* SL_STATS_MAX cells; NULL: none */
	double dt;
};

/* The sum of the cells of reason r (-1: all) and action a (-1: all). */
static struct sl_counter cell_sum(const struct sl_counter *s, int r, int a)
{
	struct sl_counter t = {};

	for (int i = 0; i < SL_R_MAX; i++)
		for (int j = 0; j < SL_ACT_MAX; j++)
			if ((r < 0 || r == i) && (a < 0 || a == j)) {
				t.packets += s[sl_stats_idx(i, j)].packets;
				t.bytes += s[sl_stats_idx(i, j)].bytes;
			}
	return t;
}

/* Packets/s and bits/s of cell (r, a) over the interval; false without one.
 * A counter that went down (a reset between prints) counts from zero. */
static bool cell_rate(const struct rates *rt, const struct sl_counter *s, int r,
		      int a, double *pps, double *bps)
{
	struct sl_counter now, then;

	if (!rt || !rt->prev || rt->dt <= 0)
		return false;
	now = cell_sum(s, r, a);
	then = cell_sum(rt->prev, r, a);
	*pps = (now.packets >= then.packets ? now.packets - then.packets
					    : now.packets) /
	       rt->dt;
	*bps = (now.bytes >= then.bytes ? now.bytes - then.bytes : now.bytes) *
	       8.0 / rt->dt;
	return true;
}

static void jw_counter(struct jw *w, const char *key, struct sl_counter c)
{
	jw_key(w, key);
	jw_obj_open(w);
	jw_key(w, "packets");
	jw_u64(w, c.packets);
	jw_key(w, "bytes");
	jw_u64(w, c.bytes);
	jw_obj_close(w);
}

/* "pps" and "bps" keys of cell (r, a), when there is an interval. */
static void jw_rate(struct jw *w, const struct rates *rt,
		    const struct sl_counter *s, int r, int a)
{
	double pps, bps;

	if (!cell_rate(rt, s, r, a, &pps, &bps))
		return;
	jw_key(w, "pps");
	jw_f1(w, pps);
	jw_key(w, "bps");
	jw_f1(w, bps);
}

/* A rate as text: 1234 -> "1.2k", "-" without an interval. */
static void rate_text(char *buf, size_t len, bool have, double v)
{
	static const char *const unit[] = {"", "k", "M", "G", "T"};
	int u = 0;

	if (!have) {
		snprintf(buf, len, "-");
		return;
	}
	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", v, unit[u]);
}

/* The per-interface counters (claimed slots). */
struct iface_hits {
	struct sl_iface_stat *v;
	size_t n;
};

static const char *iface_label(const struct sl_iface_stat *x, char *buf,
			       size_t len)
{
	if (x->name[0])
		return x->name;
	snprintf(buf, len, "ifindex %d (gone)", x->ifindex);
	return buf;
}

/* Rules that have counted packets, busiest first. */
struct rule_hits {
	struct sl_rule *r;
	struct sl_counter *k;
	size_t n;
};

/* Events the ring had no room for (sl_ev_lost): the sum and per CPU. */
#define LOST_CPUS 256
struct ev_lost {
	uint64_t total;
	uint64_t per[LOST_CPUS];
	int ncpu;
};

static void print_json(const struct sl_counter *s, const struct sl_set_entry *e,
		       size_t n, const struct rule_hits *rh,
		       const struct rates *rt, const struct iface_hits *ih,
		       const struct ev_lost *lost)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_open(&w);
	jw_key(&w, "time");
	jw_u64(&w, (uint64_t)time(NULL));
	if (rt && rt->prev) {
		jw_key(&w, "interval");
		jw_f1(&w, rt->dt);
	}
	jw_key(&w, "actions");
	jw_obj_open(&w);
	for (int a = 0; a < SL_ACT_MAX; a++) {
		struct sl_counter t = cell_sum(s, -1, a);

		jw_key(&w, sl_action_name(a));
		jw_obj_open(&w);
		jw_key(&w, "packets");
		jw_u64(&w, t.packets);
		jw_key(&w, "bytes");
		jw_u64(&w, t.bytes);
		jw_rate(&w, rt, s, -1, a);
		jw_obj_close(&w);
	}
	jw_obj_close(&w);
	jw_key(&w, "reasons");
	jw_obj_open(&w);
	for (int r = 0; r < SL_R_MAX; r++) {
		struct sl_counter t = cell_sum(s, r, -1);

		jw_key(&w, sl_reason_name(r));
		jw_obj_open(&w);
		jw_key(&w, "packets");
		jw_u64(&w, t.packets);
		jw_key(&w, "bytes");
		jw_u64(&w, t.bytes);
		jw_rate(&w, rt, s, r, -1);
		for (int a = 0; a < SL_ACT_MAX; a++)
			jw_counter(&w, sl_action_name(a),
				   s[sl_stats_idx(r, a)]);
		jw_obj_close(&w);
	}
	jw_obj_close(&w);
	jw_key(&w, "interfaces");
	jw_arr_open(&w);
	for (size_t i = 0; i < ih->n; i++) {
		const struct sl_iface_stat *x = &ih->v[i];

		jw_obj_open(&w);
		jw_key(&w, "name");
		jw_str(&w, x->name);
		jw_key(&w, "ifindex");
		jw_u64(&w, x->ifindex);
		for (int d = 0; d < SL_RDIR_MAX; d++) {
			jw_key(&w, d == SL_RDIR_IN ? "in" : "out");
			jw_obj_open(&w);
			for (int a = 0; a < SL_ACT_MAX; a++)
				jw_counter(&w, sl_action_name(a), x->c[d][a]);
			jw_obj_close(&w);
		}
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_key(&w, "entries");
	jw_arr_open(&w);
	for (size_t i = 0; i < n; i++)
		cli_jw_entry(&w, &e[i]);
	jw_arr_close(&w);
	jw_key(&w, "rules");
	jw_arr_open(&w);
	for (size_t i = 0; i < rh->n; i++)
		cli_jw_rule(&w, &rh->r[i], &rh->k[i]);
	jw_arr_close(&w);
	jw_key(&w, "events_lost");
	jw_obj_open(&w);
	jw_key(&w, "total");
	jw_u64(&w, lost->total);
	jw_key(&w, "per_cpu");
	jw_arr_open(&w);
	for (int i = 0; i < lost->ncpu; i++)
		jw_u64(&w, lost->per[i]);
	jw_arr_close(&w);
	jw_obj_close(&w);
	jw_obj_close(&w);
	jw_end(&w);
}

static void print_text(const struct sl_counter *s, const struct sl_set_entry *e,
		       size_t n, size_t top, const struct rule_hits *rh,
		       const struct rates *rt, const struct iface_hits *ih,
		       const struct ev_lost *lost)
{
	bool any = false, watch = rt != NULL;
	char pb[16], bb[16];
	double pps = 0, bps = 0;

	/* --watch adds packets/s and bits/s since the print before. */
	printf("%-8s %14s %16s", "ACTION", "PACKETS", "BYTES");
	printf(watch ? " %9s %9s\n" : "\n", "PPS", "BPS");
	for (int a = 0; a < SL_ACT_MAX; a++) {
		struct sl_counter t = cell_sum(s, -1, a);
		bool have = cell_rate(rt, s, -1, a, &pps, &bps);

		printf("%-8s %14llu %16llu", sl_action_name(a),
		       (unsigned long long)t.packets,
		       (unsigned long long)t.bytes);
		rate_text(pb, sizeof(pb), have, pps);
		rate_text(bb, sizeof(bb), have, bps);
		printf(watch ? " %9s %9s\n" : "\n", pb, bb);
	}
	printf("\n%-14s %-6s %14s %16s", "REASON", "ACTION", "PACKETS",
	       "BYTES");
	printf(watch ? " %9s %9s  %s\n" : "  %s\n", watch ? "PPS" : "MEANING",
	       "BPS", "MEANING");
	for (int r = 0; r < SL_R_MAX; r++)
		for (int a = 0; a < SL_ACT_MAX; a++) {
			const struct sl_counter *c = &s[sl_stats_idx(r, a)];
			bool have = cell_rate(rt, s, r, a, &pps, &bps);

			if (!c->packets)
				continue;
			any = true;
			printf("%-14s %-6s %14llu %16llu", sl_reason_name(r),
			       sl_action_name(a),
			       (unsigned long long)c->packets,
			       (unsigned long long)c->bytes);
			rate_text(pb, sizeof(pb), have, pps);
			rate_text(bb, sizeof(bb), have, bps);
			if (watch)
				printf(" %9s %9s", pb, bb);
			printf("  %s\n", sl_reason_help(r));
		}
	if (!any)
		printf("(no packets counted yet)\n");
	printf("\n%-16s %-4s %-8s %14s %16s\n", "INTERFACE", "DIR", "ACTION",
	       "PACKETS", "BYTES");
	any = false;
	for (size_t i = 0; i < ih->n; i++)
		for (int d = 0; d < SL_RDIR_MAX; d++)
			for (int a = 0; a < SL_ACT_MAX; a++) {
				const struct sl_counter *k = &ih->v[i].c[d][a];
				char lb[40];

				if (!k->packets)
					continue;
				any = true;
				printf("%-16s %-4s %-8s %14llu %16llu\n",
				       iface_label(&ih->v[i], lb, sizeof(lb)),
				       d == SL_RDIR_IN ? "in" : "out",
				       sl_action_name(a),
				       (unsigned long long)k->packets,
				       (unsigned long long)k->bytes);
			}
	if (!any)
		printf("(no interface has counted a packet yet)\n");
	printf("\n");
	cli_entry_row(NULL);
	for (size_t i = 0; i < n && i < top; i++)
		cli_entry_row(&e[i]);
	if (!n)
		printf("(no set entry has matched yet)\n");
	else if (n > top)
		printf("(%zu more entries with hits; --top N shows more)\n",
		       n - top);
	printf("\n");
	cli_rule_row(NULL, NULL);
	for (size_t i = 0; i < rh->n && i < top; i++)
		cli_rule_row(&rh->r[i], &rh->k[i]);
	if (!rh->n)
		printf("(no rule has counted a packet yet)\n");
	else if (rh->n > top)
		printf("(%zu more rules with hits; --top N shows more)\n",
		       rh->n - top);
	printf("\nevents lost (ring full): %llu",
	       (unsigned long long)lost->total);
	for (int i = 0; lost->total && i < lost->ncpu; i++)
		printf("%s cpu%d %llu", i ? "," : " (", i,
		       (unsigned long long)lost->per[i]);
	printf("%s\n", lost->total ? ")" : "");
}

/* Reads the rules and keeps those with hits, busiest first. */
static int rule_hits_read(struct sl_ctx *ctx, struct rule_hits *rh)
{
	size_t m = 0;
	int err;

	memset(rh, 0, sizeof(*rh));
	err = sl_rules_read(ctx, &rh->r, &rh->n);
	if (err)
		return err;
	rh->k = calloc(rh->n ? rh->n : 1, sizeof(*rh->k));
	if (!rh->k)
		return -ENOMEM;
	err = sl_rule_stats_read(ctx, rh->r, rh->n, rh->k);
	if (err)
		return err;
	for (size_t i = 0; i < rh->n; i++)
		if (rh->k[i].packets) {
			rh->r[m] = rh->r[i];
			rh->k[m++] = rh->k[i];
		}
	rh->n = m;
	/* Insertion order is rule order; a stable sort by packets. */
	for (size_t i = 1; i < m; i++)
		for (size_t j = i;
		     j > 0 && rh->k[j].packets > rh->k[j - 1].packets; j--) {
			struct sl_rule tr = rh->r[j];
			struct sl_counter tk = rh->k[j];

			rh->r[j] = rh->r[j - 1];
			rh->k[j] = rh->k[j - 1];
			rh->r[j - 1] = tr;
			rh->k[j - 1] = tk;
		}
	return 0;
}

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* One print. prev (--watch; NULL otherwise): the counters of the print
 * before and its time, *have_prev whether there was one; updated. */
static int snapshot(struct cli *c, struct sl_ctx *ctx, size_t top,
		    struct sl_counter *prev, double *prev_t, bool *have_prev)
{
	struct sl_counter s[SL_STATS_MAX];
	struct rates rt = {0}, *rtp = NULL;
	struct iface_hits ih = {0};
	double now;
	struct sl_set_entry *e = NULL;
	struct rule_hits rh = {0};
	struct ev_lost lost = {0};
	size_t n = 0, m = 0;
	int err;

	lost.ncpu = libbpf_num_possible_cpus();
	if (lost.ncpu < 0 || lost.ncpu > LOST_CPUS)
		lost.ncpu = lost.ncpu < 0 ? 0 : LOST_CPUS;
	err = sl_stats_read(ctx, s);
	if (!err)
		err = sl_ev_lost(ctx, &lost.total, lost.per, LOST_CPUS);
	if (!err)
		err = sl_set_list(ctx, 0, &e, &n);
	if (!err)
		err = rule_hits_read(ctx, &rh);
	if (!err)
		err = sl_iface_stats_read(ctx, &ih.v, &ih.n);
	if (err) {
		pr_err("cannot read the counters under %s: %s", ctx->dir,
		       strerror(-err));
		free(e);
		free(rh.r);
		free(rh.k);
		return EXIT_RUNTIME;
	}
	/* Only the entries that have decided a packet, busiest first. */
	for (size_t i = 0; i < n; i++)
		if (e[i].packets)
			e[m++] = e[i];
	qsort(e, m, sizeof(*e), by_packets);
	now = mono_s();
	if (prev) {
		rtp = &rt;
		if (*have_prev) {
			rt.prev = prev;
			rt.dt = now - *prev_t;
		}
	}
	if (c->json)
		print_json(s, e, m, &rh, rtp, &ih, &lost);
	else
		print_text(s, e, m, top, &rh, rtp, &ih, &lost);
	if (prev) {
		memcpy(prev, s, sizeof(s));
		*prev_t = now;
		*have_prev = true;
	}
	free(e);
	free(rh.r);
	free(rh.k);
	free(ih.v);
	fflush(stdout);
	return EXIT_OK;
}

/* --zero: every counter to zero, state untouched. */
static int run_zero(struct cli *c)
{
	struct sl_zeroed z;
	struct sl_ctx ctx;
	struct jw w;
	int rc = cli_open(c, &ctx, false), err;

	if (rc)
		return rc;
	err = sl_counters_zero(&ctx, &z);
	sl_close(&ctx);
	if (err) {
		fprintf(stderr,
			"sluice: stats: zeroed before the error: the action "
			"and reason counters %s, %zu interface%s, %zu rule%s, "
			"%zu set entr%s\n",
			z.verdicts ? "yes" : "no", z.ifaces,
			z.ifaces == 1 ? "" : "s", z.rules,
			z.rules == 1 ? "" : "s", z.set_entries,
			z.set_entries == 1 ? "y" : "ies");
		return EXIT_RUNTIME;
	}
	if (!c->json) {
		printf(
		    "zeroed the action and reason counters, %zu interface%s, "
		    "%zu rule%s and %zu set entr%s\n",
		    z.ifaces, z.ifaces == 1 ? "" : "s", z.rules,
		    z.rules == 1 ? "" : "s", z.set_entries,
		    z.set_entries == 1 ? "y" : "ies");
		return EXIT_OK;
	}
	jw_init(&w, stdout);
	jw_obj_open(&w);
	jw_key(&w, "zeroed");
	jw_obj_open(&w);
	jw_key(&w, "verdicts");
	jw_bool(&w, z.verdicts);
	jw_key(&w, "interfaces");
	jw_u64(&w, z.ifaces);
	jw_key(&w, "rules");
	jw_u64(&w, z.rules);
	jw_key(&w, "set_entries");
	jw_u64(&w, z.set_entries);
	jw_obj_close(&w);
	jw_obj_close(&w);
	jw_end(&w);
	return EXIT_OK;
}

static int run_stats(struct cli *c, int argc, char **argv)
{
	long watch = cli_opt_long(c, "watch", 0, 1, 86400);
	long count = cli_opt_long(c, "count", 0, 1, 1000000000);
	size_t top = cli_opt_long(c, "top", 20, 1, 100000000);
	struct sl_counter prev[SL_STATS_MAX];
	double prev_t = 0;
	bool have_prev = false;
	struct sl_ctx ctx;
	int rc;

	(void)argc;
	(void)argv;
	if (count && !watch)
		return cli_usage_error(c, "--count goes with --watch");
	if (cli_opt(c, "zero")) {
		if (watch || cli_opt(c, "top"))
			return cli_usage_error(
			    c, "--zero goes alone (not with --watch or --top)");
		return run_zero(c);
	}
	rc = cli_open(c, &ctx, false);
	if (rc)
		return rc;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (long i = 0; !stop; i++) {
		if (watch && !c->json) {
			time_t t = time(NULL);
			char ts[32];

			strftime(ts, sizeof(ts), "%F %T", localtime(&t));
			printf("%s--- %s ---\n", i ? "\n" : "", ts);
		}
		rc = snapshot(c, &ctx, top, watch ? prev : NULL, &prev_t,
			      &have_prev);
		if (rc || !watch || (count && i + 1 >= count))
			break;
		/* Release the lock while waiting so writers are not held up. */
		sl_close(&ctx);
		sleep(watch);
		if (stop)
			return EXIT_OK;
		rc = cli_open(c, &ctx, false);
		if (rc)
			return rc;
	}
	sl_close(&ctx);
	return rc;
}

const struct cli_cmd cmd_stats = {
    .name = "stats",
    .args = "",
    .summary = "Show counters per action, reason, set entry and rule",
    .description =
	"Prints the packets and bytes of every verdict by action (pass, "
	"drop) and by reason (why), per attached interface and\n"
	"direction, then the set entries and the rules that counted packets, "
	"busiest first. Counters are per CPU in "
	"the datapath and summed here; they survive detach\n"
	"and re-attach (rule counters also applies that keep the rule's id) "
	"and are cleared only by 'sluice stats --zero' and 'sluice reset'. "
	"Reasons:\n"
	"pass, non-ip, allow-set, deny-set, malformed-l2, malformed-l3, "
	"malformed-l4, rule, policy, tcp-syn-fin, tcp-syn-rst, "
	"tcp-no-flags, tcp-fin-no-ack, tcp-xmas, land, banned, "
	"ct-invalid, ratelimit, fragment.\nJSON lists "
	"every\n"
	"reason, zero or not. With conntrack on, the packets an established "
	"flow's cached pass lets through (the fast path)\n"
	"count under the reason of that pass (rule or pass) but not in the "
	"deciding rule's counters.",
    .opts =
	(const struct cli_opt[]){
	    {"watch", 'w', "SECONDS",
	     "Print again every SECONDS seconds until interrupted, with "
	     "packets/s (PPS) and bits/s (BPS) per action and reason since "
	     "the print before (JSON: pps, bps and interval)."},
	    {"count", 'c', "N", "With --watch: stop after N prints."},
	    {"zero", 0, NULL,
	     "Set every counter to zero (actions and reasons, interfaces, "
	     "rules, set entries) and print how many were zeroed; set entries, "
	     "rules and attachments stay. Packets counted "
	     "while it runs may or may not be kept."},
	    {"top", 't', "N",
	     "Show at most N set entries and N rules in the text output "
	     "(default 20; JSON shows all)."},
	    {},
	},
    .examples = "$ sluice stats\n$ sluice stats --watch 1\n"
		"$ sluice stats --zero\n"
		"$ sluice stats -j | jq '.reasons[\"deny-set\"].packets'",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_stats,
};
