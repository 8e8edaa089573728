// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_ct: `sluice ct list|flush|stats`, the connection table (one object,
 * its sub-commands). list and stats only read (they create no state);
 * flush holds the state's lock. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "names.h"

static const struct cli_opt ct_opts[] = {
    {"src", 0, "ADDR",
     "Flows started from ADDR (an address or a prefix, IPv4 or IPv6)."},
    {"dst", 0, "ADDR", "Flows to ADDR (the end that answered)."},
    {"port", 0, "N", "Flows with TCP or UDP port N at either end."},
    {"proto", 0, "P", "Flows of protocol P: tcp, udp, icmp or icmpv6."},
    {"state", 0, "S",
     "Flows in state S: syn-sent, syn-recv, established, fin-wait, "
     "close-wait, last-ack, time-wait, close (TCP), unreplied, assured "
     "(UDP), echo-request, echo-replied (ICMP)."},
    {},
};

static const char *proto_name(int p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	}
	return "other";
}

/* The filter of the options; 0 or an exit status (bad usage). */
static int filter_parse(struct cli *c, struct sl_ct_filter *f)
{
	const char *v;
	char err[160];

	memset(f, 0, sizeof(*f));
	f->port = f->proto = f->state = -1;
	if ((v = cli_opt(c, "src"))) {
		if (sl_prefix_parse(v, &f->src, err, sizeof(err)))
			return cli_usage_error(c, "--src: %s", err);
		f->has_src = true;
	}
	if ((v = cli_opt(c, "dst"))) {
		if (sl_prefix_parse(v, &f->dst, err, sizeof(err)))
			return cli_usage_error(c, "--dst: %s", err);
		f->has_dst = true;
	}
	if (cli_opt(c, "port"))
		f->port = (int)cli_opt_long(c, "port", -1, 0, 65535);
	if ((v = cli_opt(c, "proto"))) {
		struct sl_rule r;

		/* the rule field's names (rulefield.c), tracked ones only */
		sl_rule_init(&r);
		if (sl_rule_set_field(&r, "proto", v, err, sizeof(err)) ||
		    (r.proto != IPPROTO_TCP && r.proto != IPPROTO_UDP &&
		     r.proto != IPPROTO_ICMP && r.proto != IPPROTO_ICMPV6))
			return cli_usage_error(c,
					       "--proto expects tcp, udp, icmp "
					       "or icmpv6, not '%s'",
					       v);
		f->proto = r.proto;
	}
	if ((v = cli_opt(c, "state"))) {
		f->state = sl_ct_state_parse(v);
		if (f->state < 0)
			return cli_usage_error(c, "--state: unknown state '%s'",
					       v);
	}
	return 0;
}

static void addr_text(const struct sl_ct_entry *e, const uint8_t *a, char *buf,
		      size_t len)
{
	inet_ntop(e->family, a, buf, len);
}

static void entry_json(struct jw *w, const struct sl_ct_entry *e)
{
	char a[INET6_ADDRSTRLEN];
	bool ports = e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP;

	jw_obj_open(w);
	jw_key(w, "proto");
	jw_str(w, proto_name(e->proto));
	jw_key(w, "family");
	jw_str(w, e->family == AF_INET6 ? "ipv6" : "ipv4");
	addr_text(e, e->src, a, sizeof(a));
	jw_key(w, "src");
	jw_str(w, a);
	addr_text(e, e->dst, a, sizeof(a));
	jw_key(w, "dst");
	jw_str(w, a);
	if (ports) {
		jw_key(w, "sport");
		jw_u64(w, e->sport);
		jw_key(w, "dport");
		jw_u64(w, e->dport);
	} else {
		jw_key(w, "id");
		jw_u64(w, e->sport);
	}
	jw_key(w, "state");
	jw_str(w, sl_ct_state_name(e->val.state));
	jw_key(w, "replied");
	jw_bool(w, e->val.flags & SL_CT_F_REPLIED);
	jw_key(w, "expires_s");
	jw_u64(w, e->expires_ns / 1000000000ULL);
	jw_key(w, "age_s");
	jw_u64(w, e->age_ns / 1000000000ULL);
	for (int d = 0; d < 2; d++) {
		jw_key(w, d ? "reply" : "orig");
		jw_obj_open(w);
		jw_key(w, "packets");
		jw_u64(w, e->val.packets[d]);
		jw_key(w, "bytes");
		jw_u64(w, e->val.bytes[d]);
		jw_obj_close(w);
	}
	if (e->expired) {
		jw_key(w, "expired");
		jw_bool(w, true);
	}
	jw_obj_close(w);
}

static void entry_row(const struct sl_ct_entry *e)
{
	char s[INET6_ADDRSTRLEN + 16], d[INET6_ADDRSTRLEN + 16];
	char a[INET6_ADDRSTRLEN];
	bool ports, v6;

	if (!e) {
		printf("%-6s %-30s %-30s %-12s %8s %12s %12s\n", "PROTO",
		       "SOURCE", "DESTINATION", "STATE", "EXPIRES", "PKTS O/R",
		       "BYTES O/R");
		return;
	}
	ports = e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP;
	v6 = e->family == AF_INET6;
	addr_text(e, e->src, a, sizeof(a));
	if (ports)
		snprintf(s, sizeof(s), v6 ? "[%s]:%u" : "%s:%u", a, e->sport);
	else
		snprintf(s, sizeof(s), "%s id %u", a, e->sport);
	addr_text(e, e->dst, a, sizeof(a));
	if (ports)
		snprintf(d, sizeof(d), v6 ? "[%s]:%u" : "%s:%u", a, e->dport);
	else
		snprintf(d, sizeof(d), "%s", a);
	printf("%-6s %-30s %-30s %-12s %7llus %5llu/%-6llu %5llu/%-6llu\n",
	       proto_name(e->proto), s, d, sl_ct_state_name(e->val.state),
	       (unsigned long long)(e->expires_ns / 1000000000ULL),
	       (unsigned long long)e->val.packets[0],
	       (unsigned long long)e->val.packets[1],
	       (unsigned long long)e->val.bytes[0],
	       (unsigned long long)e->val.bytes[1]);
}

static int run_ct_list(struct cli *c, int argc, char **argv)
{
	struct sl_ct_filter f;
	struct sl_ct_entry *e = NULL;
	struct sl_ctx ctx;
	size_t n = 0;
	int rc;

	(void)argc;
	(void)argv;
	rc = filter_parse(c, &f);
	if (rc)
		return rc;
	rc = cli_open_ro(c, &ctx);
	if (rc)
		return rc;
	rc = cli_exit(sl_ct_list(&ctx, &f, false, &e, &n));
	sl_close(&ctx);
	if (rc)
		return rc;
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "flows");
		jw_arr_open(&w);
		for (size_t i = 0; i < n; i++)
			entry_json(&w, &e[i]);
		jw_arr_close(&w);
		jw_obj_close(&w);
		jw_end(&w);
	} else {
		entry_row(NULL);
		for (size_t i = 0; i < n; i++)
			entry_row(&e[i]);
		printf("%zu %s\n", n, cli_plural(n, "flow", "flows"));
	}
	free(e);
	return EXIT_OK;
}

static int run_ct_flush(struct cli *c, int argc, char **argv)
{
	struct sl_ct_filter f;
	struct sl_ctx ctx;
	size_t n = 0;
	int rc;

	(void)argc;
	(void)argv;
	rc = filter_parse(c, &f);
	if (rc)
		return rc;
	rc = cli_open(c, &ctx, false);
	if (rc)
		return rc;
	rc = cli_exit(sl_ct_flush(&ctx, &f, &n));
	sl_close(&ctx);
	if (rc)
		return rc;
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "flushed");
		jw_u64(&w, n);
		jw_obj_close(&w);
		jw_end(&w);
	} else {
		printf("%zu %s flushed\n", n, cli_plural(n, "flow", "flows"));
	}
	return EXIT_OK;
}

static int run_ct_stats(struct cli *c, int argc, char **argv)
{
	struct sl_ct_stats st;
	struct sl_ctx ctx;
	int rc;

	(void)argc;
	(void)argv;
	rc = cli_open_ro(c, &ctx);
	if (rc)
		return rc;
	rc = cli_exit(sl_ct_stats_read(&ctx, &st));
	sl_close(&ctx);
	if (rc)
		return rc;
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "enabled");
		jw_bool(&w, st.enabled);
		const struct {
			const char *key;
			uint64_t v;
		} nums[] = {
		    {"capacity", st.capacity}, {"flows", st.entries},
		    {"expired", st.expired},   {"tcp", st.tcp},
		    {"udp", st.udp},	       {"icmp", st.icmp},
		    {"ipv6", st.ipv6},
		};

		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
			jw_key(&w, nums[i].key);
			jw_u64(&w, nums[i].v);
		}
		jw_key(&w, "states");
		jw_obj_open(&w);
		for (int s = 1; s < SL_CTS_MAX; s++) {
			jw_key(&w, sl_ct_state_name(s));
			jw_u64(&w, st.by_state[s]);
		}
		jw_obj_close(&w);
		jw_obj_close(&w);
		jw_end(&w);
		return EXIT_OK;
	}
	printf("conntrack: %s\n", st.enabled ? "enabled" : "disabled");
	printf("flows: %zu of %u (%zu expired entries not yet reused)\n",
	       st.entries, st.capacity, st.expired);
	printf("by protocol: tcp %zu, udp %zu, icmp %zu (ipv6 %zu)\n", st.tcp,
	       st.udp, st.icmp, st.ipv6);
	for (int s = 1; s < SL_CTS_MAX; s++)
		if (st.by_state[s])
			printf("  %-14s %zu\n", sl_ct_state_name(s),
			       st.by_state[s]);
	return EXIT_OK;
}

static const struct cli_cmd ct_list = {
    .name = "list",
    .args = "",
    .summary = "List the live flows (filters: --src --dst --port --proto "
	       "--state)",
    .opts = ct_opts,
    .min_args = 0,
    .max_args = 0,
    .arity_err = "'ct list' takes no arguments, only filters",
    .run = run_ct_list,
};

static const struct cli_cmd ct_flush = {
    .name = "flush",
    .args = "",
    .summary = "Delete the flows the filters match (all without filters)",
    .opts = ct_opts,
    .min_args = 0,
    .max_args = 0,
    .arity_err = "'ct flush' takes no arguments, only filters",
    .run = run_ct_flush,
};

static const struct cli_cmd ct_stats = {
    .name = "stats",
    .args = "",
    .summary = "Count the flows by state and protocol, with the capacity",
    .min_args = 0,
    .max_args = 0,
    .arity_err = "'ct stats' takes no arguments",
    .run = run_ct_stats,
};

const struct cli_cmd cmd_ct = {
    .name = "ct",
    .summary = "List, flush and count the connection table",
    .description =
	"The connection table of the conntrack stage (config file: "
	"'conntrack: {enabled: true}', docs/config.md). One\n"
	"entry per flow, both directions: TCP with its state (syn-sent to "
	"time-wait, close), UDP unreplied or assured,\n"
	"ICMP/ICMPv6 echo by identifier; IPv4 and IPv6. 'ct list' shows "
	"each live flow from its initiator (source) to the\n"
	"end that answered (destination), its state, the seconds left "
	"before its state's timeout and the packets and\n"
	"bytes of each direction (O: the initiator's, R: the replies). "
	"Entries past their timeout count as absent and\n"
	"are not listed (the table is an LRU: new flows reuse them). 'ct "
	"flush' deletes the matching flows at once (their\n"
	"next packets start over: a TCP segment other than a SYN is then "
	"invalid). 'ct stats' counts the live flows by state\n"
	"and protocol next to the capacity. apply never changes the table; "
	"reset removes it. list and stats create no state.",
    .opts = ct_opts,
    .examples = "$ sluice ct list\n"
		"$ sluice ct list -j --proto tcp --state established\n"
		"$ sluice ct list --src 198.18.0.0/15 --port 443\n"
		"$ sluice ct flush --dst 2001:db8::1\n"
		"$ sluice ct flush\n"
		"$ sluice ct stats -j",
    .min_args = 1,
    .max_args = -1,
    .needs_root = true,
    .subs =
	(const struct cli_cmd *const[]){&ct_list, &ct_flush, &ct_stats, NULL},
    .opts_err = "filters go with 'ct list' and 'ct flush'",
};
