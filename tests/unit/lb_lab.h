/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* lb_lab.h: the load balancer's test-run lab (test_lb, bench_lb): a network
 * namespace of its own whose routes and neighbours bpf_fib_lookup()
 * answers from:
 *   lbc0 (client side, the ingress)  198.18.0.254/24  2001:db8:1::fe/64
 *        neighbour client 198.18.0.1 / 2001:db8:1::1 -> 02:00:00:00:c1:01
 *   lbb0 (backend side)              198.18.1.1/24    2001:db8:5::1/64
 *        neighbours backend N (198.18.1.N, 2001:db8:5::N in hex), N 10..15
 *        -> 02:00:00:00:be:N
 * forwarding on (bpf_fib_lookup refuses otherwise). */
#ifndef SL_LB_LAB_H
#define SL_LB_LAB_H

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lab_sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc)
		printf("# '%s' failed (%d)\n", cmd, rc);
	return rc;
}

/* Enters a new network namespace and sets it up. 0, or -1 (the reason
 * printed). */
static int lb_lab_up(void)
{
	char cmd[256];

	if (unshare(CLONE_NEWNET)) {
		printf("# unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	if (lab_sh("ip link set lo up") ||
	    lab_sh("ip link add lbc0 type veth peer name lbc1") ||
	    lab_sh("ip link add lbb0 type veth peer name lbb1") ||
	    lab_sh("for i in lbc0 lbc1 lbb0 lbb1; do ip link set $i up; "
		   "done") ||
	    lab_sh("ip addr add 198.18.0.254/24 dev lbc0") ||
	    lab_sh("ip addr add 198.18.1.1/24 dev lbb0") ||
	    lab_sh("ip addr add 2001:db8:1::fe/64 dev lbc0 nodad") ||
	    lab_sh("ip addr add 2001:db8:5::1/64 dev lbb0 nodad") ||
	    lab_sh("echo 1 > /proc/sys/net/ipv4/ip_forward") ||
	    lab_sh("echo 1 > /proc/sys/net/ipv6/conf/all/forwarding") ||
	    lab_sh("ip neigh replace 198.18.0.1 lladdr 02:00:00:00:c1:01 dev "
		   "lbc0 nud permanent && ip neigh replace 2001:db8:1::1 "
		   "lladdr 02:00:00:00:c1:01 dev lbc0 nud permanent"))
		return -1;
	for (int n = 10; n < 16; n++) {
		snprintf(
		    cmd, sizeof(cmd),
		    "ip neigh replace 198.18.1.%d lladdr 02:00:00:00:be:%02x "
		    "dev lbb0 nud permanent && ip neigh replace "
		    "2001:db8:5::%x lladdr 02:00:00:00:be:%02x dev lbb0 nud "
		    "permanent",
		    n, n, n, n);
		if (lab_sh(cmd))
			return -1;
	}
	return 0;
}

#endif
