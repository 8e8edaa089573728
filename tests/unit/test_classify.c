// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_classify: the rule classifier against its linear reference.
 * Differential: generated rule sets of 1 .. 10000 rules (bench/rulegen.c,
 * seeded; SLUICE_FUZZ_SEED overrides) with late-matching, random and
 * box-edge packets; (a) the user-space walk of the built blob equals the
 * oracle (winner, count rules), (b) the BPF classifier (cls_test.bpf.c,
 * the blob in a real sl_config slot, run by bpf_prog_test_run_opts) gives
 * the oracle's verdict and rule id, and the rule counters move exactly as
 * the oracle says. Edge cases check hand-written expectations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "check.h"
#include "classify.h"
#include "log.h"
#include "rulegen.h"
#include "sluice.h"
#include "cls_test.skel.h"
#include "cls_test.h"

static struct cls_test *skel;
static void *blob;
static int ncpu;
static int stats_fd[SL_RULE_CHUNKS];

static int env_init(void)
{
	struct bpf_map *m;
	int fd, zero = 0, err;
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);

	ncpu = libbpf_num_possible_cpus();
	skel = cls_test__open();
	if (!skel)
		return -errno;
	bpf_object__for_each_map (m, skel->obj)
		bpf_map__set_pin_path(m, NULL);
	err = cls_test__load(skel);
	if (err)
		return err;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_blob", 4, SL_BLOB_SIZE, 1,
			    &mo);
	if (fd < 0)
		return -errno;
	blob =
	    mmap(NULL, SL_BLOB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (blob == MAP_FAILED)
		return -errno;
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.sl_config), &zero, &fd,
				  0);
	close(fd); /* the slot keeps the map */
	if (err)
		return err;
	/* Rule counters for every id: every chunk of sl_rule_stats. */
	for (uint32_t s = 0; s < SL_RULE_CHUNKS; s++) {
		stats_fd[s] = bpf_map_create(
		    BPF_MAP_TYPE_PERCPU_ARRAY, "sl_rule_chunk", 4,
		    sizeof(struct sl_counter), SL_RULE_CHUNK, NULL);
		if (stats_fd[s] < 0)
			return -errno;
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.sl_rule_stats),
					  &s, &stats_fd[s], 0);
		if (err)
			return err;
	}
	return 0;
}

/* Builds rules into the blob; returns sl_cls_build's result. */
static int load_rules(const struct sl_rule *r, size_t n,
		      struct sl_cls_stats *st)
{
	memset(blob, 0, SL_BLOB_SIZE);
	return sl_cls_build(r, n, blob, st);
}

static bool bpf_classify(const uint32_t key[SL_DIM_MAX], uint8_t tcp,
			 int *action, uint32_t *id)
{
	struct cls_in in = {.tcp = tcp, .len = 100};
	struct cls_out out;
	uint8_t frame[64] = {0};
	uint32_t zero = 0;
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
		    .data_size_in = sizeof(frame), .repeat = 1);

	memcpy(in.key, key, sizeof(in.key));
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.cls_keys), &zero, &in,
				0))
		return ASSERT_TRUE(false, "cls_keys update: %s",
				   strerror(errno));
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.cls_run), &t))
		return ASSERT_TRUE(false, "test run: %s", strerror(errno));
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.cls_res), &zero, &out))
		return ASSERT_TRUE(false, "cls_res lookup: %s",
				   strerror(errno));
	*action = out.action;
	*id = out.id;
	return true;
}

/* Packets counted for rule id, summed over CPUs. */
static uint64_t rule_packets(uint32_t id, uint64_t *bytes)
{
	struct sl_counter v[ncpu];
	uint64_t p = 0, b = 0;

	uint32_t cell = id % SL_RULE_CHUNK;

	if (id / SL_RULE_CHUNK >= SL_RULE_CHUNKS ||
	    bpf_map_lookup_elem(stats_fd[id / SL_RULE_CHUNK], &cell, v))
		return ~0ULL;
	for (int i = 0; i < ncpu; i++) {
		p += v[i].packets;
		b += v[i].bytes;
	}
	if (bytes)
		*bytes = b;
	return p;
}

static void sort_rules(struct sl_rule *r, size_t n)
{
	qsort(r, n, sizeof(*r),
	      (int (*)(const void *, const void *))sl_rule_order_cmp);
}

static int oracle_action(const struct sl_rule *sorted, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (sorted[i].id == id)
			return sorted[i].action;
	return -1;
}

/* ---- differential ---- */

static uint64_t seed;

/* A generated rule set: its shape (rulegen.h) and share of count rules. */
struct diff_set {
	const char *name;
	enum sl_gen_shape shape;
	double count_frac;
};

static bool differential(size_t n, size_t npk, const struct diff_set *set)
{
	struct sl_rule *rules = calloc(n, sizeof(*rules));
	struct sl_gen_pkt *pk = calloc(npk, sizeof(*pk));
	uint64_t *exp = calloc(n + 1, sizeof(*exp)), *before;
	struct sl_gen_opts o;
	struct sl_cls_stats st;
	struct sl_rng g;
	char name[96];
	bool ok_lookup = true, ok_bpf = true, ok_ctr = true;
	char why_lookup[256] = "", why_bpf[sizeof(check_why)] = "";
	size_t late = npk / 3, rnd = npk / 3;
	int err;

	before = calloc(n + 1, sizeof(*before));
	sl_gen_opts_default(&o, seed + n);
	o.shape = set->shape;
	o.count_frac = set->count_frac;
	if (!rules || !pk || !exp || !before || sl_gen_rules(rules, n, &o)) {
		snprintf(name, sizeof(name), "differential %s n=%zu setup",
			 set->name, n);
		check_report(name, ASSERT_TRUE(false, "out of memory"));
		return false;
	}
	sort_rules(rules, n);
	err = load_rules(rules, n, &st);
	snprintf(name, sizeof(name), "differential %s n=%zu build", set->name,
		 n);
	check_report(name, ASSERT_EQ(err, 0, "sl_cls_build"));
	if (err)
		return false;
	printf("# %s n=%zu: build %.1f ms, trees %u (%u coarse), nodes %u, "
	       "leaf slots %u, max depth %u, max leaf %u, worst accesses %u, "
	       "bytes %llu\n",
	       set->name, n, st.build_ms, st.trees, st.coarse_trees, st.nodes,
	       st.leaf_entries, st.max_depth, st.max_leaf, st.worst_accesses,
	       (unsigned long long)st.bytes);

	sl_gen_pkts_late(rules, n, late, seed + n + 1, pk);
	sl_rng_seed(&g, seed + n + 2);
	for (size_t i = late; i < late + rnd; i++)
		sl_gen_pkt_random(&g, &pk[i]);
	for (size_t i = late + rnd; i < npk; i++)
		sl_gen_pkt_edge(&rules[sl_rng_range(&g, 0, n - 1)], &g, &pk[i]);

	for (uint32_t id = 1; id <= n; id++)
		before[id] = rule_packets(id, NULL);
	for (size_t i = 0; i < npk; i++) {
		uint32_t oc[SL_COUNT_HITS_MAX], lc[SL_COUNT_HITS_MAX];
		size_t noc, nlc;
		uint32_t want, got, bid;
		int lact, bact, want_act;

		want = sl_cls_oracle(rules, n, pk[i].key, pk[i].tcp_flags, oc,
				     &noc);
		want_act = want ? oracle_action(rules, n, want) : -1;
		got = sl_cls_lookup(blob, pk[i].key, pk[i].tcp_flags, &lact, lc,
				    &nlc);
		if (ok_lookup &&
		    (got != want || lact != want_act || nlc != noc ||
		     memcmp(oc, lc, noc * sizeof(oc[0])))) {
			ok_lookup = false;
			snprintf(why_lookup, sizeof(why_lookup),
				 "packet %zu: lookup id %u action %d counts "
				 "%zu, oracle id %u action %d counts %zu",
				 i, got, lact, nlc, want, want_act, noc);
		}
		if (!bpf_classify(pk[i].key, pk[i].tcp_flags, &bact, &bid)) {
			ok_bpf = false;
			snprintf(why_bpf, sizeof(why_bpf), "%s", check_why);
			check_why[0] = '\0';
			break;
		}
		if (ok_bpf && (bid != want || bact != want_act)) {
			ok_bpf = false;
			snprintf(why_bpf, sizeof(why_bpf),
				 "packet %zu: bpf id %u action %d, oracle id "
				 "%u action %d",
				 i, bid, bact, want, want_act);
		}
		if (want)
			exp[want]++;
		for (size_t k = 0; k < noc; k++)
			exp[oc[k]]++;
	}
	snprintf(name, sizeof(name), "differential %s n=%zu lookup == oracle",
		 set->name, n);
	check_report(name, ASSERT_TRUE(ok_lookup, "%s", why_lookup));
	snprintf(name, sizeof(name), "differential %s n=%zu bpf == oracle",
		 set->name, n);
	check_report(name, ASSERT_TRUE(ok_bpf, "%s", why_bpf));
	for (uint32_t id = 1; id <= n && ok_ctr; id++) {
		uint64_t d = rule_packets(id, NULL) - before[id];

		if (d != exp[id])
			ok_ctr = ASSERT_TRUE(false,
					     "rule %u counted %llu packets, "
					     "oracle %llu",
					     id, (unsigned long long)d,
					     (unsigned long long)exp[id]);
	}
	snprintf(name, sizeof(name), "differential %s n=%zu rule counters",
		 set->name, n);
	check_report(name, ok_ctr);
	free(rules);
	free(pk);
	free(exp);
	free(before);
	return ok_lookup && ok_bpf && ok_ctr;
}

/* ---- edge cases ---- */

static void rule_init(struct sl_rule *r, uint32_t id, uint8_t action)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->priority = SL_PRIO_DEFAULT;
	r->action = action;
	r->dirs = 3;
	r->sport_hi = r->dport_hi = 65535;
	r->icmp_type = r->icmp_code = -1;
	r->vlan = -1;
}

static void set_prefix(struct sl_prefix *p, const char *s)
{
	char err[64];

	if (sl_prefix_parse(s, p, err, sizeof(err)))
		fprintf(stderr, "bad prefix %s: %s\n", s, err);
}

struct pkt {
	const char *src, *dst; /* addresses; NULL: ARP (no addresses) */
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t tcp;
	uint8_t dir;
	uint32_t icmp;
};

static void pkt_key(const struct pkt *p, uint32_t k[SL_DIM_MAX])
{
	memset(k, 0, sizeof(uint32_t) * SL_DIM_MAX);
	k[SL_DIM_L3] = SL_L3_ARP;
	if (p->src) {
		struct sl_prefix s, d;

		set_prefix(&s, p->src);
		set_prefix(&d, p->dst);
		k[SL_DIM_L3] = s.family == AF_INET ? SL_L3_IPV4 : SL_L3_IPV6;
		for (int w = 0; w < 4; w++) {
			uint32_t a, b;

			if (s.family == AF_INET && w) {
				break;
			}
			memcpy(&a, s.addr + 4 * w, 4);
			memcpy(&b, d.addr + 4 * w, 4);
			if (s.family == AF_INET) {
				k[SL_DIM_SRC3] = ntohl(a);
				k[SL_DIM_DST3] = ntohl(b);
			} else {
				k[SL_DIM_SRC0 + w] = ntohl(a);
				k[SL_DIM_DST0 + w] = ntohl(b);
			}
		}
	}
	k[SL_DIM_PROTO] = p->proto;
	k[SL_DIM_SPORT] = p->sport;
	k[SL_DIM_DPORT] = p->dport;
	k[SL_DIM_ICMP] = p->icmp;
	k[SL_DIM_DIR] = p->dir;
	k[SL_DIM_IFINDEX] = 1;
}

/* Runs pk through oracle, lookup and BPF; all must say want_id. */
static bool expect(const struct sl_rule *sorted, size_t n, const struct pkt *pk,
		   uint32_t want_id, const char *what)
{
	uint32_t k[SL_DIM_MAX], o, l, b;
	int la, ba, wa;

	pkt_key(pk, k);
	o = sl_cls_oracle(sorted, n, k, pk->tcp, NULL, NULL);
	l = sl_cls_lookup(blob, k, pk->tcp, &la, NULL, NULL);
	if (!bpf_classify(k, pk->tcp, &ba, &b))
		return false;
	wa = want_id ? oracle_action(sorted, n, want_id) : -1;
	return ASSERT_TRUE(o == want_id, "%s: oracle says %u, want %u", what, o,
			   want_id) &&
	       ASSERT_TRUE(l == want_id && la == wa,
			   "%s: lookup says %u/%d, want %u/%d", what, l, la,
			   want_id, wa) &&
	       ASSERT_TRUE(b == want_id && ba == wa,
			   "%s: bpf says %u/%d, want %u/%d", what, b, ba,
			   want_id, wa);
}

static bool build_sorted(struct sl_rule *r, size_t n)
{
	sort_rules(r, n);
	return ASSERT_EQ(load_rules(r, n, NULL), 0, "sl_cls_build");
}

static bool case_empty(void)
{
	struct pkt p = {.src = "10.0.0.1", .dst = "10.0.0.2", .proto = 6};

	return build_sorted(NULL, 0) && expect(NULL, 0, &p, 0, "empty set") &&
	       ASSERT_EQ(
		   ((struct sl_cls_hdr *)((struct sl_blob_hdr *)blob)->cls)
		       ->ntrees,
		   0, "trees of an empty set");
}

static bool case_prefix_extremes(void)
{
	struct sl_rule r[3];

	rule_init(&r[0], 1, SL_RACT_PASS);
	r[0].has_src = 1;
	set_prefix(&r[0].src, "2001:db8::1/128");
	rule_init(&r[1], 2, SL_RACT_DROP);
	r[1].has_src = 1;
	set_prefix(&r[1].src, "::/0");
	r[1].dport_lo = r[1].dport_hi = 80;
	rule_init(&r[2], 3, SL_RACT_DROP);
	r[2].has_dst = 1;
	set_prefix(&r[2].dst, "0.0.0.0/0");
	r[2].dport_lo = r[2].dport_hi = 81;
	return build_sorted(r, 3) &&
	       expect(r, 3,
		      (&(struct pkt){.src = "2001:db8::1",
				     .dst = "2001:db8::2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 9}),
		      1, "/128 exact") &&
	       expect(r, 3,
		      (&(struct pkt){.src = "2001:db8::3",
				     .dst = "::",
				     .proto = 6,
				     .sport = 1,
				     .dport = 80}),
		      2, "::/0 holds every IPv6 source") &&
	       expect(r, 3,
		      (&(struct pkt){.src = "2001:db8::3",
				     .dst = "::",
				     .proto = 6,
				     .sport = 1,
				     .dport = 81}),
		      0, "0.0.0.0/0 does not hold IPv6") &&
	       expect(r, 3,
		      (&(struct pkt){.src = "1.2.3.4",
				     .dst = "255.255.255.255",
				     .proto = 17,
				     .sport = 1,
				     .dport = 81}),
		      3, "0.0.0.0/0 holds every IPv4 destination") &&
	       expect(r, 3,
		      (&(struct pkt){.src = "1.2.3.4",
				     .dst = "5.6.7.8",
				     .proto = 6,
				     .sport = 1,
				     .dport = 80}),
		      0, "::/0 does not hold IPv4");
}

static bool case_ports(void)
{
	struct sl_rule r[2];

	rule_init(&r[0], 1, SL_RACT_DROP);
	r[0].sport_lo = r[0].sport_hi = 0;
	rule_init(&r[1], 2, SL_RACT_PASS);
	r[1].dport_lo = r[1].dport_hi = 65535;
	return build_sorted(r, 2) &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 0,
				     .dport = 5}),
		      1, "sport 0") &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 5}),
		      0, "sport 1") &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 65535}),
		      2, "dport 65535") &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 65534}),
		      0, "dport 65534");
}

static bool case_families(void)
{
	struct sl_rule r[3];

	rule_init(&r[0], 1, SL_RACT_DROP);
	r[0].l3 = SL_L3_IPV4;
	r[0].dport_lo = r[0].dport_hi = 22;
	rule_init(&r[1], 2, SL_RACT_PASS);
	r[1].dport_lo = r[1].dport_hi = 22;
	rule_init(&r[2], 3, SL_RACT_DROP);
	r[2].has_dst = 1;
	set_prefix(&r[2].dst, "::/96");
	return build_sorted(r, 3) &&
	       expect(r, 3,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 22}),
		      1, "IPv4 rule, IPv4 packet") &&
	       expect(r, 3,
		      (&(struct pkt){.src = "::1.1.1.1",
				     .dst = "::2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 22}),
		      2, "IPv4 rule, IPv4-compatible IPv6 packet") &&
	       expect(r, 3,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 23}),
		      0, "::/96 does not hold IPv4") &&
	       expect(r, 3,
		      (&(struct pkt){.src = "::1",
				     .dst = "::2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 23}),
		      3, "::/96 holds ::2.2.2.2");
}

static bool case_arp(void)
{
	struct sl_rule r[2];

	rule_init(&r[0], 1, SL_RACT_PASS);
	rule_init(&r[1], 2, SL_RACT_DROP);
	r[1].l3 = SL_L3_ARP;
	return build_sorted(r, 2) &&
	       expect(r, 2, (&(struct pkt){.src = NULL}), 2,
		      "ARP rule, ARP frame") &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 2}),
		      1, "catch-all IP rule, IPv4") &&
	       expect(r, 2,
		      (&(struct pkt){.src = "::1",
				     .dst = "::2",
				     .proto = 17,
				     .sport = 1,
				     .dport = 2}),
		      1, "catch-all IP rule, IPv6");
}

static bool case_dir(void)
{
	struct sl_rule r[2];

	rule_init(&r[0], 1, SL_RACT_DROP);
	r[0].dirs = 1U << SL_RDIR_IN;
	rule_init(&r[1], 2, SL_RACT_PASS);
	r[1].dirs = 1U << SL_RDIR_OUT;
	r[1].proto = 17;
	r[1].has_proto = 1;
	return build_sorted(r, 2) &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 2,
				     .tcp = 0,
				     .dir = SL_RDIR_IN}),
		      1, "in rule, in") &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 2,
				     .tcp = 0,
				     .dir = SL_RDIR_OUT}),
		      0, "in rule, out") &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 17,
				     .sport = 1,
				     .dport = 2,
				     .tcp = 0,
				     .dir = SL_RDIR_OUT}),
		      2, "out rule, out");
}

static bool case_tcp_flags(void)
{
	struct sl_rule r[2];

	rule_init(&r[0], 1, SL_RACT_DROP);
	r[0].has_proto = 1;
	r[0].proto = 6;
	r[0].tcp_mask = 0x12;  /* syn,ack */
	r[0].tcp_flags = 0x02; /* syn */
	rule_init(&r[1], 2, SL_RACT_PASS);
	r[1].has_proto = 1;
	r[1].proto = 6;
	r[1].tcp_mask = 0x04;
	r[1].tcp_flags = 0x00; /* rst clear */
	return build_sorted(r, 2) &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 2,
				     .tcp = 0x02}),
		      1, "syn") &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 2,
				     .tcp = 0x12}),
		      2, "syn,ack") &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 2,
				     .tcp = 0x14}),
		      0, "rst,ack") &&
	       expect(r, 2,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 2,
				     .tcp = 0x03}),
		      1, "syn,fin");
}

/* A rule that can match no packet (tcp value outside its mask) stays in
 * the rule table but must never decide, also when a set this small is
 * scanned in order (SL_CLS_F_LINEAR) instead of walked. */
static bool case_dead_rule(void)
{
	struct sl_rule r[2];
	struct pkt udp = {.src = "198.18.0.1",
			  .dst = "198.18.0.2",
			  .proto = 17,
			  .sport = 1,
			  .dport = 2};

	rule_init(&r[0], 1, SL_RACT_DROP);
	r[0].tcp_mask = 0x02;
	r[0].tcp_flags = 0x10; /* ack, outside the mask: matches nothing */
	rule_init(&r[1], 2, SL_RACT_PASS);
	r[1].has_proto = 1;
	r[1].proto = 6;
	return build_sorted(r, 2) && expect(r, 2, &udp, 0, "udp") &&
	       build_sorted(r, 1) && expect(r, 1, &udp, 0, "udp, alone");
}

/* A packet counts at most SL_COUNT_HITS_MAX count rules: the build
 * refuses a set where one packet matches more (EINVAL, naming the rule
 * that would never count), and with exactly that many, every one counts,
 * alike in the oracle, the lookup and the datapath. */
static bool case_count_bound(void)
{
	enum { NC = SL_COUNT_HITS_MAX, NX = 12 };
	struct sl_rule r[NX + 1];
	struct pkt p = {.src = "1.1.1.1", .dst = "2.2.2.2", .proto = 6};
	uint64_t before[NC + 2], bytes;
	uint32_t k[SL_DIM_MAX], ids[SL_COUNT_HITS_MAX], id;
	size_t nc;
	int act;
	bool ok = true;

	for (int i = 0; i < NX; i++)
		rule_init(&r[i], i + 1, SL_RACT_COUNT);
	rule_init(&r[NX], NX + 1, SL_RACT_DROP);
	sort_rules(r, NX + 1);
	if (!ASSERT_EQ(load_rules(r, NX + 1, NULL), -EINVAL,
		       "12 count rules matching every packet"))
		return false;
	for (int i = 0; i < NC; i++)
		rule_init(&r[i], i + 1, SL_RACT_COUNT);
	rule_init(&r[NC], NC + 1, SL_RACT_DROP);
	if (!build_sorted(r, NC + 1))
		return false;
	pkt_key(&p, k);
	for (uint32_t i = 1; i <= NC + 1; i++)
		before[i] = rule_packets(i, NULL);
	ok = ASSERT_EQ(sl_cls_oracle(r, NC + 1, k, 0, ids, &nc), NC + 1,
		       "oracle winner") &&
	     ASSERT_EQ(nc, SL_COUNT_HITS_MAX, "oracle count hits") &&
	     ASSERT_EQ(sl_cls_lookup(blob, k, 0, &act, ids, &nc), NC + 1,
		       "lookup winner") &&
	     ASSERT_EQ(nc, SL_COUNT_HITS_MAX, "lookup count hits") &&
	     bpf_classify(k, 0, &act, &id) &&
	     ASSERT_EQ(id, NC + 1, "bpf winner");
	for (uint32_t i = 1; ok && i <= NC + 1; i++) {
		uint64_t d = rule_packets(i, &bytes) - before[i];

		ok = ASSERT_TRUE(d == 1, "rule %u counted %llu packets, want 1",
				 i, (unsigned long long)d);
	}
	return ok;
}

static bool case_priority_ties(void)
{
	struct sl_rule r[3];

	rule_init(&r[0], 5, SL_RACT_DROP);
	rule_init(&r[1], 3, SL_RACT_PASS);
	rule_init(&r[2], 9, SL_RACT_DROP);
	r[2].priority = 10;
	r[2].dport_lo = r[2].dport_hi = 443;
	return build_sorted(r, 3) &&
	       expect(r, 3,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 2}),
		      3, "equal priority: lower id first") &&
	       expect(r, 3,
		      (&(struct pkt){.src = "1.1.1.1",
				     .dst = "2.2.2.2",
				     .proto = 6,
				     .sport = 1,
				     .dport = 443}),
		      9, "lower priority value first");
}

/* Hundreds of rules in one box, differing only in TCP flags, action and
 * priority: no cut separates them, so they share one leaf, longer than the
 * SL_CLS_LEAF_MAX scanned inline; the datapath scans the tail in a loop.
 * Every flags value is classified as the oracle says, and some packets are
 * decided past the inline part. */
static bool case_shared_box(void)
{
	enum { N = 300 };
	static struct sl_rule r[N];
	uint32_t deep = 0;
	bool ok;

	for (int i = 0; i < N; i++) {
		/* count rules only among the exact-flags ones: a packet
		 * matches at most one of them */
		rule_init(&r[i], i + 1,
			  i % 5 == 0 && i < 256 ? SL_RACT_COUNT
			  : i % 2 == 0		? SL_RACT_PASS
						: SL_RACT_DROP);
		r[i].priority = 1000 + (i * 7919) % N;
		r[i].has_src = 1;
		set_prefix(&r[i].src, "198.18.0.0/16");
		r[i].has_proto = 1;
		r[i].proto = 6;
		r[i].dport_lo = r[i].dport_hi = 443;
		r[i].tcp_mask = i < 256 ? 0xff : 0x12;
		r[i].tcp_flags = i < 256 ? i : 0x02;
	}
	ok = build_sorted(r, N);
	for (int v = 0; ok && v < 256; v++) {
		struct pkt pk = {.src = "198.18.1.1",
				 .dst = "198.19.0.1",
				 .proto = 6,
				 .sport = 1000,
				 .dport = 443,
				 .tcp = v};
		uint32_t k[SL_DIM_MAX], want;
		char what[32];

		pkt_key(&pk, k);
		want = sl_cls_oracle(r, N, k, v, NULL, NULL);
		for (int pos = 0; pos < N; pos++)
			if (want && r[pos].id == want && pos >= SL_CLS_LEAF_MAX)
				deep++;
		snprintf(what, sizeof(what), "tcp flags %#x", v);
		ok = expect(r, N, &pk, want, what);
	}
	return ok && ASSERT_TRUE(deep > 0,
				 "no packet was decided past the "
				 "first %d rules of the leaf",
				 SL_CLS_LEAF_MAX);
}

/* More overlapping count rules than a packet counts are refused (EINVAL,
 * naming the rule); as many, or more that never overlap, build. */
static bool case_count_overlap(void)
{
	enum { N = 16 };
	static struct sl_rule r[N];
	bool ok = true;

	for (int round = 0; round < 3 && ok; round++) {
		int n = round == 0 ? SL_COUNT_HITS_MAX : N, err;

		for (int i = 0; i < n; i++) {
			rule_init(&r[i], i + 1, SL_RACT_COUNT);
			r[i].has_proto = 1;
			r[i].proto = 6;
			r[i].dport_lo = r[i].dport_hi = 80;
			/* round 2: distinct exact flags, no packet hits two */
			r[i].tcp_mask = round == 2 ? 0xff : 0;
			r[i].tcp_flags = round == 2 ? i : 0;
		}
		err = load_rules(r, n, NULL);
		ok = round == 1
			 ? ASSERT_EQ(err, -EINVAL, "16 identical count rules")
			 : ASSERT_EQ(err, 0,
				     "8 identical count rules, or 16 "
				     "that never overlap");
	}
	/* Count rules of disjoint connection states never meet: 5 for new
	 * packets and 4 for established ones, all in one box, build. */
	for (int i = 0; ok && i < 9; i++) {
		rule_init(&r[i], i + 1, SL_RACT_COUNT);
		r[i].ct_state = 1U << (i < 5 ? SL_CT_NEW : SL_CT_ESTABLISHED);
	}
	ok = ok && ASSERT_EQ(load_rules(r, 9, NULL), 0,
			     "9 count rules of two disjoint ct-states");
	/* Across trees: src-only and dst-only rules go to different trees
	 * and meet in no leaf, yet one packet (10.1.1.1 -> 10.2.2.2) matches
	 * them all. 5 + 4 are refused; 4 + 4 build. */
	for (int round = 0; round < 2 && ok; round++) {
		int n = round ? 8 : 9, err;
		struct sl_cls_stats st = {0};

		for (int i = 0; i < n; i++) {
			rule_init(&r[i], i + 1, SL_RACT_COUNT);
			if (i < n - 4) {
				r[i].has_src = 1;
				set_prefix(&r[i].src, "10.0.0.0/8");
			} else {
				r[i].has_dst = 1;
				set_prefix(&r[i].dst, "10.0.0.0/8");
			}
		}
		err = load_rules(r, n, &st);
		ok = round == 0 ? ASSERT_EQ(err, -EINVAL,
					    "9 count rules meeting across "
					    "trees")
				: ASSERT_EQ(err, 0,
					    "8 count rules meeting across "
					    "trees") &&
				      ASSERT_TRUE(st.trees >= 2,
						  "src-only and dst-only rules "
						  "in %u trees, want 2",
						  st.trees);
	}
	return ok;
}

/* More rules than a leaf holds, in one box, that no cut separates and no
 * earlier rule shadows: distinct TCP-flags tests (mask, value), stricter
 * masks first (an earlier mask is never a subset of a later one). One
 * fewer builds. Repeating tests (4,097 rules over 256 exact values) are
 * shadowed by their first: that builds, and classifies as the oracle. */
static bool case_too_big(void)
{
	enum { N = SL_CLS_LEAF_LONG + 1 };
	static struct sl_rule r[N];
	struct pkt pk = {.src = "1.1.1.1", .dst = "2.2.2.2", .proto = 6};
	int k = 0, err;
	bool ok;

	for (int bits = 8; bits >= 1 && k < N; bits--)
		for (int m = 1; m < 256 && k < N; m++) {
			if (__builtin_popcount(m) != bits)
				continue;
			for (int v = 0; v < 256 && k < N; v++) {
				if (v & ~m)
					continue;
				rule_init(&r[k], k + 1, SL_RACT_DROP);
				r[k].tcp_mask = m;
				r[k].tcp_flags = v;
				k++;
			}
		}
	err = load_rules(r, N, NULL);
	ok = ASSERT_EQ(err, -E2BIG, "build of an overfull leaf") &&
	     ASSERT_EQ(load_rules(r, N - 1, NULL), 0,
		       "a leaf of SL_CLS_LEAF_LONG rules");
	for (int i = 0; ok && i < N; i++) {
		rule_init(&r[i], i + 1, i & 1 ? SL_RACT_PASS : SL_RACT_DROP);
		r[i].tcp_mask = 0xff;
		r[i].tcp_flags = (i * 7) & 0xff;
	}
	ok = ok && build_sorted(r, N);
	for (int v = 0; ok && v < 256; v += 5) {
		char what[48];

		pk.tcp = v;
		snprintf(what, sizeof(what), "shadowed repeats, flags %#x", v);
		ok = expect(r, N, &pk, (v * 183 % 256) + 1, what);
	}
	return ok;
}

int main(void)
{
	static const size_t sizes[] = {1, 10, 100, 1000, 10000};
	/* ClassBench-like, with more count rules than the default, to
	 * exercise the bound */
	static const struct diff_set classbench = {"classbench",
						   SL_GEN_CLASSBENCH, 0.15};
	/* The shapes a decision tree finds hardest (rulegen.h), each with
	 * the rule count it is tested at and its packets. */
	static const struct {
		struct diff_set set;
		size_t n, npk;
	} shapes[] = {
	    {{"shared-box", SL_GEN_SHARED_BOX, 0.03}, 10000, 3000},
	    {{"wide", SL_GEN_WIDE, 0}, 5000, 2000},
	    {{"split", SL_GEN_SPLIT, 0}, 70000, 600},
	    {{"split-halves", SL_GEN_SPLIT_HALVES, 0}, 100000, 600},
	};
	const char *s = getenv("SLUICE_FUZZ_SEED");
	int err;

	seed = s ? strtoull(s, NULL, 0) : 20261123;
	printf("# seed %llu (SLUICE_FUZZ_SEED)\n", (unsigned long long)seed);
	err = env_init();
	if (err) {
		printf("not ok - classifier test setup: %s\n", strerror(-err));
		return 1;
	}
	{
		struct bpf_prog_info info = {0};
		uint32_t len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(
			bpf_program__fd(skel->progs.cls_run), &info, &len))
			printf(
			    "# cls_run: %u verified insns, %u xlated bytes\n",
			    info.verified_insns, info.xlated_prog_len);
	}
	check_report("empty rule set", case_empty());
	check_report("/0 and /128 prefixes", case_prefix_extremes());
	check_report("port 0 and 65535", case_ports());
	check_report("IPv4 and IPv6 apart", case_families());
	check_report("ARP rules", case_arp());
	check_report("direction in and out", case_dir());
	check_report("tcp flags mask and value", case_tcp_flags());
	check_report("a rule that matches nothing never decides",
		     case_dead_rule());
	check_report("count rules beyond the bound", case_count_bound());
	check_report("priority ties broken by id", case_priority_ties());
	check_report("300 rules sharing one box (a long leaf)",
		     case_shared_box());
	check_report("overlapping count rules beyond the bound are refused",
		     case_count_overlap());
	check_report("overfull leaf is E2BIG, shadowed repeats are dropped",
		     case_too_big());
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		differential(sizes[i], sizes[i] >= 10000 ? 3000 : 4500,
			     &classbench);
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		differential(shapes[i].n, shapes[i].npk, &shapes[i].set);
	cls_test__destroy(skel);
	return check_failed ? 1 : 0;
}
