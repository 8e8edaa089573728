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

/* ---- sequence and window tracking (abi.h, struct sl_ct_win) ---- */

/* What the window check needs of a TCP segment (host order). */
struct sl_ct_seg {
	__u32 seq, ack;
	__u32 end; /* seq + payload length (+1 for SYN, +1 for FIN) */
	__u16 win; /* the window field, unscaled */
	__u8 flags;
	__u8 ws; /* SYN: its window scale option + 1; 0: none */
};

static __always_inline int sl_seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

#define SL_CT_MAXACKWIN 66000 /* the kernel's MAXACKWINCONST */

/* The state of the end that sends SYN (or SYN-ACK) g. */
static __always_inline void sl_ct_win_init(struct sl_ct_win *w,
					   const struct sl_ct_seg *g)
{
	w->end = g->end;
	w->maxwin = g->win ? g->win : 1;
	w->maxend = g->end;
	w->scale = g->ws ? g->ws - 1 : 0;
	w->flags = SL_CT_W_SEEN | (g->ws ? SL_CT_W_SCALE : 0);
}

/* A SYN starts a flow whose segments are checked (win[0] its sender). */
static __always_inline void sl_ct_win_start(struct sl_ct_win *w,
					    const struct sl_ct_seg *g)
{
	sl_ct_win_init(&w[0], g);
	/* until the other end answers, the SYN may be resent as far as its
	 * own window (the kernel's tcp_new()) */
	w[0].maxend = g->end + w[0].maxwin;
	w[0].flags |= SL_CT_W_CHECK;
	__builtin_memset(&w[1], 0, sizeof(w[1]));
}

/* Segment g in direction dir (0: the initiator's) of a flow in window
 * state w[2], once the state machine accepted it: 1 when it fits (w then
 * updated if commit), 0 when it is outside the window (w unchanged). The
 * kernel's tcp_in_window() without SACK blocks and without its
 * retransmission and RST special cases. Flows that started without a
 * SYN Sluice saw are not checked (1). */
static __always_inline int sl_ct_win_check(struct sl_ct_win *w, __u32 dir,
					   const struct sl_ct_seg *g,
					   int commit)
{
	struct sl_ct_win *snd = &w[dir & 1], *rcv = &w[(dir & 1) ^ 1];
	int syn = g->flags & SL_TCP_SYN;
	__u32 seq = g->seq, end = g->end, ack = g->ack, win = g->win, maxack;

	if (!(w[0].flags & SL_CT_W_CHECK))
		return 1;
	if (syn && (g->flags & SL_TCP_ACK) && dir &&
	    !(snd->flags & SL_CT_W_SEEN)) {
		/* the SYN-ACK: the responder's state, and the scales both
		 * ends use (only when both SYNs had the option) */
		if (!commit)
			return 1;
		sl_ct_win_init(snd, g);
		if (!(rcv->flags & SL_CT_W_SCALE) || !g->ws)
			snd->scale = rcv->scale = 0;
	} else if (!(snd->flags & SL_CT_W_SEEN)) {
		/* an end's first segment without a SYN of its own: nothing to
		 * check it against yet (not reached by a flow the state
		 * machine holds) */
		if (commit) {
			sl_ct_win_init(snd, g);
			snd->maxend = g->end + snd->maxwin;
		}
		return 1;
	}
	if (!(g->flags & SL_TCP_ACK))
		ack = rcv->end;
	/* no data (a bare ACK): only its ACK is checked (but a RST's
	 * sequence number always is) */
	if (seq == end && !(g->flags & SL_TCP_RST))
		seq = end = snd->end;
	if (!syn)
		win <<= snd->scale;
	maxack = snd->maxwin > SL_CT_MAXACKWIN ? snd->maxwin : SL_CT_MAXACKWIN;
	/* not beyond what the receiver allowed; not older than its largest
	 * window; no ACK of data it never sent, nor too far behind */
	if (!sl_seq_before(seq, snd->maxend + 1) ||
	    !sl_seq_before(snd->end - rcv->maxwin - 1, end) ||
	    !sl_seq_before(ack, rcv->end + 1) ||
	    !sl_seq_before(rcv->end - maxack - 1, ack))
		return 0;
	if (!commit)
		return 1;
	if (snd->maxwin < win)
		snd->maxwin = win;
	if (sl_seq_before(snd->end, end))
		snd->end = end;
	if ((g->flags & SL_TCP_ACK) &&
	    sl_seq_before(rcv->maxend - 1, ack + win))
		rcv->maxend = ack + (win ? win : 1);
	return 1;
}

#endif /* SL_CT_TCP_H */
