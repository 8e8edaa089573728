#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bench/lab_pps.sh: packets/s through a veth lab. build/bench/livegen sends
# 60-byte UDP frames (XDP live frames, XDP_TX) out of one veth end in the
# generator namespace; the receiver namespace holds the other end and the
# firewall under test. Where the kernel refuses live frames, livegen's
# bounce generator sends them instead (--loop: frames circling through a
# second veth pair of the generator namespace, each round copied to the
# receiver by an XDP broadcast redirect); the table says which ran. Each case counts what the receiver dropped (or, for
# the plain stack, processed) over the generator's sending window, 3 times,
# in rounds, and prints the median next to "empty XDP_DROP" of the same rounds.
# Then the time to load 1,000 / 10,000 / 100,000 rules. Needs root and
# `make all`. See bench/README.md ("Packets/s lab").
#   LAB_SECONDS (1)   sending window per repetition    LAB_REPS (3)
#   LAB_LOAD_SIZES ("1000 10000 100000")   LAB_CPU (1)  generator's CPU
#   LAB_SLUICE, LAB_RULEGEN   other builds of build/sluice, build/rulegen
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

LIVEGEN=$ROOT/build/bench/livegen
SLUICE=${LAB_SLUICE:-$ROOT/build/sluice}
RULEGEN=${LAB_RULEGEN:-$ROOT/build/rulegen}
WINDOW=${LAB_SECONDS:-1}
REPS=${LAB_REPS:-3}
LOAD_SIZES=${LAB_LOAD_SIZES:-"1000 10000 100000"}
CPU=${LAB_CPU:-1}
MAXCOUNT=50000000 # per repetition, on top of the time bound

# Names carry the PID; addresses only from 198.18.0.0/15.
P=lp$$
NS_L=$P-load
# use_lab 1|2: the lab the next commands act on. Lab 2 is the same pair in
# two other namespaces, for the iptables-legacy cases only: an xtables table,
# once used in a namespace, stays hooked in it (flushed, never removed), and
# would tax every later case of lab 1.
use_lab() {
	local s=${1#1}
	NS_G=$P-gen$s NS_R=$P-dut$s IF_G=$P-g$s IF_R=$P-r$s
	IF_LA=$P-la$s IF_LB=$P-lb$s
	DST_MAC=${MACS[$1]:-}
}
declare -A MACS
use_lab 1
NS_R1=$NS_R
SRC=198.18.0.1 DST=198.18.0.2 SPORT=1024 DPORT=9
OUT=$(mktemp -d /tmp/sluice-lab.XXXXXX)
BPF=$OUT/bpf
NAMESPACES=()

die() {
	echo "bench/lab_pps.sh: $*" >&2
	exit 1
}

cleanup() {
	local ns
	set +e
	trap - EXIT INT TERM
	[ -n "${EV_PID:-}" ] && kill "$EV_PID" 2>/dev/null
	if mountpoint -q "$BPF" 2>/dev/null; then
		[ -d "$BPF/sluice" ] && timeout 20 ip netns exec "$NS_R1" \
			"$SLUICE" --bpffs "$BPF" reset >/dev/null 2>&1
		umount "$BPF" 2>/dev/null || umount -l "$BPF" 2>/dev/null
	fi
	# Deleting a namespace deletes its veth end, the pair and every XDP
	# attachment and netfilter table in it.
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "needs root (namespaces, XDP)"
{ [ -x "$LIVEGEN" ] && [ -x "$SLUICE" ]; } || die "run 'make all' first"
for t in ip ethtool jq timeout mountpoint; do
	command -v "$t" >/dev/null || die "needs $t (scripts/deps.sh)"
done

inr() { ip netns exec "$NS_R" "$@"; }

ns_add() {
	ip netns add "$1"
	NAMESPACES+=("$1")
	ip -n "$1" link set lo up
	# No IPv6: no ND/MLD packets in the receiver's counters.
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

# lab_up N: the two namespaces of lab N and their veth pair.
lab_up() {
	use_lab "$1"
	ns_add "$NS_G"
	ns_add "$NS_R"
	ip -n "$NS_G" link add "$IF_G" type veth peer name "$IF_R" netns "$NS_R"
	ip -n "$NS_G" addr add "$SRC/24" dev "$IF_G"
	ip -n "$NS_R" addr add "$DST/24" dev "$IF_R"
	ip -n "$NS_G" link set "$IF_G" up
	ip -n "$NS_R" link set "$IF_R" up
	# the bounce generator's own pair (unused with live frames)
	ip -n "$NS_G" link add "$IF_LA" type veth peer name "$IF_LB"
	ip -n "$NS_G" link set "$IF_LA" up
	ip -n "$NS_G" link set "$IF_LB" up
	MACS[$1]=$(ip -n "$NS_R" -j link show dev "$IF_R" | jq -r '.[0].address')
	DST_MAC=${MACS[$1]}
	# The ICMP errors of the plain-stack case go back to the generator:
	# give the receiver the generator's MAC so it does not ARP.
	ip -n "$NS_R" neigh replace "$SRC" dev "$IF_R" lladdr \
		"$(ip -n "$NS_G" -j link show dev "$IF_G" | jq -r '.[0].address')"
}

# ---- counters at the receiver (each prints one integer) ----
# XDP drops of the receiving veth: exact for any XDP program, whoever wrote it
# (veth counts each XDP_DROP verdict in rx_queue_N_xdp_drops).
cnt_xdp_drops() {
	inr ethtool -S "$IF_R" | awk '/rx_queue_[0-9]+_xdp_drops:/ { s += $2 }
		END { print s + 0 }'
}
# UDP datagrams the stack took up to the socket lookup and found no socket
# for (the closed port 9): the plain-stack case.
cnt_udp_noports() {
	inr awk '/^Udp:/ { n++; if (n == 1) for (i = 1; i <= NF; i++) h[$i] = i;
		else print $h["NoPorts"] }' /proc/net/snmp
}
# The iptables rule that matches the traffic (raw PREROUTING, -s $SRC);
# $IPT is iptables (the nf_tables backend on Debian 12) or iptables-legacy.
IPT=iptables
cnt_iptables() {
	inr "$IPT" -t raw -L PREROUTING -v -x -n 2>/dev/null |
		awk -v s="$SRC" '$3 == "DROP" && $8 == s { print $1; f = 1 }
			END { if (!f) print 0 }'
}
# The nft rule that carries a counter (only the matching rule has one).
cnt_nft() {
	inr nft list table ip sluice_bench |
		sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' | head -n1
}
# Sluice's own per-reason counter.
cnt_sluice_deny() {
	inr "$SLUICE" --bpffs "$BPF" stats -j |
		jq -r '.reasons["deny-set"].packets'
}
cnt_none() { echo 0; }
# The matching rule's own counter: it is the last rule, so a frame counted
# here went through every other rule first.
cnt_sluice_last_rule() {
	inr "$SLUICE" --bpffs "$BPF" rule list -j |
		jq -r --argjson id "$SLUICE_LAST" \
			'[.rules[] | select(.id == $id)][0].packets // 0'
}

# ---- rule sets ----
# gen_rules N FMT: N drop rules in FMT (yaml, iptables, nft, nft-set) on
# stdout, the last one (and only it) matching the traffic. Uses build/rulegen
# for the N-1 others when it exists, else the generator below; GEN_KIND says
# which ("rulegen" or "fallback").
GEN_KIND=fallback
gen_rules() {
	local n=$1 fmt=$2
	if [ -x "$RULEGEN" ] && [ "$fmt" != nft-set ] && [ "$n" -gt 1 ]; then
		GEN_KIND=rulegen
		"$RULEGEN" "$((n - 1))" 1 --format "$fmt" --ipv4-5tuple |
			add_match_rule "$n" "$fmt"
	else
		GEN_KIND=fallback
		fallback_rules "$n" "$fmt"
	fi
}

# The rule that matches the traffic, appended to rulegen's output: a YAML list
# item, an iptables line before the last COMMIT, or (nft) a base chain of its
# own at a later priority, so it is still evaluated after all the others.
add_match_rule() {
	local n=$1 fmt=$2
	case $fmt in
	yaml)
		cat
		printf '  - id: %d\n    action: drop\n    direction: in\n' "$n"
		printf '    src: %s/32\n    dst: %s\n    proto: udp\n' "$SRC" "$DST"
		printf '    sport: 1024-65535\n    dport: %d\n' "$DPORT"
		;;
	iptables)
		awk -v r="-A PREROUTING -s $SRC/32 -d $DST/32 -p udp -m udp --sport 1024:65535 --dport $DPORT -j DROP" \
			'{ l[NR] = $0 } $0 == "COMMIT" { last = NR }
			END { for (i = 1; i <= NR; i++) { if (i == last) print r; print l[i] } }'
		;;
	nft)
		cat
		echo "table ip sluice_bench {"
		echo "	chain last { type filter hook prerouting priority raw + 1; policy accept;"
		echo "		ip saddr $SRC ip daddr $DST udp sport 1024-65535 udp dport $DPORT counter drop"
		echo "	}"
		echo "}"
		;;
	esac
}

# Rule i (0-based) of the fallback set: 198.19.a.b -> $DST, udp
# 1024-65535 -> 10000 + i / 65536. None matches the traffic (source
# $SRC, port $DPORT); the last rule does.
fallback_rules() {
	awk -v n="$1" -v fmt="$2" -v src="$SRC" -v dst="$DST" -v dport="$DPORT" '
	function a(i) { return sprintf("198.19.%d.%d", int(i / 256) % 256, i % 256) }
	function p(i) { return 10000 + int(i / 65536) }
	BEGIN {
		if (fmt == "yaml") {
			print "policy: pass"; print "rules:"
			for (i = 0; i < n; i++) {
				s = (i < n - 1) ? a(i) "/32" : src "/32"
				d = (i < n - 1) ? p(i) : dport
				printf "  - id: %d\n    action: drop\n    direction: in\n", i + 1
				printf "    src: %s\n    dst: %s\n    proto: udp\n", s, dst
				printf "    sport: 1024-65535\n    dport: %d\n", d
			}
		} else if (fmt == "iptables") {
			print "*raw"; print ":PREROUTING ACCEPT [0:0]"; print ":OUTPUT ACCEPT [0:0]"
			for (i = 0; i < n; i++)
				printf "-A PREROUTING -s %s/32 -d %s/32 -p udp -m udp --sport 1024:65535 --dport %d -j DROP\n",
					(i < n - 1) ? a(i) : src, dst, (i < n - 1) ? p(i) : dport
			print "COMMIT"
		} else if (fmt == "nft") {
			print "table ip sluice_bench {"
			print "\tchain pre { type filter hook prerouting priority raw; policy accept;"
			for (i = 0; i < n - 1; i++)
				printf "\t\tip saddr %s ip daddr %s udp sport 1024-65535 udp dport %d drop\n", a(i), dst, p(i)
			printf "\t\tip saddr %s ip daddr %s udp sport 1024-65535 udp dport %d counter drop\n", src, dst, dport
			print "\t}"; print "}"
		} else if (fmt == "nft-set") {
			# N addresses in one hash set, the traffic source among them.
			print "table ip sluice_bench {"
			printf "\tset deny { type ipv4_addr; elements = { %s", src
			for (i = 0; i < n - 1; i++) printf ", %s", a(i)
			print " } }"
			print "\tchain pre { type filter hook prerouting priority raw; policy accept;"
			print "\t\tip saddr @deny counter drop"
			print "\t}"; print "}"
		}
	}'
}

HAVE_APPLY=0
"$SLUICE" apply --help >/dev/null 2>&1 && HAVE_APPLY=1

# load_rules_sluice FILE: the YAML rule set into the attached Sluice.
load_rules_sluice() {
	inr "$SLUICE" --bpffs "$BPF" apply -f "$1" >/dev/null
}

sluice_attach() {
	if "$SLUICE" attach --help 2>/dev/null | grep -q -- --hooks; then
		inr "$SLUICE" --bpffs "$BPF" attach "$IF_R" --hooks xdp >/dev/null
	else
		inr "$SLUICE" --bpffs "$BPF" attach "$IF_R" >/dev/null
	fi
}

# ---- the cases ----
# Every case has a label, a counter (above), a note for the table, and a
# setup and a teardown in case_up/case_down. The cases run in rounds: one
# window of every case per round, REPS rounds. So a load that comes and goes
# on the machine touches every case alike, and each ratio is taken against
# the reference of the same round.
RES=$OUT/results
CASES=()
declare -A LABEL COUNTER NOTE
add_case() {
	CASES+=("$1")
	LABEL[$1]=$2
	COUNTER[$1]=$3
	NOTE[$1]=$4
}
# na_row NAME LABEL WHY: a row printed as n/a, never measured.
na_row() { add_case "$1" "$2" na "$3"; }

xdp_off() { ip -n "$NS_R" link set dev "$IF_R" xdp off 2>/dev/null || true; }

# ev_reader: `sluice events` reading the ring on the other CPU, as a user
# would (stopped by case_down).
ev_reader() {
	timeout 600 ip netns exec "$NS_R" taskset -c "$OTHER_CPU" \
		"$SLUICE" --bpffs "$BPF" events --follow -j >/dev/null 2>&1 &
	EV_PID=$!
	sleep 0.3
}

case_up() {
	case $1 in
	gen-only) ;;
	empty-drop) inr "$LIVEGEN" attach --ifname "$IF_R" drop ;;
	xdp-filter)
		# Loaded and configured in one mount namespace with its own
		# bpffs; the native attachment outlives it (the program holds
		# its maps).
		inr sh -ec 'mount -t bpf bpf /sys/fs/bpf
			xdp-filter load "$1" --mode native >/dev/null
			xdp-filter ip "$2" --mode src' sh "$IF_R" "$SRC"
		;;
	sluice-deny)
		sluice_attach
		inr "$SLUICE" --bpffs "$BPF" block "$SRC" >/dev/null
		;;
	sluice-ev-log)
		# The 1-rule case's rule with `log: true`: an event for every
		# packet it decides, within its bucket (events: log-rate, 10/s)
		sluice_attach
		SLUICE_LAST=1
		{ cat "$OUT/rules-log.yaml"; echo "    log: true"; } >"$OUT/ev.yaml"
		load_rules_sluice "$OUT/ev.yaml"
		ev_reader
		;;
	sluice-ev-*)
		# The deny set with events (issue 10: 1-in-1000 costs at most
		# 3%).
		sluice_attach
		printf 'deny: [%s/32]\nevents: {%s}\n' "$SRC" "${EVCONF[$1]}" \
			>"$OUT/ev.yaml"
		load_rules_sluice "$OUT/ev.yaml"
		ev_reader
		;;
	sluice-rules-*)
		sluice_attach
		SLUICE_LAST=${1#sluice-rules-}
		load_rules_sluice "$OUT/rules-$SLUICE_LAST.yaml"
		;;
	*)
		# The stack and netfilter cases: XDP_PASS on the receiver, so
		# that the veth takes XDP frames at all (its cost is in them).
		inr "$LIVEGEN" attach --ifname "$IF_R" pass
		case $1 in
		iptables-legacy-*)
			inr iptables-legacy-restore <"$OUT/ipt-${1##*-}.rules"
			;;
		iptables-*) inr iptables-restore <"$OUT/ipt-${1##*-}.rules" ;;
		nft-set-*) inr nft -f "$OUT/nft-set.rules" ;;
		nft-*) inr nft -f "$OUT/nft-${1##*-}.rules" ;;
		esac
		;;
	esac
}

case_down() {
	if [ -n "${EV_PID:-}" ]; then
		kill "$EV_PID" 2>/dev/null || true
		wait "$EV_PID" 2>/dev/null || true
		EV_PID=
	fi
	case $1 in
	sluice-*) inr "$SLUICE" --bpffs "$BPF" reset >/dev/null ;;
	iptables-legacy-*) inr iptables-legacy -t raw -F ;;
	iptables-* | nft-*) inr nft flush ruleset ;;
	esac
	xdp_off
}

# measure_once NAME ROUND: one bounded send; a `sample` line with the rate
# (the counter's delta / the generator's sending time) and the share of the
# sent frames the counter saw. Prints the rate.
measure_once() {
	local name=$1 round=$2 counter=${COUNTER[$1]} before after line sent secs
	IPT=iptables
	[[ "$name" == iptables-legacy-* ]] && IPT=iptables-legacy
	before=$($counter)
	line=$(timeout 120 ip netns exec "$NS_G" \
		"$LIVEGEN" send --ifname "$IF_G" --dst-mac "$DST_MAC" \
		--src "$SRC" --dst "$DST" --proto udp --sport "$SPORT" \
		--dport "$DPORT" --seconds "$WINDOW" --count "$MAXCOUNT" \
		--cpu "$CPU" ${GEN_LOOP:+--loop "$IF_LA,$IF_LB"})
	after=$($counter)
	sent=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$line")
	secs=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
	[ "$counter" = cnt_none ] && after=$sent
	awk -v n="$name" -v r="$round" -v c="$((after - before))" -v t="$secs" \
		-v s="$sent" 'BEGIN { printf "sample name=%s round=%d pps=%.0f share=%.4f\n",
			n, r, c / t, c / s }' >>"$RES"
	awk -v c="$((after - before))" -v t="$secs" 'BEGIN { printf "%.2f", c / t / 1e6 }'
}

lab_up 2
lab_up 1
# Live frames if the kernel takes them (a short send to an XDP_PASS
# receiver), else the bounce generator.
GEN_LOOP=
inr "$LIVEGEN" attach --ifname "$IF_R" pass
if ! ip netns exec "$NS_G" "$LIVEGEN" send --ifname "$IF_G" --dst-mac "$DST_MAC" \
	--count 64 --seconds 1 >/dev/null 2>"$OUT/live.err"; then
	GEN_LOOP=1
fi
xdp_off
if [ -n "$GEN_LOOP" ]; then
	GEN_DESC="livegen's bounce generator (live frames refused: $(tr -d '\n' <"$OUT/live.err"))"
else
	GEN_DESC="livegen (XDP live frames, XDP_TX)"
fi
echo "Packets/s lab: $GEN_DESC -> veth -> receiver;" \
	"60-byte UDP $SRC:$SPORT -> $DST:$DPORT; ${WINDOW}s per case per round," \
	"$REPS rounds; generator pinned to CPU $CPU (the receiver's XDP runs" \
	"there too, in the softirq the generator's frames raise)"
mkdir -p "$BPF"
mount -t bpf bpf "$BPF"

# ---- rule files, generated once ----
for n in 1 1000; do
	gen_rules "$n" iptables >"$OUT/ipt-$n.rules"
	KIND_IPT=$GEN_KIND
done
gen_rules 1000 nft >"$OUT/nft-1000.rules"
KIND_NFT=$GEN_KIND
fallback_rules 10000 nft-set >"$OUT/nft-set.rules"

add_case gen-only "generator alone (veth refuses: no XDP on peer)" cnt_none \
	"generator count"
add_case empty-drop "empty XDP_DROP (reference)" cnt_xdp_drops "veth xdp_drops"
if command -v xdp-filter >/dev/null; then
	add_case xdp-filter "xdp-filter, deny src (native)" cnt_xdp_drops \
		"veth xdp_drops"
else
	na_row xdp-filter "xdp-filter, deny src (native)" "xdp-tools not installed"
fi
add_case sluice-deny "Sluice deny set, 1 prefix (native)" cnt_sluice_deny \
	"sluice stats deny-set"
OTHER_CPU=$((CPU == 0 ? 1 : 0))
declare -A EVCONF=([sluice-ev-sample1000]="sample: 1000"
	[sluice-ev-sample1]="sample: 1" [sluice-ev-drops]="drops: true")
add_case sluice-ev-sample1000 "  + events sampled 1 in 1,000" cnt_sluice_deny \
	"deny-set; sluice events reading"
add_case sluice-ev-sample1 "  + events sampled 1 in 1" cnt_sluice_deny \
	"deny-set; sluice events reading"
add_case sluice-ev-drops "  + a drop event for every drop" cnt_sluice_deny \
	"deny-set; sluice events reading"
for n in ${LAB_SLUICE_RULES:-1 1000 100000}; do
	if [ "$HAVE_APPLY" = 1 ]; then
		gen_rules "$n" yaml >"$OUT/rules-$n.yaml"
		add_case "sluice-rules-$n" "Sluice rules, $n (match last)" \
			cnt_sluice_last_rule "last rule's counter, $GEN_KIND rules"
	else
		na_row "sluice-rules-$n" "Sluice rules, $n (match last)" \
			"n/a (apply not built)"
	fi
done
if [ "$HAVE_APPLY" = 1 ]; then
	gen_rules 1 yaml >"$OUT/rules-log.yaml"
	add_case sluice-ev-log "  Sluice rules, 1, + log: true (flood)" \
		cnt_sluice_last_rule "rule's counter; sluice events reading"
fi
add_case stack "plain stack (XDP_PASS, closed UDP port)" cnt_udp_noports \
	"Udp NoPorts"
for n in 1 1000; do
	add_case "iptables-$n" "iptables (nft backend) raw, $n rule(s)" \
		cnt_iptables "rule counter, $KIND_IPT rules"
done
if ip netns exec "$P-gen2" iptables-legacy -t raw -L -n >/dev/null 2>&1; then
	for n in 1 1000; do
		add_case "iptables-legacy-$n" "iptables-legacy raw, $n rule(s)" \
			cnt_iptables "rule counter, $KIND_IPT rules"
	done
fi
add_case nft-1000 "nftables, 1000 rules (match last)" cnt_nft \
	"rule counter, $KIND_NFT rules"
add_case nft-set-10000 "nftables, 10,000-address set" cnt_nft \
	"rule counter, fallback set"

for name in "${CASES[@]}"; do
	printf 'row name=%s note=%s label=%s\n' "$name" "${NOTE[$name]// /\~}" \
		"${LABEL[$name]}" >>"$RES"
	[ "${COUNTER[$name]}" = na ] &&
		echo "sample name=$name round=1 pps=na share=na" >>"$RES"
done
for ((r = 1; r <= REPS; r++)); do
	line="  round $r, Mpps:"
	for name in "${CASES[@]}"; do
		[ "${COUNTER[$name]}" = na ] && continue
		use_lab 1
		[[ "$name" == iptables-legacy-* ]] && use_lab 2
		case_up "$name"
		line+=" $name $(measure_once "$name" "$r")"
		case_down "$name"
		use_lab 1
	done
	echo "$line"
done

# ---- load times, in a namespace of their own ----
ns_add "$NS_L"
# timed FILE CMD...: seconds CMD takes inside $NS_L with FILE on stdin.
timed() {
	local f=$1
	shift
	ip netns exec "$NS_L" bash -c 't0=$(date +%s.%N)
		timeout 300 "$@" <"$0" >/dev/null || exit 1
		t1=$(date +%s.%N); echo "$t0 $t1" | awk "{ printf \"%.3f\", \$2 - \$1 }"' \
		"$f" "$@"
}
for n in $LOAD_SIZES; do
	gen_rules "$n" iptables >"$OUT/ipt.rules"
	k=$GEN_KIND
	echo "load tool=iptables-restore rules=$n seconds=$(timed "$OUT/ipt.rules" iptables-restore) gen=$k" >>"$RES"
	ip netns exec "$NS_L" nft flush ruleset
	gen_rules "$n" nft >"$OUT/nft.rules"
	k=$GEN_KIND
	if ip netns exec "$NS_L" iptables-legacy -t raw -L -n >/dev/null 2>&1; then
		echo "load tool=iptables-legacy-restore rules=$n seconds=$(timed "$OUT/ipt.rules" iptables-legacy-restore) gen=$k" >>"$RES"
		ip netns exec "$NS_L" iptables-legacy -t raw -F
	fi
	echo "load tool=nft rules=$n seconds=$(timed "$OUT/nft.rules" nft -f -) gen=$k" >>"$RES"
	ip netns exec "$NS_L" nft flush ruleset
	if [ "$HAVE_APPLY" = 1 ]; then
		gen_rules "$n" yaml >"$OUT/rules.yaml"
		k=$GEN_KIND
		sluice_attach
		t0=$(date +%s.%N)
		load_rules_sluice "$OUT/rules.yaml"
		t1=$(date +%s.%N)
		inr "$SLUICE" --bpffs "$BPF" reset >/dev/null
		echo "load tool=sluice-apply rules=$n seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') gen=$k" >>"$RES"
	else
		echo "load tool=sluice-apply rules=$n seconds=na gen=apply~not~built" >>"$RES"
	fi
done

# Sluice: a published-block-list-sized set, 1,000,000 entries (90% /24s,
# 10% /32s, distinct, none near the lab's addresses) from a file.
if [ "$HAVE_APPLY" = 1 ] && [ "${LAB_SET_ENTRIES:-1000000}" -gt 0 ]; then
	awk -v n="${LAB_SET_ENTRIES:-1000000}" 'BEGIN {
		for (i = 0; i < n; i++) {
			a = 16777216 + i * 256 + (i % 10 == 9 ? 7 : 0)
			printf "%d.%d.%d.%d%s\n", int(a / 16777216), int(a / 65536) % 256,
				int(a / 256) % 256, a % 256, i % 10 == 9 ? "" : "/24"
		}
	}' >"$OUT/blocklist.txt"
	printf 'deny:\n  - {file: %s}\n' "$OUT/blocklist.txt" >"$OUT/set.yaml"
	sluice_attach
	t0=$(date +%s.%N)
	load_rules_sluice "$OUT/set.yaml"
	t1=$(date +%s.%N)
	inr "$SLUICE" --bpffs "$BPF" reset >/dev/null
	echo "load tool=sluice-apply-set rules=${LAB_SET_ENTRIES:-1000000} seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') gen=set~entries~from~a~file" >>"$RES"
fi

# ---- the table ----
echo
awk '
function target(n, what, want) {
	if (!(n in xm)) return
	printf "  %-34s %.2fx (target >= %.2fx): %s\n", what, xm[n], want,
		(xm[n] >= want) ? "PASS" : "MISS"
}
function med(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return a[int((n + 1) / 2)]
}
/^row / {
	n = $2; sub(/^name=/, "", n); ord[++c] = n
	note[n] = $3; sub(/^note=/, "", note[n]); gsub(/~/, " ", note[n])
	l = $0; sub(/.* label=/, "", l); lab[n] = l
}
/^sample / {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	n = f["name"]; r = f["round"]; rate[n, r] = f["pps"]; sh[n, r] = f["share"]
	if (r > rounds) rounds = r
}
/^load / {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); g[kv[1]] = kv[2] }
	ld[g["tool"], g["rules"]] = g["seconds"]; lg[g["tool"]] = g["gen"]
	if (!(g["rules"] in seen)) { seen[g["rules"]] = 1; sizes[++ns] = g["rules"] }
}
END {
	printf "%-46s %7s %15s %8s %8s  %s\n", "case", "Mpps", "min..max", "x empty", "counted", "counter"
	for (i = 1; i <= c; i++) {
		n = ord[i]
		if (rate[n, 1] == "na") { printf "%-46s %7s %15s %8s %8s  %s\n", lab[n], "n/a", "", "-", "-", note[n]; continue }
		m = 0; lo = ""; hi = ""
		for (r = 1; r <= rounds; r++) {
			if (!((n, r) in rate)) continue
			v = rate[n, r] / 1e6; p[++m] = v; q[m] = sh[n, r]
			if (lo == "" || v < lo) lo = v
			if (hi == "" || v > hi) hi = v
			x[m] = rate["empty-drop", r] > 0 ? rate[n, r] / rate["empty-drop", r] : 0
		}
		xm[n] = med(x, m)
		for (r = 1; r <= rounds; r++)
			if (((n, r) in rate) && rate["sluice-deny", r] > 0)
				ev[n, r] = rate[n, r] / rate["sluice-deny", r]
		printf "%-46s %7.3f %15s %8.2f %8.3f  %s\n", lab[n], med(p, m),
			sprintf("%.2f..%.2f", lo, hi), xm[n], med(q, m), note[n]
	}
	print "(Mpps: median of the rounds; x empty: median of each round'"'"'s ratio to the"
	print " empty XDP_DROP of the same round; counted: share of the frames sent that"
	print " the counter saw)"
	print ""
	print "targets (x empty, median of the rounds):"
	target("sluice-deny", "issue 7: deny set", 0.9)
	target("sluice-rules-1", "issue 7: 1 rule", 0.85)
	target("sluice-rules-100000", "issue 7: 100,000 rules", 0.75)
	if (("sluice-ev-sample1000", 1) in ev) {
		m = 0
		for (r = 1; r <= rounds; r++)
			if (("sluice-ev-sample1000", r) in ev) e[++m] = ev["sluice-ev-sample1000", r]
		v = med(e, m)
		printf "  %-34s %.3fx the deny set alone (cost %.1f%%; target: at most 3%%): %s\n",
			"issue 10: events sampled 1/1000", v, 100 * (1 - v), (v >= 0.97) ? "PASS" : "MISS"
	}
	print ""
	print ""
	printf "%-24s", "load time (s)"
	for (j = 1; j <= ns; j++) printf " %10s", sizes[j] " rules"
	print ""
	nt = split("iptables-restore iptables-legacy-restore nft sluice-apply sluice-apply-set", tools, " ")
	for (t = 1; t <= nt; t++) {
		if (lg[tools[t]] == "") continue
		printf "%-24s", tools[t]
		for (j = 1; j <= ns; j++) {
			v = ld[tools[t], sizes[j]]
			if (v == "na" || v == "") v = "n/a"
			printf " %10s", v
		}
		gen = lg[tools[t]]; gsub(/~/, " ", gen)
		printf "  (%s)\n", gen ~ /not built/ ? gen : "rules: " gen
	}
}' "$RES"
