// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* maglev: the lookup table of Maglev consistent hashing (Eisenbud et al.,
 * "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI
 * 2016, section 3.4), the first part of the load balancer (issue 11).
 *
 * Each backend has a permutation of the M table slots (M prime), from an
 * offset and a skip derived from two hashes of its identity (family,
 * address, port); the backends take turns claiming their next free slot
 * until the table is full. Weights: in each round a backend takes as many
 * turns as its weight, so its share is its weight over the sum (within a
 * slot per round). Backends of weight 0 (drained) take none.
 *
 * Deterministic across nodes: the hashes are fixed functions of the
 * identity (no per-process seed) and the turns go in the canonical order
 * of the identities, not the caller's, so two nodes with the same backends
 * build the same table and a flow ECMP moves between them keeps its
 * backend. Changing the set moves few slots: removing a backend frees its
 * own slots, which the others take, and disturbs a few more (the paper's
 * measurements: a few percent at M >> N). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sluice.h"

bool sl_is_prime(uint32_t m)
{
	if (m < 2)
		return false;
	for (uint32_t d = 2; (uint64_t)d * d <= m; d++)
		if (m % d == 0)
			return false;
	return true;
}

/* FNV-1a over the identity, then a 64-bit finalizer (splitmix64's) mixing
 * in the seed: two independent-enough hashes for offset and skip. */
static uint64_t be_hash(const struct sl_maglev_backend *b, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	uint8_t id[19];

	id[0] = b->family;
	memcpy(id + 1, b->addr, 16);
	id[17] = (uint8_t)(b->port >> 8);
	id[18] = (uint8_t)b->port;
	for (size_t i = 0; i < sizeof(id); i++) {
		h ^= id[i];
		h *= 0x100000001b3ULL;
	}
	h += seed;
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static int be_cmp(const struct sl_maglev_backend *a,
		  const struct sl_maglev_backend *b)
{
	int c = (int)a->family - (int)b->family;

	if (!c)
		c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (!c)
		c = (int)a->port - (int)b->port;
	return c;
}

/* For qsort of indexes into the backends. */
static const struct sl_maglev_backend *sort_base;
static int idx_cmp(const void *x, const void *y)
{
	return be_cmp(&sort_base[*(const uint32_t *)x],
		      &sort_base[*(const uint32_t *)y]);
}

int sl_maglev_build(const struct sl_maglev_backend *b, size_t n, uint32_t m,
		    uint32_t *table)
{
	uint32_t *order = NULL, *offset = NULL, *skip = NULL, *next = NULL;
	uint64_t filled = 0, weights = 0;
	int err = 0;

	if (!n || n > SL_MAGLEV_MAX_BACKENDS || !sl_is_prime(m) || m < n ||
	    !table)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (b[i].family != 4 && b[i].family != 6)
			return -EINVAL;
		if (b[i].weight > SL_MAGLEV_MAX_WEIGHT)
			return -EINVAL;
		weights += b[i].weight;
		for (size_t j = 0; j < i; j++)
			if (!be_cmp(&b[i], &b[j]))
				return -EEXIST; /* one identity, one backend */
	}
	if (!weights)
		return -ENOENT; /* every backend drained */
	order = calloc(n, sizeof(*order));
	offset = calloc(n, sizeof(*offset));
	skip = calloc(n, sizeof(*skip));
	next = calloc(n, sizeof(*next));
	if (!order || !offset || !skip || !next) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	sort_base = b;
	qsort(order, n, sizeof(*order), idx_cmp);
	for (size_t i = 0; i < n; i++) {
		offset[i] = (uint32_t)(be_hash(&b[i], 0x5eed0ff5e7ULL) % m);
		skip[i] =
		    (uint32_t)(be_hash(&b[i], 0x5eed05c1bULL) % (m - 1)) + 1;
	}
	for (uint32_t s = 0; s < m; s++)
		table[s] = SL_MAGLEV_EMPTY;
	while (filled < m) {
		for (size_t k = 0; k < n && filled < m; k++) {
			uint32_t i = order[k];

			for (uint32_t t = 0; t < b[i].weight && filled < m;
			     t++) {
				uint32_t c;

				/* the backend's next slot not yet taken (its
				 * permutation visits every slot: m prime) */
				do {
					c = (uint32_t)(((uint64_t)offset[i] +
							(uint64_t)next[i] *
							    skip[i]) %
						       m);
					next[i]++;
				} while (table[c] != SL_MAGLEV_EMPTY);
				table[c] = i;
				filled++;
			}
		}
	}
out:
	free(order);
	free(offset);
	free(skip);
	free(next);
	return err;
}
