// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mem: big arrays on transparent huge pages (see mem.h). */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "mem.h"

#define HUGE (2UL << 20)

void sl_mem_huge(void *p, size_t len)
{
	uintptr_t a = ((uintptr_t)p + HUGE - 1) & ~(HUGE - 1);
	uintptr_t e = ((uintptr_t)p + len) & ~(HUGE - 1);

	/* Advice only: a kernel without THP says EINVAL, which is fine. */
	if (p && len >= 2 * HUGE && e > a)
		madvise((void *)a, e - a, MADV_HUGEPAGE);
}

void *sl_malloc_big(size_t len)
{
	void *p = malloc(len ? len : 1);

	sl_mem_huge(p, len);
	return p;
}

void *sl_calloc_big(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	/* calloc of a fresh mapping does not touch it: advise first use. */
	sl_mem_huge(p, n * size);
	return p;
}

void *sl_realloc_big(void *p, size_t len)
{
	size_t old = p ? malloc_usable_size(p) : 0;
	void *q;

	/* realloc would copy into 4 KiB pages before the advice could come
	 * (an advised block is several mappings, so it is not remapped):
	 * copy into an advised block instead. */
	if (len < 2 * HUGE || len <= old)
		return realloc(p, len ? len : 1);
	q = sl_malloc_big(len);
	if (!q)
		return NULL;
	if (p)
		memcpy(q, p, old);
	free(p);
	return q;
}

int sl_read_all(int fd, size_t hint, unsigned long long max, char **out,
		size_t *len)
{
	size_t cap = hint ? hint : 64 << 10, n = 0;
	char *b = sl_malloc_big(cap + 1);

	for (;;) {
		ssize_t got;

		if (b && n == cap) {
			char *nb = sl_realloc_big(b, cap * 2 + 1);

			if (!nb) {
				free(b);
				b = NULL;
			} else {
				b = nb;
				cap *= 2;
			}
		}
		if (!b)
			return -ENOMEM;
		got = read(fd, b + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || (n += got) > max) {
			int err = got < 0 ? -EIO : -E2BIG, e = errno;

			free(b);
			errno = e;
			return err;
		}
		if (!got)
			break;
	}
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}
