// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_stats: counters by action, by hook, by reason and by set entry. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "counters.h"
#include "json.h"
#include "log.h"
#include "names.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_json(const struct cli_snap *cur, const struct cli_snap *prev)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_open(&w);
	cli_snap_jw(&w, cur, prev);
	jw_obj_close(&w);
	jw_end(&w);
}

/* watch: packets/s and bits/s columns (since prev; "-" without it). */
static void print_text(const struct cli_snap *cur, const struct cli_snap *prev,
		       bool watch, size_t top)
{
	const struct sl_counter *s = cur->s;
	bool any = false;
	char pb[16], bb[16];
	double pps = 0, bps = 0;

	printf("%-8s %14s %16s", "ACTION", "PACKETS", "BYTES");
	printf(watch ? " %9s %9s\n" : "\n", "PPS", "BPS");
	for (int a = 0; a < SL_ACT_MAX; a++) {
		struct sl_counter t = cli_cell_sum(s, -1, a);
		bool have = cli_cell_rate(cur, prev, -1, a, &pps, &bps);

		printf("%-8s %14llu %16llu", sl_action_name(a),
		       (unsigned long long)t.packets,
		       (unsigned long long)t.bytes);
		cli_rate_text(pb, sizeof(pb), have, pps);
		cli_rate_text(bb, sizeof(bb), have, bps);
		printf(watch ? " %9s %9s\n" : "\n", pb, bb);
	}
	printf("\n%-8s %-8s %14s %16s\n", "HOOK", "ACTION", "PACKETS", "BYTES");
	for (int h = 0; h < SL_HK_MAX; h++)
		for (int a = 0; a < SL_ACT_MAX; a++) {
			struct sl_counter t = cli_cell_sum(cur->h[h], -1, a);

			if (!t.packets)
				continue;
			any = true;
			printf("%-8s %-8s %14llu %16llu\n", sl_hook_name(h),
			       sl_action_name(a), (unsigned long long)t.packets,
			       (unsigned long long)t.bytes);
		}
	if (!any)
		printf("(no hook has counted a packet yet)\n");
	any = false;
	printf("\n%-14s %-6s %14s %16s", "REASON", "ACTION", "PACKETS",
	       "BYTES");
	printf(watch ? " %9s %9s  %s\n" : "  %s\n", watch ? "PPS" : "MEANING",
	       "BPS", "MEANING");
	for (int r = 0; r < SL_R_MAX; r++)
		for (int a = 0; a < SL_ACT_MAX; a++) {
			const struct sl_counter *c = &s[sl_stats_idx(r, a)];
			bool have = cli_cell_rate(cur, prev, r, a, &pps, &bps);

			if (!c->packets)
				continue;
			any = true;
			printf("%-14s %-6s %14llu %16llu", sl_reason_name(r),
			       sl_action_name(a),
			       (unsigned long long)c->packets,
			       (unsigned long long)c->bytes);
			cli_rate_text(pb, sizeof(pb), have, pps);
			cli_rate_text(bb, sizeof(bb), have, bps);
			if (watch)
				printf(" %9s %9s", pb, bb);
			printf("  %s\n", sl_reason_help(r));
		}
	if (!any)
		printf("(no packets counted yet)\n");
	printf("\n%-16s %-4s %-8s %14s %16s\n", "INTERFACE", "DIR", "ACTION",
	       "PACKETS", "BYTES");
	any = false;
	for (size_t i = 0; i < cur->nif; i++)
		for (int d = 0; d < SL_RDIR_MAX; d++)
			for (int a = 0; a < SL_ACT_MAX; a++) {
				const struct sl_counter *k =
				    &cur->ifs[i].c[d][a];
				char lb[40];

				if (!k->packets)
					continue;
				any = true;
				printf("%-16s %-4s %-8s %14llu %16llu\n",
				       cli_iface_label(&cur->ifs[i], lb,
						       sizeof(lb)),
				       d == SL_RDIR_IN ? "in" : "out",
				       sl_action_name(a),
				       (unsigned long long)k->packets,
				       (unsigned long long)k->bytes);
			}
	if (!any)
		printf("(no interface has counted a packet yet)\n");
	printf("\n");
	cli_entry_row(NULL);
	for (size_t i = 0; i < cur->n && i < top; i++)
		cli_entry_row(&cur->e[i]);
	if (!cur->n)
		printf("(no set entry has matched yet)\n");
	else if (cur->n > top)
		printf("(%zu more entries with hits; --top N shows more)\n",
		       cur->n - top);
	printf("\n");
	cli_rule_row(NULL, NULL);
	for (size_t i = 0; i < cur->nr && i < top; i++)
		cli_rule_row(&cur->r[i], &cur->k[i]);
	if (!cur->nr)
		printf("(no rule has counted a packet yet)\n");
	else if (cur->nr > top)
		printf("(%zu more rules with hits; --top N shows more)\n",
		       cur->nr - top);
	printf("\nevents lost (ring full): %llu",
	       (unsigned long long)cur->lost);
	for (int i = 0; cur->lost && i < cur->ncpu; i++)
		printf("%s cpu%d %llu", i ? "," : " (", i,
		       (unsigned long long)cur->lost_per[i]);
	printf("%s\n", cur->lost ? ")" : "");
}

/* One print. prev (--watch; NULL otherwise): the reading of the print
 * before (prev->t 0: none yet); replaced by this one. */
static int snapshot(struct cli *c, struct sl_ctx *ctx, size_t top,
		    struct cli_snap *prev)
{
	struct cli_snap cur;
	const struct cli_snap *before = prev && prev->t > 0 ? prev : NULL;
	int err = cli_snap_read(ctx, &cur);

	if (err) {
		pr_err("cannot read the counters under %s: %s", ctx->dir,
		       strerror(-err));
		return EXIT_RUNTIME;
	}
	if (c->json)
		print_json(&cur, before);
	else
		print_text(&cur, before, prev != NULL, top);
	if (prev) {
		cli_snap_free(prev);
		*prev = cur;
	} else {
		cli_snap_free(&cur);
	}
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
	struct cli_snap prev = {};
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
		rc = snapshot(c, &ctx, top, watch ? &prev : NULL);
		if (rc || !watch || (count && i + 1 >= count))
			break;
		/* Release the lock while waiting so writers are not held up. */
		sl_close(&ctx);
		sleep(watch);
		if (stop) {
			cli_snap_free(&prev);
			return EXIT_OK;
		}
		rc = cli_open(c, &ctx, false);
		if (rc) {
			cli_snap_free(&prev);
			return rc;
		}
	}
	sl_close(&ctx);
	cli_snap_free(&prev);
	return rc;
}

const struct cli_cmd cmd_stats = {
    .name = "stats",
    .args = "",
    .summary = "Show counters per action, reason, set entry and rule",
    .description =
	"Prints the packets and bytes of every verdict by action (pass, "
	"drop), by hook (xdp, tc-in, tc-out; unknown: counts an\n"
	"upgrade carried from a release that did not count per hook) and "
	"action, and by reason (why), per attached interface and\n"
	"direction, then the set entries and the rules that counted packets, "
	"busiest first. Counters are per CPU in "
	"the datapath and summed here; they survive detach\n"
	"and re-attach (rule counters also applies that keep the rule's id) "
	"and are cleared only by 'sluice stats --zero' and 'sluice reset'. "
	"Reasons:\n"
	"pass, non-ip, allow-set, deny-set, malformed-l2, malformed-l3, "
	"malformed-l4, rule, policy, tcp-syn-fin, tcp-syn-rst, "
	"tcp-no-flags, tcp-fin-no-ack, tcp-xmas, land, banned, "
	"ct-invalid, ratelimit,\nsyn-cookie, syn-cookie-invalid, fragment, "
	"lb-no-backend, lb-forward, lb-no-route, lb-too-big.\nJSON lists "
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
		"$ sluice stats -j | jq '.reasons[\"deny-set\"].packets'\n"
		"$ sluice stats -j | jq '.hooks[\"tc-out\"].actions.drop'",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_stats,
};
