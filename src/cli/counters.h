/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* counters: one reading of every counter the datapath keeps (actions and
 * reasons, interfaces, set entries, rules, lost events) and the rates
 * between two readings. Shared by 'sluice stats' and 'sluice top'. */
#ifndef SL_CLI_COUNTERS_H
#define SL_CLI_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice.h"

#define CLI_LOST_CPUS 256

struct cli_snap {
	struct sl_counter s[SL_STATS_MAX]; /* by sl_stats_idx(reason, action) */
	/* the same for each hook (enum sl_hook_id); s is their sum */
	struct sl_counter h[SL_HK_MAX][SL_STATS_MAX];
	struct sl_set_entry *e; /* entries that counted a packet, */
	size_t n;		/* busiest first */
	struct sl_rule *r;	/* rules that counted a packet, */
	struct sl_counter *k;	/* busiest first; k[i] is r[i]'s */
	size_t nr;
	struct sl_iface_stat *ifs; /* claimed interface slots */
	size_t nif;
	uint64_t lost; /* events the ring had no room for */
	uint64_t lost_per[CLI_LOST_CPUS];
	int ncpu;
	double t; /* CLOCK_MONOTONIC seconds of the reading */
};

/* Reads every counter into sn (free with cli_snap_free); 0 or -errno. */
int cli_snap_read(struct sl_ctx *ctx, struct cli_snap *sn);
void cli_snap_free(struct cli_snap *sn);

/* The sum of the cells of reason r (-1: all) and action a (-1: all). */
struct sl_counter cli_cell_sum(const struct sl_counter *s, int r, int a);
/* Packets/s and bits/s from then to now over dt seconds; a counter that
 * went down (zeroed between the readings) counts from zero. */
void cli_rate(struct sl_counter now, struct sl_counter then, double dt,
	      double *pps, double *bps);
/* Rates of cell (r, a) between prev and cur; false without prev. */
bool cli_cell_rate(const struct cli_snap *cur, const struct cli_snap *prev,
		   int r, int a, double *pps, double *bps);
/* A rate as text: 1234 -> "1.2k", "-" when !have. */
void cli_rate_text(char *buf, size_t len, bool have, double v);
/* The counters of rule id in sn (zero when it has none). */
struct sl_counter cli_snap_rule(const struct cli_snap *sn, uint32_t id);
/* The counters of set entry like e (same set, direction, prefix) in sn. */
struct sl_counter cli_snap_entry(const struct cli_snap *sn,
				 const struct sl_set_entry *e);

struct jw;
/* The members of 'stats -j' (and of 'top -j') for cur, with "pps" and
 * "bps" (and "interval") since prev when prev is not NULL; written into
 * the caller's open object. */
void cli_snap_jw(struct jw *w, const struct cli_snap *cur,
		 const struct cli_snap *prev);
/* An interface's name, or "ifindex N (gone)". */
const char *cli_iface_label(const struct sl_iface_stat *x, char *buf,
			    size_t len);

#endif
