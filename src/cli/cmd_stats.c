// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_stats: counters by action, by reason and by set entry. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* Rules that have counted packets, busiest first. */
struct rule_hits {
	struct sl_rule *r;
	struct sl_counter *k;
	size_t n;
};

static void print_json(const struct sl_counter *s, const struct sl_set_entry *e,
		       size_t n, const struct rule_hits *rh)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_open(&w);
	jw_key(&w, "time");
	jw_u64(&w, (uint64_t)time(NULL));
	jw_key(&w, "actions");
	jw_obj_open(&w);
	for (int a = 0; a < SL_ACT_MAX; a++) {
		struct sl_counter t = {};

		for (int r = 0; r < SL_R_MAX; r++) {
			t.packets += s[sl_stats_idx(r, a)].packets;
			t.bytes += s[sl_stats_idx(r, a)].bytes;
		}
		jw_counter(&w, sl_action_name(a), t);
	}
	jw_obj_close(&w);
	jw_key(&w, "reasons");
	jw_obj_open(&w);
	for (int r = 0; r < SL_R_MAX; r++) {
		struct sl_counter t = {};

		for (int a = 0; a < SL_ACT_MAX; a++) {
			t.packets += s[sl_stats_idx(r, a)].packets;
			t.bytes += s[sl_stats_idx(r, a)].bytes;
		}
		jw_key(&w, sl_reason_name(r));
		jw_obj_open(&w);
		jw_key(&w, "packets");
		jw_u64(&w, t.packets);
		jw_key(&w, "bytes");
		jw_u64(&w, t.bytes);
		for (int a = 0; a < SL_ACT_MAX; a++)
			jw_counter(&w, sl_action_name(a),
				   s[sl_stats_idx(r, a)]);
		jw_obj_close(&w);
	}
	jw_obj_close(&w);
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
	jw_obj_close(&w);
	jw_end(&w);
}

static void print_text(const struct sl_counter *s, const struct sl_set_entry *e,
		       size_t n, size_t top, const struct rule_hits *rh)
{
	bool any = false;

	printf("%-8s %14s %16s\n", "ACTION", "PACKETS", "BYTES");
	for (int a = 0; a < SL_ACT_MAX; a++) {
		unsigned long long p = 0, b = 0;

		for (int r = 0; r < SL_R_MAX; r++) {
			p += s[sl_stats_idx(r, a)].packets;
			b += s[sl_stats_idx(r, a)].bytes;
		}
		printf("%-8s %14llu %16llu\n", sl_action_name(a), p, b);
	}
	printf("\n%-14s %-6s %14s %16s  %s\n", "REASON", "ACTION", "PACKETS",
	       "BYTES", "MEANING");
	for (int r = 0; r < SL_R_MAX; r++)
		for (int a = 0; a < SL_ACT_MAX; a++) {
			const struct sl_counter *c = &s[sl_stats_idx(r, a)];

			if (!c->packets)
				continue;
			any = true;
			printf("%-14s %-6s %14llu %16llu  %s\n",
			       sl_reason_name(r), sl_action_name(a),
			       (unsigned long long)c->packets,
			       (unsigned long long)c->bytes, sl_reason_help(r));
		}
	if (!any)
		printf("(no packets counted yet)\n");
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

static int snapshot(struct cli *c, struct sl_ctx *ctx, size_t top)
{
	struct sl_counter s[SL_STATS_MAX];
	struct sl_set_entry *e = NULL;
	struct rule_hits rh = {0};
	size_t n = 0, m = 0;
	int err;

	err = sl_stats_read(ctx, s);
	if (!err)
		err = sl_set_list(ctx, 0, &e, &n);
	if (!err)
		err = rule_hits_read(ctx, &rh);
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
	if (c->json)
		print_json(s, e, m, &rh);
	else
		print_text(s, e, m, top, &rh);
	free(e);
	free(rh.r);
	free(rh.k);
	fflush(stdout);
	return EXIT_OK;
}

static int run_stats(struct cli *c, int argc, char **argv)
{
	long watch = cli_opt_long(c, "watch", 0, 1, 86400);
	long count = cli_opt_long(c, "count", 0, 1, 1000000000);
	size_t top = cli_opt_long(c, "top", 20, 1, 100000000);
	struct sl_ctx ctx;
	int rc;

	(void)argc;
	(void)argv;
	if (count && !watch)
		return cli_usage_error(c, "--count goes with --watch");
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
		rc = snapshot(c, &ctx, top);
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
	"drop) and by reason (why), then the set entries and the\n"
	"rules that counted packets, busiest first. Counters are per CPU in "
	"the datapath and summed here; they survive detach\n"
	"and re-attach (rule counters also applies that keep the rule's id) "
	"and are cleared only by 'sluice reset'. Reasons:\n"
	"pass, non-ip, allow-set, deny-set, malformed-l2, malformed-l3, "
	"malformed-l4, rule, policy. JSON lists every\n"
	"reason, zero or not.",
    .opts =
	(const struct cli_opt[]){
	    {"watch", 'w', "SECONDS",
	     "Print again every SECONDS seconds until interrupted."},
	    {"count", 'c', "N", "With --watch: stop after N prints."},
	    {"top", 't', "N",
	     "Show at most N set entries and N rules in the text output "
	     "(default 20; JSON shows all)."},
	    {},
	},
    .examples = "$ sluice stats\n$ sluice stats --watch 1\n"
		"$ sluice stats -j | jq '.reasons[\"deny-set\"].packets'",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_stats,
};
