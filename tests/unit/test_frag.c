// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_frag: fragment tracking (bpf/lib/frag.h) and the `fragment` rule
 * field, through the real programs on crafted frames
 * (bpf_prog_test_run_opts). With `policy: {in: drop, out: drop}` and a
 * rule passing udp dport 5000, the later fragments of a datagram whose
 * first fragment passed pass (reason fragment), those of one whose first
 * was dropped are dropped, and a later fragment of no known datagram
 * meets the rules and the policy; IPv4 and IPv6, XDP, TC ingress and TC
 * egress. Also: a denied source's later fragments stay dropped, the
 * entries the first fragments write (and the trace copy does not), expiry
 * (default and configured timeout), the stage switched off, and rules
 * matching `fragment`. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "names.h"
#include "pkt.h"
#include "skelmaps.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

enum hook { XDP, TC_IN, TC_OUT };

struct env {
	struct sluice_xdp *skel;
	int prog[3], frags, scratch;
	size_t v_off; /* offset of `v` (struct sl_verdict) in sl_pctx */
	size_t pctx_size;
};

static struct env on, off, trace;

#define S4   "198.18.0.1"
#define D4   "198.19.0.1"
#define BAD4 "198.18.0.66" /* denied by the second config */
#define S6   "2001:db8:1::1"
#define D6   "2001:db8:2::1"

static const char base_yaml[] = "policy: {in: drop, out: drop}\n"
				"rules:\n"
				"  - {action: pass, proto: udp, dport: 5000}\n";

/* ---- the environment ---- */

static bool env_load(struct env *e, __u8 stages_off, int tracing)
{
	struct sl_features f;

	sl_features_default(&f);
	f.stages_off = stages_off;
	f.trace = tracing;
	e->skel =
	    sl_xdp_load(NULL, &f, SL_PROG_XDP | SL_PROG_TC_IN | SL_PROG_TC_OUT);
	if (!e->skel)
		return false;
	e->prog[XDP] = bpf_program__fd(e->skel->progs.sluice_xdp);
	e->prog[TC_IN] = bpf_program__fd(e->skel->progs.sluice_tc_in);
	e->prog[TC_OUT] = bpf_program__fd(e->skel->progs.sluice_tc_out);
	e->frags = bpf_map__fd(e->skel->maps.sl_frags);
	e->scratch = bpf_map__fd(e->skel->maps.sl_scratch);
	return skel_btf_member(e->skel->obj, "sl_pctx", "v", &e->v_off,
			       &e->pctx_size);
}

/* The reason of the last verdict on this CPU (0: the test is pinned
 * there), from the per-CPU context. */
static int last_reason(struct env *e)
{
	/* struct sl_verdict: action, reason, target */
	return (int)pcpu_u32(e->scratch, e->pctx_size, e->v_off + 4);
}

static size_t frag_count(struct env *e)
{
	return map_count(e->frags);
}

static void frag_flush(struct env *e)
{
	map_flush(e->frags);
}

static bool apply_text(struct env *e, const char *yaml)
{
	struct sl_apply_report rep;
	struct sl_config cfg;
	struct sl_ctx ctx;
	bool ok;

	if (!ASSERT_EQ(skel_config_text(yaml, &cfg), 0, "config load"))
		return false;
	sl_ctx_wrap(&ctx, e->skel);
	ok = ASSERT_EQ(sl_apply(&ctx, &cfg, 0, &rep), 0, "apply");
	sl_config_free(&cfg);
	sl_close(&ctx);
	return ok;
}

/* ---- frames ---- */

/* A fragment of a UDP datagram: first (offset 0, more fragments: UDP
 * header with the ports), later (offset 1480 bytes, the last), or a whole
 * datagram (neither); id: its IP id / IPv6 identification. */
enum kind { WHOLE, FIRST, LATER };

struct frame {
	const char *what;
	int v6;
	enum kind kind;
	const char *src, *dst;
	uint16_t dport;
	uint32_t id;
};

static size_t build(const struct frame *fr, uint8_t *b)
{
	struct pkt_spec s = {
	    .ethertype = fr->v6 ? ETH_P_IPV6 : ETH_P_IP,
	    .proto = IPPROTO_UDP,
	    .src = fr->src,
	    .dst = fr->dst,
	    .dport = fr->dport,
	    .payload = 64,
	};
	uint16_t fo = fr->kind == FIRST	  ? (fr->v6 ? PKT_IP6_M : PKT_IP4_MF)
		      : fr->kind == LATER ? (fr->v6 ? PKT_IP6_OFF(185) : 185)
					  : 0;
	struct pkt_off o;
	size_t n;

	if (fr->v6) {
		s.n_ext = fr->kind == WHOLE ? 0 : 1;
		s.ext[0] = IPPROTO_FRAGMENT;
	}
	s.frag = fo;
	if (fr->kind != WHOLE)
		s.udp_len = 8 + 1480 + 64; /* the whole datagram's */
	n = pkt_build(&s, b, &o);
	if (fr->kind == WHOLE)
		return n;
	if (fr->v6) {
		/* identification: the fragment header's last 4 bytes */
		uint32_t id = htonl(fr->id);

		memcpy(b + o.l3 + 40 + 4, &id, 4);
	} else {
		pkt_put16(b + o.l3 + 4, fr->id);
		pkt_ip4_fix_csum(b + o.l3, 20);
	}
	return n;
}

/* Runs a frame through a hook: the Sluice action (enum sl_action) its
 * return code stands for (TC_ACT_SHOT: drop), or -1. */
static int run(struct env *e, enum hook h, const struct frame *fr)
{
	uint8_t f[PKT_MAX];
	size_t len = build(fr, f);
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f, .data_size_in = len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(e->prog[h], &t))
		return -1;
	if (h == XDP)
		return pkt_xdp_action(t.retval);
	return t.retval == TC_ACT_OK	 ? SL_ACT_PASS
	       : t.retval == TC_ACT_SHOT ? SL_ACT_DROP
					 : -1;
}

/* One step: the frame through hook h gives action and reason. */
static bool step(struct env *e, enum hook h, const struct frame *fr, int action,
		 int reason)
{
	int got = run(e, h, fr), why = last_reason(e);

	return ASSERT_TRUE(got == action && why == reason,
			   "%s: %s (%s), want %s (%s)", fr->what,
			   got < 0 ? "error" : sl_action_name(got),
			   sl_reason_name(why), sl_action_name(action),
			   sl_reason_name(reason));
}

#define PASS SL_ACT_PASS
#define DROP SL_ACT_DROP

/* The datagram sequences of one family at one hook: first passed -> later
 * passes; first dropped -> later dropped; later of no first -> policy; a
 * whole datagram to a passed port, and a later fragment of another id. */
static bool sequences(enum hook h, int v6)
{
	const char *s = h == TC_OUT ? (v6 ? D6 : D4) : (v6 ? S6 : S4);
	const char *d = h == TC_OUT ? (v6 ? S6 : S4) : (v6 ? D6 : D4);
	uint32_t id = 0x100 + h * 16 + v6;
	const struct frame fp = {"first to 5000", v6, FIRST, s, d, 5000, id};
	const struct frame lp = {"later of it", v6, LATER, s, d, 5000, id};
	const struct frame fd = {"first to 5001", v6, FIRST, s, d, 5001,
				 id + 1};
	const struct frame ld = {"later of it", v6, LATER, s, d, 5001, id + 1};
	const struct frame lx = {
	    "later, no first", v6, LATER, s, d, 5000, id + 2};
	const struct frame w = {"whole to 5000", v6, WHOLE, s, d, 5000, 0};

	return step(&on, h, &lx, DROP, SL_R_POLICY) &&
	       step(&on, h, &fp, PASS, SL_R_RULE) &&
	       step(&on, h, &lp, PASS, SL_R_FRAG) &&
	       step(&on, h, &lp, PASS, SL_R_FRAG) &&
	       step(&on, h, &fd, DROP, SL_R_POLICY) &&
	       step(&on, h, &ld, DROP, SL_R_FRAG) &&
	       step(&on, h, &lx, DROP, SL_R_POLICY) &&
	       step(&on, h, &w, PASS, SL_R_RULE);
}

static bool check_sequences(enum hook h, int v6)
{
	bool ok;

	frag_flush(&on);
	ok = sequences(h, v6);
	/* the two first fragments made the two entries, nothing else did */
	return ok && ASSERT_EQ(frag_count(&on), 2, "entries");
}

/* The entry of a first fragment: key and verdict. */
static bool check_entry(void)
{
	const struct frame fp = {"first", 0, FIRST, S4, D4, 5000, 0x4242};
	struct sl_frag_key k = {
	    .family = 4, .proto = IPPROTO_UDP, .dir = SL_RDIR_IN, .id = 0x4242};
	struct sl_frag_val v = {0};
	struct timespec ts;
	__u64 now;

	frag_flush(&on);
	inet_pton(AF_INET, S4, k.saddr);
	inet_pton(AF_INET, D4, k.daddr);
	if (!step(&on, XDP, &fp, PASS, SL_R_RULE))
		return false;
	if (!ASSERT_EQ(bpf_map_lookup_elem(on.frags, &k, &v), 0,
		       "lookup of the datagram's entry"))
		return false;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	return ASSERT_EQ(v.action, SL_ACT_PASS, "entry action") &&
	       ASSERT_EQ(v.reason, SL_R_RULE, "entry reason") &&
	       ASSERT_TRUE(v.first <= now && now - v.first < 5000000000ULL,
			   "entry time %llu, now %llu",
			   (unsigned long long)v.first,
			   (unsigned long long)now) &&
	       ASSERT_EQ(frag_count(&on), 1, "entries");
}

/* An entry older than SL_FRAG_TIMEOUT_S is absent. */
static bool check_expiry(void)
{
	const struct frame fp = {"first", 1, FIRST, S6, D6, 5000, 0x777};
	const struct frame lp = {"later", 1, LATER, S6, D6, 5000, 0x777};
	struct sl_frag_key k = {
	    .family = 6, .proto = 0, .dir = SL_RDIR_IN, .id = 0x777};
	struct sl_frag_val v;
	bool ok;

	frag_flush(&on);
	inet_pton(AF_INET6, S6, k.saddr);
	inet_pton(AF_INET6, D6, k.daddr);
	ok = step(&on, XDP, &fp, PASS, SL_R_RULE) &&
	     ASSERT_EQ(bpf_map_lookup_elem(on.frags, &k, &v), 0, "lookup");
	if (!ok)
		return false;
	v.first -= (SL_FRAG_TIMEOUT_S - 2) * 1000000000ULL;
	bpf_map_update_elem(on.frags, &k, &v, BPF_EXIST);
	if (!step(&on, XDP, &lp, PASS, SL_R_FRAG))
		return false;
	v.first -= 3 * 1000000000ULL; /* now older than the timeout */
	bpf_map_update_elem(on.frags, &k, &v, BPF_EXIST);
	return step(&on, XDP, &lp, DROP, SL_R_POLICY);
}

/* `fragments: {timeout: 5s}` in the blob: an entry 6 s old is absent (it
 * would hold for the default 30 s), one 4 s old holds. */
static bool check_timeout_config(void)
{
	static const char yaml[] =
	    "policy: {in: drop, out: drop}\n"
	    "fragments: {timeout: 5s}\n"
	    "rules:\n"
	    "  - {action: pass, proto: udp, dport: 5000}\n";
	const struct frame fp = {"first", 0, FIRST, S4, D4, 5000, 0x5005};
	const struct frame lp = {"later", 0, LATER, S4, D4, 5000, 0x5005};
	struct sl_frag_key k = {
	    .family = 4, .proto = IPPROTO_UDP, .dir = SL_RDIR_IN, .id = 0x5005};
	struct sl_frag_val v;
	bool ok;

	frag_flush(&on);
	inet_pton(AF_INET, S4, k.saddr);
	inet_pton(AF_INET, D4, k.daddr);
	ok = apply_text(&on, yaml) && step(&on, TC_IN, &fp, PASS, SL_R_RULE) &&
	     ASSERT_EQ(bpf_map_lookup_elem(on.frags, &k, &v), 0, "lookup");
	if (ok) {
		v.first -= 4 * 1000000000ULL;
		bpf_map_update_elem(on.frags, &k, &v, BPF_EXIST);
		ok = step(&on, TC_IN, &lp, PASS, SL_R_FRAG);
	}
	if (ok) {
		v.first -= 2 * 1000000000ULL;
		bpf_map_update_elem(on.frags, &k, &v, BPF_EXIST);
		ok = step(&on, TC_IN, &lp, DROP, SL_R_POLICY);
	}
	return apply_text(&on, base_yaml) && ok;
}

/* A source denied after its first fragment passed: the later fragment
 * meets the sets first and is dropped as deny-set. */
static bool check_deny(void)
{
	static const char yaml[] =
	    "policy: {in: drop, out: drop}\n"
	    "deny: [" BAD4 "]\n"
	    "rules:\n"
	    "  - {action: pass, proto: udp, dport: 5000}\n";
	const struct frame fp = {"first", 0, FIRST, BAD4, D4, 5000, 0x99};
	const struct frame lp = {"later", 0, LATER, BAD4, D4, 5000, 0x99};
	const struct frame l6 = {"later", 1, LATER, S6, D6, 5000, 0x98};
	const struct frame f6 = {"first", 1, FIRST, S6, D6, 5000, 0x98};
	bool ok;

	frag_flush(&on);
	ok = step(&on, XDP, &fp, PASS, SL_R_RULE) &&
	     step(&on, XDP, &f6, PASS, SL_R_RULE) && apply_text(&on, yaml) &&
	     step(&on, XDP, &lp, DROP, SL_R_DENY_SET) &&
	     step(&on, TC_IN, &lp, DROP, SL_R_DENY_SET) &&
	     /* the other datagram is not denied: its entry holds */
	     step(&on, XDP, &l6, PASS, SL_R_FRAG);
	return apply_text(&on, base_yaml) && ok;
}

/* The trace copy (sluice explain) reads the table but never writes it. */
static bool check_trace(void)
{
	const struct frame fp = {"first", 0, FIRST, S4, D4, 5000, 0x55};
	const struct frame lp = {"later", 0, LATER, S4, D4, 5000, 0x55};
	struct sl_frag_key k = {
	    .family = 4, .proto = IPPROTO_UDP, .dir = SL_RDIR_IN, .id = 0x55};
	struct sl_frag_val v = {.action = SL_ACT_DROP, .reason = SL_R_POLICY};
	int ncpu = libbpf_num_possible_cpus();
	struct sl_trace *t = calloc(ncpu, sizeof(*t));
	__u32 zero = 0;
	struct timespec ts;
	bool ok;

	if (!ASSERT_TRUE(t != NULL, "memory"))
		return false;
	ok = ASSERT_TRUE(run(&trace, XDP, &fp) == SL_ACT_PASS,
			 "trace copy: first fragment not passed (no config: "
			 "policy pass)") &&
	     ASSERT_EQ(frag_count(&trace), 0, "entries the trace copy wrote");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v.first = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	inet_pton(AF_INET, S4, k.saddr);
	inet_pton(AF_INET, D4, k.daddr);
	ok = ok && ASSERT_EQ(bpf_map_update_elem(trace.frags, &k, &v, BPF_ANY),
			     0, "entry for the trace copy");
	ok = ok && ASSERT_TRUE(run(&trace, XDP, &lp) == SL_ACT_DROP,
			       "trace copy: the later fragment of a dropped "
			       "first is not dropped");
	ok = ok &&
	     ASSERT_EQ(bpf_map_lookup_elem(
			   bpf_map__fd(trace.skel->maps.sl_trace), &zero, t),
		       0, "trace read");
	ok = ok && ASSERT_EQ(t[0].reason, SL_R_FRAG, "trace reason") &&
	     ASSERT_EQ(t[0].action, SL_ACT_DROP, "trace action");
	free(t);
	return ok;
}

/* The stage switched off (attach --stages without fragments): later
 * fragments meet the policy, nothing is written. */
static bool check_off(void)
{
	const struct frame fp = {"first", 0, FIRST, S4, D4, 5000, 0x66};
	const struct frame lp = {"later", 0, LATER, S4, D4, 5000, 0x66};

	return apply_text(&off, base_yaml) &&
	       step(&off, XDP, &fp, PASS, SL_R_RULE) &&
	       step(&off, XDP, &lp, DROP, SL_R_POLICY) &&
	       ASSERT_EQ(frag_count(&off), 0, "entries with the stage off");
}

/* Rules on `fragment`: no, first, later, yes. */
static bool check_field(void)
{
	static const char yaml[] =
	    "policy: {in: drop, out: drop}\n"
	    "rules:\n"
	    "  - {action: drop, src: 198.18.7.0/24, fragment: yes}\n"
	    "  - {action: pass, src: 198.18.7.0/24}\n"
	    "  - {action: pass, proto: udp, dport: 7000, fragment: no}\n"
	    "  - {action: drop, proto: udp, dport: 5000, fragment: first}\n"
	    "  - {action: pass, proto: udp, dport: 5000}\n"
	    "  - {action: pass, proto: udp, src: 198.18.0.0/24, fragment: "
	    "later}\n";
	static const struct {
		struct frame f;
		int want;
	} v[] = {
	    {{"whole to 7000 (no)", 0, WHOLE, S4, D4, 7000, 0}, PASS},
	    {{"first to 7000 (no)", 0, FIRST, S4, D4, 7000, 0x71}, DROP},
	    {{"whole to 5000", 1, WHOLE, S6, D6, 5000, 0}, PASS},
	    {{"first to 5000 (first)", 1, FIRST, S6, D6, 5000, 0x72}, DROP},
	    {{"its later fragment", 1, LATER, S6, D6, 5000, 0x72}, DROP},
	    {{"later, no first (later)", 0, LATER, S4, D4, 0, 0x73}, PASS},
	    {{"later, no first, other source", 0, LATER, "198.18.1.1", D4, 0,
	      0x74},
	     DROP},
	    {{"whole from 198.18.7.9 (yes)", 0, WHOLE, "198.18.7.9", D4, 53, 0},
	     PASS},
	    {{"first from 198.18.7.9 (yes)", 0, FIRST, "198.18.7.9", D4, 53,
	      0x75},
	     DROP},
	    {{"later from 198.18.7.9 (yes)", 0, LATER, "198.18.7.9", D4, 53,
	      0x76},
	     DROP},
	};
	bool ok = apply_text(&on, yaml);

	frag_flush(&on);
	for (size_t i = 0; ok && i < sizeof(v) / sizeof(v[0]); i++) {
		int got = run(&on, XDP, &v[i].f);

		ok = ASSERT_TRUE(got == v[i].want, "%s: %s, want %s",
				 v[i].f.what,
				 got < 0 ? "error" : sl_action_name(got),
				 sl_action_name(v[i].want));
	}
	return apply_text(&on, base_yaml) && ok;
}

int main(void)
{
	int rc = skel_test_start("test_frag");

	if (rc >= 0)
		return rc;
	if (!env_load(&on, 0, 0) || !env_load(&off, SL_STAGE_OFF_FRAG, 0) ||
	    !env_load(&trace, 0, 1)) {
		printf("not ok - load the programs (fragment stage on, off, "
		       "trace copy)\n");
		return 1;
	}
	check_report("apply: policy drop, pass udp dport 5000",
		     apply_text(&on, base_yaml));
	check_report("ipv4 xdp: later fragments take the first's verdict",
		     check_sequences(XDP, 0));
	check_report("ipv6 xdp: later fragments take the first's verdict",
		     check_sequences(XDP, 1));
	check_report("ipv4 tc ingress: later fragments take the first's "
		     "verdict",
		     check_sequences(TC_IN, 0));
	check_report("ipv6 tc ingress: later fragments take the first's "
		     "verdict",
		     check_sequences(TC_IN, 1));
	check_report("ipv4 tc egress: outgoing fragments too",
		     check_sequences(TC_OUT, 0));
	check_report("ipv6 tc egress: outgoing fragments too",
		     check_sequences(TC_OUT, 1));
	check_report("a first fragment writes its datagram's entry",
		     check_entry());
	check_report("an entry older than the timeout is absent",
		     check_expiry());
	check_report("fragments: {timeout: 5s} shortens the timeout",
		     check_timeout_config());
	check_report("a denied source's later fragments stay dropped",
		     check_deny());
	check_report("the trace copy looks up but never writes", check_trace());
	check_report("stage off: later fragments meet the policy", check_off());
	check_report("rules match fragment no, first, later, yes",
		     check_field());
	sl_xdp_destroy(on.skel);
	sl_xdp_destroy(off.skel);
	sl_xdp_destroy(trace.skel);
	return check_failed ? 1 : 0;
}
