// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_prefix: CIDR parsing and formatting (sl_prefix_parse,
 * sl_prefix_format) and prefix-list files (sl_prefix_file_read). Needs no
 * privileges; the files are written under /tmp and removed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "sluice.h"

/* ---- sl_prefix_parse ---- */

struct parse_ok {
	const char *in;
	int family;
	int plen;
	const char *addr; /* the address bytes, as inet_pton reads them */
	const char *fmt;  /* sl_prefix_format of the result */
};

static const struct parse_ok parse_ok[] = {
    {"198.18.0.0/24", AF_INET, 24, "198.18.0.0", "198.18.0.0/24"},
    {"198.18.0.1", AF_INET, 32, "198.18.0.1", "198.18.0.1/32"},
    {"198.18.0.1/32", AF_INET, 32, "198.18.0.1", "198.18.0.1/32"},
    {"0.0.0.0/0", AF_INET, 0, "0.0.0.0", "0.0.0.0/0"},
    {"198.16.0.0/13", AF_INET, 13, "198.16.0.0", "198.16.0.0/13"},
    {"255.255.255.255", AF_INET, 32, "255.255.255.255", "255.255.255.255/32"},
    {"2001:db8::/32", AF_INET6, 32, "2001:db8::", "2001:db8::/32"},
    {"2001:db8::1", AF_INET6, 128, "2001:db8::1", "2001:db8::1/128"},
    {"2001:0DB8:0000:0000::/64", AF_INET6, 64, "2001:db8::", "2001:db8::/64"},
    {"::/0", AF_INET6, 0, "::", "::/0"},
    {"fe80::/10", AF_INET6, 10, "fe80::", "fe80::/10"},
    {"64:ff9b::198.18.0.1", AF_INET6, 128, "64:ff9b::c612:1",
     "64:ff9b::c612:1/128"},
};

static bool check_parse_ok(const struct parse_ok *t)
{
	struct sl_prefix p, want = {0};
	char err[128] = "", buf[64];

	want.family = t->family;
	inet_pton(t->family, t->addr, want.addr);
	if (!ASSERT_EQ(sl_prefix_parse(t->in, &p, err, sizeof(err)), 0,
		       "return value") ||
	    !ASSERT_EQ(p.family, t->family, "family") ||
	    !ASSERT_EQ(p.plen, t->plen, "prefix length") ||
	    !ASSERT_TRUE(!memcmp(p.addr, want.addr, sizeof(p.addr)),
			 "address bytes differ"))
		return false;
	sl_prefix_format(&p, buf, sizeof(buf));
	return ASSERT_TRUE(!strcmp(buf, t->fmt), "formatted as '%s', want '%s'",
			   buf, t->fmt);
}

struct parse_bad {
	const char *in;
	const char *msg; /* a part of the error text */
};

static const struct parse_bad parse_bad[] = {
    /* Host bits: the error names the network. */
    {"198.18.0.1/24", "did you mean 198.18.0.0/24?"},
    {"198.19.0.0/15", "did you mean 198.18.0.0/15?"},
    {"0.0.0.1/0", "did you mean 0.0.0.0/0?"},
    {"2001:db8::1/64", "did you mean 2001:db8::/64?"},
    {"fe80::1/10", "did you mean fe80::/10?"},
    {"2001:db8:1::/32", "host bits set beyond /32"},
    /* Length out of range or not a number. */
    {"198.18.0.0/33", "prefix length must be 0-32"},
    {"2001:db8::/129", "prefix length must be 0-128"},
    {"198.18.0.0/99999999999999999999999", "prefix length must be 0-32"},
    {"198.18.0.0/24x", "prefix length must be 0-32"},
    {"198.18.0.0/-1", "expected a prefix length after '/'"},
    {"198.18.0.0/", "expected a prefix length after '/'"},
    {"198.18.0.0/ 24", "expected a prefix length after '/'"},
    {"198.18.0.0//24", "expected a prefix length after '/'"},
    {"198.18.0.0/24/8", "prefix length must be 0-32"},
    /* Ambiguous (issue 8 defect 12): refused, saying what they mean. */
    {"198.18.0.0/024", "leading zero (write /24)"},
    {"198.18.0.0/00", "leading zero (write /0)"},
    {"::ffff:198.18.0.1", "IPv4-mapped IPv6 address: it would match only "
			  "IPv6 packets, never IPv4 198.18.0.1 (write "
			  "198.18.0.1/32)"},
    {"::ffff:c612:0/120", "never IPv4 198.18.0.0 (write 198.18.0.0/24)"},
    /* Not an address. */
    {"", "expected an address or prefix"},
    {"/24", "expected an address or prefix"},
    {"foo", "'foo' is not an IPv4 or IPv6 address"},
    {"198.18.0", "is not an IPv4 or IPv6 address"},
    {"198.18.0.0.1", "is not an IPv4 or IPv6 address"},
    {"256.0.0.0/8", "'256.0.0.0' is not an IPv4 or IPv6 address"},
    {" 198.18.0.1", "is not an IPv4 or IPv6 address"},
    {"198.18.0.1 ", "is not an IPv4 or IPv6 address"},
    {"2001:db8:::1", "is not an IPv4 or IPv6 address"},
    {"2001:db8::g/64", "is not an IPv4 or IPv6 address"},
    {"0123456789012345678901234567890123456789012345678901234567890123"
     "4567890123456789",
     "expected an address or prefix"},
};

static bool check_parse_bad(const struct parse_bad *t)
{
	struct sl_prefix p;
	char err[128] = "";

	return ASSERT_EQ(sl_prefix_parse(t->in, &p, err, sizeof(err)), -EINVAL,
			 "return value") &&
	       ASSERT_STR_HAS(err, t->msg, "error");
}

/* The error text is cut to errlen, never written beyond it. */
static bool check_parse_small_err(void)
{
	struct sl_prefix p;
	char err[16];

	memset(err, 'x', sizeof(err));
	return ASSERT_EQ(sl_prefix_parse("198.18.0.1/24", &p, err, 8), -EINVAL,
			 "return value") &&
	       ASSERT_EQ(strlen(err), 7, "error length") &&
	       ASSERT_EQ(err[8], 'x', "byte after errlen");
}

/* ---- sl_prefix_file_read ---- */

static char tmp_path[64];
static char captured[4096];
static int saved_stderr = -1;

/* Writes content to a fresh file under /tmp; its name is in tmp_path. */
static bool tmp_write(const char *content)
{
	size_t len = strlen(content);
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/sluice-test-XXXXXX");
	fd = mkstemp(tmp_path);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp: %s", strerror(errno)))
		return false;
	if (!ASSERT_EQ(write(fd, content, len), len, "write")) {
		close(fd);
		unlink(tmp_path);
		return false;
	}
	close(fd);
	return true;
}

/* Runs sl_prefix_file_read with stderr captured into `captured`. */
static int read_captured(const char *path, struct sl_prefix **out, size_t *n)
{
	FILE *cap = tmpfile();
	size_t got = 0;
	int err;

	captured[0] = '\0';
	if (!cap)
		return -errno;
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fileno(cap), 2);
	err = sl_prefix_file_read(path, out, n);
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	rewind(cap);
	got = fread(captured, 1, sizeof(captured) - 1, cap);
	captured[got] = '\0';
	fclose(cap);
	return err;
}

struct file_case {
	const char *name;
	const char *content;
	int ret;
	const char *want[8]; /* the prefixes read, formatted, in order */
	const char *msg;     /* with ret < 0: expected after "PATH:" */
};

static const struct file_case file_cases[] = {
    {"prefix file: comments, blank lines, whitespace and crlf",
     "# office networks\n"
     "198.18.0.0/24\n"
     "; legacy comment\n"
     "\n"
     "   198.19.0.1   # a host\n"
     "\t2001:db8::/32;inline comment\n"
     "  \t \n"
     "\r\n"
     "2001:db8:1::1\r\n"
     "fe80::/10 \t\r\n"
     "#198.18.1.0/24\n"
     ";198.18.2.0/24\n"
     "0.0.0.0/0",
     0,
     {"198.18.0.0/24", "198.19.0.1/32", "2001:db8::/32", "2001:db8:1::1/128",
      "fe80::/10", "0.0.0.0/0"},
     NULL},
    {"prefix file: empty file reads no prefix", "", 0, {NULL}, NULL},
    {"prefix file: only comments and blank lines reads no prefix",
     "# nothing\n\n; here\n   \n",
     0,
     {NULL},
     NULL},
    {"prefix file: bad length names line and column",
     "198.18.0.0/24\n# ok\n  198.18.0.0/33\n198.18.1.0/24\n",
     -EINVAL,
     {NULL},
     ":3:3: prefix length must be 0-32"},
    {"prefix file: host bits name the network",
     "\n\t198.18.0.1/24 # typo\n",
     -EINVAL,
     {NULL},
     ":2:2: host bits set beyond /24 (did you mean 198.18.0.0/24?)"},
    {"prefix file: garbage names line and column",
     "# header\n2001:db8::/32\nexample.com\n",
     -EINVAL,
     {NULL},
     ":3:1: 'example.com' is not an IPv4 or IPv6 address"},
    {"prefix file: two prefixes on a line are an error",
     "198.18.0.1 198.18.0.2\n",
     -EINVAL,
     {NULL},
     ":1:11: expected one prefix per line"},
    {"prefix file: crlf line with a bad prefix",
     "198.18.0.0/24\r\n198.18.0.0/40\r\n",
     -EINVAL,
     {NULL},
     ":2:1: prefix length must be 0-32"},
};

static bool check_file(const struct file_case *t)
{
	struct sl_prefix *v = NULL;
	size_t n = 99, nwant = 0;
	char want_msg[256], buf[64];
	bool ok = false;
	int err;

	if (!tmp_write(t->content))
		return false;
	err = read_captured(tmp_path, &v, &n);
	if (!ASSERT_EQ(err, t->ret, "return value"))
		goto out;
	if (t->ret < 0) {
		snprintf(want_msg, sizeof(want_msg), "%s%s\n", tmp_path,
			 t->msg);
		ok = ASSERT_STR_HAS(captured, want_msg, "stderr");
		goto out;
	}
	while (nwant < 8 && t->want[nwant])
		nwant++;
	if (!ASSERT_EQ(n, nwant, "prefixes read") ||
	    !ASSERT_TRUE(!captured[0], "printed '%s'", captured))
		goto out;
	for (size_t i = 0; i < n; i++) {
		sl_prefix_format(&v[i], buf, sizeof(buf));
		if (!ASSERT_TRUE(!strcmp(buf, t->want[i]),
				 "prefix %zu is %s, want %s", i, buf,
				 t->want[i]))
			goto out;
	}
	ok = true;
out:
	if (!t->ret)
		free(v);
	unlink(tmp_path);
	return ok;
}

/* More entries than the first allocation (1024) holds. */
static bool check_file_large(void)
{
	const size_t count = 3000;
	struct sl_prefix *v = NULL;
	char *content = malloc(count * 20), buf[64];
	size_t n = 0, len = 0;
	bool ok = false;

	if (!ASSERT_TRUE(content != NULL, "out of memory"))
		return false;
	for (size_t i = 0; i < count; i++)
		len += sprintf(content + len, "10.%zu.%zu.0/24\n", i / 256,
			       i % 256);
	if (!tmp_write(content))
		goto out;
	if (!ASSERT_EQ(read_captured(tmp_path, &v, &n), 0, "return value") ||
	    !ASSERT_EQ(n, count, "prefixes read"))
		goto out;
	sl_prefix_format(&v[count - 1], buf, sizeof(buf));
	ok = ASSERT_TRUE(!strcmp(buf, "10.11.183.0/24"), "last prefix is %s",
			 buf);
out:
	free(v);
	free(content);
	unlink(tmp_path);
	return ok;
}

static bool check_file_missing(void)
{
	const char *path = "/tmp/sluice-test-does-not-exist";
	struct sl_prefix *v = NULL;
	size_t n = 0;

	unlink(path);
	return ASSERT_EQ(read_captured(path, &v, &n), -EINVAL,
			 "return value") &&
	       ASSERT_STR_HAS(captured, path, "stderr");
}

/* A path that opens but cannot be read (a directory) is bad input, not an
 * empty list. */
static bool check_file_directory(void)
{
	char dir[] = "/tmp/sluice-test-dir-XXXXXX";
	struct sl_prefix *v = NULL;
	size_t n = 0;
	bool ok;
	int err;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno)))
		return false;
	err = read_captured(dir, &v, &n);
	ok = ASSERT_EQ(err, -EINVAL, "return value") &&
	     ASSERT_STR_HAS(captured, dir, "stderr");
	if (!err)
		free(v);
	rmdir(dir);
	return ok;
}

/* ---- lists read wrongly (issue 8, defect 2) ---- */

/* Writes len bytes (NULs allowed) to a fresh file; name in tmp_path. */
static bool tmp_write_len(const char *content, size_t len)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/sluice-test-XXXXXX");
	fd = mkstemp(tmp_path);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp: %s", strerror(errno)))
		return false;
	if (!ASSERT_EQ(write(fd, content, len), len, "write")) {
		close(fd);
		unlink(tmp_path);
		return false;
	}
	close(fd);
	return true;
}

/* Reads content (len bytes) as a list; expects ret and, on error, msg
 * after "PATH". */
static bool check_bytes(const char *content, size_t len, int ret,
			const char *msg, size_t want_n)
{
	struct sl_prefix *v = NULL;
	char want[256];
	size_t n = 0;
	bool ok;
	int err;

	if (!tmp_write_len(content, len))
		return false;
	err = read_captured(tmp_path, &v, &n);
	snprintf(want, sizeof(want), "%s%s", tmp_path, msg ? msg : "");
	ok = ASSERT_EQ(err, ret, "return value") &&
	     (ret ? ASSERT_STR_HAS(captured, want, "stderr")
		  : ASSERT_EQ(n, want_n, "prefixes read"));
	if (!err)
		free(v);
	unlink(tmp_path);
	return ok;
}

static bool check_nul(void)
{
	static const char c[] = "198.18.0.0/24\n198.18.1.0/2\0"
				"4\n"
				"198.18.2.0/24\n";

	return check_bytes(c, sizeof(c) - 1, -EINVAL, ":2:13: NUL byte", 0);
}

static bool check_nul_in_comment(void)
{
	static const char c[] = "198.18.0.0/24 # a\0b\n198.18.2.0/24\n";

	return check_bytes(c, sizeof(c) - 1, -EINVAL, ":1:18: NUL byte", 0);
}

/* A line of `len` bytes: a prefix, then a comment of '-'. */
static char *long_line(size_t len, const char *tail)
{
	char *c = malloc(len + strlen(tail) + 2);

	if (!c)
		return NULL;
	memset(c, '-', len);
	memcpy(c, "198.18.0.0/24 #", 15);
	c[len] = '\n';
	strcpy(c + len + 1, tail);
	return c;
}

static bool check_long_line(void)
{
	char *c = long_line(SL_LIST_LINE_MAX + 1, "198.18.1.0/24\n");
	bool ok;

	if (!ASSERT_TRUE(c != NULL, "out of memory"))
		return false;
	ok = check_bytes(c, strlen(c), -EINVAL,
			 ":1:4097: line longer than 4096 bytes", 0);
	free(c);
	return ok;
}

/* The longest line allowed is read, and so is a last line without a
 * newline. */
static bool check_longest_line(void)
{
	char *c = long_line(SL_LIST_LINE_MAX, "198.18.1.0/24");
	bool ok;

	if (!ASSERT_TRUE(c != NULL, "out of memory"))
		return false;
	ok = check_bytes(c, strlen(c), 0, NULL, 2);
	free(c);
	return ok;
}

/* A 1 MiB line without a newline is refused as such, not read whole. */
static bool check_huge_line(void)
{
	size_t len = 1 << 20;
	char *c = malloc(len);
	bool ok;

	if (!ASSERT_TRUE(c != NULL, "out of memory"))
		return false;
	memset(c, '1', len);
	ok = check_bytes(c, len, -EINVAL, ":1:4097: line longer than", 0);
	free(c);
	return ok;
}

static bool check_size_cap(void)
{
	static const char c[] = "198.18.0.0/24\n198.18.1.0/24\n198.18.2.0/24\n";
	bool ok;

	setenv("SLUICE_LIST_MAX_BYTES", "30", 1);
	ok = check_bytes(c, sizeof(c) - 1, -EINVAL,
			 ": larger than the prefix-list size cap of 30 bytes "
			 "(set SLUICE_LIST_MAX_BYTES to raise it)",
			 0);
	setenv("SLUICE_LIST_MAX_BYTES", "1k", 1);
	ok = ok && check_bytes(c, sizeof(c) - 1, 0, NULL, 3);
	setenv("SLUICE_LIST_MAX_BYTES", "0", 1);
	ok = ok && check_bytes(c, sizeof(c) - 1, 0, NULL, 3);
	setenv("SLUICE_LIST_MAX_BYTES", "12q", 1);
	if (ok) {
		struct sl_prefix *v = NULL;
		size_t n = 0;

		ok = tmp_write_len(c, sizeof(c) - 1) &&
		     ASSERT_EQ(read_captured(tmp_path, &v, &n), -EINVAL,
			       "return value with a bad cap") &&
		     ASSERT_STR_HAS(captured,
				    "SLUICE_LIST_MAX_BYTES: expected a number",
				    "stderr");
		unlink(tmp_path);
	}
	unsetenv("SLUICE_LIST_MAX_BYTES");
	return ok;
}

/* "-" reads standard input (here a pipe). */
static bool check_stdin(void)
{
	static const char c[] = "198.18.0.0/24\n# c\n2001:db8::1\n";
	struct sl_prefix *v = NULL;
	int pfd[2], saved;
	size_t n = 0;
	bool ok;
	int err;

	if (!ASSERT_EQ(pipe(pfd), 0, "pipe"))
		return false;
	ok = ASSERT_EQ(write(pfd[1], c, sizeof(c) - 1), sizeof(c) - 1, "write");
	close(pfd[1]);
	saved = dup(0);
	dup2(pfd[0], 0);
	close(pfd[0]);
	err = read_captured("-", &v, &n);
	dup2(saved, 0);
	close(saved);
	ok = ok && ASSERT_EQ(err, 0, "return value") &&
	     ASSERT_EQ(n, 2, "prefixes read");
	if (!err)
		free(v);
	return ok;
}

/* sl_prefix_file_read of the file tmp_path holds through standard input
 * (the streaming reader, whatever the size), stderr in `captured`. */
static int read_as_stdin(struct sl_prefix **out, size_t *n)
{
	int fd = open(tmp_path, O_RDONLY), saved = dup(0), err;

	if (fd < 0 || saved < 0)
		return -errno;
	dup2(fd, 0);
	close(fd);
	err = read_captured("-", out, n);
	dup2(saved, 0);
	close(saved);
	return err;
}

/* A list of `count` lines (IPv4 and IPv6, comments, blank and CRLF lines,
 * no newline at the end), with "bogus" on the lines listed in bad[]. */
static char *halves_list(size_t count, const size_t *bad, size_t nbad,
			 size_t *len)
{
	char *c = malloc(count * 48);

	*len = 0;
	for (size_t i = 1; c && i <= count; i++) {
		bool b = false;

		for (size_t k = 0; k < nbad; k++)
			b = b || bad[k] == i;
		if (b)
			*len += sprintf(c + *len, "bogus\n");
		else if (i % 97 == 0)
			*len += sprintf(c + *len, "# comment %zu\n", i);
		else if (i % 89 == 0)
			*len += sprintf(c + *len, "\n");
		else if (i % 7 == 0)
			*len += sprintf(c + *len, "2001:db8:%zx:%zx::/64\r\n",
					i >> 16, i & 0xffff);
		else
			*len +=
			    sprintf(c + *len, "%zu.%zu.%zu.0/24 ; x\n",
				    1 + i / 65536, (i / 256) % 256, i % 256);
	}
	if (c)
		(*len)--; /* the last line without its newline */
	return c;
}

/* The list of `count` lines with "bogus" on lines bad[0..nbad) is refused
 * with one line naming line `want` only. */
static bool halves_refused(size_t count, const size_t *bad, size_t nbad,
			   size_t want)
{
	struct sl_prefix *v = NULL;
	size_t len, n = 0;
	char *c = halves_list(count, bad, nbad, &len), at[128];
	bool ok =
	    ASSERT_TRUE(c != NULL, "out of memory") && tmp_write_len(c, len);

	snprintf(at, sizeof(at), "%s:%zu:1: ", tmp_path, want);
	ok = ok &&
	     ASSERT_EQ(read_captured(tmp_path, &v, &n), -EINVAL,
		       "return value") &&
	     ASSERT_STR_HAS(captured, at, "stderr");
	for (size_t k = 0; ok && k < nbad; k++) {
		snprintf(at, sizeof(at), ":%zu:", bad[k]);
		ok = bad[k] == want ||
		     ASSERT_TRUE(!strstr(captured, at),
				 "a later error said too: %s", captured);
	}
	free(c);
	unlink(tmp_path);
	return ok;
}

/* A list of 4 MiB or more is read whole and parsed in two halves on two
 * threads: the same prefixes in the same order as the streaming reader's,
 * and the first error in file order with its line, whichever half. */
static bool check_file_halves(void)
{
	const size_t count = 300000, bad2[] = {250001},
		     bad12[] = {1000, 250001};
	struct sl_prefix *a = NULL, *b = NULL;
	size_t len, na = 0, nb = 0;
	char *c = halves_list(count, NULL, 0, &len);
	bool ok =
	    ASSERT_TRUE(c != NULL, "out of memory") &&
	    ASSERT_TRUE(len >= (4U << 20), "only %zu bytes", len) &&
	    tmp_write_len(c, len) &&
	    ASSERT_EQ(read_captured(tmp_path, &a, &na), 0, "whole file") &&
	    ASSERT_EQ(read_as_stdin(&b, &nb), 0, "streamed");

	ok = ok && ASSERT_TRUE(na > count / 2, "prefixes read: %zu", na) &&
	     ASSERT_EQ(na, nb, "the same count both ways") &&
	     ASSERT_TRUE(!memcmp(a, b, na * sizeof(*a)),
			 "the same prefixes in the same order both ways");
	free(a);
	free(b);
	free(c);
	unlink(tmp_path);
	/* an error in the second half, and errors in both halves */
	return ok && halves_refused(count, bad2, 1, 250001) &&
	       halves_refused(count, bad12, 2, 1000);
}

/* Runs sl_prefix_file_read(path) in a child limited to 1 GiB of address
 * space; gives up after `secs`. Returns the child's result, or 1 when it
 * did not finish (it is killed), 2 when it died. */
struct child_res {
	int err;
	size_t n;
	char msg[512];
};

static int read_in_child(const char *path, int secs, struct child_res *res)
{
	struct pollfd pf;
	int pfd[2], st;
	pid_t pid;
	ssize_t got;

	memset(res, 0, sizeof(*res));
	if (pipe(pfd))
		return 2;
	pid = fork();
	if (pid < 0)
		return 2;
	if (!pid) {
		struct rlimit rl = {1ULL << 30, 1ULL << 30};
		struct sl_prefix *v = NULL;

		close(pfd[0]);
		setrlimit(RLIMIT_AS, &rl);
		res->err = read_captured(path, &v, &res->n);
		snprintf(res->msg, sizeof(res->msg), "%.500s", captured);
		if (write(pfd[1], res, sizeof(*res)) != sizeof(*res))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	pf = (struct pollfd){.fd = pfd[0], .events = POLLIN};
	if (poll(&pf, 1, secs * 1000) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		close(pfd[0]);
		return 1;
	}
	got = read(pfd[0], res, sizeof(*res));
	close(pfd[0]);
	waitpid(pid, &st, 0);
	return got == sizeof(*res) ? 0 : 2;
}

static bool check_special(const char *path, const char *what)
{
	struct child_res r;
	int rc = read_in_child(path, 10, &r);

	return ASSERT_TRUE(rc != 1, "reading %s blocked for 10 s", what) &&
	       ASSERT_TRUE(rc == 0, "the reader died reading %s", what) &&
	       ASSERT_EQ(r.err, -EINVAL, "return value") &&
	       ASSERT_STR_HAS(r.msg, "not a regular file", "stderr");
}

/* A FIFO is refused at once, whether or not a writer ever comes. */
static bool check_fifo(void)
{
	char dir[] = "/tmp/sluice-test-fifo-XXXXXX", path[64];
	bool ok;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno)))
		return false;
	snprintf(path, sizeof(path), "%s/list", dir);
	ok = ASSERT_EQ(mkfifo(path, 0600), 0, "mkfifo") &&
	     check_special(path, "a FIFO");
	unlink(path);
	rmdir(dir);
	return ok;
}

/* /dev/zero: endless NULs. Refused, never read until memory runs out and
 * then taken for an empty list. */
static bool check_dev_zero(void)
{
	return check_special("/dev/zero", "/dev/zero");
}

int main(void)
{
	char name[160];
	size_t i;

	sl_log_hook_libbpf();
	for (i = 0; i < sizeof(parse_ok) / sizeof(parse_ok[0]); i++) {
		snprintf(name, sizeof(name), "parse '%s'", parse_ok[i].in);
		check_report(name, check_parse_ok(&parse_ok[i]));
	}
	for (i = 0; i < sizeof(parse_bad) / sizeof(parse_bad[0]); i++) {
		snprintf(name, sizeof(name), "parse '%.40s' fails",
			 parse_bad[i].in);
		check_report(name, check_parse_bad(&parse_bad[i]));
	}
	check_report("parse error text is cut to errlen",
		     check_parse_small_err());
	for (i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]); i++)
		check_report(file_cases[i].name, check_file(&file_cases[i]));
	check_report("prefix file: 3000 lines", check_file_large());
	check_report("prefix file: missing file is bad input",
		     check_file_missing());
	check_report("prefix file: a directory is an error",
		     check_file_directory());
	check_report("prefix file: a NUL byte names line and column",
		     check_nul());
	check_report("prefix file: a NUL byte in a comment is an error too",
		     check_nul_in_comment());
	check_report("prefix file: a line over 4096 bytes is an error",
		     check_long_line());
	check_report("prefix file: a 4096-byte line and a last line without "
		     "newline are read",
		     check_longest_line());
	check_report("prefix file: 1 MiB without a newline is an over-long "
		     "line",
		     check_huge_line());
	check_report("prefix file: size cap, SLUICE_LIST_MAX_BYTES",
		     check_size_cap());
	check_report("prefix file: '-' reads standard input", check_stdin());
	check_report("prefix file: 4 MiB or more parsed in two halves, the "
		     "same as streamed; the first error in file order",
		     check_file_halves());
	check_report("prefix file: a FIFO is refused without blocking",
		     check_fifo());
	check_report("prefix file: /dev/zero is refused (not read until out "
		     "of memory)",
		     check_dev_zero());
	return check_failed ? 1 : 0;
}
