// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_policy: the `policy` section: the action for packets no set entry
 * and no rule decided, per direction (default pass). */
#include <string.h>

#include "config_sec.h"

static int policy_value(struct sl_cfg_loader *L, yaml_node_t *v,
			const char *what, uint8_t *out)
{
	const char *s;
	int err = sl_cfg_scalar(L, v, what, &s);

	if (err)
		return err;
	if (!strcmp(s, "pass"))
		*out = SL_ACT_PASS;
	else if (!strcmp(s, "drop"))
		*out = SL_ACT_DROP;
	else
		return sl_cfg_err(
		    L, v, "%s: expected pass or drop, got '%.64s'", what, s);
	return 0;
}

static int parse_policy(struct sl_cfg_loader *L, const char *key,
			yaml_node_t *n, void **state)
{
	static const char *const keys[] = {"in", "out", NULL};
	uint8_t *pol = L->cfg->policy;
	yaml_node_t *v;
	int err;

	(void)state;
	/* `policy:` with no value is no policy: pass, as every other
	 * top-level key with no value is its section's default. */
	if (sl_cfg_is_null(n))
		return 0;
	L->cfg->policy_pos = sl_cfg_pos(n);
	if (n->type == YAML_SCALAR_NODE) {
		err = policy_value(L, n, key, &pol[SL_RDIR_IN]);
		pol[SL_RDIR_OUT] = pol[SL_RDIR_IN];
		return err;
	}
	if (n->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, n,
				  "policy: expected pass, drop or a mapping "
				  "{in: ACTION, out: ACTION}, got %s",
				  sl_cfg_type_name(n));
	err = sl_cfg_check_map(L, n, key, keys);
	if (err)
		return err;
	if ((v = sl_cfg_map_get(L, n, "in")) &&
	    (err = policy_value(L, v, "policy in", &pol[SL_RDIR_IN])))
		return err;
	if ((v = sl_cfg_map_get(L, n, "out")) &&
	    (err = policy_value(L, v, "policy out", &pol[SL_RDIR_OUT])))
		return err;
	return 0;
}

static int write_policy(FILE *f, const struct sl_config *cfg)
{
	static const char *const pol[] = {"pass", "drop"};

	if (cfg->policy[SL_RDIR_IN] == cfg->policy[SL_RDIR_OUT])
		fprintf(f, "policy: %s\n", pol[cfg->policy[SL_RDIR_IN] & 1]);
	else
		fprintf(f, "policy: {in: %s, out: %s}\n",
			pol[cfg->policy[SL_RDIR_IN] & 1],
			pol[cfg->policy[SL_RDIR_OUT] & 1]);
	return 0;
}

static int json_policy(struct jw *w, const struct sl_config *cfg)
{
	static const char *const pol[] = {"pass", "drop"};

	jw_key(w, "policy");
	if (cfg->policy[SL_RDIR_IN] == cfg->policy[SL_RDIR_OUT]) {
		jw_str(w, pol[cfg->policy[SL_RDIR_IN] & 1]);
		return 0;
	}
	jw_obj_open(w);
	jw_key(w, "in");
	jw_str(w, pol[cfg->policy[SL_RDIR_IN] & 1]);
	jw_key(w, "out");
	jw_str(w, pol[cfg->policy[SL_RDIR_OUT] & 1]);
	jw_obj_close(w);
	return 0;
}

static bool policy_equal(const struct sl_config *a, const struct sl_config *b)
{
	return a->policy[SL_RDIR_IN] == b->policy[SL_RDIR_IN] &&
	       a->policy[SL_RDIR_OUT] == b->policy[SL_RDIR_OUT];
}

/* The default: pass both ways. */
static void policy_init(struct sl_config *cfg)
{
	cfg->policy[SL_RDIR_IN] = cfg->policy[SL_RDIR_OUT] = SL_ACT_PASS;
}

const struct sl_cfg_section sl_cfg_policy = {
    .name = "policy",
    .keys = (const char *const[]){"policy", NULL},
    .parse = parse_policy,
    .write = write_policy,
    .write_json = json_policy,
    .equal = policy_equal,
    .init = policy_init,
};
