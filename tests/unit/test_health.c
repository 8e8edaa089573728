// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_health: the load balancer's health checks, the parts without
 * state (src/lib/health.c): the rise/fall state machine (down after fall
 * failures in a row, up after rise successes in a row, a success or a
 * failure in between starts the count again, the time of the last change
 * kept), the HTTP status line (2xx and 3xx healthy; incomplete, garbage
 * and other statuses not), and the probes against real sockets on
 * loopback (TCP connect refused and accepted, an HTTP server answering
 * 200 and 500, a server that never answers: timeout; an IPv6 one on
 * [::1] answering 302). Needs no privileges. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	       status_is("HTTP/1.0 200 OK", -EAGAIN) &&
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
};

static void *serve(void *arg)
{
	struct server *s = arg;
	char buf[256];

	for (;;) {
		int c = accept(s->fd, NULL, NULL);

		if (c < 0)
			return NULL;
		if (s->answer) {
			if (recv(c, buf, sizeof(buf), 0) > 0)
				send(c, s->answer, strlen(s->answer),
				     MSG_NOSIGNAL);
			close(c);
		}
		/* (no answer: the connection stays open, unanswered) */
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
	struct server ok200, err500, mute, six;
	uint16_t closed = closed_port();
	struct sl_lb_probe p[7];
	bool ok;

	if (!listen_on(&ok200, "HTTP/1.0 200 OK\r\n\r\nfine\n", false) ||
	    !listen_on(&err500, "HTTP/1.0 500 Oops\r\n\r\n", false) ||
	    !listen_on(&mute, NULL, false) ||
	    !listen_on(&six, "HTTP/1.1 302 Found\r\n\r\n", true) || !closed) {
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
	sl_lb_probe_run(p, 7, 300);
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
	     ASSERT_TRUE(p[6].ok, "http 302 on [::1]: %s", p[6].err);
	return ok;
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
	return check_failed ? 1 : 0;
}
