// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* verifier_stats: the verifier's work per program. Loads each program of
 * the datapath object alone (private maps, no pins), with the default
 * load-time features and with every non-default one, asking the verifier
 * for its statistics (log level BPF_LOG_STATS), and prints per program the
 * stack depth of each frame, the instructions processed, the states, the
 * verification time and the whole load time (map creation included).
 * Fails (one "not ok" line per program) when the entry's frame plus its
 * deepest callback's (bpf_loop callbacks; stricter than the verifier,
 * which limits each call chain to 512 bytes but does not add a callback's
 * frame to its caller's) exceeds SL_STACK_BUDGET bytes, so every hook
 * keeps at least 192 bytes for the stages to come. Run by tests/static.sh;
 * the "#" lines are the figures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

#define SL_STACK_BUDGET 320
#define LOG_SIZE	(1U << 20)

struct prog_def {
	const char *name;
};

static const char *const progs[] = {"sluice_xdp", "sluice_tc_in",
				    "sluice_tc_out"};

struct feat_def {
	const char *name;
	struct sl_features feat;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Stack per frame as the verifier counts it for the call-chain limit: each
 * frame rounded up to 32 bytes. */
static int frame(int d)
{
	return d <= 0 ? 32 : (d + 31) / 32 * 32;
}

/* Parses "stack depth A+B+C" (entry first, then each subprogram). Returns
 * the entry's depth in *entry and the entry plus its deepest subprogram in
 * *chain (callbacks and helpers' subprograms do not nest deeper here). */
static int parse_stack(const char *log, int *entry, int *chain)
{
	const char *s = strstr(log, "stack depth ");
	int deepest = 0, first = 1;
	char *end;

	if (!s)
		return -1;
	s += strlen("stack depth ");
	for (;;) {
		long d = strtol(s, &end, 10);

		if (end == s)
			break;
		if (first)
			*entry = d;
		else if (frame(d) > deepest)
			deepest = frame(d);
		first = 0;
		if (*end != '+')
			break;
		s = end + 1;
	}
	if (first)
		return -1;
	*chain = frame(*entry) + deepest;
	return 0;
}

static int run(const char *prog_name, const struct feat_def *f, int *failed)
{
	struct sluice_xdp *skel;
	struct bpf_program *p, *want = NULL;
	struct bpf_map *map;
	char *log = calloc(1, LOG_SIZE);
	long insns = -1, states = -1, peak = -1, usec = -1;
	int entry = -1, chain = -1, err;
	double t0, ms;
	const char *s;

	if (!log)
		return -ENOMEM;
	skel = sluice_xdp__open();
	if (!skel) {
		free(log);
		return -errno;
	}
	bpf_object__for_each_map (map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	skel->rodata->sl_feat = f->feat;
	/* As the loader makes it: a placeholder with conntrack off. */
	bpf_map__set_max_entries(skel->maps.sl_ct,
				 f->feat.conntrack ? SL_CT_MAX_DEFAULT : 1);
	bpf_object__for_each_program (p, skel->obj) {
		bool on = !strcmp(bpf_program__name(p), prog_name);

		bpf_program__set_autoload(p, on);
		if (on)
			want = p;
	}
	if (!want) {
		printf("not ok - verifier work of %s: no such program\n",
		       prog_name);
		(*failed)++;
		sluice_xdp__destroy(skel);
		free(log);
		return 0;
	}
	bpf_program__set_log_level(want, 4 /* BPF_LOG_STATS */);
	bpf_program__set_log_buf(want, log, LOG_SIZE);
	t0 = now_ms();
	err = sluice_xdp__load(skel);
	ms = now_ms() - t0;
	if (err) {
		size_t l = strlen(log);
		const char *tail = l > 1500 ? log + l - 1500 : log;

		printf("not ok - %s (%s) loads: %s\n", prog_name, f->name,
		       strerror(-err));
		/* the end of the verifier's log says why */
		for (const char *q = tail; *q;) {
			size_t n = strcspn(q, "\n");

			printf("#   %.*s\n", (int)n, q);
			q += n + (q[n] == '\n');
		}
		(*failed)++;
		goto out;
	}
	s = strstr(log, "processed ");
	if (s)
		sscanf(
		    s,
		    "processed %ld insns (limit %*d) max_states_per_insn %*d "
		    "total_states %ld peak_states %ld",
		    &insns, &states, &peak);
	s = strstr(log, "verification time ");
	if (s)
		sscanf(s, "verification time %ld usec", &usec);
	if (parse_stack(log, &entry, &chain) || insns < 0) {
		printf("not ok - verifier work of %s (%s): no statistics in "
		       "the verifier log\n",
		       prog_name, f->name);
		(*failed)++;
		goto out;
	}
	s = strstr(log, "stack depth ");
	printf("# %-14s %-16s stack %3d (frames %.*s, with deepest callback "
	       "%3d)  insns %7ld  states %5ld (peak %4ld)  verify %6.1f ms  "
	       "load %6.1f ms\n",
	       prog_name, f->name, entry, (int)strcspn(s + 12, "\n"), s + 12,
	       chain, insns, states, peak, usec / 1e3, ms);
	if (chain > SL_STACK_BUDGET) {
		printf("not ok - %s (%s) stack: %d bytes in the deepest call "
		       "chain, budget %d (512 - 192 kept free for later "
		       "stages)\n",
		       prog_name, f->name, chain, SL_STACK_BUDGET);
		(*failed)++;
	} else {
		printf("ok - %s (%s) loads with its stack within %d bytes\n",
		       prog_name, f->name, SL_STACK_BUDGET);
	}
out:
	sluice_xdp__destroy(skel);
	free(log);
	return 0;
}

int main(void)
{
	struct feat_def feats[9];
	int failed = 0;

	sl_log_hook_libbpf();
	if (sl_check_privileges()) {
		printf("not ok - verifier_stats: needs root\n");
		return 1;
	}
	feats[0].name = "default";
	sl_features_default(&feats[0].feat);
	feats[1].name = "drop_malformed=0";
	sl_features_default(&feats[1].feat);
	feats[1].feat.drop_malformed = 0;
	/* Optional stages off: the verifier must remove them (fewer insns). */
	feats[2].name = "stages off";
	sl_features_default(&feats[2].feat);
	feats[2].feat.stages_off = SL_STAGE_OFF_SETS | SL_STAGE_OFF_BANS |
				   SL_STAGE_OFF_RULES | SL_STAGE_OFF_FRAG;
	/* The conntrack stage on (config `conntrack: {enabled: true}`). */
	feats[3].name = "conntrack";
	sl_features_default(&feats[3].feat);
	feats[3].feat.conntrack = 1;
	/* Events on (config `events:`): the choke point's subprogram. */
	feats[4].name = "events";
	sl_features_default(&feats[4].feat);
	feats[4].feat.events = 1;
	feats[5].name = "conntrack+events";
	sl_features_default(&feats[5].feat);
	feats[5].feat.conntrack = 1;
	feats[5].feat.events = 1;
	/* The load balancer's stage on (a `loadbalancer:` service). */
	feats[6].name = "lb";
	sl_features_default(&feats[6].feat);
	feats[6].feat.lb = 1;
	feats[7].name = "lb+conntrack+events";
	sl_features_default(&feats[7].feat);
	feats[7].feat.lb = 1;
	feats[7].feat.conntrack = 1;
	feats[7].feat.events = 1;
	/* A dsr-ipip backend (attach --decap) with the load balancer on. */
	feats[8].name = "lb+decap";
	sl_features_default(&feats[8].feat);
	feats[8].feat.lb = 1;
	feats[8].feat.decap = 1;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		for (size_t j = 0; j < sizeof(feats) / sizeof(feats[0]); j++)
			if (run(progs[i], &feats[j], &failed))
				failed++;
	return failed ? 1 : 0;
}
