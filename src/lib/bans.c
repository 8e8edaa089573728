// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bans: the banned source prefixes of the bans stage (abi.h, Bans): add
 * with an expiry, delete, list, flush. Runtime-owned state: apply never
 * calls this. Each request is checked whole before the first write, and a
 * write the kernel refuses part-way is undone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <bpf/bpf.h>

#include "log.h"
#include "sluice.h"

/* One entry of a ban trie, as read. */
struct ban_rec {
	struct sl_lpm_v6 key; /* an IPv4 key is its first 8 bytes */
	struct sl_ban_val val;
};

uint64_t sl_ban_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool ban_active(const struct sl_ban_val *v, uint64_t now)
{
	return !v->expires || v->expires > now;
}

static int fam_idx(int family)
{
	return family == AF_INET6;
}

static int ban_fds(struct sl_ctx *ctx, int fd[2])
{
	static const char *const names[2] = {SL_MAP_BAN_V4, SL_MAP_BAN_V6};

	for (int f = 0; f < 2; f++) {
		fd[f] = sl_map_fd(ctx, names[f]);
		if (fd[f] < 0) {
			pr_err("cannot open the ban table %s: %s", names[f],
			       strerror(-fd[f]));
			return fd[f];
		}
	}
	return 0;
}

static void ban_key(const struct sl_prefix *p, struct sl_lpm_v6 *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = p->plen;
	memcpy(k->addr, p->addr, p->family == AF_INET ? 4 : 16);
}

/* Every entry of one trie, expired ones too (free *out). */
static int ban_read(int fd, struct ban_rec **out, size_t *n)
{
	struct sl_lpm_v6 k, next;
	struct ban_rec *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	bool first = true;

	memset(&k, 0, sizeof(k));
	for (;;) {
		memset(&next, 0, sizeof(next));
		if (bpf_map_get_next_key(fd, first ? NULL : &k, &next))
			break;
		first = false;
		k = next;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				pr_err("out of memory reading the bans");
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt].key = next;
		if (bpf_map_lookup_elem(fd, &next, &v[cnt].val)) {
			if (errno == ENOENT)
				continue; /* gone meanwhile */
			break;
		}
		cnt++;
	}
	if (errno != ENOENT) {
		int err = -errno;

		free(v);
		pr_err("cannot read the bans: %s", strerror(-err));
		return err;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* Removes the expired entries of one trie; cnt: the active ones left. */
static int ban_sweep(int fd, uint64_t now, size_t *cnt)
{
	struct ban_rec *v;
	size_t n, left = 0;
	int err = ban_read(fd, &v, &n);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (ban_active(&v[i].val, now))
			left++;
		else if (bpf_map_delete_elem(fd, &v[i].key) && errno != ENOENT)
			left++; /* still there: it takes room */
	}
	free(v);
	*cnt = left;
	return 0;
}

/* The active ban of exactly p, if any (an LPM lookup returns the longest
 * match: it is p's own entry when its length is p's). */
static bool ban_get(int fd, const struct sl_prefix *p, uint64_t now,
		    struct sl_ban_val *v)
{
	struct sl_lpm_v6 k;

	ban_key(p, &k);
	return !bpf_map_lookup_elem(fd, &k, v) && v->plen == p->plen &&
	       ban_active(v, now);
}

int sl_ban_add(struct sl_ctx *ctx, const struct sl_prefix *p, size_t n,
	       uint64_t dur_ns, size_t *added)
{
	uint64_t now = sl_ban_now();
	size_t have[2], fresh[2] = {0, 0}, done = 0;
	struct sl_ban_val *old = NULL;
	bool *had = NULL;
	sigset_t sig;
	int fd[2], err;

	*added = 0;
	err = ban_fds(ctx, fd);
	if (err)
		return err;
	for (int f = 0; f < 2; f++) {
		err = ban_sweep(fd[f], now, &have[f]);
		if (err)
			return err;
	}
	old = calloc(n ? n : 1, sizeof(*old));
	had = calloc(n ? n : 1, sizeof(*had));
	if (!old || !had) {
		pr_err("out of memory");
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		had[i] = ban_get(fd[fam_idx(p[i].family)], &p[i], now, &old[i]);
		if (!had[i])
			fresh[fam_idx(p[i].family)]++;
	}
	for (int f = 0; f < 2; f++)
		if (have[f] + fresh[f] > SL_BAN_MAX_ENTRIES) {
			pr_err("cannot ban %zu more %s prefixes: the ban "
			       "table holds %u and has %zu (ban del or ban "
			       "flush makes room)",
			       fresh[f], f ? "IPv6" : "IPv4",
			       SL_BAN_MAX_ENTRIES, have[f]);
			err = -ENOSPC;
			goto out;
		}
	sl_signals_hold(&sig);
	for (; done < n; done++) {
		struct sl_ban_val v = {.plen = p[done].plen};
		struct sl_lpm_v6 k;

		if (had[done])
			v = old[done];
		v.expires = dur_ns ? now + dur_ns : 0;
		ban_key(&p[done], &k);
		if (bpf_map_update_elem(fd[fam_idx(p[done].family)], &k, &v,
					BPF_ANY)) {
			char buf[64];

			err = -errno;
			sl_prefix_format(&p[done], buf, sizeof(buf));
			pr_err("cannot ban %s: %s (nothing was banned)", buf,
			       strerror(-err));
			break;
		}
	}
	/* Undo: the earlier ones as they were. */
	while (err && done--) {
		struct sl_lpm_v6 k;
		int f = fam_idx(p[done].family);

		ban_key(&p[done], &k);
		if (had[done])
			bpf_map_update_elem(fd[f], &k, &old[done], BPF_ANY);
		else
			bpf_map_delete_elem(fd[f], &k);
	}
	sl_signals_release(&sig);
	if (!err)
		*added = fresh[0] + fresh[1];
out:
	free(old);
	free(had);
	return err;
}

int sl_ban_del(struct sl_ctx *ctx, const struct sl_prefix *p, size_t n)
{
	uint64_t now = sl_ban_now();
	struct sl_ban_val *old;
	size_t done = 0;
	sigset_t sig;
	int fd[2], err;

	err = ban_fds(ctx, fd);
	if (err)
		return err;
	old = calloc(n ? n : 1, sizeof(*old));
	if (!old) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (!ban_get(fd[fam_idx(p[i].family)], &p[i], now, &old[i])) {
			char buf[64];

			sl_prefix_format(&p[i], buf, sizeof(buf));
			pr_err("%s is not banned (nothing was lifted)", buf);
			free(old);
			return -EINVAL;
		}
	sl_signals_hold(&sig);
	for (; done < n; done++) {
		struct sl_lpm_v6 k;

		ban_key(&p[done], &k);
		if (bpf_map_delete_elem(fd[fam_idx(p[done].family)], &k)) {
			char buf[64];

			err = -errno;
			sl_prefix_format(&p[done], buf, sizeof(buf));
			pr_err("cannot lift the ban of %s: %s (nothing was "
			       "lifted)",
			       buf, strerror(-err));
			break;
		}
	}
	while (err && done--) {
		struct sl_lpm_v6 k;

		ban_key(&p[done], &k);
		bpf_map_update_elem(fd[fam_idx(p[done].family)], &k, &old[done],
				    BPF_ANY);
	}
	sl_signals_release(&sig);
	free(old);
	return err;
}

static int ban_cmp(const void *x, const void *y)
{
	const struct sl_ban *a = x, *b = y;
	int c;

	if (a->prefix.family != b->prefix.family)
		return a->prefix.family == AF_INET ? -1 : 1;
	c = memcmp(a->prefix.addr, b->prefix.addr, sizeof(a->prefix.addr));
	if (c)
		return c;
	return (int)a->prefix.plen - (int)b->prefix.plen;
}

int sl_ban_list(struct sl_ctx *ctx, struct sl_ban **out, size_t *n)
{
	uint64_t now = sl_ban_now();
	struct ban_rec *r[2] = {NULL, NULL};
	struct sl_ban *v = NULL;
	size_t nr[2] = {0, 0}, cnt = 0;
	int fd[2], err;

	err = ban_fds(ctx, fd);
	for (int f = 0; !err && f < 2; f++)
		err = ban_read(fd[f], &r[f], &nr[f]);
	if (!err) {
		v = calloc(nr[0] + nr[1] + 1, sizeof(*v));
		if (!v) {
			pr_err("out of memory");
			err = -ENOMEM;
		}
	}
	for (int f = 0; !err && f < 2; f++)
		for (size_t i = 0; i < nr[f]; i++) {
			const struct ban_rec *e = &r[f][i];

			if (!ban_active(&e->val, now))
				continue;
			v[cnt].prefix.family = f ? AF_INET6 : AF_INET;
			v[cnt].prefix.plen = e->key.prefixlen;
			memcpy(v[cnt].prefix.addr, e->key.addr, f ? 16 : 4);
			v[cnt].expires = e->val.expires;
			v[cnt].packets = e->val.packets;
			v[cnt].bytes = e->val.bytes;
			cnt++;
		}
	free(r[0]);
	free(r[1]);
	if (err) {
		free(v);
		return err;
	}
	qsort(v, cnt, sizeof(*v), ban_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

int sl_ban_flush(struct sl_ctx *ctx, size_t *n)
{
	uint64_t now = sl_ban_now();
	int fd[2], err;

	*n = 0;
	err = ban_fds(ctx, fd);
	for (int f = 0; !err && f < 2; f++) {
		struct ban_rec *r;
		size_t nr;

		err = ban_read(fd[f], &r, &nr);
		if (err)
			break;
		for (size_t i = 0; !err && i < nr; i++) {
			if (bpf_map_delete_elem(fd[f], &r[i].key) &&
			    errno != ENOENT) {
				err = -errno;
				pr_err("cannot flush the bans: %s",
				       strerror(-err));
			} else if (ban_active(&r[i].val, now)) {
				(*n)++;
			}
		}
		free(r);
	}
	return err;
}
