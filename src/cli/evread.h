/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* evread: what `sluice events` and `sluice dump` share to read the events
 * ring: the filters, in the style of `hubble observe` (docs/events.md,
 * Filters; one table of options and one parser), and the report of the
 * events the ring had no room for. */
#ifndef SL_EVREAD_H
#define SL_EVREAD_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/* The filter options, as entries of a verb's option table; W names what
 * they select ("Events", "Packets"). */
/* clang-format off */
#define SL_EV_FILTER_OPTS(W)                                                  \
	{"from", 0, "ADDR", W " whose source address is within ADDR (an "     \
	 "address or a prefix, IPv4 or IPv6)."},                               \
	{"to", 0, "ADDR", W " whose destination address is within ADDR."},    \
	{"port", 0, "N", W " with TCP, UDP or SCTP port N at either end."},   \
	{"proto", 0, "P", W " of IP protocol P: tcp, udp, icmp, icmpv6, "     \
	 "sctp or a number."},                                                 \
	{"reason", 0, "R", W " of verdict reason R (the names of 'sluice "    \
	 "stats': deny-set, rule, policy, ...)."},                             \
	{"rule", 0, "ID", W " of verdicts rule ID decided."},                 \
	{"verdict", 0, "V", W " of verdict V: pass, drop, tx, redirect or "   \
	 "abort (FORWARDED and DROPPED, as in Hubble, are pass and drop)."},   \
	{"type", 0, "T", W " of type T: drop, sample or log."},               \
	{"iface", 'i', "IFACE", W " of interface IFACE."},                    \
	{"direction", 0, "D", W " of direction D: ingress or egress."}
/* clang-format on */

/* The filter the options give; 0 or an exit status (bad usage, said). */
int cli_ev_filter(struct cli *c, struct sl_ev_filter *f);

struct ring_buffer;

/* Opens the pins of the ring and of the lost counters (fds in *ring and
 * *lost, -1 when missing); 0, or -errno with the error said. */
int cli_ev_open(struct cli *c, int *ring, int *lost);

/* A record callback's return that ends the reading: -c reached
 * (ring_buffer__consume stops at a negative return). */
#define CLI_EV_ENOUGH (-ECANCELED)

/* Reads the ring until SIGINT, SIGTERM or SIGHUP (the handlers are set
 * here), or a callback's or after()'s negative return, which it returns
 * (CLI_EV_ENOUGH: -c reached); 0 on a signal. The datapath wakes readers
 * only once a quarter of the ring is queued (events.h): what is queued is
 * read after every wait of 200 ms, woken or not, then after(arg) runs
 * (NULL: nothing). */
int cli_ev_follow(struct ring_buffer *rb, int (*after)(void *arg), void *arg);
/* Sets the handlers of SIGINT, SIGTERM and SIGHUP that end cli_ev_follow
 * (it sets them too; a verb with something to undo sets them first). */
void cli_ev_signals(void);
/* cli_ev_follow ended on a signal. */
bool cli_ev_stopped(void);

/* The lost counters (SL_MAP_EV_LOST): during this run (since `before`),
 * in all, and per CPU. */
#define CLI_EV_CPUS 256
struct cli_ev_lost {
	uint64_t run, total, per[CLI_EV_CPUS];
	int ncpu;
};

/* Reads them from the pin's fd; 0 or -errno. */
int cli_ev_lost_read(int fd, uint64_t before, struct cli_ev_lost *l);
struct jw;
/* The member "lost_events" (Hubble's): {"source": "ring",
 * "num_events_lost": run, "total", "per_cpu": [...]}. */
void cli_jw_ev_lost(struct jw *w, const struct cli_ev_lost *l);
/* "lost (ring full): R during this run, T in all (cpu0 N, ...)" */
void cli_ev_lost_text(FILE *f, const struct cli_ev_lost *l);

#endif
