/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* pipeline: the stages every hook runs after parsing, in order
 *   malformed checks -> allow/deny sets (ingress) -> rules -> policy
 * Hooks (XDP, TC ingress, TC egress) parse the frame, call sl_pipeline()
 * and map the returned SL_ACT_* onto their own return codes. */
#ifndef SL_PIPELINE_H
#define SL_PIPELINE_H

#include "parse.h"
#include "rules.h"
#include "sets.h"
#include "stats.h"

/* Load-time switches, set by the loader before the programs are verified. */
const volatile struct sl_features sl_feat = {.drop_malformed = 1};

static __always_inline int sl_verdict(__u32 reason, __u32 action, __u32 len)
{
	sl_count(reason, action, len);
	return action;
}

/* The packet as a point of the rule space (abi.h, enum sl_dim). */
static __always_inline void sl_rule_key(const struct sl_pkt *p, __u32 dir,
					__u32 ifindex, __u32 *kv)
{
	if (p->l3_proto == ETH_P_IP) {
		kv[SL_DIM_SRC3] = bpf_ntohl(p->saddr[0]);
		kv[SL_DIM_DST3] = bpf_ntohl(p->daddr[0]);
		kv[SL_DIM_L3] = SL_L3_IPV4;
	} else if (p->l3_proto == ETH_P_IPV6) {
#pragma unroll
		for (int i = 0; i < 4; i++) {
			kv[SL_DIM_SRC0 + i] = bpf_ntohl(p->saddr[i]);
			kv[SL_DIM_DST0 + i] = bpf_ntohl(p->daddr[i]);
		}
		kv[SL_DIM_L3] = SL_L3_IPV6;
	} else {
		kv[SL_DIM_L3] =
		    p->l3_proto == ETH_P_ARP ? SL_L3_ARP : SL_L3_OTHER;
	}
	kv[SL_DIM_SPORT] = p->sport;
	kv[SL_DIM_DPORT] = p->dport;
	kv[SL_DIM_PROTO] = p->l4_proto;
	if (p->l4_proto == IPPROTO_ICMP || p->l4_proto == IPPROTO_ICMPV6)
		kv[SL_DIM_ICMP] = (__u32)p->icmp_type << 8 | p->icmp_code;
	kv[SL_DIM_IFINDEX] = ifindex;
	kv[SL_DIM_VLAN] = p->vlan_id[0] & 0xfff;
	kv[SL_DIM_DIR] = dir;
}

/* The rules stage, then the direction's default policy. */
static __always_inline int sl_rules_stage(__u8 *blob, struct sl_pkt *p,
					  __u32 dir, __u32 ifindex, int nonip)
{
	__u32 id = 0;
	int act = -1;

	if (blob && ((struct sl_blob_hdr *)blob)->nrules) {
		/* Zeroed only when there are rules to walk. */
		struct sl_cls_ctx c = {};

		sl_rule_key(p, dir, ifindex, c.key);
		act = sl_rules_classify(&c, blob, p->tcp_flags, p->len, &id);
	}
	if (act >= 0)
		return sl_verdict(
		    SL_R_RULE, act == SL_RACT_DROP ? SL_ACT_DROP : SL_ACT_PASS,
		    p->len);
	if (nonip)
		return sl_verdict(SL_R_NON_IP, SL_ACT_PASS, p->len);
	if (blob &&
	    ((struct sl_blob_hdr *)blob)->policy[dir & 1] == SL_ACT_DROP)
		return sl_verdict(SL_R_POLICY, SL_ACT_DROP, p->len);
	return sl_verdict(SL_R_PASS, SL_ACT_PASS, p->len);
}

/* r: what sl_parse() returned for p. dir: enum sl_rule_dir of the hook.
 * Returns SL_ACT_PASS or SL_ACT_DROP, counted by reason. */
static __always_inline int sl_pipeline(struct sl_pkt *p, int r, __u32 dir,
				       __u32 ifindex)
{
	__u8 *blob = sl_blob_get();
	__u32 gen = 0;

	if (blob)
		gen = ((struct sl_blob_hdr *)blob)->set_gen & 1;
	if (r == SL_R_NON_IP) {
		/* Non-IP frames meet only the rules that name them (ARP). */
		if (p->l3_proto != ETH_P_ARP)
			return sl_verdict(r, SL_ACT_PASS, p->len);
	} else if (r != SL_R_PASS) {
		if (sl_feat.drop_malformed)
			return sl_verdict(r, SL_ACT_DROP, p->len);
		/* Passing malformed frames must not open a way around the
		 * deny set: every frame whose addresses the parser could read
		 * (bad IP lengths, a too-long IPv6 extension chain, a bad L4
		 * header) meets the sets. */
		if (dir == SL_RDIR_IN && p->addrs &&
		    sl_sets_check(p, gen) == SL_R_DENY_SET)
			return sl_verdict(SL_R_DENY_SET, SL_ACT_DROP, p->len);
		return sl_verdict(r, SL_ACT_PASS, p->len);
	} else if (dir == SL_RDIR_IN) {
		int s = sl_sets_check(p, gen);

		if (s == SL_R_DENY_SET)
			return sl_verdict(s, SL_ACT_DROP, p->len);
		/* An allow entry ends the pipeline: trusted traffic bypasses
		 * every later stage. */
		if (s == SL_R_ALLOW_SET)
			return sl_verdict(s, SL_ACT_PASS, p->len);
	}
	/* One call site: the classifier is inlined once. */
	return sl_rules_stage(blob, p, dir, ifindex, r == SL_R_NON_IP);
}

#endif /* SL_PIPELINE_H */
