// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* main: dispatch, option parsing and help, all derived from the command
 * tables (the top-level one here, an object's sub-commands in its file), so
 * `--help`, `sluice OBJ help`, docs/cli.md and the parser never disagree. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "version.h"
#include "log.h"

static const struct cli_cmd *const commands[] = {
    &cmd_attach, &cmd_detach,  &cmd_status,  &cmd_block, &cmd_unblock,
    &cmd_allow,	 &cmd_unallow, &cmd_ban,     &cmd_rule,	 &cmd_apply,
    &cmd_export, &cmd_stats,   &cmd_explain, &cmd_ct,	 &cmd_synproxy,
    &cmd_lb,	 &cmd_events,  &cmd_dump,    &cmd_top,	 &cmd_daemon,
    &cmd_reset,
};
#define NCOMMANDS (int)(sizeof(commands) / sizeof(commands[0]))

/* Options every verb takes. */
static const struct cli_opt global_opts[] = {
    {"json", 'j', NULL,
     "Print JSON (one document; one per line with --watch)."},
    {"bpffs", 0, "DIR",
     "bpffs holding the state (pins under DIR/sluice). Default: "
     "$SLUICE_BPFFS, else /sys/fs/bpf. DIR must be a directory (attach "
     "creates a missing one); a bpffs is mounted at DIR if none is, and "
     "reset unmounts it again."},
    {"verbose", 'v', NULL,
     "Print debug messages, including libbpf's and the verifier's."},
    {"help", 'h', NULL, "Show this help."},
    {},
};

static const char *const exit_text =
    "0 success; 1 runtime failure (kernel refused, no privileges, no "
    "state); 2 bad usage or bad input. Errors are one line on stderr; on "
    "any error nothing was changed.";

static int nopts(const struct cli_opt *o)
{
	int n = 0;

	while (o && o[n].name)
		n++;
	return n;
}

const char *cli_opt(const struct cli *c, const char *name)
{
	for (int i = 0; i < nopts(c->cmd->opts); i++)
		if (!strcmp(c->cmd->opts[i].name, name))
			return c->val[i];
	return NULL;
}

int cli_usage_error(const struct cli *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Through the log (prefix "sluice: VERB"): control characters of
	 * the arguments quoted here are printed escaped. */
	pr_err("%s (see 'sluice %s --help')", msg, c->cmd->name);
	return EXIT_USAGE;
}

long cli_opt_long(const struct cli *c, const char *name, long def, long min,
		  long max)
{
	const char *s = cli_opt(c, name);
	char *end;
	long v;

	if (!s)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max) {
		cli_usage_error(c,
				"--%s expects a whole number from %ld to %ld, "
				"not '%s'",
				name, min, max, s);
		exit(EXIT_USAGE);
	}
	return v;
}

const char *cli_plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int cli_exit(int err)
{
	if (!err)
		return EXIT_OK;
	return err == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
}

int cli_open(struct cli *c, struct sl_ctx *ctx, bool create)
{
	int err;

	if (c->cmd->needs_root && sl_check_privileges())
		return EXIT_RUNTIME;
	err = sl_open(ctx, c->bpffs, create);
	if (err == -ENOENT)
		pr_err("no Sluice state under %s (nothing attached or blocked "
		       "yet)",
		       c->bpffs			? c->bpffs
		       : getenv("SLUICE_BPFFS") ? getenv("SLUICE_BPFFS")
						: SL_DEFAULT_BPFFS);
	return cli_exit(err);
}

int cli_open_ro(struct cli *c, struct sl_ctx *ctx)
{
	int err;

	if (c->cmd->needs_root && sl_check_privileges())
		return EXIT_RUNTIME;
	err = sl_open(ctx, c->bpffs, false);
	if (err == -ENOENT)
		err = sl_open_private(ctx, c->bpffs);
	return cli_exit(err);
}

int cli_apply(struct cli *c, struct sl_ctx *ctx, struct sl_config *cfg,
	      unsigned flags, struct sl_apply_report *rep)
{
	struct stat st;
	size_t n_sets;
	int err, rc;

	if (ctx->lock_fd >= 0)
		return cli_exit(sl_apply(ctx, cfg, flags, rep));
	/* No state yet (cli_open_ro gave private maps): every check first,
	 * so that a change refused creates no state either. The sets were
	 * checked when the file was read (entries, both kinds, capacities):
	 * only their fill is left, which for 1,000,000 entries takes as long
	 * as the apply itself, so the check leaves them out. */
	n_sets = cfg->n_sets;
	cfg->n_sets = 0;
	err = sl_apply(ctx, cfg, flags | SL_APPLY_DRY_RUN, rep);
	cfg->n_sets = n_sets;
	if (rep)
		sl_apply_report_free(rep);
	if (err)
		return cli_exit(err);
	sl_close(ctx);
	/* Checked against no state: state another writer made meanwhile
	 * would lose what it holds. */
	if (!stat(ctx->dir, &st)) {
		pr_err("Sluice state appeared under %s while this ran (nothing "
		       "was changed); run the command again",
		       ctx->dir);
		return EXIT_RUNTIME;
	}
	rc = cli_open(c, ctx, true); /* closed again on failure */
	return rc ? rc : cli_exit(sl_apply(ctx, cfg, flags, rep));
}

/* ---- help ---- */

/* The positional synopsis: the verb's, or an object's sub-commands with
 * theirs ("add [ACTION] | del ID... | list"). */
static const char *cmd_args(const struct cli_cmd *cmd, char *buf, size_t len)
{
	size_t o = 0;

	if (!cmd->subs)
		return cmd->args ? cmd->args : "";
	buf[0] = '\0';
	for (int i = 0; cmd->subs[i] && o < len; i++)
		o +=
		    snprintf(buf + o, len - o, "%s%s%s%s", i ? " | " : "",
			     cmd->subs[i]->name, *cmd->subs[i]->args ? " " : "",
			     cmd->subs[i]->args);
	return buf;
}

static void synopsis(FILE *f, const struct cli_cmd *cmd)
{
	char buf[256];
	const char *args = cmd_args(cmd, buf, sizeof(buf));

	fprintf(f, "sluice %s", cmd->name);
	for (int i = 0; i < nopts(cmd->opts); i++) {
		const struct cli_opt *o = &cmd->opts[i];

		fprintf(f, " [--%s%s%s]", o->name, o->arg ? " " : "",
			o->arg ? o->arg : "");
	}
	if (*args)
		fprintf(f, " %s", args);
	fputc('\n', f);
}

static void opt_line(FILE *f, const struct cli_opt *o, bool md)
{
	char head[64];

	if (o->short_name)
		snprintf(head, sizeof(head), "-%c, --%s%s%s", o->short_name,
			 o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(head, sizeof(head), "--%s%s%s", o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
	if (md)
		fprintf(f, "- `%s`: %s\n", head, o->help);
	else
		fprintf(f, "  %-24s %s\n", head, o->help);
}

/* "add, del or list": the names of an object's sub-commands. */
static void sub_names(const struct cli_cmd *cmd, char *buf, size_t len)
{
	const char *names[16];
	int n = 0;

	while (cmd->subs[n] && n < 15) {
		names[n] = cmd->subs[n]->name;
		n++;
	}
	names[n] = NULL;
	sl_join_or(names, buf, len);
}

/* The sub-commands of an object verb, one line each, and `OBJ help`. */
static void subs_help(FILE *f, const struct cli_cmd *cmd, bool md)
{
	char head[64];

	fprintf(f, md ? "Commands:\n\n" : "\nCOMMANDS\n");
	for (int i = 0; cmd->subs[i]; i++) {
		const struct cli_cmd *s = cmd->subs[i];

		snprintf(head, sizeof(head), "%s %s%s%s", cmd->name, s->name,
			 *s->args ? " " : "", s->args);
		if (md)
			fprintf(f, "- `sluice %s`: %s.\n", head, s->summary);
		else
			fprintf(f, "  %-24s %s\n", head, s->summary);
	}
	snprintf(head, sizeof(head), "%s help", cmd->name);
	if (md)
		fprintf(f, "- `sluice %s`: Show this help.\n\n", head);
	else
		fprintf(f, "  %-24s %s\n", head, "Show this help");
}

static void cmd_help(FILE *f, const struct cli_cmd *cmd, bool md)
{
	const char *d;

	if (md) {
		fprintf(f, "## sluice %s\n\n%s.\n\n```\n", cmd->name,
			cmd->summary);
		synopsis(f, cmd);
		fprintf(f, "```\n\n%s\n\n", cmd->description);
		if (cmd->subs)
			subs_help(f, cmd, true);
		fprintf(f, "Options:\n\n");
	} else {
		fprintf(f, "NAME\n  sluice %s - %s\n\nSYNOPSIS\n  ", cmd->name,
			cmd->summary);
		synopsis(f, cmd);
		fprintf(f, "\nDESCRIPTION\n  ");
		for (d = cmd->description; *d; d++) {
			fputc(*d, f);
			if (*d == '\n')
				fputs("  ", f);
		}
		fputc('\n', f);
		if (cmd->subs)
			subs_help(f, cmd, false);
		fprintf(f, "\nOPTIONS\n");
	}
	for (int i = 0; i < nopts(cmd->opts); i++)
		opt_line(f, &cmd->opts[i], md);
	for (int i = 0; i < nopts(global_opts); i++)
		opt_line(f, &global_opts[i], md);
	if (cmd->examples && *cmd->examples) {
		if (md)
			fprintf(f, "\nExamples:\n\n```\n%s\n```\n",
				cmd->examples);
		else {
			fprintf(f, "\nEXAMPLES\n  ");
			for (d = cmd->examples; *d; d++) {
				fputc(*d, f);
				if (*d == '\n')
					fputs("  ", f);
			}
			fputc('\n', f);
		}
	}
	if (md)
		fprintf(f, "\nExit status: %s\n\n", exit_text);
	else
		fprintf(f, "\nEXIT STATUS\n  %s\n", exit_text);
}

static void main_help(FILE *f, bool md)
{
	if (md)
		fprintf(f,
			"# sluice command reference\n\n"
			"Generated by `sluice help --markdown` from the same "
			"table as `--help`; do not edit by hand.\n\n```\n");
	fprintf(f, "Usage: sluice [--bpffs DIR] [-j] [-v] COMMAND [ARGS...]\n"
		   "       sluice --version\n\n"
		   "Sluice: a programmable XDP datapath. Commands:\n");
	for (int i = 0; i < NCOMMANDS; i++) {
		const struct cli_cmd *cmd = commands[i];

		fprintf(f, "  %-9s %s\n", cmd->name, cmd->summary);
		for (int j = 0; cmd->subs && cmd->subs[j]; j++) {
			char head[32];

			snprintf(head, sizeof(head), "%s %s", cmd->name,
				 cmd->subs[j]->name);
			fprintf(f, "    %-13s %s\n", head,
				cmd->subs[j]->summary);
		}
	}
	fprintf(f, "  %-9s %s\n", "help",
		"Show help for a command: sluice help COMMAND (--man: the "
		"man page)");
	fprintf(
	    f,
	    "\nState lives under <bpffs>/sluice (default /sys/fs/bpf/sluice).\n"
	    "A newer sluice upgrades an older release's state in place; an "
	    "older one\nrefuses newer state (see --version for the pinned "
	    "layout).\n"
	    "Run 'sluice COMMAND --help' for the options of a command, "
	    "'sluice OBJECT help'\nfor the sub-commands of an object.\n");
	if (md) {
		fprintf(f, "```\n\n");
		for (int i = 0; i < NCOMMANDS; i++)
			cmd_help(f, commands[i], true);
	}
}

/* ---- the man page (sluice help --man): troff, from the same tables ---- */

/* Text for troff: backslashes and dashes escaped, a '.' or '\'' that
 * would start a line made literal; '\n' starts a new output line. */
static void man_text(FILE *f, const char *s)
{
	bool bol = true;

	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		bol = *s == '\n';
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

/* "\fBNAME\fR \fIARGS\fR" (NAME after prefix; no ARGS when NULL or ""). */
static void man_item(FILE *f, const char *prefix, const char *name,
		     const char *args)
{
	fprintf(f, "\\fB%s", prefix);
	man_text(f, name);
	fputs("\\fR", f);
	if (args && *args) {
		fputs(" \\fI", f);
		man_text(f, args);
		fputs("\\fR", f);
	}
}

static void man_opt(FILE *f, const struct cli_opt *o)
{
	fputs(".TP\n", f);
	if (o->short_name)
		fprintf(f, "\\fB\\-%c\\fR, ", o->short_name);
	man_item(f, "\\-\\-", o->name, o->arg);
	fputc('\n', f);
	man_text(f, o->help);
	fputc('\n', f);
}

static void man_page(FILE *f)
{
	char buf[256];

	fprintf(f,
		".\\\" Generated by 'sluice help --man' from the command "
		"tables; do not edit.\n"
		".TH SLUICE 8 \"\" \"sluice %s\" \"System Administration\"\n"
		".SH NAME\nsluice \\- a programmable XDP/TC datapath "
		"(firewall) for Linux\n"
		".SH SYNOPSIS\n.B sluice\n[\\fB\\-\\-bpffs\\fR \\fIDIR\\fR] "
		"[\\fB\\-j\\fR] [\\fB\\-v\\fR] \\fICOMMAND\\fR "
		"[\\fIARGS\\fR...]\n.br\n.B sluice \\-\\-version\n"
		".SH DESCRIPTION\n",
		SLUICE_VERSION);
	man_text(f, "Sluice filters packets at XDP and TC with one set of "
		    "tables: allow and deny sets of prefixes, ordered "
		    "multi-field rules and a default policy, replaced "
		    "atomically by 'apply'. State lives under <bpffs>/sluice "
		    "(default /sys/fs/bpf/sluice). A newer sluice upgrades an "
		    "older release's state in place; an older one refuses "
		    "newer state.\n");
	fputs(".SH COMMANDS\n", f);
	for (int i = 0; i < NCOMMANDS; i++) {
		const struct cli_cmd *cmd = commands[i];
		const char *args = cmd_args(cmd, buf, sizeof(buf));

		fputs(".SS \"sluice ", f);
		man_text(f, cmd->name);
		fputs("\"\n", f);
		man_text(f, cmd->summary);
		fputs(".\n.PP\n.B sluice ", f);
		man_text(f, cmd->name);
		fputc('\n', f);
		for (int k = 0; k < nopts(cmd->opts); k++) {
			fputc('[', f);
			man_item(f, "\\-\\-", cmd->opts[k].name,
				 cmd->opts[k].arg);
			fputs("]\n", f);
		}
		if (*args) {
			man_text(f, args);
			fputc('\n', f);
		}
		fputs(".PP\n", f);
		man_text(f, cmd->description);
		fputc('\n', f);
		for (int k = 0; cmd->subs && cmd->subs[k]; k++) {
			const struct cli_cmd *sub = cmd->subs[k];

			char head[64];

			snprintf(head, sizeof(head), "%s %s", cmd->name,
				 sub->name);
			fputs(".TP\n", f);
			man_item(f, "sluice ", head, sub->args);
			fputc('\n', f);
			man_text(f, sub->summary);
			fputs(".\n", f);
		}
		if (nopts(cmd->opts))
			fputs(".PP\nOptions:\n", f);
		for (int k = 0; k < nopts(cmd->opts); k++)
			man_opt(f, &cmd->opts[k]);
		if (cmd->examples && *cmd->examples) {
			fputs(".PP\nExamples:\n.PP\n.nf\n.RS\n", f);
			man_text(f, cmd->examples);
			fputs("\n.RE\n.fi\n", f);
		}
	}
	fputs(".SH OPTIONS\nEvery command takes these options (before or "
	      "after the command):\n",
	      f);
	for (int k = 0; k < nopts(global_opts); k++)
		man_opt(f, &global_opts[k]);
	fputs(".SH EXIT STATUS\n", f);
	man_text(f, exit_text);
	fputs("\n.SH ENVIRONMENT\n.TP\n.B SLUICE_BPFFS\n", f);
	man_text(f, "The bpffs holding the state when --bpffs is not given.\n");
	fputs(".TP\n.B SLUICE_LIST_MAX_BYTES\n", f);
	man_text(f, "The size cap of a prefix list (default 256 MiB; suffix "
		    "k, M or G; 0: none).\n");
	fputs(".TP\n.B SLUICE_CONFIG_MAX_BYTES\n", f);
	man_text(f, "The size cap of a config file (default 256 MiB; suffix "
		    "k, M or G; 0: none).\n");
	fputs(".SH FILES\n.TP\n.I /sys/fs/bpf/sluice\n", f);
	man_text(f, "The pinned state: maps, links, the running config.\n");
	fputs(".TP\n.I /etc/sluice/sluice.yaml\n", f);
	man_text(f, "The config sluice.service applies at boot.\n");
	fputs(".SH SEE ALSO\n.BR bpftool (8),\n.BR tc (8),\n.BR ip (8).\n"
	      "The config file format: docs/config.md (installed under "
	      "share/doc/sluice).\n",
	      f);
}

static const struct cli_cmd *find_cmd(const char *name)
{
	for (int i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static int do_help(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc >= 2 && !strcmp(argv[1], "--markdown")) {
		main_help(stdout, true);
		return EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "--man")) {
		man_page(stdout);
		return EXIT_OK;
	}
	if (argc < 2) {
		main_help(stdout, false);
		return EXIT_OK;
	}
	cmd = find_cmd(argv[1]);
	if (!cmd) {
		pr_err("help: no command '%s' (see 'sluice help')", argv[1]);
		return EXIT_USAGE;
	}
	cmd_help(stdout, cmd, false);
	return EXIT_OK;
}

/* ---- parsing ---- */

/* A value was given for one of the verb's own options. */
static bool any_opt(const struct cli *c)
{
	for (int i = 0; i < nopts(c->cmd->opts); i++)
		if (c->val[i])
			return true;
	return false;
}

/* An object verb: argv[0] names the sub-command (its table: cmd->subs). */
static int run_sub(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *cmd = c->cmd, *sub = NULL;
	char names[256];

	if (!argc)
		return cli_usage_error(c, "expected %s",
				       cmd_args(cmd, names, sizeof(names)));
	if (!strcmp(argv[0], "help")) {
		cmd_help(stdout, cmd, false);
		return EXIT_OK;
	}
	for (int i = 0; cmd->subs[i] && !sub; i++)
		if (!strcmp(cmd->subs[i]->name, argv[0]))
			sub = cmd->subs[i];
	if (!sub) {
		sub_names(cmd, names, sizeof(names));
		return cli_usage_error(
		    c, "unknown subcommand '%s' (expected %s)", argv[0], names);
	}
	if (!sub->opts && any_opt(c))
		return cli_usage_error(c, "%s", cmd->opts_err);
	if (argc - 1 < sub->min_args ||
	    (sub->max_args >= 0 && argc - 1 > sub->max_args))
		return cli_usage_error(c, "%s", sub->arity_err);
	c->sub = sub;
	return sub->run(c, argc - 1, argv + 1);
}

/* --bpffs (or $SLUICE_BPFFS) names a directory: refused when empty (it
 * would silently mean the default), a file, or missing (only attach
 * creates it, mounting a bpffs there). */
static int bpffs_check(const struct cli *c)
{
	const char *p = c->bpffs, *what = "--bpffs";
	struct stat st;

	if (p && !*p)
		return cli_usage_error(c, "--bpffs: expected a directory, got "
					  "an empty path");
	if (!p) {
		p = getenv("SLUICE_BPFFS");
		what = "SLUICE_BPFFS";
		if (!p || !*p)
			return EXIT_OK;
	}
	if (stat(p, &st)) {
		if (errno == ENOENT && c->cmd == &cmd_attach)
			return EXIT_OK;
		pr_err("%s %s: %s (expected a directory; 'sluice attach' "
		       "creates it and mounts a bpffs there)",
		       what, p, strerror(errno));
		return EXIT_USAGE;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_err("%s %s: not a directory (expected the directory of a "
		       "bpffs, or an empty one to mount a bpffs on)",
		       what, p);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int run_cmd(struct cli *c, int argc, char **argv)
{
	char names[256];
	const struct cli_cmd *cmd = c->cmd;
	int n = nopts(cmd->opts), ng = nopts(global_opts), opt, npos, rc;
	struct option lo[CLI_MAX_OPTS + 8] = {};
	/* Leading ':' reports a missing value as ':'; no '+', so getopt_long
	 * permutes and options may follow the positional arguments. */
	char shorts[2 * (CLI_MAX_OPTS + 8) + 2] = ":";
	char *sp = shorts + 1;

	if (n > CLI_MAX_OPTS)
		return EXIT_RUNTIME;
	for (int i = 0; i < n + ng; i++) {
		const struct cli_opt *o =
		    i < n ? &cmd->opts[i] : &global_opts[i - n];

		lo[i].name = o->name;
		lo[i].has_arg = o->arg ? required_argument : no_argument;
		lo[i].val = 256 + i;
		if (o->short_name) {
			*sp++ = o->short_name;
			if (o->arg)
				*sp++ = ':';
		}
	}
	*sp = '\0';
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		int idx = -1;

		if (opt == '?') {
			const char *a = argv[optind - 1], *eq = strchr(a, '=');

			/* --flag=VALUE: a known flag that takes none */
			for (int i = 0;
			     eq && !strncmp(a, "--", 2) && i < n + ng; i++) {
				const struct cli_opt *o =
				    i < n ? &cmd->opts[i] : &global_opts[i - n];

				if (!o->arg &&
				    strlen(o->name) == (size_t)(eq - a - 2) &&
				    !strncmp(o->name, a + 2, eq - a - 2))
					return cli_usage_error(
					    c, "option '--%s' takes no value",
					    o->name);
			}
			return cli_usage_error(c, "unknown option '%s'", a);
		}
		if (opt == ':')
			return cli_usage_error(c, "option '%s' needs a value",
					       argv[optind - 1]);
		if (opt >= 256)
			idx = opt - 256;
		else
			for (int i = 0; i < n + ng; i++) {
				const struct cli_opt *o =
				    i < n ? &cmd->opts[i] : &global_opts[i - n];
				if (o->short_name == opt)
					idx = i;
			}
		if (idx < 0)
			return cli_usage_error(c, "unknown option");
		if (idx < n) {
			/* One value per option: a second, different one
			 * (--proto udp --proto tcp) is a mistake, not an
			 * override. */
			if (optarg && c->val[idx] &&
			    strcmp(c->val[idx], optarg))
				return cli_usage_error(
				    c, "option '--%s' given twice ('%s', '%s')",
				    cmd->opts[idx].name, c->val[idx], optarg);
			c->val[idx] = optarg ? optarg : "1";
			continue;
		}
		switch (idx - n) {
		case 0:
			c->json = true;
			break;
		case 1:
			if (c->bpffs && strcmp(c->bpffs, optarg))
				return cli_usage_error(
				    c,
				    "option '--bpffs' given twice ('%s', '%s')",
				    c->bpffs, optarg);
			c->bpffs = optarg;
			break;
		case 2:
			c->verbose++;
			break;
		case 3:
			cmd_help(stdout, cmd, false);
			return EXIT_OK;
		}
	}
	rc = bpffs_check(c);
	if (rc)
		return rc;
	npos = argc - optind;
	if (npos < cmd->min_args)
		return cli_usage_error(c, "expected %s",
				       cmd_args(cmd, names, sizeof(names)));
	if (cmd->max_args >= 0 && npos > cmd->max_args)
		return cli_usage_error(c, "unexpected argument '%s'",
				       argv[optind + cmd->max_args]);
	if (c->verbose)
		sl_log_set_level(SL_LOG_DEBUG);
	if (cmd->subs)
		return run_sub(c, npos, argv + optind);
	return cmd->run(c, npos, argv + optind);
}

int main(int argc, char **argv)
{
	struct cli c = {};
	int i = 1;

	sl_log_hook_libbpf();
	/* Global options may also come before the verb. */
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			c.json = true;
		else if (!strcmp(argv[i], "-v") ||
			 !strcmp(argv[i], "--verbose"))
			c.verbose++;
		else if (!strcmp(argv[i], "--bpffs") && i + 1 < argc)
			c.bpffs = argv[++i];
		else if (!strcmp(argv[i], "--bpffs")) {
			pr_err("option '--bpffs' needs a value (see 'sluice "
			       "help')");
			return EXIT_USAGE;
		} else if (!strncmp(argv[i], "--bpffs=", 8))
			c.bpffs = argv[i] + 8;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return do_help(1, argv);
		else if (!strcmp(argv[i], "--version") ||
			 !strcmp(argv[i], "-V")) {
			printf("sluice %s (pinned layout %u)\n", SLUICE_VERSION,
			       SL_LAYOUT_VERSION);
			return EXIT_OK;
		} else {
			pr_err("unknown option '%s' (see 'sluice help')",
			       argv[i]);
			return EXIT_USAGE;
		}
		i++;
	}
	if (i >= argc) {
		main_help(stderr, false);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help"))
		return do_help(argc - i, argv + i);
	c.cmd = find_cmd(argv[i]);
	if (!c.cmd) {
		pr_err("unknown command '%s' (see 'sluice help')", argv[i]);
		return EXIT_USAGE;
	}
	{
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "sluice: %s", c.cmd->name);
		sl_log_set_prefix(prefix);
	}
	return run_cmd(&c, argc - i, argv + i);
}
