// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_sets: block/unblock (deny set) and allow/unallow (allow set). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "json.h"
#include "config.h"
#include "log.h"
#include "names.h"

int cli_prefixes(struct cli *c, int argc, char **argv, struct sl_prefix **out,
		 size_t *n)
{
	const char *file = cli_opt(c, "file");
	struct sl_prefix *fp = NULL, *v;
	size_t fn = 0;
	int err;

	if (file) {
		err = sl_prefix_file_read(file, &fp, &fn);
		if (err)
			return cli_exit(err);
	}
	v = malloc((fn + argc + 1) * sizeof(*v));
	if (!v) {
		free(fp);
		pr_err("out of memory");
		return EXIT_RUNTIME;
	}
	for (int i = 0; i < argc; i++) {
		char msg[128];

		if (sl_prefix_parse(argv[i], &v[i], msg, sizeof(msg))) {
			free(fp);
			free(v);
			return cli_usage_error(c, "invalid prefix '%s': %s",
					       argv[i], msg);
		}
	}
	if (fn)
		memcpy(v + argc, fp, fn * sizeof(*v));
	free(fp);
	*out = v;
	*n = argc + fn;
	return EXIT_OK;
}

static int prefix_cmp(const void *x, const void *y)
{
	const struct sl_prefix *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

size_t cli_prefixes_dedup(struct sl_prefix *p, size_t n)
{
	size_t o = 0;

	if (n < 2)
		return n;
	qsort(p, n, sizeof(*p), prefix_cmp);
	for (size_t i = 0; i < n; i++)
		if (!o || prefix_cmp(&p[o - 1], &p[i]))
			p[o++] = p[i];
	return o;
}

void cli_jw_entry(struct jw *w, const struct sl_set_entry *e,
		  const double *rate)
{
	char buf[64];

	sl_prefix_format(&e->prefix, buf, sizeof(buf));
	jw_obj_open(w);
	jw_key(w, "set");
	jw_str(w, sl_set_kind_name(e->kind));
	jw_key(w, "dir");
	jw_str(w, sl_dir_name(e->dir));
	jw_key(w, "prefix");
	jw_str(w, buf);
	jw_key(w, "packets");
	jw_u64(w, e->packets);
	jw_key(w, "bytes");
	jw_u64(w, e->bytes);
	cli_jw_rate(w, rate);
	jw_obj_close(w);
}

void cli_entry_row(const struct sl_set_entry *e)
{
	char buf[64];

	if (!e) {
		printf("%-5s %-3s %-43s %14s %16s\n", "SET", "DIR", "PREFIX",
		       "PACKETS", "BYTES");
		return;
	}
	sl_prefix_format(&e->prefix, buf, sizeof(buf));
	printf("%-5s %-3s %-43s %14llu %16llu\n", sl_set_kind_name(e->kind),
	       sl_dir_name(e->dir), buf, (unsigned long long)e->packets,
	       (unsigned long long)e->bytes);
}

static void print_entries(struct cli *c, const struct sl_set_entry *e, size_t n)
{
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_arr_open(&w);
		for (size_t i = 0; i < n; i++)
			cli_jw_entry(&w, &e[i], NULL);
		jw_arr_close(&w);
		jw_end(&w);
		return;
	}
	cli_entry_row(NULL);
	for (size_t i = 0; i < n; i++)
		cli_entry_row(&e[i]);
}

static int list_set(struct cli *c, int kind)
{
	struct sl_set_entry *e = NULL;
	struct sl_ctx ctx;
	size_t n = 0;
	int err;

	if (sl_check_privileges())
		return EXIT_RUNTIME;
	err = sl_open(&ctx, c->bpffs, false);
	if (err && err != -ENOENT)
		return EXIT_RUNTIME;
	if (!err) {
		err = sl_set_list(&ctx, kind, &e, &n);
		sl_close(&ctx);
		if (err) {
			pr_err("cannot list the %s set: %s",
			       sl_set_kind_name(kind), strerror(-err));
			return EXIT_RUNTIME;
		}
	}
	print_entries(c, e, n);
	free(e);
	return EXIT_OK;
}

/* Empties one set: the running config without that set's entries, applied
 * whole (built off to the side, one switch), the other set and the rules
 * kept. */
static int flush_set(struct cli *c, int kind)
{
	struct sl_apply_report rep;
	struct sl_config cur;
	struct sl_ctx ctx;
	size_t n = 0, kept = 0;
	int err;

	if (sl_check_privileges())
		return EXIT_RUNTIME;
	/* No state: nothing to flush, and nothing is created. */
	err = sl_open(&ctx, c->bpffs, false);
	if (err && err != -ENOENT)
		return cli_exit(err);
	memset(&cur, 0, sizeof(cur));
	if (!err)
		err = sl_config_read(&ctx, &cur, SL_READ_NO_IFACES);
	else
		err = 0; /* no state: an empty set */
	if (err) {
		sl_close(&ctx);
		return cli_exit(err);
	}
	cur.has_ifaces = false;
	for (size_t i = 0; i < cur.n_sets; i++)
		if (cur.sets[i].kind == kind)
			n++;
		else
			cur.sets[kept++] = cur.sets[i];
	cur.n_sets = kept;
	if (n && kind == SL_SET_ALLOW && cur.n_mgmt && !cli_opt(c, "force")) {
		/* The lockout guard: allow entries may be what lets the
		 * management path through a drop policy. */
		struct sl_config run;
		struct sl_srcpos pos;
		char what[192];
		bool hit;

		err = sl_config_read(&ctx, &run, SL_READ_NO_IFACES);
		hit = !err &&
		      sl_config_lockout(&cur, &run, what, sizeof(what), &pos);
		if (!err)
			sl_config_free(&run);
		if (err || hit) {
			sl_config_free(&cur);
			sl_close(&ctx);
			return err ? cli_exit(err)
				   : cli_usage_error(c,
						     "%s (lockout guard): add "
						     "--force to flush anyway",
						     what);
		}
	}
	err = n ? sl_apply(&ctx, &cur, 0, &rep) : 0;
	if (n)
		sl_apply_report_free(&rep);
	sl_config_free(&cur);
	sl_close(&ctx);
	if (!err && c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "set");
		jw_str(&w, sl_set_kind_name(kind));
		jw_key(&w, "flushed");
		jw_u64(&w, n);
		jw_obj_close(&w);
		jw_end(&w);
	} else if (!err) {
		printf("%s set: flushed (%zu %s removed)\n",
		       sl_set_kind_name(kind), n,
		       cli_plural(n, "entry", "entries"));
	}
	return cli_exit(err);
}

/* The lockout guard for the management path (config `management:`): a
 * deny entry overlapping a management prefix, or removing an allow entry
 * that lets one through a drop policy, needs --force. */
static int sets_mgmt_guard(struct cli *c, struct sl_ctx *ctx, int kind, int dir,
			   const struct sl_prefix *p, size_t n, bool add)
{
	struct sl_config run;
	char a[64], m[64];
	int rc = EXIT_OK;

	if (cli_opt(c, "force") || (add && kind != SL_SET_DENY) ||
	    (!add && kind != SL_SET_ALLOW))
		return EXIT_OK;
	if (sl_config_read(ctx, &run, SL_READ_NO_SETS | SL_READ_NO_IFACES))
		return EXIT_RUNTIME;
	if (!add) {
		rc = run.n_mgmt ? cli_mgmt_guard(c, ctx, &run, p, n, dir)
				: EXIT_OK;
		sl_config_free(&run);
		return rc;
	}
	for (size_t i = 0; i < n && !rc; i++)
		for (size_t k = 0; k < run.n_mgmt && !rc; k++)
			if (sl_prefix_overlap(&p[i], &run.mgmt[k])) {
				sl_prefix_format(&p[i], a, sizeof(a));
				sl_prefix_format(&run.mgmt[k], m, sizeof(m));
				rc = cli_usage_error(
				    c,
				    "deny %s%s drops the management path (%s) "
				    "(lockout guard): add --force to block it "
				    "anyway",
				    a, dir == SL_DIR_DST ? " (dst)" : "", m);
			}
	sl_config_free(&run);
	return rc;
}

static int run_set(struct cli *c, int argc, char **argv, int kind, bool add)
{
	int dir = cli_opt(c, "dst") ? SL_DIR_DST : SL_DIR_SRC;
	const char *name = sl_set_kind_name(kind);
	struct sl_prefix *p = NULL;
	struct sl_ctx ctx;
	size_t n = 0, added = 0;
	int rc, err;

	if (add && cli_opt(c, "list")) {
		/* Both directions are listed (the DIR column). */
		if (argc || cli_opt(c, "file") || cli_opt(c, "flush") ||
		    cli_opt(c, "dst") || cli_opt(c, "force"))
			return cli_usage_error(c, "--list takes no prefixes "
						  "and no other option");
		return list_set(c, kind);
	}
	if (add && cli_opt(c, "flush")) {
		if (argc || cli_opt(c, "file") || cli_opt(c, "dst"))
			return cli_usage_error(c, "--flush takes no prefixes "
						  "and no other option");
		return flush_set(c, kind);
	}
	if (!argc && !cli_opt(c, "file"))
		return cli_usage_error(
		    c, "expected one or more prefixes or --file");
	rc = cli_prefixes(c, argc, argv, &p, &n);
	if (rc)
		return rc;
	/* The lockout guard: a deny entry for every address. */
	for (size_t i = 0; add && kind == SL_SET_DENY && i < n; i++)
		if (!p[i].plen && !cli_opt(c, "force")) {
			bool v4 = p[i].family == AF_INET;
			char buf[64];

			sl_prefix_format(&p[i], buf, sizeof(buf));
			free(p);
			return cli_usage_error(
			    c,
			    "%s would drop every %s packet (lockout guard): "
			    "add --force to block it anyway",
			    buf, v4 ? "IPv4" : "IPv6");
		}
	if (sl_check_privileges()) {
		free(p);
		return EXIT_RUNTIME;
	}
	err = sl_open(&ctx, c->bpffs, add);
	if (err) {
		char buf[64];

		sl_prefix_format(&p[0], buf, sizeof(buf));
		if (err == -ENOENT)
			pr_err("%s is not in the %s set (Sluice has no state "
			       "here)",
			       buf, name);
		free(p);
		return err == -ENOENT ? EXIT_USAGE : cli_exit(err);
	}
	n = cli_prefixes_dedup(p, n);
	rc = sets_mgmt_guard(c, &ctx, kind, dir, p, n, add);
	if (rc) {
		sl_close(&ctx);
		free(p);
		return rc;
	}
	/* All or nothing even if the process is killed (SIGKILL included)
	 * part-way: lists from a file, and prefixes of several set maps, go
	 * through the apply path. */
	err = sl_set_write(&ctx, kind, dir, p, n, add, cli_opt(c, "file"),
			   &added);
	sl_close(&ctx);
	free(p);
	if (!err && c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "set");
		jw_str(&w, name);
		jw_key(&w, "dir");
		jw_str(&w, sl_dir_name(dir));
		jw_key(&w, add ? "added" : "removed");
		jw_u64(&w, add ? added : n);
		if (add) {
			jw_key(&w, "present");
			jw_u64(&w, n - added);
		}
		jw_obj_close(&w);
		jw_end(&w);
	} else if (!err) {
		if (add)
			printf("%s set (%s): added %zu %s, %zu already "
			       "present\n",
			       name, sl_dir_name(dir), added,
			       cli_plural(added, "prefix", "prefixes"),
			       n - added);
		else
			printf("%s set (%s): removed %zu %s\n", name,
			       sl_dir_name(dir), n,
			       cli_plural(n, "prefix", "prefixes"));
	}
	return cli_exit(err);
}

static int run_block(struct cli *c, int argc, char **argv)
{
	return run_set(c, argc, argv, SL_SET_DENY, true);
}

static int run_unblock(struct cli *c, int argc, char **argv)
{
	return run_set(c, argc, argv, SL_SET_DENY, false);
}

static int run_allow(struct cli *c, int argc, char **argv)
{
	return run_set(c, argc, argv, SL_SET_ALLOW, true);
}

static int run_unallow(struct cli *c, int argc, char **argv)
{
	return run_set(c, argc, argv, SL_SET_ALLOW, false);
}

#define ADD_OPTS                                                              \
	{"dst", 'd', NULL,                                                    \
	 "Match the destination address instead of the source."},             \
	    {"file", 'f', "FILE",                                             \
	     "Also read prefixes from FILE: one per line, '#' or ';' starts " \
	     "a comment. FILE is a regular file, or '-' for standard input; " \
	     "lines are at most 4096 bytes, a NUL byte is an error, and a "   \
	     "list is at most 256 MiB (SLUICE_LIST_MAX_BYTES=N[k|M|G] sets "  \
	     "another cap, 0 none). With --file (and whenever the prefixes "  \
	     "fall in more than one set map: IPv4 and IPv6, hosts and "       \
	     "shorter prefixes) the whole write goes the way apply does: "    \
	     "built off to the side and switched in at once, so even a "      \
	     "killed process leaves the set as it was; otherwise it is one "  \
	     "map write."},                                                   \
	    {"list", 'l', NULL,                                               \
	     "List the set's entries with their hit counters."},              \
	{                                                                     \
		"flush", 0, NULL,                                             \
		    "Empty the set (source and destination entries) in one "  \
		    "atomic "                                                 \
		    "switch: every packet sees the full or the empty set, "   \
		    "and on "                                                 \
		    "any error nothing changed. Takes no prefixes."           \
	}

static const struct cli_opt block_opts[] = {
    ADD_OPTS,
    {"force", 0, NULL,
     "Block even 0.0.0.0/0 or ::/0, which drops every packet of the "
     "family, or a prefix overlapping a management prefix (config "
     "'management:'; refused without --force: the lockout guard)."},
    {},
};

static const struct cli_opt allow_opts[] = {
    ADD_OPTS,
    {"force", 0, NULL,
     "With --flush: flush even the allow entries that let a management "
     "prefix through a drop policy (refused without --force: the lockout "
     "guard)."},
    {},
};

/* The options of unblock and unallow. */
#define DEL_OPTS                                                               \
	{"dst", 'd', NULL,                                                     \
	 "Remove destination entries instead of source ones."},                \
	{                                                                      \
		"file", 'f', "FILE",                                           \
		    "Also read prefixes from FILE (same format and limits as " \
		    "block; '-' is standard input); all or nothing even if "   \
		    "the "                                                     \
		    "process is killed."                                       \
	}

static const struct cli_opt del_opts[] = {
    DEL_OPTS,
    {},
};

static const struct cli_opt unallow_opts[] = {
    DEL_OPTS,
    {"force", 0, NULL,
     "Remove even an allow entry that lets a management prefix through a "
     "drop policy (refused without --force: the lockout guard)."},
    {},
};

#define SET_RULES                                                              \
	"The allow and deny sets are longest-prefix-match tables (IPv4 and "   \
	"IPv6, "                                                               \
	"source or destination; per direction and family 2M\n"                 \
	"prefixes and 1M host entries). For each packet the longest matching " \
	"prefix decides, whichever set it is in: allow 198.18.0.0/16\n"        \
	"with deny 198.18.0.0/24 drops 198.18.0.5 and passes 198.18.1.5. If "  \
	"the source and destination matches are equally long,\n"               \
	"deny wins. An allowed (trusted) packet bypasses every later stage. "  \
	"Each entry counts the packets and bytes it decided.\n"                \
	"A prefix is an address with an optional /length (no host bits set); " \
	"a plain address means /32 or /128. A prefix can\n"                    \
	"be in only one of the two sets. The whole request is validated "      \
	"before any entry changes."

const struct cli_cmd cmd_block = {
    .name = "block",
    .args = "[CIDR...]",
    .summary = "Add prefixes to the deny set (source by default)",
    .description = "Adds each CIDR to the deny set: matching packets are "
		   "dropped at XDP with reason deny-set. Prefixes already "
		   "in the deny set\nkeep their counters.\n" SET_RULES,
    .opts = block_opts,
    .examples = "$ sluice block 198.18.0.0/24 2001:db8::/64\n"
		"$ sluice block --dst 198.19.0.1\n"
		"$ sluice block --file drop-list.txt\n"
		"$ sluice block --list -j\n"
		"$ sluice block --flush",
    .min_args = 0,
    .max_args = -1,
    .needs_root = true,
    .run = run_block,
};

const struct cli_cmd cmd_unblock = {
    .name = "unblock",
    .args = "CIDR...",
    .summary = "Remove prefixes from the deny set",
    .description = "Removes each CIDR from the deny set. Every prefix must "
		   "be in the deny set (with that direction); otherwise "
		   "nothing is removed.",
    .opts = del_opts,
    .examples = "$ sluice unblock 198.18.0.0/24",
    .min_args = 0,
    .max_args = -1,
    .needs_root = true,
    .run = run_unblock,
};

const struct cli_cmd cmd_allow = {
    .name = "allow",
    .args = "[CIDR...]",
    .summary = "Add prefixes to the allow (trusted) set",
    .description =
	"Adds each CIDR to the allow set: matching packets pass "
	"with reason allow-set and bypass every later stage.\n" SET_RULES,
    .opts = allow_opts,
    .examples = "$ sluice allow 198.18.0.1\n$ sluice allow --list\n"
		"$ sluice allow --flush -j",
    .min_args = 0,
    .max_args = -1,
    .needs_root = true,
    .run = run_allow,
};

const struct cli_cmd cmd_unallow = {
    .name = "unallow",
    .args = "CIDR...",
    .summary = "Remove prefixes from the allow set",
    .description = "Removes each CIDR from the allow set. Every prefix must "
		   "be in the allow set (with that direction); otherwise "
		   "nothing is removed.",
    .opts = unallow_opts,
    .examples = "$ sluice unallow 198.18.0.1",
    .min_args = 0,
    .max_args = -1,
    .needs_root = true,
    .run = run_unallow,
};
