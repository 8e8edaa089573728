/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* malformed: the sanity stage. Judges what the parse stage found: non-IP
 * frames other than ARP pass (reason non-ip; only ARP meets the rules), and
 * a malformed frame is dropped with its malformed-* reason, or, with the
 * load-time switch drop_malformed off (attach --pass-malformed), passed and
 * counted, except that a frame whose addresses could be read still meets
 * the deny set: passing malformed frames opens no way around it. */
#ifndef SL_MALFORMED_H
#define SL_MALFORMED_H

#include "sets.h"
#include "stage.h"

static __always_inline int sl_stage_malformed(struct sl_pctx *c,
					      const struct sl_hook *h)
{
	int r = c->parsed;

	if (r == SL_R_PASS)
		return SL_CONT;
	if (r == SL_R_NON_IP)
		return c->pkt.l3_proto == ETH_P_ARP
			   ? SL_CONT
			   : sl_done(c, SL_ACT_PASS, SL_R_NON_IP, 0);
	if (sl_feat.drop_malformed)
		return sl_done(c, SL_ACT_DROP, r, 0);
	if (h->dir == SL_RDIR_IN && c->pkt.addrs &&
	    !(sl_feat.stages_off & SL_STAGE_OFF_SETS) &&
	    sl_sets_check(&c->pkt, c->gen) == SL_R_DENY_SET)
		return sl_done(c, SL_ACT_DROP, SL_R_DENY_SET, 0);
	return sl_done(c, SL_ACT_PASS, r, 0);
}

#endif /* SL_MALFORMED_H */
