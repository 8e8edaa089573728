// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* json: compact JSON, strings escaped per RFC 8259. */
#include <inttypes.h>

#include "json.h"

void jw_init(struct jw *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->first[0] = true;
	w->key = false;
}

/* Separator before a value or a key. */
static void sep(struct jw *w)
{
	if (w->key) {
		w->key = false;
		return;
	}
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
}

static void open(struct jw *w, char c)
{
	sep(w);
	fputc(c, w->f);
	if (w->depth < 31)
		w->depth++;
	w->first[w->depth] = true;
}

static void close_(struct jw *w, char c)
{
	fputc(c, w->f);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj_open(struct jw *w)
{
	open(w, '{');
}

void jw_obj_close(struct jw *w)
{
	close_(w, '}');
}

void jw_arr_open(struct jw *w)
{
	open(w, '[');
}

void jw_arr_close(struct jw *w)
{
	close_(w, ']');
}

static void str(struct jw *w, const char *s)
{
	fputc('"', w->f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(w->f, "\\%c", c);
		else if (c < 0x20)
			fprintf(w->f, "\\u%04x", c);
		else
			fputc(c, w->f);
	}
	fputc('"', w->f);
}

void jw_key(struct jw *w, const char *k)
{
	sep(w);
	str(w, k);
	fputc(':', w->f);
	w->key = true;
}

void jw_str(struct jw *w, const char *s)
{
	sep(w);
	str(w, s);
}

void jw_u64(struct jw *w, uint64_t v)
{
	sep(w);
	fprintf(w->f, "%" PRIu64, v);
}

void jw_f1(struct jw *w, double v)
{
	sep(w);
	fprintf(w->f, "%.1f", v);
}

void jw_bool(struct jw *w, bool v)
{
	sep(w);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w)
{
	sep(w);
	fputs("null", w->f);
}

void jw_end(struct jw *w)
{
	fputc('\n', w->f);
	fflush(w->f);
}
