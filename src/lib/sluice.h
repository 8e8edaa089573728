/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* libsluice: the control plane shared by the CLI, the daemon, the tests and
 * the benchmarks. Functions return 0 or a negative errno; -EINVAL always
 * means bad input (the CLI exits 2), anything else a runtime failure (exit
 * 1). Every failure has already been reported on stderr in one line that
 * names the object. Nothing is half applied: each call validates all of its
 * input before it changes any kernel state. */
#ifndef SLUICE_H
#define SLUICE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/abi.h>

#define SL_DEFAULT_BPFFS "/sys/fs/bpf"
#define SL_PIN_SUBDIR	 "sluice"
/* A folder in <bpffs>/sluice when Sluice mounted the bpffs (reset
 * unmounts it then). */
#define SL_MOUNTED_MARK "mounted-by-sluice"

struct sluice_xdp;
struct bpf_object;

/* ---- loader (ctx.c) ---- */

/* The programs of the object (bpf/sluice_xdp.bpf.c). */
#define SL_PROG_XDP    1U /* sluice_xdp: XDP, ingress */
#define SL_PROG_TC_IN  2U /* sluice_tc_in: TC (clsact) ingress */
#define SL_PROG_TC_OUT 4U /* sluice_tc_out: TC (clsact) egress */
#define SL_PROG_ALL    (SL_PROG_XDP | SL_PROG_TC_IN | SL_PROG_TC_OUT)

/* Opens and loads the object (XDP and TC programs, shared maps). pin_dir:
 * where maps are pinned and reused (NULL: private maps, for tests and
 * benchmarks). progs: SL_PROG_* bits of the programs to load (0 creates the
 * maps only; each program costs its verification time). feat: NULL for the
 * defaults. */
struct sluice_xdp *sl_xdp_load(const char *pin_dir,
			       const struct sl_features *feat, unsigned progs);
/* The same; a connection table (sl_ct) this load creates gets ct_max
 * entries (0: SL_CT_MAX_DEFAULT with feat->conntrack, else 1, a
 * placeholder). A pinned one is reused with its capacity. */
struct sluice_xdp *sl_xdp_load_ct(const char *pin_dir,
				  const struct sl_features *feat,
				  unsigned progs, __u32 ct_max);

/* The runtime-owned maps whose capacity the config file sets (a map
 * creation parameter: max_entries, never the layout). */
enum sl_rt_map {
	SL_RT_CT,    /* sl_ct: `conntrack: {max: N}` */
	SL_RT_RL,    /* sl_rl_buckets: `ratelimit: {max: N}` */
	SL_RT_FRAGS, /* sl_frags: `fragments: {max: N}` */
	SL_RT_MAPS,
	/* the load balancer's connection table, `loadbalancer: {max: N}`:
	 * the inner map of sl_lb_conn, not a pin of its own (lb.c resizes
	 * it; the loader and rt_prepare never see it) */
	SL_RT_LB_CONN = SL_RT_MAPS,
	SL_RT_ALL
};
/* The pinned name of runtime map i (enum sl_rt_map, SL_RT_LB_CONN too),
 * and its config key ("conntrack max"). */
const char *sl_rt_map_name(int i);
const char *sl_rt_map_key(int i);
/* The same as sl_xdp_load_ct for every runtime map: one this load creates
 * gets caps[i] entries (0: its default; sl_ct's as in sl_xdp_load_ct); a
 * pinned one is reused with its capacity. */
struct sluice_xdp *sl_xdp_load_caps(const char *pin_dir,
				    const struct sl_features *feat,
				    unsigned progs,
				    const __u32 caps[SL_RT_MAPS]);
void sl_xdp_destroy(struct sluice_xdp *skel);
int sl_xdp_prog_fd(struct sluice_xdp *skel);
struct bpf_object *sl_xdp_object(struct sluice_xdp *skel);
/* The fd of one loaded program (one SL_PROG_* bit), or a negative errno. */
int sl_prog_fd(struct sluice_xdp *skel, unsigned prog);
void sl_features_default(struct sl_features *feat);
/* The blob class (SL_BLOB_LOG_*) a load uses: feat->blob_log when set,
 * else the pinned state's (sl_meta; SL_BLOB_LOG_V2 for state that names
 * none), else, for new state, SL_BLOB_LOG_MIN. */
unsigned sl_blob_log_for(const char *pin_dir, const struct sl_features *feat);
/* The blob class a loaded object runs with. */
unsigned sl_xdp_blob_log(struct sluice_xdp *skel);

/* Maps with one instance per slot: 4 tries, 4 host hashes, rule defs. */
#define SL_N_SET_MAPS 9

/* The running state under <bpffs>/sluice, locked for the life of the ctx. */
/* Capacities of the state (the config file's `limits:` section,
 * config_limits.c); 0: the default. Stored in sl_meta by apply. */
struct sl_limits {
	uint32_t prefixes; /* set trie entries per family and direction */
	uint32_t hosts;	   /* host hash entries per family and direction */
	uint32_t rules;	   /* rules */
};
#define SL_LIMIT_SET_MIN 1024U
#define SL_LIMIT_SET_MAX (1U << 24)
/* Every 0 of in replaced by its default. */
void sl_limits_effective(const struct sl_limits *in, struct sl_limits *out);
bool sl_limits_equal(const struct sl_limits *a, const struct sl_limits *b);

struct sl_ctx {
	char bpffs[256];
	char dir[300]; /* <bpffs>/sluice */
	int lock_fd;
	struct sluice_xdp *skel;
	bool wrapped; /* skel belongs to the caller (sl_ctx_wrap) */
	/* Set slot that set verbs read and write: the running config's
	 * (sl_blob_hdr.set_gen), or the one apply is filling. */
	int set_gen;
	int defs_gen; /* the same for the rule definitions (sl_rule_defs) */
	int set_fd[SL_SET_GENS][SL_N_SET_MAPS]; /* inner map fds, 0: none */
	/* The slot's map is the other slot's (empty) map, installed by
	 * sl_sets_new_slot(): replaced by a new one before the first write
	 * through this ctx (sets.c). */
	bool set_cow[SL_SET_GENS][SL_N_SET_MAPS];
	/* Capacities new set maps are made with (effective values): the
	 * running ones (sl_meta), or the config apply is building. */
	struct sl_limits limits;
	bool limits_known;
	uint32_t defs_cap; /* entries of a new rule definitions map; 0: max */
};

/* bpffs: NULL for $SLUICE_BPFFS or /sys/fs/bpf. Mounts a bpffs there if none
 * is mounted. create: make the pin directory and maps if they do not exist
 * (false: return -ENOENT, printing nothing, when Sluice has no state
 * there). */
int sl_open(struct sl_ctx *ctx, const char *bpffs, bool create);
void sl_close(struct sl_ctx *ctx);
/* The running state for reading only (the daemon's scrapes): takes the
 * lock shared, waiting at most wait_ms for a writer to finish (-EAGAIN
 * then), so no writer is half-way through while it is open; never mounts
 * a bpffs, creates, upgrades or frees anything. -ENOENT when there is no
 * state, -EPROTO when its layout is not this binary's (nothing printed for
 * either). Release the lock soon (sl_close): writers wait for it. */
int sl_open_reader(struct sl_ctx *ctx, const char *bpffs, int wait_ms);
/* A ctx over private, empty maps (nothing pinned, nothing created under
 * bpffs): what read-only verbs and dry runs use when there is no state, so
 * they never create any. */
int sl_open_private(struct sl_ctx *ctx, const char *bpffs);
/* Drops ctx's skeleton and map fds, keeping the lock. */
void sl_close_skel(struct sl_ctx *ctx);

/* ---- pinned layout (upgrade.c) ---- */
/* The layout version of the state in ctx->dir: 0 for none (new state),
 * 1 for pins from before the version existed, else sl_meta's; a step folder
 * left by a killed upgrade names the layout it was upgrading. */
int sl_layout_read(const struct sl_ctx *ctx, __u32 *layout);
/* Brings state of `layout` to SL_LAYOUT_VERSION in place (may leave
 * ctx->skel loaded); -EPROTO, changing nothing, for a newer layout. */
int sl_upgrade(struct sl_ctx *ctx, __u32 layout);
/* Records `layout` in sl_meta. */
int sl_meta_write(struct sl_ctx *ctx, __u32 layout);
/* A ctx over a skeleton from sl_xdp_load(NULL, ...): private maps, no
 * bpffs, no lock (tests and benchmarks drive the real control plane on
 * it). sl_close() on it does not destroy the skeleton. */
void sl_ctx_wrap(struct sl_ctx *ctx, struct sluice_xdp *skel);
/* The map fd of a pinned map by name (SL_MAP_*), or a negative errno. */
int sl_map_fd(struct sl_ctx *ctx, const char *name);
/* The capacity of map fd, of the map pinned at path (0: none, unknown). */
__u32 sl_map_max(int fd);
__u32 sl_pin_max(const char *path);
/* 0 when the process may use BPF and attach programs, else -EPERM (and an
 * error naming what is missing has been printed). */
int sl_check_privileges(void);

/* ---- prefixes (prefix.c) ---- */

struct sl_prefix {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t plen;
	uint8_t addr[16];
};

/* Parses "198.18.0.0/24", "198.18.0.1" (/32), "2001:db8::/64" or
 * "2001:db8::1" (/128). Host bits beyond the prefix are an error. On error
 * returns -EINVAL and writes the reason to err. */
int sl_prefix_parse(const char *s, struct sl_prefix *p, char *err,
		    size_t errlen);
void sl_prefix_format(const struct sl_prefix *p, char *buf, size_t len);
/* Every address of `in` is in `out` (same family). */
bool sl_prefix_within(const struct sl_prefix *in, const struct sl_prefix *out);
/* The prefixes share an address (one holds the other). */
bool sl_prefix_overlap(const struct sl_prefix *a, const struct sl_prefix *b);

/* ---- bans (bans.c) ----
 * Banned source prefixes (abi.h, Bans): runtime-owned, never touched by
 * apply. Expiry times are on the datapath's clock, CLOCK_BOOTTIME. */
struct sl_ban {
	struct sl_prefix prefix;
	uint64_t expires; /* CLOCK_BOOTTIME ns; 0: permanent */
	uint64_t packets; /* dropped by this ban */
	uint64_t bytes;
};

/* Now on the datapath's clock (bpf_ktime_get_boot_ns), in ns. */
uint64_t sl_ban_now(void);
/* Bans every prefix of p for dur_ns from now (0: permanent): a prefix
 * banned already gets the new expiry and keeps its counters. Expired
 * entries are removed first. All or nothing: -ENOSPC, writing nothing,
 * when the new ones do not fit (SL_BAN_MAX_ENTRIES per family). added:
 * the prefixes that were not banned. p must hold no prefix twice. */
int sl_ban_add(struct sl_ctx *ctx, const struct sl_prefix *p, size_t n,
	       uint64_t dur_ns, size_t *added);
/* Lifts the bans of p; -EINVAL, changing nothing, if one is not banned
 * (an expired ban is not). */
int sl_ban_del(struct sl_ctx *ctx, const struct sl_prefix *p, size_t n);
/* The active bans, IPv4 first, in address order (free *out). */
int sl_ban_list(struct sl_ctx *ctx, struct sl_ban **out, size_t *n);
/* Removes every ban; n: the active ones among them. */
int sl_ban_flush(struct sl_ctx *ctx, size_t *n);

/* ---- sets (sets.c) ---- */

/* Hold back SIGINT, SIGTERM, SIGHUP and SIGQUIT while a write and its undo
 * run (a signal that comes meanwhile takes effect after), and let them go
 * again. */
void sl_signals_hold(sigset_t *old);
void sl_signals_release(const sigset_t *old);

struct sl_set_entry {
	struct sl_prefix prefix;
	uint8_t kind; /* enum sl_set_kind */
	uint8_t dir;  /* enum sl_dir */
	uint64_t packets;
	uint64_t bytes;
};

/* The same as sl_set_add (add) or sl_set_del, but through the apply path
 * (setbulk.c): the running config with the change is built in the unused
 * slot and switched with one map write, so the writer's death at any
 * point, by SIGKILL too, leaves the sets as they were. Costs a rebuild of
 * the changed set maps (and of the config blob). *changed: entries added
 * or removed. */
int sl_set_write_aside(struct sl_ctx *ctx, int kind, int dir,
		       const struct sl_prefix *p, size_t n, bool add,
		       size_t *changed);

/* Adds (add) or removes prefixes all or nothing, even if the writer dies
 * part-way (SIGKILL included): where the prefixes fall in one set map (one
 * batch syscall), in place with sl_set_add or sl_set_del; where they fall
 * in several (IPv4 and IPv6, hosts and shorter prefixes), or with aside,
 * through sl_set_write_aside. *changed: entries added or removed. */
int sl_set_write(struct sl_ctx *ctx, int kind, int dir,
		 const struct sl_prefix *p, size_t n, bool add, bool aside,
		 size_t *changed);
/* The number of set maps prefixes p[0..n) fall in (1..4). */
int sl_set_maps_touched(const struct sl_prefix *p, size_t n);

/* Adds prefixes as `kind` entries matching direction `dir`, with batch map
 * updates. A prefix already present with the same kind is kept (and its
 * counters); one present with the other kind is an error (-EINVAL) and
 * nothing is added. `added` (may be NULL) receives the number inserted. */
int sl_set_add(struct sl_ctx *ctx, int kind, int dir, const struct sl_prefix *p,
	       size_t n, size_t *added);
/* Removes prefixes; each must be present with that kind, else -EINVAL and
 * nothing is removed. */
int sl_set_del(struct sl_ctx *ctx, int kind, int dir, const struct sl_prefix *p,
	       size_t n);
/* The capacity of the sets (the config file's limits, docs/config.md). */
#define SL_CAPACITY_HINT                                                     \
	"raise the capacity with 'limits: {set-prefixes: N}' (prefixes) or " \
	"'limits: {set-hosts: N}' (hosts) in the config file and apply it"
/* Refuses (-EINVAL, reason in msg) entries that do not fit the sets: per
 * family and direction lim->prefixes prefixes and lim->hosts hosts (NULL:
 * the defaults), allow and deny together. Repeated entries count once
 * per listing (an upper bound). */
int sl_set_capacity_check(const struct sl_set_entry *e, size_t n,
			  const struct sl_limits *lim, char *msg, size_t len);
/* The capacities new maps of ctx are made with (effective values): the
 * running state's (sl_meta) unless apply set others (slots.c). */
const struct sl_limits *sl_ctx_limits(struct sl_ctx *ctx);
/* Records the running capacities in sl_meta (after an apply's switch). */
int sl_meta_limits_write(struct sl_ctx *ctx, const struct sl_limits *lim);
/* Writes a whole config's set entries into slot ctx->set_gen, which
 * sl_sets_new_slot() just made (fresh, empty), off to the side of the
 * running slot ctx->set_gen ^ 1 whose entries are run[0..nrun) (NULL: not
 * known). Maps whose entries equal the running slot's are shared with it
 * (nothing written, counters kept); the others are filled in address
 * order, one thread per map. A prefix in both kinds (one direction) is
 * -EINVAL, and so are too many entries (checked before anything is
 * written). */
int sl_sets_fill(struct sl_ctx *ctx, const struct sl_set_entry *e, size_t n,
		 const struct sl_set_entry *run, size_t nrun);
/* A stable order of n set entries, each at the start of an element of
 * `stride` bytes of base: by direction, family, address, prefix length
 * (by kind first, deny before allow, when by_kind). perm[i] is the index
 * of the i-th. Linear time (radix sort); -ENOMEM. */
int sl_set_order(const void *base, size_t stride, size_t n, bool by_kind,
		 uint32_t *perm);
/* Same entries (prefix, direction, kind; counters aside), in any order.
 * Repeated entries count: compare de-duplicated lists. */
bool sl_set_entries_equal(const struct sl_set_entry *a, size_t na,
			  const struct sl_set_entry *b, size_t nb);
/* Sorts entries in the canonical order of configs (sl_set_order by kind). */
int sl_set_entries_sort(struct sl_set_entry *v, size_t n);
/* Every entry of every set trie; *out is malloc'ed. kind 0: both kinds. */
/* An order-free digest of set entries (kind, direction, prefix; not the
 * counters), never 0. */
uint64_t sl_sets_digest(const struct sl_set_entry *e, size_t n);
/* The config record of the running rule definitions (key 0): 0, or
 * -ENOENT when there is none. */
int sl_cfg_rec_get(struct sl_ctx *ctx, struct sl_cfg_rec *rec);
/* Stores it in the current defs slot. */
int sl_cfg_rec_put(struct sl_ctx *ctx, const struct sl_cfg_rec *rec);
/* The number of entries of the running sets, allow and deny (status). */
int sl_set_count(struct sl_ctx *ctx, size_t *n);
int sl_set_list(struct sl_ctx *ctx, int kind, struct sl_set_entry **out,
		size_t *n);

/* Slot management for apply (slots.c). sl_sets_prepare() gives the rule
 * definitions of a freshly loaded skeleton an empty slot 0 when no slot
 * holds one (set maps get theirs on the first write).
 * sl_sets_new_slot() installs new, empty maps in slot gen (a set map whose
 * other slot holds an empty map gets that one, copied on the first write
 * through this ctx: an empty 1M-entry hash costs a 16 MiB bucket array);
 * sl_sets_drop_slot() empties slot gen (after the datapath stopped using
 * it). */
int sl_sets_prepare(struct sluice_xdp *skel);
void sl_sets_capture(struct bpf_object *obj); /* before load */
#define SL_SLOT_SETS 1U			      /* the eight set maps */
#define SL_SLOT_DEFS 2U			      /* the rule definitions */
int sl_sets_new_slot(struct sl_ctx *ctx, int gen, unsigned which);
int sl_sets_drop_slot(struct sl_ctx *ctx, int gen, unsigned which);
/* The fd of set map `name` (SL_MAP_SET_*, SL_MAP_HOST_*) in slot gen, owned
 * by ctx; negative errno when the slot is empty. */
int sl_set_inner_fd(struct sl_ctx *ctx, const char *name, int gen);
/* The name of slotted map i (0 .. SL_N_SET_MAPS - 1): the eight set maps
 * (tries, then host hashes; v4 src, v4 dst, v6 src, v6 dst), then
 * SL_MAP_RULE_DEFS. */
const char *sl_slot_name(int i);
/* The fd of slotted map i in slot gen; a slot without a map (an empty set)
 * gets a new one when `create`, else -ENOENT. */
int sl_slot_inner_fd(struct sl_ctx *ctx, int i, int gen, bool create);
/* The fd of the map in slot `key` of the array of maps outer_fd (the
 * caller closes it); -ENOENT when the slot is empty. */
int sl_inner_fd(int outer_fd, __u32 key);
/* True when the map holds no entry. */
bool sl_map_empty(int fd);
/* Calls fn on every entry of map fd (its key and value as read), in
 * batches where the kernel has them; stops at fn's non-zero return, which
 * it returns. */
typedef int (*sl_map_fn)(void *arg, const void *key, const void *val);
int sl_map_walk(int fd, sl_map_fn fn, void *arg);
/* Entries of map fd. */
size_t sl_map_count_all(int fd);
/* Puts slot `from`'s map m into slot gen as well (none when it has none). */
int sl_slot_share(struct sl_ctx *ctx, int m, int gen, int from);
/* True for the maps that have one instance per slot. */
bool sl_set_slotted(const char *name);

/* Reads a prefix list: one prefix per line, '#' or ';' starts a comment.
 * path is a regular file, or "-" for standard input (anything else, a FIFO
 * or a device, is -EINVAL). Lines are at most SL_LIST_LINE_MAX bytes; a
 * longer line or a NUL byte is -EINVAL, as is a list larger than
 * SL_LIST_MAX_DEFAULT bytes ($SLUICE_LIST_MAX_BYTES: another cap, suffix
 * k, M, G; 0: none). Errors name FILE:LINE:COLUMN; out of memory is
 * -ENOMEM, a read error -EIO. *out is malloc'ed. */
#define SL_LIST_LINE_MAX    4096U
#define SL_LIST_MAX_DEFAULT (256ULL << 20)
/* A size cap in bytes: def, or $var (a number, suffix k, M or G; 0: no
 * cap, ~0). -EINVAL (reported) when $var is not such a number. */
int sl_bytes_cap(const char *var, unsigned long long def,
		 unsigned long long *cap);
/* The same, calling fn for each prefix in file order instead of making an
 * array; a non-zero return from fn stops the read and is returned. */
int sl_prefix_file_each(const char *path,
			int (*fn)(void *arg, const struct sl_prefix *p),
			void *arg);
int sl_prefix_file_read(const char *path, struct sl_prefix **out, size_t *n);

/* ---- attachments (attach.c) ---- */

enum sl_xdp_mode {
	SL_MODE_NATIVE = 0,
	SL_MODE_GENERIC = 1,
};

/* Hooks an attach puts Sluice on (SL_HOOK_XDP | SL_HOOK_TC):
 *   xdp     the XDP program at ingress
 *   tc      the TC program at egress (clsact), and at TC ingress when xdp
 *           is not in the set, so that ingress is classified once. */
#define SL_HOOK_XDP 1U
#define SL_HOOK_TC  2U

/* Sluice's cls_bpf filters: one per direction, at this handle and
 * priority on the interface's clsact qdisc. */
#define SL_TC_HANDLE 0x51ceU
#define SL_TC_PRIO   0x51ceU

struct sl_attachment {
	char ifname[64];
	int ifindex;   /* 0 when the interface (or the TC filter) is gone */
	char hook[16]; /* "xdp", "tc-in" or "tc-out" */
	char mode[16]; /* xdp: "native" or "generic"; tc: "clsact" */
	uint32_t prog_id;
	uint32_t link_id; /* xdp only (TC filters are no links): else 0 */
	struct sl_features feat;
	bool feat_known;
};

/* Loads the current programs with feat (NULL: defaults) and puts ifname on
 * exactly the hooks in `hooks` (SL_HOOK_* bits; mode applies to XDP): XDP
 * through a pinned bpf_link, TC through filters on a clsact qdisc (created
 * if missing, otherwise kept). Every other attached interface moves to the
 * same programs, then the hooks ifname had that the set lacks are removed.
 * If any part fails (a move included), ifname and the other interfaces are
 * left on what they ran. Re-attaching replaces programs atomically; XDP in
 * the other mode than the attached one switches modes with Sluice's TC
 * ingress filter classifying the ingress in between (the kernel runs one
 * XDP mode at a time). */
int sl_attach(struct sl_ctx *ctx, const char *ifname, enum sl_xdp_mode mode,
	      unsigned hooks, const struct sl_features *feat);
/* The refusals of sl_attach() without changing anything: a bad or missing
 * interface, an XDP program or a TC filter at Sluice's handle/priority that
 * this state does not manage (0, or a negative errno after one line on
 * stderr). What only the kernel can tell (a driver without native XDP)
 * shows when attaching. */
int sl_attach_check(struct sl_ctx *ctx, const char *ifname,
		    enum sl_xdp_mode mode, unsigned hooks);
/* sl_attach() with hooks SL_HOOK_XDP. */
int sl_attach_xdp(struct sl_ctx *ctx, const char *ifname, enum sl_xdp_mode mode,
		  const struct sl_features *feat);
/* "xdp,tc", "tc", "xdp" (any order) to SL_HOOK_* bits; -EINVAL (printing
 * nothing) for an empty list or an unknown name. */
int sl_hooks_parse(const char *s, unsigned *hooks);
/* Removes every hook of ifname (XDP link, TC filters). The clsact qdisc is
 * left in place: other filters may share it. */
int sl_detach(struct sl_ctx *ctx, const char *ifname);
int sl_attachments(struct sl_ctx *ctx, struct sl_attachment **out, size_t *n);
/* Loads the current programs (with the load-time switches the attached ones
 * run) and moves every attachment onto them atomically, link by link and
 * filter by filter; all or nothing: on a failure every moved attachment
 * goes back to its previous program. *moved: attachments moved. The
 * load-time switches that `change` names (SL_FEAT_*) are taken from next
 * instead: how apply switches a stage on or off, or moves to another blob
 * class (change 0, next NULL: the running switches). */
int sl_reload(struct sl_ctx *ctx, unsigned change,
	      const struct sl_features *next, size_t *moved);
/* sl_reload's change: switches of struct sl_features */
#define SL_FEAT_BLOB_LOG  0x1
#define SL_FEAT_CONNTRACK 0x2
#define SL_FEAT_EVENTS	  0x4
#define SL_FEAT_LB	  0x8
/* Detaches everything (XDP links, TC filters) and removes every pin under
 * <bpffs>/sluice. */
int sl_reset(const char *bpffs);

/* ---- stats (stats.c) ---- */

/* Sums the per-CPU counters over the CPUs and the hooks:
 * out[sl_stats_idx(reason, action)]. */
int sl_stats_read(struct sl_ctx *ctx, struct sl_counter out[SL_STATS_MAX]);
/* The same, and, when hooks is not NULL, each hook's own (SL_HK_MAX rows
 * of SL_STATS_MAX cells: hooks[enum sl_hook_id][sl_stats_idx(r, a)]); out
 * is the sum of the rows. */
int sl_stats_read_hooks(struct sl_ctx *ctx, struct sl_counter out[SL_STATS_MAX],
			struct sl_counter (*hooks)[SL_STATS_MAX]);
/* Returns once every BPF program that was running when called has
 * finished (a write to a private array of maps: synchronize_rcu), so a
 * map the attachments no longer use can be read to its last count. */
int sl_wait_programs(void);

/* Per-interface counters (ifstats.c). Claims interface ifindex's slot of
 * sl_iface_stats (counters from zero) unless it holds it already; -EBUSY
 * when an interface of `live` (the attached ones) holds the slot. */
int sl_iface_claim(struct sl_ctx *ctx, int ifindex, const int *live,
		   size_t nlive);
struct sl_iface_stat {
	int ifindex;
	char name[16]; /* "" when the interface is gone */
	struct sl_counter c[SL_RDIR_MAX][SL_ACT_MAX]; /* summed over CPUs */
};
/* The claimed slots (malloc'ed, *n of them). */
int sl_iface_stats_read(struct sl_ctx *ctx, struct sl_iface_stat **out,
			size_t *n);
/* The same for a stats map fd (tests and benchmarks). */
int sl_stats_read_fd(int map_fd, struct sl_counter out[SL_STATS_MAX]);
int sl_stats_read_hooks_fd(int map_fd, struct sl_counter out[SL_STATS_MAX],
			   struct sl_counter (*hooks)[SL_STATS_MAX]);

/* ---- zeroing the counters (stats.c, ifstats.c, sets.c, zero.c) ---- */

/* Zeroes the action and reason counters on every CPU. */
int sl_stats_zero(struct sl_ctx *ctx);
/* Zeroes the counters of every claimed interface slot (the slots stay
 * claimed); *zeroed: slots zeroed. */
int sl_iface_stats_zero(struct sl_ctx *ctx, size_t *zeroed);
/* Zeroes the hit counters of every entry of the running sets in place;
 * *zeroed: entries that had counted something. */
int sl_set_counters_zero(struct sl_ctx *ctx, size_t *zeroed);
struct sl_zeroed {
	bool verdicts;	    /* action and reason counters */
	size_t ifaces;	    /* interface slots */
	size_t rules;	    /* rules of the running config */
	size_t set_entries; /* entries that had counted something */
};
/* Zeroes every counter and nothing else, in the order of struct
 * sl_zeroed; *z says how far it got when it fails. Packets counted while
 * it runs may or may not be kept (each counter is zeroed on its own). */
int sl_counters_zero(struct sl_ctx *ctx, struct sl_zeroed *z);

/* ---- rules and configs (rules.c, classify.c, config.c, apply.c) ---- */

#define SL_COMMENT_MAX	128
#define SL_PRIO_DEFAULT 1000

/* Where a value came from in a config file, for errors (line 0: CLI). */
struct sl_srcpos {
	uint32_t line, col;
};

/* One rule as the user wrote it. Unset fields match anything. Rules are
 * evaluated in ascending (priority, id) order; the first terminal match
 * (pass/drop/ratelimit/redirect) decides, count rules before it add to their
 * counters. */
struct sl_rule {
	uint32_t id;	   /* stable id, 1 .. SL_RULE_MAX - 1; 0: assign one */
	uint32_t priority; /* 0 .. 65535, lower first; SL_PRIO_DEFAULT */
	uint8_t action;	   /* enum sl_rule_action */
	uint8_t dirs;	   /* bit (1 << SL_RDIR_IN) | (1 << SL_RDIR_OUT) */
	uint8_t l3;	   /* 0: IPv4 and IPv6; else enum sl_l3_class */
	uint8_t has_src, has_dst, has_proto;
	struct sl_prefix src, dst;
	uint8_t proto;		     /* IPPROTO_* when has_proto */
	uint8_t tcp_mask, tcp_flags; /* match (flags & mask) == tcp_flags */
	uint16_t sport_lo, sport_hi; /* 0..65535 when unset */
	uint16_t dport_lo, dport_hi;
	int16_t icmp_type, icmp_code; /* -1: any */
	int32_t vlan;		      /* -1: any, else 1..4094 */
	char iface[16];		      /* "" : any */
	uint32_t ifindex; /* resolved from iface by the control plane */
	/* ratelimit (docs/config.md): one of rate_pps (packets per second)
	 * and rate_bytes (bytes per second); burst in the rate's unit (0:
	 * one second's); ban_secs 0: no ban; rl_per enum sl_rl_per with the
	 * key's prefix lengths (0: 32 and 128, the whole address) */
	uint32_t rate_pps, rate_bytes, burst, ban_secs;
	/* with both rates: burst sizes the packet bucket and burst_bytes the
	 * byte bucket (0: one second's) */
	uint32_t burst_bytes;
	uint8_t rl_per, rl_plen4, rl_plen6;
	uint8_t rl_slot;	    /* its slot of sl_rl_params (apply) */
	uint8_t has_smac, has_dmac; /* match source/destination MAC */
	uint8_t smac[6], dmac[6];
	char to[16];	     /* redirect: target interface */
	uint32_t to_ifindex; /* resolved from `to` by the control plane */
	uint8_t to_slot;     /* its slot of the redirect maps (apply) */
	char comment[SL_COMMENT_MAX];
	/* 1 << enum sl_ct_pkt of the connection states it matches; 0: any */
	uint8_t ct_state;
	/* 1 << enum sl_frag of the fragment states it matches; 0: any */
	uint8_t fragment;
	/* 1: `log`: an event for every packet it decides (events:, within
	 * the per-rule rate) */
	uint8_t log;
	struct sl_srcpos pos; /* where the rule starts in its config file */
};

/* The rule's persisted record (sl_rule_defs values) and back (rulerec.c).
 * Positions and resolved ifindexes are not stored. */
void sl_rule_to_rec(const struct sl_rule *r, struct sl_rule_rec *rec);
void sl_rule_from_rec(const struct sl_rule_rec *rec, struct sl_rule *r);

/* The `conntrack:` section (config_conntrack.c): 0 means the default
 * (SL_CT_MAX_DEFAULT, sl_ct_tmo_default()). Stored in the config blob. */
struct sl_ct_cfg {
	bool enabled;		     /* the conntrack stage runs */
	bool drop_invalid;	     /* it drops packets of ct state invalid */
	uint32_t max;		     /* capacity of the connection table */
	uint32_t tmo[SL_CT_TMO_MAX]; /* seconds */
};
/* Every 0 of in replaced by its default. */
void sl_ct_cfg_effective(const struct sl_ct_cfg *in, struct sl_ct_cfg *out);
bool sl_ct_cfg_equal(const struct sl_ct_cfg *a, const struct sl_ct_cfg *b);
/* The config name of timeout t (SL_CT_TMO_*): "syn-sent", ... */
const char *sl_ct_tmo_name(unsigned t);

/* The `synproxy:` section (config_synproxy.c, synproxy.c): the protected
 * local TCP ports, a bitmap as the datapath holds it (abi.h,
 * SL_MAP_SYNPROXY), and the SYN-ACK's options (0: the default). */
struct sl_syn_cfg {
	uint64_t bits[SL_SYN_WORDS];
	uint16_t mss4, mss6;
	uint8_t wscale;
};
static inline bool sl_syn_has(const struct sl_syn_cfg *s, unsigned port)
{
	return port < 65536 && ((s->bits[port / 64] >> (port % 64)) & 1);
}
static inline void sl_syn_set(struct sl_syn_cfg *s, unsigned port, bool on)
{
	if (port >= 65536)
		return;
	if (on)
		s->bits[port / 64] |= 1ULL << (port % 64);
	else
		s->bits[port / 64] &= ~(1ULL << (port % 64));
}
/* wscale: 0 is the default; a window scale of 0 is kept as this */
#define SL_SYN_WSCALE_ZERO 0xff
static inline unsigned sl_syn_wscale(const struct sl_syn_cfg *s)
{
	return s->wscale == SL_SYN_WSCALE_ZERO ? 0 : s->wscale;
}
/* A port "P" or a range "LO-HI" (1..65535): 0, -EINVAL (not one), or
 * -ERANGE (HI < LO). */
int sl_syn_range(const char *s, unsigned *lo, unsigned *hi);
/* How many ports are protected. */
size_t sl_syn_count(const struct sl_syn_cfg *s);
/* Every 0 of in replaced by its default. */
void sl_syn_effective(const struct sl_syn_cfg *in, struct sl_syn_cfg *out);
bool sl_syn_equal(const struct sl_syn_cfg *a, const struct sl_syn_cfg *b);
/* The ports as text, runs as ranges: "80, 443, 8000-8010" (sep between
 * items); returns the length (snprintf's). */
int sl_syn_format(const struct sl_syn_cfg *s, const char *sep, char *buf,
		  size_t size);
/* The running ports and options (an absent map: none). */
int sl_syn_read(struct sl_ctx *ctx, struct sl_syn_cfg *out);
/* Writes the datapath's map in one batch (each port flips alone). */
int sl_syn_write(struct sl_ctx *ctx, const struct sl_syn_cfg *s);
/* The kernel's half (netfilter SYNPROXY for the ports, in the namespace
 * Sluice runs in, nftables table `inet sluice_synproxy`, and
 * net.netfilter.nf_conntrack_tcp_loose=0); no ports: the table goes.
 * check: only check the ruleset (nft -c). 0 or a negative errno, with
 * nft's own message on stderr. */
int sl_syn_kernel(const struct sl_syn_cfg *s, bool check);
/* The `fragments:` section (config_frags.c): 0 means the default. Stored
 * in the config blob. */
struct sl_frag_cfg {
	uint32_t timeout; /* seconds (SL_FRAG_TIMEOUT_S) */
	uint32_t max;	  /* capacity of sl_frags (SL_FRAG_MAX_ENTRIES) */
};
/* The `ratelimit:` section (config_frags.c): the capacity of the buckets'
 * table, sl_rl_buckets (0: SL_RL_MAX_BUCKETS). */
struct sl_rl_cfg {
	uint32_t max;
};

/* The `events:` section (config_events.c, events.c): 0 means the default
 * (off; SL_EV_LOG_RATE_DEF, SL_EV_LOG_BURST_DEF). Stored in the config-
 * owned map SL_MAP_EV_CONF. */
struct sl_ev_cfg {
	bool drops;	    /* a drop event for every drop verdict */
	uint32_t sample;    /* 1-in-N sampled flow events per hook; 0: off */
	uint32_t log_rate;  /* events/s of each `log` rule */
	uint32_t log_burst; /* events a `log` rule may send at once */
};

/* ---- the load balancer's Maglev table (maglev.c) ---- */

#define SL_MAGLEV_M	       65537U /* the table size: prime */
#define SL_MAGLEV_MAX_BACKENDS 4096U
#define SL_MAGLEV_MAX_WEIGHT   1000U
#define SL_MAGLEV_EMPTY	       0xffffffffU
/* A backend: its identity (family 4 or 6, address in network order, IPv4
 * in the first 4 bytes, the rest 0; port) and its weight (0: drained, no
 * slot). */
struct sl_maglev_backend {
	uint8_t addr[16];
	uint8_t family;
	uint16_t port;
	uint32_t weight;
};
bool sl_is_prime(uint32_t m);
/* Fills table[0..m) with indexes into b (n backends, distinct
 * identities): the Maglev lookup table, the same for the same set of
 * backends whatever their order. 0, -EINVAL (m not prime or < n, n 0 or
 * over SL_MAGLEV_MAX_BACKENDS, a bad family or weight), -EEXIST (one
 * identity twice), -ENOENT (every weight 0) or -ENOMEM. */
int sl_maglev_build(const struct sl_maglev_backend *b, size_t n, uint32_t m,
		    uint32_t *table);

/* ---- the load balancer (config_lb.c, lb.c; docs/loadbalancer.md) ---- */

/* One backend of a service: its address (family 4 or 6, network order,
 * IPv4 in the first 4 bytes) and port, and its Maglev weight (0:
 * drained: it keeps its flows and takes no new ones). */
struct sl_lb_backend_cfg {
	uint8_t addr[16];
	uint8_t family;
	uint16_t port;
	uint32_t weight;
	struct sl_srcpos pos;
	/* Filled by sl_lb_read (not part of the config): its id and
	 * counters, summed over the CPUs. */
	uint32_t id;
	struct sl_lb_counts {
		uint64_t packets, bytes, conns;
	} cnt;
	/* its health (sl_lb_health), when a check has run: checked */
	bool checked;
	struct sl_lb_be_health health;
};

/* One service VIP:PORT/PROTO, its mode and backends, and its health check
 * (run by `sluice daemon`, health.c). */
struct sl_lb_service_cfg {
	uint8_t vip[16];
	uint8_t family; /* 4 or 6 */
	uint8_t proto;	/* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t mode;	/* enum sl_lb_mode */
	uint16_t port;
	struct {
		uint8_t type; /* enum sl_lb_health; 0: none */
		uint8_t rise, fall;
		uint32_t interval_ms;
		char path[SL_LB_PATH_MAX];
	} hc;
	struct sl_lb_backend_cfg *be;
	size_t n_be;
	struct sl_srcpos pos;
};

/* The `loadbalancer:` section. */
struct sl_lb_cfg {
	struct sl_lb_service_cfg *svc;
	size_t n_svc;
	/* capacity of the connection table (0: SL_LB_CONN_MAX); read back:
	 * the table's, 0 when there is none */
	uint32_t max;
};

#define SL_LB_WEIGHT_DEF      1U
#define SL_LB_HC_INTERVAL_DEF 1000U /* ms */
#define SL_LB_HC_RISE_DEF     2U
#define SL_LB_HC_FALL_DEF     2U

/* "tcp", "udp" -> IPPROTO_*; names of modes ("nat", "dsr-l2",
 * "dsr-ipip") and health types ("tcp", "http"). */
const char *sl_lb_mode_name(unsigned mode);
int sl_lb_mode_parse(const char *s);
/* Parses "198.18.100.1:80/tcp" or "[2001:db8::1]:80/udp" (proto: with
 * want_proto) or "198.18.1.10:8080" into addr/family/port/proto. 0 or
 * -EINVAL with the reason in err. */
int sl_lb_endpoint_parse(const char *s, bool want_proto, uint8_t *addr,
			 uint8_t *family, uint16_t *port, uint8_t *proto,
			 char *err, size_t errlen);
/* Formats the same ("[...]" around IPv6; "/tcp" when proto; prefix.c). */
void sl_lb_endpoint_format(const uint8_t *addr, uint8_t family, uint16_t port,
			   uint8_t proto, char *buf, size_t len);
/* Deep copy and free of a section. */
int sl_lb_cfg_copy(struct sl_lb_cfg *dst, const struct sl_lb_cfg *src);
void sl_lb_cfg_free(struct sl_lb_cfg *lb);
/* The same services and, when there are any, the same connection table
 * capacity. */
bool sl_lb_cfg_equal(const struct sl_lb_cfg *a, const struct sl_lb_cfg *b);
/* The connection table capacity lb asks for (its max, else the default). */
uint32_t sl_lb_conn_max(const struct sl_lb_cfg *lb);
/* The running connection table: its capacity (0: none made yet) and the
 * entries it holds. 0 or -errno. */
int sl_lb_conn_usage(struct sl_ctx *ctx, uint32_t *max, size_t *entries);
/* The services of `from` and `to` that differ (struct sl_apply_diff's
 * lb): 0 or -ENOMEM. */
struct sl_lb_svc_diff;
int sl_lb_diff(const struct sl_lb_cfg *from, const struct sl_lb_cfg *to,
	       struct sl_lb_svc_diff **out, size_t *n);
/* A service exists in the running state (the programs' lb switch). */
bool sl_lb_running(struct sl_ctx *ctx);
/* Checks across services (no VIP:PORT/PROTO twice, no backend twice in a
 * service, capacities, backend family = VIP family); err names the
 * service. 0 or -EINVAL. */
int sl_lb_cfg_check(const struct sl_lb_cfg *lb, char *err, size_t errlen);
struct sl_lb_service_cfg *sl_lb_find(struct sl_lb_cfg *lb, const uint8_t *vip,
				     uint8_t family, uint16_t port,
				     uint8_t proto);
/* The running section, from the maps (absent maps: empty), with the ids
 * and counters; services and backends in address order. */
int sl_lb_read(struct sl_ctx *ctx, struct sl_lb_cfg *out);
/* Writes lb into the maps (ids kept for services and backends that stay;
 * each service's Maglev table built aside and switched with one write; a
 * connection table of another capacity made anew, its entries copied over,
 * and switched in with one write); on failure the running section cur is
 * written back. */
int sl_lb_write(struct sl_ctx *ctx, const struct sl_lb_cfg *lb,
		const struct sl_lb_cfg *cur);

/* ---- scale-out behind ECMP (lbnode.c) ---- */

/* The node drain mark: a directory in the pin directory. */
#define SL_LB_DRAIN_MARK "lb-node-drained"

/* A VIP to announce. */
struct sl_lb_vip {
	uint8_t addr[16]; /* network order, IPv4 in the first 4 bytes */
	uint8_t family;	  /* 4 or 6 */
};

/* The node is drained (`sluice lb drain-node`): it announces nothing. */
bool sl_lb_node_drained(const struct sl_ctx *ctx);
/* Drains the node (drain) or ends the drain; 0 or -errno. */
int sl_lb_node_drain(const struct sl_ctx *ctx, bool drain);
/* The VIPs lb's node announces: none when drained, else each VIP one of
 * whose services has a backend that takes new flows (weight above 0, not
 * down by the health checks); sorted, each once
 * (free *out). 0 or -ENOMEM. */
int sl_lb_announced(const struct sl_lb_cfg *lb, bool drained,
		    struct sl_lb_vip **out, size_t *n);
/* The BIRD 2 snippet announcing v[0..n): protocols static sluice_vip4
 * and sluice_vip6 with a blackhole route per VIP (free *out). */
int sl_lb_bird_text(const struct sl_lb_vip *v, size_t n, bool drained,
		    char **out);
/* Writes text to path (aside, then renamed) unless path holds it already
 * (*changed false). 0 or -errno. */
int sl_lb_bird_write(const char *path, const char *text, bool *changed);

/* ---- health checks (health.c; docs/loadbalancer.md, Health checks) ---- */

/* One check's outcome: the health h after a check that succeeded (ok) or
 * failed, with the thresholds rise and fall (>= 1) at wall-clock time now
 * (ns): down after fall failures in a row, up after rise successes in a
 * row. True when the state changed. */
bool sl_lb_health_step(struct sl_lb_be_health *h, bool ok, unsigned rise,
		       unsigned fall, uint64_t now);
/* The status of an HTTP response's first bytes buf[0..len): 100 .. 599
 * once "HTTP/1.x SSS" and the byte after it (space or end of line) are
 * in, -EAGAIN before, -EPROTO when they are not a status line. */
int sl_http_status(const char *buf, size_t len);
/* A status that counts as healthy: 2xx or 3xx. */
bool sl_http_healthy(int status);

/* One backend to check and, once done, its outcome. */
struct sl_lb_probe {
	struct sl_lb_svc_key svc; /* its service */
	__u32 id;		  /* its backend id */
	uint8_t addr[16];
	uint8_t family;
	uint16_t port;
	uint8_t type; /* SL_LB_HC_TCP or SL_LB_HC_HTTP */
	char path[SL_LB_PATH_MAX];
	/* outcome */
	bool ok;
	char err[SL_LB_ERR_MAX];
	/* private */
	int fd, step;
	char buf[64];
	size_t len, sent;
};
/* One probe, step by step, for a caller's event loop: start opens its
 * non-blocking socket (fd) and connects; then, on each poll event of fd
 * for events(), advance takes the next step (connected; request sent,
 * in as many pieces as the socket takes; status line read, in as many as
 * it comes) until done (ok and err filled, fd closed); expire ends it as
 * "timeout" when the caller's deadline passed. http sends
 * "GET path HTTP/1.0" with "Host: ADDR:PORT" (IPv6 in brackets). */
void sl_lb_probe_start(struct sl_lb_probe *p);
bool sl_lb_probe_done(const struct sl_lb_probe *p);
short sl_lb_probe_events(const struct sl_lb_probe *p);
void sl_lb_probe_advance(struct sl_lb_probe *p);
void sl_lb_probe_expire(struct sl_lb_probe *p);
/* Runs the checks p[0..n) at once, each with timeout_ms to connect and,
 * for http, to answer; returns when all are done. */
void sl_lb_probe_run(struct sl_lb_probe *p, size_t n, int timeout_ms);
/* Records the outcomes p[0..n) (a writer's ctx: under the state's lock):
 * each backend's health steps, and each service where a backend went
 * down or up gets a new Maglev table (built as apply builds them, one
 * write). Outcomes for backends gone meanwhile are dropped. now: wall
 * clock, ns. 0 or a negative errno. */
int sl_lb_health_record(struct sl_ctx *ctx, const struct sl_lb_probe *p,
			size_t n, uint64_t now);
/* The health checks' timeout: the interval, at most this. */
#define SL_LB_HC_TIMEOUT_MAX_MS 2000U
/* Where the health checks' loop reads the services and records the
 * outcomes: read fills run (as sl_lb_read: services, backends and ids;
 * 0 or a negative errno); record takes the outcomes of the probes that
 * completed since the last call. */
struct sl_lb_hc_ops {
	int (*read)(void *arg, struct sl_lb_cfg *run);
	void (*record)(void *arg, const struct sl_lb_probe *p, size_t n);
};
/* The health checks' event loop, until *stop: every backend of a service
 * with a check is probed at the service's interval, each probe on its
 * own (a deadline of the interval, at most SL_LB_HC_TIMEOUT_MAX_MS): new
 * probes start when due while others are in flight, so a silent backend
 * delays no other check. The services are read again every 100 ms; the
 * outcomes of each turn of the loop are recorded together. */
void sl_lb_health_run(const struct sl_lb_hc_ops *ops, void *arg,
		      volatile int *stop);
/* The daemon's thread: sl_lb_health_run reading the running state under
 * the shared lock (released at once) and recording under the exclusive
 * lock (sl_lb_health_record); no lock is held while a probe runs. */
void sl_lb_health_loop(const char *bpffs, volatile int *stop);

/* A whole desired state, as `apply` takes it and `export` prints it. */
struct sl_config {
	uint8_t policy[SL_RDIR_MAX]; /* SL_ACT_PASS or SL_ACT_DROP */
	struct sl_limits limits;     /* capacities; 0: default */
	struct sl_ct_cfg ct;	     /* the connection table */
	struct sl_syn_cfg syn;	     /* SYN-flood protection */
	struct sl_srcpos syn_pos;    /* where `synproxy:` is (line 0: none) */
	struct sl_frag_cfg frag;     /* fragment tracking */
	struct sl_rl_cfg rl;	     /* rate limits' buckets */
	struct sl_ev_cfg ev;	     /* events */
	struct sl_lb_cfg lb;	     /* the load balancer's services */
	/* interfaces to attach and their hooks */
	bool has_ifaces; /* false: the file names no interfaces (keep them) */
	struct sl_cfg_iface {
		char name[16];
		uint8_t hooks; /* SL_HOOK_* bits */
		uint8_t mode;  /* enum sl_xdp_mode */
		struct sl_srcpos pos;
	} * ifaces;
	size_t n_ifaces;
	struct sl_set_entry *sets; /* allow/deny entries, counters unused */
	size_t n_sets;
	struct sl_rule *rules;
	size_t n_rules;
	/* Set by the loader: where the first deny entry for every address
	 * (0.0.0.0/0, ::/0) is in the file (line 0: none). Rules carry
	 * their own pos. See sl_config_lockout (config.h). */
	struct sl_srcpos deny_all_pos;
	/* The management path (`management:`): trusted prefixes that the
	 * lockout guard keeps reachable. */
	struct sl_prefix mgmt[SL_MGMT_MAX];
	size_t n_mgmt;
	/* Set by the loader: the file's name as errors give it (the path
	 * given to sl_config_load, not copied, or "stdin"); NULL for a
	 * config read from the running state. */
	const char *file;
	/* Read from the running state: the stored digest of its sets
	 * (sl_sets_digest), 0 when unknown. Not part of the config. */
	uint64_t sets_digest;
	/* Set by the loader for the guard: where `policy` is, and the first
	 * deny entries that overlap a management prefix, with their place. */
	struct sl_srcpos policy_pos;
#define SL_GUARD_HITS 16
	struct sl_guard_hit {
		struct sl_set_entry e;
		struct sl_srcpos pos;
	} deny_mgmt[SL_GUARD_HITS];
	size_t n_deny_mgmt;
	/* more deny entries than that overlap: the guard always refuses */
	bool deny_mgmt_overflow;
};

/* ---- apply (apply.c) ---- */

#define SL_READ_NO_SETS	  1U /* sl_config_read: skip the (large) sets */
#define SL_READ_NO_IFACES 2U

#define SL_APPLY_DRY_RUN   1U /* every check of an apply, change nothing */
#define SL_APPLY_KEEP_SETS 4U /* keep the running sets (rule verbs) */
#define SL_APPLY_DIFF	   8U /* fill sl_apply_report.diff */

/* What the classifier build produced (sl_cls_build, classify.c). */
struct sl_cls_stats {
	double build_ms;	 /* wall time of sl_cls_build */
	uint32_t trees;		 /* trees built (<= SL_CLS_TREE_MAX) */
	uint32_t nodes;		 /* node slots used */
	uint32_t leaf_entries;	 /* leaf list slots used */
	uint32_t max_depth;	 /* internal nodes on the longest path */
	uint32_t max_leaf;	 /* rules in the largest leaf */
	uint32_t worst_accesses; /* bound on blob reads per packet, see doc */
	uint32_t coarse_trees;	 /* trees built coarser (longer leaves) */
	uint64_t bytes;		 /* blob bytes in use (header to last byte) */
};

/* One interface whose attachment changes (hooks 0: not attached). */
struct sl_iface_diff {
	char name[16];
	uint8_t from_hooks, from_mode, to_hooks, to_mode;
};

/* What an apply changes, running config -> new one. Rules are matched by
 * id (after ids are assigned); a rule with the same id and another
 * definition is changed (rules_from[i] -> rules_to[i]). */
struct sl_apply_diff {
	uint8_t policy_from[SL_RDIR_MAX], policy_to[SL_RDIR_MAX];
	struct sl_rule *rules_added, *rules_removed;
	size_t n_rules_added, n_rules_removed;
	struct sl_rule *rules_from, *rules_to;
	size_t n_rules_changed;
	struct sl_set_entry *sets_added, *sets_removed;
	size_t n_sets_added, n_sets_removed;
	struct sl_iface_diff *ifaces; /* in the order apply changes them */
	size_t n_ifaces;
	/* load balancer services added ('+'), removed ('-') or changed
	 * ('~': mode, backends, weights or health) */
	struct sl_lb_svc_diff {
		char svc[64]; /* VIP:PORT/PROTO */
		char change;
	} * lb;
	size_t n_lb;
	/* runtime-owned tables made anew with another capacity, their
	 * entries copied over (enum sl_rt_map) */
	struct sl_cap_diff {
		int map; /* enum sl_rt_map */
		uint32_t from, to;
		size_t entries; /* held now */
	} caps[SL_RT_ALL];
	size_t n_caps;
};

struct sl_apply_report {
	bool unchanged; /* the running config already equals the new one */
	bool dry_run;
	bool swapped; /* the datapath switched to the new config */
	size_t rules, set_entries;
	unsigned ifaces_changed;
	struct sl_cls_stats cls;
	struct sl_apply_diff *diff; /* SL_APPLY_DIFF; sl_apply_report_free */
};

/* Frees what sl_apply() allocated in rep (the diff). */
void sl_apply_report_free(struct sl_apply_report *rep);

/* The running config: policy, rules (in order), sets (unless
 * SL_READ_NO_SETS), attached interfaces (unless SL_READ_NO_IFACES; hooks
 * whose interface is gone run nothing and are left out). Free with
 * sl_config_free(). */
int sl_config_read(struct sl_ctx *ctx, struct sl_config *cfg, unsigned flags);
/* The running rules in order; *out is malloc'ed. */
int sl_rules_read(struct sl_ctx *ctx, struct sl_rule **out, size_t *n);
/* Builds a config blob from the rule definitions of slot ctx->defs_gen,
 * naming set slot ctx->set_gen, with the given policy and serial, and makes
 * it the running one (the upgrade uses it: the blob is the datapath's
 * format, rebuilt by each release from the persisted records). */
int sl_blob_rebuild(struct sl_ctx *ctx, const __u8 policy[SL_RDIR_MAX],
		    __u64 serial);
/* Replaces the running config by cfg (validated, e.g. by sl_config_load):
 * assigns ids to rules without one, builds the new tables off to the side,
 * changes the interfaces, then switches with one map write. Any failure
 * leaves the datapath as it was (interface changes are undone). With
 * SL_APPLY_DRY_RUN it runs every step and check up to the interface
 * changes (sets filled, classifier built, interfaces checked), then drops
 * what it built. */
int sl_apply(struct sl_ctx *ctx, struct sl_config *cfg, unsigned flags,
	     struct sl_apply_report *rep);
/* Gives every rule without an id (0) an id, in array order: the id of a
 * rule of `old` (the running rules) with the same match and action when
 * no rule of r names it, so a rule keeps its counters when others are
 * inserted before it; else the lowest id that neither r nor old uses (then
 * the lowest r does not use). -EINVAL when ids run out. */
int sl_rules_assign_ids(struct sl_rule *r, size_t n, const struct sl_rule *old,
			size_t nold);
/* The running blob: its header (-ENOENT before the first apply), or the
 * whole blob mapped read-only (NULL if none). */
int sl_blob_hdr_read(struct sl_ctx *ctx, struct sl_blob_hdr *h);
/* Points ctx at the slots the running config uses (sl_open does it). */
int sl_ctx_sync_slots(struct sl_ctx *ctx);
const void *sl_blob_map(struct sl_ctx *ctx);
/* The conntrack settings of a blob (written by apply; an earlier release's
 * blob reads as every default), and of the running one (-ENOENT before
 * the first apply: defaults). */
void sl_blob_ct_put(void *blob, const struct sl_ct_cfg *ct);
void sl_blob_ct_get(const void *blob, struct sl_ct_cfg *ct);
int sl_blob_ct_read(struct sl_ctx *ctx, struct sl_ct_cfg *ct);
/* The fragment settings in a blob (abi.h, SL_FRAG_CONF_OFF), written after
 * the classifier built it; read: an earlier blob gives the defaults. */
void sl_blob_frag_put(void *blob, const struct sl_frag_cfg *fr);
int sl_blob_frag_read(struct sl_ctx *ctx, struct sl_frag_cfg *fr);
void sl_blob_unmap(const void *blob);
/* Counters of rules r[0..n), summed over CPUs: out[i] is r[i]'s (stats.c). */
int sl_rule_stats_read(struct sl_ctx *ctx, const struct sl_rule *r, size_t n,
		       struct sl_counter *out);
/* Makes the counter chunks the rules r[0..n) need (before they go live). */
int sl_rule_stats_fit(struct sl_ctx *ctx, const struct sl_rule *r, size_t n);
/* Drops the chunks (and carried counts) no rule of r[0..n), the running
 * config, needs. */
int sl_rule_stats_prune(struct sl_ctx *ctx, const struct sl_rule *r, size_t n);
/* Adds the counts of a per-CPU rule counter array that no program uses any
 * more (an upgrade's) to the carried counts. */
int sl_rule_stats_carry(struct sl_ctx *ctx, int old_fd);
/* Zeroes the counters of rule ids[0..n) (new rules). */
int sl_rule_stats_reset(struct sl_ctx *ctx, const __u32 *ids, __u32 n);

/* ---- the connection table (ct.c) ---- */

/* Which flows a listing or a flush takes; each part optional. src is the
 * initiator's address (a prefix), dst the responder's. */
struct sl_ct_filter {
	bool has_src, has_dst;
	struct sl_prefix src, dst;
	int port;  /* -1: any; else either TCP/UDP port */
	int proto; /* -1: any; else IPPROTO_* */
	int state; /* -1: any; else enum sl_ct_state */
};

/* One flow, in its initiator's view. */
struct sl_ct_entry {
	struct sl_ct_key key;
	struct sl_ct_val val;
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t proto;
	uint8_t src[16], dst[16]; /* initiator, responder (IPv4: 4 bytes) */
	uint16_t sport, dport;	  /* echo: the identifier, twice */
	uint64_t age_ns;	  /* since the entry was made */
	uint64_t expires_ns;	  /* left before its state's timeout */
	bool expired;		  /* older than its timeout: counts as absent */
};

/* The flows matching f (NULL: all) that have not expired (or all:
 * expired_too), sorted by protocol, family and key; *out is malloc'ed. */
int sl_ct_list(struct sl_ctx *ctx, const struct sl_ct_filter *f,
	       bool expired_too, struct sl_ct_entry **out, size_t *n);
/* Deletes the flows matching f (NULL: every one, expired too). */
int sl_ct_flush(struct sl_ctx *ctx, const struct sl_ct_filter *f,
		size_t *deleted);
bool sl_ct_match(const struct sl_ct_filter *f, const struct sl_ct_entry *e);
/* Copies the entries of hash map fd from into map fd to (same key and
 * value sizes), as many as it holds (none replaced); returns how many
 * entries to holds afterwards, so fewer than *had (the entries of from)
 * means some did not fit (an LRU map evicted them). */
size_t sl_map_copy(int from, int to, size_t *had);

struct sl_ct_stats {
	uint32_t capacity; /* the table's */
	bool enabled;	   /* the running config's `conntrack: enabled` */
	size_t entries;	   /* live flows */
	size_t expired;	   /* entries past their timeout, not yet reused */
	size_t by_state[SL_CTS_MAX];
	size_t tcp, udp, icmp, ipv6;
};
int sl_ct_stats_read(struct sl_ctx *ctx, struct sl_ct_stats *st);

/* ---- explain (explain.c) ---- */

#define SL_EXPLAIN_FRAME_MAX 128

/* What sl_explain() saw. */
struct sl_explain {
	struct sl_trace t; /* the trace copy's record (abi.h) */
	size_t len;	   /* bytes of the frame built */
	int dir;	 /* SL_RDIR_IN (the XDP program) or _OUT (TC egress) */
	uint32_t retval; /* the program's return code */
	unsigned char frame[SL_EXPLAIN_FRAME_MAX];
};

/* Runs one packet through a private copy of the running program of its
 * direction (pkt->dirs: 1 << SL_RDIR_OUT for egress, else ingress), loaded
 * on the pinned maps with the attached programs' switches and `trace` on:
 * nothing is counted. pkt's match fields name one value each (src, dst:
 * whole addresses; ports: one port; l3 SL_L3_ARP: an ARP request);
 * pkt->ifindex is the interface the packet comes in on or leaves by (0:
 * none). -EINVAL with err set for a packet that cannot be built. */
int sl_explain(struct sl_ctx *ctx, const struct sl_rule *pkt,
	       struct sl_explain *out, char *err, size_t errlen);

/* ---- events (events.c) ---- */
/* Every 0 of in replaced by its default. */
void sl_ev_cfg_effective(const struct sl_ev_cfg *in, struct sl_ev_cfg *out);
/* The programs must run with sl_features.events for cfg: drop events,
 * sampling, or a rule with `log`. */
bool sl_ev_cfg_on(const struct sl_config *cfg);
/* The record apply writes into SL_MAP_EV_CONF for cfg. */
void sl_ev_conf_make(const struct sl_config *cfg, struct sl_ev_conf *out);
/* The running `events:` (zeros before the first apply, or in state of an
 * earlier release). */
int sl_ev_read(struct sl_ctx *ctx, struct sl_ev_cfg *out);
/* The running record says the programs run with events. */
bool sl_ev_running(struct sl_ctx *ctx);
/* The record c asks for events. */
bool sl_ev_conf_running(const struct sl_ev_conf *c);
/* Writes cfg's record into SL_MAP_EV_CONF. */
int sl_ev_write(struct sl_ctx *ctx, const struct sl_config *cfg);
/* Events the ring had no room for: the sum, and per CPU into percpu (n
 * cells, NULL: none); 0 when the state has no events maps. */
int sl_ev_lost(struct sl_ctx *ctx, uint64_t *total, uint64_t *percpu, size_t n);
/* The wall-clock time (ns since the epoch) of an event's timestamp
 * (CLOCK_BOOTTIME ns). */
uint64_t sl_ev_walltime(uint64_t boot_ns);

/* The pin `name` under <bpffs>/sluice (bpffs NULL: $SLUICE_BPFFS or the
 * default), opened without the state's lock: a reader of the ring never
 * blocks a writer. A fd or a negative errno. */
int sl_ev_pin_open(const char *bpffs, const char *name);
/* sl_ev_lost on the fd of SL_MAP_EV_LOST. */
int sl_ev_lost_fd(int fd, uint64_t *total, uint64_t *percpu, size_t n);
/* "drop", "sample", "log" */
const char *sl_ev_type_name(unsigned t);

/* What `sluice events` shows: every condition set must hold (-1, 0 or
 * false: any). */
struct sl_ev_filter {
	bool has_from, has_to;
	struct sl_prefix from, to; /* source, destination address within */
	int port;		   /* either port */
	int proto;		   /* IP protocol */
	int reason;		   /* enum sl_reason */
	int rule;		   /* rule id */
	int action;		   /* enum sl_action (the verdict) */
	int type;		   /* enum sl_ev_type */
	int dir;		   /* enum sl_rule_dir */
	uint32_t ifindex;	   /* 0: any */
};
bool sl_ev_match(const struct sl_ev_filter *f, const struct sl_event *e);
struct jw;
/* One event as a JSON object (docs/events.md: the field names). */
void sl_ev_json(struct jw *w, const struct sl_event *e);
/* One event as a line of text (no newline). */
void sl_ev_text(const struct sl_event *e, char *buf, size_t len);

#endif /* SLUICE_H */
