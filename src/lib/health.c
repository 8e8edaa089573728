// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* health: the load balancer's health checks, the parts that touch no
 * state (docs/loadbalancer.md, Health checks): the rise/fall state
 * machine, the HTTP status line, and the probes themselves (TCP connect,
 * or HTTP/1.0 GET over the connection) on non-blocking sockets from the
 * caller's network namespace, stepped one poll event at a time, so that
 * a caller's event loop (lb_health.c) runs each one on its own. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "sluice.h"

bool sl_lb_health_step(struct sl_lb_be_health *h, bool ok, unsigned rise,
		       unsigned fall, uint64_t now)
{
	h->checks++;
	if (ok) {
		h->fail = 0;
		if (h->ok < UINT32_MAX)
			h->ok++;
		if (h->state == SL_LB_DOWN && h->ok >= rise) {
			h->state = SL_LB_UP;
			h->since = now;
			return true;
		}
		return false;
	}
	h->ok = 0;
	if (h->fail < UINT32_MAX)
		h->fail++;
	if (h->state != SL_LB_DOWN && h->fail >= fall) {
		h->state = SL_LB_DOWN;
		h->since = now;
		return true;
	}
	return false;
}

int sl_http_status(const char *buf, size_t len)
{
	static const char v[] = "HTTP/1.";
	int st = 0;

	/* "HTTP/1.x SSS" then a space or the end of the line: decided from
	 * these 13 bytes, whatever the length of the reason phrase */
	for (size_t i = 0; i < len && i < 13; i++) {
		char c = buf[i];
		bool ok;

		if (i < sizeof(v) - 1)
			ok = c == v[i];
		else if (i == 8)
			ok = c == ' ';
		else if (i == 12)
			ok = c == ' ' || c == '\r' || c == '\n';
		else
			ok = c >= '0' && c <= '9';
		if (!ok)
			return -EPROTO;
		if (i >= 9 && i < 12)
			st = st * 10 + c - '0';
	}
	if (len < 13)
		return -EAGAIN;
	return st >= 100 && st <= 599 ? st : -EPROTO;
}

bool sl_http_healthy(int status)
{
	return status >= 200 && status <= 399;
}

enum { P_CONNECT, P_SEND, P_RECV, P_DONE };

/* The probe is over: its connection closed at once (a server that
 * serves one connection at a time sees the next). */
static void done(struct sl_lb_probe *p)
{
	p->step = P_DONE;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static void fail(struct sl_lb_probe *p, const char *what, int err)
{
	if (err)
		snprintf(p->err, sizeof(p->err), "%s: %s", what, strerror(err));
	else
		snprintf(p->err, sizeof(p->err), "%s", what);
	p->ok = false;
	done(p);
}

void sl_lb_probe_start(struct sl_lb_probe *p)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;

	p->ok = false;
	p->err[0] = 0;
	p->len = 0;
	p->sent = 0;
	p->fd = -1;
	p->step = P_CONNECT;
	if (p->family == 4) {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(p->port);
		memcpy(&a->sin_addr, p->addr, 4);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(p->port);
		memcpy(&a->sin6_addr, p->addr, 16);
		sl = sizeof(*a);
	}
	p->fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		fail(p, "socket", errno);
		return;
	}
	if (!connect(p->fd, (void *)&ss, sl))
		p->step = P_SEND;
	else if (errno != EINPROGRESS)
		fail(p, "connect", errno);
}

bool sl_lb_probe_done(const struct sl_lb_probe *p)
{
	return p->step == P_DONE;
}

short sl_lb_probe_events(const struct sl_lb_probe *p)
{
	return p->step == P_RECV ? POLLIN : POLLOUT | POLLIN;
}

/* The request: GET path with a Host header naming the backend as the
 * service names it (ADDR:PORT, IPv6 in brackets); its length. */
static size_t request(const struct sl_lb_probe *p, char *req, size_t size)
{
	char host[64];
	int n;

	sl_lb_endpoint_format(p->addr, p->family, p->port, 0, host,
			      sizeof(host));
	n = snprintf(req, size,
		     "GET %s HTTP/1.0\r\nHost: %s\r\n"
		     "User-Agent: sluice-health\r\nConnection: close\r\n\r\n",
		     p->path[0] ? p->path : "/", host);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

void sl_lb_probe_advance(struct sl_lb_probe *p)
{
	char req[SL_LB_PATH_MAX + 160];
	int e = 0, st;
	socklen_t el = sizeof(e);
	size_t len;
	ssize_t r;

	if (p->step == P_DONE)
		return;
	if (p->step == P_CONNECT) {
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &el) || e) {
			fail(p, "connect", e ? e : errno);
			return;
		}
		p->step = P_SEND;
	}
	if (p->step == P_SEND) {
		if (p->type != SL_LB_HC_HTTP) {
			p->ok = true;
			done(p);
			return;
		}
		/* the rest of the request (a full send buffer sends part) */
		len = request(p, req, sizeof(req));
		r = send(p->fd, req + p->sent, len - p->sent, MSG_NOSIGNAL);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			fail(p, "send", r < 0 ? errno : EIO);
			return;
		}
		p->sent += (size_t)r;
		if (p->sent == len)
			p->step = P_RECV;
		return;
	}
	/* the status line may come in pieces: wait for its 13 bytes */
	r = recv(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r < 0) {
		fail(p, "recv", errno);
		return;
	}
	p->len += (size_t)r;
	st = sl_http_status(p->buf, p->len);
	if (st == -EAGAIN && r)
		return;
	if (st < 0) {
		fail(p, r ? "not an HTTP status line" : "closed", 0);
		return;
	}
	done(p);
	p->ok = sl_http_healthy(st);
	if (!p->ok)
		snprintf(p->err, sizeof(p->err), "http status %d", st);
}

void sl_lb_probe_expire(struct sl_lb_probe *p)
{
	if (p->step != P_DONE)
		fail(p, "timeout", 0);
}

static double mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

void sl_lb_probe_run(struct sl_lb_probe *p, size_t n, int timeout_ms)
{
	struct pollfd *pf = calloc(n + 1, sizeof(*pf));
	double end = mono_ms() + timeout_ms;

	for (size_t i = 0; i < n; i++) {
		p[i].fd = -1;
		if (!pf)
			fail(&p[i], "out of memory", 0);
		else
			sl_lb_probe_start(&p[i]);
	}
	for (;;) {
		size_t m = 0;
		double left = end - mono_ms();

		for (size_t i = 0; pf && i < n; i++) {
			if (sl_lb_probe_done(&p[i]))
				continue;
			pf[m].fd = p[i].fd;
			pf[m].events = sl_lb_probe_events(&p[i]);
			pf[m++].revents = 0;
		}
		if (!m)
			break;
		if (left <= 0) {
			for (size_t i = 0; i < n; i++)
				sl_lb_probe_expire(&p[i]);
			break;
		}
		if (poll(pf, m, (int)left + 1) < 0 && errno != EINTR)
			break;
		for (size_t i = 0, j = 0; i < n; i++) {
			if (sl_lb_probe_done(&p[i]))
				continue;
			if (pf[j++].revents)
				sl_lb_probe_advance(&p[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!sl_lb_probe_done(&p[i]))
			fail(&p[i], "poll", errno);
	free(pf);
}
