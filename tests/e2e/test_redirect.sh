#!/usr/bin/env bash
# Rule action redirect end to end. Lab: a client ($NS_C), the Sluice host
# ($NS_S) with two interfaces ($IF_S towards the client, $IF_S2 towards a
# third namespace), and the third namespace ($NS_C2). A rule
#   sluice rule add --action redirect --to $IF_S2 --proto udp --dport 9999
# sends the client's datagrams for the Sluice host out of $IF_S2 instead:
# they arrive at a socket in the third namespace and never at the host's;
# other traffic (udp/9998, ping, http) is untouched. Checked at XDP (DEVMAP,
# bpf_redirect_map) and at TC ingress (bpf_redirect), v4 and v6.
#
# The redirected frame is sent as it came (the Sluice host's MAC and
# address as destination), so the third namespace gives its interface the
# host's MAC and the host's addresses on lo, and its socket receives them.
# The client sends with tx checksum offload off: over veth a locally
# generated datagram keeps a partial checksum that only the skb's metadata
# vouches for, and XDP redirect turns the frame into a new skb without it,
# so the receiver would drop it as a bad checksum.
# XDP redirect into a veth transmits into the peer's NAPI ring: the kernel
# drops the frames (xdp_tx errors) unless the peer has an XDP program or
# GRO on (which enables NAPI on a veth), so the lab turns GRO on for
# $IF_C2; the test checks that this is what makes the difference.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

N=20
PORT=9999

if ! lab_up || ! lab_add_client; then
	fail "lab with a third namespace is built" "namespaces or veths failed"
	finish
fi
command -v ethtool >/dev/null || {
	fail "redirect lab" "needs ethtool"
	finish
}

# The third namespace accepts the host's frames: same MAC, its addresses.
mac=$(ip -n "$NS_S" -j link show dev "$IF_S" | jq -r '.[0].address')
ip -n "$NS_C2" link set dev "$IF_C2" address "$mac" &&
	ip -n "$NS_C2" addr add "$S4/32" dev lo &&
	ip -n "$NS_C2" addr add "$S6/128" dev lo nodad &&
	ip netns exec "$NS_C2" sysctl -qw net.ipv4.conf.all.rp_filter=0 &&
	ip netns exec "$NS_C2" sysctl -qw "net.ipv4.conf.$IF_C2.rp_filter=0" ||
	fail "third namespace takes the host's MAC and addresses" "ip failed"

# listen NS PORT FILE: counts datagrams carrying $TOK on [::]:PORT (v4 and
# v6) for 4 s, then writes the count to FILE. Bounded by timeout.
listen() {
	timeout 10 ip netns exec "$1" "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.settimeout(0.2)
n, end = 0, time.time() + 4
while time.time() < end:
    try:
        d = s.recv(2048)
    except socket.timeout:
        continue
    n += sys.argv[2].encode() in d
open(sys.argv[3], "w").write(str(n))
' "$2" "$TOK" "$3" &
	PIDS+=($!)
}

# send DST PORT: N datagrams from the client, 20 ms apart.
send() {
	timeout 10 ip netns exec "$NS_C" "$PY" -c '
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(sys.argv[4].encode() + b" %d" % i, (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.02)
' "$1" "$2" "$N" "$TOK"
}

# round NAME DST PORT WANT_THIRD WANT_HOST: N datagrams to DST:PORT; the
# third namespace must count WANT_THIRD of them, the host WANT_HOST.
round() {
	local name=$1 dst=$2 port=$3 w3=$4 wh=$5 got3 goth
	TOK="sluice-redirect-$RANDOM$RANDOM"
	rm -f "$T/third" "$T/host"
	listen "$NS_C2" "$port" "$T/third"
	listen "$NS_S" "$port" "$T/host"
	sleep 0.5
	send "$dst" "$port"
	wait "${PIDS[-1]}" "${PIDS[-2]}" 2>/dev/null
	got3=$(cat "$T/third" 2>/dev/null || echo none)
	goth=$(cat "$T/host" 2>/dev/null || echo none)
	if [ "$got3" = "$w3" ] && [ "$goth" = "$wh" ]; then
		ok "$name"
	else
		fail "$name" "third namespace got $got3 (want $w3), host got $goth (want $wh) of $N"
	fi
}

# redirect_count: packets counted as rule/redirect in `stats -j`.
redirect_count() {
	sl stats -j | jq -r '.reasons.rule.redirect.packets // 0'
}

check "attach the host's client side (xdp, tc)" sl attach "$IF_S"
ip netns exec "$NS_C" ethtool -K "$IF_C" tx off >/dev/null 2>&1
ip netns exec "$NS_C2" ethtool -K "$IF_C2" gro on >/dev/null 2>&1

run_capture sl rule add --action redirect --to "$IF_S2" --proto udp \
	--dport "$PORT" --comment "to the third namespace"
if [ "$RC" -eq 0 ] && [[ "$OUT" == "rule "*" added" ]]; then
	ok "rule add --action redirect --to $IF_S2"
else
	fail "rule add --action redirect --to $IF_S2" "exit $RC: $ERR"
fi
if sl rule list | grep -q "redirect.*proto udp dport $PORT to $IF_S2"; then
	ok "rule list shows the redirect target"
else
	fail "rule list shows the redirect target" "$(sl rule list | tail -n1)"
fi
if sl export | grep -q "^    to: \"$IF_S2\"$" &&
	sl export | grep -q "^    action: redirect$"; then
	ok "export writes action redirect and to"
else
	fail "export writes action redirect and to" "$(sl export | grep -c to:) 'to:' lines"
fi
sl export >"$T/exported.yaml"
run_capture sl apply -f "$T/exported.yaml"
if [ "$RC" -eq 0 ] && [[ "$OUT" == *unchanged* || "$OUT" == *"no change"* ]]; then
	ok "apply of the export is a no-op"
else
	fail "apply of the export is a no-op" "exit $RC: $OUT $ERR"
fi

b=$(redirect_count)
round "xdp: udp/$PORT (v4) arrives in the third namespace only" "$S4" "$PORT" "$N" 0
round "xdp: udp/$PORT (v6) arrives in the third namespace only" "$S6" "$PORT" "$N" 0
a=$(redirect_count)
if [ $((a - b)) -eq $((2 * N)) ]; then
	ok "stats count every redirected datagram (rule/redirect)"
else
	fail "stats count every redirected datagram (rule/redirect)" "+$((a - b)), want +$((2 * N))"
fi
round "xdp: udp/9998 is untouched (reaches the host)" "$S4" 9998 0 "$N"
expect_flows "xdp redirect rule in place, other traffic" "$NS_C" "$S4"

# Without NAPI on the target's peer, XDP redirect into a veth is lost.
ip netns exec "$NS_C2" ethtool -K "$IF_C2" gro off >/dev/null 2>&1
round "xdp: without gro (no napi) on the peer the veth drops redirected frames" \
	"$S4" "$PORT" 0 0

# TC ingress: bpf_redirect to the target's egress (no NAPI needed).
check "switch the client side to tc hooks" sl attach "$IF_S" --hooks tc
round "tc: udp/$PORT (v4) arrives in the third namespace only" "$S4" "$PORT" "$N" 0
round "tc: udp/$PORT (v6) arrives in the third namespace only" "$S6" "$PORT" "$N" 0
round "tc: udp/9998 is untouched (reaches the host)" "$S4" 9998 0 "$N"

# Errors: one line, exit 2, nothing changed.
before=$(sl rule list -j | jq -c '[.rules[].rule]')
run_capture sl rule add --action redirect --to slnone9 --proto udp
if [ "$RC" -eq 2 ] && [ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] &&
	[[ "$ERR" == *"to: no interface 'slnone9'"* ]]; then
	ok "redirect to an unknown interface: exit 2, one line"
else
	fail "redirect to an unknown interface: exit 2, one line" "exit $RC: $ERR"
fi
run_capture sl rule add drop --to "$IF_S2"
if [ "$RC" -eq 2 ] && [[ "$ERR" == *"to: only with action redirect"* ]]; then
	ok "--to without redirect: exit 2"
else
	fail "--to without redirect: exit 2" "exit $RC: $ERR"
fi
run_capture sl rule add --action redirect --proto udp
if [ "$RC" -eq 2 ] && [[ "$ERR" == *"action redirect: requires to"* ]]; then
	ok "redirect without --to: exit 2"
else
	fail "redirect without --to: exit 2" "exit $RC: $ERR"
fi
if [ "$(sl rule list -j | jq -c '[.rules[].rule]')" = "$before" ]; then
	ok "refused rules changed nothing"
else
	fail "refused rules changed nothing" "rule list differs"
fi
finish
