// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* ctx: the running state, the top of libsluice. Finds (or mounts) the
 * bpffs, takes the lock on <bpffs>/sluice, upgrades an older release's
 * pinned state (upgrade.c), and loads the skeleton with its maps pinned by
 * name there, so every invocation shares one set of tables. Readers that
 * must not hold writers up (the daemon's scrapes) open it with
 * sl_open_reader: the lock shared, for the read only, nothing changed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

static int mkdir_p(const char *path)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* True when path is a directory with no entries (or does not exist). */
static bool dir_empty(const char *path)
{
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(path);

	if (!d)
		return errno == ENOENT;
	while (empty && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

/* Makes sure `path` is a bpffs, mounting one there if needed: only on a
 * missing or empty directory, never over files. */
static int ensure_bpffs(const char *path, bool create)
{
	struct statfs st;
	int err;

	if (!statfs(path, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (!create)
		return -ENOENT;
	if (!dir_empty(path)) {
		pr_err(
		    "%s is not a bpffs and not an empty directory; mount one "
		    "there ('mount -t bpf bpf %s') or choose an empty "
		    "directory",
		    path, path);
		return -EINVAL;
	}
	err = mkdir_p(path);
	if (err) {
		pr_err("cannot create bpffs directory %s: %s", path,
		       strerror(-err));
		return err;
	}
	if (mount("bpf", path, "bpf", 0, "mode=0700")) {
		err = -errno;
		pr_err("%s is not a bpffs and mounting one there failed: %s",
		       path, strerror(errno));
		return err;
	}
	pr_debug("mounted a bpffs at %s", path);
	return 1;
}

/* An empty ctx (no lock, no skeleton) with the paths of bpffs (NULL:
 * $SLUICE_BPFFS or the default). */
static int ctx_paths(struct sl_ctx *ctx, const char *bpffs)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->lock_fd = -1;
	if (!bpffs)
		bpffs = getenv("SLUICE_BPFFS");
	if (!bpffs || !*bpffs)
		bpffs = SL_DEFAULT_BPFFS;
	if (strlen(bpffs) >= sizeof(ctx->bpffs) - 16) {
		pr_err("bpffs path too long: %s", bpffs);
		return -EINVAL;
	}
	snprintf(ctx->bpffs, sizeof(ctx->bpffs), "%s", bpffs);
	snprintf(ctx->dir, sizeof(ctx->dir), "%s/" SL_PIN_SUBDIR, bpffs);
	return 0;
}

int sl_open(struct sl_ctx *ctx, const char *bpffs, bool create)
{
	__u32 layout = 0;
	int err = ctx_paths(ctx, bpffs);

	if (err)
		return err;
	err = ensure_bpffs(ctx->bpffs, create);
	if (err == -ENOENT)
		goto none;
	if (err < 0)
		return err;
	if (create && mkdir(ctx->dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create %s: %s", ctx->dir, strerror(errno));
		return err;
	}
	/* Sluice mounted this bpffs: `reset` unmounts it (the mark). */
	if (err == 1) {
		char mark[sizeof(ctx->dir) + sizeof(SL_MOUNTED_MARK) + 1];

		snprintf(mark, sizeof(mark), "%s/" SL_MOUNTED_MARK, ctx->dir);
		mkdir(mark, 0700);
	}
	ctx->lock_fd = open(ctx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->lock_fd < 0) {
		if (errno == ENOENT)
			goto none;
		err = -errno;
		pr_err("cannot open %s: %s", ctx->dir, strerror(errno));
		return err;
	}
	/* One writer at a time; readers wait too, so they never see half of
	 * a multi-map update. */
	if (flock(ctx->lock_fd, LOCK_EX)) {
		err = -errno;
		pr_err("cannot lock %s: %s", ctx->dir, strerror(errno));
		sl_close(ctx);
		return err;
	}
	/* An older release's state is upgraded in place (upgrade.c); a newer
	 * one's is refused untouched. */
	err = sl_layout_read(ctx, &layout);
	if (!err)
		err = sl_upgrade(ctx, layout);
	if (err) {
		sl_close(ctx);
		return err;
	}
	if (!ctx->skel)
		ctx->skel = sl_xdp_load(ctx->dir, NULL, 0);
	if (!ctx->skel) {
		err = -errno ?: -EIO;
		/* Pins that do not match this binary (EINVAL from the map
		 * reuse) are state, not bad input: a runtime failure. */
		if (err == -EINVAL)
			err = -EPROTO;
		sl_close(ctx);
		return err;
	}
	if (!layout) {
		/* New state (or state whose first load was cut short). */
		err = sl_meta_write(ctx, SL_LAYOUT_VERSION);
		if (err) {
			sl_close(ctx);
			return err;
		}
	}
	/* Set verbs work on the slot the running config uses. */
	err = sl_ctx_sync_slots(ctx);
	if (err) {
		sl_close(ctx);
		return err;
	}
	/* At rest the slots the running config does not name are empty: an
	 * apply (or bulk write) killed while it filled them leaves their maps
	 * behind. Free them; every writer holds the lock taken above, so no
	 * one is filling them now. */
	sl_sets_drop_slot(ctx, ctx->set_gen ^ 1, SL_SLOT_SETS);
	sl_sets_drop_slot(ctx, ctx->defs_gen ^ 1, SL_SLOT_DEFS);
	return 0;
none:
	/* Not an error for every caller (status prints "nothing"). */
	return -ENOENT;
}

/* flock(LOCK_SH) within wait_ms: tries without blocking, so a writer
 * waiting for the lock gets it between two tries (a reader never queues
 * in front of one). */
static int lock_shared(int fd, int wait_ms)
{
	for (int waited = 0;; waited += 10) {
		if (!flock(fd, LOCK_SH | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (waited >= wait_ms)
			return -EAGAIN;
		usleep(10000);
	}
}

int sl_open_reader(struct sl_ctx *ctx, const char *bpffs, int wait_ms)
{
	struct statfs st;
	__u32 layout = 0;
	int err = ctx_paths(ctx, bpffs);

	if (err)
		return err;
	/* Never mounts, creates, upgrades or frees anything. */
	if (statfs(ctx->bpffs, &st) || st.f_type != BPF_FS_MAGIC)
		return -ENOENT;
	ctx->lock_fd = open(ctx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->lock_fd < 0)
		return -errno;
	err = lock_shared(ctx->lock_fd, wait_ms);
	if (!err)
		err = sl_layout_read(ctx, &layout);
	/* Layout 0: state whose first load was cut short (no meta yet). */
	if (!err && layout != SL_LAYOUT_VERSION)
		err = layout ? -EPROTO : -ENOENT;
	if (!err) {
		ctx->skel = sl_xdp_load(ctx->dir, NULL, 0);
		if (!ctx->skel)
			err = -errno ?: -EIO;
	}
	if (!err)
		err = sl_ctx_sync_slots(ctx);
	if (err)
		sl_close(ctx);
	return err;
}

int sl_open_private(struct sl_ctx *ctx, const char *bpffs)
{
	struct sluice_xdp *skel = sl_xdp_load(NULL, NULL, 0);
	char dir[sizeof(ctx->dir)];

	if (!skel)
		return -errno ?: -EIO;
	if (!bpffs)
		bpffs = getenv("SLUICE_BPFFS");
	if (!bpffs || !*bpffs)
		bpffs = SL_DEFAULT_BPFFS;
	snprintf(dir, sizeof(dir), "%.255s/" SL_PIN_SUBDIR, bpffs);
	sl_ctx_wrap(ctx, skel);
	ctx->wrapped = false; /* sl_close() frees it */
	/* Paths for messages and interface checks: nothing is there. */
	snprintf(ctx->bpffs, sizeof(ctx->bpffs), "%s", bpffs);
	snprintf(ctx->dir, sizeof(ctx->dir), "%s", dir);
	return 0;
}

void sl_ctx_wrap(struct sl_ctx *ctx, struct sluice_xdp *skel)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->lock_fd = -1;
	ctx->skel = skel;
	ctx->wrapped = true;
}

void sl_close(struct sl_ctx *ctx)
{
	sl_close_skel(ctx);
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);
	ctx->lock_fd = -1;
}
