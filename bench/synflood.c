// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synflood: a bounded TCP SYN (or bare ACK) flood from spoofed sources,
 * for the synproxy tests and the SYN-flood benchmark. It writes Ethernet
 * frames on an interface (AF_PACKET), sources drawn at random from a
 * prefix that must lie in the documentation/benchmark ranges
 * (198.18.0.0/15, 2001:db8::/32), and stops after --count frames or
 * --seconds, whichever comes first; with --listen it also counts the
 * SYN-ACKs (or RSTs) coming back on the same interface, until --wait
 * seconds after the last frame sent.
 *
 *   synflood --iface IF --dst-mac MAC --dst ADDR --dport PORT
 *            --src-prefix PREFIX [--count N] [--seconds S] [--ack]
 *            [--listen] [--wait S]
 * Prints one JSON line: {"sent":N,"seconds":S,"pps":R,"synacks":N,
 * "rsts":N}. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define BATCH 64

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static int parse_mac(const char *s, uint8_t *m)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2],
		      &m[3], &m[4], &m[5]) == 6
		   ? 0
		   : -1;
}

/* prefix in the allowed ranges: 198.18.0.0/15 and 2001:db8::/32 */
static int allowed(int fam, const uint8_t *a, int plen)
{
	if (fam == AF_INET)
		return plen >= 15 && a[0] == 198 && (a[1] & 0xfe) == 18;
	return plen >= 32 && a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d &&
	       a[3] == 0xb8;
}

/* Counts one received frame if it is an answer to the flood (to our
 * source MAC, received: our own frames are PACKET_OUTGOING and carry
 * another destination): a SYN-ACK or a RST. */
static void count_reply(const uint8_t *smac, const uint8_t *r, ssize_t n,
			long *synacks, long *rsts)
{
	size_t tho;

	if (n < 14 || memcmp(r, smac, 6))
		return;
	tho = r[12] == 0x08 ? 14 + (size_t)(r[14] & 0xf) * 4 : 54;
	if ((size_t)n < tho + 14)
		return;
	if ((r[tho + 13] & 0x12) == 0x12)
		(*synacks)++;
	else if (r[tho + 13] & 0x04)
		(*rsts)++;
}

int main(int argc, char **argv)
{
	const char *iface = NULL, *dmac_s = NULL, *dst_s = NULL, *pfx_s = NULL;
	long count = 10000, dport = 80;
	double seconds = 10, wait_s = 1;
	int ack = 0, listen_back = 0, fam, plen, fd, ifx;
	uint8_t dmac[6], smac[6], dst[16], pfx[16];
	struct sockaddr_ll sll = {0};
	static const struct option o[] = {
	    {"iface", 1, 0, 'i'},
	    {"dst-mac", 1, 0, 'm'},
	    {"dst", 1, 0, 'd'},
	    {"dport", 1, 0, 'p'},
	    {"src-prefix", 1, 0, 's'},
	    {"count", 1, 0, 'c'},
	    {"seconds", 1, 0, 't'},
	    {"ack", 0, 0, 'a'},
	    {"listen", 0, 0, 'l'},
	    {"wait", 1, 0, 'w'},
	    {0},
	};
	char *slash;
	int c;

	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'i':
			iface = optarg;
			break;
		case 'm':
			dmac_s = optarg;
			break;
		case 'd':
			dst_s = optarg;
			break;
		case 'p':
			dport = strtol(optarg, NULL, 10);
			break;
		case 's':
			pfx_s = optarg;
			break;
		case 'c':
			count = strtol(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'a':
			ack = 1;
			break;
		case 'l':
			listen_back = 1;
			break;
		case 'w':
			wait_s = strtod(optarg, NULL);
			break;
		default:
			return 2;
		}
	}
	if (!iface || !dmac_s || !dst_s || !pfx_s || parse_mac(dmac_s, dmac) ||
	    count < 1 || count > 100000000 || seconds <= 0 || seconds > 600 ||
	    dport < 1 || dport > 65535) {
		fprintf(stderr,
			"usage: synflood --iface IF --dst-mac MAC --dst "
			"ADDR --dport PORT --src-prefix PREFIX [--count "
			"N] [--seconds S] [--ack] [--listen] [--wait "
			"S]\n");
		return 2;
	}
	fam = strchr(dst_s, ':') ? AF_INET6 : AF_INET;
	slash = strchr(pfx_s, '/');
	plen = slash ? atoi(slash + 1) : (fam == AF_INET ? 32 : 128);
	if (slash)
		*slash = 0;
	memset(pfx, 0, sizeof(pfx));
	if (inet_pton(fam, dst_s, dst) != 1 ||
	    inet_pton(fam, pfx_s, pfx) != 1 || !allowed(fam, pfx, plen) ||
	    !allowed(fam, dst, fam == AF_INET ? 32 : 128)) {
		fprintf(stderr, "synflood: addresses must be of one family and "
				"in 198.18.0.0/15 or 2001:db8::/32\n");
		return 2;
	}
	ifx = (int)if_nametoindex(iface);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (!ifx || fd < 0) {
		fprintf(stderr, "synflood: %s: %s\n", iface, strerror(errno));
		return 1;
	}
	{
		/* the frames come from the interface's own address, where
		 * the answers (from XDP or from a routing stack) go back */
		struct ifreq ifr = {0};

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
		if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
			fprintf(stderr, "synflood: %s: %s\n", iface,
				strerror(errno));
			return 1;
		}
		memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	}
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifx;
	sll.sll_protocol = htons(ETH_P_ALL);
	{
		/* room for the answers between two drains */
		int rb = 256 << 20;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)))
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "synflood: bind: %s\n", strerror(errno));
		return 1;
	}

	size_t alen = fam == AF_INET ? 4 : 16, l3 = 14,
	       iphl = fam == AF_INET ? 20 : 40, tl = 20 + (ack ? 0 : 4),
	       len = l3 + iphl + tl;
	static uint8_t frames[BATCH][128];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	long sent = 0, synacks = 0, rsts = 0;
	int one = 1;

	/* past the qdisc: the lab measures the receiver, not the sender */
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	double t0 = now_s(), t_end = t0 + seconds, t_last;

	for (; sent < count && now_s() < t_end;) {
		int k;

		for (k = 0; k < BATCH && sent + k < count; k++) {
			uint8_t src[16], *f = frames[k], *ip = f + l3,
					 *th = ip + iphl;
			uint32_t s = 0;

			memcpy(src, pfx, 16);
			for (size_t b = (size_t)plen; b < alen * 8; b++)
				if (next_rand() & 1)
					src[b / 8] |=
					    (uint8_t)(0x80 >> (b % 8));
			memset(f, 0, sizeof(frames[k]));
			memcpy(f, dmac, 6);
			memcpy(f + 6, smac, 6);
			if (fam == AF_INET) {
				f[12] = 0x08;
				ip[0] = 0x45;
				ip[2] = (uint8_t)((iphl + tl) >> 8);
				ip[3] = (uint8_t)(iphl + tl);
				ip[8] = 64;
				ip[9] = IPPROTO_TCP;
				memcpy(ip + 12, src, 4);
				memcpy(ip + 16, dst, 4);
				uint16_t ic = csum_fold(csum_add(0, ip, 20));
				ip[10] = (uint8_t)(ic >> 8);
				ip[11] = (uint8_t)ic;
				s = csum_add(s, ip + 12, 8);
			} else {
				f[12] = 0x86;
				f[13] = 0xdd;
				ip[0] = 0x60;
				ip[5] = (uint8_t)tl;
				ip[6] = IPPROTO_TCP;
				ip[7] = 64;
				memcpy(ip + 8, src, 16);
				memcpy(ip + 24, dst, 16);
				s = csum_add(s, ip + 8, 32);
			}
			uint16_t sp = (uint16_t)(1024 + next_rand() % 60000);
			uint32_t seq = (uint32_t)next_rand();
			th[0] = (uint8_t)(sp >> 8);
			th[1] = (uint8_t)sp;
			th[2] = (uint8_t)(dport >> 8);
			th[3] = (uint8_t)dport;
			memcpy(th + 4, &seq, 4);
			if (ack) {
				uint32_t a = (uint32_t)next_rand();

				memcpy(th + 8, &a, 4);
			}
			th[12] = (uint8_t)((tl / 4) << 4);
			th[13] = ack ? 0x10 : 0x02;
			th[14] = 0xfa;
			if (!ack) { /* MSS 1460 */
				th[20] = 2;
				th[21] = 4;
				th[22] = 0x05;
				th[23] = 0xb4;
			}
			s += IPPROTO_TCP + (uint32_t)tl;
			uint16_t tc = csum_fold(csum_add(s, th, tl));
			th[16] = (uint8_t)(tc >> 8);
			th[17] = (uint8_t)tc;
			iov[k].iov_base = f;
			iov[k].iov_len = len;
			memset(&msgs[k], 0, sizeof(msgs[k]));
			msgs[k].msg_hdr.msg_iov = &iov[k];
			msgs[k].msg_hdr.msg_iovlen = 1;
		}
		/* one syscall a batch; what the kernel did not take is
		 * resent (ENOBUFS: the device queue is full) */
		int done = 0;

		while (done < k) {
			int r =
			    sendmmsg(fd, msgs + done, (unsigned)(k - done), 0);

			if (r < 0 && errno != ENOBUFS && errno != EAGAIN) {
				fprintf(stderr, "synflood: send: %s\n",
					strerror(errno));
				return 1;
			}
			done += r > 0 ? r : 0;
			if (r <= 0 && now_s() >= t_end)
				break;
		}
		sent += done;
		/* drain what came back meanwhile */
		while (listen_back) {
			uint8_t r[256];
			ssize_t n = recv(fd, r, sizeof(r), MSG_DONTWAIT);

			if (n <= 0)
				break;
			count_reply(smac, r, n, &synacks, &rsts);
		}
	}
	t_last = now_s();
	while (listen_back && now_s() < t_last + wait_s) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint8_t r[256];

		if (poll(&p, 1, 50) > 0)
			count_reply(smac, r,
				    recv(fd, r, sizeof(r), MSG_DONTWAIT),
				    &synacks, &rsts);
	}
	printf("{\"sent\":%ld,\"seconds\":%.3f,\"pps\":%.0f,\"synacks\":%ld,"
	       "\"rsts\":%ld}\n",
	       sent, t_last - t0, sent / (t_last - t0), synacks, rsts);
	close(fd);
	return 0;
}
