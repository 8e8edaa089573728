// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cls_test: the rule classifier (bpf/lib/rules.h) alone, for the unit test
 * (tests/unit/test_classify.c) and the benchmark (bench/bench_cls.c). A
 * key vector and tcp flags come from cls_keys; the verdict goes to
 * cls_res at the same index. cls_mask 0: every run uses index 0; else run
 * k uses index k & cls_mask (a stream of packets for the benchmark). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lib/maps.h"
#include "lib/rules.h"
#include "cls_test.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CLS_NKEYS);
	__type(key, __u32);
	__type(value, struct cls_in);
} cls_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CLS_NKEYS);
	__type(key, __u32);
	__type(value, struct cls_out);
} cls_res SEC(".maps");

/* The walk state, off the stack as in the pipeline (stage scratch). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_cls_ctx);
} cls_ctx SEC(".maps");

__u32 cls_mask = 0;
__u32 cls_ctr = 0;

static __always_inline struct cls_in *cls_next(__u32 *idx)
{
	*idx = cls_ctr++ & cls_mask & (CLS_NKEYS - 1);
	return bpf_map_lookup_elem(&cls_keys, idx);
}

SEC("xdp")
int cls_run(struct xdp_md *ctx)
{
	struct cls_out *out;
	struct cls_in *in;
	__u32 idx, id = 0, target = 0;
	__u8 *blob;
	int act = -2;

	(void)ctx;
	in = cls_next(&idx);
	if (!in)
		return XDP_ABORTED;
	blob = sl_blob_get();
	if (blob) {
		__u32 zero = 0;
		struct sl_cls_ctx *c = bpf_map_lookup_elem(&cls_ctx, &zero);

		if (!c)
			return XDP_ABORTED;
		__builtin_memcpy(c->key, in->key, sizeof(c->key));
		act =
		    sl_rules_classify(c, blob, in->tcp, in->len, &id, &target);
	}
	out = bpf_map_lookup_elem(&cls_res, &idx);
	if (out) {
		out->action = act;
		out->id = id;
	}
	return XDP_PASS;
}

/* The same without the classifier: the floor of cls_run. */
SEC("xdp")
int cls_keyonly(struct xdp_md *ctx)
{
	struct cls_out *out;
	struct cls_in *in;
	__u32 idx;

	(void)ctx;
	in = cls_next(&idx);
	if (!in)
		return XDP_ABORTED;
	out = bpf_map_lookup_elem(&cls_res, &idx);
	if (out) {
		out->action = -1;
		out->id = in->key[0];
	}
	return XDP_PASS;
}

SEC("xdp")
int cls_empty(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
