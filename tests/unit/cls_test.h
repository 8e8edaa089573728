/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* cls_test.h: the records tests/unit/cls_test.bpf.c exchanges with its
 * users (tests/unit/test_classify.c, bench/bench_cls.c) through its maps. */
#ifndef SL_CLS_TEST_H
#define SL_CLS_TEST_H

#include <linux/types.h>

#include <sluice/abi.h>

#define CLS_NKEYS 4096

struct cls_in {
	__u32 key[SL_DIM_MAX];
	__u32 tcp;
	__u32 len;
};

struct cls_out {
	__s32 action; /* SL_RACT_PASS/DROP, -1 no match, -2 no blob */
	__u32 id;
};

#endif
