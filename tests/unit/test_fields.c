// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_fields: the table of rule fields (rulefield.h) and the registry of
 * config sections (config_sec.h) drive every consumer. Each field has a
 * sample here (a field added to the table without one fails), and each
 * sample key must be in the table (a field dropped from it fails); every
 * field round-trips text -> rule -> text, through the YAML writer and
 * loader and through the persisted record, and changes what the comparers
 * see; the options of `sluice rule add` are exactly the table's. Each
 * section has a sample config that round-trips and that the comparer tells
 * from the empty config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "config_sec.h"
#include "log.h"
#include "rulefield.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A sample value of each field, with the other fields a valid rule with
 * it needs (NULL-terminated key/value pairs; action drop unless given).
 * loads: a config file with it loads. */
static const struct sample {
	const char *key, *value;
	const char *with[8];
	bool loads;
} samples[] = {
    {"id", "42", {NULL}, true},
    {"priority", "7", {NULL}, true},
    {"action", "count", {NULL}, true},
    {"direction", "in", {NULL}, true},
    {"src", "198.18.0.0/15", {NULL}, true},
    {"dst", "2001:db8::/32", {NULL}, true},
    {"proto", "sctp", {NULL}, true},
    {"sport", "1024-2047", {"proto", "tcp", NULL}, true},
    {"dport", "53", {"proto", "udp", NULL}, true},
    {"icmp-type", "8", {"proto", "icmp", NULL}, true},
    {"icmp-code", "3", {"proto", "icmp", "icmp-type", "3", NULL}, true},
    {"tcp-flags", "syn/syn,ack", {"proto", "tcp", NULL}, true},
    {"ct-state", "new,related,invalid", {NULL}, true},
    {"fragment", "later", {NULL}, true},
    {"vlan", "10", {NULL}, true},
    {"iface", "lo", {NULL}, true},
    {"src-mac", "02:00:00:00:00:01", {NULL}, true},
    {"dst-mac", "02:ab:cd:ef:00:01", {NULL}, true},
    {"to", "lo", {"action", "redirect", NULL}, true},
    {"rate", "500/s", {"action", "ratelimit", NULL}, true},
    {"burst", "50", {"action", "ratelimit", "rate", "100/s", NULL}, true},
    {"burst-bytes",
     "3000000",
     {"action", "ratelimit", "rate", "100/s,1MB/s", NULL},
     true},
    {"per",
     "src/24,src/64",
     {"action", "ratelimit", "rate", "100/s", NULL},
     true},
    {"ban", "10m", {"action", "ratelimit", "rate", "100/s", NULL}, true},
    {"log", "true", {NULL}, true},
    {"comment", "a \"quoted\" comment: yes", {NULL}, true},
};

static const struct sample *sample_of(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(samples); i++)
		if (!strcmp(samples[i].key, key))
			return &samples[i];
	return NULL;
}

/* The rule of a sample without its field: action drop, the companions. */
static bool base_rule(const struct sample *s, struct sl_rule *r)
{
	char err[256];

	sl_rule_init(r);
	if (!ASSERT_EQ(sl_rule_set_field(r, "action", "drop", err, sizeof(err)),
		       0, "action drop"))
		return false;
	for (int i = 0; s->with[i]; i += 2)
		if (!ASSERT_EQ(sl_rule_set_field(r, s->with[i], s->with[i + 1],
						 err, sizeof(err)),
			       0, s->with[i]))
			return false;
	return true;
}

/* The rule of a sample: its base, then the field. */
static bool sample_rule(const struct sample *s, struct sl_rule *r)
{
	char err[256];

	return base_rule(s, r) &&
	       ASSERT_TRUE(
		   !sl_rule_set_field(r, s->key, s->value, err, sizeof(err)),
		   "%s '%s': %s", s->key, s->value, err);
}

/* ---- the field table ---- */

static bool check_table_shape(void)
{
	bool key_seen[SL_RULE_NFIELDS + 1] = {},
					cli_seen[SL_RULE_NFIELDS + 1] = {};

	for (int i = 0; i < SL_RULE_NFIELDS; i++) {
		const struct sl_rule_field *f = &sl_rule_fields[i];
		struct sl_rule fr = {0};
		char ferr[128];

		if (!ASSERT_TRUE(f->key && f->parse && f->text && f->same,
				 "row %d lacks a key or a function", i) ||
		    !ASSERT_TRUE(sl_rule_field_find(f->key) == f,
				 "%s: found another row", f->key) ||
		    !ASSERT_TRUE(f->key_rank >= 1 &&
				     f->key_rank <= SL_RULE_NFIELDS &&
				     !key_seen[f->key_rank],
				 "%s: key_rank %u not unique in 1..%d", f->key,
				 f->key_rank, SL_RULE_NFIELDS) ||
		    !ASSERT_TRUE(f->cli_rank <= SL_RULE_NFIELDS &&
				     (!f->cli_rank || !cli_seen[f->cli_rank]),
				 "%s: cli_rank %u not unique", f->key,
				 f->cli_rank) ||
		    /* an option without metavar is a flag: given, it
		     * parses "1" (rule add --log) */
		    !ASSERT_TRUE(!f->cli_rank ||
				     (f->help &&
				      (f->metavar || !f->parse(&fr, "1", ferr,
							       sizeof(ferr)))),
				 "%s: an option without help, or without "
				 "metavar and not a flag",
				 f->key))
			return false;
		key_seen[f->key_rank] = true;
		cli_seen[f->cli_rank] = true;
	}
	return true;
}

/* Every row has a sample and every sample a row. */
static bool check_samples_cover_table(void)
{
	for (int i = 0; i < SL_RULE_NFIELDS; i++)
		if (!ASSERT_TRUE(sample_of(sl_rule_fields[i].key),
				 "field %s has no sample in test_fields.c",
				 sl_rule_fields[i].key))
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(samples); i++)
		if (!ASSERT_TRUE(sl_rule_field_find(samples[i].key),
				 "field %s is not in sl_rule_fields[]",
				 samples[i].key))
			return false;
	return ASSERT_EQ(ARRAY_SIZE(samples), SL_RULE_NFIELDS, "samples");
}

/* text -> parse -> text -> parse: the same field, the same text; a rule
 * without the field leaves it unset (or prints it only as a default). */
static bool check_field_text(const struct sl_rule_field *f)
{
	const struct sample *s = sample_of(f->key);
	struct sl_rule a, b, none;
	char t1[512], t2[512], err[256];

	if (!ASSERT_TRUE(s, "no sample") || !sample_rule(s, &a))
		return false;
	if (!ASSERT_TRUE(f->text(&a, t1, sizeof(t1)), "set field reads unset"))
		return false;
	sl_rule_init(&b);
	if (!ASSERT_EQ(sl_rule_set_field(&b, f->key, t1, err, sizeof(err)), 0,
		       err))
		return false;
	f->text(&b, t2, sizeof(t2));
	sl_rule_init(&none);
	return ASSERT_TRUE(!strcmp(t1, t2), "'%s' reads back as '%s'", t1,
			   t2) &&
	       ASSERT_TRUE(f->same(&a, &b), "text of %s does not round-trip",
			   f->key) &&
	       ASSERT_TRUE(!f->text(&none, t2, sizeof(t2)) ||
			       (f->flags & SL_RF_ALWAYS),
			   "a new rule has %s set", f->key);
}

/* The field changes sl_rule_equal, and sl_rule_same_match when it is
 * part of the match (id, priority and comment are not). */
static bool check_field_compare(const struct sl_rule_field *f)
{
	const struct sample *s = sample_of(f->key);
	struct sl_rule base, r;
	bool match = f->flags & SL_RF_MATCH;

	if (!sample_rule(s, &r) || !base_rule(s, &base))
		return false;
	return ASSERT_TRUE(!f->same(&base, &r), "%s: same() sees no change",
			   f->key) &&
	       ASSERT_TRUE(!sl_rule_equal(&base, &r),
			   "%s: sl_rule_equal misses it", f->key) &&
	       ASSERT_TRUE(sl_rule_same_match(&base, &r) == !match,
			   "%s: sl_rule_same_match %s it", f->key,
			   match ? "misses" : "counts");
}

/* The persisted record keeps the field. */
static bool check_field_rec(const struct sl_rule_field *f)
{
	const struct sample *s = sample_of(f->key);
	struct sl_rule_rec rec;
	struct sl_rule r, back;

	if (!sample_rule(s, &r))
		return false;
	sl_rule_to_rec(&r, &rec);
	sl_rule_from_rec(&rec, &back);
	return ASSERT_TRUE(f->same(&r, &back),
			   "%s is lost by sl_rule_to_rec/from_rec", f->key) &&
	       ASSERT_TRUE(sl_rule_equal(&r, &back),
			   "the rule with %s changes through its record",
			   f->key);
}

/* sl_rule_format prints the field with its word. */
static bool check_field_format(const struct sl_rule_field *f)
{
	const struct sample *s = sample_of(f->key);
	char line[1024], t[512], want[700];
	const char *k = f->line_key ? f->line_key : f->key;
	struct sl_rule r;

	if (!sample_rule(s, &r))
		return false;
	sl_rule_format(&r, line, sizeof(line));
	f->text(&r, t, sizeof(t));
	if (f->flags & SL_RF_LINE_QUOTE) {
		char q[600];

		sl_quote(t, q, sizeof(q));
		snprintf(want, sizeof(want), "%s%s%s", k, *k ? " " : "", q);
	} else {
		snprintf(want, sizeof(want), "%s%s%s", k, *k ? " " : "", t);
	}
	return ASSERT_STR_HAS(line, want, "sl_rule_format");
}

static char tmp_path[64];

/* Writes cfg canonically and loads it back (stderr into err). */
static int write_load(const struct sl_config *cfg, struct sl_config *out,
		      char **text)
{
	size_t len;
	FILE *f = open_memstream(text, &len);
	int err;

	if (!f)
		return -ENOMEM;
	err = sl_config_write(f, cfg);
	fclose(f);
	if (err)
		return err;
	f = fopen(tmp_path, "w");
	if (!f)
		return -errno;
	fputs(*text, f);
	fclose(f);
	return sl_config_load(tmp_path, out);
}

/* The YAML writer writes the field under its key, and the loader reads
 * it back to the same rule. */
static bool check_field_yaml(const struct sl_rule_field *f)
{
	const struct sample *s = sample_of(f->key);
	struct sl_config cfg = {}, back;
	char *text = NULL, want[64], msg[256];
	struct sl_rule r;
	bool ok;
	int err;

	if (!sample_rule(s, &r))
		return false;
	if (s->loads &&
	    !ASSERT_EQ(sl_rule_validate(&r, msg, sizeof(msg)), 0, msg))
		return false;
	if (!r.id)
		r.id = 1;
	cfg.rules = &r;
	cfg.n_rules = 1;
	err = write_load(&cfg, &back, &text);
	snprintf(want, sizeof(want),
		 "%s%s: ", f->key_rank == 1 ? "  - " : "    ", f->key);
	if (!s->loads) {
		ok = ASSERT_STR_HAS(text, want, "written config") &&
		     ASSERT_TRUE(err == -EINVAL, "loaded a rule with %s",
				 f->key);
		free(text);
		return ok;
	}
	ok = ASSERT_STR_HAS(text, want, "written config") &&
	     ASSERT_EQ(err, 0, "load of the written config") &&
	     ASSERT_EQ(back.n_rules, 1, "rules") &&
	     ASSERT_TRUE(sl_rule_equal(&r, &back.rules[0]),
			 "%s differs after write and load", f->key);
	if (!err)
		sl_config_free(&back);
	free(text);
	return ok;
}

/* `sluice rule add`'s options are the fields, each with a cli_rank (and
 * --force, the lockout guard's). */
static bool check_cli_options(void)
{
	FILE *p = popen("build/sluice rule --help 2>&1", "r");
	char line[512];
	int n = 0;
	bool ok = true;

	if (!ASSERT_TRUE(p != NULL, "cannot run build/sluice"))
		return false;
	while (fgets(line, sizeof(line), p)) {
		char *o = strstr(line, "--"), name[64];
		const struct sl_rule_field *f;

		if (strncmp(line, "  -", 3) || !o)
			continue;
		sscanf(o + 2, "%63[a-z-]", name);
		f = sl_rule_field_find(name);
		if (!strcmp(name, "json") || !strcmp(name, "bpffs") ||
		    !strcmp(name, "verbose") || !strcmp(name, "help") ||
		    !strcmp(name, "force"))
			continue;
		ok = ok && ASSERT_TRUE(f && f->cli_rank,
				       "option --%s is no rule field", name);
		n++;
	}
	pclose(p);
	for (int i = 0; i < SL_RULE_NFIELDS; i++)
		ok = ok && ASSERT_TRUE(sl_rule_fields[i].cli_rank,
				       "field %s is not an option of rule add",
				       sl_rule_fields[i].key);
	return ok && ASSERT_EQ(n, SL_RULE_NFIELDS, "rule add options");
}

/* ---- the section registry ---- */

/* A sample config of each section: not its default. */
static const struct {
	const char *section, *yaml;
} section_samples[] = {
    {"interfaces", "interfaces:\n  - name: lo\n    hooks: [tc]\n"},
    {"policy", "policy: {in: drop, out: pass}\n"},
    {"limits", "limits:\n  set-hosts: 4096\n  rules: 1000\n"},
    {"management", "management: [198.18.0.10, \"2001:db8::/64\"]\n"},
    {"conntrack", "conntrack:\n  enabled: true\n  max: 1000000\n  "
		  "timeouts: {established: 1h, udp: 45s}\n"},
    {"fragments", "fragments:\n  timeout: 2m\n  max: 4096\n"},
    {"ratelimit", "ratelimit:\n  max: 32768\n"},
    {"events", "events:\n  drops: true\n  sample: 1000\n  log-rate: 5\n"},
    {"synproxy", "synproxy:\n  ports: [80, 443, 8000-8010]\n  mss: 1400\n"},
    {"loadbalancer",
     "loadbalancer:\n  services:\n    - vip: 198.18.100.1\n      port: 80\n"
     "      proto: tcp\n      mode: nat\n      backends:\n"
     "        - {addr: 198.18.1.10, port: 8080, weight: 2}\n"
     "        - {addr: 198.18.1.11, port: 8080}\n"},
    {"sets", "deny:\n  - 198.18.0.0/24\nallow:\n  - {prefix: "
	     "\"2001:db8::1\", dir: dst}\n"},
    {"rules", "rules:\n  - {id: 3, action: drop, proto: tcp, dport: 22}\n"},
};

static const char *section_sample(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(section_samples); i++)
		if (!strcmp(section_samples[i].section, name))
			return section_samples[i].yaml;
	return NULL;
}

static int load_text(const char *yaml, struct sl_config *cfg)
{
	FILE *f = fopen(tmp_path, "w");

	if (!f)
		return -errno;
	fputs(yaml, f);
	fclose(f);
	return sl_config_load(tmp_path, cfg);
}

/* Every section has its functions and a sample; no key is owned twice. */
static bool check_registry_shape(void)
{
	size_t n = 0;

	for (int i = 0; sl_cfg_sections[i]; i++, n++) {
		const struct sl_cfg_section *s = sl_cfg_sections[i];

		if (!ASSERT_TRUE(s->name && s->keys && s->keys[0] && s->parse &&
				     s->write && s->equal,
				 "section %d lacks a key or a function", i) ||
		    !ASSERT_TRUE(section_sample(s->name),
				 "section %s has no sample in test_fields.c",
				 s->name))
			return false;
		for (int k = 0; s->keys[k]; k++)
			for (int j = 0; j <= i; j++)
				for (int l = 0; sl_cfg_sections[j]->keys[l];
				     l++)
					if (!ASSERT_TRUE(
						(j == i && l == k) ||
						    strcmp(s->keys[k],
							   sl_cfg_sections[j]
							       ->keys[l]),
						"key %s owned twice",
						s->keys[k]))
						return false;
	}
	return ASSERT_EQ(n, ARRAY_SIZE(section_samples), "sections");
}

/* The sample loads, is not the empty config, writes its keys and
 * round-trips through the writer. */
static bool check_section(const struct sl_cfg_section *s)
{
	struct sl_config cfg, empty, back;
	char *text = NULL;
	bool ok;
	int err;

	if (!ASSERT_EQ(load_text(section_sample(s->name), &cfg), 0,
		       "load of the sample"))
		return false;
	if (!ASSERT_EQ(load_text("", &empty), 0, "load of the empty config")) {
		sl_config_free(&cfg);
		return false;
	}
	err = write_load(&cfg, &back, &text);
	ok = ASSERT_TRUE(!s->equal(&cfg, &empty),
			 "%s: equal() sees no difference from the empty config",
			 s->name) &&
	     ASSERT_TRUE(!sl_config_equal(&cfg, &empty),
			 "sl_config_equal misses section %s", s->name) &&
	     ASSERT_EQ(err, 0, "load of the written sample");
	for (int k = 0; ok && s->keys[k]; k++) {
		char want[64];

		snprintf(want, sizeof(want), "%s:", s->keys[k]);
		ok = ASSERT_STR_HAS(text, want, "written sample");
	}
	ok = ok && ASSERT_TRUE(sl_config_equal(&cfg, &back),
			       "%s: the written sample loads back different",
			       s->name);
	if (!err)
		sl_config_free(&back);
	sl_config_free(&cfg);
	sl_config_free(&empty);
	free(text);
	return ok;
}

int main(void)
{
	char name[128];
	int fd;

	sl_log_hook_libbpf();
	snprintf(tmp_path, sizeof(tmp_path), "/tmp/sluice-fields-XXXXXX");
	fd = mkstemp(tmp_path);
	if (fd < 0) {
		printf("not ok - temp file: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	check_report("fields: table shape (keys, functions, orders)",
		     check_table_shape());
	check_report("fields: every field has a sample, every sample a field",
		     check_samples_cover_table());
	for (int i = 0; i < SL_RULE_NFIELDS; i++) {
		const struct sl_rule_field *f = &sl_rule_fields[i];

		snprintf(name, sizeof(name), "field %s: text round-trips",
			 f->key);
		check_report(name, check_field_text(f));
		snprintf(name, sizeof(name), "field %s: comparers see it",
			 f->key);
		check_report(name, check_field_compare(f));
		snprintf(name, sizeof(name),
			 "field %s: persisted record keeps it", f->key);
		check_report(name, check_field_rec(f));
		snprintf(name, sizeof(name), "field %s: rule format prints it",
			 f->key);
		check_report(name, check_field_format(f));
		snprintf(name, sizeof(name), "field %s: YAML write and load",
			 f->key);
		check_report(name, check_field_yaml(f));
	}
	check_report("fields: rule add options are the table's",
		     check_cli_options());
	check_report("sections: registry shape (functions, samples, keys)",
		     check_registry_shape());
	for (int i = 0; sl_cfg_sections[i]; i++) {
		snprintf(name, sizeof(name),
			 "section %s: loads, differs from empty, round-trips",
			 sl_cfg_sections[i]->name);
		check_report(name, check_section(sl_cfg_sections[i]));
	}
	unlink(tmp_path);
	return check_failed ? 1 : 0;
}
