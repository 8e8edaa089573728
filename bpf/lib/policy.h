/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* policy: the last stage. What no earlier stage decided: ARP that no rule
 * named passes as non-ip, an IP packet gets the direction's default policy
 * from the config blob (pass, or drop with reason policy). Always decides. */
#ifndef SL_POLICY_H
#define SL_POLICY_H

#include "stage.h"

static __always_inline int sl_stage_policy(struct sl_pctx *c,
					   const struct sl_hook *h)
{
	if (c->parsed == SL_R_NON_IP)
		return sl_done(c, SL_ACT_PASS, SL_R_NON_IP, 0);
	if (h->blob &&
	    ((struct sl_blob_hdr *)h->blob)->policy[h->dir & 1] == SL_ACT_DROP)
		return sl_done(c, SL_ACT_DROP, SL_R_POLICY, 0);
	return sl_done(c, SL_ACT_PASS, SL_R_PASS, 0);
}

#endif /* SL_POLICY_H */
