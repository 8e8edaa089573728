// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_health: the load balancer's health checks, the parts without
 * state (src/lib/health.c): the rise/fall state machine (down after fall
 * failures in a row, up after rise successes in a row, a success or a
 * failure in between starts the count again, the time of the last change
 * kept), the HTTP status line (2xx and 3xx healthy; incomplete, garbage
 * and other statuses not; decided without the reason phrase), the probes
 * against real sockets on loopback (TCP connect refused and accepted, an
 * HTTP server answering 200 and 500, a server that never answers:
 * timeout; an IPv6 one on [::1] answering 302; servers that answer 400
 * unless the request names them in Host, IPv4 and IPv6 in brackets; one
 * that drips its answer a byte at a time), and the checks' event loop: a
 * black-holed backend (its listener's accept queue full, so its SYNs are
 * dropped) does not delay another service's checks. Needs no
 * privileges. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "check.h"
#include "sluice.h"

/* n checks of outcome ok; the number of state changes among them. */
static int steps(struct sl_lb_be_health *h, bool ok, int n, unsigned rise,
		 unsigned fall, uint64_t now)
{
	int changes = 0;

	for (int i = 0; i < n; i++)
		changes += sl_lb_health_step(h, ok, rise, fall, now);
	return changes;
}

static bool check_state_machine(void)
{
	struct sl_lb_be_health h = {0};
	bool ok;

	/* starts up (no entry: up); fall 3 */
	ok = ASSERT_EQ(steps(&h, false, 2, 2, 3, 10), 0, "2 failures") &&
	     ASSERT_EQ(h.state, SL_LB_UP, "up after 2 of 3 failures") &&
	     ASSERT_EQ(steps(&h, true, 1, 2, 3, 20), 0, "a success") &&
	     ASSERT_EQ(h.fail, 0, "a success resets the failures") &&
	     ASSERT_EQ(steps(&h, false, 2, 2, 3, 30), 0, "2 failures again") &&
	     ASSERT_EQ(h.state, SL_LB_UP, "still up") &&
	     ASSERT_EQ(steps(&h, false, 1, 2, 3, 40), 1, "the third") &&
	     ASSERT_EQ(h.state, SL_LB_DOWN, "down after 3 in a row") &&
	     ASSERT_EQ(h.since, 40, "the time of the change") &&
	     ASSERT_EQ(steps(&h, false, 5, 2, 3, 50), 0, "more failures") &&
	     ASSERT_EQ(h.since, 40, "no change, same time") &&
	     ASSERT_EQ(h.fail, 8, "failures in a row");
	/* rise 2: one success, a failure, then two */
	ok = ok && ASSERT_EQ(steps(&h, true, 1, 2, 3, 60), 0, "1 success") &&
	     ASSERT_EQ(h.state, SL_LB_DOWN, "down after 1 of 2") &&
	     ASSERT_EQ(steps(&h, false, 1, 2, 3, 70), 0, "a failure") &&
	     ASSERT_EQ(h.ok, 0, "a failure resets the successes") &&
	     ASSERT_EQ(steps(&h, true, 1, 2, 3, 80), 0, "1 success") &&
	     ASSERT_EQ(steps(&h, true, 1, 2, 3, 90), 1, "the second") &&
	     ASSERT_EQ(h.state, SL_LB_UP, "up after 2 in a row") &&
	     ASSERT_EQ(h.since, 90, "the time of the change") &&
	     ASSERT_EQ(h.checks, 15, "checks counted");
	/* rise 1, fall 1: every outcome decides */
	memset(&h, 0, sizeof(h));
	ok = ok && ASSERT_EQ(steps(&h, false, 1, 1, 1, 1), 1, "fall 1") &&
	     ASSERT_EQ(steps(&h, true, 1, 1, 1, 2), 1, "rise 1") &&
	     ASSERT_EQ(h.state, SL_LB_UP, "up");
	return ok;
}

static bool status_is(const char *s, int want)
{
	return ASSERT_EQ(sl_http_status(s, strlen(s)), want, s);
}

static bool check_http_status(void)
{
	return status_is("HTTP/1.0 200 OK\r\n", 200) &&
	       status_is("HTTP/1.1 301 Moved Permanently\r\nLocation: /\r\n",
			 301) &&
	       status_is("HTTP/1.1 204\r\n", 204) &&
	       status_is("HTTP/1.0 503 Service Unavailable\r\n", 503) &&
	       status_is("HTTP/1.0 200 OK\n", 200) &&
	       status_is("HTTP/1.0 20", -EAGAIN) &&
	       status_is("HTTP/1.0 200", -EAGAIN) &&
	       status_is("HTTP/1.0 200 OK", 200) &&
	       status_is("HTTP/1.1 200 A reason phrase far longer than the "
			 "probe's buffer of sixty-four bytes",
			 200) &&
	       status_is("HTTP/1.0 200x", -EPROTO) &&
	       status_is("HTT", -EAGAIN) && status_is("", -EAGAIN) &&
	       status_is("SSH-2.0-OpenSSH\r\n", -EPROTO) &&
	       status_is("HTTP/1.0 2x0 OK\r\n", -EPROTO) &&
	       status_is("HTTP/1.0 2000 OK\r\n", -EPROTO) &&
	       status_is("HTTP/1.0 099 Low\r\n", -EPROTO) &&
	       status_is("HTTP/1.0\r\n", -EPROTO) &&
	       ASSERT_TRUE(sl_http_healthy(200) && sl_http_healthy(302) &&
			       sl_http_healthy(399) && !sl_http_healthy(199) &&
			       !sl_http_healthy(400) && !sl_http_healthy(500) &&
			       !sl_http_healthy(-EPROTO),
			   "2xx and 3xx are healthy, nothing else");
}

/* ---- probes on loopback ---- */

struct server {
	int fd;
	uint16_t port;
	const char *answer; /* NULL: accept and say nothing */
	bool v6;
	bool host; /* answer only a request with "Host: ADDR:PORT", else 400 */
	bool drip; /* send the answer a byte at a time, 2 ms apart */
};

/* The request's head (up to its blank line, bounded); its length. */
static size_t read_head(int c, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t r;

	while (len < size - 1 &&
	       (r = recv(c, buf + len, size - 1 - len, 0)) > 0) {
		len += (size_t)r;
		buf[len] = 0;
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	buf[len] = 0;
	return len;
}

static void *serve(void *arg)
{
	static const char bad[] = "HTTP/1.0 400 Bad Request\r\n\r\n";
	struct server *s = arg;
	char buf[512], want[80];

	snprintf(want, sizeof(want), "\r\nHost: %s:%u\r\n",
		 s->v6 ? "[::1]" : "127.0.0.1", s->port);
	for (;;) {
		int c = accept(s->fd, NULL, NULL);
		const char *a = s->answer;

		if (c < 0)
			return NULL;
		if (!a)
			continue; /* the connection stays open, unanswered */
		if (read_head(c, buf, sizeof(buf)) && s->host &&
		    !strstr(buf, want))
			a = bad;
		for (size_t i = 0; s->drip && a[i]; i++) {
			send(c, a + i, 1, MSG_NOSIGNAL);
			usleep(2000);
		}
		if (!s->drip)
			send(c, a, strlen(a), MSG_NOSIGNAL);
		close(c);
	}
}

/* A server on 127.0.0.1 or [::1] (v6), any port. */
static bool listen_on(struct server *s, const char *answer, bool v6)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = v6 ? sizeof(a6) : sizeof(a);
	void *sa = v6 ? (void *)&a6 : (void *)&a;
	pthread_t t;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->answer = answer;
	s->v6 = v6;
	s->fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	if (s->fd < 0 || bind(s->fd, sa, al) || listen(s->fd, 16) ||
	    getsockname(s->fd, sa, &al))
		return false;
	s->port = ntohs(v6 ? a6.sin6_port : a.sin_port);
	return !pthread_create(&t, NULL, serve, s) && !pthread_detach(t);
}

/* A loopback port nobody listens on: bound, never listened, closed (a
 * listener closed while its thread waits in accept() would go on
 * listening). 0 on failure. */
static uint16_t closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (void *)&a, al) &&
	    !getsockname(fd, (void *)&a, &al))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void probe_of(struct sl_lb_probe *p, uint16_t port, uint8_t type)
{
	memset(p, 0, sizeof(*p));
	p->addr[0] = 127;
	p->addr[3] = 1;
	p->family = 4;
	p->port = port;
	p->type = type;
	snprintf(p->path, sizeof(p->path), "/health");
}

static bool check_probes(void)
{
	/* (static: their threads outlive the function) */
	static struct server ok200, err500, mute, six;
	static struct server host = {.host = true}, host6 = {.host = true};
	static struct server drip = {.drip = true};
	uint16_t closed = closed_port();
	struct sl_lb_probe p[10];
	bool ok;

	if (!listen_on(&ok200, "HTTP/1.0 200 OK\r\n\r\nfine\n", false) ||
	    !listen_on(&err500, "HTTP/1.0 500 Oops\r\n\r\n", false) ||
	    !listen_on(&mute, NULL, false) ||
	    !listen_on(&six, "HTTP/1.1 302 Found\r\n\r\n", true) ||
	    !listen_on(&host, "HTTP/1.1 200 OK\r\n\r\n", false) ||
	    !listen_on(&host6, "HTTP/1.1 204 No Content\r\n\r\n", true) ||
	    !listen_on(&drip, "HTTP/1.1 301 Moved Permanently\r\n\r\n",
		       false) ||
	    !closed) {
		check_fail("cannot listen on loopback");
		return false;
	}
	probe_of(&p[0], ok200.port, SL_LB_HC_TCP);
	probe_of(&p[1], closed, SL_LB_HC_TCP);
	probe_of(&p[2], ok200.port, SL_LB_HC_HTTP);
	probe_of(&p[3], err500.port, SL_LB_HC_HTTP);
	probe_of(&p[4], mute.port, SL_LB_HC_HTTP);
	probe_of(&p[5], mute.port, SL_LB_HC_TCP);
	probe_of(&p[6], six.port, SL_LB_HC_HTTP);
	memset(p[6].addr, 0, 16);
	p[6].addr[15] = 1;
	p[6].family = 6;
	probe_of(&p[7], host.port, SL_LB_HC_HTTP);
	probe_of(&p[8], host6.port, SL_LB_HC_HTTP);
	p[8].family = 6;
	memcpy(p[8].addr, p[6].addr, 16);
	probe_of(&p[9], drip.port, SL_LB_HC_HTTP);
	sl_lb_probe_run(p, 10, 300);
	ok = ASSERT_TRUE(p[0].ok, "tcp to a listener: %s", p[0].err) &&
	     ASSERT_TRUE(!p[1].ok && strstr(p[1].err, "refused"),
			 "tcp to a closed port: '%s'", p[1].err) &&
	     ASSERT_TRUE(p[2].ok, "http 200: %s", p[2].err) &&
	     ASSERT_TRUE(!p[3].ok && strstr(p[3].err, "500"), "http 500: '%s'",
			 p[3].err) &&
	     ASSERT_TRUE(!p[4].ok && strstr(p[4].err, "timeout"),
			 "http, no answer: '%s'", p[4].err) &&
	     ASSERT_TRUE(p[5].ok, "tcp to a listener that says nothing: %s",
			 p[5].err) &&
	     ASSERT_TRUE(p[6].ok, "http 302 on [::1]: %s", p[6].err) &&
	     ASSERT_TRUE(p[7].ok, "http with Host: 127.0.0.1:PORT: %s",
			 p[7].err) &&
	     ASSERT_TRUE(p[8].ok, "http with Host: [::1]:PORT: %s", p[8].err) &&
	     ASSERT_TRUE(p[9].ok, "http 301 dripped a byte at a time: %s",
			 p[9].err);
	return ok;
}

/* ---- the loop: a black-holed backend delays no other check ---- */

#define A_IVAL_MS 250
#define B_IVAL_MS 1000
#define RUN_MS	  3000

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

struct loop_run {
	struct sl_lb_cfg cfg;
	volatile int stop;
	uint64_t t0, last_a, max_gap;
	int n_a, n_a_ok, n_b, n_b_timeout;
};

static int loop_read(void *arg, struct sl_lb_cfg *run)
{
	struct loop_run *r = arg;

	if (mono_ms() - r->t0 >= RUN_MS)
		r->stop = 1;
	return sl_lb_cfg_copy(run, &r->cfg);
}

static void loop_record(void *arg, const struct sl_lb_probe *p, size_t n)
{
	struct loop_run *r = arg;
	uint64_t now = mono_ms();

	for (size_t i = 0; i < n; i++) {
		if (p[i].svc.vip[3] == 1) { /* service A */
			uint64_t since = now - (r->n_a ? r->last_a : r->t0);

			if (since > r->max_gap)
				r->max_gap = since;
			r->last_a = now;
			r->n_a++;
			r->n_a_ok += p[i].ok;
		} else {
			r->n_b++;
			r->n_b_timeout +=
			    !p[i].ok && strstr(p[i].err, "timeout");
		}
	}
	if (now - r->t0 >= RUN_MS)
		r->stop = 1;
}

/* A listener on loopback whose accept queue is full (backlog 0, one
 * connection never accepted): the kernel drops every further SYN, so a
 * check's connect hangs as on a black-holed backend. Its port, 0 on
 * failure; the sockets stay open for the test's life. */
static uint16_t blackhole_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c;
	struct pollfd pf;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (void *)&a, al) || listen(l, 0) ||
	    getsockname(l, (void *)&a, &al))
		return 0;
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c < 0 || (connect(c, (void *)&a, al) && errno != EINPROGRESS))
		return 0;
	pf = (struct pollfd){.fd = c, .events = POLLOUT};
	if (poll(&pf, 1, 1000) != 1)
		return 0;
	return ntohs(a.sin_port);
}

static void svc_of(struct sl_lb_service_cfg *s, uint8_t vip_last,
		   struct sl_lb_backend_cfg *be, uint16_t port, uint32_t ival)
{
	memset(s, 0, sizeof(*s));
	s->vip[0] = 198;
	s->vip[1] = 18;
	s->vip[2] = 63;
	s->vip[3] = vip_last;
	s->family = 4;
	s->proto = IPPROTO_TCP;
	s->port = 80;
	s->hc.type = SL_LB_HC_TCP;
	s->hc.rise = s->hc.fall = 2;
	s->hc.interval_ms = ival;
	memset(be, 0, sizeof(*be));
	be->addr[0] = 127;
	be->addr[3] = 1;
	be->family = 4;
	be->port = port;
	be->weight = 1;
	be->id = vip_last;
	s->be = be;
	s->n_be = 1;
}

static bool check_loop(void)
{
	static const struct sl_lb_hc_ops ops = {.read = loop_read,
						.record = loop_record};
	struct sl_lb_service_cfg svc[2];
	struct sl_lb_backend_cfg be[2];
	struct loop_run r = {0};
	static struct server a; /* (its thread outlives the function) */
	uint16_t hole = blackhole_port();
	int want = RUN_MS / A_IVAL_MS; /* 12 (13 with the one at the end) */

	if (!listen_on(&a, NULL, false) || !hole) {
		check_fail("cannot listen on loopback");
		return false;
	}
	/* A: a listener, checked every 250 ms; B: the black hole, every 1 s
	 * (timeout 1 s: each of its checks hangs until its deadline) */
	svc_of(&svc[0], 1, &be[0], a.port, A_IVAL_MS);
	svc_of(&svc[1], 2, &be[1], hole, B_IVAL_MS);
	r.cfg.svc = svc;
	r.cfg.n_svc = 2;
	r.t0 = mono_ms();
	sl_lb_health_run(&ops, &r, &r.stop);
	printf("# loop: A %d checks in %d ms, longest gap %llu ms; B %d "
	       "outcomes (%d timeouts)\n",
	       r.n_a, RUN_MS, (unsigned long long)r.max_gap, r.n_b,
	       r.n_b_timeout);
	/* tolerance: 80% of the checks due in the run, and no gap between
	 * two of A's outcomes over two intervals (the old loop in rounds
	 * waited for B's timeout, a 1 s gap) */
	return ASSERT_TRUE(r.n_b >= 2 && r.n_b_timeout == r.n_b,
			   "B black-holed: %d outcomes, %d timeouts", r.n_b,
			   r.n_b_timeout) &&
	       ASSERT_TRUE(r.n_a_ok == r.n_a, "A's checks succeed: %d of %d",
			   r.n_a_ok, r.n_a) &&
	       ASSERT_TRUE(r.n_a >= want * 8 / 10,
			   "A checked %d times in %d ms at %d ms (want >= %d)",
			   r.n_a, RUN_MS, A_IVAL_MS, want * 8 / 10) &&
	       ASSERT_TRUE(r.max_gap <= 2 * A_IVAL_MS,
			   "A's longest gap between checks: %llu ms (want <= "
			   "%d)",
			   (unsigned long long)r.max_gap, 2 * A_IVAL_MS);
}

int main(void)
{
	check_report("health: down after fall failures in a row, up after "
		     "rise successes in a row",
		     check_state_machine());
	check_report("health: the HTTP status line (2xx and 3xx healthy)",
		     check_http_status());
	check_report("health: probes (tcp connect, http GET) on loopback, "
		     "IPv4 and IPv6",
		     check_probes());
	check_report("health: a black-holed backend does not delay another "
		     "service's checks (each probe on its own deadline)",
		     check_loop());
	return check_failed ? 1 : 0;
}
