#!/usr/bin/env bash
# stats: after N pings dropped by a blocked prefix, `stats -j` shows
# reasons.deny-set.packets >= N and the entry's packets >= N; the other
# reasons (pass, non-ip, malformed-l3/l4) count what they decided; the
# totals add up, also over the hooks (the drops at xdp); --watch prints one JSON document per interval.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

N=20

if ! lab_up; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi
check "attach" sl attach "$IF_S"

st=$(sl stats -j 2>&1)
if echo "$st" | jq -e '.reasons | has("pass") and has("non-ip") and has("allow-set") and has("deny-set") and has("malformed-l2") and has("malformed-l3") and has("malformed-l4")' >/dev/null 2>&1; then
	ok "stats -j lists every reason"
else
	fail "stats -j lists every reason" "$st"
fi
if echo "$st" | jq -e '.actions | has("pass") and has("drop")' >/dev/null 2>&1 &&
	echo "$st" | jq -e '.reasons["deny-set"] | has("packets") and has("bytes") and (.pass | has("packets")) and (.drop | has("bytes"))' >/dev/null 2>&1; then
	ok "stats -j has actions and per-reason pass/drop counters"
else
	fail "stats -j has actions and per-reason pass/drop counters" "$st"
fi

# Passed traffic (forcing ARP so that non-IP frames are seen too).
ip -n "$NS_C" neigh flush dev "$IF_C"
timeout 20 ip netns exec "$NS_C" ping -q -n -c "$N" -i 0.05 -W 1 "$S4" >/dev/null 2>&1
st=$(sl stats -j 2>&1)
if echo "$st" | jq -e --argjson n "$N" '.reasons.pass.pass.packets >= $n and .reasons.pass.drop.packets == 0' >/dev/null 2>&1; then
	ok "$N passed pings count under reason pass"
else
	fail "$N passed pings count under reason pass" "$(echo "$st" | jq -c .reasons.pass 2>/dev/null || echo "$st")"
fi
if echo "$st" | jq -e '.reasons["non-ip"].pass.packets > 0' >/dev/null 2>&1; then
	ok "ARP counts under reason non-ip, passed"
else
	fail "ARP counts under reason non-ip, passed" "$(echo "$st" | jq -c '.reasons["non-ip"]' 2>/dev/null || echo "$st")"
fi

# Dropped traffic.
check "block 198.18.0.0/24" sl block 198.18.0.0/24
before=$(sl stats -j | jq '.reasons["deny-set"].packets')
out=$(timeout 30 ip netns exec "$NS_C" ping -n -c "$N" -i 0.05 -W 1 "$S4" 2>&1)
rx=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
if [ "${rx:-x}" = 0 ]; then ok "$N pings to a blocked prefix get no reply"; else
	fail "$N pings to a blocked prefix get no reply" "$(echo "$out" | tail -n2 | head -n1)"
fi
st=$(sl stats -j 2>&1)
ds=$(echo "$st" | jq '.reasons["deny-set"].packets' 2>/dev/null)
if [ -n "$ds" ] && [ "$ds" -ge "$N" ] 2>/dev/null; then
	ok "reasons.deny-set.packets >= $N"
else
	fail "reasons.deny-set.packets >= $N" "got '$ds' (before: $before)"
fi
if echo "$st" | jq -e --argjson n "$N" '.reasons["deny-set"].drop.packets >= $n and .reasons["deny-set"].pass.packets == 0 and .reasons["deny-set"].bytes >= 84 * $n' >/dev/null 2>&1; then
	ok "deny-set drops counted under action drop, with bytes"
else
	fail "deny-set drops counted under action drop, with bytes" "$(echo "$st" | jq -c '.reasons["deny-set"]' 2>/dev/null)"
fi
if echo "$st" | jq -e --argjson n "$N" '.actions.drop.packets >= $n' >/dev/null 2>&1; then
	ok "actions.drop.packets >= $N"
else
	fail "actions.drop.packets >= $N" "$(echo "$st" | jq -c .actions 2>/dev/null)"
fi
e=$(echo "$st" | jq -c '[.entries[] | select(.set == "deny" and .dir == "src" and .prefix == "198.18.0.0/24")][0]' 2>/dev/null)
if echo "$e" | jq -e --argjson n "$N" '.packets >= $n and .bytes >= 84 * $n' >/dev/null 2>&1; then
	ok "entry deny src 198.18.0.0/24 has packets >= $N"
else
	fail "entry deny src 198.18.0.0/24 has packets >= $N" "entry: $e"
fi
bl=$(sl block --list -j | jq -c '.[] | select(.prefix == "198.18.0.0/24") | [.packets, .bytes]')
if [ "$bl" = "$(echo "$e" | jq -c '[.packets, .bytes]')" ]; then
	ok "block --list -j shows the same entry counters"
else
	fail "block --list -j shows the same entry counters" "list $bl, stats $e"
fi
if echo "$st" | jq -e '([.actions[].packets] | add) == ([.reasons[].packets] | add) and ([.reasons[] | .pass.packets + .drop.packets == .packets] | all)' >/dev/null 2>&1; then
	ok "totals by action and by reason add up"
else
	fail "totals by action and by reason add up" "$(echo "$st" | jq -c '{actions, reasons}' 2>/dev/null)"
fi
# The hooks: the deny-set drops at the XDP hook (the sets judge ingress),
# nothing at tc-in (not attached: XDP takes ingress), nothing carried
# (never upgraded); every reason/action count is the sum of its hooks'.
if echo "$st" | jq -e --argjson n "$N" '.hooks.xdp.reasons["deny-set"].drop.packets >= $n and
	(.hooks["tc-out"].reasons["deny-set"] // {packets: 0}).packets == 0 and
	.hooks["tc-in"].packets == 0 and .hooks.unknown.packets == 0 and .hooks["tc-out"].packets > 0' >/dev/null 2>&1; then
	ok "hooks: deny-set drops at xdp, none at tc-in or tc-out, replies at tc-out, nothing unknown"
else
	fail "hooks: deny-set drops at xdp, none at tc-in or tc-out, replies at tc-out, nothing unknown" \
		"$(echo "$st" | jq -c '.hooks | map_values({packets, ds: .reasons["deny-set"]})' 2>/dev/null)"
fi
bad=$(echo "$st" | jq -r '. as $s | [$s.reasons | to_entries[] | .key as $r | .value | to_entries[]
	| select(.value | type == "object") | .key as $a
	| select(.value.packets != ([$s.hooks[] | .reasons[$r][$a].packets // 0] | add)
		or .value.bytes != ([$s.hooks[] | .reasons[$r][$a].bytes // 0] | add)) | "\($r)/\($a)"]
	+ [$s.actions | to_entries[] | .key as $a
	| select(.value.packets != ([$s.hooks[] | .actions[$a].packets] | add)) | "action \($a)"]
	| join(",")' 2>&1)
if [ -z "$bad" ]; then
	ok "every reason/action and action count is the sum of its hooks'"
else
	fail "every reason/action and action count is the sum of its hooks'" "$bad"
fi

# IPv6 entry. Blocking the /64 also drops the client's neighbour
# solicitations, so resolve the server first: the echo requests then go out.
try_ping "$NS_C" "$S6"
check "block 2001:db8::/64" sl block 2001:db8::/64
timeout 30 ip netns exec "$NS_C" ping -q -n -c "$N" -i 0.05 -W 1 "$S6" >/dev/null 2>&1
e6=$(sl stats -j | jq -c '[.entries[] | select(.prefix == "2001:db8::/64")][0]')
if echo "$e6" | jq -e --argjson n "$N" '.packets >= $n and .set == "deny" and .dir == "src"' >/dev/null 2>&1; then
	ok "entry deny src 2001:db8::/64 has packets >= $N"
else
	fail "entry deny src 2001:db8::/64 has packets >= $N" "entry: $e6"
fi

# Text output names the reason and the entry.
txt=$(sl stats 2>&1)
if echo "$txt" | grep -q 'deny-set' && echo "$txt" | grep -q '198.18.0.0/24' &&
	echo "$txt" | grep -q '^HOOK  *ACTION' && echo "$txt" | grep -Eq '^xdp +drop +[1-9]'; then
	ok "text stats show reason deny-set, the entry and the drops at hook xdp"
else
	fail "text stats show reason deny-set, the entry and the drops at hook xdp" "$(echo "$txt" | grep -v "^ *$" | tr '\n' '|')"
fi

# Malformed frames crafted on the client's veth: truncated IPv4 header
# (malformed-l3) and a 4-byte TCP header (malformed-l4), 5 of each.
check "unblock both" sl unblock 198.18.0.0/24 2001:db8::/64
smac=$(ip -n "$NS_C" -j link show dev "$IF_C" | jq -r '.[0].address')
dmac=$(ip -n "$NS_S" -j link show dev "$IF_S" | jq -r '.[0].address')
m0=$(sl stats -j)
timeout 10 ip netns exec "$NS_C" "$PY" - "$IF_C" "$smac" "$dmac" <<'EOF'
import socket, struct, sys
ifname, smac, dmac = sys.argv[1:4]
mac = lambda m: bytes.fromhex(m.replace(":", ""))
eth = mac(dmac) + mac(smac) + b"\x08\x00"
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF
def ip4(proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64,
                    proto, 0, socket.inet_aton("198.18.0.1"),
                    socket.inet_aton("198.18.0.2"))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
for _ in range(5):
    s.send(eth + ip4(6, b"")[:12])              # IPv4 header cut at 12 bytes
    s.send(eth + ip4(6, b"\x30\x39\x1f\x90"))    # TCP header of 4 bytes
EOF
sleep 0.2
m1=$(sl stats -j)
for r in malformed-l3 malformed-l4; do
	d=$(jq -n --argjson a "$m0" --argjson b "$m1" --arg r "$r" '$b.reasons[$r].drop.packets - $a.reasons[$r].drop.packets' 2>/dev/null)
	if [ -n "$d" ] && [ "$d" -ge 5 ] 2>/dev/null; then
		ok "5 crafted frames counted as $r, dropped"
	else
		fail "5 crafted frames counted as $r, dropped" "delta '$d': $(echo "$m1" | jq -c --arg r "$r" '.reasons[$r]' 2>/dev/null)"
	fi
done

# --watch 1 --count 2: two JSON documents, one per line, about 1 s apart.
w=$(timeout 10 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" stats -j --watch 1 --count 2 2>&1)
rc=$?
if [ "$rc" = 0 ] && [ "$(echo "$w" | wc -l)" = 2 ] &&
	[ "$(echo "$w" | jq -s 'length' 2>/dev/null)" = 2 ]; then
	ok "stats -j --watch 1 --count 2 prints two JSON lines"
else
	fail "stats -j --watch 1 --count 2 prints two JSON lines" "exit $rc, $(echo "$w" | wc -l) lines"
fi

# Rates: under a ping flood of about 50 pps from the client, the second
# print of --watch has pps and bps (the first has none: no interval).
ip netns exec "$NS_C" ping -q -n -i 0.02 -c 150 -W 1 "$S4" >/dev/null 2>&1 &
ppid=$!
w=$(timeout 10 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" stats -j --watch 1 --count 2 2>&1)
t=$(timeout 10 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" stats --watch 1 --count 2 2>&1)
wait "$ppid" 2>/dev/null
first=$(echo "$w" | head -n1) second=$(echo "$w" | sed -n 2p)
if echo "$first" | jq -e '(.interval == null) and (.actions.pass.pps == null)' >/dev/null 2>&1 &&
	echo "$second" | jq -e '.interval > 0.5 and .actions.pass.pps >= 20 and .actions.pass.pps <= 200 and .actions.pass.bps > 0 and .reasons.pass.pps >= 20' >/dev/null 2>&1; then
	ok "stats -j --watch: pps and bps from the second print (ping at 50 pps)"
else
	fail "stats -j --watch: pps and bps from the second print (ping at 50 pps)" "$(echo "$second" | jq -c '{interval, pass: .actions.pass}' 2>/dev/null || echo "$w")"
fi
if echo "$t" | grep -q '^ACTION  *PACKETS  *BYTES  *PPS  *BPS' &&
	echo "$t" | awk '/^--- /{n++} n==2 && $1=="pass" && NF==5 && $4 != "-" {f=1} END{exit !f}'; then
	ok "stats --watch prints PPS and BPS columns"
else
	fail "stats --watch prints PPS and BPS columns" "$t"
fi
# --zero: every counter goes to zero; the entries, the rules and the
# attachment stay, and counting starts again from zero.
check "rule add pass icmp (counts)" sl rule add pass --proto icmp --comment zero-test
check "block 198.18.0.0/24 again" sl block 198.18.0.0/24
timeout 30 ip netns exec "$NS_C" ping -q -n -c 5 -i 0.05 -W 1 "$S4" >/dev/null 2>&1
check "unblock 198.18.0.0/24" sl unblock 198.18.0.0/24
check "block 198.18.7.0/24 (another entry)" sl block 198.18.7.0/24
timeout 30 ip netns exec "$NS_C" ping -q -n -c 5 -i 0.05 -W 1 "$S4" >/dev/null 2>&1
check "block 198.18.0.0/24" sl block 198.18.0.0/24
timeout 30 ip netns exec "$NS_C" ping -q -n -c 5 -i 0.05 -W 1 "$S4" >/dev/null 2>&1
z0=$(sl stats -j)
if echo "$z0" | jq -e '.reasons["deny-set"].packets > 0 and ([.rules[] | select(.comment == "zero-test")][0].packets > 0) and ([.interfaces[].in.pass.packets] | add) > 0' >/dev/null 2>&1; then
	ok "before --zero: deny-set, the rule and the interface counted"
else
	fail "before --zero: deny-set, the rule and the interface counted" "$(echo "$z0" | jq -c '{d: .reasons["deny-set"], r: .rules, i: .interfaces}' 2>/dev/null)"
fi
zj=$(sl stats --zero -j 2>&1)
if echo "$zj" | jq -e '.zeroed.verdicts == true and .zeroed.interfaces >= 1 and .zeroed.rules == 1 and .zeroed.set_entries >= 1' >/dev/null 2>&1; then
	ok "stats --zero -j says what it zeroed"
else
	fail "stats --zero -j says what it zeroed" "$zj"
fi
z1=$(sl stats -j)
if echo "$z1" | jq -e '.reasons["deny-set"].packets == 0 and .reasons.rule.packets == 0 and ([.rules[].packets] | add // 0) == 0 and ([.entries[].packets] | add // 0) == 0 and ([.interfaces[] | .in[], .out[] | .packets] | add) <= 4' >/dev/null 2>&1; then
	ok "after --zero: reasons, rules, entries and interfaces at zero"
else
	fail "after --zero: reasons, rules, entries and interfaces at zero" "$(echo "$z1" | jq -c '{d: .reasons["deny-set"], r: [.rules[].packets], e: [.entries[].packets], i: .interfaces}' 2>/dev/null)"
fi
if sl block --list | grep -q '198.18.0.0/24' && sl block --list | grep -q '198.18.7.0/24' &&
	sl rule list | grep -q 'zero-test' && sl status | grep -q "$IF_S"; then
	ok "after --zero: entries, the rule and the attachment stay"
else
	fail "after --zero: entries, the rule and the attachment stay" "$(sl block --list; sl rule list)"
fi
out=$(timeout 30 ip netns exec "$NS_C" ping -n -c 5 -i 0.05 -W 1 "$S4" 2>&1)
z2=$(sl stats -j)
e=$(echo "$z2" | jq -c '[.entries[] | select(.prefix == "198.18.0.0/24")][0].packets')
if echo "$out" | grep -q ' 0 received' && [ "$e" -ge 5 ] 2>/dev/null && [ "$e" -le 7 ] &&
	echo "$z2" | jq -e '.reasons["deny-set"].packets >= 5 and .reasons["deny-set"].packets <= 7' >/dev/null 2>&1; then
	ok "after --zero: the blocked prefix still drops and counts from zero (5 pings)"
else
	fail "after --zero: the blocked prefix still drops and counts from zero (5 pings)" "entry $e, $(echo "$z2" | jq -c '.reasons["deny-set"]' 2>/dev/null)"
fi
t=$(sl stats --zero 2>&1)
if echo "$t" | grep -q '^zeroed the action and reason counters, [0-9]* interfaces\?, 1 rule and [0-9]* set entr'; then
	ok "stats --zero prints what it zeroed"
else
	fail "stats --zero prints what it zeroed" "$t"
fi
out=$(sl stats --zero --watch 1 2>&1)
rc=$?
if [ "$rc" = 2 ] && echo "$out" | grep -q -- '--zero goes alone'; then
	ok "stats --zero --watch 1 is refused (exit 2)"
else
	fail "stats --zero --watch 1 is refused (exit 2)" "exit $rc: $out"
fi
finish
