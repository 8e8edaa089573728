// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* metrics: the Prometheus text of the running state (metrics.h).
 *
 * Consistency of a scrape: sl_metrics_scrape reads under the state's lock
 * taken shared (sl_open_reader), so no CLI writer is half-way through an
 * update: the rules listed, their comments and their counters belong to
 * one running config, and a scrape after an apply shows the new rules.
 * The counters themselves keep moving while they are read (the datapath
 * counts without the lock): two series are not one instant's, but each
 * counter only grows, except when 'sluice stats --zero' or 'sluice reset'
 * zeroes it (Prometheus takes that as a counter reset). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "names.h"

void sl_metrics_label(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* The HELP and TYPE lines of a metric. */
static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void verdicts(FILE *f, const struct sl_counter *s)
{
	head(f, "sluice_packets_total", "counter",
	     "Packets by verdict action and reason, every hook and "
	     "interface (sluice stats: reasons).");
	for (int r = 0; r < SL_R_MAX; r++)
		for (int a = 0; a < SL_ACT_MAX; a++)
			fprintf(
			    f,
			    "sluice_packets_total{action=\"%s\",reason="
			    "\"%s\"} %llu\n",
			    sl_action_name(a), sl_reason_name(r),
			    (unsigned long long)s[sl_stats_idx(r, a)].packets);
	head(f, "sluice_bytes_total", "counter",
	     "Bytes by verdict action and reason.");
	for (int r = 0; r < SL_R_MAX; r++)
		for (int a = 0; a < SL_ACT_MAX; a++)
			fprintf(
			    f,
			    "sluice_bytes_total{action=\"%s\",reason="
			    "\"%s\"} %llu\n",
			    sl_action_name(a), sl_reason_name(r),
			    (unsigned long long)s[sl_stats_idx(r, a)].bytes);
}

static void iface_series(FILE *f, const char *name,
			 const struct sl_iface_stat *v, size_t n, bool bytes)
{
	for (size_t i = 0; i < n; i++) {
		char ifn[32];

		if (v[i].name[0])
			snprintf(ifn, sizeof(ifn), "%s", v[i].name);
		else
			snprintf(ifn, sizeof(ifn), "if%d", v[i].ifindex);
		for (int d = 0; d < SL_RDIR_MAX; d++)
			for (int a = 0; a < SL_ACT_MAX; a++) {
				const struct sl_counter *k = &v[i].c[d][a];

				fprintf(f, "%s{interface=\"", name);
				sl_metrics_label(f, ifn);
				fprintf(f,
					"\",direction=\"%s\",action=\"%s\"} "
					"%llu\n",
					d == SL_RDIR_IN ? "ingress" : "egress",
					sl_action_name(a),
					(unsigned long long)(bytes
								 ? k->bytes
								 : k->packets));
			}
	}
}

static int ifaces(struct sl_ctx *ctx, FILE *f)
{
	struct sl_iface_stat *v = NULL;
	size_t n = 0;
	int err = sl_iface_stats_read(ctx, &v, &n);

	if (err)
		return err;
	head(f, "sluice_interface_packets_total", "counter",
	     "Packets by interface, direction and verdict action.");
	iface_series(f, "sluice_interface_packets_total", v, n, false);
	head(f, "sluice_interface_bytes_total", "counter",
	     "Bytes by interface, direction and verdict action.");
	iface_series(f, "sluice_interface_bytes_total", v, n, true);
	free(v);
	return 0;
}

static void rule_series(FILE *f, const char *name, const struct sl_rule *r,
			const struct sl_counter *k, size_t n, bool bytes)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{rule=\"%u\",comment=\"", name, r[i].id);
		sl_metrics_label(f, r[i].comment);
		fprintf(
		    f, "\"} %llu\n",
		    (unsigned long long)(bytes ? k[i].bytes : k[i].packets));
	}
}

static int rules(struct sl_ctx *ctx, FILE *f)
{
	struct sl_rule *r = NULL;
	struct sl_counter *k = NULL;
	size_t n = 0;
	int err = sl_rules_read(ctx, &r, &n);

	if (!err) {
		k = calloc(n ? n : 1, sizeof(*k));
		err = k ? sl_rule_stats_read(ctx, r, n, k) : -ENOMEM;
	}
	if (!err) {
		head(f, "sluice_rules", "gauge",
		     "Rules of the running config.");
		fprintf(f, "sluice_rules %zu\n", n);
		head(f, "sluice_rule_packets_total", "counter",
		     "Packets each rule of the running config decided or "
		     "counted, by rule id and comment.");
		rule_series(f, "sluice_rule_packets_total", r, k, n, false);
		head(f, "sluice_rule_bytes_total", "counter",
		     "Bytes each rule decided or counted.");
		rule_series(f, "sluice_rule_bytes_total", r, k, n, true);
	}
	free(r);
	free(k);
	return err;
}

static int by_packets(const void *a, const void *b)
{
	const struct sl_set_entry *x = a, *y = b;

	return x->packets < y->packets ? 1 : x->packets > y->packets ? -1 : 0;
}

static void entry_series(FILE *f, const char *name,
			 const struct sl_set_entry *e, size_t n, bool bytes)
{
	char p[64];

	for (size_t i = 0; i < n; i++) {
		sl_prefix_format(&e[i].prefix, p, sizeof(p));
		fprintf(
		    f, "%s{set=\"%s\",direction=\"%s\",entry=\"%s\"} %llu\n",
		    name, sl_set_kind_name(e[i].kind), sl_dir_name(e[i].dir), p,
		    (unsigned long long)(bytes ? e[i].bytes : e[i].packets));
	}
}

/* The entry counts, and the top entries that matched, busiest first. */
static int entries(struct sl_ctx *ctx, size_t top, FILE *f)
{
	struct sl_set_entry *e = NULL;
	size_t n = 0, m = 0, allow = 0;
	int err = sl_set_list(ctx, 0, &e, &n);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		allow += e[i].kind == SL_SET_ALLOW;
		if (e[i].packets)
			e[m++] = e[i];
	}
	head(f, "sluice_set_entries", "gauge",
	     "Entries of the running allow and deny sets.");
	fprintf(f, "sluice_set_entries{set=\"allow\"} %zu\n", allow);
	fprintf(f, "sluice_set_entries{set=\"deny\"} %zu\n", n - allow);
	qsort(e, m, sizeof(*e), by_packets);
	if (m > top)
		m = top;
	head(f, "sluice_set_entry_packets_total", "counter",
	     "Packets the busiest set entries matched (the top entries by "
	     "packets; series come and go as the top changes).");
	entry_series(f, "sluice_set_entry_packets_total", e, m, false);
	head(f, "sluice_set_entry_bytes_total", "counter",
	     "Bytes the busiest set entries matched.");
	entry_series(f, "sluice_set_entry_bytes_total", e, m, true);
	free(e);
	return 0;
}

int sl_metrics_render(struct sl_ctx *ctx, const struct sl_metrics_opts *o,
		      FILE *f)
{
	struct sl_counter s[SL_STATS_MAX];
	uint64_t lost = 0;
	int err = 0;

	head(f, "sluice_build_info", "gauge",
	     "The daemon's build: version and pinned layout; always 1.");
	fprintf(f, "sluice_build_info{version=\"");
	sl_metrics_label(f, o->version ? o->version : "unknown");
	fprintf(f, "\",layout=\"%u\"} 1\n", SL_LAYOUT_VERSION);
	head(f, "sluice_up", "gauge",
	     "1 when the scrape read the running state, 0 when there is "
	     "none (nothing attached) or this binary cannot read it.");
	fprintf(f, "sluice_up %d\n", ctx ? 1 : 0);
	if (!ctx)
		return 0;
	err = sl_stats_read(ctx, s);
	if (!err)
		verdicts(f, s);
	if (!err)
		err = ifaces(ctx, f);
	if (!err)
		err = rules(ctx, f);
	if (!err)
		err = entries(ctx, o->top_entries, f);
	if (!err)
		err = sl_ev_lost(ctx, &lost, NULL, 0);
	if (!err) {
		head(f, "sluice_events_lost_total", "counter",
		     "Events the ring had no room for (every CPU).");
		fprintf(f, "sluice_events_lost_total %llu\n",
			(unsigned long long)lost);
	}
	return err;
}

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int sl_metrics_scrape(const char *bpffs, const struct sl_metrics_opts *o,
		      int wait_ms, char **buf, size_t *len, int *state)
{
	double t0 = mono_s();
	struct sl_ctx ctx;
	int err = 0;
	FILE *f;

	*buf = NULL;
	*len = 0;
	f = open_memstream(buf, len);
	if (!f)
		return -errno;
	*state = sl_open_reader(&ctx, bpffs, wait_ms);
	err = sl_metrics_render(*state ? NULL : &ctx, o, f);
	if (!*state)
		sl_close(&ctx);
	if (!err) {
		head(f, "sluice_scrape_duration_seconds", "gauge",
		     "Seconds this scrape took to read the state.");
		fprintf(f, "sluice_scrape_duration_seconds %.6f\n",
			mono_s() - t0);
	}
	if (fclose(f) && !err)
		err = -errno;
	if (err) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	return err;
}
