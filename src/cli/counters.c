// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* counters: one reading of the datapath's counters (counters.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "counters.h"
#include "json.h"
#include "names.h"

struct sl_counter cli_cell_sum(const struct sl_counter *s, int r, int a)
{
	struct sl_counter t = {};

	for (int i = 0; i < SL_R_MAX; i++)
		for (int j = 0; j < SL_ACT_MAX; j++)
			if ((r < 0 || r == i) && (a < 0 || a == j)) {
				t.packets += s[sl_stats_idx(i, j)].packets;
				t.bytes += s[sl_stats_idx(i, j)].bytes;
			}
	return t;
}

void cli_rate(struct sl_counter now, struct sl_counter then, double dt,
	      double *pps, double *bps)
{
	uint64_t p = now.packets >= then.packets ? now.packets - then.packets
						 : now.packets;
	uint64_t b =
	    now.bytes >= then.bytes ? now.bytes - then.bytes : now.bytes;

	*pps = dt > 0 ? p / dt : 0;
	*bps = dt > 0 ? b * 8.0 / dt : 0;
}

bool cli_cell_rate(const struct cli_snap *cur, const struct cli_snap *prev,
		   int r, int a, double *pps, double *bps)
{
	if (!prev || cur->t <= prev->t)
		return false;
	cli_rate(cli_cell_sum(cur->s, r, a), cli_cell_sum(prev->s, r, a),
		 cur->t - prev->t, pps, bps);
	return true;
}

void cli_rate_text(char *buf, size_t len, bool have, double v)
{
	static const char *const unit[] = {"", "k", "M", "G", "T"};
	int u = 0;

	if (!have) {
		snprintf(buf, len, "-");
		return;
	}
	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", v, unit[u]);
}

struct sl_counter cli_snap_rule(const struct cli_snap *sn, uint32_t id)
{
	for (size_t i = 0; i < sn->nr; i++)
		if (sn->r[i].id == id)
			return sn->k[i];
	return (struct sl_counter){};
}

struct sl_counter cli_snap_entry(const struct cli_snap *sn,
				 const struct sl_set_entry *e)
{
	for (size_t i = 0; i < sn->n; i++) {
		const struct sl_set_entry *x = &sn->e[i];

		if (x->kind == e->kind && x->dir == e->dir &&
		    x->prefix.plen == e->prefix.plen &&
		    x->prefix.family == e->prefix.family &&
		    !memcmp(x->prefix.addr, e->prefix.addr,
			    sizeof(x->prefix.addr)))
			return (struct sl_counter){x->packets, x->bytes};
	}
	return (struct sl_counter){};
}

static int by_packets(const void *a, const void *b)
{
	const struct sl_set_entry *x = a, *y = b;

	return x->packets < y->packets ? 1 : x->packets > y->packets ? -1 : 0;
}

/* Keeps the rules with hits, busiest first (stable: rule order on ties). */
static int rules_read(struct sl_ctx *ctx, struct cli_snap *sn)
{
	size_t m = 0;
	int err;

	err = sl_rules_read(ctx, &sn->r, &sn->nr);
	if (err)
		return err;
	sn->k = calloc(sn->nr ? sn->nr : 1, sizeof(*sn->k));
	if (!sn->k)
		return -ENOMEM;
	err = sl_rule_stats_read(ctx, sn->r, sn->nr, sn->k);
	if (err)
		return err;
	for (size_t i = 0; i < sn->nr; i++)
		if (sn->k[i].packets) {
			sn->r[m] = sn->r[i];
			sn->k[m++] = sn->k[i];
		}
	sn->nr = m;
	for (size_t i = 1; i < m; i++)
		for (size_t j = i;
		     j > 0 && sn->k[j].packets > sn->k[j - 1].packets; j--) {
			struct sl_rule tr = sn->r[j];
			struct sl_counter tk = sn->k[j];

			sn->r[j] = sn->r[j - 1];
			sn->k[j] = sn->k[j - 1];
			sn->r[j - 1] = tr;
			sn->k[j - 1] = tk;
		}
	return 0;
}

int cli_snap_read(struct sl_ctx *ctx, struct cli_snap *sn)
{
	struct timespec ts;
	size_t m = 0;
	int err;

	memset(sn, 0, sizeof(*sn));
	sn->ncpu = libbpf_num_possible_cpus();
	if (sn->ncpu < 0 || sn->ncpu > CLI_LOST_CPUS)
		sn->ncpu = sn->ncpu < 0 ? 0 : CLI_LOST_CPUS;
	err = sl_stats_read_hooks(ctx, sn->s, sn->h);
	if (!err)
		err = sl_ev_lost(ctx, &sn->lost, sn->lost_per, CLI_LOST_CPUS);
	if (!err)
		err = sl_set_list(ctx, 0, &sn->e, &sn->n);
	if (!err)
		err = rules_read(ctx, sn);
	if (!err)
		err = sl_iface_stats_read(ctx, &sn->ifs, &sn->nif);
	if (err) {
		cli_snap_free(sn);
		return err;
	}
	/* Only the entries that have decided a packet, busiest first. */
	for (size_t i = 0; i < sn->n; i++)
		if (sn->e[i].packets)
			sn->e[m++] = sn->e[i];
	sn->n = m;
	qsort(sn->e, m, sizeof(*sn->e), by_packets);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sn->t = ts.tv_sec + ts.tv_nsec / 1e9;
	return 0;
}

void cli_snap_free(struct cli_snap *sn)
{
	free(sn->e);
	free(sn->r);
	free(sn->k);
	free(sn->ifs);
	memset(sn, 0, sizeof(*sn));
}

void cli_jw_rate(struct jw *w, const double *rate)
{
	if (!rate)
		return;
	jw_key(w, "pps");
	jw_f1(w, rate[0]);
	jw_key(w, "bps");
	jw_f1(w, rate[1]);
}

const char *cli_iface_label(const struct sl_iface_stat *x, char *buf,
			    size_t len)
{
	if (x->name[0])
		return x->name;
	snprintf(buf, len, "ifindex %d (gone)", x->ifindex);
	return buf;
}

/* "packets", "bytes" (and the rate) of c into the open object. */
static void jw_counter_members(struct jw *w, struct sl_counter c,
			       const double *rate)
{
	jw_key(w, "packets");
	jw_u64(w, c.packets);
	jw_key(w, "bytes");
	jw_u64(w, c.bytes);
	cli_jw_rate(w, rate);
}

static void jw_counter(struct jw *w, const char *key, struct sl_counter c,
		       const double *rate)
{
	jw_key(w, key);
	jw_obj_open(w);
	jw_counter_members(w, c, rate);
	jw_obj_close(w);
}

/* The rate of cell (r, a) as cli_jw_rate takes it (NULL without prev). */
static const double *cell_rate(const struct cli_snap *cur,
			       const struct cli_snap *prev, int r, int a,
			       double rate[2])
{
	return cli_cell_rate(cur, prev, r, a, &rate[0], &rate[1]) ? rate : NULL;
}

/* The same for counters now and then. */
static const double *pair_rate(const struct cli_snap *cur,
			       const struct cli_snap *prev,
			       struct sl_counter now, struct sl_counter then,
			       double rate[2])
{
	if (!prev || cur->t <= prev->t)
		return NULL;
	cli_rate(now, then, cur->t - prev->t, &rate[0], &rate[1]);
	return rate;
}

/* Hook h's members of 'stats -j': its totals, by action, and by reason
 * and action for the cells that counted a packet. */
static void hook_jw(struct jw *w, const struct cli_snap *cur,
		    const struct cli_snap *prev, int h)
{
	const struct sl_counter *s = cur->h[h];
	const struct sl_counter *o = prev ? prev->h[h] : s;
	double rate[2];

	jw_key(w, sl_hook_name(h));
	jw_obj_open(w);
	jw_counter_members(w, cli_cell_sum(s, -1, -1),
			   pair_rate(cur, prev, cli_cell_sum(s, -1, -1),
				     cli_cell_sum(o, -1, -1), rate));
	jw_key(w, "actions");
	jw_obj_open(w);
	for (int a = 0; a < SL_ACT_MAX; a++)
		jw_counter(w, sl_action_name(a), cli_cell_sum(s, -1, a),
			   pair_rate(cur, prev, cli_cell_sum(s, -1, a),
				     cli_cell_sum(o, -1, a), rate));
	jw_obj_close(w);
	jw_key(w, "reasons");
	jw_obj_open(w);
	for (int r = 0; r < SL_R_MAX; r++) {
		struct sl_counter t = cli_cell_sum(s, r, -1);

		if (!t.packets)
			continue;
		jw_key(w, sl_reason_name(r));
		jw_obj_open(w);
		jw_counter_members(w, t, NULL);
		for (int a = 0; a < SL_ACT_MAX; a++)
			if (s[sl_stats_idx(r, a)].packets)
				jw_counter(w, sl_action_name(a),
					   s[sl_stats_idx(r, a)], NULL);
		jw_obj_close(w);
	}
	jw_obj_close(w);
	jw_obj_close(w);
}

static struct sl_counter iface_then(const struct cli_snap *prev,
				    const struct sl_iface_stat *x, int d, int a)
{
	for (size_t i = 0; prev && i < prev->nif; i++)
		if (prev->ifs[i].ifindex == x->ifindex)
			return prev->ifs[i].c[d][a];
	return (struct sl_counter){};
}

void cli_snap_jw(struct jw *w, const struct cli_snap *cur,
		 const struct cli_snap *prev)
{
	const struct sl_counter *s = cur->s;
	double rate[2];

	jw_key(w, "time");
	jw_u64(w, (uint64_t)time(NULL));
	if (prev && cur->t > prev->t) {
		jw_key(w, "interval");
		jw_f1(w, cur->t - prev->t);
	}
	jw_key(w, "actions");
	jw_obj_open(w);
	for (int a = 0; a < SL_ACT_MAX; a++)
		jw_counter(w, sl_action_name(a), cli_cell_sum(s, -1, a),
			   cell_rate(cur, prev, -1, a, rate));
	jw_obj_close(w);
	jw_key(w, "reasons");
	jw_obj_open(w);
	for (int r = 0; r < SL_R_MAX; r++) {
		struct sl_counter t = cli_cell_sum(s, r, -1);

		jw_key(w, sl_reason_name(r));
		jw_obj_open(w);
		jw_counter_members(w, t, cell_rate(cur, prev, r, -1, rate));
		for (int a = 0; a < SL_ACT_MAX; a++)
			jw_counter(w, sl_action_name(a), s[sl_stats_idx(r, a)],
				   NULL);
		jw_obj_close(w);
	}
	jw_obj_close(w);
	jw_key(w, "hooks");
	jw_obj_open(w);
	for (int h = 0; h < SL_HK_MAX; h++)
		hook_jw(w, cur, prev, h);
	jw_obj_close(w);
	jw_key(w, "interfaces");
	jw_arr_open(w);
	for (size_t i = 0; i < cur->nif; i++) {
		const struct sl_iface_stat *x = &cur->ifs[i];

		jw_obj_open(w);
		jw_key(w, "name");
		jw_str(w, x->name);
		jw_key(w, "ifindex");
		jw_u64(w, x->ifindex);
		for (int d = 0; d < SL_RDIR_MAX; d++) {
			jw_key(w, d == SL_RDIR_IN ? "in" : "out");
			jw_obj_open(w);
			for (int a = 0; a < SL_ACT_MAX; a++)
				jw_counter(w, sl_action_name(a), x->c[d][a],
					   pair_rate(cur, prev, x->c[d][a],
						     iface_then(prev, x, d, a),
						     rate));
			jw_obj_close(w);
		}
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_key(w, "entries");
	jw_arr_open(w);
	for (size_t i = 0; i < cur->n; i++) {
		const struct sl_set_entry *e = &cur->e[i];
		struct sl_counter now = {e->packets, e->bytes};

		cli_jw_entry(w, e,
			     pair_rate(cur, prev, now,
				       prev ? cli_snap_entry(prev, e)
					    : (struct sl_counter){},
				       rate));
	}
	jw_arr_close(w);
	jw_key(w, "rules");
	jw_arr_open(w);
	for (size_t i = 0; i < cur->nr; i++)
		cli_jw_rule(w, &cur->r[i], &cur->k[i],
			    pair_rate(cur, prev, cur->k[i],
				      prev ? cli_snap_rule(prev, cur->r[i].id)
					   : (struct sl_counter){},
				      rate));
	jw_arr_close(w);
	jw_key(w, "events_lost");
	jw_obj_open(w);
	jw_key(w, "total");
	jw_u64(w, cur->lost);
	jw_key(w, "per_cpu");
	jw_arr_open(w);
	for (int i = 0; i < cur->ncpu; i++)
		jw_u64(w, cur->lost_per[i]);
	jw_arr_close(w);
	jw_obj_close(w);
}
