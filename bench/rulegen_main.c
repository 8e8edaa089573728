// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* rulegen: prints one generated rule set for sluice, iptables and nft, so
 * that benchmarks load the identical rules into each.
 *   rulegen N SEED --format yaml|iptables|nft|keys [--ipv4-5tuple]
 *                  [--packets K] [--shape NAME]
 * yaml: a sluice `rules:` list. iptables: iptables-restore input (table
 * raw, chain PREROUTING). nft: an `nft -f` file (table inet sluice_bench,
 * a prerouting chain at raw priority). Rules the target cannot express
 * (IPv6 in iptables, VLAN, ARP) become comments there. keys: K packets
 * matching late rules, one per line: 16 key words then tcp flags.
 * --shape: classbench (default), split (alternating source-only and
 * destination-only rules with port ranges), split-halves (source-only
 * first half, destination-only second), shared-box (every rule in one
 * box), wide (wide prefixes, wide port ranges); see rulegen.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "classify.h"
#include "rulegen.h"

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	case 132:
		return "sctp";
	}
	return NULL;
}

static void flag_list(uint8_t f, char *buf, size_t len)
{
	static const char *names[8] = {"fin", "syn", "rst", "psh",
				       "ack", "urg", "ece", "cwr"};
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < 8; i++)
		if (f & (1U << i))
			o += snprintf(buf + o, len - o, "%s%s", o ? "," : "",
				      names[i]);
}

static const char *act_name(uint8_t a)
{
	return a == SL_RACT_DROP   ? "drop"
	       : a == SL_RACT_PASS ? "pass"
				   : "count";
}

static void print_yaml(const struct sl_rule *r, size_t n)
{
	char buf[64], b2[64];

	printf("rules:\n");
	for (size_t i = 0; i < n; i++, r++) {
		printf("  - id: %u\n    priority: %u\n    action: %s\n", r->id,
		       r->priority, act_name(r->action));
		printf("    direction: %s\n", r->dirs == 3   ? "both"
					      : r->dirs == 1 ? "in"
							     : "out");
		if (r->has_src) {
			sl_prefix_format(&r->src, buf, sizeof(buf));
			printf("    src: %s\n", buf);
		}
		if (r->has_dst) {
			sl_prefix_format(&r->dst, buf, sizeof(buf));
			printf("    dst: %s\n", buf);
		}
		if (r->l3 == SL_L3_ARP)
			printf("    proto: arp\n");
		else if (r->has_proto && proto_name(r->proto))
			printf("    proto: %s\n", proto_name(r->proto));
		else if (r->has_proto)
			printf("    proto: %u\n", r->proto);
		if (r->sport_lo != 0 || r->sport_hi != 65535)
			printf(r->sport_lo == r->sport_hi
				   ? "    sport: %u\n"
				   : "    sport: %u-%u\n",
			       r->sport_lo, r->sport_hi);
		if (r->dport_lo != 0 || r->dport_hi != 65535)
			printf(r->dport_lo == r->dport_hi
				   ? "    dport: %u\n"
				   : "    dport: %u-%u\n",
			       r->dport_lo, r->dport_hi);
		if (r->icmp_type >= 0)
			printf("    icmp-type: %d\n", r->icmp_type);
		if (r->icmp_code >= 0)
			printf("    icmp-code: %d\n", r->icmp_code);
		if (r->tcp_mask) {
			flag_list(r->tcp_flags, buf, sizeof(buf));
			flag_list(r->tcp_mask, b2, sizeof(b2));
			printf("    tcp-flags: %s/%s\n", buf, b2);
		}
		if (r->vlan >= 0)
			printf("    vlan: %d\n", r->vlan);
		if (r->iface[0])
			printf("    iface: %s\n", r->iface);
	}
}

static void range(char *buf, size_t len, uint16_t lo, uint16_t hi, char sep)
{
	if (lo == hi)
		snprintf(buf, len, "%u", lo);
	else
		snprintf(buf, len, "%u%c%u", lo, sep, hi);
}

static void print_iptables(const struct sl_rule *r, size_t n)
{
	char buf[64], b2[64];

	printf("*raw\n:PREROUTING ACCEPT [0:0]\n");
	for (size_t i = 0; i < n; i++, r++) {
		bool v6 = (r->has_src && r->src.family == AF_INET6) ||
			  (r->has_dst && r->dst.family == AF_INET6) ||
			  r->l3 == SL_L3_IPV6 ||
			  (r->has_proto && r->proto == 58);

		if (v6 || r->l3 == SL_L3_ARP || r->vlan >= 0 ||
		    !(r->dirs & (1U << SL_RDIR_IN))) {
			printf("# rule %u: not expressible here\n", r->id);
			continue;
		}
		printf("-A PREROUTING");
		if (r->iface[0])
			printf(" -i %s", r->iface);
		if (r->has_src) {
			sl_prefix_format(&r->src, buf, sizeof(buf));
			printf(" -s %s", buf);
		}
		if (r->has_dst) {
			sl_prefix_format(&r->dst, buf, sizeof(buf));
			printf(" -d %s", buf);
		}
		if (r->has_proto)
			printf(" -p %u", r->proto);
		if (r->sport_lo != 0 || r->sport_hi != 65535) {
			range(buf, sizeof(buf), r->sport_lo, r->sport_hi, ':');
			printf(" -m %s --sport %s", proto_name(r->proto), buf);
		}
		if (r->dport_lo != 0 || r->dport_hi != 65535) {
			range(buf, sizeof(buf), r->dport_lo, r->dport_hi, ':');
			printf(" -m %s --dport %s", proto_name(r->proto), buf);
		}
		if (r->icmp_type >= 0) {
			printf(" -m icmp --icmp-type %d", r->icmp_type);
			if (r->icmp_code >= 0)
				printf("/%d", r->icmp_code);
		}
		if (r->tcp_mask) {
			flag_list(r->tcp_mask, b2, sizeof(b2));
			flag_list(r->tcp_flags, buf, sizeof(buf));
			printf(" -m tcp --tcp-flags %s %s", b2,
			       buf[0] ? buf : "NONE");
		}
		if (r->action != SL_RACT_COUNT)
			printf(" -j %s",
			       r->action == SL_RACT_DROP ? "DROP" : "ACCEPT");
		printf("\n");
	}
	printf("COMMIT\n");
}

static void nft_flags(uint8_t f, char *buf, size_t len)
{
	flag_list(f, buf, len);
	for (char *c = buf; *c; c++)
		if (*c == ',')
			*c = '|';
}

static void print_nft(const struct sl_rule *r, size_t n)
{
	char buf[64], b2[64];

	printf("table inet sluice_bench {\n\tchain pre {\n\t\ttype filter "
	       "hook prerouting priority -300; policy accept;\n");
	for (size_t i = 0; i < n; i++, r++) {
		int fam = r->has_src		? r->src.family
			  : r->has_dst		? r->dst.family
			  : r->l3 == SL_L3_IPV4 ? AF_INET
			  : r->l3 == SL_L3_IPV6 ? AF_INET6
						: 0;
		const char *ip = fam == AF_INET6 ? "ip6" : "ip";

		if (r->l3 == SL_L3_ARP || r->vlan >= 0 ||
		    !(r->dirs & (1U << SL_RDIR_IN))) {
			printf("\t\t# rule %u: not expressible here\n", r->id);
			continue;
		}
		printf("\t\t");
		if (r->iface[0])
			printf("iifname \"%s\" ", r->iface);
		if (fam && !r->has_src && !r->has_dst)
			printf("meta nfproto %s ",
			       fam == AF_INET ? "ipv4" : "ipv6");
		if (r->has_src) {
			sl_prefix_format(&r->src, buf, sizeof(buf));
			printf("%s saddr %s ", ip, buf);
		}
		if (r->has_dst) {
			sl_prefix_format(&r->dst, buf, sizeof(buf));
			printf("%s daddr %s ", ip, buf);
		}
		if (r->has_proto)
			printf("meta l4proto %u ", r->proto);
		if (r->sport_lo != 0 || r->sport_hi != 65535) {
			range(buf, sizeof(buf), r->sport_lo, r->sport_hi, '-');
			printf("th sport %s ", buf);
		}
		if (r->dport_lo != 0 || r->dport_hi != 65535) {
			range(buf, sizeof(buf), r->dport_lo, r->dport_hi, '-');
			printf("th dport %s ", buf);
		}
		if (r->icmp_type >= 0) {
			const char *t = r->proto == 58 ? "icmpv6" : "icmp";

			printf("%s type %d ", t, r->icmp_type);
			if (r->icmp_code >= 0)
				printf("%s code %d ", t, r->icmp_code);
		}
		if (r->tcp_mask) {
			nft_flags(r->tcp_mask, b2, sizeof(b2));
			nft_flags(r->tcp_flags, buf, sizeof(buf));
			printf("tcp flags & (%s) == %s ", b2,
			       buf[0] ? buf : "0x0");
		}
		printf("counter%s\n", r->action == SL_RACT_DROP	  ? " drop"
				      : r->action == SL_RACT_PASS ? " accept"
								  : "");
	}
	printf("\t}\n}\n");
}

static int usage(void)
{
	fprintf(stderr,
		"usage: rulegen N SEED --format yaml|iptables|nft|keys "
		"[--ipv4-5tuple] [--packets K] [--shape classbench|split|"
		"split-halves|shared-box|wide]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *fmt = "yaml";
	struct sl_gen_opts o;
	struct sl_rule *rules;
	size_t n, npk = 1000;
	bool v4 = false;
	int shape = SL_GEN_CLASSBENCH;
	static const char *shapes[] = {"classbench", "split", "split-halves",
				       "shared-box", "wide"};

	if (argc < 3)
		return usage();
	n = strtoul(argv[1], NULL, 0);
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc)
			fmt = argv[++i];
		else if (!strcmp(argv[i], "--ipv4-5tuple"))
			v4 = true;
		else if (!strcmp(argv[i], "--packets") && i + 1 < argc)
			npk = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--shape") && i + 1 < argc) {
			const char *v = argv[++i];

			for (shape = 0; shape < 5; shape++)
				if (!strcmp(v, shapes[shape]))
					break;
			if (shape == 5)
				return usage();
		} else
			return usage();
	}
	if (n < 1 || n >= SL_RULE_MAX) {
		fprintf(stderr, "rulegen: N must be 1..%u\n", SL_RULE_MAX - 1);
		return 2;
	}
	sl_gen_opts_default(&o, strtoull(argv[2], NULL, 0));
	o.ipv4_5tuple = v4;
	o.shape = shape;
	rules = calloc(n, sizeof(*rules));
	if (!rules || sl_gen_rules(rules, n, &o))
		return 1;
	if (!strcmp(fmt, "yaml")) {
		print_yaml(rules, n);
	} else if (!strcmp(fmt, "iptables")) {
		/* iptables has no priorities: print in evaluation order */
		qsort(rules, n, sizeof(*rules),
		      (int (*)(const void *, const void *))sl_rule_order_cmp);
		print_iptables(rules, n);
	} else if (!strcmp(fmt, "nft")) {
		qsort(rules, n, sizeof(*rules),
		      (int (*)(const void *, const void *))sl_rule_order_cmp);
		print_nft(rules, n);
	} else if (!strcmp(fmt, "keys")) {
		struct sl_gen_pkt *p = calloc(npk ? npk : 1, sizeof(*p));

		qsort(rules, n, sizeof(*rules),
		      (int (*)(const void *, const void *))sl_rule_order_cmp);
		sl_gen_pkts_late(rules, n, npk, o.seed + 1, p);
		for (size_t i = 0; i < npk; i++) {
			for (int d = 0; d < SL_DIM_MAX; d++)
				printf("%u ", p[i].key[d]);
			printf("%u\n", p[i].tcp_flags);
		}
		free(p);
	} else {
		return usage();
	}
	free(rules);
	return 0;
}
