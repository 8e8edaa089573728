// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* httpd: the HTTP server of the load balancer's veth lab
 * (bench/lab_lb.sh), fast enough not to be what the lab measures: one
 * thread, epoll, non-blocking sockets, every request answered at once
 * with a fixed small body ("NAME\n"), keep-alive unless the request says
 * "Connection: close" (or is HTTP/1.0 without keep-alive), then closed
 * after the answer. Listens on [::] (IPv4 and IPv6) on each PORT.
 *   httpd [--name NAME] [--seconds N] PORT...
 * Exits after N seconds (600 by default) so that it is bounded even when
 * its lab's teardown does not run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define MAX_PORTS 8
#define MAX_FDS	  65536
#define BUF	  4096

/* One connection's unparsed input. */
struct conn {
	size_t len;
	char buf[BUF];
};

static struct conn *conns[MAX_FDS];
static char ans_keep[256], ans_close[256];
static size_t len_keep, len_close;

static int listen_on(int port)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
				 .sin6_port = htons(port),
				 .sin6_addr = IN6ADDR_ANY_INIT};
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1,
	    zero = 0;

	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(fd, (void *)&a, sizeof(a)) || listen(fd, 4096)) {
		fprintf(stderr, "httpd: port %d: %s\n", port, strerror(errno));
		exit(1);
	}
	return fd;
}

static void drop(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(conns[fd]);
	conns[fd] = NULL;
}

/* The header named name (case-insensitive) in head[0..n) has token. */
static bool header_has(const char *head, const char *name, const char *token)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n"))
		if (!strncasecmp(l + 2, name, nl) && l[2 + nl] == ':') {
			const char *end = strstr(l + 2, "\r\n");
			size_t tl = strlen(token);

			for (const char *c = l + 3 + nl; end && c + tl <= end;
			     c++)
				if (!strncasecmp(c, token, tl))
					return true;
		}
	return false;
}

/* Answers every complete request in c's buffer; false: close fd. */
static bool serve(int fd, struct conn *c)
{
	char *end;

	while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
		size_t used = (size_t)(end + 4 - c->buf);
		const char *eol;
		bool v10, close_it;

		end[2] = 0; /* the head, its last line's CRLF kept */
		eol = strstr(c->buf, "\r\n");
		v10 = eol - c->buf >= 8 && !memcmp(eol - 8, "HTTP/1.0", 8);
		close_it =
		    header_has(c->buf, "Connection", "close") ||
		    (v10 && !header_has(c->buf, "Connection", "keep-alive"));
		if (close_it) {
			/* (a small answer: the socket's buffer takes it) */
			send(fd, ans_close, len_close, MSG_NOSIGNAL);
			return false;
		}
		if (send(fd, ans_keep, len_keep, MSG_NOSIGNAL) !=
		    (ssize_t)len_keep)
			return false;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
	return c->len < BUF - 1;
}

int main(int argc, char **argv)
{
	const char *name = "httpd";
	int seconds = 600, lfd[MAX_PORTS], nl = 0, ep;
	struct epoll_event ev, evs[256];
	time_t end;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atoi(argv[++i]);
		else if (atoi(argv[i]) > 0 && atoi(argv[i]) < 65536 &&
			 nl < MAX_PORTS)
			lfd[nl++] = atoi(argv[i]);
		else {
			fprintf(stderr, "usage: httpd [--name NAME] "
					"[--seconds N] PORT...\n");
			return 2;
		}
	}
	if (!nl || seconds <= 0) {
		fprintf(stderr, "usage: httpd [--name NAME] [--seconds N] "
				"PORT...\n");
		return 2;
	}
	len_keep = (size_t)snprintf(ans_keep, sizeof(ans_keep),
				    "HTTP/1.1 200 OK\r\nContent-Type: "
				    "text/plain\r\nContent-Length: %zu\r\n\r\n"
				    "%s\n",
				    strlen(name) + 1, name);
	len_close = (size_t)snprintf(
	    ans_close, sizeof(ans_close),
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
	    "%zu\r\nConnection: close\r\n\r\n%s\n",
	    strlen(name) + 1, name);
	if (len_keep >= sizeof(ans_keep) || len_close >= sizeof(ans_close)) {
		fprintf(stderr, "httpd: --name too long\n");
		return 2;
	}
	ep = epoll_create1(0);
	for (int i = 0; i < nl; i++) {
		lfd[i] = listen_on(lfd[i]);
		ev = (struct epoll_event){.events = EPOLLIN, .data.fd = lfd[i]};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd[i], &ev))
			return 1;
	}
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		int n = epoll_wait(ep, evs, 256, 1000);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, c, one = 1;
			bool listener = false;
			struct conn *cn;
			ssize_t r;

			for (int j = 0; j < nl; j++)
				listener |= fd == lfd[j];
			while (listener && (c = accept4(fd, NULL, NULL,
							SOCK_NONBLOCK)) >= 0) {
				if (c >= MAX_FDS ||
				    !(conns[c] = calloc(1, sizeof(*cn)))) {
					close(c);
					continue;
				}
				setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one,
					   sizeof(one));
				ev = (struct epoll_event){.events = EPOLLIN,
							  .data.fd = c};
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
			}
			if (listener)
				continue;
			cn = conns[fd];
			r = recv(fd, cn->buf + cn->len, BUF - 1 - cn->len, 0);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				drop(ep, fd);
				continue;
			}
			cn->len += (size_t)r;
			if (!serve(fd, cn))
				drop(ep, fd);
		}
	}
	return 0;
}
