// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_lb: `lb service add|del`, `lb backend add|del|drain` and `lb list`,
 * the load balancer's services (config section `loadbalancer:`). The
 * changing verbs edit the running config's section and apply it (rules and
 * sets stay), so they are all or nothing like apply. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "json.h"
#include "log.h"

/* A backend's health: up, down, or unchecked (no check has run: up). */
static const char *be_health(const struct sl_lb_backend_cfg *b)
{
	if (!b->checked)
		return "unchecked";
	return b->health.state == SL_LB_DOWN ? "down" : "up";
}

/* The time of its last change, UTC ("2026-12-07T19:40:00Z"). */
static void be_since(const struct sl_lb_backend_cfg *b, char *buf, size_t len)
{
	time_t t = (time_t)(b->health.since / 1000000000ULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
}

/* The connection table: its capacity (0: none made yet) and entries. */
struct conn_use {
	uint32_t max;
	size_t entries;
};

static void print_list(const struct cli *c, const struct sl_lb_cfg *lb,
		       const struct conn_use *u)
{
	char a[80];

	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "conn_table");
		jw_obj_open(&w);
		jw_key(&w, "max");
		jw_u64(&w, u->max);
		jw_key(&w, "entries");
		jw_u64(&w, u->entries);
		jw_obj_close(&w);
		jw_key(&w, "services");
		jw_arr_open(&w);
		for (size_t i = 0; i < lb->n_svc; i++) {
			const struct sl_lb_service_cfg *s = &lb->svc[i];
			struct sl_lb_counts t = {0};

			jw_obj_open(&w);
			sl_lb_endpoint_format(s->vip, s->family, s->port,
					      s->proto, a, sizeof(a));
			jw_key(&w, "service");
			jw_str(&w, a);
			sl_lb_endpoint_format(s->vip, s->family, 0, 0, a,
					      sizeof(a));
			jw_key(&w, "vip");
			jw_str(&w, a);
			jw_key(&w, "port");
			jw_u64(&w, s->port);
			jw_key(&w, "proto");
			jw_str(&w, s->proto == IPPROTO_UDP ? "udp" : "tcp");
			jw_key(&w, "mode");
			jw_str(&w, sl_lb_mode_name(s->mode));
			jw_key(&w, "health");
			jw_str(&w, !s->hc.type			? "none"
				   : s->hc.type == SL_LB_HC_TCP ? "tcp"
								: "http");
			jw_key(&w, "backends");
			jw_arr_open(&w);
			for (size_t j = 0; j < s->n_be; j++) {
				const struct sl_lb_backend_cfg *b = &s->be[j];

				t.packets += b->cnt.packets;
				t.bytes += b->cnt.bytes;
				t.conns += b->cnt.conns;
				jw_obj_open(&w);
				sl_lb_endpoint_format(b->addr, b->family, 0, 0,
						      a, sizeof(a));
				jw_key(&w, "addr");
				jw_str(&w, a);
				jw_key(&w, "port");
				jw_u64(&w, b->port);
				jw_key(&w, "weight");
				jw_u64(&w, b->weight);
				jw_key(&w, "state");
				jw_str(&w, b->weight ? "active" : "drained");
				jw_key(&w, "id");
				jw_u64(&w, b->id);
				jw_key(&w, "health");
				jw_str(&w, be_health(b));
				jw_key(&w, "health_since");
				if (b->checked) {
					be_since(b, a, sizeof(a));
					jw_str(&w, a);
				} else {
					jw_null(&w);
				}
				jw_key(&w, "health_ok");
				jw_u64(&w, b->health.ok);
				jw_key(&w, "health_fail");
				jw_u64(&w, b->health.fail);
				jw_key(&w, "health_checks");
				jw_u64(&w, b->health.checks);
				jw_key(&w, "health_error");
				jw_str(&w, b->health.err);
				jw_key(&w, "packets");
				jw_u64(&w, b->cnt.packets);
				jw_key(&w, "bytes");
				jw_u64(&w, b->cnt.bytes);
				jw_key(&w, "conns");
				jw_u64(&w, b->cnt.conns);
				jw_obj_close(&w);
			}
			jw_arr_close(&w);
			jw_key(&w, "packets");
			jw_u64(&w, t.packets);
			jw_key(&w, "bytes");
			jw_u64(&w, t.bytes);
			jw_key(&w, "conns");
			jw_u64(&w, t.conns);
			jw_obj_close(&w);
		}
		jw_arr_close(&w);
		jw_obj_close(&w);
		jw_end(&w);
		return;
	}
	if (!lb->n_svc) {
		printf("lb: no service\n");
		return;
	}
	printf("connection table: %zu of %u entries\n", u->entries, u->max);
	for (size_t i = 0; i < lb->n_svc; i++) {
		const struct sl_lb_service_cfg *s = &lb->svc[i];

		sl_lb_endpoint_format(s->vip, s->family, s->port, s->proto, a,
				      sizeof(a));
		printf("%s  mode %s  %zu %s", a, sl_lb_mode_name(s->mode),
		       s->n_be, cli_plural(s->n_be, "backend", "backends"));
		if (s->hc.type == SL_LB_HC_HTTP)
			printf("  health http %s every %ums rise %u fall %u",
			       s->hc.path, s->hc.interval_ms, s->hc.rise,
			       s->hc.fall);
		else if (s->hc.type)
			printf("  health tcp every %ums rise %u fall %u",
			       s->hc.interval_ms, s->hc.rise, s->hc.fall);
		printf("\n");
		for (size_t j = 0; j < s->n_be; j++) {
			const struct sl_lb_backend_cfg *b = &s->be[j];

			sl_lb_endpoint_format(b->addr, b->family, b->port, 0, a,
					      sizeof(a));
			printf("  %-40s weight %-4u %-7s packets %llu bytes "
			       "%llu conns %llu\n",
			       a, b->weight, b->weight ? "active" : "drained",
			       (unsigned long long)b->cnt.packets,
			       (unsigned long long)b->cnt.bytes,
			       (unsigned long long)b->cnt.conns);
			if (!b->checked)
				continue;
			be_since(b, a, sizeof(a));
			printf("    health %s since %s (%u ok, %u failed in a "
			       "row)%s%s\n",
			       be_health(b), a, b->health.ok, b->health.fail,
			       b->health.err[0] ? ": " : "", b->health.err);
		}
	}
}

static int run_lb_list(struct cli *c, int argc, char **argv)
{
	struct sl_lb_cfg lb;
	struct conn_use u;
	struct sl_ctx ctx;
	int rc;

	(void)argc;
	(void)argv;
	rc = cli_open_ro(c, &ctx);
	if (rc)
		return rc;
	rc = cli_exit(sl_lb_read(&ctx, &lb));
	if (!rc && (rc = cli_exit(sl_lb_conn_usage(&ctx, &u.max, &u.entries))))
		sl_lb_cfg_free(&lb);
	sl_close(&ctx);
	if (rc)
		return rc;
	print_list(c, &lb, &u);
	sl_lb_cfg_free(&lb);
	return EXIT_OK;
}

/* What a changing verb does to the running section. */
enum lb_op { SVC_ADD, SVC_DEL, BE_ADD, BE_DEL, BE_DRAIN };

static int lb_edit(struct cli *c, struct sl_lb_cfg *lb, enum lb_op op,
		   char **argv)
{
	struct sl_lb_service_cfg key = {0}, *s;
	struct sl_lb_backend_cfg b = {0};
	const struct sl_lb_backend_cfg *o = NULL;
	char err[160];
	int mode = SL_LB_NAT;

	if (sl_lb_endpoint_parse(argv[0], true, key.vip, &key.family, &key.port,
				 &key.proto, err, sizeof(err)))
		return cli_usage_error(c, "%s", err);
	if (op >= BE_ADD &&
	    sl_lb_endpoint_parse(argv[1], false, b.addr, &b.family, &b.port,
				 NULL, err, sizeof(err)))
		return cli_usage_error(c, "%s", err);
	s = sl_lb_find(lb, key.vip, key.family, key.port, key.proto);
	if (op != SVC_ADD && !s)
		return cli_usage_error(c, "no service %s", argv[0]);
	for (size_t j = 0; s && op >= BE_ADD && j < s->n_be; j++)
		if (s->be[j].port == b.port &&
		    !memcmp(s->be[j].addr, b.addr, 16))
			o = &s->be[j];
	switch (op) {
	case SVC_ADD:
		if (cli_opt(c, "mode") &&
		    (mode = sl_lb_mode_parse(cli_opt(c, "mode"))) < 0)
			return cli_usage_error(c,
					       "--mode must be nat, dsr-l2 or "
					       "dsr-ipip");
		if (s && (!cli_opt(c, "mode") || s->mode == mode))
			return 0;
		if (s) {
			s->mode = (uint8_t)mode;
			return 0;
		}
		if (lb->n_svc >= SL_LB_SVC_MAX)
			return cli_usage_error(c, "at most %u services",
					       SL_LB_SVC_MAX);
		{
			struct sl_lb_service_cfg *v = realloc(
			    lb->svc, (lb->n_svc + 1) * sizeof(*lb->svc));

			if (!v)
				return cli_exit(-ENOMEM);
			lb->svc = v;
		}
		key.mode = (uint8_t)mode;
		lb->svc[lb->n_svc++] = key;
		return 0;
	case SVC_DEL:
		free(s->be);
		*s = lb->svc[--lb->n_svc];
		return 0;
	case BE_ADD:
		if (b.family != s->family)
			return cli_usage_error(c,
					       "backend %s is not of the VIP's "
					       "address family",
					       argv[1]);
		b.weight = (uint32_t)cli_opt_long(c, "weight", SL_LB_WEIGHT_DEF,
						  0, SL_MAGLEV_MAX_WEIGHT);
		if (o) {
			((struct sl_lb_backend_cfg *)o)->weight = b.weight;
			return 0;
		}
		{
			struct sl_lb_backend_cfg *v =
			    realloc(s->be, (s->n_be + 1) * sizeof(*s->be));

			if (!v)
				return cli_exit(-ENOMEM);
			s->be = v;
		}
		s->be[s->n_be++] = b;
		return 0;
	case BE_DEL:
	case BE_DRAIN:
		if (!o)
			return cli_usage_error(c,
					       "service %s has no backend %s",
					       argv[0], argv[1]);
		if (op == BE_DRAIN)
			((struct sl_lb_backend_cfg *)o)->weight = 0;
		else
			*(struct sl_lb_backend_cfg *)o = s->be[--s->n_be];
		return 0;
	}
	return 0;
}

static int lb_change(struct cli *c, enum lb_op op, char **argv)
{
	struct sl_apply_report rep;
	struct sl_config cur;
	struct sl_lb_cfg before;
	struct sl_ctx ctx;
	int rc;

	/* a bad --weight is a usage error before anything opens */
	cli_opt_long(c, "weight", 1, 0, SL_MAGLEV_MAX_WEIGHT);
	/* adding without state: private maps, made state by cli_apply only
	 * once the change passed */
	rc = op == SVC_ADD || op == BE_ADD ? cli_open_ro(c, &ctx)
					   : cli_open(c, &ctx, false);
	if (rc)
		return rc;
	rc = cli_exit(
	    sl_config_read(&ctx, &cur, SL_READ_NO_SETS | SL_READ_NO_IFACES));
	if (rc) {
		sl_close(&ctx);
		return rc;
	}
	cur.has_ifaces = false;
	rc = cli_exit(sl_lb_cfg_copy(&before, &cur.lb));
	if (!rc)
		rc = lb_edit(c, &cur.lb, op, argv);
	if (!rc && !sl_lb_cfg_equal(&before, &cur.lb))
		rc = cli_apply(c, &ctx, &cur, SL_APPLY_KEEP_SETS, &rep);
	if (!rc && c->json) {
		struct sl_lb_cfg now;
		struct conn_use u;

		if (!sl_lb_read(&ctx, &now)) {
			if (!sl_lb_conn_usage(&ctx, &u.max, &u.entries))
				print_list(c, &now, &u);
			sl_lb_cfg_free(&now);
		}
	} else if (!rc) {
		static const char *const done[] = {
		    [SVC_ADD] = "service set",
		    [SVC_DEL] = "service removed",
		    [BE_ADD] = "backend set",
		    [BE_DEL] = "backend removed",
		    [BE_DRAIN] = "backend drained",
		};

		printf("lb: %s %s%s%s\n", done[op], argv[0],
		       op >= BE_ADD ? " " : "", op >= BE_ADD ? argv[1] : "");
	}
	sl_lb_cfg_free(&before);
	sl_config_free(&cur);
	sl_close(&ctx);
	return rc;
}

/* --write, --reload, --socket: the node verbs' only. */
static bool node_opts(const struct cli *c)
{
	return cli_opt(c, "write") || cli_opt(c, "reload") ||
	       cli_opt(c, "socket");
}

/* `lb service add|del VIP:PORT/PROTO` */
static int run_lb_service(struct cli *c, int argc, char **argv)
{
	if (node_opts(c))
		return cli_usage_error(c, "--write, --reload and --socket go "
					  "with 'lb bird' and the node verbs");
	if (argc == 2 && !strcmp(argv[0], "add"))
		return lb_change(c, SVC_ADD, argv + 1);
	if (argc == 2 && !strcmp(argv[0], "del")) {
		if (cli_opt(c, "mode") || cli_opt(c, "weight"))
			return cli_usage_error(c, "'lb service del' takes no "
						  "options");
		return lb_change(c, SVC_DEL, argv + 1);
	}
	return cli_usage_error(c, "expected 'lb service add VIP:PORT/PROTO "
				  "[--mode M]' or 'lb service del "
				  "VIP:PORT/PROTO'");
}

/* `lb backend add|del|drain VIP:PORT/PROTO ADDR:PORT` */
static int run_lb_backend(struct cli *c, int argc, char **argv)
{
	enum lb_op op;

	if (node_opts(c))
		return cli_usage_error(c, "--write, --reload and --socket go "
					  "with 'lb bird' and the node verbs");
	if (argc != 3)
		return cli_usage_error(c, "expected 'lb backend add|del|drain "
					  "VIP:PORT/PROTO ADDR:PORT'");
	if (!strcmp(argv[0], "add"))
		op = BE_ADD;
	else if (!strcmp(argv[0], "del"))
		op = BE_DEL;
	else if (!strcmp(argv[0], "drain"))
		op = BE_DRAIN;
	else
		return cli_usage_error(c,
				       "'lb backend %s': expected add, del "
				       "or drain",
				       argv[0]);
	if (cli_opt(c, "mode") || (op != BE_ADD && cli_opt(c, "weight")))
		return cli_usage_error(c, "--weight goes with 'lb backend "
					  "add' only, --mode with 'lb service "
					  "add'");
	return lb_change(c, op, argv + 1);
}

static const struct cli_opt lb_opts[] = {
    {"mode", 0, "MODE", "lb service add: nat (default), dsr-l2 or dsr-ipip"},
    {"weight", 0, "N",
     "lb backend add: Maglev weight, 0 to 1000 (default 1; 0: drained)"},
    {"write", 'w', "FILE",
     "lb bird, drain-node, undrain-node: write the BIRD snippet to FILE "
     "(aside, then renamed; untouched when it holds the same)"},
    {"reload", 0, NULL,
     "With --write: when the file changed, 'birdc configure' so BIRD "
     "announces or withdraws at once"},
    {"socket", 0, "PATH",
     "With --reload: BIRD's control socket (default /run/bird/bird.ctl)"},
    {0},
};

static const struct cli_cmd lb_service = {
    .name = "service",
    .args = "add|del VIP:PORT/PROTO",
    .summary = "Add (or change the mode of) a service, or remove one",
    .opts = lb_opts,
    .min_args = 2,
    .max_args = 2,
    .arity_err = "'lb service' takes add|del and VIP:PORT/PROTO",
    .run = run_lb_service,
};
static const struct cli_cmd lb_backend = {
    .name = "backend",
    .args = "add|del|drain VIP:PORT/PROTO ADDR:PORT",
    .summary = "Add (or reweigh), remove or drain a backend of a service",
    .opts = lb_opts,
    .min_args = 3,
    .max_args = 3,
    .arity_err = "'lb backend' takes add|del|drain, VIP:PORT/PROTO and "
		 "ADDR:PORT",
    .run = run_lb_backend,
};
static const struct cli_cmd lb_list = {
    .name = "list",
    .args = "",
    .summary = "List the services and backends with their health and "
	       "counters, and the connection table's use",
    .min_args = 0,
    .max_args = 0,
    .arity_err = "'lb list' takes no arguments",
    .run = run_lb_list,
};
const struct cli_cmd cmd_lb = {
    .name = "lb",
    .summary = "XDP L4 load balancer: services VIP:PORT/PROTO, Maglev over "
	       "their backends",
    .description =
	"A TCP or UDP packet to a service's VIP:PORT/PROTO goes to one of its "
	"backends, chosen by Maglev consistent hashing\n"
	"over the 5-tuple (weights honoured) and kept in a connection table, "
	"so an established flow keeps its backend\n"
	"when backends change: removing a backend moves only its flows, "
	"'drain' (weight 0) takes no new flows and keeps the\n"
	"existing ones. Modes: nat (destination rewritten to the backend, "
	"replies rewritten back to the VIP; the backends\n"
	"route through this node), dsr-l2 (destination MAC rewritten; "
	"backends hold the VIP on lo and answer directly)\n"
	"and dsr-ipip (IPv4-in-IPv4 / IPv6-in-IPv6 to the backend, from the "
	"VIP; backends run 'sluice attach IFACE --decap'\n"
	"and hold the VIP on lo).\n"
	"The node forwards (net.ipv4.ip_forward=1, "
	"net.ipv6.conf.all.forwarding=1). IPv6 in brackets. The same as the "
	"config\n"
	"section 'loadbalancer:'; the changing verbs apply the running config "
	"with the change (all or nothing), so 'export'\n"
	"shows it. A service's 'health:' check is run by 'sluice daemon': a "
	"backend found down leaves the table and its\n"
	"flows move until it is up again. Scale-out behind ECMP: 'lb bird' "
	"writes the BIRD snippet of the VIPs to announce\n"
	"and 'lb drain-node' withdraws them "
	"(docs/loadbalancer.md).",
    .examples =
	"$ sluice lb service add 198.18.100.1:80/tcp --mode nat\n"
	"$ sluice lb backend add 198.18.100.1:80/tcp 198.18.1.10:8080 "
	"--weight 2\n"
	"$ sluice lb backend drain 198.18.100.1:80/tcp 198.18.1.10:8080\n"
	"$ sluice lb service add [2001:db8::100]:80/tcp --mode dsr-l2\n"
	"$ sluice lb list -j",
    .opts = lb_opts,
    .min_args = 1,
    .max_args = -1,
    .needs_root = true,
    .subs = (const struct cli_cmd *const[]){&lb_service, &lb_backend, &lb_list,
					    &lb_bird, &lb_drain_node,
					    &lb_undrain_node, NULL},
    .opts_err = "--mode goes with 'lb service add', --weight with 'lb "
		"backend add'",
};
