#!/usr/bin/env bash
# The conntrack established fast path with real traffic: the server
# namespace runs Sluice (XDP ingress, TC egress) with the stateful policy
# (in: drop) and one pass rule for a UDP port. A client's UDP flow, once
# answered (established), takes the fast path: its next datagrams pass
# without the rule counting them, while `explain` of the same packet still
# shows the rule that decides (the trace copy never uses the cache) and
# counts nothing; `block` of the client stops the established flow at once
# (sets run before the fast path) and `unblock` lets it through again; an
# apply that turns the rule into a drop stops it (a new serial: the flow is
# classified again). Namespaces fp-PID-*.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "fp-$$"
UDP_PORT=7054
SPORT=40555

if ! lab_up; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi

# A UDP echo server on the server's address: answers every datagram, 90 s.
timeout 90 ip netns exec "$NS_S" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    d, peer = s.recvfrom(100)
    s.sendto(d, peer)' "$S4" "$UDP_PORT" &
PIDS+=($!)
sleep 0.5

# ask: one datagram from the client's $SPORT, 0 when answered.
ask() {
	timeout 5 ip netns exec "$NS_C" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[3])))
s.settimeout(1)
s.sendto(b"sluice-fp", (sys.argv[1], int(sys.argv[2])))
try:
    s.recvfrom(100)
except OSError:
    sys.exit(1)' "$S4" "$UDP_PORT" "$SPORT"
}
# rule_packets: the packets the pass rule counted (stats -j).
rule_packets() {
	sl stats -j | jq --arg p "dport $UDP_PORT" \
		'[.rules[] | select(.rule | endswith($p)) | .packets] | add // 0'
}

check "attach $IF_S" sl attach "$IF_S"
cat >"$T/fp.yaml" <<EOF
policy: {in: drop, out: pass}
conntrack: {enabled: true}
rules:
  - {action: pass, proto: udp, dport: $UDP_PORT}
EOF
check "apply the stateful policy" sl apply -f "$T/fp.yaml"

# The first exchange: the request is new (classified), the answer out is
# established (policy out, cached), the second request is established and
# classified (cached); the rest pass on the cache.
if ask && ask; then
	ok "udp flow answered"
else
	fail "udp flow answered" "$(sl ct list -j)"
fi
n0=$(rule_packets)
for _ in 1 2 3 4 5; do ask || break; done
n1=$(rule_packets)
if [ "$n0" = 2 ] && [ "$n1" = "$n0" ]; then
	ok "established datagrams take the fast path (rule counted $n0, then $n1)"
else
	fail "established datagrams take the fast path" \
		"rule counted $n0, then $n1 (want 2, then 2)"
fi

ex=$(sl explain -j --src "$C4" --dst "$S4" --proto udp --sport "$SPORT" \
	--dport "$UDP_PORT")
if [ "$(echo "$ex" | jq -r '[.ct_state, .action, .reason] | join(" ")')" = \
	"established pass rule" ] && [ "$(echo "$ex" | jq '.rule')" != 0 ] &&
	[ "$(rule_packets)" = "$n1" ]; then
	ok "explain of a cached flow shows the rule that decides, counts nothing"
else
	fail "explain of a cached flow shows the rule that decides" "$ex"
fi

check "block the client" sl block "$C4"
if ! ask; then
	ok "block stops the established flow at once"
else
	fail "block stops the established flow at once" "answered"
fi
check "unblock the client" sl unblock "$C4"
if ask; then
	ok "unblocked, the flow passes again"
else
	fail "unblocked, the flow passes again" "no answer"
fi

sed -i 's/action: pass, proto: udp/action: drop, proto: udp/' "$T/fp.yaml"
check "apply: the rule drops" sl apply -f "$T/fp.yaml"
if ! ask; then
	ok "an apply that changes the rule stops the established flow"
else
	fail "an apply that changes the rule stops the established flow" \
		"answered"
fi
finish
