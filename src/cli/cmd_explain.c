// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_explain: what the running datapath decides for one packet, stage by
 * stage (src/lib/explain.c). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "cli.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "rulefield.h"

/* The packet's fields: `rule add`'s match options, each naming one value;
 * their value names and help come from the rule field table. */
static const char *const pkt_keys[] = {
    "direction", "iface",   "src",	 "dst",	      "proto",
    "sport",	 "dport",   "icmp-type", "icmp-code", "tcp-flags",
    "vlan",	 "src-mac", "dst-mac",	 "fragment",
};
#define N_PKT_KEYS (sizeof(pkt_keys) / sizeof(pkt_keys[0]))
static struct cli_opt pkt_opts[N_PKT_KEYS + 1];

__attribute__((constructor)) static void pkt_opts_fill(void)
{
	const struct sl_rule_field *f[SL_RULE_NFIELDS];
	size_t n = sl_rule_fields_sorted(false, f), k = 0;

	for (size_t i = 0; i < N_PKT_KEYS; i++)
		for (size_t j = 0; j < n; j++)
			if (!strcmp(f[j]->key, pkt_keys[i]))
				pkt_opts[k++] = (struct cli_opt){
				    f[j]->key, 0, f[j]->metavar,
				    /* a packet goes one way */
				    !strcmp(f[j]->key, "direction")
					? "in (default: through the XDP "
					  "program) or out (through TC egress)."
					: f[j]->help};
}

/* The prefix the set entry of the trace stands for: the packet's address
 * in that direction, cut to the entry's length. */
static void entry_prefix(const struct sl_rule *p, const struct sl_trace *t,
			 char *buf, size_t len)
{
	struct sl_prefix x = t->set_dir == SL_DIR_SRC ? p->src : p->dst;

	x.plen = t->set_plen;
	for (int b = x.plen; b < 128; b++)
		x.addr[b / 8] &= ~(0x80 >> (b % 8));
	sl_prefix_format(&x, buf, len);
}

static const struct sl_rule *rule_by_id(const struct sl_rule *r, size_t n,
					uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].id == id)
			return &r[i];
	return NULL;
}

static const char *parsed_name(int parsed)
{
	return parsed == SL_R_PASS ? "well-formed" : sl_reason_name(parsed);
}

static void print_text(const struct sl_rule *p, const struct sl_explain *x,
		       const struct sl_rule *rules, size_t nrules)
{
	const struct sl_trace *t = &x->t;
	const struct sl_rule *r = rule_by_id(rules, nrules, t->rule_id);
	char buf[512];

	sl_rule_format_match(p, buf, sizeof(buf));
	printf("packet:   %s (%zu-byte frame, %s, %s)\n", buf, x->len,
	       x->dir == SL_RDIR_IN ? "ingress" : "egress",
	       x->dir == SL_RDIR_IN ? "xdp program" : "tc egress program");
	printf("config:   %s\n", t->serial ? "the running config" : "none");
	printf("parse:    %s\n", parsed_name(t->parsed));
	if (t->set_hit) {
		entry_prefix(p, t, buf, sizeof(buf));
		printf("sets:     %s entry %s (%s) matches\n",
		       sl_set_kind_name(t->set_kind), buf,
		       sl_dir_name(t->set_dir));
	} else {
		printf("sets:     %s\n", x->dir == SL_RDIR_IN
					     ? "no entry matches"
					     : "not consulted at egress");
	}
	/* the trace copy looks the flow up and changes nothing */
	if (t->ct != SL_CT_UNTRACKED)
		printf("conntrack: %s\n", sl_ct_pkt_name(t->ct));
	for (uint32_t i = 0; i < t->n_count && i < SL_TRACE_COUNTS; i++) {
		const struct sl_rule *c =
		    rule_by_id(rules, nrules, t->count_ids[i]);

		if (c)
			sl_rule_format(c, buf, sizeof(buf));
		printf("count:    rule %u: %s\n", t->count_ids[i],
		       c ? buf : "?");
	}
	if (t->rule_id) {
		if (r)
			sl_rule_format(r, buf, sizeof(buf));
		printf("rules:    rule %u decides: %s\n", t->rule_id,
		       r ? buf : "?");
	} else if (t->reason == SL_R_POLICY || t->reason == SL_R_PASS) {
		printf("rules:    no rule decides\n");
	}
	if (t->reason == SL_R_POLICY || t->reason == SL_R_PASS)
		printf("policy:   %s\n", sl_action_name(t->action));
	printf("verdict:  %s (reason %s)\n", sl_action_name(t->action),
	       sl_reason_name(t->reason));
	printf("nothing was counted\n");
}

static void print_json(const struct sl_rule *p, const struct sl_explain *x)
{
	const struct sl_trace *t = &x->t;
	struct jw w;
	char buf[64];

	jw_init(&w, stdout);
	jw_obj_open(&w);
	jw_key(&w, "direction");
	jw_str(&w, x->dir == SL_RDIR_IN ? "in" : "out");
	jw_key(&w, "hook");
	jw_str(&w, x->dir == SL_RDIR_IN ? "xdp" : "tc-out");
	jw_key(&w, "frame_bytes");
	jw_u64(&w, x->len);
	jw_key(&w, "config");
	jw_bool(&w, t->serial != 0);
	jw_key(&w, "parsed");
	jw_str(&w, parsed_name(t->parsed));
	jw_key(&w, "set_entry");
	if (t->set_hit) {
		jw_obj_open(&w);
		jw_key(&w, "set");
		jw_str(&w, sl_set_kind_name(t->set_kind));
		jw_key(&w, "dir");
		jw_str(&w, sl_dir_name(t->set_dir));
		entry_prefix(p, t, buf, sizeof(buf));
		jw_key(&w, "prefix");
		jw_str(&w, buf);
		jw_obj_close(&w);
	} else {
		jw_null(&w);
	}
	jw_key(&w, "ct_state");
	jw_str(&w, sl_ct_pkt_name(t->ct));
	jw_key(&w, "count_rules");
	jw_arr_open(&w);
	for (uint32_t i = 0; i < t->n_count && i < SL_TRACE_COUNTS; i++)
		jw_u64(&w, t->count_ids[i]);
	jw_arr_close(&w);
	jw_key(&w, "rule");
	if (t->rule_id)
		jw_u64(&w, t->rule_id);
	else
		jw_null(&w);
	jw_key(&w, "action");
	jw_str(&w, sl_action_name(t->action));
	jw_key(&w, "reason");
	jw_str(&w, sl_reason_name(t->reason));
	jw_obj_close(&w);
	jw_end(&w);
}

static int run_explain(struct cli *c, int argc, char **argv)
{
	struct sl_rule p, *rules = NULL;
	struct sl_explain x;
	struct sl_ctx ctx;
	size_t nrules = 0;
	char err[256];
	int rc, e;

	(void)argc;
	(void)argv;
	sl_rule_init(&p);
	for (size_t i = 0; pkt_opts[i].name; i++) {
		const char *v = cli_opt(c, pkt_opts[i].name);

		if (v && sl_rule_set_field(&p, pkt_opts[i].name, v, err,
					   sizeof(err)))
			return cli_usage_error(c, "%s", err);
	}
	if (p.dirs == 3)
		p.dirs = 1 << SL_RDIR_IN; /* default: ingress */
	if (cli_opt(c, "direction") && !strcmp(cli_opt(c, "direction"), "both"))
		return cli_usage_error(c, "--direction is in or out: a packet "
					  "goes one way");
	if (p.iface[0]) {
		p.ifindex = if_nametoindex(p.iface);
		if (!p.ifindex)
			return cli_usage_error(
			    c,
			    "no interface named '%s' in this "
			    "network namespace",
			    p.iface);
	}
	if (!p.has_proto && p.l3 != SL_L3_ARP) {
		p.has_proto = 1;
		p.proto = IPPROTO_TCP;
	}
	/* The combinations rule add refuses (--icmp-code without
	 * --icmp-type, ports of a later fragment, ...) describe no packet
	 * either. */
	{
		struct sl_rule v = p; /* checked as a pass rule */

		v.action = SL_RACT_PASS;
		if (sl_rule_validate(&v, err, sizeof(err)))
			return cli_usage_error(c, "%s", err);
	}
	if (p.has_proto && p.proto == IPPROTO_TCP && !p.tcp_mask)
		p.tcp_flags = 0x02; /* a SYN unless --tcp-flags says */
	/* Ports not given: 40000 -> 80 (protocols with ports only; a later
	 * fragment carries none). */
	if (p.has_proto &&
	    (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP ||
	     p.proto == IPPROTO_SCTP) &&
	    p.fragment != 1U << SL_FRAG_LATER) {
		if (!p.sport_lo && p.sport_hi == 65535)
			p.sport_lo = p.sport_hi = 40000;
		if (!p.dport_lo && p.dport_hi == 65535)
			p.dport_lo = p.dport_hi = 80;
	}
	rc = cli_open(c, &ctx, false);
	if (rc)
		return rc;
	e = sl_explain(&ctx, &p, &x, err, sizeof(err));
	if (e == -EINVAL) {
		sl_close(&ctx);
		return cli_usage_error(c, "%s", err);
	}
	if (e) {
		if (err[0])
			pr_err("%s", err);
		sl_close(&ctx);
		return cli_exit(e);
	}
	if (c->json) {
		print_json(&p, &x);
	} else {
		if (sl_rules_read(&ctx, &rules, &nrules))
			nrules = 0;
		print_text(&p, &x, rules, nrules);
		free(rules);
	}
	sl_close(&ctx);
	return EXIT_OK;
}

const struct cli_cmd cmd_explain = {
    .name = "explain",
    .args = "",
    .summary = "Show what the running datapath decides for a packet, and why",
    .description =
	"Builds the frame of one packet from the options (each names one "
	"value: an address, a port; TCP is a SYN unless --tcp-flags says\n"
	"otherwise, ICMP an echo request, ports not given are 40000 to 80) and "
	"runs it through a private copy "
	"of the running program of that direction (XDP for in,\n"
	"TC egress for out), on the pinned tables and with the switches the "
	"attached programs run. The copy counts nothing: no\n"
	"reason, set entry or rule counter moves. It prints, stage by stage, "
	"how the frame parsed, the set entry that matched, the\n"
	"count rules met, the rule that decided or the policy, and the "
	"verdict. The options are those of 'rule add' that\n"
	"describe a packet, with the same checks (--icmp-code needs "
	"--icmp-type, ports need tcp, udp or sctp\n"
	"and a first fragment); --src and --dst are required, but with "
	"--proto arp, which takes no addresses.",
    .opts = pkt_opts,
    .examples =
	"$ sluice explain --src 198.18.0.9 --dst 198.18.0.2 --proto tcp "
	"--dport 443\n"
	"$ sluice explain --direction out --src 2001:db8::2 --dst "
	"2001:db8::9 --proto udp --sport 53 --dport 40000\n"
	"$ sluice explain -j --src 198.18.0.9 --dst 198.18.0.2 --proto icmp",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_explain,
};
