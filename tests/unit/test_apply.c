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
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "check.h"
#include "classify.h"
#include "config.h"
#include "log.h"
#include "names.h"
#include "pkt.h"
#include "rulegen.h"
#include "sluice.h"

static struct sluice_xdp *skel;
static struct sl_ctx ctx;
static int prog, prog_tc_in, prog_tc_out;

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

/* Runs one frame `repeat` times; returns the last XDP action or -1. */
static int run_n(const struct pkt_spec *s, int repeat)
{
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(s, f, NULL);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog, &o))
		return -1;
	return o.retval;
}

static int run(const struct pkt_spec *s)
{
	return run_n(s, 1);
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

/* Runs s once through program p; checks its return code, that the cell
 * (reason, action) moved by one packet and no other, that rule id (if set)
 * counted it, and that the frame came back byte for byte. */
static bool expect_on(const char *what, int p, const struct pkt_spec *s,
		      int retval, int reason, int action, uint32_t id)
{
	struct sl_counter b[SL_STATS_MAX], a[SL_STATS_MAX];
	uint8_t f[PKT_MAX], out[PKT_MAX + 256];
	size_t len = pkt_build(s, f, NULL);
	uint64_t rbefore = id ? rule_packets(id) : 0;
	char why[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (!ASSERT_EQ(sl_stats_read(&ctx, b), 0, "read counters") ||
	    !ASSERT_EQ(bpf_prog_test_run_opts(p, &o), 0, "test run") ||
	    !ASSERT_EQ(sl_stats_read(&ctx, a), 0, "read counters"))
		return false;
	if (!ASSERT_TRUE(o.retval == (__u32)retval, "%s: returned %d, want %d",
			 what, o.retval, retval))
		return false;
	for (int i = 0; i < SL_STATS_MAX; i++) {
		uint64_t d = a[i].packets - b[i].packets;
		bool want = i == (int)sl_stats_idx(reason, action);

		if (!ASSERT_TRUE(d == (want ? 1u : 0u),
				 "%s: counter %s/%s moved +%llu", what,
				 sl_reason_name(i / SL_STATS_ACTIONS),
				 sl_action_name(i % SL_STATS_ACTIONS),
				 (unsigned long long)d))
			return false;
	}
	if (id && !ASSERT_TRUE(rule_packets(id) - rbefore == 1,
			       "%s: rule %u did not count", what, id))
		return false;
	return ASSERT_TRUE(
	    pkt_same(out, o.data_size_out, f, len, why, sizeof(why)), "%s: %s",
	    what, why);
}

/* The redirect slot holding ifindex ifx, or 0. */
static __u32 redirect_slot_of(__u32 ifx)
{
	int fd = sl_map_fd(&ctx, SL_MAP_REDIRECT_IFX);

	for (__u32 s = 1; fd >= 0 && s < SL_REDIRECT_SLOTS; s++) {
		__u32 v = 0;

		if (!bpf_map_lookup_elem(fd, &s, &v) && v == ifx)
			return s;
	}
	return 0;
}

/* Rule action redirect: the verdict (XDP_REDIRECT through the DEVMAP,
 * TC_ACT_REDIRECT), its counters, the slot the control plane fills, an
 * emptied slot (abort), and the errors. */
static void test_redirect(void)
{
	__u32 lo = if_nametoindex("lo"), slot, zero = 0, ifx = 0;
	struct bpf_devmap_val dv = {};
	struct sl_blob_hdr h0, h1;
	struct sl_config c;
	bool ok;
	int dev = sl_map_fd(&ctx, SL_MAP_REDIRECT);
	int ifxm = sl_map_fd(&ctx, SL_MAP_REDIRECT_IFX);

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(
	    &c, rule("redirect", "id", "30", "proto", "udp", "to", "lo", NULL));
	cfg_rule(&c,
		 rule("drop", "id", "31", "proto", "tcp", "dport", "80", NULL));
	ok = apply(&c, NULL);
	slot = redirect_slot_of(lo);
	ok =
	    ok &&
	    ASSERT_TRUE(slot > 0, "no redirect slot holds lo's ifindex") &&
	    ASSERT_EQ(bpf_map_lookup_elem(dev, &slot, &dv), 0, "devmap slot") &&
	    ASSERT_EQ(dv.ifindex, lo, "devmap slot's ifindex") &&
	    expect_on("xdp: udp redirected", prog, &UDP53, XDP_REDIRECT,
		      SL_R_RULE, SL_ACT_REDIRECT, 30) &&
	    expect_on("tc in: udp redirected", prog_tc_in, &UDP53,
		      TC_ACT_REDIRECT, SL_R_RULE, SL_ACT_REDIRECT, 30) &&
	    expect_on("tc out: udp redirected", prog_tc_out, &UDP53,
		      TC_ACT_REDIRECT, SL_R_RULE, SL_ACT_REDIRECT, 30) &&
	    expect_on("xdp: tcp/80 dropped", prog, &TCP80, XDP_DROP, SL_R_RULE,
		      SL_ACT_DROP, 31) &&
	    expect_on("xdp: tcp/22 passes", prog, &TCP22, XDP_PASS, SL_R_PASS,
		      SL_ACT_PASS, 0);
	check_report("redirect: verdicts and counters at xdp and tc", ok);

	/* The upgrade rebuilds the blob from the stored rules: the redirect
	 * rule keeps its target, the other rules their verdicts. */
	ok = ASSERT_EQ(sl_blob_hdr_read(&ctx, &h0), 0, "header") &&
	     ASSERT_EQ(sl_blob_rebuild(&ctx, h0.policy, h0.serial + 1), 0,
		       "sl_blob_rebuild") &&
	     ASSERT_EQ(sl_blob_hdr_read(&ctx, &h1), 0, "header") &&
	     ASSERT_EQ(h1.serial, h0.serial + 1, "rebuilt blob's serial") &&
	     expect_on("rebuilt: udp redirected", prog, &UDP53, XDP_REDIRECT,
		       SL_R_RULE, SL_ACT_REDIRECT, 30) &&
	     expect_on("rebuilt: tcp/80 dropped", prog, &TCP80, XDP_DROP,
		       SL_R_RULE, SL_ACT_DROP, 31);
	check_report("redirect: a rebuilt blob (upgrade) keeps the target", ok);

	/* A slot emptied under the running config (its interface went
	 * away): the rule aborts. Applying the same config fills it again. */
	ok = ASSERT_EQ(bpf_map_update_elem(ifxm, &slot, &zero, BPF_ANY), 0,
		       "empty the slot") &&
	     ASSERT_EQ(bpf_map_delete_elem(dev, &slot), 0, "empty devmap") &&
	     expect_on("xdp: empty slot aborts", prog, &UDP53, XDP_ABORTED,
		       SL_R_RULE, SL_ACT_ABORT, 30) &&
	     expect_on("tc: empty slot aborts", prog_tc_in, &UDP53, TC_ACT_SHOT,
		       SL_R_RULE, SL_ACT_ABORT, 30) &&
	     apply(&c, NULL) &&
	     ASSERT_TRUE(redirect_slot_of(lo) > 0, "refill") &&
	     expect_on("xdp: redirected again", prog, &UDP53, XDP_REDIRECT,
		       SL_R_RULE, SL_ACT_REDIRECT, 30);
	check_report("redirect: an emptied slot aborts, apply fills it again",
		     ok);
	sl_config_free(&c);

	/* An unknown target is refused before anything changes. */
	ok = ASSERT_EQ(sl_blob_hdr_read(&ctx, &h0), 0, "blob header");
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("redirect", "id", "32", "proto", "udp", "to",
			  "slnone7", NULL));
	ok = ok &&
	     ASSERT_EQ(sl_apply(&ctx, &c, 0, NULL), -EINVAL,
		       "apply with an unknown target") &&
	     ASSERT_EQ(sl_blob_hdr_read(&ctx, &h1), 0, "blob header") &&
	     ASSERT_EQ(h1.serial, h0.serial, "serial after refusal") &&
	     expect_on("xdp: still redirected", prog, &UDP53, XDP_REDIRECT,
		       SL_R_RULE, SL_ACT_REDIRECT, 30);
	sl_config_free(&c);
	check_report("redirect: an unknown interface is refused, nothing "
		     "changes",
		     ok);

	/* A config without redirect rules empties the slots. */
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c,
		 rule("drop", "id", "31", "proto", "tcp", "dport", "80", NULL));
	slot = redirect_slot_of(lo);
	ok = apply(&c, NULL) &&
	     ASSERT_EQ(bpf_map_lookup_elem(ifxm, &slot, &ifx), 0, "slot") &&
	     ASSERT_EQ(ifx, 0, "ifindex left in the slot") &&
	     ASSERT_TRUE(bpf_map_lookup_elem(dev, &slot, &dv) != 0,
			 "devmap slot still filled") &&
	     expect_on("xdp: udp passes", prog, &UDP53, XDP_PASS, SL_R_PASS,
		       SL_ACT_PASS, 0);
	check_report("redirect: slots no rule names are emptied", ok);
	sl_config_free(&c);
}

/* Rules matching source/destination MAC (checked after the box, like the
 * TCP flags), at XDP and TC, IP and ARP; a MAC rule never shadows the
 * rules after it for frames of other MACs. */
static void test_mac(void)
{
	struct pkt_spec udp_y = UDP53, arp_y = ARP;
	static const uint8_t y[6] = {0x02, 0, 0, 0, 0, 0x07};
	struct sl_config c;
	bool ok;

	memcpy(udp_y.smac, y, 6);
	memcpy(arp_y.smac, y, 6);
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("drop", "id", "40", "priority", "5", "proto", "udp",
			  "src-mac", "02:00:00:00:00:07", NULL));
	cfg_rule(&c, rule("pass", "id", "41", "priority", "10", "proto", "udp",
			  NULL));
	cfg_rule(&c, rule("drop", "id", "42", "proto", "tcp", "dst-mac",
			  "02:00:00:00:00:09", NULL));
	cfg_rule(&c, rule("drop", "id", "43", "proto", "arp", "src-mac",
			  "02:00:00:00:00:07", "dst-mac", "02:00:00:00:00:02",
			  NULL));
	ok = apply(&c, NULL) &&
	     expect_on("xdp: udp from the listed mac dropped", prog, &udp_y,
		       XDP_DROP, SL_R_RULE, SL_ACT_DROP, 40) &&
	     expect_on("xdp: udp from another mac meets the next rule", prog,
		       &UDP53, XDP_PASS, SL_R_RULE, SL_ACT_PASS, 41) &&
	     expect_on("xdp: tcp to another dst mac passes", prog, &TCP80,
		       XDP_PASS, SL_R_PASS, SL_ACT_PASS, 0) &&
	     expect_on("xdp: arp from the listed mac pair dropped", prog,
		       &arp_y, XDP_DROP, SL_R_RULE, SL_ACT_DROP, 43) &&
	     expect_on("xdp: arp from another mac passes", prog, &ARP, XDP_PASS,
		       SL_R_NON_IP, SL_ACT_PASS, 0) &&
	     expect_on("tc in: udp from the listed mac dropped", prog_tc_in,
		       &udp_y, TC_ACT_SHOT, SL_R_RULE, SL_ACT_DROP, 40) &&
	     expect_on("tc out: udp from another mac passes by rule",
		       prog_tc_out, &UDP53, TC_ACT_OK, SL_R_RULE, SL_ACT_PASS,
		       41);
	check_report("mac: rules match source and destination MAC", ok);
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
	cfg_rule(&c,
		 rule("drop", "id", "31", "proto", "tcp", "dport", "22", NULL));
	ok = apply(&c, &rep) &&
	     expect("udp dropped", &UDP53, XDP_DROP, SL_R_RULE, 30) &&
	     expect("tcp/22 dropped by rule 31", &TCP22, XDP_DROP, SL_R_RULE,
		    31);
	kept = rule_packets(30);
	sl_config_free(&c);

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("drop", "id", "30", "proto", "udp", NULL));
	cfg_rule(&c,
		 rule("drop", "id", "1", "proto", "tcp", "dport", "80", NULL));
	cfg_rule(&c,
		 rule("drop", "id", "31", "proto", "tcp", "dport", "22", NULL));
	ok = ok && ASSERT_EQ(sl_blob_hdr_read(&ctx, &h1), 0, "header") &&
	     apply(&c, &rep) &&
	     ASSERT_TRUE(rep.unchanged, "the running config applied again "
					"was not a no-op") &&
	     ASSERT_EQ(sl_blob_hdr_read(&ctx, &h2), 0, "header") &&
	     ASSERT_EQ(h2.serial, h1.serial, "no-op apply switched");
	sl_config_free(&c);

	/* Rule 31 goes away, then its id comes back for another rule: the
	 * new rule must not inherit the old one's counts. */
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("drop", "id", "30", "proto", "udp", NULL));
	ok = ok && apply(&c, &rep);
	sl_config_free(&c);
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("drop", "id", "30", "proto", "udp", NULL));
	cfg_rule(&c, rule("drop", "id", "31", "proto", "tcp", NULL));
	ok = ok && apply(&c, &rep) &&
	     ASSERT_EQ(rule_packets(30), kept, "rule 30 kept its counters") &&
	     ASSERT_EQ(rule_packets(31), 0, "a reused id 31 starts at zero") &&
	     expect("rule 31 drops tcp", &TCP22, XDP_DROP, SL_R_RULE, 31);
	check_report("no-op apply, stable ids and counters", ok);
	sl_config_free(&c);
}

/* Counters follow the rule, not the id (issue 8): rules without ids keep
 * their counters when a rule is inserted before them; a rule replaced
 * under its id by another match starts at zero; a new rule never gets the
 * id (and counters) of a running one. */
static void test_counters_follow_rules(void)
{
	static const struct pkt_spec U1 = {
	    .ethertype = ETH_P_IP, .proto = IPPROTO_UDP, .dport = 1001};
	static const struct pkt_spec U2 = {
	    .ethertype = ETH_P_IP, .proto = IPPROTO_UDP, .dport = 1002};
	struct sl_apply_report rep;
	struct sl_config c;
	uint32_t id1, id2, id0 = 0;
	bool ok;

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	ok = apply(&c, &rep); /* no rules: every id free */
	sl_config_free(&c);
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("drop", "proto", "udp", "dport", "1001", NULL));
	cfg_rule(&c, rule("drop", "proto", "udp", "dport", "1002", NULL));
	ok = ok && apply(&c, &rep);
	id1 = c.rules[0].id;
	id2 = c.rules[1].id;
	ok = ok && expect("udp/1002 dropped", &U2, XDP_DROP, SL_R_RULE, id2) &&
	     expect("udp/1002 dropped", &U2, XDP_DROP, SL_R_RULE, id2) &&
	     ASSERT_EQ(rule_packets(id2), 2, "rule udp/1002 counted 2");
	sl_config_free(&c);

	/* Insert a rule first, still without ids: the two keep theirs. */
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(&c, rule("drop", "proto", "udp", "dport", "1000", NULL));
	cfg_rule(&c, rule("drop", "proto", "udp", "dport", "1001", NULL));
	cfg_rule(&c, rule("drop", "proto", "udp", "dport", "1002", NULL));
	ok = ok && apply(&c, &rep);
	for (size_t i = 0; i < c.n_rules; i++) {
		if (c.rules[i].dport_lo == 1000)
			id0 = c.rules[i].id;
		if (c.rules[i].dport_lo == 1001)
			ok = ok && ASSERT_EQ(c.rules[i].id, id1,
					     "udp/1001 kept its id");
		if (c.rules[i].dport_lo == 1002)
			ok = ok && ASSERT_EQ(c.rules[i].id, id2,
					     "udp/1002 kept its id");
	}
	ok = ok && ASSERT_TRUE(id0 != id1 && id0 != id2, "new rule, new id") &&
	     ASSERT_EQ(rule_packets(id2), 2, "udp/1002 kept its 2 packets") &&
	     ASSERT_EQ(rule_packets(id1), 0, "udp/1001 inherited nothing") &&
	     ASSERT_EQ(rule_packets(id0), 0, "the new rule starts at zero") &&
	     expect("udp/1001 dropped by its rule", &U1, XDP_DROP, SL_R_RULE,
		    id1);
	sl_config_free(&c);

	/* Replace udp/1002 under its id by another match: counters go. */
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	{
		char idbuf[16];

		snprintf(idbuf, sizeof(idbuf), "%u", id2);
		cfg_rule(&c, rule("drop", "id", idbuf, "proto", "udp", "dport",
				  "1003", NULL));
	}
	ok = ok && apply(&c, &rep) &&
	     ASSERT_EQ(rule_packets(id2), 0,
		       "a rule replaced under its id starts at zero");
	check_report("counters follow the rule, not the id", ok);
	sl_config_free(&c);
}

/* The hit counters of set entry p (dir, kind) as sl_set_list reads them;
 * ~0 when it is not listed. */
static uint64_t entry_packets(int kind, int dir, const char *p)
{
	struct sl_set_entry *v = NULL;
	struct sl_prefix want;
	uint64_t got = ~0ULL;
	char err[64];
	size_t n = 0;

	if (sl_prefix_parse(p, &want, err, sizeof(err)) ||
	    sl_set_list(&ctx, 0, &v, &n))
		return ~0ULL;
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == kind && v[i].dir == dir &&
		    v[i].prefix.family == want.family &&
		    v[i].prefix.plen == want.plen &&
		    !memcmp(v[i].prefix.addr, want.addr, 16))
			got = v[i].packets;
	free(v);
	return got;
}

/* An apply that changes a set keeps the hit counters of every entry that
 * stays (issue 8 defect 3); an entry that changes set (deny to allow)
 * starts at zero. The host hash and the trie both change here. */
static void test_set_counters_kept(void)
{
	static const struct pkt_spec D4 = {
	    .ethertype = ETH_P_IP, .proto = IPPROTO_UDP, .dport = 7};
	struct sl_apply_report rep;
	struct sl_config c;
	bool ok;

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_set(&c, SL_SET_DENY, SL_DIR_SRC, "198.18.0.1");
	cfg_set(&c, SL_SET_DENY, SL_DIR_DST, "198.19.0.0/16");
	cfg_set(&c, SL_SET_DENY, SL_DIR_SRC, "198.18.9.9");
	ok = apply(&c, &rep) &&
	     ASSERT_EQ(run_n(&D4, 3), XDP_DROP, "denied source dropped") &&
	     ASSERT_EQ(entry_packets(SL_SET_DENY, SL_DIR_SRC, "198.18.0.1"), 3,
		       "the host entry counted 3");
	sl_config_free(&c);

	/* Drop the source entry: the /16 destination entry decides now. */
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_set(&c, SL_SET_DENY, SL_DIR_DST, "198.19.0.0/16");
	cfg_set(&c, SL_SET_DENY, SL_DIR_SRC, "198.18.0.1");
	ok = ok && apply(&c, &rep);
	sl_config_free(&c);
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_set(&c, SL_SET_DENY, SL_DIR_DST, "198.19.0.0/16");
	cfg_set(&c, SL_SET_DENY, SL_DIR_SRC, "198.18.7.7");
	ok = ok && apply(&c, &rep) &&
	     ASSERT_EQ(run_n(&D4, 2), XDP_DROP, "denied destination dropped") &&
	     ASSERT_EQ(entry_packets(SL_SET_DENY, SL_DIR_DST, "198.19.0.0/16"),
		       2, "the /16 counted 2");
	sl_config_free(&c);

	/* New entries in both maps: the /16 keeps its 2. */
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_set(&c, SL_SET_DENY, SL_DIR_DST, "198.19.0.0/16");
	cfg_set(&c, SL_SET_DENY, SL_DIR_DST, "198.18.128.0/17");
	cfg_set(&c, SL_SET_DENY, SL_DIR_SRC, "198.18.7.7");
	cfg_set(&c, SL_SET_DENY, SL_DIR_SRC, "198.18.7.8");
	ok =
	    ok && apply(&c, &rep) &&
	    ASSERT_EQ(entry_packets(SL_SET_DENY, SL_DIR_DST, "198.19.0.0/16"),
		      2, "the /16 kept its 2 packets across the apply") &&
	    ASSERT_EQ(entry_packets(SL_SET_DENY, SL_DIR_DST, "198.18.128.0/17"),
		      0, "the new /17 starts at zero");
	sl_config_free(&c);

	/* The /16 moves to the allow set: a new entry, from zero. */
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_set(&c, SL_SET_ALLOW, SL_DIR_DST, "198.19.0.0/16");
	cfg_set(&c, SL_SET_DENY, SL_DIR_DST, "198.18.128.0/17");
	ok = ok && apply(&c, &rep) &&
	     ASSERT_EQ(entry_packets(SL_SET_ALLOW, SL_DIR_DST, "198.19.0.0/16"),
		       0, "an entry that changed set starts at zero");
	sl_config_free(&c);
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	ok = ok && apply(&c, &rep);
	check_report(
	    "apply keeps the hit counters of the set entries that stay", ok);
	sl_config_free(&c);
}

/* ---- the switch under load ---- */

static atomic_int phase; /* even: config phase/2 % 2 stable; odd: switching */
static atomic_bool stop;
static atomic_ulong n_mixed, n_wrong, n_runs, n_f1_drop;

/* Config A: F2's source in the allow set (F2 passes, reason allow-set),
 * F3 (tcp/7003) passed by rule 41. Config B: no set entry, F2 passed by
 * rule 42, F3 dropped by rule 43. A drops F2 with rule 44, which its allow
 * set hides: a packet that saw B's sets with A's rules would be dropped
 * and counted by rule 44. B keeps id 44 (on a rule nothing matches), so
 * its counter is never reset and must stay 0. F1 (udp/5001) passes in
 * both. */
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
		cfg_rule(c,
			 rule("drop", "id", "44", "src", "2001:db8:dead::/48",
			      "proto", "tcp", "dport", "7002", NULL));
	}
}

static void *classifier(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int p0 = atomic_load(&phase), v1, v2, v3, p1;

		v1 = run(&F1);
		/* Many runs per call (a test-run with repeat > 1 costs ~16
		 * ms to set up, then ~200 ns a run): the program, not the
		 * syscall, fills the time, so switches land inside
		 * classifications; rule 44's counter sees any mixed one. */
		v2 = run_n(&F2, 100000);
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

/* Kernel memory (bytes_memlock) of the rule counters: the map and, when it
 * is an array of maps, the maps in its slots; *chunks: those maps. */
static long long memlock_of(int fd)
{
	char path[64], line[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static long long rule_counter_bytes(int *chunks)
{
	int outer = sl_map_fd(&ctx, SL_MAP_RULE_STATS);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), id;
	long long sum;

	*chunks = 0;
	if (outer < 0 || bpf_obj_get_info_by_fd(outer, &info, &len))
		return -1;
	sum = memlock_of(outer);
	if (info.type != BPF_MAP_TYPE_ARRAY_OF_MAPS)
		return sum;
	for (__u32 k = 0; k < info.max_entries; k++) {
		int fd;

		if (bpf_map_lookup_elem(outer, &k, &id))
			continue;
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			return -1;
		sum += memlock_of(fd);
		(*chunks)++;
		close(fd);
	}
	return sum;
}

/* The per-CPU rule counters take memory for the rule ids in use, not for
 * SL_RULE_MAX; a rule's counter stays exact when ids far from it come and
 * go. */
/* The stored digest of the running sets: an apply whose sets are the same
 * keeps them without reading them back; a CLI verb that changes the sets
 * in place clears it first, so the next apply reads and rebuilds. */
static void test_sets_digest(void)
{
	static const struct pkt_spec S = {.ethertype = ETH_P_IP,
					  .proto = IPPROTO_UDP};
	struct sl_apply_report rep;
	struct sl_cfg_rec rec;
	struct sl_config c, d;
	struct sl_prefix p;
	struct sl_set_entry *e = NULL;
	char msg[64];
	size_t n = 0;
	bool ok;

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_set(&c, SL_SET_DENY, SL_DIR_DST, "198.19.128.0/17");
	cfg_set(&c, SL_SET_DENY, SL_DIR_SRC, "198.18.7.7");
	cfg_init(&d, SL_ACT_PASS, SL_ACT_PASS);
	cfg_set(&d, SL_SET_DENY, SL_DIR_SRC, "198.18.7.7");
	cfg_set(&d, SL_SET_DENY, SL_DIR_DST, "198.19.128.0/17");
	ok = ASSERT_TRUE(sl_sets_digest(c.sets, c.n_sets) ==
			     sl_sets_digest(d.sets, d.n_sets),
			 "the digest depends on the order") &&
	     ASSERT_TRUE(sl_sets_digest(c.sets, 1) !=
			     sl_sets_digest(c.sets, c.n_sets),
			 "one entry less, the same digest");
	sl_config_free(&d);
	ok = ok && apply(&c, &rep) &&
	     ASSERT_EQ(sl_cfg_rec_get(&ctx, &rec), 0, "config record") &&
	     ASSERT_TRUE(rec.sets_digest == sl_sets_digest(c.sets, c.n_sets),
			 "stored digest");
	ok = ok && apply(&c, &rep) &&
	     ASSERT_TRUE(rep.unchanged, "the same sets again: not unchanged");
	/* A verb's in-place add: the digest goes, the next apply rebuilds
	 * without the entry. */
	sl_prefix_parse("198.18.0.0/24", &p, msg, sizeof(msg));
	ok = ok &&
	     ASSERT_EQ(sl_set_add(&ctx, SL_SET_DENY, SL_DIR_SRC, &p, 1, NULL),
		       0, "sl_set_add") &&
	     ASSERT_EQ(sl_cfg_rec_get(&ctx, &rec), 0, "config record") &&
	     ASSERT_TRUE(rec.sets_digest == 0, "digest kept after an "
					       "in-place add") &&
	     expect("in-place entry drops", &S, XDP_DROP, SL_R_DENY_SET, 0) &&
	     apply(&c, &rep) &&
	     ASSERT_TRUE(!rep.unchanged, "apply after an in-place add was a "
					 "no-op") &&
	     expect("the file's sets again: passed", &S, XDP_PASS, SL_R_PASS,
		    0) &&
	     ASSERT_EQ(sl_set_list(&ctx, 0, &e, &n), 0, "list") &&
	     ASSERT_EQ(n, 2, "entries after the apply") &&
	     ASSERT_EQ(sl_cfg_rec_get(&ctx, &rec), 0, "config record") &&
	     ASSERT_TRUE(rec.sets_digest == sl_sets_digest(c.sets, c.n_sets),
			 "digest stored again");
	free(e);
	sl_config_free(&c);
	check_report("sets digest: same sets kept unread, in-place changes "
		     "read back",
		     ok);
}

static void test_rule_counter_memory(void)
{
	static const struct pkt_spec U1 = {
	    .ethertype = ETH_P_IP, .proto = IPPROTO_UDP, .dport = 1001};
	static const struct pkt_spec U2 = {
	    .ethertype = ETH_P_IP, .proto = IPPROTO_UDP, .dport = 1002};
	long long one_chunk = (long long)SL_RULE_CHUNK * 16 *
			      libbpf_num_possible_cpus(),
		  b1, b2, b3;
	struct sl_apply_report rep;
	struct sl_config c;
	int n1 = 0, n2 = 0, n3 = 0;
	bool ok;

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(
	    &c, rule("drop", "id", "3", "proto", "udp", "dport", "1001", NULL));
	ok = apply(&c, &rep) && ASSERT_EQ(run_n(&U1, 3), XDP_DROP, "udp/1001");
	b1 = rule_counter_bytes(&n1);
	ok = ok && ASSERT_EQ(rule_packets(3), 3, "rule 3 counted 3") &&
	     ASSERT_TRUE(b1 > 0 && b1 <= 2 * one_chunk,
			 "one rule: rule counters take %lld bytes, want at "
			 "most %lld",
			 b1, 2 * one_chunk) &&
	     ASSERT_EQ(n1, 1, "one rule: counter chunks");
	cfg_rule(&c, rule("drop", "id", "5000", "proto", "udp", "dport", "1002",
			  NULL));
	ok = ok && apply(&c, &rep) &&
	     ASSERT_EQ(run_n(&U2, 2), XDP_DROP, "udp/1002");
	b2 = rule_counter_bytes(&n2);
	ok = ok && ASSERT_EQ(n2, 2, "ids 3 and 5000: counter chunks") &&
	     ASSERT_TRUE(b2 > b1 && b2 <= 3 * one_chunk,
			 "ids 3 and 5000: %lld bytes (one id: %lld)", b2, b1) &&
	     ASSERT_EQ(rule_packets(3), 3, "rule 3 kept its 3 packets") &&
	     ASSERT_EQ(rule_packets(5000), 2, "rule 5000 counted 2");
	sl_config_free(&c);
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	cfg_rule(
	    &c, rule("drop", "id", "3", "proto", "udp", "dport", "1001", NULL));
	ok = ok && apply(&c, &rep) &&
	     ASSERT_EQ(run_n(&U1, 1), XDP_DROP, "udp/1001 again");
	b3 = rule_counter_bytes(&n3);
	ok = ok && ASSERT_EQ(n3, 1, "id 5000 gone: counter chunks") &&
	     ASSERT_EQ(b3, b1, "id 5000 gone: bytes as with one rule") &&
	     ASSERT_EQ(rule_packets(3), 4, "rule 3 counted on, exactly");
	check_report("rule counters take memory for the ids in use", ok);
	sl_config_free(&c);
}

/* The capacity of the map of set map `name` in the running slot. */
static long long set_map_max(const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = sl_map_fd(&ctx, name);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return -1;
	return info.max_entries;
}

/* Capacities from the config (limits): new maps take them; changing one
 * keeps every entry and its counters; one too small for the entries, or
 * for the rules, is refused and changes nothing. */
static void test_limits(void)
{
	static const struct pkt_spec H = {
	    .ethertype = ETH_P_IP, .proto = IPPROTO_UDP, .src = "198.18.0.7"};
	struct sl_apply_report rep;
	struct sl_config c;
	bool ok;

	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	c.limits.hosts = 4096;
	c.limits.prefixes = 2048;
	cfg_set(&c, SL_SET_DENY, SL_DIR_SRC, "198.18.0.7/32");
	cfg_set(&c, SL_SET_DENY, SL_DIR_SRC, "198.18.9.0/24");
	ok = apply(&c, &rep) &&
	     ASSERT_EQ(set_map_max(SL_MAP_HOST_SRC_V4), 4096,
		       "host map capacity") &&
	     ASSERT_EQ(set_map_max(SL_MAP_SET_SRC_V4), 2048,
		       "prefix map capacity") &&
	     ASSERT_EQ(run(&H), XDP_DROP, "denied host dropped") &&
	     ASSERT_EQ(entry_packets(SL_SET_DENY, SL_DIR_SRC, "198.18.0.7/32"),
		       1, "entry counted 1");
	c.limits.hosts = 8192;
	ok = ok && apply(&c, &rep) &&
	     ASSERT_TRUE(!rep.unchanged, "a capacity change is a change") &&
	     ASSERT_EQ(set_map_max(SL_MAP_HOST_SRC_V4), 8192,
		       "host map capacity raised") &&
	     ASSERT_EQ(set_map_max(SL_MAP_SET_SRC_V4), 2048,
		       "prefix map capacity kept") &&
	     ASSERT_EQ(entry_packets(SL_SET_DENY, SL_DIR_SRC, "198.18.0.7/32"),
		       1, "the entry and its counter kept") &&
	     ASSERT_EQ(run(&H), XDP_DROP, "still dropped") &&
	     ASSERT_EQ(entry_packets(SL_SET_DENY, SL_DIR_SRC, "198.18.0.7/32"),
		       2, "entry counted 2");
	ok = ok && apply(&c, &rep) &&
	     ASSERT_TRUE(rep.unchanged, "the same capacities: unchanged");
	sl_config_free(&c);

	/* Too small for the entries: refused, nothing changes. */
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	c.limits.hosts = 1024;
	c.limits.prefixes = 2048;
	for (int i = 0; i < 1100; i++) {
		char p[32];

		snprintf(p, sizeof(p), "198.19.%d.%d/32", i / 256, i % 256);
		cfg_set(&c, SL_SET_DENY, SL_DIR_SRC, p);
	}
	ok = ok &&
	     ASSERT_EQ(sl_apply(&ctx, &c, 0, &rep), -EINVAL,
		       "1100 hosts in 1024") &&
	     ASSERT_EQ(set_map_max(SL_MAP_HOST_SRC_V4), 8192,
		       "capacity unchanged") &&
	     ASSERT_EQ(entry_packets(SL_SET_DENY, SL_DIR_SRC, "198.18.0.7/32"),
		       2, "entry unchanged");
	sl_config_free(&c);

	/* More rules than the limit: refused. */
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	c.limits.rules = 1;
	cfg_rule(&c, rule("drop", "proto", "udp", "dport", "1", NULL));
	cfg_rule(&c, rule("drop", "proto", "udp", "dport", "2", NULL));
	ok = ok && ASSERT_EQ(sl_apply(&ctx, &c, 0, &rep), -EINVAL,
			     "2 rules with limits: rules: 1");
	sl_config_free(&c);

	/* Back to the defaults (no limits). */
	cfg_init(&c, SL_ACT_PASS, SL_ACT_PASS);
	ok = ok && apply(&c, &rep);
	sl_config_free(&c);
	check_report("limits: capacities from the config, changed at apply "
		     "without losing an entry",
		     ok);
}

static void test_switch_under_load(void)
{
	int n = getenv("SLUICE_SWAPS") ? atoi(getenv("SLUICE_SWAPS")) : 200;
	struct sl_config a, b;
	pthread_t t;
	uint64_t mixed0;
	bool ok = true;
	int i;

	build_ab(&a, true);
	build_ab(&b, false);
	ok = ASSERT_EQ(sl_apply(&ctx, &a, 0, NULL), 0, "apply A");
	/* Id 44 may carry counts from an earlier test's rule set. */
	mixed0 = rule_packets(44);
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
	     ASSERT_EQ(rule_packets(44) - mixed0, 0,
		       "rule 44 counted F2: halves of two configs") &&
	     ASSERT_EQ(n_wrong, 0, "F3 verdict of the config not running");
	check_report("atomic switch: alternating two configs under load", ok);
	sl_config_free(&a);
	sl_config_free(&b);
}

/* ---- differential: the real program against the linear oracle ---- */

/* Turns a generated packet into a frame the test-run can carry and the key
 * the datapath will see for it: ingress on lo (ifindex 1), no VLAN tag; ports,
 * ICMP and TCP flags only where the protocol has them. Returns false for
 * frames the builder cannot make. */
static bool diff_frame(struct sl_gen_pkt *g, struct pkt_spec *s, char *src,
		       char *dst, uint32_t key[SL_DIM_MAX], uint8_t *flags)
{
	uint32_t l3 = g->key[SL_DIM_L3];
	bool v6 = l3 == SL_L3_IPV6;

	memset(s, 0, sizeof(*s));
	memset(key, 0, SL_DIM_MAX * sizeof(key[0]));
	*flags = 0;
	key[SL_DIM_DIR] = SL_RDIR_IN;
	key[SL_DIM_L3] = l3;
	/* An XDP test-run receives on the namespace's loopback device. */
	key[SL_DIM_IFINDEX] = 1;
	if (l3 == SL_L3_ARP || l3 == SL_L3_OTHER) {
		s->ethertype = l3 == SL_L3_ARP ? ETH_P_ARP : 0x88b5;
		return true;
	}
	sl_gen_pkt_fields(g);
	/* An IPv6 extension header number as the protocol would make the
	 * builder's frame a (malformed) extension chain. */
	if (v6 &&
	    (g->proto == IPPROTO_HOPOPTS || g->proto == IPPROTO_ROUTING ||
	     g->proto == IPPROTO_FRAGMENT || g->proto == IPPROTO_DSTOPTS ||
	     g->proto == IPPROTO_AH || g->proto == IPPROTO_NONE))
		return false;
	s->ethertype = v6 ? ETH_P_IPV6 : ETH_P_IP;
	inet_ntop(v6 ? AF_INET6 : AF_INET, g->src, src, INET6_ADDRSTRLEN);
	inet_ntop(v6 ? AF_INET6 : AF_INET, g->dst, dst, INET6_ADDRSTRLEN);
	s->src = src;
	s->dst = dst;
	/* IPv4 is word 3 alone; generated keys may carry junk above it. */
	for (int i = v6 ? 0 : 3; i < 4; i++) {
		key[SL_DIM_SRC0 + i] = g->key[SL_DIM_SRC0 + i];
		key[SL_DIM_DST0 + i] = g->key[SL_DIM_DST0 + i];
	}
	s->proto = g->proto;
	key[SL_DIM_PROTO] = g->proto;
	switch (g->proto) {
	case IPPROTO_TCP:
		/* The builder sends ACK for "no flags". */
		s->tcp_flags = g->tcp_flags ? g->tcp_flags : 0x10;
		*flags = s->tcp_flags;
		/* fall through */
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		/* Port 0 means "default" to the builder. */
		s->sport = g->sport ? g->sport : 1;
		s->dport = g->dport ? g->dport : 1;
		key[SL_DIM_SPORT] = s->sport;
		key[SL_DIM_DPORT] = s->dport;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((g->proto == IPPROTO_ICMPV6) != v6)
			break; /* the other family's ICMP: just a protocol */
		/* Type 0 means "echo request" to the builder. */
		s->icmp_type = g->icmp_type ? g->icmp_type : (v6 ? 128 : 8);
		s->icmp_code = g->icmp_code;
		key[SL_DIM_ICMP] = (uint32_t)s->icmp_type << 8 | s->icmp_code;
		break;
	}
	return true;
}

static uint64_t reason_packets(int reason, int action)
{
	return stat_of(reason, action).packets;
}

/* The packet's source and destination address are the same (land). */
static bool land_key(const uint32_t key[SL_DIM_MAX])
{
	for (int i = 0; i < 4; i++)
		if (key[SL_DIM_SRC0 + i] != key[SL_DIM_DST0 + i])
			return false;
	return true;
}

static bool diff_one(const struct sl_config *c, struct sl_gen_pkt *g,
		     int *n_drop, int *n_rule, int *n_abusive)
{
	uint32_t key[SL_DIM_MAX], counts[SL_COUNT_HITS_MAX], want_id;
	uint64_t before[1 + SL_COUNT_HITS_MAX], pol_before = 0;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int want_v = XDP_PASS, pol_reason = SL_R_PASS, pol_act = SL_ACT_PASS;
	size_t nc = 0;
	struct pkt_spec s;
	uint8_t flags;
	int v, abusive;

	if (!diff_frame(g, &s, src, dst, key, &flags))
		return true;
	want_id = sl_cls_oracle(c->rules, c->n_rules, key, flags, counts, &nc);
	abusive = key[SL_DIM_L3] < SL_L3_IPV4	     ? SL_R_PASS
		  : land_key(key)		     ? SL_R_LAND
		  : key[SL_DIM_PROTO] == IPPROTO_TCP ? pkt_tcp_abusive(flags)
						     : SL_R_PASS;
	if (abusive != SL_R_PASS) {
		/* Abusive packets drop before the rules (malformed stage). */
		(*n_abusive)++;
		want_id = 0;
		nc = 0;
		want_v = XDP_DROP;
		pol_reason = abusive;
		pol_act = SL_ACT_DROP;
	} else if (want_id) {
		for (size_t i = 0; i < c->n_rules; i++)
			if (c->rules[i].id == want_id &&
			    c->rules[i].action == SL_RACT_DROP)
				want_v = XDP_DROP;
	} else if (key[SL_DIM_L3] >= SL_L3_IPV4 &&
		   c->policy[SL_RDIR_IN] == SL_ACT_DROP) {
		want_v = XDP_DROP;
		pol_reason = SL_R_POLICY;
		pol_act = SL_ACT_DROP;
	} else if (key[SL_DIM_L3] < SL_L3_IPV4) {
		pol_reason = SL_R_NON_IP;
	}
	before[0] = want_id ? rule_packets(want_id) : 0;
	for (size_t i = 0; i < nc; i++)
		before[1 + i] = rule_packets(counts[i]);
	if (!want_id)
		pol_before = reason_packets(pol_reason, pol_act);
	v = run(&s);
	if (!ASSERT_EQ(v, want_v, "verdict against the oracle"))
		goto why;
	if (want_id && !ASSERT_EQ(rule_packets(want_id) - before[0], 1,
				  "the oracle's rule counted the packet"))
		goto why;
	if (!want_id &&
	    !ASSERT_EQ(reason_packets(pol_reason, pol_act) - pol_before, 1,
		       "no rule matched: policy/pass/non-ip/abusive counted"))
		goto why;
	for (size_t i = 0; i < nc; i++)
		if (!ASSERT_EQ(rule_packets(counts[i]) - before[1 + i], 1,
			       "a count rule before the winner counted"))
			goto why;
	*n_drop += v == XDP_DROP;
	*n_rule += want_id != 0;
	return true;
why:
	fprintf(stderr,
		"# packet: l3 %u proto %u %s -> %s sport %u dport %u icmp %#x "
		"flags %#x; oracle rule %u, %zu count hits\n",
		key[SL_DIM_L3], key[SL_DIM_PROTO], src, dst, key[SL_DIM_SPORT],
		key[SL_DIM_DPORT], key[SL_DIM_ICMP], flags, want_id, nc);
	{
		const void *blob = sl_blob_map(&ctx);
		int act = -1;
		uint32_t got =
		    blob ? sl_cls_lookup(blob, key, flags, &act, NULL, NULL)
			 : 0;
		char buf[512];

		fprintf(stderr,
			"# user-space walk of the running blob: rule %u\n",
			got);
		for (size_t i = 0; i < c->n_rules; i++)
			if (c->rules[i].id == got) {
				sl_rule_format(&c->rules[i], buf, sizeof(buf));
				fprintf(stderr, "#   %s\n", buf);
			}
		sl_blob_unmap(blob);
	}
	{
		struct sl_counter a[SL_STATS_MAX], b[SL_STATS_MAX];

		struct sl_counter *ra = calloc(c->n_rules, sizeof(*ra));
		struct sl_counter *rb = calloc(c->n_rules, sizeof(*rb));
		char buf[512];

		sl_rule_stats_read(&ctx, c->rules, c->n_rules, ra);
		sl_stats_read(&ctx, a);
		v = run(&s);
		sl_stats_read(&ctx, b);
		sl_rule_stats_read(&ctx, c->rules, c->n_rules, rb);
		for (size_t i = 0; i < c->n_rules; i++)
			if (ra[i].packets != rb[i].packets) {
				uint32_t lo[SL_DIM_MAX], hi[SL_DIM_MAX];

				sl_rule_format(&c->rules[i], buf, sizeof(buf));
				fprintf(stderr, "# rerun counted: %s\n", buf);
				sl_rule_box(&c->rules[i], lo, hi);
				for (int d = 0; d < SL_DIM_MAX; d++)
					if (key[d] < lo[d] || key[d] > hi[d])
						fprintf(stderr,
							"#   dim %d: key %#x "
							"outside %#x..%#x\n",
							d, key[d], lo[d],
							hi[d]);
				fprintf(stderr, "#   tcp mask %#x value %#x\n",
					c->rules[i].tcp_mask,
					c->rules[i].tcp_flags);
			}
		free(ra);
		free(rb);
		for (int i = 0; i < SL_STATS_MAX; i++)
			if (b[i].packets != a[i].packets)
				fprintf(
				    stderr,
				    "# rerun: verdict %d, counter reason %d "
				    "action %d moved\n",
				    v, i / SL_STATS_ACTIONS,
				    i % SL_STATS_ACTIONS);
	}
	return false;
}

static void test_differential(void)
{
	static const size_t sizes[] = {1, 10, 100, 1000, 10000};
	uint64_t seed = getenv("SLUICE_FUZZ_SEED")
			    ? strtoull(getenv("SLUICE_FUZZ_SEED"), NULL, 0)
			    : 20261123;
	int per = getenv("SLUICE_DIFF_PKTS") ? atoi(getenv("SLUICE_DIFF_PKTS"))
					     : 1500;

	printf("# differential seed %llu (SLUICE_FUZZ_SEED), %d packets per "
	       "rule set\n",
	       (unsigned long long)seed, per);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		struct sl_gen_opts o;
		struct sl_gen_pkt *late;
		struct sl_config c;
		struct sl_rng g;
		int drops = 0, hits = 0, abusive = 0, i;
		char name[192];
		bool ok = true;

		sl_gen_opts_default(&o, seed + n);
		cfg_init(&c, (seed + n) & 1 ? SL_ACT_DROP : SL_ACT_PASS,
			 SL_ACT_PASS);
		c.rules = calloc(n, sizeof(*c.rules));
		c.n_rules = n;
		late = calloc(per, sizeof(*late));
		if (!c.rules || !late || sl_gen_rules(c.rules, n, &o)) {
			check_report("differential: generate", false);
			free(late);
			sl_config_free(&c);
			return;
		}
		/* Interfaces of the generator's profile are not on this host:
		 * the test-run's ifindex is 0 anyway. */
		for (size_t r = 0; r < n; r++)
			c.rules[r].iface[0] = '\0';
		ok = ASSERT_EQ(sl_apply(&ctx, &c, 0, NULL), 0, "apply");
		/* sl_apply sorted the rules into evaluation order. */
		sl_gen_pkts_late(c.rules, n, per / 3, seed + n, late);
		sl_rng_seed(&g, seed ^ n);
		for (i = 0; ok && i < per; i++) {
			struct sl_gen_pkt p;

			if (i < per / 3)
				p = late[i];
			else if (i < 2 * per / 3)
				sl_gen_pkt_random(&g, &p);
			else if (i % 2)
				sl_gen_pkt_in(
				    &c.rules[sl_rng_range(&g, 0, n - 1)], &g,
				    &p);
			else
				sl_gen_pkt_edge(
				    &c.rules[sl_rng_range(&g, 0, n - 1)], &g,
				    &p);
			ok = diff_one(&c, &p, &drops, &hits, &abusive);
		}
		snprintf(name, sizeof(name),
			 "differential: %zu rules, %d packets (%d decided by "
			 "a rule, %d dropped, %d of them abusive) equal the "
			 "oracle",
			 n, i, hits, drops, abusive);
		/* (abusive TCP and land packets never reach the rules) */
		ok = ok && ASSERT_TRUE(hits > (i - abusive) / 8,
				       "too few rule matches: %d of %d", hits,
				       i - abusive);
		check_report(name, ok);
		free(late);
		sl_config_free(&c);
	}
}

int main(void)
{
	sl_log_hook_libbpf();
	if (sl_check_privileges()) {
		printf("not ok - test_apply: needs root\n");
		return 1;
	}
	skel = sl_xdp_load(NULL, NULL, SL_PROG_ALL);
	if (!skel) {
		printf("not ok - test_apply: cannot load the XDP program\n");
		return 1;
	}
	sl_ctx_wrap(&ctx, skel);
	prog = sl_xdp_prog_fd(skel);
	prog_tc_in = sl_prog_fd(skel, SL_PROG_TC_IN);
	prog_tc_out = sl_prog_fd(skel, SL_PROG_TC_OUT);

	test_rules_basic();
	test_policy_and_sets();
	test_failed_apply_untouched();
	test_redirect();
	test_mac();
	test_noop_and_ids();
	test_counters_follow_rules();
	test_set_counters_kept();
	test_sets_digest();
	test_rule_counter_memory();
	test_limits();
	test_differential();
	test_switch_under_load();

	sl_close(&ctx);
	sl_xdp_destroy(skel);
	return check_failed ? 1 : 0;
}
