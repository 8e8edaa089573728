/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* maps: every map of the datapath. All are pinned by name under
 * <bpffs>/sluice, so each program and each attached interface shares one set
 * of tables, and the tables outlive the programs. */
#ifndef SL_MAPS_H
#define SL_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <sluice/abi.h>

/* Set tries, one per direction and family; allow and deny entries share a
 * trie so that one lookup finds the longest matching prefix of either. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_SET_MAX_ENTRIES);
	__type(key, struct sl_lpm_v4);
	__type(value, struct sl_set_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_set_src_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_SET_MAX_ENTRIES);
	__type(key, struct sl_lpm_v4);
	__type(value, struct sl_set_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_set_dst_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_SET_MAX_ENTRIES);
	__type(key, struct sl_lpm_v6);
	__type(value, struct sl_set_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_set_src_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_SET_MAX_ENTRIES);
	__type(key, struct sl_lpm_v6);
	__type(value, struct sl_set_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_set_dst_v6 SEC(".maps");

/* Host entries (/32, /128) of the sets, exact match; see abi.h. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_HOST_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct sl_set_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_host_src_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_HOST_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct sl_set_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_host_dst_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_HOST_MAX_ENTRIES);
	__type(key, struct sl_host_v6);
	__type(value, struct sl_set_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_host_src_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_HOST_MAX_ENTRIES);
	__type(key, struct sl_host_v6);
	__type(value, struct sl_set_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_host_dst_v6 SEC(".maps");

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
