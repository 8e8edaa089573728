/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* classify: the rule classifier's builder (rules -> decision trees in the
 * config blob), its user-space walk and the linear reference (oracle).
 * Layout and algorithm: include/sluice/abi.h, docs/classifier.md. */
#ifndef SL_CLASSIFY_H
#define SL_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice.h"

/* The box of a validated rule: lo[d] <= key[d] <= hi[d] for every
 * dimension. Fields are taken as they are (sport_lo..sport_hi etc.);
 * dirs 0 is treated as both directions. */
void sl_rule_box(const struct sl_rule *r, uint32_t lo[SL_DIM_MAX],
		 uint32_t hi[SL_DIM_MAX]);

/* qsort-style order of evaluation: ascending (priority, id). */
int sl_rule_order_cmp(const struct sl_rule *a, const struct sl_rule *b);

/* Builds the classifier of n validated rules (ids assigned, any order)
 * into blob (SL_BLOB_SIZE bytes, zeroed): hdr->cls, hdr->nrules and the
 * regions after the header. Leaves magic, set_gen, policy and serial to the
 * caller. Returns 0, -E2BIG (printed) when the trees do not fit, -EINVAL
 * for more than SL_RULE_MAX - 1 rules, -ENOMEM. st may be NULL. */
int sl_cls_build(const struct sl_rule *rules, size_t n, void *blob,
		 struct sl_cls_stats *st);

/* The same into a blob of class log (2^log bytes, zeroed; abi.h,
 * SL_BLOB_LOG_*). fine_only: -E2BIG, quietly, rather than building any
 * tree at a coarser level (a larger class may hold the fine trees);
 * -E2BIG, quietly, too when the class's rule table is too small. src: the
 * file the rules come from, named with a rule's position in errors
 * (FILE:LINE:COL), or NULL. */
int sl_cls_build_class(const struct sl_rule *rules, size_t n, void *blob,
		       unsigned log, bool fine_only, const char *src,
		       struct sl_cls_stats *st);

/* The smallest class whose rule table holds n rules. */
unsigned sl_cls_min_log(size_t n);

/* Linear reference over rules sorted by sl_rule_order_cmp: the id of the
 * first pass/drop/redirect rule holding key (rules with a MAC condition
 * never do: the key has no MACs; the datapath checks them) with (tcp_flags &
 * mask) == value, or 0. count_ids (may be NULL) receives the ids of the first
 * SL_COUNT_HITS_MAX matching count rules before it, in rule order; *n_count
 * their number. */
uint32_t sl_cls_oracle(const struct sl_rule *sorted, size_t n,
		       const uint32_t key[SL_DIM_MAX], uint8_t tcp_flags,
		       uint32_t *count_ids, size_t *n_count);

/* The same answer from a built blob, by the datapath's algorithm
 * (bpf/lib/rules.h). *action (may be NULL) gets the winner's action, or -1
 * when no terminal rule matched. count_ids as for the oracle. */
uint32_t sl_cls_lookup(const void *blob, const uint32_t key[SL_DIM_MAX],
		       uint8_t tcp_flags, int *action, uint32_t *count_ids,
		       size_t *n_count);

#endif
