// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_tc: the TC programs (sluice_tc_in, sluice_tc_out), run on crafted
 * frames through bpf_prog_test_run_opts (BPF_PROG_TYPE_SCHED_CLS: the frame
 * is given from its Ethernet header, as cls_bpf sees it). Each case checks
 * the TC verdict, that exactly one counter cell moved by one packet and the
 * frame's length, and which set entry counted the hit: the sets are
 * consulted at ingress only. Every frame of the XDP cases' kinds also gets
 * the same verdict and reason from XDP and TC ingress. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "names.h"
#include "pkt.h"
#include "setdef.h"
#include "skelmaps.h"
#include "sluice.h"
/* After sluice.h: the skeleton names struct sl_features. */
#include "sluice_xdp.skel.h"

/* One loaded object with its private maps. envs[0]: the default features;
 * envs[1]: drop_malformed=0. */
struct env {
	struct sluice_xdp *skel;
	struct sl_ctx ctx;
	int prog_xdp, prog_in, prog_out, stats_fd;
};
static struct env envs[2];
static int prog_xdp, prog_in, prog_out, stats_fd;

enum hook { IN, OUT };

struct tc_case {
	const char *name;
	enum hook hook;
	struct pkt_spec pkt;
	struct set_def set; /* kind 0: no entry */
	bool hit;	    /* the entry counts the frame */
	int verdict;	    /* TC_ACT_OK or TC_ACT_SHOT */
	int reason;
	bool keep_malformed; /* load with drop_malformed=0 */
};

#define KEEP .keep_malformed = true
#define EXT9                                                                   \
	.n_ext = 9, .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, \
			    IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, \
			    IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS}

#define EXPECT(v, r) .verdict = TC_ACT_##v, .reason = SL_R_##r

static const struct tc_case cases[] = {
    {"tc ingress: ipv4 tcp passes", IN, V4(TCP, .payload = 10),
     EXPECT(OK, PASS)},
    {"tc egress: ipv4 tcp passes", OUT, V4(TCP, .payload = 10),
     EXPECT(OK, PASS)},
    {"tc ingress: ipv6 udp passes", IN, V6(UDP, .payload = 10),
     EXPECT(OK, PASS)},
    {"tc egress: ipv6 icmpv6 passes", OUT, V6(ICMP6, .payload = 56),
     EXPECT(OK, PASS)},
    {"tc ingress: 802.1Q ipv4 in the frame passes", IN,
     V4(.vlan = {0x8100}, UDP), EXPECT(OK, PASS)},
    {"tc ingress: arp is non-ip",
     IN,
     {.ethertype = ETH_P_ARP},
     EXPECT(OK, NON_IP)},
    {"tc egress: arp is non-ip",
     OUT,
     {.ethertype = ETH_P_ARP},
     EXPECT(OK, NON_IP)},
    {"tc ingress: ipv4 ihl 4 is malformed-l3", IN, V4(TCP, .ihl = 4),
     EXPECT(SHOT, MALFORMED_L3)},
    {"tc egress: ipv4 ihl 4 is malformed-l3", OUT, V4(TCP, .ihl = 4),
     EXPECT(SHOT, MALFORMED_L3)},
    {"tc ingress: ipv4 tot_len past the frame is malformed-l3", IN,
     V4(UDP, .ip_len = 200), EXPECT(SHOT, MALFORMED_L3)},
    {"tc egress: ipv6 payload_len past the frame is malformed-l3", OUT,
     V6(UDP, .ip_len = 300), EXPECT(SHOT, MALFORMED_L3)},
    {"tc ingress: truncated tcp header is malformed-l4", IN, V4(TCP, .cut = 8),
     EXPECT(SHOT, MALFORMED_L4)},
    {"tc ingress: ipv4 with ethernet padding passes", IN, V4(UDP, .pad = 18),
     EXPECT(OK, PASS)},
    /* The sets: ingress only. PKT_SRC4 is 198.18.0.1, PKT_DST4
     * 198.19.0.1. */
    {"tc ingress: deny src 198.18.0.0/24 drops", IN, V4(ICMP),
     DENY(SRC, "198.18.0.0/24"), true, EXPECT(SHOT, DENY_SET)},
    {"tc egress: deny src 198.18.0.0/24 is not consulted", OUT, V4(ICMP),
     DENY(SRC, "198.18.0.0/24"), false, EXPECT(OK, PASS)},
    {"tc ingress: deny dst 198.19.0.1 drops", IN, V4(TCP),
     DENY(DST, "198.19.0.1"), true, EXPECT(SHOT, DENY_SET)},
    {"tc egress: deny dst 198.19.0.1 is not consulted", OUT, V4(TCP),
     DENY(DST, "198.19.0.1"), false, EXPECT(OK, PASS)},
    {"tc ingress: deny src 2001:db8:1::/48 drops ipv6", IN, V6(TCP),
     DENY(SRC, "2001:db8:1::/48"), true, EXPECT(SHOT, DENY_SET)},
    {"tc egress: deny src 2001:db8:1::/48 is not consulted", OUT, V6(TCP),
     DENY(SRC, "2001:db8:1::/48"), false, EXPECT(OK, PASS)},
    {"tc ingress: allow src 198.18.0.1 is allow-set", IN, V4(UDP),
     ALLOW(SRC, "198.18.0.1"), true, EXPECT(OK, ALLOW_SET)},
    {"tc egress: allow src 198.18.0.1 is not consulted", OUT, V4(UDP),
     ALLOW(SRC, "198.18.0.1"), false, EXPECT(OK, PASS)},
    /* drop_malformed=0: a malformed frame whose addresses could be read
     * still meets the sets at ingress (no way around the deny set). */
    {"tc ingress, no drop_malformed: ipv6 chain of 9 from a denied source "
     "drops",
     IN, V6(EXT9, UDP), DENY(SRC, "2001:db8:1::1"), true,
     EXPECT(SHOT, DENY_SET), KEEP},
    {"tc ingress, no drop_malformed: ipv6 chain of 9 from an unlisted "
     "source passes as malformed-l3",
     IN, V6(EXT9, UDP), DENY(SRC, "2001:db8:7::/48"), false,
     EXPECT(OK, MALFORMED_L3), KEEP},
    {"tc ingress, no drop_malformed: ipv4 ihl 4 from a denied source drops", IN,
     V4(TCP, .ihl = 4), DENY(SRC, "198.18.0.0/24"), true,
     EXPECT(SHOT, DENY_SET), KEEP},
    {"tc ingress, no drop_malformed: ipv6 truncated tcp to a denied "
     "destination drops",
     IN, V6(TCP, .cut = 1), DENY(DST, "2001:db8:2::1"), true,
     EXPECT(SHOT, DENY_SET), KEEP},
    {"tc egress, no drop_malformed: ipv6 chain of 9 passes as malformed-l3 "
     "(sets are ingress only)",
     OUT, V6(EXT9, UDP), DENY(SRC, "2001:db8:1::1"), false,
     EXPECT(OK, MALFORMED_L3), KEEP},
    {"tc ingress: ipv6 chain of 9 from a denied source drops as "
     "malformed-l3",
     IN, V6(EXT9, UDP), DENY(SRC, "2001:db8:1::1"), false,
     EXPECT(SHOT, MALFORMED_L3)},
};

static const char *act_name(int v)
{
	return pkt_tc_name(v);
}

/* The hook (enum sl_hook_id) of a program of envs. */
static int hook_of(int prog)
{
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++)
		if (prog == envs[i].prog_out)
			return SL_HK_TC_OUT;
		else if (prog == envs[i].prog_in)
			return SL_HK_TC_IN;
	return SL_HK_XDP;
}

/* Runs f through prog; checks the return code (any TC code), the counters
 * (one cell (prog's hook, reason, action) +1/+len, no other cell of any
 * hook; action says which Sluice action a shared code stands for:
 * TC_ACT_SHOT is drop or abort, TC_ACT_REDIRECT tx or redirect) and the
 * output frame byte by byte against want (NULL: the input). */
static bool run_out(int prog, const uint8_t *f, size_t len, int verdict,
		    int reason, int action, const uint8_t *want_f,
		    size_t want_len)
{
	struct skel_hstats b, a;
	uint8_t out[PKT_MAX + 256];
	char why[256], moved[512];
	int hook = hook_of(prog);
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (!ASSERT_EQ(skel_hstats_read(stats_fd, &b), 0, "read counters"))
		return false;
	err = bpf_prog_test_run_opts(prog, &o);
	if (!ASSERT_EQ(err, 0, "bpf_prog_test_run_opts") ||
	    !ASSERT_EQ(skel_hstats_read(stats_fd, &a), 0, "read counters"))
		return false;
	if (!ASSERT_TRUE(skel_stats_moved(&b, &a, hook, reason, action, len,
					  moved, sizeof(moved)),
			 "counted %s; want %s/%s/%s +1/+%zuB", moved,
			 sl_hook_name(hook), sl_reason_name(reason),
			 sl_action_name(action), len))
		return false;
	if (!want_f) {
		want_f = f;
		want_len = len;
	}
	return ASSERT_TRUE(o.retval == (__u32)verdict, "verdict %s, want %s",
			   act_name(o.retval), act_name(verdict)) &&
	       ASSERT_TRUE(pkt_same(out, o.data_size_out, want_f, want_len, why,
				    sizeof(why)),
			   "%s", why);
}

static bool run(int prog, const uint8_t *f, size_t len, int verdict, int reason,
		int action)
{
	return run_out(prog, f, len, verdict, reason, action, NULL, 0);
}

static bool entry_packets(struct sl_ctx *cx, const struct sl_prefix *p,
			  int kind, int dir, uint64_t *packets, uint64_t *bytes)
{
	struct sl_set_entry *v = NULL;
	size_t n = 0;
	bool found = false;

	if (sl_set_list(cx, kind, &v, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i].dir == dir && v[i].prefix.family == p->family &&
		    v[i].prefix.plen == p->plen &&
		    !memcmp(v[i].prefix.addr, p->addr, 16)) {
			*packets = v[i].packets;
			*bytes = v[i].bytes;
			found = true;
		}
	}
	free(v);
	return found;
}

static bool run_case(const struct tc_case *c)
{
	struct env *e = &envs[c->keep_malformed];
	struct sl_ctx *cx = &e->ctx;
	int action = c->verdict == TC_ACT_SHOT ? SL_ACT_DROP : SL_ACT_PASS;
	uint8_t f[PKT_MAX];
	struct pkt_off off;
	struct sl_prefix p;
	uint64_t pk = 0, by = 0;
	char err[128];
	bool ok;

	pkt_build(&c->pkt, f, &off);
	if (c->set.kind) {
		memset(&p, 0, sizeof(p));
		if (!ASSERT_EQ(
			sl_prefix_parse(c->set.prefix, &p, err, sizeof(err)), 0,
			c->set.prefix) ||
		    !ASSERT_EQ(
			sl_set_add(cx, c->set.kind, c->set.dir, &p, 1, NULL), 0,
			"add the set entry"))
			return false;
	}
	stats_fd = e->stats_fd;
	ok = run(c->hook == IN ? e->prog_in : e->prog_out, f, off.len,
		 c->verdict, c->reason, action);
	if (c->set.kind) {
		ok = ok && ASSERT_TRUE(entry_packets(cx, &p, c->set.kind,
						     c->set.dir, &pk, &by),
				       "entry %s not listed", c->set.prefix);
		ok = ok && ASSERT_TRUE(pk == (c->hit ? 1u : 0u) &&
					   by == (c->hit ? off.len : 0),
				       "entry %s counted +%llu/+%lluB, want %s",
				       c->set.prefix, (unsigned long long)pk,
				       (unsigned long long)by,
				       c->hit ? "the frame" : "nothing");
		ok = ASSERT_EQ(sl_set_del(cx, c->set.kind, c->set.dir, &p, 1),
			       0, "remove the set entry") &&
		     ok;
	}
	return ok;
}

/* XDP and TC ingress agree on every cut of a few frames: the same verdict
 * and the same reason (TC's reads from the Ethernet header on). */
static const struct pkt_spec agree_specs[] = {
    V4(TCP, .ip_opts = 4, .tcp_opts = 12, .payload = 6),
    V6(.n_ext = 1, .ext = {IPPROTO_HOPOPTS}, .ext_hlen = {1}, UDP,
       .payload = 4),
    V4(.vlan = {0x88a8, 0x8100}, ICMP, .payload = 8),
    {.vlan = {0x8100}, .ethertype = ETH_P_ARP},
};

static int counter_moved(const struct sl_counter *b, const struct sl_counter *a)
{
	for (int i = 0; i < SL_STATS_MAX; i++)
		if (a[i].packets != b[i].packets)
			return i;
	return -1;
}

static bool run_agree(const struct pkt_spec *s)
{
	uint8_t full[PKT_MAX], f[PKT_MAX];
	struct pkt_off off;
	size_t n = pkt_build(s, full, &off), tested = 0;

	for (size_t len = 14; len <= n; len++) {
		struct sl_counter b[SL_STATS_MAX], a[SL_STATS_MAX];
		__u32 rx = 0, rt = 0;
		int cx, ct;
		struct pkt_spec cut = *s;

		/* The IP length follows the cut. */
		cut.cut += n - len;
		pkt_build(&cut, f, NULL);
		for (int k = 0; k < 2; k++) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f,
				    .data_size_in = len, .repeat = 1);

			int err;

			sl_stats_read_fd(stats_fd, b);
			err =
			    bpf_prog_test_run_opts(k ? prog_in : prog_xdp, &o);
			/* The skb test run refuses an IP frame shorter than
			 * the IP header (the XDP one does not). */
			if (k && err == -EINVAL && len < off.l3 + 40)
				goto next;
			if (!ASSERT_TRUE(!err, "%s test run at %zu bytes: %d",
					 k ? "tc" : "xdp", len, err))
				return false;
			sl_stats_read_fd(stats_fd, a);
			*(k ? &rt : &rx) = o.retval;
			*(k ? &ct : &cx) = counter_moved(b, a);
		}
		if (!ASSERT_TRUE(cx == ct && cx >= 0 &&
				     (rx == XDP_DROP) == (rt == TC_ACT_SHOT),
				 "cut at %zu of %zu: xdp %s (%d), tc %s (%d)",
				 len, n, rx == XDP_DROP ? "drop" : "pass", cx,
				 act_name(rt), ct))
			return false;
		tested++;
	next:;
	}
	/* Only the cuts the skb test run refuses may be left out. */
	return ASSERT_TRUE(tested + off.l3 + 40 >= n + 1 || tested == n - 13,
			   "only %zu of %zu cuts ran", tested, n - 13);
}

/* One drop rule of each family and direction against frames of each
 * family at each hook. The rules stage skips a packet of a class
 * (direction, family) that no rule holds (sl_cls_hdr.classes): it must skip
 * exactly those. */
static bool run_classes(void)
{
	static const struct {
		const char *key, *value;
		unsigned fams; /* 1 IPv4, 2 IPv6, 4 ARP */
	} rules[] = {
	    {"proto", "udp", 1 | 2},
	    {"src", "198.18.0.0/15", 1},
	    {"src", "2001:db8::/32", 2},
	    {"proto", "arp", 4},
	};
	static const char *const dirs[] = {"in", "out", "both"};
	static const struct pkt_spec frames[] = {
	    V4(UDP, .payload = 4),
	    V6(UDP, .payload = 4),
	    {.ethertype = ETH_P_ARP},
	};
	struct sl_ctx *cx = &envs[0].ctx;
	struct sl_apply_report rep;
	struct sl_config none = {0};
	bool ok = true;

	stats_fd = envs[0].stats_fd;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		for (unsigned d = 0; d < 3; d++) {
			struct sl_config c = {0};
			struct sl_rule r;
			char err[256];

			sl_rule_init(&r);
			if (!ASSERT_TRUE(
				!sl_rule_set_field(&r, "action", "drop", err,
						   sizeof(err)) &&
				    !sl_rule_set_field(&r, "direction", dirs[d],
						       err, sizeof(err)) &&
				    !sl_rule_set_field(&r, rules[i].key,
						       rules[i].value, err,
						       sizeof(err)),
				"rule: %s", err))
				return false;
			r.id = 1;
			c.rules = &r;
			c.n_rules = 1;
			if (!ASSERT_TRUE(
				!sl_rule_validate(&r, err, sizeof(err)),
				"rule: %s", err) ||
			    !ASSERT_TRUE(!sl_apply(cx, &c, 0, &rep),
					 "apply %s %s direction %s",
					 rules[i].key, rules[i].value, dirs[d]))
				return false;
			for (unsigned f = 0; f < 3; f++) {
				uint8_t fr[PKT_MAX];
				struct pkt_off off;
				bool fam = rules[i].fams & (1U << f);
				bool in = fam && d != 1, out = fam && d != 0;
				int pass_r = f == 2 ? SL_R_NON_IP : SL_R_PASS;

				pkt_build(&frames[f], fr, &off);
				ok = ASSERT_TRUE(
					 run(prog_xdp, fr, off.len,
					     in ? XDP_DROP : XDP_PASS,
					     in ? SL_R_RULE : pass_r,
					     in ? SL_ACT_DROP : SL_ACT_PASS) &&
					     run(prog_in, fr, off.len,
						 in ? TC_ACT_SHOT : TC_ACT_OK,
						 in ? SL_R_RULE : pass_r,
						 in ? SL_ACT_DROP
						    : SL_ACT_PASS) &&
					     run(prog_out, fr, off.len,
						 out ? TC_ACT_SHOT : TC_ACT_OK,
						 out ? SL_R_RULE : pass_r,
						 out ? SL_ACT_DROP
						     : SL_ACT_PASS),
					 "rule %s %s direction %s, frame %u",
					 rules[i].key, rules[i].value, dirs[d],
					 f) &&
				     ok;
			}
		}
	}
	return ASSERT_EQ(sl_apply(cx, &none, 0, &rep), 0, "apply no rules") &&
	       ok;
}

/* A ratelimit rule at egress (direction out, with a ban): tc-out passes the
 * burst, then shoots as ratelimit, and bans nothing (bans are written at
 * ingress only); the ingress hooks do not meet the rule. */
static bool run_ratelimit_out(void)
{
	static const char *const kv[][2] = {
	    {"action", "ratelimit"}, {"direction", "out"}, {"rate", "1/s"},
	    {"burst", "2"},	     {"ban", "10m"},
	};
	struct sl_ctx *cx = &envs[0].ctx;
	struct sl_config c = {0}, none = {0};
	struct pkt_spec spec = V4(UDP, .payload = 4);
	int ban = sl_map_fd(cx, SL_MAP_BAN_V4);
	uint8_t fr[PKT_MAX];
	struct pkt_off off;
	struct sl_lpm_v4 k;
	struct sl_rule r;
	char err[256];
	bool ok = true;

	stats_fd = envs[0].stats_fd;
	sl_rule_init(&r);
	r.id = 1;
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		if (!ASSERT_EQ(sl_rule_set_field(&r, kv[i][0], kv[i][1], err,
						 sizeof(err)),
			       0, err))
			return false;
	c.rules = &r;
	c.n_rules = 1;
	if (!ASSERT_EQ(sl_rule_validate(&r, err, sizeof(err)), 0, err) ||
	    !ASSERT_EQ(sl_apply(cx, &c, 0, NULL), 0, "apply"))
		return false;
	pkt_build(&spec, fr, &off);
	for (int i = 0; ok && i < 4; i++)
		ok = ASSERT_TRUE(run(prog_in, fr, off.len, TC_ACT_OK, SL_R_PASS,
				     SL_ACT_PASS) &&
				     run(prog_out, fr, off.len,
					 i < 2 ? TC_ACT_OK : TC_ACT_SHOT,
					 i < 2 ? SL_R_RULE : SL_R_RATELIMIT,
					 i < 2 ? SL_ACT_PASS : SL_ACT_DROP),
				 "frame %d", i + 1);
	ok = ok && ASSERT_TRUE(bpf_map_get_next_key(ban, NULL, &k) == -ENOENT,
			       "a ban was written at egress");
	return ASSERT_EQ(sl_apply(cx, &none, 0, NULL), 0, "apply no rules") &&
	       ok;
}

int main(void)
{
	struct sl_features keep;
	size_t i;

	sl_log_hook_libbpf();
	if (sl_check_privileges()) {
		printf("not ok - test_tc: needs root\n");
		return 1;
	}
	sl_features_default(&keep);
	keep.drop_malformed = 0;
	for (i = 0; i < 2; i++) {
		struct env *e = &envs[i];

		e->skel = sl_xdp_load(NULL, i ? &keep : NULL, SL_PROG_ALL);
		if (!e->skel) {
			printf("not ok - test_tc: cannot load the programs: "
			       "%s\n",
			       strerror(errno));
			return 1;
		}
		sl_ctx_wrap(&e->ctx, e->skel);
		e->prog_xdp = sl_prog_fd(e->skel, SL_PROG_XDP);
		e->prog_in = sl_prog_fd(e->skel, SL_PROG_TC_IN);
		e->prog_out = sl_prog_fd(e->skel, SL_PROG_TC_OUT);
		e->stats_fd = sl_map_fd(&e->ctx, SL_MAP_STATS);
	}
	prog_xdp = envs[0].prog_xdp;
	prog_in = envs[0].prog_in;
	prog_out = envs[0].prog_out;
	stats_fd = envs[0].stats_fd;
	check_report("the object loads the xdp, tc-in and tc-out programs",
		     ASSERT_TRUE(prog_xdp >= 0 && prog_in >= 0 &&
				     prog_out >= 0 && stats_fd >= 0,
				 "fds %d %d %d %d", prog_xdp, prog_in, prog_out,
				 stats_fd));

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_report(cases[i].name, run_case(&cases[i]));
	stats_fd = envs[0].stats_fd;
	for (i = 0; i < sizeof(agree_specs) / sizeof(agree_specs[0]); i++) {
		char name[128];

		snprintf(name, sizeof(name),
			 "xdp and tc ingress agree on every cut of frame %zu",
			 i + 1);
		check_report(name, run_agree(&agree_specs[i]));
	}

	check_report("a rule of each family and direction meets exactly its "
		     "packets at every hook (rules skip only classes no rule "
		     "holds)",
		     run_classes());

	check_report("ratelimit out: tc-out passes the burst, then drops as "
		     "ratelimit, and bans nothing at egress",
		     run_ratelimit_out());

	for (i = 0; i < 2; i++) {
		sl_close(&envs[i].ctx);
		sl_xdp_destroy(envs[i].skel);
	}
	return check_failed ? 1 : 0;
}
