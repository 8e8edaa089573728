// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* prefix: CIDR prefixes, IPv4 and IPv6, parsed strictly and formatted, and
 * prefix-list files. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sluice.h"

int sl_prefix_parse(const char *s, struct sl_prefix *p, char *err,
		    size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int max, plen;

	memset(p, 0, sizeof(*p));
	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(err, errlen, "expected an address or prefix");
		return -EINVAL;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address",
			 addr);
		return -EINVAL;
	}
	plen = max;
	if (slash) {
		const char *q = slash + 1;
		char *end;
		unsigned long v;

		if (!isdigit((unsigned char)*q)) {
			snprintf(err, errlen,
				 "expected a prefix length after '/'");
			return -EINVAL;
		}
		errno = 0;
		v = strtoul(q, &end, 10);
		if (*end || errno || v > max) {
			snprintf(err, errlen, "prefix length must be 0-%u",
				 max);
			return -EINVAL;
		}
		plen = v;
	}
	p->plen = plen;
	for (unsigned int bit = plen; bit < max; bit++) {
		if (p->addr[bit / 8] & (0x80 >> (bit % 8))) {
			struct sl_prefix net = *p;
			char buf[64];

			for (unsigned int b = plen; b < max; b++)
				net.addr[b / 8] &= ~(0x80 >> (b % 8));
			sl_prefix_format(&net, buf, sizeof(buf));
			snprintf(err, errlen,
				 "host bits set beyond /%u (did you mean %s?)",
				 plen, buf);
			return -EINVAL;
		}
	}
	return 0;
}

void sl_prefix_format(const struct sl_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->plen);
}

int sl_prefix_file_read(const char *path, struct sl_prefix **out, size_t *n)
{
	struct sl_prefix *v = NULL;
	size_t cnt = 0, cap = 0, lineno = 0, llen = 0;
	char *line = NULL;
	ssize_t got;
	FILE *f;
	int err = 0;

	f = fopen(path, "r");
	if (!f) {
		err = errno == ENOENT ? -EINVAL : -errno;
		pr_err("%s: %s", path, strerror(errno));
		return err;
	}
	while ((got = getline(&line, &llen, f)) >= 0) {
		char *s = line, *e, msg[128];
		struct sl_prefix p;

		lineno++;
		(void)got;
		s[strcspn(s, "#;\r\n")] = '\0';
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*s)
			continue;
		if (strcspn(s, " \t") != strlen(s)) {
			pr_err("%s:%zu:%zu: expected one prefix per line", path,
			       lineno,
			       (size_t)(s - line) + strcspn(s, " \t") + 1);
			err = -EINVAL;
			break;
		}
		if (sl_prefix_parse(s, &p, msg, sizeof(msg))) {
			pr_err("%s:%zu:%zu: %s", path, lineno,
			       (size_t)(s - line) + 1, msg);
			err = -EINVAL;
			break;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct sl_prefix *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				err = -ENOMEM;
				pr_err("%s: out of memory", path);
				break;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = p;
	}
	if (!err && ferror(f)) {
		err = errno == EISDIR ? -EINVAL : -EIO;
		pr_err("%s: cannot read: %s", path, strerror(errno));
	}
	free(line);
	fclose(f);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*n = cnt;
	return 0;
}
