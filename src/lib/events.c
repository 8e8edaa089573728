// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* events: the control plane's half of the events (abi.h, Events): the
 * parameters apply writes into the config-owned map sl_ev_conf, what
 * decides the programs' load-time switch (sl_features.events), the lost
 * counters, and the clock of the records. The records themselves are
 * read by `sluice events` (src/cli/cmd_events.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "json.h"
#include "names.h"
#include "sluice.h"

void sl_ev_cfg_effective(const struct sl_ev_cfg *in, struct sl_ev_cfg *out)
{
	struct sl_ev_cfg r = *in;

	if (!r.log_rate)
		r.log_rate = SL_EV_LOG_RATE_DEF;
	if (!r.log_burst)
		r.log_burst = SL_EV_LOG_BURST_DEF;
	*out = r;
}

static bool any_log(const struct sl_config *cfg)
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		if (cfg->rules[i].log)
			return true;
	return false;
}

bool sl_ev_cfg_on(const struct sl_config *cfg)
{
	return cfg->ev.drops || cfg->ev.sample || any_log(cfg);
}

void sl_ev_conf_make(const struct sl_config *cfg, struct sl_ev_conf *out)
{
	struct sl_ev_cfg e;

	sl_ev_cfg_effective(&cfg->ev, &e);
	memset(out, 0, sizeof(*out));
	out->flags =
	    (e.drops ? SL_EV_F_DROPS : 0) | (any_log(cfg) ? SL_EV_F_LOG : 0);
	out->sample = e.sample;
	out->log_rate = e.log_rate;
	out->log_burst = e.log_burst;
	/* a bucket of burst tokens refills in burst / rate seconds, up */
	out->log_fill_ns =
	    ((uint64_t)e.log_burst * 1000000000ULL + e.log_rate - 1) /
	    e.log_rate;
}

static int conf_get(struct sl_ctx *ctx, struct sl_ev_conf *c)
{
	int fd = sl_map_fd(ctx, SL_MAP_EV_CONF);
	__u32 key = 0;

	memset(c, 0, sizeof(*c));
	if (fd == -ENOENT)
		return 0; /* programs of an earlier release: no events */
	if (fd < 0)
		return fd;
	return bpf_map_lookup_elem(fd, &key, c) ? -errno : 0;
}

int sl_ev_read(struct sl_ctx *ctx, struct sl_ev_cfg *out)
{
	struct sl_ev_conf c;
	int err = conf_get(ctx, &c);

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	out->drops = c.flags & SL_EV_F_DROPS;
	out->sample = c.sample;
	/* the defaults read back as unset (export prints what differs) */
	out->log_rate = c.log_rate == SL_EV_LOG_RATE_DEF ? 0 : c.log_rate;
	out->log_burst = c.log_burst == SL_EV_LOG_BURST_DEF ? 0 : c.log_burst;
	return 0;
}

bool sl_ev_conf_running(const struct sl_ev_conf *c)
{
	return c->flags || c->sample;
}

bool sl_ev_running(struct sl_ctx *ctx)
{
	struct sl_ev_conf c;

	return !conf_get(ctx, &c) && sl_ev_conf_running(&c);
}

int sl_ev_write(struct sl_ctx *ctx, const struct sl_config *cfg)
{
	int fd = sl_map_fd(ctx, SL_MAP_EV_CONF);
	struct sl_ev_conf c;
	__u32 key = 0;

	if (fd < 0)
		return fd;
	sl_ev_conf_make(cfg, &c);
	return bpf_map_update_elem(fd, &key, &c, BPF_ANY) ? -errno : 0;
}

int sl_ev_lost(struct sl_ctx *ctx, uint64_t *total, uint64_t *percpu, size_t n)
{
	int fd = sl_map_fd(ctx, SL_MAP_EV_LOST);

	*total = 0;
	if (percpu)
		memset(percpu, 0, n * sizeof(*percpu));
	if (fd == -ENOENT)
		return 0;
	return fd < 0 ? fd : sl_ev_lost_fd(fd, total, percpu, n);
}

uint64_t sl_ev_walltime(uint64_t boot_ns)
{
	struct timespec rt, bt;
	int64_t off;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	off = (int64_t)(rt.tv_sec - bt.tv_sec) * 1000000000LL +
	      (rt.tv_nsec - bt.tv_nsec);
	return (uint64_t)((int64_t)boot_ns + off);
}

/* ---- reading: the pins, the filter, the printed forms ---- */

int sl_ev_pin_open(const char *bpffs, const char *name)
{
	char path[400];
	int fd;

	if (!bpffs)
		bpffs = getenv("SLUICE_BPFFS");
	if (!bpffs || !*bpffs)
		bpffs = SL_DEFAULT_BPFFS;
	snprintf(path, sizeof(path), "%s/" SL_PIN_SUBDIR "/%s", bpffs, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int sl_ev_lost_fd(int fd, uint64_t *total, uint64_t *percpu, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	__u32 key = 0;
	uint64_t *v;

	*total = 0;
	if (percpu)
		memset(percpu, 0, n * sizeof(*percpu));
	if (ncpu < 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, v)) {
		free(v);
		return -errno;
	}
	for (int i = 0; i < ncpu; i++) {
		*total += v[i];
		if (percpu && (size_t)i < n)
			percpu[i] = v[i];
	}
	free(v);
	return 0;
}

const char *sl_ev_type_name(unsigned t)
{
	return t == SL_EV_DROP	   ? "drop"
	       : t == SL_EV_SAMPLE ? "sample"
	       : t == SL_EV_LOG	   ? "log"
				   : "unknown";
}

/* The event's address as a host prefix. */
static void ev_addr(const struct sl_event *e, const uint8_t *a,
		    struct sl_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = e->family == 4 ? AF_INET : AF_INET6;
	p->plen = e->family == 4 ? 32 : 128;
	memcpy(p->addr, a, e->family == 4 ? 4 : 16);
}

bool sl_ev_match(const struct sl_ev_filter *f, const struct sl_event *e)
{
	struct sl_prefix p;

	if (f->has_from || f->has_to) {
		if (!e->family)
			return false;
		if (f->has_from) {
			ev_addr(e, e->src, &p);
			if (p.family != f->from.family ||
			    !sl_prefix_within(&p, &f->from))
				return false;
		}
		if (f->has_to) {
			ev_addr(e, e->dst, &p);
			if (p.family != f->to.family ||
			    !sl_prefix_within(&p, &f->to))
				return false;
		}
	}
	return (f->port < 0 || e->sport == f->port || e->dport == f->port) &&
	       (f->proto < 0 || (e->family && e->proto == f->proto)) &&
	       (f->reason < 0 || e->reason == f->reason) &&
	       (f->rule < 0 || e->rule_id == (uint32_t)f->rule) &&
	       (f->action < 0 || e->action == f->action) &&
	       (f->type < 0 || e->type == f->type) &&
	       (!f->ifindex || e->ifindex == f->ifindex) &&
	       (f->dir < 0 || e->dir == f->dir);
}

static const char *proto_name(unsigned p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_ICMP:
		return "ICMPv4";
	case IPPROTO_ICMPV6:
		return "ICMPv6";
	case IPPROTO_SCTP:
		return "SCTP";
	}
	return NULL;
}

static const char *const tcp_flag_names[8] = {"FIN", "SYN", "RST", "PSH",
					      "ACK", "URG", "ECE", "CWR"};

static void time_text(uint64_t boot_ns, char *buf, size_t len)
{
	uint64_t w = sl_ev_walltime(boot_ns);
	time_t s = (time_t)(w / 1000000000ULL);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned long long)(w % 1000000000ULL));
}

static void addr_text(const struct sl_event *e, const uint8_t *a, char *buf,
		      size_t len)
{
	inet_ntop(e->family == 4 ? AF_INET : AF_INET6, a, buf, len);
}

void sl_ev_json(struct jw *w, const struct sl_event *e)
{
	char buf[64], ifname[IF_NAMESIZE] = "";
	const char *pn = e->family ? proto_name(e->proto) : NULL;

	jw_obj_open(w);
	time_text(e->ts, buf, sizeof(buf));
	jw_key(w, "time");
	jw_str(w, buf);
	jw_key(w, "type");
	jw_str(w, sl_ev_type_name(e->type));
	jw_key(w, "verdict");
	jw_str(w, sl_action_name(e->action));
	jw_key(w, "reason");
	jw_str(w, sl_reason_name(e->reason));
	if (e->action == SL_ACT_DROP || e->action == SL_ACT_ABORT) {
		jw_key(w, "drop_reason_desc");
		jw_str(w, sl_reason_name(e->reason));
	}
	if (e->rule_id) {
		jw_key(w, "rule");
		jw_u64(w, e->rule_id);
	}
	jw_key(w, "traffic_direction");
	jw_str(w, e->dir == SL_RDIR_OUT ? "EGRESS" : "INGRESS");
	jw_key(w, "hook");
	jw_str(w, e->hook ? "tc" : "xdp");
	jw_key(w, "interface");
	jw_obj_open(w);
	jw_key(w, "index");
	jw_u64(w, e->ifindex);
	if (if_indextoname(e->ifindex, ifname)) {
		jw_key(w, "name");
		jw_str(w, ifname);
	}
	jw_obj_close(w);
	if (e->vlan) {
		jw_key(w, "vlan");
		jw_u64(w, e->vlan);
	}
	if (e->family) {
		jw_key(w, "IP");
		jw_obj_open(w);
		addr_text(e, e->src, buf, sizeof(buf));
		jw_key(w, "source");
		jw_str(w, buf);
		addr_text(e, e->dst, buf, sizeof(buf));
		jw_key(w, "destination");
		jw_str(w, buf);
		jw_key(w, "ipVersion");
		jw_str(w, e->family == 4 ? "IPv4" : "IPv6");
		jw_key(w, "protocol");
		jw_u64(w, e->proto);
		jw_obj_close(w);
	}
	if (pn) {
		jw_key(w, "l4");
		jw_obj_open(w);
		jw_key(w, pn);
		jw_obj_open(w);
		if (e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6) {
			jw_key(w, "type");
			jw_u64(w, e->icmp_type);
			jw_key(w, "code");
			jw_u64(w, e->icmp_code);
		} else {
			jw_key(w, "source_port");
			jw_u64(w, e->sport);
			jw_key(w, "destination_port");
			jw_u64(w, e->dport);
		}
		if (e->proto == IPPROTO_TCP) {
			jw_key(w, "flags");
			jw_obj_open(w);
			for (int i = 0; i < 8; i++)
				if (e->tcp_flags & (1U << i)) {
					jw_key(w, tcp_flag_names[i]);
					jw_bool(w, true);
				}
			jw_obj_close(w);
		}
		jw_obj_close(w);
		jw_obj_close(w);
	}
	jw_key(w, "length");
	jw_u64(w, e->len);
	if (e->type == SL_EV_SAMPLE) {
		jw_key(w, "sample_rate");
		jw_u64(w, e->sample);
	}
	jw_obj_close(w);
}

void sl_ev_text(const struct sl_event *e, char *buf, size_t len)
{
	char t[64], s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], fl[40] = "";
	char ifname[IF_NAMESIZE] = "", rule[24] = "";
	const char *pn = e->family ? proto_name(e->proto) : NULL;
	size_t o = 0;

	time_text(e->ts, t, sizeof(t));
	if (!if_indextoname(e->ifindex, ifname))
		snprintf(ifname, sizeof(ifname), "if%u", e->ifindex);
	if (e->rule_id)
		snprintf(rule, sizeof(rule), " rule %u", e->rule_id);
	o += snprintf(buf + o, len - o, "%s %-6s %-5s %s%s %s %s/%s", t,
		      sl_ev_type_name(e->type), sl_action_name(e->action),
		      sl_reason_name(e->reason), rule, ifname,
		      e->dir == SL_RDIR_OUT ? "egress" : "ingress",
		      e->hook ? "tc" : "xdp");
	if (o < len && e->family) {
		addr_text(e, e->src, s, sizeof(s));
		addr_text(e, e->dst, d, sizeof(d));
		if (e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP ||
		    e->proto == IPPROTO_SCTP)
			o += snprintf(buf + o, len - o,
				      e->family == 4 ? " %s:%u -> %s:%u"
						     : " [%s]:%u -> [%s]:%u",
				      s, e->sport, d, e->dport);
		else
			o += snprintf(buf + o, len - o, " %s -> %s", s, d);
		if (o < len && pn)
			o += snprintf(buf + o, len - o, " %s", pn);
		else if (o < len)
			o += snprintf(buf + o, len - o, " proto %u", e->proto);
		if (o < len && e->proto == IPPROTO_TCP) {
			size_t f = 0;

			for (int i = 0; i < 8; i++)
				if (e->tcp_flags & (1U << i))
					f += snprintf(fl + f, sizeof(fl) - f,
						      "%s%s", f ? "," : "",
						      tcp_flag_names[i]);
			o += snprintf(buf + o, len - o, " %s", f ? fl : "-");
		}
		if (o < len &&
		    (e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6))
			o += snprintf(buf + o, len - o, " type %u code %u",
				      e->icmp_type, e->icmp_code);
	} else if (o < len) {
		o += snprintf(buf + o, len - o, " non-ip");
	}
	if (o < len && e->vlan)
		o += snprintf(buf + o, len - o, " vlan %u", e->vlan);
	if (o < len)
		o += snprintf(buf + o, len - o, " len %u", e->len);
	if (o < len && e->type == SL_EV_SAMPLE)
		snprintf(buf + o, len - o, " 1/%u", e->sample);
}
