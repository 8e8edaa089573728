// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* lb: the load balancer's services in the datapath's maps (abi.h, Load
 * balancer; bpf/lib/lb.h) and the helpers the config section and the CLI
 * share (endpoints, modes, comparison).
 *
 * Writing a new section (sl_lb_write): services and backends keep their
 * ids while they exist (the connection table names backends by id), new
 * ones take the lowest free id; new backends and their counters first,
 * then each changed service's Maglev table, built into a new inner map and
 * switched in with one write of its slot (no packet sees a half-built
 * table), then the services, and last what went away. The connection
 * table is made once, with the first service, and never flushed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sluice.h"

static const char *const mode_names[SL_LB_MODE_MAX] = {
    [SL_LB_NAT] = "nat",
    [SL_LB_DSR_L2] = "dsr-l2",
    [SL_LB_DSR_IPIP] = "dsr-ipip",
};

const char *sl_lb_mode_name(unsigned mode)
{
	return mode < SL_LB_MODE_MAX ? mode_names[mode] : "?";
}

int sl_lb_mode_parse(const char *s)
{
	for (int i = 0; i < SL_LB_MODE_MAX; i++)
		if (!strcmp(s, mode_names[i]))
			return i;
	return -EINVAL;
}

int sl_lb_endpoint_parse(const char *s, bool want_proto, uint8_t *addr,
			 uint8_t *family, uint16_t *port, uint8_t *proto,
			 char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN + 8];
	const char *colon, *rest, *start = s;
	struct sl_prefix p;
	char perr[128];
	char *end;
	unsigned long v;
	size_t alen;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "'%s': expected [IPv6]:PORT%s",
				 start, want_proto ? "/PROTO" : "");
			return -EINVAL;
		}
		start = s + 1;
		alen = (size_t)(close - start);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s))) {
			snprintf(err, errlen,
				 "'%s': expected ADDR:PORT%s (IPv6 in "
				 "brackets: [2001:db8::1]:80)",
				 s, want_proto ? "/PROTO" : "");
			return -EINVAL;
		}
		alen = (size_t)(colon - s);
	}
	if (!alen || alen >= sizeof(a)) {
		snprintf(err, errlen, "'%s': expected an address", s);
		return -EINVAL;
	}
	memcpy(a, start, alen);
	a[alen] = 0;
	if (sl_prefix_parse(a, &p, perr, sizeof(perr)) ||
	    p.plen != (p.family == AF_INET ? 32 : 128) ||
	    (*s != '[' && p.family == AF_INET6)) {
		snprintf(err, errlen,
			 "'%s' is not an IPv4 address or an IPv6 "
			 "one in brackets",
			 a);
		return -EINVAL;
	}
	rest = colon + 1;
	errno = 0;
	v = strtoul(rest, &end, 10);
	if (rest[0] < '0' || rest[0] > '9' || errno || v < 1 || v > 65535 ||
	    (*end && *end != '/') || (*end == '/' && !want_proto)) {
		snprintf(err, errlen, "'%s': the port must be 1 to 65535", s);
		return -EINVAL;
	}
	if (want_proto) {
		if (!strcmp(end, "/tcp"))
			*proto = IPPROTO_TCP;
		else if (!strcmp(end, "/udp"))
			*proto = IPPROTO_UDP;
		else {
			snprintf(err, errlen,
				 "'%s': expected /tcp or /udp after the port",
				 s);
			return -EINVAL;
		}
	}
	memset(addr, 0, 16);
	memcpy(addr, p.addr, p.family == AF_INET ? 4 : 16);
	*family = p.family == AF_INET ? 4 : 6;
	*port = (uint16_t)v;
	return 0;
}

void sl_lb_cfg_free(struct sl_lb_cfg *lb)
{
	for (size_t i = 0; i < lb->n_svc; i++)
		free(lb->svc[i].be);
	free(lb->svc);
	lb->svc = NULL;
	lb->n_svc = 0;
}

int sl_lb_cfg_copy(struct sl_lb_cfg *dst, const struct sl_lb_cfg *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->max = src->max;
	dst->svc = calloc(src->n_svc + 1, sizeof(*dst->svc));
	if (!dst->svc)
		return -ENOMEM;
	for (size_t i = 0; i < src->n_svc; i++) {
		dst->svc[i] = src->svc[i];
		dst->svc[i].be =
		    calloc(src->svc[i].n_be + 1, sizeof(*src->svc[i].be));
		if (!dst->svc[i].be) {
			dst->n_svc = i;
			sl_lb_cfg_free(dst);
			return -ENOMEM;
		}
		if (src->svc[i].n_be)
			memcpy(dst->svc[i].be, src->svc[i].be,
			       src->svc[i].n_be * sizeof(*src->svc[i].be));
		dst->n_svc = i + 1;
	}
	return 0;
}

static bool svc_same_key(const struct sl_lb_service_cfg *a,
			 const struct sl_lb_service_cfg *b)
{
	return a->family == b->family && a->port == b->port &&
	       a->proto == b->proto && !memcmp(a->vip, b->vip, 16);
}

struct sl_lb_service_cfg *sl_lb_find(struct sl_lb_cfg *lb, const uint8_t *vip,
				     uint8_t family, uint16_t port,
				     uint8_t proto)
{
	for (size_t i = 0; i < lb->n_svc; i++) {
		struct sl_lb_service_cfg *s = &lb->svc[i];

		if (s->family == family && s->port == port &&
		    s->proto == proto && !memcmp(s->vip, vip, 16))
			return s;
	}
	return NULL;
}

static const struct sl_lb_backend_cfg *
be_find(const struct sl_lb_service_cfg *s, const struct sl_lb_backend_cfg *b)
{
	for (size_t i = 0; i < s->n_be; i++)
		if (s->be[i].port == b->port &&
		    !memcmp(s->be[i].addr, b->addr, 16))
			return &s->be[i];
	return NULL;
}

/* The backends of a and b are the same, with the same weights. */
static bool be_equal(const struct sl_lb_service_cfg *a,
		     const struct sl_lb_service_cfg *b)
{
	if (a->n_be != b->n_be)
		return false;
	for (size_t i = 0; i < a->n_be; i++) {
		const struct sl_lb_backend_cfg *o = be_find(b, &a->be[i]);

		if (!o || o->weight != a->be[i].weight)
			return false;
	}
	return true;
}

static bool svc_equal(const struct sl_lb_service_cfg *a,
		      const struct sl_lb_service_cfg *b)
{
	return svc_same_key(a, b) && a->mode == b->mode &&
	       a->hc.type == b->hc.type &&
	       (!a->hc.type ||
		(a->hc.rise == b->hc.rise && a->hc.fall == b->hc.fall &&
		 a->hc.interval_ms == b->hc.interval_ms &&
		 !strcmp(a->hc.path, b->hc.path))) &&
	       be_equal(a, b);
}

uint32_t sl_lb_conn_max(const struct sl_lb_cfg *lb)
{
	return lb->max ? lb->max : SL_LB_CONN_MAX;
}

bool sl_lb_cfg_equal(const struct sl_lb_cfg *a, const struct sl_lb_cfg *b)
{
	if (a->n_svc != b->n_svc ||
	    (a->n_svc && sl_lb_conn_max(a) != sl_lb_conn_max(b)))
		return false;
	for (size_t i = 0; i < a->n_svc; i++) {
		const struct sl_lb_service_cfg *s = &a->svc[i];
		const struct sl_lb_service_cfg *o =
		    sl_lb_find((struct sl_lb_cfg *)b, s->vip, s->family,
			       s->port, s->proto);

		if (!o || !svc_equal(s, o))
			return false;
	}
	return true;
}

int sl_lb_diff(const struct sl_lb_cfg *from, const struct sl_lb_cfg *to,
	       struct sl_lb_svc_diff **out, size_t *n)
{
	struct sl_lb_svc_diff *d =
	    calloc(from->n_svc + to->n_svc + 1, sizeof(*d));
	const struct sl_lb_cfg *side[2] = {from, to};

	*out = d;
	*n = 0;
	if (!d)
		return -ENOMEM;
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < side[k]->n_svc; i++) {
			const struct sl_lb_service_cfg *s = &side[k]->svc[i];
			const struct sl_lb_service_cfg *o =
			    sl_lb_find((struct sl_lb_cfg *)side[!k], s->vip,
				       s->family, s->port, s->proto);
			char c = !o ? (k ? '+' : '-') : '~';

			/* a changed service once, from the new side */
			if (o && (!k || svc_equal(s, o)))
				continue;
			sl_lb_endpoint_format(s->vip, s->family, s->port,
					      s->proto, d[*n].svc,
					      sizeof(d[*n].svc));
			d[(*n)++].change = c;
		}
	return 0;
}

int sl_lb_cfg_check(const struct sl_lb_cfg *lb, char *err, size_t errlen)
{
	size_t nb = 0;
	char a[64];

	if (lb->n_svc > SL_LB_SVC_MAX) {
		snprintf(err, errlen, "at most %u services", SL_LB_SVC_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < lb->n_svc; i++) {
		const struct sl_lb_service_cfg *s = &lb->svc[i];

		sl_lb_endpoint_format(s->vip, s->family, s->port, s->proto, a,
				      sizeof(a));
		if (s->n_be > SL_MAGLEV_MAX_BACKENDS) {
			snprintf(err, errlen, "service %s: at most %u backends",
				 a, SL_MAGLEV_MAX_BACKENDS);
			return -EINVAL;
		}
		nb += s->n_be;
		for (size_t j = 0; j < s->n_be; j++)
			if (s->be[j].family != s->family) {
				snprintf(err, errlen,
					 "service %s: a backend of another "
					 "address family",
					 a);
				return -EINVAL;
			}
	}
	if (nb > SL_LB_BE_MAX - 1) {
		snprintf(err, errlen, "at most %u backends in all",
			 SL_LB_BE_MAX - 1);
		return -EINVAL;
	}
	return 0;
}

/* ---- the maps ---- */

struct lb_fds {
	int svc, be, maglev, stats, conn, health;
};

static int lb_fds(struct sl_ctx *ctx, struct lb_fds *f)
{
	f->svc = sl_map_fd(ctx, SL_MAP_LB_SVC);
	f->be = sl_map_fd(ctx, SL_MAP_LB_BE);
	f->maglev = sl_map_fd(ctx, SL_MAP_LB_MAGLEV);
	f->stats = sl_map_fd(ctx, SL_MAP_LB_STATS);
	f->conn = sl_map_fd(ctx, SL_MAP_LB_CONN);
	f->health = sl_map_fd(ctx, SL_MAP_LB_HEALTH);
	if (f->health < 0)
		return f->health;
	if (f->svc < 0)
		return f->svc;
	if (f->be < 0)
		return f->be;
	if (f->maglev < 0)
		return f->maglev;
	if (f->stats < 0)
		return f->stats;
	return f->conn < 0 ? f->conn : 0;
}

static int svc_cmp(const void *x, const void *y)
{
	const struct sl_lb_service_cfg *a = x, *b = y;
	int c = a->family - b->family;

	if (!c)
		c = memcmp(a->vip, b->vip, 16);
	if (!c)
		c = a->port - b->port;
	return c ? c : a->proto - b->proto;
}

static int be_cmp(const void *x, const void *y)
{
	const struct sl_lb_backend_cfg *a = x, *b = y;
	int c = memcmp(a->addr, b->addr, 16);

	return c ? c : a->port - b->port;
}

/* The health entry of backend id (value v), when it is v's: 0, else
 * -ENOENT (none, or a former owner's of the id). */
static int health_get(int fd, __u32 id, const struct sl_lb_be *v,
		      struct sl_lb_be_health *h)
{
	if (bpf_map_lookup_elem(fd, &id, h) || h->svc != v->svc ||
	    h->port != v->port || h->family != v->family ||
	    memcmp(h->addr, v->addr, 16))
		return -ENOENT;
	return 0;
}

static void counts_read(int fd, __u32 id, struct sl_lb_counts *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sl_lb_ctr *v;

	memset(out, 0, sizeof(*out));
	if (ncpu < 1)
		return;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (v && !bpf_map_lookup_elem(fd, &id, v))
		for (int i = 0; i < ncpu; i++) {
			out->packets += v[i].packets;
			out->bytes += v[i].bytes;
			out->conns += v[i].conns;
		}
	free(v);
}

int sl_lb_read(struct sl_ctx *ctx, struct sl_lb_cfg *out)
{
	struct sl_lb_svc_key k, *prev = NULL;
	struct sl_lb_svc v;
	struct lb_fds f;
	__u32 id, *pid = NULL, svc_id[SL_LB_SVC_MAX];
	struct {
		__u32 id;
		struct sl_lb_be v;
	} *all = NULL;
	size_t n_all = 0;
	int err = lb_fds(ctx, &f);

	memset(out, 0, sizeof(*out));
	if (err == -ENOENT)
		return 0; /* programs of an earlier release: no services */
	if (err)
		return err;
	/* the connection table's capacity (none yet: 0, the default) */
	{
		int cfd = sl_inner_fd(f.conn, 0);

		if (cfd >= 0) {
			out->max = sl_map_max(cfd);
			close(cfd);
		}
	}
	out->svc = calloc(SL_LB_SVC_MAX + 1, sizeof(*out->svc));
	all = calloc(SL_LB_BE_MAX, sizeof(*all));
	if (!out->svc || !all) {
		free(all);
		sl_lb_cfg_free(out);
		return -ENOMEM;
	}
	while (!bpf_map_get_next_key(f.svc, prev, &k)) {
		struct sl_lb_service_cfg *s;

		prev = &k;
		if (bpf_map_lookup_elem(f.svc, &k, &v) ||
		    out->n_svc >= SL_LB_SVC_MAX)
			continue;
		svc_id[out->n_svc] = v.id;
		s = &out->svc[out->n_svc++];
		memcpy(s->vip, k.vip, 16);
		s->family = k.family;
		s->port = k.port;
		s->proto = k.proto;
		s->mode = v.mode;
		s->hc.type = v.hc_type;
		s->hc.rise = v.hc_rise;
		s->hc.fall = v.hc_fall;
		s->hc.interval_ms = v.hc_interval_ms;
		memcpy(s->hc.path, v.hc_path, sizeof(s->hc.path));
		s->hc.path[sizeof(s->hc.path) - 1] = 0;
	}
	while (!bpf_map_get_next_key(f.be, pid, &id) && n_all < SL_LB_BE_MAX) {
		pid = &id;
		if (!bpf_map_lookup_elem(f.be, &id, &all[n_all].v))
			all[n_all++].id = id;
	}
	/* each service's backends, in an array of their number */
	for (size_t i = 0; !err && i < out->n_svc; i++) {
		struct sl_lb_service_cfg *s = &out->svc[i];
		size_t n = 0;

		for (size_t j = 0; j < n_all; j++)
			n += all[j].v.svc == svc_id[i];
		s->be = calloc(n + 1, sizeof(*s->be));
		if (!s->be) {
			err = -ENOMEM;
			break;
		}
		for (size_t j = 0; j < n_all; j++) {
			struct sl_lb_backend_cfg *b;

			if (all[j].v.svc != svc_id[i])
				continue;
			b = &s->be[s->n_be++];
			memcpy(b->addr, all[j].v.addr, 16);
			b->family = all[j].v.family;
			b->port = all[j].v.port;
			b->weight = all[j].v.weight;
			b->id = all[j].id;
			counts_read(f.stats, all[j].id, &b->cnt);
			b->checked =
			    !health_get(f.health, b->id, &all[j].v, &b->health);
		}
		qsort(s->be, s->n_be, sizeof(*s->be), be_cmp);
	}
	free(all);
	if (err) {
		sl_lb_cfg_free(out);
		return err;
	}
	qsort(out->svc, out->n_svc, sizeof(*out->svc), svc_cmp);
	return 0;
}

bool sl_lb_running(struct sl_ctx *ctx)
{
	int fd = sl_map_fd(ctx, SL_MAP_LB_SVC);
	struct sl_lb_svc_key k;

	return fd >= 0 && !bpf_map_get_next_key(fd, NULL, &k);
}

/* The running ids: service id by key, backend id by (service id,
 * address, port). */
struct lb_run {
	struct {
		struct sl_lb_svc_key k;
		__u32 id;
	} svc[SL_LB_SVC_MAX];
	size_t n_svc;
	bool svc_used[SL_LB_SVC_MAX];
	struct sl_lb_be *be; /* by id; family 0: free */
};

static int run_read(const struct lb_fds *f, struct lb_run *r)
{
	struct sl_lb_svc_key k, *prev = NULL;
	struct sl_lb_svc v;
	__u32 id, *pid = NULL;
	struct sl_lb_be be;

	memset(r, 0, sizeof(*r));
	r->be = calloc(SL_LB_BE_MAX, sizeof(*r->be));
	if (!r->be)
		return -ENOMEM;
	while (!bpf_map_get_next_key(f->svc, prev, &k)) {
		prev = &k;
		if (bpf_map_lookup_elem(f->svc, &k, &v) ||
		    v.id >= SL_LB_SVC_MAX || r->n_svc >= SL_LB_SVC_MAX)
			continue;
		r->svc[r->n_svc].k = k;
		r->svc[r->n_svc++].id = v.id;
		r->svc_used[v.id] = true;
	}
	while (!bpf_map_get_next_key(f->be, pid, &id)) {
		pid = &id;
		if (id < SL_LB_BE_MAX && !bpf_map_lookup_elem(f->be, &id, &be))
			r->be[id] = be;
	}
	return 0;
}

static void svc_key(const struct sl_lb_service_cfg *s, struct sl_lb_svc_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->vip, s->vip, 16);
	k->port = s->port;
	k->proto = s->proto;
	k->family = s->family;
}

/* The connection table of max entries: made with the first service; one
 * of another capacity is made anew, the entries copied over (those the
 * datapath writes between the copy and the switch stay in the old table:
 * their flows pick their backend again, by the same Maglev table) and
 * switched in with one write. An LRU table keeps what fits. */
static int conn_ensure(const struct lb_fds *f, __u32 max)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	__u32 zero = 0, id;
	int fd, old = -1, err = 0;
	size_t had = 0, kept = 0;

	if (!bpf_map_lookup_elem(f->conn, &zero, &id)) {
		old = bpf_map_get_fd_by_id(id);
		if (old < 0)
			return -errno;
		if (sl_map_max(old) == max) {
			close(old);
			return 0;
		}
	}
	fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "sl_lb_conn_t",
			    sizeof(struct sl_lb_conn_key),
			    sizeof(struct sl_lb_conn), max, &o);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot make the load balancer's connection table (%u "
		       "entries): %s",
		       max, strerror(errno));
		goto out;
	}
	if (old >= 0)
		kept = sl_map_copy(old, fd, &had);
	/* (an array of maps takes BPF_ANY only; writers hold the lock) */
	if (bpf_map_update_elem(f->conn, &zero, &fd, BPF_ANY)) {
		err = -errno;
		pr_err("cannot switch in the load balancer's connection "
		       "table: %s",
		       strerror(errno));
		goto out;
	}
	if (old < 0)
		goto out;
	pr_info("loadbalancer max: %u entries (was %u); %zu entries carried "
		"over",
		max, sl_map_max(old), kept);
	if (kept < had)
		pr_warn(
		    "loadbalancer max: %zu of the %zu entries of %s did not "
		    "fit its new capacity (%u) and are gone",
		    had - kept, had, SL_MAP_LB_CONN, max);
out:
	if (fd >= 0)
		close(fd);
	if (old >= 0)
		close(old);
	return err;
}

int sl_lb_conn_usage(struct sl_ctx *ctx, uint32_t *max, size_t *entries)
{
	int outer = sl_map_fd(ctx, SL_MAP_LB_CONN), fd;

	*max = 0;
	*entries = 0;
	if (outer == -ENOENT)
		return 0; /* programs of an earlier release */
	if (outer < 0)
		return outer;
	fd = sl_inner_fd(outer, 0);
	if (fd == -ENOENT)
		return 0; /* no service yet: no table */
	if (fd < 0)
		return fd;
	*max = sl_map_max(fd);
	*entries = sl_map_count_all(fd);
	close(fd);
	return 0;
}

/* A new Maglev table of service s (backend ids ids[i] of s->be[i]) in
 * its slot: built aside, switched with one write. A backend its health
 * entry says is down counts as weight 0 (the one place both apply and the
 * health checks build tables). No backend of weight above 0: the slot is
 * emptied (the service drops, lb-no-backend). */
static int table_write(const struct lb_fds *f,
		       const struct sl_lb_service_cfg *s, const __u32 *ids,
		       __u32 slot)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	struct sl_maglev_backend *mb;
	struct sl_lb_be_health h;
	__u32 *tab = NULL, *keys = NULL, count = SL_LB_M;
	int fd = -1, err;

	mb = calloc(s->n_be + 1, sizeof(*mb));
	tab = malloc(SL_LB_M * sizeof(*tab));
	keys = malloc(SL_LB_M * sizeof(*keys));
	if (!mb || !tab || !keys) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->n_be; i++) {
		memcpy(mb[i].addr, s->be[i].addr, 16);
		mb[i].family = s->be[i].family;
		mb[i].port = s->be[i].port;
		mb[i].weight = s->be[i].weight;
		if (!bpf_map_lookup_elem(f->health, &ids[i], &h) &&
		    h.state == SL_LB_DOWN && h.port == s->be[i].port &&
		    !memcmp(h.addr, s->be[i].addr, 16))
			mb[i].weight = 0;
	}
	err = s->n_be ? sl_maglev_build(mb, s->n_be, SL_LB_M, tab) : -ENOENT;
	if (err == -ENOENT) {
		err = bpf_map_delete_elem(f->maglev, &slot) && errno != ENOENT
			  ? -errno
			  : 0;
		goto out;
	}
	if (err)
		goto out;
	for (__u32 i = 0; i < SL_LB_M; i++) {
		keys[i] = i;
		tab[i] = tab[i] < s->n_be ? ids[tab[i]] : SL_LB_NONE;
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_lb_maglev_t", 4, 4, SL_LB_M,
			    &o);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (bpf_map_update_batch(fd, keys, tab, &count, NULL)) {
		for (__u32 i = 0; i < SL_LB_M; i++)
			if (bpf_map_update_elem(fd, &i, &tab[i], BPF_ANY)) {
				err = -errno;
				goto out;
			}
	}
	if (bpf_map_update_elem(f->maglev, &slot, &fd, BPF_ANY))
		err = -errno;
out:
	if (fd >= 0)
		close(fd);
	free(mb);
	free(tab);
	free(keys);
	return err;
}

static int lb_write_one(struct sl_ctx *ctx, const struct sl_lb_cfg *lb,
			const struct sl_lb_cfg *cur)
{
	struct lb_fds f;
	struct lb_run *r;
	__u32 *svc_ids = NULL, **be_ids = NULL;
	bool *be_keep = NULL;
	struct sl_lb_be *be_new = NULL; /* running backends' values, by id */
	int ncpu = libbpf_num_possible_cpus();
	struct sl_lb_ctr *zero_ctr = NULL;
	int err = lb_fds(ctx, &f);

	if (err == -ENOENT && !lb->n_svc)
		return 0;
	if (err) {
		pr_err("cannot find the load balancer's maps: %s",
		       strerror(-err));
		return err;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	err = run_read(&f, r);
	svc_ids = calloc(lb->n_svc + 1, sizeof(*svc_ids));
	be_ids = calloc(lb->n_svc + 1, sizeof(*be_ids));
	be_keep = calloc(SL_LB_BE_MAX, sizeof(*be_keep));
	be_new = calloc(SL_LB_BE_MAX, sizeof(*be_new));
	zero_ctr = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*zero_ctr));
	if (!err && (!svc_ids || !be_ids || !be_keep || !be_new || !zero_ctr))
		err = -ENOMEM;
	if (!err && lb->n_svc)
		err = conn_ensure(&f, sl_lb_conn_max(lb));
	/* ids: the running ones, else the lowest free */
	for (size_t i = 0; !err && i < lb->n_svc; i++) {
		const struct sl_lb_service_cfg *s = &lb->svc[i];
		struct sl_lb_svc_key k;
		size_t j;

		svc_key(s, &k);
		for (j = 0; j < r->n_svc; j++)
			if (!memcmp(&r->svc[j].k, &k, sizeof(k)))
				break;
		if (j < r->n_svc) {
			svc_ids[i] = r->svc[j].id;
			continue;
		}
		for (svc_ids[i] = 0;
		     svc_ids[i] < SL_LB_SVC_MAX && r->svc_used[svc_ids[i]];)
			svc_ids[i]++;
		if (svc_ids[i] >= SL_LB_SVC_MAX)
			err = -ENOSPC;
		else
			r->svc_used[svc_ids[i]] = true;
	}
	for (size_t i = 0; !err && i < lb->n_svc; i++) {
		const struct sl_lb_service_cfg *s = &lb->svc[i];

		be_ids[i] = calloc(s->n_be + 1, sizeof(**be_ids));
		if (!be_ids[i]) {
			err = -ENOMEM;
			break;
		}
		for (size_t j = 0; !err && j < s->n_be; j++) {
			const struct sl_lb_backend_cfg *b = &s->be[j];
			struct sl_lb_be v = {0};
			__u32 id;

			for (id = 1; id < SL_LB_BE_MAX; id++)
				if (r->be[id].family &&
				    r->be[id].svc == svc_ids[i] &&
				    r->be[id].port == b->port &&
				    !memcmp(r->be[id].addr, b->addr, 16))
					break;
			if (id == SL_LB_BE_MAX)
				for (id = 1; id < SL_LB_BE_MAX &&
					     (r->be[id].family || be_keep[id]);)
					id++;
			if (id == SL_LB_BE_MAX) {
				err = -ENOSPC;
				break;
			}
			be_ids[i][j] = id;
			be_keep[id] = true;
			memcpy(v.addr, b->addr, 16);
			v.port = b->port;
			v.family = b->family;
			v.flags = b->weight ? 0 : SL_LB_BE_DRAINED;
			v.svc = svc_ids[i];
			v.weight = b->weight;
			/* counters first (kept when they exist), then a
			 * new backend; a running one's new weight goes in
			 * after the tables (below), so that a writer killed
			 * in between leaves a difference the next apply
			 * sees and writes again */
			if (bpf_map_update_elem(f.stats, &id, zero_ctr,
						BPF_NOEXIST) &&
			    errno != EEXIST)
				err = -errno;
			else if (!r->be[id].family &&
				 bpf_map_delete_elem(f.health, &id) &&
				 errno != ENOENT)
				err = -errno;
			else if (!r->be[id].family &&
				 bpf_map_update_elem(f.be, &id, &v, BPF_ANY))
				err = -errno;
			else if (r->be[id].family)
				be_new[id] = v;
		}
	}
	/* the tables of new or changed services, then the services */
	for (size_t i = 0; !err && i < lb->n_svc; i++) {
		const struct sl_lb_service_cfg *s = &lb->svc[i];
		const struct sl_lb_service_cfg *o =
		    cur ? sl_lb_find((struct sl_lb_cfg *)cur, s->vip, s->family,
				     s->port, s->proto)
			: NULL;
		struct sl_lb_svc_key k;
		struct sl_lb_svc v = {0};

		/* a service without a check: every backend up */
		bool down = false;

		for (size_t j = 0; !s->hc.type && j < s->n_be; j++) {
			struct sl_lb_be_health h;

			if (bpf_map_lookup_elem(f.health, &be_ids[i][j], &h))
				continue;
			down = down || h.state == SL_LB_DOWN;
			bpf_map_delete_elem(f.health, &be_ids[i][j]);
		}
		if (!o || !be_equal(s, o) || down)
			err = table_write(&f, s, be_ids[i], svc_ids[i]);
		if (err)
			break;
		svc_key(s, &k);
		v.id = svc_ids[i];
		v.mode = s->mode;
		v.hc_type = s->hc.type;
		v.hc_rise = s->hc.rise;
		v.hc_fall = s->hc.fall;
		v.hc_interval_ms = s->hc.interval_ms;
		memcpy(v.hc_path, s->hc.path, sizeof(v.hc_path));
		if (bpf_map_update_elem(f.svc, &k, &v, BPF_ANY))
			err = -errno;
	}
	/* the running backends' new values */
	for (__u32 id = 1; !err && id < SL_LB_BE_MAX; id++)
		if (be_new[id].family &&
		    memcmp(&r->be[id], &be_new[id], sizeof(be_new[id])) &&
		    bpf_map_update_elem(f.be, &id, &be_new[id], BPF_ANY))
			err = -errno;
	/* what went away: services (and their tables), then backends */
	for (size_t j = 0; !err && j < r->n_svc; j++) {
		bool keep = false;

		for (size_t i = 0; i < lb->n_svc && !keep; i++)
			keep = svc_ids[i] == r->svc[j].id;
		if (keep)
			continue;
		bpf_map_delete_elem(f.svc, &r->svc[j].k);
		bpf_map_delete_elem(f.maglev, &r->svc[j].id);
	}
	for (__u32 id = 1; !err && id < SL_LB_BE_MAX; id++)
		if (r->be[id].family && !be_keep[id]) {
			bpf_map_delete_elem(f.be, &id);
			bpf_map_delete_elem(f.stats, &id);
			bpf_map_delete_elem(f.health, &id);
		}
	if (err)
		pr_err("cannot write the load balancer's services: %s",
		       strerror(-err));
	for (size_t i = 0; be_ids && i < lb->n_svc; i++)
		free(be_ids[i]);
	free(be_ids);
	free(svc_ids);
	free(be_keep);
	free(be_new);
	free(zero_ctr);
	free(r->be);
	free(r);
	return err;
}

int sl_lb_write(struct sl_ctx *ctx, const struct sl_lb_cfg *lb,
		const struct sl_lb_cfg *cur)
{
	int err = lb_write_one(ctx, lb, cur);

	if (err && cur && lb_write_one(ctx, cur, NULL))
		pr_warn("the load balancer's services may be partly the new "
			"ones");
	return err;
}

int sl_lb_health_record(struct sl_ctx *ctx, const struct sl_lb_probe *p,
			size_t n, uint64_t now)
{
	struct sl_lb_svc_key *moved = calloc(n + 1, sizeof(*moved));
	struct sl_lb_cfg run = {0};
	size_t n_moved = 0;
	struct lb_fds f;
	int err = lb_fds(ctx, &f);

	if (!moved)
		return -ENOMEM;
	for (size_t i = 0; !err && i < n; i++) {
		struct sl_lb_svc sv;
		struct sl_lb_be bv;
		struct sl_lb_be_health h;
		__u32 id = p[i].id;

		/* the backend is still the one checked */
		if (bpf_map_lookup_elem(f.svc, &p[i].svc, &sv) ||
		    bpf_map_lookup_elem(f.be, &id, &bv) || bv.svc != sv.id ||
		    bv.port != p[i].port || memcmp(bv.addr, p[i].addr, 16) ||
		    !sv.hc_type)
			continue;
		if (health_get(f.health, id, &bv, &h)) {
			memset(&h, 0, sizeof(h));
			memcpy(h.addr, bv.addr, 16);
			h.port = bv.port;
			h.family = bv.family;
			h.svc = bv.svc;
			h.state = SL_LB_UP;
			h.since = now;
		}
		if (!p[i].ok)
			snprintf(h.err, sizeof(h.err), "%s", p[i].err);
		if (sl_lb_health_step(&h, p[i].ok, sv.hc_rise, sv.hc_fall, now))
			moved[n_moved++] = p[i].svc;
		if (bpf_map_update_elem(f.health, &id, &h, BPF_ANY))
			err = -errno;
	}
	if (!err && n_moved)
		err = sl_lb_read(ctx, &run);
	/* the tables of the services where a backend went down or up */
	for (size_t i = 0; !err && i < run.n_svc; i++) {
		const struct sl_lb_service_cfg *s = &run.svc[i];
		struct sl_lb_svc_key k;
		struct sl_lb_svc sv;
		__u32 *ids;
		bool hit = false;

		svc_key(s, &k);
		for (size_t j = 0; j < n_moved && !hit; j++)
			hit = !memcmp(&moved[j], &k, sizeof(k));
		if (!hit || bpf_map_lookup_elem(f.svc, &k, &sv))
			continue;
		ids = calloc(s->n_be + 1, sizeof(*ids));
		if (!ids) {
			err = -ENOMEM;
			break;
		}
		for (size_t j = 0; j < s->n_be; j++)
			ids[j] = s->be[j].id;
		err = table_write(&f, s, ids, sv.id);
		free(ids);
	}
	if (err)
		pr_err("cannot record the health checks: %s", strerror(-err));
	sl_lb_cfg_free(&run);
	free(moved);
	return err;
}
