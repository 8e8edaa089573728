#!/usr/bin/env bash
# The attachment survives the CLI's exit: after `attach` returns the
# traffic is still filtered, `status -j` lists the attachment with the
# program id that `ip -j link` shows. A second attach in the same mode
# replaces the program atomically (same link, no packet unfiltered or lost).
# Global options work before and after the verb and from SLUICE_BPFFS.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi

run_capture sl attach "$IF_S"
if [ "$RC" -eq 0 ]; then ok "attach exits 0"; else fail "attach exits 0" "exit $RC: $ERR"; fi
# The CLI has exited; nothing of ours but the HTTP server runs in the ns.
if ip netns pids "$NS_S" | xargs -r ps -o comm= -p | grep -q sluice; then
	fail "no sluice process is left running" "$(ip netns pids "$NS_S" | xargs -r ps -o pid=,comm= -p)"
else
	ok "no sluice process is left running"
fi
check "block 198.18.0.0/24 after attach returned" sl block 198.18.0.0/24
expect_blocked "attached by an exited CLI, v4" "$NS_C" "$S4"
expect_flows "attached by an exited CLI, v6" "$NS_C" "$S6"

st=$(sl status -j)
if echo "$st" | jq -e . >/dev/null 2>&1; then ok "status -j is valid JSON"; else
	fail "status -j is valid JSON" "$st"
fi
if [ "$(echo "$st" | jq -r .bpffs)" = "$BPF" ]; then ok "status -j names the bpffs"; else
	fail "status -j names the bpffs" "got $(echo "$st" | jq -c .bpffs), want $BPF"
fi
n=$(echo "$st" | jq '[.attachments[] | select(.hook == "xdp")] | length')
a=$(echo "$st" | jq -c --arg i "$IF_S" '.attachments[] | select(.ifname == $i and .hook == "xdp")')
if [ "$n" = 1 ] && [ -n "$a" ]; then ok "status -j lists the one attachment"; else
	fail "status -j lists the one attachment" "$st"
fi
ifindex=$(ip -n "$NS_S" -j link show dev "$IF_S" | jq '.[0].ifindex')
if [ "$(echo "$a" | jq -r '.hook, .mode, .ifindex' | tr '\n' ' ')" = "xdp native $ifindex " ]; then
	ok "status -j has hook xdp, mode native and the right ifindex"
else
	fail "status -j has hook xdp, mode native and the right ifindex" "$a (ifindex $ifindex)"
fi
if echo "$a" | jq -e '.features | index("malformed-drop") and index("sets")' >/dev/null; then
	ok "status -j lists features malformed-drop and sets"
else
	fail "status -j lists features malformed-drop and sets" "$a"
fi
prog=$(echo "$a" | jq -r .prog_id)
link=$(echo "$a" | jq -r .link_id)
ipprog=$(xdp_prog_id "$NS_S" "$IF_S")
if [ -n "$ipprog" ] && [ "$prog" = "$ipprog" ]; then
	ok "status prog_id is the program ip link shows"
else
	fail "status prog_id is the program ip link shows" "status $prog, ip link '$ipprog'"
fi
if command -v bpftool >/dev/null; then
	bl=$(bpftool -j link show id "$link" 2>/dev/null)
	# (bpftool 7.1 does not print an XDP link's ifindex.)
	if [ "$(echo "$bl" | jq -r '.type, .prog_id' 2>/dev/null | tr '\n' ' ')" = "xdp $prog " ]; then
		ok "status link_id is an XDP link of that program"
	else
		fail "status link_id is an XDP link of that program" "bpftool: ${bl:-no link $link}"
	fi
fi

# Global options after the verb, and from the environment.
st2=$(timeout 60 ip netns exec "$NS_S" "$SLUICE" status --bpffs "$BPF" --json)
if [ "$(echo "$st2" | jq -S -c .)" = "$(echo "$st" | jq -S -c .)" ]; then
	ok "--bpffs and --json after the verb"
else
	fail "--bpffs and --json after the verb" "$st2"
fi
st3=$(SLUICE_BPFFS=$BPF timeout 60 ip netns exec "$NS_S" "$SLUICE" -j status)
if [ "$(echo "$st3" | jq -S -c .)" = "$(echo "$st" | jq -S -c .)" ]; then
	ok "SLUICE_BPFFS selects the state"
else
	fail "SLUICE_BPFFS selects the state" "$st3"
fi

# Second attach, same mode, while the client pings: not one reply gets
# through the blocked prefix while the program is replaced.
timeout 20 ip netns exec "$NS_C" ping -n -c 150 -i 0.01 -W 1 "$S4" >"$T/ping1" 2>&1 &
pp=$!
sleep 0.2
run_capture sl attach "$IF_S" --pass-malformed
r2=$RC
run_capture sl attach "$IF_S" --mode native
r3=$RC
wait $pp
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping1")
if [ "$r2" = 0 ] && [ "$r3" = 0 ]; then ok "second and third attach, same mode, exit 0"; else
	fail "second and third attach, same mode, exit 0" "exits $r2 $r3: $ERR"
fi
if [ "${rx:-x}" = 0 ]; then ok "no packet passes the blocked prefix during re-attach"; else
	fail "no packet passes the blocked prefix during re-attach" "${rx:-?} echo replies: $(tail -n2 "$T/ping1" | head -n1)"
fi
a2=$(sl status -j | jq -c --arg i "$IF_S" '.attachments[] | select(.ifname == $i and .hook == "xdp")')
if [ "$(sl status -j | jq '[.attachments[] | select(.hook == "xdp")] | length')" = 1 ]; then
	ok "still one attachment after re-attach"
else
	fail "still one attachment after re-attach" "$(sl status -j)"
fi
if [ "$(echo "$a2" | jq -r .link_id)" = "$link" ]; then
	ok "re-attach keeps the link (bpf_link_update)"
else
	fail "re-attach keeps the link (bpf_link_update)" "link $link became $(echo "$a2" | jq -r .link_id)"
fi
prog2=$(echo "$a2" | jq -r .prog_id)
if [ "$prog2" = "$(xdp_prog_id "$NS_S" "$IF_S")" ] && [ "$prog2" != "$prog" ]; then
	ok "re-attach runs a new program, the one ip link shows"
else
	fail "re-attach runs a new program, the one ip link shows" \
		"before $prog, status $prog2, ip link $(xdp_prog_id "$NS_S" "$IF_S")"
fi
if echo "$a2" | jq -e '.features | index("malformed-drop")' >/dev/null; then
	ok "the last attach's features apply (malformed-drop)"
else
	fail "the last attach's features apply (malformed-drop)" "$a2"
fi
expect_blocked "after re-attach, v4" "$NS_C" "$S4"

# Replace the program while traffic flows: no packet lost.
check "unblock 198.18.0.0/24" sl unblock 198.18.0.0/24
try_ping "$NS_C" "$S4" # warm the neighbour entries
timeout 20 ip netns exec "$NS_C" ping -n -c 150 -i 0.01 -W 1 "$S4" >"$T/ping2" 2>&1 &
pp=$!
sleep 0.2
sl attach "$IF_S" --pass-malformed >/dev/null 2>&1
r2=$?
a3=$(sl status -j | jq -c --arg i "$IF_S" '.attachments[] | select(.ifname == $i and .hook == "xdp")')
sl attach "$IF_S" >/dev/null 2>&1
r3=$?
wait $pp
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping2")
if [ "$r2$r3" = 00 ] && [ "${rx:-x}" = 150 ]; then
	ok "no packet lost while the program is replaced"
else
	fail "no packet lost while the program is replaced" "attach exits $r2 $r3, ${rx:-?}/150 replies"
fi
if echo "$a3" | jq -e '.features | index("malformed-pass")' >/dev/null; then
	ok "attach --pass-malformed shows feature malformed-pass"
else
	fail "attach --pass-malformed shows feature malformed-pass" "$a3"
fi

# -v keeps stdout clean JSON.
v=$(timeout 60 ip netns exec "$NS_S" "$SLUICE" -v --bpffs "$BPF" status -j 2>/dev/null)
if echo "$v" | jq -e '[.attachments[] | select(.hook == "xdp")] | length == 1' >/dev/null 2>&1; then
	ok "-v status -j still prints clean JSON on stdout"
else
	fail "-v status -j still prints clean JSON on stdout" "$(echo "$v" | head -c 200)"
fi

# Destination entries: --dst matches the server's address, not the client's.
check "block --dst 198.18.0.2" sl block --dst 198.18.0.2
expect_blocked "deny dst 198.18.0.2, v4" "$NS_C" "$S4"
d=$(sl block --list -j | jq -r '.[] | "\(.dir) \(.prefix)"')
if [ "$d" = "dst 198.18.0.2/32" ]; then ok "block --list shows dir dst, 198.18.0.2/32"; else
	fail "block --list shows dir dst, 198.18.0.2/32" "$d"
fi
run_capture sl unblock 198.18.0.2
if [ "$RC" = 2 ] && [ "$(sl block --list -j | jq length)" = 1 ]; then
	ok "unblock without --dst does not remove a dst entry (exit 2)"
else
	fail "unblock without --dst does not remove a dst entry (exit 2)" "exit $RC: $ERR"
fi
check "unblock --dst 198.18.0.2" sl unblock --dst 198.18.0.2
expect_flows "dst entry removed, v4" "$NS_C" "$S4"
finish
