/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* units: durations as the CLI and config files write them ("30s", "10m",
 * "2h", "1d"), the one parser `ban add --for` and a ratelimit rule's `ban`
 * share. */
#ifndef SL_UNITS_H
#define SL_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_NS_PER_S	     1000000000ULL
#define SL_DURATION_MAX_SECS (3650ULL * 86400) /* ten years */

/* "30s", "10m", "2h", "1d" or "90" (seconds), 1 s .. SL_DURATION_MAX_SECS,
 * or "permanent" (0) when `permanent`: seconds; -1 on anything else. */
long long sl_duration_parse(const char *s, bool permanent);
/* secs (> 0) in the largest of d, h, m, s that divides it: "10m". */
void sl_duration_format(uint64_t secs, char *buf, size_t len);

#endif
