#!/usr/bin/env bash
# Allow set: a /32 (/128) allowed inside a blocked /24 (/64) passes while
# another host of the same /24 (/64) is dropped; the longest prefix wins
# between allow and deny; unallow puts the host back under the block.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

C4X=198.18.0.3 C6X=2001:db8::3 # a second host on the client

if ! lab_up ||
	! ip -n "$NS_C" addr add "$C4X/24" dev "$IF_C" ||
	! ip -n "$NS_C" addr add "$C6X/64" dev "$IF_C" nodad; then
	fail "lab with a two-address client is built" "namespaces, veth, addresses or HTTP server failed"
	finish
fi

check "attach" sl attach "$IF_S"
expect_flows "attached, host .1 v4" "$NS_C" "$S4" "$C4"
expect_flows "attached, host .3 v4" "$NS_C" "$S4" "$C4X"
expect_flows "attached, host ::3 v6" "$NS_C" "$S6" "$C6X"

check "block 198.18.0.0/24 2001:db8::/64" sl block 198.18.0.0/24 2001:db8::/64
check "allow 198.18.0.1/32 2001:db8::1/128" sl allow 198.18.0.1/32 2001:db8::1/128
expect_flows "allowed /32 inside blocked /24, host .1 v4" "$NS_C" "$S4" "$C4"
expect_blocked "allowed /32 inside blocked /24, host .3 v4" "$NS_C" "$S4" "$C4X"
expect_flows "allowed /128 inside blocked /64, host ::1 v6" "$NS_C" "$S6" "$C6"
expect_blocked "allowed /128 inside blocked /64, host ::3 v6" "$NS_C" "$S6" "$C6X"

al=$(sl allow --list -j 2>&1)
got=$(echo "$al" | jq -r 'map("\(.set) \(.dir) \(.prefix)") | sort | join(",")' 2>/dev/null)
if [ "$got" = "allow src 198.18.0.1/32,allow src 2001:db8::1/128" ]; then
	ok "allow --list -j lists the two allow entries"
else
	fail "allow --list -j lists the two allow entries" "$al"
fi
bl=$(sl block --list -j 2>&1)
got=$(echo "$bl" | jq -r 'map("\(.set) \(.dir) \(.prefix)") | sort | join(",")' 2>/dev/null)
if [ "$got" = "deny src 198.18.0.0/24,deny src 2001:db8::/64" ]; then
	ok "block --list -j lists only the deny entries"
else
	fail "block --list -j lists only the deny entries" "$bl"
fi
st=$(sl stats -j 2>&1)
if echo "$st" | jq -e '.reasons["allow-set"].pass.packets > 0 and .reasons["allow-set"].drop.packets == 0' >/dev/null 2>&1; then
	ok "stats counts allowed packets under allow-set, action pass"
else
	fail "stats counts allowed packets under allow-set, action pass" "$(echo "$st" | jq -c '.reasons["allow-set"]' 2>/dev/null || echo "$st")"
fi
if echo "$st" | jq -e '[.entries[] | select(.set == "allow" and .prefix == "198.18.0.1/32")][0].packets > 0' >/dev/null 2>&1; then
	ok "the allow entry counts its packets"
else
	fail "the allow entry counts its packets" "$(echo "$st" | jq -c .entries 2>/dev/null || echo "$st")"
fi

# Longest prefix wins: a deny /24 inside an allowed /16 still drops.
check "unallow 198.18.0.1/32 2001:db8::1/128" sl unallow 198.18.0.1/32 2001:db8::1/128
check "unblock 198.18.0.0/24 2001:db8::/64" sl unblock 198.18.0.0/24 2001:db8::/64
check "allow 198.18.0.0/16" sl allow 198.18.0.0/16
check "block 198.18.0.0/24 inside it" sl block 198.18.0.0/24
expect_blocked "deny /24 inside allowed /16, host .1 v4" "$NS_C" "$S4" "$C4"
check "unblock 198.18.0.0/24" sl unblock 198.18.0.0/24
expect_flows "only the allowed /16 left, host .3 v4" "$NS_C" "$S4" "$C4X"

# unallow puts the host back under a covering block.
check "block 198.18.0.0/24 again" sl block 198.18.0.0/24
check "allow 198.18.0.1 (no length)" sl allow 198.18.0.1
expect_flows "allow 198.18.0.1 (no length), host .1 v4" "$NS_C" "$S4" "$C4"
check "unallow 198.18.0.1" sl unallow 198.18.0.1
expect_blocked "after unallow, host .1 v4" "$NS_C" "$S4" "$C4"
finish
