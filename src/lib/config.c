// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config: the YAML config file (libyaml document API) as a registry of
 * sections: load with FILE:LINE:COL errors, canonical export, semantic
 * comparison and freeing each walk sl_cfg_sections[]. The sections live in
 * config_<section>.c (config_sec.h), the rule fields in rulefield.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_sec.h"
#include "log.h"

/* The sections in file order: loaded in this order and written in it.
 * Adding a section: its file, its fields in struct sl_config, one row. */
const struct sl_cfg_section *const sl_cfg_sections[] = {
    &sl_cfg_ifaces, &sl_cfg_policy, &sl_cfg_sets, &sl_cfg_rules, NULL,
};

#define SL_CFG_MAX_SECTIONS 16
_Static_assert(sizeof(sl_cfg_sections) / sizeof(sl_cfg_sections[0]) <=
		   SL_CFG_MAX_SECTIONS + 1,
	       "raise SL_CFG_MAX_SECTIONS");

/* A zeroed config with every section's defaults: the empty file. */
static void config_init(struct sl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; sl_cfg_sections[i]; i++)
		if (sl_cfg_sections[i]->init)
			sl_cfg_sections[i]->init(cfg);
}

/* Every section's keys, in order, NULL-terminated. */
static size_t root_keys(const char **keys, size_t max)
{
	size_t n = 0;

	for (int i = 0; sl_cfg_sections[i]; i++)
		for (int k = 0; sl_cfg_sections[i]->keys[k] && n + 1 < max; k++)
			keys[n++] = sl_cfg_sections[i]->keys[k];
	keys[n] = NULL;
	return n;
}

static int parse_root(struct sl_cfg_loader *L, yaml_node_t *root)
{
	void *state[SL_CFG_MAX_SECTIONS] = {};
	const char *keys[4 * SL_CFG_MAX_SECTIONS];
	const struct sl_cfg_section *s;
	yaml_node_t *v;
	int i, err = 0;

	if (!root || sl_cfg_is_null(root))
		return 0;
	root_keys(keys, sizeof(keys) / sizeof(keys[0]));
	err = sl_cfg_check_map(L, root, "config", keys);
	for (i = 0; !err && (s = sl_cfg_sections[i]); i++)
		for (int k = 0; !err && s->keys[k]; k++)
			if ((v = sl_cfg_map_get(L, root, s->keys[k])))
				err = s->parse(L, s->keys[k], v, &state[i]);
	for (i = 0; !err && (s = sl_cfg_sections[i]); i++)
		if (s->finish)
			err = s->finish(L, state[i]);
	for (i = 0; (s = sl_cfg_sections[i]); i++)
		if (state[i])
			(s->drop ? s->drop : free)(state[i]);
	return err;
}

static int yaml_syntax_err(struct sl_cfg_loader *L, yaml_parser_t *parser,
			   FILE *f)
{
	struct sl_srcpos pos = {parser->problem_mark.line + 1,
				parser->problem_mark.column + 1};

	if (parser->error == YAML_MEMORY_ERROR) {
		pr_err("%s: out of memory", L->path);
		return -ENOMEM;
	}
	if (parser->error == YAML_READER_ERROR) {
		/* Only a byte offset is known: count lines up to it. */
		pos = (struct sl_srcpos){1, 1};
		rewind(f);
		for (size_t i = 0; i < parser->problem_offset; i++) {
			int c = getc(f);

			if (c == EOF)
				break;
			if (c == '\n') {
				pos.line++;
				pos.col = 1;
			} else {
				pos.col++;
			}
		}
		return sl_cfg_err_at(L, pos, "expected UTF-8 text: %s",
				     parser->problem ? parser->problem
						     : "bad input");
	}
	return sl_cfg_err_at(L, pos, "YAML syntax error: %s%s%s",
			     parser->problem ? parser->problem : "bad input",
			     parser->context ? " " : "",
			     parser->context ? parser->context : "");
}

int sl_config_load(const char *path, struct sl_config *cfg)
{
	struct sl_cfg_loader L = {.path = path, .cfg = cfg};
	yaml_document_t doc, extra;
	yaml_parser_t parser;
	const char *slash;
	bool have_doc = false;
	FILE *f;
	int err;

	config_init(cfg);
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(L.dir, sizeof(L.dir), ".");
	else if (slash == path)
		snprintf(L.dir, sizeof(L.dir), "/");
	else
		snprintf(L.dir, sizeof(L.dir), "%.*s", (int)(slash - path),
			 path);
	f = fopen(path, "r");
	if (!f) {
		err = errno == ENOENT || errno == EISDIR ? -EINVAL : -errno;
		pr_err("%s: %s", path, strerror(errno));
		return err;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		pr_err("%s: out of memory", path);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		err = yaml_syntax_err(&L, &parser, f);
		goto out;
	}
	have_doc = true;
	L.doc = &doc;
	err = parse_root(&L, yaml_document_get_root_node(&doc));
	if (err)
		goto out;
	/* One document only. */
	if (!yaml_parser_load(&parser, &extra)) {
		err = yaml_syntax_err(&L, &parser, f);
		goto out;
	}
	if (yaml_document_get_root_node(&extra)) {
		err = sl_cfg_err(&L, yaml_document_get_root_node(&extra),
				 "expected one YAML document, found another");
	}
	yaml_document_delete(&extra);
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (err) {
		if (err == -ENOMEM)
			pr_err("%s: out of memory", path);
		sl_config_free(cfg);
		config_init(cfg);
	}
	return err;
}

void sl_config_free(struct sl_config *cfg)
{
	for (int i = 0; sl_cfg_sections[i]; i++)
		if (sl_cfg_sections[i]->free)
			sl_cfg_sections[i]->free(cfg);
}

int sl_config_write(FILE *f, const struct sl_config *cfg)
{
	int err = 0;

	for (int i = 0; !err && sl_cfg_sections[i]; i++)
		err = sl_cfg_sections[i]->write(f, cfg);
	if (!err && (fflush(f) || ferror(f)))
		err = -EIO;
	return err;
}

int sl_config_write_json(FILE *f, const struct sl_config *cfg)
{
	struct jw w;
	int err = 0;

	jw_init(&w, f);
	jw_obj_open(&w);
	for (int i = 0; !err && sl_cfg_sections[i]; i++)
		err = sl_cfg_sections[i]->write_json(&w, cfg);
	jw_obj_close(&w);
	jw_end(&w);
	if (!err && ferror(f))
		err = -EIO;
	return err;
}

bool sl_config_equal(const struct sl_config *a, const struct sl_config *b)
{
	for (int i = 0; sl_cfg_sections[i]; i++)
		if (!sl_cfg_sections[i]->equal(a, b))
			return false;
	return true;
}
