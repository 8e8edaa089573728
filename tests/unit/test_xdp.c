// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_xdp: the XDP program, run on crafted frames through
 * bpf_prog_test_run_opts. Each case names a frame, the set entries in the
 * tries, the bans (active, permanent or expired, written straight into the
 * ban tries), the features, and the expected verdict (any XDP action) and
 * reason; every run also checks the output frame byte by byte against the
 * expected one (the input, unless the case says how the program rewrites
 * it), that exactly one counter cell (reason, the verdict's action) moved by
 * one packet and the frame's length in bytes, and that only the deciding
 * set entry or ban counted the hit. The ratelimit cases apply a config with
 * one ratelimit rule (sl_apply) and check the verdicts, the buckets and the
 * bans the rule writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "names.h"
#include "pkt.h"
#include "setdef.h"
#include "skelmaps.h"
#include "sluice.h"
/* After sluice.h: the skeleton names struct sl_features. */
#include "sluice_xdp.skel.h"

/* One loaded program with its private maps. */
struct env {
	struct sluice_xdp *skel;
	struct sl_ctx ctx; /* over skel: resolves the set maps of slot 0 */
	int prog;
	int stats;
	int set[2][SL_DIR_MAX]; /* [0: IPv4, 1: IPv6][direction] */
	/* Exact-match maps of host entries and their presence bitmap, where
	 * the ABI has them (SL_HOST_BUCKET_BITS); -1 otherwise. */
	int host[2][SL_DIR_MAX];
	int host_bits;
	int ban[2]; /* the ban tries: [0: IPv4, 1: IPv6] */
};

/* envs[0]: the program's default features; envs[1]: drop_malformed=0. */
static struct env envs[2];
/* Reasons produced by at least one passing case. */
static unsigned long long reasons_seen;

#define MAX_ENTRIES 4
#define MAX_BANS    2

/* A ban as a case installs it, straight into the ban trie. */
enum ban_state {
	BAN_ACTIVE = 1, /* expires in an hour */
	BAN_PERMANENT,	/* expires 0 */
	BAN_EXPIRED,	/* expired a second ago */
};

struct ban_def {
	const char *prefix; /* NULL ends a list */
	int state;	    /* enum ban_state */
};

struct xdp_case {
	const char *name;
	struct pkt_spec pkt;
	/* Optional edit after the frame is built (off->len may change). */
	void (*fix)(uint8_t *f, struct pkt_off *off);
	/* The expected output from the input frame (NULL: unchanged). */
	void (*out)(uint8_t *f, struct pkt_off *off);
	struct set_def set[MAX_ENTRIES];
	int hit; /* 1-based index in set of the deciding entry */
	struct ban_def ban[MAX_BANS];
	int ban_hit;	     /* 1-based index in ban of the ban that drops it */
	bool keep_malformed; /* load with drop_malformed=0 */
	int verdict;	     /* an XDP action */
	int reason;	     /* enum sl_reason */
};

#define EXPECT(v, r) .verdict = XDP_##v, .reason = SL_R_##r
#define BAN(p, st)          \
	{                   \
		p, BAN_##st \
	}
#define EXT(...)  .ext = {__VA_ARGS__}
#define HOP	  IPPROTO_HOPOPTS
#define RTG	  IPPROTO_ROUTING
#define DST	  IPPROTO_DSTOPTS
#define FRG	  IPPROTO_FRAGMENT
#define AH	  IPPROTO_AH
#define VLAN(...) .vlan = {__VA_ARGS__}
#define Q	  0x8100
#define AD	  0x88a8

static bool is_malformed(int reason)
{
	return reason == SL_R_MALFORMED_L2 || reason == SL_R_MALFORMED_L3 ||
	       reason == SL_R_MALFORMED_L4;
}

/* ---- frame edits the spec cannot express ---- */

static void fix_eth_only(uint8_t *f, struct pkt_off *o)
{
	(void)f;
	o->len = 14;
}

static void fix_cut_in_tag(uint8_t *f, struct pkt_off *o)
{
	(void)f;
	o->len = o->l3 - 2; /* ends inside the last tag */
}

static void fix_after_tags(uint8_t *f, struct pkt_off *o)
{
	(void)f;
	o->len = o->l3;
}

static void fix_ihl0(uint8_t *f, struct pkt_off *o)
{
	f[o->l3] = 0x40;
	pkt_ip4_fix_csum(f + o->l3, 20);
}

static void fix_doff0(uint8_t *f, struct pkt_off *o)
{
	f[o->l4 + 12] = 0;
}

static void fix_udp_len0(uint8_t *f, struct pkt_off *o)
{
	pkt_put16(f + o->l4 + 4, 0);
}

static void fix_ip6_plen0(uint8_t *f, struct pkt_off *o)
{
	pkt_put16(f + o->l3 + 4, 0);
}

static void fix_tcp_noflags(uint8_t *f, struct pkt_off *o)
{
	f[o->l4 + 13] = 0;
}

/* ---- the cases ---- */

static const struct xdp_case cases[] = {
    /* Well-formed frames, no set entries: default pass. */
    {"ipv4 tcp passes", V4(TCP, .payload = 10), EXPECT(PASS, PASS)},
    {"ipv4 tcp syn passes", V4(TCP, .tcp_flags = 0x02), EXPECT(PASS, PASS)},
    {"ipv4 udp passes", V4(UDP, .payload = 10), EXPECT(PASS, PASS)},
    {"ipv4 icmp echo passes", V4(ICMP, .payload = 56), EXPECT(PASS, PASS)},
    {"ipv4 gre is not inspected", V4(.proto = 47, .payload = 2),
     EXPECT(PASS, PASS)},
    {"ipv4 carrying 2 bytes of icmpv6 is not inspected", V4(ICMP6, .cut = 6),
     EXPECT(PASS, PASS)},
    {"ipv6 tcp passes", V6(TCP, .payload = 10), EXPECT(PASS, PASS)},
    {"ipv6 udp passes", V6(UDP, .payload = 10), EXPECT(PASS, PASS)},
    {"ipv6 icmpv6 echo passes", V6(ICMP6, .payload = 56), EXPECT(PASS, PASS)},
    {"ipv6 carrying 2 bytes of icmp (v4) is not inspected", V6(ICMP, .cut = 6),
     EXPECT(PASS, PASS)},
    {"ipv6 no-next-header passes", V6(.proto = IPPROTO_NONE),
     EXPECT(PASS, PASS)},
    {"ipv4 in a 60-byte frame (ethernet padding) passes", V4(UDP, .pad = 18),
     EXPECT(PASS, PASS)},
    {"ipv6 with ethernet padding passes", V6(UDP, .pad = 10),
     EXPECT(PASS, PASS)},

    /* Non-IP. */
    {"arp is non-ip", {.ethertype = ETH_P_ARP}, EXPECT(PASS, NON_IP)},
    {"lldp is non-ip",
     {.ethertype = 0x88cc, .payload = 46},
     EXPECT(PASS, NON_IP)},
    {"ethernet header alone (type lldp) is non-ip",
     {.ethertype = 0x88cc},
     EXPECT(PASS, NON_IP)},
    {"ethernet header alone (type ipv4) is malformed-l3", V4(TCP),
     .fix = fix_eth_only, EXPECT(DROP, MALFORMED_L3)},
    {"ethernet header alone (type ipv6) is malformed-l3", V6(TCP),
     .fix = fix_eth_only, EXPECT(DROP, MALFORMED_L3)},
    {"ipv4 ethertype with version 6 is malformed-l3", V4(TCP, .version = 6),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv6 ethertype with version 4 is malformed-l3", V6(TCP, .version = 4),
     EXPECT(DROP, MALFORMED_L3)},

    /* VLAN and QinQ. */
    {"802.1Q ipv4 passes", V4(VLAN(Q), TCP), EXPECT(PASS, PASS)},
    {"802.1ad ipv4 passes", V4(VLAN(AD), TCP), EXPECT(PASS, PASS)},
    {"802.1Q ipv6 passes", V6(VLAN(Q), UDP), EXPECT(PASS, PASS)},
    {"qinq 88a8+8100 ipv4 passes", V4(VLAN(AD, Q), UDP), EXPECT(PASS, PASS)},
    {"qinq 88a8+8100 ipv6 passes", V6(VLAN(AD, Q), TCP), EXPECT(PASS, PASS)},
    {"qinq 8100+8100 ipv4 passes", V4(VLAN(Q, Q), ICMP), EXPECT(PASS, PASS)},
    {"qinq 8100+88a8 ipv6 passes", V6(VLAN(Q, AD), ICMP6), EXPECT(PASS, PASS)},
    {"qinq 88a8+88a8 ipv4 passes", V4(VLAN(AD, AD), TCP), EXPECT(PASS, PASS)},
    {"three tags 88a8+8100+8100 are non-ip", V4(VLAN(AD, Q, Q), TCP),
     EXPECT(PASS, NON_IP)},
    {"three tags 8100+8100+8100 (ipv6 inside) are non-ip",
     V6(VLAN(Q, Q, Q), UDP), EXPECT(PASS, NON_IP)},
    {"three tags with a bad ipv4 header inside are non-ip",
     V4(VLAN(Q, Q, Q), TCP, .ihl = 4), EXPECT(PASS, NON_IP)},
    {"802.1Q arp is non-ip",
     {VLAN(Q), .ethertype = ETH_P_ARP},
     EXPECT(PASS, NON_IP)},
    {"qinq arp is non-ip",
     {VLAN(AD, Q), .ethertype = ETH_P_ARP},
     EXPECT(PASS, NON_IP)},
    {"802.1Q tag cut short is malformed-l2", V4(VLAN(Q), TCP),
     .fix = fix_cut_in_tag, EXPECT(DROP, MALFORMED_L2)},
    {"802.1ad tag cut short is malformed-l2", V4(VLAN(AD), TCP),
     .fix = fix_cut_in_tag, EXPECT(DROP, MALFORMED_L2)},
    {"qinq inner tag cut short is malformed-l2", V6(VLAN(AD, Q), TCP),
     .fix = fix_cut_in_tag, EXPECT(DROP, MALFORMED_L2)},
    {"qinq with nothing after the tags (type ipv4) is malformed-l3",
     V4(VLAN(AD, Q), TCP), .fix = fix_after_tags, EXPECT(DROP, MALFORMED_L3)},

    /* IPv4 header. */
    {"ipv4 ihl 4 is malformed-l3", V4(TCP, .ihl = 4),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv4 ihl 0 is malformed-l3", V4(TCP), .fix = fix_ihl0,
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv4 ihl 15 beyond the frame is malformed-l3", V4(UDP, .ihl = 15),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv4 ihl 6 with the option beyond the frame is malformed-l3",
     V4(.proto = IPPROTO_NONE, .ihl = 6), EXPECT(DROP, MALFORMED_L3)},
    {"ipv4 4 option bytes pass", V4(UDP, .ip_opts = 4), EXPECT(PASS, PASS)},
    {"ipv4 40 option bytes (ihl 15) pass", V4(TCP, .ip_opts = 40),
     EXPECT(PASS, PASS)},
    {"ipv4 tot_len below 20 is malformed-l3", V4(TCP, .ip_len = 19),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv4 tot_len below ihl*4 with options is malformed-l3",
     V4(TCP, .ip_opts = 8, .ip_len = 24), EXPECT(DROP, MALFORMED_L3)},
    {"ipv4 tot_len one beyond the frame is malformed-l3", V4(TCP, .ip_len = 41),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv4 tot_len 65535 is malformed-l3", V4(UDP, .ip_len = 65535),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv4 tot_len covering only the header, tcp in padding, is "
     "malformed-l4",
     V4(TCP, .ip_len = 20), EXPECT(DROP, MALFORMED_L4)},
    {"ipv4 df is not a fragment (bad udp length caught)",
     V4(UDP, .frag = PKT_IP4_DF, .udp_len = 100), EXPECT(DROP, MALFORMED_L4)},

    /* IPv4 fragments. */
    {"ipv4 later fragment with 4 bytes (no l4 header) passes",
     V4(TCP, .frag = 185, .cut = 16), EXPECT(PASS, PASS)},
    {"ipv4 later fragment with no payload passes", V4(UDP, .frag = 1, .cut = 8),
     EXPECT(PASS, PASS)},
    {"ipv4 middle fragment (mf, offset) passes",
     V4(TCP, .frag = PKT_IP4_MF | 185, .cut = 16), EXPECT(PASS, PASS)},
    {"ipv4 later fragment with garbage tcp doff passes",
     V4(TCP, .frag = 3, .doff = 1), EXPECT(PASS, PASS)},
    {"ipv4 first fragment with a full tcp header passes",
     V4(TCP, .frag = PKT_IP4_MF, .payload = 8), EXPECT(PASS, PASS)},
    {"ipv4 first fragment with 12 bytes of tcp is malformed-l4",
     V4(TCP, .frag = PKT_IP4_MF, .cut = 8), EXPECT(DROP, MALFORMED_L4)},
    {"ipv4 first fragment with 4 bytes of udp is malformed-l4",
     V4(UDP, .frag = PKT_IP4_MF, .cut = 4), EXPECT(DROP, MALFORMED_L4)},
    {"ipv4 first fragment with 4 bytes of icmp is malformed-l4",
     V4(ICMP, .frag = PKT_IP4_MF, .cut = 4), EXPECT(DROP, MALFORMED_L4)},
    {"ipv4 first fragment with udp length beyond it passes",
     V4(UDP, .frag = PKT_IP4_MF, .payload = 8, .udp_len = 1000),
     EXPECT(PASS, PASS)},

    /* TCP. */
    {"tcp doff 4 is malformed-l4", V4(TCP, .doff = 4),
     EXPECT(DROP, MALFORMED_L4)},
    {"tcp doff 0 is malformed-l4", V4(TCP), .fix = fix_doff0,
     EXPECT(DROP, MALFORMED_L4)},
    {"tcp doff 15 beyond the packet is malformed-l4",
     V4(TCP, .doff = 15, .payload = 10), EXPECT(DROP, MALFORMED_L4)},
    {"tcp doff 6 beyond the packet by one byte is malformed-l4",
     V4(TCP, .doff = 6, .payload = 3), EXPECT(DROP, MALFORMED_L4)},
    {"tcp doff 6 with 4 payload bytes passes", V4(TCP, .doff = 6, .payload = 4),
     EXPECT(PASS, PASS)},
    {"tcp 12 option bytes (doff 8) pass", V4(TCP, .tcp_opts = 12),
     EXPECT(PASS, PASS)},
    {"ipv6 tcp 40 option bytes (doff 15) pass", V6(TCP, .tcp_opts = 40),
     EXPECT(PASS, PASS)},
    {"tcp options beyond ip tot_len (in padding) are malformed-l4",
     V4(TCP, .doff = 8, .pad = 12), EXPECT(DROP, MALFORMED_L4)},
    {"tcp 19 bytes is malformed-l4", V4(TCP, .cut = 1),
     EXPECT(DROP, MALFORMED_L4)},
    {"ipv6 tcp doff beyond the packet is malformed-l4", V6(TCP, .doff = 10),
     EXPECT(DROP, MALFORMED_L4)},
    {"ipv6 tcp 19 bytes is malformed-l4", V6(TCP, .cut = 1),
     EXPECT(DROP, MALFORMED_L4)},

    /* UDP. */
    {"udp length 7 is malformed-l4", V4(UDP, .udp_len = 7),
     EXPECT(DROP, MALFORMED_L4)},
    {"udp length 0 is malformed-l4", V4(UDP), .fix = fix_udp_len0,
     EXPECT(DROP, MALFORMED_L4)},
    {"udp length one beyond the ip payload is malformed-l4",
     V4(UDP, .payload = 4, .udp_len = 13), EXPECT(DROP, MALFORMED_L4)},
    {"udp length below the ip payload passes",
     V4(UDP, .payload = 10, .udp_len = 8), EXPECT(PASS, PASS)},
    {"udp 7 bytes is malformed-l4", V4(UDP, .cut = 1),
     EXPECT(DROP, MALFORMED_L4)},
    {"ipv6 udp length beyond the payload is malformed-l4",
     V6(UDP, .udp_len = 100), EXPECT(DROP, MALFORMED_L4)},
    {"ipv6 udp length 7 is malformed-l4", V6(UDP, .udp_len = 7),
     EXPECT(DROP, MALFORMED_L4)},

    /* ICMP and ICMPv6. */
    {"icmp 8 bytes passes", V4(ICMP), EXPECT(PASS, PASS)},
    {"icmp 7 bytes is malformed-l4", V4(ICMP, .cut = 1),
     EXPECT(DROP, MALFORMED_L4)},
    {"icmpv6 8 bytes passes", V6(ICMP6), EXPECT(PASS, PASS)},
    {"icmpv6 4 bytes is malformed-l4", V6(ICMP6, .cut = 4),
     EXPECT(DROP, MALFORMED_L4)},
    {"icmpv6 7 bytes is malformed-l4", V6(ICMP6, .cut = 1),
     EXPECT(DROP, MALFORMED_L4)},
    {"icmpv6 after an extension chain, 4 bytes, is malformed-l4",
     V6(.n_ext = 2, EXT(HOP, RTG), ICMP6, .cut = 4),
     EXPECT(DROP, MALFORMED_L4)},

    /* IPv6 header and extension headers. */
    {"ipv6 payload_len one beyond the frame is malformed-l3",
     V6(TCP, .ip_len = 21), EXPECT(DROP, MALFORMED_L3)},
    /* payload_len 0 is read as a jumbogram without checking for the
     * hop-by-hop jumbo option: the rest of the frame is the payload. */
    {"ipv6 payload_len 0 takes the payload from the frame",
     V6(UDP, .payload = 4), .fix = fix_ip6_plen0, EXPECT(PASS, PASS)},
    {"ipv6 hop,dst,routing,ah,dst then tcp passes",
     V6(.n_ext = 5, EXT(HOP, DST, RTG, AH, DST), TCP, .payload = 4),
     EXPECT(PASS, PASS)},
    {"ipv6 24-byte hop-by-hop then udp passes",
     V6(.n_ext = 1, EXT(HOP), .ext_hlen = {2}, UDP), EXPECT(PASS, PASS)},
    {"ipv6 ah then icmpv6 passes", V6(.n_ext = 1, EXT(AH), ICMP6),
     EXPECT(PASS, PASS)},
    {"ipv6 chain of 7 extension headers passes",
     V6(.n_ext = 7, EXT(HOP, DST, DST, DST, DST, DST, DST), TCP),
     EXPECT(PASS, PASS)},
    /* SL_IPV6_MAX_EXT is 8: "a longer chain is malformed". */
    {"ipv6 chain of 8 extension headers passes",
     V6(.n_ext = 8, EXT(HOP, DST, DST, DST, DST, DST, DST, DST), TCP),
     EXPECT(PASS, PASS)},
    {"ipv6 chain of 9 extension headers is malformed-l3",
     V6(.n_ext = 9, EXT(HOP, DST, DST, DST, DST, DST, DST, DST, DST), TCP),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv6 chain of 12 extension headers is malformed-l3",
     V6(.n_ext = 12,
	EXT(HOP, RTG, DST, DST, DST, DST, DST, DST, DST, DST, DST, DST), UDP),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv6 extension header cut after 4 bytes is malformed-l3",
     V6(.n_ext = 1, EXT(HOP), .proto = IPPROTO_NONE, .cut = 4),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv6 16-byte extension header cut after 8 bytes is malformed-l3",
     V6(.n_ext = 1, EXT(DST), .ext_hlen = {1}, .proto = IPPROTO_NONE, .cut = 8),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv6 extension header beyond payload_len is malformed-l3",
     V6(.n_ext = 1, EXT(HOP), .ext_hlen = {1}, .proto = IPPROTO_NONE,
	.ip_len = 8),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv6 ah cut short is malformed-l3",
     V6(.n_ext = 1, EXT(AH), TCP, .cut = 20 + 20), EXPECT(DROP, MALFORMED_L3)},
    {"ipv6 fragment header cut short is malformed-l3",
     V6(.n_ext = 1, EXT(FRG), .proto = IPPROTO_NONE, .cut = 2),
     EXPECT(DROP, MALFORMED_L3)},
    {"ipv6 later fragment (no l4 header) passes",
     V6(.n_ext = 1, EXT(FRG), .frag = PKT_IP6_OFF(1), TCP, .cut = 16),
     EXPECT(PASS, PASS)},
    {"ipv6 middle fragment (offset, m) passes",
     V6(.n_ext = 1, EXT(FRG), .frag = PKT_IP6_OFF(100) | PKT_IP6_M, UDP,
	.cut = 4),
     EXPECT(PASS, PASS)},
    {"ipv6 later fragment after hop-by-hop passes",
     V6(.n_ext = 2, EXT(HOP, FRG), .frag = PKT_IP6_OFF(7), ICMP6, .cut = 5),
     EXPECT(PASS, PASS)},
    /* A later fragment carries payload, not the header its fragment
     * header's next-header names (RFC 8200 4.5): the walk must stop. */
    {"ipv6 later fragment whose next header is dst-opts passes",
     V6(.n_ext = 1, EXT(FRG), .frag = PKT_IP6_OFF(1), .proto = IPPROTO_DSTOPTS,
	.payload = 8),
     EXPECT(PASS, PASS)},
    {"ipv6 first fragment with a full tcp header passes",
     V6(.n_ext = 1, EXT(FRG), .frag = PKT_IP6_M, TCP, .payload = 8),
     EXPECT(PASS, PASS)},
    {"ipv6 first fragment with 12 bytes of tcp is malformed-l4",
     V6(.n_ext = 1, EXT(FRG), .frag = PKT_IP6_M, TCP, .cut = 8),
     EXPECT(DROP, MALFORMED_L4)},
    {"ipv6 first fragment with udp length beyond it passes",
     V6(.n_ext = 1, EXT(FRG), .frag = PKT_IP6_M, UDP, .payload = 8,
	.udp_len = 1000),
     EXPECT(PASS, PASS)},
    {"ipv6 atomic fragment (offset 0, no m) checks the udp length",
     V6(.n_ext = 1, EXT(FRG), .frag = 0, UDP, .udp_len = 1000),
     EXPECT(DROP, MALFORMED_L4)},

    /* Abusive TCP and land: well-formed, dropped with their own reason
     * by the malformed stage (TCP flags: FIN 01 SYN 02 RST 04 PSH 08 ACK 10
     * URG 20 ECE 40 CWR 80). */
    {"ipv4 tcp syn+fin drops as tcp-syn-fin", V4(TCP, .tcp_flags = 0x03),
     EXPECT(DROP, TCP_SYNFIN)},
    {"ipv6 tcp syn+fin drops as tcp-syn-fin", V6(TCP, .tcp_flags = 0x03),
     EXPECT(DROP, TCP_SYNFIN)},
    {"802.1Q ipv4 tcp syn+fin drops as tcp-syn-fin",
     V4(VLAN(Q), TCP, .tcp_flags = 0x03), EXPECT(DROP, TCP_SYNFIN)},
    {"qinq ipv6 tcp syn+fin+ack drops as tcp-syn-fin",
     V6(VLAN(AD, Q), TCP, .tcp_flags = 0x13), EXPECT(DROP, TCP_SYNFIN)},
    {"ipv4 tcp with all six flags drops as tcp-syn-fin",
     V4(TCP, .tcp_flags = 0x3f), EXPECT(DROP, TCP_SYNFIN)},
    {"ipv4 tcp syn+rst drops as tcp-syn-rst", V4(TCP, .tcp_flags = 0x06),
     EXPECT(DROP, TCP_SYNRST)},
    {"ipv6 tcp syn+rst+ack drops as tcp-syn-rst", V6(TCP, .tcp_flags = 0x16),
     EXPECT(DROP, TCP_SYNRST)},
    {"802.1ad ipv6 tcp syn+rst drops as tcp-syn-rst",
     V6(VLAN(AD), TCP, .tcp_flags = 0x06), EXPECT(DROP, TCP_SYNRST)},
    {"ipv4 tcp without flags drops as tcp-no-flags", V4(TCP),
     .fix = fix_tcp_noflags, EXPECT(DROP, TCP_NOFLAGS)},
    {"ipv6 tcp without flags drops as tcp-no-flags", V6(TCP, .payload = 4),
     .fix = fix_tcp_noflags, EXPECT(DROP, TCP_NOFLAGS)},
    {"802.1Q ipv4 tcp without flags drops as tcp-no-flags", V4(VLAN(Q), TCP),
     .fix = fix_tcp_noflags, EXPECT(DROP, TCP_NOFLAGS)},
    {"ipv6 tcp with only ece+cwr drops as tcp-no-flags",
     V6(TCP, .tcp_flags = 0xc0), EXPECT(DROP, TCP_NOFLAGS)},
    {"ipv4 tcp fin without ack drops as tcp-fin-no-ack",
     V4(TCP, .tcp_flags = 0x01), EXPECT(DROP, TCP_FIN_NOACK)},
    {"ipv6 tcp fin+psh without ack drops as tcp-fin-no-ack",
     V6(TCP, .tcp_flags = 0x09), EXPECT(DROP, TCP_FIN_NOACK)},
    {"qinq ipv4 tcp fin without ack drops as tcp-fin-no-ack",
     V4(VLAN(AD, Q), TCP, .tcp_flags = 0x01), EXPECT(DROP, TCP_FIN_NOACK)},
    {"ipv4 tcp fin+psh+urg (xmas) drops as tcp-xmas",
     V4(TCP, .tcp_flags = 0x29), EXPECT(DROP, TCP_XMAS)},
    {"ipv6 tcp fin+psh+urg+ece+cwr (xmas) drops as tcp-xmas",
     V6(TCP, .tcp_flags = 0xe9), EXPECT(DROP, TCP_XMAS)},
    {"802.1Q ipv6 tcp xmas drops as tcp-xmas",
     V6(VLAN(Q), TCP, .tcp_flags = 0x29), EXPECT(DROP, TCP_XMAS)},
    {"ipv4 first fragment with syn+fin drops as tcp-syn-fin",
     V4(TCP, .frag = PKT_IP4_MF, .tcp_flags = 0x03, .payload = 8),
     EXPECT(DROP, TCP_SYNFIN)},
    {"ipv6 tcp syn+fin after an extension chain drops as tcp-syn-fin",
     V6(.n_ext = 2, EXT(HOP, DST), TCP, .tcp_flags = 0x03),
     EXPECT(DROP, TCP_SYNFIN)},
    {"ipv4 tcp land (src == dst) drops as land",
     V4(TCP, .src = PKT_DST4, .tcp_flags = 0x02), EXPECT(DROP, LAND)},
    {"ipv4 udp land drops as land", V4(UDP, .src = PKT_DST4),
     EXPECT(DROP, LAND)},
    {"ipv6 icmpv6 land drops as land", V6(ICMP6, .src = PKT_DST6),
     EXPECT(DROP, LAND)},
    {"802.1Q ipv6 tcp land drops as land", V6(VLAN(Q), TCP, .src = PKT_DST6),
     EXPECT(DROP, LAND)},
    {"qinq ipv4 land later fragment drops as land",
     V4(VLAN(AD, Q), UDP, .src = PKT_DST4, .frag = 1, .cut = 8),
     EXPECT(DROP, LAND)},
    {"ipv4 land syn+fin drops as land (first match)",
     V4(TCP, .src = PKT_DST4, .tcp_flags = 0x03), EXPECT(DROP, LAND)},
    {"ipv4 src differing from dst in the last bit is no land",
     V4(TCP, .src = "198.19.0.0"), EXPECT(PASS, PASS)},
    {"ipv6 src differing from dst in the first word is no land",
     V6(TCP, .src = "3001:db8:2::1"), EXPECT(PASS, PASS)},
    /* The normal flags pass. */
    {"ipv4 tcp syn+ack passes", V4(TCP, .tcp_flags = 0x12), EXPECT(PASS, PASS)},
    {"ipv4 tcp ack passes", V4(TCP, .tcp_flags = 0x10), EXPECT(PASS, PASS)},
    {"ipv4 tcp fin+ack passes", V4(TCP, .tcp_flags = 0x11), EXPECT(PASS, PASS)},
    {"ipv4 tcp rst passes", V4(TCP, .tcp_flags = 0x04), EXPECT(PASS, PASS)},
    {"ipv4 tcp rst+ack passes", V4(TCP, .tcp_flags = 0x14), EXPECT(PASS, PASS)},
    {"ipv4 tcp psh+ack passes", V4(TCP, .tcp_flags = 0x18), EXPECT(PASS, PASS)},
    {"ipv4 tcp fin+psh+urg+ack passes", V4(TCP, .tcp_flags = 0x39),
     EXPECT(PASS, PASS)},
    {"ipv4 tcp syn+ece+cwr passes", V4(TCP, .tcp_flags = 0xc2),
     EXPECT(PASS, PASS)},
    {"ipv6 tcp syn passes", V6(TCP, .tcp_flags = 0x02), EXPECT(PASS, PASS)},
    {"ipv6 tcp syn+ack passes", V6(TCP, .tcp_flags = 0x12), EXPECT(PASS, PASS)},
    {"ipv6 tcp fin+ack passes", V6(TCP, .tcp_flags = 0x11), EXPECT(PASS, PASS)},
    {"ipv6 tcp rst passes", V6(TCP, .tcp_flags = 0x04), EXPECT(PASS, PASS)},
    {"ipv6 tcp rst+ack passes", V6(TCP, .tcp_flags = 0x14), EXPECT(PASS, PASS)},
    {"802.1Q ipv4 tcp syn passes", V4(VLAN(Q), TCP, .tcp_flags = 0x02),
     EXPECT(PASS, PASS)},
    {"qinq ipv6 tcp fin+ack passes", V6(VLAN(AD, Q), TCP, .tcp_flags = 0x11),
     EXPECT(PASS, PASS)},
    {"ipv6 later fragment (flags unreadable) passes",
     V6(.n_ext = 1, EXT(FRG), .frag = PKT_IP6_OFF(2), TCP, .tcp_flags = 0x03,
	.payload = 4),
     EXPECT(PASS, PASS)},
    /* A sanity check, before the sets: an allowed source is no
     * exception. */
    {"ipv4 syn+fin from an allowed source drops as tcp-syn-fin",
     V4(TCP, .tcp_flags = 0x03), .set = {ALLOW(SRC, PKT_SRC4)},
     EXPECT(DROP, TCP_SYNFIN)},
    {"ipv6 land from an allowed source drops as land", V6(UDP, .src = PKT_DST6),
     .set = {ALLOW(SRC, "2001:db8::/32")}, EXPECT(DROP, LAND)},

    /* Bans (after the sets; source only). */
    {"v4 banned source /32 drops as banned", V4(TCP),
     .ban = {BAN(PKT_SRC4, ACTIVE)}, .ban_hit = 1, EXPECT(DROP, BANNED)},
    {"v4 source in a permanent /24 ban drops as banned", V4(UDP),
     .ban = {BAN("198.18.0.0/24", PERMANENT)}, .ban_hit = 1,
     EXPECT(DROP, BANNED)},
    {"v4 source in 0.0.0.0/0 ban drops as banned", V4(ICMP),
     .ban = {BAN("0.0.0.0/0", ACTIVE)}, .ban_hit = 1, EXPECT(DROP, BANNED)},
    {"v4 expired ban passes", V4(TCP), .ban = {BAN(PKT_SRC4, EXPIRED)},
     EXPECT(PASS, PASS)},
    {"v4 expired /32 ban over an active /16 drops by the /16", V4(TCP),
     .ban = {BAN(PKT_SRC4, EXPIRED), BAN("198.18.0.0/16", ACTIVE)},
     .ban_hit = 2, EXPECT(DROP, BANNED)},
    {"v4 active /32 ban over an expired /16 drops by the /32", V4(TCP),
     .ban = {BAN(PKT_SRC4, ACTIVE), BAN("198.18.0.0/16", EXPIRED)},
     .ban_hit = 1, EXPECT(DROP, BANNED)},
    {"v4 expired /32 and /16 bans pass", V4(UDP),
     .ban = {BAN(PKT_SRC4, EXPIRED), BAN("198.18.0.0/16", EXPIRED)},
     EXPECT(PASS, PASS)},
    {"v4 ban of the destination does not drop", V4(TCP),
     .ban = {BAN(PKT_DST4, ACTIVE)}, EXPECT(PASS, PASS)},
    {"v4 ban of a neighbour /32 does not drop", V4(TCP),
     .ban = {BAN("198.18.0.2", ACTIVE)}, EXPECT(PASS, PASS)},
    {"v4 ban applies inside qinq", V4(VLAN(AD, Q), TCP),
     .ban = {BAN(PKT_SRC4, ACTIVE)}, .ban_hit = 1, EXPECT(DROP, BANNED)},
    {"v4 ban applies to a later fragment", V4(TCP, .frag = 185, .cut = 16),
     .ban = {BAN("198.18.0.0/15", ACTIVE)}, .ban_hit = 1, EXPECT(DROP, BANNED)},
    {"v6 banned source /128 drops as banned", V6(TCP),
     .ban = {BAN(PKT_SRC6, ACTIVE)}, .ban_hit = 1, EXPECT(DROP, BANNED)},
    {"v6 source in a /48 ban drops as banned", V6(VLAN(Q), UDP),
     .ban = {BAN("2001:db8:1::/48", PERMANENT)}, .ban_hit = 1,
     EXPECT(DROP, BANNED)},
    {"v6 expired ban passes", V6(ICMP6), .ban = {BAN(PKT_SRC6, EXPIRED)},
     EXPECT(PASS, PASS)},
    {"v6 expired /128 ban over an active /32 drops by the /32", V6(TCP),
     .ban = {BAN(PKT_SRC6, EXPIRED), BAN("2001:db8::/32", ACTIVE)},
     .ban_hit = 2, EXPECT(DROP, BANNED)},
    {"v6 packet ignores ipv4 bans", V6(UDP), .ban = {BAN("0.0.0.0/0", ACTIVE)},
     EXPECT(PASS, PASS)},
    {"v4 packet ignores ipv6 bans", V4(UDP), .ban = {BAN("::/0", ACTIVE)},
     EXPECT(PASS, PASS)},
    /* The allow set stays above the bans; the deny set decides first. */
    {"v4 allowed source is not banned", V4(TCP), .set = {ALLOW(SRC, PKT_SRC4)},
     .hit = 1, .ban = {BAN(PKT_SRC4, ACTIVE)}, EXPECT(PASS, ALLOW_SET)},
    {"v6 source in an allowed /48 is not banned by its /128", V6(TCP),
     .set = {ALLOW(SRC, "2001:db8:1::/48")}, .hit = 1,
     .ban = {BAN(PKT_SRC6, PERMANENT)}, EXPECT(PASS, ALLOW_SET)},
    {"v4 denied and banned source drops as deny-set", V4(UDP),
     .set = {DENY(SRC, PKT_SRC4)}, .hit = 1, .ban = {BAN(PKT_SRC4, ACTIVE)},
     EXPECT(DROP, DENY_SET)},
    {"v4 syn+fin from a banned source drops as tcp-syn-fin",
     V4(TCP, .tcp_flags = 0x03), .ban = {BAN(PKT_SRC4, ACTIVE)},
     EXPECT(DROP, TCP_SYNFIN)},

    /* Sets, IPv4. The packet is PKT_SRC4 198.18.0.1 -> PKT_DST4
     * 198.19.0.1 unless the spec says otherwise. */
    {"v4 src deny /32 drops", V4(TCP), .set = {DENY(SRC, PKT_SRC4)}, .hit = 1,
     EXPECT(DROP, DENY_SET)},
    {"v4 src allow /24 passes allow-set", V4(UDP),
     .set = {ALLOW(SRC, "198.18.0.0/24")}, .hit = 1, EXPECT(PASS, ALLOW_SET)},
    {"v4 allow /16 + deny /24: inside the /24 is denied",
     V4(TCP, .src = "198.18.5.1"),
     .set = {ALLOW(SRC, "198.18.0.0/16"), DENY(SRC, "198.18.5.0/24")}, .hit = 2,
     EXPECT(DROP, DENY_SET)},
    {"v4 allow /16 + deny /24: outside the /24 is allowed",
     V4(TCP, .src = "198.18.6.1"),
     .set = {ALLOW(SRC, "198.18.0.0/16"), DENY(SRC, "198.18.5.0/24")}, .hit = 1,
     EXPECT(PASS, ALLOW_SET)},
    {"v4 deny /24 inserted before allow /16: inside is denied",
     V4(TCP, .src = "198.18.5.1"),
     .set = {DENY(SRC, "198.18.5.0/24"), ALLOW(SRC, "198.18.0.0/16")}, .hit = 1,
     EXPECT(DROP, DENY_SET)},
    {"v4 deny /16 + allow /24: inside the /24 is allowed",
     V4(TCP, .src = "198.18.5.1"),
     .set = {DENY(SRC, "198.18.0.0/16"), ALLOW(SRC, "198.18.5.0/24")}, .hit = 2,
     EXPECT(PASS, ALLOW_SET)},
    {"v4 deny /16 + allow /24: outside the /24 is denied",
     V4(TCP, .src = "198.18.6.1"),
     .set = {DENY(SRC, "198.18.0.0/16"), ALLOW(SRC, "198.18.5.0/24")}, .hit = 1,
     EXPECT(DROP, DENY_SET)},
    {"v4 deny /13 (not octet aligned) matches inside",
     V4(TCP, .src = "198.23.255.255"), .set = {DENY(SRC, "198.16.0.0/13")},
     .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v4 deny /13 (not octet aligned) misses outside",
     V4(TCP, .src = "198.24.0.0", .dst = "10.0.0.1"),
     .set = {DENY(SRC, "198.16.0.0/13")}, EXPECT(PASS, PASS)},
    {"v4 dst deny drops", V4(UDP), .set = {DENY(DST, "198.19.0.0/16")},
     .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v4 dst allow passes allow-set", V4(UDP),
     .set = {ALLOW(DST, "198.19.0.1/32")}, .hit = 1, EXPECT(PASS, ALLOW_SET)},
    {"v4 dst allow /16 + deny /24: inside is denied",
     V4(ICMP, .dst = "198.19.7.7"),
     .set = {ALLOW(DST, "198.19.0.0/16"), DENY(DST, "198.19.7.0/24")}, .hit = 2,
     EXPECT(DROP, DENY_SET)},
    {"v4 tie src allow /24 vs dst deny /24: deny wins", V4(TCP),
     .set = {ALLOW(SRC, "198.18.0.0/24"), DENY(DST, "198.19.0.0/24")}, .hit = 2,
     EXPECT(DROP, DENY_SET)},
    {"v4 tie src deny /24 vs dst allow /24: deny wins", V4(TCP),
     .set = {DENY(SRC, "198.18.0.0/24"), ALLOW(DST, "198.19.0.0/24")}, .hit = 1,
     EXPECT(DROP, DENY_SET)},
    {"v4 tie of two allows counts the dst entry", V4(TCP),
     .set = {ALLOW(SRC, "198.18.0.0/24"), ALLOW(DST, "198.19.0.0/24")},
     .hit = 2, EXPECT(PASS, ALLOW_SET)},
    {"v4 tie of two denies counts the src entry", V4(TCP),
     .set = {DENY(SRC, "198.18.0.0/24"), DENY(DST, "198.19.0.0/24")}, .hit = 1,
     EXPECT(DROP, DENY_SET)},
    {"v4 longer src allow /32 beats dst deny /24", V4(TCP),
     .set = {ALLOW(SRC, PKT_SRC4), DENY(DST, "198.19.0.0/24")}, .hit = 1,
     EXPECT(PASS, ALLOW_SET)},
    {"v4 longer dst allow /16 beats src deny /8", V4(TCP),
     .set = {DENY(SRC, "198.0.0.0/8"), ALLOW(DST, "198.19.0.0/16")}, .hit = 2,
     EXPECT(PASS, ALLOW_SET)},
    /* A full-length source deny is final: the destination trie is not
     * consulted, and only the source entry counts. */
    {"v4 full-length src deny /32 beats dst allow /32", V4(TCP),
     .set = {DENY(SRC, PKT_SRC4), ALLOW(DST, PKT_DST4)}, .hit = 1,
     EXPECT(DROP, DENY_SET)},
    {"v4 full-length src deny /32 vs dst deny /32 counts the src entry",
     V4(UDP), .set = {DENY(SRC, PKT_SRC4), DENY(DST, PKT_DST4)}, .hit = 1,
     EXPECT(DROP, DENY_SET)},
    {"v4 full-length src allow /32 vs dst deny /32: deny wins", V4(TCP),
     .set = {ALLOW(SRC, PKT_SRC4), DENY(DST, PKT_DST4)}, .hit = 2,
     EXPECT(DROP, DENY_SET)},
    {"v4 src deny /31 vs dst allow /32: the longer allow wins", V4(TCP),
     .set = {DENY(SRC, "198.18.0.0/31"), ALLOW(DST, PKT_DST4)}, .hit = 2,
     EXPECT(PASS, ALLOW_SET)},
    {"v4 no matching entry passes", V4(TCP),
     .set = {DENY(SRC, "10.0.0.0/8"), DENY(DST, "198.18.0.0/16"),
	     DENY(SRC, "198.19.0.0/16"), ALLOW(DST, "198.19.0.2/32")},
     EXPECT(PASS, PASS)},
    {"v4 deny 0.0.0.0/0 drops every ipv4 packet", V4(UDP),
     .set = {DENY(SRC, "0.0.0.0/0")}, .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v4 packet ignores ipv6 entries", V4(UDP),
     .set = {DENY(SRC, "::/0"), DENY(DST, "::/0")}, EXPECT(PASS, PASS)},
    {"v4 bytes of a 1442-byte frame are counted", V4(UDP, .payload = 1400),
     .set = {DENY(SRC, "198.18.0.0/15")}, .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v4 deny applies inside qinq", V4(VLAN(AD, Q), TCP),
     .set = {DENY(SRC, PKT_SRC4)}, .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v4 later fragment from a denied source is dropped",
     V4(TCP, .frag = 185, .cut = 16), .set = {DENY(SRC, PKT_SRC4)}, .hit = 1,
     EXPECT(DROP, DENY_SET)},
    {"v4 ip options do not hide the addresses", V4(TCP, .ip_opts = 12),
     .set = {DENY(DST, PKT_DST4)}, .hit = 1, EXPECT(DROP, DENY_SET)},
    {"arp ignores a deny 0.0.0.0/0",
     {.ethertype = ETH_P_ARP},
     .set = {DENY(SRC, "0.0.0.0/0"), DENY(DST, "0.0.0.0/0")},
     EXPECT(PASS, NON_IP)},
    {"malformed frame from an allowed source is still dropped",
     V4(TCP, .doff = 4), .set = {ALLOW(SRC, PKT_SRC4)},
     EXPECT(DROP, MALFORMED_L4)},

    /* Sets, IPv6. PKT_SRC6 2001:db8:1::1 -> PKT_DST6 2001:db8:2::1. */
    {"v6 src deny /128 drops", V6(TCP), .set = {DENY(SRC, PKT_SRC6)}, .hit = 1,
     EXPECT(DROP, DENY_SET)},
    {"v6 src allow /48 passes allow-set", V6(UDP),
     .set = {ALLOW(SRC, "2001:db8:1::/48")}, .hit = 1, EXPECT(PASS, ALLOW_SET)},
    {"v6 allow /32 + deny /48: inside the /48 is denied", V6(TCP),
     .set = {ALLOW(SRC, "2001:db8::/32"), DENY(SRC, "2001:db8:1::/48")},
     .hit = 2, EXPECT(DROP, DENY_SET)},
    {"v6 allow /32 + deny /48: outside the /48 is allowed",
     V6(TCP, .src = "2001:db8:3::1"),
     .set = {ALLOW(SRC, "2001:db8::/32"), DENY(SRC, "2001:db8:1::/48")},
     .hit = 1, EXPECT(PASS, ALLOW_SET)},
    {"v6 deny /32 + allow /48: inside the /48 is allowed", V6(TCP),
     .set = {DENY(SRC, "2001:db8::/32"), ALLOW(SRC, "2001:db8:1::/48")},
     .hit = 2, EXPECT(PASS, ALLOW_SET)},
    {"v6 deny /32 + allow /48: outside the /48 is denied",
     V6(TCP, .src = "2001:db8:3::1"),
     .set = {DENY(SRC, "2001:db8::/32"), ALLOW(SRC, "2001:db8:1::/48")},
     .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v6 deny /127 (not octet aligned) matches its pair",
     V6(TCP, .src = "2001:db8:1::1"), .set = {DENY(SRC, "2001:db8:1::/127")},
     .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v6 dst deny drops", V6(UDP), .set = {DENY(DST, "2001:db8:2::/64")},
     .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v6 dst deny /32 + allow /64: inside is allowed", V6(UDP),
     .set = {DENY(DST, "2001:db8::/32"), ALLOW(DST, "2001:db8:2::/64")},
     .hit = 2, EXPECT(PASS, ALLOW_SET)},
    {"v6 tie src allow /64 vs dst deny /64: deny wins", V6(TCP),
     .set = {ALLOW(SRC, "2001:db8:1::/64"), DENY(DST, "2001:db8:2::/64")},
     .hit = 2, EXPECT(DROP, DENY_SET)},
    {"v6 tie src deny /64 vs dst allow /64: deny wins", V6(TCP),
     .set = {DENY(SRC, "2001:db8:1::/64"), ALLOW(DST, "2001:db8:2::/64")},
     .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v6 longer dst deny /128 beats src allow /64", V6(TCP),
     .set = {ALLOW(SRC, "2001:db8:1::/64"), DENY(DST, PKT_DST6)}, .hit = 2,
     EXPECT(DROP, DENY_SET)},
    {"v6 full-length src deny /128 beats dst allow /128", V6(TCP),
     .set = {DENY(SRC, PKT_SRC6), ALLOW(DST, PKT_DST6)}, .hit = 1,
     EXPECT(DROP, DENY_SET)},
    {"v6 full-length src allow /128 vs dst deny /128: deny wins", V6(UDP),
     .set = {ALLOW(SRC, PKT_SRC6), DENY(DST, PKT_DST6)}, .hit = 2,
     EXPECT(DROP, DENY_SET)},
    {"v6 src deny /127 vs dst allow /128: the longer allow wins", V6(TCP),
     .set = {DENY(SRC, "2001:db8:1::/127"), ALLOW(DST, PKT_DST6)}, .hit = 2,
     EXPECT(PASS, ALLOW_SET)},
    {"v6 no matching entry passes", V6(TCP),
     .set = {DENY(SRC, "2001:db8:2::/48"), DENY(DST, "2001:db8:1::/48"),
	     ALLOW(SRC, "fe80::/10")},
     EXPECT(PASS, PASS)},
    {"v6 deny ::/0 drops every ipv6 packet", V6(ICMP6),
     .set = {DENY(DST, "::/0")}, .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v6 packet ignores ipv4 entries", V6(UDP),
     .set = {DENY(SRC, "0.0.0.0/0"), DENY(DST, "0.0.0.0/0")},
     EXPECT(PASS, PASS)},
    {"v6 deny applies after an extension chain",
     V6(.n_ext = 3, EXT(HOP, RTG, DST), TCP), .set = {DENY(SRC, PKT_SRC6)},
     .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v6 later fragment from a denied source is dropped",
     V6(.n_ext = 1, EXT(FRG), .frag = PKT_IP6_OFF(1), UDP, .cut = 4),
     .set = {DENY(SRC, "2001:db8:1::/48")}, .hit = 1, EXPECT(DROP, DENY_SET)},
    {"v6 deny applies inside 802.1Q", V6(VLAN(Q), UDP),
     .set = {DENY(DST, PKT_DST6)}, .hit = 1, EXPECT(DROP, DENY_SET)},

    /* Feature drop_malformed=0: malformed frames pass, counted with
     * their malformed reason and the pass action. */
    {"no drop_malformed: cut vlan tag passes as malformed-l2", V4(VLAN(Q), TCP),
     .fix = fix_cut_in_tag, .keep_malformed = true, EXPECT(PASS, MALFORMED_L2)},
    {"no drop_malformed: ihl 4 passes as malformed-l3", V4(TCP, .ihl = 4),
     .keep_malformed = true, EXPECT(PASS, MALFORMED_L3)},
    {"no drop_malformed: ipv6 chain of 9 passes as malformed-l3",
     V6(.n_ext = 9, EXT(HOP, DST, DST, DST, DST, DST, DST, DST, DST), UDP),
     .keep_malformed = true, EXPECT(PASS, MALFORMED_L3)},
    {"no drop_malformed: tcp doff 4 passes as malformed-l4", V4(TCP, .doff = 4),
     .keep_malformed = true, EXPECT(PASS, MALFORMED_L4)},
    {"no drop_malformed: icmpv6 4 bytes passes as malformed-l4",
     V6(ICMP6, .cut = 4), .keep_malformed = true, EXPECT(PASS, MALFORMED_L4)},
    /* Every frame whose addresses the parser could read (a whole fixed
     * IPv4/IPv6 header of the right version) meets the sets, whatever is
     * wrong after them: passing malformed frames opens no way around the
     * deny set. */
    {"no drop_malformed: malformed-l4 frame from a denied source drops",
     V4(UDP, .udp_len = 7), .set = {DENY(SRC, PKT_SRC4)}, .hit = 1,
     .keep_malformed = true, EXPECT(DROP, DENY_SET)},
    {"no drop_malformed: malformed-l4 frame from an allowed source passes",
     V4(UDP, .udp_len = 7), .set = {ALLOW(SRC, PKT_SRC4)}, .hit = 1,
     .keep_malformed = true, EXPECT(PASS, MALFORMED_L4)},
    {"no drop_malformed: ipv4 ihl 4 from a denied source drops",
     V4(UDP, .ihl = 4), .set = {DENY(SRC, PKT_SRC4)}, .hit = 1,
     .keep_malformed = true, EXPECT(DROP, DENY_SET)},
    {"no drop_malformed: ipv4 tot_len past the frame to a denied "
     "destination drops",
     V4(TCP, .ip_len = 41), .set = {DENY(DST, "198.19.0.0/16")}, .hit = 1,
     .keep_malformed = true, EXPECT(DROP, DENY_SET)},
    {"no drop_malformed: ipv4 ihl 15 past the frame from a denied source "
     "drops",
     V4(UDP, .ihl = 15), .set = {DENY(SRC, PKT_SRC4)}, .hit = 1,
     .keep_malformed = true, EXPECT(DROP, DENY_SET)},
    {"no drop_malformed: ipv6 chain of 9 from a denied source drops",
     V6(.n_ext = 9, EXT(HOP, DST, DST, DST, DST, DST, DST, DST, DST), UDP),
     .set = {DENY(SRC, PKT_SRC6)}, .hit = 1, .keep_malformed = true,
     EXPECT(DROP, DENY_SET)},
    {"no drop_malformed: ipv6 chain of 12 from a denied /48 drops",
     V6(.n_ext = 12,
	EXT(HOP, RTG, DST, DST, DST, DST, DST, DST, DST, DST, DST, DST), TCP),
     .set = {DENY(SRC, "2001:db8:1::/48")}, .hit = 1, .keep_malformed = true,
     EXPECT(DROP, DENY_SET)},
    {"no drop_malformed: ipv6 chain of 9 to a denied destination drops",
     V6(.n_ext = 9, EXT(HOP, DST, DST, DST, DST, DST, DST, DST, DST), TCP),
     .set = {DENY(DST, PKT_DST6)}, .hit = 1, .keep_malformed = true,
     EXPECT(DROP, DENY_SET)},
    {"no drop_malformed: ipv6 chain of 9 from an allowed source passes as "
     "malformed-l3",
     V6(.n_ext = 9, EXT(HOP, DST, DST, DST, DST, DST, DST, DST, DST), UDP),
     .set = {ALLOW(SRC, PKT_SRC6)}, .hit = 1, .keep_malformed = true,
     EXPECT(PASS, MALFORMED_L3)},
    {"no drop_malformed: ipv6 truncated extension header from a denied "
     "source drops",
     V6(.n_ext = 1, EXT(HOP), .proto = IPPROTO_NONE, .cut = 4),
     .set = {DENY(SRC, PKT_SRC6)}, .hit = 1, .keep_malformed = true,
     EXPECT(DROP, DENY_SET)},
    {"no drop_malformed: ipv6 payload_len past the frame from a denied "
     "source drops",
     V6(TCP, .ip_len = 21), .set = {DENY(SRC, PKT_SRC6)}, .hit = 1,
     .keep_malformed = true, EXPECT(DROP, DENY_SET)},
    {"no drop_malformed: ipv6 truncated tcp from a denied source drops",
     V6(TCP, .cut = 1), .set = {DENY(SRC, PKT_SRC6)}, .hit = 1,
     .keep_malformed = true, EXPECT(DROP, DENY_SET)},
    /* A header of the wrong version carries no addresses to judge. */
    {"no drop_malformed: ipv4 ethertype with version 6 is not judged by "
     "the sets",
     V4(TCP, .version = 6), .set = {DENY(SRC, "0.0.0.0/0")},
     .keep_malformed = true, EXPECT(PASS, MALFORMED_L3)},
    {"no drop_malformed: ipv4 header cut short is not judged by the sets",
     V4(TCP, .cut = 30), .set = {DENY(SRC, "0.0.0.0/0")},
     .keep_malformed = true, EXPECT(PASS, MALFORMED_L3)},
    /* With the default features these frames drop as malformed. */
    {"ipv6 chain of 9 from a denied source drops as malformed-l3",
     V6(.n_ext = 9, EXT(HOP, DST, DST, DST, DST, DST, DST, DST, DST), UDP),
     .set = {DENY(SRC, PKT_SRC6)}, EXPECT(DROP, MALFORMED_L3)},
    {"no drop_malformed: well-formed frame from a denied source drops", V4(UDP),
     .set = {DENY(SRC, PKT_SRC4)}, .hit = 1, .keep_malformed = true,
     EXPECT(DROP, DENY_SET)},
    {"no drop_malformed: allow entry still passes allow-set", V6(TCP),
     .set = {ALLOW(SRC, PKT_SRC6)}, .hit = 1, .keep_malformed = true,
     EXPECT(PASS, ALLOW_SET)},
    {"no drop_malformed: arp is non-ip",
     {.ethertype = ETH_P_ARP},
     .keep_malformed = true,
     EXPECT(PASS, NON_IP)},
    {"no drop_malformed: tcp passes", V4(TCP), .keep_malformed = true,
     EXPECT(PASS, PASS)},
    {"no drop_malformed: malformed-l4 frame from a banned source drops",
     V4(UDP, .udp_len = 7), .ban = {BAN("198.18.0.0/24", ACTIVE)}, .ban_hit = 1,
     .keep_malformed = true, EXPECT(DROP, BANNED)},
    {"no drop_malformed: ipv6 chain of 9 from a banned source drops",
     V6(.n_ext = 9, EXT(HOP, DST, DST, DST, DST, DST, DST, DST, DST), UDP),
     .ban = {BAN(PKT_SRC6, ACTIVE)}, .ban_hit = 1, .keep_malformed = true,
     EXPECT(DROP, BANNED)},
    {"no drop_malformed: malformed frame from an allowed, banned source "
     "passes",
     V4(UDP, .udp_len = 7), .set = {ALLOW(SRC, PKT_SRC4)}, .hit = 1,
     .ban = {BAN(PKT_SRC4, ACTIVE)}, .keep_malformed = true,
     EXPECT(PASS, MALFORMED_L4)},
    {"no drop_malformed: malformed frame with an expired ban passes",
     V4(UDP, .udp_len = 7), .ban = {BAN(PKT_SRC4, EXPIRED)},
     .keep_malformed = true, EXPECT(PASS, MALFORMED_L4)},
    {"no drop_malformed: land from a banned source drops as banned",
     V4(UDP, .src = PKT_DST4), .ban = {BAN(PKT_DST4, ACTIVE)}, .ban_hit = 1,
     .keep_malformed = true, EXPECT(DROP, BANNED)},
    /* drop_malformed off: abusive packets go on through the table. */
    {"no drop_malformed: tcp syn+fin passes on", V4(TCP, .tcp_flags = 0x03),
     .keep_malformed = true, EXPECT(PASS, PASS)},
    {"no drop_malformed: ipv6 tcp xmas passes on", V6(TCP, .tcp_flags = 0x29),
     .keep_malformed = true, EXPECT(PASS, PASS)},
    {"no drop_malformed: land passes on", V4(UDP, .src = PKT_DST4),
     .keep_malformed = true, EXPECT(PASS, PASS)},
    {"no drop_malformed: tcp without flags from a denied source drops", V4(TCP),
     .fix = fix_tcp_noflags, .set = {DENY(SRC, PKT_SRC4)}, .hit = 1,
     .keep_malformed = true, EXPECT(DROP, DENY_SET)},
};

/* ---- truncation: a frame cut at every length ---- */

#define TO_END 0xffff

struct trunc_case {
	const char *name;
	struct pkt_spec pkt;
	bool fix_len; /* the IP length follows each cut */
	/* A cut leaving L bytes (14 <= L < full length) gets the reason of
	 * the first range with L < below; the whole frame gets `full`. */
	struct {
		uint16_t below;
		uint8_t reason;
	} r[4];
	uint8_t full;
};

static const struct trunc_case trunc_cases[] = {
    /* 14 eth | 24 ipv4 (4 option bytes) | 32 tcp (doff 8) | 6 data */
    {"every cut of tcp/ipv4 (ip length kept)",
     V4(TCP, .ip_opts = 4, .tcp_opts = 12, .payload = 6),
     false,
     {{TO_END, SL_R_MALFORMED_L3}},
     SL_R_PASS},
    {"every cut of tcp/ipv4 (ip length follows)",
     V4(TCP, .ip_opts = 4, .tcp_opts = 12, .payload = 6),
     true,
     {{38, SL_R_MALFORMED_L3}, {70, SL_R_MALFORMED_L4}, {TO_END, SL_R_PASS}},
     SL_R_PASS},
    /* 14 eth | 40 ipv6 | 16 hop-by-hop | 8 udp | 4 data */
    {"every cut of udp/ipv6 with hop-by-hop (ip length kept)",
     V6(.n_ext = 1, EXT(HOP), .ext_hlen = {1}, UDP, .payload = 4),
     false,
     {{TO_END, SL_R_MALFORMED_L3}},
     SL_R_PASS},
    /* Once the UDP header is whole its length exceeds what is left. */
    {"every cut of udp/ipv6 with hop-by-hop (ip length follows)",
     V6(.n_ext = 1, EXT(HOP), .ext_hlen = {1}, UDP, .payload = 4),
     true,
     {{70, SL_R_MALFORMED_L3}, {TO_END, SL_R_MALFORMED_L4}},
     SL_R_PASS},
    /* 14 eth | 20 ipv4 | 12 sctp common header | 4 data */
    {"every cut of sctp/ipv4 (ip length follows)",
     V4(.proto = IPPROTO_SCTP, .payload = 4),
     true,
     {{34, SL_R_MALFORMED_L3}, {46, SL_R_MALFORMED_L4}, {TO_END, SL_R_PASS}},
     SL_R_PASS},
    /* 14 eth | 20 ipv4 | 8 icmp | 8 data */
    {"every cut of icmp/ipv4 (ip length kept)",
     V4(ICMP, .payload = 8),
     false,
     {{TO_END, SL_R_MALFORMED_L3}},
     SL_R_PASS},
    {"every cut of icmp/ipv4 (ip length follows)",
     V4(ICMP, .payload = 8),
     true,
     {{34, SL_R_MALFORMED_L3}, {42, SL_R_MALFORMED_L4}, {TO_END, SL_R_PASS}},
     SL_R_PASS},
    /* 14 eth | 40 ipv6 | 8 icmpv6 | 4 data */
    {"every cut of icmpv6 (ip length follows)",
     V6(ICMP6, .payload = 4),
     true,
     {{54, SL_R_MALFORMED_L3}, {62, SL_R_MALFORMED_L4}, {TO_END, SL_R_PASS}},
     SL_R_PASS},
    /* 12 macs | 4 tag | 2 type | 20 ipv4 | 20 tcp */
    {"every cut of tcp/ipv4 in 802.1Q (ip length kept)",
     V4(VLAN(Q), TCP),
     false,
     {{18, SL_R_MALFORMED_L2}, {TO_END, SL_R_MALFORMED_L3}},
     SL_R_PASS},
    {"every cut of tcp/ipv4 in 802.1Q (ip length follows)",
     V4(VLAN(Q), TCP),
     true,
     {{18, SL_R_MALFORMED_L2},
      {38, SL_R_MALFORMED_L3},
      {TO_END, SL_R_MALFORMED_L4}},
     SL_R_PASS},
    /* 12 macs | 4 tag | 4 tag | 2 type | 40 ipv6 | 8 udp | 4 data */
    {"every cut of udp/ipv6 in qinq 88a8+8100 (ip length kept)",
     V6(VLAN(AD, Q), UDP, .payload = 4),
     false,
     {{22, SL_R_MALFORMED_L2}, {TO_END, SL_R_MALFORMED_L3}},
     SL_R_PASS},
    {"every cut of udp/ipv6 in qinq 88a8+8100 (ip length follows)",
     V6(VLAN(AD, Q), UDP, .payload = 4),
     true,
     {{22, SL_R_MALFORMED_L2},
      {62, SL_R_MALFORMED_L3},
      {TO_END, SL_R_MALFORMED_L4}},
     SL_R_PASS},
    /* 12 macs | 4 tag | 2 type | 28 arp: ARP is never inspected. */
    {"every cut of arp in 802.1Q",
     {VLAN(Q), .ethertype = ETH_P_ARP},
     false,
     {{18, SL_R_MALFORMED_L2}, {TO_END, SL_R_NON_IP}},
     SL_R_NON_IP},
};

/* ---- harness ---- */

/* Runs one frame through e's program once and checks the verdict (any XDP
 * action), the output frame against want (NULL: the input) and the
 * counters: the cell (hook xdp, reason, the verdict's action), and no
 * other cell of any hook. reason < 0: test-run
 * must reject the frame with -EINVAL and count nothing. */
static bool run_frame_out(struct env *e, const uint8_t *f, size_t len,
			  int verdict, int reason, const uint8_t *want,
			  size_t want_len)
{
	struct skel_hstats before, after;
	int action = pkt_xdp_action(verdict);
	uint8_t out[PKT_MAX + 256];
	char why[256];
	char moved[1024];
	bool counted;
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (!ASSERT_EQ(skel_hstats_read(e->stats, &before), 0, "read counters"))
		return false;
	err = bpf_prog_test_run_opts(e->prog, &o);
	if (!ASSERT_EQ(skel_hstats_read(e->stats, &after), 0, "read counters"))
		return false;
	/* the cell of the XDP hook, none of another hook */
	counted = skel_stats_moved(&before, &after, SL_HK_XDP, reason, action,
				   len, moved, sizeof(moved));

	if (reason < 0)
		return ASSERT_EQ(err, -EINVAL, "test-run of a short frame") &&
		       ASSERT_TRUE(counted, "counted %s, want nothing", moved);

	if (!ASSERT_EQ(err, 0, "bpf_prog_test_run_opts"))
		return false;
	if (!ASSERT_TRUE(o.retval == (__u32)verdict && counted,
			 "verdict %s, counted %s; want %s, counted "
			 "xdp/%s/%s +1/+%zuB",
			 pkt_xdp_name(o.retval), moved, pkt_xdp_name(verdict),
			 sl_reason_name(reason), sl_action_name(action), len))
		return false;
	if (!want) {
		want = f;
		want_len = len;
	}
	return ASSERT_TRUE(
	    pkt_same(out, o.data_size_out, want, want_len, why, sizeof(why)),
	    "%s", why);
}

static bool run_frame(struct env *e, const uint8_t *f, size_t len, int verdict,
		      int reason)
{
	return run_frame_out(e, f, len, verdict, reason, NULL, 0);
}

/* The map and key of a set entry. */
union set_key {
	struct sl_lpm_v4 v4;
	struct sl_lpm_v6 v6;
	uint8_t host[16]; /* a host map's key: the address */
};

struct entry_key {
	int fd;
	uint8_t plen;
	union set_key k;
	int word;   /* host entry: its presence bitmap word, else -1 */
	__u64 mask; /* and its bit */
};

/* With host: a full-length prefix goes to the host map (with its presence
 * bit), as the control plane stores it. */
static bool entry_key(struct env *e, const struct set_def *en, bool host,
		      struct entry_key *k)
{
	struct sl_prefix p;
	char err[128];
	int fam;

	if (!ASSERT_EQ(sl_prefix_parse(en->prefix, &p, err, sizeof(err)), 0,
		       en->prefix))
		return false;
	memset(k, 0, sizeof(*k));
	k->plen = p.plen;
	k->word = -1;
	fam = p.family == AF_INET6;
	if (host && p.plen == (fam ? 128 : 32)) {
#ifdef SL_HOST_BUCKET_BITS
		__u32 w[4];
		__u32 b;

		memcpy(w, p.addr, sizeof(w));
		b = sl_host_bucket(w, fam ? 4 : 1);
		k->fd = e->host[fam][en->dir];
		memcpy(k->k.host, p.addr, fam ? 16 : 4);
		k->word = sl_host_region(fam, en->dir) + (b >> 6);
		k->mask = 1ULL << (b & 63);
		return true;
#endif
	}
	if (p.family == AF_INET) {
		k->fd = e->set[0][en->dir];
		k->k.v4.prefixlen = p.plen;
		memcpy(k->k.v4.addr, p.addr, 4);
	} else {
		k->fd = e->set[1][en->dir];
		k->k.v6.prefixlen = p.plen;
		memcpy(k->k.v6.addr, p.addr, 16);
	}
	return true;
}

static bool sets_empty(struct env *e)
{
	union set_key k;

	for (int fam = 0; fam < 2; fam++) {
		for (int d = 0; d < SL_DIR_MAX; d++) {
			if (!ASSERT_TRUE(bpf_map_get_next_key(e->set[fam][d],
							      NULL,
							      &k) == -ENOENT,
					 "a set trie is not empty"))
				return false;
			if (e->host[fam][d] >= 0 &&
			    !ASSERT_TRUE(bpf_map_get_next_key(e->host[fam][d],
							      NULL,
							      &k) == -ENOENT,
					 "a host map is not empty"))
				return false;
		}
	}
	return true;
}

/* Sets (on) or clears the whole presence word of a host entry; the cases
 * start with a zero bitmap and leave it zero. */
static bool host_bit(struct env *e, const struct entry_key *k, bool on)
{
	__u32 idx = k->word;
	__u64 w = 0;

	if (k->word < 0)
		return true;
	if (on && !ASSERT_EQ(bpf_map_lookup_elem(e->host_bits, &idx, &w), 0,
			     "read the presence bitmap"))
		return false;
	w = on ? w | k->mask : 0;
	return ASSERT_EQ(bpf_map_update_elem(e->host_bits, &idx, &w, BPF_ANY),
			 0, "write the presence bitmap");
}

/* Whether a case has a full-length entry, so a host-map run differs. */
static bool has_host_entry(const struct xdp_case *c)
{
	for (int i = 0; i < MAX_ENTRIES && c->set[i].kind; i++) {
		struct sl_prefix p;
		char err[128];

		if (!sl_prefix_parse(c->set[i].prefix, &p, err, sizeof(err)) &&
		    p.plen == (p.family == AF_INET6 ? 128 : 32))
			return true;
	}
	return false;
}

static __u64 boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static bool bans_empty(struct env *e)
{
	struct sl_lpm_v6 k;

	for (int fam = 0; fam < 2; fam++)
		if (!ASSERT_TRUE(bpf_map_get_next_key(e->ban[fam], NULL, &k) ==
				     -ENOENT,
				 "a ban trie is not empty"))
			return false;
	return true;
}

/* The ban trie and key of a ban. */
static bool ban_key(struct env *e, const struct ban_def *b, int *fd,
		    struct sl_lpm_v6 *k)
{
	struct sl_prefix p;
	char err[128];

	if (!ASSERT_EQ(sl_prefix_parse(b->prefix, &p, err, sizeof(err)), 0,
		       b->prefix))
		return false;
	memset(k, 0, sizeof(*k));
	k->prefixlen = p.plen;
	memcpy(k->addr, p.addr, p.family == AF_INET ? 4 : 16);
	*fd = e->ban[p.family == AF_INET6];
	return true;
}

static bool run_case(const struct xdp_case *c, bool host)
{
	struct env *e = &envs[c->keep_malformed];
	struct entry_key keys[MAX_ENTRIES];
	struct sl_lpm_v6 bkeys[MAX_BANS];
	int bfd[MAX_BANS];
	int n = 0, nb = 0, i;
	uint8_t f[PKT_MAX], want[PKT_MAX];
	struct pkt_off off, woff;
	bool ok = false;

	pkt_build(&c->pkt, f, &off);
	if (c->fix)
		c->fix(f, &off);
	memcpy(want, f, sizeof(want));
	woff = off;
	if (c->out)
		c->out(want, &woff);

	if (!sets_empty(e) || !bans_empty(e))
		return false;
	/* Every case starts with no judged datagram: the builder gives every
	 * fragment one IP id, so an earlier case's first fragment would
	 * decide a later case's later fragment (test_frag tests that). */
	map_flush(bpf_map__fd(e->skel->maps.sl_frags));
	for (; nb < MAX_BANS && c->ban[nb].prefix; nb++) {
		struct sl_ban_val v = {0};
		__u64 now = boot_ns();

		if (!ban_key(e, &c->ban[nb], &bfd[nb], &bkeys[nb]))
			goto out;
		v.plen = bkeys[nb].prefixlen;
		v.expires = c->ban[nb].state == BAN_PERMANENT ? 0
			    : c->ban[nb].state == BAN_EXPIRED
				? now - 1000000000ULL
				: now + 3600 * 1000000000ULL;
		if (!ASSERT_EQ(bpf_map_update_elem(bfd[nb], &bkeys[nb], &v,
						   BPF_NOEXIST),
			       0, c->ban[nb].prefix))
			goto out;
	}
	for (; n < MAX_ENTRIES && c->set[n].kind; n++) {
		struct sl_set_val v = {.kind = c->set[n].kind};

		if (!entry_key(e, &c->set[n], host, &keys[n]))
			goto out;
		v.plen = keys[n].plen;
		if (!host_bit(e, &keys[n], true) ||
		    !ASSERT_EQ(bpf_map_update_elem(keys[n].fd, &keys[n].k, &v,
						   BPF_NOEXIST),
			       0, c->set[n].prefix)) {
			host_bit(e, &keys[n], false);
			goto out;
		}
	}

	if (!run_frame_out(e, f, off.len, c->verdict, c->reason, want,
			   woff.len))
		goto out;

	/* Only the deciding entry counted the frame. */
	for (i = 0; i < n; i++) {
		struct sl_set_val v;
		bool hit = c->hit == i + 1;

		if (!ASSERT_EQ(bpf_map_lookup_elem(keys[i].fd, &keys[i].k, &v),
			       0, c->set[i].prefix))
			goto out;
		if (!ASSERT_TRUE(
			v.packets == (__u64)hit &&
			    v.bytes == (hit ? off.len : 0),
			"entry %s counted +%llu/+%lluB, want +%d/+%zuB",
			c->set[i].prefix, (unsigned long long)v.packets,
			(unsigned long long)v.bytes, hit, hit ? off.len : 0) ||
		    !ASSERT_TRUE(
			v.kind == c->set[i].kind && v.plen == keys[i].plen,
			"entry %s changed kind or plen", c->set[i].prefix))
			goto out;
	}
	/* Only the deciding ban counted the frame. */
	for (i = 0; i < nb; i++) {
		struct sl_ban_val v;
		bool hit = c->ban_hit == i + 1;

		if (!ASSERT_EQ(bpf_map_lookup_elem(bfd[i], &bkeys[i], &v), 0,
			       c->ban[i].prefix) ||
		    !ASSERT_TRUE(
			v.packets == (__u64)hit &&
			    v.bytes == (hit ? off.len : 0),
			"ban %s counted +%llu/+%lluB, want +%d/+%zuB",
			c->ban[i].prefix, (unsigned long long)v.packets,
			(unsigned long long)v.bytes, hit, hit ? off.len : 0))
			goto out;
	}
	ok = true;
out:
	for (i = 0; i < n; i++) {
		bpf_map_delete_elem(keys[i].fd, &keys[i].k);
		host_bit(e, &keys[i], false);
	}
	for (i = 0; i < nb; i++)
		bpf_map_delete_elem(bfd[i], &bkeys[i]);
	if (ok)
		reasons_seen |= 1ULL << c->reason;
	return ok && sets_empty(e) && bans_empty(e);
}

static int trunc_expect(const struct trunc_case *t, size_t cut, size_t full)
{
	if (cut < 14)
		return -1;
	if (cut == full)
		return t->full;
	for (int i = 0; i < 4; i++)
		if (cut < t->r[i].below)
			return t->r[i].reason;
	return -1;
}

static bool run_trunc(const struct trunc_case *t)
{
	uint8_t full[PKT_MAX], f[PKT_MAX];
	size_t n = pkt_build(&t->pkt, full, NULL);

	/* Both feature sets: a malformed cut drops, or passes when
	 * drop_malformed is off. */
	for (int keep = 0; keep < 2; keep++) {
		for (size_t len = 0; len <= n; len++) {
			int reason = trunc_expect(t, len, n);
			int verdict = XDP_PASS;
			char why[sizeof(check_why)];

			if (t->fix_len) {
				struct pkt_spec s = t->pkt;

				s.cut += n - len;
				pkt_build(&s, f, NULL);
			} else {
				memcpy(f, full, len);
			}
			if (reason >= 0 && is_malformed(reason) && !keep)
				verdict = XDP_DROP;
			if (run_frame(&envs[keep], f, len, verdict, reason))
				continue;
			snprintf(why, sizeof(why), "%s", check_why);
			check_why[0] = '\0';
			check_fail("cut at %zu of %zu bytes%s: %s", len, n,
				   keep ? " (drop_malformed=0)" : "", why);
			return false;
		}
	}
	return true;
}

#ifdef SL_HOST_BUCKET_BITS
/* The presence bitmap gates the host probe (abi.h): an entry whose bit is
 * clear is not seen. */
static bool check_host_bit_clear(void)
{
	struct env *e = &envs[0];
	struct set_def en = DENY(SRC, PKT_SRC4);
	struct pkt_spec spec = V4(TCP);
	struct sl_set_val v = {.kind = SL_SET_DENY, .plen = 32};
	struct entry_key k;
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(&spec, f, NULL);
	bool ok;

	if (!sets_empty(e) || !entry_key(e, &en, true, &k) ||
	    !ASSERT_EQ(bpf_map_update_elem(k.fd, &k.k, &v, BPF_NOEXIST), 0,
		       "insert the host entry"))
		return false;
	ok = run_frame(e, f, len, XDP_PASS, SL_R_PASS) &&
	     ASSERT_EQ(bpf_map_lookup_elem(k.fd, &k.k, &v), 0, "lookup") &&
	     ASSERT_EQ(v.packets, 0, "host entry packets");
	bpf_map_delete_elem(k.fd, &k.k);
	return ok && sets_empty(e);
}

/* A presence bit with no host entry behind it (a bucket collision, or a
 * deleted entry) falls back to the trie. */
static bool check_host_bit_stale(void)
{
	struct env *e = &envs[0];
	struct set_def host = DENY(SRC, PKT_SRC4);
	struct set_def net = DENY(SRC, "198.18.0.0/24");
	struct pkt_spec spec = V4(UDP);
	struct sl_set_val v = {.kind = SL_SET_DENY, .plen = 24};
	struct entry_key hk, nk;
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(&spec, f, NULL);
	bool ok;

	if (!sets_empty(e) || !entry_key(e, &host, true, &hk) ||
	    !entry_key(e, &net, true, &nk) || !host_bit(e, &hk, true))
		return false;
	ok = ASSERT_EQ(bpf_map_update_elem(nk.fd, &nk.k, &v, BPF_NOEXIST), 0,
		       "insert the trie entry") &&
	     run_frame(e, f, len, XDP_DROP, SL_R_DENY_SET) &&
	     ASSERT_EQ(bpf_map_lookup_elem(nk.fd, &nk.k, &v), 0, "lookup") &&
	     ASSERT_TRUE(v.packets == 1 && v.bytes == len,
			 "trie entry counted +%llu/+%lluB, want +1/+%zuB",
			 (unsigned long long)v.packets,
			 (unsigned long long)v.bytes, len);
	bpf_map_delete_elem(nk.fd, &nk.k);
	host_bit(e, &hk, false);
	return ok && sets_empty(e);
}
#endif

static int map_fd(struct env *e, const char *name)
{
	int fd = sl_map_fd(&e->ctx, name);

	return fd < 0 ? -1 : fd;
}

/* ---- rate limits ----
 * A config with one ratelimit rule (id 1), applied with sl_apply on
 * envs[0] (the real apply: parameters in a slot of sl_rl_params); frames
 * through the program; the buckets (sl_rl_buckets) and bans read back.
 * Every case starts with no bucket and no ban and ends with no rule. */

/* Rule 1, ratelimit, with the fields of `rule` ("key=value" words), and
 * an allow entry for source prefix `allow` (NULL: none), applied. */
static bool rl_apply(struct env *e, const char *rule, const char *allow)
{
	struct sl_set_entry se = {0};
	struct sl_config cfg = {0};
	char err[256], words[128], *w, *save = NULL;
	struct sl_rule r;

	sl_rule_init(&r);
	r.id = 1;
	r.action = SL_RACT_RATELIMIT;
	snprintf(words, sizeof(words), "%s", rule);
	for (w = strtok_r(words, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');

		if (!ASSERT_TRUE(eq, "bad rule word %s", w))
			return false;
		*eq = '\0';
		if (!ASSERT_EQ(
			sl_rule_set_field(&r, w, eq + 1, err, sizeof(err)), 0,
			err))
			return false;
	}
	if (!ASSERT_EQ(sl_rule_validate(&r, err, sizeof(err)), 0, err))
		return false;
	cfg.rules = &r;
	cfg.n_rules = 1;
	if (allow) {
		if (!ASSERT_EQ(
			sl_prefix_parse(allow, &se.prefix, err, sizeof(err)), 0,
			allow))
			return false;
		se.kind = SL_SET_ALLOW;
		se.dir = SL_DIR_SRC;
		cfg.sets = &se;
		cfg.n_sets = 1;
	}
	return ASSERT_EQ(sl_apply(&e->ctx, &cfg, 0, NULL), 0, "sl_apply");
}

/* No rule, no set entry, no bucket, no ban. */
static bool rl_clean(struct env *e)
{
	struct sl_config none = {0};
	struct sl_rl_key k;
	struct sl_lpm_v6 bk;
	int fd = map_fd(e, SL_MAP_RL_BUCKETS);

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
	for (int fam = 0; fam < 2; fam++)
		while (!bpf_map_get_next_key(e->ban[fam], NULL, &bk))
			bpf_map_delete_elem(e->ban[fam], &bk);
	return ASSERT_EQ(sl_apply(&e->ctx, &none, 0, NULL), 0,
			 "sl_apply of no rules");
}

static int rl_buckets(struct env *e)
{
	int fd = map_fd(e, SL_MAP_RL_BUCKETS), n = 0;
	struct sl_rl_key k, *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		n++;
		prev = &k;
	}
	return n;
}

/* The bucket of rule 1 for family (4, 6; 0: per rule), the masked address
 * text and plen; false when absent. */
static bool rl_bucket(struct env *e, int family, const char *addr, int plen,
		      struct sl_rl_key *key, struct sl_rl_bucket *b)
{
	int fd = map_fd(e, SL_MAP_RL_BUCKETS),
	    pfd = map_fd(e, SL_MAP_RL_PARAMS);
	struct sl_rl_params pr = {0};
	__u32 slot;

	/* the epoch of rule 1's slot */
	for (slot = 1; slot < SL_RL_SLOTS; slot++)
		if (!bpf_map_lookup_elem(pfd, &slot, &pr) && pr.rule_id == 1)
			break;
	if (!ASSERT_TRUE(slot < SL_RL_SLOTS, "no slot holds rule 1"))
		return false;
	memset(key, 0, sizeof(*key));
	key->rule_id = 1;
	key->epoch = pr.epoch;
	key->family = family;
	key->plen = plen;
	if (addr)
		inet_pton(family == 4 ? AF_INET : AF_INET6, addr, key->addr);
	return bpf_map_lookup_elem(fd, key, b) == 0;
}

/* n frames of s: the first `pass` pass (reason rule), the others drop
 * (reason ratelimit). */
static bool rl_send(struct env *e, const struct pkt_spec *s, int pass, int n)
{
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(s, f, NULL);

	for (int i = 0; i < n; i++) {
		bool ok = i < pass
			      ? run_frame(e, f, len, XDP_PASS, SL_R_RULE)
			      : run_frame(e, f, len, XDP_DROP, SL_R_RATELIMIT);

		if (!ASSERT_TRUE(ok, "frame %d of %d (%d pass)", i + 1, n,
				 pass))
			return false;
		if (i >= pass)
			reasons_seen |= 1ULL << SL_R_RATELIMIT;
	}
	return true;
}

static const struct pkt_spec rl_a4 = V4(UDP),
			     rl_b4 = V4(UDP, .src = "198.18.0.2"),
			     rl_c4 = V4(UDP, .src = "198.18.1.1"),
			     rl_a6 = V6(UDP),
			     rl_b6 = V6(UDP, .src = "2001:db8:1::2"),
			     rl_c6 = V6(UDP, .src = "2001:db8:1:1::1");

/* Frames in order, then the number of buckets and one of them, which
 * must be empty: less than one frame's tokens (the rate is too slow to
 * refill them during the case). */
struct rl_case {
	const char *name;
	const char *rule;
	struct rl_step {
		const struct pkt_spec *s; /* NULL ends */
		int pass, n;
	} step[6];
	struct rl_want {
		int buckets;
		int fam; /* the bucket checked: family (0: per rule), */
		const char *addr; /* address, plen */
		int plen;
		int frame_tokens; /* a frame's cost: 1 (packets) or its bytes */
	} want;
};

static const struct rl_case rl_cases[] = {
    {"ratelimit: burst 5 passes 5 frames, then drops as ratelimit; the "
     "bucket is empty",
     "rate=1/s burst=5",
     {{&rl_a4, 5, 8}},
     .want = {1, 4, PKT_SRC4, 32, 1}},
    {"ratelimit per src: each source has its bucket",
     "rate=1/s burst=2",
     {{&rl_a4, 2, 3}, {&rl_b4, 2, 3}},
     .want = {2, 4, "198.18.0.2", 32, 1}},
    /* .1 and .2 share 198.18.0.0/24's two tokens; 198.18.1.1 has its own */
    {"ratelimit per src/24: a /24 shares one bucket",
     "rate=1/s burst=2 per=src/24",
     {{&rl_a4, 1, 1},
      {&rl_b4, 1, 1},
      {&rl_a4, 0, 1},
      {&rl_b4, 0, 1},
      {&rl_c4, 2, 3}},
     .want = {2, 4, "198.18.0.0", 24, 1}},
    /* three sources, both families: one bucket of three tokens */
    {"ratelimit per rule: every source shares one bucket",
     "rate=1/s burst=3 per=rule",
     {{&rl_a4, 1, 1},
      {&rl_c4, 1, 1},
      {&rl_a6, 1, 1},
      {&rl_b4, 0, 2},
      {&rl_b6, 0, 1}},
     .want = {1, 0, NULL, 0, 1}},
    /* ::1 and ::2 share 2001:db8:1::/64; 2001:db8:1:1::1 is another */
    {"ratelimit per src/64: IPv6 sources of a /64 share one bucket",
     "rate=1/s burst=2 per=src/24,src/64",
     {{&rl_a6, 1, 1}, {&rl_b6, 1, 2}, {&rl_a6, 0, 1}, {&rl_c6, 2, 3}},
     .want = {2, 6, "2001:db8:1::", 64, 1}},
    /* 42-byte frames: 11 fit in 500 bytes (1 byte a second more) */
    {"ratelimit in bytes: the burst's bytes pass, then drops",
     "rate=1B/s burst=500",
     {{&rl_a4, 11, 13}},
     .want = {1, 4, PKT_SRC4, 32, 42}},
};

static bool rl_run_case(const struct rl_case *c)
{
	struct env *e = &envs[0];
	struct sl_rl_bucket b;
	struct sl_rl_key k;
	bool ok = rl_clean(e) && rl_apply(e, c->rule, NULL);

	for (int i = 0; ok && c->step[i].s; i++)
		ok = rl_send(e, c->step[i].s, c->step[i].pass, c->step[i].n);
	return ok && ASSERT_EQ(rl_buckets(e), c->want.buckets, "buckets") &&
	       ASSERT_TRUE(rl_bucket(e, c->want.fam, c->want.addr, c->want.plen,
				     &k, &b),
			   "no bucket for %s/%d",
			   c->want.addr ? c->want.addr : "rule",
			   c->want.plen) &&
	       ASSERT_TRUE(b.tokens < c->want.frame_tokens * SL_RL_SCALE,
			   "bucket holds %llu nano-tokens, want < %d tokens",
			   (unsigned long long)b.tokens,
			   c->want.frame_tokens) &&
	       ASSERT_TRUE(b.last > boot_ns() - 5 * SL_RL_SCALE &&
			       b.last <= boot_ns(),
			   "the bucket's last is not now") &&
	       rl_clean(e);
}

/* A rule with a packet rate and a byte rate: rule 1's two slots (the
 * packets' names the bytes' by and_slot) and their buckets of PKT_SRC4:
 * *pk and *by their nano-tokens. */
static bool rl_two_buckets(struct env *e, __u64 *pk, __u64 *by)
{
	int pfd = map_fd(e, SL_MAP_RL_PARAMS),
	    fd = map_fd(e, SL_MAP_RL_BUCKETS);
	struct sl_rl_params pr, pp = {0}, pb = {0};
	struct sl_rl_bucket b;
	struct sl_rl_key k = {.rule_id = 1, .family = 4, .plen = 32};
	__u32 slot, sp = 0, sb = 0;

	for (slot = 1; slot < SL_RL_SLOTS; slot++) {
		if (bpf_map_lookup_elem(pfd, &slot, &pr) || pr.rule_id != 1)
			continue;
		if (pr.flags & SL_RL_F_BYTES) {
			sb = slot;
			pb = pr;
		} else {
			sp = slot;
			pp = pr;
		}
	}
	if (!ASSERT_TRUE(sp && sb,
			 "rule 1 has a packet slot (%u) and a byte "
			 "slot (%u)",
			 sp, sb) ||
	    !ASSERT_EQ(pp.and_slot, sb,
		       "the packet slot names the byte slot") ||
	    !ASSERT_EQ(pb.and_slot, 0, "the byte slot names none"))
		return false;
	inet_pton(AF_INET, PKT_SRC4, k.addr);
	k.epoch = pp.epoch;
	if (!ASSERT_EQ(bpf_map_lookup_elem(fd, &k, &b), 0, "packet bucket"))
		return false;
	*pk = b.tokens;
	k.epoch = pb.epoch;
	if (!ASSERT_EQ(bpf_map_lookup_elem(fd, &k, &b), 0, "byte bucket"))
		return false;
	*by = b.tokens;
	return ASSERT_EQ(rl_buckets(e), 2, "buckets");
}

/* rate=1/s,1B/s: the byte bucket (126 bytes: three 42-byte frames) stops
 * the 4th frame though the packet bucket (5) has tokens, and the dropped
 * frames take none from it; with burst 2 the packet bucket stops the 3rd
 * and the byte bucket (1,000) keeps the dropped frames' bytes. */
static bool rl_two_rates(void)
{
	struct env *e = &envs[0];
	__u64 pk = 0, by = 0;
	bool ok;

	ok = rl_clean(e) &&
	     rl_apply(e, "rate=1/s,1B/s burst=5 burst-bytes=126", NULL) &&
	     rl_send(e, &rl_a4, 3, 6) && rl_two_buckets(e, &pk, &by) &&
	     ASSERT_TRUE(pk >= 2 * SL_RL_SCALE && pk < 4 * SL_RL_SCALE,
			 "packet bucket %llu nano-tokens, want 2 tokens (5 - 3 "
			 "passed; the drops take none)",
			 (unsigned long long)pk) &&
	     ASSERT_TRUE(by < 42 * SL_RL_SCALE,
			 "byte bucket %llu nano-tokens, want < one frame",
			 (unsigned long long)by);
	ok = ok && rl_clean(e) &&
	     rl_apply(e, "rate=1/s,1B/s burst=2 burst-bytes=1000", NULL) &&
	     rl_send(e, &rl_a4, 2, 5) && rl_two_buckets(e, &pk, &by) &&
	     ASSERT_TRUE(pk < SL_RL_SCALE,
			 "packet bucket %llu nano-tokens, want < 1 token",
			 (unsigned long long)pk) &&
	     ASSERT_TRUE(by >= 916 * SL_RL_SCALE && by < 930 * SL_RL_SCALE,
			 "byte bucket %llu nano-tokens, want 916 bytes (1000 - "
			 "2 x 42; the drops take none)",
			 (unsigned long long)by);
	return ok && rl_clean(e);
}

/* Writes rule 1's bucket of PKT_SRC4: empty, `ago` seconds ago. */
static bool rl_age(struct env *e, int ago)
{
	struct sl_rl_bucket b;
	struct sl_rl_key k;

	if (!ASSERT_TRUE(rl_bucket(e, 4, PKT_SRC4, 32, &k, &b), "bucket"))
		return false;
	b.tokens = 0;
	b.last = boot_ns() - (__u64)ago * SL_RL_SCALE;
	return ASSERT_EQ(bpf_map_update_elem(map_fd(e, SL_MAP_RL_BUCKETS), &k,
					     &b, BPF_EXIST),
			 0, "write the bucket");
}

static bool rl_refill(void)
{
	struct env *e = &envs[0];

	/* 3 s at 1/s: 3 tokens; a minute: full (5), not more */
	return rl_clean(e) && rl_apply(e, "rate=1/s burst=5", NULL) &&
	       rl_send(e, &rl_a4, 5, 6) && rl_age(e, 3) &&
	       rl_send(e, &rl_a4, 3, 5) && rl_age(e, 60) &&
	       rl_send(e, &rl_a4, 5, 7) && rl_clean(e);
}

/* Over the rate, s's source (prefix/plen) is banned for 10 minutes. */
static bool rl_ban_case(const struct pkt_spec *s, const char *rule, int fam,
			const char *prefix, int plen)
{
	struct env *e = &envs[0];
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(s, f, NULL);
	struct sl_lpm_v6 bk = {0};
	struct sl_ban_val v;
	__u64 t0, t1;
	bool ok;

	ok = rl_clean(e) && rl_apply(e, rule, NULL);
	t0 = boot_ns();
	ok = ok && rl_send(e, s, 1, 2);
	t1 = boot_ns();
	bk.prefixlen = plen;
	inet_pton(fam == 4 ? AF_INET : AF_INET6, prefix, bk.addr);
	ok = ok &&
	     ASSERT_EQ(bpf_map_lookup_elem(e->ban[fam == 6], &bk, &v), 0,
		       "no ban of the source written") &&
	     ASSERT_TRUE(v.expires >= t0 + 600 * SL_RL_SCALE &&
			     v.expires <= t1 + 600 * SL_RL_SCALE,
			 "ban expires in %lld ns, want 600 s",
			 (long long)(v.expires - t1)) &&
	     ASSERT_EQ(v.plen, plen, "the ban's plen") &&
	     /* banned now: the bans stage drops it before the rule */
	     ASSERT_TRUE(run_frame(e, f, len, XDP_DROP, SL_R_BANNED),
			 "a banned source's next frame");
	return ok && rl_clean(e);
}

static bool rl_ban(void)
{
	return rl_ban_case(&rl_a4, "rate=1/s burst=1 ban=10m", 4, PKT_SRC4,
			   32) &&
	       rl_ban_case(&rl_b6, "rate=1/s burst=1 ban=10m per=src/64", 6,
			   "2001:db8:1::", 64);
}

static bool rl_allowed(void)
{
	struct env *e = &envs[0];
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(&rl_a4, f, NULL);
	bool ok = rl_clean(e) &&
		  rl_apply(e, "rate=1/s burst=1 ban=1h", "198.18.0.0/24");

	for (int i = 0; ok && i < 5; i++)
		ok = ASSERT_TRUE(run_frame(e, f, len, XDP_PASS, SL_R_ALLOW_SET),
				 "allowed frame %d", i + 1);
	/* a source outside the allowed /24 is limited */
	return ok && ASSERT_EQ(rl_buckets(e), 0, "buckets") && bans_empty(e) &&
	       rl_send(e, &rl_c4, 1, 2) && rl_clean(e);
}

/* apply keeps the buckets of an unchanged rule and starts a changed one's
 * afresh (a new epoch). */
static bool rl_apply_keeps(void)
{
	struct env *e = &envs[0];

	return rl_clean(e) && rl_apply(e, "rate=1/s burst=2", NULL) &&
	       rl_send(e, &rl_a4, 2, 3) &&
	       rl_apply(e, "rate=1/s burst=2", NULL) &&
	       rl_send(e, &rl_a4, 0, 1) &&
	       rl_apply(e, "rate=1/s burst=3", NULL) &&
	       rl_send(e, &rl_a4, 3, 4) && rl_clean(e);
}

static bool env_load(struct env *e, const struct sl_features *feat)
{
	e->skel = sl_xdp_load(NULL, feat, SL_PROG_XDP);
	if (!e->skel)
		return false;
	e->prog = sl_xdp_prog_fd(e->skel);
	e->stats = bpf_map__fd(e->skel->maps.sl_stats);
	sl_ctx_wrap(&e->ctx, e->skel);
	e->set[0][SL_DIR_SRC] = map_fd(e, SL_MAP_SET_SRC_V4);
	e->set[0][SL_DIR_DST] = map_fd(e, SL_MAP_SET_DST_V4);
	e->set[1][SL_DIR_SRC] = map_fd(e, SL_MAP_SET_SRC_V6);
	e->set[1][SL_DIR_DST] = map_fd(e, SL_MAP_SET_DST_V6);
	/* By name: the host maps exist only where the ABI has them. */
	e->host[0][SL_DIR_SRC] = map_fd(e, "sl_host_src_v4");
	e->host[0][SL_DIR_DST] = map_fd(e, "sl_host_dst_v4");
	e->host[1][SL_DIR_SRC] = map_fd(e, "sl_host_src_v6");
	e->host[1][SL_DIR_DST] = map_fd(e, "sl_host_dst_v6");
	e->host_bits = map_fd(e, "sl_host_bits");
	e->ban[0] = map_fd(e, SL_MAP_BAN_V4);
	e->ban[1] = map_fd(e, SL_MAP_BAN_V6);
	return e->ban[0] >= 0 && e->ban[1] >= 0;
}

int main(void)
{
	struct sl_features keep;
	size_t i;

	sl_log_hook_libbpf();
	if (sl_check_privileges()) {
		printf("not ok - test_xdp: needs root\n");
		return 1;
	}
	sl_features_default(&keep);
	keep.drop_malformed = 0;
	/* envs[0] keeps the features compiled into the program. */
	if (!env_load(&envs[0], NULL) || !env_load(&envs[1], &keep)) {
		if (errno == EPERM)
			printf("not ok - test_xdp: needs root\n");
		else
			printf("not ok - test_xdp: cannot load the XDP "
			       "program: %s\n",
			       strerror(errno));
		return 1;
	}

	/* The harness itself: a one-byte difference between the output and
	 * the expected frame, or a different verdict, is a failure. */
	{
		struct pkt_spec s = V4(TCP, .payload = 4);
		uint8_t f[PKT_MAX], w[PKT_MAX];
		size_t n = pkt_build(&s, f, NULL);
		bool caught;

		memcpy(w, f, n);
		w[n - 1] ^= 0x01;
		caught =
		    !run_frame_out(&envs[0], f, n, XDP_PASS, SL_R_PASS, w, n) &&
		    strstr(check_why, "output byte");
		check_why[0] = '\0';
		caught =
		    caught && !run_frame(&envs[0], f, n, XDP_TX, SL_R_PASS);
		check_why[0] = '\0';
		check_report(
		    "harness: a different output byte or verdict fails "
		    "a case",
		    ASSERT_TRUE(caught, "not caught"));
	}
	sl_features_default(&keep);
	check_report("default features drop malformed frames",
		     ASSERT_EQ(keep.drop_malformed, 1, "drop_malformed"));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_report(cases[i].name, run_case(&cases[i], false));
	/* Again with the full-length entries in the host maps, where the
	 * datapath has them. */
	for (i = 0;
	     envs[0].host_bits >= 0 && i < sizeof(cases) / sizeof(cases[0]);
	     i++) {
		char name[256];

		if (!has_host_entry(&cases[i]))
			continue;
		snprintf(name, sizeof(name), "%s (host map)", cases[i].name);
		check_report(name, run_case(&cases[i], true));
	}
#ifdef SL_HOST_BUCKET_BITS
	check_report("host entry with its presence bit clear is not seen",
		     check_host_bit_clear());
	check_report("presence bit without a host entry falls back to the trie",
		     check_host_bit_stale());
#endif
	for (i = 0; i < sizeof(trunc_cases) / sizeof(trunc_cases[0]); i++)
		check_report(trunc_cases[i].name, run_trunc(&trunc_cases[i]));
	for (i = 0; i < sizeof(rl_cases) / sizeof(rl_cases[0]); i++)
		check_report(rl_cases[i].name, rl_run_case(&rl_cases[i]));
	check_report("ratelimit with a packet and a byte rate: the first "
		     "bucket to run out drops, the other keeps its tokens",
		     rl_two_rates());
	check_report("ratelimit: an empty bucket refills with time (3 s at "
		     "1/s: 3 frames), never past the burst",
		     rl_refill());
	check_report("ratelimit ban: the source over the rate is banned for "
		     "10m (/32; /64 per src/64), then dropped as banned",
		     rl_ban());
	check_report("ratelimit: an allowed source is never limited nor "
		     "banned",
		     rl_allowed());
	check_report("ratelimit: apply keeps an unchanged rule's buckets, a "
		     "changed rule starts afresh",
		     rl_apply_keeps());
	/* The rules stage's reasons (rule, policy) need an applied config:
	 * test_apply produces and checks them; ct-invalid (conntrack on with
	 * drop-invalid) test_conntrack; fragment (later fragments of a
	 * judged datagram) test_frag; syn-cookie and syn-cookie-invalid
	 * (conntrack and synproxy ports) test_synproxy; lb-no-backend,
	 * lb-forward, lb-no-route and lb-too-big (a service, routes)
	 * test_lb. */
	check_report(
	    "every reason of the stateless stages is produced by a "
	    "passing case",
	    ASSERT_EQ(reasons_seen,
		      ((1ULL << SL_R_MAX) - 1) &
			  ~(1ULL << SL_R_RULE | 1ULL << SL_R_POLICY |
			    1ULL << SL_R_CT_INVALID | 1ULL << SL_R_FRAG |
			    1ULL << SL_R_SYN_COOKIE |
			    1ULL << SL_R_SYN_COOKIE_BAD |
			    1ULL << SL_R_LB_NO_BACKEND | 1ULL << SL_R_LB_FWD |
			    1ULL << SL_R_LB_NO_ROUTE | 1ULL << SL_R_LB_TOO_BIG),
		      "mask of reasons seen"));

	sl_xdp_destroy(envs[0].skel);
	sl_xdp_destroy(envs[1].skel);
	return check_failed ? 1 : 0;
}
