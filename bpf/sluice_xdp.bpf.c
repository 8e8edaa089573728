// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The hooks: each parses the frame once and runs the shared pipeline
 * (bpf/lib/pipeline.h), then turns its verdict into the hook's return code.
 * All hooks share the pinned maps.
 *   sluice_xdp     XDP, ingress (classifies as SL_RDIR_IN)
 *   sluice_tc_in   TC clsact ingress, when XDP is not attached (SL_RDIR_IN)
 *   sluice_tc_out  TC clsact egress (SL_RDIR_OUT) */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "lib/pipeline.h"

SEC("xdp")
int sluice_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sl_pkt p = {};
	int r;

	r = sl_parse(data, data_end, data_end - data, &p);
	r = sl_pipeline(&p, r, SL_RDIR_IN, ctx->ingress_ifindex);
	return r == SL_ACT_DROP ? XDP_DROP : XDP_PASS;
}

/* cls_bpf in direct-action mode. At both TC hooks skb->data points at the
 * Ethernet header and skb->len counts the whole frame, but only the linear
 * part [data, data_end) is readable: make as much of it linear as the
 * parser can read (a no-op when it already is), and give the parser the
 * real length. An outer VLAN tag the stack took out of the frame
 * (skb->vlan_tci) counts as the outer tag. */
static __always_inline int sl_tc(struct __sk_buff *skb, __u32 dir)
{
	__u32 len = skb->len;
	__u32 need = len < SL_PARSE_MAX_LEN ? len : SL_PARSE_MAX_LEN;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct sl_pkt p = {};
	int r;

	if ((__u32)(data_end - data) < need) {
		/* On failure the parser sees the short linear part and
		 * reports what is missing as malformed. */
		bpf_skb_pull_data(skb, need);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	r = sl_parse(data, data_end, len, &p);
	if (skb->vlan_present && p.nvlan < 2) {
		p.vlan_id[1] = p.vlan_id[0];
		p.vlan_id[0] = skb->vlan_tci & 0x0fff;
		p.nvlan++;
	}
	r = sl_pipeline(&p, r, dir, skb->ifindex);
	return r == SL_ACT_DROP ? TC_ACT_SHOT : TC_ACT_OK;
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
