// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_ratelimit: the `ratelimit:` section of the config file, the
 * table of the rate limits' token buckets (docs/config.md):
 *   ratelimit:
 *     max: 16384     # capacity of the buckets' table, entries
 * The limits themselves are rules (action ratelimit, `rate:`). The writers
 * print the section only when it differs from the default. The capacity
 * is sl_rl_buckets' max_entries, changed the way conntrack's is (apply.c,
 * rt_prepare). */
#include <stdio.h>

#include "config_sec.h"
#include "json.h"

static uint32_t rl_max(const struct sl_config *cfg)
{
	return cfg->rl.max ? cfg->rl.max : SL_RL_MAX_BUCKETS;
}

static int rl_parse(struct sl_cfg_loader *L, const char *key, yaml_node_t *n,
		    void **state)
{
	static const char *const keys[] = {"max", NULL};
	yaml_node_t *v;
	unsigned x;
	int err;

	(void)state;
	if (sl_cfg_is_null(n))
		return 0; /* `ratelimit:` alone: the default */
	if (n->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, n,
				  "ratelimit: expected a mapping of max, "
				  "got %s",
				  sl_cfg_type_name(n));
	err = sl_cfg_check_map(L, n, key, keys);
	if (err || !(v = sl_cfg_map_get(L, n, "max")))
		return err;
	err = sl_cfg_capacity(L, v, "max", SL_RL_MAX_MIN, SL_RL_MAX_MAX,
			      SL_RL_MAX_BUCKETS, &x);
	if (!err)
		L->cfg->rl.max = x;
	return err;
}

static int rl_write(FILE *f, const struct sl_config *cfg)
{
	if (rl_max(cfg) != SL_RL_MAX_BUCKETS)
		fprintf(f, "ratelimit:\n  max: %u\n", rl_max(cfg));
	return 0;
}

static int rl_json(struct jw *w, const struct sl_config *cfg)
{
	if (rl_max(cfg) == SL_RL_MAX_BUCKETS)
		return 0;
	jw_key(w, "ratelimit");
	jw_obj_open(w);
	jw_key(w, "max");
	jw_u64(w, rl_max(cfg));
	jw_obj_close(w);
	return 0;
}

static bool rl_equal(const struct sl_config *a, const struct sl_config *b)
{
	return rl_max(a) == rl_max(b);
}

const struct sl_cfg_section sl_cfg_ratelimit = {
    .name = "ratelimit",
    .keys = (const char *const[]){"ratelimit", NULL},
    .parse = rl_parse,
    .write = rl_write,
    .write_json = rl_json,
    .equal = rl_equal,
};
