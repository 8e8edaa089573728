// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_ifaces: the `interfaces` section: the interfaces to attach, their
 * hooks and XDP mode. A file without it leaves the attachments alone
 * (cfg->has_ifaces false). */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "config_sec.h"
#include "rulefield.h"

static int parse_hooks(struct sl_cfg_loader *L, yaml_node_t *v,
		       struct sl_cfg_iface *f)
{
	yaml_node_item_t *h, *htop;
	const char *s;
	int err;

	err = sl_cfg_list(L, v, "hooks", &h, &htop);
	if (err)
		return err;
	if (h == htop)
		return sl_cfg_err(L, v,
				  "hooks: expected a list of xdp and/or tc, "
				  "got an empty list");
	f->hooks = 0;
	for (; h < htop; h++) {
		yaml_node_t *hn = sl_cfg_node(L, *h);

		err = sl_cfg_scalar(L, hn, "hooks", &s);
		if (err)
			return err;
		if (!strcmp(s, "xdp"))
			f->hooks |= SL_HOOK_XDP;
		else if (!strcmp(s, "tc"))
			f->hooks |= SL_HOOK_TC;
		else
			return sl_cfg_err(L, hn,
					  "hooks: expected xdp or tc, got "
					  "'%.64s'",
					  s);
	}
	return 0;
}

static int parse_ifaces(struct sl_cfg_loader *L, const char *key,
			yaml_node_t *n, void **state)
{
	static const char *const keys[] = {"name", "hooks", "mode", NULL};
	yaml_node_item_t *it, *top;
	struct sl_config *cfg = L->cfg;
	int err;

	(void)state;
	cfg->has_ifaces = true;
	err = sl_cfg_list(L, n, key, &it, &top);
	if (err)
		return err;
	cfg->ifaces = calloc(top - it + 1, sizeof(*cfg->ifaces));
	if (!cfg->ifaces)
		return -ENOMEM;
	for (; it < top; it++) {
		yaml_node_t *m = sl_cfg_node(L, *it), *v;
		struct sl_cfg_iface *f = &cfg->ifaces[cfg->n_ifaces];
		const char *s;

		err = sl_cfg_check_map(L, m, "interface", keys);
		if (err)
			return err;
		v = sl_cfg_map_get(L, m, "name");
		if (!v)
			return sl_cfg_err(L, m,
					  "interface: missing key 'name'");
		err = sl_cfg_scalar(L, v, "name", &s);
		if (err)
			return err;
		if (!sl_ifname_ok(s))
			return sl_cfg_err(L, v,
					  "name: expected an interface name "
					  "(1-15 characters, no blanks, '/' or "
					  "':'), got '%.64s'",
					  s);
		if (!if_nametoindex(s))
			return sl_cfg_err(
			    L, v, "name: no interface '%s' on this host", s);
		for (size_t i = 0; i < cfg->n_ifaces; i++)
			if (!strcmp(cfg->ifaces[i].name, s))
				return sl_cfg_err(L, v,
						  "name: interface '%s' is "
						  "listed twice",
						  s);
		snprintf(f->name, sizeof(f->name), "%s", s);
		f->pos = sl_cfg_pos(m);
		f->hooks = SL_HOOK_XDP | SL_HOOK_TC;
		f->mode = SL_MODE_NATIVE;
		v = sl_cfg_map_get(L, m, "hooks");
		if (v && (err = parse_hooks(L, v, f)))
			return err;
		v = sl_cfg_map_get(L, m, "mode");
		if (v) {
			err = sl_cfg_scalar(L, v, "mode", &s);
			if (err)
				return err;
			if (!strcmp(s, "native"))
				f->mode = SL_MODE_NATIVE;
			else if (!strcmp(s, "generic"))
				f->mode = SL_MODE_GENERIC;
			else
				return sl_cfg_err(L, v,
						  "mode: expected native or "
						  "generic, got '%.64s'",
						  s);
		}
		cfg->n_ifaces++;
	}
	return 0;
}

static int iface_order(const void *x, const void *y)
{
	const struct sl_cfg_iface *a = *(const struct sl_cfg_iface *const *)x;
	const struct sl_cfg_iface *b = *(const struct sl_cfg_iface *const *)y;

	return strcmp(a->name, b->name);
}

/* The interfaces by name; free() it. */
static const struct sl_cfg_iface **sorted_ifaces(const struct sl_config *cfg)
{
	const struct sl_cfg_iface **ifs =
	    calloc(cfg->n_ifaces + 1, sizeof(*ifs));

	if (!ifs)
		return NULL;
	for (size_t i = 0; i < cfg->n_ifaces; i++)
		ifs[i] = &cfg->ifaces[i];
	qsort(ifs, cfg->n_ifaces, sizeof(*ifs), iface_order);
	return ifs;
}

/* By name; `interfaces: []` when the file detaches everything. */
static int write_ifaces(FILE *f, const struct sl_config *cfg)
{
	const struct sl_cfg_iface **ifs = sorted_ifaces(cfg);
	size_t i;

	if (!ifs)
		return -ENOMEM;
	if (cfg->n_ifaces)
		fprintf(f, "interfaces:\n");
	else if (cfg->has_ifaces)
		fprintf(f, "interfaces: []\n");
	for (i = 0; i < cfg->n_ifaces; i++) {
		char q[40];
		uint8_t h = ifs[i]->hooks;

		sl_quote(ifs[i]->name, q, sizeof(q));
		fprintf(f, "  - name: %s\n", q);
		fprintf(f, "    hooks: [%s]\n",
			h == (SL_HOOK_XDP | SL_HOOK_TC) ? "xdp, tc"
			: h == SL_HOOK_TC		? "tc"
							: "xdp");
		fprintf(f, "    mode: %s\n",
			ifs[i]->mode == SL_MODE_GENERIC ? "generic" : "native");
	}
	free(ifs);
	return 0;
}

static int json_ifaces(struct jw *w, const struct sl_config *cfg)
{
	const struct sl_cfg_iface **ifs = sorted_ifaces(cfg);

	if (!ifs)
		return -ENOMEM;
	if (cfg->n_ifaces || cfg->has_ifaces) {
		jw_key(w, "interfaces");
		jw_arr_open(w);
	}
	for (size_t i = 0; i < cfg->n_ifaces; i++) {
		jw_obj_open(w);
		jw_key(w, "name");
		jw_str(w, ifs[i]->name);
		jw_key(w, "hooks");
		jw_arr_open(w);
		if (ifs[i]->hooks & SL_HOOK_XDP)
			jw_str(w, "xdp");
		if (ifs[i]->hooks & SL_HOOK_TC)
			jw_str(w, "tc");
		jw_arr_close(w);
		jw_key(w, "mode");
		jw_str(w,
		       ifs[i]->mode == SL_MODE_GENERIC ? "generic" : "native");
		jw_obj_close(w);
	}
	if (cfg->n_ifaces || cfg->has_ifaces)
		jw_arr_close(w);
	free(ifs);
	return 0;
}

/* The same interfaces by name, with the same hooks and, with the xdp hook,
 * the same mode (the XDP mode means nothing to a tc-only attachment, which
 * the running state reads back as native). */
static bool ifaces_equal(const struct sl_config *a, const struct sl_config *b)
{
	size_t i, j;

	if (a->n_ifaces != b->n_ifaces)
		return false;
	for (i = 0; i < a->n_ifaces; i++) {
		for (j = 0; j < b->n_ifaces; j++)
			if (!strcmp(a->ifaces[i].name, b->ifaces[j].name))
				break;
		if (j == b->n_ifaces ||
		    a->ifaces[i].hooks != b->ifaces[j].hooks ||
		    ((a->ifaces[i].hooks & SL_HOOK_XDP) &&
		     a->ifaces[i].mode != b->ifaces[j].mode))
			return false;
	}
	return true;
}

static void ifaces_free(struct sl_config *cfg)
{
	free(cfg->ifaces);
	cfg->ifaces = NULL;
	cfg->n_ifaces = 0;
}

const struct sl_cfg_section sl_cfg_ifaces = {
    .name = "interfaces",
    .keys = (const char *const[]){"interfaces", NULL},
    .parse = parse_ifaces,
    .write = write_ifaces,
    .write_json = json_ifaces,
    .equal = ifaces_equal,
    .free = ifaces_free,
};
