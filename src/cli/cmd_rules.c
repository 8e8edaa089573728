// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_rules: `rule add|del|list`, `apply` and `export`. Every change goes
 * through sl_apply(): the rule verbs read the running config, change it and
 * apply it whole, so they get the same atomic switch as a config file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "rulefield.h"

/* Options of `rule add`: the rule fields that are options (cli_rank), from
 * the table of rule fields (rulefield.h). The option names are the config
 * file's keys (sl_rule_set_field). */
static struct cli_opt rule_opts[SL_RULE_NFIELDS + 2];

/* The one option of `rule add` that is no rule field. */
static const struct cli_opt force_opt = {
    "force", 0, NULL,
    "Add a drop rule without match fields (or whose only ones are "
    "0.0.0.0/0 or ::/0) anyway (it drops every packet of its directions), "
    "or one whose addresses hold a management prefix; with del, delete "
    "even a pass rule that lets a management prefix through a drop policy "
    "(refused without --force: the lockout guard)."};

__attribute__((constructor)) static void rule_opts_fill(void)
{
	const struct sl_rule_field *f[SL_RULE_NFIELDS];
	size_t n = sl_rule_fields_sorted(true, f);

	for (size_t i = 0; i < n; i++)
		rule_opts[i] = (struct cli_opt){f[i]->key, f[i]->short_opt,
						f[i]->metavar, f[i]->help};
	rule_opts[n] = force_opt;
}

static int rule_from_opts(struct cli *c, const char *action, struct sl_rule *r)
{
	char err[256];

	sl_rule_init(r);
	if (action && cli_opt(c, "action"))
		return cli_usage_error(c, "give the action once: as ACTION or "
					  "as --action");
	if (!action && !cli_opt(c, "action"))
		return cli_usage_error(c,
				       "'rule add' takes an action (pass, "
				       "drop, count, ratelimit or redirect)");
	if (action && sl_rule_set_field(r, "action", action, err, sizeof(err)))
		return cli_usage_error(c, "%s", err);
	for (int i = 0; rule_opts[i].name; i++) {
		const char *v = cli_opt(c, rule_opts[i].name);

		if (v && rule_opts[i].name != force_opt.name &&
		    sl_rule_set_field(r, rule_opts[i].name, v, err,
				      sizeof(err)))
			return cli_usage_error(c, "%s", err);
	}
	if (sl_rule_validate(r, err, sizeof(err)))
		return cli_usage_error(c, "%s", err);
	if (sl_rule_drops_all(r) && !cli_opt(c, "force")) {
		bool v4 = r->l3 == SL_L3_IPV4;
		const char *dirs = r->dirs == 1U << SL_RDIR_IN	  ? " coming in"
				   : r->dirs == 1U << SL_RDIR_OUT ? " going out"
								  : "";

		if (r->has_src || r->has_dst) /* only 0.0.0.0/0 or ::/0 */
			return cli_usage_error(
			    c,
			    "a drop rule for every address (%s) drops every "
			    "%s packet%s (lockout guard): add --force to add "
			    "it anyway",
			    v4 ? "0.0.0.0/0" : "::/0", v4 ? "IPv4" : "IPv6",
			    dirs);
		return cli_usage_error(c,
				       "a drop rule without match fields drops "
				       "every packet%s (lockout guard): add "
				       "--force to add it anyway",
				       dirs);
	}
	return EXIT_OK;
}

void cli_jw_rule(struct jw *w, const struct sl_rule *r,
		 const struct sl_counter *k, const double *rate)
{
	char buf[512];

	sl_rule_format(r, buf, sizeof(buf));
	jw_obj_open(w);
	/* Each field separately, named as in the config file ... */
	sl_rule_jw_fields(w, r);
	if (!r->comment[0]) {
		jw_key(w, "comment");
		jw_str(w, "");
	}
	/* ... and the one-line form 'rule list' prints, for display. */
	jw_key(w, "rule");
	jw_str(w, buf);
	jw_key(w, "packets");
	jw_u64(w, k->packets);
	jw_key(w, "bytes");
	jw_u64(w, k->bytes);
	cli_jw_rate(w, rate);
	jw_obj_close(w);
}

void cli_rule_row(const struct sl_rule *r, const struct sl_counter *k)
{
	char buf[512];

	if (!r) {
		printf("%14s %16s  %s\n", "PACKETS", "BYTES", "RULE");
		return;
	}
	sl_rule_format(r, buf, sizeof(buf));
	printf("%14llu %16llu  %s\n", (unsigned long long)k->packets,
	       (unsigned long long)k->bytes, buf);
}

static int rule_list(struct cli *c, struct sl_ctx *ctx)
{
	struct sl_counter *k = NULL;
	struct sl_rule *r = NULL;
	struct sl_blob_hdr h;
	size_t n = 0;
	int err;

	err = sl_rules_read(ctx, &r, &n);
	if (!err) {
		k = calloc(n ? n : 1, sizeof(*k));
		err = k ? sl_rule_stats_read(ctx, r, n, k) : -ENOMEM;
	}
	if (err) {
		free(r);
		free(k);
		pr_err("cannot read the rules: %s", strerror(-err));
		return cli_exit(err);
	}
	if (sl_blob_hdr_read(ctx, &h))
		memset(&h, 0, sizeof(h));
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "policy");
		jw_obj_open(&w);
		jw_key(&w, "in");
		jw_str(&w, sl_action_name(h.policy[SL_RDIR_IN]));
		jw_key(&w, "out");
		jw_str(&w, sl_action_name(h.policy[SL_RDIR_OUT]));
		jw_obj_close(&w);
		jw_key(&w, "rules");
		jw_arr_open(&w);
		for (size_t i = 0; i < n; i++)
			cli_jw_rule(&w, &r[i], &k[i], NULL);
		jw_arr_close(&w);
		jw_obj_close(&w);
		jw_end(&w);
	} else {
		printf("policy: in %s, out %s; %zu rules\n",
		       sl_action_name(h.policy[SL_RDIR_IN]),
		       sl_action_name(h.policy[SL_RDIR_OUT]), n);
		if (n)
			cli_rule_row(NULL, NULL);
		for (size_t i = 0; i < n; i++)
			cli_rule_row(&r[i], &k[i]);
	}
	free(r);
	free(k);
	return EXIT_OK;
}

int cli_mgmt_guard(struct cli *c, struct sl_ctx *ctx, struct sl_config *after,
		   const struct sl_prefix *unallow, size_t n_unallow,
		   int unallow_dir)
{
	struct sl_set_entry *allow = NULL;
	struct sl_config run;
	struct sl_srcpos pos;
	size_t na = 0, k = 0;
	char what[192];
	bool hit;
	int rc = EXIT_OK;

	if (cli_opt(c, "force"))
		return EXIT_OK;
	if (sl_config_read(ctx, &run, SL_READ_NO_SETS | SL_READ_NO_IFACES))
		return EXIT_RUNTIME;
	if (!run.n_mgmt) {
		sl_config_free(&run);
		return EXIT_OK;
	}
	memcpy(after->mgmt, run.mgmt, sizeof(run.mgmt));
	after->n_mgmt = run.n_mgmt;
	/* The policies need the allow entries (usually few) on both sides. */
	if ((run.policy[SL_RDIR_IN] == SL_ACT_DROP ||
	     run.policy[SL_RDIR_OUT] == SL_ACT_DROP) &&
	    sl_set_list(ctx, SL_SET_ALLOW, &allow, &na)) {
		sl_config_free(&run);
		return EXIT_RUNTIME;
	}
	run.sets = allow;
	run.n_sets = na;
	if (after->n_sets) {
		/* (a set verb's own entries: checked by the caller) */
		sl_config_free(&run);
		return EXIT_OK;
	}
	after->sets = na ? malloc(na * sizeof(*allow)) : NULL;
	if (na && !after->sets) {
		sl_config_free(&run);
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; after->sets && i < na; i++) {
		bool gone = false;

		for (size_t j = 0; j < n_unallow && !gone; j++)
			gone = allow[i].dir == unallow_dir &&
			       !memcmp(&allow[i].prefix, &unallow[j],
				       sizeof(unallow[j]));
		if (!gone)
			after->sets[k++] = allow[i];
	}
	after->n_sets = k;
	hit = sl_config_lockout(after, &run, what, sizeof(what), &pos);
	free(after->sets);
	after->sets = NULL;
	after->n_sets = 0;
	if (hit)
		rc = cli_usage_error(c,
				     "%s (lockout guard): add --force to do it "
				     "anyway",
				     what);
	sl_config_free(&run);
	return rc;
}

/* Applies cur (the running config with a rule change) keeping the sets. */
static int rule_apply(struct cli *c, struct sl_ctx *ctx, struct sl_config *cur)
{
	struct sl_apply_report rep;
	int rc = cli_apply(c, ctx, cur, SL_APPLY_KEEP_SETS, &rep);

	sl_apply_report_free(&rep);
	return rc;
}

static int run_rule_list(struct cli *c, int argc, char **argv)
{
	struct sl_ctx ctx;
	int rc;

	(void)argc;
	(void)argv;
	rc = cli_open_ro(c, &ctx);
	if (rc)
		return rc;
	rc = rule_list(c, &ctx);
	sl_close(&ctx);
	return rc;
}

/* Reads the running rules (not the sets or interfaces, which rule verbs
 * leave alone) into cur, with ctx open. Returns 0 or an exit status. */
static int rule_read(struct cli *c, struct sl_ctx *ctx, struct sl_config *cur)
{
	/* without state: private maps, made state by rule_apply */
	int rc = cli_open_ro(c, ctx);

	if (rc)
		return rc;
	rc = cli_exit(
	    sl_config_read(ctx, cur, SL_READ_NO_SETS | SL_READ_NO_IFACES));
	if (rc) {
		sl_close(ctx);
		return rc;
	}
	cur->has_ifaces = false;
	return EXIT_OK;
}

static int run_rule_add(struct cli *c, int argc, char **argv)
{
	struct sl_config cur;
	struct sl_ctx ctx;
	struct sl_rule r;
	void *nv;
	int rc;

	rc = rule_from_opts(c, argc ? argv[0] : NULL, &r);
	if (rc)
		return rc;
	rc = rule_read(c, &ctx, &cur);
	if (rc)
		return rc;
	for (size_t i = 0; r.id && i < cur.n_rules; i++)
		if (cur.rules[i].id == r.id) {
			rc = cli_usage_error(
			    c, "rule %u exists; delete it first", r.id);
			goto out;
		}
	nv = realloc(cur.rules, (cur.n_rules + 1) * sizeof(r));
	if (!nv) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	cur.rules = nv;
	cur.rules[cur.n_rules++] = r;
	rc = cli_exit(sl_rules_assign_ids(cur.rules, cur.n_rules, NULL, 0));
	if (!rc)
		rc = cli_mgmt_guard(c, &ctx, &cur, NULL, 0, 0);
	if (!rc) {
		r.id = cur.rules[cur.n_rules - 1].id;
		rc = rule_apply(c, &ctx, &cur);
	}
	if (!rc && c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "id");
		jw_u64(&w, r.id);
		jw_key(&w, "added");
		jw_obj_open(&w);
		sl_rule_jw_fields(&w, &cur.rules[cur.n_rules - 1]);
		jw_obj_close(&w);
		jw_obj_close(&w);
		jw_end(&w);
	} else if (!rc) {
		printf("rule %u added\n", r.id);
	}
out:
	sl_config_free(&cur);
	sl_close(&ctx);
	return rc;
}

static int run_rule_del(struct cli *c, int argc, char **argv)
{
	struct sl_config cur;
	struct sl_ctx ctx;
	int rc;

	rc = rule_read(c, &ctx, &cur);
	if (rc)
		return rc;
	/* Validate every id before changing anything. */
	for (int a = 0; a < argc; a++) {
		char *end;
		unsigned long id = strtoul(argv[a], &end, 10);
		size_t i;

		if (*end || !*argv[a] || !id || id >= SL_RULE_MAX ||
		    argv[a][0] < '1' || argv[a][0] > '9') {
			rc = cli_usage_error(c,
					     "invalid rule id '%s' (expected "
					     "1-%u)",
					     argv[a], SL_RULE_MAX - 1);
			goto out;
		}
		for (int b = 0; b < a; b++)
			if (strtoul(argv[b], NULL, 10) == id) {
				rc = cli_usage_error(
				    c, "rule id %lu given twice", id);
				goto out;
			}
		for (i = 0; i < cur.n_rules; i++)
			if (cur.rules[i].id == id)
				break;
		if (i == cur.n_rules) {
			rc = cli_usage_error(c, "no rule %lu", id);
			goto out;
		}
		cur.rules[i] = cur.rules[--cur.n_rules];
	}
	rc = cli_mgmt_guard(c, &ctx, &cur, NULL, 0, 0);
	if (!rc)
		rc = rule_apply(c, &ctx, &cur);
	if (!rc && c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "deleted");
		jw_arr_open(&w);
		for (int a = 0; a < argc; a++)
			jw_u64(&w, strtoul(argv[a], NULL, 10));
		jw_arr_close(&w);
		jw_obj_close(&w);
		jw_end(&w);
	} else if (!rc) {
		printf("%d %s deleted\n", argc,
		       cli_plural(argc, "rule", "rules"));
	}
out:
	sl_config_free(&cur);
	sl_close(&ctx);
	return rc;
}

/* `rule`'s sub-commands; only add takes the rule options. */
static const struct cli_cmd rule_add = {
    .name = "add",
    .args = "[ACTION]",
    .summary = "Add a rule: ACTION (or --action) and match options",
    .opts = rule_opts,
    .min_args = 0,
    .max_args = 1,
    .arity_err = "'rule add' takes one action (pass, drop, count, "
		 "ratelimit or redirect) and match options",
    .run = run_rule_add,
};

static const struct cli_opt rule_del_opts[] = {
    {"force", 0, NULL,
     "Delete even a pass rule that lets a management prefix through a "
     "drop policy (refused without --force: the lockout guard)."},
    {},
};

static const struct cli_cmd rule_del = {
    .name = "del",
    .args = "ID...",
    .summary = "Delete rules by id (all or none)",
    .opts = rule_del_opts,
    .min_args = 1,
    .max_args = -1,
    .arity_err = "'rule del' takes rule ids",
    .run = run_rule_del,
};

static const struct cli_cmd rule_list_cmd = {
    .name = "list",
    .args = "",
    .summary = "List the rules in order with their counters",
    .min_args = 0,
    .max_args = 0,
    .arity_err = "'rule list' takes no arguments",
    .run = run_rule_list,
};

const struct cli_cmd cmd_rule = {
    .name = "rule",
    .summary = "Add, delete and list ordered multi-field rules",
    .description =
	"Rules match any combination of source and destination prefix "
	"(IPv4 or IPv6), protocol, port ranges, ICMP type\n"
	"and code, TCP flags, interface, VLAN, source and destination MAC and "
	"direction. ACTION (or "
	"--action) is pass, drop, count (count adds to the\n"
	"rule's counters and evaluation goes on), ratelimit (passes while its "
	"token bucket, --rate and --burst per --per\n"
	"key, has tokens, else drops with reason ratelimit and, with --ban, "
	"bans the source) or redirect (sends the\n"
	"packet out of the interface --to names: XDP "
	"through a DEVMAP, TC with bpf_redirect). Rules are evaluated by\n"
	"ascending priority, "
	"then id; the first pass, drop, ratelimit or redirect rule that\n"
	"matches decides, and packets no rule decides meet the default policy "
	"(see apply). Fields not given match anything;\n"
	"a rule without addresses or an IP protocol matches IPv4 and IPv6, "
	"ARP only with --proto arp. Sets (block/allow)\n"
	"come first, at ingress. Each change rebuilds the classifier and "
	"switches to it atomically, keeping rule ids\n"
	"and their counters. 'rule list' shows every rule with its packets and "
	"bytes.",
    .opts = rule_opts,
    .examples = "$ sluice rule add drop --direction out --proto tcp --dport 80 "
		"--comment 'no plain http out'\n"
		"$ sluice rule add pass --src 2001:db8::/32 --proto icmpv6 "
		"--icmp-type 128\n"
		"$ sluice rule add drop --proto arp --direction in\n"
		"$ sluice rule add --action redirect --to eth2 --proto udp "
		"--dport 53\n"
		"$ sluice rule add ratelimit --rate 100/s --burst 50 --per src "
		"--ban 30s\n"
		"$ sluice rule add ratelimit --proto udp --rate 10mbit/s --per "
		"src/24,src/64\n"
		"$ sluice rule list -j\n"
		"$ sluice rule del 3",
    .min_args = 1,
    .max_args = -1,
    .needs_root = true,
    .subs = (const struct cli_cmd *const[]){&rule_add, &rule_del,
					    &rule_list_cmd, NULL},
    .opts_err = "match options go with 'rule add'",
};

/* ---- apply and export ---- */

/* The text output lists at most this many items of each kind of change;
 * -j lists them all. */
#define DIFF_TEXT_MAX 100

static const char *const pol_names[] = {"pass", "drop"};

static const char *hooks_text(uint8_t hooks, uint8_t mode, char *buf,
			      size_t len)
{
	snprintf(buf, len, "hooks [%s]%s",
		 hooks == (SL_HOOK_XDP | SL_HOOK_TC) ? "xdp, tc"
		 : hooks == SL_HOOK_TC		     ? "tc"
						     : "xdp",
		 !(hooks & SL_HOOK_XDP)	   ? ""
		 : mode == SL_MODE_GENERIC ? ", mode generic"
					   : ", mode native");
	return buf;
}

static void entry_text(const struct sl_set_entry *e, char *buf, size_t len)
{
	char p[64];

	sl_prefix_format(&e->prefix, p, sizeof(p));
	snprintf(buf, len, "%s %s%s",
		 e->kind == SL_SET_ALLOW ? "allow" : "deny", p,
		 e->dir == SL_DIR_DST ? " (dst)" : "");
}

/* "... and N more" after DIFF_TEXT_MAX lines of one kind. */
static bool diff_more(size_t i, size_t n, const char *what)
{
	if (i < DIFF_TEXT_MAX)
		return false;
	if (i == DIFF_TEXT_MAX)
		printf("  ... and %zu more %s (-j lists all)\n", n - i, what);
	return true;
}

static void diff_print(const struct sl_apply_diff *d)
{
	char a[1024], b[1024];

	for (int dir = 0; dir < SL_RDIR_MAX; dir++)
		if (d->policy_from[dir] != d->policy_to[dir])
			printf("  ~ policy %s: %s -> %s\n",
			       dir == SL_RDIR_IN ? "in" : "out",
			       pol_names[d->policy_from[dir] & 1],
			       pol_names[d->policy_to[dir] & 1]);
	for (size_t i = 0; i < d->n_ifaces; i++) {
		const struct sl_iface_diff *f = &d->ifaces[i];

		if (diff_more(i, d->n_ifaces, "interface changes"))
			break;
		if (!f->from_hooks)
			printf(
			    "  + interface %s: %s\n", f->name,
			    hooks_text(f->to_hooks, f->to_mode, a, sizeof(a)));
		else if (!f->to_hooks)
			printf("  - interface %s: %s\n", f->name,
			       hooks_text(f->from_hooks, f->from_mode, a,
					  sizeof(a)));
		else
			printf(
			    "  ~ interface %s: %s -> %s\n", f->name,
			    hooks_text(f->from_hooks, f->from_mode, a,
				       sizeof(a)),
			    hooks_text(f->to_hooks, f->to_mode, b, sizeof(b)));
	}
	for (size_t i = 0; i < d->n_rules_added; i++) {
		if (diff_more(i, d->n_rules_added, "rules added"))
			break;
		sl_rule_format(&d->rules_added[i], a, sizeof(a));
		printf("  + rule %s\n", a);
	}
	for (size_t i = 0; i < d->n_rules_removed; i++) {
		if (diff_more(i, d->n_rules_removed, "rules removed"))
			break;
		sl_rule_format(&d->rules_removed[i], a, sizeof(a));
		printf("  - rule %s\n", a);
	}
	for (size_t i = 0; i < d->n_rules_changed; i++) {
		if (diff_more(i, d->n_rules_changed, "rules changed"))
			break;
		sl_rule_format(&d->rules_from[i], a, sizeof(a));
		sl_rule_format(&d->rules_to[i], b, sizeof(b));
		printf("  ~ rule %s\n      was %s\n", b, a);
	}
	for (size_t i = 0; i < d->n_sets_added; i++) {
		if (diff_more(i, d->n_sets_added, "set entries added"))
			break;
		entry_text(&d->sets_added[i], a, sizeof(a));
		printf("  + %s\n", a);
	}
	for (size_t i = 0; i < d->n_sets_removed; i++) {
		if (diff_more(i, d->n_sets_removed, "set entries removed"))
			break;
		entry_text(&d->sets_removed[i], a, sizeof(a));
		printf("  - %s\n", a);
	}
	for (size_t i = 0; i < d->n_lb; i++)
		printf("  %c lb service %s\n", d->lb[i].change, d->lb[i].svc);
	for (size_t i = 0; i < d->n_caps; i++) {
		const struct sl_cap_diff *c = &d->caps[i];

		printf("  ~ %s: %u -> %u (%s made anew, its %zu entries copied "
		       "over",
		       sl_rt_map_key(c->map), c->from, c->to,
		       sl_rt_map_name(c->map), c->entries);
		if (c->entries > c->to)
			printf("; at least %zu do not fit and would be gone",
			       c->entries - c->to);
		printf(")\n");
	}
}

static void jw_rules(struct jw *w, const char *key, const struct sl_rule *r,
		     size_t n)
{
	char buf[1024];

	jw_key(w, key);
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++) {
		sl_rule_format(&r[i], buf, sizeof(buf));
		jw_obj_open(w);
		jw_key(w, "id");
		jw_u64(w, r[i].id);
		jw_key(w, "rule");
		jw_str(w, buf);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

static void jw_entries(struct jw *w, const char *key,
		       const struct sl_set_entry *e, size_t n)
{
	char buf[64];

	jw_key(w, key);
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++) {
		sl_prefix_format(&e[i].prefix, buf, sizeof(buf));
		jw_obj_open(w);
		jw_key(w, "set");
		jw_str(w, e[i].kind == SL_SET_ALLOW ? "allow" : "deny");
		jw_key(w, "dir");
		jw_str(w, e[i].dir == SL_DIR_DST ? "dst" : "src");
		jw_key(w, "prefix");
		jw_str(w, buf);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

/* {"hooks": [...], "mode": ...}; mode null for tc only. */
static void jw_hooks(struct jw *w, uint8_t hooks, uint8_t mode)
{
	jw_obj_open(w);
	cli_jw_hooks(w, hooks, mode);
	jw_obj_close(w);
}

static void diff_json(struct jw *w, const struct sl_apply_diff *d)
{
	jw_key(w, "diff");
	jw_obj_open(w);
	jw_key(w, "policy");
	jw_arr_open(w);
	for (int dir = 0; dir < SL_RDIR_MAX; dir++) {
		if (d->policy_from[dir] == d->policy_to[dir])
			continue;
		jw_obj_open(w);
		jw_key(w, "direction");
		jw_str(w, dir == SL_RDIR_IN ? "in" : "out");
		jw_key(w, "from");
		jw_str(w, pol_names[d->policy_from[dir] & 1]);
		jw_key(w, "to");
		jw_str(w, pol_names[d->policy_to[dir] & 1]);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_key(w, "interfaces");
	jw_arr_open(w);
	for (size_t i = 0; i < d->n_ifaces; i++) {
		const struct sl_iface_diff *f = &d->ifaces[i];

		jw_obj_open(w);
		jw_key(w, "name");
		jw_str(w, f->name);
		jw_key(w, "change");
		jw_str(w, !f->from_hooks ? "added"
			  : !f->to_hooks ? "removed"
					 : "changed");
		jw_key(w, "from");
		if (f->from_hooks)
			jw_hooks(w, f->from_hooks, f->from_mode);
		else
			jw_null(w);
		jw_key(w, "to");
		if (f->to_hooks)
			jw_hooks(w, f->to_hooks, f->to_mode);
		else
			jw_null(w);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_key(w, "rules");
	jw_obj_open(w);
	jw_rules(w, "added", d->rules_added, d->n_rules_added);
	jw_rules(w, "removed", d->rules_removed, d->n_rules_removed);
	jw_key(w, "changed");
	jw_arr_open(w);
	for (size_t i = 0; i < d->n_rules_changed; i++) {
		char a[1024], b[1024];

		sl_rule_format(&d->rules_from[i], a, sizeof(a));
		sl_rule_format(&d->rules_to[i], b, sizeof(b));
		jw_obj_open(w);
		jw_key(w, "id");
		jw_u64(w, d->rules_to[i].id);
		jw_key(w, "from");
		jw_str(w, a);
		jw_key(w, "to");
		jw_str(w, b);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_obj_close(w);
	jw_key(w, "lb_services");
	jw_arr_open(w);
	for (size_t i = 0; i < d->n_lb; i++) {
		jw_obj_open(w);
		jw_key(w, "service");
		jw_str(w, d->lb[i].svc);
		jw_key(w, "change");
		jw_str(w, d->lb[i].change == '+'   ? "added"
			  : d->lb[i].change == '-' ? "removed"
						   : "changed");
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_key(w, "set_entries");
	jw_obj_open(w);
	jw_entries(w, "added", d->sets_added, d->n_sets_added);
	jw_entries(w, "removed", d->sets_removed, d->n_sets_removed);
	jw_obj_close(w);
	jw_key(w, "capacities");
	jw_arr_open(w);
	for (size_t i = 0; i < d->n_caps; i++) {
		jw_obj_open(w);
		jw_key(w, "map");
		jw_str(w, sl_rt_map_name(d->caps[i].map));
		jw_key(w, "key");
		jw_str(w, sl_rt_map_key(d->caps[i].map));
		jw_key(w, "from");
		jw_u64(w, d->caps[i].from);
		jw_key(w, "to");
		jw_u64(w, d->caps[i].to);
		jw_key(w, "entries");
		jw_u64(w, d->caps[i].entries);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_obj_close(w);
}

/* The lockout guard of apply: an entry or rule that drops everything and
 * that the running config does not hold already needs --force. */
static int lockout_guard(struct cli *c, struct sl_ctx *ctx,
			 const struct sl_config *cfg, const char *file)
{
	struct sl_config running;
	struct sl_srcpos pos;
	char what[256];
	bool hit;

	if (cli_opt(c, "force") ||
	    !sl_config_lockout(cfg, NULL, what, sizeof(what), &pos))
		return EXIT_OK;
	if (sl_config_read(ctx, &running, SL_READ_NO_IFACES))
		return EXIT_RUNTIME;
	hit = sl_config_lockout(cfg, &running, what, sizeof(what), &pos);
	sl_config_free(&running);
	if (!hit)
		return EXIT_OK;
	pr_err("%s:%u:%u: %s (lockout guard): apply --force applies it "
	       "anyway",
	       file, pos.line, pos.col, what);
	return EXIT_USAGE;
}

static int run_apply(struct cli *c, int argc, char **argv)
{
	const char *file = cli_opt(c, "file");
	bool dry = cli_opt(c, "dry-run") != NULL;
	struct sl_apply_report rep;
	struct sl_config cfg;
	struct sl_ctx ctx;
	int rc, err;

	(void)argc;
	(void)argv;
	if (!file)
		return cli_usage_error(c, "missing -f FILE (or -f - for "
					  "standard input)");
	if (sl_check_privileges())
		return EXIT_RUNTIME;
	err = sl_config_load(file, &cfg);
	if (err)
		return cli_exit(err);
	if (!strcmp(file, "-"))
		file = "stdin";
	rc = cli_open_ro(c, &ctx);
	if (rc) {
		sl_config_free(&cfg);
		return rc;
	}
	rc = lockout_guard(c, &ctx, &cfg, file);
	if (rc) {
		sl_config_free(&cfg);
		sl_close(&ctx);
		return rc;
	}
	rc = dry ? cli_exit(sl_apply(&ctx, &cfg,
				     SL_APPLY_DRY_RUN | SL_APPLY_DIFF, &rep))
		 : cli_apply(c, &ctx, &cfg, 0, &rep);
	err = rc;
	if (!err && c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "result");
		jw_str(&w, rep.unchanged ? "unchanged"
			   : rep.dry_run ? "dry-run"
					 : "applied");
		jw_key(&w, "rules");
		jw_u64(&w, rep.rules);
		jw_key(&w, "set_entries");
		jw_u64(&w, rep.set_entries);
		jw_key(&w, "interfaces_changed");
		jw_u64(&w, rep.ifaces_changed);
		jw_key(&w, "build_ms");
		jw_f1(&w, rep.cls.build_ms);
		if (rep.diff)
			diff_json(&w, rep.diff);
		jw_obj_close(&w);
		jw_end(&w);
	} else if (!err) {
		const char *what = rep.unchanged ? "unchanged"
				   : rep.dry_run
				       ? "valid, not applied (dry run)"
				       : "applied";

		printf("%s: %s (%zu rules, %zu set entries, %u "
		       "interfaces changed)\n",
		       file, what, rep.rules, rep.set_entries,
		       rep.ifaces_changed);
		if (rep.dry_run && rep.diff)
			diff_print(rep.diff);
	}
	sl_apply_report_free(&rep);
	sl_config_free(&cfg);
	sl_close(&ctx);
	return rc;
}

const struct cli_cmd cmd_apply = {
    .name = "apply",
    .args = "",
    .summary = "Validate a config file, then atomically replace the running "
	       "config",
    .description =
	"Reads FILE (YAML, see docs/config.md): interfaces and their hooks, "
	"the default policy per direction, allow and\n"
	"deny sets (inline or from files of one prefix per line) and rules. "
	"The whole file is checked first; an error names\n"
	"FILE:LINE:COLUMN and what was expected, and changes nothing. Then the "
	"new sets, rules and policy are built off to\n"
	"the side and the datapath switches to them with one map write: every "
	"packet is classified entirely by the old or\n"
	"entirely by the new config. Interfaces named in the file are "
	"attached with their hooks; attached interfaces\n"
	"the file does not name are detached: 'interfaces: []' detaches "
	"every interface, a file without 'interfaces'\n"
	"leaves the attachments alone. Interfaces change before the new "
	"config goes live; if one cannot be changed, the\n"
	"others are put back and nothing of the file goes live. Applying "
	"the running config again (see export) changes\n"
	"nothing. An entry or rule that drops every packet (deny 0.0.0.0/0 or "
	"::/0, a drop rule without match fields) that\n"
	"is not running yet is refused with its FILE:LINE:COLUMN unless "
	"--force is given (the lockout guard).",
    .opts =
	(const struct cli_opt[]){
	    {"file", 'f', "FILE",
	     "The config file (required); - reads standard input."},
	    {"force", 0, NULL,
	     "Apply even an entry or rule that drops every packet (deny "
	     "0.0.0.0/0 or ::/0, a drop rule without match fields) that "
	     "the running config does not hold yet; without it such a file "
	     "is refused with its FILE:LINE:COL (the lockout guard)."},
	    {"dry-run", 'n', NULL,
	     "Run every check of the apply (the sets are filled off to "
	     "the side, so their capacities; the classifier is built; "
	     "interfaces carrying programs Sluice does not manage are "
	     "refused), change nothing, and print what would change: "
	     "policy, interfaces, rules and set entries added (+), removed "
	     "(-) or changed (~), and the capacities of the runtime tables "
	     "(conntrack, ratelimit and fragments max) that change, with "
	     "the entries they hold; with -j as \"diff\"."},
	    {},
	},
    .examples = "$ sluice apply -f /etc/sluice/sluice.yaml\n"
		"$ sluice apply -f new.yaml --dry-run\n"
		"$ generate-config | sluice apply -f -\n"
		"$ sluice export > saved.yaml && sluice apply -f saved.yaml",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_apply,
};

static int run_export(struct cli *c, int argc, char **argv)
{
	struct sl_config cfg;
	struct sl_ctx ctx;
	int rc;

	(void)argc;
	(void)argv;
	rc = cli_open_ro(c, &ctx);
	if (rc)
		return rc;
	rc = cli_exit(sl_config_read(&ctx, &cfg, 0));
	if (!rc) {
		rc = cli_exit(c->json ? sl_config_write_json(stdout, &cfg)
				      : sl_config_write(stdout, &cfg));
		sl_config_free(&cfg);
	}
	sl_close(&ctx);
	return rc;
}

const struct cli_cmd cmd_export = {
    .name = "export",
    .args = "",
    .summary = "Print the running config as YAML (-j: as JSON)",
    .description =
	"Prints the running config in the format apply reads: attached "
	"interfaces with their hooks, the default policy,\n"
	"the allow and deny sets inline, and every rule with its id. 'sluice "
	"apply -f' of the output changes nothing.\n"
	"An interface deleted while attached runs nothing and is left out "
	"('status' marks it '(interface gone)'), so the\n"
	"output can be applied and saved for the boot-time restore.\n"
	"With -j the same config is one JSON document with the same keys "
	"(each rule field separately); apply reads it\n"
	"too (JSON is YAML).",
    .opts = (const struct cli_opt[]){{}},
    .examples = "$ sluice export > /etc/sluice/sluice.yaml",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_export,
};
