/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* config_sec: the registry of config file sections, and the YAML helpers
 * (config_yaml.c) the sections parse with. config.c walks the registry to
 * load, write, compare and free a config; each section lives in its own
 * file (config_ifaces.c, config_policy.c, config_sets.c, config_rules.c)
 * and exports one row. A new section is one file, a field in struct
 * sl_config and one row in sl_cfg_sections[] (config.c). Internal to
 * src/lib. */
#ifndef SL_CONFIG_SEC_H
#define SL_CONFIG_SEC_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <yaml.h>

#include "config.h"
#include "json.h"

/* The state of one load: the file, its document and the config filled. */
struct sl_cfg_loader {
	const char *path;
	char dir[PATH_MAX]; /* the file's folder: relative paths start here */
	yaml_document_t *doc;
	struct sl_config *cfg;
};

/* One section of the config file: the top-level keys it owns and how it
 * is read, written, compared and freed. */
struct sl_cfg_section {
	const char *name;	 /* for tests and messages */
	const char *const *keys; /* its top-level keys, NULL-terminated */
	/* Parses the value n of one of its keys into L->cfg. Sections are
	 * parsed in registry order, each its keys in order. *state (NULL at
	 * first) may hold what the section gathers across keys. */
	int (*parse)(struct sl_cfg_loader *L, const char *key, yaml_node_t *n,
		     void **state);
	/* After every section parsed (NULL: nothing to do): checks across
	 * the section's entries, with the state parse left. */
	int (*finish)(struct sl_cfg_loader *L, void *state);
	/* Frees the state (NULL: free()); called on success and error. */
	void (*drop)(void *state);
	/* Writes the section in canonical YAML (keys in order); 0 or a
	 * negative errno. */
	int (*write)(FILE *f, const struct sl_config *cfg);
	/* The same as members of the JSON object being written (export -j):
	 * the same keys and values, so `apply` reads it back (JSON is YAML);
	 * 0 or a negative errno. */
	int (*write_json)(struct jw *w, const struct sl_config *cfg);
	/* The section of a and b is semantically equal. */
	bool (*equal)(const struct sl_config *a, const struct sl_config *b);
	/* Sets the section's defaults in a zeroed cfg (NULL: zero is the
	 * default): what a file without the section means. */
	void (*init)(struct sl_config *cfg);
	/* Frees what parse allocated in cfg and leaves it empty (NULL:
	 * nothing allocated). */
	void (*free)(struct sl_config *cfg);
};

/* The registry, in file order (config.c). */
extern const struct sl_cfg_section *const sl_cfg_sections[];
extern const struct sl_cfg_section sl_cfg_ifaces, sl_cfg_policy, sl_cfg_sets,
    sl_cfg_rules, sl_cfg_limits, sl_cfg_mgmt, sl_cfg_conntrack, sl_cfg_frags,
    sl_cfg_ratelimit, sl_cfg_synproxy, sl_cfg_events, sl_cfg_lb;

/* ---- YAML helpers (config_yaml.c) ---- */

/* Prints "FILE:LINE:COL: msg" and returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int sl_cfg_err_at(struct sl_cfg_loader *L,
							struct sl_srcpos pos,
							const char *fmt, ...);
struct sl_srcpos sl_cfg_pos(const yaml_node_t *n);
#define sl_cfg_err(L, n, ...) sl_cfg_err_at((L), sl_cfg_pos(n), __VA_ARGS__)
yaml_node_t *sl_cfg_node(struct sl_cfg_loader *L, int idx);
/* "a scalar", "a list", "a mapping" or "nothing". */
const char *sl_cfg_type_name(const yaml_node_t *n);
/* A plain scalar spelling null: "", ~, null, Null, NULL. */
bool sl_cfg_is_null(const yaml_node_t *n);
/* The text of a scalar node, or an error naming what was expected. */
int sl_cfg_scalar(struct sl_cfg_loader *L, yaml_node_t *n, const char *what,
		  const char **out);
/* Checks that n is a mapping with scalar, unique keys among `keys`
 * (NULL-terminated; the error lists them). */
int sl_cfg_check_map(struct sl_cfg_loader *L, yaml_node_t *n, const char *what,
		     const char *const *keys);
/* The value of key in a checked mapping, or NULL. */
yaml_node_t *sl_cfg_map_get(struct sl_cfg_loader *L, yaml_node_t *n,
			    const char *key);
/* A scalar true/yes/on or false/no/off. */
int sl_cfg_bool(struct sl_cfg_loader *L, yaml_node_t *v, const char *what,
		bool *out);
/* A whole decimal number from lo to hi (the error names the default). */
int sl_cfg_uint(struct sl_cfg_loader *L, yaml_node_t *v, const char *what,
		unsigned lo, unsigned hi, unsigned def, unsigned *out);
/* The same for the capacity of a table (`max` of conntrack, fragments,
 * ratelimit): "expected a number of entries from lo to hi". */
int sl_cfg_capacity(struct sl_cfg_loader *L, yaml_node_t *v, const char *what,
		    unsigned lo, unsigned hi, unsigned def, unsigned *out);
/* A list node (null counts as an empty list): its items. */
int sl_cfg_list(struct sl_cfg_loader *L, yaml_node_t *n, const char *what,
		yaml_node_item_t **start, yaml_node_item_t **top);

#endif /* SL_CONFIG_SEC_H */
