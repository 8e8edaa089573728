/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* maps: every map of the datapath. All are pinned by name under
 * <bpffs>/sluice, so each program and each attached interface shares one set
 * of tables, and the tables outlive the programs. */
#ifndef SL_MAPS_H
#define SL_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <sluice/abi.h>

/* A set trie: prefixes shorter than a host, allow and deny entries in one
 * trie so that one lookup finds the longest matching prefix of either. */
#define SL_SET_TRIE(name, key_t)                         \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);     \
		__uint(map_flags, BPF_F_NO_PREALLOC);    \
		__uint(max_entries, SL_SET_MAX_ENTRIES); \
		__type(key, key_t);                      \
		__type(value, struct sl_set_val);        \
		__uint(pinning, LIBBPF_PIN_BY_NAME);     \
	} name SEC(".maps")

/* A set's host entries (/32, /128), exact match; see abi.h. */
#define SL_SET_HOSTS(name, key_t)                         \
	struct {                                          \
		__uint(type, BPF_MAP_TYPE_HASH);          \
		__uint(map_flags, BPF_F_NO_PREALLOC);     \
		__uint(max_entries, SL_HOST_MAX_ENTRIES); \
		__type(key, key_t);                       \
		__type(value, struct sl_set_val);         \
		__uint(pinning, LIBBPF_PIN_BY_NAME);      \
	} name SEC(".maps")

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

#endif /* SL_MAPS_H */
