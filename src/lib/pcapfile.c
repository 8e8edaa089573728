// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pcapfile: the libpcap half of the capture writer (capture.c), apart
 * because libpcap's pcap/bpf.h and the kernel's linux/bpf.h both define
 * struct bpf_insn: this file sees only libpcap. A pcap file of Ethernet
 * frames (DLT_EN10MB) with nanosecond timestamps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <pcap/pcap.h>

#include "pcapfile.h"

struct sl_pcapf {
	pcap_t *p;
	pcap_dumper_t *d;
};

struct sl_pcapf *sl_pcapf_open(const char *path, uint32_t snaplen, char *err,
			       size_t errlen)
{
	struct sl_pcapf *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)snaplen,
						    PCAP_TSTAMP_PRECISION_NANO);
	if (!f->p) {
		snprintf(err, errlen, "libpcap cannot make a capture");
		free(f);
		return NULL;
	}
	/* libpcap writes to stdout for "-" */
	f->d = pcap_dump_open(f->p, path);
	if (!f->d) {
		snprintf(err, errlen, "%s", pcap_geterr(f->p));
		pcap_close(f->p);
		free(f);
		return NULL;
	}
	return f;
}

int sl_pcapf_write(struct sl_pcapf *f, uint64_t ts_ns, const uint8_t *data,
		   uint32_t caplen, uint32_t len)
{
	struct pcap_pkthdr h = {
	    .ts = {.tv_sec = (time_t)(ts_ns / 1000000000ULL),
		   /* nanoseconds, in a nanosecond-precision file */
		   .tv_usec = (suseconds_t)(ts_ns % 1000000000ULL)},
	    .caplen = caplen,
	    .len = len,
	};

	errno = 0;
	pcap_dump((u_char *)f->d, &h, data);
	return ferror(pcap_dump_file(f->d)) ? (errno ? -errno : -EIO) : 0;
}

int sl_pcapf_flush(struct sl_pcapf *f)
{
	errno = 0;
	return pcap_dump_flush(f->d) ? (errno ? -errno : -EIO) : 0;
}

void sl_pcapf_close(struct sl_pcapf *f)
{
	if (!f)
		return;
	pcap_dump_close(f->d);
	pcap_close(f->p);
	free(f);
}
