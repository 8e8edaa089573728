// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* attach: programs on interfaces, XDP through pinned bpf_links, TC through
 * cls_bpf filters on a clsact qdisc.
 * Layout under <bpffs>/sluice/links/<ifname>/:
 *   xdp-<mode>  the link of the XDP program. A pinned link keeps the program
 *               attached after the CLI exits; removing the pin detaches it.
 *   tc-in       the program of the TC ingress filter, tc-out the egress
 *               one (handle SL_TC_HANDLE, priority SL_TC_PRIO). The pin only
 *               records the filter; detach removes the filter itself.
 * Every attached interface runs the same programs: an attach loads the
 * current ones and moves every link (bpf_link_update) and every filter
 * (replace in place) to them; both swaps are atomic. */
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/btf.h>
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

/* ---- TC: cls_bpf filters at SL_TC_HANDLE/SL_TC_PRIO on clsact ----
 * A filter is no bpf_link: the program attached is pinned as
 * links/<ifname>/tc-in or tc-out, which records the attachment. The pin does
 * not hold the filter: removing it leaves the filter, so detach and reset
 * remove the filter first. A pin whose program is not the one the filter
 * runs (interface gone or re-created, filter removed by hand) is stale. */

static const char *const tc_names[2] = {"tc-in", "tc-out"};

static void tc_hook(struct bpf_tc_hook *h, int ifindex, int egress)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

/* The program id of Sluice's filter: 0 when there is none. */
static __u32 tc_query(int ifindex, int egress)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = SL_TC_HANDLE,
		    .priority = SL_TC_PRIO);
	struct bpf_tc_hook h;

	if (!ifindex)
		return 0;
	tc_hook(&h, ifindex, egress);
	return bpf_tc_query(&h, &o) ? 0 : o.prog_id;
}

/* Attaches prog_fd as Sluice's filter, replacing the program of an existing
 * one atomically. */
static int tc_put(int ifindex, int egress, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = SL_TC_HANDLE,
		    .priority = SL_TC_PRIO, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	struct bpf_tc_hook h;

	tc_hook(&h, ifindex, egress);
	return bpf_tc_attach(&h, &o);
}

static int tc_del(int ifindex, int egress)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = SL_TC_HANDLE,
		    .priority = SL_TC_PRIO);
	struct bpf_tc_hook h;

	tc_hook(&h, ifindex, egress);
	return bpf_tc_detach(&h, &o);
}

/* The id of the object pinned at path; 0 when there is none. */
static __u32 pinned_id(const char *path, bool is_link)
{
	struct bpf_link_info li = {};
	struct bpf_prog_info pi = {};
	__u32 len, id = 0;
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return 0;
	if (is_link) {
		len = sizeof(li);
		if (!bpf_obj_get_info_by_fd(fd, &li, &len))
			id = li.prog_id;
	} else {
		len = sizeof(pi);
		if (!bpf_obj_get_info_by_fd(fd, &pi, &len))
			id = pi.id;
	}
	close(fd);
	return id;
}

/* Pins fd at path, replacing what is there in one rename (bpffs names
 * cannot hold a dot, hence the suffix). */
static int pin_replace(int fd, const char *path)
{
	char tmp[700];

	snprintf(tmp, sizeof(tmp), "%s-new", path);
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp))
		return -errno;
	if (rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

/* Removes the TC attachment recorded by the pin at path: the filter when it
 * still runs the pinned program, then the pin. */
static void tc_remove(const char *path, const char *ifname, int egress)
{
	__u32 id = pinned_id(path, false);
	int ifindex = if_nametoindex(ifname);

	if (id && ifindex && tc_query(ifindex, egress) == id &&
	    tc_del(ifindex, egress))
		pr_warn("%s: cannot remove the %s filter: %s", ifname,
			tc_names[egress], strerror(errno));
	if (unlink(path) && errno != ENOENT)
		pr_warn("%s: cannot remove %s: %s", ifname, path,
			strerror(errno));
}

/* Calls fn(ctx, ifname, arg) for every interface folder under links/. */
static int for_each_iface(struct sl_ctx *ctx,
			  int (*fn)(struct sl_ctx *, const char *, void *),
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
	while (!err && (de = readdir(d)))
		if (de->d_name[0] != '.')
			err = fn(ctx, de->d_name, arg);
	closedir(d);
	return err;
}

static int tc_pin(struct sl_ctx *ctx, const char *ifname, int egress,
		  char *path, size_t len)
{
	char dir[512];

	if (link_dir(ctx, ifname, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	snprintf(path, len, "%s/%s", dir, tc_names[egress]);
	return 0;
}

/* The programs the attachments of ifname run (SL_PROG_* bits). */
static int progs_in_use(struct sl_ctx *ctx, const char *ifname, void *arg)
{
	unsigned *progs = arg;
	char path[600];

	if (find_xdp_pin(ctx, ifname, path, sizeof(path)) >= 0)
		*progs |= SL_PROG_XDP;
	for (int e = 0; e < 2; e++)
		if (!tc_pin(ctx, ifname, e, path, sizeof(path)) &&
		    !access(path, F_OK))
			*progs |= e ? SL_PROG_TC_OUT : SL_PROG_TC_IN;
	return 0;
}

/* Removes the XDP link pinned at path. The link is detached first, so the
 * kernel takes the program off the interface now: the reference the unlink
 * drops is released later, from a work queue, and until then the interface
 * would still carry the program (an attach in the other mode right after
 * would find it there). */
static int xdp_unpin(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd >= 0) {
		if (bpf_link_detach(fd))
			pr_debug("%s: link detach: %s", path, strerror(errno));
		close(fd);
	}
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

/* An attachment that a move switched to the new programs, with the program
 * it ran before (to put back if a later step fails). */
struct moved {
	char ifname[IFNAMSIZ];
	int hook; /* 0: tc-in, 1: tc-out, 2: xdp */
	int old_fd;
	bool repinned; /* tc: the pin records the new program */
};

struct moves {
	struct sluice_xdp *skel;
	const char *skip; /* the interface the attach itself set up */
	struct moved *v;
	size_t n;
};

#define MOVED_XDP 2

static int moved_add(struct moves *m, const char *ifname, int hook, int old_fd)
{
	struct moved *nv = realloc(m->v, (m->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	m->v = nv;
	snprintf(nv[m->n].ifname, sizeof(nv[m->n].ifname), "%s", ifname);
	nv[m->n].hook = hook;
	nv[m->n].old_fd = old_fd;
	nv[m->n].repinned = false;
	m->n++;
	return 0;
}

/* Puts every moved attachment back on the program it ran before. */
static void moves_undo(struct sl_ctx *ctx, struct moves *m)
{
	for (size_t i = m->n; i-- > 0;) {
		struct moved *v = &m->v[i];
		char path[600];
		int fd;

		if (v->hook == MOVED_XDP) {
			fd = find_xdp_pin(ctx, v->ifname, path, sizeof(path)) >=
				     0
				 ? bpf_obj_get(path)
				 : -1;
			if (fd < 0 || bpf_link_update(fd, v->old_fd, NULL))
				pr_warn(
				    "%s: cannot put the previous XDP program "
				    "back: %s",
				    v->ifname, strerror(errno));
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (tc_pin(ctx, v->ifname, v->hook, path, sizeof(path)) ||
		    tc_put(if_nametoindex(v->ifname), v->hook, v->old_fd) ||
		    (v->repinned && pin_replace(v->old_fd, path)))
			pr_warn("%s: cannot put the previous %s program back",
				v->ifname, tc_names[v->hook]);
	}
}

static void moves_free(struct moves *m)
{
	for (size_t i = 0; i < m->n; i++)
		close(m->v[i].old_fd);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* Moves the XDP link of ifname (pinned at path) to the new program. A link
 * whose interface is gone is attached to nothing and stays as it is. */
static int move_xdp(struct moves *m, const char *ifname, int ifindex,
		    const char *path)
{
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	int fd, old = -1, prog_fd = sl_prog_fd(m->skel, SL_PROG_XDP), err;

	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &li, &len)) {
		err = -errno;
		pr_err("%s: cannot move XDP to the new program: cannot read "
		       "%s: %s",
		       ifname, path, strerror(errno));
		goto out;
	}
	if (!ifindex || (int)li.xdp.ifindex != ifindex) {
		pr_debug("%s: the XDP link is attached to nothing (interface "
			 "gone), not moved",
			 ifname);
		err = 0;
		goto out;
	}
	old = bpf_prog_get_fd_by_id(li.prog_id);
	if (old < 0 || prog_fd < 0 || bpf_link_update(fd, prog_fd, NULL)) {
		err = prog_fd < 0 ? prog_fd : -errno;
		pr_err("%s: cannot move XDP to the new program: %s", ifname,
		       strerror(-err));
		goto out;
	}
	err = moved_add(m, ifname, MOVED_XDP, old);
	if (err)
		bpf_link_update(fd, old, NULL);
	else
		old = -1; /* owned by m now */
out:
	if (old >= 0)
		close(old);
	if (fd >= 0)
		close(fd);
	return err;
}

/* Moves every attachment of ifname to the programs of m->skel; on failure
 * returns a negative errno (what was moved is in m, for moves_undo). */
static int move_iface(struct sl_ctx *ctx, const char *ifname, void *arg)
{
	struct moves *m = arg;
	char path[600];
	int prog_fd, ifindex, old, err;

	if (m->skip && !strcmp(ifname, m->skip))
		return 0;
	ifindex = if_nametoindex(ifname);
	if (find_xdp_pin(ctx, ifname, path, sizeof(path)) >= 0) {
		err = move_xdp(m, ifname, ifindex, path);
		if (err)
			return err;
	}
	for (int e = 0; e < 2; e++) {
		__u32 id;

		if (tc_pin(ctx, ifname, e, path, sizeof(path)))
			continue;
		id = pinned_id(path, false);
		if (!id)
			continue;
		if (tc_query(ifindex, e) != id) {
			pr_debug("%s: %s pin is stale, not moved", ifname,
				 tc_names[e]);
			continue;
		}
		prog_fd =
		    sl_prog_fd(m->skel, e ? SL_PROG_TC_OUT : SL_PROG_TC_IN);
		old = bpf_obj_get(path);
		if (old < 0 || prog_fd < 0) {
			err = old < 0 ? -errno : prog_fd;
			if (old >= 0)
				close(old);
			pr_err("%s: cannot move %s to the new program: %s",
			       ifname, tc_names[e], strerror(-err));
			return err;
		}
		err = tc_put(ifindex, e, prog_fd);
		if (err) {
			close(old);
			pr_err("%s: cannot move %s to the new program: %s",
			       ifname, tc_names[e], strerror(-err));
			return err;
		}
		err = moved_add(m, ifname, e, old);
		if (err) {
			tc_put(ifindex, e, old);
			close(old);
			return err;
		}
		err = pin_replace(prog_fd, path);
		if (err) {
			pr_err("%s: cannot move %s to the new program: cannot "
			       "pin it at %s: %s",
			       ifname, tc_names[e], path, strerror(-err));
			return err;
		}
		m->v[m->n - 1].repinned = true;
	}
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

int sl_hooks_parse(const char *s, unsigned *hooks)
{
	char buf[64], *tok, *save = NULL;

	*hooks = 0;
	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "xdp"))
			*hooks |= SL_HOOK_XDP;
		else if (!strcmp(tok, "tc"))
			*hooks |= SL_HOOK_TC;
		else
			return -EINVAL;
	}
	return *hooks ? 0 : -EINVAL;
}

static int mkdirs_links(struct sl_ctx *ctx, const char *ifname)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/links", ctx->dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (link_dir(ctx, ifname, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* A new XDP link of prog_fd on ifindex in `mode`, pinned at path: its fd,
 * or a negative errno (and nothing attached). */
static int xdp_link_new(int prog_fd, int ifindex, int mode, const char *path)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo,
		    .flags = mode == SL_MODE_NATIVE ? XDP_FLAGS_DRV_MODE
						    : XDP_FLAGS_SKB_MODE);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo), err;

	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		close(fd); /* the last reference: detaches now */
		return err;
	}
	return fd;
}

static void xdp_attach_error(const char *ifname, int mode, int err)
{
	if (mode == SL_MODE_NATIVE && (err == -EOPNOTSUPP || err == -EINVAL))
		pr_err("%s does not support native XDP (%s); use --mode "
		       "generic",
		       ifname, strerror(-err));
	else
		pr_err("%s: cannot attach XDP in %s mode: %s", ifname,
		       mode_names[mode], strerror(-err));
}

/* Switches ifname's XDP from the link pinned at from (mode from_mode) to a
 * new link of prog in to_mode, pinned at to; returns its fd. The kernel
 * runs one XDP mode at a time ("Native and generic XDP can't be active at
 * the same time"), so while no XDP program runs, Sluice's TC ingress filter
 * (tc_in, pinned at tcpath) classifies the ingress instead: filter in, old
 * link detached, new link attached, filter out. A packet that arrives in
 * between meets the filter (and may be counted by both). If the new mode
 * cannot be attached, back_prog goes back on in from_mode and the filter
 * is removed; if even that fails, the filter stays (pinned, so status shows
 * hook tc-in) and ingress stays filtered. */
static int xdp_switch_mode(const char *ifname, int ifindex, const char *from,
			   int from_mode, int back_prog, const char *to,
			   int to_mode, int prog, int tc_in, const char *tcpath)
{
	struct bpf_tc_hook h;
	int fd, back, err;

	tc_hook(&h, ifindex, 0);
	err = bpf_tc_hook_create(&h);
	if (err == -EEXIST)
		err = 0;
	if (!err)
		err = tc_put(ifindex, 0, tc_in);
	if (!err && (err = pin_replace(tc_in, tcpath)))
		tc_del(ifindex, 0);
	if (err) {
		pr_err("%s: cannot put the TC ingress filter that filters "
		       "during the mode change: %s (nothing changed)",
		       ifname, strerror(-err));
		return err;
	}
	err = xdp_unpin(from);
	if (err) {
		pr_err("%s: cannot remove %s: %s", ifname, from,
		       strerror(-err));
		tc_remove(tcpath, ifname, 0);
		return err;
	}
	fd = xdp_link_new(prog, ifindex, to_mode, to);
	if (fd < 0) {
		xdp_attach_error(ifname, to_mode, fd);
		back = xdp_link_new(back_prog, ifindex, from_mode, from);
		if (back < 0) {
			pr_err("%s: cannot attach XDP in %s mode again (%s); "
			       "Sluice's TC ingress filter stays in its place",
			       ifname, mode_names[from_mode], strerror(-back));
			return fd;
		}
		close(back); /* pinned: stays attached */
		tc_remove(tcpath, ifname, 0);
		return fd;
	}
	tc_remove(tcpath, ifname, 0);
	return fd;
}

/* Checks the hook set and the interface name of an attach; the TC hooks it
 * wants (ingress is classified once: by XDP when it is attached, else by
 * TC ingress) and the interface's index. */
static int attach_target(const char *ifname, unsigned hooks, bool want_tc[2],
			 int *ifindex)
{
	int err;

	if (!hooks || (hooks & ~(SL_HOOK_XDP | SL_HOOK_TC))) {
		pr_err("hooks are 'xdp', 'tc' or both");
		return -EINVAL;
	}
	want_tc[0] = (hooks & SL_HOOK_TC) && !(hooks & SL_HOOK_XDP);
	want_tc[1] = hooks & SL_HOOK_TC;
	err = valid_ifname(ifname);
	if (err)
		return err;
	*ifindex = if_nametoindex(ifname);
	if (!*ifindex) {
		pr_err("no interface named '%s' in this network namespace",
		       ifname);
		return -EINVAL;
	}
	return 0;
}

int sl_attach_check(struct sl_ctx *ctx, const char *ifname,
		    enum sl_xdp_mode mode, unsigned hooks)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	bool want_xdp = hooks & SL_HOOK_XDP, want_tc[2], switching;
	char dir[512], path[600];
	int ifindex, cur, err;

	err = attach_target(ifname, hooks, want_tc, &ifindex);
	if (err)
		return err;
	if (link_dir(ctx, ifname, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	/* Stale pins (interface made again, filter removed) count as none. */
	cur = find_xdp_pin(ctx, ifname, path, sizeof(path));
	if (cur >= 0 && stale_link(path, ifindex))
		cur = -ENOENT;
	switching = want_xdp && cur >= 0 && cur != (int)mode;
	if (want_xdp && cur < 0 && !bpf_xdp_query(ifindex, 0, &q) &&
	    q.attach_mode != XDP_ATTACHED_NONE) {
		__u32 id = q.prog_id	   ? q.prog_id
			   : q.drv_prog_id ? q.drv_prog_id
			   : q.skb_prog_id ? q.skb_prog_id
					   : q.hw_prog_id;

		pr_err("%s already has an XDP program (id %u) that this Sluice "
		       "state (%s) does not manage; remove it first",
		       ifname, id, ctx->dir);
		return -EBUSY;
	}
	for (int e = 0; e < 2; e++) {
		__u32 running = tc_query(ifindex, e), have;

		snprintf(path, sizeof(path), "%s/%s", dir, tc_names[e]);
		have = pinned_id(path, false);
		if (have != running)
			have = 0;
		/* (A mode change puts a TC ingress filter in for a moment.) */
		if ((want_tc[e] || (!e && switching)) && !have && running) {
			pr_err("%s already has a TC %s filter at handle %#x "
			       "priority %u (program id %u) that this Sluice "
			       "state (%s) does not manage; remove it first",
			       ifname, e ? "egress" : "ingress", SL_TC_HANDLE,
			       SL_TC_PRIO, running, ctx->dir);
			return -EBUSY;
		}
	}
	return 0;
}

/* Claims the interface's per-interface counter slot (ifstats.c); a slot
 * another attached interface holds is left to it, with a warning. */
static void claim_counters(struct sl_ctx *ctx, const char *ifname, int ifindex)
{
	struct sl_attachment *a = NULL;
	int *live = NULL, err;
	size_t n = 0, k = 0;

	if (!sl_attachments(ctx, &a, &n))
		live = calloc(n ? n : 1, sizeof(*live));
	for (size_t i = 0; live && i < n; i++)
		if (a[i].ifindex && a[i].ifindex != ifindex)
			live[k++] = a[i].ifindex;
	err = sl_iface_claim(ctx, ifindex, live, k);
	if (err == -EBUSY)
		pr_warn("%s: its per-interface counter slot is another "
			"attached interface's (ifindex %% %d); its packets "
			"count in the totals only",
			ifname, SL_IFACE_SLOTS);
	else if (err)
		pr_warn("%s: cannot set up its per-interface counters: %s",
			ifname, strerror(-err));
	free(live);
	free(a);
}

int sl_attach(struct sl_ctx *ctx, const char *ifname, enum sl_xdp_mode mode,
	      unsigned hooks, const struct sl_features *feat)
{
	struct sluice_xdp *skel = NULL;
	struct moves mv = {};
	char dir[512], xpath[600], tpath[2][600], oldx[600] = "";
	bool want_xdp = hooks & SL_HOOK_XDP, want_tc[2], done_tc[2] = {};
	bool xdp_created = false, xdp_updated = false, xdp_switched = false;
	int old_tc[2] = {-1, -1}, old_xdp = -1, old_mode = -1;
	int ifindex, cur, prog_fd, fd = -1, err;
	struct sl_features f;
	struct sl_blob_hdr bh;
	__u32 have_tc[2];
	unsigned progs = 0;

	err = attach_target(ifname, hooks, want_tc, &ifindex);
	if (err)
		return err;
	if (link_dir(ctx, ifname, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	cur = find_xdp_pin(ctx, ifname, xpath, sizeof(xpath));
	if (cur >= 0 && stale_link(xpath, ifindex)) {
		/* The interface was deleted and made again: the old link is
		 * attached to nothing. Drop it and attach afresh. */
		pr_debug("%s: removing stale link pin %s", ifname, xpath);
		unlink(xpath);
		cur = -ENOENT;
	}
	if (want_xdp && cur >= 0 && cur != (int)mode) {
		/* A mode change (see xdp_switch_mode). */
		snprintf(oldx, sizeof(oldx), "%s", xpath);
		old_mode = cur;
		cur = -ENOENT;
	}
	for (int e = 0; e < 2; e++) {
		snprintf(tpath[e], sizeof(tpath[e]), "%s/%s", dir, tc_names[e]);
		have_tc[e] = pinned_id(tpath[e], false);
		if (have_tc[e] && tc_query(ifindex, e) != have_tc[e]) {
			pr_debug("%s: removing stale pin %s", ifname, tpath[e]);
			unlink(tpath[e]);
			have_tc[e] = 0;
		}
	}
	err = sl_attach_check(ctx, ifname, mode, hooks);
	if (err)
		return err;

	/* The programs this attach needs and those every other attachment
	 * runs: all move to the new load. */
	for_each_iface(ctx, progs_in_use, &progs);
	progs |= (want_xdp ? SL_PROG_XDP : 0) |
		 (want_tc[0] || *oldx ? SL_PROG_TC_IN : 0) |
		 (want_tc[1] ? SL_PROG_TC_OUT : 0);
	/* Conntrack is the running config's (the blob's), not the caller's:
	 * every attachment runs one set of programs. */
	if (feat)
		f = *feat;
	else
		sl_features_default(&f);
	f.conntrack =
	    !sl_blob_hdr_read(ctx, &bh) && (bh.ct_flags & SL_BLOB_CT_ENABLED);
	f.events = sl_ev_running(ctx);
	f.lb = sl_lb_running(ctx);
	skel = sl_xdp_load(ctx->dir, &f, progs);
	if (!skel)
		return -errno ?: -EIO;

	err = mkdirs_links(ctx, ifname);
	if (err) {
		pr_err("%s: cannot create %s: %s (nothing attached)", ifname,
		       dir, strerror(-err));
		goto out;
	}

	/* 1. XDP. */
	prog_fd = sl_prog_fd(skel, SL_PROG_XDP);
	if (want_xdp && cur >= 0) {
		/* Same interface, same mode: swap the program in place. */
		__u32 old_id = pinned_id(xpath, true);

		fd = bpf_obj_get(xpath);
		old_xdp = old_id ? bpf_prog_get_fd_by_id(old_id) : -1;
		if (fd < 0 || bpf_link_update(fd, prog_fd, NULL)) {
			err = -errno;
			pr_err("%s: cannot replace the program: %s", ifname,
			       strerror(errno));
			goto rollback;
		}
		xdp_updated = true;
	} else if (want_xdp && *oldx) {
		/* The other mode: switch under cover of TC ingress. */
		old_xdp = bpf_prog_get_fd_by_id(pinned_id(oldx, true));
		if (old_xdp < 0) {
			err = -errno;
			pr_err("%s: cannot read the program of %s: %s", ifname,
			       oldx, strerror(errno));
			goto rollback;
		}
		snprintf(xpath, sizeof(xpath), "%s/xdp-%s", dir,
			 mode_names[mode]);
		fd = xdp_switch_mode(ifname, ifindex, oldx, old_mode, old_xdp,
				     xpath, mode, prog_fd,
				     sl_prog_fd(skel, SL_PROG_TC_IN), tpath[0]);
		if (fd < 0) {
			err = fd;
			fd = -1;
			goto rollback;
		}
		xdp_switched = true;
	} else if (want_xdp) {
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
			goto rollback;
		}
		snprintf(xpath, sizeof(xpath), "%s/xdp-%s", dir,
			 mode_names[mode]);
		if (bpf_obj_pin(fd, xpath)) {
			err = -errno;
			pr_err("%s: cannot pin the link under %s: %s "
			       "(nothing attached)",
			       ifname, ctx->dir, strerror(errno));
			goto rollback;
		}
		xdp_created = true;
	}

	/* 2. TC: the clsact qdisc (kept when it exists), then the filters,
	 * each replaced in place when it exists. */
	if (want_tc[0] || want_tc[1]) {
		struct bpf_tc_hook h;

		tc_hook(&h, ifindex, 0);
		h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		err = bpf_tc_hook_create(&h);
		if (err && err != -EEXIST) {
			pr_err("%s: cannot create the clsact qdisc: %s", ifname,
			       strerror(-err));
			goto rollback;
		}
	}
	for (int e = 0; e < 2; e++) {
		if (!want_tc[e])
			continue;
		prog_fd = sl_prog_fd(skel, e ? SL_PROG_TC_OUT : SL_PROG_TC_IN);
		if (have_tc[e])
			old_tc[e] = bpf_obj_get(tpath[e]);
		err = tc_put(ifindex, e, prog_fd);
		if (err) {
			pr_err("%s: cannot attach the TC %s filter: %s", ifname,
			       e ? "egress" : "ingress", strerror(-err));
			goto rollback;
		}
		done_tc[e] = true;
		err = pin_replace(prog_fd, tpath[e]);
		if (err) {
			pr_err("%s: cannot pin %s: %s", ifname, tpath[e],
			       strerror(-err));
			goto rollback;
		}
	}

	/* 3. Every other interface moves to the same programs. A move that
	 * fails puts everything back: the other interfaces on their old
	 * programs, this one as it was. */
	mv.skel = skel;
	mv.skip = ifname;
	err = for_each_iface(ctx, move_iface, &mv);
	if (err)
		goto rollback;

	/* 4. Everything new is in place: remove what the hook set drops. */
	if (!want_xdp && cur >= 0 && (err = xdp_unpin(xpath)))
		pr_warn("%s: cannot remove %s: %s", ifname, xpath,
			strerror(-err));
	for (int e = 0; e < 2; e++)
		if (!want_tc[e] && have_tc[e])
			tc_remove(tpath[e], ifname, e);
	claim_counters(ctx, ifname, ifindex);
	err = 0;
	goto out;

rollback:
	moves_undo(ctx, &mv);
	/* Back to what was attached before (closing an unpinned new link
	 * below detaches it). */
	for (int e = 0; e < 2; e++) {
		if (!done_tc[e])
			continue;
		if (old_tc[e] >= 0) {
			tc_put(ifindex, e, old_tc[e]);
			pin_replace(old_tc[e], tpath[e]);
		} else {
			tc_del(ifindex, e);
			unlink(tpath[e]);
		}
	}
	if (xdp_created) {
		bpf_link_detach(fd);
		unlink(xpath);
	}
	if (xdp_switched) {
		int back = xdp_switch_mode(
		    ifname, ifindex, xpath, mode, sl_prog_fd(skel, SL_PROG_XDP),
		    oldx, old_mode, old_xdp, sl_prog_fd(skel, SL_PROG_TC_IN),
		    tpath[0]);

		if (back >= 0)
			close(back); /* pinned: stays attached */
	}
	if (xdp_updated && old_xdp >= 0)
		bpf_link_update(fd, old_xdp, NULL);
	rmdir(dir); /* only when nothing else is pinned there */
out:
	moves_free(&mv);
	for (int e = 0; e < 2; e++)
		if (old_tc[e] >= 0)
			close(old_tc[e]);
	if (old_xdp >= 0)
		close(old_xdp);
	if (fd >= 0)
		close(fd);
	sl_xdp_destroy(skel);
	return err;
}

int sl_attach_xdp(struct sl_ctx *ctx, const char *ifname, enum sl_xdp_mode mode,
		  const struct sl_features *feat)
{
	return sl_attach(ctx, ifname, mode, SL_HOOK_XDP, feat);
}

int sl_detach(struct sl_ctx *ctx, const char *ifname)
{
	char path[600], dir[512];
	bool found = false;
	int err = valid_ifname(ifname);

	if (err)
		return err;
	if (find_xdp_pin(ctx, ifname, path, sizeof(path)) >= 0) {
		found = true;
		err = xdp_unpin(path);
		if (err) {
			pr_err("%s: cannot remove %s: %s", ifname, path,
			       strerror(-err));
			return err;
		}
	}
	for (int e = 0; e < 2; e++) {
		if (tc_pin(ctx, ifname, e, path, sizeof(path)) ||
		    access(path, F_OK))
			continue;
		found = true;
		tc_remove(path, ifname, e);
	}
	if (!found) {
		pr_err("%s is not attached (see 'sluice status')", ifname);
		return -EINVAL;
	}
	link_dir(ctx, ifname, dir, sizeof(dir));
	rmdir(dir);
	return 0;
}

/* The bytes of variable `var` in the datasec map value `val` (a loaded
 * program's .rodata), found through the map's BTF: any release's programs
 * can be read, whatever else its .rodata holds. */
static bool rodata_var(const struct bpf_map_info *mi, const void *val,
		       const char *var, void *out, size_t len)
{
	const struct btf_var_secinfo *vs;
	const struct btf_type *t;
	bool found = false;
	struct btf *btf;

	if (!mi->btf_id || !mi->btf_value_type_id)
		return false;
	btf = btf__load_from_kernel_by_id(mi->btf_id);
	if (!btf)
		return false;
	t = btf__type_by_id(btf, mi->btf_value_type_id);
	if (!t || !btf_is_datasec(t))
		goto out;
	vs = btf_var_secinfos(t);
	for (__u16 i = 0; i < btf_vlen(t) && !found; i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);
		const char *name =
		    v ? btf__name_by_offset(btf, v->name_off) : NULL;

		if (!name || strcmp(name, var) ||
		    vs->offset + vs->size > mi->value_size)
			continue;
		/* A newer struct only grows: take what both know. */
		memset(out, 0, len);
		memcpy(out, (const char *)val + vs->offset,
		       vs->size < len ? vs->size : len);
		found = true;
	}
out:
	btf__free(btf);
	return found;
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
		int mfd = bpf_map_get_fd_by_id(ids[i]);
		void *val;

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mlen) &&
		    strstr(mi.name, ".rodata") && mi.value_size &&
		    (val = calloc(1, mi.value_size))) {
			if (!bpf_map_lookup_elem(mfd, &zero, val))
				found = rodata_var(&mi, val, "sl_feat", feat,
						   sizeof(*feat));
			free(val);
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

static struct sl_attachment *collect_new(struct collect *c, const char *ifname,
					 const char *hook, const char *mode)
{
	struct sl_attachment *a, *nv;

	nv = realloc(c->v, (c->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	c->v = nv;
	a = &c->v[c->n++];
	memset(a, 0, sizeof(*a));
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	snprintf(a->hook, sizeof(a->hook), "%s", hook);
	snprintf(a->mode, sizeof(a->mode), "%s", mode);
	return a;
}

/* The attachments of one interface, in hook order: xdp, tc-in, tc-out. */
static int collect_iface(struct sl_ctx *ctx, const char *ifname, void *arg)
{
	struct collect *c = arg;
	struct sl_attachment *a;
	char path[600];
	int mode, fd, ifindex;

	mode = find_xdp_pin(ctx, ifname, path, sizeof(path));
	if (mode >= 0) {
		struct bpf_link_info li = {};
		__u32 len = sizeof(li);

		a = collect_new(c, ifname, "xdp", mode_names[mode]);
		if (!a)
			return -ENOMEM;
		fd = bpf_obj_get(path);
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &li, &len)) {
			a->prog_id = li.prog_id;
			a->link_id = li.id;
			a->ifindex = li.xdp.ifindex;
			a->feat_known = read_features(li.prog_id, &a->feat);
		}
		if (fd >= 0)
			close(fd);
	}
	ifindex = if_nametoindex(ifname);
	for (int e = 0; e < 2; e++) {
		if (tc_pin(ctx, ifname, e, path, sizeof(path)) ||
		    access(path, F_OK))
			continue;
		a = collect_new(c, ifname, tc_names[e], "clsact");
		if (!a)
			return -ENOMEM;
		a->prog_id = pinned_id(path, false);
		/* ifindex 0: the filter is gone (and the interface with it,
		 * usually). */
		if (a->prog_id && tc_query(ifindex, e) == a->prog_id)
			a->ifindex = ifindex;
		a->feat_known = read_features(a->prog_id, &a->feat);
	}
	return 0;
}

int sl_attachments(struct sl_ctx *ctx, struct sl_attachment **out, size_t *n)
{
	struct collect c = {};
	int err = for_each_iface(ctx, collect_iface, &c);

	if (err) {
		free(c.v);
		return err;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

/* ---- reload: every attachment onto freshly loaded programs ---- */

/* The switches of `change` from next into feat. */
static void feat_change(struct sl_features *feat, unsigned change,
			const struct sl_features *next)
{
	if (change & SL_FEAT_BLOB_LOG)
		feat->blob_log = next->blob_log;
	if (change & SL_FEAT_CONNTRACK)
		feat->conntrack = next->conntrack;
	if (change & SL_FEAT_EVENTS)
		feat->events = next->events;
	if (change & SL_FEAT_LB)
		feat->lb = next->lb;
}

int sl_reload(struct sl_ctx *ctx, unsigned change,
	      const struct sl_features *next, size_t *moved)
{
	struct sl_attachment *att = NULL;
	struct moves mv = {};
	struct sl_features feat;
	bool have_feat = false;
	unsigned progs = 0;
	size_t natt = 0;
	int err;

	if (moved)
		*moved = 0;
	for_each_iface(ctx, progs_in_use, &progs);
	if (!progs)
		return 0;
	/* Every attachment runs one load: keep its load-time switches. */
	if (!sl_attachments(ctx, &att, &natt))
		for (size_t i = 0; i < natt && !have_feat; i++)
			if (att[i].feat_known) {
				feat = att[i].feat;
				have_feat = true;
			}
	free(att);
	/* apply moving to another blob class, switching a stage on or off */
	if (change && next) {
		if (!have_feat)
			sl_features_default(&feat);
		feat_change(&feat, change, next);
		have_feat = true;
	}
	mv.skel = sl_xdp_load(ctx->dir, have_feat ? &feat : NULL, progs);
	if (!mv.skel)
		return -errno ?: -EIO;
	err = for_each_iface(ctx, move_iface, &mv);
	if (err)
		moves_undo(ctx, &mv);
	else if (moved)
		*moved = mv.n;
	/* The moved interfaces count per interface from here (a state of
	 * an earlier release had no per-interface counters). */
	if (!err && !sl_attachments(ctx, &att, &natt)) {
		for (size_t i = 0; i < natt; i++)
			if (att[i].ifindex &&
			    (i == 0 || att[i].ifindex != att[i - 1].ifindex))
				claim_counters(ctx, att[i].ifname,
					       att[i].ifindex);
		free(att);
	}
	moves_free(&mv);
	sl_xdp_destroy(mv.skel);
	return err;
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

/* Removes the TC filter of every tc-in/tc-out pin under dir/links. */
static void reset_tc(const char *dir)
{
	char links[400];
	struct dirent *de;
	DIR *d;

	snprintf(links, sizeof(links), "%s/links", dir);
	d = opendir(links);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[800];

		if (de->d_name[0] == '.')
			continue;
		for (int e = 0; e < 2; e++) {
			snprintf(path, sizeof(path), "%s/%s/%s", links,
				 de->d_name, tc_names[e]);
			if (!access(path, F_OK))
				tc_remove(path, de->d_name, e);
		}
	}
	closedir(d);
}

int sl_reset(const char *bpffs)
{
	char dir[300];
	int fd, err = 0;
	bool ours;

	if (!bpffs)
		bpffs = getenv("SLUICE_BPFFS");
	if (!bpffs || !*bpffs)
		bpffs = SL_DEFAULT_BPFFS;
	snprintf(dir, sizeof(dir), "%s/" SL_PIN_SUBDIR, bpffs);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	flock(fd, LOCK_EX);
	ours = !faccessat(fd, SL_MOUNTED_MARK, F_OK, 0);
	/* The kernel's SYNPROXY table of protected ports goes too (there is
	 * one only while a port is protected). */
	{
		char pin[400];
		struct sl_syn_cfg none = {0};
		int m;
		bool any = false;

		snprintf(pin, sizeof(pin), "%s/%s", dir, SL_MAP_SYNPROXY);
		m = bpf_obj_get(pin);
		for (__u32 k = 0; m >= 0 && k < SL_SYN_WORDS && !any; k++) {
			__u64 w = 0;

			any = !bpf_map_lookup_elem(m, &k, &w) && w;
		}
		if (m >= 0)
			close(m);
		if (any && sl_syn_kernel(&none, false))
			pr_warn("the nftables table of synproxy could not be "
				"removed");
	}
	/* TC filters are not held by their pins: remove them first. */
	reset_tc(dir);
	/* Depth first: every pin (a link pin detaches its program), then the
	 * folders. */
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
		err = -EIO;
	else if (rmdir(dir) && errno != ENOENT)
		err = -errno;
	close(fd);
	/* A bpffs Sluice mounted goes with its state. */
	if (!err && ours && umount2(bpffs, UMOUNT_NOFOLLOW))
		pr_warn("could not unmount the bpffs Sluice mounted at %s: %s",
			bpffs, strerror(errno));
	return err;
}
