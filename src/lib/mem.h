/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* mem: big arrays (set entries, sort records, map keys) on transparent huge
 * pages. Where a 4 KiB page fault is dear (virtual machines: 10-30 us each
 * here, so 1M set entries spent most of an apply faulting in fresh memory),
 * one 2 MiB fault replaces 512. Memory from these calls is freed with
 * free(); small sizes are plain malloc. */
#ifndef SL_MEM_H
#define SL_MEM_H

#include <stddef.h>

/* Asks for huge pages under [p, p + len) (its 2 MiB-aligned interior), for
 * len >= 4 MiB; a no-op otherwise or where THP is off. */
void sl_mem_huge(void *p, size_t len);
void *sl_malloc_big(size_t len);
void *sl_calloc_big(size_t n, size_t size);
void *sl_realloc_big(void *p, size_t len);
/* Reads fd to its end into a new buffer *out (NUL-terminated; *len bytes
 * without the NUL), with room for hint bytes first: 0, -E2BIG when it
 * holds more than max bytes, -EIO on a read error (errno says which),
 * -ENOMEM. Says nothing: the caller names the file. */
int sl_read_all(int fd, size_t hint, unsigned long long max, char **out,
		size_t *len);

#endif /* SL_MEM_H */
