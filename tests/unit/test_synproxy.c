// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_synproxy: SYN-flood protection through the real programs on crafted
 * frames (bpf_prog_test_run_opts). A SYN to a protected port comes back
 * from XDP as a SYN-ACK (XDP_TX) that is checked byte by byte: Ethernet
 * addresses swapped and VLAN tags kept, a fresh IP header (IPv4 options
 * and IPv6 extension headers dropped) with its checksum recomputed here,
 * ports swapped, the acknowledgement, flags, window and options (MSS,
 * SACK-permitted, timestamp echoing the client's and carrying its window
 * scale and SACK in the low bits, window scale), and the TCP checksum
 * recomputed here over the pseudo header. The cookie is then verified by
 * the kernel's check helper: the client's ACK built from the answer goes
 * through and starts an established flow (map side effect), an ACK with
 * another acknowledgement number is dropped with reason
 * syn-cookie-invalid. Also: unprotected ports, a SYN without options, a
 * flood of SYNs leaving the connection table empty, and the stage off
 * (conntrack off). Ports are set through the control plane's own writer
 * (sl_syn_write). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "check.h"
#include "log.h"
#include "pkt.h"
#include "skelmaps.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

#define PORT 8080

struct env {
	struct sluice_xdp *skel;
	struct sl_ctx ctx;
	int xdp, ct, stats;
};

static struct env on, off;

static bool env_load(struct env *e, int conntrack)
{
	struct sl_features f;
	struct sl_syn_cfg syn = {0};

	sl_features_default(&f);
	f.conntrack = conntrack;
	e->skel = sl_xdp_load(NULL, &f, SL_PROG_XDP);
	if (!e->skel)
		return false;
	sl_ctx_wrap(&e->ctx, e->skel);
	e->xdp = bpf_program__fd(e->skel->progs.sluice_xdp);
	e->ct = bpf_map__fd(e->skel->maps.sl_ct);
	e->stats = bpf_map__fd(e->skel->maps.sl_stats);
	sl_syn_set(&syn, PORT, true);
	sl_syn_set(&syn, 443, true);
	return !sl_syn_write(&e->ctx, &syn);
}

static uint64_t reason_count(struct env *e, int reason, int action)
{
	struct sl_counter c[SL_STATS_MAX];

	if (sl_stats_read_fd(e->stats, c))
		return ~0ULL;
	return c[sl_stats_idx(reason, action)].packets;
}

static size_t ct_count(struct env *e)
{
	return map_count(e->ct);
}

static void ct_flush(struct env *e)
{
	map_flush(e->ct);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Client options of a Linux SYN: MSS, SACK-permitted, timestamp, NOP,
 * window scale (20 bytes, at the builder's NOPs). */
#define TSVAL 0x11223344U
static void linux_opts(uint8_t *opt, unsigned wscale)
{
	static const uint8_t o[20] = {2,  4,	0x05, 0xb4, 4,	  2, 8,
				      10, 0x11, 0x22, 0x33, 0x44, 0, 0,
				      0,  0,	1,    3,    3,	  0};

	memcpy(opt, o, 20);
	opt[19] = (uint8_t)wscale;
}

struct answer {
	uint8_t f[PKT_MAX];
	size_t len;
	struct pkt_off o; /* of the SYN */
	uint32_t retval;
};

/* Runs the SYN of spec (with Linux options when opts) through XDP. */
static bool run_syn(struct env *e, const struct pkt_spec *s, bool opts,
		    uint8_t *syn, size_t *synlen, struct answer *a)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .repeat = 1);

	*synlen = pkt_build(s, syn, &a->o);
	if (opts)
		linux_opts(syn + a->o.l4 + 20, 7);
	t.data_in = syn;
	t.data_size_in = (__u32)*synlen;
	t.data_out = a->f;
	t.data_size_out = sizeof(a->f);
	if (!ASSERT_EQ(bpf_prog_test_run_opts(e->xdp, &t), 0, "test run"))
		return false;
	a->retval = t.retval;
	a->len = t.data_size_out;
	return true;
}

/* The SYN-ACK a is the answer to syn, byte by byte. l3 is where the IP
 * header starts in both (the tags stay). */
static bool check_synack(const uint8_t *syn, const struct answer *a, bool v6,
			 bool opts)
{
	size_t l3 = a->o.l3, iphl = v6 ? 40 : 20;
	const uint8_t *ip = a->f + l3, *th = ip + iphl, *sip = syn + l3,
		      *sth = syn + a->o.l4;
	uint32_t tsval;

	if (!ASSERT_EQ(a->retval, XDP_TX, "verdict (XDP_TX)") ||
	    !ASSERT_EQ(a->len, l3 + iphl + 40, "SYN-ACK length") ||
	    !ASSERT_TRUE(!memcmp(a->f, syn + 6, 6) && !memcmp(a->f + 6, syn, 6),
			 "Ethernet addresses not swapped") ||
	    !ASSERT_TRUE(!memcmp(a->f + 12, syn + 12, l3 - 12),
			 "VLAN tags / ethertype changed"))
		return false;
	if (v6) {
		if (!ASSERT_EQ(ip[0] >> 4, 6, "IPv6 version") ||
		    !ASSERT_EQ(get16(ip + 4), 40, "IPv6 payload length") ||
		    !ASSERT_EQ(ip[6], IPPROTO_TCP, "next header (no ext)") ||
		    !ASSERT_EQ(ip[7], 64, "hop limit") ||
		    !ASSERT_TRUE(!memcmp(ip + 8, sip + 24, 16) &&
				     !memcmp(ip + 24, sip + 8, 16),
				 "IPv6 addresses not swapped"))
			return false;
	} else {
		if (!ASSERT_EQ(ip[0], 0x45, "IPv4 version/ihl (no options)") ||
		    !ASSERT_EQ(get16(ip + 2), 60, "IPv4 total length") ||
		    !ASSERT_EQ(get16(ip + 6), 0x4000, "DF, offset 0") ||
		    !ASSERT_EQ(ip[8], 64, "TTL") ||
		    !ASSERT_EQ(ip[9], IPPROTO_TCP, "protocol") ||
		    !ASSERT_TRUE(!memcmp(ip + 12, sip + 16, 4) &&
				     !memcmp(ip + 16, sip + 12, 4),
				 "IPv4 addresses not swapped") ||
		    !ASSERT_EQ(pkt_sum16(0, ip, 20), 0xffff,
			       "IPv4 header checksum (folded sum)"))
			return false;
	}
	if (!ASSERT_EQ(get16(th), get16(sth + 2), "source port") ||
	    !ASSERT_EQ(get16(th + 2), get16(sth), "destination port") ||
	    !ASSERT_EQ(get32(th + 8), get32(sth + 4) + 1, "acknowledgement") ||
	    !ASSERT_EQ(th[12], 0xa0, "data offset 10 words") ||
	    !ASSERT_EQ(th[13], 0x12, "flags SYN|ACK") ||
	    !ASSERT_EQ(get16(th + 14), 0, "window (SYNPROXY opens it)") ||
	    !ASSERT_EQ(get16(th + 18), 0, "urgent pointer") ||
	    !ASSERT_EQ(pkt_l4_csum(ip, th, 40, v6, IPPROTO_TCP), 0,
		       "TCP checksum") ||
	    !ASSERT_TRUE(th[20] == 2 && th[21] == 4, "MSS option first") ||
	    !ASSERT_EQ(get16(th + 22), v6 ? SL_SYN_MSS6_DEF : SL_SYN_MSS4_DEF,
		       "MSS value"))
		return false;
	if (!opts) {
		for (int i = 24; i < 40; i++)
			if (!ASSERT_EQ(th[i], 1,
				       "no-op padding without options"))
				return false;
		return true;
	}
	tsval = get32(th + 28);
	return ASSERT_TRUE(th[24] == 4 && th[25] == 2, "SACK-permitted") &&
	       ASSERT_TRUE(th[26] == 8 && th[27] == 10, "timestamp option") &&
	       ASSERT_EQ(tsval & 0x3f, 7 | 0x10,
			 "timestamp low bits: client wscale 7, SACK") &&
	       ASSERT_EQ(get32(th + 32), TSVAL, "timestamp echo") &&
	       ASSERT_TRUE(th[36] == 1 && th[37] == 3 && th[38] == 3 &&
			       th[39] == SL_SYN_WSCALE_DEF,
			   "no-op, window scale 7");
}

/* The client's ACK to answer a: built from the SYN spec, seq + 1, the
 * cookie + 1 (plus bad) as acknowledgement. Its verdict. */
static uint32_t run_ack(struct env *e, const struct pkt_spec *syn_spec,
			const struct answer *a, uint32_t bad)
{
	struct pkt_spec s = *syn_spec;
	uint8_t f[PKT_MAX];
	struct pkt_off o;
	size_t len, iphl = s.ethertype == ETH_P_IPV6 ? 40 : 20;
	uint32_t cookie = get32(a->f + a->o.l3 + iphl + 4);
	LIBBPF_OPTS(bpf_test_run_opts, t, .repeat = 1);

	s.tcp_flags = 0x10;
	s.tcp_opts = 0;
	len = pkt_build(&s, f, &o);
	put32(f + o.l4 + 4, 2); /* the SYN's seq (1) + 1 */
	put32(f + o.l4 + 8, cookie + 1 + bad);
	t.data_in = f;
	t.data_size_in = (__u32)len;
	if (bpf_prog_test_run_opts(e->xdp, &t))
		return ~0U;
	return t.retval;
}

/* A flow's entry: its state, or SL_CTS_NONE. */
static int flow_state(struct env *e, const struct pkt_spec *s)
{
	bool v6 = s->ethertype == ETH_P_IPV6;
	uint32_t sa[4] = {0}, da[4] = {0};
	struct sl_ct_key k;
	struct sl_ct_val v;

	inet_pton(v6 ? AF_INET6 : AF_INET,
		  s->src ? s->src : (v6 ? PKT_SRC6 : PKT_SRC4), sa);
	inet_pton(v6 ? AF_INET6 : AF_INET,
		  s->dst ? s->dst : (v6 ? PKT_DST6 : PKT_DST4), da);
	sl_ct_key_make(&k, sa, da, s->sport ? s->sport : 40000, s->dport,
		       IPPROTO_TCP, v6 ? 6 : 4);
	if (bpf_map_lookup_elem(e->ct, &k, &v))
		return SL_CTS_NONE;
	return v.state;
}

/* The whole handshake for one frame shape. */
static bool handshake(const struct pkt_spec *s, bool opts)
{
	uint8_t syn[PKT_MAX];
	size_t synlen;
	struct answer a;
	bool v6 = s->ethertype == ETH_P_IPV6;
	uint64_t bad0 = reason_count(&on, SL_R_SYN_COOKIE_BAD, SL_ACT_DROP),
		 ans0 = reason_count(&on, SL_R_SYN_COOKIE, SL_ACT_TX);

	ct_flush(&on);
	if (!run_syn(&on, s, opts, syn, &synlen, &a) ||
	    !check_synack(syn, &a, v6, opts))
		return false;
	if (!ASSERT_EQ(ct_count(&on), 0, "entries after the SYN (stateless)") ||
	    !ASSERT_EQ(reason_count(&on, SL_R_SYN_COOKIE, SL_ACT_TX) - ans0, 1,
		       "syn-cookie/tx count"))
		return false;
	/* the kernel's check helper refuses another acknowledgement (one
	 * off in the hash bits: the low bits only index the MSS table) */
	if (!ASSERT_EQ(run_ack(&on, s, &a, 0x00100000), XDP_DROP,
		       "bad ACK dropped") ||
	    !ASSERT_EQ(reason_count(&on, SL_R_SYN_COOKIE_BAD, SL_ACT_DROP) -
			   bad0,
		       1, "syn-cookie-invalid count") ||
	    !ASSERT_EQ(ct_count(&on), 0, "entries after the bad ACK"))
		return false;
	/* and takes the right one: an established flow */
	return ASSERT_EQ(run_ack(&on, s, &a, 0), XDP_PASS, "good ACK passed") &&
	       ASSERT_EQ(flow_state(&on, s), SL_CTS_ESTABLISHED,
			 "the flow's state after the ACK") &&
	       ASSERT_EQ(run_ack(&on, s, &a, 0), XDP_PASS,
			 "the flow's next packet (tracked)");
}

static bool v4_linux(void)
{
	struct pkt_spec s =
	    V4(TCP, .tcp_flags = 0x02, .tcp_opts = 20, .dport = PORT);
	return handshake(&s, true);
}

static bool v6_linux(void)
{
	struct pkt_spec s =
	    V6(TCP, .tcp_flags = 0x02, .tcp_opts = 20, .dport = PORT);
	return handshake(&s, true);
}

static bool v4_vlan_ipopts(void)
{
	struct pkt_spec s =
	    V4(TCP, .tcp_flags = 0x02, .tcp_opts = 20, .dport = 443,
	       .vlan = {0x8100, 0x88a8}, .ip_opts = 8);
	return handshake(&s, true);
}

static bool v6_vlan_ext(void)
{
	struct pkt_spec s =
	    V6(TCP, .tcp_flags = 0x02, .tcp_opts = 20, .dport = PORT,
	       .vlan = {0x8100}, .n_ext = 2,
	       .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS}, .ext_hlen = {0, 1});
	return handshake(&s, true);
}

static bool v4_no_opts(void)
{
	struct pkt_spec s = V4(TCP, .tcp_flags = 0x02, .dport = PORT);
	return handshake(&s, false);
}

/* Not protected: the SYN goes on and starts a tracked flow. */
static bool unprotected(void)
{
	struct pkt_spec s =
	    V4(TCP, .tcp_flags = 0x02, .tcp_opts = 20, .dport = 8081);
	uint8_t syn[PKT_MAX];
	size_t synlen;
	struct answer a;

	ct_flush(&on);
	return run_syn(&on, &s, true, syn, &synlen, &a) &&
	       ASSERT_EQ(a.retval, XDP_PASS, "SYN to port 8081") &&
	       ASSERT_EQ(flow_state(&on, &s), SL_CTS_SYN_SENT, "its flow") &&
	       ASSERT_EQ(run_ack(&on, &s, &a, 0), XDP_PASS,
			 "a lone ACK to an unprotected port (no drop-invalid)");
}

/* 1,000 SYNs from as many sources: 1,000 answers, no entry. */
static bool flood(void)
{
	char src[32];
	uint8_t syn[PKT_MAX];
	size_t synlen;
	struct answer a;
	int tx = 0;

	ct_flush(&on);
	for (int i = 0; i < 1000; i++) {
		struct pkt_spec s =
		    V4(TCP, .tcp_flags = 0x02, .tcp_opts = 20, .dport = PORT,
		       .src = src, .sport = (uint16_t)(1024 + i));

		snprintf(src, sizeof(src), "198.18.%d.%d", 128 + i / 250,
			 1 + i % 250);
		if (!run_syn(&on, &s, true, syn, &synlen, &a))
			return false;
		tx += a.retval == XDP_TX;
	}
	return ASSERT_EQ(tx, 1000, "SYNs answered") &&
	       ASSERT_EQ(ct_count(&on), 0, "entries after the flood");
}

/* Conntrack off: no stage, the SYN passes. */
static bool stage_off(void)
{
	struct pkt_spec s =
	    V4(TCP, .tcp_flags = 0x02, .tcp_opts = 20, .dport = PORT);
	uint8_t syn[PKT_MAX];
	size_t synlen;
	struct answer a;

	return run_syn(&off, &s, true, syn, &synlen, &a) &&
	       ASSERT_EQ(a.retval, XDP_PASS, "SYN with conntrack off");
}

/* Ports leave: the SYN passes again. */
static bool port_removed(void)
{
	struct pkt_spec s =
	    V4(TCP, .tcp_flags = 0x02, .tcp_opts = 20, .dport = PORT);
	struct sl_syn_cfg syn = {0}, back = {0};
	uint8_t f[PKT_MAX];
	size_t len;
	struct answer a;
	bool ok;

	sl_syn_set(&syn, 443, true);
	if (!ASSERT_EQ(sl_syn_write(&on.ctx, &syn), 0, "sl_syn_write") ||
	    !ASSERT_EQ(sl_syn_read(&on.ctx, &back), 0, "sl_syn_read") ||
	    !ASSERT_TRUE(sl_syn_equal(&syn, &back), "read back the ports"))
		return false;
	ok = run_syn(&on, &s, true, f, &len, &a) &&
	     ASSERT_EQ(a.retval, XDP_PASS, "SYN to a port no longer protected");
	sl_syn_set(&syn, PORT, true);
	return ASSERT_EQ(sl_syn_write(&on.ctx, &syn), 0, "sl_syn_write") && ok;
}

int main(void)
{
	int rc = skel_test_start("test_synproxy");

	if (rc >= 0)
		return rc;
	if (!env_load(&on, 1) || !env_load(&off, 0)) {
		printf("not ok - load the programs and set the ports\n");
		return 1;
	}
	check_report("synproxy: IPv4 SYN with Linux options: SYN-ACK byte by "
		     "byte; bad ACK dropped, cookie ACK starts a flow",
		     v4_linux());
	check_report("synproxy: IPv6, the same", v6_linux());
	check_report("synproxy: IPv4, two VLAN tags and IP options (dropped "
		     "from the answer)",
		     v4_vlan_ipopts());
	check_report("synproxy: IPv6, a VLAN tag and extension headers "
		     "(dropped from the answer)",
		     v6_vlan_ext());
	check_report("synproxy: SYN without options: MSS only", v4_no_opts());
	check_report("synproxy: an unprotected port is tracked as before",
		     unprotected());
	check_report("synproxy: 1,000 spoofed SYNs answered, no table entry",
		     flood());
	check_report("synproxy: conntrack off, no stage", stage_off());
	check_report("synproxy: a port removed (sl_syn_write/read) passes "
		     "again",
		     port_removed());
	sl_xdp_destroy(on.skel);
	sl_xdp_destroy(off.skel);
	return check_failed ? 1 : 0;
}
