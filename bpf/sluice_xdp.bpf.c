// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The hooks: each describes its frame (struct sl_hook), runs the one stage
 * table (bpf/lib/pipeline.h) and maps the verdict's action onto its own
 * return codes. All hooks share the pinned maps.
 *   sluice_xdp     XDP, ingress (classifies as SL_RDIR_IN)
 *   sluice_tc_in   TC clsact ingress, when XDP is not attached (SL_RDIR_IN)
 *   sluice_tc_out  TC clsact egress (SL_RDIR_OUT) */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "lib/decap.h"
#include "lib/pipeline.h"

/* XDP: pass, drop, tx (back out of the interface), redirect (through the
 * DEVMAP slot of the verdict; an emptied slot aborts; the load balancer's
 * to the verdict's ifindex), abort. */
SEC("xdp")
int sluice_xdp(struct xdp_md *ctx)
{
	void *data, *data_end;
	struct sl_hook h;
	struct sl_pctx *c;

	/* a dsr-ipip backend (attach --decap): the stages see the inner
	 * packet (decap.h) */
	if (sl_feat.decap && sl_decap(ctx) < 0)
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	h = (struct sl_hook){
	    .ctx = ctx,
	    .data = data,
	    .data_end = data_end,
	    .blob = sl_blob_get(),
	    .len = data_end - data,
	    .dir = SL_RDIR_IN,
	    .ifindex = ctx->ingress_ifindex,
	    .xdp = 1,
	};
	c = sl_pipeline(&h);

	if (!c)
		return XDP_ABORTED;
	/* the load balancer's next hop: an ifindex (lb.h) */
	if (sl_feat.lb && c->v.reason == SL_R_LB_FWD &&
	    c->v.action == SL_ACT_REDIRECT)
		return bpf_redirect(c->v.target, 0);
	switch (c->v.action) {
	case SL_ACT_PASS:
		return XDP_PASS;
	case SL_ACT_DROP:
		return XDP_DROP;
	case SL_ACT_TX:
		if (c->v.reason == SL_R_SYN_COOKIE)
			return sl_synack_xmit(ctx, c);
		return XDP_TX;
	case SL_ACT_REDIRECT:
		return bpf_redirect_map(&sl_redirect_ports, c->v.target,
					XDP_ABORTED);
	}
	return XDP_ABORTED;
}

/* cls_bpf in direct-action mode. At both TC hooks skb->data points at the
 * Ethernet header and skb->len counts the whole frame, but only the linear
 * part [data, data_end) is readable: make as much of it linear as the
 * parser can read (a no-op when it already is), and give the parser the
 * real length. An outer VLAN tag the stack took out of the frame
 * (skb->vlan_tci) counts as the outer tag.
 * Actions: pass (TC_ACT_OK), drop and abort (TC_ACT_SHOT), tx (back out
 * of the interface, bpf_redirect), redirect (bpf_redirect to the ifindex
 * of the verdict's slot, out of that interface). */
static __always_inline int sl_tc(struct __sk_buff *skb, __u32 dir)
{
	__u32 len = skb->len;
	__u32 need = len < SL_PARSE_MAX_LEN ? len : SL_PARSE_MAX_LEN;
	struct sl_hook h = {
	    .ctx = skb,
	    .blob = sl_blob_get(),
	    .len = len,
	    .dir = dir,
	    .ifindex = skb->ifindex,
	    .vlan_tci = skb->vlan_tci,
	    .vlan_present = skb->vlan_present,
	};
	struct sl_pctx *c;
	__u32 ifx;

	if ((__u32)(skb->data_end - skb->data) < need)
		/* On failure the parser sees the short linear part and
		 * reports what is missing as malformed. */
		bpf_skb_pull_data(skb, need);
	h.data = (void *)(long)skb->data;
	h.data_end = (void *)(long)skb->data_end;
	c = sl_pipeline(&h);
	if (!c)
		return TC_ACT_SHOT;
	switch (c->v.action) {
	case SL_ACT_PASS:
		return TC_ACT_OK;
	case SL_ACT_DROP:
		return TC_ACT_SHOT;
	case SL_ACT_TX:
		return bpf_redirect(skb->ifindex, 0);
	case SL_ACT_REDIRECT:
		ifx = sl_redirect_target(c->v.target);
		return ifx ? bpf_redirect(ifx, 0) : TC_ACT_SHOT;
	}
	return TC_ACT_SHOT;
}

SEC("tc")
int sluice_tc_in(struct __sk_buff *skb)
{
	return sl_tc(skb, SL_RDIR_IN);
}

SEC("tc")
int sluice_tc_out(struct __sk_buff *skb)
{
	return sl_tc(skb, SL_RDIR_OUT);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
