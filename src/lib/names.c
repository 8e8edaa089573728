// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* names: the strings for enum sl_reason, sl_action, sl_hook_id, sl_dir,
 * sl_set_kind. */
#include <string.h>

#include <sluice/abi.h>

#include "names.h"

static const struct {
	const char *name;
	const char *help;
} reasons[SL_R_MAX] = {
    [SL_R_PASS] = {"pass", "IP packet no stage or rule objected to"},
    [SL_R_NON_IP] = {"non-ip", "not IPv4/IPv6 (ARP, LLDP, ...), passed"},
    [SL_R_ALLOW_SET] = {"allow-set", "longest matching prefix allows"},
    [SL_R_DENY_SET] = {"deny-set", "longest matching prefix denies"},
    [SL_R_MALFORMED_L2] = {"malformed-l2", "Ethernet/VLAN header truncated"},
    [SL_R_MALFORMED_L3] = {"malformed-l3",
			   "bad IPv4/IPv6 header, length or extension chain"},
    [SL_R_MALFORMED_L4] = {"malformed-l4",
			   "bad or truncated TCP/UDP/ICMP header"},
    [SL_R_RULE] = {"rule", "a rule passed or dropped it (see rule counters)"},
    [SL_R_POLICY] = {"policy", "no rule matched; the default policy drops"},
    [SL_R_TCP_SYNFIN] = {"tcp-syn-fin", "TCP with SYN and FIN set"},
    [SL_R_TCP_SYNRST] = {"tcp-syn-rst", "TCP with SYN and RST set"},
    [SL_R_TCP_NOFLAGS] = {"tcp-no-flags",
			  "TCP without FIN, SYN, RST, PSH, ACK or URG (null "
			  "scan)"},
    [SL_R_TCP_FIN_NOACK] = {"tcp-fin-no-ack", "TCP FIN without ACK"},
    [SL_R_TCP_XMAS] = {"tcp-xmas", "TCP FIN, PSH and URG without ACK (XMAS "
				   "scan)"},
    [SL_R_LAND] = {"land", "source address equals destination address"},
    [SL_R_BANNED] = {"banned", "the source is banned (sluice ban)"},
    [SL_R_CT_INVALID] = {"ct-invalid",
			 "fits no connection state (conntrack drop-invalid)"},
    [SL_R_RATELIMIT] = {"ratelimit",
			"a ratelimit rule's token bucket was empty"},
    [SL_R_SYN_COOKIE] = {"syn-cookie",
			 "a SYN to a synproxy port, answered from XDP with a "
			 "SYN cookie"},
    [SL_R_SYN_COOKIE_BAD] = {"syn-cookie-invalid",
			     "an ACK to a synproxy port of no tracked flow "
			     "whose SYN cookie does not check"},
    [SL_R_FRAG] = {"fragment",
		   "a later fragment took its datagram's first fragment's "
		   "verdict"},
    [SL_R_LB_NO_BACKEND] = {"lb-no-backend",
			    "a packet to a load-balanced service with no "
			    "usable backend"},
    [SL_R_LB_FWD] = {"lb-forward",
		     "the load balancer sent the packet to a backend (or "
		     "a nat reply back to its client)"},
    [SL_R_LB_NO_ROUTE] = {"lb-no-route",
			  "the load balancer found no resolved next hop for "
			  "the packet: passed to the stack"},
    [SL_R_LB_TOO_BIG] = {"lb-too-big",
			 "dsr-ipip: the encapsulated packet would exceed the "
			 "egress MTU: answered with ICMP fragmentation "
			 "needed / packet too big (or, IPv4 without DF, "
			 "dropped)"},
#ifdef SL_NEXT_LAYOUT
    [SL_R_NEXT_TEST] = {"next-test", "test build: a reason appended later"},
#endif
};

const char *sl_reason_name(unsigned int r)
{
	return r < SL_R_MAX && reasons[r].name ? reasons[r].name : "unknown";
}

const char *sl_reason_help(unsigned int r)
{
	return r < SL_R_MAX && reasons[r].help ? reasons[r].help : "";
}

const char *sl_action_name(unsigned int a)
{
	static const char *const n[SL_ACT_MAX] = {
	    [SL_ACT_PASS] = "pass",
	    [SL_ACT_DROP] = "drop",
	    [SL_ACT_TX] = "tx",
	    [SL_ACT_REDIRECT] = "redirect",
	    [SL_ACT_ABORT] = "abort",
#ifdef SL_NEXT_LAYOUT
	    [SL_ACT_NEXT_TEST] = "next-test",
#endif
	};

	return a < SL_ACT_MAX ? n[a] : "unknown";
}

const char *sl_hook_name(unsigned int h)
{
	/* The names status and the link pins use for the hooks; "unknown":
	 * counts carried by an upgrade from a layout without hooks. */
	static const char *const n[SL_HK_MAX] = {
	    [SL_HK_XDP] = "xdp",
	    [SL_HK_TC_IN] = "tc-in",
	    [SL_HK_TC_OUT] = "tc-out",
	    [SL_HK_UNKNOWN] = "unknown",
	};

	return h < SL_HK_MAX ? n[h] : "unknown";
}

const char *sl_dir_name(unsigned int d)
{
	return d == SL_DIR_SRC ? "src" : d == SL_DIR_DST ? "dst" : "unknown";
}

const char *sl_set_kind_name(unsigned int k)
{
	return k == SL_SET_ALLOW  ? "allow"
	       : k == SL_SET_DENY ? "deny"
				  : "unknown";
}

const char *sl_rule_action_name(unsigned int a)
{
	static const char *const n[SL_RACT_MAX] = {
	    [SL_RACT_PASS] = "pass",	     [SL_RACT_DROP] = "drop",
	    [SL_RACT_COUNT] = "count",	     [SL_RACT_RATELIMIT] = "ratelimit",
	    [SL_RACT_REDIRECT] = "redirect",
	};

	return a < SL_RACT_MAX ? n[a] : "unknown";
}

static const char *const ct_states[SL_CTS_MAX] = {
    [SL_CTS_NONE] = "none",
    [SL_CTS_SYN_SENT] = "syn-sent",
    [SL_CTS_SYN_RECV] = "syn-recv",
    [SL_CTS_ESTABLISHED] = "established",
    [SL_CTS_FIN_WAIT] = "fin-wait",
    [SL_CTS_CLOSE_WAIT] = "close-wait",
    [SL_CTS_LAST_ACK] = "last-ack",
    [SL_CTS_TIME_WAIT] = "time-wait",
    [SL_CTS_CLOSE] = "close",
    [SL_CTS_UDP_UNREPLIED] = "unreplied",
    [SL_CTS_UDP_ASSURED] = "assured",
    [SL_CTS_ICMP_REQUEST] = "echo-request",
    [SL_CTS_ICMP_REPLIED] = "echo-replied",
};

const char *sl_ct_state_name(unsigned int s)
{
	return s < SL_CTS_MAX && ct_states[s] ? ct_states[s] : "unknown";
}

int sl_ct_state_parse(const char *name)
{
	for (int i = 1; i < SL_CTS_MAX; i++)
		if (!strcmp(name, ct_states[i]))
			return i;
	return -1;
}

const char *sl_ct_pkt_name(unsigned int ct)
{
	static const char *const n[SL_CT_PKT_MAX] = {
	    [SL_CT_UNTRACKED] = "untracked",	 [SL_CT_NEW] = "new",
	    [SL_CT_ESTABLISHED] = "established", [SL_CT_RELATED] = "related",
	    [SL_CT_INVALID] = "invalid",
	};

	return ct < SL_CT_PKT_MAX ? n[ct] : "unknown";
}
