// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* cmd_daemon: `sluice daemon`, the long-running process (docs/daemon.md):
 * Prometheus metrics over HTTP (libmicrohttpd, its own thread; each scrape
 * reads the pinned counters under the state's lock taken shared for the
 * read only, metrics.c) and the events ring written as JSON lines to a
 * rotated file (evfile.c), in the main thread. It never writes a map,
 * loads, attaches or detaches anything: stopping or killing it leaves the
 * datapath as it is, and what it reports lives in the pins. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>

#include "cli.h"
#include "evfile.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "version.h"

#define DM_DEFAULT_LISTEN "127.0.0.1:9469"
#define DM_SCRAPE_WAIT_MS 5000 /* for a writer holding the lock */
#define DM_POLL_MS	  200  /* events: how often the ring is read */
#define DM_CHECK_S	  2    /* events: how often the pins are checked */
#define DM_BIRD_S	  1 /* --bird-file: how often it is brought up to date */

/* The listen address of --metrics. */
struct listen_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	bool loopback;
	char text[80];
};

/* "ADDR:PORT" or "[ADDR6]:PORT", numeric; 0 or an exit status. */
static int addr_parse(struct cli *c, const char *s, struct listen_addr *a)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a->sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->sa;
	char host[64], *end;
	const char *colon, *port;
	size_t hl;
	long p;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		hl = colon ? (size_t)(colon - s - 1) : 0;
		port = colon ? colon + 2 : NULL;
		if (colon && hl < sizeof(host))
			memcpy(host, s + 1, hl);
	} else {
		colon = strrchr(s, ':');
		hl = colon ? (size_t)(colon - s) : 0;
		port = colon ? colon + 1 : NULL;
		if (colon && hl < sizeof(host))
			memcpy(host, s, hl);
	}
	if (!port || !hl || hl >= sizeof(host))
		goto bad;
	host[hl] = '\0';
	errno = 0;
	p = strtol(port, &end, 10);
	if (!*port || *end || errno || p < 1 || p > 65535)
		goto bad;
	if (s[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(p);
		a->len = sizeof(*v4);
		a->loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
	} else if (s[0] == '[' &&
		   inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(p);
		a->len = sizeof(*v6);
		a->loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
	} else {
		goto bad;
	}
	snprintf(a->text, sizeof(a->text), "%s", s);
	return 0;
bad:
	return cli_usage_error(c,
			       "--metrics expects ADDR:PORT (a numeric IPv4 "
			       "address, or [IPv6]:PORT; port 1-65535) or "
			       "'off', not '%s'",
			       s);
}

/* A listening socket on a; a fd or an exit status (negated). */
static int listen_on(const struct listen_addr *a)
{
	int one = 1,
	    fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		pr_err("cannot make a socket for %s: %s", a->text,
		       strerror(errno));
		return -EXIT_RUNTIME;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->sa.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->sa, a->len) ||
	    listen(fd, 64)) {
		int e = errno;

		close(fd);
		if (e == EADDRINUSE) {
			pr_err("cannot serve metrics on %s: the port is in use "
			       "(another sluice daemon?); choose another "
			       "with --metrics ADDR:PORT",
			       a->text);
			return -EXIT_RUNTIME;
		}
		pr_err("cannot serve metrics on %s: %s%s", a->text, strerror(e),
		       e == EADDRNOTAVAIL ? " (not an address of this host)"
					  : "");
		return e == EADDRNOTAVAIL ? -EXIT_USAGE : -EXIT_RUNTIME;
	}
	return fd;
}

/* ---- metrics over HTTP (libmicrohttpd's thread) ---- */

struct daemon {
	const char *bpffs;
	struct sl_metrics_opts mo;
	int last_state; /* of the previous scrape: logged when it changes */
	/* events */
	const char *ev_path;
	struct sl_evfile ef;
	struct ring_buffer *rb;
	int ring, lost;
	__u32 ring_id;
	int ev_on; /* -1: not known yet */
	uint64_t lost_seen;
	uint64_t written;
};

static const char index_html[] =
    "<html><head><title>sluice daemon</title></head><body>"
    "<h1>sluice daemon</h1><p><a href=\"/metrics\">Metrics</a></p>"
    "</body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
			     const char *type, void *buf, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, buf, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void state_log(struct daemon *d, int state)
{
	if (state == d->last_state)
		return;
	d->last_state = state;
	if (!state)
		pr_notice("reading the Sluice state under %s/" SL_PIN_SUBDIR,
			  d->bpffs ? d->bpffs : SL_DEFAULT_BPFFS);
	else if (state == -ENOENT)
		pr_notice("no Sluice state (nothing attached yet): metrics "
			  "say sluice_up 0 until there is");
	else if (state == -EPROTO)
		pr_err("the pinned state has another layout than this binary "
		       "(%u): metrics say sluice_up 0; run the daemon of the "
		       "release that made it",
		       SL_LAYOUT_VERSION);
	else if (state != -EAGAIN)
		pr_err("cannot read the Sluice state: %s", strerror(-state));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **req)
{
	static const char text_type[] = "text/plain; version=0.0.4; "
					"charset=utf-8";
	struct daemon *d = cls;
	char *buf = NULL;
	size_t len = 0;
	int state, err;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     (void *)"GET or HEAD only\n", 17,
			     MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html", (void *)index_html,
			     sizeof(index_html) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
			     (void *)"not found: see /metrics\n", 24,
			     MHD_RESPMEM_PERSISTENT);
	err = sl_metrics_scrape(d->bpffs, &d->mo, DM_SCRAPE_WAIT_MS, &buf, &len,
				&state);
	state_log(d, state);
	if (state == -EAGAIN) {
		free(buf);
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
			     (void *)"the state is locked by a writer\n", 32,
			     MHD_RESPMEM_PERSISTENT);
	}
	if (err) {
		pr_err("metrics: cannot read the counters: %s", strerror(-err));
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			     (void *)"cannot read the counters\n", 25,
			     MHD_RESPMEM_PERSISTENT);
	}
	return reply(conn, MHD_HTTP_OK, text_type, buf, len,
		     MHD_RESPMEM_MUST_FREE);
}

/* ---- events into the file (main thread) ---- */

static int on_event(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	struct sl_event e;
	char line[4096];
	struct jw w;
	FILE *m;
	long n;

	/* A longer record (a later release's) is read for its known head. */
	if (size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	m = fmemopen(line, sizeof(line), "w");
	if (!m)
		return 0;
	jw_init(&w, m);
	sl_ev_json(&w, &e);
	jw_end(&w);
	n = ftell(m);
	fclose(m);
	if (n > 0 && (size_t)n < sizeof(line) &&
	    !sl_evfile_write(&d->ef, line, n))
		d->written++;
	return 0;
}

static void ring_close(struct daemon *d)
{
	ring_buffer__free(d->rb);
	d->rb = NULL;
	if (d->ring >= 0)
		close(d->ring);
	if (d->lost >= 0)
		close(d->lost);
	d->ring = d->lost = -1;
	d->ring_id = 0;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id
								   : 0;
}

/* The running events switch from the pinned sl_ev_conf: 1 on, 0 off,
 * -1 no state. */
static int events_on(struct daemon *d)
{
	int fd = sl_ev_pin_open(d->bpffs, SL_MAP_EV_CONF);
	struct sl_ev_conf c = {};
	__u32 key = 0;
	int on;

	if (fd < 0)
		return -1;
	on = !bpf_map_lookup_elem(fd, &key, &c) && (c.flags || c.sample);
	close(fd);
	return on;
}

/* Opens the ring when its pin is there and is not the one being read
 * (state made again after a reset); says when events turn on or off. */
static void ring_check(struct daemon *d)
{
	int fd = sl_ev_pin_open(d->bpffs, SL_MAP_EVENTS), on;
	__u32 id = map_id(fd);

	if (fd >= 0)
		close(fd);
	if (d->rb && id != d->ring_id)
		ring_close(d);
	on = events_on(d);
	if (on != d->ev_on) {
		if (on == 1)
			pr_notice("events are on: writing them to %s",
				  d->ev_path);
		else if (on == 0)
			pr_notice("events are off in the running config "
				  "(events: {drops: true} or a log rule turns "
				  "them on); waiting for them");
		else
			pr_notice("no events ring (nothing attached yet); "
				  "waiting for one");
		d->ev_on = on;
	}
	if (d->rb || !id)
		return;
	d->ring = sl_ev_pin_open(d->bpffs, SL_MAP_EVENTS);
	d->lost = sl_ev_pin_open(d->bpffs, SL_MAP_EV_LOST);
	d->rb =
	    d->ring >= 0 ? ring_buffer__new(d->ring, on_event, d, NULL) : NULL;
	if (!d->rb || d->lost < 0) {
		pr_err("cannot read the events ring: %s", strerror(errno));
		ring_close(d);
		return;
	}
	d->ring_id = map_id(d->ring);
	sl_ev_lost_fd(d->lost, &d->lost_seen, NULL, 0);
}

/* A line for the events the ring lost since the last one. */
static void lost_check(struct daemon *d)
{
	uint64_t total = 0;
	char line[200];
	int n;

	if (d->lost < 0 || sl_ev_lost_fd(d->lost, &total, NULL, 0) ||
	    total <= d->lost_seen)
		return;
	n = snprintf(line, sizeof(line),
		     "{\"lost_events\":{\"source\":\"ring\","
		     "\"num_events_lost\":%llu,\"total\":%llu}}\n",
		     (unsigned long long)(total - d->lost_seen),
		     (unsigned long long)total);
	sl_evfile_write(&d->ef, line, n);
	d->lost_seen = total;
}

/* ---- the verb ---- */

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* --events-max-mb (fractions too) or --events-max-bytes; exit status. */
static int max_bytes(struct cli *c, uint64_t *out)
{
	const char *mb = cli_opt(c, "events-max-mb");
	char *end;
	double v;

	*out = 100ULL << 20;
	if (cli_opt(c, "events-max-bytes")) {
		if (mb)
			return cli_usage_error(c, "--events-max-mb and "
						  "--events-max-bytes: one "
						  "or the other");
		*out = cli_opt_long(c, "events-max-bytes", 0, 0, 1L << 50);
		return EXIT_OK;
	}
	if (!mb)
		return EXIT_OK;
	errno = 0;
	v = strtod(mb, &end);
	if (!*mb || *end || errno || !(v >= 0) || v > 1e9)
		return cli_usage_error(c,
				       "--events-max-mb expects a number of "
				       "MiB (0.5, 100; 0: no rotation), not "
				       "'%s'",
				       mb);
	*out = (uint64_t)(v * (1 << 20));
	return EXIT_OK;
}

/* The health checks' thread (lb_health.c). */
struct health_thread {
	const char *bpffs;
	volatile int stop;
};

static void *health_main(void *arg)
{
	struct health_thread *h = arg;

	sl_lb_health_loop(h->bpffs, &h->stop);
	return NULL;
}

static int run_daemon(struct cli *c, int argc, char **argv)
{
	const char *m = cli_opt(c, "metrics");
	struct daemon d = {.bpffs = c->bpffs,
			   .ring = -1,
			   .lost = -1,
			   .ev_on = -2,
			   .last_state = 1};
	struct listen_addr la;
	struct MHD_Daemon *mhd = NULL;
	struct timespec zero = {0};
	bool serve = !cli_opt(c, "no-metrics");
	uint64_t maxb = 0;
	sigset_t sigs;
	double next_check = 0;
	struct health_thread ht = {.bpffs = c->bpffs};
	const char *bird = cli_opt(c, "bird-file");
	double next_bird = 0;
	pthread_t htid;
	bool health = false;
	int lfd = -1, rc, sig;

	(void)argc;
	(void)argv;
	if (m && !serve)
		return cli_usage_error(c, "--metrics and --no-metrics: one or "
					  "the other");
	if (m && !strcmp(m, "off"))
		serve = false;
	if (serve && (rc = addr_parse(c, m ? m : DM_DEFAULT_LISTEN, &la)))
		return rc;
	if ((rc = max_bytes(c, &maxb)))
		return rc;
	d.mo.version = SLUICE_VERSION;
	d.mo.top_entries = cli_opt_long(c, "top-entries", 20, 0, 100000);
	d.ev_path = cli_opt(c, "events-file");
	if (!d.ev_path &&
	    (cli_opt(c, "events-max-mb") || cli_opt(c, "events-max-bytes") ||
	     cli_opt(c, "events-backups")))
		return cli_usage_error(c, "the --events-* options go with "
					  "--events-file");
	if (!bird && cli_opt(c, "bird-socket"))
		return cli_usage_error(c,
				       "--bird-socket goes with --bird-file");
	/* (metrics off and no events file: the health checks alone) */
	if (sl_check_privileges())
		return EXIT_RUNTIME;
	if (d.ev_path && sl_evfile_open(&d.ef, d.ev_path, maxb,
					cli_opt_long(c, "events-backups", 5, 0,
						     SL_EVFILE_BACKUPS_MAX)))
		return EXIT_RUNTIME;
	/* Signals are taken by the main thread only (sigtimedwait): blocked
	 * here, before libmicrohttpd's thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (serve) {
		lfd = listen_on(&la);
		if (lfd < 0) {
			rc = -lfd;
			goto out;
		}
		mhd = MHD_start_daemon(
		    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
		    NULL, NULL, on_request, &d, MHD_OPTION_LISTEN_SOCKET, lfd,
		    MHD_OPTION_CONNECTION_TIMEOUT, 10U,
		    MHD_OPTION_CONNECTION_LIMIT, 64U, MHD_OPTION_END);
		if (!mhd) {
			pr_err("cannot start the metrics server on %s",
			       la.text);
			close(lfd);
			rc = EXIT_RUNTIME;
			goto out;
		}
		if (!la.loopback)
			pr_notice("serving metrics on %s, not a loopback "
				  "address: whoever reaches it reads the "
				  "counters, rules and set entries",
				  la.text);
		pr_notice("serving metrics on http://%s/metrics", la.text);
	}
	health = !pthread_create(&htid, NULL, health_main, &ht);
	if (!health)
		pr_warn("cannot start the health checks' thread");
	rc = EXIT_OK;
	for (;;) {
		/* what this node announces follows health, drain and apply */
		if (bird && mono_s() >= next_bird) {
			int err = cli_lb_bird_daemon(c->bpffs, bird,
						     cli_opt(c, "bird-socket"));

			if (err && err != -ENOENT && err != -EAGAIN)
				pr_warn("BIRD: cannot update %s: %s", bird,
					strerror(-err));
			next_bird = mono_s() + DM_BIRD_S;
		}
		if (d.ev_path) {
			if (mono_s() >= next_check) {
				ring_check(&d);
				next_check = mono_s() + DM_CHECK_S;
			}
			if (d.rb) {
				int err = ring_buffer__poll(d.rb, DM_POLL_MS);

				if (err >= 0 || err == -EINTR)
					err = ring_buffer__consume(d.rb);
				lost_check(&d);
				sl_evfile_flush(&d.ef);
			} else {
				usleep(DM_POLL_MS * 1000);
			}
			sig = sigtimedwait(&sigs, NULL, &zero);
		} else {
			struct timespec t = {.tv_sec = bird ? DM_BIRD_S : 3600};

			sig = sigtimedwait(&sigs, NULL, &t);
		}
		if (sig == SIGHUP && d.ev_path) {
			pr_notice("SIGHUP: reopening %s", d.ev_path);
			sl_evfile_reopen(&d.ef);
		} else if (sig == SIGINT || sig == SIGTERM) {
			pr_notice(
			    "stopping (%s); the datapath is left as it is",
			    sig == SIGINT ? "SIGINT" : "SIGTERM");
			break;
		}
	}
out:
	if (health) {
		ht.stop = 1;
		pthread_join(htid, NULL);
	}
	if (mhd)
		MHD_stop_daemon(mhd);
	if (lfd >= 0)
		close(lfd);
	ring_close(&d);
	if (d.ev_path)
		sl_evfile_close(&d.ef);
	return rc;
}

const struct cli_cmd cmd_daemon = {
    .name = "daemon",
    .args = "",
    .summary = "Serve Prometheus metrics, run the load balancer's health "
	       "checks, write events to a file",
    .description =
	"Runs until SIGTERM or SIGINT (run by sluice-daemon.service; "
	"docs/daemon.md). It serves the counters of the running\n"
	"state as Prometheus metrics over HTTP at /metrics (text format "
	"0.0.4): packets and bytes by action and reason, by\n"
	"interface, by rule (id and comment), the busiest set entries, "
	"lost events, build info. Every scrape reads the pinned\n"
	"per-CPU counters, so a restarted daemon goes on from them: no "
	"reset, no double count. It listens on 127.0.0.1:9469\n"
	"unless --metrics says otherwise; another address is served only "
	"when named there. With --events-file it reads the\n"
	"events ring and writes every event as a JSON line ('sluice events "
	"-j' fields) with a lost_events line when the ring\n"
	"lost some, rotating the file by size; SIGHUP reopens it (for "
	"logrotate). The ring has one reader: while the daemon\n"
	"writes events, 'sluice events' sees none. The daemon holds no lock "
	"between scrapes and takes the state's lock shared\n"
	"only while a scrape reads, so block, apply, stats and every other "
	"verb run meanwhile. Without state it keeps running\n"
	"(sluice_up 0) and picks the state up once something is attached.\n"
	"It runs the load balancer's health checks (a service's 'health:', "
	"TCP connect or HTTP GET at its interval from\n"
	"the daemon's network namespace, each check on its own with a "
	"timeout of the interval, at most 2 s, so a silent\n"
	"backend delays no other check): a backend down after 'fall' "
	"failed checks in a row leaves its service's Maglev\n"
	"table (its flows move), and comes back after 'rise' good ones "
	"(docs/loadbalancer.md). It takes the state's lock\n"
	"only to record the outcomes, never while a check runs. That is the "
	"only change it makes: stopping or killing it\n"
	"leaves every program, map, counter and health state as it is.",
    .opts =
	(const struct cli_opt[]){
	    {"metrics", 'm', "ADDR:PORT",
	     "Serve metrics on ADDR:PORT (numeric; IPv6 as [ADDR]:PORT). "
	     "Default 127.0.0.1:9469; another address than loopback is "
	     "served only when given here. 'off': no metrics."},
	    {"no-metrics", 0, NULL, "No metrics (the same as --metrics off)."},
	    {"events-file", 'e', "PATH",
	     "Write the events as JSON lines to PATH (appended), rotated to "
	     "PATH.1 ... PATH.N by size."},
	    {"events-max-mb", 0, "MB",
	     "Rotate PATH when it would grow past MB MiB (fractions too; "
	     "default 100; 0: never)."},
	    {"events-max-bytes", 0, "N",
	     "The same in bytes (instead of --events-max-mb)."},
	    {"events-backups", 0, "N",
	     "Rotated files kept, PATH.1 (newest) to PATH.N (default 5; 0: "
	     "PATH is truncated instead)."},
	    {"top-entries", 0, "N",
	     "Set entries in the metrics: the N busiest (default 20; 0: "
	     "none). Each scrape lists the sets to find them."},
	    {"bird-file", 0, "PATH",
	     "Keep PATH the BIRD 2 snippet of the VIPs this node announces "
	     "('sluice lb bird'), checked every second: a VIP whose "
	     "backends are all down, drained or gone, or a drained node, is "
	     "withdrawn; BIRD is reconfigured when the file changes."},
	    {"bird-socket", 0, "PATH",
	     "BIRD's control socket for --bird-file (default "
	     "/run/bird/bird.ctl)."},
	    {},
	},
    .examples =
	"$ sluice daemon\n"
	"$ curl -s http://127.0.0.1:9469/metrics | promtool check metrics\n"
	"$ sluice daemon --metrics [::1]:9469 --events-file "
	"/var/log/sluice/events.json\n"
	"$ sluice daemon --metrics 198.18.0.2:9469 --events-max-mb 50 "
	"--events-backups 3 -e /var/log/sluice/events.json\n"
	"$ sluice daemon --no-metrics -e /var/log/sluice/events.json",
    .min_args = 0,
    .max_args = 0,
    .needs_root = true,
    .run = run_daemon,
};
