/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* rulegen: a ClassBench-like rule set generator and a generator of packets
 * for a rule set, deterministic from a seed. Used by the classifier's
 * tests (tests/unit/test_classify.c), its benchmark (bench/bench_cls.c) and
 * build/rulegen, which prints a rule set for sluice, iptables and nft. */
#ifndef SL_RULEGEN_H
#define SL_RULEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice.h"

/* splitmix64 */
struct sl_rng {
	uint64_t s;
};

void sl_rng_seed(struct sl_rng *g, uint64_t seed);
uint64_t sl_rng_next(struct sl_rng *g);
/* Uniform in lo..hi (inclusive). */
uint32_t sl_rng_range(struct sl_rng *g, uint32_t lo, uint32_t hi);
double sl_rng_unit(struct sl_rng *g);

/* Rule set shapes beside the ClassBench-like default (sl_gen_opts.shape),
 * the ones a decision tree finds hardest (tests/unit/test_classify.c). */
enum sl_gen_shape {
	SL_GEN_CLASSBENCH = 0, /* the ClassBench-like profile below */
	/* IPv4, alternating source-only and destination-only rules (first
	 * half source-only with --split-halves), prefixes /8../32 at random,
	 * random sport and dport ranges, random action and priority */
	SL_GEN_SPLIT,
	SL_GEN_SPLIT_HALVES,
	/* every rule in one box (198.18.0.0/15 -> any, TCP dport 443),
	 * differing only in priority, action, tcp flags (each tests at least
	 * one) and direction */
	SL_GEN_SHARED_BOX,
	/* wide prefixes (/1../12, IPv4 and IPv6) with wide port ranges
	 * (4096..65535 long) at random offsets, on both addresses */
	SL_GEN_WIDE,
};

struct sl_gen_opts {
	uint64_t seed;
	enum sl_gen_shape shape;
	/* IPv4 5-tuple rules only (src, dst, tcp/udp/icmp/any, ports; pass
	 * and drop; direction in), for comparisons with iptables/nftables. */
	bool ipv4_5tuple;
	double count_frac; /* share of count rules (full profile; per host) */
	double v6_frac;	   /* share of IPv6 rules (full profile) */
};

/* Fills opts with the defaults: full profile, 5% count, 25% IPv6. */
void sl_gen_opts_default(struct sl_gen_opts *o, uint64_t seed);

/* n rules with ids 1..n. Addresses come from nested "site" prefixes, ports
 * from the ClassBench classes (wildcard, high, low, range, exact); the full
 * profile adds IPv6, ICMP types and codes, tcp-flags, VLAN, interfaces
 * (eth0 = ifindex 2, eth1 = 3), directions, ARP, priorities and count
 * rules. Returns 0 or -ENOMEM. */
int sl_gen_rules(struct sl_rule *out, size_t n, const struct sl_gen_opts *o);

/* A packet: its key vector (enum sl_dim) and tcp flags, and the fields a
 * frame needs (derived from the key). */
struct sl_gen_pkt {
	uint32_t key[SL_DIM_MAX];
	uint8_t tcp_flags;
	uint8_t family; /* AF_INET, AF_INET6, 0 (ARP) */
	uint8_t proto;
	uint8_t icmp_type, icmp_code;
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 */
	uint16_t sport, dport, vlan;
};

/* A realistic packet inside rule r's box (addresses, ports, ICMP and tcp
 * flags consistent with the protocol). */
void sl_gen_pkt_in(const struct sl_rule *r, struct sl_rng *g,
		   struct sl_gen_pkt *p);
/* A random realistic packet (matches some rules, often none). */
void sl_gen_pkt_random(struct sl_rng *g, struct sl_gen_pkt *p);
/* A key on or just beside a corner of r's box, clamped to the domain of
 * each dimension (need not be a realistic packet). */
void sl_gen_pkt_edge(const struct sl_rule *r, struct sl_rng *g,
		     struct sl_gen_pkt *p);
/* npk packets each inside a pass/drop rule among the last 10% of rules in
 * evaluation order (rules: sorted by sl_rule_order_cmp). */
void sl_gen_pkts_late(const struct sl_rule *sorted, size_t n, size_t npk,
		      uint64_t seed, struct sl_gen_pkt *out);
/* Fills the frame fields of p from p->key. */
void sl_gen_pkt_fields(struct sl_gen_pkt *p);

#endif
