// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config: the YAML config file (libyaml document API) as a registry of
 * sections: load with FILE:LINE:COL errors, canonical export, semantic
 * comparison and freeing each walk sl_cfg_sections[]. The sections live in
 * config_<section>.c (config_sec.h), the rule fields in rulefield.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/stat.h>
#include <yaml.h>

#include "config_sec.h"
#include "log.h"
#include "mem.h"

/* The sections in file order: loaded in this order and written in it.
 * Adding a section: its file, its fields in struct sl_config, one row. */
/* clang-format off */
const struct sl_cfg_section *const sl_cfg_sections[] = {
    &sl_cfg_ifaces,
    &sl_cfg_policy,
    &sl_cfg_mgmt,
    &sl_cfg_limits,
    &sl_cfg_conntrack,
    &sl_cfg_frags,
    &sl_cfg_ratelimit,
    &sl_cfg_synproxy,
    &sl_cfg_events,
    &sl_cfg_lb,
    &sl_cfg_sets,
    &sl_cfg_rules,
    NULL,
};
/* clang-format on */

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

/* The whole input (path, or standard input for "-") in memory, at most
 * the size cap: *buf (malloc'ed) and *len. */
static int read_all(const char *path, const char *name, char **buf, size_t *len)
{
	unsigned long long max;
	struct stat st;
	int fd = 0, err;

	err = sl_bytes_cap("SLUICE_CONFIG_MAX_BYTES", SL_CONFIG_MAX_DEFAULT,
			   &max);
	if (err)
		return err;
	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err = errno == ENOENT || errno == ENOTDIR ? -EINVAL
								  : -errno;
			pr_err("%s: %s", path, strerror(errno));
			return err;
		}
	}
	if (!fstat(fd, &st) && S_ISDIR(st.st_mode)) {
		pr_err("%s: %s", name, strerror(EISDIR));
		err = -EINVAL;
		goto out;
	}
	/* A regular file larger than the cap is refused before reading. */
	if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max)
		goto too_big;
	err = sl_read_all(fd, 0, max, buf, len);
	if (err == -E2BIG)
		goto too_big;
	if (err == -EIO)
		pr_err("%s: cannot read: %s", name, strerror(errno));
	else if (err)
		pr_err("%s: out of memory", name);
	goto out;
too_big:
	pr_err("%s: larger than the config size cap of %llu bytes (set "
	       "SLUICE_CONFIG_MAX_BYTES=N[k|M|G] to raise it, 0 for none)",
	       name, max);
	err = -EINVAL;
out:
	if (fd > 0)
		close(fd);
	return err;
}

/* Walks the events once, without building anything, and refuses nesting
 * deeper than SL_CONFIG_MAX_DEPTH at its first level too many: libyaml's
 * own cost grows with the square of the depth, so a crafted file stops
 * here after a few thousand bytes instead of running for minutes. */
static int depth_check(struct sl_cfg_loader *L, FILE *f)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, err = 0;
	bool end = false;

	if (!yaml_parser_initialize(&parser)) {
		pr_err("%s: out of memory", L->path);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	while (!err && !end) {
		if (!yaml_parser_parse(&parser, &ev)) {
			err = yaml_syntax_err(L, &parser, f);
			break;
		}
		if (ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT) {
			if (++depth > SL_CONFIG_MAX_DEPTH) {
				struct sl_srcpos pos = {ev.start_mark.line + 1,
							ev.start_mark.column +
							    1};

				err = sl_cfg_err_at(
				    L, pos,
				    "nested deeper than %d levels (the limit "
				    "of a config file)",
				    SL_CONFIG_MAX_DEPTH);
			}
		} else if (ev.type == YAML_SEQUENCE_END_EVENT ||
			   ev.type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	rewind(f);
	return err;
}

/* ---- merge keys ("<<: *anchor") ---- */

static bool is_merge_key(const yaml_node_t *k)
{
	return k->type == YAML_SCALAR_NODE &&
	       k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       !strcmp((const char *)k->data.scalar.value, "<<");
}

static bool has_key(struct sl_cfg_loader *L, const yaml_node_pair_t *p,
		    size_t n, const yaml_node_t *k)
{
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *o = sl_cfg_node(L, p[i].key);

		if (o->type == YAML_SCALAR_NODE &&
		    k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)o->data.scalar.value,
			    (const char *)k->data.scalar.value))
			return true;
	}
	return false;
}

static int merge_node(struct sl_cfg_loader *L, int idx, uint8_t *state,
		      int depth);

/* Appends the pairs of the mapping src (merged first) that out lacks. */
static int merge_from(struct sl_cfg_loader *L, yaml_node_t *src,
		      yaml_node_pair_t *out, size_t *n, uint8_t *state,
		      int depth)
{
	yaml_node_pair_t *q;
	int err;

	if (src->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, src,
				  "<<: expected a mapping or a list of "
				  "mappings to merge, got %s",
				  sl_cfg_type_name(src));
	err = merge_node(L, src - L->doc->nodes.start + 1, state, depth + 1);
	if (err)
		return err;
	for (q = src->data.mapping.pairs.start; q < src->data.mapping.pairs.top;
	     q++)
		if (!has_key(L, out, *n, sl_cfg_node(L, q->key)))
			out[(*n)++] = *q;
	return 0;
}

/* Replaces the "<<" keys of mapping idx by the pairs they merge: its own
 * keys win, then the merged mappings in order (YAML's merge key). */
static int merge_node(struct sl_cfg_loader *L, int idx, uint8_t *state,
		      int depth)
{
	yaml_node_t *m = sl_cfg_node(L, idx), *first = NULL;
	yaml_node_pair_t *p, *out;
	size_t n = 0, cap = 0;
	int err = 0;

	if (m->type != YAML_MAPPING_NODE || state[idx] == 2)
		return 0;
	if (state[idx] == 1 || depth > SL_CONFIG_MAX_DEPTH)
		return sl_cfg_err(L, m, "<<: merges nested too deep");
	state[idx] = 1;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = sl_cfg_node(L, p->key);

		if (!is_merge_key(k))
			continue;
		/* a key twice is an error, "<<" too (one takes a list) */
		if (first)
			return sl_cfg_err(
			    L, k,
			    "<<: duplicate key '<<' (first at line %lu; merge "
			    "several mappings with <<: [*a, *b])",
			    (unsigned long)first->start_mark.line + 1);
		first = k;
	}
	if (!first) {
		state[idx] = 2;
		return 0;
	}
	/* Merged mappings may merge too: their pairs count once merged, so
	 * size the array after merging them. */
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *v = sl_cfg_node(L, p->value);

		if (!is_merge_key(sl_cfg_node(L, p->key)))
			continue;
		if (v->type == YAML_MAPPING_NODE)
			err = merge_node(L, p->value, state, depth + 1);
		for (yaml_node_item_t *it = v->type == YAML_SEQUENCE_NODE
						? v->data.sequence.items.start
						: NULL;
		     !err && it && it < v->data.sequence.items.top; it++)
			err = merge_node(L, *it, state, depth + 1);
		if (err)
			return err;
	}
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *v = sl_cfg_node(L, p->value);

		cap++;
		if (v->type == YAML_MAPPING_NODE)
			cap += v->data.mapping.pairs.top -
			       v->data.mapping.pairs.start;
		for (yaml_node_item_t *it = v->type == YAML_SEQUENCE_NODE
						? v->data.sequence.items.start
						: NULL;
		     it && it < v->data.sequence.items.top; it++) {
			yaml_node_t *s = sl_cfg_node(L, *it);

			if (s->type == YAML_MAPPING_NODE)
				cap += s->data.mapping.pairs.top -
				       s->data.mapping.pairs.start;
		}
	}
	out = malloc((cap + 1) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++)
		if (!is_merge_key(sl_cfg_node(L, p->key)))
			out[n++] = *p;
	for (p = m->data.mapping.pairs.start;
	     !err && p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *v = sl_cfg_node(L, p->value);

		if (!is_merge_key(sl_cfg_node(L, p->key)))
			continue;
		if (v->type != YAML_SEQUENCE_NODE) {
			err = merge_from(L, v, out, &n, state, depth);
			continue;
		}
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     !err && it < v->data.sequence.items.top; it++)
			err = merge_from(L, sl_cfg_node(L, *it), out, &n, state,
					 depth);
	}
	if (err) {
		free(out);
		return err;
	}
	/* libyaml frees the pair stack with free() (yaml_free). */
	free(m->data.mapping.pairs.start);
	m->data.mapping.pairs.start = out;
	m->data.mapping.pairs.top = out + n;
	m->data.mapping.pairs.end = out + cap + 1;
	state[idx] = 2;
	return 0;
}

static int expand_merges(struct sl_cfg_loader *L)
{
	size_t nn = L->doc->nodes.top - L->doc->nodes.start;
	uint8_t *state = calloc(nn + 1, 1);
	int err = 0;

	if (!state)
		return -ENOMEM;
	for (size_t i = 1; !err && i <= nn; i++)
		err = merge_node(L, i, state, 0);
	free(state);
	return err;
}

int sl_config_load(const char *path, struct sl_config *cfg)
{
	bool std_in = !strcmp(path, "-");
	struct sl_cfg_loader L = {.path = std_in ? "stdin" : path, .cfg = cfg};
	yaml_document_t doc, extra;
	yaml_parser_t parser;
	const char *slash;
	bool have_doc = false;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	config_init(cfg);
	slash = std_in ? NULL : strrchr(path, '/');
	if (!slash)
		snprintf(L.dir, sizeof(L.dir), ".");
	else if (slash == path)
		snprintf(L.dir, sizeof(L.dir), "/");
	else
		snprintf(L.dir, sizeof(L.dir), "%.*s", (int)(slash - path),
			 path);
	err = read_all(path, L.path, &text, &len);
	if (err)
		return err;
	/* A FILE over the text (the reader errors count lines in it). */
	f = len ? fmemopen(text, len, "r") : fopen("/dev/null", "r");
	if (!f) {
		free(text);
		pr_err("%s: out of memory", L.path);
		return -ENOMEM;
	}
	err = depth_check(&L, f);
	if (err) {
		fclose(f);
		free(text);
		config_init(cfg);
		return err;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		free(text);
		pr_err("%s: out of memory", L.path);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		err = yaml_syntax_err(&L, &parser, f);
		goto out;
	}
	have_doc = true;
	L.doc = &doc;
	cfg->file = L.path;
	err = expand_merges(&L);
	if (!err)
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
	free(text);
	if (err) {
		if (err == -ENOMEM)
			pr_err("%s: out of memory", L.path);
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

/* A drop rule of direction d (0 in, 1 out) that names addresses holding
 * some of management prefix m: the source going in, the destination going
 * out. */
static bool rule_hits_mgmt(const struct sl_rule *r, int d,
			   const struct sl_prefix *m)
{
	const struct sl_prefix *a = d == SL_RDIR_IN ? &r->src : &r->dst;
	bool has = d == SL_RDIR_IN ? r->has_src : r->has_dst;

	return (r->action == SL_RACT_DROP || r->action == SL_RACT_REDIRECT) &&
	       (r->dirs & (1U << d)) && has && sl_prefix_overlap(a, m);
}

/* Management prefix m is let through in direction d by cfg: an allow
 * entry holding it (source going in, destination going out), or a pass
 * rule of that direction whose address there is absent or holds it. */
static bool mgmt_let_through(const struct sl_config *cfg, int d,
			     const struct sl_prefix *m)
{
	int sd = d == SL_RDIR_IN ? SL_DIR_SRC : SL_DIR_DST;

	for (size_t i = 0; i < cfg->n_sets; i++)
		if (cfg->sets[i].kind == SL_SET_ALLOW &&
		    cfg->sets[i].dir == sd &&
		    sl_prefix_within(m, &cfg->sets[i].prefix))
			return true;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct sl_rule *r = &cfg->rules[i];
		bool has = d == SL_RDIR_IN ? r->has_src : r->has_dst;
		const struct sl_prefix *a = d == SL_RDIR_IN ? &r->src : &r->dst;

		/* (of the prefix's family, and for new connections) */
		if (r->l3 &&
		    r->l3 != (m->family == AF_INET ? SL_L3_IPV4 : SL_L3_IPV6))
			continue;
		if (r->ct_state && !(r->ct_state & (1U << SL_CT_NEW)))
			continue;
		if (r->fragment && !(r->fragment & (1U << SL_FRAG_NONE)))
			continue;
		if (r->action == SL_RACT_PASS && (r->dirs & (1U << d)) &&
		    (!has || sl_prefix_within(m, a)))
			return true;
	}
	return false;
}

/* The policy of cfg drops direction d and management prefix m is not let
 * through. */
static bool policy_locks(const struct sl_config *cfg, int d,
			 const struct sl_prefix *m)
{
	return cfg->policy[d] == SL_ACT_DROP && !mgmt_let_through(cfg, d, m);
}

/* running (NULL: nothing) holds a rule with r's match and action. */
static bool rule_running(const struct sl_rule *r,
			 const struct sl_config *running)
{
	for (size_t j = 0; running && j < running->n_rules; j++)
		if (sl_rule_same_match(r, &running->rules[j]))
			return true;
	return false;
}

bool sl_config_lockout(const struct sl_config *cfg,
		       const struct sl_config *running, char *what, size_t len,
		       struct sl_srcpos *pos)
{
	char p[64], mp[64];

	for (size_t i = 0; i < cfg->n_sets; i++) {
		const struct sl_set_entry *e = &cfg->sets[i];
		bool known = false;

		if (e->kind != SL_SET_DENY || e->prefix.plen)
			continue;
		for (size_t j = 0; running && j < running->n_sets; j++)
			known |=
			    running->sets[j].kind == SL_SET_DENY &&
			    !running->sets[j].prefix.plen &&
			    running->sets[j].dir == e->dir &&
			    running->sets[j].prefix.family == e->prefix.family;
		if (known)
			continue;
		sl_prefix_format(&e->prefix, p, sizeof(p));
		snprintf(what, len, "deny %s%s drops every packet", p,
			 e->dir == SL_DIR_DST ? " (dst)" : "");
		*pos = cfg->deny_all_pos;
		return true;
	}
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct sl_rule *r = &cfg->rules[i];

		if (!sl_rule_drops_all(r) || rule_running(r, running))
			continue;
		snprintf(what, len, "rule %u (%s) drops every packet", r->id,
			 r->has_src || r->has_dst
			     ? "drop whose only match is 0.0.0.0/0 or ::/0"
			     : "drop without match fields");
		*pos = r->pos;
		return true;
	}
	/* The management path. */
	if (cfg->deny_mgmt_overflow) {
		snprintf(what, len,
			 "more than %d deny entries overlapping management "
			 "prefixes may drop the management path",
			 SL_GUARD_HITS);
		*pos = cfg->deny_mgmt[SL_GUARD_HITS - 1].pos;
		return true;
	}
	for (size_t i = 0; i < cfg->n_deny_mgmt; i++) {
		const struct sl_guard_hit *g = &cfg->deny_mgmt[i];
		bool known = false;

		for (size_t j = 0; running && j < running->n_sets && !known;
		     j++)
			known = running->sets[j].kind == SL_SET_DENY &&
				running->sets[j].dir == g->e.dir &&
				!memcmp(&running->sets[j].prefix, &g->e.prefix,
					sizeof(g->e.prefix));
		if (known)
			continue;
		for (size_t m = 0; m < cfg->n_mgmt; m++)
			if (sl_prefix_overlap(&g->e.prefix, &cfg->mgmt[m])) {
				sl_prefix_format(&g->e.prefix, p, sizeof(p));
				sl_prefix_format(&cfg->mgmt[m], mp, sizeof(mp));
				snprintf(what, len,
					 "deny %s%s drops the management "
					 "path (%s)",
					 p,
					 g->e.dir == SL_DIR_DST ? " (dst)" : "",
					 mp);
				*pos = g->pos;
				return true;
			}
	}
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct sl_rule *r = &cfg->rules[i];
		bool known = rule_running(r, running);

		for (size_t m = 0; !known && m < cfg->n_mgmt; m++)
			for (int d = 0; d < SL_RDIR_MAX; d++)
				if (rule_hits_mgmt(r, d, &cfg->mgmt[m])) {
					sl_prefix_format(&cfg->mgmt[m], mp,
							 sizeof(mp));
					snprintf(what, len,
						 "rule %u drops the management "
						 "path (%s)",
						 r->id, mp);
					*pos = r->pos;
					return true;
				}
	}
	for (int d = 0; d < SL_RDIR_MAX; d++)
		for (size_t m = 0; m < cfg->n_mgmt; m++) {
			if (!policy_locks(cfg, d, &cfg->mgmt[m]) ||
			    (running &&
			     policy_locks(running, d, &cfg->mgmt[m])))
				continue;
			sl_prefix_format(&cfg->mgmt[m], mp, sizeof(mp));
			snprintf(what, len,
				 "policy %s: drop drops the management path "
				 "(%s: no allow entry or pass rule lets it %s)",
				 d == SL_RDIR_IN ? "in" : "out", mp,
				 d == SL_RDIR_IN ? "in" : "out");
			*pos = cfg->policy_pos;
			return true;
		}
	return false;
}

bool sl_config_equal(const struct sl_config *a, const struct sl_config *b)
{
	for (int i = 0; sl_cfg_sections[i]; i++)
		if (!sl_cfg_sections[i]->equal(a, b))
			return false;
	return true;
}
