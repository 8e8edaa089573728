// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* ctx: the loader and the running state. Finds (or mounts) the bpffs, takes
 * the lock on <bpffs>/sluice, and loads the skeleton with its maps pinned by
 * name there, so every invocation shares one set of tables. */
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

void sl_features_default(struct sl_features *feat)
{
	memset(feat, 0, sizeof(*feat));
	feat->drop_malformed = 1;
}

/* libbpf reuses a pinned map only when its flags equal the definition's,
 * and the kernel reports a DEVMAP with BPF_F_RDONLY_PROG added (a flag
 * that cannot be given at creation): reuse such a pin by hand, after the
 * checks libbpf would make. */
static int reuse_devmap(struct bpf_map *map, const char *pin_dir)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[512];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* libbpf creates it */
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (!err && (info.type != bpf_map__type(map) ||
		     info.key_size != bpf_map__key_size(map) ||
		     info.value_size != bpf_map__value_size(map) ||
		     info.max_entries != bpf_map__max_entries(map)))
		err = -EINVAL;
	if (!err)
		err = bpf_map__reuse_fd(map, fd);
	if (!err)
		err = bpf_map__set_pin_path(map, NULL);
	close(fd);
	return err;
}

struct sluice_xdp *sl_xdp_load(const char *pin_dir,
			       const struct sl_features *feat, unsigned progs)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_dir);
	struct sluice_xdp *skel;
	struct bpf_map *map;
	int err;

	skel = sluice_xdp__open_opts(&oo);
	if (!skel) {
		pr_err("cannot open the XDP object: %s", strerror(errno));
		return NULL;
	}
	bpf_object__for_each_map (map, skel->obj) {
		if (!pin_dir)
			err = bpf_map__set_pin_path(map, NULL);
		else if (bpf_map__type(map) == BPF_MAP_TYPE_DEVMAP)
			err = reuse_devmap(map, pin_dir);
		else
			err = 0;
		if (err) {
			pr_err("cannot load the XDP object: the map pinned at "
			       "%s/%s does not match this version of Sluice "
			       "(%s)",
			       pin_dir, bpf_map__name(map), strerror(-err));
			sluice_xdp__destroy(skel);
			errno = -err;
			return NULL;
		}
	}
	if (feat)
		skel->rodata->sl_feat = *feat;
	/* Only the programs asked for are verified: each costs load time. */
	bpf_program__set_autoload(skel->progs.sluice_xdp, progs & SL_PROG_XDP);
	bpf_program__set_autoload(skel->progs.sluice_tc_in,
				  progs & SL_PROG_TC_IN);
	bpf_program__set_autoload(skel->progs.sluice_tc_out,
				  progs & SL_PROG_TC_OUT);
	sl_sets_capture(skel->obj);
	err = sluice_xdp__load(skel);
	if (err) {
		if (err == -EINVAL && pin_dir)
			pr_err("cannot load the XDP object: the maps pinned in "
			       "%s do not match this version of Sluice; run "
			       "'sluice reset' (drops all state)",
			       pin_dir);
		else
			pr_err(
			    "cannot load the XDP object: %s (run with -v for "
			    "the verifier log)",
			    strerror(-err));
		sluice_xdp__destroy(skel);
		errno = -err;
		return NULL;
	}
	err = sl_sets_prepare(skel);
	if (err) {
		sluice_xdp__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

void sl_xdp_destroy(struct sluice_xdp *skel)
{
	sluice_xdp__destroy(skel);
}

struct bpf_object *sl_xdp_object(struct sluice_xdp *skel)
{
	return skel->obj;
}

int sl_xdp_prog_fd(struct sluice_xdp *skel)
{
	return bpf_program__fd(skel->progs.sluice_xdp);
}

int sl_prog_fd(struct sluice_xdp *skel, unsigned prog)
{
	switch (prog) {
	case SL_PROG_XDP:
		return bpf_program__fd(skel->progs.sluice_xdp);
	case SL_PROG_TC_IN:
		return bpf_program__fd(skel->progs.sluice_tc_in);
	case SL_PROG_TC_OUT:
		return bpf_program__fd(skel->progs.sluice_tc_out);
	}
	return -EINVAL;
}

int sl_check_privileges(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "CapEff: %llx", &eff) == 1)
				break;
		fclose(f);
	}
	/* CAP_SYS_ADMIN (21), or CAP_BPF (39) with CAP_NET_ADMIN (12). */
	if ((eff & (1ULL << 21)) ||
	    ((eff & (1ULL << 39)) && (eff & (1ULL << 12))))
		return 0;
	pr_err("permission denied: Sluice needs root (CAP_BPF and "
	       "CAP_NET_ADMIN, or CAP_SYS_ADMIN); try sudo");
	return -EPERM;
}

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
	return 0;
}

int sl_open(struct sl_ctx *ctx, const char *bpffs, bool create)
{
	int err;

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

	err = ensure_bpffs(ctx->bpffs, create);
	if (err == -ENOENT)
		goto none;
	if (err)
		return err;
	if (create && mkdir(ctx->dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create %s: %s", ctx->dir, strerror(errno));
		return err;
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
	ctx->skel = sl_xdp_load(ctx->dir, NULL, 0);
	if (!ctx->skel) {
		err = -errno ?: -EIO;
		sl_close(ctx);
		return err;
	}
	/* Set verbs work on the slot the running config uses. */
	err = sl_ctx_sync_slots(ctx);
	if (err)
		sl_close(ctx);
	return err;
none:
	/* Not an error for every caller (status prints "nothing"). */
	return -ENOENT;
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
	for (int g = 0; g < SL_SET_GENS; g++)
		for (int i = 0; i < SL_N_SET_MAPS; i++) {
			if (ctx->set_fd[g][i] > 0)
				close(ctx->set_fd[g][i]);
			ctx->set_fd[g][i] = 0;
		}
	if (ctx->skel && !ctx->wrapped)
		sluice_xdp__destroy(ctx->skel);
	ctx->skel = NULL;
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);
	ctx->lock_fd = -1;
}

int sl_map_fd(struct sl_ctx *ctx, const char *name)
{
	struct bpf_map *map;

	/* A slotted map: the instance of the slot the ctx works on. */
	if (sl_set_slotted(name))
		return sl_set_inner_fd(ctx, name,
				       strcmp(name, SL_MAP_RULE_DEFS)
					   ? ctx->set_gen
					   : ctx->defs_gen);
	map = bpf_object__find_map_by_name(ctx->skel->obj, name);
	if (!map)
		return -ENOENT;
	return bpf_map__fd(map);
}
