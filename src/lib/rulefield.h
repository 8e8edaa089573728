/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* rulefield: the one table of rule fields. Each row says how a field is
 * named (config key, `rule add` option, sl_rule_format's word), parsed from
 * text, printed back and compared; the YAML loader and writer
 * (config_rules.c), sl_rule_set_field, sl_rule_format, the comparers
 * (sl_rule_same_match, sl_rule_equal) and the options and --help of
 * `sluice rule add` (src/cli/cmd_rules.c) all walk it, so a new field is
 * one row (and its member in struct sl_rule and sl_rule_rec). Cross-field
 * checks stay in sl_rule_validate. */
#ifndef SL_RULEFIELD_H
#define SL_RULEFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice.h"

/* sl_rule_field.flags */
#define SL_RF_MATCH	  0x01 /* part of what the rule matches or does */
#define SL_RF_ALWAYS	  0x02 /* printed even when unset (id, prio, action) */
#define SL_RF_YAML_ALWAYS 0x04 /* written to YAML even when unset */
#define SL_RF_YAML_QUOTE  0x08 /* quoted in YAML (else only with a ':') */
#define SL_RF_LINE_QUOTE  0x10 /* quoted in sl_rule_format's line */
#define SL_RF_NUM	  0x20 /* a JSON number (else a JSON string) */
#define SL_RF_LIST	  0x40 /* a comma list; YAML lists read as one */

struct sl_rule_field {
	const char *key; /* config key and `rule add` option (--KEY) */
	/* sl_rule_format's word: NULL the key, "" the bare value */
	const char *line_key;
	/* Position in the lists of keys that errors print (1..), and in the
	 * options of `rule add` (1..; 0: not an option). */
	uint8_t key_rank, cli_rank;
	char short_opt;	     /* `rule add` short option, 0: none */
	const char *metavar; /* `rule add` value name */
	const char *help;    /* `rule add --help` */
	const char *want;    /* "KEY: expected WANT, got 'VALUE'" */
	unsigned flags;	     /* SL_RF_* */
	/* Sets the field from text: 0; 1 for a bad value (the caller says
	 * "expected WANT"); -EINVAL with its own message in err. */
	int (*parse)(struct sl_rule *r, const char *v, char *err, size_t len);
	/* The field's value as text (canonical: parses back to the same
	 * field); false when the field is unset (matches anything), with buf
	 * then written only for fields printed even when unset
	 * (SL_RF_ALWAYS, SL_RF_YAML_ALWAYS: the default's text). */
	bool (*text)(const struct sl_rule *r, char *buf, size_t len);
	/* a and b hold the same value of the field. */
	bool (*same)(const struct sl_rule *a, const struct sl_rule *b);
};

#define SL_RULE_NFIELDS 26
/* In canonical order: sl_rule_format's and the YAML writer's. */
extern const struct sl_rule_field sl_rule_fields[SL_RULE_NFIELDS];

/* The row of a config key / option name, or NULL. */
const struct sl_rule_field *sl_rule_field_find(const char *key);
/* The rows by key_rank (by_cli false) or by cli_rank (true, options only)
 * into out; returns how many. */
size_t sl_rule_fields_sorted(bool by_cli,
			     const struct sl_rule_field *out[SL_RULE_NFIELDS]);
/* The config keys in key_rank order, NULL-terminated. */
void sl_rule_keys(const char *out[SL_RULE_NFIELDS + 1]);

/* sl_rule_format's line with only the match fields, not the action, id,
 * priority or rate limit: how explain names a packet. */
void sl_rule_format_match(const struct sl_rule *r, char *buf, size_t len);

struct jw;
/* The rule's fields as members of the JSON object being written (open it
 * first): "KEY": value for each field the YAML writer writes, in table
 * order (numbers for SL_RF_NUM fields, else strings). The config file
 * reads the same keys, so such an object is a rule `apply` accepts. */
void sl_rule_jw_fields(struct jw *w, const struct sl_rule *r);

/* An interface name a rule or config may hold: 1-15 bytes, no blanks,
 * '/' or ':', not "." or "..". */
bool sl_ifname_ok(const char *s);
/* s double-quoted, backslash and quote escaped (YAML and shell-like). */
void sl_quote(const char *s, char *buf, size_t len);

#endif /* SL_RULEFIELD_H */
