/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Sluice ABI: every record and enum seen by both the BPF datapath and user
 * space. This is the only definition; neither side keeps a copy.
 * Fixed-width types, explicit padding, sizes pinned by _Static_assert. */
#ifndef SLUICE_ABI_H
#define SLUICE_ABI_H

#include <linux/types.h>

/* Capacity of each set trie (one per direction and address family). Allow
 * and deny entries share a trie, so each set holds at least 1,000,000. */
#define SL_SET_MAX_ENTRIES (1U << 21)

/* Capacity of each host-entry hash (one per direction and family). A hash
 * allocates its bucket array (16 B a slot) when created, so this is the
 * fixed memory cost of the sets: 4 x 16 MiB, plus the 8 MiB bitmap. */
#define SL_HOST_MAX_ENTRIES (1U << 20)

/* Bound on the IPv6 extension-header walk; a longer chain is malformed. */
#define SL_IPV6_MAX_EXT 8

/* Verdict actions. Each hook maps them onto its return codes (XDP:
 * XDP_PASS, XDP_DROP, XDP_TX, bpf_redirect_map on a DEVMAP, XDP_ABORTED; TC:
 * TC_ACT_OK, TC_ACT_SHOT, bpf_redirect back out of the interface,
 * bpf_redirect, TC_ACT_SHOT). Append only: the numbers index pinned
 * counters. */
enum sl_action {
	SL_ACT_PASS = 0,
	SL_ACT_DROP = 1,
	SL_ACT_TX = 2,	     /* send back out of the interface it came in on */
	SL_ACT_REDIRECT = 3, /* send out of the verdict's target interface */
	SL_ACT_ABORT = 4,    /* program error: dropped, and traced (XDP) */
#ifdef SL_NEXT_LAYOUT
	SL_ACT_NEXT_TEST, /* test build only: an action a next release appends
			   */
#endif
	SL_ACT_MAX,
};

/* Why a verdict was reached. Every verdict carries exactly one reason; the
 * CLI and metrics name them with sl_reason_name() (src/lib/names.c). Append
 * only: the numbers index pinned counters that survive upgrades. */
enum sl_reason {
	SL_R_PASS = 0,	   /* IP packet, no stage or rule objected */
	SL_R_NON_IP,	   /* not IPv4/IPv6 (ARP, LLDP, ...): passed */
	SL_R_ALLOW_SET,	   /* longest matching set prefix is an allow entry */
	SL_R_DENY_SET,	   /* longest matching set prefix is a deny entry */
	SL_R_MALFORMED_L2, /* Ethernet/VLAN header truncated */
	SL_R_MALFORMED_L3, /* bad IPv4/IPv6 header, length or extension chain */
	SL_R_MALFORMED_L4, /* bad or truncated TCP/UDP/ICMP/ICMPv6 header */
	SL_R_RULE,   /* a rule decided (pass or drop); see rule counters */
	SL_R_POLICY, /* no rule matched, the default policy drops */
	/* Abusive packets (the malformed stage's sanity checks, dropped
	 * unless drop_malformed is off); a packet matching several gets the
	 * first of land, syn-fin, syn-rst, no-flags, xmas, fin-no-ack. */
	SL_R_TCP_SYNFIN,    /* TCP SYN and FIN together */
	SL_R_TCP_SYNRST,    /* TCP SYN and RST together */
	SL_R_TCP_NOFLAGS,   /* TCP without FIN, SYN, RST, PSH, ACK, URG */
	SL_R_TCP_FIN_NOACK, /* TCP FIN without ACK */
	SL_R_TCP_XMAS,	    /* TCP FIN, PSH and URG without ACK */
	SL_R_LAND,	    /* source address equals destination address */
	SL_R_BANNED,	    /* the source is banned (bans stage) */
	/* conntrack on and `drop-invalid`: the packet fits no valid state of
	 * the connection table (e.g. a TCP ACK with no connection) */
	SL_R_CT_INVALID,
	SL_R_RATELIMIT, /* a ratelimit rule's token bucket was empty */
	/* SYN-flood protection (synproxy stage): a SYN to a protected port
	 * answered from XDP with a SYN cookie (action tx), and an ACK to a
	 * protected port of no tracked flow whose cookie does not check
	 * (drop). */
	SL_R_SYN_COOKIE,
	SL_R_SYN_COOKIE_BAD,
	/* a later fragment took the verdict its datagram's first fragment
	 * got (fragment stage, sl_frags): pass, drop, tx or redirect */
	SL_R_FRAG,
	/* load balancer (lb stage): a packet to a service whose Maglev
	 * table has no usable backend (drop); a packet forwarded to a
	 * backend or back to a client (tx or redirect); a packet to forward
	 * whose next hop has no resolved neighbour or route (passed to the
	 * stack, which resolves it for the next packets) */
	SL_R_LB_NO_BACKEND,
	SL_R_LB_FWD,
	SL_R_LB_NO_ROUTE,
	/* dsr-ipip: a packet the tunnel header would make bigger than the
	 * egress MTU: answered with ICMP "fragmentation needed" / ICMPv6
	 * "packet too big" (tx), or, IPv4 without DF, dropped */
	SL_R_LB_TOO_BIG,
#ifdef SL_NEXT_LAYOUT
	SL_R_NEXT_TEST, /* test build only: a reason appended by a next release
			 */
#endif
	SL_R_MAX,
};

/* Set entry direction: which address of the packet the prefix matches. */
enum sl_dir {
	SL_DIR_SRC = 0,
	SL_DIR_DST = 1,
	SL_DIR_MAX,
};

/* Set entry kind, stored in the entry's value. */
enum sl_set_kind {
	SL_SET_ALLOW = 1,
	SL_SET_DENY = 2,
};

/* LPM trie keys: prefixlen counts the significant leading bits of addr. */
struct sl_lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};
_Static_assert(sizeof(struct sl_lpm_v4) == 8, "sl_lpm_v4 size");

struct sl_lpm_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};
_Static_assert(sizeof(struct sl_lpm_v6) == 20, "sl_lpm_v6 size");

/* Set trie value. kind says allow or deny; plen repeats the key's prefix
 * length because an LPM lookup does not return the key it matched, and the
 * source and destination results are compared by length. The counters are
 * updated atomically by the datapath. */
struct sl_set_val {
	__u8 kind; /* enum sl_set_kind */
	__u8 plen;
	__u8 pad[6];
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct sl_set_val) == 24, "sl_set_val size");

/* Host entries (a /32 or /128) live in exact-match hash maps instead of the
 * tries: one O(1) probe, whatever the set size. The probe is gated by a
 * presence bitmap per family and direction: bit sl_host_bucket() of region
 * sl_host_region() is set before an entry is inserted and never cleared
 * while entries may remain, so a clear bit proves there is no entry. */
#define SL_HOST_BUCKET_BITS  24
#define SL_HOST_REGION_WORDS (1U << (SL_HOST_BUCKET_BITS - 6))
#define SL_HOST_BITS_WORDS   (4 * SL_HOST_REGION_WORDS)

struct sl_host_v6 {
	__u8 addr[16];
};

/* Region of the bitmap for a family (0: IPv4, 1: IPv6) and direction. */
static inline __u32 sl_host_region(__u32 v6, __u32 dir)
{
	return (v6 * 2 + dir) * SL_HOST_REGION_WORDS;
}

/* Bucket of an address: a multiplicative hash to SL_HOST_BUCKET_BITS bits.
 * w are the address's 32-bit words as stored (network order), n 1 or 4. */
static inline __u32 sl_host_bucket(const __u32 *w, int n)
{
	__u32 x = w[0];

	if (n == 4)
		x ^= w[1] * 0x85ebca6bU ^ w[2] * 0xc2b2ae35U ^
		     w[3] * 0x27d4eb2fU;
	return (x * 0x9e3779b1U) >> (32 - SL_HOST_BUCKET_BITS);
}

/* Per-CPU counter cell; the stats map is indexed by sl_stats_idx(). */
struct sl_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct sl_counter) == 16, "sl_counter size");

/* The hook a verdict was counted at: a constant of each program (the XDP
 * program with or without --decap, TC ingress, TC egress). Append only:
 * the numbers index pinned counters. SL_HK_UNKNOWN is never counted by a
 * program: it holds the counts an upgrade carried from layout 6 or older,
 * whose counters had no hook dimension (src/lib/upgrade.c). The names are
 * sl_hook_name() (src/lib/names.c). (SL_HK_: sluice.h's SL_HOOK_XDP and
 * SL_HOOK_TC are the attach masks.) */
enum sl_hook_id {
	SL_HK_XDP = 0,
	SL_HK_TC_IN = 1,
	SL_HK_TC_OUT = 2,
	SL_HK_UNKNOWN = 3,
	SL_HK_MAX,
};

/* The stats map has room for SL_STATS_HOOKS hooks, SL_STATS_REASONS reasons
 * and SL_STATS_ACTIONS actions, more than exist, so that appending a hook,
 * a reason or an action does not change the pinned map's shape. A hook's
 * cells are SL_STATS_MAX consecutive cells, indexed within it by
 * sl_stats_idx(reason, action); the map's cell is sl_stats_hidx(). */
#define SL_STATS_HOOKS	 8
#define SL_STATS_REASONS 64
#define SL_STATS_ACTIONS 8
#define SL_STATS_MAX	 (SL_STATS_REASONS * SL_STATS_ACTIONS)
#define SL_STATS_CELLS	 (SL_STATS_HOOKS * SL_STATS_MAX)
_Static_assert(SL_R_MAX <= SL_STATS_REASONS, "stats hold every reason");
_Static_assert(SL_ACT_MAX <= SL_STATS_ACTIONS, "stats hold every action");
_Static_assert(SL_HK_MAX <= SL_STATS_HOOKS, "stats hold every hook");
_Static_assert((SL_STATS_HOOKS & (SL_STATS_HOOKS - 1)) == 0 &&
		   (SL_STATS_REASONS & (SL_STATS_REASONS - 1)) == 0 &&
		   (SL_STATS_ACTIONS & (SL_STATS_ACTIONS - 1)) == 0,
	       "stats dimensions are powers of two (masked indexes)");

static inline __u32 sl_stats_idx(__u32 reason, __u32 action)
{
	return (reason & (SL_STATS_REASONS - 1)) * SL_STATS_ACTIONS +
	       (action & (SL_STATS_ACTIONS - 1));
}

/* The cell of (hook, reason, action) in the stats map. */
static inline __u32 sl_stats_hidx(__u32 hook, __u32 reason, __u32 action)
{
	return (hook & (SL_STATS_HOOKS - 1)) * SL_STATS_MAX +
	       sl_stats_idx(reason, action);
}

/* Load-time switches of the XDP program (skeleton rodata). The verifier
 * removes the code of stages that are off. */
struct sl_features {
	__u8 drop_malformed; /* 1: malformed frames are dropped (default) */
	__u8 stages_off;     /* SL_STAGE_OFF_*: stages left out (default 0) */
	/* log2 of the config blob's size (its class, SL_BLOB_LOG_MIN..MAX);
	 * 0: SL_BLOB_LOG_V2. The loader sets it with the blob map template's
	 * value size; the rules stage's bounds are constants of it. */
	__u8 blob_log;
	/* 1 only in the private copy `sluice explain` loads: it counts
	 * nothing (reasons, set entries, rules) and writes why it decided
	 * into its struct sl_trace instead. Never attached. */
	__u8 trace;
	/* 1: the conntrack stage runs (config `conntrack: {enabled: true}`);
	 * 0 (default, and in programs of earlier releases): removed. */
	__u8 conntrack;
	/* 1: the choke point may emit events into SL_MAP_EVENTS (config
	 * `events:` with anything on, or a rule with `log`); 0 (default,
	 * and in programs of earlier releases): the code is removed. */
	__u8 events;
	/* 1: the lb stage runs (a `loadbalancer:` service exists); 0
	 * (default, and in programs of earlier releases): removed. */
	__u8 lb;
	/* 1 (attach --decap): the XDP hook strips an outer IPv4 (protocol
	 * 4) or IPv6 (next header 41) header before the stages run, for a
	 * dsr-ipip backend; 0 (default, and in earlier releases): removed */
	__u8 decap;
};
/* sl_features.stages_off: optional stages switched off at load time (the
 * verifier removes them; 0 ns). */
#define SL_STAGE_OFF_SETS  0x01 /* allow/deny sets */
#define SL_STAGE_OFF_RULES 0x02 /* the rule classifier */
#define SL_STAGE_OFF_BANS  0x04 /* banned source prefixes */
#define SL_STAGE_OFF_FRAG  0x08 /* fragment tracking (sl_frags) */
_Static_assert(sizeof(struct sl_features) == 8, "sl_features size");

#define SL_TRACE_COUNTS 16 /* > SL_COUNT_HITS_MAX, asserted in rules.h */

/* What a trace copy (sl_features.trace) learnt about the last packet it
 * ran: the one slot of its per-CPU map sl_trace (not pinned). */
struct sl_trace {
	__u32 action;  /* enum sl_action of the verdict */
	__u32 reason;  /* enum sl_reason */
	__u32 target;  /* redirect slot */
	__s32 parsed;  /* the parser's result (SL_R_PASS when well-formed) */
	__u32 rule_id; /* deciding rule (reason rule), else 0 */
	__u8 set_hit;  /* 1: a set entry decided (or was looked up) */
	__u8 set_kind; /* SL_SET_ALLOW or SL_SET_DENY */
	__u8 set_dir;  /* SL_DIR_SRC or SL_DIR_DST */
	__u8 set_plen; /* the entry's prefix length */
	__u32 n_count; /* count rules the packet met before the decision */
	/* their ids, first n_count (the deciding rule is not among them) */
	__u32 count_ids[SL_TRACE_COUNTS];
	__u64 serial; /* serial of the config blob the packet saw, 0: none */
	__u32 ct;     /* enum sl_ct_pkt: its connection state (looked up) */
	__u32 pad;
};

/* ---- Pinned layout ----
 * The pinned maps under <bpffs>/sluice carry a layout version in sl_meta.
 * Layout 1 is the release before the version existed (no sl_meta); every
 * change of a pinned map's shape or of a value's format bumps the version
 * and adds a migration step (src/lib/upgrade.c), so a newer binary upgrades
 * the state of the one before it in place, and an older binary refuses
 * newer state without touching it. Layout 3: the config blob's classifier
 * pool (nodes and leaf lists in one region); SL_MAP_RULE_STATS is an array
 * of per-CPU chunks of SL_RULE_CHUNK rule ids and SL_MAP_RULE_BASE is new
 * ("rule counters in chunks"); SL_MAP_IFACE_STATS is new. Layout 4:
 * runtime-owned bans (SL_MAP_BAN_V4/V6, new), the abusive-packet and ban
 * reasons, and the config record at key 0 of the rule definitions (an
 * older binary would read it as a rule: it must refuse this state).
 * Layout 5: SL_MAP_SYNPROXY and SL_MAP_FRAGS (new), the synproxy and
 * fragment reasons, fragment conditions in the blob's rule actions (a
 * layout-4 program would misread them).
 * Layout 6: sl_ct's value grows from 64 to 96 bytes (struct sl_ct_win per
 * direction: TCP sequence and window tracking); the upgrade converts the
 * table's entries (their windows unknown: tracked liberally). New maps
 * made by the load: SL_MAP_EV_CAP (capture) and the load balancer's; a
 * layout-5 binary, which would reload the programs without the `lb`
 * stage, refuses this state.
 * Layout 7: sl_stats gains a hook dimension (SL_STATS_HOOKS x reasons x
 * actions, sl_stats_hidx()); the upgrade puts the older counts, which no
 * hook can be named for, under SL_HK_UNKNOWN.
 * Building with SL_NEXT_LAYOUT (make NEXT_LAYOUT=1) makes a "next
 * release" for the upgrade tests: one more reason, one more action and
 * one more map, layout 8. */
#ifdef SL_NEXT_LAYOUT
#define SL_LAYOUT_VERSION 8
#else
#define SL_LAYOUT_VERSION 7
#endif
#define SL_META_MAGIC 0x534c4d54U /* "SLMT" */
#define SL_MAP_META   "sl_meta"

struct sl_meta {
	__u32 magic;  /* SL_META_MAGIC */
	__u32 layout; /* SL_LAYOUT_VERSION of the binary that wrote the maps */
	__u32 blob_log; /* class of sl_config's blobs; 0: SL_BLOB_LOG_V2 */
	/* Capacities the set and rule maps are made with (the config file's
	 * `limits:`); 0: the default. Taken from `reserved`: no layout
	 * change (older binaries wrote zeros). */
	__u32 lim_prefixes; /* set trie entries per family and direction */
	__u32 lim_hosts;    /* host hash entries per family and direction */
	__u32 lim_rules;
	__u64 reserved[5];
};
_Static_assert(sizeof(struct sl_meta) == 64, "sl_meta size");

/* Names of the pinned maps, relative to <bpffs>/sluice. Map names in the
 * BPF object are the same (libbpf pins by name). */
#define SL_MAP_SET_SRC_V4  "sl_set_src_v4"
#define SL_MAP_SET_DST_V4  "sl_set_dst_v4"
#define SL_MAP_SET_SRC_V6  "sl_set_src_v6"
#define SL_MAP_SET_DST_V6  "sl_set_dst_v6"
#define SL_MAP_HOST_SRC_V4 "sl_host_src_v4"
#define SL_MAP_HOST_DST_V4 "sl_host_dst_v4"
#define SL_MAP_HOST_SRC_V6 "sl_host_src_v6"
#define SL_MAP_HOST_DST_V6 "sl_host_dst_v6"
#define SL_MAP_HOST_BITS   "sl_host_bits"
#define SL_MAP_STATS	   "sl_stats"

/* ---- Bans ----
 * Runtime-owned: banned source prefixes, one LPM trie per family
 * (SL_MAP_BAN_V4: struct sl_lpm_v4 keys, SL_MAP_BAN_V6: struct sl_lpm_v6),
 * written by `sluice ban` (and, later, by the rate limits), never by apply.
 * An entry whose expiry has passed is absent for the datapath: bans end
 * by themselves, with no user-space timer. The datapath looks the source
 * up at most SL_BAN_PROBES times: an expired entry sends it on to the
 * longest shorter prefix, so an active ban under up to SL_BAN_PROBES - 1
 * expired longer ones still holds (`ban add` removes expired entries). */
#define SL_MAP_BAN_V4	   "sl_ban_v4"
#define SL_MAP_BAN_V6	   "sl_ban_v6"
#define SL_BAN_MAX_ENTRIES 65536 /* per family */
#define SL_BAN_PROBES	   2

struct sl_ban_val {
	/* CLOCK_BOOTTIME (bpf_ktime_get_boot_ns) in ns from which the entry
	 * counts as absent; 0: permanent. */
	__u64 expires;
	__u64 packets; /* dropped by this entry, atomic adds */
	__u64 bytes;
	__u8 plen; /* the key's prefix length (a lookup does not return it) */
	__u8 pad[7];
};
_Static_assert(sizeof(struct sl_ban_val) == 32, "sl_ban_val size");

/* ---- Fragments ----
 * Fragment state of an IP packet (the parser's; a rule's `fragment`
 * condition matches it). */
enum sl_frag {
	SL_FRAG_NONE = 0,  /* not a fragment */
	SL_FRAG_FIRST = 1, /* offset 0, more fragments follow: L4 header here */
	SL_FRAG_LATER = 2, /* offset > 0: no L4 header */
	SL_FRAG_MAX,
};

/* sl_frags: a pinned LRU hash, runtime-owned (apply never touches it;
 * `sluice reset` removes it). The final verdict of every first fragment
 * is written there (the pipeline's choke point, never by the trace copy),
 * keyed by the datagram: family, direction, addresses, IP id (IPv6: the
 * fragment header's identification) and, for IPv4, the protocol (IPv6
 * reassembly keys on addresses and id alone, RFC 8200). The fragment
 * stage gives a later fragment of a known datagram that verdict, for the
 * config's `fragments: timeout` from the first fragment (struct
 * sl_frag_conf in the blob; default SL_FRAG_TIMEOUT_S, the kernel's
 * ipfrag_time); an older entry is absent. A later fragment whose first
 * fragment came late, never, or was evicted meets the rules and the
 * policy (rules may match it with `fragment: later`). */
#define SL_MAP_FRAGS "sl_frags"
/* Capacity: `fragments: {max: N}`, a map creation parameter like
 * sl_ct's (SL_FRAG_MAX_ENTRIES; SL_FRAG_MAX_MIN..SL_FRAG_MAX_MAX). */
#define SL_FRAG_MAX_ENTRIES 8192
#define SL_FRAG_MAX_MIN	    1024U
#define SL_FRAG_MAX_MAX	    (1U << 24)
#define SL_FRAG_TIMEOUT_S   30 /* the default (config `fragments: timeout`) */
#define SL_FRAG_TIMEOUT_MAX 3600

struct sl_frag_key {
	__u32 saddr[4]; /* network order; IPv4: the first word, others 0 */
	__u32 daddr[4];
	__u32 id;    /* IPv4 id (16 bits) or IPv6 identification, host order */
	__u8 family; /* 4 or 6 */
	__u8 proto;  /* IPv4: the protocol; IPv6: 0 */
	__u8 dir;    /* enum sl_rule_dir of the hook */
	__u8 pad;
};
_Static_assert(sizeof(struct sl_frag_key) == 40, "sl_frag_key size");

struct sl_frag_val {
	__u64 first;  /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) of the first */
	__u32 target; /* the verdict's target (redirect slot) */
	__u8 action;  /* enum sl_action of the first fragment's verdict */
	__u8 reason;  /* enum sl_reason it had */
	__u8 pad[2];
};
_Static_assert(sizeof(struct sl_frag_val) == 16, "sl_frag_val size");

/* ---- Rules ----
 * A rule is a box in a space of SL_DIM_MAX dimensions; a packet is a point
 * (its key vector, u32 per dimension, host order). The classifier finds the
 * first rule, in rule order, whose box holds the point. */
#define SL_RULE_MAX (1U << 17) /* rule ids are 1 .. SL_RULE_MAX - 1 */

enum sl_dim {
	SL_DIM_SRC0 = 0, /* source address, 32-bit words, host order; */
	SL_DIM_SRC1,	 /* IPv4 uses SRC3 alone (SRC0..2 are 0) */
	SL_DIM_SRC2,
	SL_DIM_SRC3,
	SL_DIM_DST0,
	SL_DIM_DST1,
	SL_DIM_DST2,
	SL_DIM_DST3,
	SL_DIM_SPORT, /* TCP/UDP/SCTP ports; 0 for other protocols */
	SL_DIM_DPORT,
	SL_DIM_PROTO,	/* IP protocol (final next header for IPv6) */
	SL_DIM_ICMP,	/* ICMP/ICMPv6 type << 8 | code; 0 otherwise */
	SL_DIM_IFINDEX, /* interface the hook runs on */
	SL_DIM_VLAN,	/* outer VLAN id; 0 untagged */
	SL_DIM_DIR,	/* enum sl_rule_dir */
	SL_DIM_L3,	/* enum sl_l3_class */
	SL_DIM_MAX,
};

/* Direction a hook classifies in (SL_DIM_DIR). */
enum sl_rule_dir {
	SL_RDIR_IN = 0,
	SL_RDIR_OUT = 1,
	SL_RDIR_MAX,
};

/* Network-layer class of a frame (SL_DIM_L3). Rules match IP unless they
 * name ARP; other frames meet no rule and pass (reason non-ip). */
enum sl_l3_class {
	SL_L3_OTHER = 0,
	SL_L3_ARP = 1,
	SL_L3_IPV4 = 2,
	SL_L3_IPV6 = 3,
};

/* Rule actions. count adds to the rule's counters and evaluation goes on;
 * ratelimit decides like pass while the rule's token bucket (its target:
 * a slot of SL_MAP_RL_PARAMS) has tokens, else drops with reason
 * ratelimit (and may ban the source); redirect sends the packet out of the
 * rule's target interface (verdict action SL_ACT_REDIRECT). Append only. */
enum sl_rule_action {
	SL_RACT_PASS = 0,
	SL_RACT_DROP = 1,
	SL_RACT_COUNT = 2,
	SL_RACT_RATELIMIT = 3,
	SL_RACT_REDIRECT = 4,
	SL_RACT_MAX,
};

/* ---- The config blob ----
 * The running rule set lives in one BPF_F_MMAPABLE array element of 2^log
 * bytes (its size class, SL_BLOB_LOG_MIN..SL_BLOB_LOG_MAX), reached
 * through the one-slot map SL_MAP_CONFIG (array of maps), whose template
 * has the class's size: the class is a load-time choice (sl_features,
 * sl_meta), and apply moves to another class by loading programs for it
 * (docs/classifier.md, size classes). apply builds a whole new blob off to
 * the side and switches with one map write; the datapath reads the slot
 * once per packet and uses that blob, and the set generation it names,
 * for the whole packet. An empty slot means: no rules, set generation 0,
 * policy pass. */
#define SL_BLOB_LOG_MIN 18 /* 256 KiB: up to 1,023 rules */
#define SL_BLOB_LOG_MAX 28 /* 256 MiB */
#define SL_BLOB_LOG_V2	25 /* 32 MiB: the one size of layouts 1 and 2 */
#define SL_BLOB_SIZE	(1U << SL_BLOB_LOG_V2) /* the template's default */
#define SL_BLOB_MAGIC	0x534c4331U	       /* "SLC1" */

struct sl_blob_hdr {
	__u32 magic;
	__u32 set_gen;		  /* slot of the set maps in use: 0 or 1 */
	__u8 policy[SL_RDIR_MAX]; /* default action per direction */
	__u8 defs_gen;		  /* slot of the rule definitions: 0 or 1 */
	__u8 ct_flags;		  /* SL_BLOB_CT_*; 0 in earlier blobs */
	__u32 nrules;		  /* rules in the rule table */
	__u64 serial;		  /* increases with every apply */
	__u8 cls[232];		  /* classifier header (struct sl_cls_hdr) */
};
_Static_assert(sizeof(struct sl_blob_hdr) == 256, "sl_blob_hdr size");

/* Number of set slots: each set map is an array of SL_SET_GENS maps. */
#define SL_SET_GENS 2

/* Redirect targets (rule action redirect), by slot: SL_MAP_REDIRECT is a
 * DEVMAP of SL_REDIRECT_SLOTS slots, slot -> struct bpf_devmap_val (for
 * XDP); SL_MAP_REDIRECT_IFX an ARRAY, slot -> __u32 ifindex of the same
 * target (for TC; 0: empty). Slot 0 is never used (a rule's target 0 means
 * none). The control plane fills a slot before the config naming it is
 * switched in and never changes a slot the running config names. */
#define SL_MAP_REDIRECT	    "sl_redirect_ports"
#define SL_MAP_REDIRECT_IFX "sl_redirect_ifindex"
#define SL_REDIRECT_SLOTS   256

/* ---- Rate limits ----
 * A ratelimit rule's bucket parameters live in SL_MAP_RL_PARAMS (config-
 * owned ARRAY, struct sl_rl_params by slot; slot 0 never used, so at most
 * SL_RL_SLOTS - 1 ratelimit rules with distinct parameters), named by the
 * rule's target. Like the redirect slots, the control plane fills a slot
 * before the config naming it is switched in, never changes a slot the
 * running config names, and empties the others after the switch. The
 * buckets live in SL_MAP_RL_BUCKETS (runtime-owned LRU hash, never
 * flushed by apply): key struct sl_rl_key, value struct sl_rl_bucket. The
 * key holds the slot's epoch, new for every filled slot, so a changed
 * rule's buckets start fresh. Tokens count in units of 1/SL_RL_SCALE
 * (refill: elapsed ns x rate, no division). */
#define SL_MAP_RL_PARAMS  "sl_rl_params"
#define SL_MAP_RL_BUCKETS "sl_rl_buckets"
#define SL_RL_SLOTS	  256
/* An LRU hash preallocates every element (about 100 B each): 16,384
 * buckets cost about 1.6 MiB, paid at attach, so that an empty attach
 * stays small (131,072 took 14 MiB). Capacity: `ratelimit: {max: N}`, a
 * map creation parameter like sl_ct's (SL_RL_MAX_MIN..SL_RL_MAX_MAX). */
#define SL_RL_MAX_BUCKETS (1U << 14)
#define SL_RL_MAX_MIN	  1024U
#define SL_RL_MAX_MAX	  (1U << 24)
#define SL_RL_SCALE	  1000000000ULL /* nano-tokens per token */

/* What a ratelimit rule's buckets are keyed by. */
enum sl_rl_per {
	SL_RL_PER_SRC = 0,  /* the source address, masked to plen4/plen6 */
	SL_RL_PER_RULE = 1, /* one bucket for the whole rule */
};

/* sl_rl_params.flags */
#define SL_RL_F_BYTES 0x01 /* tokens are bytes (else packets) */

struct sl_rl_params {
	__u32 rule_id; /* 0: the slot is empty */
	__u32 epoch;   /* new for every fill of a slot; part of the key */
	__u8 flags;    /* SL_RL_F_* */
	__u8 per;      /* enum sl_rl_per */
	__u8 plen4;    /* per src: key prefix length, IPv4 (1..32) */
	__u8 plen6;    /* per src: IPv6 (1..128) */
	/* a rule with a packet rate and a byte rate: the packets' slot
	 * names the bytes' (same rule_id, per, plen and ban) here, and a
	 * packet passes only when both buckets hold its tokens; else 0 */
	__u32 and_slot;
	__u64 rate;    /* tokens per second, >= 1 */
	__u64 cap;     /* burst x SL_RL_SCALE: a full bucket */
	__u64 fill_ns; /* time an empty bucket takes to fill: cap / rate, up */
	__u64 ban_ns;  /* ban the source for this long when over; 0: no ban */
};
_Static_assert(sizeof(struct sl_rl_params) == 48, "sl_rl_params size");

struct sl_rl_key {
	__u32 rule_id;
	__u32 epoch; /* sl_rl_params.epoch */
	__u8 family; /* 4, 6; 0: per rule (or not IP) */
	__u8 plen;   /* prefix length addr is masked to */
	__u8 pad[2];
	__u8 addr[16]; /* masked source address (IPv4: first 4 bytes) */
};
_Static_assert(sizeof(struct sl_rl_key) == 28, "sl_rl_key size");

struct sl_rl_bucket {
	__u64 tokens; /* nano-tokens left (<= cap) at `last` */
	__u64 last;   /* CLOCK_BOOTTIME ns of the last packet */
};
_Static_assert(sizeof(struct sl_rl_bucket) == 16, "sl_rl_bucket size");

#define SL_MAP_CONFIG	  "sl_config"
#define SL_MAP_RULE_STATS "sl_rule_stats"
#define SL_MAP_RULE_DEFS  "sl_rule_defs"
#define SL_MAP_RULE_BASE  "sl_rule_base"

/* The per-CPU rule counters come in chunks of SL_RULE_CHUNK rule ids: slot
 * id / SL_RULE_CHUNK of SL_MAP_RULE_STATS (an array of maps) holds the
 * chunk of id, a per-CPU array, when a running rule is in it. */
#define SL_RULE_CHUNK  512U
#define SL_RULE_CHUNKS (SL_RULE_MAX / SL_RULE_CHUNK)

/* The stored definition of a rule (sl_rule_defs values, by rule id): what
 * `rule list` and `export` print. The datapath never reads it. It is a
 * persisted record: new fields are taken from `reserved` (zero means
 * "unset" for every field added later), so its size never changes. */
#define SL_RULE_DEF_SIZE 512

/* sl_rule_rec.flags */
#define SL_RREC_SRC   0x01 /* src/src_plen/src_family hold a prefix */
#define SL_RREC_DST   0x02
#define SL_RREC_PROTO 0x04 /* proto is set */
#define SL_RREC_SMAC  0x08 /* smac is set */
#define SL_RREC_DMAC  0x10

struct sl_rule_rec {
	__u32 id;
	__u32 priority;
	__u8 action; /* enum sl_rule_action */
	__u8 dirs;   /* 1 << SL_RDIR_IN | 1 << SL_RDIR_OUT */
	__u8 l3;     /* 0: IPv4 and IPv6, else enum sl_l3_class */
	__u8 flags;  /* SL_RREC_* */
	__u8 src_family, src_plen, dst_family, dst_plen; /* AF_INET(6) */
	__u8 src[16];
	__u8 dst[16];
	__u8 proto;
	__u8 tcp_mask, tcp_flags;
	__u8 pad0;
	__u16 sport_lo, sport_hi, dport_lo, dport_hi;
	__s16 icmp_type, icmp_code; /* -1: any */
	__s32 vlan;		    /* -1: any */
	__u32 rate_pps;
	__u8 smac[6], dmac[6];
	char iface[16]; /* "": any */
	char to[16];	/* redirect target interface */
	char comment[128];
	/* ratelimit (taken from `reserved`; 0: unset). rate_pps above is
	 * the packet rate; rate_bytes the byte rate (one of the two). */
	__u32 rate_bytes; /* bytes per second */
	__u32 burst;	  /* tokens (packets or bytes); 0: one second's */
	__u32 ban_secs;	  /* ban the source for this long when over; 0: no */
	__u8 rl_per;	  /* enum sl_rl_per */
	__u8 rl_plen4;	  /* per src: IPv4 prefix length, 0: 32 */
	__u8 rl_plen6;	  /* per src: IPv6 prefix length, 0: 128 */
	__u8 pad1;
	/* 1 << enum sl_ct_pkt of the states the rule matches; 0: any */
	__u8 ct_state;
	/* 1 << enum sl_frag of the fragment states the rule matches; 0: any
	 */
	__u8 fragment;
	__u8 log; /* 1: `log` (events for the packets it decides) */
	__u8 pad2;
	/* ratelimit with rate_pps and rate_bytes both: the byte bucket's
	 * size (burst is then the packet bucket's); 0: one second's */
	__u32 burst_bytes;
	__u8 reserved[244];
};
_Static_assert(sizeof(struct sl_rule_rec) == SL_RULE_DEF_SIZE,
	       "sl_rule_rec size");

/* Key 0 of the rule definitions (no rule has id 0) holds the config's own
 * record, so that it is switched with the rules: what the config file's
 * `management:` lists (the trusted prefixes of the lockout guard). Absent
 * (an older state, or no management prefixes): none. User space only. */
#define SL_CFG_REC_KEY	 0U
#define SL_CFG_REC_MAGIC 0x534c4347U /* "SLCG" */
#define SL_MGMT_MAX	 24

struct sl_rec_prefix {
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 plen;
	__u8 pad[2];
	__u8 addr[16];
};
_Static_assert(sizeof(struct sl_rec_prefix) == 20, "sl_rec_prefix size");

struct sl_cfg_rec {
	__u32 magic; /* SL_CFG_REC_MAGIC */
	__u32 n_mgmt;
	struct sl_rec_prefix mgmt[SL_MGMT_MAX];
	/* Digest of the running sets' entries (kind, direction, prefix;
	 * order-free), so that an apply whose sets are the same need not
	 * read them back; 0: unknown (a CLI verb changed the sets in place
	 * and cleared it first). */
	__u64 sets_digest;
	__u8 reserved[SL_RULE_DEF_SIZE - 16 - SL_MGMT_MAX * 20];
};
_Static_assert(sizeof(struct sl_cfg_rec) == SL_RULE_DEF_SIZE,
	       "the config record is a rule definition's size");

/* ---- classifier (section owned by src/lib/classify.c, bpf/lib/rules.h) ----
 */
/* Decision trees (HiCuts cuts, EffiCuts separation) over the rule boxes;
 * docs/classifier.md. Regions of the blob after struct sl_blob_hdr:
 *   rule table: struct sl_cls_rule [SL_CLS_RULE_CAP], indexed by order
 *               position (rules sorted by priority, id)
 *   pool:       to the blob's end, SL_CLS_POOL_WORDS_OF(log) words: the
 *               nodes (struct sl_cls_node, 8 bytes) from its start, the
 *               leaf lists (__u32 order positions) from its end: one
 *               budget for both
 * Node indexes (roots' and internal nodes' base) count 8-byte units and
 * leaf-list indexes (a leaf's base) 4-byte units from the blob's start;
 * the walk masks them to the blob's size (no compare), so a bad blob can
 * misclassify but never read outside it. */
#define SL_CLS_TREE_MAX	 16 /* trees walked per packet */
#define SL_CLS_DEPTH_MAX 16 /* internal nodes on a root-to-leaf path */
#define SL_CLS_LEAF_MAX	 16 /* rules of a leaf scanned inline */
/* A leaf holds at most this many rules: those past SL_CLS_LEAF_MAX (rules
 * that no cut separates, e.g. hundreds sharing one box and differing only
 * in TCP flags, MAC or action) are scanned in a bpf_loop, paid only by the
 * packets that reach such a leaf. */
#define SL_CLS_LEAF_LONG 4096
/* A packet adds to the counters of at most this many count rules: the
 * first SL_COUNT_HITS_MAX matching count rules, in rule order, that come
 * before the deciding rule. Further matching count rules are not counted. */
#define SL_COUNT_HITS_MAX 8

#define SL_CLS_LEAF	0xff /* sl_cls_node.dim of a leaf */
#define SL_CLS_NONE	0xffffffffU
#define SL_CLS_RULE_LOG 17
#define SL_CLS_RULE_CAP (1U << SL_CLS_RULE_LOG)
/* Per class (log2 of the blob size): the rule table holds 2^(log - 8)
 * rules, at most SL_CLS_RULE_CAP; the pool takes the rest. */
#define SL_CLS_RULE_CAP_OF(log) \
	(1U << ((log)-8 < SL_CLS_RULE_LOG ? (log)-8 : SL_CLS_RULE_LOG))
#define SL_CLS_POOL_OFF_OF(log) \
	(SL_CLS_RULE_OFF +      \
	 (__u64)SL_CLS_RULE_CAP_OF(log) * sizeof(struct sl_cls_rule))
#define SL_CLS_POOL_WORDS_OF(log) \
	((__u32)(((1ULL << (log)) - SL_CLS_POOL_OFF_OF(log)) / 4))

/* Internal node: child = base + ((key[dim] >> shift) & ((1 << n) - 1)).
 * Leaf (dim SL_CLS_LEAF): n order positions at leaf list index base. */
struct sl_cls_node {
	__u8 dim;
	__u8 shift;
	__u16 n;
	__u32 base;
};
_Static_assert(sizeof(struct sl_cls_node) == 8, "sl_cls_node size");

/* One rule of the rule table: its box and what it does. id holds the rule
 * id in its low 17 bits (SL_CLS_ID_MASK), the connection states it
 * excludes in bits 17-21 (SL_CLS_CT_SHIFT) and, in its top byte, the rule's
 * MAC condition: an index of the blob's MAC table (0: none). */
struct sl_cls_rule {
	__u32 lo[SL_DIM_MAX];
	__u32 hi[SL_DIM_MAX];
	__u32 id;
	/* enum sl_rule_action in bits 0-3 (SL_CLS_ACT_MASK), the fragment
	 * states the rule excludes in bits 4-6 (SL_CLS_FRAG_SHIFT) */
	__u8 action;
	__u8 tcp_mask; /* match when (tcp flags & tcp_mask) == tcp_val */
	__u8 tcp_val;
	/* SL_RACT_REDIRECT: slot of SL_MAP_REDIRECT; SL_RACT_RATELIMIT: slot
	 * of SL_MAP_RL_PARAMS; else 0 */
	__u8 target;
};
_Static_assert(sizeof(struct sl_cls_rule) == 136, "sl_cls_rule size");

/* sl_blob_hdr.cls. Trees are ordered by minpos, the first order position
 * they hold: a tree whose minpos is after the best match so far is
 * skipped. none is SL_CLS_NONE (read from the blob so that the verifier
 * sees an unknown value and its states converge). */
struct sl_cls_hdr {
	__u32 ntrees;
	__u32 none;
	__u32 nnodes;
	__u32 nleaf;
	struct sl_cls_node root[SL_CLS_TREE_MAX];
	__u32 minpos[SL_CLS_TREE_MAX];
	/* SL_CLS_F_*: what this blob's builder guarantees; a blob of an
	 * earlier release has 0 here and gets the general walk. */
	__u32 flags;
	/* SL_CLS_F_CLASSES: bit dir * 4 + l3 (enum sl_rule_dir, enum
	 * sl_l3_class) set when some rule can match a packet of that class;
	 * a packet of a class with no rule skips the stage. */
	__u32 classes;
	__u8 blob_log; /* the blob's class (0: SL_BLOB_LOG_V2), for readers */
	__u8 pad[15];
};
_Static_assert(sizeof(struct sl_cls_hdr) == 232, "sl_cls_hdr size");

/* sl_cls_hdr.flags */
#define SL_CLS_F_CLASSES 0x1 /* classes is filled in */
/* Rules that can match no packet have an empty box in the rule table
 * (lo > hi in SL_DIM_L3), so a scan of the table in order equals the
 * walk: a rule set of at most SL_CLS_LINEAR_MAX rules is scanned so. */
#define SL_CLS_F_LINEAR	  0x2
#define SL_CLS_LINEAR_MAX 2
/* Every rule that can match decides alike for all packets of one
 * direction of a flow at one hook direction: none has a condition on TCP
 * flags, MAC addresses, the interface, the VLAN or an ICMP code (the
 * other dimensions are fixed by the flow's key and the hook, ct-state is
 * established for every packet the cache serves). Conntrack's fast path
 * caches a pass only under a blob with this flag (or without rules). */
#define SL_CLS_F_FLOW 0x4

#define SL_CLS_RULE_OFF 4096ULL

/* ---- conntrack settings in the blob ----
 * What apply changes of the connection table (the config file's
 * `conntrack:` section) lives in the blob like the policy: sl_blob_hdr
 * .ct_flags and struct sl_ct_conf at SL_CT_CONF_OFF, the last 48 bytes
 * before the rule table (taken from the MAC table, which had 239 usable
 * entries and now has 236). A blob without SL_BLOB_CT_CONF (an earlier
 * release's, whose MAC table may reach there) means every default. */
#define SL_BLOB_CT_CONF		0x1 /* struct sl_ct_conf is filled in */
#define SL_BLOB_CT_ENABLED	0x2 /* conntrack: enabled (the programs' switch) */
#define SL_BLOB_CT_DROP_INVALID 0x4 /* drop-invalid: drop ct state invalid */
/* struct sl_frag_conf is filled in, at SL_FRAG_CONF_OFF: entry 0 of the
 * MAC table, which no rule names (a blob without the flag: defaults) */
#define SL_BLOB_FRAG_CONF 0x8

/* Timeouts, by entry state class (sl_ct_conf.tmo, seconds). */
enum sl_ct_tmo {
	SL_CT_TMO_SYN_SENT = 0,
	SL_CT_TMO_SYN_RECV,
	SL_CT_TMO_ESTABLISHED,
	SL_CT_TMO_FIN_WAIT,
	SL_CT_TMO_CLOSE_WAIT,
	SL_CT_TMO_LAST_ACK,
	SL_CT_TMO_TIME_WAIT,
	SL_CT_TMO_CLOSE,
	SL_CT_TMO_UDP,	       /* UDP, no reply seen yet */
	SL_CT_TMO_UDP_ASSURED, /* UDP, replied */
	SL_CT_TMO_ICMP,	       /* ICMP/ICMPv6 echo */
	SL_CT_TMO_MAX,
};

struct sl_ct_conf {
	__u32 max;		  /* capacity of sl_ct (entries) */
	__u32 tmo[SL_CT_TMO_MAX]; /* seconds; 0: the default */
};
_Static_assert(sizeof(struct sl_ct_conf) == 48, "sl_ct_conf size");
#define SL_CT_CONF_OFF (SL_CLS_RULE_OFF - sizeof(struct sl_ct_conf))

/* The fragment settings (config `fragments:`), in the blob when
 * sl_blob_hdr.ct_flags has SL_BLOB_FRAG_CONF. */
struct sl_frag_conf {
	__u32 timeout; /* seconds a first fragment's verdict holds; 0: the
			* default, SL_FRAG_TIMEOUT_S */
	__u32 pad[3];
};
_Static_assert(sizeof(struct sl_frag_conf) == 16, "sl_frag_conf size");

/* MAC conditions of rules (source and/or destination MAC, matched after
 * the box like the TCP flags), in the free space between the blob header
 * and the rule table: SL_CLS_MAC_MAX entries, entry 0 named by no rule
 * (it holds the fragment settings, SL_FRAG_CONF_OFF). A blob
 * built before MAC matching has zeros there and in the ids' top bytes. */
#define SL_CLS_MAC_OFF	 256ULL
#define SL_CLS_MAC_MAX	 237
#define SL_CLS_MAC_SHIFT 24
#define SL_CLS_ID_MASK	 0x0001ffffU
/* Bits SL_CLS_CT_SHIFT.. of sl_cls_rule.id: 1 << enum sl_ct_pkt of the
 * connection states the rule does not match (the complement of its
 * `ct-state`), 0: it matches any. Checked after the box, like the TCP
 * flags; a blob built before has zeros there. */
#define SL_CLS_CT_SHIFT 17
#define SL_CLS_CT_BITS	0x1fU
/* Bits SL_CLS_FRAG_SHIFT.. of sl_cls_rule.action: 1 << enum sl_frag of
 * the fragment states the rule does not match (the complement of its
 * `fragment`), 0: it matches any; the action itself is the low bits
 * (SL_CLS_ACT_MASK). Checked after the box with the ct-state; a blob built
 * before has zeros there. */
#define SL_CLS_ACT_MASK	  0x0fU
#define SL_CLS_FRAG_SHIFT 4
#define SL_CLS_FRAG_BITS  0x7U
/* Bit SL_CLS_LOG of sl_cls_rule.id: the rule has `log` (an event for
 * every packet it decides, within the events' per-rule rate); a blob built
 * before has 0 there. */
#define SL_CLS_LOG     0x00400000U
#define SL_CLS_MAC_SRC 0x01 /* smac must equal the frame's source */
#define SL_CLS_MAC_DST 0x02 /* dmac must equal the frame's destination */

struct sl_cls_mac {
	__u8 flags; /* SL_CLS_MAC_* */
	__u8 pad;
	__u8 smac[6];
	__u8 dmac[6];
	__u8 pad2[2];
};
_Static_assert(sizeof(struct sl_cls_mac) == 16, "sl_cls_mac size");
#define SL_FRAG_CONF_OFF SL_CLS_MAC_OFF /* MAC table entry 0: never named */
_Static_assert(sizeof(struct sl_frag_conf) <= sizeof(struct sl_cls_mac),
	       "the fragment settings fit the unused MAC table entry 0");
_Static_assert(SL_CLS_MAC_OFF + SL_CLS_MAC_MAX * sizeof(struct sl_cls_mac) <=
		   SL_CT_CONF_OFF,
	       "the MAC table fits between the header and the conntrack "
	       "settings");
_Static_assert(SL_RULE_MAX - 1 <= SL_CLS_ID_MASK, "rule ids fit 17 bits");
_Static_assert(SL_RACT_MAX - 1 <= SL_CLS_ACT_MASK &&
		   (SL_CLS_FRAG_BITS << SL_CLS_FRAG_SHIFT) <= 0xff &&
		   !(SL_CLS_ACT_MASK & (SL_CLS_FRAG_BITS << SL_CLS_FRAG_SHIFT)),
	       "the fragment bits sit above the action in its byte");
_Static_assert((SL_CLS_CT_BITS << SL_CLS_CT_SHIFT) < SL_CLS_LOG &&
		   SL_CLS_LOG < (1U << SL_CLS_MAC_SHIFT),
	       "the log bit sits between the ct-state bits and the MAC index");
_Static_assert((SL_CLS_CT_BITS << SL_CLS_CT_SHIFT) < (1U << SL_CLS_MAC_SHIFT),
	       "the ct-state bits sit between the id and the MAC index");
/* Not a power of two: pool indexes are bounded by a compare. */
_Static_assert(SL_CLS_POOL_OFF_OF(SL_BLOB_LOG_MIN) % 8 == 0,
	       "nodes are 8-byte aligned");
_Static_assert(SL_CLS_POOL_OFF_OF(SL_BLOB_LOG_MIN) < (1U << SL_BLOB_LOG_MIN),
	       "the smallest class has a pool");
_Static_assert(SL_CLS_RULE_CAP_OF(SL_BLOB_LOG_V2) == SL_CLS_RULE_CAP,
	       "classes from SL_BLOB_LOG_V2 on hold every rule");
_Static_assert(SL_CLS_RULE_CAP >= SL_RULE_MAX, "rule table holds every rule");
/* ---- end of classifier section ---- */

/* ---- Per-interface counters ----
 * sl_iface_stats: a per-CPU ARRAY of SL_IFACE_SLOTS cells. Slot
 * ifindex % SL_IFACE_SLOTS counts the verdicts of interface `ifindex` by
 * direction and action once the control plane has claimed it for that
 * interface (at attach; it writes the owner into every CPU's cell). A
 * packet of an interface whose slot another interface holds is counted in
 * the reason/action counters only (sluice status says so). */
#define SL_IFACE_SLOTS	   64
#define SL_MAP_IFACE_STATS "sl_iface_stats"

struct sl_iface_ctr {
	__u32 ifindex; /* the owner; 0: the slot is free */
	__u32 pad;
	struct sl_counter c[SL_RDIR_MAX][SL_STATS_ACTIONS];
};

/* ---- Connection tracking ----
 * sl_ct: a pinned LRU hash, runtime-owned (apply never switches or flushes
 * it; `sluice reset` removes it, `sluice ct flush` empties it). Both
 * directions of a flow share one entry: the key holds the two (address,
 * port) ends in a normalised order (the smaller first, by address bytes
 * then port), the value says which end started the flow. Addresses are in
 * one 16-byte form: IPv4 in the first 4 bytes (network order), the rest 0,
 * family 4; IPv6 family 6. ICMP/ICMPv6 echo puts the identifier in both
 * port places. Capacity: `conntrack: {max: N}`, a map creation parameter
 * (SL_CT_MAX_DEFAULT; SL_CT_MAX_MIN..SL_CT_MAX_MAX). */
#define SL_MAP_CT	  "sl_ct"
#define SL_CT_MAX_DEFAULT 262144U
#define SL_CT_MAX_MIN	  1024U
#define SL_CT_MAX_MAX	  (1U << 24)

struct sl_ct_key {
	__u8 addr[2][16]; /* the two ends, normalised order */
	__u16 port[2];	  /* host order; echo: the identifier, twice */
	__u8 proto;	  /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	__u8 family;	  /* 4 or 6 */
	__u8 pad[2];
};
_Static_assert(sizeof(struct sl_ct_key) == 40, "sl_ct_key size");

/* Fills k with the flow of (s, sp) -> (d, dp) in the normalised order and
 * returns the end the source is (0 or 1). s, d: 4 words, network order
 * (IPv4: the first word, the others 0). The order compares the words as
 * numbers, the first differing one deciding, then the ports: any total
 * order does, both directions of a flow give the same key. */
static inline __attribute__((always_inline)) __u32
sl_ct_key_make(struct sl_ct_key *k, const __u32 *s, const __u32 *d, __u16 sp,
	       __u16 dp, __u8 proto, __u8 family)
{
	__u32 *a = (__u32 *)k->addr;
	__u32 side = sp > dp;

	/* backwards: the first differing word is compared last (BPF:
	 * clang unrolls these constant-bound loops) */
	for (int i = 3; i >= 0; i--)
		if (s[i] != d[i])
			side = s[i] > d[i];
	for (int i = 0; i < 4; i++) {
		a[i] = side ? d[i] : s[i];
		a[4 + i] = side ? s[i] : d[i];
	}
	k->port[0] = side ? dp : sp;
	k->port[1] = side ? sp : dp;
	k->proto = proto;
	k->family = family;
	k->pad[0] = k->pad[1] = 0;
	return side;
}

/* State of an entry (sl_ct_val.state). */
enum sl_ct_state {
	SL_CTS_NONE = 0,
	SL_CTS_SYN_SENT,
	SL_CTS_SYN_RECV,
	SL_CTS_ESTABLISHED,
	SL_CTS_FIN_WAIT,
	SL_CTS_CLOSE_WAIT,
	SL_CTS_LAST_ACK,
	SL_CTS_TIME_WAIT,
	SL_CTS_CLOSE,
	SL_CTS_UDP_UNREPLIED,
	SL_CTS_UDP_ASSURED,
	SL_CTS_ICMP_REQUEST, /* echo request seen, no reply yet */
	SL_CTS_ICMP_REPLIED,
	SL_CTS_MAX,
};

/* The timeout class of each state (SL_CT_TMO_*), and the defaults (those
 * of the kernel's nf_conntrack), in seconds. */
static inline __u32 sl_ct_tmo_of(__u32 state)
{
	static const __u8 t[SL_CTS_MAX] = {
	    [SL_CTS_NONE] = SL_CT_TMO_CLOSE,
	    [SL_CTS_SYN_SENT] = SL_CT_TMO_SYN_SENT,
	    [SL_CTS_SYN_RECV] = SL_CT_TMO_SYN_RECV,
	    [SL_CTS_ESTABLISHED] = SL_CT_TMO_ESTABLISHED,
	    [SL_CTS_FIN_WAIT] = SL_CT_TMO_FIN_WAIT,
	    [SL_CTS_CLOSE_WAIT] = SL_CT_TMO_CLOSE_WAIT,
	    [SL_CTS_LAST_ACK] = SL_CT_TMO_LAST_ACK,
	    [SL_CTS_TIME_WAIT] = SL_CT_TMO_TIME_WAIT,
	    [SL_CTS_CLOSE] = SL_CT_TMO_CLOSE,
	    [SL_CTS_UDP_UNREPLIED] = SL_CT_TMO_UDP,
	    [SL_CTS_UDP_ASSURED] = SL_CT_TMO_UDP_ASSURED,
	    [SL_CTS_ICMP_REQUEST] = SL_CT_TMO_ICMP,
	    [SL_CTS_ICMP_REPLIED] = SL_CT_TMO_ICMP,
	};

	return state < SL_CTS_MAX ? t[state] : SL_CT_TMO_CLOSE;
}

static inline __u32 sl_ct_tmo_default(__u32 tmo)
{
	static const __u32 d[SL_CT_TMO_MAX] = {
	    [SL_CT_TMO_SYN_SENT] = 120,
	    [SL_CT_TMO_SYN_RECV] = 60,
	    [SL_CT_TMO_ESTABLISHED] = 432000,
	    [SL_CT_TMO_FIN_WAIT] = 120,
	    [SL_CT_TMO_CLOSE_WAIT] = 60,
	    [SL_CT_TMO_LAST_ACK] = 30,
	    [SL_CT_TMO_TIME_WAIT] = 120,
	    [SL_CT_TMO_CLOSE] = 10,
	    [SL_CT_TMO_UDP] = 30,
	    [SL_CT_TMO_UDP_ASSURED] = 120,
	    [SL_CT_TMO_ICMP] = 30,
	};

	return tmo < SL_CT_TMO_MAX ? d[tmo] : 10;
}

/* sl_ct_val.flags */
#define SL_CT_F_REPLIED 0x01 /* a packet of the reply direction was seen */
#define SL_CT_F_VERDICT 0x02 /* verdict/serial hold cached verdicts */

/* TCP window tracking (bpf/lib/ct_tcp.h, the kernel's tcp_in_window()):
 * what one end has sent and may send, per direction of an entry. A flow
 * whose SYN Sluice saw is checked: a segment outside the window (sequence
 * beyond what the other end allowed, or older than its largest window;
 * an ACK of data never sent, or too far behind) is invalid. A flow
 * started otherwise (the ACK of a SYN cookie, an entry carried over from
 * layout 5) has no window and is tracked liberally, as the kernel's picked
 * up connections. */
#define SL_CT_W_SEEN  0x01 /* this end's state is set */
#define SL_CT_W_SCALE 0x02 /* its SYN carried a window scale option */
#define SL_CT_W_CHECK 0x04 /* win[0] only: the flow's segments are checked */

struct sl_ct_win {
	__u32 end;    /* highest sequence number sent, plus its length */
	__u32 maxend; /* highest sequence number the other end allowed */
	__u32 maxwin; /* largest window (scaled) this end advertised */
	__u8 scale;   /* its window scale (0 unless both SYNs had one) */
	__u8 flags;   /* SL_CT_W_* */
	__u8 pad[2];
};
_Static_assert(sizeof(struct sl_ct_win) == 16, "sl_ct_win size");

/* An entry. Directions: 0 is the initiator's (the original direction), 1
 * the reply. Times are bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC at the
 * last tick, so up to a tick behind clock_gettime()). Counters are
 * added atomically; state changes are plain writes (two CPUs racing on one
 * flow may lose one transition, as in other BPF connection trackers). */
struct sl_ct_val {
	__u64 first; /* ns: the entry was made */
	__u64 last;  /* ns: last packet that fit its state */
	__u64 packets[2];
	__u64 bytes[2];
	__u8 state;	  /* enum sl_ct_state */
	__u8 orig;	  /* key end (0 or 1) that started the flow */
	__u8 flags;	  /* SL_CT_F_* */
	__u8 fin_dir;	  /* TCP: direction + 1 of the first FIN, 0: none */
	__u8 tcp_seen[2]; /* TCP flags seen, ORed, per direction */
	/* established fast path (bpf/lib/conntrack.h): bit s (0-3) a pass
	 * cached for slot s = hook direction * 2 + flow direction, bit s + 4
	 * that a rule decided it (else the policy) */
	__u8 verdict;
	__u8 pad;
	__u64 serial; /* config blob serial the verdict was computed with */
	struct sl_ct_win win[2]; /* TCP: by direction (0: the initiator) */
};
_Static_assert(sizeof(struct sl_ct_val) == 96, "sl_ct_val size");

/* A packet's connection-tracking state (struct sl_pctx.ct), what the
 * rules stage will match (`ct-state`). */
enum sl_ct_pkt {
	SL_CT_UNTRACKED = 0, /* conntrack off, or not a tracked protocol */
	SL_CT_NEW,	     /* starts a flow, or no reply seen yet */
	SL_CT_ESTABLISHED,   /* of a flow that saw both directions */
	SL_CT_RELATED,	     /* an ICMP error quoting a tracked flow */
	SL_CT_INVALID,	     /* fits no valid state */
	SL_CT_PKT_MAX,
};
_Static_assert((1U << SL_CT_PKT_MAX) - 1 == SL_CLS_CT_BITS,
	       "a rule's ct-state condition holds every state");

/* ---- SYN-flood protection (synproxy) ----
 * Config-owned: the protected local TCP ports (`synproxy: {ports: [...]}`),
 * a bitmap of SL_SYN_WORDS 64-bit words (port p is bit p % 64 of word
 * p / 64), and at index SL_SYN_WORDS the options of the SYN-ACK the XDP
 * stage sends (struct sl_syn_params, in the word's 8 bytes). Written by
 * apply and `sluice synproxy` in one batch (each port flips alone); a
 * zero bitmap protects nothing. */
#define SL_MAP_SYNPROXY	  "sl_synproxy"
#define SL_SYN_WORDS	  1024 /* 65,536 ports */
#define SL_SYN_MSS4_DEF	  1460
#define SL_SYN_MSS6_DEF	  1440
#define SL_SYN_WSCALE_DEF 7

struct sl_syn_params {
	__u16 mss4;  /* MSS option of IPv4 SYN-ACKs */
	__u16 mss6;  /* of IPv6 SYN-ACKs */
	__u8 wscale; /* window scale option, when the SYN has one */
	__u8 pad[3];
};
_Static_assert(sizeof(struct sl_syn_params) == 8, "sl_syn_params size");

/* ---- Events (docs/architecture.md, Events) ----
 * SL_MAP_EVENTS: a BPF ring buffer of struct sl_event records, runtime-
 * owned (apply never touches it), read by one consumer at a time
 * (`sluice events`). The choke point writes at most one record a verdict,
 * only in programs loaded with sl_features.events: a drop event (action
 * drop or abort, with `events: {drops: true}`), else a log event (the
 * deciding rule has `log`, within its per-rule token bucket), else a
 * sampled flow event (1 in `sample` verdicts on average, per CPU and
 * hook). A record the ring has no room for is counted in SL_MAP_EV_LOST
 * (per-CPU array, one __u64), never dropped silently. The parameters are
 * config-owned: SL_MAP_EV_CONF (one struct sl_ev_conf, written by apply
 * before the config switch). The log buckets live in SL_MAP_EV_LOG
 * (runtime-owned LRU hash, rule id -> struct sl_rl_bucket). */
#define SL_MAP_EVENTS	    "sl_events"
#define SL_MAP_EV_LOST	    "sl_ev_lost"
#define SL_MAP_EV_CONF	    "sl_ev_conf"
#define SL_MAP_EV_LOG	    "sl_ev_log"
#define SL_EV_RING_SIZE	    (1U << 20) /* bytes: 13,107 records */
#define SL_EV_LOG_BUCKETS   4096       /* log rules with a live bucket */
#define SL_EV_LOG_RATE_DEF  10	       /* events/s per log rule */
#define SL_EV_LOG_BURST_DEF 50	       /* events a quiet rule may burst */
#define SL_EV_SAMPLE_MAX    (1U << 24)

/* Capture (`sluice dump`): SL_MAP_EV_CAP, runtime-owned (apply never
 * touches it), one struct sl_ev_cap that `sluice dump` sets while it runs
 * and puts back to 0 when it ends. With caplen > 0 every record the
 * datapath writes is followed by the frame's first min(caplen, frame
 * length, SL_EV_CAP_MAX) bytes (from the Ethernet header on, XDP and TC
 * alike): the ring's record length says how many (record length minus
 * sizeof(struct sl_event)); 0 bytes when off. A killed dump may leave a
 * non-zero caplen: the next dump overwrites it. */
#define SL_MAP_EV_CAP "sl_ev_cap"
#define SL_EV_CAP_MAX 2048 /* bytes of a frame a record may carry */

struct sl_ev_cap {
	__u32 caplen; /* bytes of each frame to copy; 0: off */
	__u32 reserved;
};
_Static_assert(sizeof(struct sl_ev_cap) == 8, "sl_ev_cap size");

/* sl_event.type */
enum sl_ev_type {
	SL_EV_DROP = 1,	  /* a drop (or abort) verdict */
	SL_EV_SAMPLE = 2, /* a sampled verdict */
	SL_EV_LOG = 3,	  /* a verdict of a rule with `log` */
	SL_EV_TYPE_MAX,
};

/* sl_ev_conf.flags */
#define SL_EV_F_DROPS 0x1 /* drop events */
#define SL_EV_F_LOG   0x2 /* a running rule has `log` (control plane only) */

struct sl_ev_conf {
	__u32 flags;  /* SL_EV_F_* */
	__u32 sample; /* sampled flow events: 1 in N verdicts; 0: off */
	/* log rules: each rule's bucket holds log_burst events and refills
	 * log_rate a second (SL_RL_SCALE nano-tokens an event) */
	__u32 log_rate;
	__u32 log_burst;
	__u64 log_fill_ns; /* ns an empty bucket takes to fill */
};
_Static_assert(sizeof(struct sl_ev_conf) == 24, "sl_ev_conf size");

struct sl_event {
	__u64 ts;    /* bpf_ktime_get_boot_ns() */
	__u8 type;   /* enum sl_ev_type */
	__u8 action; /* enum sl_action */
	__u8 reason; /* enum sl_reason */
	__u8 dir;    /* enum sl_rule_dir */
	__u8 hook;   /* 0: XDP, 1: TC */
	__u8 family; /* 4, 6; 0: not IP (no addresses) */
	__u8 proto;  /* IP protocol; 0: none */
	__u8 tcp_flags;
	__u32 rule_id; /* the deciding rule (reason rule or ratelimit), 0 */
	__u32 ifindex;
	__u32 len;   /* frame length */
	__u16 vlan;  /* outer VLAN id, 0: untagged */
	__u16 sport; /* host order; 0 for protocols without ports */
	__u16 dport;
	__u8 icmp_type, icmp_code;
	__u8 src[16]; /* network order; IPv4: the first 4 bytes */
	__u8 dst[16];
	__u32 sample; /* SL_EV_SAMPLE: the rate N it was sampled at */
};
_Static_assert(sizeof(struct sl_event) == 72, "sl_event size");

/* ---- Load balancer (docs/loadbalancer.md) ----
 * Config-owned (written by apply and `sluice lb`):
 *   SL_MAP_LB_SVC     hash, NO_PREALLOC: struct sl_lb_svc_key -> sl_lb_svc
 *   SL_MAP_LB_BE      hash, NO_PREALLOC: backend id -> struct sl_lb_be
 *   SL_MAP_LB_MAGLEV  array of maps by service id: an ARRAY of SL_LB_M
 *                     backend ids (the Maglev table), built off to the
 *                     side and switched in with one map write
 * Runtime-owned (apply never switches or flushes them):
 *   SL_MAP_LB_STATS   per-CPU hash, NO_PREALLOC: backend id ->
 *                     struct sl_lb_ctr (made with the backend)
 *   SL_MAP_LB_CONN    array of maps, one slot: the connection table, an
 *                     LRU hash struct sl_lb_conn_key -> sl_lb_conn of
 *                     `loadbalancer: max` entries (SL_LB_CONN_MAX), made
 *                     by the first apply that has a service (an empty
 *                     attach holds none of it); another capacity makes it
 *                     anew, its entries copied, switched in with one write.
 *   SL_MAP_LB_HEALTH  hash, NO_PREALLOC: backend id -> struct sl_lb_be_health,
 *                     written by the daemon's health checks (no entry: up,
 *                     never checked); a down backend is out of its
 *                     service's Maglev table and its recorded flows move.
 * Service and backend ids are stable while they exist (an apply keeps
 * those of the same VIP:port/proto and backend address:port), so a flow's
 * recorded backend id stays valid across changes. */
#define SL_MAP_LB_SVC	 "sl_lb_svc"
#define SL_MAP_LB_BE	 "sl_lb_be"
#define SL_MAP_LB_MAGLEV "sl_lb_maglev"
#define SL_MAP_LB_STATS	 "sl_lb_stats"
#define SL_MAP_LB_CONN	 "sl_lb_conn"
#define SL_MAP_LB_HEALTH "sl_lb_health"
#define SL_LB_SVC_MAX	 256	/* services; ids 0 .. SL_LB_SVC_MAX - 1 */
#define SL_LB_BE_MAX	 4096	/* backends of all services; ids 1 .. */
#define SL_LB_M		 65537U /* Maglev table size (prime) */
#define SL_LB_CONN_MAX	 65536U /* connection table entries (default) */
/* Bounds of `loadbalancer: {max: N}`, the connection table's capacity. */
#define SL_LB_CONN_MAX_MIN 1024U
#define SL_LB_CONN_MAX_MAX (1U << 24)
#define SL_LB_NONE	   0xffffffffU /* a Maglev slot of no backend */

/* Forwarding mode of a service (sl_lb_svc.mode). */
enum sl_lb_mode {
	SL_LB_NAT = 0,	  /* destination NAT, reverse on the way back */
	SL_LB_DSR_L2 = 1, /* destination MAC rewritten, same L3 */
	SL_LB_DSR_IPIP =
	    2, /* IP-in-IP to the backend (outer source: the VIP) */
	SL_LB_MODE_MAX,
};

/* Health check of a service (run by `sluice daemon`). */
enum sl_lb_health {
	SL_LB_HC_NONE = 0,
	SL_LB_HC_TCP = 1,
	SL_LB_HC_HTTP = 2,
};

struct sl_lb_svc_key {
	__u8 vip[16]; /* network order; IPv4: the first 4 bytes, rest 0 */
	__u16 port;   /* host order */
	__u8 proto;   /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;  /* 4 or 6 */
};
_Static_assert(sizeof(struct sl_lb_svc_key) == 20, "sl_lb_svc_key size");

#define SL_LB_PATH_MAX 64

struct sl_lb_svc {
	__u32 id;   /* slot of SL_MAP_LB_MAGLEV */
	__u8 mode;  /* enum sl_lb_mode */
	__u8 flags; /* none yet */
	/* health check (user space only) */
	__u8 hc_type; /* enum sl_lb_health */
	__u8 hc_rise;
	__u8 hc_fall;
	__u8 pad[3];
	__u32 hc_interval_ms;
	char hc_path[SL_LB_PATH_MAX];
};
_Static_assert(sizeof(struct sl_lb_svc) == 80, "sl_lb_svc size");

/* sl_lb_be.flags */
#define SL_LB_BE_DRAINED 0x01 /* keeps its flows, takes no new ones */

struct sl_lb_be {
	__u8 addr[16]; /* network order; IPv4: the first 4 bytes, rest 0 */
	__u16 port;    /* host order */
	__u8 family;   /* 4 or 6 */
	__u8 flags;    /* SL_LB_BE_* */
	__u32 svc;     /* id of its service */
	__u32 weight;  /* Maglev weight (1 .. 1000) */
	__u32 pad;
};
_Static_assert(sizeof(struct sl_lb_be) == 32, "sl_lb_be size");

struct sl_lb_ctr {
	__u64 packets; /* forwarded to the backend (and back, nat) */
	__u64 bytes;
	__u64 conns; /* new flows given to it */
};
_Static_assert(sizeof(struct sl_lb_ctr) == 24, "sl_lb_ctr size");

/* A flow as the packet carries it: dir 0 is client -> VIP:port (the
 * forward entry), dir 1 backend -> client (the return path of nat). */
struct sl_lb_conn_key {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport; /* host order */
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u8 dir;
	__u8 pad;
};
_Static_assert(sizeof(struct sl_lb_conn_key) == 40, "sl_lb_conn_key size");

struct sl_lb_conn {
	__u64 last;   /* bpf_ktime_get_coarse_ns() of the last packet, to
		       * 1 s (rewritten when 1 s older: lb.h SL_LB_LAST_NS) */
	__u32 be;     /* backend id */
	__u32 svc;    /* service id */
	__u8 vip[16]; /* dir 1: the source to put back (VIP:vport) */
	__u16 vport;
	__u8 tcp; /* dir 1 of a nat TCP flow: SL_LB_C_* seen (0 before) */
	__u8 pad[5];
};
_Static_assert(sizeof(struct sl_lb_conn) == 40, "sl_lb_conn size");

/* sl_lb_conn.tcp: how far a nat TCP connection has closed, kept in its
 * reverse entry (a byte that was padding: entries written before it read
 * as open). Over (a RST, or a FIN each way), a SYN from the backend to the
 * client is a new connection that reuses the tuple (the client to the
 * backend directly): the entry goes and the segment is not translated. A
 * client's new SYN to the VIP writes the entry afresh. */
#define SL_LB_C_FIN_FWD 0x01 /* the client's FIN */
#define SL_LB_C_FIN_REV 0x02 /* the backend's FIN */
#define SL_LB_C_RST	0x04 /* a RST, either way */

/* sl_lb_health.state */
#define SL_LB_UP      0 /* (also: no entry) in the table */
#define SL_LB_DOWN    1 /* out of the table; its flows move */
#define SL_LB_ERR_MAX 48

/* A backend's health (runtime-owned; the datapath reads only state). The
 * backend's address, port and service id say whose it is, so a result for
 * a backend that went away is never taken for its id's next owner. */
struct sl_lb_be_health {
	__u8 addr[16]; /* as sl_lb_be */
	__u16 port;
	__u8 family;
	__u8 state; /* SL_LB_UP or SL_LB_DOWN */
	__u32 svc;
	__u32 ok;     /* consecutive successful checks */
	__u32 fail;   /* consecutive failed checks */
	__u64 since;  /* wall clock (ns since the epoch) of the last change */
	__u64 checks; /* checks run */
	char err[SL_LB_ERR_MAX]; /* the last failure ("" none) */
};
_Static_assert(sizeof(struct sl_lb_be_health) == 96, "sl_lb_be_health size");

#endif /* SLUICE_ABI_H */
