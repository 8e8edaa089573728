// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_dump: the capture of `sluice dump` (capture.h; docs/events.md,
 * Capture). Through the real programs on crafted frames
 * (bpf_prog_test_run_opts) with every verdict an event (`events: {sample:
 * 1}`): with the capture switch (sl_ev_cap) at N, each record is followed
 * by exactly the frame's first min(N, frame length, SL_EV_CAP_MAX) bytes,
 * at XDP, TC ingress and TC egress, for N below and above the frame's
 * length; at 0 the records carry no bytes. Then the pcapng writer: a file
 * parsed back block by block (types, lengths at both ends, interface
 * blocks with their names, packets with their lengths, bytes, timestamps,
 * direction flags and the verdict's comment). tcpdump and tshark read
 * both formats in tests/e2e/test_dump.sh. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "capture.h"
#include "check.h"
#include "config.h"
#include "log.h"
#include "pkt.h"
#include "skelmaps.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

#define BIG 3000 /* a frame longer than SL_EV_CAP_MAX */

static struct sluice_xdp *skel;
static struct ring_buffer *rb;
static int cap_fd;

/* The last record read: its size and contents. */
static uint8_t rec[sizeof(struct sl_event) + SL_EV_CAP_MAX + 64];
static size_t rec_size, n_recs;

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	n_recs++;
	rec_size = size;
	memcpy(rec, data, size < sizeof(rec) ? size : sizeof(rec));
	return 0;
}

static size_t drain(void)
{
	n_recs = 0;
	ring_buffer__consume(rb);
	return n_recs;
}

/* A frame of len bytes: an IPv4 UDP packet, its bytes past the IP packet a
 * pattern (trailer the parser ignores). */
static size_t frame(uint8_t *f, size_t len)
{
	struct pkt_spec s = V4(UDP, .payload = 20);
	size_t n = pkt_build(&s, f, NULL);

	for (size_t i = n; i < len; i++)
		f[i] = (uint8_t)(i * 7 + 3);
	return len > n ? len : n;
}

enum hook { XDP, TC_IN, TC_OUT };
static const char *const hook_names[] = {"xdp", "tc ingress", "tc egress"};

static int prog_fd(enum hook h)
{
	return bpf_program__fd(h == XDP	    ? skel->progs.sluice_xdp
			       : h == TC_IN ? skel->progs.sluice_tc_in
					    : skel->progs.sluice_tc_out);
}

/* One frame of len bytes through hook with the capture at caplen: one
 * record, carrying the frame's first `want` bytes. */
static bool capture_case(enum hook h, size_t len, uint32_t caplen, size_t want)
{
	static uint8_t f[4096];
	size_t n = frame(f, len);
	const struct sl_event *e = (const void *)rec;
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f, .data_size_in = n,
		    .repeat = 1);

	drain();
	if (!ASSERT_EQ(sl_cap_set(cap_fd, caplen), 0, "set the capture") ||
	    !ASSERT_EQ(bpf_prog_test_run_opts(prog_fd(h), &t), 0, "test run"))
		return false;
	return ASSERT_EQ(drain(), 1, "records") &&
	       ASSERT_EQ(rec_size, sizeof(*e) + want,
			 "record size (event + bytes)") &&
	       ASSERT_EQ(e->len, n, "the event's frame length") &&
	       ASSERT_EQ(e->hook, h != XDP, "hook") &&
	       ASSERT_TRUE(!memcmp(rec + sizeof(*e), f, want),
			   "%s: the record's %zu bytes differ from the "
			   "frame's",
			   hook_names[h], want);
}

static bool check_capture(void)
{
	static const struct {
		size_t len;
		uint32_t caplen;
		size_t want;
	} cases[] = {
	    {100, 0, 0},      /* off: no bytes */
	    {100, 40, 40},    /* caplen < frame */
	    {100, 100, 100},  /* caplen = frame */
	    {100, 2000, 100}, /* caplen > frame */
	    {1514, 1, 1},     /* one byte */
	    {1514, 2048, 1514},
	    {BIG, 4096, SL_EV_CAP_MAX}, /* longer than the datapath copies */
	};
	bool ok = true;

	for (int h = XDP; ok && h <= TC_OUT; h++)
		for (size_t i = 0; ok && i < sizeof(cases) / sizeof(*cases);
		     i++) {
			ok = capture_case(h, cases[i].len, cases[i].caplen,
					  cases[i].want);
			if (!ok)
				check_fail("%s: frame %zu, caplen %u",
					   hook_names[h], cases[i].len,
					   cases[i].caplen);
		}
	sl_cap_set(cap_fd, 0);
	return ok;
}

/* Capture off after it was on: records without bytes again; the value
 * reads back. */
static bool check_off_again(void)
{
	uint32_t v = 1;

	return capture_case(XDP, 200, 64, 64) &&
	       ASSERT_EQ(sl_cap_get(cap_fd, &v), 0, "read") &&
	       ASSERT_EQ(v, 64, "caplen reads back") &&
	       capture_case(TC_OUT, 200, 0, 0) &&
	       ASSERT_EQ(sl_cap_get(cap_fd, &v), 0, "read") &&
	       ASSERT_EQ(v, 0, "caplen 0 reads back");
}

/* ---- the writers ---- */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* The option `code` of the options at p (n bytes): its value and length. */
static const uint8_t *find_opt(const uint8_t *p, size_t n, uint16_t code,
			       uint16_t *len)
{
	size_t o = 0;

	while (o + 4 <= n) {
		uint16_t c = rd16(p + o), l = rd16(p + o + 2);

		if (c == 0)
			return NULL;
		if (o + 4 + l > n)
			return NULL;
		if (c == code) {
			*len = l;
			return p + o + 4;
		}
		o += 4 + ((l + 3U) & ~3U);
	}
	return NULL;
}

static void ev_make(struct sl_event *e, uint32_t ifindex, int dir, uint32_t len)
{
	memset(e, 0, sizeof(*e));
	e->ts = 1000000000ULL;
	e->type = SL_EV_DROP;
	e->action = SL_ACT_DROP;
	e->reason = SL_R_DENY_SET;
	e->rule_id = 7;
	e->dir = dir;
	e->ifindex = ifindex;
	e->len = len;
}

static bool read_file(const char *path, uint8_t **buf, size_t *n)
{
	FILE *f = fopen(path, "rb");
	long sz;

	if (!f)
		return false;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	*buf = malloc(sz > 0 ? sz : 1);
	*n = *buf ? fread(*buf, 1, sz, f) : 0;
	fclose(f);
	return *buf && *n == (size_t)sz;
}

/* A pcapng file of 3 packets on two interfaces (lo and an index with no
 * name here), parsed block by block. */
static bool check_pcapng(void)
{
	char path[] = "/tmp/sluice_dump_XXXXXX", err[200], cm[160];
	static const uint32_t caps[3] = {60, 13, 60};
	uint32_t lo = if_nametoindex("lo"), ifx[3] = {lo, 999999, lo};
	uint32_t idb_seen = 0, epb_seen = 0, blen, t;
	struct sl_event e[3];
	uint8_t data[64], *buf = NULL;
	struct sl_capw w;
	size_t n, o = 0;
	uint16_t l;
	const uint8_t *v;
	bool ok = true;
	int fd = mkstemp(path);

	close(fd);
	for (int i = 0; i < 64; i++)
		data[i] = (uint8_t)(0x40 + i);
	for (int i = 0; i < 3; i++)
		ev_make(&e[i], ifx[i], i == 2 ? SL_RDIR_OUT : SL_RDIR_IN, 60);
	e[1].len = 1500; /* truncated: 13 of 1500 bytes */
	e[2].rule_id = 0;
	ok = ASSERT_EQ(sl_capw_format_of("x.pcapng"), SL_CAP_PCAPNG, "fmt") &&
	     ASSERT_EQ(sl_capw_format_of("x.pcap"), SL_CAP_PCAP, "fmt") &&
	     ASSERT_EQ(
		 sl_capw_open(&w, path, SL_CAP_PCAPNG, 1600, err, sizeof(err)),
		 0, "open");
	for (int i = 0; ok && i < 3; i++)
		ok = ASSERT_EQ(sl_capw_write(&w, &e[i], data, caps[i]), 0,
			       "write");
	ok = ok && ASSERT_EQ(sl_capw_close(&w), 0, "close") &&
	     ASSERT_TRUE(read_file(path, &buf, &n), "read back");
	/* SHB */
	ok = ok && ASSERT_TRUE(n >= 28, "file length %zu", n) &&
	     ASSERT_EQ(rd32(buf), 0x0A0D0D0A, "SHB type") &&
	     ASSERT_EQ(rd32(buf + 8), 0x1A2B3C4D, "byte-order magic") &&
	     ASSERT_EQ(rd16(buf + 12), 1, "major version");
	while (ok && o + 12 <= n) {
		t = rd32(buf + o);
		blen = rd32(buf + o + 4);
		ok = ASSERT_TRUE(blen >= 12 && blen % 4 == 0 && o + blen <= n,
				 "block at %zu: length %u", o, blen) &&
		     ASSERT_EQ(rd32(buf + o + blen - 4), blen,
			       "trailing block length");
		if (!ok)
			break;
		if (t == 1) { /* IDB: linktype, snaplen, if_name */
			char name[IF_NAMESIZE + 8] = "";

			ok = ASSERT_EQ(rd16(buf + o + 8), 1, "linktype") &&
			     ASSERT_EQ(rd32(buf + o + 12), 1600, "snaplen");
			v = find_opt(buf + o + 16, blen - 20, 2, &l);
			if (ok && ASSERT_TRUE(v && l < sizeof(name), "if_name"))
				memcpy(name, v, l);
			else
				ok = false;
			ok = ok && ASSERT_STR_HAS(
				       name, idb_seen == 0 ? "lo" : "if999999",
				       "if_name");
			v = find_opt(buf + o + 16, blen - 20, 9, &l);
			ok = ok && ASSERT_TRUE(v && l == 1 && *v == 9,
					       "if_tsresol 9 (ns)");
			idb_seen++;
		} else if (t == 6) { /* EPB */
			uint32_t i = epb_seen, cap = rd32(buf + o + 20);
			uint32_t plen = (cap + 3) & ~3U;
			uint64_t ts = (uint64_t)rd32(buf + o + 12) << 32 |
				      rd32(buf + o + 16);

			ok = ASSERT_TRUE(i < 3, "packets") &&
			     ASSERT_EQ(rd32(buf + o + 8), i == 1 ? 1 : 0,
				       "interface id") &&
			     ASSERT_EQ(cap, caps[i], "captured length") &&
			     ASSERT_EQ(rd32(buf + o + 24), e[i].len,
				       "original length") &&
			     ASSERT_TRUE(
				 ts - sl_ev_walltime(e[i].ts) + 1000000 <
				     2000000,
				 "timestamp %llu ns, want %llu +-1 ms",
				 (unsigned long long)ts,
				 (unsigned long long)sl_ev_walltime(e[i].ts)) &&
			     ASSERT_TRUE(!memcmp(buf + o + 28, data, cap),
					 "packet bytes");
			v = find_opt(buf + o + 28 + plen, blen - 32 - plen, 1,
				     &l);
			sl_capw_comment(&e[i], cm, sizeof(cm));
			ok = ok && ASSERT_TRUE(v && l == strlen(cm) &&
						   !memcmp(v, cm, l),
					       "opt_comment");
			ok = ok && ASSERT_STR_HAS(
				       cm,
				       i == 2 ? "sluice: drop "
						"reason=deny-set dir=egress"
					      : "sluice: drop "
						"reason=deny-set rule=7 "
						"dir=ingress hook=xdp",
				       "comment");
			v = find_opt(buf + o + 28 + plen, blen - 32 - plen, 2,
				     &l);
			ok =
			    ok && ASSERT_TRUE(v && l == 4 &&
						  rd32(v) == (i == 2 ? 2U : 1U),
					      "epb_flags direction");
			epb_seen++;
		}
		o += blen;
	}
	ok = ok && ASSERT_EQ(o, n, "blocks fill the file") &&
	     ASSERT_EQ(idb_seen, 2, "interface blocks") &&
	     ASSERT_EQ(epb_seen, 3, "packet blocks");
	free(buf);
	unlink(path);
	return ok;
}

int main(void)
{
	struct sl_apply_report rep;
	struct sl_features feat;
	struct sl_config cfg;
	struct sl_ctx ctx;
	int rc = skel_test_start("test_dump");

	if (rc >= 0)
		return rc;
	sl_features_default(&feat);
	feat.events = 1;
	skel = sl_xdp_load(NULL, &feat, SL_PROG_ALL);
	if (!skel || !(rb = ring_buffer__new(bpf_map__fd(skel->maps.sl_events),
					     on_record, NULL, NULL))) {
		printf("not ok - load the programs with events\n");
		return 1;
	}
	cap_fd = bpf_map__fd(skel->maps.sl_ev_cap);
	if (skel_config_text("events: {sample: 1}\n", &cfg)) {
		printf("not ok - config\n");
		return 1;
	}
	sl_ctx_wrap(&ctx, skel);
	rc = sl_apply(&ctx, &cfg, 0, &rep);
	sl_close(&ctx);
	sl_config_free(&cfg);
	if (rc) {
		printf("not ok - apply events: {sample: 1}: %s\n",
		       strerror(-rc));
		return 1;
	}
	check_report("capture: a record carries the frame's first min(caplen, "
		     "len, 2048) bytes at xdp, tc ingress and tc egress; none "
		     "at caplen 0",
		     check_capture());
	check_report("capture off again: records without bytes",
		     check_off_again());
	check_report("pcapng writer: blocks, lengths, interfaces, comment, "
		     "direction",
		     check_pcapng());
	ring_buffer__free(rb);
	sl_xdp_destroy(skel);
	return check_failed ? 1 : 0;
}
