// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_conntrack: the conntrack stage, through the real programs on
 * crafted frames (bpf_prog_test_run_opts). A flow's packets from its
 * initiator A go through the XDP program (ingress), those from B through
 * TC egress, so both hooks update the one table. Each step checks the
 * verdict, the packet's ct state (the per-CPU context's `ct`, found by
 * BTF) and the entry afterwards: state, which end started the flow,
 * packets per direction. Sequences: a TCP open and close, a RST, invalid
 * packets, UDP becoming assured, ICMP echo, ICMP errors quoting tracked
 * and untracked flows, IPv6 and VLAN-tagged variants, and the stage off.
 * The established fast path: cached passes per slot skip the classifier,
 * an apply re-evaluates, count/ratelimit/tcp-flags rules are never
 * cached, an egress pass never passes ingress. A fuzz run of random TCP
 * flags against a model built on the datapath's own transition function
 * (bpf/lib/ct_tcp.h). */
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
/* conntrack's TCP transition function, plain C: the fuzz model's */
#include "../../bpf/lib/ct_tcp.h"

struct env {
	struct sluice_xdp *skel;
	int xdp, tc_out, ct, scratch;
	size_t ct_off; /* offset of `ct` in struct sl_pctx */
	size_t v_off;  /* of `v` (struct sl_verdict: action, reason, ...) */
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
			       &e->pctx_size) &&
	       skel_btf_member(e->skel->obj, "sl_pctx", "v", &e->v_off,
			       &e->pctx_size);
}

/* The ct state the last packet on this CPU (0: the test is pinned there)
 * left in the per-CPU context. */
static int last_ct(struct env *e)
{
	return (int)pcpu_u32(e->scratch, e->pctx_size, e->ct_off);
}

/* The last packet's verdict on this CPU: action and reason. */
static void last_verdict(struct env *e, __u32 *action, __u32 *reason)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t sz = (e->pctx_size + 7) & ~7UL;
	__u8 *buf = calloc(ncpu, sz);
	__u32 key = 0;

	*action = *reason = 0xffff;
	if (buf && !bpf_map_lookup_elem(e->scratch, &key, buf)) {
		memcpy(action, buf + e->v_off, sizeof(*action));
		memcpy(reason, buf + e->v_off + 4, sizeof(*reason));
	}
	free(buf);
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
static bool load_text(const char *yaml, struct sl_config *cfg)
{
	return ASSERT_EQ(skel_config_text(yaml, cfg), 0, "config load");
}

static bool apply_text(const char *yaml, struct sl_ctx *ctx,
		       struct sl_config *cfg)
{
	struct sl_apply_report rep;

	if (!load_text(yaml, cfg))
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

/* ---- the established fast path ---- */

/* The entry of a step's flow (false when there is none). */
static bool fp_entry(const struct step *st, struct sl_ct_val *v)
{
	struct sl_ct_key k;
	uint32_t side;

	spec_key(&st->pkt, &k, &side);
	return !bpf_map_lookup_elem(on.ct, &k, v);
}

static uint64_t fp_rule_packets(struct sl_ctx *ctx, uint32_t id)
{
	struct sl_rule r = {.id = id};
	struct sl_counter c;

	if (sl_rule_stats_read(ctx, &r, 1, &c))
		return ~0ULL;
	return c.packets;
}

/* Runs steps and checks each one's verdict. */
static bool fp_run(const char *name, const struct step *sv, const int *ret,
		   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = run_one(&on, &sv[i]);

		if (!ASSERT_TRUE(r == ret[i], "%s: %s: verdict %d, want %d",
				 name, sv[i].what, r, ret[i]))
			return false;
	}
	return true;
}

/* The cached slots of a step's flow: sl_ct_val.verdict, or -1 when the
 * entry holds none (no entry, no SL_CT_F_VERDICT). */
static int fp_bits(const struct step *st, __u64 *serial)
{
	struct sl_ct_val v;

	if (!fp_entry(st, &v) || !(v.flags & SL_CT_F_VERDICT))
		return -1;
	if (serial)
		*serial = v.serial;
	return v.verdict;
}

#define FP_SLOT(hook_out, reply) (1 << ((hook_out)*2 + (reply)))

/* A TCP flow A -> B:dport opened through XDP (A's packets, ingress) and TC
 * egress (B's). */
#define FP_OPEN(dport, sp)                                               \
	{"SYN", T4(SYN, A4, B4, sp, dport), 0, NOTYPE},                  \
	    {"SYN-ACK", T4(SYNACK, B4, A4, dport, sp), 1, NOTYPE},       \
	    {"ACK", T4(ACK, A4, B4, sp, dport), 0, NOTYPE},              \
	{                                                                \
		"data", T4(PSHACK, A4, B4, sp, dport, .payload = 10), 0, \
		    NOTYPE                                               \
	}

/* An established flow's pass is cached per slot under the blob's serial
 * and skips the classifier: the pass rule's counters stop (its reason
 * still counts as rule), the reply's slot has the policy's pass. A deny
 * set entry (no apply, no new serial) still drops the flow at once: sets
 * run before the fast path. */
static bool check_fast_path(void)
{
	static const char yaml[] =
	    "policy: {in: drop, out: pass}\n"
	    "conntrack: {enabled: true}\n"
	    "rules:\n"
	    "  - {id: 1, action: pass, proto: tcp, dport: "
	    "80}\n";
	const struct step sv[] = {FP_OPEN(80, 40040)};
	const int ret[] = {XDP_PASS, TC_ACT_OK, XDP_PASS, XDP_PASS};
	const struct step back = {"data back",
				  T4(PSHACK, B4, A4, 80, 40040, .payload = 10),
				  1, NOTYPE};
	struct sl_counter before[SL_STATS_MAX], after[SL_STATS_MAX];
	int stats = bpf_map__fd(on.skel->maps.sl_stats);
	int rule = sl_stats_idx(SL_R_RULE, SL_ACT_PASS);
	struct sl_prefix a;
	struct sl_config cfg;
	struct sl_ctx ctx;
	uint64_t n0, n1;
	__u64 serial = 0;
	char err[64];
	int bits;
	bool ok;

	if (!apply_text(yaml, &ctx, &cfg))
		return false;
	ct_flush(&on);
	ok = fp_run("fast path", sv, ret, 4);
	bits = fp_bits(&sv[0], &serial);
	/* the ACK (in, original) cached a rule's pass, the SYN-ACK (out,
	 * reply) the policy's; the SYN (new) nothing */
	ok = ok &&
	     ASSERT_EQ(bits, FP_SLOT(0, 0) | FP_SLOT(0, 0) << 4 | FP_SLOT(1, 1),
		       "cached slots") &&
	     ASSERT_TRUE(serial > 0, "cached under serial %llu",
			 (unsigned long long)serial);
	n0 = fp_rule_packets(&ctx, 1);
	ok = ok && ASSERT_EQ(sl_stats_read_fd(stats, before), 0, "stats") &&
	     ASSERT_EQ(run_one(&on, &sv[3]), XDP_PASS, "cached data in") &&
	     ASSERT_EQ(run_one(&on, &sv[3]), XDP_PASS, "cached data in") &&
	     ASSERT_EQ(run_one(&on, &back), TC_ACT_OK, "cached data out") &&
	     ASSERT_EQ(sl_stats_read_fd(stats, after), 0, "stats");
	n1 = fp_rule_packets(&ctx, 1);
	ok = ok &&
	     ASSERT_TRUE(n0 == 2 && n1 == n0,
			 "rule 1 counted %llu then %llu packets: want 2 "
			 "(SYN, ACK: the data took the fast path), then no "
			 "more",
			 (unsigned long long)n0, (unsigned long long)n1) &&
	     ASSERT_EQ(after[rule].packets - before[rule].packets, 2,
		       "cached passes counted as reason rule");
	ok =
	    ok &&
	    ASSERT_EQ(sl_prefix_parse(A4, &a, err, sizeof(err)), 0, "prefix") &&
	    ASSERT_EQ(sl_set_add(&ctx, SL_SET_DENY, SL_DIR_SRC, &a, 1, NULL), 0,
		      "block A") &&
	    ASSERT_EQ(run_one(&on, &sv[3]), XDP_DROP,
		      "a blocked source's established flow") &&
	    ASSERT_EQ(sl_set_del(&ctx, SL_SET_DENY, SL_DIR_SRC, &a, 1), 0,
		      "unblock A") &&
	    ASSERT_EQ(run_one(&on, &sv[3]), XDP_PASS, "unblocked");
	sl_config_free(&cfg);
	sl_close(&ctx);
	return ok;
}

/* An apply that changes the rules gives a new serial: the next packet of
 * a cached flow is classified again (a now-dropping rule drops it, and
 * counts), and the slots cached under the old serial are gone. */
static bool check_fast_path_apply(void)
{
	static const char yaml[] =
	    "policy: {in: drop, out: pass}\n"
	    "conntrack: {enabled: true}\n"
	    "rules:\n"
	    "  - {id: 1, action: pass, proto: tcp, dport: "
	    "80}\n";
	static const char yaml2[] = "policy: {in: drop, out: pass}\n"
				    "conntrack: {enabled: true}\n"
				    "rules:\n"
				    "  - {id: 2, action: drop, proto: tcp, "
				    "dport: 80}\n";
	const struct step sv[] = {FP_OPEN(80, 40041)};
	const int ret[] = {XDP_PASS, TC_ACT_OK, XDP_PASS, XDP_PASS};
	const struct step back = {"data back",
				  T4(PSHACK, B4, A4, 80, 40041, .payload = 10),
				  1, NOTYPE};
	struct sl_config cfg, cfg2;
	struct sl_apply_report rep;
	struct sl_ctx ctx;
	__u64 s1 = 0, s2 = 0;
	int b1, b2;
	bool ok;

	if (!apply_text(yaml, &ctx, &cfg))
		return false;
	ct_flush(&on);
	ok = fp_run("apply", sv, ret, 4);
	b1 = fp_bits(&sv[0], &s1);
	ok = ok && ASSERT_EQ(b1 & 0xf, FP_SLOT(0, 0) | FP_SLOT(1, 1),
			     "cached before the apply");
	if (!ok)
		goto out;
	ok = load_text(yaml2, &cfg2);
	if (!ok)
		goto out;
	ok = ASSERT_EQ(sl_apply(&ctx, &cfg2, 0, &rep), 0, "apply 2");
	sl_config_free(&cfg2);
	ok = ok &&
	     ASSERT_EQ(run_one(&on, &sv[3]), XDP_DROP,
		       "the established flow after the apply (drop rule)") &&
	     ASSERT_EQ(fp_rule_packets(&ctx, 2), 1, "the drop rule counted") &&
	     ASSERT_EQ(run_one(&on, &back), TC_ACT_OK, "data back");
	b2 = fp_bits(&sv[0], &s2);
	ok = ok &&
	     ASSERT_TRUE(s2 > s1 && b2 == FP_SLOT(1, 1),
			 "after the apply: serial %llu (before %llu), "
			 "slots %#x (want only the reply's out slot)",
			 (unsigned long long)s2, (unsigned long long)s1, b2);
out:
	sl_config_free(&cfg);
	sl_close(&ctx);
	return ok;
}

/* What needs every packet is never cached: a slot whose packets meet a
 * count rule (the count rule counts every packet), a ratelimit rule's
 * pass (every packet takes a token: the bucket empties and drops), rules
 * on TCP flags (a blob without SL_CLS_F_FLOW); the other slot of the same
 * flow is cached. */
static bool check_fast_path_uncached(void)
{
	static const char yaml[] =
	    "policy: {in: drop, out: pass}\n"
	    "conntrack: {enabled: true}\n"
	    "rules:\n"
	    "  - {id: 1, action: count, proto: tcp, dport: 81}\n"
	    "  - {id: 2, action: pass, proto: tcp, dport: 81}\n"
	    "  - {id: 3, action: ratelimit, proto: tcp, dport: 82, rate: "
	    "1/s, burst: 5, per: rule}\n";
	static const char yaml_flags[] =
	    "policy: {in: drop, out: pass}\n"
	    "conntrack: {enabled: true}\n"
	    "rules:\n"
	    "  - {id: 4, action: drop, proto: tcp, tcp-flags: fin}\n"
	    "  - {id: 5, action: pass, proto: tcp, dport: 83}\n";
	const struct step c[] = {FP_OPEN(81, 40042)};
	const struct step r[] = {FP_OPEN(82, 40043)};
	const struct step f[] = {FP_OPEN(83, 40044)};
	const int ret[] = {XDP_PASS, TC_ACT_OK, XDP_PASS, XDP_PASS};
	struct sl_config cfg;
	struct sl_ctx ctx;
	bool ok;
	int i;

	if (!apply_text(yaml, &ctx, &cfg))
		return false;
	ct_flush(&on);
	ok = fp_run("count", c, ret, 4);
	for (i = 0; ok && i < 5; i++)
		ok = ASSERT_EQ(run_one(&on, &c[3]), XDP_PASS, "counted data");
	ok = ok && ASSERT_EQ(fp_rule_packets(&ctx, 1), 8,
			     "the count rule counted every packet in");
	ok = ok && ASSERT_EQ(fp_bits(&c[0], NULL), FP_SLOT(1, 1),
			     "count: only the reply's out slot cached");
	/* burst 5: SYN, ACK, data, then 2 more pass, the next drops */
	ok = ok && fp_run("ratelimit", r, ret, 4);
	for (i = 0; ok && i < 2; i++)
		ok = ASSERT_EQ(run_one(&on, &r[3]), XDP_PASS, "within burst");
	ok = ok &&
	     ASSERT_EQ(run_one(&on, &r[3]), XDP_DROP,
		       "over the burst: the ratelimit rule still decides") &&
	     ASSERT_EQ(fp_bits(&r[0], NULL), FP_SLOT(1, 1),
		       "ratelimit: only the reply's out slot cached");
	sl_config_free(&cfg);
	sl_close(&ctx);
	if (!ok || !apply_text(yaml_flags, &ctx, &cfg))
		return false;
	{
		const struct step fin = {"FIN", T4(FINACK, A4, B4, 40044, 83),
					 0, NOTYPE};

		ok = fp_run("tcp flags", f, ret, 4) &&
		     ASSERT_EQ(fp_bits(&f[0], NULL), -1,
			       "tcp-flags rules: nothing cached") &&
		     ASSERT_EQ(run_one(&on, &fin), XDP_DROP,
			       "the FIN meets its drop rule");
	}
	sl_config_free(&cfg);
	sl_close(&ctx);
	return ok;
}

/* A rule set caches only when each rule decides alike for every packet
 * of a flow's slot (SL_CLS_F_FLOW): one rule with a condition on TCP
 * flags, a MAC address, the interface, the VLAN or an ICMP code (none
 * matching the flow) makes it classify every packet; a rule on ports,
 * addresses, ICMP type or ct-state does not. */
static bool check_fast_path_flow_rules(void)
{
	static const struct {
		const char *rule;
		bool cached;
	} v[] = {
	    {"{action: drop, proto: tcp, tcp-flags: fin}", false},
	    {"{action: drop, src-mac: \"02:00:00:00:00:09\"}", false},
	    {"{action: drop, iface: lo, proto: udp}", false},
	    {"{action: drop, vlan: 7}", false},
	    {"{action: drop, proto: icmp, icmp-type: 3, icmp-code: 1}", false},
	    {"{action: drop, proto: icmp, icmp-type: 3}", true},
	    {"{action: drop, src: 198.51.100.0/24, proto: tcp, dport: 1-79}",
	     true},
	    {"{action: drop, ct-state: invalid}", true},
	};
	bool ok = true;

	for (size_t i = 0; ok && i < sizeof(v) / sizeof(v[0]); i++) {
		const struct step sv[] = {FP_OPEN(86, 40047 + i)};
		const int ret[] = {XDP_PASS, TC_ACT_OK, XDP_PASS, XDP_PASS};
		struct sl_config cfg;
		struct sl_ctx ctx;
		char yaml[512];
		int bits;

		snprintf(yaml, sizeof(yaml),
			 "policy: {in: drop, out: pass}\n"
			 "conntrack: {enabled: true}\n"
			 "rules:\n"
			 "  - %s\n"
			 "  - {action: pass, proto: tcp, dport: 86}\n",
			 v[i].rule);
		if (!apply_text(yaml, &ctx, &cfg))
			return false;
		ok = fp_run(v[i].rule, sv, ret, 4);
		bits = fp_bits(&sv[0], NULL);
		ok =
		    ok && ASSERT_TRUE(v[i].cached ? bits > 0 : bits == -1,
				      "%s: cached slots %d, want %s", v[i].rule,
				      bits, v[i].cached ? "some" : "none");
		sl_config_free(&cfg);
		sl_close(&ctx);
	}
	return ok;
}

/* The slots: B opens A:84 through TC egress; B's packets pass out (policy),
 * A's answers pass in (a rule on source port 84). B's packets coming in
 * (a router's other interface, XDP) meet no rule: the in policy drops
 * them although the same direction's pass at egress is cached. */
static bool check_fast_path_slots(void)
{
	static const char yaml[] =
	    "policy: {in: drop, out: pass}\n"
	    "conntrack: {enabled: true}\n"
	    "rules:\n"
	    "  - {id: 1, action: pass, proto: tcp, sport: 84, direction: in}\n";
	const struct step sv[] = {
	    {"SYN out", T4(SYN, B4, A4, 40045, 84), 1, NOTYPE},
	    {"SYN-ACK in", T4(SYNACK, A4, B4, 84, 40045), 0, NOTYPE},
	    {"ACK out", T4(ACK, B4, A4, 40045, 84), 1, NOTYPE},
	    {"data out", T4(PSHACK, B4, A4, 40045, 84), 1, NOTYPE},
	    {"data in", T4(PSHACK, A4, B4, 84, 40045), 0, NOTYPE},
	    {"B's data coming in", T4(PSHACK, B4, A4, 40045, 84), 0, NOTYPE},
	    {"again", T4(PSHACK, B4, A4, 40045, 84), 0, NOTYPE},
	};
	const int ret[] = {TC_ACT_OK, XDP_PASS, TC_ACT_OK, TC_ACT_OK,
			   XDP_PASS,  XDP_DROP, XDP_DROP};
	struct sl_config cfg;
	struct sl_ctx ctx;
	bool ok;

	if (!apply_text(yaml, &ctx, &cfg))
		return false;
	ct_flush(&on);
	ok = fp_run("slots", sv, ret, 7) &&
	     ASSERT_EQ(fp_bits(&sv[0], NULL),
		       FP_SLOT(1, 0) | FP_SLOT(0, 1) | FP_SLOT(0, 1) << 4,
		       "cached: out original (policy), in reply (rule)");
	sl_config_free(&cfg);
	sl_close(&ctx);
	return ok;
}

/* A trusted source's pass (allow set, decided before the conntrack stage
 * after tracking the packet) is never cached: unallowed, its flow meets
 * the rules and the policy again at once. Its flow's replies, passed by
 * the out policy, are. */
static bool check_fast_path_allow(void)
{
	static const char yaml[] = "policy: {in: drop, out: pass}\n"
				   "conntrack: {enabled: true}\n"
				   "allow:\n  - 198.18.0.0/16\n";
	const struct step sv[] = {FP_OPEN(85, 40046)};
	const int ret[] = {XDP_PASS, TC_ACT_OK, XDP_PASS, XDP_PASS};
	struct sl_config cfg;
	struct sl_prefix a;
	struct sl_ctx ctx;
	char err[64];
	bool ok;

	if (!apply_text(yaml, &ctx, &cfg))
		return false;
	ct_flush(&on);
	ok = fp_run("allow", sv, ret, 4) &&
	     ASSERT_EQ(fp_bits(&sv[0], NULL), FP_SLOT(1, 1),
		       "cached: only the reply's out slot (policy)") &&
	     ASSERT_EQ(sl_prefix_parse("198.18.0.0/16", &a, err, sizeof(err)),
		       0, "prefix") &&
	     ASSERT_EQ(sl_set_del(&ctx, SL_SET_ALLOW, SL_DIR_SRC, &a, 1), 0,
		       "unallow") &&
	     ASSERT_EQ(run_one(&on, &sv[3]), XDP_DROP,
		       "unallowed: the in policy drops the flow");
	sl_config_free(&cfg);
	sl_close(&ctx);
	return ok;
}

/* ---- sequence and window tracking ---- */

/* A TCP segment of the flow A4:40009 <-> B4:80 (from_a: A to B through
 * XDP ingress, else B to A through TC egress) with these numbers, its
 * window, a window scale option (ws >= 0) and payload bytes: the packet
 * state conntrack gives it (-1 when the test run fails). */
static int seg(int from_a, __u8 flags, __u32 seq, __u32 ack, __u16 win, int ws,
	       int payload)
{
	struct step ab = {"A to B",
			  T4(flags, A4, B4, 40009, 80, .tcp_opts = 4,
			     .payload = payload),
			  0, NOTYPE},
		    ba = {"B to A",
			  T4(flags, B4, A4, 80, 40009, .tcp_opts = 4,
			     .payload = payload),
			  1, NOTYPE};
	const struct step st = from_a ? ab : ba;
	uint8_t f[PKT_MAX];
	struct pkt_off o;
	size_t len = build(&st, f, &o);
	uint8_t *t = f + o.l4;
	LIBBPF_OPTS(bpf_test_run_opts, r, .data_in = f, .data_size_in = len,
		    .repeat = 1);

	for (int i = 0; i < 4; i++) {
		t[4 + i] = seq >> (24 - 8 * i);
		t[8 + i] = ack >> (24 - 8 * i);
	}
	t[14] = win >> 8;
	t[15] = win;
	if (ws >= 0) { /* NOP, window scale (kind 3, length 3) */
		t[20] = 1;
		t[21] = 3;
		t[22] = 3;
		t[23] = ws;
	}
	if (bpf_prog_test_run_opts(from_a ? on.xdp : on.tc_out, &r))
		return -1;
	return last_ct(&on);
}

#define WSEG(what, want, ...) ASSERT_EQ(seg(__VA_ARGS__), SL_CT_##want, what)

/* A handshake with window scale 7 on both SYNs (A's ISN 1000, B's 5000),
 * then data: segments in the window are established; a sequence number
 * beyond what the other end allowed, one older than its window, an ACK of
 * data never sent, are invalid and leave the entry as it was; the scale
 * counts (B's window 1,000 is 128,000 bytes). Without the option on one
 * SYN, windows are not scaled. */
static bool check_window(void)
{
	struct sl_ct_key k;
	struct sl_ct_val v;
	uint32_t side;
	struct pkt_spec ks = T4(SYN, A4, B4, 40009, 80);

	ct_flush(&on);
	if (!(WSEG("SYN", NEW, 1, SYN, 1000, 0, 65535, 7, 0) &&
	      WSEG("SYN-ACK", ESTABLISHED, 0, SYNACK, 5000, 1001, 65535, 7,
		   0) &&
	      WSEG("ACK", ESTABLISHED, 1, ACK, 1001, 5001, 1000, -1, 0) &&
	      WSEG("100 bytes from A", ESTABLISHED, 1, PSHACK, 1001, 5001, 1000,
		   -1, 100) &&
	      WSEG("B acks them, window 1000 << 7", ESTABLISHED, 0, ACK, 5001,
		   1101, 1000, -1, 0) &&
	      WSEG("A sends 100,000 bytes on (within 128,000)", ESTABLISHED, 1,
		   PSHACK, 101101, 5001, 1000, -1, 100) &&
	      WSEG("A sends at 1101 + 200,000 (beyond)", INVALID, 1, PSHACK,
		   201101, 5001, 1000, -1, 100) &&
	      WSEG("B acks data A never sent", INVALID, 0, ACK, 5001, 901101,
		   1000, -1, 0) &&
	      WSEG("B acks far behind (300,000 back)", INVALID, 0, ACK, 5001,
		   1101 - 300000, 1000, -1, 0) &&
	      WSEG("A resends at 1001 - 1,000,000 (older than the window)",
		   INVALID, 1, PSHACK, 1001 - 1000000, 5001, 1000, -1, 100) &&
	      WSEG("a RST far out of the window", INVALID, 0, RSTACK,
		   5001 + 50000000, 1101, 0, -1, 0) &&
	      WSEG("B's data in the window still passes", ESTABLISHED, 0,
		   PSHACK, 5001, 1101, 1000, -1, 10)))
		return false;
	spec_key(&ks, &k, &side);
	if (!ASSERT_EQ(bpf_map_lookup_elem(on.ct, &k, &v), 0, "entry") ||
	    !ASSERT_EQ(v.state, SL_CTS_ESTABLISHED, "state") ||
	    !ASSERT_TRUE(v.win[0].flags & SL_CT_W_CHECK, "checked flow") ||
	    !ASSERT_EQ(v.win[0].scale, 7, "A's scale") ||
	    !ASSERT_EQ(v.win[1].scale, 7, "B's scale") ||
	    !ASSERT_EQ(v.win[0].end, 101201,
		       "A's end: the invalid ones "
		       "left it") ||
	    !ASSERT_EQ(v.win[1].end, 5011, "B's end"))
		return false;
	/* no window scale on B's SYN-ACK: A's 1000 stays 1000 bytes */
	ct_flush(&on);
	return WSEG("SYN (scale 7)", NEW, 1, SYN, 1000, 0, 65535, 7, 0) &&
	       WSEG("SYN-ACK without the option", ESTABLISHED, 0, SYNACK, 5000,
		    1001, 65535, -1, 0) &&
	       WSEG("ACK", ESTABLISHED, 1, ACK, 1001, 5001, 1000, -1, 0) &&
	       WSEG("B acks with window 1000 (unscaled)", ESTABLISHED, 0, ACK,
		    5001, 1001, 1000, -1, 0) &&
	       WSEG("A at 1001 + 100,000: beyond an unscaled window", INVALID,
		    1, PSHACK, 101001, 5001, 1000, -1, 100) &&
	       WSEG("A at 1001: fine", ESTABLISHED, 1, PSHACK, 1001, 5001, 1000,
		    -1, 100);
}

/* ---- fuzz: random TCP flag sequences ---- */

/* The model of one flow: conntrack's entry-level rules around the shared
 * transition function (ct_tcp.h). */
struct fz_flow {
	struct step st[2]; /* a packet from A (XDP in), from B (TC out) */
	struct sl_ct_key key;
	uint32_t side[2]; /* key end of A and of B */
	bool exists, syn_seen, replied;
	__u32 state, orig; /* orig: 0 A, 1 B */
	int fin_dir;	   /* -1: none, else 0 original, 1 reply */
	__u64 pk[2];
	struct sl_ct_win win[2]; /* the window tracking, ct_tcp.h's */
};

static uint64_t fz_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The packet state the model expects for flags f from end `from` (0: A),
 * updating the model. Malformed-stage drops never get here. */
static int fz_model(struct fz_flow *m, __u8 f, int from)
{
	int ev = sl_ct_tcp_event(f);
	/* pkt.h's TCP segment: sequence number 1, no ACK number, window
	 * 64240, no options, no payload */
	struct sl_ct_seg g = {.seq = 1, .win = 64240, .flags = f};
	__u32 dir, next;

	g.end = g.seq + !!(f & SL_TCP_SYN) + !!(f & SL_TCP_FIN);
	if (ev == SL_CT_EV_BAD)
		return SL_CT_INVALID;
	if (!m->exists) {
		if (ev != SL_CT_EV_SYN)
			return SL_CT_INVALID;
		goto start;
	}
	dir = (__u32)from != m->orig;
	if (ev == SL_CT_EV_SYN &&
	    (m->state == SL_CTS_TIME_WAIT || m->state == SL_CTS_CLOSE))
		goto start;
	if (ev == SL_CT_EV_RST && dir && !m->replied) {
		m->exists = false;
		return SL_CT_ESTABLISHED;
	}
	next = sl_ct_tcp_next(m->state, ev, dir, m->fin_dir);
	if (next == SL_CTS_NONE || !sl_ct_win_check(m->win, dir, &g, 1))
		return SL_CT_INVALID;
	if (ev == SL_CT_EV_FIN && m->fin_dir < 0)
		m->fin_dir = dir;
	m->state = next;
	m->replied |= dir;
	m->pk[dir]++;
	return dir || m->replied ? SL_CT_ESTABLISHED : SL_CT_NEW;
start:
	m->exists = m->syn_seen = true;
	m->state = SL_CTS_SYN_SENT;
	m->orig = from;
	m->replied = false;
	m->fin_dir = -1;
	m->pk[0] = 1;
	m->pk[1] = 0;
	sl_ct_win_start(m->win, &g);
	return SL_CT_NEW;
}

/* Runs a step's frame with TCP flags f (any byte: pkt.h makes 0 an ACK). */
static int fz_run(const struct step *st, __u8 flags)
{
	uint8_t f[PKT_MAX];
	struct pkt_off o;
	size_t len = build(st, f, &o);
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f, .data_size_in = len,
		    .repeat = 1);

	f[o.l4 + 13] = flags;
	if (bpf_prog_test_run_opts(st->egress ? on.tc_out : on.xdp, &t))
		return -1;
	return (int)t.retval;
}

static bool fz_malformed(__u32 reason)
{
	return reason == SL_R_TCP_SYNFIN || reason == SL_R_TCP_SYNRST ||
	       reason == SL_R_TCP_NOFLAGS || reason == SL_R_TCP_FIN_NOACK ||
	       reason == SL_R_TCP_XMAS;
}

#define FZ_FLOWS   8
#define FZ_PACKETS 20000

/* 20,000 packets of random TCP flags over 8 flows (IPv4 and IPv6), both
 * ends (A through XDP ingress, B through TC egress), conntrack on with
 * drop-invalid and a pass rule (so the fast path caches): every verdict is
 * pass or drop with a known reason that fits the packet's state; each
 * flow's entry exists exactly when the model's does (never without a
 * SYN), its state is a TCP state, and state, initiator, first FIN and
 * packets per direction equal the model's (built on the same transition
 * function); the table holds nothing else. Seed in the check's name. */
static bool check_fuzz(uint64_t seed)
{
	static const char yaml[] = "policy: {in: pass, out: pass}\n"
				   "conntrack: {enabled: true, drop-invalid: "
				   "true}\n"
				   "rules:\n"
				   "  - {id: 1, action: pass, proto: tcp}\n";
	static const __u8 common[] = {
	    SYN,  SYNACK,      ACK,  FINACK,	  RSTACK,     PSHACK,
	    0x04, 0x14 | 0x08, 0x11, 0x02 | 0x40, 0x10 | 0x80};
	static struct fz_flow fl[FZ_FLOWS];
	uint64_t x = seed, passed = 0, dropped = 0, fast = 0;
	__u32 states = 0; /* the model states reached, bit per state */
	struct sl_config cfg;
	struct sl_ctx ctx;
	bool ok = true;

	if (!apply_text(yaml, &ctx, &cfg))
		return false;
	ct_flush(&on);
	memset(fl, 0, sizeof(fl));
	for (int i = 0; i < FZ_FLOWS; i++) {
		struct fz_flow *m = &fl[i];
		bool v6 = i >= FZ_FLOWS - 2;
		uint16_t sp = 41000 + i, dp = 80 + i % 3;

		if (v6) {
			m->st[0] = (struct step){"A", T6(0, A6, B6, sp, dp), 0,
						 NOTYPE};
			m->st[1] = (struct step){"B", T6(0, B6, A6, dp, sp), 1,
						 NOTYPE};
		} else {
			m->st[0] = (struct step){"A", T4(0, A4, B4, sp, dp), 0,
						 NOTYPE};
			m->st[1] = (struct step){"B", T4(0, B4, A4, dp, sp), 1,
						 NOTYPE};
		}
		spec_key(&m->st[0].pkt, &m->key, &m->side[0]);
		m->side[1] = !m->side[0];
		m->fin_dir = -1;
	}
	for (int n = 0; ok && n < FZ_PACKETS; n++) {
		uint64_t r = fz_next(&x);
		struct fz_flow *m = &fl[r % FZ_FLOWS];
		int from = (r >> 8) & 1, want, ret, ct;
		__u8 f = (r >> 16) & 1 ? common[(r >> 24) % sizeof(common)]
				       : (__u8)(r >> 32);
		struct fz_flow before = *m;
		struct step st = m->st[from];
		__u32 action, reason;
		struct sl_ct_val v;
		bool has;

		ret = fz_run(&st, f);
		last_verdict(&on, &action, &reason);
		ct = last_ct(&on);
		if (!ASSERT_TRUE((action == SL_ACT_PASS &&
				  ret == (from ? TC_ACT_OK : XDP_PASS)) ||
				     (action == SL_ACT_DROP &&
				      ret == (from ? TC_ACT_SHOT : XDP_DROP)),
				 "packet %d (flags %#x from %c): return %d, "
				 "action %u",
				 n, f, "AB"[from], ret, action) ||
		    !ASSERT_TRUE(reason < SL_R_MAX, "packet %d: reason %u", n,
				 reason)) {
			ok = false;
			break;
		}
		if (fz_malformed(reason)) {
			/* dropped before conntrack: the model sees nothing */
			ok = ASSERT_TRUE(action == SL_ACT_DROP,
					 "packet %d: malformed %u passed", n,
					 reason);
			dropped++;
			continue;
		}
		want = fz_model(m, f, from);
		states |= m->exists ? 1U << m->state : 0;
		ok =
		    ASSERT_TRUE(ct == want,
				"packet %d (flags %#x from %c, state %u): ct "
				"%d, model %d",
				n, f, "AB"[from], before.state, ct, want) &&
		    ASSERT_TRUE(
			want == SL_CT_INVALID
			    ? action == SL_ACT_DROP && reason == SL_R_CT_INVALID
			    : action == SL_ACT_PASS && reason == SL_R_RULE,
			"packet %d (flags %#x, ct %d): action %u "
			"reason %u",
			n, f, want, action, reason);
		passed += action == SL_ACT_PASS;
		dropped += action == SL_ACT_DROP;
		has = !bpf_map_lookup_elem(on.ct, &m->key, &v);
		fast += has && (v.flags & SL_CT_F_VERDICT);
		ok = ok &&
		     ASSERT_TRUE(has == m->exists && (!has || m->syn_seen),
				 "packet %d (flags %#x from %c): entry %d, "
				 "model %d",
				 n, f, "AB"[from], has, m -> exists);
		if (!ok || !has)
			continue;
		ok = ASSERT_TRUE(
		    v.state >= SL_CTS_SYN_SENT && v.state <= SL_CTS_CLOSE &&
			v.state == m->state && v.orig == m->side[m->orig] &&
			(int)v.fin_dir - 1 == m->fin_dir &&
			v.packets[0] == m->pk[0] && v.packets[1] == m->pk[1] &&
			!!(v.flags & SL_CT_F_REPLIED) == m->replied,
		    "packet %d (flags %#x from %c): entry state "
		    "%u orig %u fin %u packets %llu/%llu flags "
		    "%#x; model %u %u %d %llu/%llu replied %d",
		    n, f, "AB"[from], v.state, v.orig, v.fin_dir,
		    (unsigned long long)v.packets[0],
		    (unsigned long long)v.packets[1], v.flags, m->state,
		    m->side[m->orig], m->fin_dir + 1,
		    (unsigned long long)m->pk[0], (unsigned long long)m->pk[1],
		    m->replied);
	}
	if (ok) {
		size_t live = 0;

		for (int i = 0; i < FZ_FLOWS; i++)
			live += fl[i].exists;
		printf("# fuzz: %llu passed, %llu dropped, %llu with a cached "
		       "verdict, states reached %#x\n",
		       (unsigned long long)passed, (unsigned long long)dropped,
		       (unsigned long long)fast, states);
		ok = ASSERT_EQ(ct_count(&on), live, "entries in the table") &&
		     ASSERT_TRUE(passed > 1000 && dropped > 1000 && fast > 100,
				 "coverage: %llu passed, %llu dropped, %llu "
				 "with a cached verdict",
				 (unsigned long long)passed,
				 (unsigned long long)dropped,
				 (unsigned long long)fast) &&
		     ASSERT_EQ(states, ((1U << (SL_CTS_CLOSE + 1)) - 1) & ~1U,
			       "every TCP state reached");
	}
	sl_config_free(&cfg);
	sl_close(&ctx);
	return ok;
}

int main(void)
{
	int rc = skel_test_start("test_conntrack");

	if (rc >= 0)
		return rc;
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
	check_report("fast path: an established pass is cached per slot and "
		     "skips the classifier; sets still drop",
		     check_fast_path());
	check_report("fast path: an apply that changes rules re-evaluates "
		     "cached flows",
		     check_fast_path_apply());
	check_report("fast path: count, ratelimit and tcp-flags rules keep "
		     "classifying every packet",
		     check_fast_path_uncached());
	check_report("fast path: an egress pass never lets ingress skip the "
		     "classifier",
		     check_fast_path_slots());
	check_report("fast path: a trusted source's pass is never cached",
		     check_fast_path_allow());
	check_report("fast path: rules on tcp flags, mac, iface, vlan or icmp "
		     "code classify every packet; others cache",
		     check_fast_path_flow_rules());
	check_report("TCP windows: segments beyond or behind the window and "
		     "ACKs of unsent data are invalid; the scale counts",
		     check_window());
	check_report("ct list/flush/stats on 200,000 flows, with filters",
		     check_lib());
	{
		char name[96];

		snprintf(name, sizeof(name),
			 "fuzz: 20,000 random TCP flag sequences match the "
			 "model (seed %#x)",
			 0x5eed5u);
		check_report(name, check_fuzz(0x5eed5u));
	}
	RUN("conntrack off: untracked, no entry", &off, off_flow);
	check_report("conntrack off: the table stays empty",
		     ASSERT_EQ(ct_count(&off), 0, "entries"));
	sl_xdp_destroy(on.skel);
	sl_xdp_destroy(off.skel);
	return check_failed ? 1 : 0;
}
