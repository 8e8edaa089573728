// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* lbnode: the load balancer node's announcements for scale-out behind
 * ECMP (docs/loadbalancer.md, Scale-out). A node announces a VIP while it
 * is not drained and one of the VIP's services has a backend that takes
 * new flows; Sluice writes what to announce as a BIRD 2 configuration
 * snippet (static routes in protocols the operator's BGP sessions export)
 * and BIRD does the rest.
 *
 * Node drain is runtime state of the pinned state: a directory
 * SL_LB_DRAIN_MARK in the pin directory (bpffs allows directories), kept
 * by apply and upgrades and removed by `sluice reset` with the rest. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include "log.h"
#include "sluice.h"

static int mark_path(const struct sl_ctx *ctx, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/" SL_LB_DRAIN_MARK, ctx->dir);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool sl_lb_node_drained(const struct sl_ctx *ctx)
{
	char p[sizeof(ctx->dir) + sizeof(SL_LB_DRAIN_MARK) + 1];
	struct stat st;

	return !mark_path(ctx, p, sizeof(p)) && !stat(p, &st) &&
	       S_ISDIR(st.st_mode);
}

int sl_lb_node_drain(const struct sl_ctx *ctx, bool drain)
{
	char p[sizeof(ctx->dir) + sizeof(SL_LB_DRAIN_MARK) + 1];
	int err = mark_path(ctx, p, sizeof(p));

	if (err)
		return err;
	if (drain ? mkdir(p, 0700) && errno != EEXIST
		  : rmdir(p) && errno != ENOENT) {
		err = -errno;
		pr_err("cannot %s %s: %s", drain ? "create" : "remove", p,
		       strerror(errno));
	}
	return err;
}

/* A backend takes new flows: weighted, and not found down by the health
 * checks (unchecked counts as up, as in the datapath). */
static bool be_usable(const struct sl_lb_backend_cfg *b)
{
	return b->weight > 0 && !(b->checked && b->health.state == SL_LB_DOWN);
}

static int vip_cmp(const void *a, const void *b)
{
	const struct sl_lb_vip *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

int sl_lb_announced(const struct sl_lb_cfg *lb, bool drained,
		    struct sl_lb_vip **out, size_t *n)
{
	struct sl_lb_vip *v;
	size_t m = 0;

	*out = NULL;
	*n = 0;
	v = calloc(lb->n_svc ? lb->n_svc : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < lb->n_svc && !drained; i++) {
		const struct sl_lb_service_cfg *s = &lb->svc[i];
		bool up = false;

		for (size_t j = 0; j < s->n_be && !up; j++)
			up = be_usable(&s->be[j]);
		if (!up)
			continue;
		memcpy(v[m].addr, s->vip, sizeof(v[m].addr));
		v[m++].family = s->family;
	}
	/* one route a VIP, whatever its ports */
	qsort(v, m, sizeof(*v), vip_cmp);
	*n = 0;
	for (size_t i = 0; i < m; i++)
		if (!*n || vip_cmp(&v[*n - 1], &v[i]))
			v[(*n)++] = v[i];
	*out = v;
	return 0;
}

int sl_lb_bird_text(const struct sl_lb_vip *v, size_t n, bool drained,
		    char **out)
{
	char *s = NULL, a[INET6_ADDRSTRLEN];
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	int bad;

	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# Written by Sluice ('sluice lb bird'): the VIPs this node "
		"announces, one\n# blackhole static route each (%s). Include "
		"this file from bird.conf and\n# export the routes of the "
		"protocols sluice_vip4 and sluice_vip6 over BGP,\n# not to "
		"the kernel (docs/loadbalancer.md, Scale-out).\n",
		drained ? "none: the node is drained"
			: "a VIP with a backend that takes new flows");
	for (int fam = 4; fam <= 6; fam += 2) {
		fprintf(f, "protocol static sluice_vip%d {\n\t%s;\n", fam,
			fam == 4 ? "ipv4" : "ipv6");
		for (size_t i = 0; i < n; i++) {
			if (v[i].family != fam)
				continue;
			inet_ntop(fam == 4 ? AF_INET : AF_INET6, v[i].addr, a,
				  sizeof(a));
			fprintf(f, "\troute %s/%d blackhole;\n", a,
				fam == 4 ? 32 : 128);
		}
		fputs("}\n", f);
	}
	bad = ferror(f);
	if (fclose(f) || bad) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

int sl_lb_bird_write(const char *path, const char *text, bool *changed)
{
	size_t n = strlen(text), tl = strlen(path) + 8;
	char *old = NULL, *tmp = malloc(tl);
	FILE *f;
	long sz;
	int fd, err = 0;

	*changed = true;
	if (!tmp)
		return -ENOMEM;
	f = fopen(path, "r");
	if (f) {
		if (!fseek(f, 0, SEEK_END) && (sz = ftell(f)) == (long)n &&
		    !fseek(f, 0, SEEK_SET) && (old = malloc(n + 1)) &&
		    fread(old, 1, n, f) == n && !memcmp(old, text, n))
			*changed = false;
		free(old);
		fclose(f);
	}
	if (!*changed) {
		free(tmp);
		return 0;
	}
	/* written aside, then renamed: BIRD never reads half a file */
	snprintf(tmp, tl, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) ||
	    rename(tmp, path))
		err = -errno ?: -EIO;
	if (fd >= 0)
		close(fd);
	if (err) {
		pr_err("cannot write %s: %s", path, strerror(-err));
		unlink(tmp);
	}
	free(tmp);
	return err;
}
