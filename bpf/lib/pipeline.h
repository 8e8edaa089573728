/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* pipeline: the stage table every hook runs, and the one choke point every
 * verdict passes through. The contract of a stage is in stage.h; adding a
 * stage is one header and one row of SL_STAGES below. */
#ifndef SL_PIPELINE_H
#define SL_PIPELINE_H

#include "bans.h"
#include "conntrack.h"
#include "frag.h"
#include "lb.h"
#include "events.h"
#include "malformed.h"
#include "policy.h"
#include "rules.h"
#include "sets.h"
#include "stage.h"
#include "stats.h"
#include "synproxy.h"

/* The stages, in order: X(name, on). `on` must be a load-time constant
 * (a literal or an sl_feat switch): a row that is off is removed by the
 * verifier, costing 0 ns (bench_xdp `stages` compares such a program with
 * one built without the rows, bench/sluice_nostage.bpf.c, which defines
 * its own table first). The last row always decides. */
#ifndef SL_STAGES
#define SL_STAGES(X)                                         \
	X(parse, 1)                                          \
	X(malformed, 1)                                      \
	X(sets, !(sl_feat.stages_off & SL_STAGE_OFF_SETS))   \
	X(bans, !(sl_feat.stages_off & SL_STAGE_OFF_BANS))   \
	X(lb, sl_feat.lb)                                    \
	X(frag, !(sl_feat.stages_off & SL_STAGE_OFF_FRAG))   \
	X(synproxy, sl_feat.conntrack)                       \
	X(conntrack, sl_feat.conntrack)                      \
	X(rules, !(sl_feat.stages_off & SL_STAGE_OFF_RULES)) \
	X(policy, 1)
#endif

/* The choke point: every verdict is counted here, per CPU, by hook, reason
 * and action (sl_stats), a first fragment's is remembered for its later
 * fragments (frag.h; not by the trace copy), and, in programs loaded with
 * sl_feat.events, it may become an event record (events.h), with the
 * frame's first bytes read through ctx while a capture runs. xdp is
 * h->xdp and hook the program's enum sl_hook_id, both compile-time
 * constants (sl_pipeline). */
static __always_inline void sl_verdict_commit(struct sl_pctx *c,
					      const struct sl_hook *h,
					      void *ctx, const __u32 xdp,
					      const __u32 hook)
{
	struct sl_trace *t;

	if (!sl_feat.trace) {
		sl_count(hook, c->v.reason, c->v.action, c->pkt.len);
		sl_count_iface(h->ifindex, h->dir, c->v.action, c->pkt.len);
		if (!(sl_feat.stages_off & SL_STAGE_OFF_FRAG) &&
		    c->pkt.frag == SL_FRAG_FIRST)
			sl_frag_note(c, h->dir);
		if (sl_feat.events)
			sl_ev_verdict(c, h, ctx, xdp);
		return;
	}
	/* A trace copy (sluice explain) says why instead of counting. */
	t = sl_trace_get();
	if (t) {
		t->action = c->v.action;
		t->reason = c->v.reason;
		t->target = c->v.target;
		t->parsed = c->parsed;
		t->ct = c->ct;
		t->serial =
		    h->blob ? ((struct sl_blob_hdr *)h->blob)->serial : 0;
	}
}

#define SL_STAGE_ROW(name, on)                        \
	if ((on) && sl_stage_##name(c, h) != SL_CONT) \
		goto done;

/* Runs the table on the frame h describes and commits the verdict, which
 * the hook then maps onto its return code. ctx is the program's context
 * (xdp_md, __sk_buff). NULL only if the per-CPU scratch is missing
 * (never: the map has its one slot). */
static __always_inline struct sl_pctx *sl_pipeline(const struct sl_hook *h)
{
	/* Read before any subprogram sees h, so that the compiler folds it
	 * into a constant of each program (after such a call it reloads it
	 * from the stack): the events call the hook's own writer by it, and
	 * the counters take the hook's cells by hook (no per-packet work). */
	const __u32 xdp = h->xdp;
	const __u32 hook = xdp			   ? SL_HK_XDP
			   : h->dir == SL_RDIR_OUT ? SL_HK_TC_OUT
						   : SL_HK_TC_IN;
	void *ctx = h->ctx;
	struct sl_pctx *c = sl_pctx_get();

	if (!c)
		return NULL;
	if (sl_feat.trace) {
		struct sl_trace *t = sl_trace_get();

		if (t)
			__builtin_memset(t, 0, sizeof(*t));
	}
	SL_STAGES(SL_STAGE_ROW)
	/* Not reached: the policy row always decides. */
	sl_done(c, SL_ACT_ABORT, SL_R_PASS, 0);
done:
	/* An established flow's pass that may be cached (conntrack.h): the
	 * rules stage's or the policy's, not the allow set's (it tracks the
	 * packet before the conntrack stage, then decides). */
	if (sl_feat.conntrack && (c->ct_fp & SL_CT_FP_STORE) &&
	    c->v.action == SL_ACT_PASS &&
	    (c->v.reason == SL_R_RULE || c->v.reason == SL_R_PASS))
		sl_ct_store(c, h);
	sl_verdict_commit(c, h, ctx, xdp, hook);
	return c;
}

#endif /* SL_PIPELINE_H */
