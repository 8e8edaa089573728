#!/usr/bin/env bash
# Scale-out of the load balancer behind ECMP, on an existing routing
# engine (BIRD 2): a router namespace runs BIRD with BGP sessions to two
# LB nodes and installs their routes to the VIP as one multipath route
# (merge paths; fib_multipath_hash_policy=1: L4 hashing); each LB node
# runs Sluice (the same dsr-l2 services) and BIRD announcing what
# `sluice lb bird` writes; three backends on one L2 segment with both
# nodes hold the VIP on lo and answer the client directly.
#   client -- router ==ECMP== lb1, lb2 -- switch (bridge) -- b1, b2, b3
# Checked: both nodes announce (two next hops), new connections spread over
# both nodes and reach every backend; the backend of a connection does not
# depend on the node that carried it (the same source ports give the same
# backends through one node as through two); `lb drain-node` withdraws
# the node's route and `undrain-node` brings it back; a node whose
# services have no backend taking new flows withdraws too; a long
# connection that ECMP moves from one node to the other keeps its backend
# and its TCP state; `sluice daemon --bird-file` withdraws the VIP by
# itself when health checks find every backend down, and announces it
# again when they are up. Namespaces lg-PID-*; 198.18.0.0/15 only.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "lg-$$"
EMPTY=$(dirname "$SLUICE")/xdp_empty.bpf.o
[ -f "$EMPTY" ] || EMPTY=$ROOT_DIR/build/xdp_empty.bpf.o
NS_R=$P-r NS_L1=$P-l1 NS_L2=$P-l2 NS_SW=$P-sw
NS_S=$NS_L1 # lib.sh's cleanup resets the state on $BPF there
BPF2=$T/bpf2
mkdir -p "$BPF2" && mount -t bpf bpf "$BPF2" && MOUNTS+=("$BPF2")
VIP=198.18.100.1
CL=198.18.50.1

for tool in bird birdc python3; do
	if ! command -v "$tool" >/dev/null; then
		fail "$tool is installed" "needs $tool (make deps: bird2)"
		finish
	fi
done

# s1/s2 ARGS...: sluice on node 1 / node 2 (each its own state).
s1() { timeout 60 ip netns exec "$NS_L1" "$SLUICE" --bpffs "$BPF" "$@"; }
s2() { timeout 60 ip netns exec "$NS_L2" "$SLUICE" --bpffs "$BPF2" "$@"; }
sn() { if [ "$1" = 1 ]; then shift; s1 "$@"; else shift; s2 "$@"; fi; }
# node N drain|undrain: `lb drain-node` or `undrain-node` on node N, which
# rewrites its BIRD snippet and reconfigures its BIRD
node() { sn "$1" lb "$2-node" -w "$T/vips$1.conf" --reload --socket "$T/bird-l$1.ctl"; }

# The backends: HTTP on 80 answering their name, and on 9000 a line
# service answering every line of a connection with their name.
cat >"$T/peer.py" <<'EOF'
import socketserver, sys, threading, time
name = sys.argv[1].encode()
class T(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
class Web(socketserver.StreamRequestHandler):
    def handle(self):
        self.rfile.readline()
        self.wfile.write(b"HTTP/1.0 200 OK\r\n\r\n" + name + b"\n")
class Lines(socketserver.StreamRequestHandler):
    def handle(self):
        for _ in self.rfile:
            self.wfile.write(name + b"\n")
for port, h in ((80, Web), (9000, Lines)):
    threading.Thread(target=T(("0.0.0.0", port), h).serve_forever,
                     daemon=True).start()
time.sleep(600)
EOF

# serve I: backend I's servers in the background (pid in SRV[I]).
declare -A SRV
serve() {
	timeout 600 ip netns exec "$P-b$1" "$PY" "$T/peer.py" "b$1" \
		>>"$T/b$1.log" 2>&1 &
	SRV[$1]=$!
	PIDS+=($!)
}
lab() {
	local i
	for ns in "$NS_C" "$NS_R" "$NS_L1" "$NS_L2" "$NS_SW"; do
		ns_up "$ns" || return 1
	done
	pair_up "$NS_C" "$P-c0" "$CL" 2001:db8:50::1 "$NS_R" "$P-rc" \
		198.18.50.2 2001:db8:50::2 || return 1
	ip -n "$NS_C" route add default via 198.18.50.2 || return 1
	for n in 1 2; do
		local ns=$P-l$n
		pair_up "$NS_R" "$P-r$n" "198.18.5$n.1" "2001:db8:5$n::1" \
			"$ns" "$P-l${n}r" "198.18.5$n.2" "2001:db8:5$n::2" &&
			ip -n "$ns" route add 198.18.50.0/24 via "198.18.5$n.1" &&
			ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 \
				net.ipv4.conf.all.rp_filter=0 \
				net.ipv4.conf.default.rp_filter=0 || return 1
	done
	# the backends' L2 segment: a bridge in the switch namespace
	ip -n "$NS_SW" link add br0 type bridge &&
		ip -n "$NS_SW" link set br0 up || return 1
	for n in 1 2; do
		ip -n "$P-l$n" link add "$P-l${n}s" type veth peer name \
			"$P-s$n" netns "$NS_SW" &&
			ip -n "$P-l$n" addr add "198.18.60.$n/24" dev "$P-l${n}s" &&
			ip -n "$P-l$n" link set "$P-l${n}s" up &&
			ip -n "$NS_SW" link set "$P-s$n" master br0 up &&
			# frames redirected into a veth need XDP on its peer
			ip -n "$NS_SW" link set dev "$P-s$n" xdp obj "$EMPTY" \
				sec xdp || return 1
	done
	for i in 1 2 3; do
		ns_up "$P-b$i" || return 1
		ip -n "$P-b$i" link add "$P-b${i}0" type veth peer name \
			"$P-sb$i" netns "$NS_SW" &&
			ip -n "$P-b$i" addr add "198.18.60.1$i/24" dev "$P-b${i}0" &&
			ip -n "$P-b$i" link set "$P-b${i}0" up &&
			ip -n "$NS_SW" link set "$P-sb$i" master br0 up &&
			ip -n "$P-b$i" addr add "$VIP/32" dev lo &&
			ip -n "$P-b$i" route add default via 198.18.60.1 &&
			ip netns exec "$P-b$i" sysctl -qw \
				net.ipv4.conf.all.rp_filter=0 || return 1
		serve "$i"
	done
	ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.fib_multipath_hash_policy=1 || return 1
	# the client's frames reach the nodes' XDP: no partial checksums
	for ifc in "$NS_C:$P-c0" "$NS_R:$P-r1" "$NS_R:$P-r2" "$NS_R:$P-rc"; do
		ip netns exec "${ifc%%:*}" ethtool -K "${ifc#*:}" tx off \
			>/dev/null || return 1
	done
	# XDP_TX back out of a node's router-facing veth needs XDP on the
	# router's end
	ip -n "$NS_R" link set dev "$P-r1" xdp obj "$EMPTY" sec xdp &&
		ip -n "$NS_R" link set dev "$P-r2" xdp obj "$EMPTY" sec xdp ||
		return 1
	for i in 1 2 3; do
		listening "$P-b$i" 9000
		# neighbours resolved before the first forward (dsr-l2)
		try_ping "$NS_L1" "198.18.60.1$i" && try_ping "$NS_L2" "198.18.60.1$i" ||
			return 1
	done
}
if ! lab; then
	fail "lab is built" "namespaces, veths, bridge, XDP on the peers or servers failed"
	finish
fi

# ---- Sluice on both nodes: the same services ----
cat >"$T/lb.yaml" <<EOF
loadbalancer:
  services:
    - vip: $VIP
      port: 80
      proto: tcp
      mode: dsr-l2
      backends:
        - {addr: 198.18.60.11, port: 80}
        - {addr: 198.18.60.12, port: 80}
        - {addr: 198.18.60.13, port: 80}
    - vip: $VIP
      port: 9000
      proto: tcp
      mode: dsr-l2
      backends:
        - {addr: 198.18.60.11, port: 9000}
        - {addr: 198.18.60.12, port: 9000}
        - {addr: 198.18.60.13, port: 9000}
EOF
for n in 1 2; do
	check "node $n: attach its router-facing veth" sn "$n" attach "$P-l${n}r"
	check "node $n: apply the services" sn "$n" apply -f "$T/lb.yaml"
	check "node $n: lb bird --write" sn "$n" lb bird -w "$T/vips$n.conf"
done
if grep -q "route $VIP/32 blackhole;" "$T/vips1.conf" && cmp -s "$T/vips1.conf" "$T/vips2.conf"; then
	ok "lb bird writes the VIP as a static route, the same on both nodes"
else
	fail "lb bird writes the VIP as a static route, the same on both nodes" "$(cat "$T/vips1.conf")"
fi

# ---- BIRD: the router and the two nodes ----
cat >"$T/bird-r.conf" <<EOF
router id 198.18.50.2;
protocol device {}
protocol kernel {
	ipv4 { import none; export all; };
	merge paths on;
}
template bgp node {
	local as 65000;
	connect retry time 1;
	hold time 6;
	ipv4 { import all; export none; };
}
protocol bgp lb1 from node { neighbor 198.18.51.2 as 65001; }
protocol bgp lb2 from node { neighbor 198.18.52.2 as 65001; }
EOF
for n in 1 2; do
	cat >"$T/bird-l$n.conf" <<EOF
router id 198.18.5$n.2;
protocol device {}
include "$T/vips$n.conf";
protocol bgp up {
	local as 65001;
	neighbor 198.18.5$n.1 as 65000;
	connect retry time 1;
	hold time 6;
	ipv4 { import none; export where proto = "sluice_vip4"; };
}
EOF
done
bird_up() { # NS CONF SOCKET
	timeout 600 ip netns exec "$1" bird -f -c "$2" -s "$3" -P "$3.pid" \
		>"$3.log" 2>&1 &
	PIDS+=($!)
}
bird_up "$NS_R" "$T/bird-r.conf" "$T/bird-r.ctl"
bird_up "$NS_L1" "$T/bird-l1.conf" "$T/bird-l1.ctl"
bird_up "$NS_L2" "$T/bird-l2.conf" "$T/bird-l2.ctl"

# hops: the next hops of the router's route to the VIP, sorted.
hops() {
	ip -n "$NS_R" -4 route show "$VIP/32" 2>/dev/null |
		grep -o 'via 198\.18\.5[12]\.2' | sort -u | tr '\n' ' '
}
# wait_hops WANT: up to 20 s for the route's next hops to be WANT.
wait_hops() {
	for _ in $(seq 100); do
		[ "$(hops)" = "$1" ] && return 0
		sleep 0.2
	done
	return 1
}
BOTH="via 198.18.51.2 via 198.18.52.2 "
if wait_hops "$BOTH"; then
	ok "the router's route to $VIP has both nodes as next hops (ECMP)"
else
	fail "the router's route to $VIP has both nodes as next hops" \
		"'$(hops)'; $(ip -n "$NS_R" route show "$VIP/32" 2>&1); $(tail -3 "$T/bird-r.ctl.log")"
	finish
fi

# fetch_ports FIRST N: curls from local ports FIRST..FIRST+N-1; prints the
# backends' names, one a line ("ERR" for a failed one).
fetch_ports() {
	local p r
	for p in $(seq "$1" $(($1 + $2 - 1))); do
		r=$(timeout 6 ip netns exec "$NS_C" curl -sS --local-port "$p" \
			--connect-timeout 2 --max-time 3 "http://$VIP/" 2>/dev/null)
		echo "${r:-ERR}"
	done
}
# node_pkts N: packets node N forwarded to the port-80 service's backends.
node_pkts() {
	sn "$1" lb list -j 2>/dev/null |
		jq '[.services[] | select(.port == 80) | .packets] | add // 0'
}
n1=$(node_pkts 1) n2=$(node_pkts 2)
fetch_ports 41000 40 >"$T/via2.txt"
d1=$(($(node_pkts 1) - n1)) d2=$(($(node_pkts 2) - n2))
if ! grep -q ERR "$T/via2.txt" && [ "$(sort -u "$T/via2.txt" | wc -l)" = 3 ]; then
	ok "40 new connections all answered, by all three backends ($(sort "$T/via2.txt" | uniq -c | tr -s ' \n' ' '))"
else
	fail "40 new connections all answered, by all three backends" "$(sort "$T/via2.txt" | uniq -c | tr -s ' \n' ' ')"
fi
if [ "$d1" -gt 0 ] && [ "$d2" -gt 0 ]; then
	ok "ECMP spreads the connections over both nodes ($d1 and $d2 packets)"
else
	fail "ECMP spreads the connections over both nodes" "$d1 and $d2 packets"
fi

# ---- drain node 1: withdrawn; the same flows, the same backends ----
if node 1 drain >"$T/out" 2>&1 &&
	grep -q "BIRD reconfigured" "$T/out"; then
	ok "lb drain-node on node 1 rewrites the snippet and reconfigures BIRD"
else
	fail "lb drain-node on node 1 rewrites the snippet and reconfigures BIRD" "$(cat "$T/out")"
fi
if wait_hops "via 198.18.52.2 "; then
	ok "node 1's route is withdrawn: only node 2 is a next hop"
else
	fail "node 1's route is withdrawn" "'$(hops)'"
fi
n1=$(node_pkts 1)
fetch_ports 41000 40 >"$T/via1.txt"
if [ "$(node_pkts 1)" = "$n1" ] && ! grep -q ERR "$T/via1.txt"; then
	ok "with node 1 drained every connection goes through node 2 (node 1 forwards none)"
else
	fail "with node 1 drained every connection goes through node 2" "node 1 $n1 -> $(node_pkts 1); $(grep -c ERR "$T/via1.txt") failed"
fi
if cmp -s "$T/via2.txt" "$T/via1.txt"; then
	ok "the same 40 source ports reach the same backends through one node as through two (Maglev agrees)"
else
	fail "the same source ports reach the same backends through one node as through two" \
		"$(diff "$T/via2.txt" "$T/via1.txt" | head -6 | tr '\n' ' ')"
fi
check "lb undrain-node on node 1" node 1 undrain
wait_hops "$BOTH" && ok "undrained, node 1 is a next hop again" ||
	fail "undrained, node 1 is a next hop again" "'$(hops)'"

# ---- no backend taking new flows: the node withdraws ----
for b in 11 12 13; do
	s2 lb backend drain "$VIP:80/tcp" "198.18.60.$b:80" >/dev/null 2>&1
	s2 lb backend drain "$VIP:9000/tcp" "198.18.60.$b:9000" >/dev/null 2>&1
done
check "node 2: lb bird --reload with every backend drained" \
	s2 lb bird -w "$T/vips2.conf" --reload --socket "$T/bird-l2.ctl"
if ! grep -q "route $VIP" "$T/vips2.conf" && wait_hops "via 198.18.51.2 "; then
	ok "a node whose services have no backend taking new flows withdraws the VIP"
else
	fail "a node whose services have no backend taking new flows withdraws the VIP" "'$(hops)'"
fi
check "node 2: the services back" s2 apply -f "$T/lb.yaml"
check "node 2: lb bird --reload" s2 lb bird -w "$T/vips2.conf" --reload --socket "$T/bird-l2.ctl"
wait_hops "$BOTH" && ok "node 2 announces again" || fail "node 2 announces again" "'$(hops)'"

# ---- a long connection moved by ECMP keeps its backend ----
# A line every 0.1 s for 6 s on one connection to VIP:9000; at 1.5 s node
# 1 is withdrawn, at 3.5 s node 1 is back and node 2 withdrawn: the flow
# crosses from one node to the other at least once.
cat >"$T/long.py" <<'EOF'
import socket, sys, time
c = socket.create_connection((sys.argv[1], 9000), timeout=3)
r = c.makefile()
end = time.time() + 6
with open(sys.argv[2], "w", buffering=1) as f:
    while time.time() < end:
        c.sendall(b"x\n")
        f.write((r.readline().strip() or "ERR") + "\n")
        time.sleep(0.1)
EOF
p91=$(sn 1 lb list -j | jq '[.services[] | select(.port == 9000) | .packets] | add // 0')
p92=$(sn 2 lb list -j | jq '[.services[] | select(.port == 9000) | .packets] | add // 0')
timeout 20 ip netns exec "$NS_C" "$PY" "$T/long.py" "$VIP" "$T/long.txt" 2>"$T/long.err" &
lpid=$!
sleep 1.5
node 1 drain >/dev/null 2>&1
wait_hops "via 198.18.52.2 " >/dev/null
sleep 1.5
node 1 undrain >/dev/null 2>&1
node 2 drain >/dev/null 2>&1
wait_hops "via 198.18.51.2 " >/dev/null
wait "$lpid"
q91=$(sn 1 lb list -j | jq '[.services[] | select(.port == 9000) | .packets] | add // 0')
q92=$(sn 2 lb list -j | jq '[.services[] | select(.port == 9000) | .packets] | add // 0')
lines=$(wc -l <"$T/long.txt" 2>/dev/null || echo 0)
if [ "$lines" -ge 30 ] && ! grep -q ERR "$T/long.txt" && [ "$(sort -u "$T/long.txt" | wc -l)" = 1 ]; then
	ok "the long connection got all $lines answers from one backend ($(head -1 "$T/long.txt"))"
else
	fail "the long connection got all its answers from one backend" "$lines lines: $(sort "$T/long.txt" | uniq -c | tr -s ' \n' ' ') $(cat "$T/long.err")"
fi
if [ "$((q91 - p91))" -gt 0 ] && [ "$((q92 - p92))" -gt 0 ]; then
	ok "and it crossed nodes: both forwarded its packets ($((q91 - p91)) and $((q92 - p92)))"
else
	fail "and it crossed nodes: both forwarded its packets" "$((q91 - p91)) and $((q92 - p92))"
fi

# ---- the daemon keeps the announcement in step with health ----
# Node 2 checks its backends (tcp, every second, rise 1, fall 1) and keeps
# its snippet with --bird-file: every backend's server stopped, it
# withdraws the VIP by itself; started again, it announces it again.
check "node 2: undrain-node" node 2 undrain
sed 's/^      mode: dsr-l2$/      mode: dsr-l2\n      health: {type: tcp, interval: 1s, rise: 1, fall: 1}/' \
	"$T/lb.yaml" >"$T/lbh.yaml"
check "node 2: the services with tcp health checks" s2 apply -f "$T/lbh.yaml"
timeout 300 ip netns exec "$NS_L2" "$SLUICE" --bpffs "$BPF2" daemon --no-metrics \
	--bird-file "$T/vips2.conf" --bird-socket "$T/bird-l2.ctl" >"$T/daemon2.log" 2>&1 &
PIDS+=($!)
wait_hops "$BOTH" && ok "with node 2's daemon running both nodes announce" ||
	fail "with node 2's daemon running both nodes announce" "'$(hops)'"
for i in 1 2 3; do kill "${SRV[$i]}" 2>/dev/null; done
if wait_hops "via 198.18.51.2 "; then
	ok "every backend down: node 2's daemon withdraws the VIP by itself"
else
	fail "every backend down: node 2's daemon withdraws the VIP" "'$(hops)'; $(tail -3 "$T/daemon2.log")"
fi
s2 lb list -j 2>/dev/null | jq -e '[.services[].backends[].health] | all(. == "down")' >/dev/null &&
	ok "node 2's lb list shows every backend down" ||
	fail "node 2's lb list shows every backend down" "$(s2 lb list -j | jq -c '[.services[].backends[].health]')"
for i in 1 2 3; do serve "$i"; done
for i in 1 2 3; do listening "$P-b$i" 9000; done
if wait_hops "$BOTH"; then
	ok "the backends up again: node 2 announces again"
else
	fail "the backends up again: node 2 announces again" "'$(hops)'; $(tail -3 "$T/daemon2.log")"
fi
grep -q "BIRD: $T/vips2.conf now announces 0 VIPs" "$T/daemon2.log" &&
	ok "the daemon says what it withdrew" || fail "the daemon says what it withdrew" "$(cat "$T/daemon2.log")"

# ---- bad usage ----
run_capture s1 lb bird --reload
[ "$RC" = 2 ] && ok "lb bird --reload without --write: exit 2" || fail "lb bird --reload without --write: exit 2" "exit $RC: $ERR"
run_capture s1 lb bird -w "$T/other.conf" --reload --socket "$T/none.ctl"
if [ "$RC" = 1 ] && grep -q "birdc -s $T/none.ctl configure" <<<"$ERR"; then
	ok "lb bird --reload with no BIRD at the socket: exit 1, says so"
else
	fail "lb bird --reload with no BIRD at the socket: exit 1, says so" "exit $RC: $ERR"
fi
run_capture s1 lb bird --weight 2
[ "$RC" = 2 ] && ok "lb bird --weight: exit 2" || fail "lb bird --weight: exit 2" "exit $RC: $ERR"

s2 reset >/dev/null 2>&1
finish
