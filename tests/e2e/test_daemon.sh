#!/usr/bin/env bash
# daemon (docs/daemon.md): `sluice daemon` on 127.0.0.1 inside the lab's
# server namespace serves /metrics that promtool accepts, whose packet
# counters equal `sluice stats -j` once traffic stopped; block, apply and
# stats run while it serves (no lock held), and a scrape after an apply
# shows the new rules; SIGKILL and a restart lose and double nothing (the
# counters are the pins'); the events file gets the drops as JSON lines
# and rotates at its size with N backups; bad --metrics is exit 2, a port
# in use a clear error; the systemd unit verifies. Names dm-*, addresses
# 198.18.0.0/15 and 2001:db8::/32 only; lib.sh's trap removes the
# namespaces, links, pins and the daemons (started in the namespace).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "dm-$$"
PORT=9469
URL=http://127.0.0.1:$PORT/metrics
EV=$T/events.json

for tool in promtool; do
	if ! command -v "$tool" >/dev/null; then
		echo "not ok - $TEST: needs $tool (Debian: prometheus)"
		exit 1
	fi
done
if ! lab_up; then
	fail "lab is built" "namespaces, veth, addresses or http server failed"
	finish
fi

# daemon_start ARGS...: the daemon in the server namespace ($DPID); waits
# (bounded) for /metrics to answer.
daemon_start() {
	ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" daemon "$@" \
		>>"$T/daemon.log" 2>&1 &
	DPID=$!
	PIDS+=("$DPID")
	for _ in $(seq 50); do
		scrape >/dev/null 2>&1 && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

scrape() {
	timeout 10 ip netns exec "$NS_S" curl -sSf --max-time 8 "$URL"
}

# metric FILE SELECTOR: the value of the series `SELECTOR` (name and labels
# as printed) in FILE, or empty.
metric() {
	S=$2 awk 'substr($0, 1, length(ENVIRON["S"]) + 1) == ENVIRON["S"] " " { print $NF }' "$1"
}

# sum_metric FILE NAME LABEL_RE: the sum of NAME's series whose labels match
# LABEL_RE.
sum_metric() {
	awk -v n="$2" -v re="$3" 'index($0, n "{") == 1 && $0 ~ re { s += $NF } END { printf "%d\n", s }' "$1"
}

# counters_match: one scrape's drop and pass packets, deny-set drops, rule
# counters and each hook's packets and bytes equal `stats -j` ($ST) taken
# between two equal scrapes (retried a few times, for the odd neighbour
# solicitation).
MATCH=
ST=
counters_match() {
	local m1=$T/m1 m2=$T/m2 st a b
	for _ in 1 2 3 4 5; do
		MATCH="a scrape or stats -j failed"
		scrape >"$m1" || return 1
		st=$(timeout 10 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" stats -j) || return 1
		scrape >"$m2" || return 1
		a=$(for f in "$m1"; do
			echo "drop $(sum_metric "$f" sluice_packets_total 'action="drop"')"
			echo "pass $(sum_metric "$f" sluice_packets_total 'action="pass"')"
			echo "deny $(sum_metric "$f" sluice_packets_total 'reason="deny-set"')"
			echo "rules $(sum_metric "$f" sluice_rule_packets_total .)"
			echo "bytes $(sum_metric "$f" sluice_bytes_total .)"
			for h in xdp tc-in tc-out; do
				echo "$h $(sum_metric "$f" sluice_packets_total "hook=\"$h\"") $(sum_metric "$f" sluice_bytes_total "hook=\"$h\"")"
			done
		done)
		b=$(jq -r '"drop \(.actions.drop.packets)\npass \(.actions.pass.packets)\ndeny \(.reasons["deny-set"].packets)\nrules \([.rules[].packets] | add // 0)\nbytes \([.actions[].bytes] | add)\nxdp \(.hooks.xdp.packets) \(.hooks.xdp.bytes)\ntc-in \(.hooks["tc-in"].packets) \(.hooks["tc-in"].bytes)\ntc-out \(.hooks["tc-out"].packets) \(.hooks["tc-out"].bytes)"' <<<"$st")
		if [ "$a" = "$b" ] && cmp -s <(grep -v scrape_duration "$m1") <(grep -v scrape_duration "$m2"); then
			MATCH="$a"
			ST=$st
			return 0
		fi
		MATCH="metrics: $(echo $a) / stats -j: $(echo $b)"
		sleep 0.5
	done
	return 1
}

# ---- the systemd unit ----
sed "s|/usr/local/sbin/sluice|$SLUICE|g" "$ROOT_DIR/dist/sluice-daemon.service" >"$T/sluice-daemon.service"
out=$(systemd-analyze verify "$T/sluice-daemon.service" 2>&1)
if [ -z "$out" ] && grep -q '^ExecStart=/usr/local/sbin/sluice daemon' "$ROOT_DIR/dist/sluice-daemon.service" &&
	grep -q '^Restart=on-failure' "$ROOT_DIR/dist/sluice-daemon.service"; then
	ok "sluice-daemon.service passes systemd-analyze verify (ExecStart sluice daemon, Restart=on-failure)"
else
	fail "sluice-daemon.service passes systemd-analyze verify" "$out"
fi

# ---- usage errors ----
for bad in 127.0.0.1 127.0.0.1:0 127.0.0.1:70000 localhost:9469 "[::1]9469" 2001:db8::1:80; do
	refused "--metrics $bad: exit 2" 2 "--metrics expects ADDR:PORT" sl daemon --metrics "$bad"
done
refused "--events-backups without --events-file: exit 2" 2 "go with --events-file" sl daemon --events-backups 2

# ---- no state yet: the daemon serves sluice_up 0 and waits ----
if daemon_start --events-file "$EV" --events-max-bytes 2000 --events-backups 2; then
	ok "daemon starts without state, /metrics answers"
else
	fail "daemon starts without state, /metrics answers" "$(tail -n 3 "$T/daemon.log")"
	finish
fi
scrape >"$T/m0"
[ "$(metric "$T/m0" sluice_up)" = 0 ] && ok "no state: sluice_up 0" || fail "no state: sluice_up 0" "$(head -c 300 "$T/m0")"
[ ! -d "$BPF/sluice" ] && ok "the daemon creates no state" || fail "the daemon creates no state" "$(ls "$BPF/sluice")"
refused "a second daemon on the same port: one clear error" 1 "the port is in use" sl daemon --metrics 127.0.0.1:$PORT
code=$(timeout 5 ip netns exec "$NS_S" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
[ "$code" = 404 ] && ok "other paths: 404" || fail "other paths: 404" "$code"

# IPv6 loopback; a non-loopback address is served with a notice; an
# address not of this host is bad input.
ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" daemon --metrics "[::1]:$((PORT + 1))" >"$T/d6.log" 2>&1 &
p6=$!
PIDS+=("$p6")
ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" daemon --metrics "$S4:$((PORT + 2))" >"$T/dx.log" 2>&1 &
px=$!
PIDS+=("$px")
for _ in $(seq 30); do
	timeout 5 ip netns exec "$NS_S" curl -sf -g "http://[::1]:$((PORT + 1))/metrics" >"$T/m6" 2>/dev/null && break
	sleep 0.1
done
grep -q '^sluice_up 0' "$T/m6" && ok "--metrics [::1]:PORT serves over IPv6" || fail "--metrics [::1]:PORT serves over IPv6" "$(cat "$T/d6.log")"
for _ in $(seq 30); do
	timeout 5 ip netns exec "$NS_C" curl -sf "http://$S4:$((PORT + 2))/metrics" >"$T/mx" 2>/dev/null && break
	sleep 0.1
done
grep -q '^sluice_up 0' "$T/mx" && grep -q "not a loopback address" "$T/dx.log" &&
	ok "--metrics $S4:PORT serves the lab, with a notice" || fail "--metrics $S4:PORT serves the lab, with a notice" "$(cat "$T/dx.log")"
kill "$p6" "$px"
refused "--metrics on an address not of this host: exit 2" 2 "not an address of this host" sl daemon --metrics 198.18.9.9:$PORT

# ---- state, traffic, metrics ----
cat >"$T/a.yaml" <<YAML
events: {drops: true}
rules:
  - {action: drop, src: $C4, proto: icmp, comment: 'dm "icmp" drop\\path'}
  - {action: pass, proto: tcp, dport: $HTTP_PORT, comment: dm-http}
YAML
check "attach $IF_S" sl attach "$IF_S"
check "apply rules with comments and events: {drops: true}" sl apply -f "$T/a.yaml"
try_ping "$NS_C" "$S4" && fail "the rule drops the ping" "it got through" || ok "the rule drops the ping"
try_ping "$NS_C" "$S6" && ok "ping6 passes" || fail "ping6 passes" "no answer"
try_curl "$NS_C" "$S4" && ok "curl passes" || fail "curl passes" "no page"

scrape >"$T/m1"
[ "$(metric "$T/m1" sluice_up)" = 1 ] && ok "with state: sluice_up 1" || fail "with state: sluice_up 1" "$(grep sluice_up "$T/m1")"
if out=$(promtool check metrics <"$T/m1" 2>&1); then
	ok "promtool check metrics accepts /metrics"
else
	fail "promtool check metrics accepts /metrics" "$(head -n 3 <<<"$out")"
fi
ct=$(timeout 5 ip netns exec "$NS_S" curl -sS -o /dev/null -w '%{content_type}' "$URL")
[[ "$ct" == "text/plain; version=0.0.4"* ]] && ok "Content-Type text/plain; version=0.0.4" || fail "Content-Type" "$ct"
for m in sluice_packets_total sluice_bytes_total sluice_rule_packets_total sluice_rule_bytes_total \
	sluice_set_entry_packets_total sluice_events_lost_total sluice_build_info sluice_interface_packets_total; do
	grep -q "^# HELP $m " "$T/m1" && grep -q "^# TYPE $m " "$T/m1" && ok "$m has HELP and TYPE" ||
		fail "$m has HELP and TYPE" "missing"
done
rid=$(timeout 10 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" rule list -j | jq -r '.rules[0].id // .[0].id')
v=$(metric "$T/m1" "sluice_rule_packets_total{rule=\"$rid\",comment=\"dm \\\"icmp\\\" drop\\\\path\"}")
[ "${v:-0}" -ge 3 ] 2>/dev/null && ok "rule $rid's drops, comment escaped ($v)" ||
	fail "rule $rid's drops, comment escaped" "$(grep sluice_rule_packets_total "$T/m1")"
if counters_match; then ok "metrics equal stats -j ($(echo $MATCH))"; else fail "metrics equal stats -j" "$MATCH"; fi
# The hook label: the programs' hooks and no other on a state never
# upgraded; ingress counted at xdp, the replies at tc-out (attach's
# default hooks: no tc-in); the hooks' series sum to stats -j's totals,
# reason by reason and action by action.
hooks=$(grep -o '^sluice_packets_total{[^}]*}' "$T/m1" | grep -o 'hook="[^"]*"' | sort -u | tr '\n' ' ')
if [ "$hooks" = 'hook="tc-in" hook="tc-out" hook="xdp" ' ]; then
	ok "sluice_packets_total's hook label values: xdp, tc-in, tc-out"
else
	fail "sluice_packets_total's hook label values: xdp, tc-in, tc-out" "$hooks"
fi
xdp=$(sum_metric "$T/m1" sluice_packets_total 'hook="xdp"')
tcin=$(sum_metric "$T/m1" sluice_packets_total 'hook="tc-in"')
tcout=$(sum_metric "$T/m1" sluice_packets_total 'hook="tc-out"')
if [ "$xdp" -gt 0 ] && [ "$tcout" -gt 0 ] && [ "$tcin" = 0 ] &&
	[ "$(sum_metric "$T/m1" sluice_packets_total 'action="drop",reason="rule",hook="xdp"')" -ge 3 ]; then
	ok "ingress counts at xdp (the rule's drops too), egress at tc-out, none at tc-in ($xdp, $tcout, $tcin)"
else
	fail "ingress counts at xdp, egress at tc-out, none at tc-in" "xdp $xdp tc-out $tcout tc-in $tcin"
fi
# every reason/action series of the text: its hooks' sum is stats -j's cell
bad=$(awk '/^sluice_packets_total\{/ { l = $0; sub(/,hook="[^"]*"\}.*/, "", l); s[l] += $NF } END { for (k in s) print k, s[k] }' "$T/m1" |
	while read -r k v; do
		a=$(sed 's/.*action="\([^"]*\)".*/\1/' <<<"$k")
		r=$(sed 's/.*reason="\([^"]*\)".*/\1/' <<<"$k")
		w=$(jq --arg r "$r" --arg a "$a" '.reasons[$r][$a].packets' <<<"$ST")
		[ "$v" = "$w" ] || echo "$r/$a: hooks sum $v, stats -j $w"
	done | head -n 3)
[ -z "$bad" ] && ok "each reason/action: the hooks' series sum to stats -j's count" ||
	fail "each reason/action: the hooks' series sum to stats -j's count" "$bad"
bad=$(jq -r '. as $s | [$s.reasons | to_entries[] | .key as $r | .value | to_entries[]
	| select(.value | type == "object") | .key as $a
	| select(.value.packets != ([$s.hooks[] | .reasons[$r][$a].packets // 0] | add)) | "\($r)/\($a)"]
	| join(",")' <<<"$ST")
[ -z "$bad" ] && ok "stats -j: each reason/action is the sum of its hooks" ||
	fail "stats -j: each reason/action is the sum of its hooks" "$bad"
echo "# $(grep '^sluice_scrape_duration_seconds' "$T/m1")"
grep -q "^sluice_interface_packets_total{interface=\"$IF_S\",direction=\"ingress\",action=\"drop\"} [1-9]" "$T/m1" &&
	ok "interface counters of $IF_S" || fail "interface counters of $IF_S" "$(grep interface_packets "$T/m1" | head -n 3)"

# ---- the CLI runs while the daemon serves; a scrape sees an apply ----
t0=$(date +%s%N)
sed 's/dm-http/dm-http-2/' "$T/a.yaml" >"$T/b.yaml"
check "apply while the daemon runs" timeout 5 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" apply -f "$T/b.yaml"
check "block $C4 while the daemon runs" timeout 5 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" block "$C4"
check "stats while the daemon runs" timeout 5 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" stats -j
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 8000 ] && ok "block, apply and stats took ${ms} ms in all" || fail "block, apply and stats took little time" "${ms} ms"
# scrapes in a loop while the CLI writes
( for _ in $(seq 40); do scrape >/dev/null 2>&1; done ) &
sp=$!
check "block/unblock under scrapes" bash -c "for i in 1 2 3 4 5; do timeout 5 ip netns exec $NS_S $SLUICE --bpffs $BPF unblock $C4 && timeout 5 ip netns exec $NS_S $SLUICE --bpffs $BPF block $C4 || exit 1; done"
wait "$sp"
scrape >"$T/m2"
grep -q 'comment="dm-http-2"' "$T/m2" && ! grep -q 'comment="dm-http"}' "$T/m2" &&
	ok "a scrape after apply shows the new rules" || fail "a scrape after apply shows the new rules" "$(grep rule_packets "$T/m2")"
try_ping "$NS_C" "$S4" >/dev/null
grep -q "^sluice_set_entry_packets_total" <(scrape) && ok "set entry hits (deny $C4)" ||
	fail "set entry hits" "$(scrape | grep set_entry)"
if counters_match; then ok "metrics equal stats -j after more traffic"; else fail "metrics equal stats -j after more traffic" "$MATCH"; fi

# ---- SIGKILL, more traffic, restart: no reset, no double count ----
before=$(sum_metric "$T/m1" sluice_packets_total .)
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
try_ping "$NS_C" "$S4" >/dev/null
try_ping "$NS_C" "$S6" >/dev/null
if daemon_start --events-file "$EV" --events-max-bytes 2000 --events-backups 2; then
	ok "daemon restarts after SIGKILL"
else
	fail "daemon restarts after SIGKILL" "$(tail -n 3 "$T/daemon.log")"
fi
scrape >"$T/m3"
after=$(sum_metric "$T/m3" sluice_packets_total .)
[ "$after" -gt "$before" ] && ok "counters go on after the restart ($before -> $after)" || fail "counters go on after the restart" "$before -> $after"
down=$(awk '/^sluice_(packets|bytes)_total\{/ { if (FNR == NR) v[$1] = $NF; else if (($1 in v) && $NF < v[$1]) print $1, v[$1], "->", $NF; else if (!($1 in v)) print $1, "new" }' "$T/m1" "$T/m3" | head -n 3)
[ -z "$down" ] && ok "no action/reason/hook series went down or appeared over the restart" ||
	fail "no action/reason/hook series went down or appeared over the restart" "$down"
if counters_match; then ok "after SIGKILL and restart: metrics equal stats -j ($(echo $MATCH))"; else fail "after SIGKILL and restart: metrics equal stats -j" "$MATCH"; fi
try_ping "$NS_C" "$S6" && ok "the datapath ran on while the daemon was dead" || fail "the datapath ran on" "ping6 failed"

# ---- the events file: drops as JSON lines, rotation ----
for _ in 1 2 3 4; do try_ping "$NS_C" "$S4" >/dev/null; done
for _ in $(seq 30); do [ -e "$EV.2" ] && break; sleep 0.2; done
sleep 0.5
n=$(cat "$EV" "$EV".* 2>/dev/null | jq -c "select(.type == \"drop\" and .IP.source == \"$C4\")" 2>/dev/null | wc -l)
[ "$n" -ge 3 ] && ok "events file: the drops as JSON lines ($n)" || fail "events file: the drops as JSON lines" "$n; $(head -c 300 "$EV")"
bad=$(cat "$EV" "$EV".* 2>/dev/null | jq -c . 2>&1 >/dev/null | head -n 1)
[ -z "$bad" ] && ok "every line of the events files is JSON" || fail "every line of the events files is JSON" "$bad"
if [ -e "$EV.1" ] && [ -e "$EV.2" ] && [ ! -e "$EV.3" ]; then
	ok "the events file rotates: $(basename "$EV").1 and .2, no .3"
else
	fail "the events file rotates with 2 backups" "$(ls "$T" | grep events)"
fi
big=$(find "$T" -name 'events.json*' -size +2000c)
[ -z "$big" ] && ok "no events file is larger than 2000 bytes" || fail "no events file is larger than 2000 bytes" "$big"
mv "$EV" "$EV.moved"
kill -HUP "$DPID"
sleep 0.5
try_ping "$NS_C" "$S4" >/dev/null
for _ in $(seq 20); do [ -s "$EV" ] && break; sleep 0.2; done
[ -s "$EV" ] && ok "SIGHUP reopens the events file" || fail "SIGHUP reopens the events file" "$(ls "$T" | grep events)"
run_capture sl events -j
[ "$(grep -vc lost_events <<<"$OUT")" = 0 ] && ok "the daemon is the ring's one reader: sluice events sees none" ||
	fail "the daemon is the ring's one reader" "$(head -c 200 <<<"$OUT")"

# ---- a full ring: the daemon stopped (SIGSTOP) while 20,000 drops
# come; once it reads again, a lost_events line ----
kill -STOP "$DPID"
ip netns exec "$NS_C" "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20000):
    s.sendto(b"x", ("'"$S4"'", 9))
' 2>/dev/null
kill -CONT "$DPID"
for _ in $(seq 50); do cat "$EV" "$EV".* 2>/dev/null | grep -q lost_events && break; sleep 0.1; done
lost=$(cat "$EV" "$EV".* 2>/dev/null | jq -r 'select(.lost_events) | .lost_events.num_events_lost' 2>/dev/null | head -n 1)
[ "${lost:-0}" -gt 0 ] 2>/dev/null && ok "a full ring: a lost_events line in the events file ($lost lost)" ||
	fail "a full ring: a lost_events line in the events file" "$(ls -l "$T" | grep events)"
v=$(metric <(scrape) sluice_events_lost_total)
[ "${v:-0}" -ge "${lost:-1}" ] 2>/dev/null && ok "sluice_events_lost_total counts them ($v)" || fail "sluice_events_lost_total counts them" "$v"

# ---- events turned off by an apply: the daemon says so and runs on ----
grep -q "events are on: writing them to $EV" "$T/daemon.log" && ok "the daemon said when events turned on" ||
	fail "the daemon said when events turned on" "$(cat "$T/daemon.log")"
grep -v '^events:' "$T/b.yaml" >"$T/c.yaml"
n0=$(wc -l <"$T/daemon.log")
check "apply without events" sl apply -f "$T/c.yaml"
for _ in $(seq 40); do tail -n +$((n0 + 1)) "$T/daemon.log" | grep -q "events are off" && break; sleep 0.1; done
tail -n +$((n0 + 1)) "$T/daemon.log" | grep -q "events are off in the running config" && kill -0 "$DPID" &&
	ok "events off: the daemon says so and runs on" || fail "events off: the daemon says so and runs on" "$(tail -n 3 "$T/daemon.log")"

# ---- SIGTERM: a clean stop, the datapath stays ----
id=$(xdp_prog_id "$NS_S" "$IF_S")
kill -TERM "$DPID"
for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
wait "$DPID"
rc=$?
[ "$rc" = 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: exit 0" "exit $rc"
[ -n "$id" ] && [ "$(xdp_prog_id "$NS_S" "$IF_S")" = "$id" ] && ok "the XDP program stays after the daemon stops" ||
	fail "the XDP program stays" "$id -> $(xdp_prog_id "$NS_S" "$IF_S")"
try_ping "$NS_C" "$S4" && fail "the block stays after the daemon stops" "ping got through" ||
	ok "the block stays after the daemon stops"
finish
