#!/usr/bin/env bash
# demo.sh: the narrated Sluice demo (`make demo` runs it after building).
#
# Builds a two-namespace lab (client 198.18.0.1 / 2001:db8::1, server
# 198.18.0.2 / 2001:db8::2, joined by a veth pair), serves HTTP on the
# server, attaches Sluice to the server's veth, then blocks and unblocks
# the client's IPv4 and IPv6 prefixes, applies rules, bans, SYN cookies,
# then captures packets (sluice dump), takes a top snapshot and scrapes the
# daemon's metrics, showing every command it runs and
# checking that every step behaves as narrated. Exits 0 only if all did.
# Leaves nothing behind: namespaces, veths, the bpffs and its pins go in
# the EXIT trap even on failure or Ctrl-C.
set -u
cd "$(dirname "$0")/.." || exit 1
SLUICE=$PWD/build/sluice
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (namespaces, XDP, bpffs)" >&2
	exit 1
fi
if [ ! -x "$SLUICE" ]; then
	echo "demo: $SLUICE is missing: run 'make all' first" >&2
	exit 1
fi

P=sld$$
NS_C=$P-client NS_S=$P-server
IF_C=$P-c IF_S=$P-s
C4=198.18.0.1 S4=198.18.0.2 C6=2001:db8::1 S6=2001:db8::2
PORT=8080
T=$(mktemp -d /tmp/sluice-demo.XXXXXX)
BPF=$T/bpf
HTTP_PID=

if [ -t 1 ]; then
	B=$(tput bold 2>/dev/null) D=$(tput dim 2>/dev/null) N=$(tput sgr0 2>/dev/null)
else
	B='' D='' N=''
fi

teardown() {
	set +e
	if mountpoint -q "$BPF" 2>/dev/null && [ -d "$BPF/sluice" ] &&
		ip netns pids "$NS_S" >/dev/null 2>&1; then
		timeout 20 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" reset >/dev/null 2>&1
	fi
	[ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
	for ns in "$NS_C" "$NS_S"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null # only our own processes live there
		done
	done
	[ -n "$HTTP_PID" ] && timeout 5 tail --pid="$HTTP_PID" -f /dev/null 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	for _ in 1 2 3; do
		mountpoint -q "$BPF" 2>/dev/null || break
		umount "$BPF" 2>/dev/null || umount -l "$BPF" 2>/dev/null
	done
	rm -rf "$T"
}
on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	teardown
	exit "$rc"
}
trap on_exit EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

# ---- narration ----
STEP=0 TITLE='' WHY=''

step() {
	STEP=$((STEP + 1)) TITLE=$1 WHY=''
	echo
	echo "${B}=== Step $STEP: $1 ===${N}"
	[ $# -gt 1 ] && echo "$2"
}

# Records the first way the current step went wrong.
wrong() { [ -n "$WHY" ] || WHY=$1; }

# The end of a step: stop the demo if it did not behave as narrated.
done_step() {
	if [ -n "$WHY" ]; then
		echo "${B}demo: step $STEP ($TITLE) did not behave as narrated: $WHY${N}"
		exit 1
	fi
	echo "${D}(step $STEP behaved as narrated)${N}"
}

# show WHERE DISPLAY CMD...: print "[WHERE] $ DISPLAY", run CMD (a bounded
# command or one of the wrappers below), indent its output; RC holds its
# exit status, OUT its output.
show() {
	local where=$1 display=$2
	shift 2
	echo "${B}[$where]\$ $display${N}"
	OUT=$("$@" 2>&1)
	RC=$?
	[ -n "$OUT" ] && echo "$OUT" | sed 's/^/    /'
	return 0
}

# Commands run inside the namespaces; `sluice` is the CLI on the demo's bpffs.
# Each is bounded in time.
client() { timeout 30 ip netns exec "$NS_C" "$@"; }
server() { timeout 30 ip netns exec "$NS_S" "$@"; }
sluice() { timeout 60 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" "$@"; }

url() { if [[ $1 == *:* ]]; then echo "http://[$1]:$PORT/"; else echo "http://$1:$PORT/"; fi; }

# curl_shows DST: the client fetches the page. ping_shows DST: 3 pings.
curl_shows() {
	show client "curl -sS -g --connect-timeout 2 --max-time 3 $(url "$1")" \
		client curl -sS -g --connect-timeout 2 --max-time 3 "$(url "$1")"
	[ "$RC" = 0 ] && [[ "$OUT" == *"Hello from the server"* ]]
}
ping_shows() {
	show client "ping -q -n -c 3 -i 0.3 -W 1 $1" client ping -q -n -c 3 -i 0.3 -W 1 "$1"
	[ "$RC" = 0 ]
}

# works DST WHAT / fails DST WHAT: curl and ping, with the expected outcome.
# A working probe gets one retry (neighbour re-resolution after an unblock).
works() {
	curl_shows "$1" || curl_shows "$1" || wrong "curl over $2 failed"
	ping_shows "$1" || ping_shows "$1" || wrong "ping over $2 failed"
}
fails() {
	curl_shows "$1" && wrong "curl over $2 still worked"
	ping_shows "$1" && wrong "ping over $2 still worked"
	return 0
}

# sluice_shows DISPLAY ARGS...: run and show a sluice command; it must exit 0.
sluice_shows() {
	local display=$1
	shift
	show server "sluice $display" sluice "$@"
	[ "$RC" = 0 ] || wrong "'sluice $display' exited $RC"
}

# ---- the demo ----
echo "${B}Sluice demo: an XDP firewall blocking a client by prefix, IPv4 and IPv6${N}"
echo "Every command is shown as [where]\$ command. 'sluice' stands for"
echo "  ip netns exec $NS_S $SLUICE --bpffs $BPF"
echo "(the demo keeps its state on its own bpffs, removed at the end)."

step "build the lab" \
	"Two network namespaces joined by a veth pair: the client $C4 / $C6, the server $S4 / $S6."
mkdir -p "$BPF" "$T/www"
show host "mount -t bpf bpf $BPF" mount -t bpf bpf "$BPF"
[ "$RC" = 0 ] || wrong "cannot mount a bpffs at $BPF"
show host "ip netns add $NS_C; ip netns add $NS_S" \
	sh -c "ip netns add $NS_C && ip netns add $NS_S"
[ "$RC" = 0 ] || wrong "cannot create the namespaces"
show host "ip -n $NS_C link add $IF_C type veth peer name $IF_S netns $NS_S" \
	ip -n "$NS_C" link add "$IF_C" type veth peer name "$IF_S" netns "$NS_S"
[ "$RC" = 0 ] || wrong "cannot create the veth pair"
show client "ip addr add $C4/24 dev $IF_C; ip addr add $C6/64 dev $IF_C nodad; ip link set $IF_C up" \
	client sh -c "ip link set lo up && ip addr add $C4/24 dev $IF_C &&
		ip addr add $C6/64 dev $IF_C nodad && ip link set $IF_C up"
[ "$RC" = 0 ] || wrong "cannot configure the client"
show server "ip addr add $S4/24 dev $IF_S; ip addr add $S6/64 dev $IF_S nodad; ip link set $IF_S up" \
	server sh -c "ip link set lo up && ip addr add $S4/24 dev $IF_S &&
		ip addr add $S6/64 dev $IF_S nodad && ip link set $IF_S up"
[ "$RC" = 0 ] || wrong "cannot configure the server"
done_step

step "serve HTTP on the server" "A Python HTTP server listening on port $PORT, IPv4 and IPv6."
echo "Hello from the server namespace ($S4 / $S6)" >"$T/www/index.html"
echo "${B}[server]\$ python3 -m http.server --bind :: $PORT &${N}"
timeout 600 ip netns exec "$NS_S" "$PY" -m http.server --bind :: \
	--directory "$T/www" "$PORT" >"$T/http.log" 2>&1 &
HTTP_PID=$!
for _ in $(seq 50); do
	server ss -Htln "sport = :$PORT" | grep -q . && break
	sleep 0.1
done
show server "ss -tln sport = :$PORT" server ss -tln "sport = :$PORT"
[[ "$OUT" == *":$PORT"* ]] || wrong "the HTTP server is not listening"
done_step

step "attach Sluice to the server's veth" \
	"The XDP program sees every frame entering $IF_S, before the kernel's stack does."
sluice_shows "attach $IF_S" attach "$IF_S"
sluice_shows "status" status
id=$(sluice status -j 2>/dev/null | jq -r --arg i "$IF_S" '.attachments[] | select(.ifname == $i and .hook == "xdp") | .prog_id')
show server "ip link show dev $IF_S" server ip link show dev "$IF_S"
[ -n "$id" ] && [[ "$OUT" == *"prog/xdp id $id"* ]] ||
	wrong "ip link does not show the program ($id) that status lists"
done_step

step "with nothing blocked, curl and ping work (IPv4 and IPv6)"
works "$S4" IPv4
works "$S6" IPv6
done_step

step "block the client's IPv4 /24" "The deny set matches source addresses by longest prefix."
sluice_shows "block 198.18.0.0/24" block 198.18.0.0/24
sluice_shows "block --list" block --list
done_step

step "curl and ping over IPv4 now fail; IPv6 still works" \
	"The client's IPv4 packets are dropped at XDP; its IPv6 address is not covered."
fails "$S4" IPv4
works "$S6" IPv6
done_step

step "block the client's IPv6 /64"
sluice_shows "block 2001:db8::/64" block 2001:db8::/64
done_step

step "IPv6 fails too"
fails "$S6" IPv6
done_step

step "sluice stats: the drops by reason and by set entry"
sluice_shows "stats" stats
st=$(sluice stats -j 2>/dev/null)
echo "$st" | jq -e '.reasons["deny-set"].drop.packets > 0 and .actions.drop.packets > 0' >/dev/null 2>&1 ||
	wrong "stats show no deny-set drops"
for p in 198.18.0.0/24 2001:db8::/64; do
	echo "$st" | jq -e --arg p "$p" '[.entries[] | select(.set == "deny" and .prefix == $p)][0].packets > 0' \
		>/dev/null 2>&1 || wrong "stats show no drops for the entry $p"
done
done_step

step "unblock both prefixes"
sluice_shows "unblock 198.18.0.0/24 2001:db8::/64" unblock 198.18.0.0/24 2001:db8::/64
sluice_shows "block --list -j" block --list -j
[ "$(echo "$OUT" | jq length 2>/dev/null)" = 0 ] || wrong "the deny set is not empty"
done_step

step "everything works again"
works "$S4" IPv4
works "$S6" IPv6
done_step

step "apply a config file: rules both ways and a block list from a file" \
	"examples/sluice.yaml: attach with XDP (ingress) and TC (egress), drop IPv4 echo requests in, count HTTP requests, forbid HTTP out."
sed "s/name: veth0/name: $IF_S/" examples/sluice.yaml >"$T/sluice.yaml"
cp examples/blocklist.txt "$T/blocklist.txt"
show host "cat sluice.yaml" cat "$T/sluice.yaml"
sluice_shows "apply -f sluice.yaml" apply -f "$T/sluice.yaml"
[[ "$OUT" == *applied* ]] || wrong "apply did not report 'applied'"
sluice_shows "block --list" block --list
[ "$(sluice block --list -j 2>/dev/null | jq length)" = 3 ] ||
	wrong "the block list file did not load 3 entries"
sluice_shows "status" status
done_step

step "the rules at work, in both directions"
curl_shows "$S4" || curl_shows "$S4" || wrong "curl to the server (counted, not dropped) failed"
ping_shows "$S4" && wrong "IPv4 ping still answered (rule 10 drops echo requests)"
ping_shows "$S6" || ping_shows "$S6" || wrong "IPv6 ping failed (rule 10 is IPv4 only)"
echo "Hello from the client namespace" >"$T/www-c.html"
mkdir -p "$T/wwwc" && mv "$T/www-c.html" "$T/wwwc/index.html"
timeout 120 ip netns exec "$NS_C" "$PY" -m http.server --bind :: \
	--directory "$T/wwwc" "$PORT" >"$T/http-c.log" 2>&1 &
CHTTP_PID=$!
for _ in $(seq 50); do
	client ss -Htln "sport = :$PORT" | grep -q . && break
	sleep 0.1
done
show server "curl -sS --connect-timeout 2 --max-time 3 $(url "$C4")" \
	server curl -sS --connect-timeout 2 --max-time 3 "$(url "$C4")"
[ "$RC" != 0 ] || wrong "the server's HTTP request out was not dropped (rule 30, TC egress)"
kill "$CHTTP_PID" 2>/dev/null
wait "$CHTTP_PID" 2>/dev/null
done_step

step "rule counters moved" "Each rule counts the packets and bytes it decided (count rules: that it saw)."
sluice_shows "rule list" rule list
rl=$(sluice rule list -j 2>/dev/null)
for id in 10 20 30; do
	echo "$rl" | jq -e --argjson i "$id" '.rules[] | select(.id == $i) | .packets > 0' >/dev/null 2>&1 ||
		wrong "rule $id counted nothing"
done
sluice_shows "export" export
printf 'policy: pass\n' >"$T/empty.yaml"
sluice_shows "apply -f empty.yaml   # no rules, no sets; interfaces stay" apply -f "$T/empty.yaml"
works "$S4" IPv4
done_step

step "ban the client for 3 seconds; the ban expires by itself" \
	"Bans are runtime state (kept by apply and upgrades); the datapath ignores an expired ban, no timer needed."
sluice_shows "ban add $C4 --for 3s" ban add "$C4" --for 3s
sluice_shows "ban list" ban list
ping_shows "$S4" && wrong "ping still answered while banned"
curl_shows "$S6" || curl_shows "$S6" || wrong "IPv6 (not banned) failed"
show host "sleep 3.5" sleep 3.5
curl_shows "$S4" || curl_shows "$S4" || wrong "curl failed after the ban expired"
sluice_shows "stats   # the banned packets have their reason" stats
sluice stats -j 2>/dev/null | jq -e '.reasons.banned.drop.packets > 0' >/dev/null 2>&1 ||
	wrong "stats show no drops for reason banned"
done_step

step "SYN cookies from XDP for the HTTP port" \
	"conntrack on and synproxy on port $PORT: XDP answers each SYN with a SYN cookie; the kernel's SYNPROXY (configured by Sluice) completes the connection. On veth the answer reaches a peer that runs XDP, so the client's end gets an empty XDP program."
client ip link set dev "$IF_C" xdp obj build/xdp_empty.bpf.o sec xdp ||
	wrong "cannot put an empty XDP program on the client's veth"
printf 'policy: pass\nconntrack: {enabled: true}\nsynproxy: {ports: [%s]}\n' "$PORT" >"$T/syn.yaml"
show host "cat syn.yaml" cat "$T/syn.yaml"
sluice_shows "apply -f syn.yaml" apply -f "$T/syn.yaml"
sluice_shows "synproxy list" synproxy list
curl_shows "$S4" || curl_shows "$S4" || wrong "curl through SYN cookies (IPv4) failed"
curl_shows "$S6" || curl_shows "$S6" || wrong "curl through SYN cookies (IPv6) failed"
sluice stats -j 2>/dev/null | jq -e '.reasons["syn-cookie"].tx.packets >= 2' >/dev/null 2>&1 ||
	wrong "stats show fewer than 2 SYNs answered (reason syn-cookie)"
sluice_shows "ct list   # the connections, tracked from their cookie ACK" ct list
done_step

step "watch it: a capture, a live snapshot and Prometheus metrics" \
	"With events on (every verdict sampled), 'sluice dump' writes the packets of the events to a pcap file that tcpdump reads; 'top --once -j' is one snapshot of the live view; 'sluice daemon' serves the pinned counters as Prometheus metrics."
printf 'policy: pass\nconntrack: {enabled: true}\nevents: {sample: 1}\n' >"$T/watch.yaml"
sluice_shows "apply -f watch.yaml   # events: {sample: 1}" apply -f "$T/watch.yaml"
timeout 20 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" dump -w "$T/demo.pcap" -c 8 --port "$PORT" \
	--direction ingress >/dev/null 2>"$T/dump.err" &
DPID=$!
sleep 0.5
echo "${B}[server]\$ sluice dump -w demo.pcap -c 8 --port $PORT --direction ingress &${N}"
for _ in 1 2 3; do curl_shows "$S4" >/dev/null || true; done
wait "$DPID" 2>/dev/null || wrong "sluice dump did not end after 8 packets"
show host "tcpdump -n -r demo.pcap | head -4" sh -c "tcpdump -n -r '$T/demo.pcap' 2>/dev/null | head -4"
[ "$(tcpdump -n -r "$T/demo.pcap" 2>/dev/null | wc -l)" = 8 ] || wrong "tcpdump does not read 8 packets back"
show server "sluice top --once -j -d 0.5 | jq -c '{pass: .actions.pass, sources}'" \
	sh -c "timeout 20 ip netns exec '$NS_S' '$SLUICE' --bpffs '$BPF' top --once -j -d 0.5 | jq -c '{pass: .actions.pass, sources}'"
[[ "$OUT" == *"$C4"* ]] || wrong "top does not rank the client among the sources"
timeout 30 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" daemon --metrics 127.0.0.1:9469 >/dev/null 2>&1 &
MPID=$!
echo "${B}[server]\$ sluice daemon --metrics 127.0.0.1:9469 &${N}"
for _ in $(seq 20); do server curl -s -o /dev/null http://127.0.0.1:9469/metrics && break; sleep 0.2; done
show server "curl -s 127.0.0.1:9469/metrics | grep '^sluice_packets_total' | head -3" \
	sh -c "timeout 10 ip netns exec '$NS_S' curl -s http://127.0.0.1:9469/metrics | grep '^sluice_packets_total' | head -3"
[[ "$OUT" == *'sluice_packets_total{'* ]] || wrong "the metrics endpoint shows no sluice_packets_total"
kill "$MPID" 2>/dev/null
wait "$MPID" 2>/dev/null
done_step

step "teardown" "Detach and unpin everything, delete the namespaces, unmount the bpffs."
sluice_shows "reset" reset
[ ! -e "$BPF/sluice" ] || wrong "pins are left under $BPF/sluice"
[ -z "$(server ip -d link show dev "$IF_S" | grep xdp)" ] || wrong "an XDP program is still attached"
echo "${B}[host]\$ ip netns del $NS_C; ip netns del $NS_S; umount $BPF${N}"
teardown
ip netns list | grep -q "^$P-" && wrong "namespaces are left"
mountpoint -q "$BPF" 2>/dev/null && wrong "the bpffs is still mounted"
done_step

echo
echo "${B}demo: all $STEP steps behaved as narrated${N}"
