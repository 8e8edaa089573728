// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_yaml: what every config section parses with (libyaml document
 * API): nodes, scalars, checked mappings, lists, and errors that name
 * FILE:LINE:COL. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_sec.h"
#include "log.h"
#include "rulefield.h"

int sl_cfg_err_at(struct sl_cfg_loader *L, struct sl_srcpos pos,
		  const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_err_at(L->path, pos.line, pos.col, "%s", msg);
	return -EINVAL;
}

struct sl_srcpos sl_cfg_pos(const yaml_node_t *n)
{
	struct sl_srcpos p = {n->start_mark.line + 1, n->start_mark.column + 1};

	return p;
}

yaml_node_t *sl_cfg_node(struct sl_cfg_loader *L, int idx)
{
	return yaml_document_get_node(L->doc, idx);
}

const char *sl_cfg_type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

bool sl_cfg_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") ||
	       !strcmp(v, "Null") || !strcmp(v, "NULL");
}

int sl_cfg_scalar(struct sl_cfg_loader *L, yaml_node_t *n, const char *what,
		  const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return sl_cfg_err(L, n, "%s: expected a scalar, got %s", what,
				  sl_cfg_type_name(n));
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return sl_cfg_err(L, n, "%s: expected text without NUL bytes",
				  what);
	*out = (const char *)n->data.scalar.value;
	return 0;
}

int sl_cfg_check_map(struct sl_cfg_loader *L, yaml_node_t *n, const char *what,
		     const char *const *keys)
{
	yaml_node_pair_t *p, *q;
	char expect[512];

	if (n->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, n, "%s: expected a mapping, got %s", what,
				  sl_cfg_type_name(n));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = sl_cfg_node(L, p->key);
		const char *ks;
		size_t i;

		if (k->type != YAML_SCALAR_NODE)
			return sl_cfg_err(L, k,
					  "%s: expected a scalar key, got %s",
					  what, sl_cfg_type_name(k));
		ks = (const char *)k->data.scalar.value;
		for (i = 0; keys[i]; i++)
			if (!strcmp(ks, keys[i]))
				break;
		if (!keys[i]) {
			sl_join_or(keys, expect, sizeof(expect));
			return sl_cfg_err(
			    L, k, "%s: unknown key '%.64s' (expected %s)", what,
			    ks, expect);
		}
		for (q = n->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *k2 = sl_cfg_node(L, q->key);

			if (!strcmp((const char *)k2->data.scalar.value, ks))
				return sl_cfg_err(
				    L, k,
				    "%s: duplicate key '%s' (first at line "
				    "%lu)",
				    what, ks,
				    (unsigned long)k2->start_mark.line + 1);
		}
	}
	return 0;
}

yaml_node_t *sl_cfg_map_get(struct sl_cfg_loader *L, yaml_node_t *n,
			    const char *key)
{
	yaml_node_pair_t *p;

	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++)
		if (!strcmp(
			(const char *)sl_cfg_node(L, p->key)->data.scalar.value,
			key))
			return sl_cfg_node(L, p->value);
	return NULL;
}

int sl_cfg_list(struct sl_cfg_loader *L, yaml_node_t *n, const char *what,
		yaml_node_item_t **start, yaml_node_item_t **top)
{
	if (sl_cfg_is_null(n)) {
		*start = *top = NULL;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return sl_cfg_err(L, n, "%s: expected a list, got %s", what,
				  sl_cfg_type_name(n));
	*start = n->data.sequence.items.start;
	*top = n->data.sequence.items.top;
	return 0;
}

int sl_cfg_bool(struct sl_cfg_loader *L, yaml_node_t *v, const char *what,
		bool *out)
{
	const char *s;
	int err = sl_cfg_scalar(L, v, what, &s);

	if (err)
		return err;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = false;
	else
		return sl_cfg_err(
		    L, v, "%s: expected true or false, got '%.64s'", what, s);
	return 0;
}

/* A whole decimal number from lo to hi; the error names it "a number" or
 * "a number of <noun>", and the default. */
static int cfg_number(struct sl_cfg_loader *L, yaml_node_t *v, const char *what,
		      const char *noun, unsigned lo, unsigned hi, unsigned def,
		      unsigned *out)
{
	const char *t;
	char *end = NULL;
	unsigned long x = 0;
	int err = sl_cfg_scalar(L, v, what, &t);

	if (err)
		return err;
	if (*t >= '0' && *t <= '9') {
		errno = 0;
		x = strtoul(t, &end, 10);
	}
	if (!end || *end || errno || x < lo || x > hi)
		return sl_cfg_err(L, v,
				  "%s: expected a number%s%s from %u to %u "
				  "(default %u), got '%.32s'",
				  what, noun ? " of " : "", noun ? noun : "",
				  lo, hi, def, t);
	*out = (unsigned)x;
	return 0;
}

int sl_cfg_uint(struct sl_cfg_loader *L, yaml_node_t *v, const char *what,
		unsigned lo, unsigned hi, unsigned def, unsigned *out)
{
	return cfg_number(L, v, what, NULL, lo, hi, def, out);
}

int sl_cfg_capacity(struct sl_cfg_loader *L, yaml_node_t *v, const char *what,
		    unsigned lo, unsigned hi, unsigned def, unsigned *out)
{
	return cfg_number(L, v, what, "entries", lo, hi, def, out);
}
