#!/usr/bin/env bash
# block --file with 10,000 prefixes (IPv4 and IPv6, with comments and blank
# lines) plus the client's prefix: the client is blocked, other traffic is
# not, the list holds 10,001 entries; unblock --file removes them all.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi
check "attach" sl attach "$IF_S"

# 6,000 IPv4 /32s in 198.19.0.0/16 and 4,000 IPv6 /64s in 2001:db8:100::/40,
# none covering the lab's 2001:db8::/64; then the client's /24.
f=$T/deny.txt
{
	echo "# bulk deny list for $TEST"
	for ((i = 0; i < 6000; i++)); do
		echo "198.19.$((i / 256)).$((i % 256))/32"
	done
	echo
	echo "   # indented comment"
	for ((i = 0; i < 4000; i++)); do
		printf '2001:db8:100:%x::/64\n' "$i"
	done
	echo "198.18.0.0/24   # the client"
} >"$f"

expect_flows "before the bulk block, v4" "$NS_C" "$S4"
start=$(date +%s.%N)
run_capture sl block --file "$f"
echo "# block --file of 10,001 prefixes took $(awk "BEGIN { printf \"%.3f\", $(date +%s.%N) - $start }")s"
if [ "$RC" = 0 ]; then ok "block --file with 10,001 prefixes exits 0"; else
	fail "block --file with 10,001 prefixes exits 0" "exit $RC: $ERR"
fi
n=$(sl block --list -j | jq length)
if [ "$n" = 10001 ]; then ok "block --list -j counts 10,001 entries"; else
	fail "block --list -j counts 10,001 entries" "got $n"
fi
n4=$(sl block --list -j | jq '[.[] | select(.prefix | test("^198\\.19\\."))] | length')
if [ "$n4" = 6000 ]; then ok "the 6,000 IPv4 prefixes are all listed"; else
	fail "the 6,000 IPv4 prefixes are all listed" "got $n4"
fi
expect_blocked "after the bulk block, v4" "$NS_C" "$S4"
expect_flows "after the bulk block, v6 (not covered)" "$NS_C" "$S6"

# Loading the same file again adds nothing and keeps the count.
check "block --file again (all present)" sl block --file "$f"
n=$(sl block --list -j | jq length)
if [ "$n" = 10001 ]; then ok "a second load keeps 10,001 entries"; else
	fail "a second load keeps 10,001 entries" "got $n"
fi

run_capture sl unblock --file "$f"
if [ "$RC" = 0 ]; then ok "unblock --file exits 0"; else
	fail "unblock --file exits 0" "exit $RC: $ERR"
fi
n=$(sl block --list -j | jq length)
if [ "$n" = 0 ]; then ok "unblock --file empties the set"; else
	fail "unblock --file empties the set" "$n entries left"
fi
expect_flows "after unblock --file, v4" "$NS_C" "$S4"
finish
