/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* evfile: a file of JSON lines with size-based rotation, the daemon's
 * events file (docs/daemon.md). PATH holds the newest lines; when a write
 * would take it past max_bytes it becomes PATH.1, PATH.1 becomes PATH.2,
 * and so on up to PATH.<backups> (the oldest, PATH.<backups>, is dropped);
 * backups 0 truncates PATH instead. */
#ifndef SL_EVFILE_H
#define SL_EVFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sl_evfile {
	char path[4096];
	uint64_t max_bytes; /* 0: no rotation */
	unsigned backups;
	FILE *f;
	uint64_t size; /* bytes in PATH */
};

#define SL_EVFILE_BACKUPS_MAX 1000

/* Opens (appends to) path; 0 or a negative errno (reported). */
int sl_evfile_open(struct sl_evfile *ef, const char *path, uint64_t max_bytes,
		   unsigned backups);
/* Writes one line (len bytes, its newline included), rotating first when
 * PATH would grow past max_bytes (a line longer than that gets a file of
 * its own). 0 or a negative errno (reported). */
int sl_evfile_write(struct sl_evfile *ef, const char *line, size_t len);
/* Writes what is buffered to the file. */
int sl_evfile_flush(struct sl_evfile *ef);
/* Closes and opens PATH again (after logrotate moved it: SIGHUP). */
int sl_evfile_reopen(struct sl_evfile *ef);
void sl_evfile_close(struct sl_evfile *ef);

#endif
