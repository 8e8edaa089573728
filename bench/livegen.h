/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared by bench/livegen.c and bench/livegen.bpf.c. */
#ifndef SLUICE_BENCH_LIVEGEN_H
#define SLUICE_BENCH_LIVEGEN_H

/* Ethernet (14) + IPv4 (20) + TCP (20) = 54 bytes, rounded up to a multiple
 * of 8; the smallest frame livegen builds is 60 bytes. */
#define LIVEGEN_HDR_LEN 56

struct livegen_hdr {
	unsigned char bytes[LIVEGEN_HDR_LEN];
};

#endif
