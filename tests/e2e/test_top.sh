#!/usr/bin/env bash
# top: `sluice top --once -j` gives rates (pps, bps) while traffic runs and
# the same totals as `stats -j` when it has stopped; the client is ranked
# among the sources (conntrack on); the live view runs in a tmux session
# (send-keys, capture-pane): it draws the header, the rows of the passed
# and dropped traffic and the rule, `block` runs while it shows, and 'q'
# quits it and restores the screen. Bad arguments exit 2. Names tp-*,
# addresses 198.18.0.0/15 and 2001:db8::/32 only; lib.sh's trap removes
# the namespaces, links and pins, and the tmux session is killed on exit.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "tp-$$"
TMUX_S="tp-$$"
TMUX_SOCK="$T/tmux.sock"
tmx() { TERM=xterm-256color tmux -S "$TMUX_SOCK" "$@"; }
trap 'x=$?; tmx kill-server >/dev/null 2>&1; (exit $x); cleanup' EXIT

if ! command -v tmux >/dev/null; then
	fail "tmux is installed" "needs tmux (make deps)"
	finish
fi
if ! lab_up; then
	fail "lab is built" "namespaces, veth, addresses or http server failed"
	finish
fi

# Two more client addresses: CR's pings meet a drop rule (drops never take
# the conntrack fast path, so the rule counts each one), CD's the deny set.
CR=198.18.0.11 CD=198.18.0.12
ip -n "$NS_C" addr add "$CR/24" dev "$IF_C"
ip -n "$NS_C" addr add "$CD/24" dev "$IF_C"
cat >"$T/top.yaml" <<YAML
conntrack: {enabled: true}
deny: [$CD/32]
rules:
  - {action: drop, src: $CR, proto: icmp, comment: tp-icmp}
YAML
check "attach $IF_S" sl attach "$IF_S"
check "apply conntrack, a deny entry and a rule" sl apply -f "$T/top.yaml"

# ---- --once -j under traffic: rates ----
# 4 s of pings at 50/s from each address: passed (C4), dropped by the rule
# (CR) and by the deny set (CD).
pings=()
for a in "$C4" "$CR" "$CD"; do
	timeout 10 ip netns exec "$NS_C" ping -q -n -c 200 -i 0.02 -W 1 -I "$a" "$S4" >/dev/null 2>&1 &
	pings+=($!)
done
sleep 1
run_capture sl top --once -j -d 1
wait "${pings[@]}" 2>/dev/null
if [ "$RC" = 0 ] && jq -e '.interval >= 0.9 and .interval < 3' <<<"$OUT" >/dev/null 2>&1; then
	ok "top --once -j reads twice about --delay apart ($(jq -c .interval <<<"$OUT"))"
else
	fail "top --once -j reads twice about --delay apart" "exit $RC: ${OUT:0:300} $ERR"
fi
# 50 echo requests/s each: dropped by the rule, by the deny set; passed.
pp=$(jq -r '.reasons["rule"].pps // 0' <<<"$OUT" 2>/dev/null)
dp=$(jq -r '.reasons["deny-set"].pps // 0' <<<"$OUT" 2>/dev/null)
ap=$(jq -r '.actions.pass.pps // 0' <<<"$OUT" 2>/dev/null)
if awk -v p="$pp" -v d="$dp" -v a="$ap" 'BEGIN { exit !(p >= 25 && p <= 110 && d >= 25 && d <= 110 && a >= 25) }'; then
	ok "top --once -j: rule pps $pp, deny-set pps $dp, pass pps $ap near the 50/s sent"
else
	fail "top --once -j: rule, deny-set and pass pps near the 50/s sent" "rule $pp deny-set $dp pass $ap"
fi
if jq -e --arg c "$C4" '[.sources[] | select(.address == $c and .flows >= 1 and .packets > 0)] | length == 1' <<<"$OUT" >/dev/null 2>&1; then
	ok "top --once -j ranks the client $C4 among the sources"
else
	fail "top --once -j ranks the client among the sources" "$(jq -c '{conntrack, flows, sources}' <<<"$OUT" 2>/dev/null | head -c 300)"
fi
if jq -e '[.rules[] | select(.comment == "tp-icmp" and .pps > 0)] | length == 1' <<<"$OUT" >/dev/null 2>&1 &&
	jq -e --arg p "$CD/32" '[.entries[] | select(.prefix == $p and .pps > 0)] | length == 1' <<<"$OUT" >/dev/null 2>&1; then
	ok "top --once -j gives the rule's and the deny entry's pps"
else
	fail "top --once -j gives the rule's and the deny entry's pps" "$(jq -c '{rules, entries}' <<<"$OUT" 2>/dev/null | head -c 400)"
fi

# ---- quiet: the totals equal stats -j ----
sleep 0.5
top=$(sl top --once -j -d 0.2 2>&1)
st=$(sl stats -j 2>&1)
q='{a: [.actions[] | .packets], r: [.reasons[] | .packets], h: [.hooks[] | .packets, (.reasons[] | .packets)], e: [.entries[] | .packets], u: [.rules[] | .packets]}'
if [ -n "$top" ] && [ "$(jq -c "$q" <<<"$top" 2>&1)" = "$(jq -c "$q" <<<"$st" 2>&1)" ]; then
	ok "traffic stopped: top --once -j totals equal stats -j"
else
	fail "traffic stopped: top --once -j totals equal stats -j" "top $(jq -c "$q" <<<"$top" 2>&1) stats $(jq -c "$q" <<<"$st" 2>&1)"
fi
# (neighbour discovery may still pass a packet or two)
if jq -e '.actions.pass.pps < 15 and .actions.drop.pps == 0' <<<"$top" >/dev/null 2>&1; then
	ok "traffic stopped: top shows no drops and (almost) no passes per second"
else
	fail "traffic stopped: top shows no drops and (almost) no passes per second" "$(jq -c .actions <<<"$top" 2>/dev/null)"
fi

# ---- the text frame ----
run_capture sl top --once -d 0.2
if [ "$RC" = 0 ] && grep -q '^ACTION .*PPS .*BPS' <<<"$OUT" && grep -q '^deny-set ' <<<"$OUT" &&
	grep -q '^HOOK .*ACTION .*PPS' <<<"$OUT" && grep -Eq '^xdp +drop ' <<<"$OUT" &&
	grep -q 'tp-icmp' <<<"$OUT" && grep -q "$C4\$" <<<"$OUT" && ! grep -q $'\033' <<<"$OUT"; then
	ok "top --once prints one plain frame (actions, hooks, reasons, rule, source)"
else
	fail "top --once prints one plain frame" "exit $RC: ${OUT:0:400} $ERR"
fi

# ---- the live view in tmux ----
timeout 20 ip netns exec "$NS_C" ping -q -n -c 400 -i 0.02 -W 1 -I "$CR" "$S4" >/dev/null 2>&1 &
p4=$!
tmx new-session -d -s "$TMUX_S" -x 160 -y 70 \
	"ip netns exec $NS_S $SLUICE --bpffs $BPF top -d 0.5; echo top-exit=\$?; sleep 30"
pane=""
for _ in $(seq 1 40); do
	sleep 0.25
	pane=$(tmx capture-pane -p -t "$TMUX_S" 2>/dev/null)
	grep -q '^pass ' <<<"$pane" && grep -q 'tp-icmp' <<<"$pane" && break
done
if grep -q '^sluice top - ' <<<"$pane" && grep -q '^ACTION ' <<<"$pane" && grep -q '^REASON ' <<<"$pane" &&
	grep -q 'tp-icmp' <<<"$pane"; then
	ok "top in tmux draws the view"
else
	fail "top in tmux draws the view" "$(head -c 600 <<<"$pane")"
fi
# A rate shows on the rule row once two frames were read during traffic.
rate_ok=0
for _ in $(seq 1 20); do
	pane=$(tmx capture-pane -p -t "$TMUX_S" 2>/dev/null)
	r=$(awk '/tp-icmp/ { print $1; exit }' <<<"$pane")
	awk -v r="$r" 'BEGIN { exit !(r + 0 >= 20) }' && rate_ok=1 && break
	sleep 0.25
done
[ "$rate_ok" = 1 ] && ok "top in tmux shows the rule's rate ($r pps)" ||
	fail "top in tmux shows the rule's rate" "rule row PPS '$r': $(grep tp-icmp <<<"$pane")"
if timeout 10 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" block 198.18.9.0/24 >/dev/null 2>&1; then
	ok "block runs while top shows"
else
	fail "block runs while top shows" "block failed or timed out"
fi
tmx send-keys -t "$TMUX_S" q
quit=0
for _ in $(seq 1 20); do
	sleep 0.25
	pane=$(tmx capture-pane -p -t "$TMUX_S" 2>/dev/null)
	grep -q '^top-exit=0' <<<"$pane" && quit=1 && break
done
if [ "$quit" = 1 ] && ! grep -q '^ACTION ' <<<"$pane"; then
	ok "q quits top (exit 0) and restores the screen"
else
	fail "q quits top (exit 0) and restores the screen" "$(head -c 400 <<<"$pane")"
fi
wait "$p4" 2>/dev/null
tmx kill-server >/dev/null 2>&1

# ---- bad usage ----
run_capture sl top
[ "$RC" = 2 ] && grep -q 'needs a terminal' <<<"$ERR" && ok "top without a terminal: exit 2, says --once" ||
	fail "top without a terminal: exit 2" "exit $RC: $ERR"
run_capture sl top -j
[ "$RC" = 2 ] && ok "top -j without --once: exit 2" || fail "top -j without --once: exit 2" "exit $RC: $ERR"
for d in 0 abc -1 0.05 5000; do
	run_capture sl top --once -d "$d"
	[ "$RC" = 2 ] && grep -q -- '--delay' <<<"$ERR" && ok "top --delay $d: exit 2" ||
		fail "top --delay $d: exit 2" "exit $RC: $ERR"
done

finish
