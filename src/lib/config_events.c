// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_events: the `events:` section of the config file (docs/config.md):
 *   events:
 *     drops: true      # a drop event for every drop verdict (default false)
 *     sample: 1000     # a flow event for 1 in N verdicts per hook (0: off)
 *     log-rate: 10     # events a second of each rule with `log: true`
 *     log-burst: 50    # events such a rule may send at once
 * Keys left out keep their defaults; the writers print only what differs,
 * so a file without the section exports without it. apply writes it into
 * the config-owned map sl_ev_conf and, when events turn on or off, reloads
 * the programs with the switch sl_features.events (apply.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_sec.h"
#include "json.h"

static int ev_parse(struct sl_cfg_loader *L, const char *key, yaml_node_t *n,
		    void **state)
{
	static const char *const keys[] = {"drops", "sample", "log-rate",
					   "log-burst", NULL};
	struct sl_ev_cfg *ev = &L->cfg->ev;
	yaml_node_t *v;
	int err;

	(void)state;
	if (sl_cfg_is_null(n))
		return 0; /* `events:` alone: every default (off) */
	if (n->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, n,
				  "events: expected a mapping of drops, "
				  "sample, log-rate and log-burst, got %s",
				  sl_cfg_type_name(n));
	err = sl_cfg_check_map(L, n, key, keys);
	if (!err && (v = sl_cfg_map_get(L, n, "drops")))
		err = sl_cfg_bool(L, v, "drops", &ev->drops);
	if (!err && (v = sl_cfg_map_get(L, n, "sample")))
		err = sl_cfg_uint(L, v, "sample", 0, SL_EV_SAMPLE_MAX, 0,
				  &ev->sample);
	if (!err && (v = sl_cfg_map_get(L, n, "log-rate")))
		err = sl_cfg_uint(L, v, "log-rate", 1, 1000000,
				  SL_EV_LOG_RATE_DEF, &ev->log_rate);
	if (!err && (v = sl_cfg_map_get(L, n, "log-burst")))
		err = sl_cfg_uint(L, v, "log-burst", 1, 1000000,
				  SL_EV_LOG_BURST_DEF, &ev->log_burst);
	return err;
}

/* What differs from the defaults into e; false when nothing does. */
static bool ev_diff(const struct sl_config *cfg, struct sl_ev_cfg *e)
{
	sl_ev_cfg_effective(&cfg->ev, e);
	return e->drops || e->sample || e->log_rate != SL_EV_LOG_RATE_DEF ||
	       e->log_burst != SL_EV_LOG_BURST_DEF;
}

static int ev_write(FILE *f, const struct sl_config *cfg)
{
	struct sl_ev_cfg e;

	if (!ev_diff(cfg, &e))
		return 0;
	fprintf(f, "events:\n  drops: %s\n", e.drops ? "true" : "false");
	if (e.sample)
		fprintf(f, "  sample: %u\n", e.sample);
	if (e.log_rate != SL_EV_LOG_RATE_DEF)
		fprintf(f, "  log-rate: %u\n", e.log_rate);
	if (e.log_burst != SL_EV_LOG_BURST_DEF)
		fprintf(f, "  log-burst: %u\n", e.log_burst);
	return 0;
}

static int ev_json(struct jw *w, const struct sl_config *cfg)
{
	struct sl_ev_cfg e;

	if (!ev_diff(cfg, &e))
		return 0;
	jw_key(w, "events");
	jw_obj_open(w);
	jw_key(w, "drops");
	jw_bool(w, e.drops);
	if (e.sample) {
		jw_key(w, "sample");
		jw_u64(w, e.sample);
	}
	if (e.log_rate != SL_EV_LOG_RATE_DEF) {
		jw_key(w, "log-rate");
		jw_u64(w, e.log_rate);
	}
	if (e.log_burst != SL_EV_LOG_BURST_DEF) {
		jw_key(w, "log-burst");
		jw_u64(w, e.log_burst);
	}
	jw_obj_close(w);
	return 0;
}

static bool ev_equal(const struct sl_config *a, const struct sl_config *b)
{
	struct sl_ev_cfg x, y;

	sl_ev_cfg_effective(&a->ev, &x);
	sl_ev_cfg_effective(&b->ev, &y);
	return x.drops == y.drops && x.sample == y.sample &&
	       x.log_rate == y.log_rate && x.log_burst == y.log_burst;
}

const struct sl_cfg_section sl_cfg_events = {
    .name = "events",
    .keys = (const char *const[]){"events", NULL},
    .parse = ev_parse,
    .write = ev_write,
    .write_json = ev_json,
    .equal = ev_equal,
};
