// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_rules: the `rules` section. Each rule is a mapping of the keys of
 * the rule field table (rulefield.h), read with sl_rule_set_field and
 * written field by field in the table's order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_sec.h"
#include "rulefield.h"

/* The scalars of the list n joined by ',' into buf (a field that takes a
 * comma list takes a YAML list too). */
static int seq_join(struct sl_cfg_loader *L, yaml_node_t *n, const char *what,
		    char *buf, size_t len)
{
	yaml_node_item_t *it, *top;
	size_t o = 0;
	int err = sl_cfg_list(L, n, what, &it, &top);

	buf[0] = '\0';
	for (; !err && it < top; it++) {
		yaml_node_t *v = sl_cfg_node(L, *it);
		const char *s;

		err = sl_cfg_scalar(L, v, what, &s);
		if (!err && o + strlen(s) + 2 > len)
			err =
			    sl_cfg_err(L, v, "%s: the list is too long", what);
		if (!err)
			o +=
			    snprintf(buf + o, len - o, "%s%s", o ? "," : "", s);
	}
	return err;
}

/* One rule mapping into r (validated, iface resolved). */
static int parse_rule(struct sl_cfg_loader *L, yaml_node_t *m,
		      struct sl_rule *r)
{
	const char *keys[SL_RULE_NFIELDS + 1];
	yaml_node_pair_t *p;
	const char *bad;
	char msg[256];
	int err;

	sl_rule_keys(keys);
	err = sl_cfg_check_map(L, m, "rule", keys);
	if (err)
		return err;
	sl_rule_init(r);
	r->pos = sl_cfg_pos(m);
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		const char *k =
		    (const char *)sl_cfg_node(L, p->key)->data.scalar.value;
		yaml_node_t *v = sl_cfg_node(L, p->value);
		const char *s;

		char list[256];

		const struct sl_rule_field *f = sl_rule_field_find(k);

		/* A list of scalars ([established, related]) is the comma
		 * list of its items, for the fields that take one. */
		if (v->type == YAML_SEQUENCE_NODE && f &&
		    (f->flags & SL_RF_LIST)) {
			err = seq_join(L, v, k, list, sizeof(list));
			s = list;
		} else {
			err = sl_cfg_scalar(L, v, k, &s);
		}
		if (err)
			return err;
		if (sl_rule_set_field(r, k, s, msg, sizeof(msg)))
			return sl_cfg_err(L, v, "%s", msg);
	}
	if (sl_rule_check(r, &bad, msg, sizeof(msg))) {
		yaml_node_t *v = sl_cfg_map_get(L, m, bad);

		return sl_cfg_err(L, v ? v : m, "%s", msg);
	}
	if (sl_rule_resolve(r, msg, sizeof(msg)))
		return sl_cfg_err(
		    L,
		    sl_cfg_map_get(L, m,
				   strncmp(msg, "to:", 3) ? "iface" : "to"),
		    "%s", msg);
	return 0;
}

static int parse_rules(struct sl_cfg_loader *L, const char *key, yaml_node_t *n,
		       void **state)
{
	struct sl_config *cfg = L->cfg;
	yaml_node_item_t *it, *top;
	uint32_t max_id = 0, *first = NULL; /* id -> line of its rule */
	int err;

	(void)state;
	err = sl_cfg_list(L, n, key, &it, &top);
	if (err)
		return err;
	cfg->rules = calloc(top - it + 1, sizeof(*cfg->rules));
	first = calloc(SL_RULE_MAX, sizeof(*first));
	if (!cfg->rules || !first) {
		free(first);
		return -ENOMEM;
	}
	for (; it < top; it++) {
		yaml_node_t *m = sl_cfg_node(L, *it);
		struct sl_rule *r = &cfg->rules[cfg->n_rules];

		err = parse_rule(L, m, r);
		if (err)
			goto out;
		if (r->id) {
			if (first[r->id]) {
				err = sl_cfg_err(L, sl_cfg_map_get(L, m, "id"),
						 "id: duplicate rule id %u "
						 "(first at line %u)",
						 r->id, first[r->id]);
				goto out;
			}
			first[r->id] = r->pos.line ? r->pos.line : 1;
			if (r->id > max_id)
				max_id = r->id;
		}
		cfg->n_rules++;
	}
	/* Rules without an id get the next ids after the highest given. */
	for (size_t i = 0; i < cfg->n_rules; i++) {
		if (cfg->rules[i].id)
			continue;
		if (max_id + 1 >= SL_RULE_MAX) {
			err = sl_cfg_err_at(L, cfg->rules[i].pos,
					    "id: no free rule id left; give "
					    "this rule an id");
			goto out;
		}
		cfg->rules[i].id = ++max_id;
	}
out:
	free(first);
	return err;
}

static int rule_order(const void *x, const void *y)
{
	const struct sl_rule *a = *(const struct sl_rule *const *)x;
	const struct sl_rule *b = *(const struct sl_rule *const *)y;

	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* The rules in evaluation order (priority, id); free() it. */
static const struct sl_rule **sorted_rules(const struct sl_config *cfg)
{
	const struct sl_rule **rs = calloc(cfg->n_rules + 1, sizeof(*rs));

	if (!rs)
		return NULL;
	for (size_t i = 0; i < cfg->n_rules; i++)
		rs[i] = &cfg->rules[i];
	qsort(rs, cfg->n_rules, sizeof(*rs), rule_order);
	return rs;
}

/* One rule: its fields in table order, unset ones left out. */
static void write_rule(FILE *f, const struct sl_rule *r)
{
	char t[2 * SL_COMMENT_MAX + 4], q[2 * SL_COMMENT_MAX + 4];
	bool first = true;

	for (int i = 0; i < SL_RULE_NFIELDS; i++) {
		const struct sl_rule_field *fd = &sl_rule_fields[i];
		bool quoted;

		if (!fd->text(r, t, sizeof(t)) &&
		    !(fd->flags & (SL_RF_ALWAYS | SL_RF_YAML_ALWAYS)))
			continue;
		quoted = fd->flags & SL_RF_YAML_QUOTE || strchr(t, ':');
		if (quoted)
			sl_quote(t, q, sizeof(q));
		fprintf(f, "%s%s: %s\n", first ? "  - " : "    ", fd->key,
			quoted ? q : t);
		first = false;
	}
}

/* Rules in evaluation order (priority, id). */
static int write_rules(FILE *f, const struct sl_config *cfg)
{
	const struct sl_rule **rs = sorted_rules(cfg);

	if (!rs)
		return -ENOMEM;
	if (cfg->n_rules)
		fprintf(f, "rules:\n");
	for (size_t i = 0; i < cfg->n_rules; i++)
		write_rule(f, rs[i]);
	free(rs);
	return 0;
}

/* Rules in evaluation order, each an object of its fields. */
static int json_rules(struct jw *w, const struct sl_config *cfg)
{
	const struct sl_rule **rs = sorted_rules(cfg);

	if (!rs)
		return -ENOMEM;
	if (cfg->n_rules) {
		jw_key(w, "rules");
		jw_arr_open(w);
	}
	for (size_t i = 0; i < cfg->n_rules; i++) {
		jw_obj_open(w);
		sl_rule_jw_fields(w, rs[i]);
		jw_obj_close(w);
	}
	if (cfg->n_rules)
		jw_arr_close(w);
	free(rs);
	return 0;
}

/* Rules by id (file order does not matter). */
static bool rules_equal(const struct sl_config *a, const struct sl_config *b)
{
	const struct sl_rule **byid;
	bool eq = true;
	size_t i, j;

	if (a->n_rules != b->n_rules)
		return false;
	if (!a->n_rules)
		return true;
	/* b's rules by id: linear, for 100k-rule configs */
	byid = calloc(SL_RULE_MAX, sizeof(*byid));
	if (!byid)
		return false; /* out of memory: "differs" is safe */
	for (j = 0; j < b->n_rules && eq; j++) {
		uint32_t id = b->rules[j].id;

		if (id >= SL_RULE_MAX || byid[id])
			eq = false;
		else
			byid[id] = &b->rules[j];
	}
	for (i = 0; i < a->n_rules && eq; i++) {
		uint32_t id = a->rules[i].id;

		eq = id < SL_RULE_MAX && byid[id] &&
		     sl_rule_equal(&a->rules[i], byid[id]);
	}
	free(byid);
	return eq;
}

static void rules_free(struct sl_config *cfg)
{
	free(cfg->rules);
	cfg->rules = NULL;
	cfg->n_rules = 0;
}

const struct sl_cfg_section sl_cfg_rules = {
    .name = "rules",
    .keys = (const char *const[]){"rules", NULL},
    .parse = parse_rules,
    .write = write_rules,
    .write_json = json_rules,
    .equal = rules_equal,
    .free = rules_free,
};
