/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* maps: the maps every hook shares (the config blob, the redirect targets)
 * and those only the control plane reads or writes (rule definitions,
 * carried counts, the layout version). A stage's own maps are declared in
 * its header (sets.h: the set tables; rules.h: the rule counters;
 * stats.h: the reason and interface counters). All are pinned by name
 * under <bpffs>/sluice, so each program and each attached interface shares
 * one set of tables, and the tables outlive the programs. */
#ifndef SL_MAPS_H
#define SL_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <sluice/abi.h>

/* The config blob (abi.h): one element of 2^blob_log bytes, its size class.
 * This is the template of the blobs that sl_config points at: the loader
 * sets its value size to the class it loads for (sl_features.blob_log,
 * src/lib/loader.c); SL_BLOB_SIZE is only the default. apply creates a new
 * blob for every change. */
struct sl_blob_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, 4);
	__uint(value_size, SL_BLOB_SIZE);
	__uint(map_flags, BPF_F_MMAPABLE);
};

/* The one slot holding the running config blob; empty before any apply. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct sl_blob_map);
} sl_config SEC(".maps");

/* Rule id -> counts carried over from the rule counters of an older layout
 * (summed over the CPUs; written after the datapath stopped using them, so
 * none is lost), added to the chunk's by every reader. The one slot holds a
 * hash sized to the rules that had counts then, or nothing (no memory);
 * entries go with their rules. Control plane only. */
struct sl_rule_base_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	/* by size: see struct sl_rule_chunk (rules.h) */
	__uint(value_size, sizeof(struct sl_counter));
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct sl_rule_base_inner);
} sl_rule_base SEC(".maps");

/* The definitions of the running rules (struct sl_rule, user space's
 * record, SL_RULE_DEF_SIZE bytes) by rule id: what `rule list` and `export`
 * print. The datapath never reads them; they have two slots like the sets
 * (sl_blob_hdr.defs_gen names the one in use), so apply switches them with
 * the blob. */
struct sl_rule_defs_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_RULE_MAX);
	__uint(key_size, 4);
	__uint(value_size, SL_RULE_DEF_SIZE);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SL_SET_GENS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct sl_rule_defs_inner);
} sl_rule_defs SEC(".maps");

/* The layout version of the pinned maps (struct sl_meta, abi.h); written
 * by the control plane, never read by the datapath. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_meta SEC(".maps");

#ifdef SL_NEXT_LAYOUT
/* Test build only: the map a next release adds (upgrade tests). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_next_test SEC(".maps");
#endif

/* Redirect targets of the rules, by slot (abi.h, SL_MAP_REDIRECT): XDP
 * sends through the DEVMAP with bpf_redirect_map (bulked per flush). A
 * map holding programs (a DEVMAP may) belongs to the program type that
 * used it first, so TC cannot use it: TC and the rules stage read the
 * slot's ifindex from sl_redirect_ifindex, which the control plane fills
 * alongside. (The kernel reports every DEVMAP with BPF_F_RDONLY_PROG, a
 * flag that cannot be given at creation, so libbpf 1.1 refuses to reuse
 * its pin: the loader reuses it itself, src/lib/loader.c.) */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, SL_REDIRECT_SLOTS);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_redirect_ports SEC(".maps");

/* slot -> ifindex of the same target; 0: the slot is empty. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_REDIRECT_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_redirect_ifindex SEC(".maps");

/* The ifindex of redirect slot `slot`, or 0 when it is empty. */
static __always_inline __u32 sl_redirect_target(__u32 slot)
{
	__u32 *ifx = bpf_map_lookup_elem(&sl_redirect_ifindex, &slot);

	return ifx ? *ifx : 0;
}

/* The running config blob, or NULL before the first apply. Read it once
 * per packet and hand the pointer on: a second read could see a newer
 * config and classify one packet with halves of two. */
static __always_inline __u8 *sl_blob_get(void)
{
	__u32 zero = 0;
	void *inner = bpf_map_lookup_elem(&sl_config, &zero);

	if (!inner)
		return NULL;
	return bpf_map_lookup_elem(inner, &zero);
}

#endif /* SL_MAPS_H */
