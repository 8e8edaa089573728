// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An experiment, not a product: Sluice's XDP program with parts taken away,
 * to see where its ns/packet go (bench_xdp `breakdown`, and `ctbreakdown`
 * for conntrack's lookup). One variant per
 * load, chosen by `sl_variant` in rodata; the verifier drops the rest. The
 * parser, maps and lookup helpers are Sluice's own (bpf/lib), and the set
 * maps are shared with a Sluice object whose sets libsluice wrote, so the
 * lookups see the real layout: host entries (/32) in the exact-match hash
 * behind the presence bitmap, shorter prefixes in the trie. IPv4 only. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lib/parse.h"
#include "lib/sets.h"
#include "lib/stats.h"
#include "variants.h"

enum {
	V_FULL = 0,    /* the Sluice pipeline, rebuilt: parse, sets, stats */
	V_NO_COUNTERS, /* Sluice's set lookups, no entry or stats counters */
	V_SRC_ONLY,    /* parse, src lookup, entry counters, stats */
	V_SRC_BARE,   /* parse, src lookup (bitmap, hash, trie), nothing else */
	V_PARSE_ONLY, /* parse, stats; no lookup */
	V_LPM_ONLY,   /* no parse: one raw src-trie lookup of a fixed key */
	V_ARRAY24,    /* parse, one array lookup by the /24 (DIR-24-8 step 1) */
	V_HASH32, /* parse, one hash lookup of the exact address, no bitmap */
	/* conntrack's lookup, piece by piece (bench_xdp `ctbreakdown`); TCP
	 * IPv4 frames of an established flow; each passes */
	V_CT_PARSE,    /* parse only */
	V_CT_KEY,      /* parse, the 40-byte key (sl_ct_key_make) */
	V_CT_LOOKUP,   /* parse, key, lookup in exp_ct (LRU, 40-byte key) */
	V_CT_LOOKUP_H, /* the same in exp_ct_h (plain hash, 40-byte key) */
	V_CT_LOOKUP16, /* parse, a 16-byte IPv4 key, lookup in exp_ct16 */
	V_CT_ATOMIC,   /* V_CT_LOOKUP, then the entry's two atomic adds */
	V_CT_PLAIN,    /* V_CT_LOOKUP, then the same adds, plain */
	V_CT_CLOCK,    /* parse, the coarse clock conntrack reads */
};

const volatile __u32 sl_variant = V_FULL;
/* The key of V_LPM_ONLY, in network order. */
const volatile __u32 sl_fixed_addr = 0;

/* DIR-24-8's first level: one cell per /24 of IPv4. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 24);
	__type(key, __u32);
	__type(value, __u32);
} exp_dir24 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 21);
	__type(key, __u32);
	__type(value, struct sl_set_val);
} exp_hash32 SEC(".maps");

/* Conntrack's table as sl_ct (LRU hash, 40-byte key, 96-byte value), as a
 * plain hash, and an LRU hash of a compact IPv4-only key (what a smaller
 * key would save; sl_ct's layout is pinned). One entry each here (the sets'
 * breakdown does not use them); bench_xdp `ctbreakdown` gives them the
 * capacity of sl_ct in its conntrack rows and fills them alike. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, struct sl_ct_key);
	__type(value, struct sl_ct_val);
} exp_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct sl_ct_key);
	__type(value, struct sl_ct_val);
} exp_ct_h SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, struct exp_ct16_key);
	__type(value, struct sl_ct_val);
} exp_ct16 SEC(".maps");

/* The conntrack variants: the frame's flow looked up as the variant says
 * (XDP_PASS when found, else XDP_DROP). */
static __always_inline int exp_ct_run(const struct sl_pkt *p)
{
	struct sl_ct_key k;
	struct exp_ct16_key k16;
	struct sl_ct_val *v;

	if (sl_variant == V_CT_PARSE)
		return XDP_PASS;
	if (sl_variant == V_CT_CLOCK)
		return bpf_ktime_get_coarse_ns() ? XDP_PASS : XDP_DROP;
	if (sl_variant == V_CT_LOOKUP16) {
		exp_ct16_key_make(&k16, p->saddr[0], p->daddr[0], p->sport,
				  p->dport, p->l4_proto);
		v = bpf_map_lookup_elem(&exp_ct16, &k16);
		return v ? XDP_PASS : XDP_DROP;
	}
	sl_ct_key_make(&k, p->saddr, p->daddr, p->sport, p->dport, p->l4_proto,
		       4);
	if (sl_variant == V_CT_KEY)
		return k.proto ? XDP_PASS : XDP_DROP;
	v = bpf_map_lookup_elem(sl_variant == V_CT_LOOKUP_H ? (void *)&exp_ct_h
							    : (void *)&exp_ct,
				&k);
	if (!v)
		return XDP_DROP;
	if (sl_variant == V_CT_ATOMIC) {
		__sync_fetch_and_add(&v->packets[0], 1);
		__sync_fetch_and_add(&v->bytes[0], p->len);
	} else if (sl_variant == V_CT_PLAIN) {
		v->packets[0] += 1;
		v->bytes[0] += p->len;
	}
	return XDP_PASS;
}

/* One trie lookup, without the host-entry probe in front of it. The trie
 * holds no /32: with the benchmark's set this finds the hit's /24. */
static __always_inline struct sl_set_val *exp_trie_v4(void *trie, __u32 addr)
{
	struct sl_lpm_v4 key = {.prefixlen = 32};

	__builtin_memcpy(key.addr, &addr, 4);
	return bpf_map_lookup_elem(trie, &key);
}

static __always_inline int exp_verdict(__u32 reason, __u32 action, __u32 len,
				       int stats)
{
	if (stats)
		sl_count(SL_HK_XDP, reason, action, len);
	return action == SL_ACT_DROP ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int sluice_variant(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sl_set_val *s, *d;
	struct sl_pkt p = {};
	int r;

	if (sl_variant == V_LPM_ONLY) {
		/* The trie of set slot 0 (no config applied: the slot the
		 * writes went to). */
		__u32 gen = 0;
		void *trie = bpf_map_lookup_elem(&sl_set_src_v4, &gen);

		s = trie ? exp_trie_v4(trie, sl_fixed_addr) : NULL;
		return s && s->kind == SL_SET_DENY ? XDP_DROP : XDP_PASS;
	}
	r = sl_parse(data, data_end, data_end - data, &p);
	if (r != SL_R_PASS || p.l3_proto != ETH_P_IP)
		return XDP_ABORTED;
	if (sl_variant >= V_CT_PARSE)
		return exp_ct_run(&p);

	switch (sl_variant) {
	case V_FULL:
		r = sl_sets_check(&p, 0);
		return exp_verdict(
		    r, r == SL_R_DENY_SET ? SL_ACT_DROP : SL_ACT_PASS, p.len,
		    1);
	case V_NO_COUNTERS:
		/* sl_sets_check() without the counters. */
		s = sl_set_lookup_v4(&sl_host_src_v4, &sl_set_src_v4, 0,
				     SL_DIR_SRC, p.saddr[0]);
		if (s && s->kind == SL_SET_DENY && s->plen == 32)
			return XDP_DROP;
		d = sl_set_lookup_v4(&sl_host_dst_v4, &sl_set_dst_v4, 0,
				     SL_DIR_DST, p.daddr[0]);
		if (d) {
			if (!s)
				s = d;
			else if (d->plen > s->plen ||
				 (d->plen == s->plen && d->kind == SL_SET_DENY))
				s = d;
		}
		return s && s->kind == SL_SET_DENY ? XDP_DROP : XDP_PASS;
	case V_SRC_ONLY:
		s = sl_set_lookup_v4(&sl_host_src_v4, &sl_set_src_v4, 0,
				     SL_DIR_SRC, p.saddr[0]);
		if (!s)
			return exp_verdict(SL_R_PASS, SL_ACT_PASS, p.len, 1);
		__sync_fetch_and_add(&s->packets, 1);
		__sync_fetch_and_add(&s->bytes, p.len);
		if (s->kind == SL_SET_DENY)
			return exp_verdict(SL_R_DENY_SET, SL_ACT_DROP, p.len,
					   1);
		return exp_verdict(SL_R_ALLOW_SET, SL_ACT_PASS, p.len, 1);
	case V_SRC_BARE:
		s = sl_set_lookup_v4(&sl_host_src_v4, &sl_set_src_v4, 0,
				     SL_DIR_SRC, p.saddr[0]);
		return s && s->kind == SL_SET_DENY ? XDP_DROP : XDP_PASS;
	case V_PARSE_ONLY:
		return exp_verdict(SL_R_DENY_SET, SL_ACT_DROP, p.len, 1);
	case V_ARRAY24: {
		__u32 idx = bpf_ntohl(p.saddr[0]) >> 8;
		__u32 *v = bpf_map_lookup_elem(&exp_dir24, &idx);

		return v && *v ? XDP_DROP : XDP_PASS;
	}
	case V_HASH32:
		s = bpf_map_lookup_elem(&exp_hash32, &p.saddr[0]);
		return s && s->kind == SL_SET_DENY ? XDP_DROP : XDP_PASS;
	}
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
