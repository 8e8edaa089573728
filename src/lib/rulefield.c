// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* rulefield: the table of rule fields (rulefield.h) and what walks it
 * without YAML: rule fields from text (config file and CLI alike), rule
 * validation, formatting and comparison. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"
#include "json.h"
#include "names.h"
#include "rulefield.h"
#include "units.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void sl_rule_init(struct sl_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->priority = SL_PRIO_DEFAULT;
	r->action = SL_RACT_UNSET;
	r->dirs = (1U << SL_RDIR_IN) | (1U << SL_RDIR_OUT);
	r->sport_hi = 65535;
	r->dport_hi = 65535;
	r->icmp_type = -1;
	r->icmp_code = -1;
	r->vlan = -1;
}

/* Decimal digits only, no sign or blanks, value <= max. */
static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return true;
}

/* "aa:bb:cc:dd:ee:ff": six two-digit hex bytes (any case), ':' between. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;

		for (int j = 0; j < 2; j++, s++) {
			char ch = *s;

			if (ch >= '0' && ch <= '9')
				v = v * 16 + (ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v = v * 16 + (ch - 'a' + 10);
			else if (ch >= 'A' && ch <= 'F')
				v = v * 16 + (ch - 'A' + 10);
			else
				return false;
		}
		mac[i] = v;
		if (i < 5 && *s++ != ':')
			return false;
	}
	return *s == '\0';
}

static void mac_text(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

static bool parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	const char *dash = strchr(s, '-');
	unsigned long a, b;
	char first[8];

	if (!dash) {
		if (!parse_uint(s, 65535, &a))
			return false;
		*lo = *hi = a;
		return true;
	}
	if ((size_t)(dash - s) >= sizeof(first))
		return false;
	memcpy(first, s, dash - s);
	first[dash - s] = '\0';
	if (!parse_uint(first, 65535, &a) || !parse_uint(dash + 1, 65535, &b) ||
	    a > b)
		return false;
	*lo = a;
	*hi = b;
	return true;
}

static const struct {
	const char *name;
	uint8_t num;
} protos[] = {
    {"icmp", IPPROTO_ICMP},	{"tcp", IPPROTO_TCP},	{"udp", IPPROTO_UDP},
    {"icmpv6", IPPROTO_ICMPV6}, {"sctp", IPPROTO_SCTP},
};

static const char *const tcp_flag_names[8] = {"fin", "syn", "rst", "psh",
					      "ack", "urg", "ece", "cwr"};

/* "syn,ack" -> bits; "" is no flag. */
static bool parse_flag_list(const char *s, size_t len, uint8_t *out)
{
	uint8_t v = 0;

	while (len) {
		size_t n = 0;
		unsigned int i;

		while (n < len && s[n] != ',')
			n++;
		for (i = 0; i < 8; i++)
			if (strlen(tcp_flag_names[i]) == n &&
			    !strncasecmp(s, tcp_flag_names[i], n))
				break;
		if (i == 8)
			return false;
		v |= 1U << i;
		s += n;
		len -= n;
		if (len) { /* skip the comma; a trailing one is an error */
			s++;
			len--;
			if (!len)
				return false;
		}
	}
	*out = v;
	return true;
}

static bool parse_flags_mask(const char *s, uint8_t *val, uint8_t *mask)
{
	const char *slash = strchr(s, '/');

	if (!slash) {
		if (!*s || !parse_flag_list(s, strlen(s), val))
			return false;
		*mask = *val;
		return true;
	}
	if (!parse_flag_list(s, slash - s, val) ||
	    !parse_flag_list(slash + 1, strlen(slash + 1), mask) || !*mask)
		return false;
	return (*val & ~*mask) == 0;
}

bool sl_ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || *s == '/' || *s == ':')
			return false;
	return true;
}

static bool comment_ok(const char *s)
{
	if (strlen(s) >= SL_COMMENT_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool ports_set(const struct sl_rule *r, bool src)
{
	return src ? (r->sport_lo != 0 || r->sport_hi != 65535)
		   : (r->dport_lo != 0 || r->dport_hi != 65535);
}

int sl_rule_check(struct sl_rule *r, const char **key, char *err, size_t errlen)
{
	int fam = 0;
	bool l4ports;

#define FAIL(k, ...)                                \
	do {                                        \
		*key = (k);                         \
		snprintf(err, errlen, __VA_ARGS__); \
		return -EINVAL;                     \
	} while (0)

	if (r->action == SL_RACT_UNSET)
		FAIL("action", "action: missing (expected pass, drop, count, "
			       "ratelimit or redirect)");
	if (r->action >= SL_RACT_MAX)
		FAIL("action", "action: expected pass, drop, count, ratelimit "
			       "or redirect");
	if (r->dirs == 0 ||
	    r->dirs & ~((1U << SL_RDIR_IN) | (1U << SL_RDIR_OUT)))
		FAIL("direction", "direction: expected in, out or both");
	if (r->priority > 65535)
		FAIL("priority", "priority: expected a priority 0-65535");
	if (r->id >= SL_RULE_MAX)
		FAIL("id", "id: expected an id 1-131071");
	if (r->sport_lo > r->sport_hi)
		FAIL("sport", "sport: expected a range LO-HI with LO <= HI");
	if (r->dport_lo > r->dport_hi)
		FAIL("dport", "dport: expected a range LO-HI with LO <= HI");
	if (r->vlan != -1 && (r->vlan < 1 || r->vlan > 4094))
		FAIL("vlan", "vlan: expected a VLAN id 1-4094");
	if (r->has_src)
		fam = r->src.family;
	if (r->has_dst) {
		if (fam && fam != r->dst.family)
			FAIL("dst",
			     "dst: %s address, but src is %s; src and "
			     "dst must be of the same family",
			     r->dst.family == AF_INET ? "an IPv4" : "an IPv6",
			     fam == AF_INET ? "IPv4" : "IPv6");
		fam = r->dst.family;
	}
	if (r->l3 == SL_L3_ARP) {
		if (r->has_src || r->has_dst)
			FAIL(r->has_src ? "src" : "dst",
			     "%s: proto arp matches no addresses",
			     r->has_src ? "src" : "dst");
		if (ports_set(r, true) || ports_set(r, false))
			FAIL(ports_set(r, true) ? "sport" : "dport",
			     "%s: proto arp has no ports",
			     ports_set(r, true) ? "sport" : "dport");
		if (r->icmp_type >= 0 || r->icmp_code >= 0)
			FAIL(r->icmp_type >= 0 ? "icmp-type" : "icmp-code",
			     "%s: proto arp has no ICMP type or code",
			     r->icmp_type >= 0 ? "icmp-type" : "icmp-code");
		if (r->tcp_mask)
			FAIL("tcp-flags", "tcp-flags: requires proto tcp");
	}
	if (r->has_proto && r->proto == IPPROTO_ICMP && fam == AF_INET6)
		FAIL("proto", "proto: icmp does not match IPv6 addresses "
			      "(expected icmpv6)");
	if (r->has_proto && r->proto == IPPROTO_ICMPV6 && fam == AF_INET)
		FAIL("proto", "proto: icmpv6 does not match IPv4 addresses "
			      "(expected icmp)");
	if (r->icmp_type >= 0 &&
	    !(r->has_proto &&
	      (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6)))
		FAIL("icmp-type", "icmp-type: requires proto icmp or icmpv6");
	if (r->icmp_code >= 0) {
		if (!(r->has_proto &&
		      (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6)))
			FAIL("icmp-code",
			     "icmp-code: requires proto icmp or icmpv6");
		if (r->icmp_type < 0)
			FAIL("icmp-code", "icmp-code: requires icmp-type");
	}
	l4ports = r->has_proto &&
		  (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP ||
		   r->proto == IPPROTO_SCTP);
	if (ports_set(r, true) && !l4ports)
		FAIL("sport", "sport: requires proto tcp, udp or sctp");
	if (ports_set(r, false) && !l4ports)
		FAIL("dport", "dport: requires proto tcp, udp or sctp");
	if (r->tcp_mask && !(r->has_proto && r->proto == IPPROTO_TCP))
		FAIL("tcp-flags", "tcp-flags: requires proto tcp");
	if ((r->tcp_flags & ~r->tcp_mask) != 0)
		FAIL("tcp-flags", "tcp-flags: the value has flags outside the "
				  "mask");
	if (r->fragment && !(r->fragment & ~(1U << SL_FRAG_LATER)) &&
	    (ports_set(r, true) || ports_set(r, false) || r->tcp_mask ||
	     r->icmp_type >= 0))
		FAIL("fragment",
		     "fragment: a later fragment has no L4 header, so no "
		     "ports, tcp-flags or icmp-type (fragment later matches "
		     "none of them)");
	if (r->to[0] && r->action != SL_RACT_REDIRECT)
		FAIL("to", "to: only with action redirect (the interface "
			   "matching packets are sent out of)");
	if (r->action == SL_RACT_REDIRECT && !r->to[0])
		FAIL("action", "action redirect: requires to (the interface "
			       "to send matching packets out of)");
	if (r->action == SL_RACT_RATELIMIT && !r->rate_pps && !r->rate_bytes)
		FAIL("action", "action ratelimit: requires rate (packets or "
			       "bytes per second, e.g. rate: 100/s or rate: "
			       "1MB/s)");
	if (r->burst_bytes && !(r->rate_pps && r->rate_bytes))
		FAIL(
		    "burst-bytes",
		    "burst-bytes: only with two rates, packets and bytes "
		    "(rate: 100/s,1MB/s); with one rate, burst is in its unit");
	if (r->action != SL_RACT_RATELIMIT) {
		static const char *const k[] = {"rate", "burst", "burst-bytes",
						"per", "ban"};
		bool set[] = {r->rate_pps || r->rate_bytes, r->burst != 0,
			      r->burst_bytes != 0,
			      r->rl_per || r->rl_plen4 || r->rl_plen6,
			      r->ban_secs != 0};

		for (size_t i = 0; i < ARRAY_SIZE(k); i++)
			if (set[i])
				FAIL(k[i], "%s: only with action ratelimit",
				     k[i]);
	}
	if (r->l3 != SL_L3_ARP) {
		if (fam == AF_INET)
			r->l3 = SL_L3_IPV4;
		else if (fam == AF_INET6)
			r->l3 = SL_L3_IPV6;
		else if (r->has_proto && r->proto == IPPROTO_ICMP)
			r->l3 = SL_L3_IPV4;
		else if (r->has_proto && r->proto == IPPROTO_ICMPV6)
			r->l3 = SL_L3_IPV6;
		else
			r->l3 = 0;
	}
#undef FAIL
	return 0;
}

int sl_rule_validate(struct sl_rule *r, char *err, size_t errlen)
{
	const char *key;

	return sl_rule_check(r, &key, err, errlen);
}

int sl_rule_resolve(struct sl_rule *r, char *err, size_t errlen)
{
	r->ifindex = 0;
	r->to_ifindex = 0;
	if (r->iface[0]) {
		r->ifindex = if_nametoindex(r->iface);
		if (!r->ifindex) {
			snprintf(err, errlen,
				 "iface: no interface '%s' on this host",
				 r->iface);
			return -EINVAL;
		}
	}
	if (r->to[0]) {
		r->to_ifindex = if_nametoindex(r->to);
		if (!r->to_ifindex) {
			snprintf(err, errlen,
				 "to: no interface '%s' on this host (the "
				 "redirect target must exist)",
				 r->to);
			return -EINVAL;
		}
	}
	return 0;
}

static void proto_name(const struct sl_rule *r, char *buf, size_t len)
{
	if (r->l3 == SL_L3_ARP) {
		snprintf(buf, len, "arp");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i].num == r->proto) {
			snprintf(buf, len, "%s", protos[i].name);
			return;
		}
	snprintf(buf, len, "%u", r->proto);
}

static void flags_text(uint8_t v, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < 8; i++)
		if (v & (1U << i) && off < len)
			off += snprintf(buf + off, len - off, "%s%s",
					off ? "," : "", tcp_flag_names[i]);
}

static void tcp_flags_text(const struct sl_rule *r, char *buf, size_t len)
{
	char v[40], m[40];

	flags_text(r->tcp_flags, v, sizeof(v));
	flags_text(r->tcp_mask, m, sizeof(m));
	if (r->tcp_flags == r->tcp_mask)
		snprintf(buf, len, "%s", m);
	else
		snprintf(buf, len, "%s/%s", v, m);
}

static void range_text(uint16_t lo, uint16_t hi, char *buf, size_t len)
{
	if (lo == hi)
		snprintf(buf, len, "%u", lo);
	else
		snprintf(buf, len, "%u-%u", lo, hi);
}

void sl_quote(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (len < 3) {
		if (len)
			buf[0] = '\0';
		return;
	}
	buf[o++] = '"';
	for (; *s && o + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

/* ---- the fields: parse, text, same ---- */

/* Unsigned numbers min..max (min 0 or 1) in member m; unset when 0, unless
 * `always` (id and priority are always printed). */
#define UINT_FIELD(name, m, min, max, always)                                \
	static int parse_##name(struct sl_rule *r, const char *v, char *err, \
				size_t len)                                  \
	{                                                                    \
		unsigned long n;                                             \
                                                                             \
		(void)err, (void)len;                                        \
		if (!parse_uint(v, max, &n) || ((min) && !n))                \
			return 1;                                            \
		r->m = n;                                                    \
		return 0;                                                    \
	}                                                                    \
	static bool text_##name(const struct sl_rule *r, char *buf,          \
				size_t len)                                  \
	{                                                                    \
		if (!(always) && !r->m)                                      \
			return false;                                        \
		snprintf(buf, len, "%u", (unsigned)r->m);                    \
		return true;                                                 \
	}
UINT_FIELD(id, id, 1, SL_RULE_MAX - 1, true)
UINT_FIELD(priority, priority, 0, 65535, true)
UINT_FIELD(burst, burst, 1, UINT32_MAX, false)
UINT_FIELD(burst_bytes, burst_bytes, 1, UINT32_MAX, false)

/* ratelimit's rate: "N/s" packets per second, or bytes per second as
 * "N<unit>/s" with unit B, kB, MB, GB (x1000) or kbit, mbit, gbit (bits:
 * a whole number of bytes), at most 4294967295 bytes per second. */
static const struct {
	const char *unit;
	unsigned long long mul, div; /* bytes = N * mul / div */
} rate_units[] = {
    {"GB", 1000000000ULL, 1},
    {"MB", 1000000, 1},
    {"kB", 1000, 1},
    {"B", 1, 1},
    {"gbit", 1000000000ULL, 8},
    {"mbit", 1000000, 8},
    {"kbit", 1000, 8},
};

/* One rate of v[0..n): packets (*bytes false) or bytes per second. */
static bool rate_one(const char *v, size_t n, uint32_t *out, bool *bytes)
{
	unsigned long long k = 0, b;
	const char *p = v, *e = v + n;
	size_t i, ul;

	for (; p < e && *p >= '0' && *p <= '9'; p++) {
		k = k * 10 + (unsigned long long)(*p - '0');
		if (k > UINT32_MAX)
			return false;
	}
	if (p == v || !k)
		return false;
	if (e - p == 2 && !strncmp(p, "/s", 2)) {
		*out = k;
		*bytes = false;
		return true;
	}
	for (i = 0; i < ARRAY_SIZE(rate_units); i++) {
		ul = strlen(rate_units[i].unit);
		if ((size_t)(e - p) == ul + 2 &&
		    !strncmp(p, rate_units[i].unit, ul) &&
		    !strncmp(p + ul, "/s", 2))
			break;
	}
	if (i == ARRAY_SIZE(rate_units))
		return false;
	b = k * rate_units[i].mul;
	if (b % rate_units[i].div || b / rate_units[i].div > UINT32_MAX)
		return false;
	*out = b / rate_units[i].div;
	*bytes = true;
	return true;
}

/* "RATE" or "RATE,RATE": a packet rate, a byte rate, or one of each
 * (both must hold for a packet to pass). */
static int parse_rate(struct sl_rule *r, const char *v, char *err, size_t len)
{
	const char *comma = strchr(v, ',');
	uint32_t a, b;
	bool ab, bb;

	if (!comma) {
		if (!rate_one(v, strlen(v), &a, &ab))
			return 1;
		r->rate_pps = ab ? 0 : a;
		r->rate_bytes = ab ? a : 0;
		return 0;
	}
	if (!rate_one(v, comma - v, &a, &ab) ||
	    !rate_one(comma + 1, strlen(comma + 1), &b, &bb))
		return 1;
	if (ab == bb) {
		snprintf(err, len,
			 "rate: two rates are one in packets (N/s) and one in "
			 "bytes (e.g. 100/s,1MB/s), not two of a kind");
		return -EINVAL;
	}
	r->rate_pps = ab ? b : a;
	r->rate_bytes = ab ? a : b;
	return 0;
}

/* Canonical: "N/s", or bytes in the largest of GB, MB, kB, B that divides
 * them; both: packets first ("100/s,1MB/s"). */
static bool text_rate(const struct sl_rule *r, char *buf, size_t len)
{
	int o = 0;

	if (!r->rate_pps && !r->rate_bytes)
		return false;
	if (r->rate_pps)
		o = snprintf(buf, len, "%u/s%s", r->rate_pps,
			     r->rate_bytes ? "," : "");
	if (!r->rate_bytes || o < 0 || (size_t)o >= len)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(rate_units); i++)
		if (rate_units[i].div == 1 &&
		    r->rate_bytes % rate_units[i].mul == 0) {
			snprintf(buf + o, len - o, "%llu%s/s",
				 r->rate_bytes / rate_units[i].mul,
				 rate_units[i].unit);
			break;
		}
	return true;
}

static bool same_rate(const struct sl_rule *a, const struct sl_rule *b)
{
	return a->rate_pps == b->rate_pps && a->rate_bytes == b->rate_bytes;
}

/* ratelimit's per: "rule", "src" (the whole address), or "src/N" (N <= 32:
 * IPv4's prefix length, else IPv6's), or "src/A,src/B" (IPv4 A 1-32, IPv6
 * B 1-128). Stored with 0 for a whole address. */
static bool parse_per_src(const char *s, size_t n, unsigned max, unsigned *plen)
{
	unsigned long v;
	char num[4];

	if (n < 5 || n > 7 || strncmp(s, "src/", 4))
		return false;
	memcpy(num, s + 4, n - 4);
	num[n - 4] = '\0';
	if (!parse_uint(num, max, &v) || !v)
		return false;
	*plen = v;
	return true;
}

static int parse_per(struct sl_rule *r, const char *v, char *err, size_t len)
{
	const char *comma = strchr(v, ',');
	unsigned a = 32, b = 128;

	(void)err, (void)len;
	if (!strcmp(v, "rule") || !strcmp(v, "src")) {
		r->rl_per = !strcmp(v, "rule") ? SL_RL_PER_RULE : SL_RL_PER_SRC;
		r->rl_plen4 = r->rl_plen6 = 0;
		return 0;
	}
	if (comma) {
		if (!parse_per_src(v, comma - v, 32, &a) ||
		    !parse_per_src(comma + 1, strlen(comma + 1), 128, &b))
			return 1;
	} else {
		unsigned n;

		if (!parse_per_src(v, strlen(v), 128, &n))
			return 1;
		if (n <= 32)
			a = n;
		else
			b = n;
	}
	r->rl_per = SL_RL_PER_SRC;
	r->rl_plen4 = a == 32 ? 0 : a;
	r->rl_plen6 = b == 128 ? 0 : b;
	return 0;
}

/* Unset when per src with whole addresses (the default). */
static bool text_per(const struct sl_rule *r, char *buf, size_t len)
{
	if (r->rl_per == SL_RL_PER_RULE) {
		snprintf(buf, len, "rule");
		return true;
	}
	if (!r->rl_plen4 && !r->rl_plen6)
		return false;
	snprintf(buf, len, "src/%u,src/%u", r->rl_plen4 ? r->rl_plen4 : 32,
		 r->rl_plen6 ? r->rl_plen6 : 128);
	return true;
}

static bool same_per(const struct sl_rule *a, const struct sl_rule *b)
{
	return a->rl_per == b->rl_per && a->rl_plen4 == b->rl_plen4 &&
	       a->rl_plen6 == b->rl_plen6;
}

/* ratelimit's ban: a duration (units.h); unset when 0 (no ban). */
static int parse_ban(struct sl_rule *r, const char *v, char *err, size_t len)
{
	long long secs = sl_duration_parse(v, false);

	(void)err, (void)len;
	if (secs <= 0)
		return 1;
	r->ban_secs = secs;
	return 0;
}

static bool text_ban(const struct sl_rule *r, char *buf, size_t len)
{
	if (!r->ban_secs)
		return false;
	sl_duration_format(r->ban_secs, buf, len);
	return true;
}

static int parse_action(struct sl_rule *r, const char *v, char *err, size_t len)
{
	(void)err, (void)len;
	for (unsigned a = 0; a < SL_RACT_MAX; a++)
		if (!strcmp(v, sl_rule_action_name(a))) {
			r->action = a;
			return 0;
		}
	return 1;
}

static bool text_action(const struct sl_rule *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s", sl_rule_action_name(r->action));
	return true;
}

#define DIRS_BOTH ((1U << SL_RDIR_IN) | (1U << SL_RDIR_OUT))

static int parse_direction(struct sl_rule *r, const char *v, char *err,
			   size_t len)
{
	(void)err, (void)len;
	if (!strcmp(v, "in"))
		r->dirs = 1U << SL_RDIR_IN;
	else if (!strcmp(v, "out"))
		r->dirs = 1U << SL_RDIR_OUT;
	else if (!strcmp(v, "both"))
		r->dirs = DIRS_BOTH;
	else
		return 1;
	return 0;
}

/* Unset when both directions (the default). */
static bool text_direction(const struct sl_rule *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s",
		 r->dirs == (1U << SL_RDIR_IN)	  ? "in"
		 : r->dirs == (1U << SL_RDIR_OUT) ? "out"
						  : "both");
	return r->dirs != DIRS_BOTH;
}

static int parse_prefix(const char *key, struct sl_prefix *p, uint8_t *has,
			const char *v, char *err, size_t len)
{
	struct sl_prefix np;
	char perr[128];

	if (sl_prefix_parse(v, &np, perr, sizeof(perr))) {
		snprintf(err, len,
			 "%s: expected an IPv4 or IPv6 address or prefix, got "
			 "'%s' (%s)",
			 key, v, perr);
		return -EINVAL;
	}
	*p = np;
	*has = 1;
	return 0;
}

static bool text_prefix(const struct sl_prefix *p, bool has, char *buf,
			size_t len)
{
	if (has)
		sl_prefix_format(p, buf, len);
	return has;
}

static bool same_prefix(const struct sl_prefix *a, bool ha,
			const struct sl_prefix *b, bool hb)
{
	return ha == hb &&
	       (!ha || (a->family == b->family && a->plen == b->plen &&
			!memcmp(a->addr, b->addr, sizeof(a->addr))));
}

/* src and dst: a prefix member and its has_ flag. */
#define PREFIX_FIELD(m)                                                        \
	static int parse_##m(struct sl_rule *r, const char *v, char *err,      \
			     size_t len)                                       \
	{                                                                      \
		return parse_prefix(#m, &r->m, &r->has_##m, v, err, len);      \
	}                                                                      \
	static bool text_##m(const struct sl_rule *r, char *buf, size_t len)   \
	{                                                                      \
		return text_prefix(&r->m, r->has_##m, buf, len);               \
	}                                                                      \
	static bool same_##m(const struct sl_rule *a, const struct sl_rule *b) \
	{                                                                      \
		return same_prefix(&a->m, a->has_##m, &b->m, b->has_##m);      \
	}
PREFIX_FIELD(src)
PREFIX_FIELD(dst)

static int parse_proto(struct sl_rule *r, const char *v, char *err, size_t len)
{
	unsigned long n;

	(void)err, (void)len;
	if (!strcmp(v, "arp")) {
		r->has_proto = 0;
		r->proto = 0;
		r->l3 = SL_L3_ARP;
		return 0;
	}
	for (n = 0; n < ARRAY_SIZE(protos); n++)
		if (!strcmp(v, protos[n].name))
			break;
	if (n < ARRAY_SIZE(protos))
		n = protos[n].num;
	else if (!parse_uint(v, 255, &n))
		return 1;
	r->has_proto = 1;
	r->proto = n;
	if (r->l3 == SL_L3_ARP)
		r->l3 = 0;
	return 0;
}

static bool text_proto(const struct sl_rule *r, char *buf, size_t len)
{
	if (!r->has_proto && r->l3 != SL_L3_ARP)
		return false;
	proto_name(r, buf, len);
	return true;
}

/* proto arp is l3, compared by the comparers themselves. */
static bool same_proto(const struct sl_rule *a, const struct sl_rule *b)
{
	return a->has_proto == b->has_proto &&
	       (!a->has_proto || a->proto == b->proto);
}

/* sport and dport: a range m_lo..m_hi, unset when 0..65535. */
#define PORT_FIELD(m, is_src)                                                  \
	static int parse_##m(struct sl_rule *r, const char *v, char *err,      \
			     size_t len)                                       \
	{                                                                      \
		(void)err, (void)len;                                          \
		return !parse_range(v, &r->m##_lo, &r->m##_hi);                \
	}                                                                      \
	static bool text_##m(const struct sl_rule *r, char *buf, size_t len)   \
	{                                                                      \
		if (!ports_set(r, is_src))                                     \
			return false;                                          \
		range_text(r->m##_lo, r->m##_hi, buf, len);                    \
		return true;                                                   \
	}                                                                      \
	static bool same_##m(const struct sl_rule *a, const struct sl_rule *b) \
	{                                                                      \
		return a->m##_lo == b->m##_lo && a->m##_hi == b->m##_hi;       \
	}
PORT_FIELD(sport, true)
PORT_FIELD(dport, false)

/* icmp-type, icmp-code (0-255) and vlan (1-4094): a number min..max (min
 * 0 or 1), -1 when unset. */
#define SIGNED_FIELD(m, min, max)                                            \
	static int parse_##m(struct sl_rule *r, const char *v, char *err,    \
			     size_t len)                                     \
	{                                                                    \
		unsigned long n;                                             \
                                                                             \
		(void)err, (void)len;                                        \
		if (!parse_uint(v, max, &n) || ((min) && !n))                \
			return 1;                                            \
		r->m = n;                                                    \
		return 0;                                                    \
	}                                                                    \
	static bool text_##m(const struct sl_rule *r, char *buf, size_t len) \
	{                                                                    \
		if (r->m < 0)                                                \
			return false;                                        \
		snprintf(buf, len, "%d", r->m);                              \
		return true;                                                 \
	}
SIGNED_FIELD(icmp_type, 0, 255)
SIGNED_FIELD(icmp_code, 0, 255)
SIGNED_FIELD(vlan, 1, 4094)

static int parse_tcp_flags(struct sl_rule *r, const char *v, char *err,
			   size_t len)
{
	const char *slash = strchr(v, '/');
	uint8_t fv, fm;

	if (!parse_flags_mask(v, &fv, &fm)) {
		char a[40], b[40];

		/* Well-formed lists whose value has flags the mask does not
		 * check: say so, and what the form means. */
		if (!slash || strchr(slash + 1, '/') ||
		    !parse_flag_list(v, slash - v, &fv) ||
		    !parse_flag_list(slash + 1, strlen(slash + 1), &fm) || !fm)
			return 1;
		flags_text(fv & ~fm, a, sizeof(a));
		flags_text(fv | fm, b, sizeof(b));
		snprintf(err, len,
			 "tcp-flags: '%.40s': %s is in the value but not in "
			 "the mask; VALUE/MASK checks the flags of MASK and "
			 "wants those of VALUE set, so MASK must name every "
			 "flag of VALUE (e.g. %.*s/%s)",
			 v, a, (int)(slash - v), v, b);
		return -EINVAL;
	}
	r->tcp_flags = fv;
	r->tcp_mask = fm;
	return 0;
}

/* ct-state: a comma list of connection states (new, established, related,
 * invalid, untracked), any order; the rule matches a packet in any. */
static int parse_ct_state(struct sl_rule *r, const char *v, char *err,
			  size_t len)
{
	uint8_t m = 0;

	(void)err, (void)len;
	while (*v) {
		size_t n = strcspn(v, ",");
		int s;

		while (n && v[n - 1] == ' ')
			n--;
		for (s = 0; s < SL_CT_PKT_MAX; s++)
			if (strlen(sl_ct_pkt_name(s)) == n &&
			    !strncmp(v, sl_ct_pkt_name(s), n))
				break;
		if (s == SL_CT_PKT_MAX)
			return 1;
		m |= 1U << s;
		v += strcspn(v, ",");
		if (*v == ',')
			v++;
		while (*v == ' ')
			v++;
		if (!*v && v[-1] == ',')
			return 1;
	}
	if (!m)
		return 1;
	r->ct_state = m;
	return 0;
}

static bool text_ct_state(const struct sl_rule *r, char *buf, size_t len)
{
	size_t o = 0;

	if (!r->ct_state)
		return false;
	buf[0] = '\0';
	for (int s = 0; s < SL_CT_PKT_MAX && o < len; s++)
		if (r->ct_state & (1U << s))
			o += snprintf(buf + o, len - o, "%s%s", o ? "," : "",
				      sl_ct_pkt_name(s));
	return true;
}

static bool same_ct_state(const struct sl_rule *a, const struct sl_rule *b)
{
	return a->ct_state == b->ct_state;
}

/* fragment: which fragment states (enum sl_frag) the rule matches, by
 * name; each name's set of states. */
static const struct {
	const char *name;
	uint8_t states;
} frag_words[] = {
    {"no", 1U << SL_FRAG_NONE},
    {"first", 1U << SL_FRAG_FIRST},
    {"later", 1U << SL_FRAG_LATER},
    {"yes", (1U << SL_FRAG_FIRST) | (1U << SL_FRAG_LATER)},
};

static int parse_fragment(struct sl_rule *r, const char *v, char *err,
			  size_t len)
{
	(void)err, (void)len;
	for (size_t i = 0; i < ARRAY_SIZE(frag_words); i++)
		if (!strcmp(v, frag_words[i].name)) {
			r->fragment = frag_words[i].states;
			return 0;
		}
	return 1;
}

static bool text_fragment(const struct sl_rule *r, char *buf, size_t len)
{
	if (!r->fragment)
		return false;
	snprintf(buf, len, "%u", r->fragment); /* not one of the words */
	for (size_t i = 0; i < ARRAY_SIZE(frag_words); i++)
		if (r->fragment == frag_words[i].states)
			snprintf(buf, len, "%s", frag_words[i].name);
	return true;
}

static bool same_fragment(const struct sl_rule *a, const struct sl_rule *b)
{
	return a->fragment == b->fragment;
}

/* log: true or false (yes/no, on/off, 1/0; `rule add --log` gives 1). */
static int parse_log(struct sl_rule *r, const char *v, char *err, size_t len)
{
	(void)err, (void)len;
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") ||
	    !strcmp(v, "1"))
		r->log = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") ||
		 !strcmp(v, "0"))
		r->log = 0;
	else
		return 1;
	return 0;
}

static bool text_log(const struct sl_rule *r, char *buf, size_t len)
{
	if (!r->log)
		return false;
	snprintf(buf, len, "true");
	return true;
}

static bool same_log(const struct sl_rule *a, const struct sl_rule *b)
{
	return a->log == b->log;
}

static bool text_tcp_flags(const struct sl_rule *r, char *buf, size_t len)
{
	if (!r->tcp_mask)
		return false;
	tcp_flags_text(r, buf, len);
	return true;
}

static bool same_tcp_flags(const struct sl_rule *a, const struct sl_rule *b)
{
	return a->tcp_mask == b->tcp_mask && a->tcp_flags == b->tcp_flags;
}

/* iface and to: an interface name and the ifindex resolved from it. */
#define IFNAME_FIELD(m, idx)                                                   \
	static int parse_##m(struct sl_rule *r, const char *v, char *err,      \
			     size_t len)                                       \
	{                                                                      \
		(void)err, (void)len;                                          \
		if (!sl_ifname_ok(v))                                          \
			return 1;                                              \
		snprintf(r->m, sizeof(r->m), "%s", v);                         \
		r->idx = 0;                                                    \
		return 0;                                                      \
	}                                                                      \
	static bool text_##m(const struct sl_rule *r, char *buf, size_t len)   \
	{                                                                      \
		if (!r->m[0])                                                  \
			return false;                                          \
		snprintf(buf, len, "%s", r->m);                                \
		return true;                                                   \
	}                                                                      \
	static bool same_##m(const struct sl_rule *a, const struct sl_rule *b) \
	{                                                                      \
		return !strncmp(a->m, b->m, sizeof(a->m) - 1);                 \
	}
IFNAME_FIELD(iface, ifindex)
IFNAME_FIELD(to, to_ifindex)

static int parse_mac_field(uint8_t mac[6], uint8_t *has, const char *v)
{
	uint8_t m[6];

	if (!parse_mac(v, m))
		return 1;
	memcpy(mac, m, 6);
	*has = 1;
	return 0;
}

static bool text_mac(const uint8_t mac[6], bool has, char *buf, size_t len)
{
	if (has)
		mac_text(mac, buf, len);
	return has;
}

/* src-mac and dst-mac: six bytes and their has_ flag. */
#define MAC_FIELD(m)                                                           \
	static int parse_##m(struct sl_rule *r, const char *v, char *err,      \
			     size_t len)                                       \
	{                                                                      \
		(void)err, (void)len;                                          \
		return parse_mac_field(r->m, &r->has_##m, v);                  \
	}                                                                      \
	static bool text_##m(const struct sl_rule *r, char *buf, size_t len)   \
	{                                                                      \
		return text_mac(r->m, r->has_##m, buf, len);                   \
	}                                                                      \
	static bool same_##m(const struct sl_rule *a, const struct sl_rule *b) \
	{                                                                      \
		return a->has_##m == b->has_##m &&                             \
		       (!a->has_##m || !memcmp(a->m, b->m, 6));                \
	}
MAC_FIELD(smac)
MAC_FIELD(dmac)

static int parse_comment(struct sl_rule *r, const char *v, char *err,
			 size_t len)
{
	(void)err, (void)len;
	if (!comment_ok(v))
		return 1;
	snprintf(r->comment, sizeof(r->comment), "%s", v);
	return 0;
}

static bool text_comment(const struct sl_rule *r, char *buf, size_t len)
{
	if (!r->comment[0])
		return false;
	snprintf(buf, len, "%s", r->comment);
	return true;
}

static bool same_comment(const struct sl_rule *a, const struct sl_rule *b)
{
	return !strncmp(a->comment, b->comment, SL_COMMENT_MAX - 1);
}

/* Fields held in one integer member compare it. */
#define SAME_MEMBER(name, member)                        \
	static bool same_##name(const struct sl_rule *a, \
				const struct sl_rule *b) \
	{                                                \
		return a->member == b->member;           \
	}
SAME_MEMBER(id, id)
SAME_MEMBER(priority, priority)
SAME_MEMBER(action, action)
SAME_MEMBER(direction, dirs)
SAME_MEMBER(icmp_type, icmp_type)
SAME_MEMBER(icmp_code, icmp_code)
SAME_MEMBER(vlan, vlan)
SAME_MEMBER(burst, burst)
SAME_MEMBER(burst_bytes, burst_bytes)
SAME_MEMBER(ban, ban_secs)
#undef SAME_MEMBER

#define IFNAME_WANT "an interface name (1-15 characters, no blanks, '/' or ':')"
#define F(fn, ...) \
	.parse = parse_##fn, .text = text_##fn, .same = same_##fn, __VA_ARGS__

const struct sl_rule_field sl_rule_fields[SL_RULE_NFIELDS] = {
    {.key = "id",
     .key_rank = 1,
     .cli_rank = 3,
     .metavar = "N",
     .help = "Stable rule id (1-131071; default: the lowest free).",
     .want = "an id 1-131071",
     .flags = SL_RF_ALWAYS | SL_RF_NUM,
     F(id)},
    {.key = "priority",
     .line_key = "prio",
     .key_rank = 2,
     .cli_rank = 4,
     .short_opt = 'p',
     .metavar = "N",
     .help = "0-65535, lower first (default 1000); equal priorities go by "
	     "id.",
     .want = "a priority 0-65535",
     .flags = SL_RF_ALWAYS | SL_RF_NUM,
     F(priority)},
    {.key = "action",
     .line_key = "",
     .key_rank = 3,
     .cli_rank = 1,
     .short_opt = 'a',
     .metavar = "ACTION",
     .help = "pass, drop, count, ratelimit or redirect (instead of the "
	     "ACTION argument).",
     .want = "pass, drop, count, ratelimit or redirect",
     .flags = SL_RF_MATCH | SL_RF_ALWAYS,
     F(action)},
    {.key = "direction",
     .line_key = "",
     .key_rank = 4,
     .cli_rank = 5,
     .short_opt = 'D',
     .metavar = "DIR",
     .help = "in, out or both (default both).",
     .want = "in, out or both",
     .flags = SL_RF_MATCH | SL_RF_YAML_ALWAYS,
     F(direction)},
    {.key = "src",
     .key_rank = 5,
     .cli_rank = 6,
     .short_opt = 's',
     .metavar = "CIDR",
     .help = "Source prefix or address, IPv4 or IPv6.",
     .flags = SL_RF_MATCH,
     F(src)},
    {.key = "dst",
     .key_rank = 6,
     .cli_rank = 7,
     .short_opt = 'd',
     .metavar = "CIDR",
     .help = "Destination prefix or address.",
     .flags = SL_RF_MATCH,
     F(dst)},
    {.key = "proto",
     .key_rank = 7,
     .cli_rank = 8,
     .short_opt = 'P',
     .metavar = "PROTO",
     .help = "tcp, udp, icmp, icmpv6, sctp, arp or a number 0-255.",
     .want = "tcp, udp, icmp, icmpv6, sctp, arp or a protocol number "
	     "0-255",
     .flags = SL_RF_MATCH,
     F(proto)},
    {.key = "sport",
     .key_rank = 8,
     .cli_rank = 9,
     .metavar = "PORT[-PORT]",
     .help = "Source port or range (tcp, udp, sctp).",
     .want = "a port 0-65535 or a range LO-HI",
     .flags = SL_RF_MATCH,
     F(sport)},
    {.key = "dport",
     .key_rank = 9,
     .cli_rank = 10,
     .metavar = "PORT[-PORT]",
     .help = "Destination port or range.",
     .want = "a port 0-65535 or a range LO-HI",
     .flags = SL_RF_MATCH,
     F(dport)},
    {.key = "icmp-type",
     .key_rank = 10,
     .cli_rank = 11,
     .metavar = "N",
     .help = "ICMP/ICMPv6 type 0-255.",
     .want = "a number 0-255",
     .flags = SL_RF_MATCH | SL_RF_NUM,
     F(icmp_type)},
    {.key = "icmp-code",
     .key_rank = 11,
     .cli_rank = 12,
     .metavar = "N",
     .help = "ICMP/ICMPv6 code 0-255 (with --icmp-type).",
     .want = "a number 0-255",
     .flags = SL_RF_MATCH | SL_RF_NUM,
     F(icmp_code)},
    {.key = "tcp-flags",
     .key_rank = 12,
     .cli_rank = 13,
     .metavar = "VALUE[/MASK]",
     .help = "TCP flags: syn/syn,ack = SYN set and ACK clear; names fin syn "
	     "rst psh ack urg ece cwr.",
     .want = "flags VALUE/MASK or FLAGS (e.g. syn/syn,ack or syn,ack) from "
	     "fin, syn, rst, psh, ack, urg, ece, cwr",
     .flags = SL_RF_MATCH | SL_RF_YAML_QUOTE,
     F(tcp_flags)},
    {.key = "vlan",
     .key_rank = 13,
     .cli_rank = 14,
     .metavar = "ID",
     .help = "Outer VLAN id 1-4094.",
     .want = "a VLAN id 1-4094",
     .flags = SL_RF_MATCH | SL_RF_NUM,
     F(vlan)},
    {.key = "iface",
     .key_rank = 14,
     .cli_rank = 15,
     .short_opt = 'i',
     .metavar = "IFACE",
     .help = "Interface the hook runs on.",
     .want = IFNAME_WANT,
     .flags = SL_RF_MATCH | SL_RF_YAML_QUOTE,
     F(iface)},
    {.key = "src-mac",
     .key_rank = 16,
     .cli_rank = 16,
     .metavar = "MAC",
     .help = "Source MAC address (aa:bb:cc:dd:ee:ff).",
     .want = "a MAC address aa:bb:cc:dd:ee:ff",
     .flags = SL_RF_MATCH | SL_RF_YAML_QUOTE,
     F(smac)},
    {.key = "dst-mac",
     .key_rank = 17,
     .cli_rank = 17,
     .metavar = "MAC",
     .help = "Destination MAC address.",
     .want = "a MAC address aa:bb:cc:dd:ee:ff",
     .flags = SL_RF_MATCH | SL_RF_YAML_QUOTE,
     F(dmac)},
    {.key = "to",
     .key_rank = 15,
     .cli_rank = 2,
     .metavar = "IFACE",
     .help = "redirect: the interface matching packets are sent out of.",
     .want = IFNAME_WANT,
     .flags = SL_RF_MATCH | SL_RF_YAML_QUOTE,
     F(to)},
    {.key = "ct-state",
     .key_rank = 23,
     .cli_rank = 23,
     .metavar = "STATES",
     .help = "Connection states, a comma list of new, established, related, "
	     "invalid, untracked (needs conntrack: {enabled: true}).",
     .want = "a comma list (or a YAML list) of new, established, related, "
	     "invalid and untracked",
     .flags = SL_RF_MATCH | SL_RF_YAML_QUOTE | SL_RF_LIST,
     F(ct_state)},
    {.key = "fragment",
     .key_rank = 24,
     .cli_rank = 24,
     .metavar = "WHICH",
     .help = "IP fragments: no (not a fragment), first (offset 0, ports "
	     "and all), later (offset > 0, no ports) or yes (first or "
	     "later).",
     .want = "no, first, later or yes",
     .flags = SL_RF_MATCH,
     F(fragment)},
    {.key = "rate",
     .key_rank = 19,
     .cli_rank = 19,
     .metavar = "RATE",
     .help = "ratelimit: packets per second (100/s), bytes per second "
	     "(1MB/s, 500kB/s, 10mbit/s), or one of each (100/s,1MB/s: a "
	     "packet passes when both allow it).",
     .want = "a rate N/s (packets) or N with B, kB, MB, GB, kbit, mbit or "
	     "gbit and /s (bytes, at most 4294967295 per second), or one of "
	     "each separated by a comma",
     .flags = SL_RF_MATCH | SL_RF_LIST,
     F(rate)},
    {.key = "burst",
     .key_rank = 20,
     .cli_rank = 20,
     .metavar = "N",
     .help = "ratelimit: bucket size in the rate's unit, packets or bytes "
	     "(default: one second's worth); with two rates the packet "
	     "bucket's.",
     .want = "a number of packets or bytes 1-4294967295",
     .flags = SL_RF_MATCH | SL_RF_NUM,
     F(burst)},
    {.key = "burst-bytes",
     .key_rank = 26,
     .cli_rank = 26,
     .metavar = "N",
     .help = "ratelimit with two rates: the byte bucket's size in bytes "
	     "(default: one second's worth).",
     .want = "a number of bytes 1-4294967295",
     .flags = SL_RF_MATCH | SL_RF_NUM,
     F(burst_bytes)},
    {.key = "per",
     .key_rank = 21,
     .cli_rank = 21,
     .metavar = "KEY",
     .help = "ratelimit: one bucket per src (default), per src/N prefix "
	     "(src/24,src/64: IPv4, IPv6) or per rule.",
     .want = "src, rule, src/N or src/A,src/B (IPv4 A 1-32, IPv6 B 1-128)",
     .flags = SL_RF_MATCH,
     F(per)},
    {.key = "ban",
     .key_rank = 22,
     .cli_rank = 22,
     .metavar = "DURATION",
     .help = "ratelimit: ban the source (the bucket's prefix) this long "
	     "when over the rate (30s, 10m, 2h, 1d).",
     .want = "a duration such as 30s, 10m, 2h or 1d (at most 3650d)",
     .flags = SL_RF_MATCH,
     F(ban)},
    {.key = "log",
     .key_rank = 25,
     .cli_rank = 25,
     .help = "An event for every packet the rule decides (sluice events), "
	     "at most events: log-rate a second per rule (default 10, "
	     "bursts of log-burst, default 50).",
     .want = "true or false",
     F(log)},
    {.key = "comment",
     .key_rank = 18,
     .cli_rank = 18,
     .short_opt = 'c',
     .metavar = "TEXT",
     .help = "Free text shown by list and export.",
     .want = "printable text of at most 127 bytes",
     .flags = SL_RF_YAML_QUOTE | SL_RF_LINE_QUOTE,
     F(comment)},
};
#undef F

const struct sl_rule_field *sl_rule_field_find(const char *key)
{
	for (int i = 0; i < SL_RULE_NFIELDS; i++)
		if (!strcmp(sl_rule_fields[i].key, key))
			return &sl_rule_fields[i];
	return NULL;
}

size_t sl_rule_fields_sorted(bool by_cli,
			     const struct sl_rule_field *out[SL_RULE_NFIELDS])
{
	size_t n = 0;

	for (int rank = 1; rank <= SL_RULE_NFIELDS; rank++)
		for (int i = 0; i < SL_RULE_NFIELDS; i++)
			if ((by_cli ? sl_rule_fields[i].cli_rank
				    : sl_rule_fields[i].key_rank) == rank)
				out[n++] = &sl_rule_fields[i];
	return n;
}

void sl_rule_keys(const char *out[SL_RULE_NFIELDS + 1])
{
	const struct sl_rule_field *f[SL_RULE_NFIELDS];
	size_t n = sl_rule_fields_sorted(false, f);

	for (size_t i = 0; i < n; i++)
		out[i] = f[i]->key;
	out[n] = NULL;
}

void sl_join_or(const char *const *words, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; words[i] && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%s",
			      !i	     ? ""
			      : words[i + 1] ? ", "
					     : " or ",
			      words[i]);
}

int sl_rule_set_field(struct sl_rule *r, const char *key, const char *value,
		      char *err, size_t errlen)
{
	const struct sl_rule_field *f = sl_rule_field_find(key);
	const char *keys[SL_RULE_NFIELDS + 1];
	char list[512];
	int ret;

	if (!f) {
		sl_rule_keys(keys);
		sl_join_or(keys, list, sizeof(list));
		snprintf(err, errlen, "%s: unknown rule key (expected %s)", key,
			 list);
		return -EINVAL;
	}
	ret = f->parse(r, value, err, errlen);
	if (ret <= 0)
		return ret;
	if (strlen(value) > 64)
		snprintf(err, errlen, "%s: expected %s, got '%.60s...'", key,
			 f->want, value);
	else
		snprintf(err, errlen, "%s: expected %s, got '%s'", key, f->want,
			 value);
	return -EINVAL;
}

/* The line of r's fields; match_only: the match fields but the action
 * (what a packet is, for explain). */
static void rule_format(const struct sl_rule *r, char *buf, size_t len,
			bool match_only)
{
	char t[2 * SL_COMMENT_MAX + 4], q[2 * SL_COMMENT_MAX + 4];
	size_t o = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int i = 0; i < SL_RULE_NFIELDS && o < len; i++) {
		const struct sl_rule_field *f = &sl_rule_fields[i];
		const char *k = f->line_key ? f->line_key : f->key;

		if (match_only &&
		    (!(f->flags & SL_RF_MATCH) || !strcmp(f->key, "action")))
			continue;
		if (!f->text(r, t, sizeof(t)) && !(f->flags & SL_RF_ALWAYS))
			continue;
		if (f->flags & SL_RF_LINE_QUOTE)
			sl_quote(t, q, sizeof(q));
		o += snprintf(buf + o, len - o, "%s%s%s%s", o ? " " : "", k,
			      *k ? " " : "",
			      f->flags & SL_RF_LINE_QUOTE ? q : t);
	}
}

void sl_rule_format(const struct sl_rule *r, char *buf, size_t len)
{
	rule_format(r, buf, len, false);
}

void sl_rule_format_match(const struct sl_rule *r, char *buf, size_t len)
{
	rule_format(r, buf, len, true);
}

void sl_rule_jw_fields(struct jw *w, const struct sl_rule *r)
{
	char t[2 * SL_COMMENT_MAX + 4];

	for (int i = 0; i < SL_RULE_NFIELDS; i++) {
		const struct sl_rule_field *f = &sl_rule_fields[i];

		if (!f->text(r, t, sizeof(t)) &&
		    !(f->flags & (SL_RF_ALWAYS | SL_RF_YAML_ALWAYS)))
			continue;
		jw_key(w, f->key);
		if (f->flags & SL_RF_NUM)
			jw_u64(w, strtoull(t, NULL, 10));
		else
			jw_str(w, t);
	}
}

bool sl_rule_drops_all(const struct sl_rule *r)
{
	char t[2 * SL_COMMENT_MAX + 4];

	if (r->action != SL_RACT_DROP || r->l3 == SL_L3_ARP)
		return false;
	for (int i = 0; i < SL_RULE_NFIELDS; i++) {
		const struct sl_rule_field *f = &sl_rule_fields[i];

		/* an address of prefix length 0 (0.0.0.0/0, ::/0) is every
		 * address of its family: no match */
		if ((!strcmp(f->key, "src") && !r->src.plen) ||
		    (!strcmp(f->key, "dst") && !r->dst.plen))
			continue;
		if ((f->flags & SL_RF_MATCH) && strcmp(f->key, "action") &&
		    strcmp(f->key, "direction") && f->text(r, t, sizeof(t)))
			return false;
	}
	return true;
}

/* Every field of `flags` (0: all) the same, and the address class. */
static bool same_fields(const struct sl_rule *a, const struct sl_rule *b,
			unsigned flags)
{
	if (a->l3 != b->l3)
		return false;
	for (int i = 0; i < SL_RULE_NFIELDS; i++)
		if ((sl_rule_fields[i].flags & flags) == flags &&
		    !sl_rule_fields[i].same(a, b))
			return false;
	return true;
}

bool sl_rule_same_match(const struct sl_rule *a, const struct sl_rule *b)
{
	return same_fields(a, b, SL_RF_MATCH);
}

bool sl_rule_equal(const struct sl_rule *a, const struct sl_rule *b)
{
	return same_fields(a, b, 0);
}
