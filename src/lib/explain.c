// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* explain: what the running datapath decides for one packet, and why. The
 * packet is given by fields (a struct sl_rule whose match fields are
 * single points); a frame is built from them and run through a private
 * copy of the hook's program, loaded on the pinned maps with the load-time
 * switches the attached programs run plus `trace`: that copy counts
 * nothing and records the deciding set entry, rule and count rules in its
 * struct sl_trace (bpf/lib/stage.h). The real config blob, sets and
 * redirect maps decide; no counter moves. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <net/if.h>

#include "log.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

static void put16(unsigned char *p, unsigned v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* IPv4 header checksum over 20 bytes. */
static unsigned csum20(const unsigned char *h)
{
	unsigned s = 0;

	for (int i = 0; i < 20; i += 2)
		s += h[i] << 8 | h[i + 1];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* The frame of packet r (its match fields as a point) into f (at least
 * SL_EXPLAIN_FRAME_MAX bytes); its length, or -EINVAL with err set. */
static int build_frame(const struct sl_rule *r, unsigned char *f, char *err,
		       size_t errlen)
{
	static const unsigned char def_dmac[6] = {0x02, 0, 0, 0, 0, 0x02};
	static const unsigned char def_smac[6] = {0x02, 0, 0, 0, 0, 0x01};
	int fam = r->has_src ? r->src.family : 0;
	unsigned char *p = f, *ip, *l4;
	unsigned l4len = 0, proto = r->has_proto ? r->proto : IPPROTO_TCP;
	unsigned fh = 0;    /* bytes of the IPv6 fragment header */
	uint16_t fo = 0;    /* IPv4 frag_off, IPv6 offset and M flag */
	bool later = false; /* a later fragment: no L4 header */

	memset(f, 0, SL_EXPLAIN_FRAME_MAX);
	memcpy(p, r->has_dmac ? r->dmac : def_dmac, 6);
	memcpy(p + 6, r->has_smac ? r->smac : def_smac, 6);
	p += 12;
	if (r->vlan >= 0) {
		put16(p, ETH_P_8021Q);
		put16(p + 2, r->vlan & 0xfff);
		p += 4;
	}
	if (r->l3 == SL_L3_ARP) {
		put16(p, ETH_P_ARP);
		p += 2;
		/* request, Ethernet/IPv4, addresses zero */
		put16(p, 1);
		put16(p + 2, ETH_P_IP);
		p[4] = 6;
		p[5] = 4;
		put16(p + 6, 1);
		return p + 28 - f;
	}
	if (!r->has_src || !r->has_dst) {
		snprintf(err, errlen,
			 "a packet needs --src and --dst (or "
			 "--proto arp)");
		return -EINVAL;
	}
	if (r->src.family != r->dst.family) {
		snprintf(err, errlen, "--src and --dst are of two families");
		return -EINVAL;
	}
	if (r->src.plen != (fam == AF_INET ? 32 : 128) ||
	    r->dst.plen != (fam == AF_INET ? 32 : 128)) {
		snprintf(err, errlen,
			 "--src and --dst take one address each, "
			 "not a prefix");
		return -EINVAL;
	}
	/* Ports only where the frame has them (sl_rule_validate refuses
	 * them elsewhere): TCP, UDP and SCTP, not in a later fragment. */
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	     proto == IPPROTO_SCTP) &&
	    r->fragment != 1U << SL_FRAG_LATER &&
	    (r->sport_lo != r->sport_hi || r->dport_lo != r->dport_hi)) {
		snprintf(err, errlen,
			 "--sport and --dport take one port "
			 "each, not a range");
		return -EINVAL;
	}
	switch (proto) {
	case IPPROTO_TCP:
		l4len = 20;
		break;
	case IPPROTO_UDP:
		l4len = 8;
		break;
	case IPPROTO_SCTP:
		l4len = 12;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4len = 8;
		break;
	}
	/* --fragment first: offset 0, more fragments; later: offset 1480,
	 * the last, 8 bytes of payload and no L4 header (IP id 0) */
	if (r->fragment & ~(1U << SL_FRAG_NONE)) {
		if (r->fragment == (1U << SL_FRAG_FIRST)) {
			fo = fam == AF_INET ? 0x2000 : 0x0001;
		} else if (r->fragment == (1U << SL_FRAG_LATER)) {
			fo = fam == AF_INET ? 185 : 185 << 3;
			l4len = 8;
			later = true;
		} else {
			snprintf(err, errlen,
				 "--fragment: a packet is one of no, first "
				 "or later");
			return -EINVAL;
		}
		fh = fam == AF_INET6 ? 8 : 0;
	}
	put16(p, fam == AF_INET ? ETH_P_IP : ETH_P_IPV6);
	ip = p + 2;
	if (fam == AF_INET) {
		ip[0] = 0x45;
		put16(ip + 2, 20 + l4len);
		put16(ip + 6, fo);
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, r->src.addr, 4);
		memcpy(ip + 16, r->dst.addr, 4);
		put16(ip + 10, csum20(ip));
		l4 = ip + 20;
	} else {
		ip[0] = 0x60;
		put16(ip + 4, fh + l4len);
		ip[6] = fh ? IPPROTO_FRAGMENT : proto;
		ip[7] = 64;
		memcpy(ip + 8, r->src.addr, 16);
		memcpy(ip + 24, r->dst.addr, 16);
		if (fh) {
			ip[40] = proto;
			put16(ip + 42, fo);
		}
		l4 = ip + 40 + fh;
	}
	if (later)
		return l4 + l4len - f;
	switch (proto) {
	case IPPROTO_TCP:
		put16(l4, r->sport_lo);
		put16(l4 + 2, r->dport_lo);
		l4[12] = 5 << 4;
		l4[13] = r->tcp_flags;
		put16(l4 + 14, 65535);
		break;
	case IPPROTO_UDP:
		put16(l4, r->sport_lo);
		put16(l4 + 2, r->dport_lo);
		put16(l4 + 4, 8);
		break;
	case IPPROTO_SCTP:
		put16(l4, r->sport_lo);
		put16(l4 + 2, r->dport_lo);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4[0] = r->icmp_type >= 0	? r->icmp_type
			: proto == IPPROTO_ICMP ? 8
						: 128; /* echo request */
		l4[1] = r->icmp_code >= 0 ? r->icmp_code : 0;
		break;
	}
	return l4 + l4len - f;
}

/* The load-time switches the attached programs run (the first one known),
 * else the defaults. */
static void running_features(struct sl_ctx *ctx, struct sl_features *feat)
{
	struct sl_attachment *a = NULL;
	size_t n = 0;

	sl_features_default(feat);
	if (sl_attachments(ctx, &a, &n))
		return;
	for (size_t i = 0; i < n; i++)
		if (a[i].feat_known) {
			*feat = a[i].feat;
			break;
		}
	free(a);
}

int sl_explain(struct sl_ctx *ctx, const struct sl_rule *pkt,
	       struct sl_explain *out, char *err, size_t errlen)
{
	unsigned char frame[SL_EXPLAIN_FRAME_MAX];
	int dir = pkt->dirs == (1 << SL_RDIR_OUT) ? SL_RDIR_OUT : SL_RDIR_IN;
	unsigned prog = dir == SL_RDIR_OUT ? SL_PROG_TC_OUT : SL_PROG_XDP;
	struct sluice_xdp *skel;
	struct sl_features feat;
	struct sl_trace *all = NULL;
	cpu_set_t cpus, old;
	int len, fd, cpu, ncpu, ret;
	__u32 zero = 0;

	memset(out, 0, sizeof(*out));
	len = build_frame(pkt, frame, err, errlen);
	if (len < 0)
		return len;
	out->len = len;
	out->dir = dir;
	running_features(ctx, &feat);
	feat.trace = 1;
	skel = sl_xdp_load(ctx->dir, &feat, prog);
	if (!skel)
		return -errno;
	ncpu = libbpf_num_possible_cpus();
	all = calloc(ncpu > 0 ? ncpu : 1, sizeof(*all));
	if (ncpu <= 0 || !all) {
		ret = ncpu <= 0 ? ncpu : -ENOMEM;
		goto out;
	}
	/* Run on one CPU and read that CPU's trace slot. */
	cpu = sched_getcpu();
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&cpus);
	CPU_SET(cpu < 0 ? 0 : cpu, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	cpu = sched_getcpu();
	fd = sl_prog_fd(skel, prog);
	{
		/* The interface the packet meets, if named: XDP's ingress,
		 * TC's device. */
		struct xdp_md md = {.data_end = len,
				    .ingress_ifindex = pkt->ifindex};
		struct __sk_buff sk = {.ifindex = pkt->ifindex};
		bool xdp = prog == SL_PROG_XDP;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
			    .data_size_in = len, .repeat = 1);

		if (pkt->ifindex) {
			o.ctx_in = xdp ? (void *)&md : (void *)&sk;
			o.ctx_size_in = xdp ? sizeof(md) : sizeof(sk);
		}
		ret = bpf_prog_test_run_opts(fd, &o) ? -errno : 0;
		out->retval = o.retval;
	}
	sched_setaffinity(0, sizeof(old), &old);
	if (ret) {
		snprintf(err, errlen,
			 "the test run of the trace program "
			 "failed: %s",
			 strerror(-ret));
		goto out;
	}
	ret = bpf_map_lookup_elem(bpf_map__fd(skel->maps.sl_trace), &zero, all)
		  ? -errno
		  : 0;
	if (ret) {
		snprintf(err, errlen, "cannot read the trace: %s",
			 strerror(-ret));
		goto out;
	}
	if (cpu < 0 || cpu >= ncpu) {
		snprintf(err, errlen, "cannot tell the CPU the test ran on");
		ret = -EIO;
		goto out;
	}
	out->t = all[cpu];
	memcpy(out->frame, frame, len);
out:
	free(all);
	sl_xdp_destroy(skel);
	return ret;
}
