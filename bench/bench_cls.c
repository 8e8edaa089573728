// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bench_cls: ns/packet of the rule classifier (bpf/lib/rules.h) through
 * tests/unit/cls_test.bpf.c and bpf_prog_test_run_opts, by rule count.
 * For each size: a generated rule set (bench/rulegen.c, full profile) is
 * built into a blob in the sl_config slot; CLS_NKEYS packets matching rules
 * in the last 10% of the order are loaded into cls_keys; cls_run walks
 * them as a stream (run k uses key k % CLS_NKEYS), --repeat runs per test
 * run, the median of --runs test runs. The floor: cls_empty (returns
 * XDP_PASS) and cls_keyonly (fetches the key, stores a result).
 *   bench_cls [--repeat N] [--runs N] [--ipv4-5tuple] [SIZES...]
 * A benchmark, not a test: it prints a table and checks the last pass's
 * verdicts against the user-space walk. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "classify.h"
#include "rulegen.h"
#include "sluice.h"
#include "cls_test.skel.h"
#include "../tests/unit/cls_test.h"

#define MAX_RUNS 15
#define HOT_KEYS 64

static int repeat = 1000000, runs = 5;

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Median over runs of the kernel's ns per repetition. */
static int time_prog(struct bpf_program *prog, uint32_t *ns)
{
	uint8_t frame[64] = {0};
	uint32_t d[MAX_RUNS];

	for (int i = -1; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
			    .data_size_in = sizeof(frame),
			    .repeat = i < 0 ? 10000 : repeat);

		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &t))
			return -errno;
		if (i >= 0)
			d[i] = t.duration;
	}
	qsort(d, runs, sizeof(d[0]), cmp_u32);
	*ns = d[runs / 2];
	return 0;
}

int main(int argc, char **argv)
{
	size_t sizes[16] = {1, 10, 100, 10000, 100000}, nsizes = 5;
	bool v4 = false, user_sizes = false;
	struct cls_test *skel;
	struct bpf_map *m;
	struct cls_in *in;
	void *blob;
	uint32_t ns_empty, ns_key, ns[16] = {0}, hot[16] = {0}, zero = 0;
	struct sl_cls_stats st[16];
	int fd, err, ref = -1, bad[16] = {0};
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			repeat = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			runs = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--ipv4-5tuple")) {
			v4 = true;
		} else if (atol(argv[i]) > 0 && nsizes < 16) {
			if (!user_sizes)
				nsizes = 0;
			user_sizes = true;
			sizes[nsizes++] = atol(argv[i]);
		} else {
			fprintf(stderr, "usage: bench_cls [--repeat N] [--runs "
					"N] [--ipv4-5tuple] [SIZES...]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || repeat < 1)
		return 2;

	skel = cls_test__open();
	if (!skel)
		return 1;
	bpf_object__for_each_map (m, skel->obj)
		bpf_map__set_pin_path(m, NULL);
	if ((err = cls_test__load(skel))) {
		fprintf(stderr, "bench_cls: load: %s\n", strerror(-err));
		return 1;
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_blob", 4, SL_BLOB_SIZE, 1,
			    &mo);
	blob = fd < 0 ? MAP_FAILED
		      : mmap(NULL, SL_BLOB_SIZE, PROT_READ | PROT_WRITE,
			     MAP_SHARED, fd, 0);
	if (blob == MAP_FAILED ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.sl_config), &zero, &fd,
				0)) {
		fprintf(stderr, "bench_cls: blob: %s\n", strerror(errno));
		return 1;
	}
	in = calloc(CLS_NKEYS, sizeof(*in));

	{
		struct bpf_prog_info info = {0};
		uint32_t len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(
			bpf_program__fd(skel->progs.cls_run), &info, &len))
			printf("cls_run: %u verified insns, %u xlated bytes\n",
			       info.verified_insns, info.xlated_prog_len);
	}
	skel->bss->cls_mask = CLS_NKEYS - 1;
	if (time_prog(skel->progs.cls_empty, &ns_empty) ||
	    time_prog(skel->progs.cls_keyonly, &ns_key)) {
		fprintf(stderr, "bench_cls: test run: %s\n", strerror(errno));
		return 1;
	}

	for (size_t s = 0; s < nsizes; s++) {
		size_t n = sizes[s];
		struct sl_rule *r = calloc(n, sizeof(*r));
		struct sl_gen_pkt *pk = calloc(CLS_NKEYS, sizeof(*pk));
		struct sl_gen_opts o;

		sl_gen_opts_default(&o, 42 + n);
		o.ipv4_5tuple = v4;
		if (!r || !pk || sl_gen_rules(r, n, &o))
			return 1;
		qsort(r, n, sizeof(*r),
		      (int (*)(const void *, const void *))sl_rule_order_cmp);
		memset(blob, 0, SL_BLOB_SIZE);
		if (sl_cls_build(r, n, blob, &st[s]))
			return 1;
		sl_gen_pkts_late(r, n, CLS_NKEYS, 7 + n, pk);
		for (uint32_t i = 0; i < CLS_NKEYS; i++) {
			memcpy(in[i].key, pk[i].key, sizeof(in[i].key));
			in[i].tcp = pk[i].tcp_flags;
			in[i].len = 64;
			bpf_map_update_elem(bpf_map__fd(skel->maps.cls_keys),
					    &i, &in[i], 0);
		}
		skel->bss->cls_mask = HOT_KEYS - 1;
		if (time_prog(skel->progs.cls_run, &hot[s]))
			return 1;
		skel->bss->cls_mask = CLS_NKEYS - 1;
		if (time_prog(skel->progs.cls_run, &ns[s]))
			return 1;
		for (uint32_t i = 0; i < CLS_NKEYS; i++) {
			struct cls_out out;
			int act;
			uint32_t id = sl_cls_lookup(blob, in[i].key, in[i].tcp,
						    &act, NULL, NULL);

			if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.cls_res),
						&i, &out) ||
			    out.id != id || out.action != act)
				bad[s]++;
		}
		if (n == 10)
			ref = s;
		free(r);
		free(pk);
	}

	printf("\nrules: %s profile; packets match rules in the last 10%% of "
	       "the order; median of %d test runs x %d repeats\n",
	       v4 ? "ipv4-5tuple" : "full", runs, repeat);
	printf("hot: %d packets cycled (blob parts they touch stay cached); "
	       "stream: %d packets cycled\n",
	       HOT_KEYS, CLS_NKEYS);
	printf("cls_empty (XDP_PASS): %u ns/packet; cls_keyonly (key fetch "
	       "and result store): %u ns/packet\n\n",
	       ns_empty, ns_key);
	printf("%8s %8s %9s %9s %10s %6s %8s %6s %7s %9s %10s %s\n", "rules",
	       "hot ns", "ratio(10)", "stream ns", "ratio(10)", "trees",
	       "nodes", "depth", "worst", "build ms", "bytes", "mismatch");
	for (size_t s = 0; s < nsizes; s++) {
		char r1[16] = "-", r2[16] = "-";

		if (ref >= 0 && hot[ref] && ns[ref]) {
			snprintf(r1, sizeof(r1), "%.2f",
				 (double)hot[s] / hot[ref]);
			snprintf(r2, sizeof(r2), "%.2f",
				 (double)ns[s] / ns[ref]);
		}
		printf(
		    "%8zu %8u %9s %9u %10s %6u %8u %6u %7u %9.1f %10llu %d\n",
		    sizes[s], hot[s], r1, ns[s], r2, st[s].trees, st[s].nodes,
		    st[s].max_depth, st[s].worst_accesses, st[s].build_ms,
		    (unsigned long long)st[s].bytes, bad[s]);
	}
	munmap(blob, SL_BLOB_SIZE);
	close(fd);
	free(in);
	cls_test__destroy(skel);
	return 0;
}
