// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_attach: attach, detach, status and reset. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "log.h"

static int run_attach(struct cli *c, int argc, char **argv)
{
	const char *mode = cli_opt(c, "mode");
	struct sl_features feat;
	enum sl_xdp_mode m;
	struct sl_ctx ctx;
	int rc, err;

	(void)argc;
	if (!mode || !strcmp(mode, "native"))
		m = SL_MODE_NATIVE;
	else if (!strcmp(mode, "generic"))
		m = SL_MODE_GENERIC;
	else
		return cli_usage_error(
		    c, "--mode is 'native' or 'generic', not '%s'", mode);
	sl_features_default(&feat);
	if (cli_opt(c, "pass-malformed"))
		feat.drop_malformed = 0;
	/* Refuse a bad interface before any state is made. */
	if (!if_nametoindex(argv[0])) {
		pr_err("no interface named '%s' in this network namespace",
		       argv[0]);
		return EXIT_USAGE;
	}
	rc = cli_open(c, &ctx, true);
	if (rc)
		return rc;
	err = sl_attach_xdp(&ctx, argv[0], m, &feat);
	sl_close(&ctx);
	if (!err && !c->json)
		printf("attached to %s (xdp, %s mode)\n", argv[0],
		       m == SL_MODE_NATIVE ? "native" : "generic");
	return cli_exit(err);
}

const struct cli_cmd cmd_attach = {
    .name = "attach",
    .args = "IFACE",
    .summary = "Load Sluice if needed and attach its XDP program to IFACE",
    .description =
	"Attaches the XDP firewall to IFACE through a bpf_link pinned "
	"under <bpffs>/sluice/links/IFACE, so it stays attached after\n"
	"the command exits. Every attached interface shares one set of "
	"tables (the allow/deny sets, the counters).\n"
	"Attaching an interface that is already attached in the same mode "
	"replaces the program atomically (no packet is missed);\n"
	"in the other mode it is an error: detach first. Each attach loads "
	"the current program and moves every attached interface\n"
	"to it, so the feature switches (--pass-malformed) of the last "
	"attach apply to all interfaces.",
    .opts =
	(const struct cli_opt[]){
	    {"mode", 'm', "MODE",
	     "native (default: in the driver, fastest) or generic "
	     "(in the stack, works on any interface)."},
	    {"pass-malformed", 0, NULL,
	     "Count malformed frames under their malformed-* reason "
	     "but pass them (default: drop). A frame with a bad L4 header "
	     "from a denied source is still dropped."},
	    {},
	},
    .examples = "$ sluice attach eth0\n"
		"$ sluice attach --mode generic wlan0\n"
		"$ sluice --bpffs /run/sluice/bpf attach veth0",
    .min_args = 1,
    .max_args = 1,
    .needs_root = true,
    .run = run_attach,
};

static int run_detach(struct cli *c, int argc, char **argv)
{
	struct sl_ctx ctx;
	int err;

	(void)argc;
	if (sl_check_privileges())
		return EXIT_RUNTIME;
	err = sl_open(&ctx, c->bpffs, false);
	if (err == -ENOENT)
		pr_err("%s is not attached (Sluice has no state here)",
		       argv[0]);
	if (err)
		return err == -ENOENT ? EXIT_USAGE : cli_exit(err);
	err = sl_detach(&ctx, argv[0]);
	sl_close(&ctx);
	if (!err && !c->json)
		printf("detached from %s\n", argv[0]);
	return cli_exit(err);
}

const struct cli_cmd cmd_detach = {
    .name = "detach",
    .args = "IFACE",
    .summary = "Detach Sluice from IFACE (tables and counters are kept)",
    .description = "Removes the pinned link of IFACE, which detaches the "
		   "program. The sets and counters stay until 'sluice reset'.",
    .opts = (const struct cli_opt[]){{}},
    .examples = "$ sluice detach eth0",
    .min_args = 1,
    .max_args = 1,
    .needs_root = true,
    .run = run_detach,
};

static void features_list(const struct sl_attachment *a, char *buf, size_t len)
{
	if (!a->feat_known) {
		snprintf(buf, len, "unknown");
		return;
	}
	snprintf(buf, len, "%s,sets",
		 a->feat.drop_malformed ? "malformed-drop" : "malformed-pass");
}

static int run_status(struct cli *c, int argc, char **argv)
{
	struct sl_attachment *a = NULL;
	struct sl_ctx ctx;
	size_t n = 0;
	int err;

	(void)argc;
	(void)argv;
	if (sl_check_privileges())
		return EXIT_RUNTIME;
	err = sl_open(&ctx, c->bpffs, false);
	if (err && err != -ENOENT)
		return EXIT_RUNTIME;
	if (!err) {
		err = sl_attachments(&ctx, &a, &n);
		if (err) {
			pr_err("cannot list the attachments under %s: %s",
			       ctx.dir, strerror(-err));
			sl_close(&ctx);
			return EXIT_RUNTIME;
		}
	}
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "bpffs");
		jw_str(&w, ctx.bpffs);
		jw_key(&w, "attachments");
		jw_arr_open(&w);
		for (size_t i = 0; i < n; i++) {
			jw_obj_open(&w);
			jw_key(&w, "ifname");
			jw_str(&w, a[i].ifname);
			jw_key(&w, "ifindex");
			jw_u64(&w, a[i].ifindex);
			jw_key(&w, "hook");
			jw_str(&w, a[i].hook);
			jw_key(&w, "mode");
			jw_str(&w, a[i].mode);
			jw_key(&w, "prog_id");
			jw_u64(&w, a[i].prog_id);
			jw_key(&w, "link_id");
			jw_u64(&w, a[i].link_id);
			jw_key(&w, "features");
			jw_arr_open(&w);
			if (a[i].feat_known) {
				jw_str(&w, a[i].feat.drop_malformed
					       ? "malformed-drop"
					       : "malformed-pass");
				jw_str(&w, "sets");
			}
			jw_arr_close(&w);
			jw_obj_close(&w);
		}
		jw_arr_close(&w);
		jw_obj_close(&w);
		jw_end(&w);
	} else {
		printf("state: %s/%s\n", ctx.bpffs, SL_PIN_SUBDIR);
		if (!n)
			printf("not attached to any interface\n");
		else
			printf("%-16s %-5s %-8s %8s %8s  %s\n", "IFACE", "HOOK",
			       "MODE", "PROG_ID", "LINK_ID", "FEATURES");
		for (size_t i = 0; i < n; i++) {
			char feats[64];

			features_list(&a[i], feats, sizeof(feats));
			printf("%-16s %-5s %-8s %8u %8u  %s%s\n", a[i].ifname,
			       a[i].hook, a[i].mode, a[i].prog_id, a[i].link_id,
			       feats, a[i].ifindex ? "" : " (interface gone)");
		}
	}
	free(a);
	sl_close(&ctx);
	return EXIT_OK;
}

const struct cli_cmd cmd_status = {
    .name = "status",
    .args = "",
    .summary = "Show where Sluice is attached, program ids and features",
    .description =
	"Lists every attachment recorded under <bpffs>/sluice: interface, "
	"hook, mode, program and link ids, and the features the\n"
	"program was loaded with. An interface that no longer exists is "
	"marked '(interface gone)'.",
    .opts = (const struct cli_opt[]){{}},
    .examples =
	"$ sluice status\n$ sluice status -j | jq '.attachments[].prog_id'",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_status,
};

static int run_reset(struct cli *c, int argc, char **argv)
{
	int err;

	(void)argc;
	(void)argv;
	if (sl_check_privileges())
		return EXIT_RUNTIME;
	err = sl_reset(c->bpffs);
	if (err) {
		pr_err("reset incomplete: %s", strerror(-err));
		return EXIT_RUNTIME;
	}
	if (!c->json)
		printf("detached everywhere; all Sluice pins removed\n");
	return EXIT_OK;
}

const struct cli_cmd cmd_reset = {
    .name = "reset",
    .args = "",
    .summary = "Detach everything and remove all pins (drops all state)",
    .description = "Removes every link, map and folder under "
		   "<bpffs>/sluice: all interfaces are detached, the sets "
		   "and counters are gone.",
    .opts = (const struct cli_opt[]){{}},
    .examples = "$ sluice reset",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_reset,
};
