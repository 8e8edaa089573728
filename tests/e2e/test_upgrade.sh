#!/usr/bin/env bash
# In-place upgrades of the pinned state (docs/architecture.md, "Upgrades").
#
# 1. The previous release, built from this repository's own history
#    ($PREV_RELEASE), is attached to two interfaces with set entries, a
#    rule and counters. This build's `attach` then upgrades it while an
#    allowed client pings every 10 ms (none may be lost) and a blocked
#    client sends datagrams (none may arrive); every entry, rule and
#    counter must be there afterwards.
# 2. The same from this build to a "next release" (make NEXT_LAYOUT=1: one
#    more reason, action and pinned map): new counters start at zero,
#    everything else is kept.
# 3. This build meeting the next release's state (a downgrade) refuses
#    with one line naming both layouts and changes nothing.
# 4. An upgrade killed part way is finished by the next run.
# 5. With nothing attached, every reason/action count is carried exactly
#    (none lost, none doubled), under the hook "unknown".
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# The release upgraded from, and its pinned layout: by default the release
# before pinned layouts were versioned (layout 1); test_upgrade_last.sh
# runs the same test from the last release before this one.
PREV_RELEASE=${UPGRADE_FROM:-93add9f}
PREV_L=${UPGRADE_FROM_LAYOUT:-1}
# This build's layout and the test build's (abi.h: NEXT first, then this).
NEXT_L=$(sed -n 's/^#define SL_LAYOUT_VERSION \([0-9]*\)$/\1/p' "$ROOT_DIR/include/sluice/abi.h" | sed -n 1p)
NEW_L=$(sed -n 's/^#define SL_LAYOUT_VERSION \([0-9]*\)$/\1/p' "$ROOT_DIR/include/sluice/abi.h" | sed -n 2p)

if ! lab_up || ! lab_add_client; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi

# ---- the binaries ----
build_prev() {
	mkdir -p "$T/prev" &&
		git -C "$ROOT_DIR" archive "$PREV_RELEASE" | tar -x -C "$T/prev" &&
		make -C "$T/prev" -j2 build/sluice >"$T/prev.log" 2>&1
}
if build_prev; then ok "the previous release ($PREV_RELEASE) builds from git history"; else
	fail "the previous release ($PREV_RELEASE) builds from git history" \
		"$(tail -n 3 "$T/prev.log" 2>/dev/null || echo 'git archive failed')"
	finish
fi
if make -C "$ROOT_DIR" -j2 BUILD="$T/next" NEXT_LAYOUT=1 "$T/next/sluice" \
	>"$T/next.log" 2>&1; then
	ok "the next-release test build (NEXT_LAYOUT=1) builds"
else
	fail "the next-release test build (NEXT_LAYOUT=1) builds" "$(tail -n 3 "$T/next.log")"
	finish
fi
PREV=$T/prev/build/sluice
NEXT=$T/next/sluice
NEW=$SLUICE

# with BIN ARGS...: sluice of another build on the test's state.
with() {
	local bin=$1
	shift
	timeout 60 ip netns exec "$NS_S" "$bin" --bpffs "$BPF" "$@"
}

# ---- traffic ----
UDP_PORT=7010
RULE_PORT=7011

# udp_sink: counts datagrams arriving on the server's udp/$UDP_PORT (one
# line each in $T/udp.got) for at most 120 s.
udp_sink() {
	: >"$T/udp.got"
	timeout 120 ip netns exec "$NS_S" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
with open(sys.argv[2], "a") as f:
    while True:
        d, a = s.recvfrom(2048)
        f.write(a[0] + "\n")
        f.flush()
' "$UDP_PORT" "$T/udp.got" &
	PIDS+=($!)
	for _ in $(seq 50); do
		ip netns exec "$NS_S" ss -Huln "sport = :$UDP_PORT" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# udp_send NS DST PORT COUNT: COUNT datagrams, one every 10 ms.
udp_send() {
	timeout 30 ip netns exec "$1" "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(b"sluice-upgrade %d" % i, (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.01)
' "$2" "$3" "$4"
}

# got_from ADDR: datagrams the sink received from ADDR.
got_from() {
	grep -cx "$1" "$T/udp.got"
}

# upgrade_under_traffic NAME BIN ARGS...: runs BIN ARGS while client 1 pings
# the server 300 times at 10 ms and client 2 (blocked) sends 300
# datagrams; checks every ping came back and no datagram arrived.
upgrade_under_traffic() {
	local name=$1 bin=$2 before ppid spid rc
	shift 2
	before=$(got_from "$C4B")
	timeout 30 ip netns exec "$NS_C" ping -q -n -c 300 -i 0.01 -W 2 "$S4" \
		>"$T/ping.out" 2>&1 &
	ppid=$!
	udp_send "$NS_C2" "$S4B" "$UDP_PORT" 300 &
	spid=$!
	sleep 0.8
	run_capture with "$bin" "$@"
	rc=$RC
	wait "$ppid"
	wait "$spid"
	if [ "$rc" -eq 0 ]; then ok "$name: exits 0"; else fail "$name: exits 0" "exit $rc: $ERR"; fi
	if grep -q ' 300 received' "$T/ping.out"; then
		ok "$name: 300 pings at 10 ms from an allowed client, none lost"
	else
		fail "$name: 300 pings at 10 ms from an allowed client, none lost" \
			"$(grep -E 'transmitted|loss' "$T/ping.out")"
	fi
	sleep 0.3
	if [ "$(got_from "$C4B")" -eq "$before" ]; then
		ok "$name: no datagram of the blocked client arrived"
	else
		fail "$name: no datagram of the blocked client arrived" \
			"$(($(got_from "$C4B") - before)) of 300 arrived"
	fi
}

# snapshot BIN FILE: entries, rules and counters as JSON, normalised.
snapshot() {
	local bin=$1 out=$2
	{
		with "$bin" block --list -j | jq -S 'sort_by(.dir, .prefix)'
		with "$bin" allow --list -j | jq -S 'sort_by(.dir, .prefix)'
		with "$bin" rule list -j | jq -S .
		with "$bin" stats -j | jq -S 'del(.time)'
	} >"$out" 2>&1
}

# kept NAME OLD NEW: every entry, rule and counter of OLD is in NEW, with
# the same definition, and no counter went down.
kept() {
	local name=$1 old=$2 new=$3 why
	why=$(jq -n -r --slurpfile a "$old" --slurpfile b "$new" '
	  def ents(x): x | map({key: "\(.set) \(.dir) \(.prefix)", value: .}) | from_entries;
	  [ ( [ents($a[0]), ents($b[0])], [ents($a[1]), ents($b[1])] )
	    | .[0] as $o | .[1] as $n | $o | to_entries[]
	    | if ($n[.key] | not) then "entry \(.key) lost"
	      elif $n[.key].packets < .value.packets then "entry \(.key) counter went down"
	      else empty end ],
	  [ $a[2].rules[] as $r | ($b[2].rules | map(select(.id == $r.id)) | first) as $m
	    | if ($m | not) then "rule \($r.id) lost"
	      elif $m.rule != $r.rule then "rule \($r.id) changed: \($m.rule) (was \($r.rule))"
	      elif $m.packets < $r.packets then "rule \($r.id) counter went down"
	      else empty end ],
	  [ if $a[2].policy != $b[2].policy then "policy changed" else empty end ],
	  [ $a[3].reasons | to_entries[] as $e | $e.value | to_entries[]
	    | select(.value | type == "object") as $c
	    | if (($b[3].reasons[$e.key][$c.key].packets // -1) < $c.value.packets)
	      then "counter \($e.key)/\($c.key) went down or is gone" else empty end ]
	  | .[]' 2>&1)
	if [ -z "$why" ]; then ok "$name"; else fail "$name" "$(echo "$why" | head -n 3 | tr '\n' ';')"; fi
}

udp_sink || fail "the UDP sink listens" "no socket on udp/$UDP_PORT"

# ---- 1. previous release -> this build ----
check "previous release: attach $IF_S (xdp, tc)" with "$PREV" attach "$IF_S" --hooks xdp,tc
check "previous release: attach $IF_S2 (xdp)" with "$PREV" attach "$IF_S2"
check "previous release: block client 2 and a /24" with "$PREV" block "$C4B" 198.18.200.0/24 2001:db8:ff::/48
check "previous release: allow an entry" with "$PREV" allow 198.18.201.0/24
check "previous release: a rule with a comment" with "$PREV" rule add drop --proto udp \
	--dport "$RULE_PORT" --comment "upgrade keeps me"
# Counters to carry: passes, deny-set drops, rule drops.
try_ping "$NS_C" "$S4" || fail "previous release: client 1 pings" "no reply"
udp_send "$NS_C2" "$S4B" "$UDP_PORT" 5
udp_send "$NS_C" "$S4" "$RULE_PORT" 5
snapshot "$PREV" "$T/v1.json"
if jq -s -e '.[0][] | select(.prefix == "'"$C4B"'/32") | .packets >= 5' "$T/v1.json" >/dev/null &&
	jq -s -e '.[2].rules[0].packets >= 5' "$T/v1.json" >/dev/null; then
	ok "previous release: the entry and the rule counted the traffic"
else
	fail "previous release: the entry and the rule counted the traffic" "$(head -c 400 "$T/v1.json")"
fi
if [ "$(got_from "$C4B")" -eq 0 ]; then ok "previous release: blocked client's datagrams dropped"; else
	fail "previous release: blocked client's datagrams dropped" "$(got_from "$C4B") arrived"
fi
ids_before=$(xdp_prog_id "$NS_S" "$IF_S")

upgrade_under_traffic "upgrade from the previous release by 'attach $IF_S'" \
	"$NEW" attach "$IF_S" --hooks xdp,tc
if echo "$ERR" | grep -q "from layout $PREV_L to $NEW_L"; then ok "the upgrade says what it did"; else
	fail "the upgrade says what it did" "stderr: $ERR"
fi
snapshot "$NEW" "$T/v2.json"
kept "every entry, rule, rule id, comment and counter is kept ($PREV_L -> $NEW_L)" "$T/v1.json" "$T/v2.json"
if jq -s -e '.[3].reasons.pass.tx.packets == 0 and .[3].actions.redirect.packets == 0' "$T/v2.json" >/dev/null; then
	ok "counters of actions that did not exist before start at zero"
else
	fail "counters of actions that did not exist before start at zero" "$(jq -s -c '.[3].actions' "$T/v2.json")"
fi
ids_after=$(xdp_prog_id "$NS_S" "$IF_S")
st=$(sl status -j)
# Four attachments (xdp and tc-out on each), two distinct programs, all in
# the kernel.
n_att=$(echo "$st" | jq '[.attachments[] | select(.ifindex > 0)] | length')
n_prog=$(echo "$st" | jq '[.attachments[].prog_id] | unique | length')
if [ "$ids_after" != "$ids_before" ] && [ "$n_att" -eq 4 ] && [ "$n_prog" -eq 2 ] &&
	[ "$(xdp_prog_id "$NS_S" "$IF_S2")" = "$ids_after" ]; then
	ok "both interfaces run the new programs"
else
	fail "both interfaces run the new programs" "before $ids_before, after $ids_after; $(echo "$st" | jq -c .attachments)"
fi
if [ -e "$BPF/sluice/sl_meta" ] && ! ls -d "$BPF"/sluice/upgrade-* >/dev/null 2>&1; then
	ok "the state records its layout and no old pin is left"
else
	fail "the state records its layout and no old pin is left" "$(ls "$BPF/sluice" | tr '\n' ' ')"
fi
if [ "$(sl status -j | jq .layout)" = "$NEW_L" ] && sl status | head -n1 | grep -q "pinned layout $NEW_L"; then
	ok "status names the pinned layout ($NEW_L)"
else
	fail "status names the pinned layout ($NEW_L)" "$(sl status -j | jq -c '{version, layout}')"
fi
# Still enforcing, with the same tables.
udp_send "$NS_C2" "$S4B" "$UDP_PORT" 3
udp_send "$NS_C" "$S4" "$RULE_PORT" 3
expect_flows "after the upgrade, client 1" "$NS_C" "$S4"
if [ "$(got_from "$C4B")" -eq 0 ]; then ok "after the upgrade the blocked client is still blocked"; else
	fail "after the upgrade the blocked client is still blocked" "$(got_from "$C4B") arrived"
fi
if sl rule list -j | jq -e '.rules[0].packets >= 8' >/dev/null; then
	ok "after the upgrade the rule still drops and counts"
else
	fail "after the upgrade the rule still drops and counts" "$(sl rule list -j)"
fi

# ---- 2. this build -> next release ----
snapshot "$NEW" "$T/v2.json"
upgrade_under_traffic "upgrade to the next release by 'attach $IF_S2'" \
	"$NEXT" attach "$IF_S2"
if echo "$ERR" | grep -q "from layout $NEW_L to $NEXT_L"; then ok "the next release says it upgraded $NEW_L -> $NEXT_L"; else
	fail "the next release says it upgraded $NEW_L -> $NEXT_L" "stderr: $ERR"
fi
snapshot "$NEXT" "$T/v3.json"
kept "every entry, rule and counter is kept ($NEW_L -> $NEXT_L)" "$T/v2.json" "$T/v3.json"
if jq -s -e '.[3].reasons["next-test"].packets == 0 and .[3].actions["next-test"].packets == 0' \
	"$T/v3.json" >/dev/null && [ -e "$BPF/sluice/sl_next_test" ]; then
	ok "the appended reason, action and map exist, counters at zero"
else
	fail "the appended reason, action and map exist, counters at zero" \
		"$(jq -s -c '.[3].actions' "$T/v3.json"); $(ls "$BPF/sluice" | tr '\n' ' ')"
fi

if [ "$(with "$NEXT" status -j | jq .layout)" = "$NEXT_L" ]; then ok "the next release's status names layout $NEXT_L"; else
	fail "the next release's status names layout $NEXT_L" "$(with "$NEXT" status -j | jq -c '{version, layout}')"
fi

# ---- 3. downgrade: this build meets the next release's state ----
pins_before=$(ls -R "$BPF/sluice" | md5sum)
progs_before="$(xdp_prog_id "$NS_S" "$IF_S") $(xdp_prog_id "$NS_S" "$IF_S2")"
for verb in status "block --list" "attach $IF_S"; do
	# shellcheck disable=SC2086
	run_capture with "$NEW" $verb
	if [ "$RC" -eq 1 ] && [ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] &&
		echo "$ERR" | grep -q "layout $NEXT_L" && echo "$ERR" | grep -q "layout $NEW_L"; then
		ok "downgrade: '$verb' refuses with one line naming both layouts"
	else
		fail "downgrade: '$verb' refuses with one line naming both layouts" "exit $RC: $ERR"
	fi
done
if [ "$(ls -R "$BPF/sluice" | md5sum)" = "$pins_before" ] &&
	[ "$(xdp_prog_id "$NS_S" "$IF_S") $(xdp_prog_id "$NS_S" "$IF_S2")" = "$progs_before" ]; then
	ok "downgrade: pins and programs unchanged"
else
	fail "downgrade: pins and programs unchanged" "pins or program ids differ"
fi
snapshot "$NEXT" "$T/v3b.json"
kept "downgrade: the next release's state is intact" "$T/v3.json" "$T/v3b.json"

# ---- 4. an upgrade killed part way is resumed by the next run ----
# The state of a run killed after moving sl_stats aside and creating its
# new map: the next run must finish the job, keeping every counter. (Staged
# for the layout 1 -> 2 step, so run from layout 1 only.)
if [ "$PREV_L" = 1 ]; then
check "reset, then the previous release again" with "$NEXT" reset
check "previous release: attach $IF_S2 again" with "$PREV" attach "$IF_S2"
check "previous release: block client 2 again" with "$PREV" block "$C4B"
before_k=$(got_from "$C4B")
udp_send "$NS_C2" "$S4B" "$UDP_PORT" 5
snapshot "$PREV" "$T/k1.json"
if mkdir "$BPF/sluice/upgrade-v1" && mv "$BPF/sluice/sl_stats" "$BPF/sluice/upgrade-v1/" &&
	bpftool map create "$BPF/sluice/sl_stats" type percpu_array key 4 value 16 		entries 512 name sl_stats; then
	ok "a killed upgrade is staged"
else
	fail "a killed upgrade is staged" "mkdir, mv or bpftool failed"
fi
run_capture sl status
if [ "$RC" -eq 0 ] && echo "$ERR" | grep -q "from layout 1 to $NEW_L"; then
	ok "the next run resumes the killed upgrade"
else
	fail "the next run resumes the killed upgrade" "exit $RC: $ERR"
fi
snapshot "$NEW" "$T/k2.json"
kept "the resumed upgrade keeps every entry and counter" "$T/k1.json" "$T/k2.json"
if jq -s -e '.[3].reasons["deny-set"].drop.packets >= 5' "$T/k2.json" >/dev/null &&
	! [ -e "$BPF/sluice/upgrade-v1" ]; then
	ok "the resumed upgrade carried the counters and cleaned up"
else
	fail "the resumed upgrade carried the counters and cleaned up" \
		"$(jq -s -c '.[3].reasons["deny-set"]' "$T/k2.json"); $(ls "$BPF/sluice" | tr '\n' ' ')"
fi
udp_send "$NS_C2" "$S4B" "$UDP_PORT" 3
if [ "$(got_from "$C4B")" -eq "$before_k" ]; then ok "after the resumed upgrade client 2 is still blocked"; else
	fail "after the resumed upgrade client 2 is still blocked" "$(($(got_from "$C4B") - before_k)) arrived"
fi
else
	check "reset, then the previous release again" with "$NEXT" reset
	check "previous release: attach $IF_S2 again" with "$PREV" attach "$IF_S2"
	check "previous release: block client 2 again" with "$PREV" block "$C4B"
	check "this build upgrades it again" with "$NEW" status
fi

# ---- 5. every count carried exactly, under the unknown hook ----
# The previous release counts deny-set drops, then is detached, so nothing
# counts while this build upgrades: every reason/action count of stats -j
# must be exactly what it was (not lost, not doubled), all of it under the
# hook "unknown" (the older layouts counted no hook), none under a real
# hook; this build's programs then count under xdp only.
check "reset, then the previous release once more" with "$NEW" reset
check "previous release: attach $IF_S2" with "$PREV" attach "$IF_S2"
check "previous release: block client 2" with "$PREV" block "$C4B"
udp_send "$NS_C2" "$S4B" "$UDP_PORT" 5
check "previous release: detach $IF_S2 (nothing counts from here)" with "$PREV" detach "$IF_S2"
with "$PREV" stats -j >"$T/e1.json"
check "this build upgrades the detached state" with "$NEW" status
with "$NEW" stats -j >"$T/e2.json"
why=$(jq -n -r --slurpfile a "$T/e1.json" --slurpfile b "$T/e2.json" '
  $a[0].reasons | to_entries[] as $e | $e.value | to_entries[]
  | select(.value | type == "object") as $c
  | ($b[0].reasons[$e.key][$c.key]) as $n
  | ($b[0].hooks.unknown.reasons[$e.key][$c.key] // {packets: 0, bytes: 0}) as $u
  | if $n.packets != $c.value.packets or $n.bytes != $c.value.bytes
    then "\($e.key)/\($c.key): \($c.value.packets)/\($c.value.bytes)B -> \($n.packets)/\($n.bytes)B"
    elif $u.packets != $c.value.packets or $u.bytes != $c.value.bytes
    then "\($e.key)/\($c.key): unknown hook \($u.packets)/\($u.bytes)B, was \($c.value.packets)/\($c.value.bytes)B"
    else empty end' 2>&1 | head -n 3)
if [ -z "$why" ] && jq -e '.reasons["deny-set"].drop.packets >= 5' "$T/e1.json" >/dev/null; then
	ok "every reason/action count carried exactly, under hook unknown ($PREV_L -> $NEW_L)"
else
	fail "every reason/action count carried exactly, under hook unknown ($PREV_L -> $NEW_L)" \
		"$(echo "$why" | tr '\n' ';') $(jq -c '.reasons["deny-set"]' "$T/e1.json")"
fi
if jq -e '[.hooks.xdp, .hooks["tc-in"], .hooks["tc-out"]] | all(.packets == 0 and .bytes == 0)' \
	"$T/e2.json" >/dev/null; then
	ok "no count carried under a real hook"
else
	fail "no count carried under a real hook" "$(jq -c '.hooks | map_values(.packets)' "$T/e2.json")"
fi
check "this build: attach $IF_S2" with "$NEW" attach "$IF_S2"
udp_send "$NS_C2" "$S4B" "$UDP_PORT" 3
with "$NEW" stats -j >"$T/e3.json"
if jq -e --slurpfile b "$T/e2.json" '.hooks.xdp.reasons["deny-set"].drop.packets == 3 and
	.hooks.unknown == $b[0].hooks.unknown and
	.reasons["deny-set"].drop.packets == $b[0].reasons["deny-set"].drop.packets + 3' \
	"$T/e3.json" >/dev/null; then
	ok "the new programs count under xdp; the carried counts stay as they were"
else
	fail "the new programs count under xdp; the carried counts stay as they were" \
		"$(jq -c '.hooks | map_values(.reasons["deny-set"])' "$T/e3.json")"
fi

# Positive control for the sink: unblocked, client 2's datagrams arrive.
check "unblock client 2" with "$NEW" unblock "$C4B"
udp_send "$NS_C2" "$S4B" "$UDP_PORT" 5
sleep 0.3
if [ "$(got_from "$C4B")" -ge 4 ]; then ok "unblocked, client 2's datagrams arrive"; else
	fail "unblocked, client 2's datagrams arrive" "$(got_from "$C4B") of 5"
fi

finish
