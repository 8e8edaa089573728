// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* attach: programs on interfaces through pinned bpf_links.
 * Layout: <bpffs>/sluice/links/<ifname>/xdp-<mode> is the link of the XDP
 * program on <ifname>. A pinned link keeps the program attached after the
 * CLI exits; removing the pin detaches it. Every attached interface runs the
 * same program: an attach loads the current one and moves all links to it
 * with bpf_link_update, which swaps the program atomically. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

static const char *const mode_names[] = {"native", "generic"};

static int link_dir(struct sl_ctx *ctx, const char *ifname, char *buf,
		    size_t len)
{
	int n = snprintf(buf, len, "%s/links/%s", ctx->dir, ifname);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Finds the XDP link pin of ifname: returns its mode or -ENOENT. */
static int find_xdp_pin(struct sl_ctx *ctx, const char *ifname, char *path,
			size_t len)
{
	char dir[512];

	if (link_dir(ctx, ifname, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	for (int m = 0; m < 2; m++) {
		snprintf(path, len, "%s/xdp-%s", dir, mode_names[m]);
		if (!access(path, F_OK))
			return m;
	}
	return -ENOENT;
}

static int valid_ifname(const char *ifname)
{
	if (!*ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') ||
	    !strcmp(ifname, ".") || !strcmp(ifname, "..")) {
		pr_err("'%s' is not a valid interface name", ifname);
		return -EINVAL;
	}
	return 0;
}

/* Calls fn for every pinned XDP link: fn(path, ifname, mode, arg). */
static int for_each_xdp_pin(struct sl_ctx *ctx,
			    int (*fn)(const char *, const char *, int, void *),
			    void *arg)
{
	char links[400];
	struct dirent *de;
	DIR *d;
	int err = 0;

	snprintf(links, sizeof(links), "%s/links", ctx->dir);
	d = opendir(links);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (de = readdir(d))) {
		char path[800];
		int m;

		if (de->d_name[0] == '.')
			continue;
		m = find_xdp_pin(ctx, de->d_name, path, sizeof(path));
		if (m >= 0)
			err = fn(path, de->d_name, m, arg);
	}
	closedir(d);
	return err;
}

static int update_link(const char *path, const char *ifname, int mode,
		       void *arg)
{
	int prog_fd = *(int *)arg, fd;

	(void)mode;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		pr_warn("%s: cannot open link pin %s: %s", ifname, path,
			strerror(errno));
		return 0;
	}
	if (bpf_link_update(fd, prog_fd, NULL))
		pr_warn("%s: cannot move to the new program: %s", ifname,
			strerror(errno));
	close(fd);
	return 0;
}

/* True when the pinned link is no longer attached to ifindex. */
static bool stale_link(const char *path, int ifindex)
{
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	bool stale = false;
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, &li, &len))
		stale = (int)li.xdp.ifindex != ifindex;
	close(fd);
	return stale;
}

int sl_attach_xdp(struct sl_ctx *ctx, const char *ifname, enum sl_xdp_mode mode,
		  const struct sl_features *feat)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct sluice_xdp *skel = NULL;
	char dir[512], path[600];
	int ifindex, cur, prog_fd, fd = -1, err;

	err = valid_ifname(ifname);
	if (err)
		return err;
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		pr_err("no interface named '%s' in this network namespace",
		       ifname);
		return -EINVAL;
	}
	cur = find_xdp_pin(ctx, ifname, path, sizeof(path));
	if (cur >= 0 && stale_link(path, ifindex)) {
		/* The interface was deleted and made again: the old link is
		 * attached to nothing. Drop it and attach afresh. */
		pr_debug("%s: removing stale link pin %s", ifname, path);
		unlink(path);
		cur = -ENOENT;
	}
	if (cur >= 0 && cur != (int)mode) {
		pr_err("%s is already attached in %s mode; run 'sluice detach "
		       "%s' first",
		       ifname, mode_names[cur], ifname);
		return -EINVAL;
	}
	if (cur < 0 && !bpf_xdp_query(ifindex, 0, &q) && q.prog_id) {
		pr_err("%s already has an XDP program (id %u) that this Sluice "
		       "state (%s) does not manage; remove it first",
		       ifname, q.prog_id, ctx->dir);
		return -EBUSY;
	}

	skel = sl_xdp_load(ctx->dir, feat, true);
	if (!skel)
		return -errno ?: -EIO;
	prog_fd = sl_xdp_prog_fd(skel);

	if (cur >= 0) {
		/* Same interface, same mode: swap the program in place. */
		fd = bpf_obj_get(path);
		if (fd < 0 || bpf_link_update(fd, prog_fd, NULL)) {
			err = -errno;
			pr_err("%s: cannot replace the program: %s", ifname,
			       strerror(errno));
			goto out;
		}
	} else {
		LIBBPF_OPTS(bpf_link_create_opts, lo,
			    .flags = mode == SL_MODE_NATIVE
					 ? XDP_FLAGS_DRV_MODE
					 : XDP_FLAGS_SKB_MODE);

		fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
		if (fd < 0) {
			err = -errno;
			if (mode == SL_MODE_NATIVE &&
			    (errno == EOPNOTSUPP || errno == EINVAL))
				pr_err(
				    "%s does not support native XDP (%s); use "
				    "--mode generic",
				    ifname, strerror(errno));
			else
				pr_err("%s: cannot attach XDP in %s mode: %s",
				       ifname, mode_names[mode],
				       strerror(errno));
			goto out;
		}
		snprintf(dir, sizeof(dir), "%s/links", ctx->dir);
		if (mkdir(dir, 0700) && errno != EEXIST)
			goto pin_fail;
		if (link_dir(ctx, ifname, dir, sizeof(dir)) ||
		    (mkdir(dir, 0700) && errno != EEXIST))
			goto pin_fail;
		snprintf(path, sizeof(path), "%s/xdp-%s", dir,
			 mode_names[mode]);
		if (bpf_obj_pin(fd, path)) {
			rmdir(dir);
			goto pin_fail;
		}
	}
	/* Every other interface moves to the same program. */
	for_each_xdp_pin(ctx, update_link, &prog_fd);
	err = 0;
	goto out;
pin_fail:
	/* Closing the unpinned link below detaches the program again. */
	err = -errno;
	pr_err("%s: cannot pin the link under %s: %s (nothing attached)",
	       ifname, ctx->dir, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	sl_xdp_destroy(skel);
	return err;
}

int sl_detach(struct sl_ctx *ctx, const char *ifname)
{
	char path[600], dir[512];
	int err = valid_ifname(ifname);

	if (err)
		return err;
	if (find_xdp_pin(ctx, ifname, path, sizeof(path)) < 0) {
		pr_err("%s is not attached (see 'sluice status')", ifname);
		return -EINVAL;
	}
	if (unlink(path)) {
		err = -errno;
		pr_err("%s: cannot remove %s: %s", ifname, path,
		       strerror(errno));
		return err;
	}
	link_dir(ctx, ifname, dir, sizeof(dir));
	rmdir(dir);
	return 0;
}

/* Reads the feature switches from the .rodata map of a loaded program. */
static bool read_features(__u32 prog_id, struct sl_features *feat)
{
	struct bpf_prog_info info = {};
	__u32 ids[16], len = sizeof(info);
	bool found = false;
	int pfd;

	pfd = bpf_prog_get_fd_by_id(prog_id);
	if (pfd < 0)
		return false;
	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(pfd, &info, &len))
		goto out;
	for (__u32 i = 0; i < info.nr_map_ids && i < 16 && !found; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi), zero = 0;
		struct sluice_xdp__rodata ro;
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mlen) &&
		    strstr(mi.name, ".rodata") && mi.value_size == sizeof(ro) &&
		    !bpf_map_lookup_elem(mfd, &zero, &ro)) {
			*feat = ro.sl_feat;
			found = true;
		}
		close(mfd);
	}
out:
	close(pfd);
	return found;
}

struct collect {
	struct sl_attachment *v;
	size_t n;
};

static int collect_one(const char *path, const char *ifname, int mode,
		       void *arg)
{
	struct collect *c = arg;
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	struct sl_attachment *a, *nv;
	int fd;

	nv = realloc(c->v, (c->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->v = nv;
	a = &c->v[c->n++];
	memset(a, 0, sizeof(*a));
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	snprintf(a->hook, sizeof(a->hook), "xdp");
	snprintf(a->mode, sizeof(a->mode), "%s", mode_names[mode]);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &li, &len)) {
		a->prog_id = li.prog_id;
		a->link_id = li.id;
		a->ifindex = li.xdp.ifindex;
		a->feat_known = read_features(li.prog_id, &a->feat);
	}
	close(fd);
	return 0;
}

int sl_attachments(struct sl_ctx *ctx, struct sl_attachment **out, size_t *n)
{
	struct collect c = {};
	int err = for_each_xdp_pin(ctx, collect_one, &c);

	if (err) {
		free(c.v);
		return err;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	if (ftw->level == 0)
		return 0; /* the directory itself goes last */
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT) {
		pr_err("cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int sl_reset(const char *bpffs)
{
	char dir[300];
	int fd, err = 0;

	if (!bpffs)
		bpffs = getenv("SLUICE_BPFFS");
	if (!bpffs || !*bpffs)
		bpffs = SL_DEFAULT_BPFFS;
	snprintf(dir, sizeof(dir), "%s/" SL_PIN_SUBDIR, bpffs);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	flock(fd, LOCK_EX);
	/* Depth first: every pin (a link pin detaches its program), then the
	 * folders. */
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
		err = -EIO;
	else if (rmdir(dir) && errno != ENOENT)
		err = -errno;
	close(fd);
	return err;
}
