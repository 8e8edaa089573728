/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* cli: the command tables, nested like bpftool's. main.c holds the
 * top-level table; a verb is declared once (its options, help text and
 * handler), and an object verb (`rule`) carries its own table of
 * sub-commands (`rule add|del|list`). main.c derives option parsing,
 * dispatch, `--help`, `sluice OBJ help` and docs/cli.md (`sluice help
 * --markdown`) from the tables, so a new object (`sluice ct list`) is one
 * table in its own file and one row in main.c. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stdbool.h>

#include "sluice.h"

/* Exit statuses of the CLI contract. */
#define EXIT_OK	     0
#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

#define CLI_MAX_OPTS 32

struct cli_opt {
	const char *name; /* long name */
	char short_name;  /* 0: none */
	const char *arg;  /* metavariable, NULL for a flag */
	const char *help;
};

struct cli;

struct cli_cmd {
	const char *name;
	const char *args;	    /* positional synopsis, e.g. "IFACE"
				     * (an object's: from its subs) */
	const char *summary;	    /* one line */
	const char *description;    /* paragraphs, '\n' separated */
	const struct cli_opt *opts; /* terminated by a zeroed entry */
	const char *examples;	    /* lines: "$ command  # comment" */
	int min_args, max_args;	    /* max_args -1: unlimited */
	bool needs_root;
	/* A leaf verb: runs with the positional arguments. An object verb
	 * (subs set): its first positional argument names a sub-command of
	 * subs, which runs with the arguments after it; the object's
	 * options are parsed first (they may come anywhere on the line). */
	int (*run)(struct cli *c, int argc, char **argv);
	/* Sub-commands, NULL-terminated. Fields they use: name, args,
	 * summary, min_args/max_args with arity_err (the usage error when
	 * the count is off), opts (non-NULL: the sub-command takes the
	 * object's options; NULL: none of them, else opts_err), run. */
	const struct cli_cmd *const *subs;
	const char *arity_err; /* sub-command: wrong number of arguments */
	const char *opts_err;  /* object: an option its sub-command refuses */
};

struct cli {
	const struct cli_cmd *cmd; /* the verb (the object for a sub-command) */
	const struct cli_cmd *sub; /* the sub-command, or NULL */
	const char *val[CLI_MAX_OPTS]; /* per cmd->opts index; flags: "1" */
	const char *bpffs;
	bool json;
	int verbose;
};

/* The value of the command's option `name`, or NULL when not given. */
const char *cli_opt(const struct cli *c, const char *name);
/* Parses a whole positive number for option `name`; exits 2 on bad input. */
long cli_opt_long(const struct cli *c, const char *name, long def, long min,
		  long max);
/* one when n is 1, else many ("1 prefix", "2 prefixes"). */
const char *cli_plural(size_t n, const char *one, const char *many);
/* Maps a libsluice error to the exit status. */
int cli_exit(int err);
/* Prints "sluice: VERB: msg" and returns EXIT_USAGE. */
int cli_usage_error(const struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Collects the prefixes of the arguments and of the verb's --file, if it has
 * one; all are validated before anything is written. Returns 0 or an exit
 * status (free *out). */
int cli_prefixes(struct cli *c, int argc, char **argv, struct sl_prefix **out,
		 size_t *n);
/* Sorts p and drops repeated prefixes (a prefix named twice is one entry);
 * returns the count left. */
size_t cli_prefixes_dedup(struct sl_prefix *p, size_t n);

struct jw;
struct sl_set_entry;
/* "pps" and "bps" members from rate[0] and rate[1]; none when NULL. */
void cli_jw_rate(struct jw *w, const double *rate);
/* One set entry as a JSON object (rate: its packets/s and bits/s, or
 * NULL); as a text row (NULL: the header). Shared by 'block --list',
 * 'stats' and 'top'. */
void cli_jw_entry(struct jw *w, const struct sl_set_entry *e,
		  const double *rate);
void cli_entry_row(const struct sl_set_entry *e);
/* One rule with its counters (and rate, as cli_jw_entry's), as JSON or
 * as a text row (NULL: the header). Shared by 'rule list', 'stats' and
 * 'top'. */
void cli_jw_rule(struct jw *w, const struct sl_rule *r,
		 const struct sl_counter *k, const double *rate);
void cli_rule_row(const struct sl_rule *r, const struct sl_counter *k);
/* The members "hooks" (["xdp", "tc"]) and "mode" (null without xdp) of an
 * interface's JSON object. */
void cli_jw_hooks(struct jw *w, unsigned hooks, unsigned mode);

/* Opens the state: create makes it when absent. Returns 0 or an exit status. */
int cli_open(struct cli *c, struct sl_ctx *ctx, bool create);
/* For verbs that only read (and dry runs): the state, or when there is
 * none an empty private one; never creates state. */
int cli_open_ro(struct cli *c, struct sl_ctx *ctx);
/* sl_apply(ctx, cfg, flags, rep) for the verbs that change the running
 * config. ctx from cli_open_ro: without state (private maps) cfg goes
 * through a dry run first, and the state is created only when it passed,
 * so a refused change leaves no state behind ("nothing was changed").
 * Returns an exit status; rep as sl_apply leaves it. */
int cli_apply(struct cli *c, struct sl_ctx *ctx, struct sl_config *cfg,
	      unsigned flags, struct sl_apply_report *rep);
/* The lockout guard of the CLI verbs for the management path (config
 * `management:`): `after` is the running config as the verb leaves it,
 * without sets (its allow entries are read here: the running ones, minus
 * unallow[0..n_unallow) of direction unallow_dir). EXIT_OK, or the exit
 * status after saying what would cut the management path and that --force
 * does it anyway. */
int cli_mgmt_guard(struct cli *c, struct sl_ctx *ctx, struct sl_config *after,
		   const struct sl_prefix *unallow, size_t n_unallow,
		   int unallow_dir);

extern const struct cli_cmd cmd_attach, cmd_detach, cmd_status, cmd_reset;
extern const struct cli_cmd cmd_block, cmd_unblock, cmd_allow, cmd_unallow;
extern const struct cli_cmd cmd_stats, cmd_explain;
extern const struct cli_cmd cmd_rule, cmd_apply, cmd_export, cmd_ct;
extern const struct cli_cmd cmd_ban, cmd_synproxy, cmd_events, cmd_top;
extern const struct cli_cmd cmd_dump, cmd_daemon, cmd_lb;
/* `lb` sub-commands of cmd_lbnode.c */
extern const struct cli_cmd lb_bird, lb_drain_node, lb_undrain_node;
/* The daemon's BIRD sync: the snippet of the state under bpffs into path,
 * BIRD reconfigured through sock (NULL: /run/bird/bird.ctl) when it
 * changed. 0 or a negative errno (-ENOENT: no state). */
int cli_lb_bird_daemon(const char *bpffs, const char *path, const char *sock);

#endif
