// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_lb: the XDP load balancer through the real program on crafted
 * frames (bpf_prog_test_run_opts), in a network namespace of its own
 * (lb_lab.h) whose routes and neighbours bpf_fib_lookup() answers from:
 *   lbc0 (client side, the ingress)  198.18.0.254/24  2001:db8:1::fe/64
 *        neighbour client 198.18.0.1 / 2001:db8:1::1 -> CLIENT_MAC
 *   lbb0 (backend side)              198.18.1.1/24    2001:db8:5::1/64
 *        neighbours backend N (198.18.1.1N, 2001:db8:5::1N) -> BE_MAC(N)
 * Services are written by the control plane's own writer (sl_lb_write).
 * Checked: nat's output frame (IPv4 and IPv6, TCP and UDP): MACs of the
 * next hop, destination address and port, TTL / hop limit one less, the
 * rest of the bytes unchanged, and the IPv4 header and L4 checksums
 * verified here from scratch; the reply (backend -> client) leaves from
 * VIP:port the same way; dsr-l2 changes only the MACs; the connection
 * table keeps a flow on its backend when backends are added (the Maglev
 * table swapped), a drained backend keeps its flows and takes no new
 * ones, a removed backend's flows move; a service without a usable
 * backend drops with reason lb-no-backend; a backend's next hop is
 * cached for 1 s (a neighbour change is seen after it); the verdicts are
 * counted as lb-forward (redirect: the backends are out of another interface).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#include "check.h"
#include "../../bpf/lib/ct_tcp.h" /* SL_TCP_*: the TCP flag bits */
#include "lb_lab.h"
#include "log.h"
#include "pkt.h"
#include "skelmaps.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

#define VIP4 "198.18.100.1"
#define VIP6 "2001:db8:100::1"
#define CLI4 "198.18.0.1"
#define CLI6 "2001:db8:1::1"

static const uint8_t client_mac[6] = {0x02, 0, 0, 0, 0xc1, 0x01};

static struct sluice_xdp *skel;
static struct sl_ctx ctx;
static int prog, stats_fd, conn_fd;
static int if_c, if_b; /* ifindexes: client side (ingress), backends */
static uint8_t mac_b[6];

static uint8_t *be_mac(int n, uint8_t *m)
{
	static const uint8_t base[6] = {0x02, 0, 0, 0, 0xbe, 0};

	memcpy(m, base, 6);
	m[5] = (uint8_t)n;
	return m;
}

static bool read_mac(const char *ifname, uint8_t *m)
{
	char path[128];
	unsigned v[6];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fscanf(f, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5]);
	fclose(f);
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)v[i];
	return n == 6;
}

/* The namespace (lb_lab.h), with /sys mounted again (read_mac). */
static bool lab_up(void)
{
	if (lb_lab_up())
		return false;
	/* /sys shows the namespace's devices only when mounted again */
	if (unshare(CLONE_NEWNS) ||
	    lab_sh("mount --make-rprivate / && mount -t sysfs sysfs /sys"))
		return false;
	if_c = (int)if_nametoindex("lbc0");
	if_b = (int)if_nametoindex("lbb0");
	return if_c && if_b && read_mac("lbb0", mac_b);
}

static bool env_load(void)
{
	struct sl_features f;

	sl_features_default(&f);
	f.lb = 1;
	skel = sl_xdp_load(NULL, &f, SL_PROG_XDP);
	if (!skel)
		return false;
	sl_ctx_wrap(&ctx, skel);
	prog = bpf_program__fd(skel->progs.sluice_xdp);
	stats_fd = bpf_map__fd(skel->maps.sl_stats);
	conn_fd = bpf_map__fd(skel->maps.sl_lb_conn);
	return true;
}

/* ---- services ---- */

static struct sl_lb_cfg running;

static void addr_of(const char *s, uint8_t *a, uint8_t *family)
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1)
		*family = 4;
	else {
		inet_pton(AF_INET6, s, a);
		*family = 6;
	}
}

/* One service: vip:port/proto in mode, backends n of weight w[n] (-1:
 * absent) at port 8000 + n, n 10..15. */
static void svc_fill(struct sl_lb_service_cfg *s, const char *vip,
		     uint16_t port, uint8_t proto, uint8_t mode, const int *w)
{
	memset(s, 0, sizeof(*s));
	addr_of(vip, s->vip, &s->family);
	s->port = port;
	s->proto = proto;
	s->mode = mode;
	s->be = calloc(6, sizeof(*s->be));
	for (int n = 10; n < 16; n++) {
		char a[64];
		struct sl_lb_backend_cfg *b;

		if (w[n - 10] < 0)
			continue;
		b = &s->be[s->n_be++];
		if (s->family == 4)
			snprintf(a, sizeof(a), "198.18.1.%d", n);
		else
			snprintf(a, sizeof(a), "2001:db8:5::%x", n);
		addr_of(a, b->addr, &b->family);
		b->port = (uint16_t)(8000 + n);
		b->weight = (uint32_t)w[n - 10];
	}
}

/* Writes the services (the control plane's writer) as apply would. */
static bool lb_set(struct sl_lb_cfg *want)
{
	int err = sl_lb_write(&ctx, want, &running);

	if (err) {
		check_fail("sl_lb_write: %s", strerror(-err));
		return false;
	}
	sl_lb_cfg_free(&running);
	return !sl_lb_cfg_copy(&running, want);
}

/* ---- frames ---- */

static uint8_t out[PKT_MAX];
static uint32_t out_len, retval;

static bool run(const uint8_t *in, size_t len, int ifindex)
{
	struct xdp_md xctx = {.data_end = (__u32)len,
			      .ingress_ifindex = (__u32)ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
		    .data_size_in = (__u32)len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &xctx,
		    .ctx_size_in = sizeof(xctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &o)) {
		check_fail("test run: %s", strerror(errno));
		return false;
	}
	out_len = o.data_size_out;
	retval = o.retval;
	return true;
}

static uint64_t reason_count(int reason, int action)
{
	struct sl_counter c[SL_STATS_MAX];

	if (sl_stats_read_fd(stats_fd, c))
		return ~0ULL;
	return c[sl_stats_idx(reason, action)].packets;
}

/* The L4 checksum of the segment at l4 (len bytes) under the IP header at
 * ip verifies (computed here from scratch). */
static bool l4_csum_ok(const uint8_t *ip, const uint8_t *l4, size_t len,
		       bool v6, uint8_t proto)
{
	return !pkt_l4_csum(ip, l4, len, v6, proto);
}

/* A frame of the flow sport from the client (or, reply, from backend n to
 * the client), with a valid L4 checksum (computed here); payload bytes
 * after the L4 header; its IPv4 options, fragment field and IPv6
 * extension headers from shape. */
static size_t frame_shaped(uint8_t *b, struct pkt_off *off, bool v6,
			   uint8_t proto, uint16_t sport, int reply_be,
			   uint16_t vport, uint16_t payload,
			   const struct pkt_spec *shape)
{
	char src[64];
	struct pkt_spec s = *shape;
	size_t n, l4len;
	uint8_t *ip, *l4;
	uint32_t sum;
	int cs;

	s.ethertype = v6 ? ETH_P_IPV6 : ETH_P_IP;
	s.proto = proto;
	s.payload = payload;
	s.src = v6 ? CLI6 : CLI4;
	s.dst = v6 ? VIP6 : VIP4;
	s.sport = sport;
	s.dport = vport;
	if (reply_be) {
		snprintf(src, sizeof(src),
			 v6 ? "2001:db8:5::%x" : "198.18.1.%d", reply_be);
		s.src = src;
		s.dst = v6 ? CLI6 : CLI4;
		s.sport = (uint16_t)(8000 + reply_be);
		s.dport = sport;
	}
	n = pkt_build(&s, b, off);
	ip = b + off->l3;
	l4 = b + off->l4;
	l4len = n - off->l4;
	cs = proto == IPPROTO_UDP ? 6 : 16;
	l4[cs] = l4[cs + 1] = 0;
	ip[v6 ? 7 : 8] = 64; /* TTL / hop limit */
	if (!v6)
		pkt_ip4_fix_csum(ip, (size_t)(ip[0] & 0xf) * 4);
	sum = pkt_l4_csum(ip, l4, l4len, v6, proto);
	if (proto == IPPROTO_UDP && !sum)
		sum = 0xffff;
	l4[cs] = (uint8_t)(sum >> 8);
	l4[cs + 1] = (uint8_t)sum;
	return n;
}

/* A frame as frame_shaped()'s, IPv4 frag_off frag (DF or 0). */
static size_t frame_ex(uint8_t *b, struct pkt_off *off, bool v6, uint8_t proto,
		       uint16_t sport, int reply_be, uint16_t vport,
		       uint16_t payload, uint16_t frag)
{
	struct pkt_spec shape = {.frag = frag};

	return frame_shaped(b, off, v6, proto, sport, reply_be, vport, payload,
			    &shape);
}

static size_t frame(uint8_t *b, struct pkt_off *off, bool v6, uint8_t proto,
		    uint16_t sport, int reply_be, uint16_t vport)
{
	return frame_ex(b, off, v6, proto, sport, reply_be, vport, 11, 0);
}

/* The backend number (10..15) the nat output went to (from its
 * destination address), or -1. */
static int nat_backend(const struct pkt_off *off, bool v6)
{
	const uint8_t *ip = out + off->l3;

	return v6 ? ip[39] : ip[19];
}

/* Checks a nat output against its input in: MACs, the address and port
 * rewritten at the destination (fwd) or the source, TTL one less, every
 * other byte the same, checksums right. */
static bool nat_check(const uint8_t *in, size_t len, const struct pkt_off *off,
		      bool v6, uint8_t proto, bool fwd, const char *addr,
		      uint16_t port, const uint8_t *dmac)
{
	uint8_t want[PKT_MAX], a[16];
	uint8_t *ip = want + off->l3, *l4 = want + off->l4;
	int cs = proto == IPPROTO_UDP ? 6 : 16;
	size_t ihl = (size_t)(in[off->l3] & 0xf) * 4; /* IPv4 */
	char why[160];

	memcpy(want, in, len);
	memcpy(want, dmac, 6);
	memcpy(want + 6, mac_b, 6);
	if (fwd && !ASSERT_EQ(retval, XDP_REDIRECT, "xdp verdict"))
		return false;
	if (!fwd) {
		/* the reply leaves from the client side: its MAC */
		uint8_t mc[6];

		read_mac("lbc0", mc);
		memcpy(want + 6, mc, 6);
	}
	inet_pton(v6 ? AF_INET6 : AF_INET, addr, a);
	if (v6) {
		memcpy(ip + (fwd ? 24 : 8), a, 16);
		ip[7]--;
	} else {
		memcpy(ip + (fwd ? 16 : 12), a, 4);
		ip[8]--;
		ip[10] = ip[11] = 0;
		pkt_ip4_fix_csum(ip, ihl);
	}
	pkt_put16(l4 + (fwd ? 2 : 0), port);
	/* the checksums: the program's, verified from scratch */
	l4[cs] = out[off->l4 + cs];
	l4[cs + 1] = out[off->l4 + cs + 1];
	if (!ASSERT_EQ(out_len, len, "output length"))
		return false;
	if (!pkt_same(out, out_len, want, len, why, sizeof(why)))
		return ASSERT_TRUE(false, "%s", why);
	if (!v6 && !ASSERT_EQ(pkt_ip4_csum(out + off->l3, ihl), 0,
			      "IPv4 header checksum"))
		return false;
	return ASSERT_TRUE(
	    l4_csum_ok(out + off->l3, out + off->l4, len - off->l4, v6, proto),
	    "the %s checksum does not verify",
	    proto == IPPROTO_UDP ? "UDP" : "TCP");
}

/* One nat case: a flow to the service, the output checked; its backend
 * in *be. */
static bool nat_case(bool v6, uint8_t proto, uint16_t sport, int *be)
{
	uint8_t in[PKT_MAX], m[6];
	struct pkt_off off;
	size_t len = frame(in, &off, v6, proto, sport, 0,
			   proto == IPPROTO_UDP ? 53 : 80);
	char a[64];
	int n;

	if (!run(in, len, if_c))
		return false;
	n = nat_backend(&off, v6);
	if (!ASSERT_TRUE(n >= 10 && n < 16,
			 "no backend address in the output "
			 "(verdict %u)",
			 retval))
		return false;
	snprintf(a, sizeof(a), v6 ? "2001:db8:5::%x" : "198.18.1.%d", n);
	if (be)
		*be = n;
	return nat_check(in, len, &off, v6, proto, true, a,
			 (uint16_t)(8000 + n), be_mac(n, m));
}

/* The reply of backend n to the flow sport: from VIP:vport, to the
 * client's MAC. */
static bool reply_case(bool v6, uint8_t proto, uint16_t sport, int n)
{
	uint8_t in[PKT_MAX];
	struct pkt_off off;
	uint16_t vport = proto == IPPROTO_UDP ? 53 : 80;
	size_t len = frame(in, &off, v6, proto, sport, n, vport);

	if (!run(in, len, if_b))
		return false;
	if (!ASSERT_EQ(retval, XDP_REDIRECT, "reply verdict"))
		return false;
	return nat_check(in, len, &off, v6, proto, false, v6 ? VIP6 : VIP4,
			 vport, client_mac);
}

/* The backend (10..15) of a new dsr-l2 frame of flow sport, shaped as
 * shape says, from its MAC; only the MACs may differ. */
static int dsr_backend(bool v6, uint16_t sport, const struct pkt_spec *shape)
{
	uint8_t in[PKT_MAX];
	struct pkt_off off;
	size_t len =
	    frame_shaped(in, &off, v6, IPPROTO_TCP, sport, 0, 80, 11, shape);
	char why[160];

	if (!run(in, len, if_c) || retval != XDP_REDIRECT || out_len != len ||
	    memcmp(out + 6, mac_b, 6))
		return -1;
	memcpy(in, out, 12);
	if (!pkt_same(out, out_len, in, len, why, sizeof(why))) {
		check_fail("%s", why);
		return -1;
	}
	return out[5] >= 10 && out[5] < 16 && !memcmp(out, "\x02\0\0\0\xbe", 5)
		   ? out[5]
		   : -1;
}

static size_t conn_entries(void)
{
	__u32 zero = 0, id;
	int fd;
	size_t n;

	if (bpf_map_lookup_elem(conn_fd, &zero, &id))
		return 0;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return 0;
	n = map_count(fd);
	close(fd);
	return n;
}

/* ---- the cases ---- */

static const int w3[6] = {1, 1, 1, -1, -1, -1};

/* An empty section with room for 4 services. */
static struct sl_lb_cfg cfg_new(void)
{
	struct sl_lb_cfg c = {.svc = calloc(4, sizeof(*c.svc)), .n_svc = 0};

	return c;
}

/* Services VIP4 and VIP6, 80/tcp and 53/udp, in mode, backends 10, 11,
 * 12 (weights w3), written. */
static bool four_services(uint8_t mode)
{
	struct sl_lb_cfg c = cfg_new();
	bool ok;

	svc_fill(&c.svc[c.n_svc++], VIP4, 80, IPPROTO_TCP, mode, w3);
	svc_fill(&c.svc[c.n_svc++], VIP4, 53, IPPROTO_UDP, mode, w3);
	svc_fill(&c.svc[c.n_svc++], VIP6, 80, IPPROTO_TCP, mode, w3);
	svc_fill(&c.svc[c.n_svc++], VIP6, 53, IPPROTO_UDP, mode, w3);
	ok = lb_set(&c);
	sl_lb_cfg_free(&c);
	return ok;
}

static bool check_nat_frames(void)
{
	bool ok;
	int be;

	if (!four_services(SL_LB_NAT))
		return false;
	ok = true;
	for (int v6 = 0; v6 < 2; v6++)
		for (int u = 0; u < 2; u++) {
			uint8_t proto = u ? IPPROTO_UDP : IPPROTO_TCP;
			char name[96];
			bool one;

			snprintf(name, sizeof(name),
				 "nat IPv%d %s: destination, port, MACs, TTL "
				 "and checksums",
				 v6 ? 6 : 4, u ? "UDP" : "TCP");
			one = nat_case(v6, proto, 40001, &be);
			check_report(name, one);
			snprintf(name, sizeof(name),
				 "nat IPv%d %s: the reply leaves from VIP:port",
				 v6 ? 6 : 4, u ? "UDP" : "TCP");
			one = one && reply_case(v6, proto, 40001, be);
			check_report(name, one);
			ok = ok && one;
		}
	return ok;
}

static bool check_counted(uint64_t before)
{
	return ASSERT_TRUE(reason_count(SL_R_LB_FWD, SL_ACT_REDIRECT) > before,
			   "no lb-forward redirect counted");
}

/* Flows sport..sport+n-1 of IPv4 TCP nat: their backends into be[]. */
static bool flows(uint16_t sport, int n, int *be)
{
	for (int i = 0; i < n; i++)
		if (!nat_case(false, IPPROTO_TCP, (uint16_t)(sport + i),
			      &be[i]))
			return false;
	return true;
}

static bool check_affinity(void)
{
	int w[6] = {1, 1, 1, -1, -1, -1}, first[64], again[64], fresh[64];
	struct sl_lb_cfg c = cfg_new();
	int moved = 0, new_ones = 0, to_drained = 0, kept = 0, left = 0;
	int lost = 0;
	int drained;
	bool ok;

	/* one service, three backends, 64 flows recorded */
	svc_fill(&c.svc[c.n_svc++], VIP4, 80, IPPROTO_TCP, SL_LB_NAT, w);
	ok = lb_set(&c) && flows(1000, 64, first);
	sl_lb_cfg_free(&c);
	check_report("nat: new flows are recorded in the connection table",
		     ok && ASSERT_TRUE(conn_entries() >= 128,
				       "%zu entries for 64 nat flows (a "
				       "forward and a reverse each)",
				       conn_entries()));
	/* three more backends: the table is swapped, the flows stay */
	w[3] = w[4] = w[5] = 1;
	c = cfg_new();
	svc_fill(&c.svc[c.n_svc++], VIP4, 80, IPPROTO_TCP, SL_LB_NAT, w);
	ok = ok && lb_set(&c) && flows(1000, 64, again);
	sl_lb_cfg_free(&c);
	for (int i = 0; ok && i < 64; i++)
		moved += again[i] != first[i];
	check_report("a backend added: established flows keep their backend "
		     "(Maglev table swapped)",
		     ok && ASSERT_EQ(moved, 0, "flows moved"));
	ok = ok && flows(3000, 64, fresh);
	for (int i = 0; ok && i < 64; i++)
		new_ones += fresh[i] >= 13;
	check_report("a backend added: new flows reach the new backends",
		     ok && ASSERT_TRUE(new_ones > 8,
				       "%d of 64 new flows on the 3 new "
				       "backends",
				       new_ones));
	/* drain the first flow's backend */
	drained = first[0];
	w[drained - 10] = 0;
	c = cfg_new();
	svc_fill(&c.svc[c.n_svc++], VIP4, 80, IPPROTO_TCP, SL_LB_NAT, w);
	ok = ok && lb_set(&c) && flows(1000, 64, again);
	sl_lb_cfg_free(&c);
	for (int i = 0; ok && i < 64; i++) {
		kept += first[i] == drained && again[i] == drained;
		lost += first[i] == drained && again[i] != drained;
	}
	check_report("drain: the drained backend keeps its flows",
		     ok && ASSERT_TRUE(kept > 0 && !lost,
				       "%d of its flows kept, %d moved", kept,
				       lost));
	ok = ok && flows(5000, 64, fresh);
	for (int i = 0; ok && i < 64; i++)
		to_drained += fresh[i] == drained;
	check_report("drain: no new flow goes to the drained backend",
		     ok && ASSERT_EQ(to_drained, 0, "new flows to it"));
	/* remove it: its flows move, the others stay */
	w[drained - 10] = -1;
	c = cfg_new();
	svc_fill(&c.svc[c.n_svc++], VIP4, 80, IPPROTO_TCP, SL_LB_NAT, w);
	ok = ok && lb_set(&c) && flows(1000, 64, again);
	sl_lb_cfg_free(&c);
	moved = 0;
	for (int i = 0; ok && i < 64; i++) {
		left += first[i] == drained && again[i] != drained;
		moved += first[i] != drained && again[i] != first[i];
	}
	check_report("removal: the removed backend's flows move, no other flow "
		     "does",
		     ok && ASSERT_TRUE(left == kept && moved == 0,
				       "%d of %d flows left it, %d others "
				       "moved",
				       left, kept, moved));
	return ok;
}

/* The backend id of 198.18.1.n:80nn in the running state. */
static __u32 be_id(int n)
{
	struct sl_lb_cfg run;
	__u32 id = 0;

	if (sl_lb_read(&ctx, &run))
		return 0;
	for (size_t i = 0; i < run.n_svc; i++)
		for (size_t j = 0; j < run.svc[i].n_be; j++)
			if (run.svc[i].be[j].port == 8000 + n &&
			    run.svc[i].family == 4)
				id = run.svc[i].be[j].id;
	sl_lb_cfg_free(&run);
	return id;
}

/* k health-check outcomes ok for backend n of the IPv4 TCP service. */
static bool checked(int n, bool ok, int k)
{
	struct sl_lb_probe p = {0};
	int err = 0;

	addr_of(VIP4, p.svc.vip, &p.svc.family);
	p.svc.port = 80;
	p.svc.proto = IPPROTO_TCP;
	p.id = be_id(n);
	snprintf(p.err, sizeof(p.err), "test");
	p.ok = ok;
	p.port = (uint16_t)(8000 + n);
	p.family = 4;
	p.addr[0] = 198;
	p.addr[1] = 18;
	p.addr[2] = 1;
	p.addr[3] = (uint8_t)n;
	for (int i = 0; !err && i < k; i++)
		err = sl_lb_health_record(&ctx, &p, 1, 1000 + i);
	return ASSERT_EQ(err, 0, "sl_lb_health_record");
}

/* One service with a health check (rise 2, fall 2), w backends. */
static bool health_set(const int *w, bool hc)
{
	struct sl_lb_cfg c = cfg_new();
	struct sl_lb_service_cfg *s = &c.svc[c.n_svc++];
	bool ok;

	svc_fill(s, VIP4, 80, IPPROTO_TCP, SL_LB_NAT, w);
	if (hc) {
		s->hc.type = SL_LB_HC_HTTP;
		s->hc.rise = s->hc.fall = 2;
		s->hc.interval_ms = 1000;
		snprintf(s->hc.path, sizeof(s->hc.path), "/");
	}
	ok = lb_set(&c);
	sl_lb_cfg_free(&c);
	return ok;
}

/* Health checks (the daemon's outcomes, recorded as it records them): a
 * backend down leaves the table (no new flow) and its flows move, the
 * others' stay; an unrelated apply keeps it out; up again, it takes new
 * flows; a service without a check is up whatever was recorded. */
static bool check_health(void)
{
	int w[6] = {1, 1, 1, -1, -1, -1}, first[64], again[64], fresh[64];
	int victim, moved = 0, left = 0, to_it = 0, of_it = 0;
	bool ok;

	ok = health_set(w, true) && flows(20000, 64, first);
	victim = first[0];
	for (int i = 0; i < 64; i++)
		of_it += first[i] == victim;
	/* one failure (fall 2): nothing changes */
	ok = ok && checked(victim, false, 1) && flows(20000, 64, again);
	for (int i = 0; ok && i < 64; i++)
		moved += again[i] != first[i];
	check_report("health: one failed check of fall 2 changes nothing",
		     ok && ASSERT_EQ(moved, 0, "flows moved"));
	/* the second: down */
	ok = ok && checked(victim, false, 1) && flows(20000, 64, again);
	moved = 0;
	for (int i = 0; ok && i < 64; i++) {
		left += first[i] == victim && again[i] != victim;
		moved += first[i] != victim && again[i] != first[i];
	}
	check_report("health: a backend down: its flows move, no other flow "
		     "does",
		     ok && ASSERT_TRUE(of_it > 0 && left == of_it && !moved,
				       "%d of its %d flows left it, %d others "
				       "moved",
				       left, of_it, moved));
	ok = ok && flows(22000, 64, fresh);
	for (int i = 0; ok && i < 64; i++)
		to_it += fresh[i] == victim;
	check_report("health: a backend down takes no new flow (table swapped)",
		     ok && ASSERT_EQ(to_it, 0, "new flows to it"));
	/* an apply that changes the service (another backend): still out */
	w[3] = 1;
	ok = ok && health_set(w, true) && flows(24000, 64, fresh);
	to_it = 0;
	for (int i = 0; ok && i < 64; i++)
		to_it += fresh[i] == victim;
	check_report("health: an apply that rebuilds the table keeps a down "
		     "backend out",
		     ok && ASSERT_EQ(to_it, 0, "new flows to it"));
	/* two good checks: up, new flows again */
	ok = ok && checked(victim, true, 2) && flows(26000, 64, fresh);
	to_it = 0;
	for (int i = 0; ok && i < 64; i++)
		to_it += fresh[i] == victim;
	check_report(
	    "health: up again after rise good checks, it takes new "
	    "flows",
	    ok && ASSERT_TRUE(to_it > 4, "%d of 64 new flows to it", to_it));
	/* down again, then the service's check removed: up */
	ok = ok && checked(victim, false, 2) && health_set(w, false) &&
	     flows(28000, 64, fresh);
	to_it = 0;
	for (int i = 0; ok && i < 64; i++)
		to_it += fresh[i] == victim;
	check_report(
	    "health: a service without a check has every backend up",
	    ok && ASSERT_TRUE(to_it > 4, "%d of 64 new flows to it", to_it));
	return ok;
}

static bool check_dsr(void)
{
	int w[6] = {1, 1, 1, -1, -1, -1};
	struct sl_lb_cfg c = cfg_new();
	bool ok, seen[16] = {0};
	int n = 0;

	svc_fill(&c.svc[c.n_svc++], VIP4, 80, IPPROTO_TCP, SL_LB_DSR_L2, w);
	svc_fill(&c.svc[c.n_svc++], VIP6, 80, IPPROTO_TCP, SL_LB_DSR_L2, w);
	ok = lb_set(&c);
	sl_lb_cfg_free(&c);
	for (int v6 = 0; ok && v6 < 2; v6++) {
		char name[96];
		bool one = true;

		memset(seen, 0, sizeof(seen));
		for (int i = 0; one && i < 32; i++) {
			int be = dsr_backend(v6, (uint16_t)(7000 + i),
					     &(struct pkt_spec){0});

			one = ASSERT_TRUE(be >= 10 && be <= 12,
					  "flow %d: backend %d (verdict %u)", i,
					  be, retval);
			if (one)
				seen[be] = true;
		}
		n = seen[10] + seen[11] + seen[12];
		snprintf(
		    name, sizeof(name),
		    "dsr-l2 IPv%d: only the MACs change, 32 flows over the "
		    "3 backends",
		    v6 ? 6 : 4);
		check_report(name, one && ASSERT_EQ(n, 3, "backends used"));
		ok = ok && one;
	}
	return ok;
}

/* ---- fragments, IPv4 options, IPv6 extension headers ---- */

/* The shape of a fragment: IPv4 frag_off, or an IPv6 fragment header with
 * that offset/flags field. */
static struct pkt_spec frag_shape(bool v6, uint16_t frag)
{
	struct pkt_spec sh = {.frag = frag};

	if (v6) {
		sh.n_ext = 1;
		sh.ext[0] = IPPROTO_FRAGMENT;
	}
	return sh;
}

/* A fragment to a service is not balanced (docs/loadbalancer.md): it goes
 * on to the next stages, here to a pass, unchanged, with nothing forwarded
 * and no connection recorded. A later fragment's first payload bytes read
 * as the service's ports. */
static bool frag_case(bool v6, uint16_t frag, uint16_t sport)
{
	struct pkt_spec sh = frag_shape(v6, frag);
	uint64_t fwd = reason_count(SL_R_LB_FWD, SL_ACT_REDIRECT);
	size_t conns = conn_entries(), len;
	uint8_t in[PKT_MAX];
	struct pkt_off off;
	char why[160];

	len = frame_shaped(in, &off, v6, IPPROTO_UDP, sport, 0, 53, 64, &sh);
	return run(in, len, if_c) && ASSERT_EQ(retval, XDP_PASS, "verdict") &&
	       ASSERT_TRUE(pkt_same(out, out_len, in, len, why, sizeof(why)),
			   "%s", why) &&
	       ASSERT_EQ(reason_count(SL_R_LB_FWD, SL_ACT_REDIRECT), fwd,
			 "lb-forward redirects") &&
	       ASSERT_EQ(conn_entries(), conns, "connection entries");
}

/* IPv4 options (8 bytes) or an IPv6 destination-options header (16
 * bytes) on a new nat flow: the fixed header and the L4 header rewritten,
 * the options kept byte for byte, the checksums right (the IPv4 header
 * checksum over the whole header). */
static bool opts_nat_case(bool v6, uint8_t proto, uint16_t sport)
{
	struct pkt_spec sh = {.ip_opts = 8};
	uint8_t in[PKT_MAX], m[6];
	struct pkt_off off;
	size_t len;
	char a[64];
	int n;

	if (v6) {
		sh = (struct pkt_spec){
		    .n_ext = 1, .ext = {IPPROTO_DSTOPTS}, .ext_hlen = {1}};
	}
	len = frame_shaped(in, &off, v6, proto, sport, 0,
			   proto == IPPROTO_UDP ? 53 : 80, 11, &sh);
	if (!ASSERT_EQ(off.l4 - off.l3, v6 ? 56u : 28u, "header length built"))
		return false;
	if (!run(in, len, if_c))
		return false;
	n = nat_backend(&off, v6);
	if (!ASSERT_TRUE(n >= 10 && n < 13,
			 "no backend address in the output "
			 "(verdict %u)",
			 retval))
		return false;
	snprintf(a, sizeof(a), v6 ? "2001:db8:5::%x" : "198.18.1.%d", n);
	return nat_check(in, len, &off, v6, proto, true, a,
			 (uint16_t)(8000 + n), be_mac(n, m));
}

static void check_shapes(void)
{
	static const struct {
		bool v6;
		uint16_t frag;
		const char *what;
	} fr[] = {
	    {false, PKT_IP4_MF, "IPv4 first fragment"},
	    {false, 8, "IPv4 later fragment"},
	    {true, PKT_IP6_M, "IPv6 first fragment"},
	    {true, PKT_IP6_OFF(8), "IPv6 later fragment"},
	};
	bool ok = four_services(SL_LB_NAT);

	check_report("nat services for the fragment and option cases", ok);
	if (!ok)
		return;
	for (size_t i = 0; i < sizeof(fr) / sizeof(fr[0]); i++) {
		char name[120];

		snprintf(name, sizeof(name),
			 "%s to a UDP service: not balanced, passed unchanged, "
			 "no connection recorded",
			 fr[i].what);
		check_report(name, frag_case(fr[i].v6, fr[i].frag,
					     (uint16_t)(45000 + i)));
	}
	for (int v6 = 0; v6 < 2; v6++)
		for (int u = 0; u < 2; u++) {
			char name[120];

			snprintf(name, sizeof(name),
				 "nat IPv%d %s with %s: rewritten, %s kept, "
				 "checksums right",
				 v6 ? 6 : 4, u ? "UDP" : "TCP",
				 v6 ? "a destination-options header"
				    : "8 bytes of IPv4 options",
				 v6 ? "the extension header" : "the options");
			check_report(
			    name,
			    opts_nat_case(v6, u ? IPPROTO_UDP : IPPROTO_TCP,
					  (uint16_t)(45100 + v6 * 2 + u)));
		}
	{
		int w[6] = {1, 1, 1, -1, -1, -1};
		struct sl_lb_cfg c = cfg_new();
		struct pkt_spec o4 = {.ip_opts = 8};
		struct pkt_spec o6 = {
		    .n_ext = 1, .ext = {IPPROTO_DSTOPTS}, .ext_hlen = {1}};
		int b4, b6;

		svc_fill(&c.svc[c.n_svc++], VIP4, 80, IPPROTO_TCP, SL_LB_DSR_L2,
			 w);
		svc_fill(&c.svc[c.n_svc++], VIP6, 80, IPPROTO_TCP, SL_LB_DSR_L2,
			 w);
		ok = lb_set(&c);
		sl_lb_cfg_free(&c);
		b4 = ok ? dsr_backend(false, 45200, &o4) : -1;
		b6 = ok ? dsr_backend(true, 45201, &o6) : -1;
		check_report(
		    "dsr-l2 with IPv4 options / an IPv6 extension "
		    "header: only the MACs change",
		    ASSERT_TRUE(b4 >= 10 && b4 <= 12 && b6 >= 10 && b6 <= 12,
				"backends %d and %d (verdict %u)", b4, b6,
				retval));
	}
}

/* The next hop of a backend comes from the per-CPU cache (lb.h,
 * sl_lb_hops) for SL_LB_HOP_NS (1 s) after a lookup: a neighbour change
 * reaches the flow's frames after that, not before. Run after check_dsr
 * (its dsr-l2 services). */
static bool check_hop_cache(void)
{
	char cmd[160];
	int be = dsr_backend(false, 7100, &(struct pkt_spec){0}), now;
	bool ok;

	if (!ASSERT_TRUE(be >= 10 && be <= 12, "backend %d", be))
		return false;
	snprintf(cmd, sizeof(cmd),
		 "ip neigh replace 198.18.1.%d lladdr 02:00:00:00:be:77 dev "
		 "lbb0 nud permanent",
		 be);
	if (lab_sh(cmd))
		return false;
	now = dsr_backend(false, 7100, &(struct pkt_spec){0});
	ok = ASSERT_EQ(now, be, "right after the change: the cached MAC");
	usleep(1100 * 1000);
	now = dsr_backend(false, 7100, &(struct pkt_spec){0});
	ok = ASSERT_EQ(now, -1, "after 1.1 s: not the old MAC") && ok;
	ok = ASSERT_EQ(out[5], 0x77, "after 1.1 s: the new MAC") && ok;
	snprintf(cmd, sizeof(cmd),
		 "ip neigh replace 198.18.1.%d lladdr 02:00:00:00:be:%02x dev "
		 "lbb0 nud permanent",
		 be, be);
	if (lab_sh(cmd))
		return false;
	/* the cases after this one find the backend's own MAC again */
	usleep(1100 * 1000);
	now = dsr_backend(false, 7100, &(struct pkt_spec){0});
	return ASSERT_EQ(now, be, "after the MAC came back") && ok;
}

/* ---- nat: a connection over, its tuple reused ---- */

/* Runs a TCP segment (flags) of flow sport: from the client to the VIP
 * (be 0) or from backend be to the client. Returns 1 when the program
 * translated it (forwarded, a VIP-side rewrite), 0 when it went on
 * unchanged (XDP_PASS, the frame as it came), -1 otherwise. */
static int nat_seg(uint16_t sport, int be, uint8_t flags)
{
	struct pkt_spec sh = {.tcp_flags = flags};
	uint8_t in[PKT_MAX];
	struct pkt_off off;
	size_t len =
	    frame_shaped(in, &off, false, IPPROTO_TCP, sport, be, 80, 11, &sh);
	char why[160];

	if (!run(in, len, be ? if_b : if_c))
		return -1;
	if (retval == XDP_REDIRECT)
		return 1;
	if (retval == XDP_PASS &&
	    pkt_same(out, out_len, in, len, why, sizeof(why)))
		return 0;
	check_fail("flags 0x%02x from %s: verdict %u", flags,
		   be ? "the backend" : "the client", retval);
	return -1;
}

/* A nat connection that closed (a FIN each way, or a RST): a SYN-ACK of
 * its backend to the client on the same tuple is another connection (the
 * client to the backend directly) and is not translated, nor what follows
 * it; the client's new SYN to the VIP on that tuple is translated again,
 * to the same backend. */
static bool nat_close_case(uint16_t sport, bool rst)
{
	int be;

	if (!nat_case(false, IPPROTO_TCP, sport, &be))
		return false;
	if (!ASSERT_EQ(nat_seg(sport, be, SL_TCP_SYN | SL_TCP_ACK), 1,
		       "the handshake's SYN-ACK translated"))
		return false;
	if (rst) {
		if (!ASSERT_EQ(nat_seg(sport, 0, SL_TCP_RST | SL_TCP_ACK), 1,
			       "the client's RST forwarded"))
			return false;
	} else if (!ASSERT_EQ(nat_seg(sport, 0, SL_TCP_FIN | SL_TCP_ACK), 1,
			      "the client's FIN forwarded") ||
		   !ASSERT_EQ(nat_seg(sport, be, SL_TCP_ACK), 1,
			      "an ACK after one FIN translated") ||
		   !ASSERT_EQ(nat_seg(sport, be, SL_TCP_FIN | SL_TCP_ACK), 1,
			      "the backend's FIN translated") ||
		   !ASSERT_EQ(nat_seg(sport, be, SL_TCP_ACK), 1,
			      "an ACK after both FINs still translated")) {
		return false;
	}
	return ASSERT_EQ(nat_seg(sport, be, SL_TCP_SYN | SL_TCP_ACK), 0,
			 "a SYN-ACK on the closed tuple left alone") &&
	       ASSERT_EQ(nat_seg(sport, be, SL_TCP_ACK), 0,
			 "what follows it left alone") &&
	       ASSERT_EQ(nat_seg(sport, 0, SL_TCP_SYN), 1,
			 "a new SYN to the VIP on the tuple translated") &&
	       ASSERT_EQ(nat_seg(sport, be, SL_TCP_SYN | SL_TCP_ACK), 1,
			 "its SYN-ACK translated again");
}

static bool nat_open_case(uint16_t sport)
{
	int be;

	return nat_case(false, IPPROTO_TCP, sport, &be) &&
	       ASSERT_EQ(nat_seg(sport, be, SL_TCP_SYN | SL_TCP_ACK), 1,
			 "SYN-ACK") &&
	       ASSERT_EQ(nat_seg(sport, be, SL_TCP_SYN | SL_TCP_ACK), 1,
			 "its retransmission");
}

static void check_nat_close(void)
{
	bool ok = four_services(SL_LB_NAT);

	check_report("nat: a connection over (a FIN each way), a SYN-ACK on "
		     "its tuple is another connection's, not translated; a new "
		     "SYN to the VIP is",
		     ok && nat_close_case(46000, false));
	check_report("nat: a connection over (a RST), the same",
		     ok && nat_close_case(46001, true));
	check_report("nat: a SYN-ACK of an open connection is translated, "
		     "a retransmitted one too",
		     ok && nat_open_case(46002));
}

static bool check_no_backend(void)
{
	int w[6] = {0, 0, -1, -1, -1, -1};
	struct sl_lb_cfg c = cfg_new();
	uint8_t in[PKT_MAX];
	struct pkt_off off;
	uint64_t before = reason_count(SL_R_LB_NO_BACKEND, SL_ACT_DROP);
	size_t len;
	bool ok;

	/* the VIP6 service drained to nothing, the VIP4 one with none */
	svc_fill(&c.svc[c.n_svc++], VIP6, 80, IPPROTO_TCP, SL_LB_NAT, w);
	memset(w, 0xff, sizeof(w));
	svc_fill(&c.svc[c.n_svc++], VIP4, 80, IPPROTO_TCP, SL_LB_NAT, w);
	ok = lb_set(&c);
	sl_lb_cfg_free(&c);
	len = frame(in, &off, true, IPPROTO_TCP, 9999, 0, 80);
	ok = ok && run(in, len, if_c) &&
	     ASSERT_EQ(retval, XDP_DROP, "IPv6 verdict");
	len = frame(in, &off, false, IPPROTO_TCP, 9999, 0, 80);
	ok = ok && run(in, len, if_c) &&
	     ASSERT_EQ(retval, XDP_DROP, "IPv4 verdict") &&
	     ASSERT_EQ(reason_count(SL_R_LB_NO_BACKEND, SL_ACT_DROP) - before,
		       2, "lb-no-backend drops");
	/* another port of the VIP is no service: the stage passes it on */
	len = frame(in, &off, false, IPPROTO_TCP, 9999, 0, 81);
	return ok && run(in, len, if_c) &&
	       ASSERT_EQ(retval, XDP_PASS, "not a service's port");
}

/* A backend without a resolved neighbour: nat passes the frame to the
 * stack already rewritten (no TTL change), reason lb-no-route. */
static bool check_no_route(void)
{
	struct sl_lb_cfg c = cfg_new();
	struct sl_lb_service_cfg *s;
	uint8_t in[PKT_MAX], a[4];
	struct pkt_off off;
	uint64_t before = reason_count(SL_R_LB_NO_ROUTE, SL_ACT_PASS);
	size_t len;
	bool ok;

	s = &c.svc[c.n_svc++];
	memset(s, 0, sizeof(*s));
	addr_of(VIP4, s->vip, &s->family);
	s->port = 80;
	s->proto = IPPROTO_TCP;
	s->mode = SL_LB_NAT;
	s->be = calloc(1, sizeof(*s->be));
	s->n_be = 1;
	addr_of("198.18.1.99", s->be[0].addr, &s->be[0].family);
	s->be[0].port = 8099;
	s->be[0].weight = 1;
	ok = lb_set(&c);
	sl_lb_cfg_free(&c);
	len = frame(in, &off, false, IPPROTO_TCP, 4242, 0, 80);
	inet_pton(AF_INET, "198.18.1.99", a);
	return ok && run(in, len, if_c) &&
	       ASSERT_EQ(retval, XDP_PASS, "verdict") &&
	       ASSERT_EQ(reason_count(SL_R_LB_NO_ROUTE, SL_ACT_PASS) - before,
			 1, "lb-no-route passes") &&
	       ASSERT_TRUE(!memcmp(out + off.l3 + 16, a, 4) &&
			       out[off.l3 + 8] == 64 &&
			       !pkt_ip4_csum(out + off.l3, 20) &&
			       l4_csum_ok(out + off.l3, out + off.l4,
					  len - off.l4, false, IPPROTO_TCP),
			   "not rewritten to the backend with TTL 64 and "
			   "valid checksums");
}

/* A VLAN-tagged frame to a service is not balanced: it goes on (passed
 * unchanged by the default policy). Run after check_no_route (its
 * service). */
static bool check_vlan(void)
{
	struct pkt_spec sp = {.vlan = {ETH_P_8021Q},
			      .ethertype = ETH_P_IP,
			      .proto = IPPROTO_TCP,
			      .dst = VIP4,
			      .dport = 80};
	uint8_t in[PKT_MAX];
	uint64_t before = reason_count(SL_R_LB_NO_ROUTE, SL_ACT_PASS);
	size_t len = pkt_build(&sp, in, NULL);
	char why[160];

	return run(in, len, if_c) && ASSERT_EQ(retval, XDP_PASS, "verdict") &&
	       ASSERT_EQ(reason_count(SL_R_LB_NO_ROUTE, SL_ACT_PASS), before,
			 "lb-no-route") &&
	       ASSERT_TRUE(pkt_same(out, out_len, in, len, why, sizeof(why)),
			   "%s", why);
}

/* ---- dsr-ipip ---- */

/* The dsr-ipip frame backend n should receive for the frame in (built
 * here from the input alone): its next hop's MACs, the outer header
 * (from the VIP, TTL / hop limit 64, TOS / traffic class and DF of the
 * inner packet, the IPv4 checksum computed here), the inner packet as it
 * came. Returns its length. */
static size_t ipip_want(uint8_t *w, const uint8_t *in, size_t len, bool v6,
			int n)
{
	size_t hl = v6 ? 40 : 20;
	uint8_t *o = w + 14;
	char a[64];

	be_mac(n, w);
	memcpy(w + 6, mac_b, 6);
	memcpy(w + 12, in + 12, 2);
	memcpy(w + 14 + hl, in + 14, len - 14);
	memset(o, 0, hl);
	snprintf(a, sizeof(a), v6 ? "2001:db8:5::%x" : "198.18.1.%d", n);
	if (v6) {
		o[0] = 0x60 | (in[14] & 0x0f);
		o[1] = in[15] & 0xf0;
		pkt_put16(o + 4, (uint16_t)(len - 14));
		o[6] = 41;
		o[7] = 64;
		inet_pton(AF_INET6, VIP6, o + 8);
		inet_pton(AF_INET6, a, o + 24);
	} else {
		o[0] = 0x45;
		o[1] = in[15];
		pkt_put16(o + 2, (uint16_t)(len - 14 + 20));
		o[6] = in[14 + 6] & 0x40;
		o[8] = 64;
		o[9] = 4;
		inet_pton(AF_INET, VIP4, o + 12);
		inet_pton(AF_INET, a, o + 16);
		pkt_ip4_fix_csum(o, 20);
	}
	return len + hl;
}

/* One dsr-ipip frame of flow sport (payload bytes, IPv4 DF when df):
 * the output checked byte by byte against ipip_want; its backend in *be
 * and the expected frame in want (for the decap checks). */
static bool ipip_case(bool v6, uint8_t proto, uint16_t sport, uint16_t payload,
		      bool df, uint8_t *want, size_t *wlen, int *be)
{
	uint8_t in[PKT_MAX];
	struct pkt_off off;
	size_t len = frame_ex(in, &off, v6, proto, sport, 0,
			      proto == IPPROTO_UDP ? 53 : 80, payload,
			      df ? PKT_IP4_DF : 0);
	size_t hl = v6 ? 40 : 20;
	char why[160];
	int n;

	if (!run(in, len, if_c) ||
	    !ASSERT_EQ(retval, XDP_REDIRECT, "xdp verdict") ||
	    !ASSERT_EQ(out_len, len + hl, "output length"))
		return false;
	n = out[14 + (v6 ? 39 : 19)];
	if (!ASSERT_TRUE(n >= 10 && n < 13, "outer destination %d", n))
		return false;
	*wlen = ipip_want(want, in, len, v6, n);
	*be = n;
	if (!pkt_same(out, out_len, want, *wlen, why, sizeof(why)))
		return ASSERT_TRUE(false, "%s", why);
	if (!v6 && !ASSERT_EQ(pkt_ip4_csum(out + 14, 20), 0,
			      "outer IPv4 header checksum"))
		return false;
	return ASSERT_TRUE(l4_csum_ok(out + 14 + hl + off.l3 - 14,
				      out + 14 + hl + off.l4 - 14, len - off.l4,
				      v6, proto),
			   "the inner L4 checksum does not verify");
}

/* dsr-ipip: IPv4 and IPv6, TCP and UDP, 24 flows each over the three
 * backends, every frame checked byte by byte. */
static void check_ipip(void)
{
	uint8_t want[PKT_MAX];
	size_t wlen;

	if (!four_services(SL_LB_DSR_IPIP)) {
		check_report("dsr-ipip services written", false);
		return;
	}
	for (int v6 = 0; v6 < 2; v6++)
		for (int u = 0; u < 2; u++) {
			uint8_t proto = u ? IPPROTO_UDP : IPPROTO_TCP;
			int seen[16] = {0}, be = 0, used = 0;
			bool ok = true;
			char name[128];

			/* source ports no earlier case used: a flow already
			 * recorded keeps its backend */
			for (uint16_t sp = 50000; sp < 50024 && ok; sp++) {
				ok = ipip_case(v6, proto, sp, 11, !u, want,
					       &wlen, &be);
				seen[be] = 1;
			}
			used = seen[10] + seen[11] + seen[12];
			snprintf(name, sizeof(name),
				 "dsr-ipip IPv%d %s: outer header, checksums "
				 "and inner packet byte by byte, 24 flows over "
				 "the 3 backends",
				 v6 ? 6 : 4, u ? "UDP" : "TCP");
			check_report(name,
				     ok && ASSERT_EQ(used, 3, "backends used"));
		}
}

/* The too-big answer expected for the frame in (built here): ICMP 3/4
 * with next-hop MTU mtu - 20 quoting the IP header and 8 bytes, or
 * ICMPv6 2 with MTU mtu - 40 quoting 1232 bytes; from the VIP to the
 * client, MACs swapped, checksums computed here. */
static size_t too_big_want(uint8_t *w, const uint8_t *in, bool v6, unsigned mtu)
{
	size_t q = v6 ? 1232 : 28, hl = v6 ? 40 : 20;
	uint8_t *ip = w + 14, *ic = w + 14 + hl;

	memcpy(w, in + 6, 6);
	memcpy(w + 6, in, 6);
	memcpy(w + 12, in + 12, 2);
	memset(ip, 0, hl + 8);
	memcpy(ic + 8, in + 14, q);
	if (v6) {
		ip[0] = 0x60;
		pkt_put16(ip + 4, (uint16_t)(8 + q));
		ip[6] = 58;
		ip[7] = 64;
		inet_pton(AF_INET6, VIP6, ip + 8);
		inet_pton(AF_INET6, CLI6, ip + 24);
		ic[0] = 2;
		pkt_put16(ic + 6, (uint16_t)(mtu - 40));
		pkt_put16(ic + 2, pkt_l4_csum(ip, ic, 8 + q, true, 58));
	} else {
		ip[0] = 0x45;
		pkt_put16(ip + 2, (uint16_t)(28 + q));
		ip[8] = 64;
		ip[9] = 1;
		inet_pton(AF_INET, VIP4, ip + 12);
		inet_pton(AF_INET, CLI4, ip + 16);
		pkt_ip4_fix_csum(ip, 20);
		ic[0] = 3;
		ic[1] = 4;
		pkt_put16(ic + 6, (uint16_t)(mtu - 20));
		pkt_put16(ic + 2, pkt_ip4_csum(ic, 8 + q));
	}
	return 14 + hl + 8 + q;
}

/* A frame one byte over the egress MTU (1400 on lbb0) once encapsulated:
 * answered (tx) byte by byte; one byte less is encapsulated. IPv4
 * without DF: dropped. All with reason lb-too-big. */
static bool check_too_big(void)
{
	uint64_t tx = reason_count(SL_R_LB_TOO_BIG, SL_ACT_TX);
	uint64_t dr = reason_count(SL_R_LB_TOO_BIG, SL_ACT_DROP);
	uint8_t in[PKT_MAX], want[PKT_MAX];
	struct pkt_off off;
	size_t len, wlen;
	char why[160];
	bool ok = true;
	int be;

	if (lab_sh("ip link set lbb0 mtu 1400"))
		return false;
	for (int v6 = 0; v6 < 2 && ok; v6++) {
		/* inner + outer = 1400: fits; TCP over IPv4, UDP over IPv6 */
		uint8_t proto = v6 ? IPPROTO_UDP : IPPROTO_TCP;
		uint16_t fit = v6 ? 1400 - 80 - 8 : 1400 - 60;

		ok = ipip_case(v6, proto, 30000, fit, true, want, &wlen, &be);
		len = frame_ex(in, &off, v6, proto, 30001, 0, v6 ? 53 : 80,
			       (uint16_t)(fit + 1), PKT_IP4_DF);
		ok = ok && run(in, len, if_c) &&
		     ASSERT_EQ(retval, XDP_TX, "too big: verdict");
		wlen = too_big_want(want, in, v6, 1400);
		if (ok && !pkt_same(out, out_len, want, wlen, why, sizeof(why)))
			ok = ASSERT_TRUE(false, "IPv%d answer: %s", v6 ? 6 : 4,
					 why);
		if (ok && !v6)
			ok = ASSERT_EQ(pkt_ip4_csum(out + 14, 20), 0,
				       "ICMP's IPv4 checksum") &&
			     ASSERT_EQ(pkt_ip4_csum(out + 34, out_len - 34), 0,
				       "ICMP checksum");
		if (ok && v6)
			ok = ASSERT_EQ(pkt_l4_csum(out + 14, out + 54,
						   out_len - 54, true, 58),
				       0, "ICMPv6 checksum");
	}
	/* IPv4 without DF: not answered, dropped */
	len = frame_ex(in, &off, false, IPPROTO_UDP, 30002, 0, 53, 1400, 0);
	ok = ok && run(in, len, if_c) &&
	     ASSERT_EQ(retval, XDP_DROP, "too big without DF: verdict") &&
	     ASSERT_EQ(reason_count(SL_R_LB_TOO_BIG, SL_ACT_TX) - tx, 2,
		       "lb-too-big answers") &&
	     ASSERT_EQ(reason_count(SL_R_LB_TOO_BIG, SL_ACT_DROP) - dr, 1,
		       "lb-too-big drops");
	lab_sh("ip link set lbb0 mtu 1500");
	return ok;
}

/* The decap program (attach --decap): an encapsulated frame (what the
 * dsr-ipip output is, built by ipip_want) becomes exactly the inner
 * frame behind the outer frame's MACs, and the stages pass it; a frame
 * that is no tunnel's is left as it is. */
static bool check_decap(void)
{
	uint8_t in[PKT_MAX], enc[PKT_MAX], want[PKT_MAX];
	struct sluice_xdp *dskel;
	struct sl_features f;
	struct pkt_off off;
	int lb_prog = prog;
	char why[160];
	bool ok = true;

	sl_features_default(&f);
	f.decap = 1;
	dskel = sl_xdp_load(NULL, &f, SL_PROG_XDP);
	if (!ASSERT_TRUE(dskel != NULL, "load with decap"))
		return false;
	prog = bpf_program__fd(dskel->progs.sluice_xdp);
	for (int v6 = 0; v6 < 2 && ok; v6++)
		for (int u = 0; u < 2 && ok; u++) {
			uint8_t proto = u ? IPPROTO_UDP : IPPROTO_TCP;
			size_t len = frame_ex(in, &off, v6, proto, 31000, 0, 80,
					      11, PKT_IP4_DF);
			size_t elen = ipip_want(enc, in, len, v6, 11);

			memcpy(want, enc, 12);
			memcpy(want + 12, in + 12, len - 12);
			ok = run(enc, elen, if_b) &&
			     ASSERT_EQ(retval, XDP_PASS, "verdict") &&
			     ASSERT_TRUE(pkt_same(out, out_len, want, len, why,
						  sizeof(why)),
					 "IPv%d %s: %s", v6 ? 6 : 4,
					 u ? "UDP" : "TCP", why);
			/* not a tunnel's: unchanged */
			ok = ok && run(in, len, if_b) &&
			     ASSERT_EQ(retval, XDP_PASS, "plain verdict") &&
			     ASSERT_TRUE(pkt_same(out, out_len, in, len, why,
						  sizeof(why)),
					 "plain frame: %s", why);
		}
	prog = lb_prog;
	sl_xdp_destroy(dskel);
	return ok;
}

int main(void)
{
	int rc = skel_test_start("test_lb");
	uint64_t fwd;

	if (rc >= 0)
		return rc;
	if (!lab_up()) {
		printf("not ok - test_lb: the namespace lab\n");
		return 1;
	}
	if (!env_load()) {
		printf("not ok - test_lb: load the programs with lb on\n");
		return 1;
	}
	fwd = reason_count(SL_R_LB_FWD, SL_ACT_REDIRECT);
	check_nat_frames();
	check_report("forwarded frames are counted (lb-forward, redirect)",
		     check_counted(fwd));
	check_affinity();
	check_health();
	check_dsr();
	check_report("next hop cached per backend for 1 s: a neighbour change "
		     "is seen after it",
		     check_hop_cache());
	check_shapes();
	check_nat_close();
	check_report("no usable backend: drop, reason lb-no-backend",
		     check_no_backend());
	check_report("no resolved neighbour: nat passes the rewritten frame to "
		     "the stack, reason lb-no-route",
		     check_no_route());
	check_report("a VLAN-tagged frame to a service is not balanced",
		     check_vlan());
	check_ipip();
	check_report("dsr-ipip too big: ICMP fragmentation needed / ICMPv6 "
		     "packet too big byte by byte, IPv4 without DF dropped "
		     "(lb-too-big)",
		     check_too_big());
	check_report("decap: an IPv4-in-IPv4 / IPv6-in-IPv6 frame becomes its "
		     "inner frame (TCP and UDP), others unchanged",
		     check_decap());
	sl_lb_cfg_free(&running);
	sl_xdp_destroy(skel);
	return check_failed ? 1 : 0;
}
