/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* setdef: a set entry as the unit tests write it, before it is parsed and
 * installed: ALLOW(SRC, "198.18.0.0/24"), DENY(DST, "2001:db8::1"). */
#ifndef SL_TEST_SETDEF_H
#define SL_TEST_SETDEF_H

#include <stdint.h>

#include <sluice/abi.h>

struct set_def {
	uint8_t kind; /* enum sl_set_kind; 0 ends a list */
	uint8_t dir;  /* enum sl_dir */
	const char *prefix;
};

#define ALLOW(d, p)                         \
	{                                   \
		SL_SET_ALLOW, SL_DIR_##d, p \
	}
#define DENY(d, p)                         \
	{                                  \
		SL_SET_DENY, SL_DIR_##d, p \
	}

#endif
