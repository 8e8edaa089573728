/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared by bench/bench_lb.c and bench/lb_harness.bpf.c: the frame the
 * harness restores before every run of the program under test. */
#ifndef SLUICE_BENCH_LB_HARNESS_H
#define SLUICE_BENCH_LB_HARNESS_H

#include <linux/types.h>

#define LBH_FRAME_MAX 128

struct lbh_frame {
	__u32 len;	 /* bytes of frame (14 .. LBH_FRAME_MAX) */
	__u16 sport_off; /* offset of the TCP source port */
	__u16 sport;	 /* the first run's source port, host order */
	__u16 step;	 /* added to it per run (0: the same flow) */
	__u16 pad[3];
	__u8 bytes[LBH_FRAME_MAX];
};

#endif
