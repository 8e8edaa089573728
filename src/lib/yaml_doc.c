// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* yaml_doc: composes the next YAML document of a parser from its events
 * into a yaml_document_t, like libyaml's yaml_parser_load, but with one
 * allocation for all the scalars' text instead of two per node (value and
 * tag) and no copy of the default tags. A config file of a million set
 * entries is a million nodes: libyaml's loader took three times the memory
 * and, with the page faults and the frees, about five times the time of
 * the events themselves. The nodes, marks, styles, anchors and aliases are
 * the same as libyaml's; so are its composer errors. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "yaml_doc.h"

struct compose {
	yaml_parser_t *p;
	struct sl_yaml_doc *d;
	size_t text_len, text_cap; /* d->text: the scalars' values */
	size_t tags_cap;
	int *stack; /* open collections (node indexes) */
	size_t depth, stack_cap;
	int pending_key; /* mapping at the top: its key waiting (0: none) */
	int *keys;	 /* pending key per stack level */
	struct anchor {
		char *name;
		int index;
		yaml_mark_t mark;
	} * anchors;
	size_t n_anchors, cap_anchors;
};

static bool grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t nc = *cap ? *cap : 16;
	void *nv;

	if (need <= *cap)
		return true;
	while (nc < need)
		nc *= 2;
	/* Big arrays on huge pages: a million nodes are 96 MB, and a page
	 * fault per 4 KiB of them costs more than composing them. */
	nv = sl_realloc_big(*v, nc * size);
	if (!nv)
		return false;
	*v = nv;
	*cap = nc;
	return true;
}

static bool memerr(struct compose *c)
{
	c->p->error = YAML_MEMORY_ERROR;
	return false;
}

/* Text into the arena; returns its offset + 1 (0: none). */
static size_t text_add(struct compose *c, const unsigned char *s, size_t len)
{
	size_t at = c->text_len;

	if (!grow((void **)&c->d->text, &c->text_cap, at + len + 1, 1))
		return 0;
	memcpy(c->d->text + at, s, len);
	c->d->text[at + len] = '\0';
	c->text_len += len + 1;
	return at + 1;
}

static bool anchor_add(struct compose *c, yaml_event_t *e, char *name,
		       int index)
{
	for (size_t i = 0; i < c->n_anchors; i++)
		if (!strcmp(c->anchors[i].name, name)) {
			c->p->error = YAML_COMPOSER_ERROR;
			c->p->context =
			    "found duplicate anchor; first occurrence";
			c->p->context_mark = c->anchors[i].mark;
			c->p->problem = "second occurrence";
			c->p->problem_mark = e->start_mark;
			return false;
		}
	if (!grow((void **)&c->anchors, &c->cap_anchors, c->n_anchors + 1,
		  sizeof(*c->anchors)))
		return memerr(c);
	c->anchors[c->n_anchors++] =
	    (struct anchor){name, index, e->start_mark};
	return true;
}

/* Node `index` joins the collection at the top of the stack (or is the
 * root). */
static bool attach(struct compose *c, int index)
{
	yaml_node_t *parent;

	if (!c->depth)
		return true;
	parent = &c->d->doc.nodes.start[c->stack[c->depth - 1] - 1];
	if (parent->type == YAML_SEQUENCE_NODE) {
		size_t n = parent->data.sequence.items.top -
			   parent->data.sequence.items.start,
		       cap = parent->data.sequence.items.end -
			     parent->data.sequence.items.start;
		yaml_node_item_t *v = parent->data.sequence.items.start;

		if (!grow((void **)&v, &cap, n + 1, sizeof(*v)))
			return memerr(c);
		v[n] = index;
		parent->data.sequence.items.start = v;
		parent->data.sequence.items.top = v + n + 1;
		parent->data.sequence.items.end = v + cap;
		return true;
	}
	if (!c->keys[c->depth - 1]) {
		c->keys[c->depth - 1] = index;
		return true;
	}
	{
		size_t n = parent->data.mapping.pairs.top -
			   parent->data.mapping.pairs.start,
		       cap = parent->data.mapping.pairs.end -
			     parent->data.mapping.pairs.start;
		yaml_node_pair_t *v = parent->data.mapping.pairs.start;

		if (!grow((void **)&v, &cap, n + 1, sizeof(*v)))
			return memerr(c);
		v[n].key = c->keys[c->depth - 1];
		v[n].value = index;
		c->keys[c->depth - 1] = 0;
		parent->data.mapping.pairs.start = v;
		parent->data.mapping.pairs.top = v + n + 1;
		parent->data.mapping.pairs.end = v + cap;
	}
	return true;
}

/* A new node from event e; its index, 0 on error. */
static int node_add(struct compose *c, yaml_event_t *e, yaml_node_type_t type)
{
	yaml_document_t *doc = &c->d->doc;
	size_t n = doc->nodes.top - doc->nodes.start,
	       cap = doc->nodes.end - doc->nodes.start;
	yaml_node_t *v = doc->nodes.start, *nd;
	yaml_char_t *tag = NULL, *anchor = NULL;

	if (!grow((void **)&v, &cap, n + 1, sizeof(*v)))
		return memerr(c), 0;
	doc->nodes.start = v;
	doc->nodes.top = v + n + 1;
	doc->nodes.end = v + cap;
	nd = &v[n];
	memset(nd, 0, sizeof(*nd));
	nd->type = type;
	nd->start_mark = e->start_mark;
	nd->end_mark = e->end_mark;
	switch (type) {
	case YAML_SCALAR_NODE:
		tag = e->data.scalar.tag;
		anchor = e->data.scalar.anchor;
		nd->tag = (yaml_char_t *)YAML_DEFAULT_SCALAR_TAG;
		nd->data.scalar.length = e->data.scalar.length;
		nd->data.scalar.style = e->data.scalar.style;
		/* The offset for now: the arena may move. */
		nd->data.scalar.value = (yaml_char_t *)text_add(
		    c, e->data.scalar.value, e->data.scalar.length);
		if (!nd->data.scalar.value)
			return memerr(c), 0;
		break;
	case YAML_SEQUENCE_NODE:
		tag = e->data.sequence_start.tag;
		anchor = e->data.sequence_start.anchor;
		nd->tag = (yaml_char_t *)YAML_DEFAULT_SEQUENCE_TAG;
		nd->data.sequence.style = e->data.sequence_start.style;
		break;
	default:
		tag = e->data.mapping_start.tag;
		anchor = e->data.mapping_start.anchor;
		nd->tag = (yaml_char_t *)YAML_DEFAULT_MAPPING_TAG;
		nd->data.mapping.style = e->data.mapping_start.style;
		break;
	}
	if (tag && strcmp((char *)tag, "!")) {
		/* An explicit tag (rare): its own copy. */
		if (!grow((void **)&c->d->tags, &c->tags_cap, c->d->n_tags + 1,
			  sizeof(*c->d->tags)) ||
		    !(nd->tag = (yaml_char_t *)strdup((char *)tag)))
			return memerr(c), 0;
		c->d->tags[c->d->n_tags++] = (char *)nd->tag;
	}
	if (anchor) {
		/* The event's anchor string becomes the anchor's name. */
		if (type == YAML_SCALAR_NODE)
			e->data.scalar.anchor = NULL;
		else if (type == YAML_SEQUENCE_NODE)
			e->data.sequence_start.anchor = NULL;
		else
			e->data.mapping_start.anchor = NULL;
		if (!anchor_add(c, e, (char *)anchor, (int)(n + 1))) {
			free(anchor);
			return 0;
		}
	}
	if (!attach(c, (int)(n + 1)))
		return 0;
	return (int)(n + 1);
}

static bool push(struct compose *c, int index)
{
	if (!grow((void **)&c->stack, &c->stack_cap, c->depth + 1,
		  sizeof(*c->stack)))
		return memerr(c);
	/* keys grows with the stack (same capacity) */
	{
		int *k = realloc(c->keys, c->stack_cap * sizeof(*k));

		if (!k)
			return memerr(c);
		c->keys = k;
	}
	c->keys[c->depth] = 0;
	c->stack[c->depth++] = index;
	return true;
}

/* Pointers for the offsets of the scalars' values. */
static void fix_up(struct sl_yaml_doc *d)
{
	for (yaml_node_t *n = d->doc.nodes.start; n < d->doc.nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE)
			n->data.scalar.value =
			    (yaml_char_t *)d->text +
			    ((uintptr_t)n->data.scalar.value - 1);
}

static void compose_end(struct compose *c)
{
	for (size_t i = 0; i < c->n_anchors; i++)
		free(c->anchors[i].name);
	free(c->anchors);
	free(c->stack);
	free(c->keys);
}

/* Reserves the nodes and the text the input can hold at most (a node
 * takes at least 4 bytes of a block sequence's text, a scalar's value at
 * most its bytes): untouched memory costs nothing, and growing a 96 MB
 * node array by doubling copied it and faulted its pages twice over. */
static bool presize(struct compose *c, size_t len)
{
	size_t cap = 0;

	if (len < (1U << 20))
		return true; /* small: grow as needed */
	if (!grow((void **)&c->d->doc.nodes.start, &cap, len / 4,
		  sizeof(yaml_node_t)))
		return false;
	c->d->doc.nodes.top = c->d->doc.nodes.start;
	c->d->doc.nodes.end = c->d->doc.nodes.start + cap;
	c->text_cap = 0;
	return grow((void **)&c->d->text, &c->text_cap, len + 1, 1);
}

int sl_yaml_load(yaml_parser_t *p, struct sl_yaml_doc *d, size_t len)
{
	struct compose c = {.p = p, .d = d};
	yaml_event_t e;
	bool ok = true, done = false;

	memset(d, 0, sizeof(*d));
	if (p->stream_end_produced)
		return 1; /* no more documents: an empty one */
	if (!p->stream_start_produced) {
		if (!yaml_parser_parse(p, &e))
			return 0;
		yaml_event_delete(&e); /* the stream start */
	}
	if (!yaml_parser_parse(p, &e))
		return 0;
	if (e.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&e);
		return 1;
	}
	d->doc.start_mark = e.start_mark;
	d->doc.start_implicit = e.data.document_start.implicit;
	yaml_event_delete(&e);
	if (!presize(&c, len)) {
		memerr(&c);
		sl_yaml_doc_free(d);
		return 0;
	}
	while (ok && !done) {
		int idx;

		if (!yaml_parser_parse(p, &e)) {
			ok = false;
			break;
		}
		switch (e.type) {
		case YAML_DOCUMENT_END_EVENT:
			d->doc.end_mark = e.end_mark;
			d->doc.end_implicit = e.data.document_end.implicit;
			done = true;
			break;
		case YAML_ALIAS_EVENT:
			idx = 0;
			for (size_t i = 0; i < c.n_anchors; i++)
				if (!strcmp(c.anchors[i].name,
					    (char *)e.data.alias.anchor))
					idx = c.anchors[i].index;
			if (!idx) {
				p->error = YAML_COMPOSER_ERROR;
				p->context = NULL;
				p->problem = "found undefined alias";
				p->problem_mark = e.start_mark;
				ok = false;
			} else {
				ok = attach(&c, idx);
			}
			break;
		case YAML_SCALAR_EVENT:
			ok = node_add(&c, &e, YAML_SCALAR_NODE) != 0;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			idx = node_add(&c, &e,
				       e.type == YAML_SEQUENCE_START_EVENT
					   ? YAML_SEQUENCE_NODE
					   : YAML_MAPPING_NODE);
			ok = idx && push(&c, idx);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (c.depth) {
				c.depth--;
				d->doc.nodes.start[c.stack[c.depth] - 1]
				    .end_mark = e.end_mark;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&e);
	}
	compose_end(&c);
	if (!ok) {
		sl_yaml_doc_free(d);
		return 0;
	}
	fix_up(d);
	return 1;
}

void sl_yaml_doc_free(struct sl_yaml_doc *d)
{
	for (yaml_node_t *n = d->doc.nodes.start; n && n < d->doc.nodes.top;
	     n++) {
		if (n->type == YAML_SEQUENCE_NODE)
			free(n->data.sequence.items.start);
		else if (n->type == YAML_MAPPING_NODE)
			free(n->data.mapping.pairs.start);
	}
	free(d->doc.nodes.start);
	free(d->text);
	for (size_t i = 0; i < d->n_tags; i++)
		free(d->tags[i]);
	free(d->tags);
	memset(d, 0, sizeof(*d));
}
