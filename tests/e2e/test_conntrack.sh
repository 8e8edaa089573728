#!/usr/bin/env bash
# Connection tracking with real traffic: the server namespace runs Sluice
# (XDP ingress, TC egress) with `conntrack: {enabled: true}`; TCP (curl,
# nc), UDP and ping, IPv4 and IPv6, in both directions (the server's own
# outgoing connections too) appear in `sluice ct list -j` from their
# initiator with the right states; `ct stats` counts them; an apply (no-op,
# a rule change, another capacity) keeps them; `ct flush` with a filter
# removes only its flows and without one empties the table; turning
# conntrack off keeps the table and stops tracking; the stateful host
# policy (rules on ct-state, policy in drop) lets the server's own flows
# and new TCP to the HTTP port in, nothing else; the same traffic gives
# the same flows and states in the kernel's nf_conntrack (differential
# check). Namespaces ct-PID-*.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# This test's own names (lib.sh's lab, prefix ct-).
P=ct-$$
NS_C=$P-c NS_S=$P-s IF_C=$P-c0 IF_S=$P-s0
UDP_PORT=7053

if ! lab_up; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi

# flows: the table as one JSON array.
flows() { sl ct list -j | jq -c '.flows'; }
# flow_state PROTO SRC DST [DPORT]: the state of the flow SRC -> DST.
flow_state() {
	flows | jq -r --arg p "$1" --arg s "$2" --arg d "$3" --arg dp "${4:-}" \
		'map(select(.proto == $p and .src == $s and .dst == $d and
			($dp == "" or (.dport | tostring) == $dp))) |
		 (first // {}) | .state // "none"'
}
# expect_state NAME PROTO SRC DST DPORT STATE...: one of the states.
expect_state() {
	local name=$1 p=$2 s=$3 d=$4 dp=$5 got want
	shift 5
	got=$(flow_state "$p" "$s" "$d" "$dp")
	for want in "$@"; do
		if [ "$got" = "$want" ]; then
			ok "$name: $p $s -> $d is $got"
			return
		fi
	done
	fail "$name: $p $s -> $d is $*" "got '$got'; table: $(flows)"
}

# udp_echo NS ADDR: a one-shot UDP responder on ADDR:$UDP_PORT.
udp_echo() {
	timeout 10 ip netns exec "$1" "$PY" -c '
import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((a, int(sys.argv[2])))
s.settimeout(8)
d, peer = s.recvfrom(100)
s.sendto(d, peer)' "$2" "$UDP_PORT" &
	PIDS+=($!)
	sleep 0.5
}
# udp_ask NS ADDR [SPORT]: sends one datagram, 0 when answered.
udp_ask() {
	timeout 5 ip netns exec "$1" "$PY" -c '
import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
if len(sys.argv) > 3: s.bind(("", int(sys.argv[3])))
s.settimeout(2)
s.sendto(b"sluice-ct", (a, int(sys.argv[2])))
try:
    s.recvfrom(100)
except OSError:
    sys.exit(1)' "$2" "$UDP_PORT" ${3:+"$3"}
}

check "attach $IF_S" sl attach "$IF_S"
printf 'conntrack:\n  enabled: true\n' >"$T/ct.yaml"
run_capture sl apply -f "$T/ct.yaml"
if [ "$RC" -eq 0 ]; then ok "apply conntrack: {enabled: true}"; else
	fail "apply conntrack: {enabled: true}" "exit $RC: $ERR"
fi
if [[ ",$(status_field "$IF_S" features)," == *,conntrack,* ]] &&
	[[ ",$(status_field "$IF_S" features tc-out)," == *,conntrack,* ]]; then
	ok "status: xdp and tc-out run with conntrack"
else
	fail "status: xdp and tc-out run with conntrack" \
		"features '$(status_field "$IF_S" features)'"
fi
if [ "$(sl ct list -j | jq '.flows | length')" = 0 ]; then
	ok "the table starts empty"
else
	fail "the table starts empty" "$(flows)"
fi

# ---- traffic both ways ----
if try_curl "$NS_C" "$S4"; then ok "curl v4 client -> server"; else
	fail "curl v4 client -> server" "no answer"
fi
if try_curl "$NS_C" "$S6"; then ok "curl v6 client -> server"; else
	fail "curl v6 client -> server" "no answer"
fi
# the server's own connection out (nc listener in the client namespace)
if try_nc "$NS_S" "$NS_C" "$C4"; then ok "nc v4 server -> client"; else
	fail "nc v4 server -> client" "token not received"
fi
udp_echo "$NS_S" "$S4"
if udp_ask "$NS_C" "$S4" 40053; then ok "udp v4 client -> server answered"; else
	fail "udp v4 client -> server answered" "no reply"
fi
udp_ask "$NS_S" "$C4" 40054 # no responder: unreplied
if try_ping "$NS_C" "$S4"; then ok "ping v4 client -> server"; else
	fail "ping v4 client -> server" "no reply"
fi
if try_ping "$NS_S" "$C6"; then ok "ping v6 server -> client"; else
	fail "ping v6 server -> client" "no reply"
fi

expect_state "curl v4" tcp "$C4" "$S4" "$HTTP_PORT" time-wait last-ack close-wait close
expect_state "curl v6" tcp "$C6" "$S6" "$HTTP_PORT" time-wait last-ack close-wait close
expect_state "nc from the server (egress first)" tcp "$S4" "$C4" "$NC_PORT" \
	time-wait last-ack close-wait close
expect_state "udp answered" udp "$C4" "$S4" "$UDP_PORT" assured
expect_state "udp unanswered, from the server" udp "$S4" "$C4" "$UDP_PORT" unreplied
expect_state "ping v4" icmp "$C4" "$S4" "" echo-replied
expect_state "ping v6 from the server" icmpv6 "$S6" "$C6" "" echo-replied
n=$(flows | jq 'map(select(.orig.packets > 0 and .reply.packets > 0)) | length')
if [ "${n:-0}" -ge 6 ]; then ok "answered flows count packets both ways"; else
	fail "answered flows count packets both ways" "$n flows; $(flows)"
fi
# a long-lived connection: established while it is open
timeout 8 ip netns exec "$NS_S" nc -l "$S4" 7100 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.3
(sleep 3 | timeout 5 ip netns exec "$NS_C" nc -w 4 "$S4" 7100 >/dev/null 2>&1) &
PIDS+=($!)
sleep 1
expect_state "open tcp connection" tcp "$C4" "$S4" 7100 established

# ---- ct stats and filters ----
st=$(sl ct stats -j)
if [ "$(echo "$st" | jq '.enabled and .flows >= 8 and .capacity == 262144')" = true ]; then
	ok "ct stats: enabled, flows counted, capacity 262144"
else
	fail "ct stats: enabled, flows counted, capacity 262144" "$st"
fi
if [ "$(sl ct list -j --proto udp | jq -c '[.flows[].proto] | unique')" = '["udp"]' ]; then
	ok "ct list --proto udp lists only udp"
else
	fail "ct list --proto udp lists only udp" "$(sl ct list -j --proto udp)"
fi
if [ "$(sl ct list -j --src "$S4" | jq -c '[.flows[].src] | unique')" = "[\"$S4\"]" ]; then
	ok "ct list --src: flows the server started"
else
	fail "ct list --src: flows the server started" "$(sl ct list -j --src "$S4")"
fi

# ---- apply keeps the table ----
before=$(flows | jq length)
sl export >"$T/export.yaml"
run_capture sl apply -f "$T/export.yaml"
if [ "$RC" -eq 0 ] && [[ "$OUT" == *unchanged* ]]; then
	ok "apply of the export is a no-op"
else
	fail "apply of the export is a no-op" "exit $RC: $OUT $ERR"
fi
printf 'conntrack:\n  enabled: true\n  timeouts: {time-wait: 10m}\nrules:\n  - {action: count, proto: tcp, dport: 9}\n' >"$T/ct2.yaml"
check "apply a rule and a timeout" sl apply -f "$T/ct2.yaml"
after=$(flows | jq length)
if [ "$after" -ge "$before" ] && [ "$before" -ge 8 ]; then
	ok "apply keeps the flows ($before before, $after after)"
else
	fail "apply keeps the flows" "$before before, $after after"
fi
if sl export | grep -q 'time-wait: 10m'; then ok "export prints the timeout"; else
	fail "export prints the timeout" "$(sl export)"
fi
printf 'conntrack:\n  enabled: true\n  max: 8192\n' >"$T/ct3.yaml"
check "apply another capacity" sl apply -f "$T/ct3.yaml"
cap=$(sl ct stats -j | jq .capacity)
after=$(flows | jq length)
if [ "$cap" = 8192 ] && [ "$after" -ge "$before" ]; then
	ok "a new capacity makes the table anew with its flows ($after)"
else
	fail "a new capacity makes the table anew with its flows" "capacity $cap, $after flows"
fi
if try_curl "$NS_C" "$S4"; then ok "traffic passes on the new table"; else
	fail "traffic passes on the new table" "curl got no answer"
fi

# ---- flush ----
run_capture sl ct flush --proto icmp
n=$(flows | jq 'map(select(.proto == "icmp")) | length')
m=$(flows | jq 'map(select(.proto == "tcp")) | length')
if [ "$RC" -eq 0 ] && [ "$n" = 0 ] && [ "$m" -ge 3 ]; then
	ok "ct flush --proto icmp: icmp gone, tcp kept"
else
	fail "ct flush --proto icmp: icmp gone, tcp kept" "exit $RC, $n icmp, $m tcp"
fi
check "ct flush" sl ct flush
if [ "$(flows | jq length)" = 0 ]; then ok "ct flush empties the table"; else
	fail "ct flush empties the table" "$(flows)"
fi

# ---- off: kept, not tracked ----
try_ping "$NS_C" "$S4"
printf 'policy: pass\n' >"$T/off.yaml"
check "apply without conntrack" sl apply -f "$T/off.yaml"
if [[ ",$(status_field "$IF_S" features)," != *,conntrack,* ]]; then
	ok "status: conntrack off"
else
	fail "status: conntrack off" "features '$(status_field "$IF_S" features)'"
fi
n=$(flows | jq length)
try_ping "$NS_C" "$S6"
if [ "$n" -ge 1 ] && [ "$(flows | jq length)" = "$n" ]; then
	ok "off: the table is kept and nothing new is tracked"
else
	fail "off: the table is kept and nothing new is tracked" "$n, then $(flows | jq length)"
fi

# ---- the stateful host policy (rules match ct-state) ----
printf 'rules:\n  - {action: pass, ct-state: established}\n' >"$T/bad.yaml"
run_capture sl apply -f "$T/bad.yaml"
if [ "$RC" -eq 2 ] && [[ "$ERR" == *"ct-state needs the conntrack stage"* ]]; then
	ok "ct-state without conntrack is refused (exit 2)"
else
	fail "ct-state without conntrack is refused (exit 2)" "exit $RC: $ERR"
fi
cat >"$T/stateful.yaml" <<EOF
policy: {in: drop, out: pass}
conntrack: {enabled: true}
rules:
  - {action: pass, ct-state: [established, related]}
  - {action: drop, ct-state: invalid}
  - {action: pass, proto: icmpv6, icmp-type: 135}
  - {action: pass, proto: icmpv6, icmp-type: 136}
  - {action: pass, proto: tcp, dport: $HTTP_PORT, ct-state: new}
EOF
check "apply the stateful policy" sl apply -f "$T/stateful.yaml"
for a in "$S4" "$S6"; do
	if try_curl "$NS_C" "$a" || try_curl "$NS_C" "$a"; then
		ok "stateful: new tcp to $HTTP_PORT passes ($a)"
	else
		fail "stateful: new tcp to $HTTP_PORT passes ($a)" "curl got no answer"
	fi
done
if try_nc "$NS_C" "$NS_S" "$S4"; then
	fail "stateful: new tcp to $NC_PORT is dropped" "got through"
else
	ok "stateful: new tcp to $NC_PORT is dropped"
fi
if try_ping "$NS_C" "$S4"; then
	fail "stateful: ping in is dropped" "answered"
else
	ok "stateful: ping in is dropped"
fi
for a in "$C4" "$C6"; do
	if try_ping "$NS_S" "$a"; then ok "stateful: ping out is answered ($a)"; else
		fail "stateful: ping out is answered ($a)" "no reply"
	fi
done
if try_nc "$NS_S" "$NS_C" "$C4"; then ok "stateful: tcp out passes both ways"; else
	fail "stateful: tcp out passes both ways" "token not received"
fi
udp_echo "$NS_C" "$C4"
if udp_ask "$NS_S" "$C4" 40060; then ok "stateful: udp out is answered"; else
	fail "stateful: udp out is answered" "no reply"
fi
udp_echo "$NS_S" "$S4"
if udp_ask "$NS_C" "$S4" 40061; then
	fail "stateful: new udp in is dropped" "answered"
else
	ok "stateful: new udp in is dropped"
fi
# (the responder above is still waiting: its datagram was dropped)
run_capture sl rule add pass --proto udp --dport "$UDP_PORT" --ct-state new
if [ "$RC" -eq 0 ] && udp_ask "$NS_C" "$S4" 40062; then
	ok "rule add --ct-state new opens udp $UDP_PORT"
else
	fail "rule add --ct-state new opens udp $UDP_PORT" "exit $RC: $ERR"
fi
if sl rule list | grep -q 'ct-state new'; then ok "rule list shows ct-state"; else
	fail "rule list shows ct-state" "$(sl rule list)"
fi
ex=$(sl explain -j --src "$C4" --dst "$S4" --proto tcp --sport 40999 \
	--dport "$HTTP_PORT" --tcp-flags ack)
ex2=$(sl explain -j --src "$C4" --dst "$S4" --proto tcp --sport 40999 \
	--dport "$HTTP_PORT")
if [ "$(echo "$ex" | jq -r '[.ct_state, .action, .rule] | join(" ")')" = "invalid drop 2" ] &&
	[ "$(echo "$ex2" | jq -r '[.ct_state, .action] | join(" ")')" = "new pass" ] &&
	[ "$(sl ct list -j --port 40999 | jq '.flows | length')" = 0 ]; then
	ok "explain shows the ct state (lone ACK invalid, SYN new) and tracks nothing"
else
	fail "explain shows the ct state (lone ACK invalid, SYN new) and tracks nothing" "$ex / $ex2"
fi
sl export >"$T/export2.yaml"
run_capture sl apply -f "$T/export2.yaml"
if [ "$RC" -eq 0 ] && [[ "$OUT" == *unchanged* ]]; then
	ok "stateful: apply of the export is a no-op"
else
	fail "stateful: apply of the export is a no-op" "exit $RC: $OUT $ERR"
fi

# ---- differential check against the kernel's nf_conntrack ----
# An nftables rule on ct state makes the server namespace's netfilter
# track too; the same traffic (TCP open/close, UDP answered and not, ping
# v4 and v6; a refused TCP, which leaves no flow in either) must give the
# same flows with compatible states in `conntrack -L` (conntrack-tools)
# and in `sluice ct list`.
printf 'conntrack: {enabled: true}\n' >"$T/ct.yaml"
check "differential: conntrack on, no rules" sl apply -f "$T/ct.yaml"
ip netns exec "$NS_S" nft -f - <<'EOF'
table inet ctdiff {
	chain in { type filter hook input priority 0; ct state invalid counter; }
	chain out { type filter hook output priority 0; ct state invalid counter; }
}
EOF
sl ct flush >/dev/null
try_curl "$NS_C" "$S4" || try_curl "$NS_C" "$S4"
try_nc "$NS_S" "$NS_C" "$C4"
timeout 5 ip netns exec "$NS_C" nc -z -w 2 "$S4" 7999 # refused: RST
# half-open: the client never sees the server's SYN-ACK (dropped in its
# own namespace), so the server's side stays in SYN_RECV
ip netns exec "$NS_C" nft -f - <<'EOF'
table inet halfopen {
	chain in { type filter hook input priority 0; tcp sport 7100 tcp flags & (syn | ack) == syn | ack drop; }
}
EOF
timeout 6 ip netns exec "$NS_S" nc -l "$S4" 7100 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.3
timeout 3 ip netns exec "$NS_C" nc -w 1 "$S4" 7100 </dev/null >/dev/null 2>&1
udp_echo "$NS_S" "$S4"
udp_ask "$NS_C" "$S4" 40070
udp_ask "$NS_S" "$C4" 40071
try_ping "$NS_C" "$S4"
try_ping "$NS_S" "$C6"
# The kernel's table as conntrack-tools shows it (both families).
if ! command -v conntrack >/dev/null; then
	fail "differential: conntrack-tools is installed" "no 'conntrack' (scripts/deps.sh installs it)"
fi
ip netns exec "$NS_S" conntrack -L -o extended >"$T/kernel.txt" 2>/dev/null
sl ct list -j >"$T/sluice.json"
if out=$("$PY" - "$T/kernel.txt" "$T/sluice.json" <<'EOF'
import ipaddress, json, sys
tcp = {"SYN_SENT": "syn-sent", "SYN_RECV": "syn-recv",
       "ESTABLISHED": "established", "FIN_WAIT": "fin-wait",
       "CLOSE_WAIT": "close-wait", "LAST_ACK": "last-ack",
       "TIME_WAIT": "time-wait", "CLOSE": "close"}
kern = {}
for line in open(sys.argv[1]):
    f = line.split()
    proto = f[2]
    if proto not in ("tcp", "udp", "icmp", "icmpv6"):
        continue
    kv = {}
    for w in f:  # the first (original) tuple only
        if "=" in w and w.split("=")[0] not in kv:
            kv[w.split("=")[0]] = w.split("=")[1]
    src = str(ipaddress.ip_address(kv["src"]))
    dst = str(ipaddress.ip_address(kv["dst"]))
    unrep = "[UNREPLIED]" in f
    if proto == "tcp":
        key, state = (proto, src, dst, int(kv["sport"]), int(kv["dport"])), tcp[f[5]]
    elif proto == "udp":
        key = (proto, src, dst, int(kv["sport"]), int(kv["dport"]))
        state = "unreplied" if unrep else "assured"
    else:
        key = (proto, src, dst, int(kv["id"]))
        state = "echo-request" if unrep else "echo-replied"
    kern[key] = state
ours = {}
for e in json.load(open(sys.argv[2]))["flows"]:
    if e["proto"] in ("tcp", "udp"):
        key = (e["proto"], e["src"], e["dst"], e["sport"], e["dport"])
    else:
        key = (e["proto"], e["src"], e["dst"], e["id"])
    ours[key] = e["state"]
bad = []
for k in sorted(set(kern) | set(ours), key=str):
    if kern.get(k) != ours.get(k):
        bad.append("%s: kernel %s, sluice %s" % (k, kern.get(k), ours.get(k)))
half = [k for k, v in kern.items() if k[0] == "tcp" and k[4] == 7100]
if not half or kern[half[0]] != "syn-recv":
    bad.append("the half-open flow to port 7100 is not syn-recv in the kernel: %s" % half)
print("; ".join(bad) if bad else "%d flows agree" % len(kern))
sys.exit(1 if bad or len(kern) < 7 else 0)
EOF
); then
	ok "differential: the kernel's nf_conntrack and sluice agree ($out)"
else
	fail "differential: the kernel's nf_conntrack and sluice agree" "$out"
fi
ip netns exec "$NS_S" nft delete table inet ctdiff

# ---- window tracking: bulk TCP both ways is never invalid ----
# With drop-invalid, a 20 MB download (IPv4 and IPv6; window scaling,
# SACK, timestamps as the kernel negotiates them) and a 20 MB upload
# arrive whole, and no packet counts as ct-invalid.
printf 'conntrack:\n  enabled: true\n  drop-invalid: true\n' >"$T/ctw.yaml"
check "apply conntrack with drop-invalid" sl apply -f "$T/ctw.yaml"
head -c 20000000 /dev/urandom >"$T/www/big.bin"
want=$(sha256sum <"$T/www/big.bin" | cut -d' ' -f1)
inv0=$(sl stats -j | jq '.reasons["ct-invalid"].drop.packets')
for a in "$S4" "[$S6]"; do
	got=$(timeout 60 ip netns exec "$NS_C" curl -sS -g --max-time 50 "http://$a:$HTTP_PORT/big.bin" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok "20 MB download from $a arrives whole through drop-invalid" ||
		fail "20 MB download from $a arrives whole through drop-invalid" "sha256 $got"
done
timeout 60 ip netns exec "$NS_S" nc -l "$S4" 7300 >"$T/up.bin" 2>/dev/null &
upid=$!
for _ in $(seq 30); do
	ip netns exec "$NS_S" ss -Htln "sport = :7300" | grep -q . && break
	sleep 0.1
done
timeout 50 ip netns exec "$NS_C" nc -N -w 5 "$S4" 7300 <"$T/www/big.bin" >/dev/null 2>&1
wait "$upid" 2>/dev/null
got=$(sha256sum <"$T/up.bin" | cut -d' ' -f1)
[ "$got" = "$want" ] && ok "20 MB upload arrives whole through drop-invalid" ||
	fail "20 MB upload arrives whole through drop-invalid" "$(stat -c %s "$T/up.bin") bytes"
inv1=$(sl stats -j | jq '.reasons["ct-invalid"].drop.packets')
[ "$inv1" = "$inv0" ] && ok "no packet of the transfers was invalid ($inv0 -> $inv1)" ||
	fail "no packet of the transfers was invalid" "ct-invalid drops $inv0 -> $inv1"
rm -f "$T/www/big.bin" "$T/up.bin"

# ---- read-only verbs create no state ----
mkdir -p "$T/ro"
sl_ro() { timeout 20 ip netns exec "$NS_S" "$SLUICE" --bpffs "$T/ro" "$@"; }
if out=$(sl_ro ct list -j) && [ "$(echo "$out" | jq '.flows | length')" = 0 ] &&
	sl_ro ct stats >/dev/null && [ ! -e "$T/ro/sluice" ]; then
	ok "ct list and stats on no state create none"
else
	fail "ct list and stats on no state create none" "$(ls -A "$T/ro")"
fi
finish
