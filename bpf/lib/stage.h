/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* stage: the stage contract every hook runs (pipeline.h holds the table).
 * A stage is one header under bpf/lib/ with one entry
 *     static __always_inline int sl_stage_<name>(struct sl_pctx *c,
 *                                                const struct sl_hook *h)
 * that returns SL_CONT (go on with the next row) or SL_DONE after writing
 * the verdict with sl_done(): an action (enum sl_action), a reason (enum
 * sl_reason) and, for SL_ACT_REDIRECT, a target (a slot of
 * sl_redirect_ports). The per-packet context lives off the stack, in one
 * per-CPU scratch slot, so the 512-byte stack stays free for the stages;
 * pointers (packet, config blob) cannot live in a map value (they come back
 * as scalars) and travel in struct sl_hook on the stack instead. */
#ifndef SL_STAGE_H
#define SL_STAGE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <sluice/abi.h>

#include "maps.h"
#include "parse.h"

/* A stage's return: go on, or the verdict in sl_pctx.v is final. */
#define SL_CONT 0
#define SL_DONE 1

/* Load-time switches, set by the loader before the programs are verified
 * (skeleton rodata): a stage whose switch is off is removed by the
 * verifier with its maps' lookups. */
const volatile struct sl_features sl_feat = {.drop_malformed = 1};

struct sl_verdict {
	__u32 action; /* enum sl_action */
	__u32 reason; /* enum sl_reason */
	__u32 target; /* SL_ACT_REDIRECT: slot of sl_redirect_ports */
};

/* Bytes of stage-private scratch in the context (the classifier's walk
 * state is the largest user); each stage casts it to its own record and
 * asserts that it fits. */
#define SL_STAGE_SCRATCH 320

/* The per-packet context: one per CPU, rewritten by every packet from the
 * first stage on. Only what the parse stage writes is defined when a later
 * stage starts; scratch belongs to the stage running. */
struct sl_pctx {
	struct sl_pkt pkt;
	struct sl_verdict v;
	__s32 parsed; /* what sl_parse() returned for pkt */
	__u32 gen;    /* set slot the packet's config blob names */
	__u32 ct;     /* enum sl_ct_pkt (conntrack stage; 0 when off) */
	__u32 flags;  /* SL_PCTX_* (conntrack stage) */
	/* conntrack's fast path (conntrack.h): SL_CT_FP_* and the cache
	 * slot of the packet; 0 when off or not an established flow's */
	__u32 ct_fp;
	struct sl_ct_key ct_key; /* the flow's key, for SL_CT_FP_STORE */
	/* events (events.h; 0 when off): the deciding rule's id, with
	 * SL_CLS_LOG when it has `log`; 0: no rule decided */
	__u32 rule;
	__u32 pad;
	__u64 scratch[SL_STAGE_SCRATCH / 8];
	/* Not rewritten by packets: the events' sampling countdowns of this
	 * CPU, by hook (0: XDP, 1: TC ingress, 2: TC egress). */
	__u32 ev_left[4];
};

/* sl_pctx.flags: an ACK to a synproxy port of no flow whose cookie does
 * not check */
#define SL_PCTX_SYN_BAD 0x1

/* sl_pctx.ct_fp: the packet's slot bit (1 << slot, bits 0-3), and */
#define SL_CT_FP_SLOT  0x0f
#define SL_CT_FP_HIT   0x10 /* its pass is cached: skip the classifier */
#define SL_CT_FP_RULE  0x20 /* HIT: a rule decided it (reason rule) */
#define SL_CT_FP_STORE 0x40 /* a pass the classifier decides may be cached */

/* One slot: the hooks never nest on a CPU for one packet (XDP and TC run
 * to completion in softirq or with bottom halves off). Not pinned: it
 * holds no state between packets but the sampling countdowns, which a new
 * load may start afresh. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_pctx);
} sl_scratch SEC(".maps");

/* The trace record of a copy loaded with sl_feat.trace (sluice explain):
 * written instead of the counters; unused (and removed by the verifier)
 * in the attached programs. Not pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_trace);
} sl_trace SEC(".maps");

static __always_inline struct sl_trace *sl_trace_get(void)
{
	__u32 zero = 0;

	return sl_feat.trace ? bpf_map_lookup_elem(&sl_trace, &zero) : NULL;
}

/* What the hook hands every stage, on the stack: the frame and the config
 * blob (pointers), and the facts of the hook. dir is a constant of each
 * program, so the verifier drops the stages a direction does not run. */
struct sl_hook {
	void *ctx; /* the program's context (helpers such as bpf_fib_lookup) */
	void *data;
	void *data_end;
	__u8 *blob; /* running config blob, NULL before the first apply */
	__u32 len;  /* frame length (skb->len at TC) */
	__u32 dir;  /* enum sl_rule_dir */
	__u32 ifindex;
	__u16 vlan_tci; /* TC: tag the stack took out of the frame */
	__u8 vlan_present;
	__u8 xdp; /* 1 at the XDP hook (it can answer with XDP_TX) */
};

/* The packet's IP and L4 headers at the offsets the parser found, as
 * pointers the verifier can bound: 0, or -1 when an offset is out of the
 * parser's range (never after a parse). Each header's end is still the
 * caller's to check against h->data_end. */
static __always_inline int sl_pkt_hdrs(const struct sl_pkt *p,
				       const struct sl_hook *h, __u8 **ip,
				       __u8 **l4)
{
	__u32 l3 = p->l3_off, o4 = p->l4_off;
	__u8 *a, *b;

	asm volatile("" : "+r"(l3));
	asm volatile("" : "+r"(o4));
	if (l3 > SL_PARSE_MAX_OFF || o4 > SL_PARSE_MAX_OFF)
		return -1;
	a = h->data + l3;
	b = h->data + o4;
	asm volatile("" : "+r"(a));
	asm volatile("" : "+r"(b));
	*ip = a;
	*l4 = b;
	return 0;
}

static __always_inline struct sl_pctx *sl_pctx_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sl_scratch, &zero);
}

static __always_inline int sl_done(struct sl_pctx *c, __u32 action,
				   __u32 reason, __u32 target)
{
	c->v.action = action;
	c->v.reason = reason;
	c->v.target = target;
	return SL_DONE;
}

/* The first row of every hook: parse once into the context. Malformed
 * frames are judged by the next row (malformed.h); parsing itself never
 * decides. A VLAN tag the stack took out of the frame (TC) counts as the
 * outer tag. */
static __always_inline int sl_stage_parse(struct sl_pctx *c,
					  const struct sl_hook *h)
{
	struct sl_pkt *p = &c->pkt;

	__builtin_memset(p, 0, sizeof(*p));
	c->parsed = sl_parse(h->data, h->data_end, h->len, p);
	if (h->vlan_present && p->nvlan < 2) {
		p->vlan_id[1] = p->vlan_id[0];
		p->vlan_id[0] = h->vlan_tci & 0x0fff;
		p->nvlan++;
	}
	c->gen = h->blob ? ((struct sl_blob_hdr *)h->blob)->set_gen & 1 : 0;
	c->ct = SL_CT_UNTRACKED;
	c->ct_fp = 0;
	if (sl_feat.events)
		c->rule = 0;
	return SL_CONT;
}

#endif /* SL_STAGE_H */
