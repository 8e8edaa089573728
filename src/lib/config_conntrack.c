// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_conntrack: the `conntrack:` section of the config file, the
 * connection table (docs/config.md):
 *   conntrack:
 *     enabled: true        # the stage runs (default false)
 *     drop-invalid: false  # drop packets of ct state invalid (default)
 *     max: 262144          # capacity, entries
 *     timeouts: {established: 5d, syn-sent: 120s, udp: 30s, ...}
 * Keys left out keep their defaults (the kernel's nf_conntrack timeouts);
 * the writers print only what differs from them, so a file without the
 * section exports without it. apply stores it in the config blob
 * (sl_blob_hdr.ct_flags, struct sl_ct_conf) and, when `enabled` or the
 * capacity changes, makes the table and reloads the programs (apply.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_sec.h"
#include "json.h"
#include "units.h"

/* Config names of the timeouts, by SL_CT_TMO_*. */
static const char *const tmo_names[SL_CT_TMO_MAX] = {
    [SL_CT_TMO_SYN_SENT] = "syn-sent",
    [SL_CT_TMO_SYN_RECV] = "syn-recv",
    [SL_CT_TMO_ESTABLISHED] = "established",
    [SL_CT_TMO_FIN_WAIT] = "fin-wait",
    [SL_CT_TMO_CLOSE_WAIT] = "close-wait",
    [SL_CT_TMO_LAST_ACK] = "last-ack",
    [SL_CT_TMO_TIME_WAIT] = "time-wait",
    [SL_CT_TMO_CLOSE] = "close",
    [SL_CT_TMO_UDP] = "udp",
    [SL_CT_TMO_UDP_ASSURED] = "udp-assured",
    [SL_CT_TMO_ICMP] = "icmp",
};

#define TMO_MAX_S (365U * 86400U) /* a year */

const char *sl_ct_tmo_name(unsigned t)
{
	return t < SL_CT_TMO_MAX ? tmo_names[t] : "unknown";
}

void sl_ct_cfg_effective(const struct sl_ct_cfg *in, struct sl_ct_cfg *out)
{
	struct sl_ct_cfg r = *in;

	if (!r.max)
		r.max = SL_CT_MAX_DEFAULT;
	for (int i = 0; i < SL_CT_TMO_MAX; i++)
		if (!r.tmo[i])
			r.tmo[i] = sl_ct_tmo_default(i);
	*out = r;
}

bool sl_ct_cfg_equal(const struct sl_ct_cfg *a, const struct sl_ct_cfg *b)
{
	struct sl_ct_cfg x, y;

	sl_ct_cfg_effective(a, &x);
	sl_ct_cfg_effective(b, &y);
	return x.enabled == y.enabled && x.drop_invalid == y.drop_invalid &&
	       x.max == y.max && !memcmp(x.tmo, y.tmo, sizeof(x.tmo));
}

static int ct_timeouts(struct sl_cfg_loader *L, yaml_node_t *n,
		       struct sl_ct_cfg *ct)
{
	const char *keys[SL_CT_TMO_MAX + 1];

	for (int i = 0; i < SL_CT_TMO_MAX; i++)
		keys[i] = tmo_names[i];
	keys[SL_CT_TMO_MAX] = NULL;
	if (sl_cfg_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, n,
				  "conntrack timeouts: expected a mapping of "
				  "state: duration, got %s",
				  sl_cfg_type_name(n));
	int err = sl_cfg_check_map(L, n, "conntrack timeouts", keys);

	for (int i = 0; !err && i < SL_CT_TMO_MAX; i++) {
		yaml_node_t *v = sl_cfg_map_get(L, n, tmo_names[i]);
		long long secs;
		const char *s;
		char def[32];

		if (!v)
			continue;
		err = sl_cfg_scalar(L, v, tmo_names[i], &s);
		if (err)
			break;
		sl_duration_format(sl_ct_tmo_default(i), def, sizeof(def));
		secs = sl_duration_parse(s, false);
		if (secs > 0 && secs <= TMO_MAX_S)
			ct->tmo[i] = (uint32_t)secs;
		else
			err = sl_cfg_err(L, v,
					 "%s: expected a duration from 1s to "
					 "365d (a number with s, m, h or d; "
					 "default %s), got '%.32s'",
					 tmo_names[i], def, s);
	}
	return err;
}

static int ct_parse(struct sl_cfg_loader *L, const char *key, yaml_node_t *n,
		    void **state)
{
	static const char *const keys[] = {"enabled", "drop-invalid", "max",
					   "timeouts", NULL};
	struct sl_ct_cfg *ct = &L->cfg->ct;
	yaml_node_t *v;
	int err;

	(void)state;
	if (sl_cfg_is_null(n))
		return 0; /* `conntrack:` alone: every default */
	if (n->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, n,
				  "conntrack: expected a mapping of enabled, "
				  "drop-invalid, max and timeouts, got %s",
				  sl_cfg_type_name(n));
	err = sl_cfg_check_map(L, n, key, keys);
	if (!err && (v = sl_cfg_map_get(L, n, "enabled")))
		err = sl_cfg_bool(L, v, "enabled", &ct->enabled);
	if (!err && (v = sl_cfg_map_get(L, n, "drop-invalid")))
		err = sl_cfg_bool(L, v, "drop-invalid", &ct->drop_invalid);
	if (!err && (v = sl_cfg_map_get(L, n, "max"))) {
		unsigned x = 0;

		err = sl_cfg_capacity(L, v, "max", SL_CT_MAX_MIN, SL_CT_MAX_MAX,
				      SL_CT_MAX_DEFAULT, &x);
		if (!err)
			ct->max = x;
	}
	if (!err && (v = sl_cfg_map_get(L, n, "timeouts")))
		err = ct_timeouts(L, v, ct);
	return err;
}

/* What differs from the defaults; false when nothing does. */
static bool ct_diff(const struct sl_config *cfg, struct sl_ct_cfg *e,
		    bool *tmo_any)
{
	struct sl_ct_cfg d = {0};

	sl_ct_cfg_effective(&cfg->ct, e);
	sl_ct_cfg_effective(&d, &d);
	*tmo_any = memcmp(e->tmo, d.tmo, sizeof(d.tmo)) != 0;
	return e->enabled || e->drop_invalid || e->max != d.max || *tmo_any;
}

static int ct_write(FILE *f, const struct sl_config *cfg)
{
	struct sl_ct_cfg e;
	bool tmo_any;
	char buf[32];

	if (!ct_diff(cfg, &e, &tmo_any))
		return 0;
	fprintf(f, "conntrack:\n  enabled: %s\n", e.enabled ? "true" : "false");
	if (e.drop_invalid)
		fprintf(f, "  drop-invalid: true\n");
	if (e.max != SL_CT_MAX_DEFAULT)
		fprintf(f, "  max: %u\n", e.max);
	if (tmo_any) {
		fprintf(f, "  timeouts:\n");
		for (int i = 0; i < SL_CT_TMO_MAX; i++)
			if (e.tmo[i] != sl_ct_tmo_default(i)) {
				sl_duration_format(e.tmo[i], buf, sizeof(buf));
				fprintf(f, "    %s: %s\n", tmo_names[i], buf);
			}
	}
	return 0;
}

static int ct_json(struct jw *w, const struct sl_config *cfg)
{
	struct sl_ct_cfg e;
	bool tmo_any;
	char buf[32];

	if (!ct_diff(cfg, &e, &tmo_any))
		return 0;
	jw_key(w, "conntrack");
	jw_obj_open(w);
	jw_key(w, "enabled");
	jw_bool(w, e.enabled);
	if (e.drop_invalid) {
		jw_key(w, "drop-invalid");
		jw_bool(w, true);
	}
	if (e.max != SL_CT_MAX_DEFAULT) {
		jw_key(w, "max");
		jw_u64(w, e.max);
	}
	if (tmo_any) {
		jw_key(w, "timeouts");
		jw_obj_open(w);
		for (int i = 0; i < SL_CT_TMO_MAX; i++)
			if (e.tmo[i] != sl_ct_tmo_default(i)) {
				sl_duration_format(e.tmo[i], buf, sizeof(buf));
				jw_key(w, tmo_names[i]);
				jw_str(w, buf);
			}
		jw_obj_close(w);
	}
	jw_obj_close(w);
	return 0;
}

static bool ct_equal(const struct sl_config *a, const struct sl_config *b)
{
	return sl_ct_cfg_equal(&a->ct, &b->ct);
}

const struct sl_cfg_section sl_cfg_conntrack = {
    .name = "conntrack",
    .keys = (const char *const[]){"conntrack", NULL},
    .parse = ct_parse,
    .write = ct_write,
    .write_json = ct_json,
    .equal = ct_equal,
};
