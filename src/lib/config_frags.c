// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_frags: the `fragments:` section of the config file, fragment
 * tracking (docs/config.md, Fragments):
 *   fragments:
 *     timeout: 30s   # how long a first fragment's verdict holds for the
 *                    # later fragments of its datagram (default 30s)
 *     max: 8192      # capacity of the fragment table, entries
 * The writers print what differs from the defaults. apply stores the
 * timeout in the config blob (struct sl_frag_conf), read by the fragment
 * stage (bpf/lib/frag.h) with every packet; the capacity is sl_frags'
 * max_entries, changed the way conntrack's is (apply.c, rt_prepare). */
#include <stdio.h>
#include <string.h>

#include "config_sec.h"
#include "json.h"
#include "units.h"

static uint32_t frag_timeout(const struct sl_config *cfg)
{
	return cfg->frag.timeout ? cfg->frag.timeout : SL_FRAG_TIMEOUT_S;
}

static uint32_t frag_max(const struct sl_config *cfg)
{
	return cfg->frag.max ? cfg->frag.max : SL_FRAG_MAX_ENTRIES;
}

static int frag_parse(struct sl_cfg_loader *L, const char *key, yaml_node_t *n,
		      void **state)
{
	static const char *const keys[] = {"timeout", "max", NULL};
	yaml_node_t *v;
	const char *s;
	long long secs;
	unsigned x;
	int err;

	(void)state;
	if (sl_cfg_is_null(n))
		return 0; /* `fragments:` alone: the defaults */
	if (n->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, n,
				  "fragments: expected a mapping of timeout "
				  "and max, got %s",
				  sl_cfg_type_name(n));
	err = sl_cfg_check_map(L, n, key, keys);
	if (!err && (v = sl_cfg_map_get(L, n, "max"))) {
		err = sl_cfg_capacity(L, v, "max", SL_FRAG_MAX_MIN,
				      SL_FRAG_MAX_MAX, SL_FRAG_MAX_ENTRIES, &x);
		if (!err)
			L->cfg->frag.max = x;
	}
	if (err || !(v = sl_cfg_map_get(L, n, "timeout")))
		return err;
	err = sl_cfg_scalar(L, v, "timeout", &s);
	if (err)
		return err;
	secs = sl_duration_parse(s, false);
	if (secs < 1 || secs > SL_FRAG_TIMEOUT_MAX)
		return sl_cfg_err(L, v,
				  "timeout: expected a duration from 1s to "
				  "1h (a number with s, m or h; default "
				  "%us), got '%.32s'",
				  SL_FRAG_TIMEOUT_S, s);
	L->cfg->frag.timeout = (uint32_t)secs;
	return 0;
}

static int frag_write(FILE *f, const struct sl_config *cfg)
{
	char buf[32];

	if (frag_timeout(cfg) == SL_FRAG_TIMEOUT_S &&
	    frag_max(cfg) == SL_FRAG_MAX_ENTRIES)
		return 0;
	fprintf(f, "fragments:\n");
	if (frag_timeout(cfg) != SL_FRAG_TIMEOUT_S) {
		sl_duration_format(frag_timeout(cfg), buf, sizeof(buf));
		fprintf(f, "  timeout: %s\n", buf);
	}
	if (frag_max(cfg) != SL_FRAG_MAX_ENTRIES)
		fprintf(f, "  max: %u\n", frag_max(cfg));
	return 0;
}

static int frag_json(struct jw *w, const struct sl_config *cfg)
{
	char buf[32];

	if (frag_timeout(cfg) == SL_FRAG_TIMEOUT_S &&
	    frag_max(cfg) == SL_FRAG_MAX_ENTRIES)
		return 0;
	jw_key(w, "fragments");
	jw_obj_open(w);
	if (frag_timeout(cfg) != SL_FRAG_TIMEOUT_S) {
		sl_duration_format(frag_timeout(cfg), buf, sizeof(buf));
		jw_key(w, "timeout");
		jw_str(w, buf);
	}
	if (frag_max(cfg) != SL_FRAG_MAX_ENTRIES) {
		jw_key(w, "max");
		jw_u64(w, frag_max(cfg));
	}
	jw_obj_close(w);
	return 0;
}

static bool frag_equal(const struct sl_config *a, const struct sl_config *b)
{
	return frag_timeout(a) == frag_timeout(b) && frag_max(a) == frag_max(b);
}

const struct sl_cfg_section sl_cfg_frags = {
    .name = "fragments",
    .keys = (const char *const[]){"fragments", NULL},
    .parse = frag_parse,
    .write = frag_write,
    .write_json = frag_json,
    .equal = frag_equal,
};
