#!/usr/bin/env bash
# An `apply` that only changes an interface's XDP mode (native <-> generic)
# is gapless: the kernel runs one XDP mode at a time, so Sluice's TC ingress
# filter classifies the ingress while the old mode's link goes and the new
# one comes. A denied client pinging every 10 ms never gets a reply while
# the mode flips back and forth, every apply succeeds, and afterwards the
# interface runs exactly the requested mode (`status -j`, `ip link`) with no
# TC ingress filter left. `apply --dry-run`
# counts the mode change as one interface changed. `attach --mode` switches
# modes the same way, and a detach followed at once by an attach in the
# other mode works.
# An apply whose interface change fails changes nothing: neither the sets
# nor the rules go live, an interface the same apply attached first is
# detached again, and the failing interface is back in its old mode.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up || ! lab_add_client; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi
# A second, allowed source address on the client: its pings must pass
# through the same interface while the denied one is dropped.
C4OK=198.18.0.11
ip -n "$NS_C" addr add "$C4OK/24" dev "$IF_C"

# cfg MODE [EXTRA_DENY]: a config with IF_S in MODE, the client's first
# address denied (and EXTRA_DENY).
cfg() {
	cat <<EOF
interfaces:
  - name: $IF_S
    hooks: [xdp, tc]
    mode: $1
deny:
  - $C4
${2:+  - $2}
EOF
}
cfg native >"$T/native.yaml"
cfg generic >"$T/generic.yaml"

check "apply native" sl apply -f "$T/native.yaml"
if try_ping "$NS_C" "$S4" "$C4OK"; then ok "allowed source passes"; else
	fail "allowed source passes" "no reply to $C4OK"
fi
if try_ping "$NS_C" "$S4" "$C4"; then fail "denied source is dropped" "got a reply"; else
	ok "denied source is dropped"
fi

# ---- dry run counts the mode change ----
run_capture sl apply -f "$T/generic.yaml" --dry-run
if [ "$RC" -eq 0 ] && [[ "$OUT" == *"1 interfaces changed"* ]]; then
	ok "dry run counts a mode change as 1 interface changed"
else
	fail "dry run counts a mode change as 1 interface changed" "exit $RC: $OUT $ERR"
fi
run_capture sl -j apply -f "$T/generic.yaml" --dry-run
if [ "$RC" -eq 0 ] && [ "$(echo "$OUT" | jq -r .interfaces_changed 2>/dev/null)" = 1 ]; then
	ok "dry run -j: interfaces_changed 1"
else
	fail "dry run -j: interfaces_changed 1" "exit $RC: $OUT $ERR"
fi
if [ "$(status_field "$IF_S" mode)" = native ] && [ "$(xdp_mode "$NS_S" "$IF_S")" = 1 ]; then
	ok "dry run left the mode native"
else
	fail "dry run left the mode native" "status $(status_field "$IF_S" mode), ip link mode $(xdp_mode "$NS_S" "$IF_S")"
fi

# ---- flips under traffic ----
# The denied source pings every 10 ms during all the flips (bounded: at most
# 6000 requests, 90 s); ping prints its summary on SIGINT.
timeout -s INT 90 ip netns exec "$NS_C" ping -n -c 6000 -i 0.01 -W 1 \
	-I "$C4" "$S4" >"$T/ping" 2>&1 &
pp=$!
sleep 0.3
flips=0 bad_exit="" bad_mode=""
for m in generic native generic native; do
	sl apply -f "$T/$m.yaml" >"$T/apply.out" 2>"$T/apply.err"
	rc=$?
	flips=$((flips + 1))
	[ "$rc" -eq 0 ] || bad_exit+=" $m: exit $rc: $(head -n1 "$T/apply.err");"
	want=1
	[ "$m" = generic ] && want=2
	sm=$(status_field "$IF_S" mode)
	km=$(xdp_mode "$NS_S" "$IF_S")
	pins=$(ls "$BPF/sluice/links/$IF_S" 2>/dev/null | grep -c '^xdp-')
	[ "$sm" = "$m" ] && [ "$km" = "$want" ] && [ "$pins" = 1 ] ||
		bad_mode+=" after $m: status '$sm', ip link mode '$km', $pins xdp pins;"
	grep -q "1 interfaces changed" "$T/apply.out" ||
		bad_exit+=" $m: '$(cat "$T/apply.out")' does not count 1 interface;"
done
sleep 0.3
kill -INT "$pp" 2>/dev/null
wait "$pp"
tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T/ping")
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping")
if [ -z "$bad_exit" ]; then ok "$flips mode flips by apply all succeed"; else
	fail "$flips mode flips by apply all succeed" "$bad_exit"
fi
if [ -z "$bad_mode" ]; then ok "after each flip the requested mode runs, alone"; else
	fail "after each flip the requested mode runs, alone" "$bad_mode"
fi
if [ "${tx:-0}" -ge 100 ] && [ "${rx:-x}" = 0 ]; then
	ok "no denied ping passes during the flips ($tx sent)"
else
	fail "no denied ping passes during the flips" "${rx:-?} of ${tx:-?} answered"
fi
if try_ping "$NS_C" "$S4" "$C4OK"; then ok "allowed source passes after the flips"; else
	fail "allowed source passes after the flips" "no reply to $C4OK"
fi
if [ "$(tc_prog_id "$NS_S" "$IF_S" egress)" = "$(status_field "$IF_S" prog_id tc-out)" ] &&
	[ -n "$(tc_prog_id "$NS_S" "$IF_S" egress)" ]; then
	ok "the TC egress filter is in place after the flips"
else
	fail "the TC egress filter is in place after the flips" "$(hooks_in_kernel "$NS_S" "$IF_S")"
fi

# ---- detach, then attach in the other mode at once ----
# A removed link used to leave its program on the interface for a moment
# (released lazily), so an attach right after found "an XDP program that
# this Sluice state does not manage".
bad=""
for m in generic native generic; do
	sl detach "$IF_S" >/dev/null 2>"$T/err" || bad+=" detach: $(head -n1 "$T/err");"
	sl attach "$IF_S" --mode "$m" >/dev/null 2>"$T/err" || bad+=" attach $m: $(head -n1 "$T/err");"
done
if [ -z "$bad" ]; then ok "detach then attach in the other mode, 3 times"; else
	fail "detach then attach in the other mode, 3 times" "$bad"
fi
# `attach --mode` on an attached interface switches too, gaplessly.
timeout -s INT 60 ip netns exec "$NS_C" ping -n -c 3000 -i 0.01 -W 1 \
	-I "$C4" "$S4" >"$T/ping" 2>&1 &
pp=$!
sleep 0.3
run_capture sl attach "$IF_S" --mode native
r1=$RC
m1=$(xdp_mode "$NS_S" "$IF_S")
run_capture sl attach "$IF_S" --mode generic
r2=$RC
m2=$(xdp_mode "$NS_S" "$IF_S")
sleep 0.3
kill -INT "$pp" 2>/dev/null
wait "$pp"
tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T/ping")
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping")
if [ "$r1$r2" = 00 ] && [ "$m1$m2" = 12 ]; then ok "attach --mode switches native, then generic"; else
	fail "attach --mode switches native, then generic" "exits $r1 $r2, ip link modes $m1 $m2: $ERR"
fi
if [ "${tx:-0}" -ge 50 ] && [ "${rx:-x}" = 0 ]; then
	ok "no denied ping passes during attach --mode ($tx sent)"
else
	fail "no denied ping passes during attach --mode" "${rx:-?} of ${tx:-?} answered"
fi
if [ -z "$(tc_prog_id "$NS_S" "$IF_S" ingress)" ] && [ "$(status_hooks "$IF_S")" = "tc-out xdp" ]; then
	ok "no TC ingress filter is left after the switches"
else
	fail "no TC ingress filter is left after the switches" "$(hooks_in_kernel "$NS_S" "$IF_S"), status: $(status_hooks "$IF_S")"
fi

# ---- a failing interface change changes nothing ----
# A bridge device has no native XDP: its move from generic to native
# fails after the generic link is gone, so generic must come back. The same
# apply first attaches IF_S2 (listed first), which must be undone, and its
# new deny entry must not go live.
DUM=$P-b0
ip -n "$NS_S" link add "$DUM" type bridge && ip -n "$NS_S" link set "$DUM" up
cat >"$T/setup.yaml" <<EOF
interfaces:
  - name: $IF_S
    hooks: [xdp, tc]
    mode: native
  - name: $DUM
    hooks: [xdp, tc]
    mode: generic
deny:
  - $C4
EOF
cat >"$T/fail.yaml" <<EOF
interfaces:
  - name: $IF_S2
    hooks: [xdp, tc]
  - name: $IF_S
    hooks: [xdp, tc]
    mode: native
  - name: $DUM
    hooks: [xdp, tc]
    mode: native
deny:
  - $C4
  - $C4OK
EOF
check "apply: $IF_S native, $DUM generic" sl apply -f "$T/setup.yaml"
link0=$(status_field "$IF_S" link_id)
before=$(sl export)
run_capture sl apply -f "$T/fail.yaml"
if [ "$RC" -eq 1 ] && [[ "$ERR" == *"$DUM does not support native XDP"* ]]; then
	ok "apply with an impossible mode change fails (exit 1, names $DUM)"
else
	fail "apply with an impossible mode change fails (exit 1, names $DUM)" "exit $RC: $OUT $ERR"
fi
if [ "$(sl export)" = "$before" ]; then ok "the failed apply changed nothing (export)"; else
	fail "the failed apply changed nothing (export)" "$(diff <(echo "$before") <(sl export) | head -n5 | tr '\n' ' ')"
fi
if [ -z "$(sl status -j | jq -r --arg i "$IF_S2" '.attachments[] | select(.ifname == $i) | .hook')" ] &&
	[ -z "$(xdp_prog_id "$NS_S" "$IF_S2")" ] && [ -z "$(tc_prog_id "$NS_S" "$IF_S2" egress)" ]; then
	ok "the interface attached before the failure is detached again"
else
	fail "the interface attached before the failure is detached again" "$(hooks_in_kernel "$NS_S" "$IF_S2")"
fi
if [ "$(status_field "$DUM" mode)" = generic ] && [ "$(xdp_mode "$NS_S" "$DUM")" = 2 ] &&
	[ "$(xdp_prog_id "$NS_S" "$DUM")" = "$(status_field "$DUM" prog_id)" ] &&
	[ -z "$(tc_prog_id "$NS_S" "$DUM" ingress)" ] &&
	[ "$(status_hooks "$DUM")" = "tc-out xdp" ]; then
	ok "$DUM is back in generic mode, no TC ingress filter left"
else
	fail "$DUM is back in generic mode, no TC ingress filter left" \
		"status $(status_field "$DUM" mode) [$(status_hooks "$DUM")], ip link mode $(xdp_mode "$NS_S" "$DUM"), $(hooks_in_kernel "$NS_S" "$DUM")"
fi
if [ "$(status_field "$IF_S" link_id)" = "$link0" ]; then ok "$IF_S keeps its link"; else
	fail "$IF_S keeps its link" "link $link0 -> $(status_field "$IF_S" link_id)"
fi
if try_ping "$NS_C" "$S4" "$C4OK"; then ok "the new deny entry did not go live"; else
	fail "the new deny entry did not go live" "$C4OK is dropped"
fi
if try_ping "$NS_C" "$S4" "$C4"; then fail "the old deny entry still drops" "got a reply"; else
	ok "the old deny entry still drops"
fi

finish
