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

static void print_json(const struct sl_counter *s, const struct sl_set_entry *e,
		       size_t n)
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
	jw_obj_close(&w);
	jw_end(&w);
}

static void print_text(const struct sl_counter *s, const struct sl_set_entry *e,
		       size_t n, size_t top)
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
}

static int snapshot(struct cli *c, struct sl_ctx *ctx, size_t top)
{
	struct sl_counter s[SL_STATS_MAX];
	struct sl_set_entry *e = NULL;
	size_t n = 0, m = 0;
	int err;

	err = sl_stats_read(ctx, s);
	if (!err)
		err = sl_set_list(ctx, 0, &e, &n);
	if (err) {
		pr_err("cannot read the counters under %s: %s", ctx->dir,
		       strerror(-err));
		return EXIT_RUNTIME;
	}
	/* Only the entries that have decided a packet, busiest first. */
	for (size_t i = 0; i < n; i++)
		if (e[i].packets)
			e[m++] = e[i];
	qsort(e, m, sizeof(*e), by_packets);
	if (c->json)
		print_json(s, e, m);
	else
		print_text(s, e, m, top);
	free(e);
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
    .summary = "Show counters per action, per reason and per set entry",
    .description =
	"Prints the packets and bytes of every verdict by action (pass, "
	"drop) and by reason (why), then the set entries that\n"
	"decided packets, busiest first. Counters are per CPU in the "
	"datapath and summed here; they survive detach and\n"
	"re-attach and are cleared only by 'sluice reset'. Reasons: pass, "
	"non-ip, allow-set, deny-set, malformed-l2,\n"
	"malformed-l3, malformed-l4. JSON lists every reason, zero or not.",
    .opts =
	(const struct cli_opt[]){
	    {"watch", 'w', "SECONDS",
	     "Print again every SECONDS seconds until interrupted."},
	    {"count", 'c', "N", "With --watch: stop after N prints."},
	    {"top", 't', "N",
	     "Show at most N set entries in the text output "
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
