#!/usr/bin/env bash
# sluice dump: a curl exchange (IPv4 and IPv6) captured with `sluice dump
# -w f.pcap --port --direction ingress --iface` is read back by tcpdump and
# tshark with the packet count of a reference tcpdump (-Q in) run on the
# same interface at the same time, the HTTP request lines visible; pcapng
# too; `-w - | tcpdump -r -` streams; `--verdict drop` of a blocked
# client's pings in pcapng with the reason in each packet's comment (tshark
# frame.comment); --snaplen truncates (frame.cap_len < frame.len, tcpdump's
# [|tcp]) of both directions (XDP ingress, TC egress); -c and
# -j; bad arguments and events off give one clear line, a non-zero exit,
# no file, and leave the capture switch at 0; a killed dump's switch is
# overwritten by the next. Names dp-*, addresses 198.18.0.0/15 and
# 2001:db8::/32 only; lib.sh's trap removes the namespaces, links, pins
# and files even on failure.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "dp-$$"

for tool in tcpdump tshark; do
	if ! command -v "$tool" >/dev/null; then
		echo "not ok - $TEST: needs $tool"
		exit 1
	fi
done
if ! lab_up; then
	fail "lab is built" "namespaces, veth, addresses or http server failed"
	finish
fi

# cap_value: the capture switch's caplen (sl_ev_cap), or "none".
cap_value() {
	bpftool -j map dump pinned "$BPF/sluice/sl_ev_cap" 2>/dev/null |
		jq -r '.[0].formatted.value.caplen // .[0].value.caplen // "none"' 2>/dev/null || echo none
}

# cap_off NAME: ok when the switch is at 0.
cap_off() {
	local v
	v=$(cap_value)
	[ "$v" = 0 ] && ok "$1: the capture switch is at 0" || fail "$1: the capture switch is at 0" "caplen $v"
}

# wait_for FILE TEXT: waits (3 s at most) until FILE holds TEXT.
wait_for() {
	for _ in $(seq 30); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_gone PID: waits (5 s at most) for PID to end, then reaps it; its
# exit status in RC.
wait_gone() {
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	wait "$1"
	RC=$?
}

# dump_bg ERR ARGS...: `sluice dump ARGS` in the background (bounded by
# timeout, unless NOTIMEOUT=1: then DPID is sluice itself, for SIGKILL),
# stderr in ERR, stdout in ERR.out, its pid in DPID; waits (3 s at most)
# until it says it captures.
dump_bg() {
	local err=$1
	shift
	if [ "${NOTIMEOUT:-0}" = 1 ]; then
		ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" dump "$@" >"$err.out" 2>"$err" &
	else
		timeout 30 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" dump "$@" >"$err.out" 2>"$err" &
	fi
	DPID=$!
	PIDS+=("$DPID")
	wait_for "$err" capturing
}

# stop_bg PID: SIGINT, then waits for it; its exit status in RC.
stop_bg() {
	kill -INT "$1" 2>/dev/null
	wait_gone "$1"
}

# count FILE [FILTER]: packets tcpdump reads from FILE.
count() {
	local f=$1
	shift
	tcpdump -n -r "$f" "$@" 2>/dev/null | wc -l
}

check "attach $IF_S" sl attach "$IF_S"
[ -e "$BPF/sluice/sl_ev_cap" ] && ok "attach pins sl_ev_cap" || fail "attach pins sl_ev_cap" "$(ls "$BPF/sluice" | tr '\n' ' ')"
cap_off "after attach"

# ---- bad arguments, events off: one line, non-zero, nothing changed ----
refused "dump without -w: exit 2" 2 "-w FILE is required" sl dump
refused "dump --snaplen 0: exit 2" 2 "--snaplen" sl dump -w "$T/bad.pcap" --snaplen 0
refused "dump --snaplen 4096: exit 2" 2 "--snaplen" sl dump -w "$T/bad.pcap" --snaplen 4096
refused "dump --format cap: exit 2" 2 "--format" sl dump -w "$T/bad.pcap" --format cap
refused "dump --verdict maybe: exit 2" 2 "--verdict" sl dump -w "$T/bad.pcap" --verdict maybe
refused "dump with events off: exit 1, says what to turn on" 1 "events: {sample: 1}" sl dump -w "$T/bad.pcap"
[ ! -e "$T/bad.pcap" ] && ok "refused dumps create no file" || fail "refused dumps create no file" "$(ls -l "$T/bad.pcap")"
cap_off "after the refused dumps"

# ---- every packet an event ----
cat >"$T/sample.yaml" <<YAML
events: {sample: 1}
YAML
check "apply events: {sample: 1}" sl apply -f "$T/sample.yaml"

# ---- a curl exchange, IPv4 and IPv6, next to a reference tcpdump ----
capture_curls() { # FILE ARGS...: dump FILE of two curls with ARGS
	local f=$1
	shift
	timeout 30 ip netns exec "$NS_S" tcpdump -n -U --immediate-mode -Q in -i "$IF_S" -w "$T/ref.pcap" \
		"tcp port $HTTP_PORT" 2>"$T/ref.err" &
	REF=$!
	PIDS+=("$REF")
	wait_for "$T/ref.err" "listening on"
	if ! dump_bg "$T/dump.err" -w "$f" "$@"; then
		fail "dump $* starts" "$(cat "$T/dump.err")"
		kill "$REF" 2>/dev/null
		return 1
	fi
	try_curl "$NS_C" "$S4" && try_curl "$NS_C" "$S6"
	CURLS=$?
	sleep 0.5
	stop_bg "$DPID"
	DRC=$RC
	stop_bg "$REF"
}

capture_curls "$T/c.pcap" --port "$HTTP_PORT" --direction ingress --iface "$IF_S"
[ "$CURLS" = 0 ] && ok "curl (IPv4 and IPv6) passes while dumping" || fail "curl (IPv4 and IPv6) passes while dumping" "no page"
[ "$DRC" = 0 ] && grep -q "packets written" "$T/dump.err" &&
	ok "dump ends on SIGINT with exit 0 and its summary" || fail "dump ends on SIGINT with exit 0 and its summary" "exit $DRC: $(cat "$T/dump.err")"
cap_off "after SIGINT"
ref=$(count "$T/ref.pcap")
n_td=$(count "$T/c.pcap")
n_ts=$(tshark -r "$T/c.pcap" 2>/dev/null | wc -l)
if [ "$ref" -ge 10 ] && [ "$n_td" = "$ref" ]; then
	ok "tcpdump reads the dump: $n_td packets, as the reference tcpdump -Q in"
else
	fail "tcpdump reads the dump with the reference count" "$n_td packets, reference $ref"
fi
[ "$n_ts" = "$ref" ] && ok "tshark reads the dump: $n_ts packets" || fail "tshark reads the dump" "$n_ts packets, reference $ref"
n4=$(count "$T/c.pcap" ip) n6=$(count "$T/c.pcap" ip6)
[ "$n4" -ge 5 ] && [ "$n6" -ge 5 ] && [ "$((n4 + n6))" = "$n_td" ] &&
	ok "IPv4 ($n4) and IPv6 ($n6) packets, all of them to port $HTTP_PORT" ||
	fail "IPv4 and IPv6 packets" "v4 $n4, v6 $n6 of $n_td"
n_get=$(tcpdump -n -r "$T/c.pcap" 2>/dev/null | grep -c "HTTP: GET / HTTP/1.1")
[ "$n_get" = 2 ] && ok "the HTTP request lines are in the capture (2)" ||
	fail "the HTTP request lines are in the capture" "$n_get of 2"
n_out=$(count "$T/c.pcap" "src port $HTTP_PORT")
[ "$n_out" = 0 ] && ok "--direction ingress: no server packet" || fail "--direction ingress: no server packet" "$n_out"
# the wall clock: within a minute of now
t0=$(tshark -r "$T/c.pcap" -T fields -e frame.time_epoch -c 1 2>/dev/null | cut -d. -f1)
now=$(date +%s)
[ -n "$t0" ] && [ $((now - t0)) -ge 0 ] && [ $((now - t0)) -lt 60 ] &&
	ok "timestamps are wall-clock time ($t0, now $now)" || fail "timestamps are wall-clock time" "$t0, now $now"

# pcapng, by the file name: the same count, interface named
capture_curls "$T/c.pcapng" --port "$HTTP_PORT" --direction ingress --iface "$IF_S"
ref=$(count "$T/ref.pcap")
n_ng=$(tshark -r "$T/c.pcapng" 2>/dev/null | wc -l)
n_td=$(count "$T/c.pcapng")
[ "$DRC" = 0 ] && [ "$ref" -ge 10 ] && [ "$n_ng" = "$ref" ] && [ "$n_td" = "$ref" ] &&
	ok "pcapng (by the name): tshark and tcpdump read $n_ng packets, as the reference" ||
	fail "pcapng: tshark and tcpdump read the reference count" "tshark $n_ng, tcpdump $n_td, reference $ref, exit $DRC"
ifn=$(tshark -r "$T/c.pcapng" -T fields -e frame.interface_name -c 1 2>/dev/null)
[ "$ifn" = "$IF_S" ] && ok "pcapng names the interface ($ifn)" || fail "pcapng names the interface" "'$ifn'"
cm=$(tshark -r "$T/c.pcapng" -T fields -e frame.comment -c 1 2>/dev/null)
[[ "$cm" == "sluice: pass reason=pass dir=ingress hook=xdp event=sample" ]] &&
	ok "pcapng: a passed packet's comment ($cm)" || fail "pcapng: a passed packet's comment" "'$cm'"
cap_off "after the pcapng dump"

# ---- -w - | tcpdump -r -, ended by -c ----
timeout 30 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" dump -w - -c 3 \
	--port "$HTTP_PORT" --direction ingress 2>"$T/pipe.err" |
	timeout 30 tcpdump -n -r - >"$T/pipe.out" 2>"$T/pipe.td" &
PPID_=$!
PIDS+=("$PPID_")
wait_for "$T/pipe.err" capturing
try_curl "$NS_C" "$S4" >/dev/null
wait_gone "$PPID_"
prc=$RC
n=$(grep -c "IP $C4\.[0-9]* > $S4\.$HTTP_PORT" "$T/pipe.out")
[ "$prc" = 0 ] && [ "$n" = 3 ] && [ "$(wc -l <"$T/pipe.out")" = 3 ] &&
	ok "dump -w - -c 3 | tcpdump -r -: 3 packets" ||
	fail "dump -w - -c 3 | tcpdump -r -" "exit $prc, $n matching: $(head -c 300 "$T/pipe.out") $(cat "$T/pipe.err" "$T/pipe.td")"
cap_off "after -c 3 to a pipe"

# ---- --snaplen truncates ----
capture_curls "$T/s.pcap" --snaplen 60 --port "$HTTP_PORT" --iface "$IF_S"
tshark -r "$T/s.pcap" -T fields -e frame.cap_len -e frame.len 2>/dev/null >"$T/s.len"
n=$(wc -l <"$T/s.len")
over=$(awk '$1 > 60' "$T/s.len" | wc -l)
cut=$(awk '$1 == 60 && $2 > 60' "$T/s.len" | wc -l)
whole=$(awk '$1 == $2' "$T/s.len" | wc -l)
[ "$n" -ge 10 ] && [ "$over" = 0 ] && [ "$cut" -ge 2 ] && [ "$((cut + whole))" = "$n" ] &&
	ok "--snaplen 60: $cut of $n packets cut to 60 bytes, none longer" ||
	fail "--snaplen 60 truncates" "$n packets, $over longer, $cut cut, $whole whole: $(head -n 5 "$T/s.len" | tr '\n' ' ')"
n_eg=$(count "$T/s.pcap" "src port $HTTP_PORT")
[ "$n_eg" -ge 4 ] && ok "both directions: $n_eg server packets from TC egress" ||
	fail "both directions: server packets from TC egress" "$n_eg"
n_cut=$(tcpdump -n -r "$T/s.pcap" 2>/dev/null | grep -c '\[|tcp\]')
[ "$n_cut" = "$cut" ] && ok "tcpdump marks the $cut cut packets ([|tcp])" ||
	fail "tcpdump marks the cut packets" "$n_cut marked, $cut cut"
tcpdump -r "$T/s.pcap" 2>&1 | head -n 1 | grep -q "snapshot length 60" &&
	ok "tcpdump reads snapshot length 60 from the file" || fail "tcpdump reads snapshot length 60" "$(tcpdump -r "$T/s.pcap" 2>&1 | head -n 1)"

# ---- -j: the summary as JSON on stdout ----
dump_bg "$T/j.err" -j -w "$T/j.pcap" -c 2 --port "$HTTP_PORT"
try_curl "$NS_C" "$S6" >/dev/null
wait_gone "$DPID"
jrc=$RC
[ "$jrc" = 0 ] && jq -e ".packets == 2 and .format == \"pcap\" and .snaplen == 2048 and .file == \"$T/j.pcap\" and (.lost_events.per_cpu | length) >= 1" "$T/j.err.out" >/dev/null 2>&1 &&
	[ "$(count "$T/j.pcap")" = 2 ] &&
	ok "-j -c 2: the JSON summary on stdout, 2 packets in the file" ||
	fail "-j -c 2: the JSON summary" "exit $jrc: $(cat "$T/j.err.out" "$T/j.err")"

# ---- drops, with the reason in the pcapng comment ----
cat >"$T/drops.yaml" <<YAML
events: {drops: true}
YAML
check "apply events: {drops: true}" sl apply -f "$T/drops.yaml"
check "block $C4" sl block "$C4"
if dump_bg "$T/drop.err" -w "$T/d.pcapng" --verdict drop --from "$C4"; then
	try_ping "$NS_C" "$S4" && fail "the blocked client's ping is dropped" "it got through" ||
		ok "the blocked client's ping is dropped"
	sleep 0.3
	stop_bg "$DPID"
else
	fail "dump --verdict drop starts" "$(cat "$T/drop.err")"
fi
tshark -r "$T/d.pcapng" -T fields -e icmp.type -e frame.comment 2>/dev/null >"$T/d.txt"
n=$(grep -c . "$T/d.txt")
good=$(grep -c "^8	sluice: drop reason=deny-set dir=ingress hook=xdp event=drop$" "$T/d.txt")
[ "$n" -ge 3 ] && [ "$good" = "$n" ] &&
	ok "--verdict drop: $n echo requests, reason deny-set in each comment (tshark frame.comment)" ||
	fail "--verdict drop: the pings with the reason in the comment" "$good of $n: $(head -n 3 "$T/d.txt")"
cap_off "after the drop dump"

# ---- a killed dump leaves the switch on; the next one overwrites it ----
if NOTIMEOUT=1 dump_bg "$T/kill.err" -w "$T/k.pcap" --snaplen 100; then
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	v=$(cap_value)
	[ "$v" = 100 ] && ok "a killed dump leaves its caplen (100)" || fail "a killed dump leaves its caplen" "$v"
	try_ping "$NS_C" "$S4" >/dev/null
	run_capture sl dump -w "$T/k2.pcapng" -c 1 --verdict drop --snaplen 64
	n=$(tshark -r "$T/k2.pcapng" -T fields -e frame.cap_len 2>/dev/null | head -n 1)
	[ "$RC" = 0 ] && [ "$n" -le 64 ] && [[ "$ERR" == *"capture switch was on (100 bytes)"* ]] &&
		ok "the next dump says it takes the switch over and runs with its own snaplen (cap_len $n)" ||
		fail "the next dump runs with its own snaplen" "exit $RC, cap_len $n: $ERR"
	cap_off "after the next dump"
else
	fail "dump for the kill starts" "$(cat "$T/kill.err")"
fi

check "reset" sl reset
[ ! -e "$BPF/sluice/sl_ev_cap" ] && ok "reset removes sl_ev_cap" || fail "reset removes sl_ev_cap" "still there"
finish
