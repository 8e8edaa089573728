// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_lb: the `loadbalancer:` section of the config file, the XDP load
 * balancer's services (docs/loadbalancer.md, docs/config.md):
 *   loadbalancer:
 *     max: 65536                   # connection table capacity, entries
 *     services:
 *       - vip: 198.18.100.1        # IPv4 or IPv6
 *         port: 80
 *         proto: tcp               # tcp | udp
 *         mode: nat                # nat | dsr-l2 | dsr-ipip
 *         backends:
 *           - {addr: 198.18.1.10, port: 8080, weight: 2}
 *           - {addr: 198.18.1.11, port: 8080}   # weight 1; 0: drained
 *         health: {type: http, path: /, interval: 1s, rise: 2, fall: 2}
 * `health:` is stored and exported here; `sluice daemon` runs it (health.c,
 * lb_health.c). The writers print the section only when a service exists,
 * `max` only when it is not the default, a backend's weight only when it
 * is not 1. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_sec.h"
#include "json.h"
#include "rulefield.h"
#include "units.h"

/* An address scalar of the service's family (0: any, then set). */
static int lb_addr(struct sl_cfg_loader *L, yaml_node_t *v, const char *what,
		   uint8_t *addr, uint8_t *family)
{
	struct sl_prefix p;
	char err[128];
	const char *t;
	int rc = sl_cfg_scalar(L, v, what, &t);

	if (rc)
		return rc;
	/* an address, not a prefix: not even a host's /32 or /128 */
	if (strchr(t, '/') || sl_prefix_parse(t, &p, err, sizeof(err)) ||
	    p.plen != (p.family == AF_INET ? 32 : 128))
		return sl_cfg_err(L, v,
				  "loadbalancer: %s: expected an IPv4 or IPv6 "
				  "address (no prefix length), got '%.64s'",
				  what, t);
	memcpy(addr, p.addr, 16);
	*family = p.family == AF_INET ? 4 : 6;
	return 0;
}

/* A path that goes into the request line "GET PATH HTTP/1.0" as it is:
 * no space (it would end the path) and no control character (CR or LF
 * would end the line). */
static bool path_ok(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t <= ' ' || *t == 0x7f)
			return false;
	return true;
}

static int lb_health(struct sl_cfg_loader *L, yaml_node_t *n,
		     struct sl_lb_service_cfg *s)
{
	static const char *const keys[] = {"type", "path", "interval",
					   "rise", "fall", NULL};
	yaml_node_t *v;
	const char *t;
	unsigned x;
	int err = sl_cfg_check_map(L, n, "health", keys);

	if (err)
		return err;
	s->hc.rise = SL_LB_HC_RISE_DEF;
	s->hc.fall = SL_LB_HC_FALL_DEF;
	s->hc.interval_ms = SL_LB_HC_INTERVAL_DEF;
	v = sl_cfg_map_get(L, n, "type");
	if (!v)
		return sl_cfg_err(L, n,
				  "health: 'type' (tcp or http) is "
				  "missing");
	if ((err = sl_cfg_scalar(L, v, "health type", &t)))
		return err;
	if (!strcmp(t, "tcp"))
		s->hc.type = SL_LB_HC_TCP;
	else if (!strcmp(t, "http"))
		s->hc.type = SL_LB_HC_HTTP;
	else
		return sl_cfg_err(L, v,
				  "health: type must be tcp or http, got "
				  "'%.32s'",
				  t);
	if ((v = sl_cfg_map_get(L, n, "path"))) {
		if ((err = sl_cfg_scalar(L, v, "health path", &t)))
			return err;
		if (s->hc.type != SL_LB_HC_HTTP || t[0] != '/' ||
		    strlen(t) >= SL_LB_PATH_MAX || !path_ok(t))
			return sl_cfg_err(L, v,
					  "health: path is for type http, "
					  "starts with '/' and has at most "
					  "%d characters, none a space or "
					  "control character",
					  SL_LB_PATH_MAX - 1);
		strcpy(s->hc.path, t);
	} else if (s->hc.type == SL_LB_HC_HTTP) {
		strcpy(s->hc.path, "/");
	}
	if ((v = sl_cfg_map_get(L, n, "interval"))) {
		long long secs;

		if ((err = sl_cfg_scalar(L, v, "health interval", &t)))
			return err;
		secs = sl_duration_parse(t, false);
		if (secs < 1 || secs > 3600)
			return sl_cfg_err(L, v,
					  "health: interval must be a duration "
					  "from 1s to 1h (such as 2s), got "
					  "'%.32s'",
					  t);
		s->hc.interval_ms = (uint32_t)secs * 1000;
	}
	if ((v = sl_cfg_map_get(L, n, "rise")) &&
	    (err = sl_cfg_uint(L, v, "rise", 1, 100, SL_LB_HC_RISE_DEF, &x)))
		return err;
	if (v)
		s->hc.rise = (uint8_t)x;
	if ((v = sl_cfg_map_get(L, n, "fall")) &&
	    (err = sl_cfg_uint(L, v, "fall", 1, 100, SL_LB_HC_FALL_DEF, &x)))
		return err;
	if (v)
		s->hc.fall = (uint8_t)x;
	return 0;
}

static int lb_backend(struct sl_cfg_loader *L, yaml_node_t *n,
		      struct sl_lb_service_cfg *s)
{
	static const char *const keys[] = {"addr", "port", "weight", NULL};
	struct sl_lb_backend_cfg *b = &s->be[s->n_be];
	yaml_node_t *v;
	unsigned x;
	int err;

	memset(b, 0, sizeof(*b));
	b->pos = sl_cfg_pos(n);
	b->weight = SL_LB_WEIGHT_DEF;
	if (n->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, n,
				  "backends: expected a mapping such as {addr: "
				  "198.18.1.10, port: 8080}, got %s",
				  sl_cfg_type_name(n));
	err = sl_cfg_check_map(L, n, "backend", keys);
	if (err)
		return err;
	if (!(v = sl_cfg_map_get(L, n, "addr")))
		return sl_cfg_err(L, n, "backend: 'addr' is missing");
	if ((err = lb_addr(L, v, "backend addr", b->addr, &b->family)))
		return err;
	if (b->family != s->family)
		return sl_cfg_err(L, v,
				  "backend: an IPv%u backend for an IPv%u VIP "
				  "(the load balancer does not translate "
				  "families)",
				  b->family, s->family);
	if (!(v = sl_cfg_map_get(L, n, "port")))
		return sl_cfg_err(L, n, "backend: 'port' is missing");
	if ((err = sl_cfg_uint(L, v, "backend port", 1, 65535, 0, &x)))
		return err;
	b->port = (uint16_t)x;
	if ((v = sl_cfg_map_get(L, n, "weight"))) {
		if ((err = sl_cfg_uint(L, v, "weight", 0, SL_MAGLEV_MAX_WEIGHT,
				       SL_LB_WEIGHT_DEF, &x)))
			return err;
		b->weight = x;
	}
	for (size_t i = 0; i < s->n_be; i++)
		if (s->be[i].port == b->port &&
		    !memcmp(s->be[i].addr, b->addr, 16))
			return sl_cfg_err(L, n,
					  "backend: the same address and port "
					  "as the backend of line %u",
					  s->be[i].pos.line);
	s->n_be++;
	return 0;
}

static int lb_service(struct sl_cfg_loader *L, yaml_node_t *n,
		      struct sl_lb_cfg *lb)
{
	static const char *const keys[] = {
	    "vip", "port", "proto", "mode", "backends", "health", NULL};
	struct sl_lb_service_cfg *s = &lb->svc[lb->n_svc];
	yaml_node_item_t *it, *top;
	yaml_node_t *v;
	const char *t;
	unsigned x;
	int err, m;

	memset(s, 0, sizeof(*s));
	s->pos = sl_cfg_pos(n);
	lb->n_svc++; /* freed with the section on error */
	if (n->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, n,
				  "services: expected a mapping of vip, port, "
				  "proto, mode, backends and health, got %s",
				  sl_cfg_type_name(n));
	err = sl_cfg_check_map(L, n, "service", keys);
	if (err)
		return err;
	if (!(v = sl_cfg_map_get(L, n, "vip")))
		return sl_cfg_err(L, n, "service: 'vip' is missing");
	if ((err = lb_addr(L, v, "vip", s->vip, &s->family)))
		return err;
	if (!(v = sl_cfg_map_get(L, n, "port")))
		return sl_cfg_err(L, n, "service: 'port' is missing");
	if ((err = sl_cfg_uint(L, v, "port", 1, 65535, 0, &x)))
		return err;
	s->port = (uint16_t)x;
	s->proto = IPPROTO_TCP;
	if ((v = sl_cfg_map_get(L, n, "proto"))) {
		if ((err = sl_cfg_scalar(L, v, "proto", &t)))
			return err;
		if (!strcmp(t, "tcp"))
			s->proto = IPPROTO_TCP;
		else if (!strcmp(t, "udp"))
			s->proto = IPPROTO_UDP;
		else
			return sl_cfg_err(L, v,
					  "service: proto must be tcp or udp, "
					  "got '%.32s'",
					  t);
	}
	if ((v = sl_cfg_map_get(L, n, "mode"))) {
		if ((err = sl_cfg_scalar(L, v, "mode", &t)))
			return err;
		m = sl_lb_mode_parse(t);
		if (m < 0)
			return sl_cfg_err(L, v,
					  "service: mode must be nat, dsr-l2 "
					  "or dsr-ipip, got '%.32s'",
					  t);
		s->mode = (uint8_t)m;
	}
	if ((v = sl_cfg_map_get(L, n, "health")) && !sl_cfg_is_null(v) &&
	    (err = lb_health(L, v, s)))
		return err;
	for (size_t i = 0; i + 1 < lb->n_svc; i++) {
		const struct sl_lb_service_cfg *o = &lb->svc[i];

		if (o->family == s->family && o->port == s->port &&
		    o->proto == s->proto && !memcmp(o->vip, s->vip, 16))
			return sl_cfg_err(L, n,
					  "service: the same VIP, port and "
					  "proto as the service of line %u",
					  o->pos.line);
	}
	if (!(v = sl_cfg_map_get(L, n, "backends")))
		return 0;
	err = sl_cfg_list(L, v, "backends", &it, &top);
	if (err || !it)
		return err;
	/* at the first one too many */
	if (top - it > (long)SL_MAGLEV_MAX_BACKENDS)
		return sl_cfg_err(L, sl_cfg_node(L, it[SL_MAGLEV_MAX_BACKENDS]),
				  "backends: at most %u a service",
				  SL_MAGLEV_MAX_BACKENDS);
	s->be = calloc((size_t)(top - it) + 1, sizeof(*s->be));
	if (!s->be)
		return -ENOMEM;
	for (; !err && it < top; it++)
		err = lb_backend(L, sl_cfg_node(L, *it), s);
	return err;
}

static int lb_parse(struct sl_cfg_loader *L, const char *key, yaml_node_t *n,
		    void **state)
{
	static const char *const keys[] = {"services", "max", NULL};
	struct sl_lb_cfg *lb = &L->cfg->lb;
	yaml_node_item_t *it, *top;
	yaml_node_t *v;
	size_t nb = 0;
	unsigned x;
	int err;

	(void)state;
	if (sl_cfg_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, n,
				  "loadbalancer: expected a mapping with "
				  "services and max, got %s",
				  sl_cfg_type_name(n));
	err = sl_cfg_check_map(L, n, key, keys);
	if (!err && (v = sl_cfg_map_get(L, n, "max"))) {
		err = sl_cfg_capacity(L, v, "max", SL_LB_CONN_MAX_MIN,
				      SL_LB_CONN_MAX_MAX, SL_LB_CONN_MAX, &x);
		lb->max = x;
	}
	if (err || !(v = sl_cfg_map_get(L, n, "services")))
		return err;
	err = sl_cfg_list(L, v, "services", &it, &top);
	if (err || !it)
		return err;
	if (top - it > (long)SL_LB_SVC_MAX)
		return sl_cfg_err(L, sl_cfg_node(L, it[SL_LB_SVC_MAX]),
				  "services: at most %u", SL_LB_SVC_MAX);
	lb->svc = calloc((size_t)(top - it) + 1, sizeof(*lb->svc));
	if (!lb->svc)
		return -ENOMEM;
	for (; !err && it < top; it++) {
		yaml_node_t *sn = sl_cfg_node(L, *it);

		err = lb_service(L, sn, lb);
		nb += lb->svc[lb->n_svc - 1].n_be;
		if (!err && nb > SL_LB_BE_MAX - 1)
			err = sl_cfg_err(L, sn,
					 "loadbalancer: more than %u backends "
					 "in all",
					 SL_LB_BE_MAX - 1);
	}
	return err;
}

static const char *hc_name(unsigned t)
{
	return t == SL_LB_HC_TCP ? "tcp" : "http";
}

static int lb_write(FILE *f, const struct sl_config *cfg)
{
	char a[64], q[2 * SL_LB_PATH_MAX + 3];

	if (!cfg->lb.n_svc)
		return 0;
	fprintf(f, "loadbalancer:\n");
	if (sl_lb_conn_max(&cfg->lb) != SL_LB_CONN_MAX)
		fprintf(f, "  max: %u\n", sl_lb_conn_max(&cfg->lb));
	fprintf(f, "  services:\n");
	for (size_t i = 0; i < cfg->lb.n_svc; i++) {
		const struct sl_lb_service_cfg *s = &cfg->lb.svc[i];

		sl_lb_endpoint_format(s->vip, s->family, 0, 0, a, sizeof(a));
		fprintf(f,
			"    - vip: %s\n      port: %u\n      proto: %s\n"
			"      mode: %s\n",
			a, s->port, s->proto == IPPROTO_UDP ? "udp" : "tcp",
			sl_lb_mode_name(s->mode));
		fprintf(f, "      backends:%s\n", s->n_be ? "" : " []");
		for (size_t j = 0; j < s->n_be; j++) {
			const struct sl_lb_backend_cfg *b = &s->be[j];

			sl_lb_endpoint_format(b->addr, b->family, 0, 0, a,
					      sizeof(a));
			fprintf(f, "        - {addr: %s, port: %u", a, b->port);
			if (b->weight != SL_LB_WEIGHT_DEF)
				fprintf(f, ", weight: %u", b->weight);
			fprintf(f, "}\n");
		}
		if (s->hc.type) {
			fprintf(f, "      health: {type: %s",
				hc_name(s->hc.type));
			if (s->hc.type == SL_LB_HC_HTTP) {
				/* double-quoted: a path may hold ' # , } */
				sl_quote(s->hc.path, q, sizeof(q));
				fprintf(f, ", path: %s", q);
			}
			sl_duration_format(s->hc.interval_ms / 1000, a,
					   sizeof(a));
			fprintf(f, ", interval: %s, rise: %u, fall: %u}\n", a,
				s->hc.rise, s->hc.fall);
		}
	}
	return 0;
}

static int lb_json(struct jw *w, const struct sl_config *cfg)
{
	char a[64];

	if (!cfg->lb.n_svc)
		return 0;
	jw_key(w, "loadbalancer");
	jw_obj_open(w);
	if (sl_lb_conn_max(&cfg->lb) != SL_LB_CONN_MAX) {
		jw_key(w, "max");
		jw_u64(w, sl_lb_conn_max(&cfg->lb));
	}
	jw_key(w, "services");
	jw_arr_open(w);
	for (size_t i = 0; i < cfg->lb.n_svc; i++) {
		const struct sl_lb_service_cfg *s = &cfg->lb.svc[i];

		jw_obj_open(w);
		sl_lb_endpoint_format(s->vip, s->family, 0, 0, a, sizeof(a));
		jw_key(w, "vip");
		jw_str(w, a);
		jw_key(w, "port");
		jw_u64(w, s->port);
		jw_key(w, "proto");
		jw_str(w, s->proto == IPPROTO_UDP ? "udp" : "tcp");
		jw_key(w, "mode");
		jw_str(w, sl_lb_mode_name(s->mode));
		jw_key(w, "backends");
		jw_arr_open(w);
		for (size_t j = 0; j < s->n_be; j++) {
			const struct sl_lb_backend_cfg *b = &s->be[j];

			sl_lb_endpoint_format(b->addr, b->family, 0, 0, a,
					      sizeof(a));
			jw_obj_open(w);
			jw_key(w, "addr");
			jw_str(w, a);
			jw_key(w, "port");
			jw_u64(w, b->port);
			jw_key(w, "weight");
			jw_u64(w, b->weight);
			jw_obj_close(w);
		}
		jw_arr_close(w);
		if (s->hc.type) {
			jw_key(w, "health");
			jw_obj_open(w);
			jw_key(w, "type");
			jw_str(w, hc_name(s->hc.type));
			if (s->hc.type == SL_LB_HC_HTTP) {
				jw_key(w, "path");
				jw_str(w, s->hc.path);
			}
			sl_duration_format(s->hc.interval_ms / 1000, a,
					   sizeof(a));
			jw_key(w, "interval");
			jw_str(w, a);
			jw_key(w, "rise");
			jw_u64(w, s->hc.rise);
			jw_key(w, "fall");
			jw_u64(w, s->hc.fall);
			jw_obj_close(w);
		}
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_obj_close(w);
	return 0;
}

static bool lb_equal(const struct sl_config *a, const struct sl_config *b)
{
	return sl_lb_cfg_equal(&a->lb, &b->lb);
}

static void lb_free(struct sl_config *cfg)
{
	sl_lb_cfg_free(&cfg->lb);
}

const struct sl_cfg_section sl_cfg_lb = {
    .name = "loadbalancer",
    .keys = (const char *const[]){"loadbalancer", NULL},
    .parse = lb_parse,
    .write = lb_write,
    .write_json = lb_json,
    .equal = lb_equal,
    .free = lb_free,
};
