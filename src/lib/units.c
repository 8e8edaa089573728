// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* units: durations (units.h). */
#include <stdio.h>
#include <string.h>

#include "units.h"

static const struct {
	char unit;
	unsigned long long mul;
} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

#define N_UNITS (sizeof(units) / sizeof(units[0]))

long long sl_duration_parse(const char *s, bool permanent)
{
	unsigned long long v = 0, mul = 1;
	const char *p = s;

	if (permanent && !strcmp(s, "permanent"))
		return 0;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > SL_DURATION_MAX_SECS)
			return -1;
	}
	if (*p) {
		size_t i;

		for (i = 0; i < N_UNITS; i++)
			if (*p == units[i].unit)
				break;
		if (i == N_UNITS || p[1])
			return -1;
		mul = units[i].mul;
	}
	if (!v || v * mul > SL_DURATION_MAX_SECS)
		return -1;
	return (long long)(v * mul);
}

void sl_duration_format(uint64_t secs, char *buf, size_t len)
{
	for (size_t i = 0; i < N_UNITS; i++)
		if (secs % units[i].mul == 0) {
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(secs / units[i].mul),
				 units[i].unit);
			return;
		}
}
