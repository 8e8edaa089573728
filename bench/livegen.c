// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* livegen: a traffic generator for the veth lab of bench/lab_pps.sh.
 * It builds IPv4 UDP or TCP frames and sends them with
 * bpf_prog_test_run_opts(BPF_F_TEST_XDP_LIVE_FRAMES): the kernel runs
 * livegen_tx (bench/livegen.bpf.c) on each frame as if it had arrived on
 * --ifname, and the program's XDP_TX sends it out of that interface. On a
 * veth the frame lands in the peer's XDP receive path, so the peer needs an
 * XDP program (a firewall under test, or `livegen attach IFACE pass|drop`).
 *
 *   livegen send --ifname IF --dst-mac MAC [options]
 *   livegen attach --ifname IF drop|pass [--generic]
 *
 * send is bounded: it stops after --count frames or --seconds seconds,
 * whichever comes first, and prints one line:
 *   livegen sent=N seconds=S pps=P size=B tuples=K batch=N
 * `sent` is the number of frames the program returned XDP_TX for; whether
 * the veth accepted each of them is for the receiver's counters to say.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "livegen.h"
#include "livegen.skel.h"

#define MAX_TUPLES 65536
#define MAX_FRAME  1514
#define MIN_FRAME  60

struct tuple {
	struct in_addr src, dst;
	int proto;
	unsigned int sport, dport;
	int syn; /* TCP: a SYN (else an ACK) */
};

struct opts {
	const char *ifname;
	unsigned char dst_mac[ETH_ALEN];
	int have_dst_mac;
	struct tuple t;
	const char *tuples_file;
	unsigned int size;
	unsigned long long count;
	double seconds;
	unsigned int batch;
	unsigned int chunk;
	int cpu;
	int generic;
	const char *loop_a, *loop_b; /* --loop A,B: the bounce generator */
	int syn;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: livegen send --ifname IF --dst-mac MAC [--src IP] "
	    "[--dst IP]\n"
	    "         [--proto udp|tcp] [--sport N] [--dport N] "
	    "[--tuples FILE]\n"
	    "         [--size BYTES] [--count N] [--seconds S] "
	    "[--batch N] [--chunk N]\n"
	    "         [--cpu N] [--loop A,B] [--syn]\n"
	    "       livegen attach --ifname IF drop|pass [--generic]\n"
	    "defaults: 198.18.0.1 -> 198.18.0.2 udp 1024 -> 9, 60 bytes,\n"
	    "  count 10000000, seconds 2, batch 64, chunk 262144 (frames per\n"
	    "  test run at most; fewer when the receiver is slow)\n"
	    "--tuples FILE: lines `src dst proto sport dport` (proto udp or "
	    "tcp),\n"
	    "  sent in turn (at most %d)\n"
	    "--loop A,B: without live frames. A and B are the two ends of a\n"
	    "  veth pair of the generator's own: seed frames go out of A, and\n"
	    "  an XDP program on B sends each frame both back out of A and "
	    "out\n"
	    "  of --ifname: one frame to the receiver a round (--batch and\n"
	    "  --chunk unused)\n"
	    "--syn: TCP frames are SYNs (default: ACKs)\n",
	    MAX_TUPLES);
}

static int parse_mac(const char *s, unsigned char *mac)
{
	unsigned int b[ETH_ALEN];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != ETH_ALEN)
		return -1;
	for (int i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = b[i];
	}
	return 0;
}

static int parse_proto(const char *s)
{
	if (!strcmp(s, "udp") || !strcmp(s, "17"))
		return IPPROTO_UDP;
	if (!strcmp(s, "tcp") || !strcmp(s, "6"))
		return IPPROTO_TCP;
	return -1;
}

static int parse_port(const char *s, unsigned int *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > 65535)
		return -1;
	*port = v;
	return 0;
}

static int parse_tuple(char *line, struct tuple *t)
{
	char *f[5], *save = NULL;
	int n = 0;

	for (char *p = strtok_r(line, " \t\r\n", &save); p && n < 6;
	     p = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 5)
			return -1;
		f[n++] = p;
	}
	if (n != 5)
		return -1;
	if (inet_pton(AF_INET, f[0], &t->src) != 1 ||
	    inet_pton(AF_INET, f[1], &t->dst) != 1)
		return -1;
	t->proto = parse_proto(f[2]);
	if (t->proto < 0 || parse_port(f[3], &t->sport) ||
	    parse_port(f[4], &t->dport))
		return -1;
	return 0;
}

/* Reads `src dst proto sport dport` lines; blank lines and # comments are
 * skipped. Returns the number of tuples, or -1. */
static int read_tuples(const char *path, struct tuple *out, int max)
{
	char line[256];
	int n = 0, lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "livegen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (n == max) {
			fprintf(stderr, "livegen: %s: more than %d tuples\n",
				path, max);
			n = -1;
			break;
		}
		if (parse_tuple(p, &out[n])) {
			fprintf(stderr,
				"livegen: %s:%d: expected `src dst udp|tcp "
				"sport dport`\n",
				path, lineno);
			n = -1;
			break;
		}
		n++;
	}
	fclose(f);
	if (n == 0)
		fprintf(stderr, "livegen: %s: no tuples\n", path);
	return n > 0 ? n : -1;
}

/* The Internet checksum of buf, continuing from sum (host order). */
static __u32 csum_add(__u32 sum, const void *buf, size_t len)
{
	const __u8 *b = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (i < len)
		sum += b[i] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/* Ethernet + IPv4 + UDP or TCP (ACK, no options), zero payload up to size
 * bytes, all checksums right. */
static void build_frame(unsigned char *frame, unsigned int size,
			const unsigned char *src_mac,
			const unsigned char *dst_mac, const struct tuple *t)
{
	struct ethhdr *eth = (struct ethhdr *)frame;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	unsigned char *l4 = (unsigned char *)(ip + 1);
	unsigned int l4_len = size - sizeof(*eth) - sizeof(*ip);
	struct {
		__be32 src, dst;
		__u8 zero, proto;
		__be16 len;
	} __attribute__((packed)) ph;
	__u32 sum;

	memset(frame, 0, size);
	memcpy(eth->h_dest, dst_mac, ETH_ALEN);
	memcpy(eth->h_source, src_mac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(size - sizeof(*eth));
	ip->ttl = 64;
	ip->protocol = t->proto;
	ip->saddr = t->src.s_addr;
	ip->daddr = t->dst.s_addr;
	ip->check = csum_fold(csum_add(0, ip, sizeof(*ip)));

	if (t->proto == IPPROTO_UDP) {
		struct udphdr *udp = (struct udphdr *)l4;

		udp->source = htons(t->sport);
		udp->dest = htons(t->dport);
		udp->len = htons(l4_len);
	} else {
		struct tcphdr *tcp = (struct tcphdr *)l4;

		tcp->source = htons(t->sport);
		tcp->dest = htons(t->dport);
		tcp->seq = htonl(1);
		tcp->doff = 5;
		if (t->syn) {
			tcp->syn = 1;
		} else {
			tcp->ack_seq = htonl(1);
			tcp->ack = 1;
		}
		tcp->window = htons(512);
	}
	ph.src = ip->saddr;
	ph.dst = ip->daddr;
	ph.zero = 0;
	ph.proto = t->proto;
	ph.len = htons(l4_len);
	sum = csum_add(csum_add(0, &ph, sizeof(ph)), l4, l4_len);
	if (t->proto == IPPROTO_UDP) {
		__u16 c = csum_fold(sum);

		((struct udphdr *)l4)->check = c ? c : 0xffff;
	} else {
		((struct tcphdr *)l4)->check = csum_fold(sum);
	}
}

static int if_mac(const char *ifname, unsigned char *mac)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	err = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (err)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define BOUNCE_SEEDS 64

/* The bounce generator (--loop A,B; livegen.bpf.c, bounce_tx): bounce_tx
 * on B, the devmap holding A and the interface to the receiver, seeds sent
 * out of A on a packet socket; then the frames circle by themselves until
 * the count or the time is reached. Prints the same line as the live
 * generator, with mode=bounce; 0 or 1. */
static int send_bounce(const struct opts *o, struct livegen *skel, int ifindex,
		       const unsigned char *frame, int n)
{
	int ia = if_nametoindex(o->loop_a), ib = if_nametoindex(o->loop_b);
	struct sockaddr_ll sa = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_ALL)};
	__u32 k0 = 0, k1 = 1;
	double t0, t1, last_t;
	__u64 sent, last = 0;
	int fd, err = 1;

	if (!ia || !ib) {
		fprintf(stderr, "livegen: no interface %s or %s\n", o->loop_a,
			o->loop_b);
		return 1;
	}
	if (bpf_map__update_elem(skel->maps.bounce_out, &k0, sizeof(k0), &ia,
				 sizeof(ia), BPF_ANY) ||
	    bpf_map__update_elem(skel->maps.bounce_out, &k1, sizeof(k1),
				 &ifindex, sizeof(ifindex), BPF_ANY)) {
		fprintf(stderr, "livegen: cannot fill the devmap: %s\n",
			strerror(errno));
		return 1;
	}
	skel->bss->bounce_limit = o->count;
	skel->bss->bounce_stop = 0;
	if (bpf_xdp_attach(ib, bpf_program__fd(skel->progs.bounce_tx),
			   XDP_FLAGS_DRV_MODE, NULL)) {
		fprintf(stderr, "livegen: cannot attach to %s: %s\n", o->loop_b,
			strerror(errno));
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	sa.sll_ifindex = ia;
	if (fd < 0) {
		fprintf(stderr, "livegen: packet socket: %s\n",
			strerror(errno));
		goto out;
	}
	t0 = now();
	for (int i = 0; i < BOUNCE_SEEDS; i++)
		if (sendto(fd, frame, o->size, 0, (struct sockaddr *)&sa,
			   sizeof(sa)) != (ssize_t)o->size) {
			fprintf(stderr, "livegen: seed: %s\n", strerror(errno));
			goto out;
		}
	/* Bounded by the time and the count; a loop that lost all its
	 * frames (nothing new for 200 ms) ends it too. */
	last_t = t1 = now();
	do {
		usleep(2000);
		t1 = now();
		sent = skel->bss->bounced;
		if (sent != last) {
			last = sent;
			last_t = t1;
		}
	} while (sent < o->count && t1 - t0 < o->seconds && t1 - last_t < 0.2);
	skel->bss->bounce_stop = 1;
	sent = skel->bss->bounced;
	t1 = now();
	printf("livegen sent=%llu seconds=%.6f pps=%.0f size=%u tuples=%d "
	       "mode=bounce seeds=%d\n",
	       (unsigned long long)sent, t1 - t0,
	       t1 > t0 ? sent / (t1 - t0) : 0.0, o->size, n, BOUNCE_SEEDS);
	err = 0;
out:
	if (fd >= 0)
		close(fd);
	usleep(20000); /* what still circles is dropped (bounce_stop) */
	bpf_xdp_detach(ib, XDP_FLAGS_DRV_MODE, NULL);
	return err;
}

static int cmd_send(const struct opts *o)
{
	static struct tuple tuples[MAX_TUPLES];
	static unsigned char frame[MAX_FRAME];
	unsigned char src_mac[ETH_ALEN];
	struct livegen *skel = NULL;
	unsigned long long sent = 0, chunk = o->chunk;
	int n = 1, ifindex, fd, err = 1;
	double t0, t1;

	ifindex = if_nametoindex(o->ifname);
	if (!ifindex || if_mac(o->ifname, src_mac)) {
		fprintf(stderr, "livegen: no interface %s\n", o->ifname);
		return 1;
	}
	if (o->tuples_file) {
		n = read_tuples(o->tuples_file, tuples, MAX_TUPLES);
		if (n < 0)
			return 2;
	} else {
		tuples[0] = o->t;
	}
	for (int i = 0; i < n; i++)
		tuples[i].syn = o->syn;
	if (o->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			fprintf(stderr, "livegen: cannot pin to CPU %d\n",
				o->cpu);
	}

	skel = livegen__open();
	if (!skel) {
		fprintf(stderr, "livegen: cannot open the BPF object\n");
		return 1;
	}
	skel->rodata->n_tuples = n;
	bpf_map__set_max_entries(skel->maps.livegen_hdrs, n);
	bpf_program__set_autoload(skel->progs.sink_drop, false);
	bpf_program__set_autoload(skel->progs.sink_pass, false);
	bpf_program__set_autoload(skel->progs.livegen_tx, !o->loop_a);
	bpf_program__set_autoload(skel->progs.bounce_tx, !!o->loop_a);
	if (livegen__load(skel)) {
		fprintf(stderr, "livegen: cannot load the BPF program\n");
		goto out;
	}
	/* Every tuple's headers go into the map; the first tuple's whole
	 * frame is the test-run input (the rest of the frame is zero for all
	 * tuples, so the copied headers make a complete frame). */
	for (int i = 0; i < n; i++) {
		struct livegen_hdr h;
		__u32 k = i;

		build_frame(frame, o->size, src_mac, o->dst_mac, &tuples[i]);
		memcpy(h.bytes, frame, sizeof(h.bytes));
		if (bpf_map__update_elem(skel->maps.livegen_hdrs, &k, sizeof(k),
					 &h, sizeof(h), BPF_ANY)) {
			fprintf(stderr, "livegen: cannot write header %d\n", i);
			goto out;
		}
	}
	build_frame(frame, o->size, src_mac, o->dst_mac, &tuples[0]);
	if (o->loop_a) {
		err = send_bounce(o, skel, ifindex, frame, n);
		goto out;
	}

	fd = bpf_program__fd(skel->progs.livegen_tx);
	t0 = now();
	t1 = t0;
	while (sent < o->count && t1 - t0 < o->seconds) {
		struct xdp_md ctx = {
		    .data_end = o->size,
		    .ingress_ifindex = ifindex,
		};
		unsigned long long left = o->count - sent;
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame,
			    .data_size_in = o->size, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .batch_size = o->batch);

		run.repeat = left < chunk ? left : chunk;
		if (bpf_prog_test_run_opts(fd, &run)) {
			fprintf(stderr, "livegen: test run: %s\n",
				strerror(errno));
			goto out;
		}
		sent += run.repeat;
		t1 = now();
		/* Keep each test run near 50 ms, so the time bound holds on
		 * slow receivers too. */
		if (t1 > t0 && sent / (t1 - t0) * 0.05 < chunk)
			chunk = sent / (t1 - t0) * 0.05 + 64;
	}
	printf("livegen sent=%llu seconds=%.6f pps=%.0f size=%u tuples=%d "
	       "batch=%u\n",
	       sent, t1 - t0, t1 > t0 ? sent / (t1 - t0) : 0.0, o->size, n,
	       o->batch);
	err = 0;
out:
	livegen__destroy(skel);
	return err;
}

/* Attaches sink_drop or sink_pass through netlink (no bpf_link), so the
 * program stays after livegen exits; `ip link set IF xdp off` or deleting
 * the interface removes it. */
static int cmd_attach(const struct opts *o, const char *what)
{
	struct livegen *skel;
	struct bpf_program *prog;
	int ifindex = if_nametoindex(o->ifname), err = 1;
	__u32 flags = o->generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;

	if (!ifindex) {
		fprintf(stderr, "livegen: no interface %s\n", o->ifname);
		return 1;
	}
	skel = livegen__open();
	if (!skel)
		return 1;
	bpf_program__set_autoload(skel->progs.livegen_tx, false);
	bpf_program__set_autoload(skel->progs.bounce_tx, false);
	bpf_program__set_autoload(skel->progs.sink_drop, !strcmp(what, "drop"));
	bpf_program__set_autoload(skel->progs.sink_pass, !strcmp(what, "pass"));
	prog = !strcmp(what, "drop") ? skel->progs.sink_drop
				     : skel->progs.sink_pass;
	if (livegen__load(skel)) {
		fprintf(stderr, "livegen: cannot load the BPF program\n");
		goto out;
	}
	if (bpf_xdp_attach(ifindex, bpf_program__fd(prog), flags, NULL)) {
		fprintf(stderr, "livegen: cannot attach to %s: %s\n", o->ifname,
			strerror(errno));
		goto out;
	}
	err = 0;
out:
	livegen__destroy(skel);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"ifname", required_argument, NULL, 'i'},
	    {"dst-mac", required_argument, NULL, 'm'},
	    {"src", required_argument, NULL, 's'},
	    {"dst", required_argument, NULL, 'd'},
	    {"proto", required_argument, NULL, 'p'},
	    {"sport", required_argument, NULL, 'S'},
	    {"dport", required_argument, NULL, 'D'},
	    {"tuples", required_argument, NULL, 't'},
	    {"size", required_argument, NULL, 'z'},
	    {"count", required_argument, NULL, 'c'},
	    {"seconds", required_argument, NULL, 'T'},
	    {"batch", required_argument, NULL, 'b'},
	    {"chunk", required_argument, NULL, 'k'},
	    {"cpu", required_argument, NULL, 'C'},
	    {"generic", no_argument, NULL, 'g'},
	    {"loop", required_argument, NULL, 'L'},
	    {"syn", no_argument, NULL, 'y'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct opts o = {
	    .size = MIN_FRAME,
	    .count = 10000000,
	    .seconds = 2,
	    .batch = 64,
	    .chunk = 262144,
	    .cpu = -1,
	    .t = {.proto = IPPROTO_UDP, .sport = 1024, .dport = 9},
	};
	const char *cmd;
	char *end;
	int c;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	inet_pton(AF_INET, "198.18.0.1", &o.t.src);
	inet_pton(AF_INET, "198.18.0.2", &o.t.dst);
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'i':
			o.ifname = optarg;
			break;
		case 'm':
			bad = parse_mac(optarg, o.dst_mac);
			o.have_dst_mac = 1;
			break;
		case 's':
			bad = inet_pton(AF_INET, optarg, &o.t.src) != 1;
			break;
		case 'd':
			bad = inet_pton(AF_INET, optarg, &o.t.dst) != 1;
			break;
		case 'p':
			o.t.proto = parse_proto(optarg);
			bad = o.t.proto < 0;
			break;
		case 'S':
			bad = parse_port(optarg, &o.t.sport);
			break;
		case 'D':
			bad = parse_port(optarg, &o.t.dport);
			break;
		case 't':
			o.tuples_file = optarg;
			break;
		case 'z':
			o.size = strtoul(optarg, &end, 10);
			bad = *end || o.size < MIN_FRAME || o.size > MAX_FRAME;
			break;
		case 'c':
			o.count = strtoull(optarg, &end, 10);
			bad = *end || !o.count;
			break;
		case 'T':
			o.seconds = strtod(optarg, &end);
			bad = *end || o.seconds <= 0 || o.seconds > 600;
			break;
		case 'b':
			o.batch = strtoul(optarg, &end, 10);
			bad = *end || !o.batch || o.batch > 256;
			break;
		case 'k':
			o.chunk = strtoul(optarg, &end, 10);
			bad = *end || !o.chunk;
			break;
		case 'C':
			o.cpu = strtol(optarg, &end, 10);
			bad = *end || o.cpu < 0;
			break;
		case 'g':
			o.generic = 1;
			break;
		case 'y':
			o.syn = 1;
			break;
		case 'L': {
			char *comma = strchr(optarg, ',');

			bad = !comma || comma == optarg || !comma[1];
			if (!bad) {
				*comma = 0;
				o.loop_a = optarg;
				o.loop_b = comma + 1;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			return 2;
		}
		if (bad) {
			fprintf(stderr, "livegen: bad option value: %s\n",
				optarg);
			return 2;
		}
	}
	if (!o.ifname) {
		fprintf(stderr, "livegen: --ifname is required\n");
		return 2;
	}
	if (!strcmp(cmd, "send")) {
		if (!o.have_dst_mac || optind != argc) {
			fprintf(stderr, "livegen: send needs --dst-mac and no "
					"operands\n");
			return 2;
		}
		return cmd_send(&o);
	}
	if (!strcmp(cmd, "attach")) {
		if (optind != argc - 1 || (strcmp(argv[optind], "drop") &&
					   strcmp(argv[optind], "pass"))) {
			fprintf(stderr, "livegen: attach needs drop or pass\n");
			return 2;
		}
		return cmd_attach(&o, argv[optind]);
	}
	fprintf(stderr, "livegen: unknown command %s\n", cmd);
	return 2;
}
