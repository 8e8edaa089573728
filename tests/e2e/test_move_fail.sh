#!/usr/bin/env bash
# Every attach moves the other attached interfaces to the programs it
# loads. A move that fails is an error (exit 1, one line naming the
# interface and the hook), and everything is put back: the interface being
# attached keeps its old programs and features, the other interfaces run
# the programs they ran before. An apply whose attach fails that way
# switches nothing. The failure is made real: a directory where the move
# pins the second interface's new egress program.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up || ! lab_add_client; then
	fail "lab with two clients is built" "namespaces, veths or HTTP server failed"
	finish
fi

check "attach $IF_S" sl attach "$IF_S"
check "attach $IF_S2" sl attach "$IF_S2"
check "block client 1" sl block "$C4"

# The kernel's view and the status, both interfaces, all hooks.
view() {
	echo "$(hooks_in_kernel "$NS_S" "$IF_S") $(hooks_in_kernel "$NS_S" "$IF_S2")"
	sl status -j | jq -c '[.attachments[] | [.ifname, .hook, .mode, .prog_id, .link_id, .features]]'
}
before=$(view)
mkdir "$BPF/sluice/links/$IF_S2/tc-out-new"

run_capture sl attach "$IF_S" --pass-malformed
if [ "$RC" -eq 1 ] && [[ "$ERR" == *"$IF_S2: cannot move tc-out to the new program"* ]] &&
	[ "$(wc -l <"$T/err")" -eq 1 ]; then
	ok "a failed move fails the attach (exit 1, one line naming $IF_S2 and tc-out)"
else
	fail "a failed move fails the attach (exit 1, one line naming $IF_S2 and tc-out)" "exit $RC: $ERR"
fi
after=$(view)
if [ "$after" = "$before" ]; then
	ok "after the failed attach every hook runs the program it ran before"
else
	fail "after the failed attach every hook runs the program it ran before" "before: $before after: $after"
fi
if try_ping "$NS_C" "$S4"; then fail "client 1 is still blocked" "got a reply"; else
	ok "client 1 is still blocked"
fi
if try_ping "$NS_C2" "$S4B"; then ok "client 2 still passes"; else
	fail "client 2 still passes" "no reply"
fi

# The same through apply: an interface change that needs an attach fails,
# so the new deny entry never goes live and nothing changes.
cat >"$T/c.yaml" <<EOF
interfaces:
  - name: $IF_S
    hooks: [tc]
  - name: $IF_S2
    hooks: [xdp, tc]
deny:
  - $C4
  - $C4B
EOF
exp=$(sl export)
run_capture sl apply -f "$T/c.yaml"
if [ "$RC" -eq 1 ] && [[ "$ERR" == *"$IF_S2: cannot move tc-out"* ]]; then
	ok "apply whose attach cannot move $IF_S2 fails (exit 1)"
else
	fail "apply whose attach cannot move $IF_S2 fails (exit 1)" "exit $RC: $OUT $ERR"
fi
if [ "$(sl export)" = "$exp" ] && [ "$(view)" = "$before" ]; then
	ok "the failed apply changed nothing (export, hooks, programs)"
else
	fail "the failed apply changed nothing (export, hooks, programs)" "$(sl export | tr '\n' ' ') $(view)"
fi
if try_ping "$NS_C2" "$S4B"; then ok "the failed apply's deny entry is not live"; else
	fail "the failed apply's deny entry is not live" "client 2 is dropped"
fi

# Without the obstacle the same attach moves everything.
rmdir "$BPF/sluice/links/$IF_S2/tc-out-new"
check "attach $IF_S --pass-malformed once the move can pin" sl attach "$IF_S" --pass-malformed
n=$(sl status -j | jq '[.attachments[] | select(.features | index("malformed-pass"))] | length')
k=$(sl status -j | jq '.attachments | length')
if [ "$n" = 4 ] && [ "$k" = 4 ]; then ok "all 4 hooks of both interfaces run the new programs"; else
	fail "all 4 hooks of both interfaces run the new programs" "$n of $k"
fi
if [ "$(tc_prog_id "$NS_S" "$IF_S2" egress)" = "$(status_field "$IF_S2" prog_id tc-out)" ]; then
	ok "$IF_S2 tc-out pin matches the filter"
else
	fail "$IF_S2 tc-out pin matches the filter" "$(hooks_in_kernel "$NS_S" "$IF_S2")"
fi

finish
