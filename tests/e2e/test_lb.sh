#!/usr/bin/env bash
# The XDP load balancer with real TCP: a client namespace, the LB node
# (Sluice attached by XDP on all its interfaces, forwarding on) and three
# backend namespaces, each behind its own veth, running a small server
# that answers with its own name (HTTP on 8080 and 80, and a line service
# on 9000 that answers every line of a long connection). The clients' and
# backends' ends run an empty XDP program (XDP_TX/redirect into a veth
# needs one on the peer) and send with checksum offload off (a rewritten
# partial checksum would be wrong on the wire).
#   nat   198.18.100.1:8080 -> backends :8080, replies through the LB
#         (the backends route via it), IPv4 and IPv6 ([2001:db8:100::1])
#   dsr-l2 198.18.100.2:80 and [2001:db8:100::2]:80 -> backends :80, which
#         hold the VIPs on lo
# Checked: many curls (new connections) spread over all three backends and
# `lb list -j` counts one new connection per curl; long connections keep
# their backend while a backend is added; removing a backend moves only
# its own connections; a drained backend takes no new connection and
# keeps its long one; a service with no backend drops (lb-no-backend);
# 300 curls over weights 2:1:1 split 150/75/75 within +-35%.
# Namespaces lb-PID-*.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "lb-$$"
VIP=198.18.100.1 VIP_DSR=198.18.100.2 VIP6=2001:db8:100::1
VIP6_DSR=2001:db8:100::2
LO_VIPS="$VIP_DSR $VIP6_DSR"
# shellcheck source=tests/e2e/lb_lab.sh
. "$(dirname "$0")/lb_lab.sh"

if ! lab; then
	fail "lab is built" "namespaces, veth, XDP on the peers or servers failed"
	finish
fi

reason_count() {
	sl stats -j | jq -r --arg r "$1" '.reasons[$r].packets // 0'
}
be() { echo "{addr: 198.18.1$1.2, port: $2}"; }
be6() { echo "{addr: '2001:db8:1$1::2', port: $2}"; }
write_cfg() { # BACKENDS_NAT (e.g. "1 2 3"); LB_MAX: the table's capacity
	{
		echo "loadbalancer:"
		[ -n "${LB_MAX:-}" ] && echo "  max: $LB_MAX"
		echo "  services:"
		for port in 8080 9000; do
			echo "    - vip: $VIP"
			echo "      port: $port"
			echo "      proto: tcp"
			echo "      mode: nat"
			echo "      backends:"
			for i in $1; do echo "        - $(be "$i" "$port")"; done
		done
		echo "    - vip: '$VIP6'"
		echo "      port: 8080"
		echo "      backends: [$(be6 1 8080), $(be6 2 8080), $(be6 3 8080)]"
		echo "    - {vip: $VIP_DSR, port: 80, mode: dsr-l2, backends: [$(be 1 80), $(be 2 80), $(be 3 80)]}"
		echo "    - {vip: '$VIP6_DSR', port: 80, mode: dsr-l2, backends: [$(be6 1 80), $(be6 2 80), $(be6 3 80)]}"
		echo "    - {vip: $VIP_DSR, port: 81, mode: dsr-l2, backends: []}"
	} >"$T/lb.yaml"
}

check "attach the LB node's interfaces (xdp native)" \
	sl attach "$IF_S" "$P-l1" "$P-l2" "$P-l3"

write_cfg "1 2 3"
check "apply the loadbalancer section (nat, nat IPv6, dsr-l2)" \
	sl apply -f "$T/lb.yaml"
if sl status | grep -q ",lb"; then
	ok "the programs run with the lb stage"
else
	fail "the programs run with the lb stage" "$(sl status | tail -4)"
fi

# ---- nat: new connections spread, counted ----
spread_check nat "$VIP" 8080
got=$(conns "$VIP:8080/tcp")
if [ "$got" = "$n" ]; then
	ok "nat: lb list -j counts $got new connections for $n curls"
else
	fail "nat: lb list -j counts the connections" "$got for $n curls"
fi
spread_check "nat IPv6" "$VIP6" 8080

# ---- nat: a closed connection's tuple reused by a direct connection ----
# A fetch through the VIP from local port 47700, then one straight to the
# backend that answered, from the same port: once the first connection is
# over, the backend's replies on that tuple are the direct connection's and
# must not be made the VIP's (docs/loadbalancer.md, nat).
for i in 1 2 3; do
	ip -n "$NS_C" route add "198.18.1$i.0/24" via "$LB_NET_C.2" 2>/dev/null
done
fetch_from() { # PORT HOST
	timeout 6 ip netns exec "$NS_C" curl -sS --local-port "$1" \
		--connect-timeout 2 --max-time 3 "http://$2:8080/" 2>&1
}
b=$(fetch_from 47700 "$VIP")
d=$(fetch_from 47700 "198.18.1${b#b}.2")
if [[ "$b" == b[123] ]] && [ "$d" = "$b" ]; then
	ok "nat: a direct connection that reuses a closed connection's tuple is answered ($b)"
else
	fail "nat: a direct connection that reuses a closed connection's tuple" \
		"through the VIP '$b', direct '$d'"
fi

# ---- dsr-l2 ----
spread_check dsr-l2 "$VIP_DSR" 80
spread_check "dsr-l2 IPv6" "$VIP6_DSR" 80
before=$(reason_count lb-no-backend)
if [ -z "$(get "$VIP_DSR" 81)" ] && [ "$(reason_count lb-no-backend)" -gt "$before" ]; then
	ok "a service without backends drops (lb-no-backend)"
else
	fail "a service without backends drops" "lb-no-backend $before -> $(reason_count lb-no-backend)"
fi

# ---- long connections through backend changes (nat, port 9000) ----
write_cfg "1 2"
check "two backends for the long connections" sl apply -f "$T/lb.yaml"
for k in 1 2 3 4 5 6; do long "$k" "$VIP" 14; done
sleep 2
declare -A first
for k in 1 2 3 4 5 6; do first[$k]=$(answers "$k"); done
write_cfg "1 2 3"
check "a third backend added under load" sl apply -f "$T/lb.yaml"
# kept NAME: every long connection still answered by its first backend only
kept() {
	local same=0 now=""
	for k in 1 2 3 4 5 6; do
		[ "$(answers "$k")" = "${first[$k]}" ] && same=$((same + 1))
		now="$now[$(answers "$k")] "
	done
	if [ "$same" = 6 ]; then
		ok "$1: the 6 long connections keep their backends (${first[*]})"
	else
		fail "$1: long connections keep their backends" \
			"$same of 6: before ${first[*]}; now $now"
	fi
}
sleep 2
kept "added backend"

# ---- the connection table's capacity (loadbalancer: max) ----
# Made anew with its entries (the long connections' forward and reverse
# entries among them) and switched in: they go on with their backends.
ct_use() { sl lb list -j | jq -r ".conn_table.$1"; }
max0=$(ct_use max) n0=$(ct_use entries)
LB_MAX=2048 write_cfg "1 2 3"
run_capture sl apply --dry-run -f "$T/lb.yaml"
if [ "$RC" = 0 ] && [ "$max0" = 65536 ] && [ "$n0" -ge 12 ] &&
	grep -q -- "~ loadbalancer max: 65536 -> 2048 (sl_lb_conn made anew, its [0-9]* entries copied over)" <<<"$OUT" &&
	[ "$(ct_use max)" = 65536 ]; then
	ok "--dry-run of loadbalancer max 2048 says the table is made anew, changes nothing"
else
	fail "--dry-run of loadbalancer max 2048" "exit $RC, max $max0, entries $n0: $OUT $ERR"
fi
check "apply loadbalancer max 2048" sl apply -f "$T/lb.yaml"
n1=$(ct_use entries)
if [ "$(ct_use max)" = 2048 ] && [ "$n1" -ge "$n0" ] &&
	sl lb list | grep -q "^connection table: $n1 of 2048 entries"; then
	ok "the connection table holds 2048 entries, its $n0 entries carried over ($n1 now)"
else
	fail "the connection table is made anew with its entries" 		"max $(ct_use max), entries $n0 -> $n1"
fi
sleep 2
kept "connection table made anew"
export LB_MAX=2048
printf 'loadbalancer:\n  max: 100\n  services: []\n' >"$T/small.yaml"
refused "apply of loadbalancer max 100: its line (exit 2)" 2 \
	"small.yaml:2:8: max: expected a number of entries from 1024 to 16777216" \
	sl apply -f "$T/small.yaml"
if [ "$(ct_use max)" = 2048 ] && sl export | grep -q "^  max: 2048$"; then
	ok "the refused max left the table as it was; export writes max: 2048"
else
	fail "the refused max left the table" "max $(ct_use max); $(sl export | head -5)"
fi
# drain b1 (weight 0): its long connections go on, no new one reaches it
sed -i 's/{addr: 198.18.11.2, port: 9000}/{addr: 198.18.11.2, port: 9000, weight: 0}/' "$T/lb.yaml"
check "drain b1 (weight 0) on port 9000" sl apply -f "$T/lb.yaml"
check "lb backend drain b1 on port 8080 (CLI)" \
	sl lb backend drain "$VIP:8080/tcp" 198.18.11.2:8080
read -r n c1 c2 c3 <<<"$(spread "$VIP" 8080 20)"
if [ "$n" = 20 ] && [ "$c1" = 0 ]; then
	ok "drained: 20 new connections, none to b1 ($c2/$c3)"
else
	fail "drained: no new connection to b1" "$n answered: $c1/$c2/$c3"
fi
if sl lb list -j | jq -e '.services[] | select(.service == "'"$VIP"':8080/tcp") | .backends[] | select(.addr == "198.18.11.2") | .state == "drained"' >/dev/null; then
	ok "lb list -j shows b1 drained"
else
	fail "lb list -j shows b1 drained" "$(sl lb list)"
fi
sleep 1
kept "drained (b1's too)"
# remove b2: only its connections move (and break: b3/b1 have no socket)
check "lb backend del b2 (CLI)" sl lb backend del "$VIP:9000/tcp" 198.18.12.2:9000
sleep 2
moved_other=0 b2=0
for k in 1 2 3 4 5 6; do
	if [ "${first[$k]}" = b2 ]; then
		b2=$((b2 + 1))
	elif [ "$(answers "$k")" != "${first[$k]}" ]; then
		moved_other=$((moved_other + 1))
	fi
done
if [ "$moved_other" = 0 ]; then
	ok "removed b2: the $((6 - b2)) long connections of b1/b3 keep theirs"
else
	fail "removed b2: other connections keep their backend" "$moved_other moved"
fi
wait_long=0
for k in 1 2 3 4 5 6; do
	[ "${first[$k]}" = b2 ] && ! grep -q ERR "$T/long-$k" && [ "$(answers "$k")" = b2 ] &&
		wait_long=$((wait_long + 1))
done
if [ "$b2" = 0 ] || [ "$wait_long" = 0 ]; then
	ok "removed b2: its $b2 long connections left it"
else
	fail "removed b2: its connections left it" "$wait_long of $b2 still answered by b2"
fi

# ---- weights: 300 new connections over weights 2:1:1 ----
# (last of the traffic checks: its 300 flows stay in the connection table,
# and a later curl that happens to reuse one of their source ports would
# be that flow, going to its backend)
# Expected 150/75/75. Maglev gives each backend its weight's share of the
# table (within 1%, test_maglev), so the counts are binomial around those:
# the tolerance, +-35% of each expected count, is about 3.5 standard
# deviations for the 1-weight backends (75 +- 26, sd 7.5).
check "reweigh b1 to 2" sl lb backend add "$VIP:8080/tcp" 198.18.11.2:8080 --weight 2
read -r n c1 c2 c3 <<<"$(spread "$VIP" 8080 300)"
if [ "$n" = 300 ] && [ "$c1" -ge 98 ] && [ "$c1" -le 202 ] &&
	[ "$c2" -ge 49 ] && [ "$c2" -le 101 ] && [ "$c3" -ge 49 ] && [ "$c3" -le 101 ]; then
	ok "weights 2:1:1: 300 curls all answered, $c1/$c2/$c3 (150/75/75 +-35%)"
else
	fail "weights 2:1:1: 300 curls split by weight" "$n answered: $c1/$c2/$c3 (want 150/75/75 +-35%)"
fi
check "reweigh b1 back to 1" sl lb backend add "$VIP:8080/tcp" 198.18.11.2:8080 --weight 1

# ---- bad input changes nothing ----
# lb_shape: `lb list -j` without the counters (long connections still run)
lb_shape() { sl lb list -j | jq -c 'del(.. | .packets?, .bytes?, .conns?)'; }
before=$(lb_shape)
refused "lb service add without a protocol (exit 2)" 2 "expected /tcp or /udp" \
	sl lb service add 198.18.100.9:80
refused "lb service add of an IPv6 VIP without brackets (exit 2)" 2 \
	"in brackets" sl lb service add 2001:db8::9:80/tcp
refused "lb service add --mode dsr-gre: no such mode (exit 2)" 2 \
	"--mode must be nat, dsr-l2 or dsr-ipip" \
	sl lb service add 198.18.100.9:80/tcp --mode dsr-gre
refused "lb backend add to no service (exit 2)" 2 "no service" \
	sl lb backend add 198.18.100.9:80/tcp 198.18.11.2:80
refused "lb backend add of another family (exit 2)" 2 "address family" \
	sl lb backend add "$VIP:8080/tcp" "[2001:db8:11::2]:8080"
refused "lb backend add --weight 1001 (exit 2)" 2 "--weight" \
	sl lb backend add "$VIP:8080/tcp" 198.18.11.2:8080 --weight 1001
printf 'loadbalancer:\n  services:\n    - {vip: 198.18.100.9, port: 80, mode: dsr-gre}\n' >"$T/gre.yaml"
refused "apply of a service of no such mode: its line (exit 2)" 2 \
	"gre.yaml:3:43: service: mode must be nat, dsr-l2 or dsr-ipip" \
	sl apply -f "$T/gre.yaml"
if [ "$(lb_shape)" = "$before" ]; then
	ok "the refused changes left the services as they were"
else
	fail "the refused changes left the services as they were" "$(sl lb list)"
fi

# ---- the CLI round trip and removal ----
check "lb service del $VIP_DSR:81/tcp" sl lb service del "$VIP_DSR:81/tcp"
sl export >"$T/export.yaml"
run_capture sl apply -f "$T/export.yaml"
if [ "$RC" = 0 ] && grep -q unchanged <<<"$OUT"; then
	ok "export then apply is a no-op"
else
	fail "export then apply is a no-op" "exit $RC: $OUT $ERR"
fi
printf 'loadbalancer:\n  services: []\n' >"$T/none.yaml"
run_capture sl apply --dry-run -f "$T/none.yaml"
if [ "$RC" = 0 ] && grep -q -- "- lb service $VIP:8080/tcp" <<<"$OUT" &&
	[ "$(sl lb list -j | jq '.services | length')" -gt 0 ]; then
	ok "--dry-run lists the services removed and changes nothing"
else
	fail "--dry-run lists the services removed" "exit $RC: $OUT $ERR"
fi
check "apply without services" sl apply -f "$T/none.yaml"
if ! sl status | grep -q ",lb" && [ -z "$(get "$VIP" 8080)" ]; then
	ok "no service: the lb stage is off, the VIP is not answered"
else
	fail "no service: the lb stage is off" "$(sl status | tail -2)"
fi
finish
