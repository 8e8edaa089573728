// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_events: `sluice events`, the records of the events ring (abi.h,
 * Events; docs/events.md). Reads the pinned ring and lost counters
 * directly, without the state's lock, so that `--follow` never blocks
 * apply or the other verbs. Reading consumes: one consumer at a time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "config.h"
#include "evread.h"
#include "json.h"
#include "log.h"
#include "names.h"

static const struct cli_opt ev_opts[] = {
    {"follow", 'f', NULL,
     "Wait for new events until interrupted (SIGINT, SIGTERM) or -c is "
     "reached; without it, print the events queued and exit."},
    {"count", 'c', "N", "Stop after N matching events."},
    SL_EV_FILTER_OPTS("Events"),
    {},
};

struct reader {
	struct cli *c;
	struct sl_ev_filter f;
	long max;     /* -c; 0: no bound */
	long shown;   /* events printed */
	long skipped; /* read, not matching */
	struct jw w;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct reader *r = ctx;
	const struct sl_event *e = data;
	char line[512];

	if (size < sizeof(*e) || !sl_ev_match(&r->f, e)) {
		r->skipped++;
		return 0;
	}
	if (r->c->json) {
		jw_init(&r->w, stdout);
		sl_ev_json(&r->w, e);
		jw_end(&r->w);
	} else {
		sl_ev_text(e, line, sizeof(line));
		printf("%s\n", line);
	}
	r->shown++;
	if (r->max && r->shown >= r->max)
		return CLI_EV_ENOUGH;
	return 0;
}

/* The lost counters: a JSON line or a line of text; lost during the run:
 * the growth since before. */
static void lost_report(struct cli *c, int fd, uint64_t before,
			const struct reader *r)
{
	struct cli_ev_lost l;

	if (cli_ev_lost_read(fd, before, &l))
		return;
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		cli_jw_ev_lost(&w, &l);
		jw_obj_close(&w);
		jw_end(&w);
		return;
	}
	printf("%ld %s shown, %ld filtered out; ", r->shown,
	       cli_plural(r->shown, "event", "events"), r->skipped);
	cli_ev_lost_text(stdout, &l);
}

static int run_events(struct cli *c, int argc, char **argv)
{
	struct reader r = {.c = c};
	struct ring_buffer *rb = NULL;
	int ring, lost, rc, err = 0;
	uint64_t before = 0;

	(void)argc;
	(void)argv;
	rc = cli_ev_filter(c, &r.f);
	if (rc)
		return rc;
	r.max = cli_opt_long(c, "count", 0, 1, 1L << 40);
	if (sl_check_privileges())
		return EXIT_RUNTIME;
	if (cli_ev_open(c, &ring, &lost)) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	sl_ev_lost_fd(lost, &before, NULL, 0);
	rb = ring_buffer__new(ring, on_event, &r, NULL);
	if (!rb) {
		pr_err("cannot read the events ring: %s", strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (!cli_opt(c, "follow")) {
		/* what is queued now, once */
		err = ring_buffer__consume(rb);
	} else {
		setvbuf(stdout, NULL, _IOLBF, 0);
		err = cli_ev_follow(rb, NULL, NULL);
	}
	if (err == CLI_EV_ENOUGH || err >= 0) {
		lost_report(c, lost, before, &r);
		rc = EXIT_OK;
	} else {
		pr_err("reading the events ring: %s", strerror(-err));
		rc = EXIT_RUNTIME;
	}
out:
	ring_buffer__free(rb);
	if (ring >= 0)
		close(ring);
	if (lost >= 0)
		close(lost);
	return rc;
}

const struct cli_cmd cmd_events = {
    .name = "events",
    .args = "",
    .summary = "Show drop, sampled flow and rule log events",
    .description =
	"Reads the events ring (a BPF ring buffer pinned under the Sluice "
	"state) and prints one event a line: text, or with\n"
	"-j one JSON object a line (field names in docs/events.md, Hubble's "
	"where one fits: time, verdict,\n"
	"drop_reason_desc, IP.source, IP.destination, l4, interface, "
	"traffic_direction). The datapath writes events only\n"
	"when the running config asks for them (config file: 'events: "
	"{drops: true, sample: 1000}', docs/config.md):\n"
	"a drop event for every drop, a sampled flow event for 1 verdict in "
	"N per hook and CPU on average, and a log event\n"
	"for the packets of each rule with 'log: true' ('rule add --log'), "
	"at most events.log-rate a second per rule. Without\n"
	"events configured the programs carry no events code at all.\n"
	"Reading consumes the events: run one 'sluice events' at a time (two "
	"readers would each see part of them).\n"
	"Without --follow it prints what is queued and exits; with --follow "
	"it waits for new events until SIGINT or -c N.\n"
	"Filters combine (all must hold). An event the ring had no room for "
	"is counted per CPU, never silently dropped: the\n"
	"last line reports the lost events ('sluice stats -j' too: "
	"events_lost). Reading takes no lock: apply and the other\n"
	"verbs run meanwhile.",
    .opts = ev_opts,
    .examples =
	"$ sluice events\n"
	"$ sluice events -j --verdict drop --reason deny-set\n"
	"$ sluice events --follow --from 198.18.0.0/15 --port 443\n"
	"$ sluice events -f -c 100 --type log --rule 7\n"
	"$ sluice events -j --iface eth0 --direction egress --proto udp",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_events,
};
