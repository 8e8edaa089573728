/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* metrics: the running state's counters as Prometheus text (exposition
 * format 0.0.4), for `sluice daemon` (docs/daemon.md). Every value is read
 * from the pinned per-CPU counters and summed at the scrape: the daemon
 * keeps no count of its own, so a restart resumes from the pins (no reset,
 * no double counting). */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <stddef.h>
#include <stdio.h>

#include "sluice.h"

struct sl_metrics_opts {
	const char *version; /* sluice_build_info{version}; NULL: "unknown" */
	size_t top_entries;  /* set entries shown, busiest first; 0: none */
};

/* Writes every metric of ctx's state to f, each with its HELP and TYPE
 * lines. ctx NULL (no state, or one this binary cannot read): only
 * sluice_up 0 and sluice_build_info. 0 or a negative errno (a counter
 * could not be read; f may hold part of the text). */
int sl_metrics_render(struct sl_ctx *ctx, const struct sl_metrics_opts *o,
		      FILE *f);

/* One scrape: opens the state under bpffs for reading (sl_open_reader,
 * waiting at most wait_ms for a writer), renders it into *buf (malloc'ed,
 * *len bytes) and closes it again, so the shared lock is held only while
 * the counters are read. *state: the sl_open_reader result (0, -ENOENT:
 * no state, -EPROTO: another layout, -EAGAIN: a writer held the lock);
 * without state the text says sluice_up 0. The return is 0 or a negative
 * errno when no text could be made. */
int sl_metrics_scrape(const char *bpffs, const struct sl_metrics_opts *o,
		      int wait_ms, char **buf, size_t *len, int *state);

/* s as a label value: '\\', '"' and newlines escaped. */
void sl_metrics_label(FILE *f, const char *s);

#endif
