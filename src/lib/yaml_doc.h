/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* yaml_doc: a YAML document composed from the parser's events with a small
 * footprint (yaml_doc.c); read it with libyaml's yaml_document_get_node()
 * and yaml_document_get_root_node(), free it with sl_yaml_doc_free(), never
 * with yaml_document_delete(). */
#ifndef SL_YAML_DOC_H
#define SL_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

struct sl_yaml_doc {
	yaml_document_t doc;
	char *text;  /* every scalar's value, NUL-terminated, back to back */
	char **tags; /* explicit tags */
	size_t n_tags;
};

/* As yaml_parser_load: the next document of p (no root node: the stream
 * has ended); 0 on error, with p->error, p->problem and p->problem_mark set
 * as libyaml sets them. len: the input's size in bytes if known, else 0
 * (a big input's arrays are reserved at once). */
int sl_yaml_load(yaml_parser_t *p, struct sl_yaml_doc *d, size_t len);
void sl_yaml_doc_free(struct sl_yaml_doc *d);

#endif /* SL_YAML_DOC_H */
