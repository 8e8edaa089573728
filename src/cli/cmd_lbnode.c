// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_lbnode: `lb bird`, `lb drain-node` and `lb undrain-node`, the load
 * balancer node's part in scale-out behind ECMP: what it announces, as a
 * BIRD 2 snippet (src/lib/lbnode.c), and its drain. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "cli.h"
#include "json.h"
#include "log.h"

#define BIRD_SOCKET_DEF "/run/bird/bird.ctl"

/* `birdc -s SOCKET configure`, bounded to 10 s: 0 when BIRD says it
 * reconfigured, else -EIO with BIRD's words on stderr. */
static int bird_reload(const char *sock)
{
	char out[4096];
	size_t n = 0;
	int p[2], st = 0;
	pid_t pid;

	if (pipe(p))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!pid) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		alarm(10);
		execlp("birdc", "birdc", "-s", sock, "configure", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	for (ssize_t r; n < sizeof(out) - 1 &&
			(r = read(p[0], out + n, sizeof(out) - 1 - n)) > 0;)
		n += r;
	out[n] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    strstr(out, "Reconfigur") && !strstr(out, "rror"))
		return 0;
	pr_err("birdc -s %s configure: %s", sock,
	       n ? out
	       : WIFEXITED(st) && WEXITSTATUS(st) == 127
		   ? "cannot run birdc (the bird2 package)"
		   : "no answer");
	return -EIO;
}

/* What the running state ctx announces: *v[0..*n) and the snippet
 * *text (free both), drained the node's drain. */
static int bird_snippet(struct sl_ctx *ctx, struct sl_lb_vip **v, size_t *n,
			char **text, bool *drained)
{
	struct sl_lb_cfg lb;
	int err;

	*drained = sl_lb_node_drained(ctx);
	*v = NULL;
	*text = NULL;
	err = sl_lb_read(ctx, &lb);
	if (!err) {
		err = sl_lb_announced(&lb, *drained, v, n);
		sl_lb_cfg_free(&lb);
	}
	if (!err)
		err = sl_lb_bird_text(*v, *n, *drained, text);
	if (err) {
		free(*v);
		*v = NULL;
	}
	return err;
}

/* The snippet into path and, when it changed and reload, BIRD
 * reconfigured through sock (NULL: the default). */
static int bird_sync(const char *text, const char *path, const char *sock,
		     bool reload, bool *changed, bool *reloaded)
{
	int err = sl_lb_bird_write(path, text, changed);

	*reloaded = false;
	if (!err && *changed && reload) {
		err = bird_reload(sock ? sock : BIRD_SOCKET_DEF);
		*reloaded = !err;
	}
	return err;
}

int cli_lb_bird_daemon(const char *bpffs, const char *path, const char *sock)
{
	bool drained, changed, reloaded;
	struct sl_lb_vip *v;
	struct sl_ctx ctx;
	char *text;
	size_t n = 0;
	int err;

	/* the lock shared for the read only (a writer is never kept) */
	err = sl_open_reader(&ctx, bpffs, 200);
	if (err)
		return err;
	err = bird_snippet(&ctx, &v, &n, &text, &drained);
	sl_close(&ctx);
	if (!err)
		err = bird_sync(text, path, sock, true, &changed, &reloaded);
	if (!err && changed)
		pr_notice("BIRD: %s now announces %zu %s%s%s", path, n,
			  cli_plural(n, "VIP", "VIPs"),
			  drained ? " (node drained)" : "",
			  reloaded ? "; reconfigured" : "");
	free(v);
	free(text);
	return err;
}

/* The snippet of the running state; with --write, into that file (and
 * BIRD reloaded when it changed and --reload says so). */
static int bird_out(struct cli *c, struct sl_ctx *ctx)
{
	const char *path = cli_opt(c, "write");
	bool drained, changed = false, reloaded = false;
	struct sl_lb_vip *v = NULL;
	char *text = NULL, a[INET6_ADDRSTRLEN];
	size_t n = 0;
	int err;

	err = bird_snippet(ctx, &v, &n, &text, &drained);
	if (!err && path)
		err = bird_sync(text, path, cli_opt(c, "socket"),
				cli_opt(c, "reload"), &changed, &reloaded);
	if (err) {
		free(v);
		free(text);
		return cli_exit(err);
	}
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_open(&w);
		jw_key(&w, "drained");
		jw_bool(&w, drained);
		jw_key(&w, "vips");
		jw_arr_open(&w);
		for (size_t i = 0; i < n; i++) {
			inet_ntop(v[i].family == 4 ? AF_INET : AF_INET6,
				  v[i].addr, a, sizeof(a));
			jw_str(&w, a);
		}
		jw_arr_close(&w);
		if (path) {
			jw_key(&w, "file");
			jw_str(&w, path);
			jw_key(&w, "changed");
			jw_bool(&w, changed);
			jw_key(&w, "reloaded");
			jw_bool(&w, reloaded);
		} else {
			jw_key(&w, "bird");
			jw_str(&w, text);
		}
		jw_obj_close(&w);
		jw_end(&w);
	} else if (!path) {
		fputs(text, stdout);
	} else {
		printf("lb bird: %s %s (%zu %s%s)%s\n", path,
		       changed ? "written" : "unchanged", n,
		       cli_plural(n, "VIP", "VIPs"),
		       drained ? ", node drained" : "",
		       reloaded ? "; BIRD reconfigured" : "");
	}
	free(v);
	free(text);
	return EXIT_OK;
}

/* The node verbs' option checks: a usage error's exit status, or 0. */
static int node_usage(struct cli *c)
{
	if (cli_opt(c, "mode") || cli_opt(c, "weight"))
		return cli_usage_error(c, "--mode and --weight go with 'lb "
					  "service' and 'lb backend'");
	if ((cli_opt(c, "reload") || cli_opt(c, "socket")) &&
	    !cli_opt(c, "write"))
		return cli_usage_error(c, "--reload and --socket go with "
					  "--write FILE (BIRD reads the file)");
	return 0;
}

static int run_lb_bird(struct cli *c, int argc, char **argv)
{
	struct sl_ctx ctx;
	int rc = node_usage(c);

	(void)argc;
	(void)argv;
	if (rc)
		return rc;
	rc = cli_open_ro(c, &ctx);
	if (rc)
		return rc;
	rc = bird_out(c, &ctx);
	sl_close(&ctx);
	return rc;
}

static int node_drain(struct cli *c, bool drain)
{
	struct sl_ctx ctx;
	int rc = node_usage(c);

	if (rc)
		return rc;
	rc = cli_open(c, &ctx, false);
	if (rc)
		return rc;
	rc = cli_exit(sl_lb_node_drain(&ctx, drain));
	if (!rc && !c->json)
		printf("lb: node %s\n",
		       drain ? "drained: it announces no VIP" : "undrained");
	/* the snippet at once, when asked */
	if (!rc && (cli_opt(c, "write") || c->json))
		rc = bird_out(c, &ctx);
	sl_close(&ctx);
	return rc;
}

static int run_lb_drain_node(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return node_drain(c, true);
}

static int run_lb_undrain_node(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return node_drain(c, false);
}

const struct cli_cmd lb_bird = {
    .name = "bird",
    .args = "",
    .summary = "The BIRD 2 snippet announcing this node's VIPs (--write "
	       "FILE [--reload])",
    .opts = (const struct cli_opt[]){{0}}, /* the object's */
    .min_args = 0,
    .max_args = 0,
    .arity_err = "'lb bird' takes no arguments",
    .run = run_lb_bird,
};
const struct cli_cmd lb_drain_node = {
    .name = "drain-node",
    .args = "",
    .summary = "Stop announcing this node's VIPs (flows keep being "
	       "forwarded)",
    .opts = (const struct cli_opt[]){{0}}, /* the object's */
    .min_args = 0,
    .max_args = 0,
    .arity_err = "'lb drain-node' takes no arguments",
    .run = run_lb_drain_node,
};
const struct cli_cmd lb_undrain_node = {
    .name = "undrain-node",
    .args = "",
    .summary = "Announce this node's VIPs again",
    .opts = (const struct cli_opt[]){{0}}, /* the object's */
    .min_args = 0,
    .max_args = 0,
    .arity_err = "'lb undrain-node' takes no arguments",
    .run = run_lb_undrain_node,
};
