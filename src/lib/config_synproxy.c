// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config_synproxy: the `synproxy:` section of the config file, SYN-flood
 * protection of local TCP ports (docs/config.md):
 *   synproxy:
 *     ports: [80, 443, 8000-8010]   # protected local TCP ports
 *     mss: 1460                     # MSS of the IPv4 SYN-ACKs (default)
 *     mss6: 1440                    # of the IPv6 ones (default)
 *     wscale: 7                     # window scale they offer (default)
 * `ports: []` (or no section) protects nothing. It needs the connection
 * table (`conntrack: {enabled: true}`): apply says so. The writers print
 * the section only when a port is protected, options only when they
 * differ from the defaults. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_sec.h"
#include "json.h"

size_t sl_syn_count(const struct sl_syn_cfg *s)
{
	size_t n = 0;

	for (int i = 0; i < SL_SYN_WORDS; i++)
		n += (size_t)__builtin_popcountll(s->bits[i]);
	return n;
}

void sl_syn_effective(const struct sl_syn_cfg *in, struct sl_syn_cfg *out)
{
	if (out != in)
		*out = *in;
	if (!out->mss4)
		out->mss4 = SL_SYN_MSS4_DEF;
	if (!out->mss6)
		out->mss6 = SL_SYN_MSS6_DEF;
	if (!out->wscale)
		out->wscale = SL_SYN_WSCALE_DEF;
}

bool sl_syn_equal(const struct sl_syn_cfg *a, const struct sl_syn_cfg *b)
{
	struct sl_syn_cfg x, y;

	/* without ports the options mean nothing */
	if (!sl_syn_count(a) && !sl_syn_count(b))
		return true;
	sl_syn_effective(a, &x);
	sl_syn_effective(b, &y);
	return !memcmp(x.bits, y.bits, sizeof(x.bits)) && x.mss4 == y.mss4 &&
	       x.mss6 == y.mss6 && x.wscale == y.wscale;
}

/* The next run of protected ports at or after *lo: *lo..*hi; false when
 * there is none. */
static bool syn_next_run(const struct sl_syn_cfg *s, unsigned *lo, unsigned *hi)
{
	unsigned p = *lo;

	while (p < 65536 && !sl_syn_has(s, p))
		p++;
	if (p >= 65536)
		return false;
	*lo = *hi = p;
	while (*hi + 1 < 65536 && sl_syn_has(s, *hi + 1))
		(*hi)++;
	return true;
}

int sl_syn_format(const struct sl_syn_cfg *s, const char *sep, char *buf,
		  size_t size)
{
	size_t len = 0;
	unsigned p, q;
	int n;

	if (size)
		buf[0] = 0;
	for (p = 0; syn_next_run(s, &p, &q); p = q + 1) {
		if (q == p)
			n = snprintf(buf + (len < size ? len : size),
				     len < size ? size - len : 0, "%s%u",
				     len ? sep : "", p);
		else
			n = snprintf(buf + (len < size ? len : size),
				     len < size ? size - len : 0, "%s%u-%u",
				     len ? sep : "", p, q);
		len += (size_t)n;
	}
	return (int)len;
}

/* A port number, 1..65535, up to end (or the string's end). */
static int syn_port(const char *s, const char *stop, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end != stop || v < 1 || v > 65535)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int sl_syn_range(const char *s, unsigned *lo, unsigned *hi)
{
	const char *dash = strchr(s, '-');
	const char *end = s + strlen(s);

	if (syn_port(s, dash ? dash : end, lo) ||
	    (dash && syn_port(dash + 1, end, hi)))
		return -EINVAL;
	if (!dash)
		*hi = *lo;
	return *hi < *lo ? -ERANGE : 0;
}

/* One item of `ports`: a port or a range "A-B". */
static int syn_item(struct sl_cfg_loader *L, yaml_node_t *v,
		    struct sl_syn_cfg *s)
{
	const char *t;
	unsigned lo, hi;
	int err = sl_cfg_scalar(L, v, "synproxy port", &t);

	if (err)
		return err;
	err = sl_syn_range(t, &lo, &hi);
	if (err == -ERANGE)
		return sl_cfg_err(L, v,
				  "synproxy ports: the range '%.32s' ends "
				  "before it starts",
				  t);
	if (err)
		return sl_cfg_err(L, v,
				  "synproxy ports: expected a TCP port from 1 "
				  "to 65535 or a range such as 8000-8010, got "
				  "'%.32s'",
				  t);
	for (unsigned p = lo; p <= hi; p++)
		sl_syn_set(s, p, true);
	return 0;
}

static int syn_parse(struct sl_cfg_loader *L, const char *key, yaml_node_t *n,
		     void **state)
{
	static const char *const keys[] = {"ports", "mss", "mss6", "wscale",
					   NULL};
	struct sl_syn_cfg *s = &L->cfg->syn;
	yaml_node_item_t *it, *top;
	yaml_node_t *v;
	unsigned x;
	int err;

	(void)state;
	L->cfg->syn_pos = sl_cfg_pos(n);
	if (sl_cfg_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return sl_cfg_err(L, n,
				  "synproxy: expected a mapping of ports, mss, "
				  "mss6 and wscale, got %s",
				  sl_cfg_type_name(n));
	err = sl_cfg_check_map(L, n, key, keys);
	if (!err && (v = sl_cfg_map_get(L, n, "ports"))) {
		if (v->type == YAML_SCALAR_NODE && !sl_cfg_is_null(v)) {
			err = syn_item(L, v, s);
		} else {
			err = sl_cfg_list(L, v, "synproxy ports", &it, &top);
			for (; !err && it && it < top; it++)
				err = syn_item(L, sl_cfg_node(L, *it), s);
		}
	}
	if (!err && (v = sl_cfg_map_get(L, n, "mss")) &&
	    !(err = sl_cfg_uint(L, v, "mss", 536, 9000, SL_SYN_MSS4_DEF, &x)))
		s->mss4 = (uint16_t)x;
	if (!err && (v = sl_cfg_map_get(L, n, "mss6")) &&
	    !(err = sl_cfg_uint(L, v, "mss6", 1220, 9000, SL_SYN_MSS6_DEF, &x)))
		s->mss6 = (uint16_t)x;
	if (!err && (v = sl_cfg_map_get(L, n, "wscale")) &&
	    !(err = sl_cfg_uint(L, v, "wscale", 0, 14, SL_SYN_WSCALE_DEF, &x)))
		/* 0 is "the default" in the struct: the wire value 0 is
		 * kept as SL_SYN_WSCALE_ZERO */
		s->wscale = x ? (uint8_t)x : SL_SYN_WSCALE_ZERO;
	return err;
}

static int syn_write(FILE *f, const struct sl_config *cfg)
{
	struct sl_syn_cfg e;
	char *buf;
	int n;

	if (!sl_syn_count(&cfg->syn))
		return 0;
	sl_syn_effective(&cfg->syn, &e);
	n = sl_syn_format(&e, ", ", NULL, 0);
	buf = malloc((size_t)n + 1);
	if (!buf)
		return -ENOMEM;
	sl_syn_format(&e, ", ", buf, (size_t)n + 1);
	fprintf(f, "synproxy:\n  ports: [%s]\n", buf);
	free(buf);
	if (e.mss4 != SL_SYN_MSS4_DEF)
		fprintf(f, "  mss: %u\n", e.mss4);
	if (e.mss6 != SL_SYN_MSS6_DEF)
		fprintf(f, "  mss6: %u\n", e.mss6);
	if (e.wscale != SL_SYN_WSCALE_DEF)
		fprintf(f, "  wscale: %u\n", sl_syn_wscale(&e));
	return 0;
}

static int syn_json(struct jw *w, const struct sl_config *cfg)
{
	struct sl_syn_cfg e;
	unsigned p, q;
	char run[16];

	if (!sl_syn_count(&cfg->syn))
		return 0;
	sl_syn_effective(&cfg->syn, &e);
	jw_key(w, "synproxy");
	jw_obj_open(w);
	jw_key(w, "ports");
	/* as in YAML: a port a number, a run of them "LO-HI" */
	jw_arr_open(w);
	for (p = 0; syn_next_run(&e, &p, &q); p = q + 1) {
		if (q == p) {
			jw_u64(w, p);
		} else {
			snprintf(run, sizeof(run), "%u-%u", p, q);
			jw_str(w, run);
		}
	}
	jw_arr_close(w);
	if (e.mss4 != SL_SYN_MSS4_DEF) {
		jw_key(w, "mss");
		jw_u64(w, e.mss4);
	}
	if (e.mss6 != SL_SYN_MSS6_DEF) {
		jw_key(w, "mss6");
		jw_u64(w, e.mss6);
	}
	if (e.wscale != SL_SYN_WSCALE_DEF) {
		jw_key(w, "wscale");
		jw_u64(w, sl_syn_wscale(&e));
	}
	jw_obj_close(w);
	return 0;
}

static bool syn_equal(const struct sl_config *a, const struct sl_config *b)
{
	return sl_syn_equal(&a->syn, &b->syn);
}

const struct sl_cfg_section sl_cfg_synproxy = {
    .name = "synproxy",
    .keys = (const char *const[]){"synproxy", NULL},
    .parse = syn_parse,
    .write = syn_write,
    .write_json = syn_json,
    .equal = syn_equal,
};
