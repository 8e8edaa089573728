// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_events: the events (abi.h, Events) through the real programs on
 * crafted frames (bpf_prog_test_run_opts), with the config applied by the
 * real control plane on private maps, the records read back from the ring
 * with libbpf's ring_buffer. Every event type with its fields (drop: XDP
 * IPv4 by rule, TC egress IPv6 VLAN-tagged by policy; log; sample), the
 * drops switch, a log rule's token bucket, the sampling rate over 100,000
 * frames (1 in 100: 1,000 +-10%, about 5.5 standard deviations of the
 * random countdown; 1 in 1000: 100 +-30%; 1 in 1: exact), a full ring
 * counting every record it refused as lost, programs loaded without the
 * switch writing nothing, and the filter and JSON form of `sluice events`.
 * Pinned to CPU 0 (sampling countdowns and lost counters are per CPU). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
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

#include "check.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "pkt.h"
#include "skelmaps.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

struct env {
	struct sluice_xdp *skel;
	int xdp, tc_out, ring, lost;
	struct ring_buffer *rb;
};

static struct env on, off, ct;

#define EV_MAX 32768
static struct sl_event evs[EV_MAX];
static size_t n_evs;

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size == sizeof(struct sl_event) && n_evs < EV_MAX)
		memcpy(&evs[n_evs], data, size);
	n_evs++;
	return 0;
}

static bool env_load(struct env *e, int events, int conntrack)
{
	struct sl_features f;

	sl_features_default(&f);
	f.events = events;
	f.conntrack = conntrack;
	e->skel = sl_xdp_load(NULL, &f, SL_PROG_XDP | SL_PROG_TC_OUT);
	if (!e->skel)
		return false;
	e->xdp = bpf_program__fd(e->skel->progs.sluice_xdp);
	e->tc_out = bpf_program__fd(e->skel->progs.sluice_tc_out);
	e->ring = bpf_map__fd(e->skel->maps.sl_events);
	e->lost = bpf_map__fd(e->skel->maps.sl_ev_lost);
	e->rb = ring_buffer__new(e->ring, on_event, NULL, NULL);
	return e->rb != NULL;
}

/* Reads what the ring holds into evs (n_evs: how many). */
static size_t drain(struct env *e)
{
	n_evs = 0;
	ring_buffer__consume(e->rb);
	return n_evs;
}

static uint64_t lost(struct env *e)
{
	uint64_t t = 0;

	sl_ev_lost_fd(e->lost, &t, NULL, 0);
	return t;
}

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Runs the frame of spec through XDP (egress 0) or TC egress, repeat
 * times: the return code, -1 when the run fails. */
static int run(struct env *e, const struct pkt_spec *s, int egress,
	       unsigned repeat, size_t *len)
{
	uint8_t f[PKT_MAX];
	struct pkt_off o;
	size_t n = pkt_build(s, f, &o);
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f, .data_size_in = n,
		    .repeat = repeat);

	if (len)
		*len = n;
	if (bpf_prog_test_run_opts(egress ? e->tc_out : e->xdp, &t))
		return -1;
	return (int)t.retval;
}

/* Applies yaml on e's private maps; the applied config (rule ids) in cfg. */
static bool apply_text(struct env *e, const char *yaml, struct sl_config *cfg)
{
	struct sl_apply_report rep;
	struct sl_ctx ctx;
	bool ok;

	if (!ASSERT_EQ(skel_config_text(yaml, cfg), 0, "config load"))
		return false;
	sl_ctx_wrap(&ctx, e->skel);
	ok = ASSERT_EQ(sl_apply(&ctx, cfg, 0, &rep), 0, "apply");
	sl_close(&ctx);
	if (!ok)
		sl_config_free(cfg);
	return ok;
}

static bool addr_is(const uint8_t *a, int family, const char *text)
{
	uint8_t want[16] = {0};

	inet_pton(family == 4 ? AF_INET : AF_INET6, text, want);
	return !memcmp(a, want, 16);
}

/* Drop events: a rule's drop at XDP (IPv4 TCP), the policy's at TC egress
 * (IPv6 UDP, VLAN-tagged); no event for a pass; none with drops off. */
static bool check_drops(void)
{
	static const char yaml[] = "policy: {in: pass, out: drop}\n"
				   "events: {drops: true}\n"
				   "rules:\n"
				   "  - {action: drop, src: 198.18.0.1, proto: "
				   "tcp, dport: 80, direction: in}\n"
				   "  - {action: pass, dst: 2001:db8:2::9, "
				   "direction: out}\n";
	struct pkt_spec tcp = V4(TCP, .tcp_flags = 0x02, .payload = 10);
	struct pkt_spec udp6 = V6(UDP, .vlan = {0x8100}, .payload = 20);
	struct pkt_spec pass = V4(UDP);
	unsigned lo = if_nametoindex("lo");
	struct sl_config cfg;
	struct sl_event *e;
	uint64_t t0;
	size_t len;
	bool ok;

	drain(&on);
	if (!apply_text(&on, yaml, &cfg))
		return false;
	t0 = boot_ns();
	ok = ASSERT_EQ(run(&on, &tcp, 0, 1, &len), XDP_DROP, "tcp verdict") &&
	     ASSERT_EQ(drain(&on), 1, "events after the tcp drop");
	e = &evs[0];
	ok = ok && ASSERT_EQ(e->type, SL_EV_DROP, "type") &&
	     ASSERT_EQ(e->action, SL_ACT_DROP, "action") &&
	     ASSERT_EQ(e->reason, SL_R_RULE, "reason") &&
	     ASSERT_EQ(e->rule_id, cfg.rules[0].id, "rule id") &&
	     ASSERT_EQ(e->family, 4, "family") &&
	     ASSERT_EQ(e->proto, IPPROTO_TCP, "proto") &&
	     ASSERT_EQ(e->tcp_flags, 0x02, "tcp flags") &&
	     ASSERT_EQ(e->sport, 40000, "sport") &&
	     ASSERT_EQ(e->dport, 80, "dport") &&
	     ASSERT_TRUE(addr_is(e->src, 4, PKT_SRC4), "source address") &&
	     ASSERT_TRUE(addr_is(e->dst, 4, PKT_DST4), "dest address") &&
	     ASSERT_EQ(e->dir, SL_RDIR_IN, "direction") &&
	     ASSERT_EQ(e->hook, 0, "hook xdp") &&
	     ASSERT_EQ(e->ifindex, lo, "ifindex (lo)") &&
	     ASSERT_EQ(e->vlan, 0, "vlan") && ASSERT_EQ(e->len, len, "len") &&
	     ASSERT_EQ(e->sample, 0, "sample rate") &&
	     ASSERT_TRUE(e->ts >= t0 && e->ts <= boot_ns(), "timestamp");
	/* IPv6, VLAN 100, TC egress, the policy's drop */
	ok = ok &&
	     ASSERT_EQ(run(&on, &udp6, 1, 1, &len), 2 /* TC_ACT_SHOT */,
		       "udp6 verdict") &&
	     ASSERT_EQ(drain(&on), 1, "events after the udp6 drop");
	ok = ok && ASSERT_EQ(e->type, SL_EV_DROP, "type") &&
	     ASSERT_EQ(e->reason, SL_R_POLICY, "reason") &&
	     ASSERT_EQ(e->rule_id, 0, "rule id") &&
	     ASSERT_EQ(e->family, 6, "family") &&
	     ASSERT_EQ(e->proto, IPPROTO_UDP, "proto") &&
	     ASSERT_EQ(e->dport, 53, "dport") &&
	     ASSERT_TRUE(addr_is(e->src, 6, PKT_SRC6), "source address") &&
	     ASSERT_TRUE(addr_is(e->dst, 6, PKT_DST6), "dest address") &&
	     ASSERT_EQ(e->dir, SL_RDIR_OUT, "direction") &&
	     ASSERT_EQ(e->hook, 1, "hook tc") &&
	     ASSERT_EQ(e->vlan, 100, "vlan") && ASSERT_EQ(e->len, len, "len");
	/* a pass makes no drop event */
	ok = ok && ASSERT_EQ(run(&on, &pass, 0, 1, NULL), XDP_PASS, "pass") &&
	     ASSERT_EQ(drain(&on), 0, "events after a pass");
	sl_config_free(&cfg);
	/* drops off: nothing */
	ok = ok &&
	     apply_text(&on,
			"events: {drops: false}\nrules:\n  - {action: drop, "
			"src: 198.18.0.1, direction: in}\n",
			&cfg);
	if (ok) {
		ok = ASSERT_EQ(run(&on, &tcp, 0, 1, NULL), XDP_DROP, "drop") &&
		     ASSERT_EQ(drain(&on), 0, "events with drops off");
		sl_config_free(&cfg);
	}
	return ok;
}

/* A log rule: an event for each packet it decides, at most log-burst at
 * once; a drop by it with drops on is a drop event. */
static bool check_log(void)
{
	static const char yaml[] =
	    "events: {log-rate: 1, log-burst: 5}\n"
	    "rules:\n"
	    "  - {action: pass, proto: udp, dport: 53, log: true}\n"
	    "  - {action: pass, proto: udp, dport: 54}\n";
	struct pkt_spec logged = V4(UDP), quiet = V4(UDP, .dport = 54);
	struct sl_config cfg;
	bool ok;

	drain(&on);
	if (!apply_text(&on, yaml, &cfg))
		return false;
	ok = ASSERT_EQ(run(&on, &quiet, 0, 10, NULL), XDP_PASS, "quiet") &&
	     ASSERT_EQ(drain(&on), 0, "events of a rule without log") &&
	     ASSERT_EQ(run(&on, &logged, 0, 20, NULL), XDP_PASS, "logged") &&
	     ASSERT_EQ(drain(&on), 5, "log events of 20 packets (burst 5)");
	ok = ok && ASSERT_EQ(evs[0].type, SL_EV_LOG, "type") &&
	     ASSERT_EQ(evs[0].action, SL_ACT_PASS, "action") &&
	     ASSERT_EQ(evs[0].reason, SL_R_RULE, "reason") &&
	     ASSERT_EQ(evs[0].rule_id, cfg.rules[0].id, "rule id") &&
	     ASSERT_EQ(evs[4].rule_id, cfg.rules[0].id, "rule id (5th)") &&
	     ASSERT_EQ(evs[0].dport, 53, "dport");
	/* a second later the bucket gave one more token */
	if (ok) {
		sleep(1);
		ok = ASSERT_EQ(run(&on, &logged, 0, 20, NULL), XDP_PASS,
			       "logged") &&
		     ASSERT_TRUE(drain(&on) >= 1 && n_evs <= 2,
				 "log events 1 s later: %zu, want 1 (or 2)",
				 n_evs);
	}
	sl_config_free(&cfg);
	return ok;
}

/* With conntrack, an established flow's packets that a log rule passes
 * are never served by the fast path (which would skip the rule): each
 * gets its log event. */
static bool check_log_ct(void)
{
	static const char yaml[] =
	    "conntrack: {enabled: true}\n"
	    "events: {log-burst: 1000}\n"
	    "rules:\n"
	    "  - {action: pass, proto: udp, dport: 80, direction: in, log: "
	    "true}\n";
	struct pkt_spec a = V4(UDP, .src = "198.18.0.1", .dst = "198.19.0.1",
			       .sport = 40000, .dport = 80);
	struct pkt_spec b = V4(UDP, .src = "198.19.0.1", .dst = "198.18.0.1",
			       .sport = 80, .dport = 40000);
	struct sl_config cfg;
	bool ok;

	drain(&ct);
	if (!apply_text(&ct, yaml, &cfg))
		return false;
	ok = ASSERT_EQ(run(&ct, &a, 0, 1, NULL), XDP_PASS, "first packet") &&
	     ASSERT_EQ(run(&ct, &b, 1, 1, NULL), 0 /* TC_ACT_OK */,
		       "the reply (egress)") &&
	     ASSERT_EQ(run(&ct, &a, 0, 10, NULL), XDP_PASS,
		       "10 packets of the established flow") &&
	     ASSERT_EQ(drain(&ct), 11, "log events (1 new + 10 established)");
	for (size_t i = 0; ok && i < 11; i++)
		ok = ASSERT_EQ(evs[i].type, SL_EV_LOG, "type") &&
		     ASSERT_EQ(evs[i].rule_id, cfg.rules[0].id, "rule id");
	sl_config_free(&cfg);
	return ok;
}

/* 1-in-n sampling over `frames` frames: count within [lo, hi]. */
static bool sample_rate(unsigned n, unsigned frames, size_t lo, size_t hi)
{
	char yaml[64];
	struct pkt_spec udp = V4(UDP);
	struct sl_config cfg;
	size_t got = 0;
	bool ok;

	snprintf(yaml, sizeof(yaml), "events: {sample: %u}\n", n);
	drain(&on);
	if (!apply_text(&on, yaml, &cfg))
		return false;
	/* in runs of 10,000: the ring holds 13,107 records */
	ok = true;
	for (unsigned done = 0; ok && done < frames; done += 10000) {
		ok = ASSERT_EQ(run(&on, &udp, 0, 10000, NULL), XDP_PASS,
			       "verdict");
		got += drain(&on);
		for (size_t i = 0; ok && i < n_evs && i < EV_MAX; i++)
			ok = ASSERT_EQ(evs[i].type, SL_EV_SAMPLE, "type") &&
			     ASSERT_EQ(evs[i].sample, n, "sample rate") &&
			     ASSERT_EQ(evs[i].action, SL_ACT_PASS, "action") &&
			     ASSERT_EQ(evs[i].reason, SL_R_PASS, "reason");
	}
	printf("# sample 1/%u: %zu events of %u frames (want %zu..%zu)\n", n,
	       got, frames, lo, hi);
	ok = ok && ASSERT_TRUE(got >= lo && got <= hi,
			       "1/%u of %u frames: %zu events, want %zu..%zu",
			       n, frames, got, lo, hi);
	sl_config_free(&cfg);
	return ok;
}

/* A full ring: every record it refused is counted lost. */
static bool check_ring_full(void)
{
	struct pkt_spec udp = V4(UDP);
	struct sl_config cfg;
	uint64_t l0;
	size_t got;
	bool ok;

	drain(&on);
	if (!apply_text(&on, "events: {sample: 1}\n", &cfg))
		return false;
	l0 = lost(&on);
	ok = ASSERT_EQ(run(&on, &udp, 0, 20000, NULL), XDP_PASS, "verdict");
	got = drain(&on);
	ok = ok &&
	     ASSERT_TRUE(got > 10000 && got < 20000, "records in the ring: %zu",
			 got) &&
	     ASSERT_EQ(got + (lost(&on) - l0), 20000,
		       "records read + lost = frames");
	sl_config_free(&cfg);
	return ok;
}

/* Programs loaded without the switch write nothing, whatever the config
 * says. */
static bool check_switch_off(void)
{
	struct pkt_spec tcp = V4(TCP);
	struct sl_config cfg;
	bool ok;

	if (!apply_text(&off,
			"events: {drops: true, sample: 1}\nrules:\n  - "
			"{action: drop, src: 198.18.0.1, direction: in}\n",
			&cfg))
		return false;
	ok = ASSERT_EQ(run(&off, &tcp, 0, 100, NULL), XDP_DROP, "drop") &&
	     ASSERT_EQ(drain(&off), 0, "events") &&
	     ASSERT_EQ(lost(&off), 0, "lost");
	sl_config_free(&cfg);
	return ok;
}

/* The filter and the JSON line of `sluice events`. */
static bool check_filter_json(void)
{
	struct sl_event e = {.type = SL_EV_DROP,
			     .action = SL_ACT_DROP,
			     .reason = SL_R_DENY_SET,
			     .family = 4,
			     .proto = IPPROTO_TCP,
			     .tcp_flags = 0x12,
			     .rule_id = 0,
			     .ifindex = 1,
			     .len = 60,
			     .sport = 40000,
			     .dport = 443,
			     .dir = SL_RDIR_IN};
	struct sl_ev_filter f;
	char err[128], *buf = NULL;
	size_t blen = 0;
	struct jw w;
	FILE *m;
	bool ok;

	inet_pton(AF_INET, "198.18.0.7", e.src);
	inet_pton(AF_INET, "198.19.0.1", e.dst);
	memset(&f, 0, sizeof(f));
	f.port = f.proto = f.reason = f.rule = f.action = f.type = f.dir = -1;
	ok = ASSERT_TRUE(sl_ev_match(&f, &e), "no filter");
	f.has_from =
	    !sl_prefix_parse("198.18.0.0/15", &f.from, err, sizeof(err));
	ok = ok && ASSERT_TRUE(sl_ev_match(&f, &e), "--from 198.18.0.0/15");
	sl_prefix_parse("198.19.0.0/16", &f.from, err, sizeof(err));
	ok = ok && ASSERT_TRUE(!sl_ev_match(&f, &e), "--from 198.19.0.0/16");
	sl_prefix_parse("2001:db8::/32", &f.from, err, sizeof(err));
	ok = ok && ASSERT_TRUE(!sl_ev_match(&f, &e), "--from 2001:db8::/32");
	f.has_from = false;
	f.port = 443;
	ok = ok && ASSERT_TRUE(sl_ev_match(&f, &e), "--port 443");
	f.port = 80;
	ok = ok && ASSERT_TRUE(!sl_ev_match(&f, &e), "--port 80");
	f.port = -1;
	f.reason = SL_R_POLICY;
	ok = ok && ASSERT_TRUE(!sl_ev_match(&f, &e), "--reason policy");
	f.reason = SL_R_DENY_SET;
	f.dir = SL_RDIR_OUT;
	ok = ok && ASSERT_TRUE(!sl_ev_match(&f, &e), "--direction egress");
	f.dir = -1;
	f.rule = 3;
	ok = ok && ASSERT_TRUE(!sl_ev_match(&f, &e), "--rule 3");
	m = open_memstream(&buf, &blen);
	if (!m)
		return ASSERT_TRUE(false, "memstream");
	jw_init(&w, m);
	sl_ev_json(&w, &e);
	jw_end(&w);
	fclose(m);
	ok = ok && ASSERT_STR_HAS(buf, "\"verdict\":\"drop\"", "json") &&
	     ASSERT_STR_HAS(buf, "\"drop_reason_desc\":\"deny-set\"", "json") &&
	     ASSERT_STR_HAS(buf, "\"source\":\"198.18.0.7\"", "json") &&
	     ASSERT_STR_HAS(buf, "\"destination\":\"198.19.0.1\"", "json") &&
	     ASSERT_STR_HAS(buf, "\"destination_port\":443", "json") &&
	     ASSERT_STR_HAS(buf, "\"SYN\":true", "json") &&
	     ASSERT_STR_HAS(buf, "\"traffic_direction\":\"INGRESS\"", "json");
	free(buf);
	return ok;
}

int main(void)
{
	cpu_set_t cpus;

	sl_log_hook_libbpf();
	if (sl_check_privileges()) {
		printf("not ok - test_events: needs root\n");
		return 1;
	}
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
		printf("not ok - pin to CPU 0: %s\n", strerror(errno));
		return 1;
	}
	if (!env_load(&on, 1, 0) || !env_load(&off, 0, 0) ||
	    !env_load(&ct, 1, 1)) {
		printf("not ok - load the programs (events on and off, and "
		       "with conntrack)\n");
		return 1;
	}
	check_report("drop events: rule at xdp (ipv4 tcp), policy at tc egress "
		     "(ipv6 udp vlan), fields; none for a pass or drops off",
		     check_drops());
	check_report("log rule: an event a packet within its bucket (burst 5, "
		     "1/s)",
		     check_log());
	check_report("log rule with conntrack: established packets are never "
		     "cached past the rule",
		     check_log_ct());
	check_report("sampling 1/100 over 100,000 frames: 1,000 +-10%",
		     sample_rate(100, 100000, 900, 1100));
	check_report("sampling 1/1000 over 100,000 frames: 100 +-30%",
		     sample_rate(1000, 100000, 70, 130));
	check_report("sampling 1/1: every frame",
		     sample_rate(1, 10000, 10000, 10000));
	check_report("ring full: every record refused is counted lost",
		     check_ring_full());
	check_report("programs without the events switch write nothing",
		     check_switch_off());
	check_report("events filter and JSON line", check_filter_json());
	ring_buffer__free(on.rb);
	ring_buffer__free(off.rb);
	ring_buffer__free(ct.rb);
	sl_xdp_destroy(on.skel);
	sl_xdp_destroy(off.skel);
	sl_xdp_destroy(ct.skel);
	return check_failed ? 1 : 0;
}
