// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* lb_health: the daemon's health-check loop (docs/loadbalancer.md, Health
 * checks). An event loop over probes in flight, each with its own
 * deadline (the service's interval, at most SL_LB_HC_TIMEOUT_MAX_MS): new
 * probes start as their service becomes due while others are still in
 * flight, and outcomes are handed on as they complete, those of one turn
 * together. So a silent backend delays no other service's checks. The
 * daemon's loop reads the running services under the state's lock taken
 * shared (sl_open_reader, released at once) every TICK_MS and records the
 * outcomes under the exclusive lock, as every writer does
 * (sl_lb_health_record: the health map, and a new Maglev table for a
 * service where a backend went down or up); no lock is held while a probe
 * runs, so the CLI never waits for one, and a table swap never
 * interleaves with an apply. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sluice.h"

#define TICK_MS 100

static uint64_t now_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* When each checked service is due next (by key). */
struct due {
	struct sl_lb_svc_key k;
	uint64_t at; /* CLOCK_MONOTONIC ns */
};

/* A probe in flight and its deadline. */
struct flight {
	struct sl_lb_probe p;
	uint64_t deadline; /* CLOCK_MONOTONIC ns */
};

struct hc_loop {
	struct sl_lb_cfg run; /* the services as last read */
	struct due *due;
	size_t n_due;
	struct flight *fl;
	size_t n_fl, cap_fl;
	struct pollfd *pf; /* one per probe in flight */
	size_t cap_pf;
	struct sl_lb_probe *done; /* completed, not yet recorded */
	size_t n_done, cap_done;
};

static void svc_key_of(const struct sl_lb_service_cfg *s,
		       struct sl_lb_svc_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->vip, s->vip, 16);
	k->port = s->port;
	k->proto = s->proto;
	k->family = s->family;
}

static struct due *due_find(struct hc_loop *L, const struct sl_lb_svc_key *k)
{
	for (size_t i = 0; i < L->n_due; i++)
		if (!memcmp(&L->due[i].k, k, sizeof(*k)))
			return &L->due[i];
	return NULL;
}

/* Forgets the services that went (or lost their check). */
static void due_prune(struct hc_loop *L)
{
	for (size_t i = 0; i < L->n_due;) {
		bool keep = false;

		for (size_t j = 0; j < L->run.n_svc && !keep; j++) {
			const struct sl_lb_service_cfg *s = &L->run.svc[j];
			struct sl_lb_svc_key k;

			svc_key_of(s, &k);
			keep =
			    s->hc.type && !memcmp(&k, &L->due[i].k, sizeof(k));
		}
		if (keep)
			i++;
		else
			L->due[i] = L->due[--L->n_due];
	}
}

static int grow(void **a, size_t *cap, size_t want, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *n;

	if (want <= *cap)
		return 0;
	while (c < want)
		c *= 2;
	n = realloc(*a, c * size);
	if (!n)
		return -ENOMEM;
	*a = n;
	*cap = c;
	return 0;
}

static int done_push(struct hc_loop *L, const struct sl_lb_probe *p)
{
	if (grow((void **)&L->done, &L->cap_done, L->n_done + 1,
		 sizeof(*L->done)))
		return -ENOMEM;
	L->done[L->n_done++] = *p;
	return 0;
}

static bool in_flight(const struct hc_loop *L, const struct sl_lb_svc_key *k,
		      __u32 id)
{
	for (size_t i = 0; i < L->n_fl; i++)
		if (L->fl[i].p.id == id &&
		    !memcmp(&L->fl[i].p.svc, k, sizeof(*k)))
			return true;
	return false;
}

/* Starts the probes of service s (due now), except for a backend whose
 * last probe is still in flight. */
static void svc_start(struct hc_loop *L, const struct sl_lb_service_cfg *s,
		      const struct sl_lb_svc_key *k, uint64_t now)
{
	uint32_t tmo = s->hc.interval_ms < SL_LB_HC_TIMEOUT_MAX_MS
			   ? s->hc.interval_ms
			   : SL_LB_HC_TIMEOUT_MAX_MS;

	for (size_t j = 0; j < s->n_be; j++) {
		struct sl_lb_probe *q;

		if (in_flight(L, k, s->be[j].id))
			continue;
		if (grow((void **)&L->fl, &L->cap_fl, L->n_fl + 1,
			 sizeof(*L->fl)) ||
		    grow((void **)&L->pf, &L->cap_pf, L->n_fl + 1,
			 sizeof(*L->pf))) {
			pr_err("health checks: out of memory");
			return;
		}
		q = &L->fl[L->n_fl].p;
		memset(q, 0, sizeof(*q));
		q->svc = *k;
		q->id = s->be[j].id;
		memcpy(q->addr, s->be[j].addr, 16);
		q->family = s->be[j].family;
		q->port = s->be[j].port;
		q->type = s->hc.type;
		memcpy(q->path, s->hc.path, sizeof(q->path));
		L->fl[L->n_fl].deadline = now + tmo * 1000000ULL;
		sl_lb_probe_start(q);
		if (!sl_lb_probe_done(q))
			L->n_fl++;
		else if (done_push(L, q))
			pr_err("health checks: out of memory");
	}
}

/* Starts the probes of every service due at now; the next time one is
 * due (UINT64_MAX: none). */
static uint64_t start_due(struct hc_loop *L, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < L->run.n_svc; i++) {
		const struct sl_lb_service_cfg *s = &L->run.svc[i];
		uint64_t ival = (uint64_t)s->hc.interval_ms * 1000000ULL;
		struct sl_lb_svc_key k;
		struct due *x;

		if (!s->hc.type || !s->n_be)
			continue;
		svc_key_of(s, &k);
		x = due_find(L, &k);
		if (!x && L->n_due < SL_LB_SVC_MAX) {
			x = &L->due[L->n_due++];
			x->k = k;
			x->at = now;
		}
		if (!x)
			continue;
		if (x->at <= now) {
			svc_start(L, s, &k, now);
			/* keep the cadence; after a stall, start again from now
			 */
			x->at += ival;
			if (x->at <= now)
				x->at = now + ival;
		}
		if (x->at < next)
			next = x->at;
	}
	return next;
}

/* Waits for the probes in flight until `until` at the latest, takes the
 * steps of those ready, and ends those past their deadline. */
static void step_flights(struct hc_loop *L, uint64_t until)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	int wait;

	for (size_t i = 0; i < L->n_fl; i++) {
		L->pf[i].fd = L->fl[i].p.fd;
		L->pf[i].events = sl_lb_probe_events(&L->fl[i].p);
		L->pf[i].revents = 0;
		if (L->fl[i].deadline < until)
			until = L->fl[i].deadline;
	}
	wait = until <= now ? 0 : (int)((until - now + 999999) / 1000000);
	if (poll(L->pf, L->n_fl, wait) < 0 && errno != EINTR)
		pr_debug("health checks: poll: %s", strerror(errno));
	now = now_ns(CLOCK_MONOTONIC);
	for (size_t i = 0; i < L->n_fl;) {
		struct flight *f = &L->fl[i];

		if (L->pf[i].revents)
			sl_lb_probe_advance(&f->p);
		if (!sl_lb_probe_done(&f->p) && f->deadline <= now)
			sl_lb_probe_expire(&f->p);
		if (!sl_lb_probe_done(&f->p)) {
			i++;
			continue;
		}
		if (done_push(L, &f->p))
			pr_err("health checks: out of memory");
		/* the last one takes its place (and its poll slot) */
		L->fl[i] = L->fl[--L->n_fl];
		L->pf[i] = L->pf[L->n_fl];
	}
}

void sl_lb_health_run(const struct sl_lb_hc_ops *ops, void *arg,
		      volatile int *stop)
{
	struct hc_loop L = {0};
	uint64_t next_read = 0;

	L.due = calloc(SL_LB_SVC_MAX, sizeof(*L.due));
	if (!L.due) {
		pr_err("health checks: out of memory");
		return;
	}
	while (!*stop) {
		uint64_t now = now_ns(CLOCK_MONOTONIC), next;

		if (now >= next_read) {
			struct sl_lb_cfg run = {0};
			int err = ops->read(arg, &run);

			/* no state: nothing to check; another failure (a
			 * writer holding the lock): the services as last read
			 */
			if (!err || err == -ENOENT) {
				sl_lb_cfg_free(&L.run);
				L.run = run;
				due_prune(&L);
			} else {
				sl_lb_cfg_free(&run);
			}
			next_read = now + TICK_MS * 1000000ULL;
		}
		next = start_due(&L, now);
		step_flights(&L, next < next_read ? next : next_read);
		if (L.n_done && !*stop)
			ops->record(arg, L.done, L.n_done);
		L.n_done = 0;
	}
	for (size_t i = 0; i < L.n_fl; i++)
		sl_lb_probe_expire(&L.fl[i].p); /* closes its socket */
	sl_lb_cfg_free(&L.run);
	free(L.due);
	free(L.fl);
	free(L.pf);
	free(L.done);
}

/* ---- the daemon's: the pinned state, under its lock ---- */

static int state_read(void *arg, struct sl_lb_cfg *run)
{
	const char *bpffs = arg;
	struct sl_ctx ctx;
	int err;

	if ((err = sl_open_reader(&ctx, bpffs, 200)))
		return err;
	err = sl_lb_read(&ctx, run);
	sl_close(&ctx);
	return err;
}

static void state_record(void *arg, const struct sl_lb_probe *p, size_t n)
{
	const char *bpffs = arg;
	struct sl_ctx ctx;

	for (size_t i = 0; i < n; i++)
		if (!p[i].ok)
			pr_debug("health check of backend %u: %s", p[i].id,
				 p[i].err);
	if (sl_open(&ctx, bpffs, false))
		return;
	sl_lb_health_record(&ctx, p, n, now_ns(CLOCK_REALTIME));
	sl_close(&ctx);
}

void sl_lb_health_loop(const char *bpffs, volatile int *stop)
{
	static const struct sl_lb_hc_ops ops = {.read = state_read,
						.record = state_record};

	sl_lb_health_run(&ops, (void *)bpffs, stop);
}
