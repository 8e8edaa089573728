#!/usr/bin/env bash
# sluice explain: the running datapath's decision for a packet given by
# fields, stage by stage (set entry, count rules, deciding rule, policy),
# through a private trace copy that counts nothing; it agrees with what
# real traffic gets; bad packets are refused with exit 2.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces, veth, addresses or HTTP server failed"
	finish
fi


# Before any state: a clear error, not a made-up verdict.
run_capture sl explain --src 198.18.0.1 --dst 198.18.0.2
if [ "$RC" -ne 0 ] && [ -n "$ERR" ]; then
	ok "explain without state fails with a message"
else
	fail "explain without state fails with a message" "exit $RC: $OUT $ERR"
fi

check "attach" sl attach "$IF_S"
check "block 198.19.5.0/24" sl block 198.19.5.0/24
check "rule add count tcp" sl rule add count --proto tcp --comment "all tcp"
check "rule add drop udp 53" sl rule add drop --proto udp --dport 53
check "rule add drop out udp 9" sl rule add drop --direction out --proto udp --dport 9
ids=$(sl rule list -j)
cid=$(echo "$ids" | jq '[.rules[] | select(.action == "count")][0].id')
did=$(echo "$ids" | jq '[.rules[] | select(.action == "drop")][0].id')
oid=$(echo "$ids" | jq '[.rules[] | select(.action == "drop")][1].id')
# What explain could move: the entry, the rules and their reason cells
# (background traffic of the lab, e.g. IPv6 neighbour discovery, moves
# other cells).
counted() {
	sl stats -j | jq -S -c '[.reasons["deny-set"], .reasons.rule, .entries, (.rules // [] | map({id, packets, bytes}))]'
}
before=$(counted)

ex "a source in a denied /24: the deny entry decides" \
	'.set_entry == {"set":"deny","dir":"src","prefix":"198.19.5.0/24"} and .action == "drop" and .reason == "deny-set" and .rule == null' \
	--src 198.19.5.7 --dst 198.18.0.2 --proto tcp --dport 80
ex "udp/53: the drop rule decides" \
	".rule == $did and .action == \"drop\" and .reason == \"rule\" and .set_entry == null" \
	--src 198.18.0.1 --dst 198.18.0.2 --proto udp --sport 40000 --dport 53
ex "tcp/80: the count rule is met, the policy passes" \
	".count_rules == [$cid] and .rule == null and .action == \"pass\" and .reason == \"pass\"" \
	--src 198.18.0.1 --dst 198.18.0.2 --proto tcp --dport 80
ex "IPv6 tcp/443: the count rule, then pass" \
	".count_rules == [$cid] and .action == \"pass\" and .hook == \"xdp\"" \
	--src 2001:db8::1 --dst 2001:db8::2 --proto tcp --dport 443
ex "egress udp/9: the out rule decides at tc egress" \
	".hook == \"tc-out\" and .rule == $oid and .action == \"drop\"" \
	--direction out --src 198.18.0.2 --dst 198.18.0.1 --proto udp --dport 9
ex "egress: the sets are not consulted" \
	'.set_entry == null and .action == "pass"' \
	--direction out --src 198.19.5.7 --dst 198.18.0.1 --proto udp --dport 10

out=$(sl explain --src 198.19.5.7 --dst 198.18.0.2 2>&1)
if grep -q "deny entry 198.19.5.0/24 (src) matches" <<<"$out" &&
	grep -q "^verdict: *drop (reason deny-set)" <<<"$out"; then
	ok "the text output names the entry and the verdict"
else
	fail "the text output names the entry and the verdict" "$out"
fi
out=$(sl explain --src 198.18.0.1 --dst 198.18.0.2 --proto udp --dport 53 2>&1)
if grep -q "rule $did decides: .*udp" <<<"$out"; then
	ok "the text output prints the deciding rule"
else
	fail "the text output prints the deciding rule" "$out"
fi

after=$(counted)
if [ -n "$before" ] && [ "$before" = "$after" ]; then
	ok "explain moved no counter (reasons, entries, rules)"
else
	fail "explain moved no counter (reasons, entries, rules)" "$(diff <(echo "$before") <(echo "$after") | head -5)"
fi

# It agrees with real traffic: ping from the client passes, then the
# client is blocked and both explain and ping say drop.
ex "ping from the client: pass" '.action == "pass"' \
	--src "$C4" --dst "$S4" --proto icmp --iface "$IF_S"
if try_ping "$NS_C" "$S4"; then ok "ping passes"; else fail "ping passes" "no answer"; fi
check "block the client" sl block "$C4"
ex "ping from the blocked client: drop by its entry" \
	".action == \"drop\" and .set_entry.prefix == \"$C4/32\"" \
	--src "$C4" --dst "$S4" --proto icmp --iface "$IF_S"
if try_ping "$NS_C" "$S4"; then fail "ping is dropped" "got through"; else ok "ping is dropped"; fi

for bad in "--src 198.18.0.0/24 --dst 198.18.0.2" "--src 198.18.0.1" \
	"--src 198.18.0.1 --dst 2001:db8::2" "--src 198.18.0.1 --dst 198.18.0.2 --dport 1-9" \
	"--direction both --src 198.18.0.1 --dst 198.18.0.2" \
	"--src 198.18.0.1 --dst 198.18.0.2 --iface nosuchif0"; do
	# shellcheck disable=SC2086
	run_capture sl explain $bad
	if [ "$RC" = 2 ] && [ -n "$ERR" ]; then
		ok "explain $bad: exit 2 with a message"
	else
		fail "explain $bad: exit 2 with a message" "exit $RC: $ERR"
	fi
done
finish
