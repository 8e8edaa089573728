// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_mgmt: the `management` section: the trusted prefixes of the
 * management path (the hosts an operator reaches the machine from), which
 * the lockout guard keeps reachable (sl_config_lockout, config.c):
 *     management: [198.18.0.10/32, 2001:db8::10]
 * At most SL_MGMT_MAX prefixes; kept in the order given, repeats dropped. */
#include <string.h>

#include "config_sec.h"

static int parse_mgmt(struct sl_cfg_loader *L, const char *key, yaml_node_t *n,
		      void **state)
{
	struct sl_config *cfg = L->cfg;
	yaml_node_item_t *it, *top;
	int err;

	(void)state;
	err = sl_cfg_list(L, n, key, &it, &top);
	if (err)
		return err;
	for (; it < top; it++) {
		yaml_node_t *v = sl_cfg_node(L, *it);
		struct sl_prefix p;
		const char *s;
		char msg[128];
		bool dup = false;

		err = sl_cfg_scalar(L, v, "management: a prefix", &s);
		if (err)
			return err;
		if (sl_prefix_parse(s, &p, msg, sizeof(msg)))
			return sl_cfg_err(L, v, "management: %s", msg);
		for (size_t i = 0; i < cfg->n_mgmt; i++)
			dup |= !memcmp(&cfg->mgmt[i], &p, sizeof(p));
		if (dup)
			continue;
		if (cfg->n_mgmt == SL_MGMT_MAX)
			return sl_cfg_err(L, v,
					  "management: at most %d prefixes",
					  SL_MGMT_MAX);
		cfg->mgmt[cfg->n_mgmt++] = p;
	}
	return 0;
}

static int write_mgmt(FILE *f, const struct sl_config *cfg)
{
	char buf[64];

	if (!cfg->n_mgmt)
		return 0;
	fprintf(f, "management: [");
	for (size_t i = 0; i < cfg->n_mgmt; i++) {
		sl_prefix_format(&cfg->mgmt[i], buf, sizeof(buf));
		fprintf(f, "%s%s", i ? ", " : "", buf);
	}
	fprintf(f, "]\n");
	return 0;
}

static int json_mgmt(struct jw *w, const struct sl_config *cfg)
{
	char buf[64];

	if (!cfg->n_mgmt)
		return 0;
	jw_key(w, "management");
	jw_arr_open(w);
	for (size_t i = 0; i < cfg->n_mgmt; i++) {
		sl_prefix_format(&cfg->mgmt[i], buf, sizeof(buf));
		jw_str(w, buf);
	}
	jw_arr_close(w);
	return 0;
}

static bool mgmt_equal(const struct sl_config *a, const struct sl_config *b)
{
	if (a->n_mgmt != b->n_mgmt)
		return false;
	for (size_t i = 0; i < a->n_mgmt; i++)
		if (memcmp(&a->mgmt[i], &b->mgmt[i], sizeof(a->mgmt[i])))
			return false;
	return true;
}

const struct sl_cfg_section sl_cfg_mgmt = {
    .name = "management",
    .keys = (const char *const[]){"management", NULL},
    .parse = parse_mgmt,
    .write = write_mgmt,
    .write_json = json_mgmt,
    .equal = mgmt_equal,
};
