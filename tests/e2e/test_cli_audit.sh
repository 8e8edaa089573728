#!/usr/bin/env bash
# The CLI as docs/cli.md and the README describe it (the audit of the set,
# rule, ban, ct, synproxy, stats, export, status and explain verbs): each
# case below did something else before. Exit status 2 for bad usage with
# one line on stderr, nothing changed on error (not even state created),
# the lockout guard for 0.0.0.0/0 and ::/0 rules, explain's packet line,
# and the reasons stats --help names.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "ca-$$"
C4=198.18.61.1 S4=198.18.61.2 C6=2001:db8:61::1 S6=2001:db8:61::2
if ! lab_pair_up; then
	fail "lab is built" "namespaces or veth failed"
	finish
fi

# no_state NAME: the test's bpffs holds no Sluice state.
no_state() {
	if [ -e "$BPF/sluice" ]; then
		fail "$1" "$BPF/sluice exists"
	else
		ok "$1"
	fi
}

# ---- changing verbs that fail create no state ("nothing was changed") ----
printf 'rules:\n  - {action: drop, proto: udp, ct-state: new}\n' >"$T/ct-rule.yaml"
refused "rule del without state: exit 2" 2 "no rule 1" sl rule del 1
no_state "rule del without state: no state created"
refused "rule add ct-state without conntrack: exit 2" 2 "conntrack" \
	sl rule add drop --proto udp --ct-state new
no_state "rule add refused by apply: no state created"
refused "synproxy add without conntrack: exit 2" 2 "conntrack" sl synproxy add 80
no_state "synproxy add refused: no state created"
refused "synproxy del of a port not protected, no state: exit 2" 2 \
	"port 80 is not protected" sl synproxy del 80
no_state "synproxy del refused: no state created"
refused "apply of a ct-state rule without conntrack: exit 2" 2 "conntrack" \
	sl apply -f "$T/ct-rule.yaml"
no_state "apply refused: no state created"
refused "lb backend add to no service, no state: exit 2" 2 "no service" \
	sl lb backend add 198.18.61.200:80/tcp 198.18.61.201:80
no_state "lb backend add refused: no state created"
# ... and one that passes its checks does create it.
run_capture sl rule add drop --proto udp --dport 9
if [ "$RC" = 0 ] && [ -d "$BPF/sluice" ] &&
	[ "$(sl rule list -j | jq '.rules | length')" = 1 ]; then
	ok "rule add without state: creates the state with the rule"
else
	fail "rule add without state: creates the state with the rule" "exit $RC: $ERR"
fi

check "attach" sl attach "$IF_S"

# ---- status -j says which interface is gone, as the text does ----
G=ca-$$-g0
ip -n "$NS_S" link add "$G" type veth peer name "ca-$$-g1" &&
	ip -n "$NS_S" link set "$G" up && ip -n "$NS_S" link set "ca-$$-g1" up
check "attach a second interface" sl attach "$G"
ip -n "$NS_S" link del "$G"
# shellcheck disable=SC2016 # jq's $i, not the shell's
q='[.attachments[] | select(.ifname == $i) | .gone] | unique'
g=$(sl status -j | jq -c --arg i "$G" "$q")
a=$(sl status -j | jq -c --arg i "$IF_S" "$q")
if [ "$g" = "[true]" ] && [ "$a" = "[false]" ] &&
	sl status | grep "^$G " | grep -q "(interface gone)"; then
	ok "status -j: gone true for a deleted interface, false for a live one"
else
	fail "status -j: gone true for a deleted interface, false for a live one" "gone $g, live $a"
fi
check "detach the deleted interface" sl detach "$G"

# ---- CAP_BPF with CAP_NET_ADMIN is not enough: said in one line ----
# (the slots' inner maps are opened by id, which needs CAP_SYS_ADMIN)
# shellcheck disable=SC2317 # called through refused
bpf_net() {
	timeout 60 ip netns exec "$NS_S" setpriv --inh-caps=-all \
		--ambient-caps=-all --bounding-set=-all,+bpf,+net_admin \
		"$SLUICE" --bpffs "$BPF" "$@"
}
refused "block with CAP_BPF and CAP_NET_ADMIN only: exit 1, one line" 1 \
	"needs root (CAP_SYS_ADMIN" bpf_net block 198.18.61.66
refused "status with CAP_BPF and CAP_NET_ADMIN only: exit 1, one line" 1 \
	"needs root (CAP_SYS_ADMIN" bpf_net status
if [ "$(sl block --list -j | jq '[.[] | select(.prefix == "198.18.61.66/32")] | length')" = 0 ]; then
	ok "block refused for privileges: nothing added"
else
	fail "block refused for privileges: nothing added" "$(sl block --list)"
fi

# ---- global and per-verb option parsing ----
refused "--bpffs without a value: needs a value" 2 "option '--bpffs' needs a value" \
	timeout 10 ip netns exec "$NS_S" "$SLUICE" --bpffs
refused "an option given twice with two values: exit 2" 2 \
	"option '--proto' given twice" \
	sl rule add drop --proto udp --proto tcp --dport 53
if sl rule list -j | jq -e '[.rules[] | select(.dport == "53")] | length == 0' >/dev/null; then
	ok "an option given twice: no rule added"
else
	fail "an option given twice: no rule added" "$(sl rule list)"
fi
refused "--bpffs before and after the verb, two values: exit 2" 2 \
	"option '--bpffs' given twice" sl status --bpffs "$T"
refused "a flag given a value (--dst=...): takes no value" 2 \
	"option '--dst' takes no value" sl block --dst=198.18.61.70
check "an option given twice with the same value is one value" \
	sl rule add drop --proto udp --proto udp --dport 54
refused "rule add with two actions names ratelimit" 2 \
	"(pass, drop, count, ratelimit or redirect)" sl rule add drop pass --proto udp

# ---- block/allow --list goes alone ----
check "block an IPv4 and an IPv6 prefix" sl block 198.18.61.77 2001:db8:61:77::/64
refused "block --list --flush: exit 2" 2 "--list takes no prefixes and no other option" \
	sl block --list --flush
n=$(sl block --list -j | jq length)
if [ "$n" = 2 ]; then
	ok "block --list --flush: the deny set is not flushed"
else
	fail "block --list --flush: the deny set is not flushed" "$n entries left"
fi
refused "block --list --dst: exit 2" 2 "--list takes no prefixes and no other option" \
	sl block --list --dst
refused "allow --list --force: exit 2" 2 "--list takes no prefixes and no other option" \
	sl allow --list --force

# ---- the lockout guard: a drop rule for every address ----
before=$(sl rule list -j | jq -c '[.rules[].id]')
refused "rule add drop --src 0.0.0.0/0: the lockout guard" 2 \
	"drops every IPv4 packet (lockout guard)" sl rule add drop --src 0.0.0.0/0
refused "rule add drop --dst ::/0 --direction in: the lockout guard" 2 \
	"drops every IPv6 packet coming in (lockout guard)" \
	sl rule add drop --dst ::/0 --direction in
after=$(sl rule list -j | jq -c '[.rules[].id]')
if [ "$before" = "$after" ]; then
	ok "the refused /0 rules changed nothing"
else
	fail "the refused /0 rules changed nothing" "$before -> $after"
fi
check "rule add drop --src ::/0 with a protocol is a match" \
	sl rule add drop --src ::/0 --proto tcp --dport 55
check "rule add drop --src 0.0.0.0/0 --force" sl rule add drop --src 0.0.0.0/0 --force
sl rule del "$(sl rule list -j | jq '.rules[] | select(.src == "0.0.0.0/0") | .id')" >/dev/null 2>&1

# ---- synproxy del is all or nothing ----
printf 'conntrack: {enabled: true}\n' >"$T/ct.yaml"
check "apply conntrack on" sl apply -f "$T/ct.yaml"
check "synproxy add 80 443" sl synproxy add 80 443
refused "synproxy del of one port not protected: exit 2" 2 \
	"port 444 is not protected (nothing was changed)" sl synproxy del 443 444
ports=$(sl synproxy list -j | jq -c .ports)
if [ "$ports" = "[80,443]" ]; then
	ok "synproxy del refused: both ports still protected"
else
	fail "synproxy del refused: both ports still protected" "ports $ports"
fi
refused "synproxy del of part of a range not protected: exit 2" 2 \
	"port 81 is not protected" sl synproxy del 80-81
check "synproxy del 443 80" sl synproxy del 443 80
# says what changed: a port protected already is not counted as new
sl synproxy add 80 >/dev/null 2>&1
run_capture sl synproxy add 80
if [ "$RC" = 0 ] && [ "$OUT" = "synproxy: 0 ports newly protected (1 protected in all)" ]; then
	ok "synproxy add of a protected port: 0 newly protected"
else
	fail "synproxy add of a protected port: 0 newly protected" "exit $RC: $OUT"
fi
check "synproxy del 80" sl synproxy del 80

# ---- ban add --for N (bare seconds) says the unit ----
run_capture sl ban add 198.18.61.140 --for 45
if [ "$RC" = 0 ] && [ "$OUT" = "banned 1 prefix for 45s (1 new, 0 renewed)" ] &&
	[ "$(sl ban list -j | jq '.[] | select(.prefix == "198.18.61.140/32") | .expires_in <= 45')" = true ]; then
	ok "ban add --for 45: 45 seconds, said as 45s"
else
	fail "ban add --for 45: 45 seconds, said as 45s" "exit $RC: $OUT"
fi

# ---- explain names the packet, not a rule ----
# packet_line NAME WANT ARGS...: `explain ARGS` exits 0 and its first line
# is "packet:   WANT (...".
packet_line() {
	local name=$1 want=$2 line
	shift 2
	run_capture sl explain "$@"
	line=$(echo "$OUT" | head -n 1)
	if [ "$RC" = 0 ] && [[ "$line" == "packet:   $want ("* ]]; then
		ok "$name"
	else
		fail "$name" "exit $RC: $line $ERR"
	fi
}
packet_line "explain --proto icmp: the packet line has no id, priority or ports" \
	"in src $C4/32 dst $S4/32 proto icmp" --src "$C4" --dst "$S4" --proto icmp
packet_line "explain IPv6 echo request: the packet line" \
	"in src $C6/128 dst $S6/128 proto icmpv6 icmp-type 128" \
	--src "$C6" --dst "$S6" --proto icmpv6 --icmp-type 128
packet_line "explain udp: the packet line with its ports" \
	"in src $C4/32 dst $S4/32 proto udp sport 40000 dport 53" \
	--src "$C4" --dst "$S4" --proto udp --dport 53
ex "explain -j --proto icmp: ICMP decided by the policy" \
	'.parsed == "well-formed" and .action == "pass"' \
	--src "$C4" --dst "$S4" --proto icmp
refused "explain --proto icmp --dport: exit 2" 2 "dport: requires proto tcp, udp or sctp" \
	sl explain --src "$C4" --dst "$S4" --proto icmp --dport 5
refused "explain --icmp-code without --icmp-type: exit 2" 2 "icmp-code: requires icmp-type" \
	sl explain --src "$C4" --dst "$S4" --proto icmp --icmp-code 3
refused "explain --fragment later --dport: exit 2" 2 "a later fragment has no L4 header" \
	sl explain --src "$C4" --dst "$S4" --proto udp --fragment later --dport 53
packet_line "explain --fragment later: the packet line has no ports" \
	"in src $C6/128 dst $S6/128 proto udp fragment later" \
	--src "$C6" --dst "$S6" --proto udp --fragment later

# ---- stats --help names every reason stats -j counts ----
help=$(sl stats --help | tr -s ' \n' ' ')
missing=""
for r in $(sl stats -j | jq -r '.reasons | keys[]'); do
	[[ "$help" == *" $r,"* || "$help" == *" $r."* ]] || missing="$missing $r"
done
if [ -z "$missing" ]; then
	ok "stats --help lists every reason of stats -j"
else
	fail "stats --help lists every reason of stats -j" "missing:$missing"
fi

finish
