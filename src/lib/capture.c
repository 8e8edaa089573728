// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* capture: the capture switch and the pcap / pcapng writer of `sluice
 * dump` (capture.h). pcapng blocks follow the IETF draft
 * (draft-ietf-opsawg-pcapng): little-endian on this host, every block and
 * option padded to 32 bits, the block's total length at both ends. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "capture.h"
#include "names.h"
#include "pcapfile.h"
#include "sluice.h"

#define PCAPNG_SHB 0x0A0D0D0AU
#define PCAPNG_IDB 0x00000001U
#define PCAPNG_EPB 0x00000006U
#define PCAPNG_BOM 0x1A2B3C4DU

#define OPT_END	      0
#define OPT_COMMENT   1
#define OPT_SHB_APPL  4
#define OPT_IF_NAME   2
#define OPT_IF_TSRES  9
#define OPT_EPB_FLAGS 2

#define LINKTYPE_ETHERNET 1

enum sl_cap_format sl_capw_format_of(const char *path)
{
	size_t n = strlen(path);

	return n >= 7 && !strcmp(path + n - 7, ".pcapng") ? SL_CAP_PCAPNG
							  : SL_CAP_PCAP;
}

/* ---- pcapng: a block is built in memory, then written at once ---- */

struct blk {
	uint8_t *b;
	size_t n, cap;
	bool oom;
};

static void put(struct blk *k, const void *p, size_t n)
{
	if (k->oom)
		return;
	if (k->n + n > k->cap) {
		size_t c = k->cap ? k->cap * 2 : 256;
		uint8_t *nb;

		while (c < k->n + n)
			c *= 2;
		nb = realloc(k->b, c);
		if (!nb) {
			k->oom = true;
			return;
		}
		k->b = nb;
		k->cap = c;
	}
	memcpy(k->b + k->n, p, n);
	k->n += n;
}

static void put16(struct blk *k, uint16_t v)
{
	put(k, &v, 2);
}

static void put32(struct blk *k, uint32_t v)
{
	put(k, &v, 4);
}

static void pad32(struct blk *k)
{
	static const uint8_t z[4];

	put(k, z, (4 - k->n % 4) % 4);
}

static void opt(struct blk *k, uint16_t code, const void *v, size_t n)
{
	put16(k, code);
	put16(k, (uint16_t)n);
	put(k, v, n);
	pad32(k);
}

static void opt_str(struct blk *k, uint16_t code, const char *s)
{
	opt(k, code, s, strlen(s));
}

/* Starts a block of type t (its length is patched by blk_end). */
static void blk_start(struct blk *k, uint32_t t)
{
	k->n = 0;
	put32(k, t);
	put32(k, 0);
}

/* Ends the options, sets the total length at both ends and writes. */
static int blk_end(struct blk *k, FILE *f)
{
	uint32_t total;

	put16(k, OPT_END);
	put16(k, 0);
	put32(k, 0); /* the trailing length, set below */
	if (k->oom)
		return -ENOMEM;
	total = (uint32_t)k->n;
	memcpy(k->b + 4, &total, 4);
	memcpy(k->b + k->n - 4, &total, 4);
	if (fwrite(k->b, 1, k->n, f) != k->n)
		return errno ? -errno : -EIO;
	return 0;
}

static int write_shb(FILE *f)
{
	struct blk k = {0};
	uint64_t section_len = UINT64_MAX; /* not given */
	int err;

	blk_start(&k, PCAPNG_SHB);
	put32(&k, PCAPNG_BOM);
	put16(&k, 1); /* version 1.0 */
	put16(&k, 0);
	put(&k, &section_len, 8);
	opt_str(&k, OPT_SHB_APPL, "sluice dump");
	err = blk_end(&k, f);
	free(k.b);
	return err;
}

/* The IDB of ifindex (name in the reader's namespace, else "ifN"); its
 * id in *id. */
static int write_idb(struct sl_capw *w, uint32_t ifindex)
{
	char name[IF_NAMESIZE + 8];
	struct blk k = {0};
	uint8_t tsres = 9; /* nanoseconds */
	int err;

	if (!if_indextoname(ifindex, name))
		snprintf(name, sizeof(name), "if%u", ifindex);
	blk_start(&k, PCAPNG_IDB);
	put16(&k, LINKTYPE_ETHERNET);
	put16(&k, 0);
	put32(&k, w->snaplen);
	opt_str(&k, OPT_IF_NAME, name);
	opt(&k, OPT_IF_TSRES, &tsres, 1);
	err = blk_end(&k, w->f);
	free(k.b);
	return err;
}

/* The IDB id of the event's interface, described at its first packet. */
static int iface_id(struct sl_capw *w, uint32_t ifindex, uint32_t *id)
{
	int err;

	for (uint32_t i = 0; i < w->n_if; i++)
		if (w->ifx[i] == ifindex) {
			*id = i;
			return 0;
		}
	if (w->n_if == SL_CAP_IFACES)
		return -E2BIG;
	err = write_idb(w, ifindex);
	if (err)
		return err;
	w->ifx[w->n_if] = ifindex;
	*id = w->n_if++;
	return 0;
}

void sl_capw_comment(const struct sl_event *e, char *buf, size_t len)
{
	char rule[24] = "";

	if (e->rule_id)
		snprintf(rule, sizeof(rule), " rule=%u", e->rule_id);
	snprintf(buf, len, "sluice: %s reason=%s%s dir=%s hook=%s event=%s",
		 sl_action_name(e->action), sl_reason_name(e->reason), rule,
		 e->dir == SL_RDIR_OUT ? "egress" : "ingress",
		 e->hook ? "tc" : "xdp", sl_ev_type_name(e->type));
}

static int write_epb(struct sl_capw *w, const struct sl_event *e,
		     const uint8_t *data, uint32_t caplen)
{
	uint64_t ts = sl_ev_walltime(e->ts);
	/* epb_flags bits 0-1: 1 inbound, 2 outbound */
	uint32_t id, flags = e->dir == SL_RDIR_OUT ? 2 : 1;
	char comment[160];
	struct blk k = {0};
	int err;

	err = iface_id(w, e->ifindex, &id);
	if (err)
		return err;
	sl_capw_comment(e, comment, sizeof(comment));
	blk_start(&k, PCAPNG_EPB);
	put32(&k, id);
	put32(&k, (uint32_t)(ts >> 32));
	put32(&k, (uint32_t)ts);
	put32(&k, caplen);
	put32(&k, e->len > caplen ? e->len : caplen);
	put(&k, data, caplen);
	pad32(&k);
	opt_str(&k, OPT_COMMENT, comment);
	opt(&k, OPT_EPB_FLAGS, &flags, 4);
	err = blk_end(&k, w->f);
	free(k.b);
	return err;
}

/* ---- the writer ---- */

int sl_capw_open(struct sl_capw *w, const char *path, enum sl_cap_format fmt,
		 uint32_t snaplen, char *err, size_t errlen)
{
	bool out = !strcmp(path, "-");
	int e;

	memset(w, 0, sizeof(*w));
	w->format = fmt;
	w->snaplen = snaplen;
	if (fmt == SL_CAP_PCAP) {
		w->pcap = sl_pcapf_open(path, snaplen, err, errlen);
		return w->pcap ? 0 : -EIO;
	}
	w->f = out ? stdout : fopen(path, "wb");
	if (!w->f) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		return e;
	}
	w->close_f = !out;
	e = write_shb(w->f);
	if (e) {
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		if (w->close_f)
			fclose(w->f);
		w->f = NULL;
	}
	return e;
}

int sl_capw_write(struct sl_capw *w, const struct sl_event *e,
		  const uint8_t *data, uint32_t caplen)
{
	if (caplen > w->snaplen)
		caplen = w->snaplen;
	if (w->format == SL_CAP_PCAP) {
		int err =
		    sl_pcapf_write(w->pcap, sl_ev_walltime(e->ts), data, caplen,
				   e->len > caplen ? e->len : caplen);

		if (err)
			return err;
	} else {
		int err = write_epb(w, e, data, caplen);

		if (err)
			return err;
	}
	w->packets++;
	return 0;
}

int sl_capw_flush(struct sl_capw *w)
{
	if (w->pcap)
		return sl_pcapf_flush(w->pcap);
	return w->f && fflush(w->f) ? -errno : 0;
}

int sl_capw_close(struct sl_capw *w)
{
	int err = sl_capw_flush(w);

	sl_pcapf_close(w->pcap);
	if (w->f && w->close_f && fclose(w->f) && !err)
		err = -errno;
	w->pcap = NULL;
	w->f = NULL;
	return err;
}

/* ---- the switch ---- */

int sl_cap_set(int fd, uint32_t caplen)
{
	struct sl_ev_cap v = {.caplen = caplen};
	__u32 key = 0;

	return bpf_map_update_elem(fd, &key, &v, BPF_ANY) ? -errno : 0;
}

int sl_cap_get(int fd, uint32_t *caplen)
{
	struct sl_ev_cap v;
	__u32 key = 0;

	*caplen = 0;
	if (bpf_map_lookup_elem(fd, &key, &v))
		return -errno;
	*caplen = v.caplen;
	return 0;
}
