#!/usr/bin/env bash
# Fragments with real traffic: the server namespace runs Sluice (XDP
# ingress, TC egress; then TC ingress instead of XDP) with `policy: {in:
# drop, out: drop}` and a rule passing udp dport 5000 (and ICMPv6, for
# neighbour discovery). A 3,000-
# byte UDP datagram (three IPv4 or IPv6 fragments on the 1,500-byte veth)
# to port 5000 arrives whole, both families, and so does one the server
# sends out (TC egress); `stats` counts later fragments under reason
# fragment, and the pinned table sl_frags holds the datagrams; `explain
# --fragment first|later` tells the two apart and writes nothing. With the
# fragment stage left out (attach --stages sets,bans,rules: the behaviour
# before fragment tracking) the same datagram never arrives while a small
# one still does; attached again with every stage it arrives again. A
# datagram to a port no rule passes is dropped whole. `fragments: timeout`
# is exported back; `fragments: max` makes sl_frags anew with that
# capacity and its datagrams (dry run: told, nothing changed). `reset`
# removes the table's pin. Namespaces fg-PID-*.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

P=fg-$$
NS_C=$P-c NS_S=$P-s IF_C=$P-c0 IF_S=$P-s0

if ! lab_pair_up; then
	fail "lab is built" "namespaces or veth failed"
	finish
fi

# udp_recv NS ADDR PORT OUT: a one-shot UDP receiver writing the size of
# the first datagram it gets into OUT (nothing after 2 s).
udp_recv() {
	: >"$4"
	timeout 4 ip netns exec "$1" "$PY" -c '
import socket, sys
a, p, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((a, p))
s.settimeout(2)
try:
    d = s.recv(65535)
except socket.timeout:
    sys.exit(0)
open(out, "w").write(str(len(d)))' "$2" "$3" "$4" &
	PIDS+=($!)
	for _ in $(seq 40); do
		ip netns exec "$1" ss -Hluna "sport = :$3" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# udp_send NS DST PORT SIZE: one datagram of SIZE bytes (the sender's
# kernel fragments it).
udp_send() {
	timeout 5 ip netns exec "$1" "$PY" -c '
import socket, sys
a, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"f" * n, (a, p))' "$2" "$3" "$4"
}

# deliver NAME FROM_NS TO_NS DST PORT SIZE WANT: sends SIZE bytes and checks
# that WANT bytes arrived ("none": nothing arrives).
deliver() {
	local name=$1 from=$2 to=$3 dst=$4 port=$5 size=$6 want=$7 got pid
	local out=$T/recv.$RANDOM
	if ! udp_recv "$to" "$dst" "$port" "$out"; then
		fail "$name" "the receiver did not start"
		return
	fi
	pid=${PIDS[-1]}
	udp_send "$from" "$dst" "$port" "$size"
	timeout 6 tail --pid="$pid" -f /dev/null 2>/dev/null
	got=$(cat "$out" 2>/dev/null)
	[ -n "$got" ] || got=none
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		fail "$name" "received $got bytes, want $want"
	fi
}

cat >"$T/frag.yaml" <<EOF
policy: {in: drop, out: drop}
rules:
  - {action: pass, proto: udp, dport: 5000}
  - {action: pass, proto: icmpv6}
EOF

check "attach" sl attach "$IF_S"
check "apply: policy drop both ways, pass udp dport 5000 and icmpv6" \
	sl apply -f "$T/frag.yaml"
# neighbour discovery first (ARP is not IP: it passes)
try_ping "$NS_C" "$S6" >/dev/null

deliver "ipv4: a 3000-byte datagram to 5000 arrives whole" \
	"$NS_C" "$NS_S" "$S4" 5000 3000 3000
deliver "ipv6: a 3000-byte datagram to 5000 arrives whole" \
	"$NS_C" "$NS_S" "$S6" 5000 3000 3000
deliver "ipv4 egress: the server's 3000-byte datagram to 5000 leaves whole" \
	"$NS_S" "$NS_C" "$C4" 5000 3000 3000
deliver "ipv6 egress: the server's 3000-byte datagram to 5000 leaves whole" \
	"$NS_S" "$NS_C" "$C6" 5000 3000 3000
deliver "ipv4: a 3000-byte datagram to 5001 (no rule) is dropped" \
	"$NS_C" "$NS_S" "$S4" 5001 3000 none

n=$(stats_packets fragment pass)
if [ -n "$n" ] && [ "$n" != null ] && [ "$n" -ge 8 ]; then
	ok "stats: later fragments passed with reason fragment ($n)"
else
	fail "stats: later fragments passed with reason fragment" "got '$n', want >= 8"
fi
n=$(stats_packets fragment drop)
if [ -n "$n" ] && [ "$n" != null ] && [ "$n" -ge 2 ]; then
	ok "stats: later fragments of the dropped datagram dropped ($n)"
else
	fail "stats: later fragments of the dropped datagram dropped" "got '$n', want >= 2"
fi
n=$(bpftool map dump pinned "$BPF/sluice/sl_frags" -j 2>/dev/null | jq length)
if [ -n "$n" ] && [ "$n" -ge 5 ]; then
	ok "the pinned table sl_frags holds the datagrams ($n)"
else
	fail "the pinned table sl_frags holds the datagrams" "got '$n' entries, want >= 5"
fi

# explain --fragment: a first fragment meets the rule; a later fragment
# of no known datagram meets the policy; the trace copy writes no entry.
before=$(bpftool map dump pinned "$BPF/sluice/sl_frags" -j 2>/dev/null | jq length)
ex "explain --fragment first: the udp 5000 rule passes it" \
	'.action == "pass" and .reason == "rule"' \
	--src "$C4" --dst "$S4" --proto udp --dport 5000 --fragment first
ex "explain --fragment later (no first known): the policy drops it" \
	'.action == "drop" and .reason == "policy"' \
	--src "$C6" --dst "$S6" --proto udp --fragment later
after=$(bpftool map dump pinned "$BPF/sluice/sl_frags" -j 2>/dev/null | jq length)
if [ -n "$before" ] && [ "$before" = "$after" ]; then
	ok "explain writes no entry into sl_frags ($after)"
else
	fail "explain writes no entry into sl_frags" "before $before, after $after"
fi

# Without the fragment stage (the behaviour before it): later fragments
# meet the policy.
check "attach --stages sets,bans,rules (no fragments)" \
	sl attach --stages sets,bans,rules "$IF_S"
deliver "no fragment stage: a 100-byte datagram to 5000 still arrives" \
	"$NS_C" "$NS_S" "$S4" 5000 100 100
deliver "no fragment stage: the ipv4 3000-byte datagram never arrives" \
	"$NS_C" "$NS_S" "$S4" 5000 3000 none
deliver "no fragment stage: the ipv6 3000-byte datagram never arrives" \
	"$NS_C" "$NS_S" "$S6" 5000 3000 none
check "attach (every stage again)" sl attach "$IF_S"
deliver "fragment stage back: the ipv4 3000-byte datagram arrives" \
	"$NS_C" "$NS_S" "$S4" 5000 3000 3000

# TC ingress instead of XDP: the same.
check "attach --hooks tc" sl attach --hooks tc "$IF_S"
deliver "tc ingress: the ipv4 3000-byte datagram arrives whole" \
	"$NS_C" "$NS_S" "$S4" 5000 3000 3000
deliver "tc ingress: the ipv6 3000-byte datagram arrives whole" \
	"$NS_C" "$NS_S" "$S6" 5000 3000 3000
deliver "tc ingress: a 3000-byte datagram to 5001 is dropped" \
	"$NS_C" "$NS_S" "$S6" 5001 3000 none
check "attach (xdp and tc again)" sl attach "$IF_S"

# The timeout is config: export writes it back.
printf 'fragments: {timeout: 10s}\n' >>"$T/frag.yaml"
check "apply with fragments: {timeout: 10s}" sl apply -f "$T/frag.yaml"
if sl export 2>/dev/null | grep -A1 '^fragments:' | grep -q 'timeout: 10s'; then
	ok "export writes fragments: timeout 10s"
else
	fail "export writes fragments: timeout 10s" "$(sl export 2>&1 | head -20)"
fi
deliver "a 3000-byte datagram still arrives after the apply" \
	"$NS_C" "$NS_S" "$S4" 5000 3000 3000

# Another capacity: sl_frags is made anew with it, its datagrams copied.
frag_cap() { bpftool map show pinned "$BPF/sluice/sl_frags" -j 2>/dev/null | jq .max_entries; }
frag_keys() { bpftool map dump pinned "$BPF/sluice/sl_frags" -j 2>/dev/null | jq -c '[.[].key] | sort'; }
fk=$(frag_keys)
printf 'fragments: {timeout: 10s, max: 2048}\n' >"$T/cap.yaml"
grep -v '^fragments:' "$T/frag.yaml" >>"$T/cap.yaml"
run_capture sl apply --dry-run -f "$T/cap.yaml"
if [ "$RC" -eq 0 ] && [[ "$OUT" == *"~ fragments max: 8192 -> 2048"* ]] && [ "$(frag_cap)" = 8192 ]; then
	ok "apply --dry-run tells the new fragments capacity and changes nothing"
else
	fail "apply --dry-run tells the new fragments capacity and changes nothing" "exit $RC, capacity $(frag_cap): $OUT $ERR"
fi
check "apply fragments: {max: 2048}" sl apply -f "$T/cap.yaml"
fk2=$(frag_keys)
if [ "$(frag_cap)" = 2048 ] && [ "$fk" = "$fk2" ] && [ "$(jq length <<<"$fk")" -ge 1 ]; then
	ok "a new capacity makes sl_frags anew (2048) with every datagram ($(jq length <<<"$fk2"))"
else
	fail "a new capacity makes sl_frags anew with every datagram" "capacity $(frag_cap); $fk -> $fk2"
fi
if sl export 2>/dev/null | grep -A2 '^fragments:' | grep -q 'max: 2048'; then
	ok "export writes fragments: max 2048"
else
	fail "export writes fragments: max 2048" "$(sl export 2>&1 | head -20)"
fi
deliver "a 3000-byte datagram arrives through the new table" \
	"$NS_C" "$NS_S" "$S4" 5000 3000 3000

check "reset" sl reset
if [ ! -e "$BPF/sluice/sl_frags" ]; then
	ok "reset removes the sl_frags pin"
else
	fail "reset removes the sl_frags pin" "$(ls "$BPF/sluice")"
fi

finish
