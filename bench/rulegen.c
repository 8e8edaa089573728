// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* rulegen: ClassBench-like rules and packets (see rulegen.h).
 *
 * Addresses: per field and family a pool of P = 64 + n/16 random "site"
 * addresses, picked with a skew (index P*u^3: a few sites carry most
 * rules); the low bits are re-randomised with probability 0.7, then the
 * address is cut to the drawn prefix length: nested, overlapping prefixes.
 * IPv4 prefix lengths (percent): src /0 10, /8 3, /16 7, /17-23 10, /24 25,
 * /25-31 10, /32 35; dst /0 5, /8 2, /16 8, /17-23 10, /24 25, /25-31 10,
 * /32 40. IPv6: /0 10, /32 10, /48 20, /56 10, /64 30, /65-127 5, /128 15.
 * No rule leaves both addresses open.
 * Protocol: TCP 55, UDP 25, ICMP 7, any 10, other (GRE/ESP/SCTP) 3.
 * Ports (TCP/UDP only): sport WC 75, HI 8, LO 2, range 5, exact 10;
 * dport WC 20, HI 10, LO 5, range 15, exact 50 (exact: 60% well known). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "classify.h"
#include "rulegen.h"

void sl_rng_seed(struct sl_rng *g, uint64_t seed)
{
	g->s = seed * 0x9E3779B97F4A7C15ULL + 1;
}

uint64_t sl_rng_next(struct sl_rng *g)
{
	uint64_t z = (g->s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

uint32_t sl_rng_range(struct sl_rng *g, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(sl_rng_next(g) % ((uint64_t)hi - lo + 1));
}

double sl_rng_unit(struct sl_rng *g)
{
	return (sl_rng_next(g) >> 11) * 0x1.0p-53;
}

void sl_gen_opts_default(struct sl_gen_opts *o, uint64_t seed)
{
	memset(o, 0, sizeof(*o));
	o->seed = seed;
	o->count_frac = 0.05;
	o->v6_frac = 0.25;
}

static int plen4(struct sl_rng *g, int dst)
{
	double r = sl_rng_unit(g) * 100;

	if (r < (dst ? 5 : 10))
		return 0;
	if (!dst)
		return r < 13	? 8
		       : r < 20 ? 16
		       : r < 30 ? 17 + (int)sl_rng_range(g, 0, 6)
		       : r < 55 ? 24
		       : r < 65 ? 25 + (int)sl_rng_range(g, 0, 6)
				: 32;
	return r < 7	? 8
	       : r < 15 ? 16
	       : r < 25 ? 17 + (int)sl_rng_range(g, 0, 6)
	       : r < 50 ? 24
	       : r < 60 ? 25 + (int)sl_rng_range(g, 0, 6)
			: 32;
}

static int plen6(struct sl_rng *g)
{
	double r = sl_rng_unit(g) * 100;

	return r < 10	? 0
	       : r < 20 ? 32
	       : r < 40 ? 48
	       : r < 50 ? 56
	       : r < 80 ? 64
	       : r < 85 ? 65 + (int)sl_rng_range(g, 0, 62)
			: 128;
}

static const uint16_t well_known[] = {80,  443, 22,  53,   25,	 110,  143,
				      123, 161, 389, 3306, 5432, 8080, 8443,
				      21,  23,	445, 3389, 1433, 5060};

static void ports(struct sl_rng *g, int dst, bool fw, uint16_t *lo,
		  uint16_t *hi)
{
	double r = sl_rng_unit(g) * 100;
	int c; /* 0 WC, 1 HI, 2 LO, 3 range, 4 exact */

	if (!dst)
		c = r < (fw ? 90 : 75) ? 0
		    : r < 83	       ? 1
		    : r < 85	       ? 2
		    : r < 90	       ? 3
				       : 4;
	else
		c = r < 20 ? 0 : r < 30 ? 1 : r < 35 ? 2 : r < 50 ? 3 : 4;
	switch (c) {
	case 0:
		*lo = 0, *hi = 65535;
		break;
	case 1:
		*lo = 1024, *hi = 65535;
		break;
	case 2:
		*lo = 0, *hi = 1023;
		break;
	case 3: {
		uint32_t a = sl_rng_range(g, 0, 65535);
		uint32_t len =
		    (1U << sl_rng_range(g, 0, 15)) + sl_rng_range(g, 0, 255);

		*lo = a;
		*hi = a + len > 65535 ? 65535 : a + len;
		break;
	}
	default:
		*lo = *hi = sl_rng_unit(g) < 0.6
				? well_known[sl_rng_range(g, 0, 19)]
				: sl_rng_range(g, 0, 65535);
	}
}

/* Site pools: [family 0 v4, 1 v6][src, dst], P addresses of 16 bytes. */
struct pools {
	int P;
	uint8_t *a[2][2];
};

static void make_prefix(struct sl_rng *g, struct pools *pl, int v6, int dst,
			int plen, struct sl_prefix *p)
{
	double u = sl_rng_unit(g);
	const uint8_t *site = pl->a[v6][dst] + 16 * (int)(pl->P * u * u * u);
	int bytes = v6 ? 16 : 4;

	memset(p, 0, sizeof(*p));
	p->family = v6 ? AF_INET6 : AF_INET;
	p->plen = plen;
	memcpy(p->addr, site, bytes);
	if (sl_rng_unit(g) < 0.7) {
		/* re-randomise the low half of the site's usual prefix */
		int from = v6 ? 6 : 2;

		for (int i = from; i < bytes; i++)
			p->addr[i] = sl_rng_next(g);
	}
	for (int i = 0; i < bytes; i++) {
		int keep = plen - 8 * i;

		if (keep <= 0)
			p->addr[i] = 0;
		else if (keep < 8)
			p->addr[i] &= (uint8_t)(0xff << (8 - keep));
	}
}

static void base_rule(struct sl_rule *r, uint32_t id)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->priority = SL_PRIO_DEFAULT;
	r->action = SL_RACT_DROP;
	r->dirs = 3;
	r->sport_hi = r->dport_hi = 65535;
	r->icmp_type = r->icmp_code = -1;
	r->vlan = -1;
}

/* A random prefix of family v6 and length plen. */
static void rand_prefix(struct sl_rng *g, int v6, int plen, struct sl_prefix *p)
{
	int bytes = v6 ? 16 : 4;

	memset(p, 0, sizeof(*p));
	p->family = v6 ? AF_INET6 : AF_INET;
	p->plen = plen;
	for (int i = 0; i < bytes; i++) {
		int keep = plen - 8 * i;

		p->addr[i] = keep <= 0	? 0
			     : keep < 8 ? sl_rng_next(g) & (0xff << (8 - keep))
					: sl_rng_next(g);
	}
}

/* A random port range at least min_len long. */
static void rand_range(struct sl_rng *g, uint32_t min_len, uint16_t *lo,
		       uint16_t *hi)
{
	uint32_t len = sl_rng_range(g, min_len, 65535);
	uint32_t a = sl_rng_range(g, 0, 65535 - len);

	*lo = a;
	*hi = a + len;
}

static uint8_t rand_action(struct sl_rng *g, double count_frac)
{
	double a = sl_rng_unit(g);

	return a < count_frac ? SL_RACT_COUNT
	       : a < 0.6      ? SL_RACT_DROP
			      : SL_RACT_PASS;
}

static void gen_shape(struct sl_rule *out, size_t n,
		      const struct sl_gen_opts *o)
{
	struct sl_rng g;

	sl_rng_seed(&g, o->seed);
	for (size_t i = 0; i < n; i++) {
		struct sl_rule *r = &out[i];

		base_rule(r, i + 1);
		r->priority = sl_rng_range(&g, 1, 1000);
		r->action = rand_action(&g, o->count_frac);
		switch (o->shape) {
		case SL_GEN_SPLIT:
		case SL_GEN_SPLIT_HALVES: {
			bool src =
			    o->shape == SL_GEN_SPLIT ? !(i & 1) : i < n / 2;

			if (src) {
				r->has_src = 1;
				rand_prefix(&g, 0, sl_rng_range(&g, 8, 32),
					    &r->src);
			} else {
				r->has_dst = 1;
				rand_prefix(&g, 0, sl_rng_range(&g, 8, 32),
					    &r->dst);
			}
			r->has_proto = 1;
			r->proto = sl_rng_unit(&g) < 0.6 ? 6 : 17;
			rand_range(&g, 0, &r->sport_lo, &r->sport_hi);
			rand_range(&g, 0, &r->dport_lo, &r->dport_hi);
			break;
		}
		case SL_GEN_SHARED_BOX: {
			r->has_src = 1;
			rand_prefix(&g, 0, 15, &r->src);
			r->src.addr[0] = 198;
			r->src.addr[1] = 18;
			r->has_proto = 1;
			r->proto = 6;
			r->dport_lo = r->dport_hi = 443;
			/* count rules only with exact, distinct-enough
			 * flags: a packet counts at most 8 of them */
			if (r->action == SL_RACT_COUNT) {
				r->tcp_mask = 0xff;
				r->tcp_flags = sl_rng_range(&g, 0, 255);
			} else {
				/* a test on at least one flag: no rule
				 * covers the box for all packets */
				r->tcp_mask = sl_rng_range(&g, 1, 255);
				r->tcp_flags =
				    sl_rng_range(&g, 0, 255) & r->tcp_mask;
			}
			r->dirs = (uint8_t)sl_rng_range(&g, 1, 3);
			break;
		}
		default: { /* SL_GEN_WIDE */
			int v6 = sl_rng_unit(&g) < 0.3;

			r->has_src = 1;
			rand_prefix(&g, v6, sl_rng_range(&g, 1, 12), &r->src);
			if (sl_rng_unit(&g) < 0.7) {
				r->has_dst = 1;
				rand_prefix(&g, v6, sl_rng_range(&g, 1, 12),
					    &r->dst);
			}
			r->has_proto = 1;
			r->proto = sl_rng_unit(&g) < 0.6 ? 6 : 17;
			rand_range(&g, 4096, &r->sport_lo, &r->sport_hi);
			rand_range(&g, 4096, &r->dport_lo, &r->dport_hi);
			break;
		}
		}
	}
}

/* Count rules as users write them, per host: a ClassBench-like count
 * rule keeps its match but its source becomes one host (of its source
 * prefix, or of the family's pool), so that no packet meets more count
 * rules than it counts (the count-rule bound, docs/classifier.md); ARP
 * count rules drop instead. A second generator, so that the other rules
 * come out as before. */
static void count_hosts(struct sl_rule *out, size_t n, uint64_t seed)
{
	struct sl_rng h;

	sl_rng_seed(&h, seed ^ 0x636f756e74ULL);
	for (size_t i = 0; i < n; i++) {
		struct sl_rule *r = &out[i];
		bool v6;
		int alen;

		if (r->action != SL_RACT_COUNT)
			continue;
		if (r->l3 == SL_L3_ARP) {
			r->action = SL_RACT_DROP;
			continue;
		}
		v6 = r->has_src	  ? r->src.family == AF_INET6
		     : r->has_dst ? r->dst.family == AF_INET6
				  : r->l3 == SL_L3_IPV6;
		alen = v6 ? 16 : 4;
		if (!r->has_src) {
			memset(&r->src, 0, sizeof(r->src));
			r->src.family = v6 ? AF_INET6 : AF_INET;
			r->src.addr[0] = v6 ? 0x20 : 198;
		}
		/* the host bits below the prefix drawn at random */
		for (int b = r->has_src ? r->src.plen : 8; b < alen * 8; b++)
			if (sl_rng_next(&h) & 1)
				r->src.addr[b / 8] |= 0x80 >> (b % 8);
		r->has_src = 1;
		r->src.plen = alen * 8;
		r->l3 = 0;
	}
}

int sl_gen_rules(struct sl_rule *out, size_t n, const struct sl_gen_opts *o)
{
	static const uint8_t icmp4_types[] = {8, 0, 3, 11};
	static const uint8_t icmp6_types[] = {128, 129, 1, 135, 136};
	static const uint16_t vlans[] = {10, 20, 30, 100, 200, 4094};
	struct sl_rng g;
	struct pools pl;
	bool full = !o->ipv4_5tuple;

	if (o->shape != SL_GEN_CLASSBENCH) {
		gen_shape(out, n, o);
		return 0;
	}
	sl_rng_seed(&g, o->seed);
	pl.P = 64 + n / 16;
	for (int f = 0; f < 2; f++)
		for (int d = 0; d < 2; d++) {
			pl.a[f][d] = malloc(16 * pl.P);
			if (!pl.a[f][d])
				return -ENOMEM;
			for (int i = 0; i < 16 * pl.P; i++)
				pl.a[f][d][i] = sl_rng_next(&g);
			/* IPv6 sites under 2001:db8::/32-like /16s */
			if (f)
				for (int i = 0; i < pl.P; i++)
					pl.a[f][d][16 * i] = 0x20;
		}

	for (size_t i = 0; i < n; i++) {
		struct sl_rule *r = &out[i];
		int v6 = full && sl_rng_unit(&g) < o->v6_frac;
		double pr = sl_rng_unit(&g) * 100, a = sl_rng_unit(&g);
		int proto;

		memset(r, 0, sizeof(*r));
		r->id = i + 1;
		r->priority = SL_PRIO_DEFAULT;
		if (full && sl_rng_unit(&g) < 0.1)
			r->priority = sl_rng_range(&g, 100, 999);
		r->action = a < 0.7 ? SL_RACT_DROP : SL_RACT_PASS;
		if (full && sl_rng_unit(&g) < o->count_frac)
			r->action = SL_RACT_COUNT;
		r->dirs = 1U << SL_RDIR_IN;
		if (full) {
			double d = sl_rng_unit(&g);

			r->dirs = d < 0.8    ? 3
				  : d < 0.95 ? 1U << SL_RDIR_IN
					     : 1U << SL_RDIR_OUT;
		}
		r->sport_lo = r->dport_lo = 0;
		r->sport_hi = r->dport_hi = 65535;
		r->icmp_type = r->icmp_code = -1;
		r->vlan = -1;
		if (full && sl_rng_unit(&g) < 0.02) {
			r->l3 = SL_L3_ARP;
			continue;
		}
		{
			int ps = v6 ? plen6(&g) : plen4(&g, 0);
			int pd = v6 ? plen6(&g) : plen4(&g, 1);

			while (!ps && !pd)
				pd = v6 ? plen6(&g) : plen4(&g, 1);
			/* a /0 is written as no address, except now and then */
			if (ps || sl_rng_unit(&g) < 0.2) {
				r->has_src = 1;
				make_prefix(&g, &pl, v6, 0, ps, &r->src);
			}
			if (pd || sl_rng_unit(&g) < 0.2) {
				r->has_dst = 1;
				make_prefix(&g, &pl, v6, 1, pd, &r->dst);
			}
			if (!r->has_src && !r->has_dst)
				r->l3 = v6 ? SL_L3_IPV6 : SL_L3_IPV4;
		}
		proto = pr < 55	  ? 6
			: pr < 80 ? 17
			: pr < 87 ? (v6 ? 58 : 1)
			: pr < 97
			    ? -1
			    : (int[]){47, 50, 132}[sl_rng_range(&g, 0, 2)];
		if (!full && proto > 17 && proto != 58)
			proto = 6;
		if (proto >= 0) {
			r->has_proto = 1;
			r->proto = proto;
		}
		if (proto == 6 || proto == 17) {
			ports(&g, 0, false, &r->sport_lo, &r->sport_hi);
			ports(&g, 1, false, &r->dport_lo, &r->dport_hi);
		}
		if (!full)
			continue;
		if ((proto == 1 || proto == 58) && sl_rng_unit(&g) < 0.5) {
			r->icmp_type =
			    proto == 1 ? icmp4_types[sl_rng_range(&g, 0, 3)]
				       : icmp6_types[sl_rng_range(&g, 0, 4)];
			if (sl_rng_unit(&g) < 0.3)
				r->icmp_code = sl_rng_range(&g, 0, 3);
		}
		if (proto == 6 && sl_rng_unit(&g) < 0.05) {
			static const uint8_t m[][2] = {{0x02, 0x12},
						       {0x04, 0x04},
						       {0x01, 0x01},
						       {0x12, 0x12}};
			int k = sl_rng_range(&g, 0, 3);

			r->tcp_flags = m[k][0];
			r->tcp_mask = m[k][1];
		}
		if (sl_rng_unit(&g) < 0.05)
			r->vlan = vlans[sl_rng_range(&g, 0, 5)];
		if (sl_rng_unit(&g) < 0.03) {
			int e = sl_rng_range(&g, 0, 1);

			strcpy(r->iface, e ? "eth1" : "eth0");
			r->ifindex = 2 + e;
		}
	}
	for (int f = 0; f < 2; f++)
		for (int d = 0; d < 2; d++)
			free(pl.a[f][d]);
	count_hosts(out, n, o->seed);
	return 0;
}

void sl_gen_pkt_fields(struct sl_gen_pkt *p)
{
	uint32_t l3 = p->key[SL_DIM_L3];

	p->family = l3 == SL_L3_IPV4   ? AF_INET
		    : l3 == SL_L3_IPV6 ? AF_INET6
				       : 0;
	memset(p->src, 0, 16);
	memset(p->dst, 0, 16);
	for (int w = 0; w < 4; w++) {
		uint32_t s = htonl(p->key[SL_DIM_SRC0 + w]);
		uint32_t d = htonl(p->key[SL_DIM_DST0 + w]);

		if (p->family == AF_INET && w == 3) {
			memcpy(p->src, &s, 4);
			memcpy(p->dst, &d, 4);
		} else if (p->family == AF_INET6) {
			memcpy(p->src + 4 * w, &s, 4);
			memcpy(p->dst + 4 * w, &d, 4);
		}
	}
	p->proto = p->key[SL_DIM_PROTO];
	p->sport = p->key[SL_DIM_SPORT];
	p->dport = p->key[SL_DIM_DPORT];
	p->icmp_type = p->key[SL_DIM_ICMP] >> 8;
	p->icmp_code = p->key[SL_DIM_ICMP] & 0xff;
	p->vlan = p->key[SL_DIM_VLAN];
}

static uint32_t pick(struct sl_rng *g, uint32_t lo, uint32_t hi)
{
	/* a third of the draws on an edge of the range */
	double u = sl_rng_unit(g);

	if (u < 0.15)
		return lo;
	if (u < 0.3)
		return hi;
	return sl_rng_range(g, lo, hi);
}

static bool has_ports(uint32_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

void sl_gen_pkt_in(const struct sl_rule *r, struct sl_rng *g,
		   struct sl_gen_pkt *p)
{
	uint32_t lo[SL_DIM_MAX], hi[SL_DIM_MAX], *k = p->key;

	memset(p, 0, sizeof(*p));
	sl_rule_box(r, lo, hi);
	k[SL_DIM_L3] = pick(g, lo[SL_DIM_L3], hi[SL_DIM_L3]);
	if (k[SL_DIM_L3] == SL_L3_IPV4) {
		k[SL_DIM_SRC3] = pick(g, lo[SL_DIM_SRC3], hi[SL_DIM_SRC3]);
		k[SL_DIM_DST3] = pick(g, lo[SL_DIM_DST3], hi[SL_DIM_DST3]);
	} else if (k[SL_DIM_L3] == SL_L3_IPV6) {
		for (int w = 0; w < 4; w++) {
			k[SL_DIM_SRC0 + w] =
			    pick(g, lo[SL_DIM_SRC0 + w], hi[SL_DIM_SRC0 + w]);
			k[SL_DIM_DST0 + w] =
			    pick(g, lo[SL_DIM_DST0 + w], hi[SL_DIM_DST0 + w]);
		}
	}
	if (k[SL_DIM_L3] >= SL_L3_IPV4) {
		if (lo[SL_DIM_PROTO] == hi[SL_DIM_PROTO])
			k[SL_DIM_PROTO] = lo[SL_DIM_PROTO];
		else
			k[SL_DIM_PROTO] = (uint32_t[]){
			    6, 6, 6, 17, 17, 1, 58, 47}[sl_rng_range(g, 0, 7)];
	}
	if (has_ports(k[SL_DIM_PROTO]) && k[SL_DIM_L3] >= SL_L3_IPV4) {
		k[SL_DIM_SPORT] = pick(g, lo[SL_DIM_SPORT], hi[SL_DIM_SPORT]);
		k[SL_DIM_DPORT] = pick(g, lo[SL_DIM_DPORT], hi[SL_DIM_DPORT]);
	}
	if (k[SL_DIM_PROTO] == 1 || k[SL_DIM_PROTO] == 58)
		k[SL_DIM_ICMP] = pick(g, lo[SL_DIM_ICMP], hi[SL_DIM_ICMP]);
	if (k[SL_DIM_PROTO] == 6 && k[SL_DIM_L3] >= SL_L3_IPV4)
		p->tcp_flags = (sl_rng_next(g) & ~r->tcp_mask) |
			       (r->tcp_flags & r->tcp_mask);
	k[SL_DIM_IFINDEX] = lo[SL_DIM_IFINDEX] == hi[SL_DIM_IFINDEX]
				? lo[SL_DIM_IFINDEX]
				: sl_rng_range(g, 1, 3);
	k[SL_DIM_VLAN] = lo[SL_DIM_VLAN] == hi[SL_DIM_VLAN] ? lo[SL_DIM_VLAN]
			 : sl_rng_unit(g) < 0.8		    ? 0
						: sl_rng_range(g, 1, 4094);
	k[SL_DIM_DIR] = pick(g, lo[SL_DIM_DIR], hi[SL_DIM_DIR]);
	sl_gen_pkt_fields(p);
}

void sl_gen_pkt_random(struct sl_rng *g, struct sl_gen_pkt *p)
{
	struct sl_rule any;

	memset(&any, 0, sizeof(any));
	any.dirs = 3;
	any.sport_hi = any.dport_hi = 65535;
	any.icmp_type = any.icmp_code = -1;
	any.vlan = -1;
	if (sl_rng_unit(g) < 0.03)
		any.l3 = SL_L3_ARP;
	sl_gen_pkt_in(&any, g, p);
	if (sl_rng_unit(g) < 0.05)
		p->tcp_flags = sl_rng_next(g);
}

void sl_gen_pkt_edge(const struct sl_rule *r, struct sl_rng *g,
		     struct sl_gen_pkt *p)
{
	uint32_t lo[SL_DIM_MAX], hi[SL_DIM_MAX], top;

	sl_gen_pkt_in(r, g, p);
	sl_rule_box(r, lo, hi);
	for (int d = 0; d < SL_DIM_MAX; d++) {
		uint32_t v;

		if (sl_rng_unit(g) < 0.5)
			continue;
		switch (sl_rng_range(g, 0, 3)) {
		case 0:
			v = lo[d];
			break;
		case 1:
			v = hi[d];
			break;
		case 2:
			v = lo[d] ? lo[d] - 1 : lo[d];
			break;
		default:
			v = hi[d] + 1 ? hi[d] + 1 : hi[d];
		}
		top = d == SL_DIM_SPORT || d == SL_DIM_DPORT || d == SL_DIM_ICMP
			  ? 65535
		      : d == SL_DIM_PROTO ? 255
		      : d == SL_DIM_VLAN  ? 4095
		      : d == SL_DIM_DIR	  ? 1
		      : d == SL_DIM_L3	  ? 3
					  : UINT32_MAX;
		p->key[d] = v > top ? top : v;
	}
	if (sl_rng_unit(g) < 0.3)
		p->tcp_flags ^= 1U << sl_rng_range(g, 0, 7);
	sl_gen_pkt_fields(p);
}

void sl_gen_pkts_late(const struct sl_rule *sorted, size_t n, size_t npk,
		      uint64_t seed, struct sl_gen_pkt *out)
{
	struct sl_rng g;
	size_t from = n - n / 10, nt = 0;
	size_t *cand = malloc(sizeof(*cand) * (n + 1));

	sl_rng_seed(&g, seed);
	for (size_t i = from ? from - (from == n) : 0; cand && i < n; i++)
		if (sorted[i].action != SL_RACT_COUNT)
			cand[nt++] = i;
	for (size_t i = 0; i < npk; i++) {
		if (!nt)
			sl_gen_pkt_random(&g, &out[i]);
		else
			sl_gen_pkt_in(
			    &sorted[cand[sl_rng_range(&g, 0, nt - 1)]], &g,
			    &out[i]);
	}
	free(cand);
}
