/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* json: a minimal streaming JSON writer (the one writer behind every -j). */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jw {
	FILE *f;
	int depth;
	bool first[32]; /* per depth: no member written yet */
	bool key;	/* a key was just written */
};

void jw_init(struct jw *w, FILE *f);
void jw_obj_open(struct jw *w);
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w);
void jw_arr_close(struct jw *w);
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s);
void jw_u64(struct jw *w, uint64_t v);
/* A number with one decimal (%.1f). */
void jw_f1(struct jw *w, double v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Ends the document with a newline. */
void jw_end(struct jw *w);

#endif
