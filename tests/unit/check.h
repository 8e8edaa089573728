/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* check: the assertion macros and the one-line-per-case report of the unit
 * tests. Each ASSERT_* evaluates to true when the check holds; on the first
 * failure of a case it records why, so the case can `return false` and the
 * runner prints "not ok - NAME: WHY". Output protocol: tests/run.sh. */
#ifndef SL_TEST_CHECK_H
#define SL_TEST_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static char check_why[512];
static int check_failed;

__attribute__((format(printf, 1, 2))) static void check_fail(const char *fmt,
							     ...)
{
	va_list ap;

	if (check_why[0])
		return; /* keep the first failure of the case */
	va_start(ap, fmt);
	vsnprintf(check_why, sizeof(check_why), fmt, ap);
	va_end(ap);
	/* One line per case: quoted output must not break it. */
	for (char *c = check_why; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
}

#define ASSERT_TRUE(cond, ...)                   \
	({                                       \
		bool __ok = (cond);              \
		if (!__ok)                       \
			check_fail(__VA_ARGS__); \
		__ok;                            \
	})

#define ASSERT_EQ(got, want, what)                                         \
	({                                                                 \
		long long __g = (long long)(got), __w = (long long)(want); \
		bool __ok = __g == __w;                                    \
		if (!__ok)                                                 \
			check_fail("%s: got %lld, want %lld", (what), __g, \
				   __w);                                   \
		__ok;                                                      \
	})

#define ASSERT_STR_HAS(s, sub, what)                                         \
	({                                                                   \
		const char *__s = (s), *__sub = (sub);                       \
		bool __ok = __s && strstr(__s, __sub);                       \
		if (!__ok)                                                   \
			check_fail("%s: '%s' does not contain '%s'", (what), \
				   __s ? __s : "(null)", __sub);             \
		__ok;                                                        \
	})

/* Prints the result line of one case and resets the failure reason. */
static void check_report(const char *name, bool ok)
{
	if (ok && !check_why[0]) {
		printf("ok - %s\n", name);
	} else {
		printf("not ok - %s: %s\n", name,
		       check_why[0] ? check_why : "failed");
		check_failed++;
	}
	check_why[0] = '\0';
	fflush(stdout);
}

#endif /* SL_TEST_CHECK_H */
