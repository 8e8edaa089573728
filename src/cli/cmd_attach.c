// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_attach: attach, detach, status and reset. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "config.h"
#include "version.h"
#include "json.h"
#include "log.h"

/* The optional stages (attach --stages, status "features"), in pipeline
 * order. */
static const struct {
	const char *name;
	__u8 off; /* its SL_STAGE_OFF_* bit */
} stage_names[] = {
    {"sets", SL_STAGE_OFF_SETS},
    {"bans", SL_STAGE_OFF_BANS},
    {"fragments", SL_STAGE_OFF_FRAG},
    {"rules", SL_STAGE_OFF_RULES},
};
#define N_STAGES (sizeof(stage_names) / sizeof(stage_names[0]))

/* Every optional stage's bit. */
static __u8 stages_all(void)
{
	__u8 all = 0;

	for (size_t i = 0; i < N_STAGES; i++)
		all |= stage_names[i].off;
	return all;
}

/* A comma list of stage names ("sets,bans,rules", "rules", ...) or "none"
 * -> the stages_off bits; -1 on anything else. */
static int stages_parse(const char *s, __u8 *off)
{
	char buf[64], *save = NULL, *t;
	__u8 on = 0;

	if (!strcmp(s, "none")) {
		*off = stages_all();
		return 0;
	}
	if (!*s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < N_STAGES; i++)
			if (!strcmp(t, stage_names[i].name))
				break;
		if (i == N_STAGES)
			return -1;
		on |= stage_names[i].off;
	}
	*off = stages_all() & ~on;
	return 0;
}

/* What one interface ran before this attach: its hooks (0: none) and XDP
 * mode, from the attachments. */
struct was {
	unsigned hooks;
	enum sl_xdp_mode mode;
};

static void was_read(const struct sl_attachment *a, size_t n, const char *name,
		     struct was *w)
{
	w->hooks = 0;
	w->mode = SL_MODE_NATIVE;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(a[i].ifname, name) || !a[i].ifindex)
			continue;
		if (!strcmp(a[i].hook, "xdp")) {
			w->hooks |= SL_HOOK_XDP;
			if (!strcmp(a[i].mode, "generic"))
				w->mode = SL_MODE_GENERIC;
		} else {
			w->hooks |= SL_HOOK_TC;
		}
	}
}

void cli_jw_hooks(struct jw *w, unsigned hooks, unsigned mode)
{
	jw_key(w, "hooks");
	jw_arr_open(w);
	if (hooks & SL_HOOK_XDP)
		jw_str(w, "xdp");
	if (hooks & SL_HOOK_TC)
		jw_str(w, "tc");
	jw_arr_close(w);
	jw_key(w, "mode");
	if (hooks & SL_HOOK_XDP)
		jw_str(w, mode == SL_MODE_GENERIC ? "generic" : "native");
	else
		jw_null(w);
}

/* Attaches every interface, or none: each is checked first; if one
 * attach fails, those made before it are put back as they were (detached,
 * or re-attached with their hooks, mode and the programs' features), last
 * first, as apply does. */
static int attach_all(struct cli *c, struct sl_ctx *ctx, int argc, char **argv,
		      enum sl_xdp_mode m, unsigned hooks,
		      const struct sl_features *feat)
{
	struct sl_attachment *a = NULL;
	struct sl_features old_feat;
	bool have_old = false;
	struct was *was;
	size_t n = 0;
	int i, err;

	(void)c;
	for (i = 0; i < argc; i++) {
		err = sl_attach_check(ctx, argv[i], m, hooks);
		if (err)
			return err;
	}
	was = calloc(argc, sizeof(*was));
	if (!was)
		return -ENOMEM;
	err = sl_attachments(ctx, &a, &n);
	if (err) {
		free(was);
		return err;
	}
	for (size_t k = 0; k < n && !have_old; k++)
		if (a[k].ifindex && a[k].feat_known) {
			old_feat = a[k].feat;
			have_old = true;
		}
	for (i = 0; i < argc; i++)
		was_read(a, n, argv[i], &was[i]);
	free(a);
	for (i = 0; i < argc && !err; i++)
		err = sl_attach(ctx, argv[i], m, hooks, feat);
	if (err) {
		/* argv[i - 1] failed and is as it was; undo the others. */
		for (int k = i - 2; k >= 0; k--) {
			int e = was[k].hooks
				    ? sl_attach(ctx, argv[k], was[k].mode,
						was[k].hooks,
						have_old ? &old_feat : feat)
				    : sl_detach(ctx, argv[k]);

			if (e)
				pr_warn("%s: could not be put back as it was",
					argv[k]);
		}
	}
	free(was);
	return err;
}

static int run_attach(struct cli *c, int argc, char **argv)
{
	const char *mode = cli_opt(c, "mode");
	const char *hs = cli_opt(c, "hooks");
	struct sl_features feat;
	enum sl_xdp_mode m;
	struct sl_ctx ctx;
	unsigned hooks;
	int rc, err;

	if (!mode || !strcmp(mode, "native"))
		m = SL_MODE_NATIVE;
	else if (!strcmp(mode, "generic"))
		m = SL_MODE_GENERIC;
	else
		return cli_usage_error(
		    c, "--mode is 'native' or 'generic', not '%s'", mode);
	if (sl_hooks_parse(hs ? hs : "xdp,tc", &hooks))
		return cli_usage_error(
		    c, "--hooks is 'xdp,tc', 'xdp' or 'tc', not '%s'", hs);
	sl_features_default(&feat);
	if (cli_opt(c, "pass-malformed"))
		feat.drop_malformed = 0;
	if (cli_opt(c, "decap")) {
		if (!(hooks & SL_HOOK_XDP))
			return cli_usage_error(c, "--decap needs the xdp hook "
						  "(--hooks xdp,tc or xdp)");
		feat.decap = 1;
	}
	if (cli_opt(c, "stages") &&
	    stages_parse(cli_opt(c, "stages"), &feat.stages_off))
		return cli_usage_error(
		    c,
		    "--stages is a comma list of sets, bans, "
		    "fragments and rules, or none, not '%s'",
		    cli_opt(c, "stages"));
	/* Refuse a bad interface (or one named twice) before any state is
	 * made. */
	for (int i = 0; i < argc; i++) {
		if (!if_nametoindex(argv[i])) {
			pr_err("no interface named '%s' in this network "
			       "namespace (nothing was attached)",
			       argv[i]);
			return EXIT_USAGE;
		}
		for (int k = 0; k < i; k++)
			if (!strcmp(argv[k], argv[i]))
				return cli_usage_error(
				    c, "interface '%s' given twice", argv[i]);
	}
	rc = cli_open(c, &ctx, true);
	if (rc)
		return rc;
	err = argc == 1 ? sl_attach(&ctx, argv[0], m, hooks, &feat)
			: attach_all(c, &ctx, argc, argv, m, hooks, &feat);
	sl_close(&ctx);
	if (!err && c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "attached");
		jw_arr_open(&w);
		for (int i = 0; i < argc; i++) {
			jw_obj_open(&w);
			jw_key(&w, "ifname");
			jw_str(&w, argv[i]);
			cli_jw_hooks(&w, hooks, m);
			jw_obj_close(&w);
		}
		jw_arr_close(&w);
		jw_obj_close(&w);
		jw_end(&w);
	}
	for (int i = 0; !err && !c->json && i < argc; i++) {
		const char *md = m == SL_MODE_NATIVE ? "native" : "generic";

		if (hooks == SL_HOOK_XDP)
			printf("attached to %s (xdp, %s mode)\n", argv[i], md);
		else if (hooks == SL_HOOK_TC)
			printf("attached to %s (tc ingress and egress)\n",
			       argv[i]);
		else
			printf("attached to %s (xdp, %s mode; tc egress)\n",
			       argv[i], md);
	}
	return cli_exit(err);
}

const struct cli_cmd cmd_attach = {
    .name = "attach",
    .args = "IFACE...",
    .summary = "Load Sluice if needed and attach its programs to each IFACE",
    .description =
	"Attaches the firewall to IFACE on the hooks of --hooks: xdp puts "
	"the XDP program at ingress (a bpf_link pinned under\n"
	"<bpffs>/sluice/links/IFACE, so it stays attached after the command "
	"exits); tc puts the TC program at egress, on a clsact\n"
	"qdisc (created if missing), and at TC ingress too when xdp is not "
	"in the list, so that ingress is classified once.\n"
	"Every attached interface shares one set of tables (the allow/deny "
	"sets, the counters).\n"
	"Attaching an interface again replaces its programs atomically (no "
	"packet is missed); the new hook list replaces the old\n"
	"one (hooks no longer listed are removed once the new ones are in "
	"place; on failure the interface is left as it was).\n"
	"XDP in the other mode than the attached one switches modes: the "
	"kernel runs one XDP mode at a time, so Sluice's TC\n"
	"ingress filter classifies the ingress while the old mode's link goes "
	"and the new one comes (no packet goes unfiltered).\n"
	"Each attach loads the current programs and moves every attached "
	"interface to them, so the feature switches\n"
	"(--pass-malformed, --stages, --decap) of the last attach apply to all "
	"interfaces; if one cannot be moved, the attach fails and every\n"
	"interface is left on the programs it ran.\n"
	"Several interfaces are attached all or nothing: each is checked "
	"first, and if one attach fails those made before it are put\n"
	"back as they were (detached, or on their former hooks and mode).",
    .opts =
	(const struct cli_opt[]){
	    {"mode", 'm', "MODE",
	     "XDP mode: native (default: in the driver, fastest) or "
	     "generic (in the stack, works on any interface)."},
	    {"hooks", 0, "HOOKS",
	     "xdp,tc (default: XDP at ingress, TC at egress), xdp (ingress "
	     "only) or tc (TC at ingress and egress)."},
	    {"pass-malformed", 0, NULL,
	     "Count malformed frames under their malformed-* reason "
	     "but pass them (default: drop). A frame with a bad L4 header "
	     "from a denied source is still dropped. Abusive packets (land, "
	     "TCP SYN+FIN, SYN+RST, no flags, XMAS, FIN without ACK) are "
	     "then not dropped for it either: they go on through the sets, "
	     "bans, rules and policy like any packet."},
	    {"stages", 0, "LIST",
	     "The optional stages to run, a comma list of sets, bans, "
	     "fragments and rules (default: sets,bans,fragments,rules), or "
	     "none. A stage left out is removed "
	     "from the programs when they load and costs no time per "
	     "packet; its tables are kept and still written by block, "
	     "allow, ban, rule and apply, but do not act until an attach "
	     "without --stages (or naming the stage) puts it back. "
	     "status lists the stages that run under features."},
	    {"decap", 0, NULL,
	     "For a backend of a dsr-ipip service: the XDP hook strips an "
	     "outer IPv4 (protocol 4) or IPv6 (next header 41) header "
	     "before the stages run, so the sets, bans, conntrack and rules "
	     "judge the inner packet and the stack receives it as sent by "
	     "the client (the VIP held on lo). Every attached interface "
	     "decaps (one load); status shows decap under features; an "
	     "attach without --decap turns it off (apply keeps it)."},
	    {},
	},
    .examples = "$ sluice attach eth0\n"
		"$ sluice attach eth0 eth1 eth2\n"
		"$ sluice attach --mode generic wlan0\n"
		"$ sluice attach --hooks tc veth0\n"
		"$ sluice attach --stages rules eth0\n"
		"$ sluice attach --decap eth0\n"
		"$ sluice --bpffs /run/sluice/bpf attach veth0",
    .min_args = 1,
    .max_args = -1,
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
	if (!err && c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "detached");
		jw_arr_open(&w);
		jw_str(&w, argv[0]);
		jw_arr_close(&w);
		jw_obj_close(&w);
		jw_end(&w);
	} else if (!err) {
		printf("detached from %s\n", argv[0]);
	}
	return cli_exit(err);
}

const struct cli_cmd cmd_detach = {
    .name = "detach",
    .args = "IFACE",
    .summary = "Detach Sluice from IFACE (tables and counters are kept)",
    .description =
	"Removes every hook of IFACE: the pinned XDP link and the TC "
	"filters. The clsact qdisc stays (other filters may use it;\n"
	"'tc qdisc del dev IFACE clsact' removes it). The sets and counters "
	"stay until 'sluice reset'.",
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
	snprintf(buf, len, "%s",
		 a->feat.drop_malformed ? "malformed-drop" : "malformed-pass");
	for (size_t i = 0; i < N_STAGES; i++)
		if (!(a->feat.stages_off & stage_names[i].off) &&
		    strlen(buf) + strlen(stage_names[i].name) + 2 <= len) {
			strcat(buf, ",");
			strcat(buf, stage_names[i].name);
		}
	if (a->feat.conntrack && strlen(buf) + sizeof(",conntrack") <= len)
		strcat(buf, ",conntrack");
	if (a->feat.events && strlen(buf) + sizeof(",events") <= len)
		strcat(buf, ",events");
	if (a->feat.lb && strlen(buf) + sizeof(",lb") <= len)
		strcat(buf, ",lb");
	if (a->feat.decap && strlen(buf) + sizeof(",decap") <= len)
		strcat(buf, ",decap");
}

/* The compiler of this binary, for status. */
#ifdef __clang__
#define SL_CC "clang " __clang_version__
#else
#define SL_CC "gcc " __VERSION__
#endif

/* What status tells beyond the attachments: the running config's size and
 * policy, the capacities in use. */
struct status_cfg {
	bool known; /* there is state */
	size_t rules, set_entries, n_mgmt, syn_ports;
	bool conntrack;
	uint8_t policy[SL_RDIR_MAX];
	struct sl_limits lim;
	unsigned blob_kib;
};

static int status_cfg_read(struct sl_ctx *ctx, struct status_cfg *s)
{
	struct sl_config cfg;
	int err =
	    sl_config_read(ctx, &cfg, SL_READ_NO_SETS | SL_READ_NO_IFACES);

	if (err)
		return err;
	s->known = true;
	s->rules = cfg.n_rules;
	s->n_mgmt = cfg.n_mgmt;
	s->conntrack = cfg.ct.enabled;
	s->syn_ports = sl_syn_count(&cfg.syn);
	memcpy(s->policy, cfg.policy, sizeof(s->policy));
	sl_limits_effective(&cfg.limits, &s->lim);
	sl_config_free(&cfg);
	s->blob_kib = (1U << sl_blob_log_for(ctx->dir, NULL)) >> 10;
	return sl_set_count(ctx, &s->set_entries);
}

/* The program's tag (bpf_prog_info.tag) in hex, or "-". */
static void prog_tag(uint32_t id, char out[17])
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = id ? bpf_prog_get_fd_by_id(id) : -1;

	strcpy(out, "-");
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		for (int i = 0; i < 8; i++)
			sprintf(out + 2 * i, "%02x", info.tag[i]);
	close(fd);
}

static const char *pol_name(uint8_t a)
{
	return a == SL_ACT_DROP ? "drop" : "pass";
}

static void status_json_extra(struct jw *w, const struct status_cfg *s)
{
	jw_key(w, "build");
	jw_obj_open(w);
	jw_key(w, "version");
	jw_str(w, SLUICE_VERSION);
	jw_key(w, "compiler");
	jw_str(w, SL_CC);
	jw_key(w, "libbpf");
	{
		char v[32];

		snprintf(v, sizeof(v), "%u.%u", libbpf_major_version(),
			 libbpf_minor_version());
		jw_str(w, v);
	}
	jw_obj_close(w);
	if (!s->known)
		return;
	jw_key(w, "config");
	jw_obj_open(w);
	jw_key(w, "rules");
	jw_u64(w, s->rules);
	jw_key(w, "set_entries");
	jw_u64(w, s->set_entries);
	jw_key(w, "management_prefixes");
	jw_u64(w, s->n_mgmt);
	jw_key(w, "conntrack");
	jw_bool(w, s->conntrack);
	jw_key(w, "synproxy_ports");
	jw_u64(w, s->syn_ports);
	jw_key(w, "policy");
	jw_obj_open(w);
	jw_key(w, "in");
	jw_str(w, pol_name(s->policy[SL_RDIR_IN]));
	jw_key(w, "out");
	jw_str(w, pol_name(s->policy[SL_RDIR_OUT]));
	jw_obj_close(w);
	jw_obj_close(w);
	jw_key(w, "limits");
	jw_obj_open(w);
	jw_key(w, "set-prefixes");
	jw_u64(w, s->lim.prefixes);
	jw_key(w, "set-hosts");
	jw_u64(w, s->lim.hosts);
	jw_key(w, "rules");
	jw_u64(w, s->lim.rules);
	jw_key(w, "config_blob_kib");
	jw_u64(w, s->blob_kib);
	jw_obj_close(w);
}

static int run_status(struct cli *c, int argc, char **argv)
{
	struct sl_attachment *a = NULL;
	struct status_cfg sc = {0};
	struct sl_ctx ctx;
	char tag[17];
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
		err = status_cfg_read(&ctx, &sc);
		if (err) {
			pr_err("cannot read the running config under %s: %s",
			       ctx.dir, strerror(-err));
			free(a);
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
		jw_key(&w, "version");
		jw_str(&w, SLUICE_VERSION);
		jw_key(&w, "layout");
		jw_u64(&w, SL_LAYOUT_VERSION);
		status_json_extra(&w, &sc);
		jw_key(&w, "attachments");
		jw_arr_open(&w);
		for (size_t i = 0; i < n; i++) {
			jw_obj_open(&w);
			jw_key(&w, "ifname");
			jw_str(&w, a[i].ifname);
			jw_key(&w, "ifindex");
			jw_u64(&w, a[i].ifindex);
			jw_key(&w, "gone");
			jw_bool(&w, !a[i].ifindex);
			jw_key(&w, "hook");
			jw_str(&w, a[i].hook);
			jw_key(&w, "mode");
			jw_str(&w, a[i].mode);
			jw_key(&w, "prog_id");
			jw_u64(&w, a[i].prog_id);
			jw_key(&w, "link_id");
			jw_u64(&w, a[i].link_id);
			prog_tag(a[i].prog_id, tag);
			jw_key(&w, "tag");
			jw_str(&w, tag);
			jw_key(&w, "features");
			jw_arr_open(&w);
			if (a[i].feat_known) {
				jw_str(&w, a[i].feat.drop_malformed
					       ? "malformed-drop"
					       : "malformed-pass");
				for (size_t k = 0;
				     k < sizeof(stage_names) /
					     sizeof(stage_names[0]);
				     k++)
					if (!(a[i].feat.stages_off &
					      stage_names[k].off))
						jw_str(&w, stage_names[k].name);
				if (a[i].feat.conntrack)
					jw_str(&w, "conntrack");
				if (a[i].feat.events)
					jw_str(&w, "events");
				if (a[i].feat.lb)
					jw_str(&w, "lb");
				if (a[i].feat.decap)
					jw_str(&w, "decap");
			}
			jw_arr_close(&w);
			jw_obj_close(&w);
		}
		jw_arr_close(&w);
		jw_obj_close(&w);
		jw_end(&w);
	} else {
		printf("state: %s/%s (sluice %s, pinned layout %u; built with "
		       "%s, libbpf %u.%u)\n",
		       ctx.bpffs, SL_PIN_SUBDIR, SLUICE_VERSION,
		       SL_LAYOUT_VERSION, SL_CC, libbpf_major_version(),
		       libbpf_minor_version());
		if (sc.known) {
			printf("config: %zu rule%s, %zu set entr%s, policy in "
			       "%s out %s, %zu management prefix%s, conntrack "
			       "%s, %zu synproxy port%s\n",
			       sc.rules, sc.rules == 1 ? "" : "s",
			       sc.set_entries,
			       sc.set_entries == 1 ? "y" : "ies",
			       pol_name(sc.policy[SL_RDIR_IN]),
			       pol_name(sc.policy[SL_RDIR_OUT]), sc.n_mgmt,
			       sc.n_mgmt == 1 ? "" : "es",
			       sc.conntrack ? "on" : "off", sc.syn_ports,
			       sc.syn_ports == 1 ? "" : "s");
			printf("capacities: set-prefixes %u and set-hosts %u "
			       "per family and direction, rules %u, config "
			       "blob %u KiB\n",
			       sc.lim.prefixes, sc.lim.hosts, sc.lim.rules,
			       sc.blob_kib);
		}
		if (!n)
			printf("not attached to any interface\n");
		else
			printf("%-16s %-6s %-8s %8s %8s %-16s  %s\n", "IFACE",
			       "HOOK", "MODE", "PROG_ID", "LINK_ID", "TAG",
			       "FEATURES");
		for (size_t i = 0; i < n; i++) {
			char feats[96];

			features_list(&a[i], feats, sizeof(feats));
			prog_tag(a[i].prog_id, tag);
			printf("%-16s %-6s %-8s %8u %8u %-16s  %s%s\n",
			       a[i].ifname, a[i].hook, a[i].mode, a[i].prog_id,
			       a[i].link_id, tag, feats,
			       a[i].ifindex ? "" : " (interface gone)");
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
	"Lists every attachment recorded under <bpffs>/sluice, one per "
	"interface and hook (xdp, tc-in, tc-out): mode (native or\n"
	"generic for xdp, clsact for tc), program and link ids (TC filters "
	"have no link: 0), and the features the program was\n"
	"loaded with. An interface that no longer exists (or whose TC "
	"filter was removed behind Sluice's back) is marked\n"
	"'(interface gone)' (-j: \"gone\": true). Also the version and "
	"build, the program tags, the running config's rules, set\n"
	"entries, policy, "
	"management prefixes, conntrack switch and synproxy port count, and "
	"the capacities in use (limits and the config blob's\n"
	"class).",
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
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "reset");
		jw_bool(&w, true);
		jw_obj_close(&w);
		jw_end(&w);
	} else {
		printf("detached everywhere; all Sluice pins removed\n");
	}
	return EXIT_OK;
}

const struct cli_cmd cmd_reset = {
    .name = "reset",
    .args = "",
    .summary = "Detach everything and remove all pins (drops all state)",
    .description = "Removes every TC filter, link, map and folder under "
		   "<bpffs>/sluice: all interfaces are detached, the sets "
		   "and counters are gone. clsact qdiscs stay. A bpffs that "
		   "Sluice mounted itself (see --bpffs) is unmounted.",
    .opts = (const struct cli_opt[]){{}},
    .examples = "$ sluice reset",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_reset,
};
