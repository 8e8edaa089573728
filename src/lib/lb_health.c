// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* lb_health: the daemon's health-check loop (docs/loadbalancer.md, Health
 * checks). Each tick it reads the running services under the state's
 * lock taken shared (sl_open_reader, released at once), probes the
 * backends of the services whose interval has come with no lock held
 * (health.c), then records the outcomes under the exclusive lock, as
 * every writer does (sl_lb_health_record: the health map, and a new Maglev
 * table for a service where a backend went down or up). So the CLI never
 * waits for a probe, and a table swap never interleaves with an apply. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sluice.h"

#define TICK_MS	       100
#define TIMEOUT_MAX_MS 2000

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

static struct due *due_find(struct due *d, size_t n,
			    const struct sl_lb_svc_key *k)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(&d[i].k, k, sizeof(*k)))
			return &d[i];
	return NULL;
}

/* The probes of the services due at now (their next time set); their
 * number, 0 with none, or a negative errno. timeout_ms: the shortest
 * interval of them, at most TIMEOUT_MAX_MS. */
static int due_probes(const struct sl_lb_cfg *run, struct due *d, size_t *nd,
		      uint64_t now, struct sl_lb_probe **out, int *timeout_ms)
{
	struct sl_lb_probe *p;
	size_t n = 0;

	*out = NULL;
	*timeout_ms = TIMEOUT_MAX_MS;
	/* forget the services that went (or lost their check) */
	for (size_t i = 0; i < *nd;) {
		bool keep = false;

		for (size_t j = 0; j < run->n_svc && !keep; j++) {
			const struct sl_lb_service_cfg *s = &run->svc[j];

			keep = s->hc.type && s->port == d[i].k.port &&
			       s->proto == d[i].k.proto &&
			       s->family == d[i].k.family &&
			       !memcmp(s->vip, d[i].k.vip, 16);
		}
		if (keep)
			i++;
		else
			d[i] = d[--(*nd)];
	}
	for (size_t i = 0; i < run->n_svc; i++)
		n += run->svc[i].hc.type ? run->svc[i].n_be : 0;
	if (!n)
		return 0;
	p = calloc(n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < run->n_svc; i++) {
		const struct sl_lb_service_cfg *s = &run->svc[i];
		struct sl_lb_svc_key k = {0};
		struct due *x;

		if (!s->hc.type || !s->n_be)
			continue;
		memcpy(k.vip, s->vip, 16);
		k.port = s->port;
		k.proto = s->proto;
		k.family = s->family;
		x = due_find(d, *nd, &k);
		if (!x && *nd < SL_LB_SVC_MAX) {
			x = &d[(*nd)++];
			x->k = k;
			x->at = now;
		}
		if (!x || x->at > now)
			continue;
		x->at = now + (uint64_t)s->hc.interval_ms * 1000000ULL;
		if ((int)s->hc.interval_ms < *timeout_ms)
			*timeout_ms = (int)s->hc.interval_ms;
		for (size_t j = 0; j < s->n_be; j++) {
			struct sl_lb_probe *q = &p[n++];

			q->svc = k;
			q->id = s->be[j].id;
			memcpy(q->addr, s->be[j].addr, 16);
			q->family = s->be[j].family;
			q->port = s->be[j].port;
			q->type = s->hc.type;
			memcpy(q->path, s->hc.path, sizeof(q->path));
		}
	}
	if (!n)
		free(p);
	else
		*out = p;
	return (int)n;
}

void sl_lb_health_loop(const char *bpffs, volatile int *stop)
{
	struct due *d = calloc(SL_LB_SVC_MAX, sizeof(*d));
	size_t nd = 0;

	if (!d) {
		pr_err("health checks: out of memory");
		return;
	}
	while (!*stop) {
		struct sl_lb_cfg run = {0};
		struct sl_lb_probe *p = NULL;
		struct sl_ctx ctx;
		int n = 0, tmo, err;

		usleep(TICK_MS * 1000);
		if (sl_open_reader(&ctx, bpffs, 200))
			continue;
		err = sl_lb_read(&ctx, &run);
		sl_close(&ctx);
		if (!err)
			n = due_probes(&run, d, &nd, now_ns(CLOCK_MONOTONIC),
				       &p, &tmo);
		sl_lb_cfg_free(&run);
		if (n <= 0)
			continue;
		/* no lock held while probing */
		sl_lb_probe_run(p, (size_t)n, tmo);
		for (int i = 0; i < n; i++)
			if (!p[i].ok)
				pr_debug("health check of backend %u: %s",
					 p[i].id, p[i].err);
		if (!*stop && !sl_open(&ctx, bpffs, false)) {
			sl_lb_health_record(&ctx, p, (size_t)n,
					    now_ns(CLOCK_REALTIME));
			sl_close(&ctx);
		}
		free(p);
	}
	free(d);
}
