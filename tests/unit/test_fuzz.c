// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_fuzz: random and mutated frames through the XDP program
 * (bpf_prog_test_run_opts), with a set installed through the real control
 * plane. Every frame must get XDP_PASS or XDP_DROP, come back unchanged, move
 * exactly one counter cell by one packet and its length, under a (reason,
 * action) the program can produce, and be counted by at most one set entry
 * of the verdict's kind. Mutated frames whose headers the mutation left
 * intact are also checked against a linear scan of the installed prefixes.
 * After the runs the set must list exactly what was installed, with the
 * counters the frames account for, and the counter totals must equal the
 * frames run. Everything runs twice: default features, drop_malformed=0.
 *
 * SLUICE_FUZZ_SEED=N replays a run (the seed is printed as "# seed N");
 * SLUICE_FUZZ_FRAMES=N sets the frames of each kind (random, mutated). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "check.h"
#include "log.h"
#include "names.h"
#include "pkt.h"
#include "setdef.h"
#include "skelmaps.h"
#include "sluice.h"

#define FRAMES_DEFAULT 25000 /* of each kind, per feature setting */
#define FRAME_MIN      14
#define FRAME_MAX      1514
#define HEX_IN_WHY     80 /* frame bytes quoted in a failure line */

/* ---- seeded PRNG (splitmix64) ---- */

static uint64_t seed;
static uint64_t rng;

static uint64_t rnd64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static bool chance(unsigned int pct)
{
	return rnd(100) < pct;
}

/* ---- the set ---- */

/* Nested prefixes of both kinds, host entries, the same prefix in both
 * directions (length ties), and short prefixes that random addresses hit. */
static const struct set_def set_defs[] = {
    DENY(SRC, "198.18.0.0/16"),	    ALLOW(SRC, "198.18.0.0/24"),
    ALLOW(SRC, "198.18.0.0/31"),    DENY(SRC, "198.18.0.1"),
    ALLOW(DST, "198.19.0.0/16"),    DENY(DST, "198.19.0.0/24"),
    ALLOW(DST, "198.19.0.1"),	    DENY(DST, "10.0.0.0/8"),
    ALLOW(SRC, "10.1.0.0/16"),	    ALLOW(DST, "10.1.2.3"),
    DENY(SRC, "192.0.2.55"),	    ALLOW(DST, "192.0.2.0/24"),
    DENY(DST, "192.0.2.128/25"),    DENY(SRC, "203.0.113.0/24"),
    ALLOW(DST, "203.0.113.0/24"),   ALLOW(SRC, "100.64.0.0/10"),
    DENY(DST, "100.64.0.0/10"),	    ALLOW(SRC, "172.16.5.5"),
    DENY(DST, "172.16.5.5"),	    ALLOW(SRC, "172.16.5.6"),
    ALLOW(DST, "172.16.5.6"),	    DENY(SRC, "172.16.5.7"),
    DENY(DST, "172.16.5.7"),	    DENY(SRC, "128.0.0.0/1"),
    ALLOW(DST, "64.0.0.0/2"),	    DENY(SRC, "2001:db8:1::/48"),
    ALLOW(SRC, "2001:db8:1::/64"),  ALLOW(SRC, "2001:db8:1:0:8000::/65"),
    DENY(SRC, "2001:db8:1::1"),	    ALLOW(DST, "2001:db8:2::/48"),
    DENY(DST, "2001:db8:2::1"),	    DENY(DST, "2001:db8::/32"),
    DENY(SRC, "fe80::/10"),	    ALLOW(DST, "fe80::/10"),
    ALLOW(SRC, "2001:db8:3::5"),    DENY(DST, "2001:db8:3::5"),
    ALLOW(SRC, "2001:db8:3::6"),    ALLOW(DST, "2001:db8:3::6"),
    DENY(SRC, "2001:db8:3::7"),	    DENY(DST, "2001:db8:3::7"),
    ALLOW(DST, "2001:db8:4::/127"), DENY(SRC, "2001:db8:5::/112"),
    DENY(SRC, "8000::/1"),
};

#define N_ENTRIES (sizeof(set_defs) / sizeof(set_defs[0]))

struct entry {
	struct sl_prefix p;
	uint8_t kind;
	uint8_t dir;
};

static struct entry entries[N_ENTRIES];

/* Addresses the frames use: in, next to and outside the prefixes. */
static const char *const pool4[] = {
    PKT_SRC4,	   PKT_DST4,	  "198.18.0.0",	     "198.18.0.2",
    "198.18.7.9",  "198.19.0.77", "198.19.200.1",    "10.1.2.3",
    "10.1.9.9",	   "10.200.0.1",  "192.0.2.55",	     "192.0.2.1",
    "192.0.2.200", "203.0.113.9", "100.64.0.1",	     "100.127.255.255",
    "172.16.5.5",  "172.16.5.6",  "172.16.5.7",	     "172.16.5.8",
    "1.1.1.1",	   "127.0.0.1",	  "255.255.255.255", "0.0.0.0",
};
static const char *const pool6[] = {
    PKT_SRC6,
    PKT_DST6,
    "2001:db8:1::2",
    "2001:db8:1:0:8000::1",
    "2001:db8:1:1::1",
    "2001:db8:2::2",
    "2001:db8:5::1",
    "fe80::1",
    "2001:db8:3::5",
    "2001:db8:3::6",
    "2001:db8:3::7",
    "2001:db8:4::1",
    "2001:db8:4::2",
    "2001:db8:5::9",
    "::1",
    "::",
    "ffff::1",
    "::ffff:198.18.0.1",
    "::ffff:198.19.0.1",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static size_t alen_of(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool prefix_covers(const struct sl_prefix *p, int family,
			  const uint8_t *addr)
{
	if (p->family != family)
		return false;
	for (unsigned int b = 0; b < p->plen; b++)
		if ((p->addr[b / 8] ^ addr[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

/* The oracle: the entry that decides a packet from src to dst, or -1. The
 * longest matching prefix of each direction, then the longer of the two;
 * on equal lengths the deny entry, and the source when both are deny, the
 * destination when both are allow (the datapath's choice of which counts). */
static int oracle_winner(int family, const uint8_t *src, const uint8_t *dst)
{
	int best[SL_DIR_MAX] = {-1, -1}, s, d;

	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *en = &entries[i];
		int *b = &best[en->dir];

		if (prefix_covers(&en->p, family,
				  en->dir == SL_DIR_SRC ? src : dst) &&
		    (*b < 0 || en->p.plen > entries[*b].p.plen))
			*b = i;
	}
	s = best[SL_DIR_SRC];
	d = best[SL_DIR_DST];
	if (s < 0 || d < 0)
		return s < 0 ? d : s;
	if (entries[s].p.plen != entries[d].p.plen)
		return entries[s].p.plen > entries[d].p.plen ? s : d;
	return entries[s].kind == SL_SET_DENY ? s : d;
}

static int entry_find(const struct sl_set_entry *le)
{
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *en = &entries[i];

		if (en->p.family == le->prefix.family &&
		    en->p.plen == le->prefix.plen && en->dir == le->dir &&
		    !memcmp(en->p.addr, le->prefix.addr, alen_of(en->p.family)))
			return i;
	}
	return -1;
}

static void entry_name(int i, char *buf, size_t len)
{
	char p[64];

	if (i < 0) {
		snprintf(buf, len, "none");
		return;
	}
	sl_prefix_format(&entries[i].p, p, sizeof(p));
	snprintf(buf, len, "%s %s %s", sl_set_kind_name(entries[i].kind),
		 sl_dir_name(entries[i].dir), p);
}

/* ---- properties and their reports ---- */

enum prop {
	/* Per frame, for each phase (random: + 0, mutated: + P_PHASE). */
	P_VERDICT,
	P_UNCHANGED,
	P_ONE_CELL,
	P_PAIR,
	P_SET_HIT,
	P_PHASE,
	P_ORACLE = 2 * P_PHASE,
	/* After the runs. */
	P_INSTALL,
	P_LIST,
	P_ENTRY_COUNTERS,
	P_STATS_TOTAL,
	P_BITMAP,
	P_COVERAGE,
	NPROP,
};

static const char *const prop_names[NPROP] = {
    [P_VERDICT] = "random frames: verdict is XDP_PASS or XDP_DROP",
    [P_UNCHANGED] = "random frames: the frame comes back unchanged",
    [P_ONE_CELL] = "random frames: exactly one counter cell moves, by 1 "
		   "packet and the frame's bytes",
    [P_PAIR] = "random frames: the counted (reason, action) is one the "
	       "program can produce and matches the verdict",
    [P_SET_HIT] = "random frames: at most one set entry, of the verdict's "
		  "kind, counts the frame",
    [P_PHASE + P_VERDICT] = "mutated frames: verdict is XDP_PASS or XDP_DROP",
    [P_PHASE + P_UNCHANGED] = "mutated frames: the frame comes back unchanged",
    [P_PHASE + P_ONE_CELL] = "mutated frames: exactly one counter cell moves, "
			     "by 1 packet and the frame's bytes",
    [P_PHASE + P_PAIR] = "mutated frames: the counted (reason, action) is one "
			 "the program can produce and matches the verdict",
    [P_PHASE + P_SET_HIT] = "mutated frames: at most one set entry, of the "
			    "verdict's kind, counts the frame",
    [P_ORACLE] = "mutated frames with intact headers: verdict and counting "
		 "entry agree with a linear scan of the set",
    [P_INSTALL] = "the set installs through sl_set_add",
    [P_LIST] = "after the runs sl_set_list returns exactly the installed "
	       "entries",
    [P_ENTRY_COUNTERS] = "after the runs the set entry counters equal the "
			 "hits attributed to them",
    [P_STATS_TOTAL] = "after the runs the counter totals equal the frames "
		      "run",
    [P_BITMAP] = "after the runs the host presence bitmap holds exactly the "
		 "host entries' bits",
    [P_COVERAGE] = "the frames reach every (reason, action) the program can "
		   "produce",
};

struct prop_state {
	unsigned long fails;
	char why[440];
};

/* One loaded program with its private maps, and what its runs saw. */
struct fenv {
	const char *tag;
	bool keep; /* drop_malformed=0 */
	struct sluice_xdp *skel;
	struct sl_ctx ctx;
	int prog;
	int stats;
	int frags;			     /* sl_frags */
	struct sl_counter cnt[SL_STATS_MAX]; /* as last read */
	/* Each entry's map and key: host entries (full length) in the
	 * exact-match hashes, shorter prefixes in the tries (abi.h). */
	int ent_fd[N_ENTRIES];
	uint8_t ent_key[N_ENTRIES][sizeof(struct sl_lpm_v6)];
	uint64_t seen_pk[N_ENTRIES], seen_by[N_ENTRIES]; /* as last read */
	uint64_t attr_pk[N_ENTRIES], attr_by[N_ENTRIES]; /* attributed */
	uint64_t frames, bytes;
	uint64_t l4_pk, l4_by; /* malformed-l3/l4 passes an entry counted */
	unsigned long reached[SL_STATS_MAX];
	unsigned long oracle_l3, oracle_full;
	struct prop_state prop[NPROP];
};

/* A frame under test, for failure messages. */
struct frame {
	const char *phase;
	unsigned long idx;
	const uint8_t *b;
	size_t len;
};

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

__attribute__((format(printf, 3, 4))) static void
prop_fail(struct fenv *e, int prop, const char *fmt, ...)
{
	struct prop_state *ps = &e->prop[prop];
	va_list ap;

	if (ps->fails++)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->why, sizeof(ps->why), fmt, ap);
	va_end(ap);
}

/* Records the first counter-example of a property: the reason, the replay
 * coordinates and the frame's first bytes; the whole frame goes on a
 * comment line. */
__attribute__((format(printf, 4, 5))) static void
frame_fail(struct fenv *e, int prop, const struct frame *fr, const char *fmt,
	   ...)
{
	struct prop_state *ps = &e->prop[prop];
	size_t n = fr->len < HEX_IN_WHY ? fr->len : HEX_IN_WHY;
	char msg[160], h[2 * HEX_IN_WHY + 1], full[2 * FRAME_MAX + 1];
	va_list ap;

	if (ps->fails++)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hex(h, fr->b, n);
	snprintf(ps->why, sizeof(ps->why),
		 "%s [SLUICE_FUZZ_SEED=%llu, %s frame #%lu, %zu bytes: %s%s]",
		 msg, (unsigned long long)seed, fr->phase, fr->idx, fr->len, h,
		 fr->len > n ? "..." : "");
	hex(full, fr->b, fr->len);
	printf("# fuzz: %s (%s): first counter-example, %s frame #%lu: %s\n",
	       prop_names[prop], e->tag, fr->phase, fr->idx, full);
}

static void report(struct fenv *e, int prop)
{
	struct prop_state *ps = &e->prop[prop];
	char name[256];

	snprintf(name, sizeof(name), "fuzz: %s (%s)", prop_names[prop], e->tag);
	if (ps->fails > 1)
		check_fail("%lu failures, the first: %s", ps->fails, ps->why);
	else if (ps->fails)
		check_fail("%s", ps->why);
	check_report(name, !ps->fails);
}

/* ---- running one frame ---- */

/* What one run did. */
struct obs {
	int err;
	__u32 retval;
	__u32 out_len;
	long diff_at;  /* first differing output byte, -1: none */
	int ncell;     /* counter cells that moved */
	int cell;      /* the (first) cell that moved */
	bool cell_one; /* ... by exactly +1/+len */
	int nent;      /* set entries that moved */
	int ent;       /* the (first) entry that moved */
	bool ent_one;  /* ... by exactly +1/+len */
	char list_err[160];
};

static void run_frame(struct fenv *e, const struct frame *fr, struct obs *o)
{
	uint8_t out[PKT_MAX + 256];
	struct sl_counter now[SL_STATS_MAX];
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = fr->b,
		    .data_size_in = fr->len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	memset(o, 0, sizeof(*o));
	o->cell = o->ent = -1;
	o->diff_at = -1;
	/* Each frame is judged on its own: no datagram an earlier frame's
	 * first fragment made known (the fragment stage still looks up and
	 * writes; test_frag checks what it decides). */
	map_flush(e->frags);
	o->err = bpf_prog_test_run_opts(e->prog, &t) ? -errno : 0;
	o->retval = t.retval;
	o->out_len = t.data_size_out;
	if (!o->err) {
		e->frames++;
		e->bytes += fr->len;
		for (size_t i = 0; i < fr->len && i < o->out_len; i++)
			if (out[i] != fr->b[i]) {
				o->diff_at = i;
				break;
			}
	}

	err = sl_stats_read_fd(e->stats, now);
	if (err) {
		snprintf(o->list_err, sizeof(o->list_err),
			 "sl_stats_read_fd: %s", strerror(-err));
		return;
	}
	for (int i = 0; i < SL_STATS_MAX; i++) {
		uint64_t dp = now[i].packets - e->cnt[i].packets;
		uint64_t db = now[i].bytes - e->cnt[i].bytes;

		if (!dp && !db)
			continue;
		if (!o->ncell++) {
			o->cell = i;
			o->cell_one = dp == 1 && db == fr->len;
		}
	}
	memcpy(e->cnt, now, sizeof(now));

	/* Each entry by its key (listing the set walks every bucket of the
	 * host hashes: too slow per frame). */
	for (size_t i = 0; i < N_ENTRIES; i++) {
		struct sl_set_val v;
		uint64_t dp, db;

		if (bpf_map_lookup_elem(e->ent_fd[i], e->ent_key[i], &v) ||
		    v.kind != entries[i].kind || v.plen != entries[i].p.plen) {
			char name[96];

			entry_name(i, name, sizeof(name));
			snprintf(o->list_err, sizeof(o->list_err),
				 "%s is gone or changed its kind or length",
				 name);
			continue;
		}
		dp = v.packets - e->seen_pk[i];
		db = v.bytes - e->seen_by[i];
		e->seen_pk[i] = v.packets;
		e->seen_by[i] = v.bytes;
		if (!dp && !db)
			continue;
		if (!o->nent++) {
			o->ent = i;
			o->ent_one = dp == 1 && db == fr->len;
		}
	}
}

/* The (reason, action) pairs the program can count. */
static bool pair_possible(const struct fenv *e, int reason, int action)
{
	switch (reason) {
	case SL_R_PASS:
	case SL_R_NON_IP:
	case SL_R_ALLOW_SET:
		return action == SL_ACT_PASS;
	case SL_R_DENY_SET:
		return action == SL_ACT_DROP;
	case SL_R_MALFORMED_L2:
	case SL_R_MALFORMED_L3:
	case SL_R_MALFORMED_L4:
		return action == (e->keep ? SL_ACT_PASS : SL_ACT_DROP);
	case SL_R_TCP_SYNFIN:
	case SL_R_TCP_SYNRST:
	case SL_R_TCP_NOFLAGS:
	case SL_R_TCP_FIN_NOACK:
	case SL_R_TCP_XMAS:
	case SL_R_LAND:
		/* Abusive packets: dropped with drop_malformed, else judged
		 * like any packet. No ban is installed: never banned. */
		return !e->keep && action == SL_ACT_DROP;
	}
	return false;
}

static void cell_name(int cell, char *buf, size_t len)
{
	if (cell < 0)
		snprintf(buf, len, "nothing");
	else
		snprintf(buf, len, "%s/%s",
			 sl_reason_name(cell / SL_STATS_ACTIONS),
			 sl_action_name(cell % SL_STATS_ACTIONS));
}

/* The invariants of every frame. Returns the counted reason, or -1. */
static int check_frame(struct fenv *e, int base, const struct frame *fr,
		       const struct obs *o)
{
	int reason = -1, action = -1;
	char c[64], en[96];

	cell_name(o->cell, c, sizeof(c));
	entry_name(o->ent, en, sizeof(en));
	if (o->err) {
		frame_fail(e, base + P_VERDICT, fr, "test-run failed: %s",
			   strerror(-o->err));
		return -1;
	}
	if (o->retval != XDP_PASS && o->retval != XDP_DROP)
		frame_fail(e, base + P_VERDICT, fr, "verdict %u", o->retval);
	if (o->out_len != fr->len || o->diff_at >= 0)
		frame_fail(e, base + P_UNCHANGED, fr,
			   "%u bytes came back, first difference at byte %ld",
			   o->out_len, o->diff_at);
	if (o->list_err[0])
		frame_fail(e, P_LIST, fr, "%s", o->list_err);
	if (o->ncell != 1 || !o->cell_one) {
		frame_fail(e, base + P_ONE_CELL, fr,
			   "%d cells moved (first: %s, by exactly +1/+len: %s)",
			   o->ncell, c, o->cell_one ? "yes" : "no");
		if (o->ncell != 1)
			return -1;
	}
	reason = o->cell / SL_STATS_ACTIONS;
	action = o->cell % SL_STATS_ACTIONS;
	e->reached[o->cell]++;
	if (!pair_possible(e, reason, action) ||
	    o->retval != (action == SL_ACT_DROP ? XDP_DROP : XDP_PASS))
		frame_fail(e, base + P_PAIR, fr, "counted %s with verdict %s",
			   c,
			   o->retval == XDP_DROP   ? "XDP_DROP"
			   : o->retval == XDP_PASS ? "XDP_PASS"
						   : "other");

	/* Which set entries may count the frame, by the reason. */
	if (o->nent > 1 || (o->nent == 1 && !o->ent_one))
		frame_fail(e, base + P_SET_HIT, fr,
			   "%d entries moved (first: %s, by exactly +1/+len: "
			   "%s)",
			   o->nent, en, o->ent_one ? "yes" : "no");
	else if (reason == SL_R_ALLOW_SET || reason == SL_R_DENY_SET) {
		int want =
		    reason == SL_R_ALLOW_SET ? SL_SET_ALLOW : SL_SET_DENY;

		if (o->nent != 1 || entries[o->ent].kind != want)
			frame_fail(e, base + P_SET_HIT, fr,
				   "counted %s, entry counted: %s", c, en);
	} else if (o->nent &&
		   !((reason == SL_R_MALFORMED_L3 ||
		      reason == SL_R_MALFORMED_L4) &&
		     e->keep && entries[o->ent].kind == SL_SET_ALLOW)) {
		frame_fail(e, base + P_SET_HIT, fr,
			   "counted %s, yet entry %s counted it", c, en);
	}
	if (o->nent == 1 &&
	    (reason == SL_R_MALFORMED_L3 || reason == SL_R_MALFORMED_L4)) {
		e->l4_pk++;
		e->l4_by += fr->len;
	}
	return reason;
}

/* ---- frame generators ---- */

static void fill_random(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t r = rnd64();

		memcpy(b + i, &r, n - i < 8 ? n - i : 8);
	}
}

/* An address: from the pool, the pool with one bit flipped (next to a
 * prefix boundary), or random. */
static void pick_addr(int family, uint8_t *a)
{
	size_t alen = alen_of(family);
	unsigned int r = rnd(10);

	if (r < 7) {
		if (family == AF_INET)
			inet_pton(family, pool4[rnd(NELEM(pool4))], a);
		else
			inet_pton(family, pool6[rnd(NELEM(pool6))], a);
		if (r >= 4) {
			unsigned int bit = rnd(alen * 8);

			a[bit / 8] ^= 0x80 >> (bit % 8);
		}
	} else {
		fill_random(a, alen);
	}
}

static const uint8_t l4_protos[] = {
    IPPROTO_TCP,     IPPROTO_UDP,     IPPROTO_ICMP,	IPPROTO_ICMPV6,
    IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_DSTOPTS,
    IPPROTO_AH,	     IPPROTO_NONE,    47 /* GRE */,	IPPROTO_TCP,
};

/* Random bytes, 14..1514 long; three in four get a plausible ethertype
 * (and VLAN tags), version, length, protocol and pool addresses over the
 * random bytes, so that the parser gets past its first checks. */
static size_t gen_random(uint8_t *b)
{
	size_t len = FRAME_MIN + rnd(FRAME_MAX - FRAME_MIN + 1), pos = 12, l3;
	unsigned int tags = chance(25) ? 1 + rnd(3) : 0, r;

	fill_random(b, len);
	if (chance(25))
		return len;
	for (unsigned int i = 0; i < tags && pos + 4 <= len; i++, pos += 4)
		pkt_put16(b + pos, chance(50) ? 0x8100 : 0x88a8);
	if (pos + 2 > len)
		return len;
	r = rnd(10);
	pkt_put16(b + pos, r < 4 ? ETH_P_IP : r < 8 ? ETH_P_IPV6 : ETH_P_ARP);
	l3 = pos + 2;
	if (r < 4) {
		if (l3 + 20 > len)
			return len;
		b[l3] = 0x40 | (chance(70) ? 5 : rnd(16));
		if (chance(60))
			pkt_put16(b + l3 + 2, len - l3 - (chance(80) ? 0 : 1));
		if (chance(60))
			pkt_put16(b + l3 + 6, 0);
		if (chance(70))
			b[l3 + 9] = l4_protos[rnd(NELEM(l4_protos))];
		if (chance(60))
			pick_addr(AF_INET, b + l3 + 12);
		if (chance(60))
			pick_addr(AF_INET, b + l3 + 16);
	} else if (r < 8) {
		if (l3 + 40 > len)
			return len;
		if (chance(80))
			b[l3] = 0x60 | (b[l3] & 0x0f);
		if (chance(60))
			pkt_put16(b + l3 + 4,
				  len - l3 - 40 - (chance(80) ? 0 : 1));
		if (chance(70))
			b[l3 + 6] = l4_protos[rnd(NELEM(l4_protos))];
		if (chance(60))
			pick_addr(AF_INET6, b + l3 + 8);
		if (chance(60))
			pick_addr(AF_INET6, b + l3 + 24);
	}
	return len;
}

/* What the generator of a valid frame knows about it. */
struct gen {
	int family; /* AF_INET, AF_INET6, or 0 for a non-IP frame */
	uint8_t src[16], dst[16];
	size_t hdr_end; /* end of the L2 and L3 headers */
	size_t l4_end;	/* end of the L4 header */
	size_t len;
	bool tcp;   /* carries TCP (its header, unless a later fragment) */
	bool later; /* a later fragment: no L4 header */
	uint8_t tcp_flags; /* as built */
};

/* A valid frame: IPv4 (options, fragments) or IPv6 (extension headers)
 * under 0-2 VLAN tags carrying TCP, UDP, ICMP/ICMPv6 or another protocol;
 * or a non-IP frame (ARP, other ethertypes, three VLAN tags). */
static size_t gen_valid(uint8_t *b, struct gen *g)
{
	static const uint8_t exts[] = {IPPROTO_HOPOPTS, IPPROTO_ROUTING,
				       IPPROTO_DSTOPTS, IPPROTO_FRAGMENT,
				       IPPROTO_AH};
	static const uint16_t others[] = {ETH_P_ARP, 0x88cc, 0x8035, 0x9000};
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	struct pkt_spec s = {0};
	struct pkt_off off;
	unsigned int r = rnd(20), ntag = rnd(3), l4hdr = 0;
	bool non_ip = false;

	memset(g, 0, sizeof(*g));
	if (r == 0) {
		s.ethertype = others[rnd(NELEM(others))];
		s.payload = chance(50) ? rnd(64) : 0;
		non_ip = true;
	} else {
		g->family = r < 10 ? AF_INET : AF_INET6;
		s.ethertype = g->family == AF_INET ? ETH_P_IP : ETH_P_IPV6;
		if (chance(5)) {
			ntag = 3; /* a third tag: not parsed, non-IP */
			non_ip = true;
		}
	}
	for (unsigned int i = 0; i < ntag; i++)
		s.vlan[i] = chance(50) ? 0x8100 : 0x88a8;
	if (non_ip && s.ethertype == ETH_P_ARP) {
		pick_addr(AF_INET, g->src);
		pick_addr(AF_INET, g->dst);
		inet_ntop(AF_INET, g->src, src, sizeof(src));
		inet_ntop(AF_INET, g->dst, dst, sizeof(dst));
		s.src = src;
		s.dst = dst;
	}
	if (g->family) {
		pick_addr(g->family, g->src);
		pick_addr(g->family, g->dst);
		inet_ntop(g->family, g->src, src, sizeof(src));
		inet_ntop(g->family, g->dst, dst, sizeof(dst));
		s.src = src;
		s.dst = dst;
		r = rnd(20);
		if (r < 7)
			s.proto = IPPROTO_TCP;
		else if (r < 13)
			s.proto = IPPROTO_UDP;
		else if (r < 17)
			s.proto = g->family == AF_INET ? IPPROTO_ICMP
						       : IPPROTO_ICMPV6;
		else if (r == 17)
			s.proto = g->family == AF_INET ? IPPROTO_ICMPV6
						       : IPPROTO_ICMP;
		else
			s.proto = r == 18 ? 47 : IPPROTO_NONE;
		if (s.proto == IPPROTO_TCP) {
			s.tcp_opts = chance(30) ? 4 * rnd(11) : 0;
			s.tcp_flags = 1 + rnd(255);
			l4hdr = 20 + s.tcp_opts;
		} else if (s.proto == IPPROTO_UDP || s.proto == IPPROTO_ICMP ||
			   s.proto == IPPROTO_ICMPV6) {
			l4hdr = 8;
		}
		s.payload = chance(80) ? rnd(200) : rnd(1100);
		s.pad = chance(10) ? 1 + rnd(20) : 0;
	}
	if (g->family == AF_INET) {
		s.ip_opts = chance(20) ? 4 * rnd(11) : 0;
		r = rnd(10);
		if (r < 6)
			s.frag = chance(50) ? PKT_IP4_DF : 0;
		else if (r < 8)
			s.frag = PKT_IP4_MF;
		else
			s.frag =
			    (1 + rnd(0x1ffe)) | (chance(50) ? PKT_IP4_MF : 0);
	} else if (g->family == AF_INET6) {
		s.n_ext = chance(50) ? 0 : 1 + rnd(chance(10) ? 8 : 3);
		for (int i = 0; i < s.n_ext; i++) {
			s.ext[i] = exts[rnd(NELEM(exts))];
			s.ext_hlen[i] = rnd(3);
		}
		r = rnd(3);
		s.frag = r == 0	  ? 0
			 : r == 1 ? PKT_IP6_M
				  : PKT_IP6_OFF(1 + rnd(1000)) |
					(chance(50) ? PKT_IP6_M : 0);
	}
	g->len = pkt_build(&s, b, &off);
	g->tcp = s.proto == IPPROTO_TCP;
	g->tcp_flags = s.tcp_flags;
	if (g->family == AF_INET)
		g->later = (s.frag & 0x1fff) != 0;
	for (int i = 0; g->family == AF_INET6 && i < s.n_ext; i++)
		if (s.ext[i] == IPPROTO_FRAGMENT && (s.frag & 0xfff8))
			g->later = true;
	g->hdr_end = non_ip ? off.l3 : off.l4;
	g->l4_end = non_ip ? off.l3 : off.l4 + l4hdr;
	if (non_ip)
		g->family = 0;
	return g->len;
}

/* Flips 1-8 bytes (mostly in the headers), truncates or extends; one frame
 * in ten is left as built. Returns the new length; *first_flip is the
 * lowest flipped offset (SIZE_MAX: none). */
static size_t mutate(uint8_t *b, const struct gen *g, size_t *first_flip)
{
	size_t len = g->len, hot = g->l4_end + 8;
	unsigned int r = rnd(10);

	*first_flip = SIZE_MAX;
	if (r == 0)
		return len;
	if (r < 8) {
		/* One flip run in four stays behind the L2-L3 headers. */
		size_t from = chance(25) && g->hdr_end < len ? g->hdr_end : 0;

		for (unsigned int n = 1 + rnd(8); n; n--) {
			size_t pos = chance(60) && hot < len
					 ? from + rnd(hot - from)
					 : from + rnd(len - from);

			b[pos] ^= 1 + rnd(255);
			if (pos < *first_flip)
				*first_flip = pos;
		}
	}
	r = rnd(10);
	if ((r < 3 || *first_flip == SIZE_MAX) && len > FRAME_MIN && r < 6) {
		/* Truncate, half of the time into the headers. */
		size_t lim = chance(50) && hot < len ? hot : len;

		len = lim > FRAME_MIN ? FRAME_MIN + rnd(lim - FRAME_MIN) : len;
	} else if (r >= 6 && len < FRAME_MAX) {
		size_t add = 1 + rnd(64);

		if (len + add > FRAME_MAX)
			add = FRAME_MAX - len;
		fill_random(b + len, add);
		len += add;
	}
	return len;
}

static bool tcp_abusive(int reason)
{
	return reason == SL_R_TCP_SYNFIN || reason == SL_R_TCP_SYNRST ||
	       reason == SL_R_TCP_NOFLAGS || reason == SL_R_TCP_FIN_NOACK ||
	       reason == SL_R_TCP_XMAS;
}

/* What the abusive-packet checks make of a frame whose L2-L3 headers are
 * intact, from the generator's record: a land or tcp-* reason, SL_R_PASS,
 * or -1 when it depends on a mutated TCP header (full: L4 intact). */
static int oracle_abusive(const struct gen *g, bool full)
{
	if (!memcmp(g->src, g->dst, alen_of(g->family)))
		return SL_R_LAND;
	if (!g->tcp || g->later)
		return SL_R_PASS;
	if (!full)
		return -1;
	return pkt_tcp_abusive(g->tcp_flags);
}

/* The oracle's checks of a mutated frame whose headers are intact. */
static void check_oracle(struct fenv *e, const struct frame *fr,
			 const struct gen *g, const struct obs *o, int reason,
			 bool full)
{
	char c[64], got[96], want[96];
	int w;

	cell_name(o->cell, c, sizeof(c));
	entry_name(o->nent == 1 ? o->ent : -1, got, sizeof(got));
	if (!g->family) {
		if (reason != SL_R_NON_IP || o->nent)
			frame_fail(e, P_ORACLE, fr,
				   "non-IP frame with intact L2 header counted "
				   "%s, entry counted: %s",
				   c, got);
		return;
	}
	w = oracle_winner(g->family, g->src, g->dst);
	entry_name(w, want, sizeof(want));
	/* Abusive packets drop before the sets (a bad L4 header is judged
	 * first); with drop_malformed=0 they are judged like any packet. */
	if (!e->keep && reason != SL_R_MALFORMED_L4) {
		int ab = oracle_abusive(g, full);

		if (ab < 0 ? tcp_abusive(reason) : ab != SL_R_PASS) {
			if ((ab >= 0 && reason != ab) || o->nent)
				goto bad;
			return;
		}
	}
	switch (reason) {
	case SL_R_PASS:
		if (w >= 0)
			goto bad;
		break;
	case SL_R_ALLOW_SET:
	case SL_R_DENY_SET:
		if (w < 0 ||
		    entries[w].kind != (reason == SL_R_ALLOW_SET
					    ? SL_SET_ALLOW
					    : SL_SET_DENY) ||
		    o->nent != 1 || o->ent != w)
			goto bad;
		break;
	case SL_R_MALFORMED_L4:
		/* Only the L4 header can be bad; with drop_malformed=0 the
		 * sets still see the frame and a deny entry drops it. */
		if (full)
			goto bad;
		if (e->keep &&
		    ((w >= 0 && entries[w].kind == SL_SET_DENY) ||
		     (w >= 0 ? o->nent != 1 || o->ent != w : o->nent != 0)))
			goto bad;
		break;
	default:
		goto bad;
	}
	return;
bad:
	frame_fail(e, P_ORACLE, fr,
		   "%s headers intact: counted %s and entry %s; the set's "
		   "longest match is %s",
		   full ? "L2-L4" : "L2-L3", c, got, want);
}

/* The entry a frame's hit is attributed to: the oracle's winner where the
 * headers are intact and the frame met the sets, else the entry that moved
 * (checked for consistency by check_frame). */
static void attribute(struct fenv *e, const struct frame *fr,
		      const struct obs *o, int oracle_entry)
{
	int i =
	    oracle_entry == -2 ? (o->nent == 1 ? o->ent : -1) : oracle_entry;

	if (i >= 0) {
		e->attr_pk[i]++;
		e->attr_by[i] += fr->len;
	}
}

/* ---- the runs ---- */

static unsigned long frames_per_kind;

static void run_random(struct fenv *e)
{
	uint8_t b[PKT_MAX];
	struct frame fr = {.phase = "random", .b = b};
	struct obs o;

	rng = seed;
	for (fr.idx = 0; fr.idx < frames_per_kind; fr.idx++) {
		fr.len = gen_random(b);
		run_frame(e, &fr, &o);
		check_frame(e, 0, &fr, &o);
		attribute(e, &fr, &o, -2);
	}
}

static void run_mutated(struct fenv *e)
{
	uint8_t b[PKT_MAX];
	struct frame fr = {.phase = "mutated", .b = b};
	struct gen g;
	struct obs o;

	rng = seed ^ 0x6d75746174656421ULL;
	for (fr.idx = 0; fr.idx < frames_per_kind; fr.idx++) {
		size_t first_flip;
		bool l3_ok, full;
		int reason, w = -2;

		gen_valid(b, &g);
		fr.len = mutate(b, &g, &first_flip);
		run_frame(e, &fr, &o);
		reason = check_frame(e, P_PHASE, &fr, &o);
		l3_ok = first_flip >= g.hdr_end && fr.len >= g.len;
		full = first_flip >= g.l4_end && fr.len >= g.len;
		if (reason >= 0 && l3_ok) {
			check_oracle(e, &fr, &g, &o, reason, full);
			e->oracle_l3++;
			e->oracle_full += full;
			if (g.family &&
			    (reason == SL_R_PASS || reason == SL_R_ALLOW_SET ||
			     reason == SL_R_DENY_SET ||
			     (reason == SL_R_MALFORMED_L4 && e->keep)))
				w = oracle_winner(g.family, g.src, g.dst);
			else
				w = -1;
		}
		attribute(e, &fr, &o, w);
	}
}

/* ---- setup and the checks after the runs ---- */

static const char *map_of(const struct entry *en, bool host)
{
	static const char *const names[2][SL_DIR_MAX][2] = {
	    {{SL_MAP_SET_SRC_V4, SL_MAP_HOST_SRC_V4},
	     {SL_MAP_SET_DST_V4, SL_MAP_HOST_DST_V4}},
	    {{SL_MAP_SET_SRC_V6, SL_MAP_HOST_SRC_V6},
	     {SL_MAP_SET_DST_V6, SL_MAP_HOST_DST_V6}},
	};

	return names[en->p.family == AF_INET6][en->dir][host];
}

static bool install(struct fenv *e)
{
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *en = &entries[i];
		size_t alen = alen_of(en->p.family);
		bool host = en->p.plen == alen * 8;
		uint8_t *k = e->ent_key[i];

		e->ent_fd[i] = sl_map_fd(&e->ctx, map_of(en, host));
		if (e->ent_fd[i] < 0) {
			prop_fail(e, P_INSTALL, "no map %s", map_of(en, host));
			return false;
		}
		memset(k, 0, sizeof(e->ent_key[i]));
		if (host) {
			memcpy(k, en->p.addr, alen);
		} else {
			__u32 plen = en->p.plen;

			memcpy(k, &plen, sizeof(plen));
			memcpy(k + sizeof(plen), en->p.addr, alen);
		}
	}
	for (int kind = SL_SET_ALLOW; kind <= SL_SET_DENY; kind++) {
		for (int dir = 0; dir < SL_DIR_MAX; dir++) {
			struct sl_prefix p[N_ENTRIES];
			size_t n = 0, added = 0;
			int err;

			for (size_t i = 0; i < N_ENTRIES; i++)
				if (entries[i].kind == kind &&
				    entries[i].dir == dir)
					p[n++] = entries[i].p;
			err = sl_set_add(&e->ctx, kind, dir, p, n, &added);
			if (err || added != n) {
				prop_fail(e, P_INSTALL,
					  "sl_set_add(%s, %s, %zu prefixes): "
					  "%s, %zu added",
					  sl_set_kind_name(kind),
					  sl_dir_name(dir), n, strerror(-err),
					  added);
				return false;
			}
		}
	}
	return true;
}

static void check_list(struct fenv *e)
{
	struct sl_set_entry *v = NULL;
	bool found[N_ENTRIES] = {0};
	uint64_t hits_pk = 0, hits_by = 0, want_pk, want_by;
	size_t n = 0;
	int err;

	for (int kind = SL_SET_ALLOW; kind <= SL_SET_DENY; kind++) {
		size_t want = 0;

		for (size_t i = 0; i < N_ENTRIES; i++)
			want += entries[i].kind == kind;
		err = sl_set_list(&e->ctx, kind, &v, &n);
		free(v);
		v = NULL;
		if (err || n != want)
			prop_fail(e, P_LIST,
				  "sl_set_list(%s): %s, %zu entries, want %zu",
				  sl_set_kind_name(kind), strerror(-err), n,
				  want);
	}
	err = sl_set_list(&e->ctx, 0, &v, &n);
	if (err) {
		prop_fail(e, P_LIST, "sl_set_list: %s", strerror(-err));
		prop_fail(e, P_ENTRY_COUNTERS, "sl_set_list: %s",
			  strerror(-err));
		return;
	}
	for (size_t j = 0; j < n; j++) {
		int i = entry_find(&v[j]);
		char p[64], name[96];

		sl_prefix_format(&v[j].prefix, p, sizeof(p));
		if (i < 0 || found[i] || v[j].kind != entries[i].kind) {
			prop_fail(e, P_LIST, "%s %s %s: %s",
				  sl_set_kind_name(v[j].kind),
				  sl_dir_name(v[j].dir), p,
				  i < 0 || v[j].kind != entries[i].kind
				      ? "not installed"
				      : "listed twice");
			continue;
		}
		found[i] = true;
		hits_pk += v[j].packets;
		hits_by += v[j].bytes;
		entry_name(i, name, sizeof(name));
		if (v[j].packets != e->attr_pk[i] ||
		    v[j].bytes != e->attr_by[i])
			prop_fail(e, P_ENTRY_COUNTERS,
				  "%s counted %llu packets/%llu bytes, the "
				  "frames account for %llu/%llu",
				  name, (unsigned long long)v[j].packets,
				  (unsigned long long)v[j].bytes,
				  (unsigned long long)e->attr_pk[i],
				  (unsigned long long)e->attr_by[i]);
	}
	for (size_t i = 0; i < N_ENTRIES; i++) {
		char name[96];

		entry_name(i, name, sizeof(name));
		if (!found[i])
			prop_fail(e, P_LIST, "%s is missing", name);
	}
	free(v);

	/* Every entry hit is an allow-set or deny-set verdict, or (with
	 * drop_malformed=0) a malformed-l3/l4 pass from an allowed address
	 * (the parser read the addresses). */
	want_pk = e->cnt[sl_stats_idx(SL_R_ALLOW_SET, SL_ACT_PASS)].packets +
		  e->cnt[sl_stats_idx(SL_R_DENY_SET, SL_ACT_DROP)].packets;
	want_by = e->cnt[sl_stats_idx(SL_R_ALLOW_SET, SL_ACT_PASS)].bytes +
		  e->cnt[sl_stats_idx(SL_R_DENY_SET, SL_ACT_DROP)].bytes;
	if (hits_pk != want_pk + e->l4_pk || hits_by != want_by + e->l4_by)
		prop_fail(
		    e, P_ENTRY_COUNTERS,
		    "entries counted %llu packets/%llu bytes; allow-set "
		    "+ deny-set counted %llu/%llu, malformed passes "
		    "an entry counted %llu/%llu",
		    (unsigned long long)hits_pk, (unsigned long long)hits_by,
		    (unsigned long long)want_pk, (unsigned long long)want_by,
		    (unsigned long long)e->l4_pk, (unsigned long long)e->l4_by);
}

static void check_totals(struct fenv *e)
{
	struct sl_counter now[SL_STATS_MAX];
	uint64_t pk = 0, by = 0;
	int err = sl_stats_read_fd(e->stats, now);

	if (err) {
		prop_fail(e, P_STATS_TOTAL, "sl_stats_read_fd: %s",
			  strerror(-err));
		return;
	}
	for (int i = 0; i < SL_STATS_MAX; i++) {
		pk += now[i].packets;
		by += now[i].bytes;
	}
	if (pk != e->frames || by != e->bytes)
		prop_fail(e, P_STATS_TOTAL,
			  "counters total %llu packets/%llu bytes, %llu "
			  "frames/%llu bytes were run",
			  (unsigned long long)pk, (unsigned long long)by,
			  (unsigned long long)e->frames,
			  (unsigned long long)e->bytes);

	for (int i = 0; i < SL_STATS_MAX; i++) {
		char c[64];

		if (e->reached[i] || !pair_possible(e, i / SL_STATS_ACTIONS,
						    i % SL_STATS_ACTIONS))
			continue;
		cell_name(i, c, sizeof(c));
		prop_fail(e, P_COVERAGE, "no frame was counted as %s", c);
	}
}

/* Reads the whole presence bitmap into w (SL_HOST_BITS_WORDS words). */
static int read_bitmap(int fd, __u64 *w)
{
	__u32 *keys = malloc(SL_HOST_BITS_WORDS * sizeof(*keys));
	__u32 got = 0, in = 0, out = 0;
	int err = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, o);

	if (!keys)
		return -ENOMEM;
	while (got < SL_HOST_BITS_WORDS) {
		__u32 count = SL_HOST_BITS_WORDS - got;

		err = bpf_map_lookup_batch(fd, got ? &in : NULL, &out,
					   keys + got, w + got, &count, &o);
		err = err ? -errno : 0;
		for (__u32 i = 0; !err && i < count; i++)
			if (keys[got + i] != got + i)
				err = -EIO;
		got += count;
		in = out;
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		if (err)
			break;
	}
	if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP) {
		/* No batch lookup: one word at a time. */
		err = 0;
		for (__u32 i = 0; !err && i < SL_HOST_BITS_WORDS; i++)
			if (bpf_map_lookup_elem(fd, &i, &w[i]))
				err = -errno;
	} else if (!err && got != SL_HOST_BITS_WORDS) {
		err = -EIO;
	}
	free(keys);
	return err;
}

static void check_bitmap(struct fenv *e)
{
	__u64 *want = calloc(SL_HOST_BITS_WORDS, sizeof(*want));
	__u64 *got = calloc(SL_HOST_BITS_WORDS, sizeof(*got));
	int fd = sl_map_fd(&e->ctx, SL_MAP_HOST_BITS), err;

	if (!want || !got) {
		prop_fail(e, P_BITMAP, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *en = &entries[i];
		bool v6 = en->p.family == AF_INET6;
		__u32 a[4], b;

		if (en->p.plen != (v6 ? 128 : 32))
			continue;
		memcpy(a, en->p.addr, sizeof(a));
		b = sl_host_bucket(a, v6 ? 4 : 1);
		want[sl_host_region(v6, en->dir) + (b >> 6)] |= 1ULL
								<< (b & 63);
	}
	err = fd < 0 ? fd : read_bitmap(fd, got);
	if (err) {
		prop_fail(e, P_BITMAP, "cannot read %s: %s", SL_MAP_HOST_BITS,
			  strerror(-err));
		goto out;
	}
	for (__u32 i = 0; i < SL_HOST_BITS_WORDS; i++)
		if (got[i] != want[i]) {
			prop_fail(e, P_BITMAP,
				  "word %u is %#llx, the host entries make it "
				  "%#llx",
				  i, (unsigned long long)got[i],
				  (unsigned long long)want[i]);
			break;
		}
out:
	free(want);
	free(got);
}

static int run_env(struct fenv *e, const struct sl_features *feat)
{
	e->skel = sl_xdp_load(NULL, feat, SL_PROG_XDP);
	if (!e->skel) {
		if (errno == EPERM)
			printf("not ok - test_fuzz: needs root\n");
		else
			printf("not ok - test_fuzz: cannot load the XDP "
			       "program (%s): %s\n",
			       e->tag, strerror(errno));
		return -1;
	}
	e->frags = bpf_object__find_map_fd_by_name(sl_xdp_object(e->skel),
						   SL_MAP_FRAGS);
	sl_ctx_wrap(&e->ctx, e->skel);
	e->prog = sl_xdp_prog_fd(e->skel);
	e->stats = sl_map_fd(&e->ctx, SL_MAP_STATS);

	if (install(e)) {
		run_random(e);
		run_mutated(e);
		check_list(e);
		check_totals(e);
		check_bitmap(e);
	}
	printf("# %s: %llu frames, %llu bytes; mutated frames checked by the "
	       "oracle: %lu with intact L2-L3, %lu of them with intact L4\n",
	       e->tag, (unsigned long long)e->frames,
	       (unsigned long long)e->bytes, e->oracle_l3, e->oracle_full);
	printf("# %s: counted", e->tag);
	for (int i = 0; i < SL_STATS_MAX; i++) {
		char c[64];

		if (!e->reached[i])
			continue;
		cell_name(i, c, sizeof(c));
		printf(" %s=%lu", c, e->reached[i]);
	}
	printf("\n# %s: set entries never hit:", e->tag);
	for (size_t i = 0, n = 0; i < N_ENTRIES; i++) {
		char name[96];

		if (!e->attr_pk[i])
			entry_name(i, name, sizeof(name));
		if (!e->attr_pk[i] && ++n)
			printf(" [%s]", name);
		if (i == N_ENTRIES - 1 && !n)
			printf(" none");
	}
	printf("\n");

	report(e, P_INSTALL);
	if (!e->prop[P_INSTALL].fails)
		for (int p = 0; p < NPROP; p++)
			if (p != P_INSTALL)
				report(e, p);
	sl_close(&e->ctx);
	sl_xdp_destroy(e->skel);
	return 0;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "test_fuzz: bad %s '%s', using %llu\n", name, s,
			(unsigned long long)dflt);
		return dflt;
	}
	return v;
}

int main(void)
{
	static struct fenv envs[2] = {
	    {.tag = "default features"},
	    {.tag = "drop_malformed=0", .keep = true},
	};
	struct sl_features feat;
	struct timespec ts;

	sl_log_hook_libbpf();
	if (sl_check_privileges()) {
		printf("not ok - test_fuzz: needs root\n");
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = env_u64("SLUICE_FUZZ_SEED",
		       (uint64_t)ts.tv_sec * 1000003u ^ ts.tv_nsec ^ getpid());
	frames_per_kind = env_u64("SLUICE_FUZZ_FRAMES", FRAMES_DEFAULT);
	printf("# seed %llu\n", (unsigned long long)seed);
	printf("# %lu random and %lu mutated frames per feature setting\n",
	       frames_per_kind, frames_per_kind);

	for (size_t i = 0; i < N_ENTRIES; i++) {
		char err[128];

		entries[i].kind = set_defs[i].kind;
		entries[i].dir = set_defs[i].dir;
		if (sl_prefix_parse(set_defs[i].prefix, &entries[i].p, err,
				    sizeof(err))) {
			printf("not ok - test_fuzz: bad prefix %s: %s\n",
			       set_defs[i].prefix, err);
			return 1;
		}
	}

	for (int k = 0; k < 2; k++) {
		sl_features_default(&feat);
		if (envs[k].keep)
			feat.drop_malformed = 0;
		if (run_env(&envs[k], k ? &feat : NULL))
			return 1;
	}
	return check_failed ? 1 : 0;
}
