#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bench/syn_lab.sh: a SYN flood through a veth lab, answered by the kernel's
# own SYN cookies (no XDP program, net.ipv4.tcp_syncookies=2: every SYN
# answered with a cookie) and then by Sluice (XDP native, conntrack and
# `synproxy: {ports: [8080]}`). build/bench/livegen's bounce generator
# (--loop, bench/README.md) sends SYNs from 65,536 spoofed sources in
# 198.18.128.0/17 (random ports) to the server's HTTP port as XDP frames,
# as fast as it can for LAB_SECONDS; a second client meanwhile fetches the
# page LAB_CURLS times (curl, 2 s connect timeout). Prints the SYNs the
# server answered per second and the client's success rate for both, and
# the ratio (issue 9's target: >= 2x). The veths' NAPI runs in
# threads (threaded NAPI): the server's on CPU 1, the generator and the
# other ends' on CPU 0, so the server's CPU time per packet is read from
# its NAPI thread alone (schedstat) and its capacity follows even while the
# generator is the limit of the rates. Needs root, 2 CPUs and `make all`.
#   LAB_SECONDS (5)   flood window per case   LAB_CURLS (50)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LIVEGEN=$ROOT/build/bench/livegen
EMPTY=$ROOT/build/xdp_empty.bpf.o
DROP=$ROOT/build/xdp_drop.bpf.o
SLUICE=${LAB_SLUICE:-$ROOT/build/sluice}
WINDOW=${LAB_SECONDS:-5}
CURLS=${LAB_CURLS:-50}
PORT=8080

P=sq$$
NS_F=$P-f NS_C=$P-c NS_S=$P-s
F4=198.18.10.1 SF4=198.18.10.2 C4=198.18.11.1 SC4=198.18.11.2
OUT=$(mktemp -d /tmp/sluice-synlab.XXXXXX)
BPF=$OUT/bpf
NAMESPACES=()
PIDS=()

die() {
	echo "bench/syn_lab.sh: $*" >&2
	exit 1
}

cleanup() {
	local ns pid
	set +e
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	if mountpoint -q "$BPF" 2>/dev/null; then
		[ -d "$BPF/sluice" ] && timeout 20 ip netns exec "$NS_S" \
			"$SLUICE" --bpffs "$BPF" reset >/dev/null 2>&1
		umount "$BPF" 2>/dev/null || umount -l "$BPF" 2>/dev/null
	fi
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "needs root (namespaces, XDP)"
{ [ -x "$LIVEGEN" ] && [ -x "$SLUICE" ] && [ -f "$EMPTY" ] && [ -f "$DROP" ]; } || die "run 'make all' first"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (the server's NAPI thread on its own)"
for t in ip jq curl timeout mountpoint python3 nft ethtool taskset nstat; do
	command -v "$t" >/dev/null || die "needs $t (scripts/deps.sh)"
done

ns_add() {
	ip netns add "$1"
	NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}
# pair NSA IFA ADDRA NSB IFB ADDRB
pair() {
	ip -n "$1" link add "$2" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$4" addr add "$6/24" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}
sl() { timeout 60 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" "$@"; }

ns_add "$NS_F"
ns_add "$NS_C"
ns_add "$NS_S"
pair "$NS_F" "$P-f0" "$F4" "$NS_S" "$P-s0" "$SF4"
pair "$NS_C" "$P-c0" "$C4" "$NS_S" "$P-s1" "$SC4"
# The flood's answers go back to the flooder (routing stack: via its
# address; XDP: to its MAC); XDP_TX on veth reaches a peer that runs XDP.
ip -n "$NS_S" route add 198.18.128.0/17 via "$F4"
ip -n "$NS_F" link set dev "$P-f0" xdp obj "$EMPTY" sec xdp
ip -n "$NS_C" link set dev "$P-c0" xdp obj "$EMPTY" sec xdp
mkdir -p "$OUT/www" "$BPF"
echo "synlab" >"$OUT/www/index.html"
timeout 600 ip netns exec "$NS_S" python3 -m http.server --bind "$SF4" \
	--directory "$OUT/www" "$PORT" >/dev/null 2>&1 &
PIDS+=($!)
timeout 600 ip netns exec "$NS_S" python3 -m http.server --bind "$SC4" \
	--directory "$OUT/www" "$PORT" >/dev/null 2>&1 &
PIDS+=($!)
sleep 1
mount -t bpf bpf "$BPF" || die "cannot mount a bpffs"
MAC_S=$(ip -n "$NS_S" -j link show "$P-s0" | jq -r '.[0].address')


# napi_thread NS DEV CPU: DEV's NAPI in a thread of its own (threaded
# NAPI), pinned to CPU; its pids in the file $OUT/napi.DEV. GRO on gives a
# veth a NAPI without XDP; threaded is switched off and on, so the threads
# are made anew and told apart from every other (their names are cut at 15
# characters). Again after an XDP attach, which may make the NAPI anew.
napi_thread() {
	local pid before
	ip netns exec "$1" ethtool -K "$2" gro on >/dev/null
	ip netns exec "$1" sh -c "echo 0 >/sys/class/net/$2/threaded"
	before=" $({ pgrep '^napi/' || true; } | tr '\n' ' ') "
	ip netns exec "$1" sh -c "echo 1 >/sys/class/net/$2/threaded"
	: >"$OUT/napi.$2"
	for pid in $(pgrep '^napi/' || true); do
		[[ "$before" == *" $pid "* ]] && continue
		taskset -pc "$3" "$pid" >/dev/null
		echo "$pid" >>"$OUT/napi.$2"
	done
	[ -s "$OUT/napi.$2" ] || die "no NAPI thread for $2"
}
# server_ns: the CPU time of the server's NAPI threads so far, in ns.
server_ns() {
	local pid t=0
	for pid in $(cat "$OUT/napi.$P-s0"); do
		t=$((t + $(cut -d' ' -f1 "/proc/$pid/schedstat")))
	done
	echo "$t"
}
napi_threads() {
	# veth hands a frame to the peer's NAPI only if GRO could take it:
	# with TSO off at the sending end
	ip netns exec "$NS_F" ethtool -K "$P-f0" tso off >/dev/null
	napi_thread "$NS_S" "$P-s0" 1
	napi_thread "$NS_S" "$P-s1" 0
	napi_thread "$NS_F" "$P-f0" 0
	napi_thread "$NS_C" "$P-c0" 0
}
napi_threads

# The generator's loop pair, and its 65,536 tuples per port: spoofed
# sources in 198.18.128.0/17, random source ports (seeded: the same in every
# run).
ip -n "$NS_F" link add "$P-la" type veth peer name "$P-lb"
ip -n "$NS_F" link set "$P-la" up
ip -n "$NS_F" link set "$P-lb" up
tuples() { # DPORT
	awk -v dst="$SF4" -v dport="$1" 'BEGIN { srand(9)
		for (i = 0; i < 65536; i++)
			printf "198.18.%d.%d %s tcp %d %d\n", 128 + int(rand() * 128),
				int(rand() * 256), dst, 1024 + int(rand() * 64511), dport }'
}
tuples "$PORT" >"$OUT/syn.tuples"
tuples 9090 >"$OUT/ack.tuples"
# gen NAME TUPLES [--syn]: the bounded flood; $OUT/NAME.gen holds livegen's
# line (sent=N seconds=S ...).
gen() {
	local name=$1 tf=$2
	shift 2
	timeout $((WINDOW + 30)) ip netns exec "$NS_F" "$LIVEGEN" send --ifname "$P-f0" \
		--dst-mac "$MAC_S" --proto tcp --tuples "$tf" "$@" --count 100000000 \
		--seconds "$WINDOW" --cpu 0 --loop "$P-la,$P-lb" >"$OUT/$name.gen"
}
gen_field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" "$OUT/$1.gen"; }

# flood_case NAME COUNTER: the flood and the client's fetches; "NAME sent
# seconds answered good curls server-ns". COUNTER prints the server's count
# of SYNs answered so far.
flood_case() {
	local name=$1 good=0 fpid s0 s1 a0 a1
	a0=$($2)
	s0=$(server_ns)
	gen "$name" "$OUT/syn.tuples" --syn &
	fpid=$!
	sleep 0.3
	for _ in $(seq "$CURLS"); do
		timeout 5 ip netns exec "$NS_C" curl -s -o /dev/null --connect-timeout 2 \
			--max-time 3 "http://$SC4:$PORT/" && good=$((good + 1))
	done
	wait "$fpid" || true
	s1=$(server_ns)
	a1=$($2)
	echo "$name $(gen_field "$name" sent) $(gen_field "$name" seconds)" \
		"$((a1 - a0)) $good $CURLS $((s1 - s0))"
}
# The server's SYN cookies sent: the kernel's (TcpExtSyncookiesSent) and
# Sluice's (reason syn-cookie).
kernel_cookies() {
	ip netns exec "$NS_S" nstat -asz TcpExtSyncookiesSent |
		awk '$1 == "TcpExtSyncookiesSent" { print $2; f = 1 } END { if (!f) print 0 }'
}
sluice_cookies() { sl stats -j | jq -r '.reasons["syn-cookie"].packets // 0'; }

# ---- the kernel's own SYN cookies ----
ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_syncookies=2
K=$(flood_case kernel kernel_cookies)
ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_syncookies=1

# ack_case NAME: bare ACKs of no flow to port 9090 (ct state invalid) for
# the window; "NAME sent seconds server-ns".
ack_case() {
	local s0 s1
	s0=$(server_ns)
	gen "$1" "$OUT/ack.tuples"
	s1=$(server_ns)
	echo "$1 $(gen_field "$1" sent) $(gen_field "$1" seconds) $((s1 - s0))"
}

# ---- nftables ct state (the kernel's conntrack), the stateful host ----
ip netns exec "$NS_S" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
printf '%s\n' "table inet bench {" "chain in {" \
	"type filter hook input priority filter; policy drop;" \
	"ct state established,related accept" "ct state invalid counter drop" \
	"tcp dport $PORT ct state new accept" "}" "}" >"$OUT/nft.conf"
ip netns exec "$NS_S" nft -f "$OUT/nft.conf"
NK=$(ack_case nft)
NK_DROP=$(ip netns exec "$NS_S" nft -j list table inet bench |
	jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add')
ip netns exec "$NS_S" nft delete table inet bench

# ---- the floor: the veth and its NAPI thread under an XDP_DROP program ----
ip -n "$NS_S" link set dev "$P-s0" xdpdrv obj "$DROP" sec xdp
napi_threads
xdp_drops() {
	ip netns exec "$NS_S" ethtool -S "$P-s0" |
		awk '/rx_queue_[0-9]+_xdp_drops:/ { s += $2 } END { print s + 0 }'
}
FK_DROP=$(xdp_drops)
FK=$(ack_case floor)
FK_DROP=$(($(xdp_drops) - FK_DROP))
ip -n "$NS_S" link set dev "$P-s0" xdpdrv off

# ---- Sluice ----
sl attach "$P-s0" "$P-s1" >/dev/null
napi_threads
printf '%s\n' "policy: {in: drop}" \
	"conntrack: {enabled: true, drop-invalid: true}" "rules:" \
	"  - {action: pass, ct-state: [established, related]}" \
	"  - {action: pass, proto: tcp, dport: $PORT, ct-state: new}" >"$OUT/ct.yaml"
sl apply -f "$OUT/ct.yaml" >/dev/null
SK=$(ack_case sluice-ct)
SK_DROP=$(sl stats -j | jq -r '.reasons["ct-invalid"].packets // 0')
printf 'policy: {in: pass}\nconntrack: {enabled: true}\n' >"$OUT/ct0.yaml"
sl apply -f "$OUT/ct0.yaml" >/dev/null
printf 'conntrack: {enabled: true}\nsynproxy: {ports: [%s]}\n' "$PORT" >"$OUT/syn.yaml"
sl apply -f "$OUT/syn.yaml" >/dev/null
S=$(flood_case sluice sluice_cookies)
ANSWERED=$(sluice_cookies)

echo "SYN flood, veth lab (spoofed sources 198.18.128.0/17 -> $SF4:$PORT," \
	"${WINDOW}s; a second client fetches $CURLS pages meanwhile):"
printf '%s\n%s\n' "$K" "$S" | awk -v answered="$ANSWERED" -v win="$WINDOW" '
{ n[$1] = $2; s[$1] = $3; a[$1] = $4; g[$1] = $5; c[$1] = $6
  r[$1] = ($3 > 0) ? $4 / $3 : 0; p[$1] = ($3 > 0) ? $2 / $3 : 0
  sns[$1] = $7; ans[$1] = $4
  ns[$1] = ($4 > 0) ? $7 / $4 : 0; cap[$1] = ($7 > 0) ? $4 / ($7 / 1e9) : 0 }
function row(k, label) {
	printf "  %-38s %11.0f %11.0f %8.1f%% %5d/%-3d %8.0f%% %9.0f %12.0f\n",
		label, p[k], r[k], 100 * a[k] / (n[k] ? n[k] : 1), g[k], c[k],
		100 * sns[k] / 1e9 / (s[k] ? s[k] : win), ns[k], cap[k]
}
END {
	printf "  %-38s %11s %11s %9s %9s %9s %9s %12s\n", "answered by", "SYNs sent/s",
		"answered/s", "answered", "client ok", "srv CPU", "srv ns/SYN",
		"SYNs/srv-CPU-s"
	row("kernel", "the kernel (tcp_syncookies=2, no XDP)")
	row("sluice", "Sluice (XDP synproxy)")
	x = (r["kernel"] > 0) ? r["sluice"] / r["kernel"] : 0
	y = (cap["kernel"] > 0) ? cap["sluice"] / cap["kernel"] : 0
	printf "  Sluice / kernel: SYNs answered per second %.2fx, per server CPU-second %.2fx (target >= 2x: %s)\n",
		x, y, (y >= 2) ? "PASS" : "MISS"
	printf "  (server: the NAPI thread of its flooded veth, alone on CPU 1: its CPU time over the SYNs it answered, %d by the kernel (TcpExtSyncookiesSent), %d by Sluice (syn-cookie; %s in all))\n",
		ans["kernel"], ans["sluice"], answered
}'

echo
echo "conntrack filtering, the stateful host (policy drop; established and related" \
	"pass; bare ACKs of no flow from spoofed sources dropped as invalid, ${WINDOW}s):"
printf '%s %s\n%s %s\n%s %s\n' "$FK" "$FK_DROP" "$NK" "$NK_DROP" "$SK" "$SK_DROP" | awk '
{ n[$1] = $2; s[$1] = $3; sns[$1] = $4; d[$1] = $5
  ns[$1] = ($5 > 0) ? $4 / $5 : 0; cap[$1] = ($4 > 0) ? $5 / ($4 / 1e9) : 0 }
function row(k, label) {
	printf "  %-38s %11.0f %11.0f %12d %8.0f%% %9.0f %14.0f\n", label,
		n[k] / s[k], d[k] / s[k], d[k], 100 * sns[k] / 1e9 / s[k], ns[k],
		cap[k]
}
END {
	printf "  %-38s %11s %11s %12s %9s %9s %14s\n", "filter", "sent/s", "dropped/s",
		"dropped", "srv CPU", "srv ns/pkt", "drops/srv-CPU-s"
	row("floor", "floor: an XDP program that drops all")
	row("nft", "nftables ct state invalid drop")
	row("sluice-ct", "Sluice (XDP, drop-invalid)")
	x = (d["nft"] > 0) ? (d["sluice-ct"] / s["sluice-ct"]) / (d["nft"] / s["nft"]) : 0
	y = (cap["nft"] > 0) ? cap["sluice-ct"] / cap["nft"] : 0
	printf "  Sluice / nftables: dropped per second %.2fx, per server CPU-second %.2fx (target >= 5x: %s)\n",
		x, y, (y >= 5) ? "PASS" : "MISS"
	printf "  Above the floor (the veth'"'"'s own work and the thread'"'"'s wake-ups): nftables %+.0f ns, Sluice %+.0f ns a packet\n",
		ns["nft"] - ns["floor"], ns["sluice-ct"] - ns["floor"]
	print "  (server: the NAPI thread of its flooded veth, alone on CPU 1; the generator and the other ends on CPU 0)"
}'
