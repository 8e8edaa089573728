// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* evread: the one parser of the event filters and the lost report
 * (evread.h). */
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "log.h"
#include "evread.h"
#include "json.h"
#include "names.h"

static int named(const char *v, const char *(*name)(unsigned), unsigned max)
{
	for (unsigned i = 0; i < max; i++)
		if (!strcasecmp(v, name(i)))
			return (int)i;
	return -1;
}

static const char *reason_of(unsigned r)
{
	return sl_reason_name(r);
}

static const char *action_of(unsigned a)
{
	return sl_action_name(a);
}

static const char *type_of(unsigned t)
{
	return sl_ev_type_name(t);
}

int cli_ev_filter(struct cli *c, struct sl_ev_filter *f)
{
	const char *v;
	char err[160];

	memset(f, 0, sizeof(*f));
	f->port = f->proto = f->reason = f->rule = f->action = f->type =
	    f->dir = -1;
	if ((v = cli_opt(c, "from"))) {
		if (sl_prefix_parse(v, &f->from, err, sizeof(err)))
			return cli_usage_error(c, "--from: %s", err);
		f->has_from = true;
	}
	if ((v = cli_opt(c, "to"))) {
		if (sl_prefix_parse(v, &f->to, err, sizeof(err)))
			return cli_usage_error(c, "--to: %s", err);
		f->has_to = true;
	}
	if (cli_opt(c, "port"))
		f->port = (int)cli_opt_long(c, "port", -1, 0, 65535);
	if ((v = cli_opt(c, "proto"))) {
		struct sl_rule r;

		/* the rule field's names and numbers (rulefield.c) */
		sl_rule_init(&r);
		if (sl_rule_set_field(&r, "proto", v, err, sizeof(err)))
			return cli_usage_error(c, "--proto: %s", err);
		f->proto = r.proto;
	}
	if ((v = cli_opt(c, "reason")) &&
	    (f->reason = named(v, reason_of, SL_R_MAX)) < 0)
		return cli_usage_error(c,
				       "--reason: unknown reason '%s' (the "
				       "names 'sluice stats' prints)",
				       v);
	if (cli_opt(c, "rule"))
		f->rule = (int)cli_opt_long(c, "rule", -1, 1, SL_RULE_MAX - 1);
	if ((v = cli_opt(c, "verdict"))) {
		f->action = !strcasecmp(v, "FORWARDED") ? SL_ACT_PASS
			    : !strcasecmp(v, "DROPPED")
				? SL_ACT_DROP
				: named(v, action_of, SL_ACT_MAX);
		if (f->action < 0)
			return cli_usage_error(
			    c,
			    "--verdict expects pass, drop, "
			    "tx, redirect or abort, not '%s'",
			    v);
	}
	if ((v = cli_opt(c, "type")) &&
	    (f->type = named(v, type_of, SL_EV_TYPE_MAX)) < 0)
		return cli_usage_error(
		    c, "--type expects drop, sample or log, not '%s'", v);
	if ((v = cli_opt(c, "iface"))) {
		f->ifindex = if_nametoindex(v);
		if (!f->ifindex)
			return cli_usage_error(c, "--iface: no interface '%s'",
					       v);
	}
	if ((v = cli_opt(c, "direction"))) {
		if (!strcasecmp(v, "ingress") || !strcmp(v, "in"))
			f->dir = SL_RDIR_IN;
		else if (!strcasecmp(v, "egress") || !strcmp(v, "out"))
			f->dir = SL_RDIR_OUT;
		else
			return cli_usage_error(
			    c,
			    "--direction expects ingress or egress, not '%s'",
			    v);
	}
	return 0;
}

int cli_ev_lost_read(int fd, uint64_t before, struct cli_ev_lost *l)
{
	int err;

	memset(l, 0, sizeof(*l));
	l->ncpu = libbpf_num_possible_cpus();
	if (l->ncpu > CLI_EV_CPUS)
		l->ncpu = CLI_EV_CPUS;
	err = sl_ev_lost_fd(fd, &l->total, l->per, CLI_EV_CPUS);
	l->run = l->total - before;
	return err;
}

void cli_jw_ev_lost(struct jw *w, const struct cli_ev_lost *l)
{
	jw_key(w, "lost_events");
	jw_obj_open(w);
	jw_key(w, "source");
	jw_str(w, "ring");
	jw_key(w, "num_events_lost");
	jw_u64(w, l->run);
	jw_key(w, "total");
	jw_u64(w, l->total);
	jw_key(w, "per_cpu");
	jw_arr_open(w);
	for (int i = 0; i < l->ncpu; i++)
		jw_u64(w, l->per[i]);
	jw_arr_close(w);
	jw_obj_close(w);
}

void cli_ev_lost_text(FILE *f, const struct cli_ev_lost *l)
{
	fprintf(f, "lost (ring full): %llu during this run, %llu in all (",
		(unsigned long long)l->run, (unsigned long long)l->total);
	for (int i = 0; i < l->ncpu; i++)
		fprintf(f, "%scpu%d %llu", i ? ", " : "", i,
			(unsigned long long)l->per[i]);
	fprintf(f, ")\n");
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

void cli_ev_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int cli_ev_follow(struct ring_buffer *rb, int (*after)(void *arg), void *arg)
{
	int err = 0;

	cli_ev_signals();
	while (!stop) {
		err = ring_buffer__poll(rb, 200);
		if (err >= 0 || err == -EINTR)
			err = ring_buffer__consume(rb);
		if (err >= 0 && after)
			err = after(arg);
		if (err < 0)
			return err;
	}
	return 0;
}

bool cli_ev_stopped(void)
{
	return stop;
}

int cli_ev_open(struct cli *c, int *ring, int *lost)
{
	int err;

	*ring = sl_ev_pin_open(c->bpffs, SL_MAP_EVENTS);
	*lost = sl_ev_pin_open(c->bpffs, SL_MAP_EV_LOST);
	if (*ring >= 0 && *lost >= 0)
		return 0;
	err = *ring < 0 ? *ring : *lost;
	pr_err("no events ring under the Sluice state (%s): attach first, "
	       "with a build that has events",
	       strerror(-err));
	return err;
}
