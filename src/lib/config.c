// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config: rule fields from text, rule validation and formatting, and the
 * YAML config file (libyaml document API): load with FILE:LINE:COL errors,
 * canonical export, semantic comparison. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"
#include "config_limits.h"
#include "yaml_doc.h"
#include "log.h"
#include "mem.h"
#include "names.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- rule fields ---- */

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

static bool parse_tcp_flags(const char *s, uint8_t *val, uint8_t *mask)
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

static bool iface_name_ok(const char *s)
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

int sl_rule_set_field(struct sl_rule *r, const char *key, const char *value,
		      char *err, size_t errlen)
{
	const char *want;
	unsigned long v;
	char perr[128];

	if (!strcmp(key, "id")) {
		want = "an id 1-131071";
		if (!parse_uint(value, SL_RULE_MAX - 1, &v) || !v)
			goto bad;
		r->id = v;
	} else if (!strcmp(key, "priority")) {
		want = "a priority 0-65535";
		if (!parse_uint(value, 65535, &v))
			goto bad;
		r->priority = v;
	} else if (!strcmp(key, "action")) {
		want = "pass, drop, count, ratelimit or redirect";
		for (v = 0; v < SL_RACT_MAX; v++)
			if (!strcmp(value, sl_rule_action_name(v)))
				break;
		if (v == SL_RACT_MAX)
			goto bad;
		r->action = v;
	} else if (!strcmp(key, "direction")) {
		want = "in, out or both";
		if (!strcmp(value, "in"))
			r->dirs = 1U << SL_RDIR_IN;
		else if (!strcmp(value, "out"))
			r->dirs = 1U << SL_RDIR_OUT;
		else if (!strcmp(value, "both"))
			r->dirs = (1U << SL_RDIR_IN) | (1U << SL_RDIR_OUT);
		else
			goto bad;
	} else if (!strcmp(key, "src") || !strcmp(key, "dst")) {
		bool src = key[0] == 's';
		struct sl_prefix p;

		if (sl_prefix_parse(value, &p, perr, sizeof(perr))) {
			snprintf(err, errlen,
				 "%s: expected an IPv4 or IPv6 address or "
				 "prefix, got '%s' (%s)",
				 key, value, perr);
			return -EINVAL;
		}
		if (src) {
			r->src = p;
			r->has_src = 1;
		} else {
			r->dst = p;
			r->has_dst = 1;
		}
	} else if (!strcmp(key, "proto")) {
		want = "tcp, udp, icmp, icmpv6, sctp, arp or a protocol "
		       "number 0-255";
		if (!strcmp(value, "arp")) {
			r->has_proto = 0;
			r->proto = 0;
			r->l3 = SL_L3_ARP;
			return 0;
		}
		for (v = 0; v < ARRAY_SIZE(protos); v++)
			if (!strcmp(value, protos[v].name))
				break;
		if (v < ARRAY_SIZE(protos))
			v = protos[v].num;
		else if (!parse_uint(value, 255, &v))
			goto bad;
		r->has_proto = 1;
		r->proto = v;
		if (r->l3 == SL_L3_ARP)
			r->l3 = 0;
	} else if (!strcmp(key, "sport") || !strcmp(key, "dport")) {
		bool s = key[0] == 's';

		want = "a port 0-65535 or a range LO-HI";
		if (!parse_range(value, s ? &r->sport_lo : &r->dport_lo,
				 s ? &r->sport_hi : &r->dport_hi))
			goto bad;
	} else if (!strcmp(key, "icmp-type") || !strcmp(key, "icmp-code")) {
		want = "a number 0-255";
		if (!parse_uint(value, 255, &v))
			goto bad;
		if (key[5] == 't')
			r->icmp_type = v;
		else
			r->icmp_code = v;
	} else if (!strcmp(key, "tcp-flags")) {
		uint8_t fv, fm;

		want = "flags VALUE/MASK or FLAGS (e.g. syn/syn,ack or "
		       "syn,ack) from fin, syn, rst, psh, ack, urg, ece, cwr";
		if (!parse_tcp_flags(value, &fv, &fm))
			goto bad;
		r->tcp_flags = fv;
		r->tcp_mask = fm;
	} else if (!strcmp(key, "vlan")) {
		want = "a VLAN id 1-4094";
		if (!parse_uint(value, 4094, &v) || !v)
			goto bad;
		r->vlan = v;
	} else if (!strcmp(key, "iface")) {
		want = "an interface name (1-15 characters, no blanks, '/' or "
		       "':')";
		if (!iface_name_ok(value))
			goto bad;
		snprintf(r->iface, sizeof(r->iface), "%s", value);
		r->ifindex = 0;
	} else if (!strcmp(key, "src-mac") || !strcmp(key, "dst-mac")) {
		bool src = key[0] == 's';
		uint8_t mac[6];

		want = "a MAC address aa:bb:cc:dd:ee:ff";
		if (!parse_mac(value, mac))
			goto bad;
		memcpy(src ? r->smac : r->dmac, mac, 6);
		if (src)
			r->has_smac = 1;
		else
			r->has_dmac = 1;
	} else if (!strcmp(key, "to")) {
		want = "an interface name (1-15 characters, no blanks, '/' or "
		       "':')";
		if (!iface_name_ok(value))
			goto bad;
		snprintf(r->to, sizeof(r->to), "%s", value);
		r->to_ifindex = 0;
	} else if (!strcmp(key, "comment")) {
		want = "printable text of at most 127 bytes";
		if (!comment_ok(value))
			goto bad;
		snprintf(r->comment, sizeof(r->comment), "%s", value);
	} else if (!strcmp(key, "rate")) {
		want = "a rate in packets per second 1-4294967295";
		if (!parse_uint(value, UINT32_MAX, &v) || !v)
			goto bad;
		r->rate_pps = v;
	} else {
		snprintf(err, errlen,
			 "%s: unknown rule key (expected id, priority, "
			 "action, direction, src, dst, proto, sport, dport, "
			 "icmp-type, icmp-code, tcp-flags, vlan, iface, to, "
			 "src-mac, dst-mac, comment or rate)",
			 key);
		return -EINVAL;
	}
	return 0;
bad:
	if (strlen(value) > 64)
		snprintf(err, errlen, "%s: expected %s, got '%.60s...'", key,
			 want, value);
	else
		snprintf(err, errlen, "%s: expected %s, got '%s'", key, want,
			 value);
	return -EINVAL;
}

static bool ports_set(const struct sl_rule *r, bool src)
{
	return src ? (r->sport_lo != 0 || r->sport_hi != 65535)
		   : (r->dport_lo != 0 || r->dport_hi != 65535);
}

/* The checks of sl_rule_validate; *key names the offending field. */
static int validate(struct sl_rule *r, const char **key, char *err,
		    size_t errlen)
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
	if (r->to[0] && r->action != SL_RACT_REDIRECT)
		FAIL("to", "to: only with action redirect (the interface "
			   "matching packets are sent out of)");
	if (r->action == SL_RACT_REDIRECT && !r->to[0])
		FAIL("action", "action redirect: requires to (the interface "
			       "to send matching packets out of)");
	if (r->rate_pps && r->action != SL_RACT_RATELIMIT)
		FAIL("rate", "rate: only with action ratelimit");
	if (r->action == SL_RACT_RATELIMIT) {
		if (!r->rate_pps)
			FAIL("action", "action ratelimit: requires rate");
		FAIL("action", "action ratelimit: not available yet (the "
			       "stateful stage implements it)");
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

	return validate(r, &key, err, errlen);
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

/* Double-quoted, with backslash and quote escaped (YAML and shell-like). */
static void quote(const char *s, char *buf, size_t len)
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

void sl_rule_format(const struct sl_rule *r, char *buf, size_t len)
{
	char t[64], q[2 * SL_COMMENT_MAX + 4];
	size_t o = 0;

#define ADD(...)                                                      \
	do {                                                          \
		if (o < len)                                          \
			o += snprintf(buf + o, len - o, __VA_ARGS__); \
	} while (0)

	if (!len)
		return;
	buf[0] = '\0';
	ADD("id %u prio %u %s", r->id, r->priority,
	    sl_rule_action_name(r->action));
	if (r->dirs == (1U << SL_RDIR_IN))
		ADD(" in");
	else if (r->dirs == (1U << SL_RDIR_OUT))
		ADD(" out");
	if (r->has_src) {
		sl_prefix_format(&r->src, t, sizeof(t));
		ADD(" src %s", t);
	}
	if (r->has_dst) {
		sl_prefix_format(&r->dst, t, sizeof(t));
		ADD(" dst %s", t);
	}
	if (r->has_proto || r->l3 == SL_L3_ARP) {
		proto_name(r, t, sizeof(t));
		ADD(" proto %s", t);
	}
	if (ports_set(r, true)) {
		range_text(r->sport_lo, r->sport_hi, t, sizeof(t));
		ADD(" sport %s", t);
	}
	if (ports_set(r, false)) {
		range_text(r->dport_lo, r->dport_hi, t, sizeof(t));
		ADD(" dport %s", t);
	}
	if (r->icmp_type >= 0)
		ADD(" icmp-type %d", r->icmp_type);
	if (r->icmp_code >= 0)
		ADD(" icmp-code %d", r->icmp_code);
	if (r->tcp_mask) {
		tcp_flags_text(r, t, sizeof(t));
		ADD(" tcp-flags %s", t);
	}
	if (r->vlan >= 0)
		ADD(" vlan %d", r->vlan);
	if (r->iface[0])
		ADD(" iface %s", r->iface);
	if (r->has_smac) {
		mac_text(r->smac, t, sizeof(t));
		ADD(" src-mac %s", t);
	}
	if (r->has_dmac) {
		mac_text(r->dmac, t, sizeof(t));
		ADD(" dst-mac %s", t);
	}
	if (r->to[0])
		ADD(" to %s", r->to);
	if (r->rate_pps)
		ADD(" rate %u", r->rate_pps);
	if (r->comment[0]) {
		quote(r->comment, q, sizeof(q));
		ADD(" comment %s", q);
	}
#undef ADD
}

/* ---- loading ---- */

/* A set entry while loading: where it came from, and its file order. */
struct pending_set {
	struct sl_set_entry e;
	struct sl_srcpos pos;
	size_t seq;
};

struct loader {
	const char *path;
	char dir[PATH_MAX];
	yaml_document_t *doc;
	struct sl_config *cfg;
	struct pending_set *sets;
	size_t n_sets, cap_sets;
};

__attribute__((format(printf, 3, 4))) static int
lerr_at(struct loader *L, struct sl_srcpos pos, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s:%u:%u: %s", L->path, pos.line, pos.col, msg);
	return -EINVAL;
}

static struct sl_srcpos node_pos(const yaml_node_t *n)
{
	struct sl_srcpos p = {n->start_mark.line + 1, n->start_mark.column + 1};

	return p;
}

#define lerr(L, n, ...) lerr_at((L), node_pos(n), __VA_ARGS__)

static yaml_node_t *node(struct loader *L, int idx)
{
	return yaml_document_get_node(L->doc, idx);
}

static const char *type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static bool is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") ||
	       !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* The text of a scalar node, or an error naming what was expected. */
static int scalar(struct loader *L, yaml_node_t *n, const char *what,
		  const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return lerr(L, n, "%s: expected a scalar, got %s", what,
			    type_name(n));
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return lerr(L, n, "%s: expected text without NUL bytes", what);
	*out = (const char *)n->data.scalar.value;
	return 0;
}

/* Checks that n is a mapping with scalar, unique keys among `keys`. */
static int check_map(struct loader *L, yaml_node_t *n, const char *what,
		     const char *const *keys, size_t nkeys, const char *expect)
{
	yaml_node_pair_t *p, *q;

	if (n->type != YAML_MAPPING_NODE)
		return lerr(L, n, "%s: expected a mapping, got %s", what,
			    type_name(n));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(L, p->key);
		const char *ks;
		size_t i;

		if (k->type != YAML_SCALAR_NODE)
			return lerr(L, k, "%s: expected a scalar key, got %s",
				    what, type_name(k));
		ks = (const char *)k->data.scalar.value;
		for (i = 0; i < nkeys; i++)
			if (!strcmp(ks, keys[i]))
				break;
		if (i == nkeys)
			return lerr(L, k,
				    "%s: unknown key '%.64s' (expected %s)",
				    what, ks, expect);
		for (q = n->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *k2 = node(L, q->key);

			if (!strcmp((const char *)k2->data.scalar.value, ks))
				return lerr(L, k,
					    "%s: duplicate key '%s' (first "
					    "at line %lu)",
					    what, ks,
					    (unsigned long)k2->start_mark.line +
						1);
		}
	}
	return 0;
}

/* The value of key in a checked mapping, or NULL. */
static yaml_node_t *map_get(struct loader *L, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *p;

	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++)
		if (!strcmp((const char *)node(L, p->key)->data.scalar.value,
			    key))
			return node(L, p->value);
	return NULL;
}

/* A list node (null counts as an empty list): its items. */
static int list(struct loader *L, yaml_node_t *n, const char *what,
		yaml_node_item_t **start, yaml_node_item_t **top)
{
	if (is_null(n)) {
		*start = *top = NULL;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return lerr(L, n, "%s: expected a list, got %s", what,
			    type_name(n));
	*start = n->data.sequence.items.start;
	*top = n->data.sequence.items.top;
	return 0;
}

static int parse_ifaces(struct loader *L, yaml_node_t *n)
{
	static const char *const keys[] = {"name", "hooks", "mode"};
	yaml_node_item_t *it, *top;
	struct sl_config *cfg = L->cfg;
	int err;

	err = list(L, n, "interfaces", &it, &top);
	if (err)
		return err;
	cfg->ifaces = calloc(top - it + 1, sizeof(*cfg->ifaces));
	if (!cfg->ifaces)
		return -ENOMEM;
	for (; it < top; it++) {
		yaml_node_t *m = node(L, *it), *v;
		struct sl_cfg_iface *f = &cfg->ifaces[cfg->n_ifaces];
		const char *s;

		err = check_map(L, m, "interface", keys, ARRAY_SIZE(keys),
				"name, hooks or mode");
		if (err)
			return err;
		v = map_get(L, m, "name");
		if (!v)
			return lerr(L, m, "interface: missing key 'name'");
		err = scalar(L, v, "name", &s);
		if (err)
			return err;
		if (!iface_name_ok(s))
			return lerr(L, v,
				    "name: expected an interface name (1-15 "
				    "characters, no blanks, '/' or ':'), got "
				    "'%.64s'",
				    s);
		if (!if_nametoindex(s))
			return lerr(L, v,
				    "name: no interface '%s' on this host", s);
		for (size_t i = 0; i < cfg->n_ifaces; i++)
			if (!strcmp(cfg->ifaces[i].name, s))
				return lerr(L, v,
					    "name: interface '%s' is listed "
					    "twice",
					    s);
		snprintf(f->name, sizeof(f->name), "%s", s);
		f->pos = node_pos(m);
		f->hooks = SL_HOOK_XDP | SL_HOOK_TC;
		f->mode = SL_MODE_NATIVE;
		v = map_get(L, m, "hooks");
		if (v) {
			yaml_node_item_t *h, *htop;

			err = list(L, v, "hooks", &h, &htop);
			if (err)
				return err;
			if (h == htop)
				return lerr(L, v,
					    "hooks: expected a list of xdp "
					    "and/or tc, got an empty list");
			f->hooks = 0;
			for (; h < htop; h++) {
				yaml_node_t *hn = node(L, *h);

				err = scalar(L, hn, "hooks", &s);
				if (err)
					return err;
				if (!strcmp(s, "xdp"))
					f->hooks |= SL_HOOK_XDP;
				else if (!strcmp(s, "tc"))
					f->hooks |= SL_HOOK_TC;
				else
					return lerr(L, hn,
						    "hooks: expected xdp or "
						    "tc, got '%.64s'",
						    s);
			}
		}
		v = map_get(L, m, "mode");
		if (v) {
			err = scalar(L, v, "mode", &s);
			if (err)
				return err;
			if (!strcmp(s, "native"))
				f->mode = SL_MODE_NATIVE;
			else if (!strcmp(s, "generic"))
				f->mode = SL_MODE_GENERIC;
			else
				return lerr(L, v,
					    "mode: expected native or generic, "
					    "got '%.64s'",
					    s);
		}
		cfg->n_ifaces++;
	}
	return 0;
}

static int policy_value(struct loader *L, yaml_node_t *v, const char *what,
			uint8_t *out)
{
	const char *s;
	int err = scalar(L, v, what, &s);

	if (err)
		return err;
	if (!strcmp(s, "pass"))
		*out = SL_ACT_PASS;
	else if (!strcmp(s, "drop"))
		*out = SL_ACT_DROP;
	else
		return lerr(L, v, "%s: expected pass or drop, got '%.64s'",
			    what, s);
	return 0;
}

static int parse_policy(struct loader *L, yaml_node_t *n)
{
	static const char *const keys[] = {"in", "out"};
	uint8_t *pol = L->cfg->policy;
	yaml_node_t *v;
	int err;

	if (n->type == YAML_SCALAR_NODE) {
		err = policy_value(L, n, "policy", &pol[SL_RDIR_IN]);
		pol[SL_RDIR_OUT] = pol[SL_RDIR_IN];
		return err;
	}
	if (n->type != YAML_MAPPING_NODE)
		return lerr(L, n,
			    "policy: expected pass, drop or a mapping {in: "
			    "ACTION, out: ACTION}, got %s",
			    type_name(n));
	err = check_map(L, n, "policy", keys, 2, "in or out");
	if (err)
		return err;
	if ((v = map_get(L, n, "in")) &&
	    (err = policy_value(L, v, "policy in", &pol[SL_RDIR_IN])))
		return err;
	if ((v = map_get(L, n, "out")) &&
	    (err = policy_value(L, v, "policy out", &pol[SL_RDIR_OUT])))
		return err;
	return 0;
}

static int add_set(struct loader *L, int kind, int dir,
		   const struct sl_prefix *p, struct sl_srcpos pos)
{
	struct pending_set *s;

	if (L->n_sets == L->cap_sets) {
		size_t ncap = L->cap_sets ? L->cap_sets * 2 : 64;
		struct pending_set *nv =
		    sl_realloc_big(L->sets, ncap * sizeof(*L->sets));

		if (!nv) {
			pr_err("%s: out of memory", L->path);
			return -ENOMEM;
		}
		L->sets = nv;
		L->cap_sets = ncap;
	}
	s = &L->sets[L->n_sets];
	memset(s, 0, sizeof(*s));
	s->e.prefix = *p;
	s->e.kind = kind;
	s->e.dir = dir;
	s->pos = pos;
	s->seq = L->n_sets++;
	return 0;
}

/* The entries of a prefix-list file go straight into the pending list. */
struct file_add {
	struct loader *L;
	int kind, dir;
	struct sl_srcpos pos;
};

static int file_add_one(void *arg, const struct sl_prefix *p)
{
	struct file_add *f = arg;

	return add_set(f->L, f->kind, f->dir, p, f->pos);
}

static int parse_set(struct loader *L, yaml_node_t *n, int kind)
{
	static const char *const keys[] = {"prefix", "file", "dir"};
	const char *what = kind == SL_SET_DENY ? "deny" : "allow";
	yaml_node_item_t *it, *top;
	char msg[128];
	int err;

	err = list(L, n, what, &it, &top);
	if (err)
		return err;
	/* Room for every item at once: a million entries grown by doubling
	 * were copied (and their pages faulted) about twice over. */
	if (L->n_sets + (size_t)(top - it) > L->cap_sets) {
		size_t ncap = L->n_sets + (size_t)(top - it);
		struct pending_set *nv =
		    sl_realloc_big(L->sets, ncap * sizeof(*L->sets));

		if (!nv)
			return lerr(L, n, "%s: out of memory", what);
		L->sets = nv;
		L->cap_sets = ncap;
	}
	for (; it < top; it++) {
		yaml_node_t *m = node(L, *it), *pv, *fv, *dv;
		struct sl_prefix p;
		const char *s;
		int dir = SL_DIR_SRC;

		if (m->type == YAML_SCALAR_NODE) {
			err = scalar(L, m, what, &s);
			if (err)
				return err;
			if (sl_prefix_parse(s, &p, msg, sizeof(msg)))
				return lerr(L, m,
					    "%s: expected a prefix, got "
					    "'%.64s' (%s)",
					    what, s, msg);
			err = add_set(L, kind, SL_DIR_SRC, &p, node_pos(m));
			if (err)
				return err;
			continue;
		}
		if (m->type != YAML_MAPPING_NODE)
			return lerr(L, m,
				    "%s: expected a prefix or a mapping "
				    "{prefix|file, dir}, got %s",
				    what, type_name(m));
		err = check_map(L, m, what, keys, ARRAY_SIZE(keys),
				"prefix, file or dir");
		if (err)
			return err;
		pv = map_get(L, m, "prefix");
		fv = map_get(L, m, "file");
		dv = map_get(L, m, "dir");
		if (!pv == !fv)
			return lerr(L, m,
				    "%s: expected exactly one of 'prefix' and "
				    "'file'",
				    what);
		if (dv) {
			err = scalar(L, dv, "dir", &s);
			if (err)
				return err;
			if (!strcmp(s, "src"))
				dir = SL_DIR_SRC;
			else if (!strcmp(s, "dst"))
				dir = SL_DIR_DST;
			else
				return lerr(L, dv,
					    "dir: expected src or dst, got "
					    "'%.64s'",
					    s);
		}
		if (pv) {
			err = scalar(L, pv, "prefix", &s);
			if (err)
				return err;
			if (sl_prefix_parse(s, &p, msg, sizeof(msg)))
				return lerr(L, pv,
					    "prefix: expected a prefix, got "
					    "'%.64s' (%s)",
					    s, msg);
			err = add_set(L, kind, dir, &p, node_pos(pv));
			if (err)
				return err;
		} else {
			char path[PATH_MAX * 2];
			struct file_add fa;
			struct stat st;

			err = scalar(L, fv, "file", &s);
			if (err)
				return err;
			if (!*s)
				return lerr(L, fv, "file: expected a path");
			if (s[0] == '/')
				snprintf(path, sizeof(path), "%s", s);
			else
				snprintf(path, sizeof(path), "%s/%s", L->dir,
					 s);
			if (access(path, R_OK))
				return lerr(L, fv, "file: cannot read '%s': %s",
					    path, strerror(errno));
			if (!stat(path, &st) && S_ISDIR(st.st_mode))
				return lerr(
				    L, fv,
				    "file: expected a prefix list file, "
				    "'%s' is a directory",
				    path);
			fa = (struct file_add){L, kind, dir, node_pos(fv)};
			err = sl_prefix_file_each(path, file_add_one, &fa);
			if (err)
				return err;
		}
	}
	return 0;
}

/* One rule mapping into r (validated, iface resolved). */
static int parse_rule(struct loader *L, yaml_node_t *m, struct sl_rule *r)
{
	static const char *const keys[] = {
	    "id",	 "priority",  "action",	 "direction", "src",
	    "dst",	 "proto",     "sport",	 "dport",     "icmp-type",
	    "icmp-code", "tcp-flags", "vlan",	 "iface",     "comment",
	    "rate",	 "to",	      "src-mac", "dst-mac"};
	yaml_node_pair_t *p;
	const char *bad;
	char msg[256];
	int err;

	err = check_map(L, m, "rule", keys, ARRAY_SIZE(keys),
			"id, priority, action, direction, src, dst, proto, "
			"sport, dport, icmp-type, icmp-code, tcp-flags, vlan, "
			"iface, to, src-mac, dst-mac, comment or rate");
	if (err)
		return err;
	sl_rule_init(r);
	r->pos = node_pos(m);
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		const char *k =
		    (const char *)node(L, p->key)->data.scalar.value;
		yaml_node_t *v = node(L, p->value);
		const char *s;

		err = scalar(L, v, k, &s);
		if (err)
			return err;
		if (sl_rule_set_field(r, k, s, msg, sizeof(msg)))
			return lerr(L, v, "%s", msg);
	}
	if (validate(r, &bad, msg, sizeof(msg))) {
		yaml_node_t *v = map_get(L, m, bad);

		return lerr(L, v ? v : m, "%s", msg);
	}
	if (sl_rule_resolve(r, msg, sizeof(msg)))
		return lerr(
		    L, map_get(L, m, strncmp(msg, "to:", 3) ? "iface" : "to"),
		    "%s", msg);
	return 0;
}

static int parse_rules(struct loader *L, yaml_node_t *n)
{
	struct sl_config *cfg = L->cfg;
	yaml_node_item_t *it, *top;
	uint32_t max_id = 0, *first = NULL; /* id -> line of its rule */
	int err;

	err = list(L, n, "rules", &it, &top);
	if (err)
		return err;
	cfg->rules = calloc(top - it + 1, sizeof(*cfg->rules));
	first = calloc(SL_RULE_MAX, sizeof(*first));
	if (!cfg->rules || !first) {
		free(first);
		return -ENOMEM;
	}
	for (; it < top; it++) {
		yaml_node_t *m = node(L, *it);
		struct sl_rule *r = &cfg->rules[cfg->n_rules];

		err = parse_rule(L, m, r);
		if (err)
			goto out;
		if (r->id) {
			if (first[r->id]) {
				err = lerr(L, map_get(L, m, "id"),
					   "id: duplicate rule id %u (first at "
					   "line %u)",
					   r->id, first[r->id]);
				goto out;
			}
			first[r->id] = r->pos.line ? r->pos.line : 1;
			if (r->id > max_id)
				max_id = r->id;
		}
		cfg->n_rules++;
	}
	/* Rules without an id get the next ids after the highest given. */
	for (size_t i = 0; i < cfg->n_rules; i++) {
		if (cfg->rules[i].id)
			continue;
		if (max_id + 1 >= SL_RULE_MAX) {
			err = lerr_at(L, cfg->rules[i].pos,
				      "id: no free rule id left; give this "
				      "rule an id");
			goto out;
		}
		cfg->rules[i].id = ++max_id;
	}
out:
	free(first);
	return err;
}

static bool same_place(const struct sl_set_entry *a,
		       const struct sl_set_entry *b)
{
	return a->dir == b->dir && a->prefix.family == b->prefix.family &&
	       a->prefix.plen == b->prefix.plen &&
	       !memcmp(a->prefix.addr, b->prefix.addr, sizeof(a->prefix.addr));
}

/* Drops repeated entries, refuses a prefix in both kinds for one direction
 * and stores the sets in canonical order. */
static int finish_sets(struct loader *L)
{
	struct sl_config *cfg = L->cfg;
	size_t i, n = 0;
	char msg[512];
	uint32_t *perm;
	int err = 0;

	if (!L->n_sets)
		return 0;
	/* File order among equal prefixes (a stable sort), so the error
	 * names the later listing. */
	perm = sl_malloc_big(L->n_sets * sizeof(*perm));
	cfg->sets = sl_calloc_big(L->n_sets, sizeof(*cfg->sets));
	if (!perm || !cfg->sets ||
	    sl_set_order(L->sets, sizeof(*L->sets), L->n_sets, false, perm)) {
		free(perm);
		return -ENOMEM;
	}
	for (i = 0; i < L->n_sets; i++) {
		struct pending_set *s = &L->sets[perm[i]];
		struct pending_set *p = i ? &L->sets[perm[i - 1]] : NULL;

		if (p && same_place(&p->e, &s->e)) {
			if (p->e.kind != s->e.kind) {
				char buf[64];

				sl_prefix_format(&s->e.prefix, buf,
						 sizeof(buf));
				free(perm);
				return lerr_at(
				    L, s->pos,
				    "%s: prefix %s (dir %s) is in both "
				    "allow and deny",
				    s->e.kind == SL_SET_DENY ? "deny" : "allow",
				    buf,
				    s->e.dir == SL_DIR_SRC ? "src" : "dst");
			}
			continue;
		}
		cfg->sets[n++] = s->e;
	}
	free(perm);
	cfg->n_sets = n;
	/* Canonical order: deny first, each kind in the order above (a
	 * stable partition; allow entries are usually few). */
	{
		struct sl_set_entry *allow;
		size_t na = 0, nd = 0;

		for (i = 0; i < n; i++)
			na += cfg->sets[i].kind != SL_SET_DENY;
		allow = malloc((na ? na : 1) * sizeof(*allow));
		if (!allow)
			return -ENOMEM;
		for (i = 0, na = 0; i < n; i++) {
			if (cfg->sets[i].kind == SL_SET_DENY)
				cfg->sets[nd++] = cfg->sets[i];
			else
				allow[na++] = cfg->sets[i];
		}
		memcpy(cfg->sets + nd, allow, na * sizeof(*allow));
		free(allow);
	}
	if (sl_set_capacity_check(cfg->sets, n, &cfg->limits, msg,
				  sizeof(msg))) {
		pr_err("%s: %s", L->path, msg);
		err = -EINVAL;
	}
	return err;
}

/* The `limits:` section (config_limits.c). */
static int parse_limits(struct loader *L, yaml_node_t *n)
{
	yaml_node_t *at = n;
	char msg[256];

	if (sl_limits_parse(L->doc, n, &L->cfg->limits, msg, sizeof(msg), &at))
		return lerr(L, at, "%s", msg);
	return 0;
}

static int parse_root(struct loader *L, yaml_node_t *root)
{
	static const char *const keys[] = {"interfaces", "policy", "deny",
					   "allow",	 "rules",  "limits"};
	yaml_node_t *v;
	int err;

	if (!root || is_null(root))
		return 0;
	err = check_map(L, root, "config", keys, ARRAY_SIZE(keys),
			"interfaces, policy, deny, allow, rules or limits");
	if (err)
		return err;
	if ((v = map_get(L, root, "interfaces"))) {
		L->cfg->has_ifaces = true;
		if ((err = parse_ifaces(L, v)))
			return err;
	}
	if ((v = map_get(L, root, "policy")) && (err = parse_policy(L, v)))
		return err;
	if ((v = map_get(L, root, "limits")) && (err = parse_limits(L, v)))
		return err;
	if ((v = map_get(L, root, "deny")) &&
	    (err = parse_set(L, v, SL_SET_DENY)))
		return err;
	if ((v = map_get(L, root, "allow")) &&
	    (err = parse_set(L, v, SL_SET_ALLOW)))
		return err;
	if ((v = map_get(L, root, "rules")) && (err = parse_rules(L, v)))
		return err;
	return finish_sets(L);
}

static int yaml_syntax_err(struct loader *L, yaml_parser_t *parser, FILE *f)
{
	struct sl_srcpos pos = {parser->problem_mark.line + 1,
				parser->problem_mark.column + 1};

	if (parser->error == YAML_MEMORY_ERROR) {
		pr_err("%s: out of memory", L->path);
		return -ENOMEM;
	}
	if (parser->error == YAML_READER_ERROR) {
		/* Only a byte offset is known: count lines up to it. */
		pos = (struct sl_srcpos){1, 1};
		rewind(f);
		for (size_t i = 0; i < parser->problem_offset; i++) {
			int c = getc(f);

			if (c == EOF)
				break;
			if (c == '\n') {
				pos.line++;
				pos.col = 1;
			} else {
				pos.col++;
			}
		}
		return lerr_at(L, pos, "expected UTF-8 text: %s",
			       parser->problem ? parser->problem : "bad input");
	}
	return lerr_at(L, pos, "YAML syntax error: %s%s%s",
		       parser->problem ? parser->problem : "bad input",
		       parser->context ? " " : "",
		       parser->context ? parser->context : "");
}

int sl_config_load(const char *path, struct sl_config *cfg)
{
	struct loader L = {.path = path, .cfg = cfg};
	struct sl_yaml_doc doc, extra; /* yaml_doc.c: libyaml's, smaller */
	yaml_parser_t parser;
	struct stat st;
	const char *slash;
	bool have_doc = false;
	FILE *f;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->policy[SL_RDIR_IN] = cfg->policy[SL_RDIR_OUT] = SL_ACT_PASS;
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(L.dir, sizeof(L.dir), ".");
	else if (slash == path)
		snprintf(L.dir, sizeof(L.dir), "/");
	else
		snprintf(L.dir, sizeof(L.dir), "%.*s", (int)(slash - path),
			 path);
	f = fopen(path, "r");
	if (!f) {
		err = errno == ENOENT || errno == EISDIR ? -EINVAL : -errno;
		pr_err("%s: %s", path, strerror(errno));
		return err;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		pr_err("%s: out of memory", path);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!sl_yaml_load(&parser, &doc,
			  fstat(fileno(f), &st) ? 0 : (size_t)st.st_size)) {
		err = yaml_syntax_err(&L, &parser, f);
		goto out;
	}
	have_doc = true;
	L.doc = &doc.doc;
	err = parse_root(&L, yaml_document_get_root_node(&doc.doc));
	if (err)
		goto out;
	/* One document only. */
	if (!sl_yaml_load(&parser, &extra, 0)) {
		err = yaml_syntax_err(&L, &parser, f);
		goto out;
	}
	if (yaml_document_get_root_node(&extra.doc)) {
		err = lerr(&L, yaml_document_get_root_node(&extra.doc),
			   "expected one YAML document, found another");
	}
	sl_yaml_doc_free(&extra);
out:
	if (have_doc)
		sl_yaml_doc_free(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	free(L.sets);
	if (err) {
		if (err == -ENOMEM)
			pr_err("%s: out of memory", path);
		sl_config_free(cfg);
		cfg->policy[SL_RDIR_IN] = cfg->policy[SL_RDIR_OUT] =
		    SL_ACT_PASS;
	}
	return err;
}

void sl_config_free(struct sl_config *cfg)
{
	free(cfg->ifaces);
	free(cfg->sets);
	free(cfg->rules);
	cfg->ifaces = NULL;
	cfg->sets = NULL;
	cfg->rules = NULL;
	cfg->n_ifaces = cfg->n_sets = cfg->n_rules = 0;
}

/* ---- export ---- */

static int rule_order(const void *x, const void *y)
{
	const struct sl_rule *a = *(const struct sl_rule *const *)x;
	const struct sl_rule *b = *(const struct sl_rule *const *)y;

	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int iface_order(const void *x, const void *y)
{
	const struct sl_cfg_iface *a = *(const struct sl_cfg_iface *const *)x;
	const struct sl_cfg_iface *b = *(const struct sl_cfg_iface *const *)y;

	return strcmp(a->name, b->name);
}

/* A prefix as a YAML scalar: IPv6 quoted (it holds colons). */
static void yaml_prefix(const struct sl_prefix *p, char *buf, size_t len)
{
	char t[64];

	sl_prefix_format(p, t, sizeof(t));
	if (p->family == AF_INET6)
		snprintf(buf, len, "\"%s\"", t);
	else
		snprintf(buf, len, "%s", t);
}

static void write_set(FILE *f, const struct sl_config *cfg, int kind)
{
	bool any = false;
	char buf[80];

	for (size_t i = 0; i < cfg->n_sets; i++) {
		const struct sl_set_entry *e = &cfg->sets[i];

		if (e->kind != kind)
			continue;
		if (!any)
			fprintf(f, "%s:\n",
				kind == SL_SET_DENY ? "deny" : "allow");
		any = true;
		yaml_prefix(&e->prefix, buf, sizeof(buf));
		if (e->dir == SL_DIR_DST)
			fprintf(f, "  - {prefix: %s, dir: dst}\n", buf);
		else
			fprintf(f, "  - %s\n", buf);
	}
}

static void write_rule(FILE *f, const struct sl_rule *r)
{
	char t[80], q[2 * SL_COMMENT_MAX + 4];

	fprintf(f, "  - id: %u\n", r->id);
	fprintf(f, "    priority: %u\n", r->priority);
	fprintf(f, "    action: %s\n", sl_rule_action_name(r->action));
	fprintf(f, "    direction: %s\n",
		r->dirs == (1U << SL_RDIR_IN)	 ? "in"
		: r->dirs == (1U << SL_RDIR_OUT) ? "out"
						 : "both");
	if (r->has_src) {
		yaml_prefix(&r->src, t, sizeof(t));
		fprintf(f, "    src: %s\n", t);
	}
	if (r->has_dst) {
		yaml_prefix(&r->dst, t, sizeof(t));
		fprintf(f, "    dst: %s\n", t);
	}
	if (r->has_proto || r->l3 == SL_L3_ARP) {
		proto_name(r, t, sizeof(t));
		fprintf(f, "    proto: %s\n", t);
	}
	if (ports_set(r, true)) {
		range_text(r->sport_lo, r->sport_hi, t, sizeof(t));
		fprintf(f, "    sport: %s\n", t);
	}
	if (ports_set(r, false)) {
		range_text(r->dport_lo, r->dport_hi, t, sizeof(t));
		fprintf(f, "    dport: %s\n", t);
	}
	if (r->icmp_type >= 0)
		fprintf(f, "    icmp-type: %d\n", r->icmp_type);
	if (r->icmp_code >= 0)
		fprintf(f, "    icmp-code: %d\n", r->icmp_code);
	if (r->tcp_mask) {
		tcp_flags_text(r, t, sizeof(t));
		fprintf(f, "    tcp-flags: \"%s\"\n", t);
	}
	if (r->vlan >= 0)
		fprintf(f, "    vlan: %d\n", r->vlan);
	if (r->iface[0]) {
		quote(r->iface, q, sizeof(q));
		fprintf(f, "    iface: %s\n", q);
	}
	if (r->has_smac) {
		mac_text(r->smac, t, sizeof(t));
		fprintf(f, "    src-mac: \"%s\"\n", t);
	}
	if (r->has_dmac) {
		mac_text(r->dmac, t, sizeof(t));
		fprintf(f, "    dst-mac: \"%s\"\n", t);
	}
	if (r->to[0]) {
		quote(r->to, q, sizeof(q));
		fprintf(f, "    to: %s\n", q);
	}
	if (r->rate_pps)
		fprintf(f, "    rate: %u\n", r->rate_pps);
	if (r->comment[0]) {
		quote(r->comment, q, sizeof(q));
		fprintf(f, "    comment: %s\n", q);
	}
}

int sl_config_write(FILE *f, const struct sl_config *cfg)
{
	static const char *const pol[] = {"pass", "drop"};
	const struct sl_cfg_iface **ifs = NULL;
	const struct sl_rule **rs = NULL;
	size_t i;
	int err = 0;

	ifs = calloc(cfg->n_ifaces + 1, sizeof(*ifs));
	rs = calloc(cfg->n_rules + 1, sizeof(*rs));
	if (!ifs || !rs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cfg->n_ifaces; i++)
		ifs[i] = &cfg->ifaces[i];
	qsort(ifs, cfg->n_ifaces, sizeof(*ifs), iface_order);
	if (cfg->n_ifaces)
		fprintf(f, "interfaces:\n");
	else if (cfg->has_ifaces)
		fprintf(f, "interfaces: []\n");
	for (i = 0; i < cfg->n_ifaces; i++) {
		char q[40];
		uint8_t h = ifs[i]->hooks;

		quote(ifs[i]->name, q, sizeof(q));
		fprintf(f, "  - name: %s\n", q);
		fprintf(f, "    hooks: [%s]\n",
			h == (SL_HOOK_XDP | SL_HOOK_TC) ? "xdp, tc"
			: h == SL_HOOK_TC		? "tc"
							: "xdp");
		fprintf(f, "    mode: %s\n",
			ifs[i]->mode == SL_MODE_GENERIC ? "generic" : "native");
	}
	if (cfg->policy[SL_RDIR_IN] == cfg->policy[SL_RDIR_OUT])
		fprintf(f, "policy: %s\n", pol[cfg->policy[SL_RDIR_IN] & 1]);
	else
		fprintf(f, "policy: {in: %s, out: %s}\n",
			pol[cfg->policy[SL_RDIR_IN] & 1],
			pol[cfg->policy[SL_RDIR_OUT] & 1]);
	sl_limits_write(f, &cfg->limits);
	write_set(f, cfg, SL_SET_DENY);
	write_set(f, cfg, SL_SET_ALLOW);
	for (i = 0; i < cfg->n_rules; i++)
		rs[i] = &cfg->rules[i];
	qsort(rs, cfg->n_rules, sizeof(*rs), rule_order);
	if (cfg->n_rules)
		fprintf(f, "rules:\n");
	for (i = 0; i < cfg->n_rules; i++)
		write_rule(f, rs[i]);
	if (fflush(f) || ferror(f))
		err = -EIO;
out:
	free(ifs);
	free(rs);
	return err;
}

/* ---- comparison ---- */

bool sl_rule_same_match(const struct sl_rule *a, const struct sl_rule *b)
{
	struct sl_rule_rec x, y;

	/* The persisted record is canonical (zeroed, unset fields cleared):
	 * compare it whole but for what is not match or action. */
	sl_rule_to_rec(a, &x);
	sl_rule_to_rec(b, &y);
	x.id = y.id = 0;
	x.priority = y.priority = 0;
	memset(x.comment, 0, sizeof(x.comment));
	memset(y.comment, 0, sizeof(y.comment));
	return !memcmp(&x, &y, sizeof(x));
}

bool sl_rule_equal(const struct sl_rule *a, const struct sl_rule *b)
{
	return a->id == b->id && a->priority == b->priority &&
	       !strcmp(a->comment, b->comment) && sl_rule_same_match(a, b);
}

bool sl_config_equal(const struct sl_config *a, const struct sl_config *b)
{
	bool eq = true;
	size_t i, j;

	if (a->policy[SL_RDIR_IN] != b->policy[SL_RDIR_IN] ||
	    a->policy[SL_RDIR_OUT] != b->policy[SL_RDIR_OUT] ||
	    a->n_ifaces != b->n_ifaces || a->n_sets != b->n_sets ||
	    a->n_rules != b->n_rules ||
	    !sl_limits_equal(&a->limits, &b->limits))
		return false;
	for (i = 0; i < a->n_ifaces; i++) {
		for (j = 0; j < b->n_ifaces; j++)
			if (!strcmp(a->ifaces[i].name, b->ifaces[j].name))
				break;
		if (j == b->n_ifaces ||
		    a->ifaces[i].hooks != b->ifaces[j].hooks ||
		    a->ifaces[i].mode != b->ifaces[j].mode)
			return false;
	}
	if (a->n_rules) {
		/* b's rules by id: linear, for 100k-rule configs */
		const struct sl_rule **byid =
		    calloc(SL_RULE_MAX, sizeof(*byid));

		if (!byid)
			return false; /* out of memory: "differs" is safe */
		for (j = 0; j < b->n_rules && eq; j++) {
			uint32_t id = b->rules[j].id;

			if (id >= SL_RULE_MAX || byid[id])
				eq = false;
			else
				byid[id] = &b->rules[j];
		}
		for (i = 0; i < a->n_rules && eq; i++) {
			uint32_t id = a->rules[i].id;

			eq = id < SL_RULE_MAX && byid[id] &&
			     sl_rule_equal(&a->rules[i], byid[id]);
		}
		free(byid);
		if (!eq)
			return false;
	}
	return sl_set_entries_equal(a->sets, a->n_sets, b->sets, b->n_sets);
}
