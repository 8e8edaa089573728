// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_dump: `sluice dump`, the packets of the events into a pcap or pcapng
 * file (docs/events.md, Capture). Sets the capture switch (sl_ev_cap) so
 * that the datapath's records carry their frames' first bytes, reads the
 * ring like `sluice events --follow` (the same filters, no lock), writes
 * the matching packets and puts the switch back to 0 however it ends
 * (SIGINT, SIGTERM, SIGHUP, -c, the reader of stdout gone, an error). A
 * switch a killed dump left on is overwritten by the next. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "cli.h"
#include "config.h"
#include "evread.h"
#include "json.h"
#include "log.h"

static const struct cli_opt dump_opts[] = {
    {"write", 'w', "FILE",
     "Write the packets to FILE ('-': standard output, e.g. '| tcpdump "
     "-r -'). Required."},
    {"count", 'c', "N", "Stop after N packets written."},
    {"snaplen", 's', "N",
     "Keep the first N bytes of each frame (1 to 2048, the datapath's "
     "limit; default 2048); tcpdump shows the frame's own length too."},
    {"format", 0, "F",
     "pcap or pcapng (default: pcapng when FILE ends in .pcapng, else "
     "pcap). pcapng adds the interface names, each packet's direction and "
     "its verdict as a comment."},
    SL_EV_FILTER_OPTS("Packets"),
    {},
};

struct dumper {
	struct sl_ev_filter f;
	struct sl_capw w;
	long max;	/* -c; 0: no bound */
	long written;	/* packets written */
	long skipped;	/* events read, not matching */
	long bytesless; /* matching events without bytes */
	int err;	/* the file's error, negative */
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct dumper *d = ctx;
	const struct sl_event *e = data;
	int err;

	if (size < sizeof(*e) || !sl_ev_match(&d->f, e)) {
		d->skipped++;
		return 0;
	}
	/* written before the switch was on (or by programs without it) */
	if (size == sizeof(*e)) {
		d->bytesless++;
		return 0;
	}
	err = sl_capw_write(&d->w, e, (const uint8_t *)data + sizeof(*e),
			    (uint32_t)(size - sizeof(*e)));
	if (err) {
		d->err = err;
		return err;
	}
	d->written++;
	if (d->max && d->written >= d->max)
		return CLI_EV_ENOUGH;
	return 0;
}

/* After each batch: the file flushed (a pipe's reader sees the packets). */
static int flush(void *arg)
{
	struct dumper *d = arg;
	int err = sl_capw_flush(&d->w);

	if (err)
		d->err = err;
	return err;
}

/* The running config has events: 1; 0 with the error said. */
static bool events_running(int conf)
{
	struct sl_ev_conf v;
	__u32 key = 0;

	if (conf >= 0 && !bpf_map_lookup_elem(conf, &key, &v) &&
	    sl_ev_conf_running(&v))
		return true;
	pr_err("events are off in the running config: nothing to capture. "
	       "Turn them on and apply: 'events: {sample: 1}' (every packet), "
	       "'events: {drops: true}' (the drops) or a rule with 'log: "
	       "true' (its packets)");
	return false;
}

static void summary(struct cli *c, const char *path, const struct dumper *d,
		    const struct cli_ev_lost *l)
{
	/* stdout may be the capture */
	FILE *out = strcmp(path, "-") ? stdout : stderr;
	const char *fmt = d->w.format == SL_CAP_PCAPNG ? "pcapng" : "pcap";

	if (c->json) {
		struct jw w;

		jw_init(&w, out);
		jw_obj_open(&w);
		jw_key(&w, "file");
		jw_str(&w, path);
		jw_key(&w, "format");
		jw_str(&w, fmt);
		jw_key(&w, "snaplen");
		jw_u64(&w, d->w.snaplen);
		jw_key(&w, "packets");
		jw_u64(&w, d->written);
		jw_key(&w, "filtered_out");
		jw_u64(&w, d->skipped);
		jw_key(&w, "without_bytes");
		jw_u64(&w, d->bytesless);
		cli_jw_ev_lost(&w, l);
		jw_obj_close(&w);
		jw_end(&w);
		return;
	}
	fprintf(stderr,
		"sluice dump: %ld %s written to %s (%s), %ld events filtered "
		"out, %ld without bytes; ",
		d->written, cli_plural(d->written, "packet", "packets"),
		strcmp(path, "-") ? path : "standard output", fmt, d->skipped,
		d->bytesless);
	cli_ev_lost_text(stderr, l);
}

static int run_dump(struct cli *c, int argc, char **argv)
{
	const char *path = cli_opt(c, "write"), *fmt = cli_opt(c, "format");
	int ring = -1, lost = -1, conf = -1, cap = -1;
	struct dumper d = {0};
	struct ring_buffer *rb = NULL;
	enum sl_cap_format format;
	struct cli_ev_lost l;
	uint64_t before = 0;
	uint32_t snaplen, prev;
	int rc, err = 0, cerr;
	char msg[300];
	bool on = false;

	(void)argc;
	(void)argv;
	/* all the arguments first: a bad one changes nothing */
	if (!path || !*path)
		return cli_usage_error(c, "-w FILE is required (the pcap file "
					  "to write; '-' for standard output)");
	snaplen = (uint32_t)cli_opt_long(c, "snaplen", SL_EV_CAP_MAX, 1,
					 SL_EV_CAP_MAX);
	if (!fmt)
		format = sl_capw_format_of(path);
	else if (!strcmp(fmt, "pcap"))
		format = SL_CAP_PCAP;
	else if (!strcmp(fmt, "pcapng"))
		format = SL_CAP_PCAPNG;
	else
		return cli_usage_error(
		    c, "--format expects pcap or pcapng, not '%s'", fmt);
	rc = cli_ev_filter(c, &d.f);
	if (rc)
		return rc;
	d.max = cli_opt_long(c, "count", 0, 1, 1L << 40);
	if (!strcmp(path, "-") && isatty(STDOUT_FILENO))
		return cli_usage_error(c, "-w -: standard output is a "
					  "terminal; pipe it (| tcpdump -r -) "
					  "or name a file");
	if (sl_check_privileges())
		return EXIT_RUNTIME;

	rc = EXIT_RUNTIME;
	if (cli_ev_open(c, &ring, &lost))
		goto out;
	conf = sl_ev_pin_open(c->bpffs, SL_MAP_EV_CONF);
	cap = sl_ev_pin_open(c->bpffs, SL_MAP_EV_CAP);
	if (!events_running(conf))
		goto out;
	if (cap < 0) {
		pr_err("no capture switch (%s) under the Sluice state: the "
		       "programs predate 'sluice dump'; run 'sluice attach' "
		       "with this build",
		       SL_MAP_EV_CAP);
		goto out;
	}
	rb = ring_buffer__new(ring, on_record, &d, NULL);
	if (!rb) {
		pr_err("cannot read the events ring: %s", strerror(errno));
		goto out;
	}
	err = sl_capw_open(&d.w, path, format, snaplen, msg, sizeof(msg));
	if (err) {
		pr_err("cannot write the capture: %s", msg);
		goto out;
	}
	/* from here on a signal ends the dump through its undoing; a reader
	 * of stdout that goes away ends it too (EPIPE) */
	cli_ev_signals();
	signal(SIGPIPE, SIG_IGN);
	sl_ev_lost_fd(lost, &before, NULL, 0);
	if (!sl_cap_get(cap, &prev) && prev)
		fprintf(stderr,
			"sluice dump: the capture switch was on (%u bytes): "
			"a dump that was killed, or one still running (one "
			"reader at a time); taking it over\n",
			prev);
	err = sl_cap_set(cap, snaplen);
	if (err) {
		pr_err("cannot switch the capture on: %s", strerror(-err));
		sl_capw_close(&d.w);
		goto out;
	}
	on = true;
	fprintf(stderr,
		"sluice dump: capturing to %s (%s, snaplen %u); SIGINT "
		"(Ctrl-C) stops\n",
		strcmp(path, "-") ? path : "standard output",
		format == SL_CAP_PCAPNG ? "pcapng" : "pcap", snaplen);
	err = cli_ev_follow(rb, flush, &d);
	sl_cap_set(cap, 0);
	on = false;
	/* stopped by a signal: what was queued before the switch went off */
	if (cli_ev_stopped() && err >= 0)
		err = ring_buffer__consume(rb);
	if (err == CLI_EV_ENOUGH || err > 0)
		err = 0;
	cerr = sl_capw_close(&d.w);
	if (cerr && !d.err)
		d.err = cerr;
	/* EPIPE: the reader of the capture has what it wanted */
	if (d.err && d.err != -EPIPE) {
		pr_err("writing %s: %s", path, strerror(-d.err));
		goto out;
	}
	if (err && !d.err) {
		pr_err("reading the events ring: %s", strerror(-err));
		goto out;
	}
	rc = EXIT_OK;
	if (!cli_ev_lost_read(lost, before, &l))
		summary(c, path, &d, &l);
out:
	if (on)
		sl_cap_set(cap, 0);
	ring_buffer__free(rb);
	if (ring >= 0)
		close(ring);
	if (lost >= 0)
		close(lost);
	if (conf >= 0)
		close(conf);
	if (cap >= 0)
		close(cap);
	return rc;
}

const struct cli_cmd cmd_dump = {
    .name = "dump",
    .args = "",
    .summary = "Write the packets of the events to a pcap file",
    .description =
	"Captures the frames of the events (docs/events.md) into a pcap or "
	"pcapng file that tcpdump, tshark and Wireshark\n"
	"read: while it runs, every event record the datapath writes carries "
	"the frame's first --snaplen bytes (from the\n"
	"Ethernet header on, at XDP and TC alike), and the records that pass "
	"the filters become packets, timestamped with\n"
	"the wall clock. The frames are those the running config makes events "
	"of: with 'events: {sample: 1}' every packet\n"
	"each hook decides, with 'events: {drops: true}' the drops (--verdict "
	"drop), with a rule's 'log: true' its packets.\n"
	"With no events configured it refuses and changes nothing. It runs "
	"until SIGINT, SIGTERM or -c N, then switches the\n"
	"capture off again (a capture a killed dump left on costs ring space "
	"until the next dump or events reader; the next\n"
	"dump overwrites it). pcapng (--format pcapng, or a FILE ending in "
	".pcapng) also names the interfaces and gives\n"
	"each packet its direction and a comment with the verdict, e.g. "
	"'sluice: drop reason=deny-set rule=7 dir=ingress\n"
	"hook=xdp event=drop' (tshark -T fields -e frame.comment). Like "
	"'sluice events' it consumes the events it reads: run\n"
	"one reader at a time. Messages and the summary (packets written, "
	"events filtered out, events lost when the ring\n"
	"was full) go to standard error, or with -j as one JSON object to "
	"standard output when FILE is not '-'.",
    .opts = dump_opts,
    .examples = "$ sluice dump -w drops.pcapng --verdict drop\n"
		"$ sluice dump -w - --port 443 | tcpdump -n -r -\n"
		"$ sluice dump -w web.pcap -c 100 --iface eth0 --direction "
		"ingress --snaplen 128",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_dump,
};
