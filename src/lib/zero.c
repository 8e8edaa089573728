// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* zero: clears every counter (sluice stats --zero) and nothing else: set
 * entries, rules, attachments and runtime state stay as they are. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sluice.h"

int sl_counters_zero(struct sl_ctx *ctx, struct sl_zeroed *z)
{
	struct sl_rule *r = NULL;
	__u32 *ids = NULL;
	size_t n = 0;
	int err;

	memset(z, 0, sizeof(*z));
	err = sl_stats_zero(ctx);
	if (err) {
		pr_err("cannot zero the action and reason counters: %s",
		       strerror(-err));
		return err;
	}
	z->verdicts = true;
	err = sl_iface_stats_zero(ctx, &z->ifaces);
	if (err && err != -ENOENT) {
		pr_err("cannot zero the interface counters: %s",
		       strerror(-err));
		return err;
	}
	err = sl_rules_read(ctx, &r, &n);
	if (err)
		return err;
	ids = n ? malloc(n * sizeof(*ids)) : NULL;
	if (n && !ids) {
		free(r);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = r[i].id;
	err = sl_rule_stats_reset(ctx, ids, n);
	free(ids);
	free(r);
	if (err)
		return err;
	z->rules = n;
	return sl_set_counters_zero(ctx, &z->set_entries);
}
