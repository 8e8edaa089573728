/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* config: rules from text (shared by the YAML loader and the CLI), rule
 * validation and formatting (rulefield.c, driven by the table of rule
 * fields in rulefield.h), and the YAML config file: load, export, compare
 * (config.c, walking the registry of sections in config_sec.h). The
 * schema and the error format are in docs/config.md. */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sluice.h"

/* r->action before an action is given: validation refuses it. */
#define SL_RACT_UNSET 0xff

/* Defaults: id 0 (assign one), priority SL_PRIO_DEFAULT, no action (must be
 * given), both directions, IPv4 and IPv6, every port, any ICMP type and
 * code, any VLAN, any interface, no comment. */
void sl_rule_init(struct sl_rule *r);

/* Sets one field from text. key is the config key and CLI option name
 * (sl_rule_fields[], rulefield.h). Returns -EINVAL with
 * "KEY: expected ..., got 'VALUE'" in err for a bad key or value. Checks
 * one field only; sl_rule_validate checks the combination. */
int sl_rule_set_field(struct sl_rule *r, const char *key, const char *value,
		      char *err, size_t errlen);

/* Cross-field checks of a complete rule; also sets r->l3 when the
 * addresses or the ICMP protocol imply a family. -EINVAL with the reason,
 * which starts with the name of the offending key. */
int sl_rule_validate(struct sl_rule *r, char *err, size_t errlen);
/* The same, naming the offending key in *key (for FILE:LINE:COL). */
int sl_rule_check(struct sl_rule *r, const char **key, char *err,
		  size_t errlen);

/* Resolves r->iface to r->ifindex (0 when r->iface is empty). -EINVAL with
 * "iface: no interface 'X' on this host" when it does not exist. */
int sl_rule_resolve(struct sl_rule *r, char *err, size_t errlen);

/* One line with the CLI option names, e.g.
 * id 7 prio 1000 drop in proto tcp dport 80 comment "x" */
void sl_rule_format(const struct sl_rule *r, char *buf, size_t len);
/* Two rules have the same id and definition (as sl_config_equal sees
 * them). */
bool sl_rule_equal(const struct sl_rule *a, const struct sl_rule *b);

/* The limits of a config file: its size (SL_CONFIG_MAX_DEFAULT bytes,
 * $SLUICE_CONFIG_MAX_BYTES: another cap, suffix k, M, G; 0: none) and its
 * nesting depth (mappings and lists in one another). */
#define SL_CONFIG_MAX_DEFAULT (256ULL << 20)
#define SL_CONFIG_MAX_DEPTH   64

/* Loads and validates a YAML config. On bad input prints one line
 * "FILE:LINE:COL: what was expected" and returns -EINVAL; on success cfg
 * owns its arrays (sl_config_free). cfg is left empty on error. path "-"
 * reads standard input (named "stdin" in errors; relative prefix-list
 * paths then start in the current directory). YAML merge keys
 * ("<<: *anchor", or a list of aliases) merge mappings: the mapping's own
 * keys win, then the merged ones in order. */
int sl_config_load(const char *path, struct sl_config *cfg);

/* Canonical YAML of cfg: deterministic, loads back to an equal config. */
int sl_config_write(FILE *f, const struct sl_config *cfg);

/* The same config as one JSON document (the keys and values of the YAML;
 * `apply` reads it back, JSON being YAML). */
int sl_config_write_json(FILE *f, const struct sl_config *cfg);

/* Semantic equality: interfaces by name, sets as sets, rules by id (file
 * order and source positions do not matter). */
bool sl_config_equal(const struct sl_config *a, const struct sl_config *b);
/* a and b match the same packets and do the same with them: equal but for
 * id, priority and comment (a rule's counters follow this identity). */
bool sl_rule_same_match(const struct sl_rule *a, const struct sl_rule *b);

void sl_config_free(struct sl_config *cfg);

/* The lockout guard: a drop rule without any match field (but direction,
 * and addresses of prefix length 0) drops every packet of its directions
 * (and family), like a deny entry for every address. */
bool sl_rule_drops_all(const struct sl_rule *r);
/* The first item of cfg that drops everything, or the management path
 * (cfg->mgmt: a deny entry overlapping a management prefix, a drop rule
 * naming addresses that overlap one, or a drop policy that no allow entry
 * or pass rule lets one through), and that `running` (NULL: nothing) does
 * not already hold: what it does in what ("deny 0.0.0.0/0 drops every
 * packet", "rule 3 drops the management path (198.18.0.10/32)") and its
 * file position in *pos; false when there is none. */
bool sl_config_lockout(const struct sl_config *cfg,
		       const struct sl_config *running, char *what, size_t len,
		       struct sl_srcpos *pos);

/* "a, b or c" of the NULL-terminated words, into buf (the lists of keys
 * and sub-commands that errors print). */
void sl_join_or(const char *const *words, char *buf, size_t len);

#endif /* SL_CONFIG_H */
