/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* ct_tcp: conntrack's TCP state machine as plain C (no BPF helper, no
 * map): the event of a packet's flags and the state it moves an entry to.
 * The conntrack stage (conntrack.h) applies it to the table; the unit
 * tests include it too, to check the datapath against a model built on
 * the same transition function (tests/unit/test_conntrack.c, fuzz). */
#ifndef SL_CT_TCP_H
#define SL_CT_TCP_H

#include <linux/types.h>

#include <sluice/abi.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define SL_TCP_FIN 0x01
#define SL_TCP_SYN 0x02
#define SL_TCP_RST 0x04
#define SL_TCP_ACK 0x10

/* TCP events, from the flags (the kernel's get_conntrack_index() with
 * tcp_valid_flags(): ECE and CWR aside, other combinations are invalid). */
enum {
	SL_CT_EV_SYN,
	SL_CT_EV_SYNACK,
	SL_CT_EV_FIN,
	SL_CT_EV_ACK,
	SL_CT_EV_RST,
	SL_CT_EV_BAD,
};

static __always_inline int sl_ct_tcp_event(__u8 f)
{
	f &= 0x3f; /* ECE, CWR */
	if (f & SL_TCP_RST)
		return f & (SL_TCP_SYN | SL_TCP_FIN) ? SL_CT_EV_BAD
						     : SL_CT_EV_RST;
	if (f & SL_TCP_SYN) {
		if (f & SL_TCP_FIN)
			return SL_CT_EV_BAD;
		return f & SL_TCP_ACK ? SL_CT_EV_SYNACK : SL_CT_EV_SYN;
	}
	if (f & SL_TCP_FIN)
		return f & SL_TCP_ACK ? SL_CT_EV_FIN : SL_CT_EV_BAD;
	return f & SL_TCP_ACK ? SL_CT_EV_ACK : SL_CT_EV_BAD;
}

/* The TCP state after event ev in direction dir (0: original) of an entry
 * in state st whose first FIN came from direction fin (-1: none), or
 * SL_CTS_NONE when the packet fits no transition (invalid). A SYN on a
 * closed flow starts a new one: the caller handles it. */
static __always_inline __u32 sl_ct_tcp_next(__u32 st, int ev, __u32 dir,
					    int fin)
{
	if (ev == SL_CT_EV_RST)
		return SL_CTS_CLOSE;
	switch (st) {
	case SL_CTS_SYN_SENT:
		if (ev == SL_CT_EV_SYN)
			return dir ? SL_CTS_SYN_RECV : SL_CTS_SYN_SENT;
		if (ev == SL_CT_EV_SYNACK && dir)
			return SL_CTS_SYN_RECV;
		return SL_CTS_NONE;
	case SL_CTS_SYN_RECV:
		if (ev == SL_CT_EV_ACK && !dir)
			return SL_CTS_ESTABLISHED;
		if (ev == SL_CT_EV_SYNACK && dir)
			return SL_CTS_SYN_RECV; /* retransmitted */
		if (ev == SL_CT_EV_SYN && !dir)
			return SL_CTS_SYN_RECV; /* retransmitted */
		if (ev == SL_CT_EV_FIN && !dir)
			return SL_CTS_FIN_WAIT;
		return SL_CTS_NONE;
	case SL_CTS_ESTABLISHED:
		if (ev == SL_CT_EV_ACK)
			return SL_CTS_ESTABLISHED;
		if (ev == SL_CT_EV_FIN)
			return SL_CTS_FIN_WAIT;
		if (ev == SL_CT_EV_SYNACK && dir)
			return SL_CTS_ESTABLISHED; /* late retransmission */
		return SL_CTS_NONE;
	case SL_CTS_FIN_WAIT:
		/* the other end acks the FIN, or closes too */
		if (ev == SL_CT_EV_ACK)
			return (int)dir != fin ? SL_CTS_CLOSE_WAIT
					       : SL_CTS_FIN_WAIT;
		if (ev == SL_CT_EV_FIN)
			return (int)dir != fin ? SL_CTS_LAST_ACK
					       : SL_CTS_FIN_WAIT;
		return SL_CTS_NONE;
	case SL_CTS_CLOSE_WAIT:
		if (ev == SL_CT_EV_ACK)
			return SL_CTS_CLOSE_WAIT;
		if (ev == SL_CT_EV_FIN)
			return (int)dir != fin ? SL_CTS_LAST_ACK
					       : SL_CTS_CLOSE_WAIT;
		return SL_CTS_NONE;
	case SL_CTS_LAST_ACK:
		/* the first closer acks the second FIN */
		if (ev == SL_CT_EV_ACK)
			return (int)dir == fin ? SL_CTS_TIME_WAIT
					       : SL_CTS_LAST_ACK;
		if (ev == SL_CT_EV_FIN)
			return SL_CTS_LAST_ACK;
		return SL_CTS_NONE;
	case SL_CTS_TIME_WAIT:
		if (ev == SL_CT_EV_ACK || ev == SL_CT_EV_FIN)
			return SL_CTS_TIME_WAIT;
		return SL_CTS_NONE;
	case SL_CTS_CLOSE:
		if (ev == SL_CT_EV_ACK)
			return SL_CTS_CLOSE;
		return SL_CTS_NONE;
	}
	return SL_CTS_NONE;
}

#endif /* SL_CT_TCP_H */
