/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* log: the one logging module. libbpf's output is routed here and shown only
 * at -v (debug) level. */
#ifndef SL_LOG_H
#define SL_LOG_H

enum sl_log_level {
	SL_LOG_ERR = 0,
	SL_LOG_WARN,
	SL_LOG_INFO,
	SL_LOG_DEBUG,
};

void sl_log_set_level(enum sl_log_level lvl);
enum sl_log_level sl_log_get_level(void);
/* Prefix printed before every error line, e.g. "sluice: block". */
void sl_log_set_prefix(const char *prefix);
void sl_log(enum sl_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An error about a place in a file: "FILE:LINE:COL: " before the message
 * (docs/config.md, Errors); "line LINE:COL: " without a file, nothing
 * without a line (line 0). */
void sl_err_at(const char *file, unsigned line, unsigned col, const char *fmt,
	       ...) __attribute__((format(printf, 4, 5)));
/* Routes libbpf's messages through sl_log. */
void sl_log_hook_libbpf(void);

/* Fault injection for the kill tests: the process kills itself with
 * SIGKILL (no handler runs) at the point named `name` when the
 * environment variable SLUICE_TEST_DIE_AT equals it. Points: apply-filled
 * (an apply's new slots are written, nothing switched). */
void sl_die_point(const char *name);

#define pr_err(...)  sl_log(SL_LOG_ERR, __VA_ARGS__)
#define pr_warn(...) sl_log(SL_LOG_WARN, __VA_ARGS__)
#define pr_info(...) sl_log(SL_LOG_INFO, __VA_ARGS__)
/* Shown at the default level, untagged: what a verb did beyond its job. */
#define pr_notice(...) sl_log(SL_LOG_ERR, __VA_ARGS__)
#define pr_debug(...)  sl_log(SL_LOG_DEBUG, __VA_ARGS__)

#endif
