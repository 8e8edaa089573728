#!/usr/bin/env bash
# Upgrading from the previous release (aec7dfe, the last one CI landed,
# pinned layout 6; test_upgrade_chain.sh runs the same from 96e9eea,
# layout 5, through the 5 -> 6 step chained with 6 -> 7) keeps the
# runtime state and the traffic: that release runs a stateful host
# (policy in: drop, established and related pass, new TCP to one port)
# with a live TCP connection carrying a line every 50 ms, a ban and
# counters; this build's `attach` then upgrades the state (layout 7: the
# counters gain a hook dimension, the older counts carried under the hook
# "unknown"; from layout 5 also the connection table converted: its value
# gained the TCP windows) and moves the interface to its own programs
# mid-stream. The connection must carry on (its packets are only let in
# as an established flow of the carried table), every flow, the ban and
# the counters must still be there (the carried ones under "unknown", the
# new programs' under xdp), and the new programs' own stage (SYN cookies)
# works afterwards. Namespaces us-PID-*.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

PREV_RELEASE=${UPGRADE_FROM:-aec7dfe}
lab_names "us-$$"
PORT=7020

if ! lab_up || ! ip -n "$NS_C" link set dev "$IF_C" xdp obj \
	"$(dirname "$SLUICE")/xdp_empty.bpf.o" sec xdp 2>/dev/null &&
	! ip -n "$NS_C" link set dev "$IF_C" xdp obj "$ROOT_DIR/build/xdp_empty.bpf.o" sec xdp; then
	fail "lab is built" "namespaces, veth, XDP on the client or HTTP failed"
	finish
fi

mkdir -p "$T/prev"
if git -C "$ROOT_DIR" archive "$PREV_RELEASE" | tar -x -C "$T/prev" &&
	make -C "$T/prev" -j2 build/sluice >"$T/prev.log" 2>&1; then
	ok "the previous release ($PREV_RELEASE) builds from git history"
else
	fail "the previous release ($PREV_RELEASE) builds" "$(tail -n 3 "$T/prev.log")"
	finish
fi
PREV=$T/prev/build/sluice
with() {
	local bin=$1
	shift
	timeout 60 ip netns exec "$NS_S" "$bin" --bpffs "$BPF" "$@"
}

# ---- the previous release: a stateful host ----
cat >"$T/host.yaml" <<EOF
policy: {in: drop, out: pass}
conntrack: {enabled: true}
rules:
  - {action: pass, ct-state: [established, related]}
  - {action: pass, proto: tcp, dport: $PORT, ct-state: new}
  - {action: pass, proto: tcp, dport: $HTTP_PORT, ct-state: new}
  - {action: pass, proto: icmp}
  - {action: pass, proto: icmpv6}
EOF
check "previous release: attach $IF_S" with "$PREV" attach "$IF_S"
check "previous release: apply the stateful host" with "$PREV" apply -f "$T/host.yaml"
check "previous release: ban 198.18.0.99 for 10m" with "$PREV" ban add 198.18.0.99 --for 10m
try_curl "$NS_C" "$S4" && try_curl "$NS_C" "$S6"
flows_before=$(with "$PREV" ct list -j | jq -c '[.flows[] | select(.proto == "tcp") | {src, dst, dport, state}] | sort')
pass_before=$(with "$PREV" stats -j | jq '.reasons.rule.pass.packets // 0')

# A long TCP connection: the client sends a numbered line every 50 ms for
# 8 s; the server writes what it receives.
timeout 20 ip netns exec "$NS_S" "$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
c, _ = s.accept()
with open(sys.argv[3], "wb") as f:
    while True:
        d = c.recv(4096)
        if not d:
            break
        f.write(d)
        f.flush()
' "$S4" "$PORT" "$T/stream.got" &
PIDS+=($!)
sleep 0.5
timeout 20 ip netns exec "$NS_C" "$PY" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
for i in range(160):
    s.sendall(b"line %d\n" % i)
    time.sleep(0.05)
s.close()
' "$S4" "$PORT" 2>"$T/stream.err" &
CPID=$!
PIDS+=("$CPID")
sleep 3

# ---- this build takes over mid-stream ----
run_capture with "$SLUICE" attach "$IF_S"
if [ "$RC" = 0 ]; then ok "this build's attach moves $IF_S to its programs"; else
	fail "this build's attach moves $IF_S to its programs" "exit $RC: $ERR"
fi
wait "$CPID"
crc=$?
got=$(grep -c '^line ' "$T/stream.got" 2>/dev/null)
if [ "$crc" = 0 ] && [ "$got" = 160 ]; then
	ok "the TCP connection carried on through the upgrade (160/160 lines, established flow let in)"
else
	fail "the TCP connection carried on through the upgrade" "client exit $crc, $got/160 lines: $(cat "$T/stream.err")"
fi

flows_after=$(sl ct list -j | jq -c '[.flows[] | select(.proto == "tcp") | {src, dst, dport, state}] | sort')
if [ -n "$flows_before" ] && [ "$flows_before" != "[]" ] &&
	jq -e --argjson a "$flows_before" --argjson b "$flows_after" \
		'$a | all(. as $f | $b | any(.src == $f.src and .dst == $f.dst and .dport == $f.dport))' \
		<<<null >/dev/null; then
	ok "every flow of the previous release is still in the table ($(jq length <<<"$flows_before") TCP)"
else
	fail "every flow of the previous release is still in the table" "before $flows_before; after $flows_after"
fi
if sl ban list -j | jq -e '[.[] | select(.prefix == "198.18.0.99/32" and .expires_in > 500)] | length == 1' >/dev/null; then
	ok "the ban and its expiry are kept"
else
	fail "the ban and its expiry are kept" "$(sl ban list -j)"
fi
st=$(sl stats -j)
pass_after=$(jq '.reasons.rule.pass.packets // 0' <<<"$st")
if [ "$pass_after" -ge "$pass_before" ] && [ "$pass_before" -gt 0 ]; then
	ok "the counters are kept (rule/pass $pass_before -> $pass_after)"
else
	fail "the counters are kept" "rule/pass $pass_before -> $pass_after"
fi
# The old programs' counts (up to their last packet) under "unknown", the
# new programs' (the rest of the stream) under xdp; the hooks make the
# total.
unk=$(jq '.hooks.unknown.reasons.rule.pass.packets // 0' <<<"$st")
xdp=$(jq '.hooks.xdp.reasons.rule.pass.packets // 0' <<<"$st")
sum=$(jq '[.hooks[].reasons.rule.pass.packets // 0] | add' <<<"$st")
if [ "$unk" -ge "$pass_before" ] && [ "$xdp" -gt 0 ] && [ "$sum" = "$pass_after" ] &&
	[ "$(jq '.hooks["tc-in"].packets' <<<"$st")" = 0 ]; then
	ok "carried counts under hook unknown ($unk >= $pass_before), the new programs' under xdp ($xdp)"
else
	fail "carried counts under hook unknown, the new programs' under xdp" \
		"before $pass_before, unknown $unk, xdp $xdp, total $pass_after"
fi
if try_curl "$NS_C" "$S4" && try_curl "$NS_C" "$S6"; then
	ok "new connections pass after the upgrade (IPv4, IPv6)"
else
	fail "new connections pass after the upgrade" "curl failed"
fi

# ---- the new programs' own stage ----
printf '%s\n' "synproxy: {ports: [$HTTP_PORT]}" >>"$T/host.yaml"
check "apply with synproxy (this build)" sl apply -f "$T/host.yaml"
c0=$(sl stats -j | jq '.reasons["syn-cookie"].packets // 0')
if try_curl "$NS_C" "$S4" && try_curl "$NS_C" "$S6" &&
	[ "$(sl stats -j | jq '.reasons["syn-cookie"].packets // 0')" -ge $((c0 + 2)) ]; then
	ok "SYN cookies answer from XDP after the upgrade"
else
	fail "SYN cookies answer from XDP after the upgrade" "syn-cookie $c0 -> $(sl stats -j | jq '.reasons["syn-cookie"].packets')"
fi

finish
