// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_limits: the `limits:` section of the config file, the capacities
 * of the state (docs/config.md):
 *   limits:
 *     set-prefixes: 2097152  # prefix entries per family and direction
 *     set-hosts: 1048576     # host entries (/32, /128) per family and dir.
 *     rules: 131071          # rules
 * A key left out keeps its default; 0 in struct sl_limits means "default".
 * The maps are made with these capacities when apply fills a new slot
 * (src/lib/slots.c); the host hashes allocate their bucket arrays (16 bytes
 * a slot) from them, so smaller capacities take less memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_limits.h"
#include "config_sec.h"
#include "json.h"

static const struct limit_key {
	const char *name;
	size_t off;
	__u32 def, min, max;
	const char *what;
} keys[] = {
    {"set-prefixes", offsetof(struct sl_limits, prefixes), SL_SET_MAX_ENTRIES,
     SL_LIMIT_SET_MIN, SL_LIMIT_SET_MAX,
     "prefix entries per family and direction"},
    {"set-hosts", offsetof(struct sl_limits, hosts), SL_HOST_MAX_ENTRIES,
     SL_LIMIT_SET_MIN, SL_LIMIT_SET_MAX,
     "host entries per family and direction"},
    {"rules", offsetof(struct sl_limits, rules), SL_RULE_MAX - 1, 1,
     SL_RULE_MAX - 1, "rules"},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static __u32 *field(struct sl_limits *l, const struct limit_key *k)
{
	return (__u32 *)((char *)l + k->off);
}

void sl_limits_effective(const struct sl_limits *in, struct sl_limits *out)
{
	struct sl_limits r = in ? *in : (struct sl_limits){0};

	for (size_t i = 0; i < NKEYS; i++)
		if (!*field(&r, &keys[i]))
			*field(&r, &keys[i]) = keys[i].def;
	*out = r;
}

bool sl_limits_equal(const struct sl_limits *a, const struct sl_limits *b)
{
	struct sl_limits x, y;

	sl_limits_effective(a, &x);
	sl_limits_effective(b, &y);
	return x.prefixes == y.prefixes && x.hosts == y.hosts &&
	       x.rules == y.rules;
}

void sl_limits_write(FILE *f, const struct sl_limits *lim)
{
	struct sl_limits e;
	bool any = false;

	sl_limits_effective(lim, &e);
	for (size_t i = 0; i < NKEYS; i++)
		any |= *field(&e, &keys[i]) != keys[i].def;
	if (!any)
		return;
	fprintf(f, "limits:\n");
	for (size_t i = 0; i < NKEYS; i++)
		if (*field(&e, &keys[i]) != keys[i].def)
			fprintf(f, "  %s: %u\n", keys[i].name,
				*field(&e, &keys[i]));
}

int sl_limits_parse(yaml_document_t *doc, yaml_node_t *n, struct sl_limits *lim,
		    char *msg, size_t len, yaml_node_t **at)
{
	struct sl_limits out = *lim;

	*at = n;
	if (n->type == YAML_SCALAR_NODE && !n->data.scalar.length)
		return 0; /* `limits:` alone: every default */
	if (n->type != YAML_MAPPING_NODE) {
		snprintf(msg, len,
			 "limits: expected a mapping of set-prefixes, "
			 "set-hosts and rules");
		return -EINVAL;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const struct limit_key *lk = NULL;
		unsigned long long x;
		const char *s;
		char *end;

		*at = k;
		if (!k || k->type != YAML_SCALAR_NODE) {
			snprintf(msg, len, "limits: expected a key");
			return -EINVAL;
		}
		for (size_t i = 0; i < NKEYS; i++)
			if (!strcmp((const char *)k->data.scalar.value,
				    keys[i].name))
				lk = &keys[i];
		if (!lk) {
			snprintf(msg, len,
				 "limits: unknown key '%.64s' (expected "
				 "set-prefixes, set-hosts or rules)",
				 (const char *)k->data.scalar.value);
			return -EINVAL;
		}
		*at = v;
		s = v && v->type == YAML_SCALAR_NODE
			? (const char *)v->data.scalar.value
			: "";
		errno = 0;
		x = *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
		if (!*s || *s < '0' || *s > '9' || *end || errno ||
		    x < lk->min || x > lk->max) {
			snprintf(msg, len,
				 "%s: expected a number of %s from %u to %u "
				 "(default %u), got '%.32s'",
				 lk->name, lk->what, lk->min, lk->max, lk->def,
				 s);
			return -EINVAL;
		}
		*field(&out, lk) = (__u32)x;
	}
	*lim = out;
	return 0;
}

/* ---- the registry row (config_sec.h) ---- */

static int limits_parse(struct sl_cfg_loader *L, const char *key,
			yaml_node_t *n, void **state)
{
	yaml_node_t *at = n;
	char msg[256];

	(void)key;
	(void)state;
	if (sl_limits_parse(L->doc, n, &L->cfg->limits, msg, sizeof(msg), &at))
		return sl_cfg_err(L, at, "%s", msg);
	return 0;
}

static int limits_write(FILE *f, const struct sl_config *cfg)
{
	sl_limits_write(f, &cfg->limits);
	return 0;
}

/* export -j: the capacities that differ from their defaults. */
static int limits_json(struct jw *w, const struct sl_config *cfg)
{
	struct sl_limits e;
	bool any = false;

	sl_limits_effective(&cfg->limits, &e);
	for (size_t i = 0; i < NKEYS; i++)
		any |= *field(&e, &keys[i]) != keys[i].def;
	if (!any)
		return 0;
	jw_key(w, "limits");
	jw_obj_open(w);
	for (size_t i = 0; i < NKEYS; i++)
		if (*field(&e, &keys[i]) != keys[i].def) {
			jw_key(w, keys[i].name);
			jw_u64(w, *field(&e, &keys[i]));
		}
	jw_obj_close(w);
	return 0;
}

static bool limits_equal(const struct sl_config *a, const struct sl_config *b)
{
	return sl_limits_equal(&a->limits, &b->limits);
}

const struct sl_cfg_section sl_cfg_limits = {
    .name = "limits",
    .keys = (const char *const[]){"limits", NULL},
    .parse = limits_parse,
    .write = limits_write,
    .write_json = limits_json,
    .equal = limits_equal,
};
