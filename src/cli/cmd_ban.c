// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_ban: `ban add|del|list|flush`, the banned source prefixes (runtime
 * state: apply, export and upgrades leave them alone; they expire by
 * themselves). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "json.h"
#include "log.h"
#include "units.h"

#define NS_PER_S    SL_NS_PER_S
#define BAN_DEFAULT "1h"

/* Seconds until a ban expires, rounded up (0: permanent, never shown). */
static unsigned long long expires_in(const struct sl_ban *b, uint64_t now)
{
	return b->expires > now ? (b->expires - now + NS_PER_S - 1) / NS_PER_S
				: 0;
}

/* The prefixes of the arguments, validated and de-duplicated. */
static int ban_prefixes(struct cli *c, int argc, char **argv,
			struct sl_prefix **p, size_t *n)
{
	int rc = cli_prefixes(c, argc, argv, p, n);

	if (!rc)
		*n = cli_prefixes_dedup(*p, *n);
	return rc;
}

static int run_ban_add(struct cli *c, int argc, char **argv)
{
	const char *dur = cli_opt(c, "for") ? cli_opt(c, "for") : BAN_DEFAULT;
	long long secs = sl_duration_parse(dur, true);
	struct sl_prefix *p = NULL;
	struct sl_ctx ctx;
	size_t n = 0, added = 0;
	int rc, err;

	if (secs < 0)
		return cli_usage_error(
		    c,
		    "--for: expected a duration such as 30s, 10m, 2h or 1d "
		    "(at most 3650d) or 'permanent', not '%s'",
		    dur);
	rc = ban_prefixes(c, argc, argv, &p, &n);
	if (rc)
		return rc;
	/* The lockout guard, as for block: a ban of every address. */
	for (size_t i = 0; i < n; i++)
		if (!p[i].plen && !cli_opt(c, "force")) {
			bool v4 = p[i].family == AF_INET;

			free(p);
			return cli_usage_error(
			    c,
			    "%s would drop every %s packet (lockout guard): "
			    "add --force to ban it anyway",
			    v4 ? "0.0.0.0/0" : "::/0", v4 ? "IPv4" : "IPv6");
		}
	if (sl_check_privileges()) {
		free(p);
		return EXIT_RUNTIME;
	}
	err = sl_open(&ctx, c->bpffs, true);
	if (err) {
		free(p);
		return cli_exit(err);
	}
	err = sl_ban_add(&ctx, p, n, (uint64_t)secs * NS_PER_S, &added);
	sl_close(&ctx);
	free(p);
	if (!err && c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "added");
		jw_u64(&w, added);
		jw_key(&w, "renewed");
		jw_u64(&w, n - added);
		jw_key(&w, "expires_in");
		if (secs)
			jw_u64(&w, (uint64_t)secs);
		else
			jw_null(&w);
		jw_obj_close(&w);
		jw_end(&w);
	} else if (!err) {
		/* a bare number is seconds: say so */
		bool bare = secs && dur[strlen(dur) - 1] >= '0' &&
			    dur[strlen(dur) - 1] <= '9';

		printf("banned %zu %s %s%s%s (%zu new, %zu renewed)\n", n,
		       cli_plural(n, "prefix", "prefixes"), secs ? "for " : "",
		       secs ? dur : "permanently", bare ? "s" : "", added,
		       n - added);
	}
	return cli_exit(err);
}

static int run_ban_del(struct cli *c, int argc, char **argv)
{
	struct sl_prefix *p = NULL;
	struct sl_ctx ctx;
	size_t n = 0;
	int rc, err;

	rc = ban_prefixes(c, argc, argv, &p, &n);
	if (rc)
		return rc;
	if (sl_check_privileges()) {
		free(p);
		return EXIT_RUNTIME;
	}
	err = sl_open(&ctx, c->bpffs, false);
	if (err == -ENOENT) {
		char buf[64];

		sl_prefix_format(&p[0], buf, sizeof(buf));
		pr_err("%s is not banned (Sluice has no state here)", buf);
		free(p);
		return EXIT_USAGE;
	}
	if (err) {
		free(p);
		return cli_exit(err);
	}
	err = sl_ban_del(&ctx, p, n);
	sl_close(&ctx);
	free(p);
	if (!err && c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "removed");
		jw_u64(&w, n);
		jw_obj_close(&w);
		jw_end(&w);
	} else if (!err) {
		printf("lifted %zu %s\n", n, cli_plural(n, "ban", "bans"));
	}
	return cli_exit(err);
}

static void print_bans(const struct cli *c, const struct sl_ban *b, size_t n)
{
	uint64_t now = sl_ban_now();
	char buf[64];

	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_arr_open(&w);
		for (size_t i = 0; i < n; i++) {
			sl_prefix_format(&b[i].prefix, buf, sizeof(buf));
			jw_obj_open(&w);
			jw_key(&w, "prefix");
			jw_str(&w, buf);
			jw_key(&w, "expires_in");
			if (b[i].expires)
				jw_u64(&w, expires_in(&b[i], now));
			else
				jw_null(&w);
			jw_key(&w, "packets");
			jw_u64(&w, b[i].packets);
			jw_key(&w, "bytes");
			jw_u64(&w, b[i].bytes);
			jw_obj_close(&w);
		}
		jw_arr_close(&w);
		jw_end(&w);
		return;
	}
	printf("%-43s %12s %14s %16s\n", "PREFIX", "EXPIRES-IN", "PACKETS",
	       "BYTES");
	for (size_t i = 0; i < n; i++) {
		char exp[32];

		sl_prefix_format(&b[i].prefix, buf, sizeof(buf));
		if (b[i].expires)
			snprintf(exp, sizeof(exp), "%llus",
				 expires_in(&b[i], now));
		else
			snprintf(exp, sizeof(exp), "never");
		printf("%-43s %12s %14llu %16llu\n", buf, exp,
		       (unsigned long long)b[i].packets,
		       (unsigned long long)b[i].bytes);
	}
}

static int run_ban_list(struct cli *c, int argc, char **argv)
{
	struct sl_ban *b = NULL;
	struct sl_ctx ctx;
	size_t n = 0;
	int err;

	(void)argc;
	(void)argv;
	/* No state: empty private tables, nothing is created. */
	err = cli_open_ro(c, &ctx);
	if (err)
		return err;
	err = sl_ban_list(&ctx, &b, &n);
	sl_close(&ctx);
	if (err)
		return cli_exit(err);
	print_bans(c, b, n);
	free(b);
	return EXIT_OK;
}

static int run_ban_flush(struct cli *c, int argc, char **argv)
{
	struct sl_ctx ctx;
	size_t n = 0;
	int err;

	(void)argc;
	(void)argv;
	/* No state: no bans, and nothing is created. */
	err = cli_open_ro(c, &ctx);
	if (err)
		return err;
	err = sl_ban_flush(&ctx, &n);
	sl_close(&ctx);
	if (!err && c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "flushed");
		jw_u64(&w, n);
		jw_obj_close(&w);
		jw_end(&w);
	} else if (!err) {
		printf("bans: flushed (%zu %s removed)\n", n,
		       cli_plural(n, "ban", "bans"));
	}
	return cli_exit(err);
}

static const struct cli_opt ban_opts[] = {
    {"for", 0, "DURATION",
     "How long the bans of 'ban add' last: a number and a unit, s, m, h or "
     "d (30s, 10m, 2h, 1d; a bare number is seconds; at most 3650d), or "
     "'permanent' (default: " BAN_DEFAULT "). A prefix banned already gets "
     "the new expiry and keeps its counters."},
    {"force", 0, NULL,
     "Ban 0.0.0.0/0 or ::/0 anyway (every source of the family; refused "
     "without --force: the lockout guard)."},
    {},
};

static const struct cli_cmd ban_add = {
    .name = "add",
    .args = "PREFIX...",
    .summary =
	"Ban source prefixes for --for DURATION (default " BAN_DEFAULT ")",
    .opts = ban_opts,
    .min_args = 1,
    .max_args = -1,
    .arity_err = "'ban add' takes one or more prefixes",
    .run = run_ban_add,
};

static const struct cli_cmd ban_del = {
    .name = "del",
    .args = "PREFIX...",
    .summary = "Lift the bans of prefixes (all or none)",
    .min_args = 1,
    .max_args = -1,
    .arity_err = "'ban del' takes one or more banned prefixes",
    .run = run_ban_del,
};

static const struct cli_cmd ban_list = {
    .name = "list",
    .args = "",
    .summary = "List the active bans: prefix, seconds left, packets, bytes",
    .min_args = 0,
    .max_args = 0,
    .arity_err = "'ban list' takes no arguments",
    .run = run_ban_list,
};

static const struct cli_cmd ban_flush = {
    .name = "flush",
    .args = "",
    .summary = "Lift every ban",
    .min_args = 0,
    .max_args = 0,
    .arity_err = "'ban flush' takes no arguments",
    .run = run_ban_flush,
};

const struct cli_cmd cmd_ban = {
    .name = "ban",
    .summary = "Ban source prefixes for a while (temporary bans)",
    .description =
	"A banned source (an IPv4 or IPv6 prefix) has every packet it sends "
	"dropped at ingress with reason banned, until the\n"
	"ban expires: the datapath treats an expired ban as absent, so bans "
	"end by themselves without any command or\n"
	"daemon. The allow set stays above the bans (an allowed source is "
	"never banned); the deny set decides before them.\n"
	"Bans are runtime state, apart from the config: apply, export and "
	"upgrades leave them as they are, detach keeps\n"
	"them, reset removes them. 'ban add' and 'ban del' are all or "
	"nothing: a prefix that cannot be banned or is not\n"
	"banned changes nothing. Each family holds 65536 bans. 'ban list' "
	"shows the active bans with the seconds left\n"
	"(null in JSON for a permanent ban) and the packets and bytes each "
	"dropped; expired bans are hidden, and 'ban add'\n"
	"removes them. 'attach --stages' without bans leaves the stage out.",
    .opts = ban_opts,
    .examples = "$ sluice ban add 198.18.0.7 2001:db8:bad::/48 --for 10m\n"
		"$ sluice ban add 198.19.0.0/24 --for permanent\n"
		"$ sluice ban list -j\n"
		"$ sluice ban del 198.18.0.7\n"
		"$ sluice ban flush",
    .min_args = 1,
    .max_args = -1,
    .needs_root = true,
    .subs = (const struct cli_cmd *const[]){&ban_add, &ban_del, &ban_list,
					    &ban_flush, NULL},
    .opts_err = "--for and --force go with 'ban add'",
};
