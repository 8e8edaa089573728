// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_synproxy: `synproxy add|del|list`, the local TCP ports whose SYNs
 * are answered with SYN cookies (config section `synproxy:`). add and del
 * change the running config's section and apply it (rules and sets stay),
 * so they are all or nothing like apply. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "json.h"
#include "log.h"

static void print_ports(const struct cli *c, const struct sl_syn_cfg *s,
			bool ct_on)
{
	struct sl_syn_cfg e;
	size_t n = sl_syn_count(s);

	sl_syn_effective(s, &e);
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "ports");
		jw_arr_open(&w);
		for (unsigned p = 0; p < 65536; p++)
			if (sl_syn_has(s, p))
				jw_u64(&w, p);
		jw_arr_close(&w);
		jw_key(&w, "mss");
		jw_u64(&w, e.mss4);
		jw_key(&w, "mss6");
		jw_u64(&w, e.mss6);
		jw_key(&w, "wscale");
		jw_u64(&w, sl_syn_wscale(&e));
		jw_key(&w, "conntrack");
		jw_bool(&w, ct_on);
		jw_obj_close(&w);
		jw_end(&w);
		return;
	}
	if (!n) {
		printf("synproxy: no port is protected\n");
		return;
	}
	{
		int len = sl_syn_format(s, ", ", NULL, 0);
		char *buf = malloc((size_t)len + 1);

		if (buf)
			sl_syn_format(s, ", ", buf, (size_t)len + 1);
		printf("synproxy: %zu %s protected: %s\n", n,
		       cli_plural(n, "port", "ports"), buf ? buf : "?");
		free(buf);
	}
	printf("SYN-ACK options: mss %u (IPv6 %u), wscale %u, SACK and "
	       "timestamps when the SYN has them\n",
	       e.mss4, e.mss6, sl_syn_wscale(&e));
}

static int run_syn_list(struct cli *c, int argc, char **argv)
{
	struct sl_config cfg;
	struct sl_ctx ctx;
	int rc;

	(void)argc;
	(void)argv;
	rc = cli_open_ro(c, &ctx);
	if (rc)
		return rc;
	rc = cli_exit(
	    sl_config_read(&ctx, &cfg, SL_READ_NO_SETS | SL_READ_NO_IFACES));
	sl_close(&ctx);
	if (rc)
		return rc;
	print_ports(c, &cfg.syn, cfg.ct.enabled);
	sl_config_free(&cfg);
	return EXIT_OK;
}

/* add (on) or del: the ports of the arguments, then apply. */
static int syn_change(struct cli *c, int argc, char **argv, bool on)
{
	struct sl_apply_report rep;
	struct sl_config cur;
	struct sl_ctx ctx;
	size_t changed = 0;
	unsigned lo, hi;
	int rc;

	for (int i = 0; i < argc; i++)
		if (sl_syn_range(argv[i], &lo, &hi))
			return cli_usage_error(c,
					       "'%s' is not a TCP port (1 to "
					       "65535) or a range such as "
					       "8000-8010",
					       argv[i]);
	rc = cli_open_ro(c, &ctx); /* no state: made by cli_apply */
	if (rc)
		return rc;
	rc = cli_exit(
	    sl_config_read(&ctx, &cur, SL_READ_NO_SETS | SL_READ_NO_IFACES));
	if (rc) {
		sl_close(&ctx);
		return rc;
	}
	cur.has_ifaces = false;
	for (int i = 0; i < argc; i++) {
		sl_syn_range(argv[i], &lo, &hi);
		for (unsigned p = lo; p <= hi; p++) {
			/* del is all or nothing: every port protected */
			if (!on && !sl_syn_has(&cur.syn, p)) {
				sl_config_free(&cur);
				sl_close(&ctx);
				return cli_usage_error(
				    c,
				    "port %u is not protected (nothing was "
				    "changed)",
				    p);
			}
			changed += sl_syn_has(&cur.syn, p) != on;
			sl_syn_set(&cur.syn, p, on);
		}
	}
	if (on && !cur.ct.enabled) {
		sl_config_free(&cur);
		sl_close(&ctx);
		return cli_usage_error(c, "synproxy needs the conntrack stage; "
					  "apply 'conntrack: {enabled: true}' "
					  "first");
	}
	rc = changed ? cli_apply(c, &ctx, &cur, SL_APPLY_KEEP_SETS, &rep)
		     : EXIT_OK;
	if (changed)
		sl_apply_report_free(&rep);
	if (!rc && c->json)
		print_ports(c, &cur.syn, cur.ct.enabled);
	else if (!rc)
		printf("synproxy: %zu %s %s (%zu protected in all)\n", changed,
		       cli_plural(changed, "port", "ports"),
		       on ? "newly protected" : "no longer protected",
		       sl_syn_count(&cur.syn));
	sl_config_free(&cur);
	sl_close(&ctx);
	return rc;
}

static int run_syn_add(struct cli *c, int argc, char **argv)
{
	return syn_change(c, argc, argv, true);
}

static int run_syn_del(struct cli *c, int argc, char **argv)
{
	return syn_change(c, argc, argv, false);
}

static const struct cli_cmd syn_add = {
    .name = "add",
    .args = "PORT...",
    .summary = "Protect local TCP ports (PORT or LO-HI) with SYN cookies",
    .min_args = 1,
    .max_args = -1,
    .arity_err = "'synproxy add' takes one or more ports",
    .run = run_syn_add,
};
static const struct cli_cmd syn_del = {
    .name = "del",
    .args = "PORT...",
    .summary = "Stop protecting ports (PORT or LO-HI; all or none)",
    .min_args = 1,
    .max_args = -1,
    .arity_err = "'synproxy del' takes one or more ports",
    .run = run_syn_del,
};
static const struct cli_cmd syn_list = {
    .name = "list",
    .args = "",
    .summary = "List the protected ports and the SYN-ACK options",
    .min_args = 0,
    .max_args = 0,
    .arity_err = "'synproxy list' takes no arguments",
    .run = run_syn_list,
};
const struct cli_cmd cmd_synproxy = {
    .name = "synproxy",
    .summary = "SYN-flood protection: answer SYNs to local ports with SYN "
	       "cookies from XDP",
    .description =
	"For the protected local TCP ports, the XDP program answers every SYN "
	"itself with a SYN-ACK whose sequence number is a\n"
	"SYN cookie (reason syn-cookie, action tx), so a flood of SYNs from "
	"spoofed sources costs the host no memory and\n"
	"never reaches the listener. The connection exists once the client's "
	"ACK comes back with a valid cookie: it starts\n"
	"an established flow in the connection table and goes on to the rules "
	"(ct state new). An ACK to a protected port of\n"
	"no tracked flow whose cookie does not check is dropped (reason "
	"syn-cookie-invalid). The kernel completes the\n"
	"connection to the listener with netfilter's SYNPROXY, which Sluice "
	"configures itself: the nftables table\n"
	"'inet sluice_synproxy' of the namespace it runs in (untracked SYNs, "
	"SYNPROXY for the ports), and\n"
	"net.netfilter.nf_conntrack_tcp_loose=0. Where no XDP program runs "
	"(TC ingress), SYNPROXY answers the SYNs itself.\n"
	"Needs 'conntrack: {enabled: true}'. IPv4 and IPv6, VLAN-tagged "
	"frames too; the deny set and bans decide before\n"
	"(a denied or banned source gets no answer), the allow set too (its "
	"sources meet the kernel's SYNPROXY). The same\n"
	"as the config section 'synproxy: {ports: [...]}'; add and del apply "
	"the running config with the change (all or\n"
	"nothing), so 'export' shows it.",
    .examples = "$ sluice synproxy add 80 443\n"
		"$ sluice synproxy add 8000-8010\n"
		"$ sluice synproxy list -j\n"
		"$ sluice synproxy del 443",
    .min_args = 1,
    .max_args = -1,
    .needs_root = true,
    .subs =
	(const struct cli_cmd *const[]){&syn_add, &syn_del, &syn_list, NULL},
};
