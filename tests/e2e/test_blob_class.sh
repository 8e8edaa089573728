#!/usr/bin/env bash
# The config blob grows and shrinks with the rule set (docs/classifier.md,
# size classes), with the real CLI and traffic:
# - 2 rules take a 256 KiB blob, not the old fixed 32 MiB;
# - 100,002 rules move to a larger class: apply loads programs for it and
#   moves the XDP attachment atomically (no ping of an allowed client is
#   lost during the apply), the rule counters are kept and still count;
# - back to 2 rules: the small class again, counters still kept.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# This test's own names (cls + PID), under 15 characters.
P=cls$$
NS_C=$P-c
NS_S=$P-s
IF_C=$P-c0
IF_S=$P-s0

if ! lab_up; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi

# blob_bytes: value size of the running blob (sl_config's slot 0).
blob_bytes() {
	local b
	# the inner map's id, 4 bytes little endian ("0x.." each)
	b=($(bpftool map lookup pinned "$BPF/sluice/sl_config" key 0 0 0 0 -j |
		jq -r '.value[]'))
	bpftool map show id $((b[0] + 256 * b[1] + 65536 * b[2])) -j |
		jq .bytes_value
}

# drop_packets: packets counted by the rule dropping UDP port 9.
drop_packets() {
	sl rule list -j |
		jq '[.rules[] | select(.rule | endswith("proto udp dport 9")) | .packets] | add // 0'
}

udp9() {
	timeout 20 ip netns exec "$NS_C" "$PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20):
    s.sendto(b"x", ("198.18.0.2", 9))
    time.sleep(0.005)
'
}

# Two rules first in order: ICMP passes, UDP to port 9 is dropped.
cat >"$T/small.yaml" <<'EOF'
rules:
  - priority: 1
    action: pass
    proto: icmp
  - priority: 1
    action: drop
    proto: udp
    dport: 9
EOF
cp "$T/small.yaml" "$T/big.yaml"
# 100,000 generated IPv4 5-tuple rules after them (ids assigned by apply).
"$ROOT_DIR/build/rulegen" 100000 7 --format yaml --ipv4-5tuple |
	sed -e '1d' -e 's/^  - id: [0-9]*$/  -/' >>"$T/big.yaml"

check "attach $IF_S (xdp)" sl attach "$IF_S" --hooks xdp
check "apply 2 rules" sl apply -f "$T/small.yaml"
b=$(blob_bytes)
if [ "$b" = 262144 ]; then ok "2 rules: a 256 KiB blob"; else
	fail "2 rules: a 256 KiB blob" "blob of $b bytes"
fi
udp9
n1=$(drop_packets)
if [ "$n1" -ge 20 ]; then ok "the drop rule counts ($n1)"; else
	fail "the drop rule counts" "packets=$n1"
fi
id1=$(xdp_prog_id "$NS_S" "$IF_S")

# The larger class, under traffic: no ping may be lost.
timeout 60 ip netns exec "$NS_C" ping -q -n -c 400 -i 0.01 -W 2 "$S4" \
	>"$T/ping.out" 2>&1 &
ppid=$!
sleep 0.5
run_capture sl apply -f "$T/big.yaml"
wait "$ppid"
if [ "$RC" -eq 0 ]; then ok "apply 100,002 rules"; else
	fail "apply 100,002 rules" "exit $RC: $ERR"
fi
if grep -q ' 400 received' "$T/ping.out"; then
	ok "400 pings at 10 ms during the class change, none lost"
else
	fail "400 pings at 10 ms during the class change, none lost" \
		"$(grep -E 'transmitted|loss' "$T/ping.out")"
fi
b=$(blob_bytes)
if [ "$b" -ge $((32 << 20)) ]; then ok "100,002 rules: a larger blob ($((b >> 20)) MiB)"; else
	fail "100,002 rules: a larger blob" "blob of $b bytes"
fi
id2=$(xdp_prog_id "$NS_S" "$IF_S")
if [ -n "$id2" ] && [ "$id2" != "$id1" ]; then
	ok "the attachment moved to programs for the class"
else
	fail "the attachment moved to programs for the class" "prog $id1 -> $id2"
fi
udp9
n2=$(drop_packets)
if [ "$n2" -ge $((n1 + 20)) ]; then ok "the counter is kept and counts ($n1 -> $n2)"; else
	fail "the counter is kept and counts" "$n1 -> $n2"
fi

check "apply 2 rules again" sl apply -f "$T/small.yaml"
b=$(blob_bytes)
if [ "$b" = 262144 ]; then ok "back to 2 rules: 256 KiB again"; else
	fail "back to 2 rules: 256 KiB again" "blob of $b bytes"
fi
udp9
n3=$(drop_packets)
if [ "$n3" -ge $((n2 + 20)) ]; then ok "the counter is still kept ($n2 -> $n3)"; else
	fail "the counter is still kept" "$n2 -> $n3"
fi
if sl status -j | jq -e '.attachments | length > 0' >/dev/null &&
	[ "$(xdp_prog_id "$NS_S" "$IF_S")" != "$id2" ]; then
	ok "still attached, on the small class's programs"
else
	fail "still attached, on the small class's programs" "$(sl status -j | jq -c .attachments)"
fi
finish
