/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* malformed: the sanity stage. Judges what the parse stage found: non-IP
 * frames other than ARP pass (reason non-ip; only ARP meets the rules), and
 * a malformed frame is dropped with its malformed-* reason, or, with the
 * load-time switch drop_malformed off (attach --pass-malformed), passed and
 * counted, except that a frame whose addresses could be read still meets
 * the deny set and the bans (unless an allow entry covers it): passing
 * malformed frames opens no way around them.
 * Well-formed but abusive packets (land, impossible TCP flag combinations)
 * are dropped here too, under the same switch: before the sets, so an
 * allowed source is no exception (a sanity check, not a trust decision);
 * with drop_malformed off they go on through the table like any packet. */
#ifndef SL_MALFORMED_H
#define SL_MALFORMED_H

#include "bans.h"
#include "sets.h"
#include "stage.h"

/* TCP flag bits (byte 13 of the header). */
#define SL_TCP_FIN 0x01
#define SL_TCP_SYN 0x02
#define SL_TCP_RST 0x04
#define SL_TCP_PSH 0x08
#define SL_TCP_ACK 0x10
#define SL_TCP_URG 0x20

/* The reason an abusive, well-formed IP packet is dropped for, or
 * SL_R_PASS. Land: source address equals destination (IPv4 keeps words
 * 1-3 zero). TCP flags, first match: SYN+FIN, SYN+RST, none of the six
 * classic flags (null scan), FIN+PSH+URG without ACK (XMAS scan), FIN
 * without ACK. A later fragment carries no TCP header and is not judged
 * by its flags. */
static __always_inline int sl_abusive(const struct sl_pkt *p)
{
	__u8 f = p->tcp_flags;

	if (p->saddr[0] == p->daddr[0] && p->saddr[1] == p->daddr[1] &&
	    p->saddr[2] == p->daddr[2] && p->saddr[3] == p->daddr[3])
		return SL_R_LAND;
	if (p->l4_proto != IPPROTO_TCP || p->frag == SL_FRAG_LATER)
		return SL_R_PASS;
	if ((f & (SL_TCP_SYN | SL_TCP_FIN)) == (SL_TCP_SYN | SL_TCP_FIN))
		return SL_R_TCP_SYNFIN;
	if ((f & (SL_TCP_SYN | SL_TCP_RST)) == (SL_TCP_SYN | SL_TCP_RST))
		return SL_R_TCP_SYNRST;
	if (!(f & 0x3f))
		return SL_R_TCP_NOFLAGS;
	if (f & SL_TCP_ACK || !(f & SL_TCP_FIN))
		return SL_R_PASS;
	if ((f & (SL_TCP_PSH | SL_TCP_URG)) == (SL_TCP_PSH | SL_TCP_URG))
		return SL_R_TCP_XMAS;
	return SL_R_TCP_FIN_NOACK;
}

static __always_inline int sl_stage_malformed(struct sl_pctx *c,
					      const struct sl_hook *h)
{
	int r = c->parsed;

	if (r == SL_R_PASS) {
		if (!sl_feat.drop_malformed)
			return SL_CONT;
		r = sl_abusive(&c->pkt);
		return r == SL_R_PASS ? SL_CONT : sl_done(c, SL_ACT_DROP, r, 0);
	}
	if (r == SL_R_NON_IP)
		return c->pkt.l3_proto == ETH_P_ARP
			   ? SL_CONT
			   : sl_done(c, SL_ACT_PASS, SL_R_NON_IP, 0);
	if (sl_feat.drop_malformed)
		return sl_done(c, SL_ACT_DROP, r, 0);
	if (h->dir == SL_RDIR_IN && c->pkt.addrs) {
		int s = SL_R_PASS;

		if (!(sl_feat.stages_off & SL_STAGE_OFF_SETS))
			s = sl_sets_check(&c->pkt, c->gen);
		if (s == SL_R_DENY_SET)
			return sl_done(c, SL_ACT_DROP, SL_R_DENY_SET, 0);
		if (s != SL_R_ALLOW_SET &&
		    !(sl_feat.stages_off & SL_STAGE_OFF_BANS) &&
		    sl_bans_check(c))
			return sl_done(c, SL_ACT_DROP, SL_R_BANNED, 0);
	}
	return sl_done(c, SL_ACT_PASS, r, 0);
}

#endif /* SL_MALFORMED_H */
