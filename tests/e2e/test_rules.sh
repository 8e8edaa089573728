#!/usr/bin/env bash
# Rules end to end, with the real CLI, real traffic and both hooks:
# - a rule dropping egress TCP to port 80 (TC egress on the server) stops
#   curl from the server to the client's port 80, while the client's curl
#   to the server's port 80 still works (IPv4 and IPv6);
# - an ARP drop at TC ingress (--hooks tc): IPv4 stops, IPv6 still works;
# - rule add/del/list with ids, comments and moving counters;
# - apply: a broken file is refused with FILE:LINE:COL and changes nothing;
#   export | apply is a no-op; apply --dry-run changes nothing;
# - the switch under traffic: two configs alternate N times while a flow
#   both allow is pinged (zero loss) and a flow only one allows is sent
#   continuously; it is never received while the other config runs.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

HTTP_PORT=80
if ! lab_up || ! http_up "$NS_C"; then
	fail "lab is built" "namespaces, veth or HTTP servers failed"
	finish
fi

# curl_ok NS DST: the page on DST:80 is fetched.
curl_ok() { try_curl "$1" "$2"; }

# expect NAME WANT(pass|drop) CMD...
expect() {
	local name=$1 want=$2
	shift 2
	if "$@" || "$@"; then
		[ "$want" = pass ] && ok "$name" || fail "$name" "got through"
	else
		[ "$want" = drop ] && ok "$name" || fail "$name" "was dropped"
	fi
}

# ---- egress TCP/80, both hooks ----
check "attach --hooks xdp,tc" sl attach "$IF_S" --hooks xdp,tc
run_capture sl rule add drop --direction out --proto tcp --dport 80 \
	--comment "no plain http out"
if [ "$RC" -eq 0 ] && [[ "$OUT" == "rule 1 added" ]]; then
	ok "rule add prints the new id"
else
	fail "rule add prints the new id" "exit $RC: $OUT $ERR"
fi
expect "egress tcp/80 v4: server's curl to the client is dropped" drop \
	curl_ok "$NS_S" "$C4"
expect "egress tcp/80 v6: server's curl to the client is dropped" drop \
	curl_ok "$NS_S" "$C6"
expect "reverse v4: client's curl to the server's port 80 works" pass \
	curl_ok "$NS_C" "$S4"
expect "reverse v6: client's curl to the server's port 80 works" pass \
	curl_ok "$NS_C" "$S6"
pk=$(sl rule list -j | jq '.rules[] | select(.id == 1) | .packets')
if [ "${pk:-0}" -gt 0 ]; then ok "rule 1 counted the dropped SYNs ($pk)"; else
	fail "rule 1 counted the dropped SYNs" "packets=${pk:-none}"
fi
cm=$(sl rule list -j | jq -r '.rules[0].comment')
[ "$cm" = "no plain http out" ] && ok "rule list -j shows the comment" ||
	fail "rule list -j shows the comment" "got '$cm'"

# An ingress rule with an interface and a port range, then deleted.
check "rule add drop in tcp 80-81 on the server interface" \
	sl rule add drop --direction in --proto tcp --dport 80-81 --iface "$IF_S" --id 7
expect "ingress tcp/80 dropped at XDP" drop curl_ok "$NS_C" "$S4"
check "rule del 7" sl rule del 7
expect "ingress tcp/80 works after rule del" pass curl_ok "$NS_C" "$S4"
run_capture sl rule del 7
[ "$RC" -eq 2 ] && ok "rule del of a missing id exits 2" ||
	fail "rule del of a missing id exits 2" "exit $RC"
check "rule del 1" sl rule del 1
expect "egress tcp/80 works after rule del 1" pass curl_ok "$NS_S" "$C4"

# ---- ARP drop at TC ingress ----
check "attach --hooks tc (ingress in TC)" sl attach "$IF_S" --hooks tc
if [ -z "$(xdp_prog_id "$NS_S" "$IF_S")" ]; then ok "no XDP program with --hooks tc"; else
	fail "no XDP program with --hooks tc" "prog $(xdp_prog_id "$NS_S" "$IF_S")"
fi
check "rule add drop proto arp in" sl rule add drop --proto arp --direction in --id 9
ip -n "$NS_C" neigh flush dev "$IF_C"
ip -n "$NS_S" neigh flush dev "$IF_S"
expect "arp dropped at tc ingress: v4 ping fails" drop try_ping "$NS_C" "$S4"
expect "v6 (neighbour discovery, not arp) still works" pass try_ping "$NS_C" "$S6"
pk=$(sl rule list -j | jq '.rules[] | select(.id == 9) | .packets')
if [ "${pk:-0}" -gt 0 ]; then ok "arp rule counted ($pk)"; else
	fail "arp rule counted" "packets=${pk:-none}"
fi
check "rule del 9" sl rule del 9
expect "v4 ping works after the arp rule is gone" pass try_ping "$NS_C" "$S4"

# ---- apply, errors, export round trip ----
cat >"$T/block.txt" <<EOF
# a published block list
198.18.0.1
2001:db8::1/128
EOF
cat >"$T/a.yaml" <<EOF
interfaces:
  - name: $IF_S
    hooks: [xdp, tc]
policy: {in: pass, out: pass}
deny:
  - {file: block.txt}
rules:
  - id: 3
    action: drop
    direction: out
    proto: tcp
    dport: 80
    comment: "egress http"
EOF
check "apply a.yaml" sl apply -f "$T/a.yaml"
expect "block list from a file: client's ping dropped" drop try_ping "$NS_C" "$S4"
check "export" sh -c "timeout 60 ip netns exec $NS_S $SLUICE --bpffs $BPF export >$T/exp1.yaml"
before=$(cat "$T/exp1.yaml")

printf 'rules:\n  - id: 3\n    action: drop\n    dport: 99999\n' >"$T/bad.yaml"
run_capture sl apply -f "$T/bad.yaml"
if [ "$RC" -eq 2 ] && [[ "$ERR" == *"bad.yaml:4:"* ]] && [ "$(wc -l <"$T/err")" -eq 1 ]; then
	ok "bad file: exit 2, one line naming bad.yaml:4:COL"
else
	fail "bad file: exit 2, one line naming bad.yaml:4:COL" "exit $RC: $ERR"
fi
printf 'rules:\n  - id: 3\n    action: drop\n   bad indent: [\n' >"$T/bad2.yaml"
run_capture sl apply -f "$T/bad2.yaml"
[ "$RC" -eq 2 ] && [[ "$ERR" == *"bad2.yaml:"*:* ]] && ok "yaml syntax error: exit 2 with position" ||
	fail "yaml syntax error: exit 2 with position" "exit $RC: $ERR"
[ "$(sl export)" = "$before" ] && ok "refused applies changed nothing (export identical)" ||
	fail "refused applies changed nothing (export identical)" "export differs"

run_capture sl apply -f "$T/exp1.yaml"
[ "$RC" -eq 0 ] && [[ "$OUT" == *unchanged* ]] && ok "apply of export is a no-op" ||
	fail "apply of export is a no-op" "exit $RC: $OUT $ERR"
[ "$(sl export)" = "$before" ] && ok "export after apply of export is identical" ||
	fail "export after apply of export is identical" "differs"

sed 's/dport: 80/dport: 81/' "$T/a.yaml" >"$T/a2.yaml"
run_capture sl apply -f "$T/a2.yaml" --dry-run
[ "$RC" -eq 0 ] && [[ "$OUT" == *"dry run"* ]] && [ "$(sl export)" = "$before" ] &&
	ok "apply --dry-run validates and changes nothing" ||
	fail "apply --dry-run validates and changes nothing" "exit $RC: $OUT $ERR"

# Set verbs after an apply work on the sets the applied config uses.
check "block after apply" sl block 198.18.5.5
n=$(sl block --list -j | jq length)
[ "$n" = 3 ] && ok "block --list after apply shows the file's 2 entries and the new one" ||
	fail "block --list after apply shows the file's 2 entries and the new one" "got $n"
check "unblock after apply" sl unblock 198.18.5.5

# ---- the switch under traffic ----
# A: policy pass, nothing else. B: drops udp/7003 at ingress. Both allow
# ping. The receiver logs the arrival time of each udp/7003 datagram; the
# applier logs when each apply started and returned.
printf 'interfaces:\n  - name: %s\n    hooks: [xdp, tc]\npolicy: pass\n' "$IF_S" >"$T/A.yaml"
cat "$T/A.yaml" >"$T/B.yaml"
printf 'rules:\n  - {id: 50, action: drop, direction: in, proto: udp, dport: 7003}\n' >>"$T/B.yaml"
check "apply A" sl apply -f "$T/A.yaml"
timeout 60 ip netns exec "$NS_S" "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.2", 7003)); s.settimeout(0.5)
end = time.time() + 40
with open(sys.argv[1], "w") as f:
    while time.time() < end:
        try:
            d, _ = s.recvfrom(64)
        except socket.timeout:
            continue
        if d == b"stop":
            break
        f.write("%.6f\n" % time.time()); f.flush()
' "$T/rx.log" &
rx=$!
PIDS+=($rx)
sleep 0.3
timeout 60 ip netns exec "$NS_C" "$PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 12
while time.time() < end:
    s.sendto(b"x", ("198.18.0.2", 7003)); time.sleep(0.001)
' &
tx=$!
PIDS+=($tx)
timeout 30 ip netns exec "$NS_C" ping -q -n -i 0.01 -c 1000 "$S4" >"$T/ping.out" 2>&1 &
pp=$!
PIDS+=($pp)
N=${SLUICE_E2E_SWAPS:-20}
: >"$T/phases"
for i in $(seq "$N"); do
	f=$T/B.yaml
	[ $((i % 2)) -eq 0 ] && f=$T/A.yaml
	t0=$(date +%s.%N)
	sl apply -f "$f" >/dev/null 2>&1 || echo "apply failed" >>"$T/phases"
	echo "$(basename "$f" .yaml) $t0 $(date +%s.%N)" >>"$T/phases"
	sleep 0.2
done
wait "$pp"
ping_rc=$?
wait "$tx"
echo stop | timeout 5 ip netns exec "$NS_C" nc -u -w 1 198.18.0.2 7003 >/dev/null 2>&1
sl apply -f "$T/A.yaml" >/dev/null 2>&1
echo stop | timeout 5 ip netns exec "$NS_C" nc -u -w 1 198.18.0.2 7003 >/dev/null 2>&1
wait "$rx" 2>/dev/null
grep -q "apply failed" "$T/phases" && fail "$N applies under traffic" "an apply failed" ||
	ok "$N applies under traffic succeeded"
loss=$(grep -o '[0-9.]*% packet loss' "$T/ping.out" | cut -d% -f1)
if [ "$ping_rc" -eq 0 ] && [ "$loss" = 0 ]; then
	ok "flow allowed by both configs lost nothing ($(grep -o '[0-9]* received' "$T/ping.out"))"
else
	fail "flow allowed by both configs lost nothing" "$(tail -n2 "$T/ping.out" | head -n1)"
fi
# Every udp/7003 arrival must fall outside the time B was running: after a
# B apply returned and before the next A apply started (5 ms margin for a
# datagram already past XDP when the switch returned).
bad=$("$PY" - "$T/phases" "$T/rx.log" <<'EOF'
import sys
ph = [l.split() for l in open(sys.argv[1]) if l[0] in "AB"]
rx = [float(x) for x in open(sys.argv[2])]
win = []
for i, (n, s, e) in enumerate(ph):
    if n == "B":
        end = float(ph[i + 1][1]) if i + 1 < len(ph) else 1e18
        win.append((float(e) + 0.005, end))
inside = sum(1 for t in rx for a, b in win if a <= t < b)
print(inside, len(rx), len(win))
EOF
)
set -- $bad
if [ "${1:-1}" -eq 0 ] && [ "${2:-0}" -gt 100 ] && [ "${3:-0}" -gt 0 ]; then
	ok "flow allowed only by A never received while B ran ($2 received, $3 B periods)"
else
	fail "flow allowed only by A never received while B ran" \
		"inside=${1:-?} received=${2:-?} B periods=${3:-?}"
fi
finish
