#!/usr/bin/env bash
# Events: attached programs carry no events code until the config asks
# (apply moves the attachments to programs loaded with the switch, and
# back); a blocked client's drops appear in `sluice events -j` with the
# right reason (deny-set; rule, with the rule's id); the filters (--from,
# --to, --reason, --rule, --verdict, --proto, --port, --iface,
# --direction, -c) select; a `log` rule (rule add --log) logs its passes;
# --follow ends on -c and cleanly on SIGINT; the lost counters are in
# `events` and `stats -j`; reset removes the pins. Names ev-*, addresses
# 198.18.0.0/15 and 2001:db8::/32 only; lib.sh's trap removes the
# namespaces, links and pins even on failure.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "ev-$$"

if ! lab_up; then
	fail "lab is built" "namespaces, veth, addresses or http server failed"
	finish
fi

# events_json ARGS...: `sluice events -j ARGS` without the lost line.
events_json() {
	sl events -j "$@" 2>"$T/ev.err" | jq -c 'select(.lost_events == null)' 2>/dev/null
}

check "attach $IF_S" sl attach "$IF_S"
id0=$(xdp_prog_id "$NS_S" "$IF_S")
for m in sl_events sl_ev_lost sl_ev_conf sl_ev_log; do
	[ -e "$BPF/sluice/$m" ] && ok "attach pins $m" || fail "attach pins $m" "$(ls "$BPF/sluice" | tr '\n' ' ')"
done

# ---- off by default: nothing is written ----
try_ping "$NS_C" "$S4" >/dev/null
run_capture sl events -j
if [ "$RC" = 0 ] && [ "$(grep -vc lost_events <<<"$OUT")" = 0 ] &&
	jq -e 'select(.lost_events) | .lost_events.total == 0' <<<"$OUT" >/dev/null 2>&1; then
	ok "events off: events -j prints only the lost line (0)"
else
	fail "events off: events -j prints only the lost line (0)" "exit $RC: $OUT $ERR"
fi

# ---- on: apply moves the attachments to programs with events ----
cat >"$T/ev.yaml" <<YAML
events: {drops: true}
rules:
  - {action: drop, src: $C4, proto: icmp, comment: ev-block-icmp}
YAML
check "apply events: {drops: true} and a drop rule" sl apply -f "$T/ev.yaml"
id1=$(xdp_prog_id "$NS_S" "$IF_S")
[ -n "$id1" ] && [ "$id1" != "$id0" ] && ok "apply with events reloads the XDP program ($id0 -> $id1)" ||
	fail "apply with events reloads the XDP program" "$id0 -> $id1"
sl status -j 2>/dev/null | jq -e '[.. | .features? // empty | .[]] | index("events") != null' >/dev/null &&
	ok "status -j lists the events feature" || fail "status -j lists the events feature" "$(sl status -j 2>&1 | head -c 300)"
rid=$(sl rule list -j 2>/dev/null | jq -r '.rules[0].id // .[0].id' 2>/dev/null)

if try_ping "$NS_C" "$S4"; then
	fail "the blocked client's ping is dropped" "it got through"
else
	ok "the blocked client's ping is dropped"
fi
check "block $C6" sl block "$C6"
try_ping "$NS_C" "$S6" && fail "the blocked client's ping6 is dropped" "it got through" ||
	ok "the blocked client's ping6 is dropped"

out=$(events_json)
n_rule=$(jq -c "select(.type == \"drop\" and .verdict == \"drop\" and .reason == \"rule\" and .drop_reason_desc == \"rule\" and .rule == $rid and .IP.source == \"$C4\" and .IP.destination == \"$S4\" and .l4.ICMPv4.type == 8 and .interface.name == \"$IF_S\" and .traffic_direction == \"INGRESS\" and .hook == \"xdp\")" <<<"$out" | wc -l)
n_set=$(jq -c "select(.type == \"drop\" and .reason == \"deny-set\" and .IP.source == \"$C6\" and .IP.ipVersion == \"IPv6\" and (.rule == null))" <<<"$out" | wc -l)
[ "$n_rule" -ge 3 ] && ok "events -j: the ping's drops, reason rule, rule $rid, fields ($n_rule)" ||
	fail "events -j: the ping's drops, reason rule, rule $rid" "$n_rule matching of: $(head -c 600 <<<"$out")"
# (the blocked client's neighbour solicitations are dropped too: ping6 may
# send none of its echo requests)
[ "$n_set" -ge 1 ] && ok "events -j: the ping6's drops, reason deny-set ($n_set)" ||
	fail "events -j: the ping6's drops, reason deny-set" "$n_set matching of: $(head -c 600 <<<"$out")"
out=$(events_json)
[ -z "$out" ] && ok "events without --follow consumed what was queued" ||
	fail "events without --follow consumed what was queued" "$(head -c 300 <<<"$out")"

# ---- filters ----
# filt NAME WANT_MIN JQ_ALL ARGS...: after a ping and a ping6, the events
# of ARGS number at least WANT_MIN and all satisfy JQ_ALL.
filt() {
	local name=$1 min=$2 all=$3 n bad
	shift 3
	try_ping "$NS_C" "$S4" >/dev/null
	try_ping "$NS_C" "$S6" >/dev/null
	out=$(events_json "$@")
	n=$(grep -c . <<<"$out")
	bad=$(jq -c "select(($all) | not)" <<<"$out" | head -n 2)
	if [ "$n" -ge "$min" ] && [ -z "$bad" ]; then
		ok "events $* ($n events)"
	else
		fail "events $*" "$n events, wanted >= $min; not matching: $bad"
	fi
}
filt from 1 ".IP.source == \"$C6\"" --from 2001:db8::/64
filt to 3 ".IP.destination == \"$S4\"" --to "$S4"
filt reason 1 '.reason == "deny-set"' --reason deny-set
filt rule 3 ".rule == $rid" --rule "$rid"
filt proto 1 '.l4.ICMPv6 != null' --proto icmpv6
filt verdict 0 'false' --verdict pass
filt iface 4 ".interface.name == \"$IF_S\"" --iface "$IF_S"
filt direction 0 'false' --direction egress
filt port 0 'false' --port 443
filt count 2 'true' -c 2
n=$(events_json -c 2 | wc -l)
[ "$n" -le 2 ] && ok "-c 2 prints at most 2 events" || fail "-c 2 prints at most 2 events" "$n"

# ---- a log rule (rule add --log): its passes are logged ----
check "rule add pass tcp dport $HTTP_PORT --log" sl rule add pass --proto tcp --dport "$HTTP_PORT" --log
lid=$(sl rule list -j 2>/dev/null | jq -r "[.rules // . | .[] | select(.log == \"true\")][0].id" 2>/dev/null)
try_curl "$NS_C" "$S4" && ok "curl passes the log rule" || fail "curl passes the log rule" "no page"
out=$(events_json --type log)
n=$(jq -c "select(.type == \"log\" and .verdict == \"pass\" and .rule == $lid and .l4.TCP.destination_port == $HTTP_PORT)" <<<"$out" | wc -l)
[ "$n" -ge 3 ] && ok "events --type log: the curl's packets, rule $lid ($n)" ||
	fail "events --type log: the curl's packets, rule $lid" "$n of: $(head -c 400 <<<"$out")"
sl export 2>/dev/null | grep -q 'log: true' && ok "export writes log: true" ||
	fail "export writes log: true" "$(sl export 2>&1 | tail -n 5)"

# ---- --follow: -c ends it; SIGINT ends it cleanly ----
sl events -j --follow -c 2 >"$T/follow.out" 2>&1 &
fp=$!
sleep 0.5
try_ping "$NS_C" "$S4" >/dev/null
for _ in $(seq 50); do kill -0 "$fp" 2>/dev/null || break; sleep 0.1; done
if ! kill -0 "$fp" 2>/dev/null && wait "$fp" && [ "$(grep -vc lost_events "$T/follow.out")" = 2 ]; then
	ok "events --follow -c 2 exits after 2 events"
else
	kill "$fp" 2>/dev/null
	fail "events --follow -c 2 exits after 2 events" "$(head -c 300 "$T/follow.out")"
fi
ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" events --follow >"$T/follow2.out" 2>&1 &
fp=$!
sleep 0.5
try_ping "$NS_C" "$S4" >/dev/null
kill -INT "$fp"
for _ in $(seq 30); do kill -0 "$fp" 2>/dev/null || break; sleep 0.1; done
wait "$fp"
rc=$?
if [ "$rc" = 0 ] && grep -q "drop.*rule $rid" "$T/follow2.out" && grep -q "lost (ring full)" "$T/follow2.out"; then
	ok "events --follow: text lines, ends with exit 0 and the lost line on SIGINT"
else
	fail "events --follow: text lines, ends with exit 0 and the lost line on SIGINT" "exit $rc: $(head -c 300 "$T/follow2.out")"
fi

# ---- lost counters in stats -j ----
sl stats -j 2>/dev/null | jq -e '.events_lost.total >= 0 and (.events_lost.per_cpu | length) >= 1' >/dev/null &&
	ok "stats -j has events_lost (total, per_cpu)" || fail "stats -j has events_lost" "$(sl stats -j 2>&1 | tail -c 300)"

# ---- bad input ----
refused "events --reason nonsense: exit 2" 2 "unknown reason" sl events --reason nonsense
refused "events --verdict maybe: exit 2" 2 "--verdict" sl events --verdict maybe
refused "events --from 198.18.0.1/8: exit 2" 2 "--from" sl events --from 198.18.0.1/8

# ---- off again: apply without events and log rules moves back ----
cat >"$T/off.yaml" <<YAML
rules:
  - {action: drop, src: $C4, proto: icmp}
YAML
check "apply without events" sl apply -f "$T/off.yaml"
id2=$(xdp_prog_id "$NS_S" "$IF_S")
sl status -j 2>/dev/null | jq -e '[.. | .features? // empty | .[]] | index("events") == null and index("rules") != null' >/dev/null &&
	ok "status -j: no events feature after events are off" || fail "status -j: no events feature after events are off" "$(sl status -j 2>&1 | head -c 300)"
[ -n "$id2" ] && [ "$id2" != "$id1" ] && ok "apply without events reloads the XDP program ($id1 -> $id2)" ||
	fail "apply without events reloads the XDP program" "$id1 -> $id2"
events_json >/dev/null
try_ping "$NS_C" "$S4" >/dev/null
out=$(events_json)
[ -z "$out" ] && ok "events off again: the drops write nothing" || fail "events off again: the drops write nothing" "$(head -c 300 <<<"$out")"

check "reset" sl reset
[ ! -e "$BPF/sluice/sl_events" ] && ok "reset removes the events pins" || fail "reset removes the events pins" "sl_events still there"
finish
