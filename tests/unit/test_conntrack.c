// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_conntrack: the conntrack stage, through the real programs on
 * crafted frames (bpf_prog_test_run_opts). A flow's packets from its
 * initiator A go through the XDP program (ingress), those from B through
 * TC egress, so both hooks update the one table. Each step checks the
 * verdict, the packet's ct state (the per-CPU context's `ct`, found by
 * BTF) and the entry afterwards: state, which end started the flow,
 * packets per direction. Sequences: a TCP open and close, a RST, invalid
 * packets, UDP becoming assured, ICMP echo, ICMP errors quoting tracked
 * and untracked flows, IPv6 and VLAN-tagged variants, and the stage off. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "pkt.h"
#include "skelmaps.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

struct env {
	struct sluice_xdp *skel;
	int xdp, tc_out, ct, scratch;
	size_t ct_off; /* offset of `ct` in struct sl_pctx */
	size_t pctx_size;
};

static struct env on, off;

#define A4 "198.18.0.1"
#define B4 "198.19.0.1"
#define R4 "198.18.0.254" /* a router on the way */
#define A6 "2001:db8:1::1"
#define B6 "2001:db8:2::1"

#define SYN    0x02
#define SYNACK 0x12
#define ACK    0x10
#define FINACK 0x11
#define RSTACK 0x14
#define PSHACK 0x18

/* One step of a sequence: a frame, the hook (0: XDP ingress, 1: TC
 * egress), the expected packet state and, for the frame's flow, the entry
 * state after it (SL_CTS_NONE: no entry). */
struct step {
	const char *what;
	struct pkt_spec pkt;
	int egress;
	int raw_icmp_type;   /* >= 0: written over the ICMP type */
	int quote;	     /* ICMP error: quote this step's frame (1-based) */
	int ct;		     /* enum sl_ct_pkt */
	int state;	     /* enum sl_ct_state of the flow's entry */
	int pk0, pk1;	     /* its packets per direction, -1: unchecked */
	const char *key_src; /* the flow to look at: NULL = the frame's */
};

/* ---- the environment ---- */

static bool env_load(struct env *e, int conntrack)
{
	struct sl_features f;

	sl_features_default(&f);
	f.conntrack = conntrack;
	e->skel = sl_xdp_load(NULL, &f, SL_PROG_XDP | SL_PROG_TC_OUT);
	if (!e->skel)
		return false;
	e->xdp = bpf_program__fd(e->skel->progs.sluice_xdp);
	e->tc_out = bpf_program__fd(e->skel->progs.sluice_tc_out);
	e->ct = bpf_map__fd(e->skel->maps.sl_ct);
	e->scratch = bpf_map__fd(e->skel->maps.sl_scratch);
	return skel_btf_member(e->skel->obj, "sl_pctx", "ct", &e->ct_off,
			       &e->pctx_size);
}

/* The ct state the last packet on this CPU (0: the test is pinned there)
 * left in the per-CPU context. */
static int last_ct(struct env *e)
{
	return (int)pcpu_u32(e->scratch, e->pctx_size, e->ct_off);
}

static void ct_flush(struct env *e)
{
	map_flush(e->ct);
}

static size_t ct_count(struct env *e)
{
	return map_count(e->ct);
}

/* ---- frames ---- */

static size_t build(const struct step *st, uint8_t *f, struct pkt_off *o)
{
	size_t n = pkt_build(&st->pkt, f, o);

	if (st->raw_icmp_type >= 0)
		f[o->l4] = st->raw_icmp_type;
	return n;
}

/* Runs one step's frame (no quote) through its hook: the return code, or
 * -1 when the test run fails. */
static int run_one(struct env *e, const struct step *st)
{
	uint8_t f[PKT_MAX];
	struct pkt_off o;
	size_t len = build(st, f, &o);
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f, .data_size_in = len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(st->egress ? e->tc_out : e->xdp, &t))
		return -1;
	return (int)t.retval;
}

/* The flow key of a frame's spec (addresses as the builder writes them). */
static void spec_key(const struct pkt_spec *s, struct sl_ct_key *k,
		     uint32_t *side)
{
	bool v6 = s->ethertype == ETH_P_IPV6;
	uint32_t sa[4] = {}, da[4] = {};
	uint16_t sp, dp;

	inet_pton(v6 ? AF_INET6 : AF_INET,
		  s->src ? s->src : (v6 ? PKT_SRC6 : PKT_SRC4), sa);
	inet_pton(v6 ? AF_INET6 : AF_INET,
		  s->dst ? s->dst : (v6 ? PKT_DST6 : PKT_DST4), da);
	if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		sp = dp = 1; /* pkt.h writes id 1 */
	} else {
		sp = s->sport ? s->sport : 40000;
		dp = s->dport ? s->dport : (s->proto == IPPROTO_TCP ? 80 : 53);
	}
	*side = sl_ct_key_make(k, sa, da, sp, dp, s->proto, v6 ? 6 : 4);
}

static bool run_steps(const char *name, struct env *e, const struct step *sv,
		      size_t n)
{
	uint8_t f[PKT_MAX], q[PKT_MAX];
	uint32_t orig_side = 2;

	ct_flush(e);
	for (size_t i = 0; i < n; i++) {
		const struct step *st = &sv[i];
		struct pkt_off o, qo;
		size_t len = build(st, f, &o);
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f,
			    .data_size_in = len, .repeat = 1);
		struct sl_ct_key k;
		struct sl_ct_val v;
		uint32_t side;
		int err, want_ret;

		if (st->quote) {
			/* an ICMP error: the quoted packet's IP header and
			 * 8 bytes of L4 after the 8-byte ICMP header */
			size_t ql = build(&sv[st->quote - 1], q, &qo);

			(void)ql;
			memcpy(f + o.l4 + 8, q + qo.l3,
			       len - o.l4 - 8 < ql - qo.l3 ? len - o.l4 - 8
							   : ql - qo.l3);
		}
		err =
		    bpf_prog_test_run_opts(st->egress ? e->tc_out : e->xdp, &t);
		want_ret = st->egress ? TC_ACT_OK : XDP_PASS;
		if (!ASSERT_EQ(err, 0, "test run") ||
		    !ASSERT_TRUE((int)t.retval == want_ret,
				 "%s: step %zu (%s): verdict %u, want pass",
				 name, i + 1, st->what, t.retval) ||
		    !ASSERT_TRUE(last_ct(e) == st->ct,
				 "%s: step %zu (%s): ct state %d, want %d",
				 name, i + 1, st->what, last_ct(e), st->ct))
			return false;
		if (st->key_src && !strcmp(st->key_src, "-"))
			continue; /* no entry to look at */
		spec_key(&st->pkt, &k, &side);
		if (bpf_map_lookup_elem(e->ct, &k, &v)) {
			if (!ASSERT_TRUE(st->state == SL_CTS_NONE,
					 "%s: step %zu (%s): no entry, want "
					 "state %d",
					 name, i + 1, st->what, st->state))
				return false;
			continue;
		}
		if (!ASSERT_TRUE(v.state == st->state,
				 "%s: step %zu (%s): entry state %u, want %d",
				 name, i + 1, st->what, v.state, st->state))
			return false;
		if (st->ct == SL_CT_NEW && orig_side == 2)
			orig_side = side;
		if (st->ct == SL_CT_NEW &&
		    !ASSERT_TRUE(v.orig == side,
				 "%s: step %zu: initiator end %u, want %u",
				 name, i + 1, v.orig, side))
			return false;
		if (st->pk0 >= 0 &&
		    !(ASSERT_EQ(v.packets[0], st->pk0, "original packets") &&
		      ASSERT_EQ(v.packets[1], st->pk1, "reply packets") &&
		      ASSERT_TRUE(v.bytes[0] >= (__u64)st->pk0 * 42 &&
				      v.last >= v.first && v.first > 0,
				  "%s: step %zu: bytes %llu, first %llu, last "
				  "%llu",
				  name, i + 1, (unsigned long long)v.bytes[0],
				  (unsigned long long)v.first,
				  (unsigned long long)v.last)))
			return false;
	}
	return true;
}

/* ---- sequences ---- */

#define T4(fl, from, to, sp, dp, ...)                             \
	V4(TCP, .src = from, .dst = to, .sport = sp, .dport = dp, \
	   .tcp_flags = fl, ##__VA_ARGS__)
#define T6(fl, from, to, sp, dp, ...)                             \
	V6(TCP, .src = from, .dst = to, .sport = sp, .dport = dp, \
	   .tcp_flags = fl, ##__VA_ARGS__)
#define NOTYPE	       .raw_icmp_type = -1
#define CK(c, s, a, b) .ct = SL_CT_##c, .state = SL_CTS_##s, .pk0 = a, .pk1 = b

static const struct step tcp_open_close[] = {
    {"SYN", T4(SYN, A4, B4, 40001, 80), 0, NOTYPE, 0, CK(NEW, SYN_SENT, 1, 0)},
    {"SYN retransmitted", T4(SYN, A4, B4, 40001, 80), 0, NOTYPE, 0,
     CK(NEW, SYN_SENT, 2, 0)},
    {"SYN-ACK", T4(SYNACK, B4, A4, 80, 40001), 1, NOTYPE, 0,
     CK(ESTABLISHED, SYN_RECV, 2, 1)},
    {"ACK", T4(ACK, A4, B4, 40001, 80), 0, NOTYPE, 0,
     CK(ESTABLISHED, ESTABLISHED, 3, 1)},
    {"data", T4(PSHACK, A4, B4, 40001, 80, .payload = 100), 0, NOTYPE, 0,
     CK(ESTABLISHED, ESTABLISHED, 4, 1)},
    {"data back", T4(PSHACK, B4, A4, 80, 40001, .payload = 100), 1, NOTYPE, 0,
     CK(ESTABLISHED, ESTABLISHED, 4, 2)},
    {"FIN from A", T4(FINACK, A4, B4, 40001, 80), 0, NOTYPE, 0,
     CK(ESTABLISHED, FIN_WAIT, 5, 2)},
    {"B acks it", T4(ACK, B4, A4, 80, 40001), 1, NOTYPE, 0,
     CK(ESTABLISHED, CLOSE_WAIT, 5, 3)},
    {"FIN from B", T4(FINACK, B4, A4, 80, 40001), 1, NOTYPE, 0,
     CK(ESTABLISHED, LAST_ACK, 5, 4)},
    {"A acks it", T4(ACK, A4, B4, 40001, 80), 0, NOTYPE, 0,
     CK(ESTABLISHED, TIME_WAIT, 6, 4)},
    {"a new SYN reopens", T4(SYN, A4, B4, 40001, 80), 0, NOTYPE, 0,
     CK(NEW, SYN_SENT, 1, 0)},
};

static const struct step tcp_rst[] = {
    {"SYN", T4(SYN, A4, B4, 40002, 22), 0, NOTYPE, 0, CK(NEW, SYN_SENT, 1, 0)},
    {"ACK before the SYN-ACK is invalid", T4(ACK, A4, B4, 40002, 22), 0, NOTYPE,
     0, CK(INVALID, SYN_SENT, 1, 0)},
    {"RST-ACK (refused): the entry goes", T4(RSTACK, B4, A4, 22, 40002), 1,
     NOTYPE, 0, CK(ESTABLISHED, NONE, -1, -1)},
    {"SYN again", T4(SYN, A4, B4, 40002, 22), 0, NOTYPE, 0,
     CK(NEW, SYN_SENT, 1, 0)},
    {"SYN-ACK", T4(SYNACK, B4, A4, 22, 40002), 1, NOTYPE, 0,
     CK(ESTABLISHED, SYN_RECV, 1, 1)},
    {"ACK", T4(ACK, A4, B4, 40002, 22), 0, NOTYPE, 0,
     CK(ESTABLISHED, ESTABLISHED, 2, 1)},
    {"RST from A", T4(RSTACK, A4, B4, 40002, 22), 0, NOTYPE, 0,
     CK(ESTABLISHED, CLOSE, 3, 1)},
};

static const struct step tcp_invalid[] = {
    {"a lone ACK", T4(ACK, A4, B4, 40003, 443), 0, NOTYPE, 0,
     CK(INVALID, NONE, -1, -1)},
    {"a lone SYN-ACK", T4(SYNACK, B4, A4, 443, 40003), 1, NOTYPE, 0,
     CK(INVALID, NONE, -1, -1)},
    {"a lone FIN", T4(FINACK, A4, B4, 40003, 443), 0, NOTYPE, 0,
     CK(INVALID, NONE, -1, -1)},
    /* (SYN+FIN and no flags never get here: the malformed stage drops
     * them as tcp-syn-fin and tcp-no-flags first, test_xdp) */
    {"SYN", T4(SYN, A4, B4, 40003, 443), 0, NOTYPE, 0, CK(NEW, SYN_SENT, 1, 0)},
    {"SYN-ACK from the initiator", T4(SYNACK, A4, B4, 40003, 443), 0, NOTYPE, 0,
     CK(INVALID, SYN_SENT, 1, 0)},
};

static const struct step udp_flow[] = {
    {"request",
     V4(UDP, .src = A4, .dst = B4, .sport = 5353, .dport = 53, .payload = 20),
     0, NOTYPE, 0, CK(NEW, UDP_UNREPLIED, 1, 0)},
    {"again", V4(UDP, .src = A4, .dst = B4, .sport = 5353, .dport = 53), 0,
     NOTYPE, 0, CK(NEW, UDP_UNREPLIED, 2, 0)},
    {"response", V4(UDP, .src = B4, .dst = A4, .sport = 53, .dport = 5353), 1,
     NOTYPE, 0, CK(ESTABLISHED, UDP_ASSURED, 2, 1)},
    {"next request", V4(UDP, .src = A4, .dst = B4, .sport = 5353, .dport = 53),
     0, NOTYPE, 0, CK(ESTABLISHED, UDP_ASSURED, 3, 1)},
    /* A's port unreachable about B's response: related */
    {"ICMP error quoting it",
     V4(ICMP, .src = R4, .dst = A4, .icmp_type = 3, .icmp_code = 3,
	.payload = 28),
     1, NOTYPE, 3, .ct = SL_CT_RELATED, .key_src = "-"},
    {"unknown", V4(UDP, .src = A4, .dst = B4, .sport = 6000, .dport = 53), 1,
     NOTYPE, 0, CK(NEW, UDP_UNREPLIED, 1, 0)},
};

static const struct step icmp_flow[] = {
    {"echo request", V4(ICMP, .src = A4, .dst = B4, .payload = 56), 0, NOTYPE,
     0, CK(NEW, ICMP_REQUEST, 1, 0)},
    {"echo reply", V4(ICMP, .src = B4, .dst = A4, .payload = 56), 1, 0, 0,
     CK(ESTABLISHED, ICMP_REPLIED, 1, 1)},
    {"a reply from the requester is invalid",
     V4(ICMP, .src = A4, .dst = B4, .payload = 56), 0, 0, 0,
     CK(INVALID, ICMP_REPLIED, 1, 1)},
    {"time exceeded quoting the request",
     V4(ICMP, .src = R4, .dst = A4, .icmp_type = 11, .payload = 28), 0, NOTYPE,
     1, .ct = SL_CT_RELATED, .key_src = "-"},
    {"a router advertisement is untracked",
     V4(ICMP, .src = R4, .dst = A4, .icmp_type = 9), 0, NOTYPE, 0,
     .ct = SL_CT_UNTRACKED, .key_src = "-"},
};

/* An echo reply without a request, and an error quoting nothing tracked. */
static const struct step icmp_invalid[] = {
    {"echo reply alone", V4(ICMP, .src = B4, .dst = A4), 1, 0, 0,
     CK(INVALID, NONE, -1, -1)},
    {"a UDP packet (not sent)",
     V4(UDP, .src = A4, .dst = B4, .sport = 7000, .dport = 53), 0, NOTYPE, 0,
     .ct = SL_CT_NEW, .key_src = "-"},
    {"unreachable quoting another flow",
     V4(ICMP, .src = R4, .dst = A4, .icmp_type = 3, .payload = 28), 0, NOTYPE,
     4, .ct = SL_CT_INVALID, .key_src = "-"},
    {"the UDP flow it quotes",
     V4(UDP, .src = A4, .dst = B4, .sport = 7001, .dport = 53), 1, NOTYPE, 0,
     .ct = SL_CT_NEW, .key_src = "-"},
};

static const struct step tcp6[] = {
    {"SYN", T6(SYN, A6, B6, 40004, 80), 0, NOTYPE, 0, CK(NEW, SYN_SENT, 1, 0)},
    {"SYN-ACK", T6(SYNACK, B6, A6, 80, 40004), 1, NOTYPE, 0,
     CK(ESTABLISHED, SYN_RECV, 1, 1)},
    {"ACK", T6(ACK, A6, B6, 40004, 80), 0, NOTYPE, 0,
     CK(ESTABLISHED, ESTABLISHED, 2, 1)},
    {"packet too big quoting B's segment",
     V6(ICMP6, .src = "2001:db8:ff::1", .dst = B6, .icmp_type = 2,
	.payload = 48),
     1, NOTYPE, 2, .ct = SL_CT_RELATED, .key_src = "-"},
    {"FIN from B", T6(FINACK, B6, A6, 80, 40004), 1, NOTYPE, 0,
     CK(ESTABLISHED, FIN_WAIT, 2, 2)},
    {"FIN from A too", T6(FINACK, A6, B6, 40004, 80), 0, NOTYPE, 0,
     CK(ESTABLISHED, LAST_ACK, 3, 2)},
    {"B acks", T6(ACK, B6, A6, 80, 40004), 1, NOTYPE, 0,
     CK(ESTABLISHED, TIME_WAIT, 3, 3)},
};

static const struct step icmp6_flow[] = {
    {"echo request", V6(ICMP6, .src = A6, .dst = B6, .payload = 56), 0, NOTYPE,
     0, CK(NEW, ICMP_REQUEST, 1, 0)},
    {"echo reply", V6(ICMP6, .src = B6, .dst = A6, .payload = 56), 1, 129, 0,
     CK(ESTABLISHED, ICMP_REPLIED, 1, 1)},
    {"neighbour solicitation is untracked",
     V6(ICMP6, .src = A6, .dst = B6, .icmp_type = 135), 0, NOTYPE, 0,
     .ct = SL_CT_UNTRACKED, .key_src = "-"},
};

/* VLAN-tagged ingress, untagged egress: one flow. */
static const struct step vlan_flow[] = {
    {"tagged SYN", T4(SYN, A4, B4, 40005, 80, .vlan = {0x8100}), 0, NOTYPE, 0,
     CK(NEW, SYN_SENT, 1, 0)},
    {"SYN-ACK", T4(SYNACK, B4, A4, 80, 40005), 1, NOTYPE, 0,
     CK(ESTABLISHED, SYN_RECV, 1, 1)},
    {"double-tagged ACK", T4(ACK, A4, B4, 40005, 80, .vlan = {0x88a8, 0x8100}),
     0, NOTYPE, 0, CK(ESTABLISHED, ESTABLISHED, 2, 1)},
    {"tagged UDP", V4(UDP, .src = A4, .dst = B4, .vlan = {0x8100}), 0, NOTYPE,
     0, CK(NEW, UDP_UNREPLIED, 1, 0)},
    {"tagged v6 echo", V6(ICMP6, .src = A6, .dst = B6, .vlan = {0x8100}), 0,
     NOTYPE, 0, CK(NEW, ICMP_REQUEST, 1, 0)},
};

/* The stage off: nothing tracked, no entry. */
static const struct step off_flow[] = {
    {"SYN", T4(SYN, A4, B4, 40006, 80), 0, NOTYPE, 0,
     CK(UNTRACKED, NONE, -1, -1)},
    {"lone ACK", T4(ACK, A4, B4, 40007, 80), 0, NOTYPE, 0,
     CK(UNTRACKED, NONE, -1, -1)},
    {"UDP", V4(UDP, .src = A4, .dst = B4), 1, NOTYPE, 0,
     CK(UNTRACKED, NONE, -1, -1)},
};

#define RUN(name, e, v) \
	check_report(name, run_steps(name, e, v, sizeof(v) / sizeof(v[0])))

/* Every ICMP error step quoted a flow and found it (or not) without making
 * an entry: the tables hold only the flows themselves. */
static bool check_entries(void)
{
	run_steps("count", &on, udp_flow,
		  sizeof(udp_flow) / sizeof(udp_flow[0]));
	return ASSERT_EQ(ct_count(&on), 2, "entries after the UDP sequence");
}

/* An entry older than its state's timeout counts as absent: a lone ACK on
 * an expired flow is invalid, a SYN starts it over in place. */
static bool check_expiry(void)
{
	const struct step syn[] = {{"SYN", T4(SYN, A4, B4, 40008, 80), 0,
				    NOTYPE, 0, CK(NEW, SYN_SENT, 1, 0)}};
	const struct step ack[] = {{"ACK", T4(ACK, A4, B4, 40008, 80), 0,
				    NOTYPE, 0, CK(INVALID, SYN_SENT, -1, -1)}};
	const struct step udp[] = {
	    {"UDP", V4(UDP, .src = A4, .dst = B4, .sport = 9), 0, NOTYPE, 0,
	     CK(NEW, UDP_UNREPLIED, 1, 0)},
	    {"reply", V4(UDP, .src = B4, .dst = A4, .sport = 53, .dport = 9), 1,
	     NOTYPE, 0, CK(ESTABLISHED, UDP_ASSURED, 1, 1)}};
	const struct step udp_late[] = {
	    {"reply after the timeout",
	     V4(UDP, .src = B4, .dst = A4, .sport = 53, .dport = 9), 1, NOTYPE,
	     0, CK(NEW, UDP_UNREPLIED, 1, 0)}};
	struct sl_ct_key k;
	struct sl_ct_val v;
	uint32_t side;

	if (!run_steps("expiry", &on, syn, 1))
		return false;
	spec_key(&syn[0].pkt, &k, &side);
	if (bpf_map_lookup_elem(on.ct, &k, &v))
		return ASSERT_TRUE(false, "no entry");
	v.last -= 121ULL * 1000000000ULL; /* SYN_SENT: 120 s */
	v.first = v.last;
	bpf_map_update_elem(on.ct, &k, &v, BPF_EXIST);
	/* run_steps flushes: run the ACK by hand */
	if (!ASSERT_EQ(run_one(&on, &ack[0]), XDP_PASS, "ACK verdict") ||
	    !ASSERT_EQ(last_ct(&on), SL_CT_INVALID,
		       "ACK on an expired SYN_SENT"))
		return false;
	if (!run_steps("expiry udp", &on, udp, 2))
		return false;
	spec_key(&udp[0].pkt, &k, &side);
	if (bpf_map_lookup_elem(on.ct, &k, &v))
		return ASSERT_TRUE(false, "no UDP entry");
	v.last -= 121ULL * 1000000000ULL; /* assured: 120 s */
	bpf_map_update_elem(on.ct, &k, &v, BPF_EXIST);
	return ASSERT_EQ(run_one(&on, &udp_late[0]), TC_ACT_OK,
			 "late reply verdict") &&
	       ASSERT_EQ(last_ct(&on), SL_CT_NEW,
			 "a late reply starts the flow over") &&
	       ASSERT_EQ(bpf_map_lookup_elem(on.ct, &k, &v), 0, "lookup") &&
	       ASSERT_EQ(v.orig, side ^ 1, "the late replier's end") &&
	       ASSERT_EQ(v.packets[0], 1, "packets restarted");
}

/* Loads yaml and applies it on the `on` programs' private maps through
 * *ctx (sl_ctx_wrap; sl_close it); the loaded config in *cfg. */
static bool apply_text(const char *yaml, struct sl_ctx *ctx,
		       struct sl_config *cfg)
{
	char path[] = "/tmp/test_conntrack_XXXXXX";
	struct sl_apply_report rep;
	int fd = mkstemp(path);
	bool ok;

	if (fd < 0 || write(fd, yaml, strlen(yaml)) < 0)
		return ASSERT_TRUE(false, "temp file: %s", strerror(errno));
	close(fd);
	ok = ASSERT_EQ(sl_config_load(path, cfg), 0, "config load");
	unlink(path);
	if (!ok)
		return false;
	sl_ctx_wrap(ctx, on.skel);
	if (ASSERT_EQ(sl_apply(ctx, cfg, 0, &rep), 0, "apply"))
		return true;
	sl_config_free(cfg);
	sl_close(ctx);
	return false;
}

/* The stateful host policy through the rules stage: pass established and
 * related, drop invalid, pass new TCP to port 80, ingress policy drop. */
static bool check_ct_rules(void)
{
	static const char yaml[] =
	    "policy: {in: drop, out: pass}\n"
	    "conntrack: {enabled: true}\n"
	    "rules:\n"
	    "  - {action: pass, ct-state: [established, related]}\n"
	    "  - {action: drop, ct-state: invalid}\n"
	    "  - {action: pass, proto: tcp, dport: 80, ct-state: new}\n";
	static const struct {
		struct step st;
		int ret, ct;
	} v[] = {
	    {{"SYN to 80", T4(SYN, A4, B4, 40020, 80), 0, NOTYPE},
	     XDP_PASS,
	     SL_CT_NEW},
	    {{"SYN-ACK out", T4(SYNACK, B4, A4, 80, 40020), 1, NOTYPE},
	     TC_ACT_OK,
	     SL_CT_ESTABLISHED},
	    {{"ACK in", T4(ACK, A4, B4, 40020, 80), 0, NOTYPE},
	     XDP_PASS,
	     SL_CT_ESTABLISHED},
	    {{"SYN to 22", T4(SYN, A4, B4, 40021, 22), 0, NOTYPE},
	     XDP_DROP,
	     SL_CT_NEW},
	    {{"lone ACK", T4(ACK, A4, B4, 40022, 443), 0, NOTYPE},
	     XDP_DROP,
	     SL_CT_INVALID},
	    {{"UDP out",
	      V4(UDP, .src = B4, .dst = A4, .sport = 5000, .dport = 53), 1,
	      NOTYPE},
	     TC_ACT_OK,
	     SL_CT_NEW},
	    {{"its answer in",
	      V4(UDP, .src = A4, .dst = B4, .sport = 53, .dport = 5000), 0,
	      NOTYPE},
	     XDP_PASS,
	     SL_CT_ESTABLISHED},
	    {{"UDP in, new",
	      V4(UDP, .src = A4, .dst = B4, .sport = 53, .dport = 5001), 0,
	      NOTYPE},
	     XDP_DROP,
	     SL_CT_NEW},
	    {{"ping out", V4(ICMP, .src = B4, .dst = A4), 1, NOTYPE},
	     TC_ACT_OK,
	     SL_CT_NEW},
	    {{"its reply in", V4(ICMP, .src = A4, .dst = B4), 0,
	      .raw_icmp_type = 0},
	     XDP_PASS,
	     SL_CT_ESTABLISHED},
	    {{"ping in", V4(ICMP, .src = R4, .dst = B4), 0, NOTYPE},
	     XDP_DROP,
	     SL_CT_NEW},
	};
	struct sl_config cfg;
	struct sl_ctx ctx;
	bool ok = true;

	if (!apply_text(yaml, &ctx, &cfg))
		return false;
	ct_flush(&on);
	for (size_t i = 0; ok && i < sizeof(v) / sizeof(v[0]); i++) {
		int ret = run_one(&on, &v[i].st);

		ok = ASSERT_TRUE(ret == v[i].ret && last_ct(&on) == v[i].ct,
				 "%s: verdict %d (want %d), ct %d (want %d)",
				 v[i].st.what, ret, v[i].ret, last_ct(&on),
				 v[i].ct);
	}
	sl_config_free(&cfg);
	sl_close(&ctx);
	return ok;
}

/* A trusted source (allow set) is tracked but never judged: with
 * drop-invalid on, its SYN makes an entry and passes as allow-set, and so
 * does its lone ACK (invalid). */
static bool check_allow(void)
{
	static const char yaml[] = "conntrack:\n  enabled: true\n"
				   "  drop-invalid: true\n"
				   "allow:\n  - 198.18.0.0/16\n";
	const struct step syn = {"SYN", T4(SYN, A4, B4, 40030, 80), 0, NOTYPE};
	const struct step ack = {"ACK", T4(ACK, A4, B4, 40031, 80), 0, NOTYPE};
	struct sl_counter before[SL_STATS_MAX], after[SL_STATS_MAX];
	int stats = bpf_map__fd(on.skel->maps.sl_stats);
	int idx = sl_stats_idx(SL_R_ALLOW_SET, SL_ACT_PASS);
	struct sl_config cfg;
	struct sl_ct_key k;
	struct sl_ct_val v;
	struct sl_ctx ctx;
	uint32_t side;
	bool ok;

	if (!apply_text(yaml, &ctx, &cfg))
		return false;
	ct_flush(&on);
	spec_key(&syn.pkt, &k, &side);
	ok = ASSERT_EQ(sl_stats_read_fd(stats, before), 0, "stats") &&
	     ASSERT_EQ(run_one(&on, &syn), XDP_PASS, "trusted SYN") &&
	     ASSERT_EQ(last_ct(&on), SL_CT_NEW, "trusted SYN ct") &&
	     ASSERT_EQ(bpf_map_lookup_elem(on.ct, &k, &v), 0,
		       "trusted SYN's entry") &&
	     ASSERT_EQ(v.state, SL_CTS_SYN_SENT, "its state") &&
	     ASSERT_EQ(run_one(&on, &ack), XDP_PASS, "trusted lone ACK") &&
	     ASSERT_EQ(last_ct(&on), SL_CT_INVALID, "trusted lone ACK ct") &&
	     ASSERT_EQ(sl_stats_read_fd(stats, after), 0, "stats") &&
	     ASSERT_EQ(after[idx].packets - before[idx].packets, 2,
		       "both passed as allow-set");
	sl_config_free(&cfg);
	sl_close(&ctx);
	return ok;
}

/* The library's view of a large table (ct list, flush, stats): 200,000
 * flows written from user space (half TCP established, half UDP
 * assured) and one expired UDP flow; filters by protocol, port, source;
 * a filtered flush; the counts. */
static bool check_lib(void)
{
	enum { N = 200000 };
	struct sl_ct_filter f = {.port = -1, .proto = -1, .state = -1};
	struct sl_ct_entry *e = NULL;
	struct sl_ct_stats st;
	struct timespec ts;
	struct sl_ct_key k;
	struct sl_ct_val v = {0};
	struct sl_ctx ctx;
	uint32_t a[4] = {0}, b[4] = {0};
	char err[64];
	size_t n = 0, del = 0;
	bool ok = true;

	ct_flush(&on);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v.first = v.last = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	inet_pton(AF_INET, A4, a);
	inet_pton(AF_INET, B4, b);
	for (uint32_t i = 0; ok && i <= N; i++) {
		bool tcp = i % 2 == 0 && i < N;

		a[0] = htonl(ntohl(a[0]) & 0xffff0000U) | htonl(i >> 16);
		sl_ct_key_make(&k, a, b, 1024 + (i & 0xffff), tcp ? 80 : 53,
			       tcp ? IPPROTO_TCP : IPPROTO_UDP, 4);
		v.state = tcp ? SL_CTS_ESTABLISHED : SL_CTS_UDP_ASSURED;
		if (i == N) /* one more, idle for 10 minutes: expired */
			v.last -= 600ULL * 1000000000ULL;
		ok = ASSERT_EQ(bpf_map_update_elem(on.ct, &k, &v, BPF_ANY), 0,
			       "fill");
	}
	sl_ctx_wrap(&ctx, on.skel);
	ok = ok &&
	     ASSERT_EQ(sl_ct_list(&ctx, NULL, false, &e, &n), 0, "list") &&
	     ASSERT_EQ(n, N, "flows listed (the expired one left out)");
	free(e);
	e = NULL;
	f.proto = IPPROTO_UDP;
	ok = ok && ASSERT_EQ(sl_ct_list(&ctx, &f, false, &e, &n), 0, "list") &&
	     ASSERT_EQ(n, N / 2, "udp flows");
	free(e);
	e = NULL;
	f.proto = IPPROTO_TCP;
	f.port = 1024 + 2;
	ok = ok && ASSERT_EQ(sl_ct_list(&ctx, &f, false, &e, &n), 0, "list") &&
	     ASSERT_EQ(n, (N + 65535) / 65536, "tcp flows with port 1026") &&
	     ASSERT_TRUE(n && e[0].sport == 1026 && e[0].dport == 80 &&
			     e[0].family == AF_INET,
			 "the initiator's view: sport %u dport %u",
			 n ? e[0].sport : 0, n ? e[0].dport : 0);
	free(e);
	e = NULL;
	f.port = -1;
	f.proto = -1;
	f.has_src = !sl_prefix_parse("198.18.0.1/32", &f.src, err, sizeof(err));
	ok = ok && ASSERT_EQ(sl_ct_list(&ctx, &f, false, &e, &n), 0, "list") &&
	     ASSERT_EQ(n, 65536, "flows from 198.18.0.1");
	free(e);
	e = NULL;
	f.has_src = false;
	f.proto = IPPROTO_TCP;
	ok = ok && ASSERT_EQ(sl_ct_flush(&ctx, &f, &del), 0, "flush tcp") &&
	     ASSERT_EQ(del, N / 2, "tcp flows flushed") &&
	     ASSERT_EQ(sl_ct_stats_read(&ctx, &st), 0, "stats") &&
	     ASSERT_TRUE(st.entries == N / 2 && st.udp == N / 2 && !st.tcp &&
			     st.expired == 1 &&
			     st.by_state[SL_CTS_UDP_ASSURED] == N / 2 &&
			     st.capacity == SL_CT_MAX_DEFAULT,
			 "stats: %zu flows, %zu udp, %zu tcp, %zu expired, "
			 "capacity %u",
			 st.entries, st.udp, st.tcp, st.expired, st.capacity) &&
	     ASSERT_EQ(sl_ct_flush(&ctx, NULL, &del), 0, "flush") &&
	     ASSERT_EQ(del, N / 2 + 1, "the rest flushed, the expired too") &&
	     ASSERT_EQ(ct_count(&on), 0, "empty");
	sl_close(&ctx);
	return ok;
}

/* The config's conntrack settings reach the datapath through the blob:
 * apply (on the test's private maps) with drop-invalid and a syn-sent
 * timeout of 5 s; a lone ACK is dropped with reason ct-invalid (counted),
 * a SYN is not; a SYN_SENT entry 6 s old has expired. */
static bool check_config(void)
{
	static const char yaml[] = "conntrack:\n  enabled: true\n"
				   "  drop-invalid: true\n"
				   "  timeouts: {syn-sent: 5s}\n";
	const struct step syn[] = {{"SYN", T4(SYN, A4, B4, 40010, 80), 0,
				    NOTYPE, 0, CK(NEW, SYN_SENT, 1, 0)}};
	const struct step ack = {"ACK", T4(ACK, A4, B4, 40011, 80), 0, NOTYPE};
	const struct step ack2 = {"ACK", T4(ACK, A4, B4, 40010, 80), 0, NOTYPE};
	struct sl_counter before[SL_STATS_MAX], after[SL_STATS_MAX];
	struct sl_config cfg, back;
	struct sl_ct_key k;
	struct sl_ct_val v;
	struct sl_ctx ctx;
	uint32_t side;
	int idx, stats;
	bool ok;

	if (!apply_text(yaml, &ctx, &cfg))
		return false;
	ok =
	    ASSERT_EQ(sl_config_read(&ctx, &back, SL_READ_NO_IFACES), 0,
		      "read back") &&
	    ASSERT_TRUE(sl_ct_cfg_equal(&cfg.ct, &back.ct) && back.ct.enabled &&
			    back.ct.drop_invalid &&
			    back.ct.tmo[SL_CT_TMO_SYN_SENT] == 5,
			"the running config's conntrack differs from the file");
	sl_config_free(&cfg);
	if (ok)
		sl_config_free(&back);
	stats = bpf_map__fd(on.skel->maps.sl_stats);
	idx = sl_stats_idx(SL_R_CT_INVALID, SL_ACT_DROP);
	ok = ok && ASSERT_EQ(sl_stats_read_fd(stats, before), 0, "stats");
	ok = ok &&
	     ASSERT_EQ(run_one(&on, &ack), XDP_DROP,
		       "a lone ACK: XDP verdict") &&
	     ASSERT_EQ(sl_stats_read_fd(stats, after), 0, "stats") &&
	     ASSERT_EQ(after[idx].packets - before[idx].packets, 1,
		       "ct-invalid drops counted");
	ok = ok && run_steps("config", &on, syn, 1);
	spec_key(&syn[0].pkt, &k, &side);
	ok = ok && ASSERT_EQ(bpf_map_lookup_elem(on.ct, &k, &v), 0, "entry");
	if (!ok)
		goto out;
	v.last -= 6ULL * 1000000000ULL; /* syn-sent: 5 s */
	bpf_map_update_elem(on.ct, &k, &v, BPF_EXIST);
	ok = ASSERT_EQ(run_one(&on, &ack2), XDP_DROP,
		       "an ACK on a SYN_SENT 6 s old (timeout 5 s)");
out:
	sl_close(&ctx);
	return ok;
}

int main(void)
{
	cpu_set_t cpus;

	sl_log_hook_libbpf();
	if (sl_check_privileges()) {
		printf("skip - test_conntrack: needs root\n");
		return 0;
	}
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
		printf("not ok - pin to CPU 0: %s\n", strerror(errno));
		return 1;
	}
	if (!env_load(&on, 1) || !env_load(&off, 0)) {
		printf("not ok - load the programs (conntrack on and off)\n");
		return 1;
	}
	RUN("tcp: open, data both ways, close, reopen (xdp in, tc out)", &on,
	    tcp_open_close);
	RUN("tcp: ack in syn_sent invalid; rst closes, both directions", &on,
	    tcp_rst);
	RUN("tcp: packets of no flow or bad flags are invalid, make no entry",
	    &on, tcp_invalid);
	RUN("udp: unreplied, then assured; icmp error quoting it related", &on,
	    udp_flow);
	RUN("icmp: echo request/reply; time exceeded related; others untracked",
	    &on, icmp_flow);
	RUN("icmp: reply without request, error quoting no flow: invalid", &on,
	    icmp_invalid);
	RUN("ipv6 tcp: open, simultaneous close; packet too big related", &on,
	    tcp6);
	RUN("ipv6 icmpv6 echo; neighbour discovery untracked", &on, icmp6_flow);
	RUN("vlan-tagged frames share the untagged flow", &on, vlan_flow);
	check_report("icmp errors make no entry", check_entries());
	check_report("expired entries count as absent", check_expiry());
	check_report("config: drop-invalid drops as ct-invalid; timeouts from "
		     "the blob",
		     check_config());
	check_report("rules match ct-state: the stateful host policy",
		     check_ct_rules());
	check_report("trusted sources are tracked, never judged",
		     check_allow());
	check_report("ct list/flush/stats on 200,000 flows, with filters",
		     check_lib());
	RUN("conntrack off: untracked, no entry", &off, off_flow);
	check_report("conntrack off: the table stays empty",
		     ASSERT_EQ(ct_count(&off), 0, "entries"));
	sl_xdp_destroy(on.skel);
	sl_xdp_destroy(off.skel);
	return check_failed ? 1 : 0;
}
