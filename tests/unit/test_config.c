// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_config: rule fields from text (sl_rule_set_field), cross-field
 * validation (sl_rule_validate), rule formatting, and YAML configs
 * (sl_config_load, sl_config_write, sl_config_equal): good files, bad files
 * with their exact FILE:LINE:COL, round trips. Needs no privileges; the
 * files are written to a temporary directory and removed. Uses the
 * interface "lo" where an existing interface is needed. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "sluice.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- sl_rule_set_field ---- */

struct field_ok {
	const char *key, *value;
	const char *fmt; /* expected in sl_rule_format of the rule */
};

static const struct field_ok field_ok[] = {
    {"id", "7", "id 7 prio"},
    {"id", "1", "id 1 prio"},
    {"id", "131071", "id 131071 prio"},
    {"priority", "0", "prio 0 "},
    {"priority", "65535", "prio 65535 "},
    {"priority", "01000", "prio 1000 "},
    {"action", "pass", " pass"},
    {"action", "drop", " drop"},
    {"action", "count", " count"},
    {"action", "ratelimit", " ratelimit"},
    {"direction", "in", " drop in"},
    {"direction", "out", " drop out"},
    {"src", "198.18.0.0/15", " src 198.18.0.0/15"},
    {"src", "198.18.0.1", " src 198.18.0.1/32"},
    {"src", "2001:db8::/32", " src 2001:db8::/32"},
    {"dst", "0.0.0.0/0", " dst 0.0.0.0/0"},
    {"dst", "2001:db8::1", " dst 2001:db8::1/128"},
    {"proto", "tcp", " proto tcp"},
    {"proto", "udp", " proto udp"},
    {"proto", "icmp", " proto icmp"},
    {"proto", "icmpv6", " proto icmpv6"},
    {"proto", "sctp", " proto sctp"},
    {"proto", "arp", " proto arp"},
    {"proto", "6", " proto tcp"},
    {"proto", "47", " proto 47"},
    {"proto", "0", " proto 0"},
    {"proto", "255", " proto 255"},
    {"sport", "1024-65535", " sport 1024-65535"},
    {"sport", "0-1023", " sport 0-1023"},
    {"dport", "80", " dport 80"},
    {"dport", "0", " dport 0"},
    {"dport", "65535", " dport 65535"},
    {"dport", "443-443", " dport 443"},
    {"icmp-type", "8", " icmp-type 8"},
    {"icmp-type", "0", " icmp-type 0"},
    {"icmp-type", "255", " icmp-type 255"},
    {"icmp-code", "0", " icmp-code 0"},
    {"icmp-code", "255", " icmp-code 255"},
    {"tcp-flags", "syn/syn,ack", " tcp-flags syn/syn,ack"},
    {"tcp-flags", "syn,ack", " tcp-flags syn,ack"},
    {"tcp-flags", "ack,syn", " tcp-flags syn,ack"},
    {"tcp-flags", "/rst", " tcp-flags /rst"},
    {"tcp-flags", "FIN", " tcp-flags fin"},
    {"tcp-flags", "fin,syn,rst,psh,ack,urg,ece,cwr",
     " tcp-flags fin,syn,rst,psh,ack,urg,ece,cwr"},
    {"vlan", "1", " vlan 1"},
    {"vlan", "4094", " vlan 4094"},
    {"iface", "eth0", " iface eth0"},
    {"iface", "abcdefghijklmno", " iface abcdefghijklmno"},
    {"iface", "veth-a.10", " iface veth-a.10"},
    {"to", "eth1", " to eth1"},
    {"src-mac", "02:00:00:00:00:01", " src-mac 02:00:00:00:00:01"},
    {"dst-mac", "AA:bb:CC:dd:EE:ff", " dst-mac aa:bb:cc:dd:ee:ff"},
    {"dst-mac", "ff:ff:ff:ff:ff:ff", " dst-mac ff:ff:ff:ff:ff:ff"},
    {"to", "veth-b.20", " to veth-b.20"},
    {"comment", "hello world", " comment \"hello world\""},
    {"comment", "say \"hi\" \\o/", " comment \"say \\\"hi\\\" \\\\o/\""},
    {"comment", "a: #b", " comment \"a: #b\""},
    {"rate", "1000/s", " rate 1000/s"},
    {"rate", "4294967295/s", " rate 4294967295/s"},
    {"rate", "1MB/s", " rate 1MB/s"},
    {"rate", "1500kB/s", " rate 1500kB/s"},
    {"rate", "10mbit/s", " rate 1250kB/s"},
    {"rate", "1gbit/s", " rate 125MB/s"},
    {"rate", "4GB/s", " rate 4GB/s"},
    {"rate", "123B/s", " rate 123B/s"},
    {"rate", "1kbit/s", " rate 125B/s"},
    {"burst", "1", " burst 1"},
    {"burst", "4294967295", " burst 4294967295"},
    {"per", "rule", " per rule"},
    {"per", "src/24", " per src/24,src/128"},
    {"per", "src/64", " per src/32,src/64"},
    {"per", "src/16,src/48", " per src/16,src/48"},
    {"ban", "30s", " ban 30s"},
    {"ban", "600", " ban 10m"},
    {"ban", "120m", " ban 2h"},
    {"ban", "3650d", " ban 3650d"},
};

static bool check_field_ok(const struct field_ok *t)
{
	struct sl_rule r;
	char err[256] = "", buf[512];

	sl_rule_init(&r);
	r.action = SL_RACT_DROP;
	if (!ASSERT_EQ(
		sl_rule_set_field(&r, t->key, t->value, err, sizeof(err)), 0,
		"return value"))
		return false;
	sl_rule_format(&r, buf, sizeof(buf));
	return ASSERT_STR_HAS(buf, t->fmt, "formatted rule");
}

struct field_bad {
	const char *key, *value;
	const char *msg; /* a part of the error text */
};

static const struct field_bad field_bad[] = {
    {"id", "0", "id: expected an id 1-131071, got '0'"},
    {"id", "131072", "id: expected an id 1-131071, got '131072'"},
    {"id", "-1", "id: expected an id 1-131071"},
    {"id", "abc", "id: expected an id 1-131071, got 'abc'"},
    {"id", "", "id: expected an id 1-131071, got ''"},
    {"id", " 7", "id: expected"},
    {"id", "99999999999999999999999", "id: expected"},
    {"priority", "65536", "priority: expected a priority 0-65535"},
    {"priority", "-1", "priority: expected a priority 0-65535"},
    {"priority", "1.5", "priority: expected a priority 0-65535"},
    {"action", "accept",
     "action: expected pass, drop, count, ratelimit or redirect, got 'accept'"},
    {"action", "DROP",
     "action: expected pass, drop, count, ratelimit or redirect"},
    {"action", "", "action: expected"},
    {"direction", "inbound",
     "direction: expected in, out or both, got "
     "'inbound'"},
    {"src", "198.18.0.1/24",
     "src: expected an IPv4 or IPv6 address or "
     "prefix, got '198.18.0.1/24'"},
    {"src", "foo", "src: expected an IPv4 or IPv6 address"},
    {"dst", "2001:db8::/129", "dst: expected an IPv4 or IPv6 address"},
    {"dst", "", "dst: expected"},
    {"proto", "tcpx",
     "proto: expected tcp, udp, icmp, icmpv6, sctp, arp "
     "or a protocol number 0-255, got 'tcpx'"},
    {"proto", "256", "proto: expected tcp, udp"},
    {"proto", "-1", "proto: expected tcp, udp"},
    {"proto", "TCP", "proto: expected tcp, udp"},
    {"dport", "80-",
     "dport: expected a port 0-65535 or a range LO-HI, got "
     "'80-'"},
    {"dport", "65536", "dport: expected a port 0-65535 or a range LO-HI"},
    {"dport", "-80", "dport: expected a port"},
    {"dport", "90-80",
     "dport: expected a port 0-65535 or a range LO-HI, "
     "got '90-80'"},
    {"dport", "1-2-3", "dport: expected a port"},
    {"dport", " 80", "dport: expected a port"},
    {"dport", "80 ", "dport: expected a port"},
    {"dport", "http", "dport: expected a port"},
    {"sport", "1024-65536", "sport: expected a port 0-65535 or a range"},
    {"sport", "", "sport: expected a port"},
    {"icmp-type", "256", "icmp-type: expected a number 0-255, got '256'"},
    {"icmp-type", "echo", "icmp-type: expected a number 0-255"},
    {"icmp-code", "x", "icmp-code: expected a number 0-255, got 'x'"},
    {"tcp-flags", "ack/syn",
     "tcp-flags: 'ack/syn': ack is in the value but not in the mask; "
     "VALUE/MASK checks the flags of MASK and wants those of VALUE set, so "
     "MASK must name every flag of VALUE (e.g. ack/syn,ack)"},
    {"tcp-flags", "syn,fin/syn", "fin is in the value but not in the mask"},
    {"tcp-flags", "", "tcp-flags: expected flags"},
    {"tcp-flags", "syn,", "tcp-flags: expected flags"},
    {"tcp-flags", ",syn", "tcp-flags: expected flags"},
    {"tcp-flags", "foo", "tcp-flags: expected flags"},
    {"tcp-flags", "syn/", "tcp-flags: expected flags"},
    {"tcp-flags", "syn//syn", "tcp-flags: expected flags"},
    {"vlan", "0", "vlan: expected a VLAN id 1-4094, got '0'"},
    {"vlan", "4095", "vlan: expected a VLAN id 1-4094"},
    {"vlan", "ten", "vlan: expected a VLAN id 1-4094"},
    {"iface", "", "iface: expected an interface name"},
    {"iface", "abcdefghijklmnop", "iface: expected an interface name (1-15"},
    {"iface", "a/b", "iface: expected an interface name"},
    {"iface", "a b", "iface: expected an interface name"},
    {"iface", "a:b", "iface: expected an interface name"},
    {"iface", ".", "iface: expected an interface name"},
    {"to", "", "to: expected an interface name"},
    {"src-mac", "", "src-mac: expected a MAC address aa:bb:cc:dd:ee:ff"},
    {"src-mac", "02:00:00:00:00", "src-mac: expected a MAC address"},
    {"src-mac", "02:00:00:00:00:01:02", "src-mac: expected a MAC address"},
    {"dst-mac", "2:0:0:0:0:1", "dst-mac: expected a MAC address"},
    {"dst-mac", "0g:00:00:00:00:01", "dst-mac: expected a MAC address"},
    {"dst-mac", "02-00-00-00-00-01", "dst-mac: expected a MAC address"},
    {"to", "abcdefghijklmnop", "to: expected an interface name (1-15"},
    {"to", "a/b", "to: expected an interface name"},
    {"action", "bounce",
     "action: expected pass, drop, count, ratelimit or redirect"},
    {"comment", "a\tb", "comment: expected printable text"},
    {"comment", "a\nb", "comment: expected printable text"},
    {"rate", "0", "rate: expected a rate N/s (packets)"},
    {"rate", "0/s", "rate: expected a rate N/s"},
    {"rate", "100", "rate: expected a rate N/s"},
    {"rate", "4294967296/s", "rate: expected a rate"},
    {"rate", "5GB/s", "rate: expected a rate"},
    {"rate", "1bit/s", "rate: expected a rate"},
    {"rate", "1kbit/m", "rate: expected a rate"},
    {"rate", "fast", "rate: expected a rate"},
    {"burst", "0", "burst: expected a number of packets or bytes"},
    {"burst", "4294967296", "burst: expected a number"},
    {"per", "dst", "per: expected src, rule, src/N or src/A,src/B"},
    {"per", "src/0", "per: expected src, rule"},
    {"per", "src/129", "per: expected src, rule"},
    {"per", "src/33,src/64", "per: expected src, rule"},
    {"per", "src/24,", "per: expected src, rule"},
    {"per", "src/24,src/64,src/8", "per: expected src, rule"},
    {"ban", "0s", "ban: expected a duration such as 30s"},
    {"ban", "permanent", "ban: expected a duration"},
    {"ban", "3651d", "ban: expected a duration"},
    {"ban", "10x", "ban: expected a duration"},
    {"port", "80", "port: unknown rule key (expected id, priority"},
    {"", "80", ": unknown rule key"},
};

static bool check_field_bad(const struct field_bad *t)
{
	struct sl_rule r, before;
	char err[512] = "";

	sl_rule_init(&r);
	before = r;
	return ASSERT_EQ(
		   sl_rule_set_field(&r, t->key, t->value, err, sizeof(err)),
		   -EINVAL, "return value") &&
	       ASSERT_STR_HAS(err, t->msg, "error") &&
	       ASSERT_TRUE(!t->key[0] || !strncmp(err, t->key, strlen(t->key)),
			   "error '%s' does not start with the key", err) &&
	       ASSERT_TRUE(!memcmp(&r, &before, sizeof(r)),
			   "a bad value changed the rule");
}

/* Comments: 127 bytes fit, 128 do not. */
static bool check_comment_length(void)
{
	char text[200], err[256] = "";
	struct sl_rule r;

	sl_rule_init(&r);
	memset(text, 'c', sizeof(text));
	text[127] = '\0';
	if (!ASSERT_EQ(sl_rule_set_field(&r, "comment", text, err, sizeof(err)),
		       0, "127 bytes") ||
	    !ASSERT_EQ(strlen(r.comment), 127, "stored length"))
		return false;
	text[127] = 'c';
	text[128] = '\0';
	return ASSERT_EQ(
		   sl_rule_set_field(&r, "comment", text, err, sizeof(err)),
		   -EINVAL, "128 bytes") &&
	       ASSERT_STR_HAS(err,
			      "comment: expected printable text of at "
			      "most 127 bytes",
			      "error");
}

/* The fields land where the datapath compiler reads them. */
static bool check_field_values(void)
{
	struct sl_rule r;
	char err[256];

	sl_rule_init(&r);
	if (!ASSERT_EQ(r.action, SL_RACT_UNSET, "default action") ||
	    !ASSERT_EQ(r.priority, SL_PRIO_DEFAULT, "default priority") ||
	    !ASSERT_EQ(r.dirs, 3, "default dirs") ||
	    !ASSERT_EQ(r.sport_lo, 0, "sport lo") ||
	    !ASSERT_EQ(r.sport_hi, 65535, "sport hi") ||
	    !ASSERT_EQ(r.dport_hi, 65535, "dport hi") ||
	    !ASSERT_EQ(r.icmp_type, -1, "icmp type") ||
	    !ASSERT_EQ(r.icmp_code, -1, "icmp code") ||
	    !ASSERT_EQ(r.vlan, -1, "vlan") || !ASSERT_EQ(r.id, 0, "id") ||
	    !ASSERT_EQ(r.l3, 0, "l3"))
		return false;
	sl_rule_set_field(&r, "tcp-flags", "syn/syn,ack", err, sizeof(err));
	if (!ASSERT_EQ(r.tcp_flags, 0x02, "tcp flags value") ||
	    !ASSERT_EQ(r.tcp_mask, 0x12, "tcp flags mask"))
		return false;
	sl_rule_set_field(&r, "tcp-flags", "ece,cwr", err, sizeof(err));
	if (!ASSERT_EQ(r.tcp_flags, 0xc0, "ece,cwr value") ||
	    !ASSERT_EQ(r.tcp_mask, 0xc0, "ece,cwr mask"))
		return false;
	sl_rule_set_field(&r, "sport", "1024-2047", err, sizeof(err));
	if (!ASSERT_EQ(r.sport_lo, 1024, "sport lo") ||
	    !ASSERT_EQ(r.sport_hi, 2047, "sport hi"))
		return false;
	sl_rule_set_field(&r, "proto", "arp", err, sizeof(err));
	if (!ASSERT_EQ(r.l3, SL_L3_ARP, "arp l3") ||
	    !ASSERT_EQ(r.has_proto, 0, "arp has_proto"))
		return false;
	sl_rule_set_field(&r, "proto", "sctp", err, sizeof(err));
	if (!ASSERT_EQ(r.l3, 0, "l3 after arp then sctp") ||
	    !ASSERT_EQ(r.has_proto, 1, "has_proto") ||
	    !ASSERT_EQ(r.proto, IPPROTO_SCTP, "proto"))
		return false;
	sl_rule_set_field(&r, "direction", "out", err, sizeof(err));
	if (!ASSERT_EQ(r.dirs, 1U << SL_RDIR_OUT, "dirs out"))
		return false;
	sl_rule_set_field(&r, "direction", "both", err, sizeof(err));
	if (!ASSERT_EQ(r.dirs, 3, "dirs both"))
		return false;
	sl_rule_set_field(&r, "vlan", "10", err, sizeof(err));
	sl_rule_set_field(&r, "rate", "500/s", err, sizeof(err));
	return ASSERT_EQ(r.vlan, 10, "vlan") &&
	       ASSERT_EQ(r.rate_pps, 500, "rate");
}

/* The whole line, for `rule list`. */
static bool check_format_line(void)
{
	static const char *const kv[][2] = {
	    {"id", "7"},	 {"priority", "1000"}, {"action", "drop"},
	    {"direction", "in"}, {"proto", "tcp"},     {"dport", "80"},
	    {"comment", "x"}};
	struct sl_rule r;
	char err[256], buf[256];

	sl_rule_init(&r);
	for (size_t i = 0; i < ARRAY_SIZE(kv); i++)
		if (!ASSERT_EQ(sl_rule_set_field(&r, kv[i][0], kv[i][1], err,
						 sizeof(err)),
			       0, kv[i][0]))
			return false;
	sl_rule_format(&r, buf, sizeof(buf));
	if (!ASSERT_TRUE(!strcmp(buf, "id 7 prio 1000 drop in proto tcp dport "
				      "80 comment \"x\""),
			 "got '%s'", buf))
		return false;
	/* Cut to the buffer, never beyond. */
	memset(buf, 'z', sizeof(buf));
	sl_rule_format(&r, buf, 10);
	return ASSERT_EQ(strlen(buf), 9, "cut length") &&
	       ASSERT_EQ(buf[10], 'z', "byte after len");
}

/* ---- sl_rule_validate ---- */

struct xcase {
	const char *name;
	const char *kv[12]; /* key, value, ..., NULL */
	const char *msg;    /* NULL: valid */
	int l3;		    /* with msg NULL: the l3 class set */
};

static const struct xcase xcases[] = {
    {"action is required", {"id", "1", NULL}, "action: missing", 0},
    {"action alone matches IPv4 and IPv6", {"action", "drop", NULL}, NULL, 0},
    {"IPv4 src implies IPv4",
     {"action", "drop", "src", "198.18.0.0/15", NULL},
     NULL,
     SL_L3_IPV4},
    {"IPv6 dst implies IPv6",
     {"action", "pass", "dst", "2001:db8::/32", NULL},
     NULL,
     SL_L3_IPV6},
    {"src and dst of one family",
     {"action", "drop", "src", "198.18.0.1", "dst", "198.19.0.0/16", NULL},
     NULL,
     SL_L3_IPV4},
    {"src IPv4 and dst IPv6 are refused",
     {"action", "drop", "src", "198.18.0.1", "dst", "2001:db8::1", NULL},
     "dst: an IPv6 address, but src is IPv4",
     0},
    {"src IPv6 and dst IPv4 are refused",
     {"action", "drop", "src", "2001:db8::1", "dst", "198.18.0.1", NULL},
     "dst: an IPv4 address, but src is IPv6",
     0},
    {"icmp implies IPv4",
     {"action", "drop", "proto", "icmp", NULL},
     NULL,
     SL_L3_IPV4},
    {"icmpv6 implies IPv6",
     {"action", "drop", "proto", "icmpv6", NULL},
     NULL,
     SL_L3_IPV6},
    {"icmp with an IPv6 address is refused",
     {"action", "drop", "proto", "icmp", "src", "2001:db8::/32", NULL},
     "proto: icmp does not match IPv6 addresses (expected icmpv6)",
     0},
    {"icmpv6 with an IPv4 address is refused",
     {"action", "drop", "proto", "icmpv6", "dst", "198.18.0.0/24", NULL},
     "proto: icmpv6 does not match IPv4 addresses (expected icmp)",
     0},
    {"icmp type and code with icmp",
     {"action", "drop", "proto", "icmp", "icmp-type", "8", "icmp-code", "0",
      NULL},
     NULL,
     SL_L3_IPV4},
    {"icmp type with icmpv6",
     {"action", "drop", "proto", "icmpv6", "icmp-type", "128", NULL},
     NULL,
     SL_L3_IPV6},
    {"icmp-type without a protocol",
     {"action", "drop", "icmp-type", "8", NULL},
     "icmp-type: requires proto icmp or icmpv6",
     0},
    {"icmp-type with tcp",
     {"action", "drop", "proto", "tcp", "icmp-type", "8", NULL},
     "icmp-type: requires proto icmp or icmpv6",
     0},
    {"icmp-code without a protocol",
     {"action", "drop", "icmp-code", "0", NULL},
     "icmp-code: requires proto icmp or icmpv6",
     0},
    {"icmp-code without icmp-type",
     {"action", "drop", "proto", "icmp", "icmp-code", "0", NULL},
     "icmp-code: requires icmp-type",
     0},
    {"dport without a protocol",
     {"action", "drop", "dport", "80", NULL},
     "dport: requires proto tcp, udp or sctp",
     0},
    {"sport with icmp",
     {"action", "drop", "proto", "icmp", "sport", "53", NULL},
     "sport: requires proto tcp, udp or sctp",
     0},
    {"ports with udp",
     {"action", "drop", "proto", "udp", "sport", "53", "dport", "1024-65535",
      NULL},
     NULL,
     0},
    {"ports with sctp",
     {"action", "drop", "proto", "sctp", "dport", "9", NULL},
     NULL,
     0},
    {"ports with protocol number 6",
     {"action", "drop", "proto", "6", "dport", "22", NULL},
     NULL,
     0},
    {"ports with protocol 47 are refused",
     {"action", "drop", "proto", "47", "dport", "22", NULL},
     "dport: requires proto tcp, udp or sctp",
     0},
    {"a full port range is no port condition",
     {"action", "drop", "dport", "0-65535", NULL},
     NULL,
     0},
    {"tcp-flags with tcp",
     {"action", "drop", "proto", "tcp", "tcp-flags", "syn/syn,ack", NULL},
     NULL,
     0},
    {"tcp-flags without a protocol",
     {"action", "drop", "tcp-flags", "syn", NULL},
     "tcp-flags: requires proto tcp",
     0},
    {"tcp-flags with udp",
     {"action", "drop", "proto", "udp", "tcp-flags", "syn", NULL},
     "tcp-flags: requires proto tcp",
     0},
    {"arp alone", {"action", "drop", "proto", "arp", NULL}, NULL, SL_L3_ARP},
    {"arp with vlan and iface",
     {"action", "drop", "proto", "arp", "vlan", "10", "iface", "lo", NULL},
     NULL,
     SL_L3_ARP},
    {"arp with src",
     {"action", "drop", "proto", "arp", "src", "198.18.0.1", NULL},
     "src: proto arp matches no addresses",
     0},
    {"arp with dst",
     {"action", "drop", "dst", "2001:db8::1", "proto", "arp", NULL},
     "dst: proto arp matches no addresses",
     0},
    {"arp with dport",
     {"action", "drop", "proto", "arp", "dport", "80", NULL},
     "dport: proto arp has no ports",
     0},
    {"arp with icmp-type",
     {"action", "drop", "proto", "arp", "icmp-type", "8", NULL},
     "icmp-type: proto arp has no ICMP type or code",
     0},
    {"arp then tcp is tcp",
     {"action", "drop", "proto", "arp", "proto", "tcp", "dport", "80", NULL},
     NULL,
     0},
    {"ratelimit without rate",
     {"action", "ratelimit", NULL},
     "action ratelimit: requires rate (packets or bytes per second",
     0},
    {"ratelimit with burst, per and ban but no rate",
     {"action", "ratelimit", "burst", "5", "per", "rule", "ban", "1m", NULL},
     "action ratelimit: requires rate",
     0},
    {"ratelimit with a rate",
     {"action", "ratelimit", "rate", "1000/s", NULL},
     NULL,
     0},
    {"ratelimit with every key",
     {"action", "ratelimit", "rate", "10mbit/s", "burst", "100000", "per",
      "src/24,src/64", "ban", "10m", NULL},
     NULL,
     0},
    {"rate without ratelimit",
     {"action", "drop", "rate", "1000/s", NULL},
     "rate: only with action ratelimit",
     0},
    {"burst without ratelimit",
     {"action", "pass", "burst", "5", NULL},
     "burst: only with action ratelimit",
     0},
    {"per without ratelimit",
     {"action", "count", "per", "rule", NULL},
     "per: only with action ratelimit",
     0},
    {"ban without ratelimit",
     {"action", "drop", "ban", "10m", NULL},
     "ban: only with action ratelimit",
     0},
    {"count rule", {"action", "count", "direction", "out", NULL}, NULL, 0},
    {"redirect with to",
     {"action", "redirect", "to", "lo", "proto", "udp", "dport", "53", NULL},
     NULL,
     0},
    {"redirect without to",
     {"action", "redirect", "proto", "udp", NULL},
     "action redirect: requires to",
     0},
    {"to without redirect",
     {"action", "drop", "to", "lo", NULL},
     "to: only with action redirect",
     0},
};

static bool check_xcase(const struct xcase *t)
{
	char err[256] = "";
	struct sl_rule r;
	int ret;

	sl_rule_init(&r);
	for (size_t i = 0; t->kv[i]; i += 2)
		if (!ASSERT_EQ(sl_rule_set_field(&r, t->kv[i], t->kv[i + 1],
						 err, sizeof(err)),
			       0, t->kv[i]))
			return false;
	ret = sl_rule_validate(&r, err, sizeof(err));
	if (t->msg)
		return ASSERT_EQ(ret, -EINVAL, "return value") &&
		       ASSERT_STR_HAS(err, t->msg, "error");
	return ASSERT_TRUE(ret == 0, "refused: %s", err) &&
	       ASSERT_EQ(r.l3, t->l3, "l3 class");
}

static bool check_resolve(void)
{
	char err[256] = "";
	struct sl_rule r;

	sl_rule_init(&r);
	if (!ASSERT_EQ(sl_rule_resolve(&r, err, sizeof(err)), 0, "no iface") ||
	    !ASSERT_EQ(r.ifindex, 0, "ifindex without iface"))
		return false;
	snprintf(r.iface, sizeof(r.iface), "lo");
	if (!ASSERT_EQ(sl_rule_resolve(&r, err, sizeof(err)), 0, "lo") ||
	    !ASSERT_EQ(r.ifindex, if_nametoindex("lo"), "ifindex of lo"))
		return false;
	snprintf(r.to, sizeof(r.to), "lo");
	if (!ASSERT_EQ(sl_rule_resolve(&r, err, sizeof(err)), 0, "to lo") ||
	    !ASSERT_EQ(r.to_ifindex, if_nametoindex("lo"), "to_ifindex"))
		return false;
	snprintf(r.to, sizeof(r.to), "sl-nonexist1");
	if (!ASSERT_EQ(sl_rule_resolve(&r, err, sizeof(err)), -EINVAL,
		       "missing to") ||
	    !ASSERT_STR_HAS(err, "to: no interface 'sl-nonexist1'", "error"))
		return false;
	r.to[0] = '\0';
	snprintf(r.iface, sizeof(r.iface), "sl-nonexist0");
	return ASSERT_EQ(sl_rule_resolve(&r, err, sizeof(err)), -EINVAL,
			 "missing iface") &&
	       ASSERT_STR_HAS(err, "iface: no interface 'sl-nonexist0'",
			      "error");
}

/* ---- config files ---- */

static char tmp_dir[64];
static char captured[8192];

static void path_in_dir(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", tmp_dir, name);
}

static bool write_file(const char *name, const char *content)
{
	char path[128];
	FILE *f;

	path_in_dir(name, path, sizeof(path));
	f = fopen(path, "w");
	if (!ASSERT_TRUE(f != NULL, "fopen %s: %s", path, strerror(errno)))
		return false;
	fputs(content, f);
	return ASSERT_EQ(fclose(f), 0, "fclose");
}

/* sl_config_load with stderr captured into `captured`. */
static int load_captured(const char *path, struct sl_config *cfg)
{
	FILE *cap = tmpfile();
	int saved, err;
	size_t got;

	captured[0] = '\0';
	if (!cap)
		return -errno;
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(cap), 2);
	err = sl_config_load(path, cfg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(cap);
	got = fread(captured, 1, sizeof(captured) - 1, cap);
	captured[got] = '\0';
	fclose(cap);
	return err;
}

static bool load_file(const char *name, const char *content,
		      struct sl_config *cfg)
{
	char path[128];
	int err;

	if (!write_file(name, content))
		return false;
	path_in_dir(name, path, sizeof(path));
	err = load_captured(path, cfg);
	return ASSERT_TRUE(err == 0, "load failed (%d): %s", err, captured) &&
	       ASSERT_TRUE(!captured[0], "printed '%s'", captured);
}

static const char full_cfg[] = "# every feature\n"
			       "interfaces:\n"
			       "  - name: lo\n"
			       "    hooks: [tc]\n"
			       "    mode: generic\n"
			       "policy: {in: drop, out: pass}\n"
			       "fragments: {timeout: 10s, max: 4096}\n"
			       "deny:\n"
			       "  - 198.18.5.0/24\n"
			       "  - {prefix: 2001:db8:bad::/48, dir: dst}\n"
			       "  - {file: lists/block.txt}\n"
			       "  - 198.18.5.0/24\n"
			       "allow:\n"
			       "  - 198.18.0.1\n"
			       "  - prefix: \"198.18.0.2\"\n"
			       "    dir: src\n"
			       "rules:\n"
			       "  - id: 7\n"
			       "    priority: 1000\n"
			       "    action: drop\n"
			       "    direction: in\n"
			       "    src: 198.18.0.0/15\n"
			       "    proto: tcp\n"
			       "    sport: 1024-65535\n"
			       "    dport: 80\n"
			       "    tcp-flags: syn/syn,ack\n"
			       "    vlan: 10\n"
			       "    iface: lo\n"
			       "    comment: \"web \\\"syn\\\" a\\\\b: #1\"\n"
			       "  - id: \"3\"\n"
			       "    priority: \"10\"\n"
			       "    action: pass\n"
			       "    dst: 2001:db8::/32\n"
			       "    proto: icmpv6\n"
			       "    icmp-type: 128\n"
			       "    icmp-code: 0\n"
			       "  - action: count\n"
			       "    direction: out\n"
			       "    proto: arp\n"
			       "  - id: 9\n"
			       "    priority: 10\n"
			       "    action: count\n"
			       "    fragment: later\n"
			       "    comment: plain text\n";

static const char block_list[] = "# blocklist\n"
				 "203.0.113.0/24\n"
				 "2001:db8:dead::/48\n"
				 "198.18.5.0/24\n";

static bool check_load_full(void)
{
	struct sl_config cfg;
	const struct sl_rule *r;
	char buf[512];
	bool ok = false;

	if (!write_file("lists/block.txt", block_list) ||
	    !load_file("full.yaml", full_cfg, &cfg))
		return false;
	if (!ASSERT_EQ(cfg.n_ifaces, 1, "interfaces") ||
	    !ASSERT_TRUE(!strcmp(cfg.ifaces[0].name, "lo"), "iface name") ||
	    !ASSERT_EQ(cfg.ifaces[0].hooks, SL_HOOK_TC, "hooks") ||
	    !ASSERT_EQ(cfg.ifaces[0].mode, SL_MODE_GENERIC, "mode") ||
	    !ASSERT_EQ(cfg.ifaces[0].pos.line, 3, "iface line") ||
	    !ASSERT_EQ(cfg.policy[SL_RDIR_IN], SL_ACT_DROP, "policy in") ||
	    !ASSERT_EQ(cfg.policy[SL_RDIR_OUT], SL_ACT_PASS, "policy out") ||
	    !ASSERT_EQ(cfg.frag.timeout, 10, "fragments timeout") ||
	    !ASSERT_EQ(cfg.frag.max, 4096, "fragments max") ||
	    !ASSERT_EQ(cfg.rl.max, 0, "ratelimit max (default)"))
		goto out;
	/* 198.18.5.0/24 three times (twice inline, once in the file) is one
	 * entry: 4 deny + 2 allow. */
	if (!ASSERT_EQ(cfg.n_sets, 6, "set entries"))
		goto out;
	{
		int deny = 0, allow = 0, dst = 0;

		for (size_t i = 0; i < cfg.n_sets; i++) {
			deny += cfg.sets[i].kind == SL_SET_DENY;
			allow += cfg.sets[i].kind == SL_SET_ALLOW;
			dst += cfg.sets[i].dir == SL_DIR_DST;
		}
		if (!ASSERT_EQ(deny, 4, "deny entries") ||
		    !ASSERT_EQ(allow, 2, "allow entries") ||
		    !ASSERT_EQ(dst, 1, "dst entries"))
			goto out;
	}
	if (!ASSERT_EQ(cfg.n_rules, 4, "rules"))
		goto out;
	/* File order is kept. */
	r = &cfg.rules[0];
	sl_rule_format(r, buf, sizeof(buf));
	if (!ASSERT_TRUE(!strcmp(buf, "id 7 prio 1000 drop in src "
				      "198.18.0.0/15 proto tcp sport "
				      "1024-65535 dport 80 tcp-flags "
				      "syn/syn,ack vlan 10 iface lo comment "
				      "\"web \\\"syn\\\" a\\\\b: #1\""),
			 "rule 7 is '%s'", buf) ||
	    !ASSERT_TRUE(!strcmp(r->comment, "web \"syn\" a\\b: #1"),
			 "comment '%s'", r->comment) ||
	    !ASSERT_EQ(r->ifindex, if_nametoindex("lo"), "ifindex") ||
	    !ASSERT_EQ(r->l3, SL_L3_IPV4, "rule 7 l3") ||
	    !ASSERT_EQ(r->pos.line, 18, "rule 7 line") ||
	    !ASSERT_EQ(r->pos.col, 5, "rule 7 column"))
		goto out;
	r = &cfg.rules[1];
	sl_rule_format(r, buf, sizeof(buf));
	if (!ASSERT_TRUE(!strcmp(buf, "id 3 prio 10 pass dst 2001:db8::/32 "
				      "proto icmpv6 icmp-type 128 icmp-code "
				      "0"),
			 "rule 3 is '%s'", buf) ||
	    !ASSERT_EQ(r->l3, SL_L3_IPV6, "rule 3 l3"))
		goto out;
	/* A rule without an id gets the next after the highest (9). */
	r = &cfg.rules[2];
	sl_rule_format(r, buf, sizeof(buf));
	if (!ASSERT_TRUE(!strcmp(buf, "id 10 prio 1000 count out proto arp"),
			 "rule without id is '%s'", buf) ||
	    !ASSERT_EQ(r->l3, SL_L3_ARP, "arp l3") ||
	    !ASSERT_EQ(r->pos.line, 37, "arp rule line"))
		goto out;
	ok = ASSERT_TRUE(!strcmp(cfg.rules[3].comment, "plain text"),
			 "plain comment '%s'", cfg.rules[3].comment);
out:
	sl_config_free(&cfg);
	return ok;
}

struct empty_case {
	const char *name, *content;
	int pol_in, pol_out;
};

static const struct empty_case empty_cases[] = {
    {"config: empty file is an empty config", "", SL_ACT_PASS, SL_ACT_PASS},
    {"config: {} is an empty config", "{}\n", SL_ACT_PASS, SL_ACT_PASS},
    {"config: comments only", "# nothing here\n\n", SL_ACT_PASS, SL_ACT_PASS},
    {"config: document start only", "---\n", SL_ACT_PASS, SL_ACT_PASS},
    {"config: empty lists and null sections",
     "interfaces: []\ndeny:\nallow: []\nrules: []\n", SL_ACT_PASS, SL_ACT_PASS},
    {"config: policy with no value is pass", "policy:\ndeny:\n", SL_ACT_PASS,
     SL_ACT_PASS},
    {"config: policy drop", "policy: drop\n", SL_ACT_DROP, SL_ACT_DROP},
    {"config: policy in only", "policy: {in: drop}\n", SL_ACT_DROP,
     SL_ACT_PASS},
    {"config: policy out only, block style", "policy:\n  out: drop\n",
     SL_ACT_PASS, SL_ACT_DROP},
};

static bool check_empty(const struct empty_case *t)
{
	struct sl_config cfg;
	bool ok;

	if (!load_file("empty.yaml", t->content, &cfg))
		return false;
	ok = ASSERT_EQ(cfg.n_ifaces, 0, "interfaces") &&
	     ASSERT_EQ(cfg.n_sets, 0, "sets") &&
	     ASSERT_EQ(cfg.n_rules, 0, "rules") &&
	     ASSERT_EQ(cfg.policy[SL_RDIR_IN], t->pol_in, "policy in") &&
	     ASSERT_EQ(cfg.policy[SL_RDIR_OUT], t->pol_out, "policy out");
	sl_config_free(&cfg);
	return ok;
}

/* Interface defaults: both hooks, native mode. */
static bool check_iface_defaults(void)
{
	struct sl_config cfg;
	bool ok;

	if (!load_file("iface.yaml", "interfaces:\n  - name: \"lo\"\n", &cfg))
		return false;
	ok =
	    ASSERT_EQ(cfg.n_ifaces, 1, "interfaces") &&
	    ASSERT_EQ(cfg.ifaces[0].hooks, SL_HOOK_XDP | SL_HOOK_TC, "hooks") &&
	    ASSERT_EQ(cfg.ifaces[0].mode, SL_MODE_NATIVE, "mode");
	sl_config_free(&cfg);
	return ok;
}

/* The XDP mode counts only with the xdp hook: a tc-only interface with
 * mode generic equals the running one (read back native), so applying
 * such a file again is "unchanged"; with xdp the mode is a change. */
static bool check_iface_tc_mode(void)
{
	static const char *const files[][2] = {
	    {"interfaces: [{name: lo, hooks: [tc], mode: generic}]\n",
	     "interfaces: [{name: lo, hooks: [tc]}]\n"},
	    {"interfaces: [{name: lo, hooks: [xdp], mode: generic}]\n",
	     "interfaces: [{name: lo, hooks: [xdp]}]\n"},
	};
	struct sl_config a, b;
	bool ok = true;

	for (size_t i = 0; ok && i < ARRAY_SIZE(files); i++) {
		if (!load_file("e.yaml", files[i][0], &a))
			return false;
		if (!load_file("e2.yaml", files[i][1], &b)) {
			sl_config_free(&a);
			return false;
		}
		ok = ASSERT_TRUE(sl_config_equal(&a, &b) == (i == 0),
				 "case %zu: equal", i) &&
		     ASSERT_TRUE(sl_config_equal(&b, &a) == (i == 0),
				 "case %zu: equal, swapped", i);
		sl_config_free(&a);
		sl_config_free(&b);
	}
	return ok;
}

/* A prefix list written by an editor that puts a UTF-8 byte order mark
 * first, with CRLF line ends, is read like any other. */
static bool check_list_bom(void)
{
	struct sl_config cfg;
	bool ok;

	if (!write_file("lists/bom.txt",
			"\xef\xbb\xbf"
			"198.18.5.0/24\r\n2001:db8:5::/48 # c\r\n") ||
	    !load_file("f.yaml", "deny: [{file: lists/bom.txt}]\n", &cfg))
		return false;
	ok = ASSERT_EQ(cfg.n_sets, 2, "entries");
	sl_config_free(&cfg);
	return ok;
}

/* Plain and quoted numbers are the same value. */
static bool check_quoted_numbers(void)
{
	struct sl_config a, b;
	bool ok;

	if (!load_file("q1.yaml",
		       "rules:\n  - {id: 1, action: drop, proto: tcp, dport: "
		       "80, priority: 5}\n",
		       &a))
		return false;
	if (!load_file("q2.yaml",
		       "rules:\n  - {id: '1', action: \"drop\", proto: '6', "
		       "dport: \"80\", priority: '5'}\n",
		       &b)) {
		sl_config_free(&a);
		return false;
	}
	ok = ASSERT_TRUE(sl_config_equal(&a, &b), "configs differ");
	sl_config_free(&a);
	sl_config_free(&b);
	return ok;
}

struct bad_case {
	const char *name;
	const char *content;
	const char *where; /* expected "FILE:where" prefix: "LINE:COL: msg" */
	const char *file;  /* NULL: the config; else a file in tmp_dir */
};

/* 16 and 256 copies of a line (the services' bound) */
#define S16(x)	 x x x x x x x x x x x x x x x x
#define SVC_LINE "    - {vip: 198.18.100.1, port: 80, proto: udp}\n"

static const struct bad_case bad_cases[] = {
    {"bad: merge key of a scalar", "rules:\n  - <<: 5\n    action: drop\n",
     "2:9: <<: expected a mapping or a list of mappings to merge, got a "
     "scalar",
     NULL},
    {"bad: merge key of a list holding a scalar",
     "rules:\n  - <<: [{action: drop}, x]\n    id: 1\n",
     "2:26: <<: expected a mapping or a list of mappings to merge, got a "
     "scalar",
     NULL},
    {"bad: merged keys are checked like the mapping's own",
     "rules:\n  - &r {action: drop, port: 22}\n  - <<: *r\n    id: 2\n",
     "2:23: rule: unknown key 'port'", NULL},
    {"bad: 65 levels of nesting (flow)",
     "a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
     "1:67: nested deeper than 64 levels (the limit of a config file)", NULL},
    {"bad: conntrack max out of range", "conntrack: {max: 10}\n",
     "1:18: max: expected a number of entries from 1024 to 16777216 "
     "(default 262144), got '10'",
     NULL},
    {"bad: conntrack timeout without a duration",
     "conntrack:\n  timeouts: {established: 5 days}\n",
     "2:27: established: expected a duration from 1s to 365d (a number "
     "with s, m, h or d; default 5d), got '5 days'",
     NULL},
    {"bad: conntrack unknown timeout", "conntrack:\n  timeouts: {syn: 5s}\n",
     "2:14: conntrack timeouts: unknown key 'syn'", NULL},
    {"bad: synproxy port 0", "synproxy:\n  ports: [80, 0]\n",
     "2:15: synproxy ports: expected a TCP port from 1 to 65535 or a range "
     "such as 8000-8010, got '0'",
     NULL},
    {"bad: synproxy range backwards", "synproxy: {ports: [9000-8000]}\n",
     "1:20: synproxy ports: the range '9000-8000' ends before it starts", NULL},
    {"bad: synproxy wscale 15", "synproxy: {ports: 80, wscale: 15}\n",
     "1:31: wscale: expected a number from 0 to 14 (default 7), got '15'",
     NULL},
    {"bad: synproxy unknown key", "synproxy: {port: 80}\n",
     "1:12: synproxy: unknown key 'port'", NULL},
    {"bad: lb mode dsr-gre",
     "loadbalancer:\n  services:\n    - {vip: 198.18.100.1, port: 80, mode: "
     "dsr-gre}\n",
     "3:43: service: mode must be nat, dsr-l2 or dsr-ipip, got 'dsr-gre'",
     NULL},
    {"bad: lb service twice",
     "loadbalancer:\n  services:\n    - {vip: 198.18.100.1, port: 80}\n"
     "    - {vip: 198.18.100.1, port: 80, proto: tcp}\n",
     "4:7: service: the same VIP, port and proto as the service of line 3",
     NULL},
    {"bad: lb backend of another family",
     "loadbalancer:\n  services:\n    - vip: 198.18.100.1\n      port: 80\n"
     "      backends: [{addr: 2001:db8::1, port: 80}]\n",
     "5:25: backend: an IPv6 backend for an IPv4 VIP (the load balancer "
     "does not translate families)",
     NULL},
    {"bad: lb weight too big",
     "loadbalancer:\n  services:\n    - vip: 198.18.100.1\n      port: 80\n"
     "      backends: [{addr: 198.18.1.1, port: 80, weight: 1001}]\n",
     "5:55: weight: expected a number from 0 to 1000 (default 1), got "
     "'1001'",
     NULL},
    {"bad: lb proto sctp",
     "loadbalancer:\n  services:\n    - {vip: 198.18.100.1, port: 80, "
     "proto: sctp}\n",
     "3:44: service: proto must be tcp or udp, got 'sctp'", NULL},
    {"bad: lb vip a prefix",
     "loadbalancer:\n  services:\n    - {vip: 198.18.100.0/24, port: 80}\n",
     "3:13: loadbalancer: vip: expected an IPv4 or IPv6 address (no prefix "
     "length), got '198.18.100.0/24'",
     NULL},
    {"bad: lb vip a host prefix (no prefix length at all)",
     "loadbalancer:\n  services:\n    - {vip: 198.18.100.1/32, port: 80}\n",
     "3:13: loadbalancer: vip: expected an IPv4 or IPv6 address (no prefix "
     "length), got '198.18.100.1/32'",
     NULL},
    {"bad: lb backend addr a host prefix",
     "loadbalancer:\n  services:\n    - {vip: '2001:db8::1', port: 80, "
     "backends: [{addr: '2001:db8::2/128', port: 80}]}\n",
     "3:56: loadbalancer: backend addr: expected an IPv4 or IPv6 address (no "
     "prefix length), got '2001:db8::2/128'",
     NULL},
    {"bad: lb health path with a space",
     "loadbalancer:\n  services:\n    - {vip: 198.18.100.1, port: 80, "
     "health: {type: http, path: '/a b'}}\n",
     "3:64: health: path is for type http, starts with '/' and has at most "
     "63 characters, none a space or control character",
     NULL},
    {"bad: merge key twice in one mapping",
     "rules:\n  - &a {id: 1, action: pass}\n  - {<<: *a, id: 2, <<: *a}\n",
     "3:21: <<: duplicate key '<<' (first at line 3; merge several "
     "mappings with <<: [*a, *b])",
     NULL},
    {"bad: lb 257 services, at the first too many",
     "loadbalancer:\n  services:\n" S16(S16(SVC_LINE)) SVC_LINE,
     "259:7: services: at most 256", NULL},
    {"bad: prefix list that is not a regular file",
     "deny:\n  - {file: /dev/null}\n",
     "2:12: file: expected a prefix list file, '/dev/null' is not a regular "
     "file",
     NULL},
    {"bad: lb max below 1024", "loadbalancer:\n  max: 1000\n  services: []\n",
     "2:8: max: expected a number of entries from 1024 to 16777216 "
     "(default 65536), got '1000'",
     NULL},
    {"bad: lb max not a number", "loadbalancer: {max: lots}\n",
     "1:21: max: expected a number of entries from 1024 to 16777216", NULL},
    {"bad: lb unknown key", "loadbalancer: {conns: 4096}\n",
     "1:16: loadbalancer: unknown key 'conns'", NULL},
    {"bad: lb health type",
     "loadbalancer:\n  services:\n    - {vip: 198.18.100.1, port: 80, "
     "health: {type: icmp}}\n",
     "3:52: health: type must be tcp or http, got 'icmp'", NULL},
    {"bad: conntrack enabled not a bool", "conntrack: {enabled: 2}\n",
     "1:22: enabled: expected true or false, got '2'", NULL},
    {"bad: fragments timeout out of range", "fragments: {timeout: 2h}\n",
     "1:22: timeout: expected a duration from 1s to 1h (a number with s, "
     "m or h; default 30s), got '2h'",
     NULL},
    {"bad: fragments max out of range", "fragments: {max: 1000}\n",
     "1:18: max: expected a number of entries from 1024 to 16777216 "
     "(default 8192), got '1000'",
     NULL},
    {"bad: fragments max not a number", "fragments: {max: lots}\n",
     "1:18: max: expected a number of entries from 1024 to 16777216 "
     "(default 8192), got 'lots'",
     NULL},
    {"bad: ratelimit max out of range", "ratelimit: {max: 16777217}\n",
     "1:18: max: expected a number of entries from 1024 to 16777216 "
     "(default 16384), got '16777217'",
     NULL},
    {"bad: ratelimit unknown key", "ratelimit: {capacity: 2048}\n",
     "1:13: ratelimit: unknown key 'capacity'", NULL},
    {"bad: ratelimit not a mapping", "ratelimit: 2048\n",
     "1:12: ratelimit: expected a mapping of max, got a scalar", NULL},
    {"bad: fragment with an unknown value",
     "rules:\n  - {action: pass, fragment: some}\n",
     "2:30: fragment: expected no, first, later or yes, got 'some'", NULL},
    {"bad: fragment later with a port",
     "rules:\n  - {action: pass, proto: udp, dport: 53, fragment: later}\n",
     "2:53: fragment: a later fragment has no L4 header, so no ports, "
     "tcp-flags or icmp-type (fragment later matches none of them)",
     NULL},
    {"bad: ct-state with an unknown state",
     "rules:\n  - {action: pass, ct-state: [established, relat]}\n",
     "2:30: ct-state: expected a comma list (or a YAML list) of new, "
     "established, related, invalid and untracked, got 'established,relat'",
     NULL},
    {"bad: events sample out of range", "events: {sample: 99999999}\n",
     "1:18: sample: expected a number from 0 to 16777216", NULL},
    {"bad: events unknown key", "events: {drop: true}\n",
     "1:10: events: unknown key 'drop'", NULL},
    {"bad: rule log not a boolean", "rules:\n  - {action: pass, log: maybe}\n",
     "2:25: log: expected true or false, got 'maybe'", NULL},
    {"bad: unknown top-level key", "policy: pass\nrulez: []\n",
     "2:1: config: unknown key 'rulez' (expected interfaces, policy, "
     "management, limits, conntrack, fragments, ratelimit, synproxy, "
     "events, "
     "loadbalancer, deny, allow or rules)",
     NULL},
    {"bad: unknown key in a rule",
     "rules:\n  - id: 1\n    action: drop\n    dprot: 80\n",
     "4:5: rule: unknown key 'dprot'", NULL},
    {"bad: unknown key in an interface",
     "interfaces:\n  - name: lo\n    hook: [xdp]\n",
     "3:5: interface: unknown key 'hook'", NULL},
    {"bad: unknown key in a set entry",
     "deny:\n  - {prefix: 198.18.0.0/24, direction: dst}\n",
     "2:29: deny: unknown key 'direction'", NULL},
    {"bad: bad prefix in an inline list",
     "deny:\n  - 198.18.0.0/24\n  - 198.18.1.1/24\n",
     "3:5: deny: expected a prefix, got '198.18.1.1/24' (host bits set", NULL},
    {"bad: bad prefix in a flow mapping",
     "allow:\n  - 198.18.0.0/24\n  - {prefix: 2001:db8::/129, dir: dst}\n",
     "3:14: prefix: expected a prefix, got '2001:db8::/129'", NULL},
    {"bad: bad set dir", "deny:\n  - {prefix: 198.18.0.0/24, dir: both}\n",
     "2:34: dir: expected src or dst, got 'both'", NULL},
    {"bad: set entry with prefix and file",
     "deny:\n  - {prefix: 198.18.0.0/24, file: x.txt}\n",
     "2:5: deny: expected exactly one of 'prefix' and 'file'", NULL},
    {"bad: redirect to an unknown interface",
     "rules:\n  - id: 1\n    action: redirect\n    to: slnone9\n",
     "4:9: to: no interface 'slnone9' on this host", NULL},
    {"bad: to without redirect",
     "rules:\n  - id: 1\n    action: pass\n    to: lo\n",
     "4:9: to: only with action redirect", NULL},
    {"bad: redirect without to", "rules:\n  - id: 1\n    action: redirect\n",
     "3:13: action redirect: requires to", NULL},
    {"bad: bad port in rule 3",
     "rules:\n"
     "  - id: 1\n"
     "    action: drop\n"
     "  - id: 2\n"
     "    action: pass\n"
     "  - id: 3\n"
     "    action: drop\n"
     "    proto: tcp\n"
     "    dport: 80-\n",
     "9:12: dport: expected a port 0-65535 or a range LO-HI, got '80-'", NULL},
    {"bad: duplicate rule id",
     "rules:\n"
     "  - id: 5\n"
     "    action: drop\n"
     "  - action: pass\n"
     "    id: 5\n",
     "5:9: id: duplicate rule id 5 (first at line 2)", NULL},
    {"bad: rule id out of range", "rules:\n  - id: 131072\n    action: drop\n",
     "2:9: id: expected an id 1-131071, got '131072'", NULL},
    {"bad: rule id 0", "rules:\n  - {id: 0, action: drop}\n",
     "2:10: id: expected an id 1-131071, got '0'", NULL},
    {"bad: YAML syntax error (bad indentation)",
     "rules:\n  - id: 1\n   action: drop\n",
     "3:4: YAML syntax error: did not find expected '-' indicator", NULL},
    {"bad: YAML syntax error (unclosed flow)", "policy: {in: drop\n",
     "2:1: YAML syntax error: did not find expected ',' or '}'", NULL},
    {"bad: YAML syntax error (tab indentation)", "rules:\n\t- id: 1\n",
     "2:1: YAML syntax error: found character that "
     "cannot start any token",
     NULL},
    {"bad: invalid UTF-8",
     "policy: pass\nrules:\n  - {id: 1, comment: \"a\xff\"}\n",
     "3:24: expected UTF-8 text: invalid leading UTF-8 octet", NULL},
    {"bad: missing interface",
     "interfaces:\n  - name: lo\n  - name: sl-nonexist0\n",
     "3:11: name: no interface 'sl-nonexist0' on this host", NULL},
    {"bad: missing rule iface",
     "rules:\n  - id: 1\n    action: drop\n    iface: sl-nonexist0\n",
     "4:12: iface: no interface 'sl-nonexist0' on this host", NULL},
    {"bad: interface listed twice",
     "interfaces:\n  - name: lo\n  - {name: lo, hooks: [xdp]}\n",
     "3:12: name: interface 'lo' is listed twice", NULL},
    {"bad: interface without a name", "interfaces:\n  - mode: native\n",
     "2:5: interface: missing key 'name'", NULL},
    {"bad: bad hook", "interfaces:\n  - name: lo\n    hooks: [xdp, tx]\n",
     "3:18: hooks: expected xdp or tc, got 'tx'", NULL},
    {"bad: bad mode", "interfaces:\n  - name: lo\n    mode: turbo\n",
     "3:11: mode: expected native or generic, got 'turbo'", NULL},
    {"bad: wrong type (rules is a mapping)", "rules: {id: 1}\n",
     "1:8: rules: expected a list, got a mapping", NULL},
    {"bad: wrong type (policy is a list)", "policy: [drop]\n",
     "1:9: policy: expected pass, drop or a mapping", NULL},
    {"bad: wrong type (rule field is a list)",
     "rules:\n  - id: 1\n    action: drop\n    proto: tcp\n    dport: [80, "
     "81]\n",
     "5:12: dport: expected a scalar, got a list", NULL},
    {"bad: wrong type (rule is a scalar)", "rules:\n  - drop\n",
     "2:5: rule: expected a mapping, got a scalar", NULL},
    {"bad: wrong type (top level is a list)", "- policy: pass\n",
     "1:1: config: expected a mapping, got a list", NULL},
    {"bad: wrong type (interfaces entry is a scalar)", "interfaces:\n  - lo\n",
     "2:5: interface: expected a mapping, got a "
     "scalar",
     NULL},
    {"bad: duplicate top-level key", "policy: pass\npolicy: drop\n",
     "2:1: config: duplicate key 'policy' (first at line 1)", NULL},
    {"bad: duplicate key in a rule",
     "rules:\n  - id: 1\n    action: drop\n    action: pass\n",
     "4:5: rule: duplicate key 'action' (first at line 3)", NULL},
    {"bad: bad policy", "policy: reject\n",
     "1:9: policy: expected pass or drop, got 'reject'", NULL},
    {"bad: bad policy direction", "policy: {in: drop, up: pass}\n",
     "1:20: policy: unknown key 'up' (expected in or out)", NULL},
    {"bad: missing action points at the rule",
     "rules:\n  - id: 1\n    proto: tcp\n",
     "2:5: action: missing (expected pass, drop, count, ratelimit or redirect)",
     NULL},
    {"bad: cross-field error points at the key's value",
     "rules:\n  - id: 1\n    action: drop\n    dport: 22\n",
     "4:12: dport: requires proto tcp, udp or sctp", NULL},
    {"bad: ratelimit without a rate points at the action",
     "rules:\n  - id: 1\n    action: ratelimit\n    proto: udp\n",
     "3:13: action ratelimit: requires rate", NULL},
    {"bad: rate on a drop rule points at the rate",
     "rules:\n  - id: 1\n    action: drop\n    rate: 100/s\n",
     "4:11: rate: only with action ratelimit", NULL},
    {"bad: ban on a pass rule points at the ban",
     "rules:\n  - id: 1\n    action: pass\n    ban: 10m\n",
     "4:10: ban: only with action ratelimit", NULL},
    {"bad: a rate without /s",
     "rules:\n  - id: 1\n    action: ratelimit\n    rate: 100\n",
     "4:11: rate: expected a rate N/s (packets)", NULL},
    {"bad: prefix in both allow and deny",
     "deny:\n  - 198.18.0.0/24\n  - {prefix: 198.18.1.0/24, dir: dst}\n"
     "allow:\n  - 198.18.1.0/24\n  - {prefix: 198.18.0.0/24, dir: dst}\n"
     "  - 198.18.0.0/24\n",
     "7:5: allow: prefix 198.18.0.0/24 (dir src) is in both allow and deny",
     NULL},
    {"bad: list file missing", "deny:\n  - {file: nope.txt}\n",
     "2:12: file: cannot read '", NULL},
    {"bad: list file is a directory", "deny:\n  - {file: lists}\n",
     "2:12: file: expected a prefix list file, '", NULL},
    {"bad: bad line in a referenced list file",
     "deny:\n  - {file: bad-list.txt}\n", "3:3: prefix length must be 0-32",
     "bad-list.txt"},
    {"bad: limits: a capacity below its bound", "limits:\n  set-hosts: 10\n",
     "2:14: set-hosts: expected a number of host entries per family and "
     "direction from 1024 to 16777216 (default 1048576), got '10'",
     NULL},
    {"bad: limits: a capacity above its bound",
     "limits:\n  set-prefixes: 16777217\n",
     "2:17: set-prefixes: expected a number of prefix entries per family "
     "and direction from 1024 to 16777216 (default 2097152)",
     NULL},
    {"bad: limits: rules not a number", "limits: {rules: lots}\n",
     "1:17: rules: expected a number of rules from 1 to 131071 (default "
     "131071), got 'lots'",
     NULL},
    {"bad: limits: unknown key", "limits:\n  hosts: 4096\n",
     "2:3: limits: unknown key 'hosts' (expected set-prefixes, set-hosts or "
     "rules)",
     NULL},
    {"bad: limits: not a mapping", "limits: [1]\n",
     "1:9: limits: expected a mapping of set-prefixes, set-hosts and rules",
     NULL},
    {"bad: more entries than the limits hold",
     "limits: {set-prefixes: 1024}\ndeny:\n  - {file: many.txt}\n",
     " too many set entries: 1025 IPv4 prefixes", NULL},
    {"bad: two documents", "policy: pass\n---\npolicy: drop\n",
     "3:1: expected one YAML document, found another", NULL},
    {"bad: unknown key with a non-scalar key", "{[a]: 1}\n",
     "1:2: config: expected a scalar key, got a list", NULL},
};

static bool check_bad(const struct bad_case *t)
{
	char path[128], want[512];
	struct sl_config cfg;
	size_t lines = 0;
	int err;

	if (!write_file("bad.yaml", t->content))
		return false;
	path_in_dir("bad.yaml", path, sizeof(path));
	err = load_captured(path, &cfg);
	if (!ASSERT_EQ(err, -EINVAL, "return value"))
		return false;
	if (t->file)
		snprintf(want, sizeof(want), "%s/%s:%s", tmp_dir, t->file,
			 t->where);
	else
		snprintf(want, sizeof(want), "%s:%s", path, t->where);
	for (const char *c = captured; *c; c++)
		lines += *c == '\n';
	return ASSERT_STR_HAS(captured, want, "stderr") &&
	       ASSERT_EQ(lines, 1, "error lines") &&
	       ASSERT_TRUE(!cfg.n_rules && !cfg.n_sets && !cfg.n_ifaces &&
			       !cfg.rules && !cfg.sets && !cfg.ifaces,
			   "config not empty after an error");
}

/* Defect 9: 100,000 levels of nesting (flow and block) fail fast with
 * FILE:LINE:COL at the first level too many (libyaml alone: ~30 s). */
static bool check_deep_nesting(void)
{
	const size_t depth = 100000;
	char *flow = malloc(2 * depth + 8), *block, path[128];
	struct sl_config cfg;
	struct timespec t0, t1;
	bool ok = false;
	size_t o = 0;
	double secs;

	block = malloc(3 * depth + 8);
	if (!flow || !block)
		goto out;
	o = sprintf(flow, "a: ");
	memset(flow + o, '[', depth);
	memset(flow + o + depth, ']', depth);
	flow[o + 2 * depth] = '\0';
	/* "a:\n- - - - ...": block sequences in one another, on one line. */
	o = sprintf(block, "a:\n");
	for (size_t i = 0; i < depth; i++)
		o += sprintf(block + o, "- ");
	sprintf(block + o, "x\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!write_file("deep.yaml", flow))
		goto out;
	path_in_dir("deep.yaml", path, sizeof(path));
	if (!ASSERT_EQ(load_captured(path, &cfg), -EINVAL, "flow: return") ||
	    !ASSERT_STR_HAS(captured, ":1:67: nested deeper than 64 levels",
			    "flow: stderr") ||
	    !write_file("deep.yaml", block) ||
	    !ASSERT_EQ(load_captured(path, &cfg), -EINVAL, "block: return") ||
	    !ASSERT_STR_HAS(captured, ":2:127: nested deeper than 64 levels",
			    "block: stderr"))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok = ASSERT_TRUE(secs < 1.0, "took %.2f s", secs);
out:
	free(flow);
	free(block);
	return ok;
}

/* $SLUICE_CONFIG_MAX_BYTES caps the size of a config (and 0 lifts it). */
static bool check_size_cap(void)
{
	char path[128];
	struct sl_config cfg;
	bool ok;

	if (!write_file("big.yaml", "policy: pass\n# padding padding\n"))
		return false;
	path_in_dir("big.yaml", path, sizeof(path));
	setenv("SLUICE_CONFIG_MAX_BYTES", "16", 1);
	ok = ASSERT_EQ(load_captured(path, &cfg), -EINVAL, "capped: return") &&
	     ASSERT_STR_HAS(captured,
			    "big.yaml: larger than the config size cap of 16 "
			    "bytes",
			    "capped: stderr");
	setenv("SLUICE_CONFIG_MAX_BYTES", "0", 1);
	ok = ok && ASSERT_EQ(load_captured(path, &cfg), 0, "uncapped: return");
	sl_config_free(&cfg);
	setenv("SLUICE_CONFIG_MAX_BYTES", "1x", 1);
	ok = ok && ASSERT_EQ(load_captured(path, &cfg), -EINVAL, "bad cap") &&
	     ASSERT_STR_HAS(captured, "SLUICE_CONFIG_MAX_BYTES: expected",
			    "bad cap: stderr");
	unsetenv("SLUICE_CONFIG_MAX_BYTES");
	return ok;
}

/* YAML merge keys: a mapping's own keys win over merged ones, merged
 * lists go in order (the first naming a key wins). */
static bool check_merge_keys(void)
{
	struct sl_config cfg;
	char buf[256];
	bool ok;

	if (!load_file(
		"merge.yaml",
		"rules:\n"
		"  - &base {id: 1, action: drop, proto: tcp, dport: 22}\n"
		"  - <<: *base\n"
		"    id: 2\n"
		"    dport: 23\n"
		"  - <<: [{action: pass}, *base]\n"
		"    id: 3\n",
		&cfg))
		return false;
	ok = ASSERT_EQ(cfg.n_rules, 3, "rules");
	if (ok) {
		sl_rule_format(&cfg.rules[1], buf, sizeof(buf));
		ok = ASSERT_TRUE(!strcmp(buf, "id 2 prio 1000 drop proto tcp "
					      "dport 23"),
				 "rule 2: %s", buf);
	}
	if (ok) {
		sl_rule_format(&cfg.rules[2], buf, sizeof(buf));
		ok = ASSERT_TRUE(!strcmp(buf, "id 3 prio 1000 pass proto tcp "
					      "dport 22"),
				 "rule 3: %s", buf);
	}
	sl_config_free(&cfg);
	return ok;
}

/* The lockout guard's view of a config: deny 0/0 and match-less drop
 * rules, with their file positions, unless already running. */
static bool check_lockout(void)
{
	struct sl_config a, none;
	struct sl_srcpos pos;
	char what[96];
	bool ok;

	memset(&none, 0, sizeof(none));
	if (!load_file("lock.yaml",
		       "deny:\n  - 198.18.0.0/24\n  - {prefix: \"::/0\", dir: "
		       "dst}\nrules:\n  - {id: 4, action: drop, comment: x}\n"
		       "  - {id: 5, action: drop, proto: arp}\n"
		       "  - {id: 6, action: pass}\n",
		       &a))
		return false;
	ok = ASSERT_TRUE(sl_config_lockout(&a, NULL, what, sizeof(what), &pos),
			 "no lockout found") &&
	     ASSERT_TRUE(!strcmp(what, "deny ::/0 (dst) drops every packet"),
			 "what: %s", what) &&
	     ASSERT_EQ(pos.line, 3, "line") && ASSERT_EQ(pos.col, 14, "col");
	/* Running already: the deny entry is no news; the rule is. */
	ok = ok && ASSERT_TRUE(sl_config_lockout(&a, &a, what, sizeof(what),
						 &pos) == false,
			       "found '%s' although running", what);
	a.n_sets = 1; /* drop the deny ::/0 */
	ok = ok &&
	     ASSERT_TRUE(sl_config_lockout(&a, &none, what, sizeof(what), &pos),
			 "rule not found") &&
	     ASSERT_TRUE(!strcmp(what, "rule 4 (drop without match fields) "
				       "drops every packet"),
			 "what: %s", what) &&
	     ASSERT_EQ(pos.line, 5, "rule line") &&
	     ASSERT_TRUE(!sl_rule_drops_all(&a.rules[1]), "arp drop") &&
	     ASSERT_TRUE(!sl_rule_drops_all(&a.rules[2]), "pass");
	/* A drop whose only match is ::/0: named for what it is. */
	if (ok) {
		a.rules[0].has_src = 1;
		a.rules[0].src.family = AF_INET6;
		ok = ASSERT_TRUE(
			 sl_config_lockout(&a, &none, what, sizeof(what), &pos),
			 "rule with ::/0 not found") &&
		     ASSERT_TRUE(!strcmp(what, "rule 4 (drop whose only match "
					       "is 0.0.0.0/0 or ::/0) drops "
					       "every packet"),
				 "what: %s", what);
	}
	a.n_sets = 2;
	sl_config_free(&a);
	if (!ok)
		return false;
	/* The management path: a deny entry overlapping a management
	 * prefix (at its line), a drop rule naming one, a drop policy that
	 * nothing lets it through; none of them when running already. */
	if (!load_file("mgmt.yaml",
		       "management: [198.18.0.10, \"2001:db8::/64\"]\n"
		       "policy: {in: drop}\n"
		       "rules:\n  - {id: 2, action: pass, proto: tcp, dport: "
		       "22}\n"
		       "  - {id: 3, action: drop, dst: \"2001:db8::5\", "
		       "direction: out}\n"
		       "deny:\n  - 198.18.1.0/24\n  - 198.18.0.0/23\n",
		       &a))
		return false;
	ok = ASSERT_TRUE(sl_config_lockout(&a, NULL, what, sizeof(what), &pos),
			 "no management lockout found") &&
	     ASSERT_TRUE(!strcmp(what, "deny 198.18.0.0/23 drops the "
				       "management path (198.18.0.10/32)"),
			 "what: %s", what) &&
	     ASSERT_EQ(pos.line, 8, "deny line");
	a.n_deny_mgmt = 0;
	ok = ok &&
	     ASSERT_TRUE(sl_config_lockout(&a, NULL, what, sizeof(what), &pos),
			 "rule not found") &&
	     ASSERT_TRUE(!strcmp(what, "rule 3 drops the management path "
				       "(2001:db8::/64)"),
			 "what: %s", what) &&
	     ASSERT_EQ(pos.line, 5, "rule line");
	/* a pass rule without addresses lets everyone in: no policy lock */
	a.n_rules = 1;
	ok = ok &&
	     ASSERT_TRUE(!sl_config_lockout(&a, NULL, what, sizeof(what), &pos),
			 "found '%s' with a pass rule for all", what);
	a.rules[0].action = SL_RACT_COUNT;
	ok = ok &&
	     ASSERT_TRUE(sl_config_lockout(&a, NULL, what, sizeof(what), &pos),
			 "policy lock not found") &&
	     ASSERT_TRUE(strstr(what, "policy in: drop drops the management "
				      "path (198.18.0.10/32: no allow") != NULL,
			 "what: %s", what) &&
	     ASSERT_EQ(pos.line, 2, "policy line") &&
	     ASSERT_TRUE(!sl_config_lockout(&a, &a, what, sizeof(what), &pos),
			 "found '%s' although running", what);
	a.rules[0].action = SL_RACT_PASS;
	a.n_rules = 2;
	sl_config_free(&a);
	if (!ok)
		return false;
	/* A pass rule of the other family, or for established flows only,
	 * lets nothing of the prefix in; a redirect rule naming it takes
	 * its traffic away; more overlapping deny entries than are kept
	 * with their place always need --force. */
	if (!load_file("mgmt2.yaml",
		       "management: [198.18.0.10]\npolicy: {in: drop}\n"
		       "rules:\n  - {id: 2, action: pass, proto: icmpv6}\n"
		       "  - {id: 3, action: pass, ct-state: established}\n",
		       &a))
		return false;
	ok = ASSERT_TRUE(sl_config_lockout(&a, NULL, what, sizeof(what), &pos),
			 "an IPv6 or established-only pass rule let it in") &&
	     ASSERT_TRUE(strstr(what, "policy in: drop") != NULL, "what: %s",
			 what);
	sl_config_free(&a);
	if (!ok || !load_file("mgmt3.yaml",
			      "management: [198.18.0.10]\nrules:\n"
			      "  - {id: 4, action: redirect, to: lo, src: "
			      "198.18.0.0/16}\n",
			      &a))
		return false;
	ok = ASSERT_TRUE(sl_config_lockout(&a, NULL, what, sizeof(what), &pos),
			 "a redirect of the management prefix") &&
	     ASSERT_TRUE(strstr(what, "rule 4 drops the management path") !=
			     NULL,
			 "what: %s", what);
	sl_config_free(&a);
	{
		char y[4096];
		size_t l = snprintf(y, sizeof(y),
				    "management: [198.18.0.0/16]\ndeny:\n");

		for (int i = 0; i < SL_GUARD_HITS + 1; i++)
			l += snprintf(y + l, sizeof(y) - l,
				      "  - 198.18.%d.0/24\n", i);
		if (!ok || !load_file("mgmt4.yaml", y, &a))
			return false;
	}
	/* running holds the first SL_GUARD_HITS: the one more is unseen */
	memset(&none, 0, sizeof(none));
	none.sets = a.sets;
	none.n_sets = a.n_sets;
	ok = ASSERT_TRUE(a.deny_mgmt_overflow, "overflow not marked") &&
	     ASSERT_TRUE(sl_config_lockout(&a, &none, what, sizeof(what), &pos),
			 "more overlapping deny entries than kept") &&
	     ASSERT_TRUE(strstr(what, "more than 16 deny entries") != NULL,
			 "what: %s", what);
	memset(&none, 0, sizeof(none));
	sl_config_free(&a);
	return ok;
}

static bool check_missing_config(void)
{
	char path[128];
	struct sl_config cfg;

	path_in_dir("does-not-exist.yaml", path, sizeof(path));
	return ASSERT_EQ(load_captured(path, &cfg), -EINVAL, "return value") &&
	       ASSERT_STR_HAS(captured, path, "stderr");
}

/* ---- export and comparison ---- */

static char *write_mem(const struct sl_config *cfg, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	if (sl_config_write(f, cfg)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static const char full_canon[] =
    "interfaces:\n"
    "  - name: \"lo\"\n"
    "    hooks: [tc]\n"
    "    mode: generic\n"
    "policy: {in: drop, out: pass}\n"
    "fragments:\n"
    "  timeout: 10s\n"
    "  max: 4096\n"
    "deny:\n"
    "  - 198.18.5.0/24\n"
    "  - 203.0.113.0/24\n"
    "  - \"2001:db8:dead::/48\"\n"
    "  - {prefix: \"2001:db8:bad::/48\", dir: dst}\n"
    "allow:\n"
    "  - 198.18.0.1/32\n"
    "  - 198.18.0.2/32\n"
    "rules:\n"
    "  - id: 3\n"
    "    priority: 10\n"
    "    action: pass\n"
    "    direction: both\n"
    "    dst: \"2001:db8::/32\"\n"
    "    proto: icmpv6\n"
    "    icmp-type: 128\n"
    "    icmp-code: 0\n"
    "  - id: 9\n"
    "    priority: 10\n"
    "    action: count\n"
    "    direction: both\n"
    "    fragment: later\n"
    "    comment: \"plain text\"\n"
    "  - id: 7\n"
    "    priority: 1000\n"
    "    action: drop\n"
    "    direction: in\n"
    "    src: 198.18.0.0/15\n"
    "    proto: tcp\n"
    "    sport: 1024-65535\n"
    "    dport: 80\n"
    "    tcp-flags: \"syn/syn,ack\"\n"
    "    vlan: 10\n"
    "    iface: \"lo\"\n"
    "    comment: \"web \\\"syn\\\" a\\\\b: #1\"\n"
    "  - id: 10\n"
    "    priority: 1000\n"
    "    action: count\n"
    "    direction: out\n"
    "    proto: arp\n";

/* load -> write gives the canonical text; write -> load is equal; a
 * second write is byte-identical. */
static bool check_round_trip(void)
{
	struct sl_config a, b;
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;
	bool ok = false;

	memset(&b, 0, sizeof(b));
	if (!write_file("lists/block.txt", block_list) ||
	    !load_file("full.yaml", full_cfg, &a))
		return false;
	t1 = write_mem(&a, &l1);
	if (!ASSERT_TRUE(t1 != NULL, "write failed") ||
	    !ASSERT_TRUE(!strcmp(t1, full_canon), "canonical text differs:\n%s",
			 t1) ||
	    !load_file("export.yaml", t1, &b) ||
	    !ASSERT_TRUE(sl_config_equal(&a, &b), "reloaded config differs"))
		goto out;
	t2 = write_mem(&b, &l2);
	ok = ASSERT_TRUE(t2 != NULL, "second write failed") &&
	     ASSERT_EQ(l1, l2, "length of the second write") &&
	     ASSERT_TRUE(!memcmp(t1, t2, l1), "second write differs");
out:
	free(t1);
	free(t2);
	sl_config_free(&a);
	sl_config_free(&b);
	return ok;
}

/* The round trip of a section: src loads into a, its YAML holds want and
 * its JSON json, and both load back (b, c) equal to a. a, b and c are the
 * caller's to check further and free (zeroed on entry). */
static bool round_trip_text(const char *tag, const char *src, const char *want,
			    const char *json, struct sl_config *a,
			    struct sl_config *b, struct sl_config *c)
{
	char *t = NULL, *j = NULL, name[3][64];
	size_t len = 0, jl = 0;
	bool ok = false;
	FILE *f;

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	memset(c, 0, sizeof(*c));
	snprintf(name[0], sizeof(name[0]), "%s.yaml", tag);
	snprintf(name[1], sizeof(name[1]), "%s2.yaml", tag);
	snprintf(name[2], sizeof(name[2]), "%s.json", tag);
	if (!load_file(name[0], src, a))
		return false;
	t = write_mem(a, &len);
	f = open_memstream(&j, &jl);
	if (!ASSERT_TRUE(t && f, "write") ||
	    !ASSERT_EQ(sl_config_write_json(f, a), 0, "write_json")) {
		if (f)
			fclose(f);
		goto out;
	}
	fclose(f);
	ok = ASSERT_STR_HAS(t, want, "canonical section") &&
	     ASSERT_STR_HAS(j, json, "json") && load_file(name[1], t, b) &&
	     load_file(name[2], j, c) &&
	     ASSERT_TRUE(sl_config_equal(a, b), "YAML reloaded differs") &&
	     ASSERT_TRUE(sl_config_equal(a, c), "JSON reloaded differs");
out:
	free(t);
	free(j);
	return ok;
}

/* synproxy: ports in any order and ranges come back sorted with runs as
 * ranges, options only when not the default (wscale 0 kept), as YAML and
 * as JSON, and load back equal. */
static bool check_round_trip_synproxy(void)
{
	static const char src[] = "conntrack: {enabled: true}\n"
				  "synproxy:\n"
				  "  ports: [443, 80, 8000-8002, 8003, 9000]\n"
				  "  mss: 1400\n"
				  "  wscale: 0\n";
	static const char want[] = "synproxy:\n"
				   "  ports: [80, 443, 8000-8003, 9000]\n"
				   "  mss: 1400\n"
				   "  wscale: 0\n";
	struct sl_config a, b, c;
	bool ok =
	    round_trip_text("syn", src, want,
			    "\"synproxy\":{\"ports\":[80,443,\"8000-8003\","
			    "9000],\"mss\":1400,\"wscale\":0}",
			    &a, &b, &c) &&
	    ASSERT_EQ(sl_syn_count(&a.syn), 7, "ports loaded") &&
	    ASSERT_EQ(sl_syn_wscale(&c.syn), 0, "wscale 0 kept");

	sl_config_free(&a);
	sl_config_free(&b);
	sl_config_free(&c);
	return ok;
}

/* loadbalancer: services and backends come back in YAML and JSON, equal
 * whatever the order of the backends; weight 1 is the default. */
static bool check_round_trip_lb(void)
{
	static const char src[] =
	    "loadbalancer:\n"
	    "  max: 262144\n"
	    "  services:\n"
	    "    - vip: 198.18.100.1\n"
	    "      port: 80\n"
	    "      proto: tcp\n"
	    "      mode: nat\n"
	    "      backends:\n"
	    "        - {addr: 198.18.1.10, port: 8080, weight: 2}\n"
	    "        - {addr: 198.18.1.11, port: 8080}\n"
	    "        - {addr: 198.18.1.12, port: 8080, weight: 0}\n"
	    "      health: {type: http, path: \"/h'c#1,}\", interval: 120, "
	    "rise: 3, fall: 4}\n"
	    "    - {vip: '2001:db8::100', port: 53, proto: udp, mode: dsr-l2,\n"
	    "       backends: [{addr: '2001:db8::10', port: 53}]}\n";
	static const char want[] =
	    "loadbalancer:\n"
	    "  max: 262144\n"
	    "  services:\n"
	    "    - vip: 198.18.100.1\n"
	    "      port: 80\n"
	    "      proto: tcp\n"
	    "      mode: nat\n"
	    "      backends:\n"
	    "        - {addr: 198.18.1.10, port: 8080, weight: 2}\n"
	    "        - {addr: 198.18.1.11, port: 8080}\n"
	    "        - {addr: 198.18.1.12, port: 8080, weight: 0}\n"
	    "      health: {type: http, path: \"/h'c#1,}\", interval: 2m, "
	    "rise: 3, fall: 4}\n"
	    "    - vip: 2001:db8::100\n"
	    "      port: 53\n"
	    "      proto: udp\n"
	    "      mode: dsr-l2\n"
	    "      backends:\n"
	    "        - {addr: 2001:db8::10, port: 53}\n";
	struct sl_config a, b, c;
	bool ok = round_trip_text("lb", src, want,
				  "\"loadbalancer\":{\"max\":262144,"
				  "\"services\":[{\"vip\":"
				  "\"198.18.100.1\",\"port\":80",
				  &a, &b, &c) &&
		  ASSERT_EQ(a.lb.max, 262144, "max loaded") &&
		  ASSERT_EQ(a.lb.n_svc, 2, "services loaded") &&
		  ASSERT_EQ(a.lb.svc[0].n_be, 3, "backends loaded");

	/* the backends in another order: equal; another weight: not */
	if (ok) {
		struct sl_lb_backend_cfg x = b.lb.svc[0].be[0];

		b.lb.svc[0].be[0] = b.lb.svc[0].be[2];
		b.lb.svc[0].be[2] = x;
		ok = ASSERT_TRUE(sl_config_equal(&a, &b), "order matters");
		b.lb.svc[0].be[2].weight = 5;
		ok = ok &&
		     ASSERT_TRUE(!sl_config_equal(&a, &b), "weight ignored");
		/* the table's capacity: the default spelled out is equal */
		b.lb.svc[0].be[2].weight = x.weight;
		ok = ok && ASSERT_TRUE(sl_config_equal(&a, &b),
				       "the weight put back: unequal");
		b.lb.max = 4096;
		ok = ok && ASSERT_TRUE(!sl_config_equal(&a, &b),
				       "max 262144 equal to 4096");
		a.lb.max = 0;
		b.lb.max = 0;
		ok = ok && ASSERT_TRUE(sl_config_equal(&a, &b),
				       "max 0 (the default) unequal to 0");
		b.lb.max = SL_LB_CONN_MAX;
		ok = ok && ASSERT_TRUE(sl_config_equal(&a, &b),
				       "max 0 unequal to the default spelled "
				       "out");
		b.lb.max = 4096;
		ok = ok && ASSERT_TRUE(!sl_config_equal(&a, &b),
				       "another max ignored");
	}
	sl_config_free(&a);
	sl_config_free(&b);
	sl_config_free(&c);
	return ok;
}

/* export -j: the full config as JSON loads back (JSON is YAML) equal, and
 * every section and rule field is there under its config key. */
static bool check_round_trip_json(void)
{
	struct sl_config a, b;
	char *t = NULL;
	size_t len = 0;
	bool ok = false;
	FILE *f;

	memset(&b, 0, sizeof(b));
	if (!write_file("lists/block.txt", block_list) ||
	    !load_file("full.yaml", full_cfg, &a))
		return false;
	f = open_memstream(&t, &len);
	if (!ASSERT_TRUE(f != NULL, "open_memstream"))
		goto out;
	if (!ASSERT_EQ(sl_config_write_json(f, &a), 0, "write_json")) {
		fclose(f);
		goto out;
	}
	fclose(f);
	ok = ASSERT_TRUE(t[0] == '{' && strchr(t, '\n') == t + len - 1,
			 "not one JSON line: %.200s", t) &&
	     ASSERT_STR_HAS(t, "\"interfaces\":[{\"name\":\"lo\"", "json") &&
	     ASSERT_STR_HAS(t, "\"policy\":", "json") &&
	     ASSERT_STR_HAS(t, "\"deny\":[", "json") &&
	     ASSERT_STR_HAS(t, "\"rules\":[{\"id\":", "json") &&
	     load_file("export.json", t, &b) &&
	     ASSERT_TRUE(sl_config_equal(&a, &b), "reloaded config differs");
out:
	free(t);
	sl_config_free(&a);
	sl_config_free(&b);
	return ok;
}

/* The limits section: loaded, written (only capacities off their
 * default), loaded back equal; a default written out equals none. */
static bool check_limits(void)
{
	struct sl_config a, b, c;
	char *t = NULL;
	size_t l = 0;
	bool ok;

	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	if (!load_file("lim.yaml",
		       "limits:\n  set-hosts: 2048\n  rules: 100\n"
		       "  set-prefixes: 2097152\n",
		       &a))
		return false;
	t = write_mem(&a, &l);
	ok =
	    ASSERT_EQ(a.limits.hosts, 2048, "set-hosts") &&
	    ASSERT_EQ(a.limits.rules, 100, "rules") &&
	    ASSERT_TRUE(t &&
			    strstr(t, "limits:\n  set-hosts: 2048\n  rules: "
				      "100\n") &&
			    !strstr(t, "set-prefixes"),
			"written: %s", t ? t : "(null)") &&
	    load_file("lim2.yaml", t, &b) &&
	    ASSERT_TRUE(sl_config_equal(&a, &b), "reloaded limits differ") &&
	    load_file("lim3.yaml", "limits:\n  set-hosts: 1048576\n", &c) &&
	    ASSERT_TRUE(!sl_config_equal(&a, &c), "other limits compare equal");
	sl_config_free(&b);
	if (ok) {
		struct sl_config none = {0};

		ok = ASSERT_TRUE(sl_config_equal(&c, &none),
				 "default limits differ from none");
	}
	free(t);
	sl_config_free(&a);
	sl_config_free(&c);
	return ok;
}

/* `ratelimit: {max}` and `fragments: {max}`: loaded, written only when
 * not the default, loaded back equal; another capacity compares unequal,
 * the default equals none. */
static bool check_rt_caps(void)
{
	struct sl_config a, b, c, none = {0};
	char *t = NULL;
	size_t l = 0;
	bool ok;

	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	if (!load_file("caps.yaml",
		       "ratelimit: {max: 2048}\nfragments: {max: 1024}\n", &a))
		return false;
	t = write_mem(&a, &l);
	ok = ASSERT_EQ(a.rl.max, 2048, "ratelimit max") &&
	     ASSERT_EQ(a.frag.max, 1024, "fragments max") &&
	     ASSERT_TRUE(t &&
			     strstr(t, "fragments:\n  max: 1024\nratelimit:\n"
				       "  max: 2048\n") &&
			     !strstr(t, "timeout"),
			 "written: %s", t ? t : "(null)") &&
	     load_file("caps2.yaml", t, &b) &&
	     ASSERT_TRUE(sl_config_equal(&a, &b),
			 "reloaded capacities differ") &&
	     load_file("caps3.yaml",
		       "ratelimit: {max: 16384}\nfragments: {max: 1024}\n",
		       &c) &&
	     ASSERT_TRUE(!sl_config_equal(&a, &c),
			 "another ratelimit max compares equal");
	sl_config_free(&c);
	ok = ok &&
	     load_file("caps4.yaml",
		       "ratelimit: {max: 16384}\nfragments: {max: 8192}\n",
		       &c) &&
	     ASSERT_TRUE(sl_config_equal(&c, &none),
			 "default capacities differ from none");
	free(t);
	sl_config_free(&a);
	sl_config_free(&b);
	sl_config_free(&c);
	return ok;
}

/* An empty config writes "policy: pass" and loads back equal. */
static bool check_round_trip_empty(void)
{
	struct sl_config a, b;
	char *t = NULL;
	size_t len = 0;
	bool ok = false;

	if (!load_file("e.yaml", "", &a))
		return false;
	t = write_mem(&a, &len);
	if (ASSERT_TRUE(t && !strcmp(t, "policy: pass\n"), "wrote '%s'",
			t ? t : "(null)") &&
	    load_file("e2.yaml", t, &b)) {
		ok = ASSERT_TRUE(sl_config_equal(&a, &b), "differs");
		sl_config_free(&b);
	}
	free(t);
	sl_config_free(&a);
	return ok;
}

/* Every field value the writer must quote or format survives. */
static bool check_round_trip_fields(void)
{
	static const char cfgtext[] =
	    "rules:\n"
	    "  - {id: 1, action: drop, comment: 'it''s \"q\" \\ : # x'}\n"
	    "  - {id: 2, action: pass, src: '::/0', proto: udp, sport: 0}\n"
	    "  - {id: 3, action: drop, proto: tcp, tcp-flags: /rst}\n"
	    "  - {id: 4, action: drop, proto: 132, dport: 1-2}\n"
	    "  - {id: 5, action: count, proto: 0, direction: in}\n"
	    "  - {id: 6, action: drop, dst: 0.0.0.0/0, proto: icmp, "
	    "icmp-type: 3, icmp-code: 4}\n"
	    "  - {id: 7, action: redirect, to: lo, proto: udp, dport: 53}\n"
	    "  - {id: 8, action: drop, src-mac: '02:00:00:00:00:01', "
	    "dst-mac: 'FF:ff:ff:ff:ff:ff', proto: arp}\n"
	    "deny:\n"
	    "  - {prefix: '::/0', dir: dst}\n"
	    "  - 0.0.0.0/0\n";
	struct sl_config a, b;
	char *t = NULL;
	size_t len = 0;
	bool ok = false;

	memset(&b, 0, sizeof(b));
	if (!load_file("f.yaml", cfgtext, &a))
		return false;
	if (!ASSERT_TRUE(!strcmp(a.rules[0].comment, "it's \"q\" \\ : # x"),
			 "comment '%s'", a.rules[0].comment) ||
	    !ASSERT_TRUE(a.rules[6].action == SL_RACT_REDIRECT &&
			     !strcmp(a.rules[6].to, "lo") &&
			     a.rules[6].to_ifindex == if_nametoindex("lo"),
			 "rule 7: action %d to '%s' (%u)", a.rules[6].action,
			 a.rules[6].to, a.rules[6].to_ifindex))
		goto out;
	t = write_mem(&a, &len);
	if (!ASSERT_TRUE(t != NULL, "write failed") ||
	    !load_file("f2.yaml", t, &b))
		goto out;
	ok = ASSERT_TRUE(sl_config_equal(&a, &b), "differs after reload:\n%s",
			 t);
out:
	free(t);
	sl_config_free(&a);
	sl_config_free(&b);
	return ok;
}

/* Equality ignores file order of sets and rules but sees every field. */
static bool check_equal(void)
{
	static const char one[] =
	    "deny: [198.18.0.0/24, 198.19.0.0/24]\n"
	    "rules:\n  - {id: 1, action: drop}\n  - {id: 2, action: pass}\n";
	static const char two[] =
	    "deny:\n  - 198.19.0.0/24\n  - 198.18.0.0/24\n"
	    "rules:\n  - {id: 2, action: pass}\n  - {id: 1, action: drop}\n";
	struct sl_config a, b;
	bool ok = false;

	if (!load_file("eq1.yaml", one, &a))
		return false;
	if (!load_file("eq2.yaml", two, &b)) {
		sl_config_free(&a);
		return false;
	}
	if (!ASSERT_TRUE(sl_config_equal(&a, &b), "reordered configs differ"))
		goto out;
	b.rules[0].comment[0] = 'x';
	if (!ASSERT_TRUE(!sl_config_equal(&a, &b), "comment change unseen"))
		goto out;
	b.rules[0].comment[0] = '\0';
	b.rules[1].dport_lo = 5;
	if (!ASSERT_TRUE(!sl_config_equal(&a, &b), "port change unseen"))
		goto out;
	b.rules[1].dport_lo = 0;
	b.rules[1].id = 3;
	if (!ASSERT_TRUE(!sl_config_equal(&a, &b), "id change unseen"))
		goto out;
	b.rules[1].id = 1;
	b.sets[0].dir = SL_DIR_DST;
	if (!ASSERT_TRUE(!sl_config_equal(&a, &b), "set dir change unseen"))
		goto out;
	b.sets[0].dir = SL_DIR_SRC;
	b.policy[SL_RDIR_OUT] = SL_ACT_DROP;
	if (!ASSERT_TRUE(!sl_config_equal(&a, &b), "policy change unseen"))
		goto out;
	b.policy[SL_RDIR_OUT] = SL_ACT_PASS;
	b.rules[0].pos.line = 99; /* positions do not matter */
	ok = ASSERT_TRUE(sl_config_equal(&a, &b), "restored configs differ");
out:
	sl_config_free(&a);
	sl_config_free(&b);
	return ok;
}

static void cleanup(void)
{
	static const char *const files[] = {
	    "lists/block.txt", "lists/bom.txt", "full.yaml", "empty.yaml",
	    "iface.yaml",      "q1.yaml",	"q2.yaml",   "bad.yaml",
	    "bad-list.txt",    "export.yaml",	"e.yaml",    "e2.yaml",
	    "f.yaml",	       "f2.yaml",	"eq1.yaml",  "eq2.yaml",
	    "export.json",     "syn.yaml",	"syn2.yaml", "syn.json"};
	char path[128];

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		path_in_dir(files[i], path, sizeof(path));
		unlink(path);
	}
	path_in_dir("lists", path, sizeof(path));
	rmdir(path);
	rmdir(tmp_dir);
}

int main(void)
{
	char name[200], path[128];
	size_t i;

	sl_log_hook_libbpf();
	for (i = 0; i < ARRAY_SIZE(field_ok); i++) {
		snprintf(name, sizeof(name), "field %s '%s'", field_ok[i].key,
			 field_ok[i].value);
		check_report(name, check_field_ok(&field_ok[i]));
	}
	for (i = 0; i < ARRAY_SIZE(field_bad); i++) {
		snprintf(name, sizeof(name), "field %s '%.30s' fails",
			 field_bad[i].key, field_bad[i].value);
		/* keep the name on one line */
		for (char *c = name; *c; c++)
			if (*c == '\n' || *c == '\t')
				*c = ' ';
		check_report(name, check_field_bad(&field_bad[i]));
	}
	check_report("field comment: 127 bytes fit, 128 do not",
		     check_comment_length());
	check_report("field values land in the rule", check_field_values());
	check_report("rule format line", check_format_line());
	for (i = 0; i < ARRAY_SIZE(xcases); i++) {
		snprintf(name, sizeof(name), "validate: %s", xcases[i].name);
		check_report(name, check_xcase(&xcases[i]));
	}
	check_report("resolve iface", check_resolve());

	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/sluice-cfg-XXXXXX");
	if (!mkdtemp(tmp_dir)) {
		printf("not ok - config temp dir: %s\n", strerror(errno));
		return 1;
	}
	path_in_dir("lists", path, sizeof(path));
	mkdir(path, 0700);
	check_report("config: load every feature", check_load_full());
	for (i = 0; i < ARRAY_SIZE(empty_cases); i++)
		check_report(empty_cases[i].name, check_empty(&empty_cases[i]));
	check_report("config: interface defaults", check_iface_defaults());
	check_report("config: the XDP mode of a tc-only interface is no "
		     "difference",
		     check_iface_tc_mode());
	check_report("config: a prefix list with a byte order mark and CRLF",
		     check_list_bom());
	check_report("config: quoted and plain numbers are equal",
		     check_quoted_numbers());
	write_file("bad-list.txt", "198.18.0.0/24\n# c\n  198.18.0.0/33\n");
	{
		FILE *f;

		path_in_dir("many.txt", path, sizeof(path));
		f = fopen(path, "w");
		for (int k = 0; f && k < 1025; k++)
			fprintf(f, "198.%d.%d.0/24\n", 18 + k / 256, k % 256);
		if (f)
			fclose(f);
	}
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++)
		check_report(bad_cases[i].name, check_bad(&bad_cases[i]));
	check_report("bad: missing config file", check_missing_config());
	check_report("bad: 100,000 levels of nesting fail fast with "
		     "FILE:LINE:COL",
		     check_deep_nesting());
	check_report("bad: SLUICE_CONFIG_MAX_BYTES caps the config size",
		     check_size_cap());
	check_report("config: YAML merge keys (<<) merge mappings",
		     check_merge_keys());
	check_report("config: the lockout guard finds deny 0/0 and match-less "
		     "drop rules",
		     check_lockout());
	check_report("round trip: load, write canonical, load equal, write "
		     "identical",
		     check_round_trip());
	check_report("round trip: empty config", check_round_trip_empty());
	check_report("round trip: synproxy ports, ranges and options",
		     check_round_trip_synproxy());
	check_report("round trip: loadbalancer services and backends",
		     check_round_trip_lb());
	check_report("round trip: export -j (JSON) loads back equal",
		     check_round_trip_json());
	check_report("limits: load, write, load equal", check_limits());
	check_report("ratelimit and fragments max: load, write, load equal",
		     check_rt_caps());
	check_report("round trip: quoting and field formats",
		     check_round_trip_fields());
	check_report("equal: order-insensitive, field-sensitive",
		     check_equal());
	cleanup();
	return check_failed ? 1 : 0;
}
