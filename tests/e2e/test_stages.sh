#!/usr/bin/env bash
# attach --stages: the optional stages (sets, rules) left out at load time.
# A stage left out does not act (its tables are kept and still written),
# status lists the stages that run, a bad list changes nothing, and an
# attach naming the stage again puts it back with every entry and rule.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces, veth, addresses or HTTP server failed"
	finish
fi

# features NAME WANT: status -j lists exactly WANT (a JSON array) as the
# features of the server interface's XDP attachment.
features() {
	local got
	got=$(sl status -j 2>&1 | jq -c --arg i "$IF_S" \
		'[.attachments[] | select(.ifname == $i and .hook == "xdp")][0].features' 2>/dev/null)
	if [ "$got" = "$2" ]; then
		ok "$1"
	else
		fail "$1" "features $got, want $2"
	fi
}

# pings NAME flows|dropped SRC4 SRC6: ping over IPv4 and IPv6.
pings() {
	local name=$1 want=$2 a dst src
	for a in "$S4 $3" "$S6 $4"; do
		read -r dst src <<<"$a"
		if try_ping "$NS_C" "$dst" "$src"; then
			[ "$want" = flows ] && ok "$name, ping $dst passes" ||
				fail "$name, ping $dst is dropped" "the ping got through"
		else
			[ "$want" = dropped ] && ok "$name, ping $dst is dropped" ||
				fail "$name, ping $dst passes" "no answer"
		fi
	done
}

check "attach (every stage)" sl attach "$IF_S"
features "status lists sets, bans, fragments and rules" '["malformed-drop","sets","bans","fragments","rules"]'
check "block the client" sl block "$C4" "$C6"
pings "sets on" dropped "$C4" "$C6"

check "attach --stages rules" sl attach --stages rules "$IF_S"
features "status lists rules only" '["malformed-drop","rules"]'
pings "sets left out" flows "$C4" "$C6"
n=$(sl block --list -j 2>/dev/null | jq 'length')
if [ "$n" = 2 ]; then
	ok "the deny entries are kept while the sets stage is out"
else
	fail "the deny entries are kept while the sets stage is out" "block --list has $n entries"
fi
check "rule add drop icmp" sl rule add drop --proto icmp
check "rule add drop icmpv6" sl rule add drop --proto icmpv6
pings "rules stage on, icmp rules" dropped "$C4" "$C6"

before=$(sl status -j 2>/dev/null | jq -c '[.attachments[] | [.ifname, .hook, .prog_id, .features]]')
run_capture sl attach --stages sets,bogus "$IF_S"
if [ "$RC" = 2 ] && grep -q -- "--stages" <<<"$ERR"; then
	ok "attach --stages sets,bogus is refused with exit 2 naming --stages"
else
	fail "attach --stages sets,bogus is refused with exit 2 naming --stages" "exit $RC: $ERR"
fi
after=$(sl status -j 2>/dev/null | jq -c '[.attachments[] | [.ifname, .hook, .prog_id, .features]]')
if [ -n "$before" ] && [ "$before" = "$after" ]; then
	ok "a refused --stages changes no attachment"
else
	fail "a refused --stages changes no attachment" "before $before, after $after"
fi

check "attach --stages none" sl attach --stages none "$IF_S"
features "status lists no stage" '["malformed-drop"]'
pings "no optional stage" flows "$C4" "$C6"

check "attach (no --stages: every stage again)" sl attach "$IF_S"
features "status lists sets, bans, fragments and rules again" '["malformed-drop","sets","bans","fragments","rules"]'
check "unblock the client" sl unblock "$C4" "$C6"
pings "sets back, unblocked, icmp rules still there" dropped "$C4" "$C6"
printf 'rules: []\n' >"$T/empty.yaml"
check "apply a config without rules" sl apply -f "$T/empty.yaml"
pings "no entries, no rules" flows "$C4" "$C6"
finish
