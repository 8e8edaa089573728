// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* prefix: CIDR prefixes, IPv4 and IPv6, parsed strictly and formatted, and
 * prefix-list files. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log.h"
#include "mem.h"
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
		/* "/024" is not octal 20 nor 24 for sure: refuse. */
		if (q[0] == '0' && q[1]) {
			snprintf(err, errlen,
				 "prefix length '%.8s' has a leading zero "
				 "(write /%lu)",
				 q, v);
			return -EINVAL;
		}
		plen = v;
	}
	p->plen = plen;
	/* ::ffff:a.b.c.d reads as IPv4 but matches only IPv6 packets that
	 * carry the mapped address, never IPv4 a.b.c.d: refuse. */
	if (p->family == AF_INET6 && plen >= 96 &&
	    !memcmp(p->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		char v4[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, p->addr + 12, v4, sizeof(v4));
		snprintf(err, errlen,
			 "IPv4-mapped IPv6 address: it would match only IPv6 "
			 "packets, never IPv4 %s (write %s/%u)",
			 v4, v4, plen - 96);
		return -EINVAL;
	}
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

/* A load balancer's endpoint (here, below lb.c and health.c, which
 * both print one). */
void sl_lb_endpoint_format(const uint8_t *addr, uint8_t family, uint16_t port,
			   uint8_t proto, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	const char *pr = proto == IPPROTO_TCP	? "/tcp"
			 : proto == IPPROTO_UDP ? "/udp"
						: "";

	inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	if (!port)
		snprintf(buf, len, "%s", a);
	else if (family == 6)
		snprintf(buf, len, "[%s]:%u%s", a, port, pr);
	else
		snprintf(buf, len, "%s:%u%s", a, port, pr);
}

/* ---- prefix-list files ---- */

int sl_bytes_cap(const char *var, unsigned long long def,
		 unsigned long long *cap)
{
	const char *s = getenv(var);
	unsigned long long v;
	char *end;

	*cap = def;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'M')
		v <<= 20, end++;
	else if (*end == 'G')
		v <<= 30, end++;
	if (errno || *end || !isdigit((unsigned char)*s) || v > (1ULL << 50)) {
		pr_err("%s: expected a number of bytes (suffix k, M or G; 0: "
		       "no cap), got '%.32s'",
		       var, s);
		return -EINVAL;
	}
	*cap = v ? v : ~0ULL;
	return 0;
}

/* Where a line's error goes: printed at once (NULL), or kept for later
 * (the second half of a list parsed on another thread, whose first error
 * is said only when the first half had none). */
struct list_err {
	char msg[256];
	int err;
};

static void __attribute__((format(printf, 2, 3)))
list_fail(struct list_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (e) {
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		e->err = -EINVAL;
	} else {
		char buf[256];

		vsnprintf(buf, sizeof(buf), fmt, ap);
		pr_err("%s", buf);
	}
	va_end(ap);
}

/* Parses one line (len bytes, no newline) into v; 0 for a blank or comment
 * line, 1 for a prefix, or a negative errno (reported through e). */
static int list_line(const char *name, size_t lineno, const char *line,
		     size_t len, struct sl_prefix *p, struct list_err *e)
{
	const char *nul = memchr(line, '\0', len), *s = line, *end;
	char tok[128], msg[128];
	size_t tl;

	if (nul) {
		list_fail(e,
			  "%s:%zu:%zu: NUL byte (a prefix list is text: one "
			  "prefix per line)",
			  name, lineno, (size_t)(nul - line) + 1);
		return -EINVAL;
	}
	if (len > SL_LIST_LINE_MAX) {
		list_fail(e, "%s:%zu:%u: line longer than %u bytes", name,
			  lineno, SL_LIST_LINE_MAX + 1, SL_LIST_LINE_MAX);
		return -EINVAL;
	}
	/* A UTF-8 byte order mark before the first line is no text (some
	 * editors write one; the YAML reader skips it too). */
	if (lineno == 1 && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3))
		s += 3;
	/* '#' and ';' start a comment; a CR ends the line (CRLF files). */
	for (end = s; end < line + len; end++)
		if (*end == '#' || *end == ';' || *end == '\r')
			break;
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	if (s == end)
		return 0;
	for (tl = 0; s + tl < end; tl++)
		if (s[tl] == ' ' || s[tl] == '\t') {
			list_fail(e, "%s:%zu:%zu: expected one prefix per line",
				  name, lineno, (size_t)(s - line) + tl + 1);
			return -EINVAL;
		}
	if (tl >= sizeof(tok)) {
		list_fail(e,
			  "%s:%zu:%zu: expected an address or prefix, got %zu "
			  "characters",
			  name, lineno, (size_t)(s - line) + 1, tl);
		return -EINVAL;
	}
	memcpy(tok, s, tl);
	tok[tl] = '\0';
	if (sl_prefix_parse(tok, p, msg, sizeof(msg))) {
		list_fail(e, "%s:%zu:%zu: %s", name, lineno,
			  (size_t)(s - line) + 1, msg);
		return -EINVAL;
	}
	return 1;
}

/* Opens a prefix list: a regular file, or standard input for "-". Never
 * blocks in open (a FIFO is refused, not waited on). */
static int list_open(const char *path, const char **name)
{
	struct stat st;
	int fd, err;

	if (!strcmp(path, "-")) {
		*name = "stdin";
		return 0;
	}
	*name = path;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = errno == ENOENT || errno == ENOTDIR || errno == ELOOP
			  ? -EINVAL
			  : -errno;
		pr_err("%s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		pr_err("%s: not a regular file (a prefix list must be a "
		       "regular file, or '-' for standard input)",
		       path);
		close(fd);
		return -EINVAL;
	}
	/* Regular files never block; clear the flag for clarity. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* Parses lines [buf, buf + len) (line numbers from line0 + 1) and calls fn
 * on each prefix in order; stops at the first error (reported through e)
 * or fn's non-zero return. */
static int list_span(const char *name, const char *buf, size_t len,
		     size_t line0,
		     int (*fn)(void *arg, const struct sl_prefix *p), void *arg,
		     struct list_err *e)
{
	size_t pos = 0, lineno = line0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		struct sl_prefix p;
		int err;

		lineno++;
		err = list_line(name, lineno, buf + pos, ll, &p, e);
		if (err < 0)
			return err;
		pos += ll + !!nl;
		if (err && (err = fn(arg, &p)))
			return err;
	}
	return 0;
}

/* The second half of a list, parsed on its own thread into a vector. */
struct list_half {
	const char *name, *buf;
	size_t len, line0;
	struct sl_prefix *v;
	size_t n, cap;
	struct list_err e;
	int err;
};

/* Room for one more prefix in v[0..*n) of *cap: 0 or -ENOMEM. */
static int prefix_room(struct sl_prefix **v, size_t n, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 1024;
	struct sl_prefix *nv;

	if (n < *cap)
		return 0;
	nv = sl_realloc_big(*v, ncap * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int half_push(void *arg, const struct sl_prefix *p)
{
	struct list_half *h = arg;

	if (prefix_room(&h->v, h->n, &h->cap)) {
		snprintf(h->e.msg, sizeof(h->e.msg),
			 "%s: out of memory after %zu prefixes", h->name, h->n);
		return -ENOMEM;
	}
	h->v[h->n++] = *p;
	return 0;
}

static void *half_run(void *arg)
{
	struct list_half *h = arg;

	h->err =
	    list_span(h->name, h->buf, h->len, h->line0, half_push, h, &h->e);
	return NULL;
}

/* A list of this many bytes or more is read whole and parsed in two halves
 * on two threads (1,000,000 prefixes, 15 MB: about 0.1 s of line parsing
 * on one). */
#define LIST_SPLIT_MIN (4U << 20)

/* The whole list in memory (len bytes of buf), in two halves: the first
 * on this thread, calling fn as it goes, the second on another into a
 * vector, handed to fn after. The first error in file order is said. */
static int list_halves(const char *name, const char *buf, size_t len,
		       int (*fn)(void *arg, const struct sl_prefix *p),
		       void *arg)
{
	const char *cut = memchr(buf + len / 2, '\n', len - len / 2);
	struct list_half h = {.name = name};
	size_t first, lines = 0;
	pthread_t th;
	int err;

	if (!cut)
		return list_span(name, buf, len, 0, fn, arg, NULL);
	first = (size_t)(cut - buf) + 1;
	for (const char *q = buf; (q = memchr(q, '\n', first - (q - buf))); q++)
		lines++;
	h.buf = buf + first;
	h.len = len - first;
	h.line0 = lines;
	if (pthread_create(&th, NULL, half_run, &h))
		return list_span(name, buf, len, 0, fn, arg, NULL);
	err = list_span(name, buf, first, 0, fn, arg, NULL);
	pthread_join(th, NULL);
	if (!err && h.err) {
		pr_err("%s", h.e.msg);
		err = h.err;
	}
	for (size_t i = 0; !err && i < h.n; i++)
		err = fn(arg, &h.v[i]);
	free(h.v);
	return err;
}

/* Reads all of fd (a regular file of about size bytes) into *out (len
 * bytes): 0, or -EIO, -EINVAL (over the cap max) or -ENOMEM, reported. */
static int list_slurp(int fd, const char *name, size_t size,
		      unsigned long long max, char **out, size_t *len)
{
	int err = sl_read_all(fd, size, max, out, len);

	if (err == -EIO)
		pr_err("%s: cannot read: %s", name, strerror(errno));
	else if (err == -E2BIG)
		pr_err("%s: larger than the prefix-list size cap of %llu bytes "
		       "(set SLUICE_LIST_MAX_BYTES to raise it)",
		       name, max);
	else if (err)
		pr_err("%s: out of memory", name);
	return err == -E2BIG ? -EINVAL : err;
}

int sl_prefix_file_each(const char *path,
			int (*fn)(void *arg, const struct sl_prefix *p),
			void *arg)
{
	const size_t bufsz = 256 << 10; /* one read; lines fit 64 times */
	size_t lineno = 0, len = 0, pos = 0;
	unsigned long long total = 0, max;
	const char *name;
	bool eof = false;
	char *buf = NULL;
	struct stat st;
	int fd, err;

	err = sl_bytes_cap("SLUICE_LIST_MAX_BYTES", SL_LIST_MAX_DEFAULT, &max);
	if (err)
		return err;
	fd = list_open(path, &name);
	if (fd < 0)
		return fd;
	/* A big regular file within the cap: read whole, parsed in halves
	 * (the cap is checked as it is read, as below). */
	if (fd > 0 && !fstat(fd, &st) && st.st_size >= LIST_SPLIT_MIN &&
	    (unsigned long long)st.st_size <= max &&
	    st.st_size <= (1LL << 30) && sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		size_t len;
		char *all = NULL;

		err = list_slurp(fd, name, st.st_size, max, &all, &len);
		close(fd);
		if (!err)
			err = list_halves(name, all, len, fn, arg);
		free(all);
		return err;
	}
	buf = malloc(bufsz);
	if (!buf) {
		err = -ENOMEM;
		pr_err("%s: out of memory", name);
		goto out;
	}
	for (;;) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		struct sl_prefix p;
		ssize_t got;

		if (!nl && !eof) {
			/* An incomplete line: keep it, read more. */
			if (ll > SL_LIST_LINE_MAX) {
				pr_err("%s:%zu:%u: line longer than %u bytes",
				       name, lineno + 1, SL_LIST_LINE_MAX + 1,
				       SL_LIST_LINE_MAX);
				err = -EINVAL;
				break;
			}
			memmove(buf, buf + pos, ll);
			len = ll;
			pos = 0;
			got = read(fd, buf + len, bufsz - len);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				err = -EIO;
				pr_err("%s: cannot read: %s", name,
				       strerror(errno));
				break;
			}
			total += got;
			if (total > max) {
				pr_err("%s: larger than the prefix-list size "
				       "cap of %llu bytes (set "
				       "SLUICE_LIST_MAX_BYTES to raise it)",
				       name, max);
				err = -EINVAL;
				break;
			}
			len += got;
			eof = !got;
			continue;
		}
		if (!nl && !ll)
			break; /* end of input */
		lineno++;
		err = list_line(name, lineno, buf + pos, ll, &p, NULL);
		if (err < 0)
			break;
		pos += ll + !!nl;
		if (!err)
			continue;
		err = fn(arg, &p);
		if (err)
			break;
	}
out:
	free(buf);
	if (fd > 0)
		close(fd);
	return err;
}

struct vec {
	struct sl_prefix *v;
	size_t n, cap;
	const char *path;
};

static int vec_push(void *arg, const struct sl_prefix *p)
{
	struct vec *x = arg;

	if (prefix_room(&x->v, x->n, &x->cap)) {
		pr_err("%s: out of memory after %zu prefixes", x->path, x->n);
		return -ENOMEM;
	}
	x->v[x->n++] = *p;
	return 0;
}

int sl_prefix_file_read(const char *path, struct sl_prefix **out, size_t *n)
{
	struct vec x = {.path = path};
	int err = sl_prefix_file_each(path, vec_push, &x);

	if (err) {
		free(x.v);
		return err;
	}
	*out = x.v;
	*n = x.n;
	return 0;
}

bool sl_prefix_within(const struct sl_prefix *in, const struct sl_prefix *out)
{
	if (in->family != out->family || in->plen < out->plen)
		return false;
	for (int b = 0; b < out->plen; b++)
		if ((in->addr[b / 8] ^ out->addr[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

bool sl_prefix_overlap(const struct sl_prefix *a, const struct sl_prefix *b)
{
	return sl_prefix_within(a, b) || sl_prefix_within(b, a);
}
