/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* pcapfile: a pcap file written through libpcap (pcapfile.c). */
#ifndef SL_PCAPFILE_H
#define SL_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

struct sl_pcapf;

/* Opens path ("-": stdout) for Ethernet frames of at most snaplen bytes;
 * NULL with err set when it cannot. */
struct sl_pcapf *sl_pcapf_open(const char *path, uint32_t snaplen, char *err,
			       size_t errlen);
/* One frame: caplen bytes of data, len on the wire, at ts_ns (ns since
 * the epoch). 0 or -errno. */
int sl_pcapf_write(struct sl_pcapf *f, uint64_t ts_ns, const uint8_t *data,
		   uint32_t caplen, uint32_t len);
int sl_pcapf_flush(struct sl_pcapf *f);
void sl_pcapf_close(struct sl_pcapf *f);

#endif
