// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_evfile: the daemon's events file (evfile.c) in a temporary
 * directory: lines go to PATH until the next would take it past the
 * limit, then PATH becomes PATH.1, PATH.1 PATH.2, ... up to the number of
 * backups, the oldest dropped; no file is larger than the limit (but a
 * longer line gets a file of its own); no line is lost or split; backups
 * 0 truncates; a reopen after PATH was moved away (logrotate, SIGHUP)
 * starts a new PATH; an existing PATH is appended to, its size counted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "evfile.h"

static char dir[] = "/tmp/sluice_evfile_XXXXXX";
static char path[256];

static long long fsize(const char *p)
{
	struct stat st;

	return stat(p, &st) ? -1 : (long long)st.st_size;
}

static long long bsize(unsigned i)
{
	char p[300];

	snprintf(p, sizeof(p), "%s.%u", path, i);
	return fsize(p);
}

/* Line n: "{\"n\":N,...}\n", 100 bytes. */
static void line(unsigned n, char *buf)
{
	int k = snprintf(buf, 101, "{\"n\":%06u,\"pad\":\"", n);

	memset(buf + k, 'x', 100 - k - 3);
	memcpy(buf + 97, "\"}\n", 3);
	buf[100] = '\0';
}

/* The first line number in file p, -1 if none. */
static long first_n(const char *p)
{
	FILE *f = fopen(p, "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "{\"n\":%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static void clean(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -f %s/*", dir);
	if (system(cmd)) {
	}
}

static bool check_rotation(void)
{
	struct sl_evfile ef;
	char buf[101], p[300];
	bool ok = true;

	clean();
	/* 1000 bytes: 10 lines a file; 35 lines, 2 backups */
	if (!ASSERT_EQ(sl_evfile_open(&ef, path, 1000, 2), 0, "open"))
		return false;
	for (unsigned i = 0; ok && i < 35; i++) {
		line(i, buf);
		ok = ASSERT_EQ(sl_evfile_write(&ef, buf, 100), 0, "write");
	}
	sl_evfile_close(&ef);
	snprintf(p, sizeof(p), "%s.1", path);
	ok = ok && ASSERT_EQ(fsize(path), 500, "PATH: lines 30-34") &&
	     ASSERT_EQ(first_n(path), 30, "PATH's first line") &&
	     ASSERT_EQ(bsize(1), 1000, "PATH.1: lines 20-29") &&
	     ASSERT_EQ(first_n(p), 20, "PATH.1's first line") &&
	     ASSERT_EQ(bsize(2), 1000, "PATH.2: lines 10-19") &&
	     ASSERT_EQ(bsize(3), -1, "no PATH.3: lines 0-9 dropped");
	snprintf(p, sizeof(p), "%s.2", path);
	ok = ok && ASSERT_EQ(first_n(p), 10, "PATH.2's first line");
	return ok;
}

static bool check_append_and_long(void)
{
	struct sl_evfile ef;
	char buf[101], big[2500];
	bool ok;

	clean();
	if (!ASSERT_EQ(sl_evfile_open(&ef, path, 1000, 1), 0, "open"))
		return false;
	line(0, buf);
	for (int i = 0; i < 8; i++)
		sl_evfile_write(&ef, buf, 100);
	sl_evfile_close(&ef);
	/* opened again: 800 bytes there; two more lines fit, the third
	 * rotates */
	ok = ASSERT_EQ(sl_evfile_open(&ef, path, 1000, 1), 0, "reopen") &&
	     ASSERT_EQ(ef.size, 800, "size of the existing file");
	for (int i = 0; ok && i < 3; i++)
		sl_evfile_write(&ef, buf, 100);
	sl_evfile_flush(&ef);
	ok = ok && ASSERT_EQ(bsize(1), 1000, "PATH.1 full") &&
	     ASSERT_EQ(fsize(path), 100, "PATH: the third line");
	/* a line longer than the limit: a file of its own */
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\n';
	sl_evfile_write(&ef, big, sizeof(big));
	sl_evfile_write(&ef, buf, 100);
	sl_evfile_close(&ef);
	ok = ok &&
	     ASSERT_EQ(bsize(1), (long long)sizeof(big),
		       "the long line alone in PATH.1") &&
	     ASSERT_EQ(fsize(path), 100, "the next line in PATH");
	return ok;
}

static bool check_no_backups_and_reopen(void)
{
	struct sl_evfile ef;
	char buf[101], moved[300];
	bool ok;

	clean();
	if (!ASSERT_EQ(sl_evfile_open(&ef, path, 300, 0), 0, "open"))
		return false;
	line(0, buf);
	for (int i = 0; i < 7; i++)
		sl_evfile_write(&ef, buf, 100);
	sl_evfile_flush(&ef);
	ok = ASSERT_EQ(fsize(path), 100, "backups 0: PATH truncated") &&
	     ASSERT_EQ(bsize(1), -1, "backups 0: no PATH.1");
	snprintf(moved, sizeof(moved), "%s/moved", dir);
	rename(path, moved);
	ok = ok && ASSERT_EQ(sl_evfile_reopen(&ef), 0, "reopen");
	sl_evfile_write(&ef, buf, 100);
	sl_evfile_close(&ef);
	ok = ok && ASSERT_EQ(fsize(path), 100, "a new PATH after reopen") &&
	     ASSERT_EQ(fsize(moved), 100, "the moved file kept");
	return ok;
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("not ok - temporary directory: %s\n", strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/events.json", dir);
	check_report(
	    "rotation: 10 lines a file, 2 backups, the oldest dropped, "
	    "no line lost or split",
	    check_rotation());
	check_report("an existing file is appended to and counted; a line "
		     "longer than the limit gets a file of its own",
		     check_append_and_long());
	check_report("backups 0 truncates; reopen after a move starts a new "
		     "file",
		     check_no_backups_and_reopen());
	clean();
	rmdir(dir);
	return check_failed ? 1 : 0;
}
