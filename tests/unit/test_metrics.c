// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_metrics: the daemon's Prometheus text (metrics.c) from the real
 * programs' counters: a config applied by the real control plane on
 * private maps (a deny entry, a drop rule whose comment needs escaping, a
 * pass rule), frames run through XDP (bpf_prog_test_run_opts), then the
 * rendered text: the verdict, rule and set-entry series carry the counts
 * the frames made (and equal sl_stats_read), the verdicts under hook
 * "xdp" (none under tc-in or tc-out, and no "unknown" series until an
 * upgrade carried counts there), every sample's metric has
 * HELP and TYPE lines before it, label values are escaped, and `promtool
 * check metrics` accepts the text (a failure without promtool under
 * CI=true). Without state only sluice_up 0 and build info. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "check.h"
#include "config.h"
#include "metrics.h"
#include "pkt.h"
#include "skelmaps.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

static struct sluice_xdp *skel;
static int xdp;
static struct sl_config cfg;

/* Runs the frame of spec through XDP repeat times: the return code. */
static int run(const struct pkt_spec *s, unsigned repeat)
{
	uint8_t f[PKT_MAX];
	struct pkt_off o;
	size_t n = pkt_build(s, f, &o);
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f, .data_size_in = n,
		    .repeat = repeat);

	return bpf_prog_test_run_opts(xdp, &t) ? -1 : (int)t.retval;
}

/* The rendered text (malloc'ed) of the private state, or NULL. */
static char *render(bool state)
{
	struct sl_metrics_opts o = {.version = "test \"1\"", .top_entries = 5};
	char *buf = NULL;
	size_t len = 0;
	struct sl_ctx ctx;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return NULL;
	sl_ctx_wrap(&ctx, skel);
	sl_ctx_sync_slots(&ctx);
	err = sl_metrics_render(state ? &ctx : NULL, &o, f);
	sl_close(&ctx);
	fclose(f);
	if (err) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The value of the sample `series` (name and labels as printed), or -1. */
static long long value(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *l = text; l && *l;
	     l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return atoll(l + n + 1);
	return -1;
}

/* Every sample line's metric has "# HELP name " and "# TYPE name " lines
 * before it; name of the first that has not in *bad. */
static bool heads_ok(const char *text, char *bad, size_t len)
{
	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		char name[128], h[160], t[160];
		size_t k = strcspn(l, "{ ");

		if (*l == '#' || k >= sizeof(name))
			continue;
		memcpy(name, l, k);
		name[k] = '\0';
		snprintf(h, sizeof(h), "# HELP %s ", name);
		snprintf(t, sizeof(t), "# TYPE %s ", name);
		if (!strstr(text, h) || !strstr(text, t) ||
		    strstr(text, h) > l || strstr(text, t) > l) {
			snprintf(bad, len, "%s", name);
			return false;
		}
		if (!strchr(l, '\n'))
			break;
	}
	return true;
}

static bool promtool(const char *text)
{
	char path[] = "/tmp/sluice_metrics_XXXXXX", cmd[256];
	size_t n = strlen(text);
	int fd, rc;

	if (system("command -v promtool >/dev/null 2>&1")) {
		const char *ci = getenv("CI");

		if (ci && !strcmp(ci, "true"))
			return ASSERT_TRUE(false, "promtool is missing "
						  "(Debian: prometheus)");
		printf("skip - promtool check metrics: no promtool\n");
		return true;
	}
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		return ASSERT_TRUE(false, "temporary file");
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s > %s.out 2>&1",
		 path, path);
	rc = system(cmd);
	if (rc) {
		char out[400] = "", p2[64];
		FILE *f;

		snprintf(p2, sizeof(p2), "%s.out", path);
		f = fopen(p2, "r");
		if (f) {
			out[fread(out, 1, sizeof(out) - 1, f)] = '\0';
			fclose(f);
		}
		check_fail("promtool check metrics: %s", out);
	}
	snprintf(cmd, sizeof(cmd), "rm -f %s %s.out", path, path);
	if (system(cmd)) {
	}
	return rc == 0;
}

/* A verdict series sluice_<what>_total{action,reason,hook} and its value
 * (-1: the series must be absent). */
struct want_series {
	const char *what, *action, *reason, *hook;
	long long want;
};

static bool series_are(const char *text, const struct want_series *w, size_t n)
{
	char series[256];

	for (size_t i = 0; i < n; i++) {
		snprintf(series, sizeof(series),
			 "sluice_%s_total{action=\"%s\",reason=\"%s\","
			 "hook=\"%s\"}",
			 w[i].what, w[i].action, w[i].reason, w[i].hook);
		if (!ASSERT_EQ(value(text, series), w[i].want, series))
			return false;
	}
	return true;
}

static bool check_counts(void)
{
	struct pkt_spec denied = V4(UDP, .src = "198.18.7.7");
	struct pkt_spec ruled = V4(TCP, .tcp_flags = 0x02);
	struct pkt_spec passed = V4(UDP, .src = "198.18.0.9");
	struct sl_counter s[SL_STATS_MAX];
	char series[256], bad[128];
	char *text;
	bool ok;

	ok = ASSERT_EQ(run(&denied, 7), XDP_DROP, "deny-set frame") &&
	     ASSERT_EQ(run(&ruled, 5), XDP_DROP, "rule frame") &&
	     ASSERT_EQ(run(&passed, 3), XDP_PASS, "passed frame");
	text = ok ? render(true) : NULL;
	if (!ok || !ASSERT_TRUE(text != NULL, "render"))
		return false;
	ok = ASSERT_EQ(sl_stats_read_fd(bpf_map__fd(skel->maps.sl_stats), s), 0,
		       "stats read");
	{
		const struct want_series w[] = {
		    {"packets", "drop", "deny-set", "xdp", 7},
		    {"packets", "drop", "rule", "xdp",
		     (long long)s[sl_stats_idx(SL_R_RULE, SL_ACT_DROP)]
			 .packets},
		    {"packets", "pass", "pass", "xdp", 3},
		    {"bytes", "drop", "deny-set", "xdp",
		     (long long)s[sl_stats_idx(SL_R_DENY_SET, SL_ACT_DROP)]
			 .bytes},
		    /* frames run through XDP count under xdp only */
		    {"packets", "drop", "deny-set", "tc-in", 0},
		    {"packets", "pass", "pass", "tc-out", 0},
		    /* no series that can only be 0 on a state never
		     * upgraded */
		    {"packets", "drop", "deny-set", "unknown", -1},
		};

		ok = ok && series_are(text, w, sizeof(w) / sizeof(w[0]));
	}
	snprintf(series, sizeof(series),
		 "sluice_rule_packets_total{rule=\"%u\",comment=\"syn "
		 "\\\"drop\\\" \\\\ here\"}",
		 cfg.rules[0].id);
	ok = ok && ASSERT_EQ(value(text, series), 5, "the drop rule's packets");
	snprintf(series, sizeof(series),
		 "sluice_rule_packets_total{rule=\"%u\",comment=\"\"}",
		 cfg.rules[1].id);
	ok = ok && ASSERT_EQ(value(text, series), 0, "the pass rule's packets");
	ok = ok &&
	     ASSERT_EQ(value(text, "sluice_set_entry_packets_total{set="
				   "\"deny\",direction=\"src\",entry="
				   "\"198.18.7.0/24\"}"),
		       7, "the deny entry's hits") &&
	     ASSERT_EQ(value(text, "sluice_set_entries{set=\"deny\"}"), 2,
		       "deny entries") &&
	     ASSERT_EQ(value(text, "sluice_set_entry_packets_total{set="
				   "\"deny\",direction=\"src\",entry="
				   "\"198.18.8.0/24\"}"),
		       -1, "an entry without hits is not in the top") &&
	     ASSERT_EQ(value(text, "sluice_up"), 1, "sluice_up") &&
	     ASSERT_EQ(value(text, "sluice_events_lost_total"), 0,
		       "events lost") &&
	     ASSERT_EQ(value(text, "sluice_rules"), 2, "sluice_rules") &&
	     ASSERT_STR_HAS(text,
			    "sluice_build_info{version=\"test \\\"1\\\"\","
			    "layout=\"",
			    "build info, version escaped");
	ok = ok && ASSERT_TRUE(heads_ok(text, bad, sizeof(bad)),
			       "%s has no HELP or TYPE line before it", bad);
	ok = ok && promtool(text);
	free(text);
	return ok;
}

/* Counts an upgrade carried under the unknown hook (set here as the
 * upgrade sets them) show as hook="unknown" series next to the hooks'
 * own, and promtool accepts the text. */
static bool check_unknown(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sl_counter *c = calloc(ncpu > 0 ? ncpu : 1, sizeof(*c));
	__u32 cell = sl_stats_hidx(SL_HK_UNKNOWN, SL_R_DENY_SET, SL_ACT_DROP);
	char *text = NULL;
	bool ok;

	ok = ASSERT_TRUE(c != NULL, "memory");
	if (ok) {
		c[0].packets = 40;
		c[0].bytes = 4000;
		c[ncpu - 1].packets += 2;
		c[ncpu - 1].bytes += 200;
		ok = ASSERT_EQ(
		    bpf_map_update_elem(bpf_map__fd(skel->maps.sl_stats), &cell,
					c, BPF_ANY),
		    0, "write the unknown hook's cell");
	}
	text = ok ? render(true) : NULL;
	ok = ok && ASSERT_TRUE(text != NULL, "render");
	if (ok) {
		const struct want_series w[] = {
		    {"packets", "drop", "deny-set", "unknown", 42},
		    {"bytes", "drop", "deny-set", "unknown", 4200},
		    {"packets", "pass", "pass", "unknown", 0},
		    {"packets", "drop", "deny-set", "xdp", 7},
		};

		ok = series_are(text, w, sizeof(w) / sizeof(w[0])) &&
		     promtool(text);
	}
	free(text);
	free(c);
	return ok;
}

/* The load balancer's series: a service of two backends with a health
 * check, the first found down (two failed checks, fall 2), the second's
 * counters set: its packets, bytes and connections, up 1 and 0. */
static bool check_lb(void)
{
	struct sl_lb_backend_cfg be[2] = {0};
	struct sl_lb_service_cfg svc = {0};
	struct sl_lb_cfg lb = {.svc = &svc, .n_svc = 1};
	struct sl_lb_probe p = {0};
	int ncpu = libbpf_num_possible_cpus();
	struct sl_lb_ctr *c = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*c));
	struct sl_lb_cfg run = {0};
	struct sl_ctx ctx;
	char *text = NULL, bad[128];
	bool ok;

	svc.vip[0] = 198, svc.vip[1] = 18, svc.vip[2] = 100, svc.vip[3] = 1;
	svc.family = 4;
	svc.port = 80;
	svc.proto = IPPROTO_TCP;
	svc.hc.type = SL_LB_HC_HTTP;
	svc.hc.rise = svc.hc.fall = 2;
	svc.hc.interval_ms = 1000;
	snprintf(svc.hc.path, sizeof(svc.hc.path), "/");
	for (int i = 0; i < 2; i++) {
		be[i].addr[0] = 198, be[i].addr[1] = 18, be[i].addr[2] = 1;
		be[i].addr[3] = (uint8_t)(10 + i);
		be[i].family = 4;
		be[i].port = 8080;
		be[i].weight = 1;
	}
	svc.be = be;
	svc.n_be = 2;
	sl_ctx_wrap(&ctx, skel);
	ok = ASSERT_TRUE(c != NULL, "memory") &&
	     ASSERT_EQ(sl_lb_write(&ctx, &lb, NULL), 0, "sl_lb_write") &&
	     ASSERT_EQ(sl_lb_read(&ctx, &run), 0, "sl_lb_read") &&
	     ASSERT_EQ(run.n_svc, 1, "services");
	if (ok) {
		memcpy(p.svc.vip, svc.vip, 16);
		p.svc.port = 80;
		p.svc.proto = IPPROTO_TCP;
		p.svc.family = 4;
		p.id = run.svc[0].be[0].id;
		memcpy(p.addr, be[0].addr, 16);
		p.family = 4;
		p.port = 8080;
		snprintf(p.err, sizeof(p.err), "connect: refused");
		ok =
		    ASSERT_EQ(sl_lb_health_record(&ctx, &p, 1, 1), 0,
			      "record") &&
		    ASSERT_EQ(sl_lb_health_record(&ctx, &p, 1, 2), 0, "record");
		c[0].packets = 11;
		c[0].bytes = 1100;
		c[0].conns = 3;
		ok = ok && ASSERT_EQ(bpf_map_update_elem(
					 bpf_map__fd(skel->maps.sl_lb_stats),
					 &run.svc[0].be[1].id, c, BPF_ANY),
				     0, "counters");
	}
	sl_close(&ctx);
	text = ok ? render(true) : NULL;
	ok = ok && ASSERT_TRUE(text != NULL, "render");
#define LBS "{service=\"198.18.100.1:80/tcp\",backend=\"198.18.1.1"
	ok = ok &&
	     ASSERT_EQ(value(text, "sluice_lb_backend_up" LBS "0:8080\"}"), 0,
		       "the down backend's up") &&
	     ASSERT_EQ(value(text, "sluice_lb_backend_up" LBS "1:8080\"}"), 1,
		       "the other's up") &&
	     ASSERT_EQ(
		 value(text, "sluice_lb_backend_packets_total" LBS "1:8080\"}"),
		 11, "packets") &&
	     ASSERT_EQ(
		 value(text, "sluice_lb_backend_bytes_total" LBS "1:8080\"}"),
		 1100, "bytes") &&
	     ASSERT_EQ(value(text, "sluice_lb_backend_connections_total" LBS
				   "1:8080\"}"),
		       3, "connections") &&
	     ASSERT_EQ(
		 value(text, "sluice_lb_backend_packets_total" LBS "0:8080\"}"),
		 0, "the other's packets");
#undef LBS
	ok = ok && ASSERT_TRUE(heads_ok(text, bad, sizeof(bad)),
			       "%s has no HELP or TYPE line before it", bad);
	ok = ok && promtool(text);
	sl_lb_cfg_free(&run);
	free(text);
	free(c);
	return ok;
}

static bool check_no_state(void)
{
	char *text = render(false);
	bool ok =
	    ASSERT_TRUE(text != NULL, "render") &&
	    ASSERT_EQ(value(text, "sluice_up"), 0, "sluice_up") &&
	    ASSERT_TRUE(!strstr(text, "sluice_packets_total"), "no counters") &&
	    promtool(text);

	free(text);
	return ok;
}

static bool check_escape(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool ok;

	if (!f)
		return false;
	sl_metrics_label(f, "a\\b\"c\nd");
	fclose(f);
	ok = ASSERT_TRUE(!strcmp(buf, "a\\\\b\\\"c\\nd"), "escaped: %s", buf);
	free(buf);
	return ok;
}

int main(void)
{
	static const char yaml[] =
	    "deny: [198.18.7.0/24, 198.18.8.0/24]\n"
	    "rules:\n"
	    "  - {action: drop, proto: tcp, comment: 'syn \"drop\" \\ "
	    "here'}\n"
	    "  - {action: pass, proto: udp, dport: 9}\n";
	struct sl_apply_report rep;
	struct sl_ctx ctx;
	int rc = skel_test_start("test_metrics");

	if (rc >= 0)
		return rc;
	skel = sl_xdp_load(NULL, NULL, SL_PROG_XDP);
	if (!skel) {
		printf("not ok - load the programs\n");
		return 1;
	}
	xdp = bpf_program__fd(skel->progs.sluice_xdp);
	sl_ctx_wrap(&ctx, skel);
	if (skel_config_text(yaml, &cfg) || sl_apply(&ctx, &cfg, 0, &rep)) {
		printf("not ok - apply the test config\n");
		return 1;
	}
	sl_close(&ctx);
	check_report("label values escaped (backslash, quote, newline)",
		     check_escape());
	check_report("no state: sluice_up 0 and build info only; promtool "
		     "accepts it",
		     check_no_state());
	check_report("counters of frames run through xdp: verdicts, rules "
		     "(comment escaped), top set entries; equal "
		     "sl_stats_read; HELP and TYPE; promtool accepts it",
		     check_counts());
	check_report("counts an upgrade carried show under hook=\"unknown\" "
		     "next to the hooks' own; promtool accepts it",
		     check_unknown());
	check_report("load balancer: packets, bytes, connections and up (0 for "
		     "a backend found down) by service and backend; promtool "
		     "accepts it",
		     check_lb());
	sl_config_free(&cfg);
	sl_xdp_destroy(skel);
	return check_failed ? 1 : 0;
}
