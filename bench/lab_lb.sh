#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bench/lab_lb.sh: the load balancer's veth lab (issue 11): requests/s with
# keep-alive and connections/s (`Connection: close`) measured by wrk from a
# client namespace through the LB node's VIP (Sluice in XDP, one service
# per mode) and, just before, directly to the backend's own address (the
# same server, the same client, routed by the LB node's kernel), with the
# ratio LB/direct. The lab is the tests' (tests/e2e/lb_lab.sh, with
# tests/e2e/lib.sh's namespaces, bpffs and EXIT trap): client lw<pid>-c,
# LB node lw<pid>-s, one backend lw<pid>-b1 running build/bench/httpd (one
# epoll thread, a fixed 3-byte body, keep-alive) on 80 and 8080 and
# Sluice with `attach --decap` (for dsr-ipip; every row, direct ones
# included, passes it). A row is LAB_REPS rounds of a direct run then an
# LB run; it prints the medians and the per-round ratios' spread. Each LB
# run is checked from Sluice's LB counters (`lb list -j`): the service's
# packets rose by at least the requests wrk completed (keep-alive), or 4
# per request (a connection each: SYN, ACK, request, FIN); each direct
# run, that the service's counters did not move (the traffic bypassed
# the LB). A failed check fails the run (exit 1).
# Needs root and `make all`. See bench/README.md.
#   LAB_SECONDS (3)  wrk -d per run    LAB_REPS (3)     rounds per row
#   LAB_THREADS (2)  wrk -t            LAB_CONNS (32)   wrk -c
#   LAB_MODES ("nat nat6 dsr-l2 dsr-ipip")
# Addresses: client link 198.18.63.0/24 and 2001:db8:63::/64, backend link
# 198.18.64.0/24 and 2001:db8:64::/64, VIPs 198.18.65.1-3 and
# 2001:db8:65::1 (routed via the LB node); only inside these namespaces.
cd "$(dirname "$0")/.." || exit 1
SECS=${LAB_SECONDS:-3}
REPS=${LAB_REPS:-3}
THREADS=${LAB_THREADS:-2}
CONNS=${LAB_CONNS:-32}
MODES=${LAB_MODES:-nat nat6 dsr-l2 dsr-ipip}
HTTPD=$PWD/build/bench/httpd

die() {
	echo "bench/lab_lb.sh: $*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || die "needs root (namespaces, XDP)"
[ -x "$HTTPD" ] || die "$HTTPD is missing; run 'make all' first"
command -v wrk >/dev/null || die "needs wrk (scripts/deps.sh)"

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
lab_names "lw$$"
LB_NET_C=198.18.63 LB_NET6_C=2001:db8:63:
LB_NETS_BE=198.18.64 LB_NETS6_BE=2001:db8:64:
LB_NET_VIP=198.18.65 LB_NET6_VIP=2001:db8:65:
BE4=198.18.64.2 BE6=2001:db8:64::2
VIP_NAT=198.18.65.1 VIP_L2=198.18.65.2 VIP_IPIP=198.18.65.3
VIP6_NAT=2001:db8:65::1
LO_VIPS="$VIP_L2 $VIP_IPIP"
lb_serve() {
	timeout 900 ip netns exec "$P-b$1" "$HTTPD" --name "b$1" --seconds 900 \
		80 8080 >>"$T/b$1.log" 2>&1 &
	SRV_PID[$1]=$!
	PIDS+=($!)
}
lb_listening() { listening "$P-b$1" 8080; }
lab_backend_xdp() { lab_backend_decap "$@"; }
# shellcheck source=tests/e2e/lb_lab.sh
. tests/e2e/lb_lab.sh

lab || die "the lab could not be built"
# The client reaches the backend directly too, through the LB node's
# kernel, from a second address of its own (and the VIPs from its first,
# named by the routes: IPv6 source selection may pick either): a direct
# connection never has the 4-tuple of an earlier connection through a
# nat VIP. The reverse entry of a nat flow outlives the flow in the LB's
# connection table (LRU), and a direct connection from the same address
# and port to the backend would have its replies taken for that flow's:
# translated to come from the VIP, the connection stalls.
ip -n "$NS_C" addr add "$LB_NET_C.11/24" dev "$IF_C" &&
	ip -n "$NS_C" addr add "${LB_NET6_C}:11/64" dev "$IF_C" nodad &&
	ip -n "$NS_C" route add "$LB_NETS_BE.0/24" via "$LB_NET_C.2" \
		src "$LB_NET_C.11" &&
	ip -n "$NS_C" -6 route add "${LB_NETS6_BE}:/64" via "${LB_NET6_C}:2" \
		src "${LB_NET6_C}:11" &&
	ip -n "$NS_C" route replace "$LB_NET_VIP.0/24" via "$LB_NET_C.2" \
		src "$LB_NET_C.1" &&
	ip -n "$NS_C" -6 route replace "${LB_NET6_VIP}:/64" via "${LB_NET6_C}:2" \
		src "${LB_NET6_C}:1" || die "client routes"
# connections/s opens tens of thousands of connections in a row
ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
sl attach "$IF_S" "$P-l1" >/dev/null || die "sluice attach on the LB node"
cat >"$T/lb.yaml" <<EOF
loadbalancer:
  services:
    - {vip: $VIP_NAT, port: 8080, mode: nat, backends: [{addr: $BE4, port: 8080}]}
    - {vip: '$VIP6_NAT', port: 8080, mode: nat, backends: [{addr: '$BE6', port: 8080}]}
    - {vip: $VIP_L2, port: 80, mode: dsr-l2, backends: [{addr: $BE4, port: 80}]}
    - {vip: $VIP_IPIP, port: 80, mode: dsr-ipip, backends: [{addr: $BE4, port: 80}]}
EOF
sl apply -f "$T/lb.yaml" >/dev/null || die "apply of the services"

# mode: the service, the URL through the LB and the direct URL
declare -A SVC LBURL DIRURL
SVC[nat]=$VIP_NAT:8080/tcp LBURL[nat]=http://$VIP_NAT:8080/
DIRURL[nat]=http://$BE4:8080/
SVC[nat6]=[$VIP6_NAT]:8080/tcp LBURL[nat6]=http://[$VIP6_NAT]:8080/
DIRURL[nat6]=http://[$BE6]:8080/
SVC[dsr-l2]=$VIP_L2:80/tcp LBURL[dsr-l2]=http://$VIP_L2:80/
DIRURL[dsr-l2]=http://$BE4:80/
SVC[dsr-ipip]=$VIP_IPIP:80/tcp LBURL[dsr-ipip]=http://$VIP_IPIP:80/
DIRURL[dsr-ipip]=http://$BE4:80/
for m in $MODES; do
	[ -n "${SVC[$m]:-}" ] || die "LAB_MODES: unknown mode '$m' (nat nat6 dsr-l2 dsr-ipip)"
	for u in "${LBURL[$m]}" "${DIRURL[$m]}"; do
		r=$(timeout 6 ip netns exec "$NS_C" curl -sS -g --max-time 3 "$u" 2>&1)
		[ "$r" = b1 ] || die "$m: $u answered '$r', not b1"
	done
done

# counts SERVICE: "packets conns" of the service in `lb list -j`.
counts() {
	sl lb list -j | jq -r --arg s "$1" \
		'.services[] | select(.service == $s) | "\(.packets) \(.conns)"'
}
# run_wrk URL [HEADER]: one bounded wrk run from the client; prints
# "requests seconds errors" (errors: socket errors + non-2xx/3xx).
run_wrk() {
	timeout $((SECS + 30)) ip netns exec "$NS_C" wrk -t "$THREADS" \
		-c "$CONNS" -d "${SECS}s" ${2:+-H "$2"} "$1" 2>&1 | awk '
	/ requests in / { n = $1; s = $4; sub(/,$/, "", s)
		if (s ~ /ms$/) { sub(/ms$/, "", s); s /= 1000 }
		else if (s ~ /m$/) { sub(/m$/, "", s); s *= 60 }
		else sub(/s$/, "", s) }
	/Socket errors:/ { for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) e += $i }
	/Non-2xx or 3xx/ { e += $NF }
	END { printf "%d %s %d\n", n, s == "" ? 0 : s, e }'
}

# settle: the last run's connections closed (their FINs through the LB
# counted) before the counters are read.
settle() { sleep 1; }
# round MODE KIND: the direct run, then the LB run; one result line
# "MODE KIND dreq dsec derr lreq lsec lerr lpk lconns check".
round() {
	local m=$1 kind=$2 hdr="" a b c d dreq dsec derr lreq lsec lerr ok=ok min=1
	# a connection carries at least 4 packets from the client (SYN, ACK,
	# request, FIN); a request on a kept-alive one at least 1
	[ "$kind" = close ] && hdr="Connection: close" min=4
	read -r a b <<<"$(counts "${SVC[$m]}")"
	read -r dreq dsec derr <<<"$(run_wrk "${DIRURL[$m]}" "$hdr")"
	settle
	read -r c d <<<"$(counts "${SVC[$m]}")"
	# direct: the service saw none of it
	[ "$c" = "$a" ] && [ "$d" = "$b" ] || ok="direct-moved-lb-counters"
	read -r lreq lsec lerr <<<"$(run_wrk "${LBURL[$m]}" "$hdr")"
	settle
	read -r a b <<<"$(counts "${SVC[$m]}")"
	local pk=$((a - c)) cn=$((b - d))
	[ "$lreq" -gt 0 ] && [ "$dreq" -gt 0 ] || ok="no-requests"
	[ "$pk" -ge $((min * lreq)) ] || ok="lb-packets<${min}x-requests"
	echo "$m $kind $dreq $dsec $derr $lreq $lsec $lerr $pk $cn $ok"
}

: >"$T/rows"
settle
for m in $MODES; do
	for kind in keepalive close; do
		for _ in $(seq "$REPS"); do
			round "$m" "$kind" >>"$T/rows"
		done
	done
done

echo "load balancer, veth lab: wrk -t $THREADS -c $CONNS -d ${SECS}s from the client," \
	"through the LB's VIP (Sluice XDP on the LB node, 1 backend) vs directly to the" \
	"backend (build/bench/httpd; the LB node's kernel forwards it); $REPS rounds of" \
	"direct then LB, back to back; medians, and the per-round ratios' min..max:"
awk '
function label(m, k) {
	return (m == "nat6" ? "nat, IPv6" : m ", IPv4") \
		(k == "close" ? ", conns/s (Connection: close)" : ", requests/s (keep-alive)")
}
# median of the n values "a b c ..." in s
function median(s,    v, n, i, j, t) {
	n = split(s, v, " ")
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{
	k = $1 " " $2
	if (!(k in seen)) { seen[k] = 1; ord[++c] = k; lo[k] = 1e9; hi[k] = 0 }
	dr = ($4 > 0) ? $3 / $4 : 0; lr = ($7 > 0) ? $6 / $7 : 0
	r = (dr > 0) ? lr / dr : 0
	D[k] = D[k] " " dr; L[k] = L[k] " " lr; R[k] = R[k] " " r
	if (r < lo[k]) lo[k] = r
	if (r > hi[k]) hi[k] = r
	err[k] += $5 + $8; pk[k] += $9; cn[k] += $10; rq[k] += $6
	if ($11 != "ok") { chk[k] = $11; bad++ }
}
BEGIN {
	printf "  %-44s %9s %9s %7s %11s %6s %9s %8s  %s\n", "row", "direct/s",
		"via LB/s", "LB/dir", "min..max", "errors", "pkts/req", "new/req", "check"
}
END {
	for (i = 1; i <= c; i++) {
		k = ord[i]; split(k, mk, " ")
		printf "  %-44s %9.0f %9.0f %6.2fx %11s %6d %9.1f %8.2f  %s\n",
			label(mk[1], mk[2]), median(D[k]), median(L[k]), median(R[k]),
			sprintf("%.2f..%.2f", lo[k], hi[k]), err[k],
			rq[k] ? pk[k] / rq[k] : 0, rq[k] ? cn[k] / rq[k] : 0,
			(k in chk) ? chk[k] : "ok"
	}
	print "  (errors: wrk socket errors + non-2xx/3xx, all runs; pkts/req and new/req: the" \
		" service'"'"'s packets and new connections in Sluice'"'"'s LB counters per request" \
		" wrk completed through the LB; check: pkts/req >= 1 (keep-alive), >= 4" \
		" (a connection per request), and the direct runs left the counters unchanged)"
	exit bad ? 1 : 0
}' "$T/rows"
