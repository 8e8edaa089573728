# shellcheck shell=bash
# lib.sh: helpers sourced by every tests/e2e/test_*.sh.
#
# A test sources this file, calls lab_up (and lab_add_client for a second
# client), runs its checks with ok/fail and the traffic probes, and ends
# with `finish`. The EXIT trap tears everything down even on failure:
# server processes, namespaces (and with them the veths), the test's own
# bpffs and its temporary directory.
#
# Lab (all names carry the PID so parallel tests never collide):
#   $NS_C  client   $IF_C  198.18.0.1/24  2001:db8::1/64
#   $NS_S  server   $IF_S  198.18.0.2/24  2001:db8::2/64
# lab_add_client adds a second pair:
#   $NS_C2 client2  $IF_C2 198.18.1.1/24  2001:db8:1::1/64
#          server   $IF_S2 198.18.1.2/24  2001:db8:1::2/64
# Only 198.18.0.0/15 and 2001:db8::/32 are used, and only inside the
# namespaces created here.
#
# Every sluice call goes through `sl` (run inside the server namespace with
# --bpffs on the test's own bpffs, mounted in the root mount namespace so
# that it outlives each `ip netns exec`).

set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$E2E_DIR/../.." && pwd)
SLUICE=${SLUICE:-$ROOT_DIR/build/sluice}
TEST=$(basename "$0" .sh)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

N_OK=0
N_FAIL=0

ok() {
	echo "ok - $1"
	N_OK=$((N_OK + 1))
}

fail() {
	echo "not ok - $1: $2"
	N_FAIL=$((N_FAIL + 1))
}

# check NAME CMD...: ok when CMD succeeds, else fail with its exit status
# and first stderr line. CMD's stdout is discarded.
check() {
	local name=$1 rc
	shift
	"$@" >/dev/null 2>"$T/check.err"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$name"
	else
		fail "$name" "exit $rc: $(head -n1 "$T/check.err")"
	fi
}

# finish: the last line of every test; exit 1 if any check failed.
finish() {
	echo "# $TEST: $N_OK ok, $N_FAIL not ok"
	[ "$N_FAIL" -eq 0 ] || exit 1
	[ "$N_OK" -gt 0 ] || exit 1
	exit 0
}

# Root and the CLI are preconditions: fail loudly, never skip.
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - $TEST: needs root"
	exit 1
fi
if [ ! -x "$SLUICE" ]; then
	echo "not ok - $TEST: $SLUICE is missing (run 'make all')"
	exit 1
fi
for tool in ip ping curl nc jq ss timeout mountpoint tc bpftool; do
	if ! command -v "$tool" >/dev/null; then
		echo "not ok - $TEST: needs $tool"
		exit 1
	fi
done

# lab_names PREFIX: the lab's namespace and interface names, all starting
# with PREFIX (a test may call it with its own, e.g. "bn-$$", before any
# namespace exists). Interface names stay under 15 characters.
lab_names() {
	P=$1
	NS_C=$P-c NS_S=$P-s NS_C2=$P-c2
	IF_C=$P-c0 IF_S=$P-s0 IF_C2=$P-c1 IF_S2=$P-s1
}
lab_names "sl$$"
C4=198.18.0.1 S4=198.18.0.2 C6=2001:db8::1 S6=2001:db8::2
C4B=198.18.1.1 S4B=198.18.1.2 C6B=2001:db8:1::1 S6B=2001:db8:1::2
HTTP_PORT=${HTTP_PORT:-8080} # a test may set another (80) before sourcing
NC_PORT=7000
T=$(mktemp -d /tmp/sluice-e2e.XXXXXX)
BPF=$T/bpf
NAMESPACES=()
PIDS=()
MOUNTS=("$BPF") # unmounted in cleanup (also where sluice mounts its own)

cleanup() {
	local rc=$? ns pid m
	set +e
	trap - EXIT INT TERM
	# Drop the program and pins first (best effort; the bpffs goes anyway).
	if mountpoint -q "$BPF" 2>/dev/null && [ -d "$BPF/sluice" ] &&
		ip netns pids "$NS_S" >/dev/null 2>&1; then
		timeout 20 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" \
			reset >/dev/null 2>&1
	fi
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	# Anything still running inside our own namespaces was started by us.
	for ns in "${NAMESPACES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done
	for pid in "${PIDS[@]}"; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null
	done
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for m in "${MOUNTS[@]}"; do
		for _ in 1 2 3; do
			mountpoint -q "$m" 2>/dev/null || break
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
	done
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A snapshot of the CLI, so that a rebuild during the run cannot mix two
# versions in one test. $T is world-searchable so that the unprivileged
# checks can run it.
chmod 755 "$T"
cp "$SLUICE" "$T/sluice" && SLUICE=$T/sluice

# The test's own bpffs, in the root mount namespace.
mkdir -p "$BPF" "$T/www"
if ! mount -t bpf bpf "$BPF"; then
	echo "not ok - $TEST: cannot mount a bpffs at $BPF"
	exit 1
fi

# sl ARGS...: run sluice in the server namespace on the test's bpffs.
sl() {
	timeout 60 ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" "$@"
}

# ns_up NS: create a namespace with lo up.
ns_up() {
	ip netns add "$1" || return 1
	NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

# pair_up NSA IFA ADDR4A ADDR6A NSB IFB ADDR4B ADDR6B: a veth pair between
# two namespaces (created directly in them, never in the root namespace).
pair_up() {
	local nsa=$1 ifa=$2 a4=$3 a6=$4 nsb=$5 ifb=$6 b4=$7 b6=$8
	ip -n "$nsa" link add "$ifa" type veth peer name "$ifb" netns "$nsb" &&
		ip -n "$nsa" addr add "$a4/24" dev "$ifa" &&
		ip -n "$nsa" addr add "$a6/64" dev "$ifa" nodad &&
		ip -n "$nsb" addr add "$b4/24" dev "$ifb" &&
		ip -n "$nsb" addr add "$b6/64" dev "$ifb" nodad &&
		ip -n "$nsa" link set "$ifa" up &&
		ip -n "$nsb" link set "$ifb" up
}

# http_up NS: an HTTP server on [::]:$HTTP_PORT (v4 and v6), bounded in time.
http_up() {
	local ns=$1
	echo "sluice-e2e $ns" >"$T/www/index.html"
	timeout 900 ip netns exec "$ns" "$PY" -m http.server --bind :: \
		--directory "$T/www" "$HTTP_PORT" >"$T/http-$ns.log" 2>&1 &
	PIDS+=($!)
	listening "$ns" "$HTTP_PORT"
}

# listening NS PORT: a TCP socket listens on PORT in NS (waits up to 5 s).
listening() {
	for _ in $(seq 50); do
		ip netns exec "$1" ss -Htln "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# lab_pair_up: client and server namespaces joined by one veth pair (for
# tests that need interfaces but no traffic).
lab_pair_up() {
	ns_up "$NS_C" && ns_up "$NS_S" &&
		pair_up "$NS_C" "$IF_C" "$C4" "$C6" "$NS_S" "$IF_S" "$S4" "$S6"
}

# lab_up: lab_pair_up and an HTTP server.
lab_up() {
	lab_pair_up && http_up "$NS_S"
}

# lab_add_client: a second client namespace with its own pair into the
# server (198.18.1.0/24, 2001:db8:1::/64).
lab_add_client() {
	ns_up "$NS_C2" &&
		pair_up "$NS_C2" "$IF_C2" "$C4B" "$C6B" "$NS_S" "$IF_S2" "$S4B" "$S6B"
}

# ---- traffic probes: exit 0 when the traffic got through ----
# Each is bounded: ping -W 1, curl --max-time 3, nc -w 2, all in timeout.

# try_ping NS DST [SRC]: 0 if at least one of 3 echo requests is answered.
try_ping() {
	local ns=$1 dst=$2 src=${3:-}
	timeout 10 ip netns exec "$ns" ping -q -n -c 3 -i 0.2 -W 1 \
		${src:+-I "$src"} "$dst" >/dev/null 2>&1
}

# try_curl NS DST [SRC]: 0 if the page is fetched with the right content.
try_curl() {
	local ns=$1 dst=$2 src=${3:-} host=$2 out
	[[ "$dst" == *:* ]] && host="[$dst]"
	out=$(timeout 6 ip netns exec "$ns" curl -sS -g --connect-timeout 2 \
		--max-time 3 ${src:+--interface "$src"} \
		"http://$host:$HTTP_PORT/" 2>/dev/null) || return 1
	[[ "$out" == sluice-e2e* ]]
}

# try_nc NS SERVER_NS DST [SRC]: a TCP connection carries a token to a
# one-shot nc listener on DST:$NC_PORT.
try_nc() {
	local ns=$1 sns=$2 dst=$3 src=${4:-} out=$T/nc.out spid tok
	tok="sluice-nc-$RANDOM"
	: >"$out"
	timeout 8 ip netns exec "$sns" nc -l "$dst" "$NC_PORT" >"$out" 2>/dev/null &
	spid=$!
	for _ in $(seq 30); do
		ip netns exec "$sns" ss -Htln "sport = :$NC_PORT" | grep -q . && break
		sleep 0.1
	done
	echo "$tok" | timeout 5 ip netns exec "$ns" nc -N -w 2 \
		${src:+-s "$src"} "$dst" "$NC_PORT" >/dev/null 2>&1
	# The listener exits when the connection closes; else stop it now.
	for _ in $(seq 10); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	grep -q "$tok" "$out"
}

# expect_flows NAME NS DST [SRC]: one check per tool that traffic passes
# (one retry each, to ride out neighbour re-resolution after an unblock).
expect_flows() {
	local name=$1 ns=$2 dst=$3 src=${4:-} tool
	for tool in ping curl nc; do
		if probe "$tool" "$ns" "$dst" "$src" ||
			probe "$tool" "$ns" "$dst" "$src"; then
			ok "$name, $tool passes"
		else
			fail "$name, $tool passes" "$tool to $dst${src:+ from $src} got no answer"
		fi
	done
}

# expect_blocked NAME NS DST [SRC]: one check per tool that traffic is dropped.
expect_blocked() {
	local name=$1 ns=$2 dst=$3 src=${4:-} tool
	for tool in ping curl nc; do
		if probe "$tool" "$ns" "$dst" "$src"; then
			fail "$name, $tool is dropped" "$tool to $dst${src:+ from $src} got through"
		else
			ok "$name, $tool is dropped"
		fi
	done
}

# probe TOOL NS DST [SRC]
probe() {
	local tool=$1 ns=$2 dst=$3 src=${4:-} sns=$NS_S
	case $tool in
	ping) try_ping "$ns" "$dst" "$src" ;;
	curl) try_curl "$ns" "$dst" "$src" ;;
	nc) try_nc "$ns" "$sns" "$dst" "$src" ;;
	esac
}

# ---- state helpers ----

# xdp_prog_id NS IFACE: the XDP program id `ip link` reports, or empty.
xdp_prog_id() {
	ip -n "$1" -j -d link show dev "$2" 2>/dev/null |
		jq -r '.[0].xdp.prog.id // (.[0].xdp.attached // [] | map(.prog.id) | first) // empty'
}

# xdp_mode NS IFACE: the XDP mode number `ip link` reports (1 native/drv,
# 2 generic/skb), or empty.
xdp_mode() {
	ip -n "$1" -j -d link show dev "$2" 2>/dev/null |
		jq -r '.[0].xdp.mode // empty'
}

# status_field IFACE FIELD [HOOK]: a field of IFACE's entry for HOOK (xdp,
# tc-in or tc-out; default xdp) in `status -j`.
status_field() {
	sl status -j 2>/dev/null |
		jq -r --arg i "$1" --arg f "$2" --arg h "${3:-xdp}" \
			'.attachments[] | select(.ifname == $i and .hook == $h) | .[$f] | if type == "array" then join(",") else tostring end'
}

# status_hooks IFACE: the hooks `status -j` lists for IFACE, sorted, one
# line ("tc-in tc-out", "tc-out xdp"; empty when none).
status_hooks() {
	sl status -j 2>/dev/null |
		jq -r --arg i "$1" '[.attachments[] | select(.ifname == $i) | .hook] | sort | join(" ")'
}

# ---- TC helpers (Sluice's filters: handle 0x51ce, pref 20942) ----

# tc_prog_id NS IFACE ingress|egress: the program id of Sluice's cls_bpf
# filter there, or empty.
tc_prog_id() {
	ip netns exec "$1" tc -j filter show dev "$2" "$3" 2>/dev/null |
		jq -r '.[] | select(.options.handle == "0x51ce") | .options.prog.id // empty' 2>/dev/null
}

# tc_filter_count NS IFACE ingress|egress: the number of filters (any
# owner) on IFACE's clsact hook.
tc_filter_count() {
	ip netns exec "$1" tc -j filter show dev "$2" "$3" 2>/dev/null |
		jq '[.[] | select(.options != null)] | length' 2>/dev/null || echo 0
}

# hooks_in_kernel NS IFACE: what the kernel runs on IFACE as one line:
# "xdp=<id|-> tc-in=<id|-> tc-out=<id|->", from ip link and tc.
hooks_in_kernel() {
	local x i o
	x=$(xdp_prog_id "$1" "$2")
	i=$(tc_prog_id "$1" "$2" ingress)
	o=$(tc_prog_id "$1" "$2" egress)
	echo "xdp=${x:--} tc-in=${i:--} tc-out=${o:--}"
}

# prog_loaded ID: the kernel still has program ID.
prog_loaded() {
	bpftool prog show id "$1" >/dev/null 2>&1
}

# prog_gone ID: waits (bounded, 3 s) for program ID to be freed.
prog_gone() {
	for _ in $(seq 30); do
		prog_loaded "$1" || return 0
		sleep 0.1
	done
	return 1
}

# arp_resolves NS IFACE DST: flushes IFACE's neighbour cache, pings DST once
# and succeeds when DST's MAC address was learnt (ARP went both ways).
arp_resolves() {
	ip -n "$1" neigh flush dev "$2" 2>/dev/null
	timeout 5 ip netns exec "$1" ping -q -n -c 1 -W 1 "$3" >/dev/null 2>&1
	ip -n "$1" neigh show dev "$2" "$3" 2>/dev/null | grep -q lladdr
}

# stats_packets REASON [ACTION]: the packets counted under REASON (for
# ACTION pass or drop, or both) in `stats -j`.
stats_packets() {
	sl stats -j 2>/dev/null |
		jq -r --arg r "$1" --arg a "${2:-}" \
			'.reasons[$r] | if $a == "" then .packets else .[$a].packets end'
}

# ex NAME JQ ARGS...: `sl explain -j ARGS` satisfies the jq test JQ.
ex() {
	local name=$1 q=$2 out
	shift 2
	out=$(sl explain -j "$@" 2>&1)
	if echo "$out" | jq -e "$q" >/dev/null 2>&1; then
		ok "$name"
	else
		fail "$name" "$out"
	fi
}

# run_capture CMD...: runs CMD with stdout in $OUT, stderr in $ERR and the
# exit status in $RC (read by the tests).
# shellcheck disable=SC2034
run_capture() {
	"$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# refused NAME STATUS TEXT CMD...: CMD exits STATUS with one stderr line
# containing TEXT.
refused() {
	local name=$1 want=$2 text=$3
	shift 3
	run_capture "$@"
	if [ "$RC" = "$want" ] && [ "$(wc -l <"$T/err")" = 1 ] && [[ "$ERR" == *"$text"* ]]; then
		ok "$name"
	else
		fail "$name" "exit $RC (want $want): $ERR"
	fi
}

# state_snapshot: `status -j` and both set listings, normalised.
state_snapshot() {
	{
		sl status -j | jq -S .
		sl block --list -j | jq -S 'sort_by(.dir, .prefix)'
		sl allow --list -j | jq -S 'sort_by(.dir, .prefix)'
	} 2>&1
}
