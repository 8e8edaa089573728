// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* evfile: JSON lines with size-based rotation (evfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evfile.h"
#include "log.h"

static int ef_open(struct sl_evfile *ef)
{
	struct stat st;
	int fd =
	    open(ef->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0 || fstat(fd, &st) || !(ef->f = fdopen(fd, "a"))) {
		int err = -errno;

		pr_err("cannot open the events file %s: %s", ef->path,
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	ef->size = st.st_size;
	return 0;
}

int sl_evfile_open(struct sl_evfile *ef, const char *path, uint64_t max_bytes,
		   unsigned backups)
{
	memset(ef, 0, sizeof(*ef));
	if (strlen(path) >= sizeof(ef->path) - 8 ||
	    backups > SL_EVFILE_BACKUPS_MAX) {
		pr_err("events file %s: path too long or too many backups",
		       path);
		return -EINVAL;
	}
	snprintf(ef->path, sizeof(ef->path), "%s", path);
	ef->max_bytes = max_bytes;
	ef->backups = backups;
	return ef_open(ef);
}

static void backup_name(const struct sl_evfile *ef, unsigned i, char *buf,
			size_t len)
{
	snprintf(buf, len, "%s.%u", ef->path, i);
}

/* PATH.(N-1) -> PATH.N, ..., PATH -> PATH.1 (rename replaces the oldest);
 * then a new, empty PATH. */
static int rotate(struct sl_evfile *ef)
{
	char from[sizeof(ef->path) + 16], to[sizeof(ef->path) + 16];
	int err = 0;

	fclose(ef->f);
	ef->f = NULL;
	for (unsigned i = ef->backups; i > 1; i--) {
		backup_name(ef, i - 1, from, sizeof(from));
		backup_name(ef, i, to, sizeof(to));
		if (rename(from, to) && errno != ENOENT && !err)
			err = -errno;
	}
	if (ef->backups) {
		backup_name(ef, 1, to, sizeof(to));
		if (rename(ef->path, to) && errno != ENOENT && !err)
			err = -errno;
	} else if (truncate(ef->path, 0) && errno != ENOENT && !err) {
		err = -errno;
	}
	if (err)
		pr_err("cannot rotate the events file %s: %s", ef->path,
		       strerror(-err));
	/* Keep writing in any case (PATH grows past the limit on errors). */
	return ef_open(ef) ?: err;
}

int sl_evfile_write(struct sl_evfile *ef, const char *line, size_t len)
{
	if (!ef->f) {
		int err = ef_open(ef);

		if (err)
			return err;
	}
	if (ef->max_bytes && ef->size && ef->size + len > ef->max_bytes) {
		int err = rotate(ef);

		if (!ef->f)
			return err;
	}
	if (fwrite(line, 1, len, ef->f) != len) {
		pr_err("cannot write the events file %s: %s", ef->path,
		       strerror(errno));
		return -EIO;
	}
	ef->size += len;
	return 0;
}

int sl_evfile_flush(struct sl_evfile *ef)
{
	if (ef->f && fflush(ef->f)) {
		pr_err("cannot write the events file %s: %s", ef->path,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

int sl_evfile_reopen(struct sl_evfile *ef)
{
	sl_evfile_close(ef);
	return ef_open(ef);
}

void sl_evfile_close(struct sl_evfile *ef)
{
	if (ef->f) {
		sl_evfile_flush(ef);
		fclose(ef->f);
	}
	ef->f = NULL;
}
