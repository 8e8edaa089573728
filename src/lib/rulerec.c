// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* rulerec: a rule (struct sl_rule, the control plane's model) to and from
 * its persisted record (struct sl_rule_rec, abi.h), the value stored in
 * sl_rule_defs. The model may change between releases; the record only
 * grows into its reserved bytes. */
#include <string.h>
#include <sys/socket.h>

#include "sluice.h"

static void prefix_to(const struct sl_prefix *p, __u8 *fam, __u8 *plen,
		      __u8 addr[16])
{
	*fam = p->family;
	*plen = p->plen;
	memcpy(addr, p->addr, 16);
}

static void prefix_from(struct sl_prefix *p, __u8 fam, __u8 plen,
			const __u8 addr[16])
{
	p->family = fam;
	p->plen = plen;
	memcpy(p->addr, addr, 16);
}

/* Copies the string src (at most len - 1 bytes of it) into dst, which the
 * caller zeroed: the bytes after its end stay zero. */
static void str_to(char *dst, const char *src, size_t len)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
}

void sl_rule_to_rec(const struct sl_rule *r, struct sl_rule_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->id = r->id;
	rec->priority = r->priority;
	rec->action = r->action;
	rec->dirs = r->dirs;
	rec->l3 = r->l3;
	rec->flags =
	    (r->has_src ? SL_RREC_SRC : 0) | (r->has_dst ? SL_RREC_DST : 0) |
	    (r->has_proto ? SL_RREC_PROTO : 0) |
	    (r->has_smac ? SL_RREC_SMAC : 0) | (r->has_dmac ? SL_RREC_DMAC : 0);
	/* Canonical: a field that is unset stays zero, strings are zero
	 * after their end, so equal rules have equal records. */
	if (r->has_src)
		prefix_to(&r->src, &rec->src_family, &rec->src_plen, rec->src);
	if (r->has_dst)
		prefix_to(&r->dst, &rec->dst_family, &rec->dst_plen, rec->dst);
	if (r->has_proto)
		rec->proto = r->proto;
	rec->tcp_mask = r->tcp_mask;
	rec->tcp_flags = r->tcp_flags;
	rec->sport_lo = r->sport_lo;
	rec->sport_hi = r->sport_hi;
	rec->dport_lo = r->dport_lo;
	rec->dport_hi = r->dport_hi;
	rec->icmp_type = r->icmp_type;
	rec->icmp_code = r->icmp_code;
	rec->vlan = r->vlan;
	rec->rate_pps = r->rate_pps;
	rec->ct_state = r->ct_state;
	rec->fragment = r->fragment;
	rec->log = r->log;
	rec->rate_bytes = r->rate_bytes;
	rec->burst = r->burst;
	rec->burst_bytes = r->burst_bytes;
	rec->ban_secs = r->ban_secs;
	rec->rl_per = r->rl_per;
	rec->rl_plen4 = r->rl_plen4;
	rec->rl_plen6 = r->rl_plen6;
	if (r->has_smac)
		memcpy(rec->smac, r->smac, 6);
	if (r->has_dmac)
		memcpy(rec->dmac, r->dmac, 6);
	str_to(rec->iface, r->iface, sizeof(rec->iface));
	str_to(rec->to, r->to, sizeof(rec->to));
	str_to(rec->comment, r->comment, sizeof(rec->comment));
}

void sl_rule_from_rec(const struct sl_rule_rec *rec, struct sl_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->id = rec->id;
	r->priority = rec->priority;
	r->action = rec->action;
	r->dirs = rec->dirs;
	r->l3 = rec->l3;
	r->has_src = !!(rec->flags & SL_RREC_SRC);
	r->has_dst = !!(rec->flags & SL_RREC_DST);
	r->has_proto = !!(rec->flags & SL_RREC_PROTO);
	r->has_smac = !!(rec->flags & SL_RREC_SMAC);
	r->has_dmac = !!(rec->flags & SL_RREC_DMAC);
	prefix_from(&r->src, rec->src_family, rec->src_plen, rec->src);
	prefix_from(&r->dst, rec->dst_family, rec->dst_plen, rec->dst);
	r->proto = rec->proto;
	r->tcp_mask = rec->tcp_mask;
	r->tcp_flags = rec->tcp_flags;
	r->sport_lo = rec->sport_lo;
	r->sport_hi = rec->sport_hi;
	r->dport_lo = rec->dport_lo;
	r->dport_hi = rec->dport_hi;
	r->icmp_type = rec->icmp_type;
	r->icmp_code = rec->icmp_code;
	r->vlan = rec->vlan;
	r->rate_pps = rec->rate_pps;
	r->ct_state = rec->ct_state;
	r->fragment = rec->fragment;
	r->log = rec->log;
	r->rate_bytes = rec->rate_bytes;
	r->burst = rec->burst;
	r->burst_bytes = rec->burst_bytes;
	r->ban_secs = rec->ban_secs;
	r->rl_per = rec->rl_per;
	r->rl_plen4 = rec->rl_plen4;
	r->rl_plen6 = rec->rl_plen6;
	memcpy(r->smac, rec->smac, 6);
	memcpy(r->dmac, rec->dmac, 6);
	memcpy(r->iface, rec->iface, sizeof(r->iface));
	memcpy(r->to, rec->to, sizeof(r->to));
	memcpy(r->comment, rec->comment, sizeof(rec->comment));
	r->iface[sizeof(r->iface) - 1] = '\0';
	r->to[sizeof(r->to) - 1] = '\0';
	r->comment[sizeof(rec->comment) - 1] = '\0';
}
