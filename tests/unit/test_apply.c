// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_apply: the rules stage and sl_apply() on the real XDP program with
 * private maps, through bpf_prog_test_run_opts: verdicts, reasons and rule
 * counters of applied configs; a failed apply leaving the datapath as it
 * was; no-op applies; and the atomic switch, checked by a thread that keeps
 * classifying frames while the main thread alternates two configs. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "pkt.h"
#include "sluice.h"

static struct sluice_xdp *skel;
static struct sl_ctx ctx;
static int prog;

/* A rule from "key", "value" pairs (the config file's keys). */
static struct sl_rule rule(const char *action, ...)
{
	char err[256];
	struct sl_rule r;
	const char *k, *v;
	va_list ap;

	sl_rule_init(&r);
	if (sl_rule_set_field(&r, "action", action, err, sizeof(err)))
		fprintf(stderr, "rule: %s\n", err);
	va_start(ap, action);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (sl_rule_set_field(&r, k, v, err, sizeof(err)))
			fprintf(stderr, "rule: %s\n", err);
	}
	va_end(ap);
	if (sl_rule_validate(&r, err, sizeof(err)))
		fprintf(stderr, "rule: %s\n", err);
	return r;
}

static void cfg_init(struct sl_config *c, int pol_in, int pol_out)
{
	memset(c, 0, sizeof(*c));
	c->policy[SL_RDIR_IN] = pol_in;
	c->policy[SL_RDIR_OUT] = pol_out;
}

static void cfg_rule(struct sl_config *c, struct sl_rule r)
{
	c->rules = realloc(c->rules, (c->n_rules + 1) * sizeof(r));
	c->rules[c->n_rules++] = r;
}

static void cfg_set(struct sl_config *c, int kind, int dir, const char *p)
{
	char err[128];
	struct sl_set_entry e = {.kind = kind, .dir = dir};

	if (sl_prefix_parse(p, &e.prefix, err, sizeof(err)))
		fprintf(stderr, "prefix %s: %s\n", p, err);
	c->sets = realloc(c->sets, (c->n_sets + 1) * sizeof(e));
	c->sets[c->n_sets++] = e;
}

/* Runs one frame; returns the XDP action or -1. */
static int run(const struct pkt_spec *s)
{
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(s, f, NULL);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &o))
		return -1;
	return o.retval;
}

static struct sl_counter stat_of(int reason, int action)
{
	struct sl_counter all[SL_STATS_MAX];

	if (sl_stats_read(&ctx, all))
		return (struct sl_counter){~0ULL, ~0ULL};
	return all[sl_stats_idx(reason, action)];
}

static uint64_t rule_packets(uint32_t id)
{
	struct sl_rule r = {.id = id};
	struct sl_counter c;

	if (sl_rule_stats_read(&ctx, &r, 1, &c))
		return ~0ULL;
	return c.packets;
}

/* Runs s and checks its verdict, the reason counter it moved and, when
 * id is set, that rule id counted it. */
static bool expect(const char *what, const struct pkt_spec *s, int verdict,
		   int reason, uint32_t id)
{
	int act = verdict == XDP_DROP ? SL_ACT_DROP : SL_ACT_PASS;
	uint64_t before = stat_of(reason, act).packets;
	uint64_t rbefore = id ? rule_packets(id) : 0;
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: verdict", what);
	if (!ASSERT_EQ(run(s), verdict, msg))
		return false;
	snprintf(msg, sizeof(msg), "%s: reason counter", what);
	if (!ASSERT_EQ(stat_of(reason, act).packets - before, 1, msg))
		return false;
	snprintf(msg, sizeof(msg), "%s: rule %u counter", what, id);
	return !id || ASSERT_EQ(rule_packets(id) - rbefore, 1, msg);
}

static const struct pkt_spec TCP80 = {
    .ethertype = ETH_P_IP, .proto = IPPROTO_TCP, .dport = 80};
static const struct pkt_spec TCP22 = {
    .ethertype = ETH_P_IP, .proto = IPPROTO_TCP, .dport = 22};
static const struct pkt_spec UDP53 = {.ethertype = ETH_P_IP,
				      .proto = IPPROTO_UDP};
static const struct pkt_spec ARP = {.ethertype = ETH_P_ARP};
static const struct pkt_spec TCP6_443 = {
    .ethertype = ETH_P_IPV6, .proto = IPPROTO_TCP, .dport = 443};
static const struct pkt_spec ICMP6_ECHO = {.ethertype = ETH_P_IPV6,
					   .proto = IPPROTO_ICMPV6};

static bool apply(struct sl_config *c, struct sl_apply_report *rep)
{
	int err = sl_apply(&ctx, c, 0, rep);

	return ASSERT_EQ(err, 0, "sl_apply");
}

static void test_rules_basic(void)
{
	struct sl_apply_report rep;
	struct sl_config c;
	bool ok;

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("count", "id", "5", "proto", "tcp", NULL));
	cfg_rule(&c, rule("drop", "id", "10", "proto", "tcp", "dport", "80",
			  "direction", "in", NULL));
	cfg_rule(&c, rule("drop", "id", "11", "proto", "tcp", "dport", "22",
			  "direction", "out", NULL));
	cfg_rule(&c, rule("drop", "id", "12", "proto", "arp", NULL));
	cfg_rule(&c,
		 rule("pass", "id", "13", "priority", "5", "src",
		      "2001:db8:1::/48", "proto", "tcp", "dport", "443", NULL));
	cfg_rule(&c, rule("drop", "id", "14", "dst", "2001:db8::/32", NULL));
	ok = apply(&c, &rep) &&
	     expect("tcp/80 in dropped by rule 10", &TCP80, XDP_DROP, SL_R_RULE,
		    10) &&
	     expect("count rule 5 counted tcp/80", &TCP80, XDP_DROP, SL_R_RULE,
		    5) &&
	     expect("out-only rule 11 ignores ingress tcp/22", &TCP22, XDP_PASS,
		    SL_R_PASS, 5) &&
	     expect("udp meets no rule", &UDP53, XDP_PASS, SL_R_PASS, 0) &&
	     expect("arp dropped by rule 12", &ARP, XDP_DROP, SL_R_RULE, 12) &&
	     expect("priority 5 passes ipv6 tcp/443 before rule 14", &TCP6_443,
		    XDP_PASS, SL_R_RULE, 13) &&
	     expect("ipv6 icmp dropped by rule 14", &ICMP6_ECHO, XDP_DROP,
		    SL_R_RULE, 14);
	check_report("rules: verdicts, reasons and counters by rule", ok);
	sl_config_free(&c);
}

static void test_policy_and_sets(void)
{
	struct sl_apply_report rep;
	struct sl_config c;
	bool ok;

	cfg_init(&c, SL_ACT_DROP, SL_ACT_PASS);
	cfg_rule(&c,
		 rule("pass", "id", "1", "proto", "tcp", "dport", "22", NULL));
	cfg_set(&c, SL_SET_ALLOW, SL_DIR_SRC, "198.18.0.1");
	ok = apply(&c, &rep) && expect("allow set bypasses the drop policy",
				       &TCP80, XDP_PASS, SL_R_ALLOW_SET, 0);
	sl_config_free(&c);

	cfg_init(&c, SL_ACT_DROP, SL_ACT_PASS);
	cfg_rule(&c,
		 rule("pass", "id", "1", "proto", "tcp", "dport", "22", NULL));
	cfg_set(&c, SL_SET_DENY, SL_DIR_DST, "198.19.0.0/16");
	ok = ok && apply(&c, &rep) &&
	     expect("deny set comes before a passing rule", &TCP22, XDP_DROP,
		    SL_R_DENY_SET, 0) &&
	     expect("udp to a denied destination dropped by the set", &UDP53,
		    XDP_DROP, SL_R_DENY_SET, 0);
	sl_config_free(&c);

	cfg_init(&c, SL_ACT_DROP, SL_ACT_PASS);
	cfg_rule(&c,
		 rule("pass", "id", "1", "proto", "tcp", "dport", "22", NULL));
	ok =
	    ok && apply(&c, &rep) &&
	    expect("rule passes tcp/22 under drop policy", &TCP22, XDP_PASS,
		   SL_R_RULE, 1) &&
	    expect("policy drops the rest", &UDP53, XDP_DROP, SL_R_POLICY, 0) &&
	    expect("non-ip passes under drop policy", &ARP, XDP_PASS,
		   SL_R_NON_IP, 0);
	check_report("policy, sets before rules, non-ip", ok);
	sl_config_free(&c);
}

static void test_failed_apply_untouched(void)
{
	struct sl_apply_report rep;
	struct sl_blob_hdr before, after;
	struct sl_config c;
	bool ok;
	int err;

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("drop", "id", "20", "proto", "udp", NULL));
	ok = apply(&c, &rep) &&
	     ASSERT_EQ(sl_blob_hdr_read(&ctx, &before), 0, "header");
	sl_config_free(&c);

	/* A rule naming an interface that does not exist: refused. */
	cfg_init(&c, SL_ACT_DROP, SL_ACT_DROP);
	cfg_rule(&c, rule("pass", "id", "21", "iface", "slnone0", NULL));
	err = sl_apply(&ctx, &c, 0, &rep);
	ok = ok && ASSERT_EQ(err, -EINVAL, "apply with a missing interface") &&
	     ASSERT_EQ(sl_blob_hdr_read(&ctx, &after), 0, "header") &&
	     ASSERT_EQ(after.serial, before.serial, "serial unchanged") &&
	     expect("old rule 20 still drops udp", &UDP53, XDP_DROP, SL_R_RULE,
		    20) &&
	     expect("old policy still passes", &TCP80, XDP_PASS, SL_R_PASS, 0);
	check_report("a refused apply leaves the datapath as it was", ok);
	sl_config_free(&c);
}

static void test_noop_and_ids(void)
{
	struct sl_apply_report rep;
	struct sl_blob_hdr h1, h2;
	struct sl_config c;
	uint64_t kept;
	bool ok;

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("drop", "id", "30", "proto", "udp", NULL));
	cfg_rule(&c, rule("drop", "proto", "tcp", "dport", "80", NULL));
	ok = apply(&c, &rep) &&
	     expect("udp dropped", &UDP53, XDP_DROP, SL_R_RULE, 30);
	kept = rule_packets(30);
	sl_config_free(&c);

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("drop", "id", "30", "proto", "udp", NULL));
	cfg_rule(&c,
		 rule("drop", "id", "1", "proto", "tcp", "dport", "80", NULL));
	ok = ok && ASSERT_EQ(sl_blob_hdr_read(&ctx, &h1), 0, "header") &&
	     apply(&c, &rep) &&
	     ASSERT_TRUE(rep.unchanged, "the running config applied again "
					"was not a no-op") &&
	     ASSERT_EQ(sl_blob_hdr_read(&ctx, &h2), 0, "header") &&
	     ASSERT_EQ(h2.serial, h1.serial, "no-op apply switched");
	sl_config_free(&c);

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("drop", "id", "30", "proto", "udp", NULL));
	cfg_rule(&c, rule("drop", "id", "31", "proto", "tcp", NULL));
	ok = ok && apply(&c, &rep) &&
	     ASSERT_EQ(rule_packets(30), kept, "rule 30 kept its counters") &&
	     ASSERT_EQ(rule_packets(31), 0, "new rule 31 starts at zero") &&
	     expect("rule 31 drops tcp", &TCP22, XDP_DROP, SL_R_RULE, 31);
	check_report("no-op apply, stable ids and counters", ok);
	sl_config_free(&c);
}

/* ---- the switch under load ---- */

static atomic_int phase; /* even: config phase/2 % 2 stable; odd: switching */
static atomic_bool stop;
static atomic_ulong n_mixed, n_wrong, n_runs, n_f1_drop;

/* Config A: F2's source in the allow set (F2 passes, reason allow-set),
 * F3 (tcp/7003) passed by rule 41. Config B: no set entry, F2 passed by
 * rule 42, F3 dropped by rule 43. Both drop F2 with a rule the allow set
 * hides in A: a packet that saw B's sets with A's rules would be dropped.
 * F1 (udp/5001) passes in both. */
static const struct pkt_spec F1 = {
    .ethertype = ETH_P_IP, .proto = IPPROTO_UDP, .dport = 5001};
static const struct pkt_spec F2 = {.ethertype = ETH_P_IP,
				   .proto = IPPROTO_TCP,
				   .src = "198.18.7.7",
				   .dport = 7002};
static const struct pkt_spec F3 = {
    .ethertype = ETH_P_IP, .proto = IPPROTO_TCP, .dport = 7003};

static void build_ab(struct sl_config *c, bool a)
{
	cfg_init(c, SL_ACT_DROP, SL_ACT_PASS);
	cfg_rule(
	    c, rule("pass", "id", "40", "proto", "udp", "dport", "5001", NULL));
	if (a) {
		cfg_set(c, SL_SET_ALLOW, SL_DIR_SRC, "198.18.7.7");
		cfg_rule(c, rule("drop", "id", "44", "proto", "tcp", "dport",
				 "7002", NULL));
		cfg_rule(c, rule("pass", "id", "41", "proto", "tcp", "dport",
				 "7003", NULL));
	} else {
		cfg_rule(c, rule("pass", "id", "42", "proto", "tcp", "dport",
				 "7002", NULL));
		cfg_rule(c, rule("drop", "id", "43", "proto", "tcp", "dport",
				 "7003", NULL));
	}
}

static void *classifier(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int p0 = atomic_load(&phase), v1, v2, v3, p1;

		v1 = run(&F1);
		v2 = run(&F2);
		v3 = run(&F3);
		p1 = atomic_load(&phase);
		atomic_fetch_add(&n_runs, 1);
		if (v1 != XDP_PASS)
			atomic_fetch_add(&n_f1_drop, 1);
		if (v2 != XDP_PASS)
			atomic_fetch_add(&n_mixed, 1);
		/* Only judge F3 when no switch overlapped the three runs:
		 * phase 0 mod 4 = A running, 2 mod 4 = B running. */
		if (p0 == p1 && !(p0 & 1) &&
		    v3 != ((p0 & 2) ? XDP_DROP : XDP_PASS))
			atomic_fetch_add(&n_wrong, 1);
	}
	return NULL;
}

static void test_switch_under_load(void)
{
	int n = getenv("SLUICE_SWAPS") ? atoi(getenv("SLUICE_SWAPS")) : 200;
	struct sl_config a, b;
	pthread_t t;
	bool ok = true;
	int i;

	build_ab(&a, true);
	build_ab(&b, false);
	ok = ASSERT_EQ(sl_apply(&ctx, &a, 0, NULL), 0, "apply A");
	atomic_store(&phase, 0);
	if (ok && pthread_create(&t, NULL, classifier, NULL))
		ok = ASSERT_TRUE(false, "pthread_create");
	for (i = 0; ok && i < n; i++) {
		struct sl_config *next = (i & 1) ? &a : &b;

		atomic_fetch_add(&phase, 1); /* odd: switching */
		ok = ASSERT_EQ(sl_apply(&ctx, next, 0, NULL), 0, "apply");
		atomic_fetch_add(&phase, 1);
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	printf("# %d switches, %lu classifications of 3 frames\n", i,
	       (unsigned long)n_runs);
	ok = ok && ASSERT_TRUE(n_runs > (unsigned long)n, "too few runs") &&
	     ASSERT_EQ(n_f1_drop, 0, "F1 (allowed by both) dropped") &&
	     ASSERT_EQ(n_mixed, 0, "F2 classified by halves of two configs") &&
	     ASSERT_EQ(n_wrong, 0, "F3 verdict of the config not running");
	check_report("atomic switch: alternating two configs under load", ok);
	sl_config_free(&a);
	sl_config_free(&b);
}

int main(void)
{
	sl_log_hook_libbpf();
	if (sl_check_privileges()) {
		printf("not ok - test_apply: needs root\n");
		return 1;
	}
	skel = sl_xdp_load(NULL, NULL, SL_PROG_XDP);
	if (!skel) {
		printf("not ok - test_apply: cannot load the XDP program\n");
		return 1;
	}
	sl_ctx_wrap(&ctx, skel);
	prog = sl_xdp_prog_fd(skel);

	test_rules_basic();
	test_policy_and_sets();
	test_failed_apply_untouched();
	test_noop_and_ids();
	test_switch_under_load();

	sl_close(&ctx);
	sl_xdp_destroy(skel);
	return check_failed ? 1 : 0;
}
