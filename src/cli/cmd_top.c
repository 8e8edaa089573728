// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_top: a live view of the counters, redrawn every interval: packets/s
 * and bits/s per action, reason and interface, the busiest rules, set
 * entries and sources (initiators of tracked flows). Plain ANSI escapes
 * (cursor home, erase line, the alternate screen), so it works in any
 * terminal and over SSH; 'q' quits. --once prints one frame (or -j one
 * JSON snapshot) from two readings an interval apart. */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "cli.h"
#include "config.h"
#include "counters.h"
#include "json.h"
#include "log.h"
#include "names.h"

static volatile sig_atomic_t stop, resized;

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		resized = 1;
	else
		stop = 1;
}

/* A source: the initiator address of tracked flows, their counters summed
 * over both directions. */
struct source {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint8_t addr[16];
	size_t flows;
	struct sl_counter c;
	double pps, bps;
};

/* One reading: the counters and the sources. */
struct reading {
	struct cli_snap sn;
	struct source *src; /* sorted by (family, addr) */
	size_t nsrc;
	size_t flows;	 /* live flows read */
	bool ct_on;	 /* the running config tracks connections */
	bool ct_skipped; /* more flows than --flows-max: sources not ranked */
};

static int source_cmp(const void *a, const void *b)
{
	const struct source *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

static int by_pps(const void *a, const void *b)
{
	const struct source *x = a, *y = b;

	if (x->pps != y->pps)
		return x->pps < y->pps ? 1 : -1;
	return x->c.packets < y->c.packets   ? 1
	       : x->c.packets > y->c.packets ? -1
					     : source_cmp(a, b);
}

/* Sums the live flows of the connection table by initiator. */
static int sources_read(struct sl_ctx *ctx, struct reading *rd,
			size_t flows_max)
{
	struct sl_ct_entry *e = NULL;
	struct sl_ct_cfg ct;
	size_t n = 0, m = 0;
	int err;

	if (sl_blob_ct_read(ctx, &ct) || !ct.enabled)
		return 0;
	rd->ct_on = true;
	err = sl_ct_list(ctx, NULL, false, &e, &n);
	if (err)
		return err;
	rd->flows = n;
	if (n > flows_max) {
		rd->ct_skipped = true;
		free(e);
		return 0;
	}
	rd->src = calloc(n ? n : 1, sizeof(*rd->src));
	if (!rd->src) {
		free(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct source *s = &rd->src[i];

		s->family = e[i].family;
		memcpy(s->addr, e[i].src, sizeof(s->addr));
		s->flows = 1;
		s->c.packets = e[i].val.packets[0] + e[i].val.packets[1];
		s->c.bytes = e[i].val.bytes[0] + e[i].val.bytes[1];
	}
	free(e);
	qsort(rd->src, n, sizeof(*rd->src), source_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m && !source_cmp(&rd->src[m - 1], &rd->src[i])) {
			rd->src[m - 1].flows++;
			rd->src[m - 1].c.packets += rd->src[i].c.packets;
			rd->src[m - 1].c.bytes += rd->src[i].c.bytes;
		} else {
			rd->src[m++] = rd->src[i];
		}
	}
	rd->nsrc = m;
	return 0;
}

static void reading_free(struct reading *rd)
{
	cli_snap_free(&rd->sn);
	free(rd->src);
	memset(rd, 0, sizeof(*rd));
}

/* Opens the state, reads, closes it (no lock held between readings). */
static int reading_take(struct cli *c, struct reading *rd, size_t flows_max)
{
	struct sl_ctx ctx;
	int rc = cli_open(c, &ctx, false), err;

	memset(rd, 0, sizeof(*rd));
	if (rc)
		return rc;
	err = cli_snap_read(&ctx, &rd->sn);
	if (!err)
		err = sources_read(&ctx, rd, flows_max);
	if (err)
		pr_err("cannot read the counters under %s: %s", ctx.dir,
		       strerror(-err));
	sl_close(&ctx);
	if (err) {
		reading_free(rd);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* The sources' rates against prev (sources absent then count from 0),
 * busiest first. */
static void sources_rank(struct reading *cur, const struct reading *prev)
{
	double dt = cur->sn.t - prev->sn.t;

	for (size_t i = 0; i < cur->nsrc; i++) {
		struct source *s = &cur->src[i];
		const struct source *p =
		    prev->nsrc ? bsearch(s, prev->src, prev->nsrc,
					 sizeof(*prev->src), source_cmp)
			       : NULL;

		cli_rate(s->c, p ? p->c : (struct sl_counter){}, dt, &s->pps,
			 &s->bps);
	}
	qsort(cur->src, cur->nsrc, sizeof(*cur->src), by_pps);
}

/* ---- the text frame ---- */

/* The frame is built as lines, then drawn cut to the terminal. */
struct frame {
	char **line;
	size_t n, cap;
};

static void __attribute__((format(printf, 2, 3)))
fr_add(struct frame *f, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		char **l = realloc(f->line, cap * sizeof(*l));

		if (!l)
			return;
		f->line = l;
		f->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		f->line[f->n++] = s;
}

static void fr_free(struct frame *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->line[i]);
	free(f->line);
	memset(f, 0, sizeof(*f));
}

/* "12.3k" of v */
static const char *rt(char *buf, size_t len, double v)
{
	cli_rate_text(buf, len, true, v);
	return buf;
}

/* A row "L1 L2 PPS BPS +PACKETS PACKETS" of counter t (then o, dt seconds
 * before), L1 w wide; 1, or 0 (no row) when t counted no packet. */
static int pair_row(struct frame *f, int w, const char *l1, const char *l2,
		    struct sl_counter t, struct sl_counter o, double dt)
{
	char a[16], b[16];
	double pps, bps;

	if (!t.packets)
		return 0;
	cli_rate(t, o, dt, &pps, &bps);
	fr_add(f, "%-*s %-8s %9s %9s %12llu %16llu", w, l1, l2,
	       rt(a, sizeof(a), pps), rt(b, sizeof(b), bps),
	       (unsigned long long)(t.packets >= o.packets
					? t.packets - o.packets
					: t.packets),
	       (unsigned long long)t.packets);
	return 1;
}

static void frame_build(struct frame *f, const struct reading *cur,
			const struct reading *prev, double delay, size_t top)
{
	const struct cli_snap *sn = &cur->sn, *ps = &prev->sn;
	double dt = sn->t - ps->t, pps, bps;
	char a[16], b[16], ts[32], lb[64];
	time_t now = time(NULL);
	size_t shown = 0;

	strftime(ts, sizeof(ts), "%F %T", localtime(&now));
	fr_add(f, "sluice top - %s - every %gs (last %.2fs) - q quits", ts,
	       delay, dt);
	fr_add(f, "%s", "");
	fr_add(f, "%-10s %9s %9s %12s %16s %18s", "ACTION", "PPS", "BPS",
	       "+PACKETS", "PACKETS", "BYTES");
	for (int i = 0; i < SL_ACT_MAX; i++) {
		struct sl_counter t = cli_cell_sum(sn->s, -1, i);
		struct sl_counter o = cli_cell_sum(ps->s, -1, i);

		cli_rate(t, o, dt, &pps, &bps);
		fr_add(
		    f, "%-10s %9s %9s %12llu %16llu %18llu", sl_action_name(i),
		    rt(a, sizeof(a), pps), rt(b, sizeof(b), bps),
		    (unsigned long long)(t.packets >= o.packets
					     ? t.packets - o.packets
					     : t.packets),
		    (unsigned long long)t.packets, (unsigned long long)t.bytes);
	}
	fr_add(f, "%s", "");
	fr_add(f, "%-10s %-8s %9s %9s %12s %16s", "HOOK", "ACTION", "PPS",
	       "BPS", "+PACKETS", "PACKETS");
	for (int h = 0; h < SL_HK_MAX; h++)
		for (int i = 0; i < SL_ACT_MAX; i++)
			shown +=
			    pair_row(f, 10, sl_hook_name(h), sl_action_name(i),
				     cli_cell_sum(sn->h[h], -1, i),
				     cli_cell_sum(ps->h[h], -1, i), dt);
	if (!shown)
		fr_add(f, "(no packets counted yet)");
	shown = 0;
	fr_add(f, "%s", "");
	fr_add(f, "%-18s %-8s %9s %9s %12s %16s", "REASON", "ACTION", "PPS",
	       "BPS", "+PACKETS", "PACKETS");
	for (int r = 0; r < SL_R_MAX; r++)
		for (int i = 0; i < SL_ACT_MAX; i++)
			shown += pair_row(f, 18, sl_reason_name(r),
					  sl_action_name(i),
					  sn->s[sl_stats_idx(r, i)],
					  ps->s[sl_stats_idx(r, i)], dt);
	if (!shown)
		fr_add(f, "(no packets counted yet)");
	fr_add(f, "%s", "");
	fr_add(f, "%-16s %-4s %-8s %9s %9s %16s", "INTERFACE", "DIR", "ACTION",
	       "PPS", "BPS", "PACKETS");
	shown = 0;
	for (size_t i = 0; i < sn->nif; i++)
		for (int d = 0; d < SL_RDIR_MAX; d++)
			for (int k = 0; k < SL_ACT_MAX; k++) {
				struct sl_counter t = sn->ifs[i].c[d][k],
						  o = {};

				if (!t.packets)
					continue;
				for (size_t j = 0; j < ps->nif; j++)
					if (ps->ifs[j].ifindex ==
					    sn->ifs[i].ifindex)
						o = ps->ifs[j].c[d][k];
				cli_rate(t, o, dt, &pps, &bps);
				fr_add(f, "%-16s %-4s %-8s %9s %9s %16llu",
				       cli_iface_label(&sn->ifs[i], lb,
						       sizeof(lb)),
				       d == SL_RDIR_IN ? "in" : "out",
				       sl_action_name(k), rt(a, sizeof(a), pps),
				       rt(b, sizeof(b), bps),
				       (unsigned long long)t.packets);
				shown++;
			}
	if (!shown)
		fr_add(f, "(no interface has counted a packet yet)");
	fr_add(f, "%s", "");
	fr_add(f, "%9s %9s %16s  %s", "PPS", "BPS", "PACKETS", "RULE");
	for (size_t i = 0; i < sn->nr && i < top; i++) {
		char buf[512];

		cli_rate(sn->k[i], cli_snap_rule(ps, sn->r[i].id), dt, &pps,
			 &bps);
		sl_rule_format(&sn->r[i], buf, sizeof(buf));
		fr_add(f, "%9s %9s %16llu  %s", rt(a, sizeof(a), pps),
		       rt(b, sizeof(b), bps),
		       (unsigned long long)sn->k[i].packets, buf);
	}
	if (!sn->nr)
		fr_add(f, "(no rule has counted a packet yet)");
	fr_add(f, "%s", "");
	fr_add(f, "%9s %9s %16s  %-5s %-3s %s", "PPS", "BPS", "PACKETS", "SET",
	       "DIR", "ENTRY");
	for (size_t i = 0; i < sn->n && i < top; i++) {
		const struct sl_set_entry *e = &sn->e[i];

		cli_rate((struct sl_counter){e->packets, e->bytes},
			 cli_snap_entry(ps, e), dt, &pps, &bps);
		sl_prefix_format(&e->prefix, lb, sizeof(lb));
		fr_add(f, "%9s %9s %16llu  %-5s %-3s %s", rt(a, sizeof(a), pps),
		       rt(b, sizeof(b), bps), (unsigned long long)e->packets,
		       sl_set_kind_name(e->kind), sl_dir_name(e->dir), lb);
	}
	if (!sn->n)
		fr_add(f, "(no set entry has matched yet)");
	fr_add(f, "%s", "");
	fr_add(f, "%9s %9s %16s %7s  %s", "PPS", "BPS", "PACKETS", "FLOWS",
	       "SOURCE (initiator of tracked flows)");
	if (!cur->ct_on)
		fr_add(f, "(conntrack is off: no flows to rank sources by)");
	else if (cur->ct_skipped)
		fr_add(f, "(%zu flows, more than --flows-max: not ranked)",
		       cur->flows);
	else if (!cur->nsrc)
		fr_add(f, "(no tracked flows)");
	for (size_t i = 0; i < cur->nsrc && i < top; i++) {
		const struct source *s = &cur->src[i];

		inet_ntop(s->family, s->addr, lb, sizeof(lb));
		fr_add(f, "%9s %9s %16llu %7zu  %s", rt(a, sizeof(a), s->pps),
		       rt(b, sizeof(b), s->bps),
		       (unsigned long long)s->c.packets, s->flows, lb);
	}
	fr_add(f, "%s", "");
	fr_add(f, "events lost (ring full): %llu (+%llu)",
	       (unsigned long long)sn->lost,
	       (unsigned long long)(sn->lost >= ps->lost ? sn->lost - ps->lost
							 : sn->lost));
}

/* Draws f from the top left, each line cut to cols, at most rows lines
 * (0: no limit, no escapes: --once). */
static void frame_draw(const struct frame *f, int rows, int cols, bool tty)
{
	size_t n = f->n;

	if (tty && rows > 0 && (size_t)rows < n)
		n = rows;
	if (tty)
		fputs("\033[H", stdout);
	for (size_t i = 0; i < n; i++) {
		if (tty && cols > 0)
			printf("%.*s\033[K", cols, f->line[i]);
		else
			fputs(f->line[i], stdout);
		if (!tty || i + 1 < n)
			putchar('\n');
	}
	if (tty)
		fputs("\033[J", stdout);
	fflush(stdout);
}

static void term_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

static void json_once(const struct reading *cur, const struct reading *prev)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_open(&w);
	cli_snap_jw(&w, &cur->sn, &prev->sn);
	jw_key(&w, "conntrack");
	jw_bool(&w, cur->ct_on);
	jw_key(&w, "flows");
	jw_u64(&w, cur->flows);
	jw_key(&w, "sources");
	jw_arr_open(&w);
	for (size_t i = 0; i < cur->nsrc; i++) {
		const struct source *s = &cur->src[i];
		char buf[INET6_ADDRSTRLEN];
		double rate[2] = {s->pps, s->bps};

		inet_ntop(s->family, s->addr, buf, sizeof(buf));
		jw_obj_open(&w);
		jw_key(&w, "address");
		jw_str(&w, buf);
		jw_key(&w, "flows");
		jw_u64(&w, s->flows);
		jw_key(&w, "packets");
		jw_u64(&w, s->c.packets);
		jw_key(&w, "bytes");
		jw_u64(&w, s->c.bytes);
		cli_jw_rate(&w, rate);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	if (cur->ct_skipped) {
		jw_key(&w, "sources_skipped");
		jw_bool(&w, true);
	}
	jw_obj_close(&w);
	jw_end(&w);
}

/* Waits up to ms for a key; true when it asks to quit. */
static bool wait_key(int ms, bool keys)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	struct timespec end, now;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (!stop && !resized) {
		long left;
		char ch;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (end.tv_sec - now.tv_sec) * 1000 +
		       (end.tv_nsec - now.tv_nsec) / 1000000L;
		if (left <= 0)
			return false;
		if (!keys) {
			poll(NULL, 0, left);
			continue;
		}
		if (poll(&p, 1, left) <= 0)
			continue;
		if (read(STDIN_FILENO, &ch, 1) != 1) {
			keys = false; /* end of input: wait only */
			continue;
		}
		if (ch == 'q' || ch == 'Q' || ch == 3 /* ^C in raw mode */)
			return true;
	}
	return stop;
}

static int run_top(struct cli *c, int argc, char **argv)
{
	const char *d = cli_opt(c, "delay");
	size_t top = cli_opt_long(c, "top", 10, 1, 100000000);
	size_t flows_max = cli_opt_long(c, "flows-max", 100000, 1, 100000000);
	bool once = cli_opt(c, "once");
	struct reading prev, cur;
	struct termios saved, raw;
	bool keys = false;
	double delay = 1;
	char *end = NULL;
	int rc;

	(void)argc;
	(void)argv;
	if (d) {
		errno = 0;
		delay = strtod(d, &end);
		if (errno || end == d || *end || !(delay >= 0.1) ||
		    delay > 3600)
			return cli_usage_error(
			    c,
			    "--delay wants seconds from 0.1 to 3600, not '%s'",
			    d);
	}
	if (c->json && !once)
		return cli_usage_error(c, "-j goes with --once (one snapshot)");
	if (!once && !isatty(STDOUT_FILENO))
		return cli_usage_error(
		    c, "the live view needs a terminal; --once prints one "
		       "snapshot (-j as JSON), 'sluice stats --watch' a log");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGWINCH, on_signal);
	rc = reading_take(c, &prev, flows_max);
	if (rc)
		return rc;
	if (once) {
		wait_key(delay * 1000, false);
		rc = reading_take(c, &cur, flows_max);
		if (!rc) {
			struct frame f = {};

			sources_rank(&cur, &prev);
			if (c->json) {
				json_once(&cur, &prev);
			} else {
				frame_build(&f, &cur, &prev, delay, top);
				frame_draw(&f, 0, 0, false);
				fr_free(&f);
			}
			reading_free(&cur);
		}
		reading_free(&prev);
		return rc;
	}
	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved)) {
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		keys = !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else if (!isatty(STDIN_FILENO)) {
		keys = true; /* a pipe: 'q' on it quits too */
	}
	/* The alternate screen, cursor hidden; both undone on the way out. */
	fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
	fflush(stdout);
	/* The first frame comes a short interval after the first reading so
	 * rates show at once; later ones every --delay. */
	for (int wait = delay < 0.5 ? delay * 1000 : 500;;
	     wait = delay * 1000) {
		struct frame f = {};
		int rows, cols;

		if (wait_key(wait, keys))
			break;
		if (resized) {
			resized = 0;
			fputs("\033[2J", stdout);
		}
		rc = reading_take(c, &cur, flows_max);
		if (rc)
			break;
		sources_rank(&cur, &prev);
		term_size(&rows, &cols);
		frame_build(&f, &cur, &prev, delay, top);
		frame_draw(&f, rows, cols, true);
		fr_free(&f);
		reading_free(&prev);
		prev = cur;
	}
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (keys && isatty(STDIN_FILENO))
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	reading_free(&prev);
	return rc;
}

const struct cli_cmd cmd_top = {
    .name = "top",
    .args = "",
    .summary = "Live view of rates: actions, reasons, rules, entries, sources",
    .description =
	"Redraws every --delay seconds (default 1) in the terminal: packets/s "
	"(PPS), bits/s (BPS) and packets since the last frame\n"
	"(+PACKETS) per action, per hook and action, per reason and per "
	"interface and direction; "
	"the busiest rules and set entries by packets/s; and,\n"
	"with conntrack on, the busiest sources: initiators of tracked flows, "
	"with their flows' packets in both directions summed\n"
	"(the connection table is read once a frame: above --flows-max live "
	"flows it is not ranked). 'q' (or Ctrl-C) quits and\n"
	"restores the screen. Plain ANSI escapes (no curses): any terminal, "
	"over SSH too. The state is opened for each reading only,\n"
	"so 'apply', 'block' and the other verbs run while it shows. --once "
	"reads twice, --delay apart, and prints one frame (no\n"
	"escapes) or with -j one JSON document: the members of 'sluice stats "
	"-j' with pps and bps (actions, reasons, hooks, interfaces,\n"
	"entries, rules) plus conntrack, flows and sources.",
    .opts =
	(const struct cli_opt[]){
	    {"delay", 'd', "SECONDS",
	     "Seconds between frames (0.1 to 3600, fractions allowed; "
	     "default 1); with --once, between the two readings."},
	    {"once", 0, NULL,
	     "Print one snapshot and exit: a frame of text, or JSON with -j."},
	    {"top", 't', "N",
	     "Rows of rules, set entries and sources shown (default 10; "
	     "JSON shows all)."},
	    {"flows-max", 0, "N",
	     "Rank sources only while the connection table holds at most N "
	     "live flows (default 100000)."},
	    {},
	},
    .examples = "$ sluice top\n$ sluice top -d 0.5 -t 20\n"
		"$ sluice top --once -j | jq '.actions.drop.pps'",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_top,
};
