// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* log: leveled messages to stderr; libbpf's chatter is demoted to debug. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "log.h"

static enum sl_log_level level = SL_LOG_WARN;
static char prefix[64] = "sluice";

void sl_log_set_level(enum sl_log_level lvl)
{
	level = lvl;
}

enum sl_log_level sl_log_get_level(void)
{
	return level;
}

void sl_log_set_prefix(const char *p)
{
	snprintf(prefix, sizeof(prefix), "%s", p);
}

static void vlog(enum sl_log_level lvl, const char *fmt, va_list ap)
{
	static const char *const tag[] = {"", "warning: ", "", "debug: "};

	char msg[2048];
	size_t n;

	if (lvl > level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* One line, whatever the message quotes (names, comments, file
	 * contents): control characters are printed escaped. */
	fprintf(stderr, "%s: %s", prefix, tag[lvl]);
	for (const char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			fprintf(stderr, "\\x%02x", (unsigned char)*c);
		else
			fputc(*c, stderr);
	fputc('\n', stderr);
}

void sl_err_at(const char *file, unsigned line, unsigned col, const char *fmt,
	       ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		sl_log(SL_LOG_ERR, "%s%s%u:%u: %s", file ? file : "line ",
		       file ? ":" : "", line, col, msg);
	else
		sl_log(SL_LOG_ERR, "%s", msg);
}

void sl_log(enum sl_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt,
			va_list ap)
{
	(void)lvl;
	if (level < SL_LOG_DEBUG)
		return 0;
	fprintf(stderr, "libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

void sl_log_hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

void sl_die_point(const char *name)
{
	const char *at = getenv("SLUICE_TEST_DIE_AT");

	if (at && !strcmp(at, name))
		raise(SIGKILL);
}
