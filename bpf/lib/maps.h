/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* maps: every map of the datapath. All are pinned by name under
 * <bpffs>/sluice, so each program and each attached interface shares one set
 * of tables, and the tables outlive the programs. */
#ifndef SL_MAPS_H
#define SL_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <sluice/abi.h>

/* Every set map is an array of SL_SET_GENS maps: the running config blob
 * names the slot in use (sl_blob_hdr.set_gen), so apply fills the other
 * slot off to the side and switches sets and rules with one write. The
 * inner maps below are the templates; the control plane creates the real
 * ones (src/lib/sets.c). */

/* A set map: SL_SET_GENS slots of an inner map of type `mtype`. The tries
 * hold prefixes shorter than a host, allow and deny entries together so
 * that one lookup finds the longest matching prefix of either; the hashes
 * hold host entries (/32, /128), exact match (see abi.h). */
#define SL_SET_SLOTS(name, mtype, key_t, max)                  \
	struct name##_inner {                                  \
		__uint(type, mtype);                           \
		__uint(map_flags, BPF_F_NO_PREALLOC);          \
		__uint(max_entries, max);                      \
		__uint(key_size, sizeof(key_t));               \
		__uint(value_size, sizeof(struct sl_set_val)); \
	};                                                     \
	struct {                                               \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);      \
		__uint(max_entries, SL_SET_GENS);              \
		__type(key, __u32);                            \
		__uint(pinning, LIBBPF_PIN_BY_NAME);           \
		__array(values, struct name##_inner);          \
	} name SEC(".maps")
#define SL_SET_TRIE(name, key_t) \
	SL_SET_SLOTS(name, BPF_MAP_TYPE_LPM_TRIE, key_t, SL_SET_MAX_ENTRIES)
#define SL_SET_HOSTS(name, key_t) \
	SL_SET_SLOTS(name, BPF_MAP_TYPE_HASH, key_t, SL_HOST_MAX_ENTRIES)

/* One trie and one host hash per direction and family. */
SL_SET_TRIE(sl_set_src_v4, struct sl_lpm_v4);
SL_SET_TRIE(sl_set_dst_v4, struct sl_lpm_v4);
SL_SET_TRIE(sl_set_src_v6, struct sl_lpm_v6);
SL_SET_TRIE(sl_set_dst_v6, struct sl_lpm_v6);
SL_SET_HOSTS(sl_host_src_v4, __u32);
SL_SET_HOSTS(sl_host_dst_v4, __u32);
SL_SET_HOSTS(sl_host_src_v6, struct sl_host_v6);
SL_SET_HOSTS(sl_host_dst_v6, struct sl_host_v6);

/* Presence bitmap gating the host probes (8 MiB); see abi.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_HOST_BITS_WORDS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_host_bits SEC(".maps");

/* Per-CPU counters by reason and action, indexed by sl_stats_idx(). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_STATS_MAX);
	__type(key, __u32);
	__type(value, struct sl_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_stats SEC(".maps");

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

/* Per-CPU packet and byte counters of each rule, by rule id (id 0 unused),
 * in chunks of SL_RULE_CHUNK ids: slot id / SL_RULE_CHUNK of sl_rule_stats
 * holds a per-CPU array of the chunk's counters, cell id % SL_RULE_CHUNK.
 * The control plane installs a chunk before a config with a rule in it
 * goes live and removes it once no running rule is in it (src/lib/stats.c),
 * so the memory follows the rules in use; a chunk never moves, so no count
 * is lost or doubled. An empty slot counts nothing. */
struct sl_rule_chunk {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_RULE_CHUNK);
	__type(key, __u32);
	__type(value, struct sl_counter);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SL_RULE_CHUNKS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct sl_rule_chunk);
} sl_rule_stats SEC(".maps");

/* Rule id -> counts carried over from the rule counters of an older layout
 * (summed over the CPUs; written after the datapath stopped using them, so
 * none is lost), added to the chunk's by every reader. The one slot holds a
 * hash sized to the rules that had counts then, or nothing (no memory);
 * entries go with their rules. Control plane only. */
struct sl_rule_base_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_counter);
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
