#!/usr/bin/env bash
# Bans: a banned client's pings are dropped while another client's pass;
# a ban expires by itself (no CLI call); apply leaves the bans; the allow
# set beats a ban; `ban list -j` has its shape; `ban list` on an empty
# bpffs creates nothing; bad input is refused with exit 2 and changes
# nothing; the stage can be left out; reset removes the ban tables.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# This test's own names (prefix bn-), set before any namespace exists.
lab_names "bn-$$"

if ! lab_pair_up || ! lab_add_client; then
	fail "lab with two clients is built" "namespaces, veth or addresses failed"
	finish
fi

# ping1 NAME flows|dropped NS SRC DST: one bounded ping (3 requests, -W 1).
ping1() {
	local name=$1 want=$2 ns=$3 src=$4 dst=$5
	if try_ping "$ns" "$dst" "$src"; then
		[ "$want" = flows ] && ok "$name, ping from $src passes" ||
			fail "$name, ping from $src is dropped" "the ping got through"
	else
		[ "$want" = dropped ] && ok "$name, ping from $src is dropped" ||
			fail "$name, ping from $src passes" "no answer"
	fi
}
# client1|client2 NAME flows|dropped: ping over IPv4 and IPv6.
client1() {
	ping1 "$1" "$2" "$NS_C" "$C4" "$S4"
	ping1 "$1" "$2" "$NS_C" "$C6" "$S6"
}
client2() {
	ping1 "$1" "$2" "$NS_C2" "$C4B" "$S4B"
	ping1 "$1" "$2" "$NS_C2" "$C6B" "$S6B"
}

# refused NAME ARGS...: exit 2 and one stderr line naming what is wrong
# (the pattern in $WANT).
refused() {
	local name=$1
	shift
	run_capture sl "$@"
	if [ "$RC" = 2 ] && [ "$(wc -l <<<"$ERR")" = 1 ] && grep -q -- "$WANT" <<<"$ERR"; then
		ok "$name"
	else
		fail "$name" "exit $RC: $ERR"
	fi
}

# banned_json: `ban list -j` as "prefix expires_in packets>0" lines, sorted.
banned_json() {
	sl ban list -j 2>/dev/null |
		jq -r '.[] | "\(.prefix) \(.expires_in) \(.packets > 0)"' 2>/dev/null | sort
}

# ---- read-only verbs on an empty bpffs create nothing ----
run_capture sl ban list -j
if [ "$RC" = 0 ] && [ "$(jq -c . <<<"$OUT" 2>/dev/null)" = "[]" ] && [ ! -e "$BPF/sluice" ]; then
	ok "ban list -j on an empty bpffs prints [] and creates no state"
else
	fail "ban list -j on an empty bpffs prints [] and creates no state" \
		"exit $RC, out '$OUT', $(ls "$BPF" 2>&1 | tr '\n' ' ')"
fi
run_capture sl ban flush
if [ "$RC" = 0 ] && [ ! -e "$BPF/sluice" ]; then
	ok "ban flush on an empty bpffs succeeds and creates no state"
else
	fail "ban flush on an empty bpffs succeeds and creates no state" "exit $RC: $ERR"
fi
WANT="198.18.0.1/32 is not banned"
refused "ban del on an empty bpffs: exit 2, not banned" ban del "$C4"
[ ! -e "$BPF/sluice" ] && ok "ban del on an empty bpffs creates no state" ||
	fail "ban del on an empty bpffs creates no state" "$BPF/sluice exists"

# ---- a banned client is dropped, the other one is not ----
check "attach $IF_S" sl attach "$IF_S"
check "attach $IF_S2" sl attach "$IF_S2"
client1 "no ban" flows
client2 "no ban" flows
if [ -e "$BPF/sluice/sl_ban_v4" ] && [ -e "$BPF/sluice/sl_ban_v6" ]; then
	ok "attach pins the ban tables sl_ban_v4 and sl_ban_v6"
else
	fail "attach pins the ban tables sl_ban_v4 and sl_ban_v6" "$(ls "$BPF/sluice" | tr '\n' ' ')"
fi

check "ban add $C4 $C6 --for 10m" sl ban add "$C4" "$C6" --for 10m
client1 "client 1 banned" dropped
client2 "client 1 banned" flows

out=$(sl ban list -j 2>&1)
if [ "$(jq -r 'map(.prefix) | join(",")' <<<"$out" 2>/dev/null)" = "198.18.0.1/32,2001:db8::1/128" ] &&
	jq -e 'length == 2 and all(.[]; (keys == ["bytes","expires_in","packets","prefix"]) and .expires_in > 590 and .expires_in <= 600 and .packets > 0 and .bytes > 0)' <<<"$out" >/dev/null; then
	ok "ban list -j: prefix, expires_in (590-600 s), packets and bytes counted"
else
	fail "ban list -j: prefix, expires_in (590-600 s), packets and bytes counted" "$out"
fi
n=$(sl stats -j 2>/dev/null | jq '.reasons.banned.drop.packets' 2>/dev/null)
if [ -n "$n" ] && [ "$n" -gt 0 ] 2>/dev/null; then
	ok "stats count the drops under reason banned ($n packets)"
else
	fail "stats count the drops under reason banned" "$(sl stats -j 2>&1 | head -c 400)"
fi

# explain: the trace copy names the reason and counts nothing.
pk=$(sl ban list -j 2>/dev/null | jq '.[0].packets')
out=$(sl explain --src "$C4" --dst "$S4" --proto icmp -j 2>&1)
pk2=$(sl ban list -j 2>/dev/null | jq '.[0].packets')
if [ "$(jq -r '"\(.action) \(.reason)"' <<<"$out" 2>/dev/null)" = "drop banned" ] && [ "$pk" = "$pk2" ]; then
	ok "explain of a banned source: drop, reason banned, no ban counter moved"
else
	fail "explain of a banned source: drop, reason banned, no ban counter moved" "$pk -> $pk2: $out"
fi
# Abusive packets (a sanity check before the sets and bans), at the
# stage level through explain: SYN+FIN and land from a client not banned.
got=$(sl explain --src "$C4B" --dst "$S4B" --proto tcp --tcp-flags syn,fin -j 2>/dev/null | jq -r .reason)
[ "$got" = tcp-syn-fin ] && ok "explain of a SYN+FIN: reason tcp-syn-fin" ||
	fail "explain of a SYN+FIN: reason tcp-syn-fin" "reason $got"
got=$(sl explain --src "$S6B" --dst "$S6B" --proto udp -j 2>/dev/null | jq -r .reason)
[ "$got" = land ] && ok "explain of src == dst (IPv6): reason land" ||
	fail "explain of src == dst (IPv6): reason land" "reason $got"

# ---- apply leaves the bans ----
printf 'policy:\n  in: pass\ndeny:\n  - 198.19.9.0/24\nrules:\n  - action: count\n    proto: icmp\n' >"$T/cfg.yaml"
check "apply a config (deny set, a rule)" sl apply -f "$T/cfg.yaml"
n=$(sl ban list -j 2>/dev/null | jq 'length')
[ "$n" = 2 ] && ok "apply leaves the 2 bans" || fail "apply leaves the 2 bans" "ban list has $n"
client1 "after apply, client 1 still banned" dropped
client2 "after apply" flows
out=$(sl export 2>&1)
if grep -q "198.19.9.0/24" <<<"$out" && ! grep -q "198.18.0.1" <<<"$out"; then
	ok "export holds the config, not the bans"
else
	fail "export holds the config, not the bans" "$out"
fi

# ---- the allow set beats a ban ----
check "allow $C4" sl allow "$C4"
ping1 "client 1 banned and allowed (v4)" flows "$NS_C" "$C4" "$S4"
ping1 "client 1 banned, v6 not allowed" dropped "$NS_C" "$C6" "$S6"
check "unallow $C4" sl unallow "$C4"

check "ban del $C4 $C6" sl ban del "$C4" "$C6"
client1 "bans lifted" flows
n=$(sl ban list -j 2>/dev/null | jq 'length')
[ "$n" = 0 ] && ok "ban list is empty after ban del" || fail "ban list is empty after ban del" "$n bans"

# ---- a ban expires by itself ----
t0=$(date +%s.%N)
check "ban add $C4 $C6 --for 3s" sl ban add "$C4" "$C6" --for 3s
# One IPv4 ping (about 1.4 s when dropped) fits well inside the 3 s.
ping1 "within a 3 s ban" dropped "$NS_C" "$C4" "$S4"
# No CLI call from here on: the datapath ends the ban.
sleep "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { d = a + 4 - b; print (d > 0 ? d : 0) }')"
client1 "4 s after a 3 s ban, without any command" flows
n=$(sl ban list -j 2>/dev/null | jq 'length')
[ "$n" = 0 ] && ok "ban list hides expired bans" || fail "ban list hides expired bans" "$n bans"

# ---- prefixes, permanent bans, the text listing ----
check "ban add 198.18.0.0/24 2001:db8::/64 --for permanent" \
	sl ban add 198.18.0.0/24 2001:db8::/64 --for permanent
client1 "client 1's /24 and /64 banned" dropped
client2 "client 1's /24 and /64 banned" flows
got=$(banned_json | tr '\n' ',')
if [ "$got" = "198.18.0.0/24 null true,2001:db8::/64 null true," ]; then
	ok "ban list -j: a permanent ban has expires_in null"
else
	fail "ban list -j: a permanent ban has expires_in null" "$got"
fi
out=$(sl ban list 2>&1)
if grep -q '^PREFIX .*EXPIRES-IN .*PACKETS .*BYTES' <<<"$out" && grep -q '^198.18.0.0/24 .* never ' <<<"$out"; then
	ok "ban list prints a header and 'never' for a permanent ban"
else
	fail "ban list prints a header and 'never' for a permanent ban" "$out"
fi

# ---- bad input: exit 2, one line, nothing changed ----
before=$(banned_json)
WANT="invalid prefix '198.18.0.300'"
refused "ban add of a bad address" ban add 198.18.5.5 198.18.0.300
WANT="invalid prefix '198.18.0.1/33'"
refused "ban add of a bad prefix length" ban add 198.18.0.1/33
WANT="invalid prefix '2001:db8::1/24'"
refused "ban add of a prefix with host bits" ban add 2001:db8::1/24
WANT="--for: expected a duration"
refused "ban add --for 5x" ban add 198.18.5.5 --for 5x
refused "ban add --for 0" ban add 198.18.5.5 --for 0
refused "ban add --for 3651d" ban add 198.18.5.5 --for 3651d
refused "ban add --for ''" ban add 198.18.5.5 --for ''
WANT="takes one or more prefixes"
refused "ban add without a prefix" ban add
WANT="lockout guard"
refused "ban add 0.0.0.0/0 without --force" ban add 0.0.0.0/0
WANT="198.18.9.9/32 is not banned"
refused "ban del of a banned and an unbanned prefix (all or nothing)" ban del 198.18.0.0/24 198.18.9.9
WANT="unknown subcommand 'frob'"
refused "ban frob" ban frob
WANT="takes no arguments"
refused "ban list with an argument" ban list 198.18.0.1
WANT="go with 'ban add'"
refused "ban del --for 1m" ban del 198.18.0.0/24 --for 1m
after=$(banned_json)
[ "$before" = "$after" ] && ok "refused ban commands changed no ban" ||
	fail "refused ban commands changed no ban" "before '$before', after '$after'"
client1 "after the refused commands, still banned" dropped

# ---- ban add renews, keeps counters; several prefixes at once ----
check "ban add $C4B 198.18.0.0/24 --for 2h (one new, one renewed)" \
	sl ban add "$C4B" 198.18.0.0/24 --for 2h
out=$(sl ban add "$C4B" 198.18.0.0/24 --for 2h -j 2>&1)
if [ "$(jq -c . <<<"$out" 2>/dev/null)" = '{"added":0,"renewed":2,"expires_in":7200}' ]; then
	ok "ban add -j says added, renewed and expires_in"
else
	fail "ban add -j says added, renewed and expires_in" "$out"
fi
got=$(sl ban list -j | jq -r '.[] | select(.prefix == "198.18.0.0/24") | "\(.expires_in > 7000) \(.packets > 0)"')
[ "$got" = "true true" ] && ok "a renewed ban has the new expiry and keeps its counters" ||
	fail "a renewed ban has the new expiry and keeps its counters" "$got"
ping1 "client 2 banned (v4 only)" dropped "$NS_C2" "$C4B" "$S4B"
ping1 "client 2 banned (v4 only)" flows "$NS_C2" "$C6B" "$S6B"

# ---- the stage can be left out at load time ----
check "attach --stages sets,rules (no bans)" sl attach --stages sets,rules "$IF_S"
f=$(sl status -j 2>/dev/null | jq -c --arg i "$IF_S" '.attachments[] | select(.ifname == $i and .hook == "xdp") | .features')
[ "$f" = '["malformed-drop","sets","rules"]' ] && ok "status lists no bans stage" ||
	fail "status lists no bans stage" "$f"
client1 "bans stage left out" flows
check "attach (every stage)" sl attach "$IF_S"
client1 "bans stage back" dropped

# ---- flush, then reset removes the tables ----
out=$(sl ban flush -j 2>&1)
[ "$(jq -c . <<<"$out" 2>/dev/null)" = '{"flushed":3}' ] && ok "ban flush -j flushed the 3 bans" ||
	fail "ban flush -j flushed the 3 bans" "$out"
client1 "after ban flush" flows
client2 "after ban flush" flows
check "ban add $C4 before reset" sl ban add "$C4"
check "reset" sl reset
if [ ! -e "$BPF/sluice/sl_ban_v4" ] && [ ! -e "$BPF/sluice/sl_ban_v6" ]; then
	ok "reset removes the ban tables"
else
	fail "reset removes the ban tables" "$(ls "$BPF/sluice" 2>&1 | tr '\n' ' ')"
fi
check "attach after reset" sl attach "$IF_S"
client1 "after reset, no ban is left" flows
finish
