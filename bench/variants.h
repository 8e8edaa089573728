/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* variants: the records bench/sluice_variants.bpf.c and bench_xdp both see
 * (an experiment, not Sluice's ABI). */
#ifndef SL_BENCH_VARIANTS_H
#define SL_BENCH_VARIANTS_H

#include <linux/types.h>

/* A compact IPv4-only conntrack key (exp_ct16): what the lookup would cost
 * with 16 bytes of key instead of sl_ct_key's 40. */
struct exp_ct16_key {
	__u32 addr[2]; /* network order, the normalised order of sl_ct_key */
	__u16 port[2]; /* host order */
	__u32 proto;
};

/* Fills k with the flow (s, sp) -> (d, dp) in sl_ct_key_make()'s order. */
static inline __attribute__((always_inline)) void
exp_ct16_key_make(struct exp_ct16_key *k, __u32 s, __u32 d, __u16 sp, __u16 dp,
		  __u8 proto)
{
	__u32 side = s != d ? s > d : sp > dp;

	k->addr[0] = side ? d : s;
	k->addr[1] = side ? s : d;
	k->port[0] = side ? dp : sp;
	k->port[1] = side ? sp : dp;
	k->proto = proto;
}

#endif /* SL_BENCH_VARIANTS_H */
