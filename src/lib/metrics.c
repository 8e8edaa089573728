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

/* Prints the labels of series i ("{...}") and sets its counter. */
typedef void (*series_fn)(FILE *f, const void *arg, size_t i,
			  struct sl_counter *k);

/* The pair sluice_<base>packets_total and sluice_<base>bytes_total of
 * series 0..n-1, with their HELP ("Packets <help>", "Bytes <help>") and
 * TYPE lines. */
static void counters(FILE *f, const char *base, const char *help, series_fn fn,
		     const void *arg, size_t n)
{
	for (int b = 0; b < 2; b++) {
		const char *what = b ? "bytes" : "packets";
		struct sl_counter k;

		fprintf(f,
			"# HELP sluice_%s%s_total %s %s\n"
			"# TYPE sluice_%s%s_total counter\n",
			base, what, b ? "Bytes" : "Packets", help, base, what);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "sluice_%s%s_total", base, what);
			fn(f, arg, i, &k);
			fprintf(f, " %llu\n",
				(unsigned long long)(b ? k.bytes : k.packets));
		}
	}
}

/* i: (hook * SL_R_MAX + reason) * SL_ACT_MAX + action */
static void verdict_labels(FILE *f, const void *arg, size_t i,
			   struct sl_counter *k)
{
	const struct sl_counter(*s)[SL_STATS_MAX] = arg;
	unsigned h = i / ((size_t)SL_R_MAX * SL_ACT_MAX),
		 r = i / SL_ACT_MAX % SL_R_MAX, a = i % SL_ACT_MAX;

	fprintf(f, "{action=\"%s\",reason=\"%s\",hook=\"%s\"}",
		sl_action_name(a), sl_reason_name(r), sl_hook_name(h));
	*k = s[h][sl_stats_idx(r, a)];
}

/* The verdict counters by action, reason and hook. The hooks of the
 * programs always; SL_HK_UNKNOWN (the last) only once it holds counts
 * (an upgrade from layout 6 or older carried them there), so a state that
 * was never upgraded shows no series that can only be 0. */
static int verdicts(struct sl_ctx *ctx, FILE *f)
{
	struct sl_counter tot[SL_STATS_MAX], (*h)[SL_STATS_MAX];
	size_t nh = SL_HK_UNKNOWN;
	int err;

	_Static_assert(SL_HK_UNKNOWN == SL_HK_MAX - 1,
		       "unknown is the last hook");
	h = calloc(SL_HK_MAX, sizeof(*h));
	if (!h)
		return -ENOMEM;
	err = sl_stats_read_hooks(ctx, tot, h);
	for (int i = 0; !err && i < SL_STATS_MAX; i++)
		if (h[SL_HK_UNKNOWN][i].packets)
			nh = SL_HK_MAX;
	if (!err)
		counters(f, "",
			 "by verdict action, reason and hook (xdp, tc-in, "
			 "tc-out; unknown: counted before an upgrade from a "
			 "layout without hooks), every interface (sluice "
			 "stats: reasons, hooks).",
			 verdict_labels, h, nh * SL_R_MAX * SL_ACT_MAX);
	free(h);
	return err;
}

/* i: (interface * SL_RDIR_MAX + direction) * SL_ACT_MAX + action */
static void iface_labels(FILE *f, const void *arg, size_t i,
			 struct sl_counter *k)
{
	const struct sl_iface_stat *v = arg;
	size_t x = i / (SL_RDIR_MAX * SL_ACT_MAX);
	unsigned d = i / SL_ACT_MAX % SL_RDIR_MAX, a = i % SL_ACT_MAX;

	fprintf(f, "{interface=\"");
	if (v[x].name[0])
		sl_metrics_label(f, v[x].name);
	else
		fprintf(f, "if%d", v[x].ifindex);
	fprintf(f, "\",direction=\"%s\",action=\"%s\"}",
		d == SL_RDIR_IN ? "ingress" : "egress", sl_action_name(a));
	*k = v[x].c[d][a];
}

static int ifaces(struct sl_ctx *ctx, FILE *f)
{
	struct sl_iface_stat *v = NULL;
	size_t n = 0;
	int err = sl_iface_stats_read(ctx, &v, &n);

	if (err)
		return err;
	counters(f, "interface_",
		 "by attached interface, direction and verdict action.",
		 iface_labels, v, n * SL_RDIR_MAX * SL_ACT_MAX);
	free(v);
	return 0;
}

struct rule_hits {
	const struct sl_rule *r;
	const struct sl_counter *k;
};

static void rule_labels(FILE *f, const void *arg, size_t i,
			struct sl_counter *k)
{
	const struct rule_hits *h = arg;

	fprintf(f, "{rule=\"%u\",comment=\"", h->r[i].id);
	sl_metrics_label(f, h->r[i].comment);
	fprintf(f, "\"}");
	*k = h->k[i];
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
		struct rule_hits h = {r, k};

		head(f, "sluice_rules", "gauge",
		     "Rules of the running config.");
		fprintf(f, "sluice_rules %zu\n", n);
		counters(f, "rule_",
			 "each rule of the running config decided or "
			 "counted, by rule id and comment.",
			 rule_labels, &h, n);
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

static void entry_labels(FILE *f, const void *arg, size_t i,
			 struct sl_counter *k)
{
	const struct sl_set_entry *e = arg;
	char p[64];

	sl_prefix_format(&e[i].prefix, p, sizeof(p));
	fprintf(f, "{set=\"%s\",direction=\"%s\",entry=\"%s\"}",
		sl_set_kind_name(e[i].kind), sl_dir_name(e[i].dir), p);
	k->packets = e[i].packets;
	k->bytes = e[i].bytes;
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
	counters(f, "set_entry_",
		 "the busiest set entries matched (the top entries by "
		 "packets; series come and go as the top changes).",
		 entry_labels, e, m < top ? m : top);
	free(e);
	return 0;
}

/* The load balancer's backends: counters by service and backend, and
 * whether each is in its table (up, or never checked) or down. */
static int lb(struct sl_ctx *ctx, FILE *f)
{
	static const char *const what[3] = {"packets", "bytes", "connections"};
	static const char *const help[3] = {
	    "Packets the load balancer forwarded to the backend (and, nat, "
	    "its replies).",
	    "Bytes of those packets.",
	    "New connections (flows) the load balancer gave the backend."};
	struct sl_lb_cfg run;
	char sv[80], be[80];
	int err = sl_lb_read(ctx, &run);

	if (err)
		return err;
	for (int m = 0; m < 4; m++) {
		char name[64];

		if (m < 3) {
			snprintf(name, sizeof(name),
				 "sluice_lb_backend_%s_total", what[m]);
			head(f, name, "counter", help[m]);
		} else {
			snprintf(name, sizeof(name), "sluice_lb_backend_up");
			head(f, name, "gauge",
			     "1 when the backend is in its service's table "
			     "(up, or not checked), 0 when its health check "
			     "found it down.");
		}
		for (size_t i = 0; i < run.n_svc; i++) {
			const struct sl_lb_service_cfg *s = &run.svc[i];

			sl_lb_endpoint_format(s->vip, s->family, s->port,
					      s->proto, sv, sizeof(sv));
			for (size_t j = 0; j < s->n_be; j++) {
				const struct sl_lb_backend_cfg *b = &s->be[j];
				uint64_t v =
				    m == 0   ? b->cnt.packets
				    : m == 1 ? b->cnt.bytes
				    : m == 2 ? b->cnt.conns
					     : !(b->checked &&
						 b->health.state == SL_LB_DOWN);

				sl_lb_endpoint_format(b->addr, b->family,
						      b->port, 0, be,
						      sizeof(be));
				fprintf(f, "%s{service=\"", name);
				sl_metrics_label(f, sv);
				fprintf(f, "\",backend=\"");
				sl_metrics_label(f, be);
				fprintf(f, "\"} %llu\n", (unsigned long long)v);
			}
		}
	}
	sl_lb_cfg_free(&run);
	return 0;
}

int sl_metrics_render(struct sl_ctx *ctx, const struct sl_metrics_opts *o,
		      FILE *f)
{
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
	err = verdicts(ctx, f);
	if (!err)
		err = ifaces(ctx, f);
	if (!err)
		err = rules(ctx, f);
	if (!err)
		err = entries(ctx, o->top_entries, f);
	if (!err)
		err = lb(ctx, f);
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
