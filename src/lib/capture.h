/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* capture: the packets of the events (`sluice dump`, docs/events.md,
 * Capture). The switch the datapath reads (SL_MAP_EV_CAP: the bytes of
 * each frame a record carries while a dump runs) and the file writer:
 * pcap through libpcap (nanosecond timestamps, DLT_EN10MB), or pcapng
 * written here (libpcap 1.10 reads pcapng but cannot write it): one
 * section, an interface description block per interface seen (if_name,
 * nanosecond if_tsresol), an enhanced packet block per packet with its
 * direction (epb_flags) and the verdict as a comment (opt_comment). */
#ifndef SL_CAPTURE_H
#define SL_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sluice/abi.h>

struct sl_pcapf;

enum sl_cap_format {
	SL_CAP_PCAP = 0,
	SL_CAP_PCAPNG = 1,
};

#define SL_CAP_IFACES 64 /* interfaces one pcapng file describes */

struct sl_capw {
	enum sl_cap_format format;
	uint32_t snaplen;
	FILE *f;		     /* pcapng: the file (stdout for "-") */
	struct sl_pcapf *pcap;	     /* pcap: the libpcap file */
	bool close_f;		     /* f is ours to close */
	uint32_t ifx[SL_CAP_IFACES]; /* pcapng: ifindex of each IDB */
	uint32_t n_if;
	uint64_t packets; /* written */
};

/* The format of a file name: pcapng when it ends in .pcapng, else pcap. */
enum sl_cap_format sl_capw_format_of(const char *path);
/* Opens path ("-": stdout) for writing in format; snaplen goes into the
 * file header. 0 or -errno (err says what). */
int sl_capw_open(struct sl_capw *w, const char *path, enum sl_cap_format fmt,
		 uint32_t snaplen, char *err, size_t errlen);
/* One packet: the event's frame bytes data[0..caplen) (caplen <= the
 * snaplen), its original length e->len and time e->ts (wall clock). 0 or
 * -errno (the file cannot be written: EPIPE when the reader went away). */
int sl_capw_write(struct sl_capw *w, const struct sl_event *e,
		  const uint8_t *data, uint32_t caplen);
/* Pushes what is buffered to the file; 0 or -errno. */
int sl_capw_flush(struct sl_capw *w);
/* Flushes and closes; 0 or -errno. */
int sl_capw_close(struct sl_capw *w);
/* The packet's comment (pcapng opt_comment), e.g. "sluice: drop
 * reason=deny-set rule=7 dir=ingress hook=xdp event=drop". */
void sl_capw_comment(const struct sl_event *e, char *buf, size_t len);

/* The capture switch (SL_MAP_EV_CAP) through its pin's fd: sets the bytes
 * per frame (0: off). 0 or -errno. */
int sl_cap_set(int fd, uint32_t caplen);
/* Its value; 0 or -errno. */
int sl_cap_get(int fd, uint32_t *caplen);

#endif
