// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_maglev: the load balancer's Maglev table (src/lib/maglev.c), in
 * user space: the table is full and every slot names a backend; shares
 * follow the weights (within 1% of the table); the same backends in
 * another order give the same table (nodes agree without sharing state);
 * removing one backend moves its own slots and at most 3% of the others'
 * (the consistency Maglev promises at M >> N), adding one takes about
 * 1/(N+1) and moves few others; drained backends (weight 0) get nothing;
 * IPv6 backends; bad input refused. Needs no privileges. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sluice.h"

#define M SL_MAGLEV_M

static struct sl_maglev_backend be(const char *addr, uint16_t port,
				   uint32_t weight)
{
	struct sl_maglev_backend b = {0};

	b.family = strchr(addr, ':') ? 6 : 4;
	inet_pton(b.family == 6 ? AF_INET6 : AF_INET, addr, b.addr);
	b.port = port;
	b.weight = weight;
	return b;
}

/* n backends 198.18.1.(10+i):8080, weight 1. */
static void backends(struct sl_maglev_backend *b, size_t n)
{
	char a[32];

	for (size_t i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "198.18.1.%zu", 10 + i);
		b[i] = be(a, 8080, 1);
	}
}

static void shares(const uint32_t *t, size_t n, uint32_t *count)
{
	memset(count, 0, n * sizeof(*count));
	for (uint32_t s = 0; s < M; s++)
		if (t[s] < n)
			count[t[s]]++;
}

static uint32_t *table(void)
{
	return malloc(M * sizeof(uint32_t));
}

static bool check_full_and_even(void)
{
	struct sl_maglev_backend b[3];
	uint32_t *t = table(), c[3];
	bool ok;

	backends(b, 3);
	ok = ASSERT_EQ(sl_maglev_build(b, 3, M, t), 0, "build");
	for (uint32_t s = 0; ok && s < M; s++)
		ok = ASSERT_TRUE(t[s] < 3, "slot %u holds %u", s, t[s]);
	shares(t, 3, c);
	for (int i = 0; ok && i < 3; i++)
		ok = ASSERT_TRUE(c[i] >= M / 3 - 1 && c[i] <= M / 3 + 1,
				 "backend %d has %u slots, want %u +- 1", i,
				 c[i], M / 3);
	free(t);
	return ok;
}

static bool check_weights(void)
{
	struct sl_maglev_backend b[3];
	uint32_t *t = table(), c[3];
	bool ok;

	backends(b, 3);
	b[0].weight = 2; /* 2:1:1 -> 50%, 25%, 25% */
	ok = ASSERT_EQ(sl_maglev_build(b, 3, M, t), 0, "build");
	shares(t, 3, c);
	ok = ok &&
	     ASSERT_TRUE(c[0] > M / 2 - M / 100 && c[0] < M / 2 + M / 100,
			 "weight 2 of 4 has %u slots", c[0]) &&
	     ASSERT_TRUE(c[1] > M / 4 - M / 100 && c[1] < M / 4 + M / 100,
			 "weight 1 of 4 has %u slots", c[1]);
	/* a drained backend takes nothing */
	b[2].weight = 0;
	ok = ok && ASSERT_EQ(sl_maglev_build(b, 3, M, t), 0, "build");
	shares(t, 3, c);
	ok = ok && ASSERT_EQ(c[2], 0, "slots of the drained backend");
	free(t);
	return ok;
}

/* Reversed order: the table names the same backends in every slot. */
static bool check_order_independent(void)
{
	struct sl_maglev_backend b[8], r[8];
	uint32_t *t = table(), *u = table();
	bool ok;

	backends(b, 8);
	for (int i = 0; i < 8; i++)
		r[i] = b[7 - i];
	ok = ASSERT_EQ(sl_maglev_build(b, 8, M, t), 0, "build") &&
	     ASSERT_EQ(sl_maglev_build(r, 8, M, u), 0, "build reversed");
	for (uint32_t s = 0; ok && s < M; s++)
		ok = ASSERT_EQ(t[s], 7 - u[s], "slot's backend, reversed");
	free(t);
	free(u);
	return ok;
}

/* Remove backend 4 of 10: its slots go to others; the others' slots
 * mostly stay. Add an 11th: it takes about 1/11. */
static bool check_consistency(void)
{
	struct sl_maglev_backend b[11], less[9];
	uint32_t *t = table(), *u = table(), c[11];
	uint32_t moved = 0, taken = 0, removed_moved;
	bool ok;

	backends(b, 11);
	for (int i = 0, k = 0; i < 10; i++)
		if (i != 4)
			less[k++] = b[i];
	ok = ASSERT_EQ(sl_maglev_build(b, 10, M, t), 0, "build 10") &&
	     ASSERT_EQ(sl_maglev_build(less, 9, M, u), 0, "build 9");
	for (uint32_t s = 0; ok && s < M; s++) {
		uint32_t before = t[s], after = u[s] < 4 ? u[s] : u[s] + 1;

		if (before != 4 && before != after)
			moved++;
	}
	ok = ok && ASSERT_TRUE(moved <= M * 3 / 100,
			       "removing one of 10 moved %u slots of the "
			       "others (%.2f%%), want <= 3%%",
			       moved, 100.0 * moved / M);
	removed_moved = moved;
	moved = 0;
	ok = ok && ASSERT_EQ(sl_maglev_build(b, 11, M, u), 0, "build 11");
	for (uint32_t s = 0; ok && s < M; s++) {
		if (u[s] == 10)
			taken++;
		else if (u[s] != t[s])
			moved++;
	}
	shares(u, 11, c);
	ok = ok &&
	     ASSERT_TRUE(taken >= M / 11 - 1 && taken <= M / 11 + 1,
			 "the new backend took %u slots, want about %u", taken,
			 M / 11) &&
	     ASSERT_TRUE(moved <= M * 3 / 100,
			 "adding one moved %u slots between the others "
			 "(%.2f%%), want <= 3%%",
			 moved, 100.0 * moved / M);
	printf("# maglev: remove 1 of 10: %.2f%% of the others' slots moved; "
	       "add an 11th: it took %u slots, %.2f%% of the others' moved\n",
	       100.0 * removed_moved / M, taken, 100.0 * moved / M);
	free(t);
	free(u);
	return ok;
}

static bool check_ipv6_and_ports(void)
{
	struct sl_maglev_backend b[3] = {be("2001:db8::10", 80, 1),
					 be("2001:db8::10", 81, 1),
					 be("198.18.1.10", 80, 1)};
	uint32_t *t = table(), c[3];
	bool ok;

	ok = ASSERT_EQ(sl_maglev_build(b, 3, M, t), 0, "build");
	shares(t, 3, c);
	for (int i = 0; ok && i < 3; i++)
		ok = ASSERT_TRUE(c[i] >= M / 3 - 1 && c[i] <= M / 3 + 1,
				 "backend %d has %u slots", i, c[i]);
	free(t);
	return ok;
}

static bool check_bad_input(void)
{
	struct sl_maglev_backend b[2];
	uint32_t *t = table();
	bool ok;

	backends(b, 2);
	ok = ASSERT_EQ(sl_maglev_build(b, 2, 65536, t), -EINVAL,
		       "a table size that is not prime") &&
	     ASSERT_EQ(sl_maglev_build(b, 0, M, t), -EINVAL, "no backend") &&
	     ASSERT_TRUE(sl_is_prime(M) && sl_is_prime(65521) &&
			     !sl_is_prime(65535) && !sl_is_prime(1),
			 "sl_is_prime");
	b[1] = b[0];
	ok = ok && ASSERT_EQ(sl_maglev_build(b, 2, M, t), -EEXIST,
			     "one backend twice");
	backends(b, 2);
	b[0].weight = b[1].weight = 0;
	ok = ok && ASSERT_EQ(sl_maglev_build(b, 2, M, t), -ENOENT,
			     "every backend drained");
	backends(b, 2);
	b[0].family = 5;
	ok = ok &&
	     ASSERT_EQ(sl_maglev_build(b, 2, M, t), -EINVAL, "a bad family");
	free(t);
	return ok;
}

int main(void)
{
	check_report("maglev: the table is full, 3 backends get M/3 +- 1",
		     check_full_and_even());
	check_report("maglev: shares follow weights within 1%; weight 0 "
		     "(drained) gets nothing",
		     check_weights());
	check_report("maglev: the same backends in another order give the "
		     "same table",
		     check_order_independent());
	check_report("maglev: removing or adding a backend moves at most 3% "
		     "of the others' slots; a new one takes 1/(N+1)",
		     check_consistency());
	check_report("maglev: IPv6 and IPv4 backends, same address on two "
		     "ports",
		     check_ipv6_and_ports());
	check_report("maglev: bad input refused", check_bad_input());
	return check_failed ? 1 : 0;
}
