#!/usr/bin/env bash
# block --file with 10,000 prefixes (IPv4 and IPv6, with comments and blank
# lines) plus the client's prefix: the client is blocked, other traffic is
# not, the list holds 10,001 entries; unblock --file removes them all.
# Then 200,000 prefixes: an unblock or block killed by SIGTERM part-way
# leaves the set as before or as asked, never between; a list over the
# host capacity is refused up front, naming the limit.
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
# ---- interrupted writes: before or after, never between ----
# 200,000 IPv6 /64s (2001:db8:100::/40 .. :103::) plus 10,000 IPv4 hosts in
# 198.19.0.0/16: three maps, so an unblock is several kernel writes.
big=$T/big.txt
N=210000
{
	for ((a = 0; a < 4; a++)); do
		seq 0 49999 | awk -v a=$a '{ printf "2001:db8:10%x:%x::/64\n", a, $1 }'
	done
	seq 0 9999 | awk '{ printf "198.19.%d.%d\n", int($1 / 256), $1 % 256 }'
} >"$big"
count() { sl block --list -j | jq length; }
check "block --file of 210,000 prefixes" sl block --file "$big"
n=$(count)
if [ "$n" = "$N" ]; then ok "the set holds 210,000 entries"; else
	fail "the set holds 210,000 entries" "got $n"
fi
# SIGTERM at several points of an unblock --file (reading, validating,
# deleting); each time the set must be whole or empty.
between=0
for d in 0.3 0.6 0.9 1.2 1.6 2.0; do
	ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" unblock --file "$big" \
		>/dev/null 2>&1 &
	pid=$!
	sleep "$d"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	n=$(count)
	echo "# unblock --file killed after ${d}s: $n entries left"
	if [ "$n" != 0 ] && [ "$n" != "$N" ]; then
		between=$((between + 1))
		fail "unblock killed after ${d}s leaves all or nothing" \
			"$n of $N entries left"
	fi
	# Put everything back for the next try (and for the block tries).
	[ "$n" = "$N" ] || sl block --file "$big" >/dev/null 2>&1
done
[ "$between" = 0 ] && ok "unblock --file killed by SIGTERM at 6 points: all or nothing each time"
sl unblock --file "$big" >/dev/null 2>&1
between=0
for d in 0.3 0.6 0.9 1.2 1.6; do
	ip netns exec "$NS_S" "$SLUICE" --bpffs "$BPF" block --file "$big" \
		>/dev/null 2>&1 &
	pid=$!
	sleep "$d"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	n=$(count)
	echo "# block --file killed after ${d}s: $n entries"
	if [ "$n" != 0 ] && [ "$n" != "$N" ]; then
		between=$((between + 1))
		fail "block killed after ${d}s adds all or nothing" \
			"$n of $N entries there"
	fi
	[ "$n" = 0 ] || sl unblock --file "$big" >/dev/null 2>&1
done
[ "$between" = 0 ] && ok "block --file killed by SIGTERM at 5 points: all or nothing each time"

# ---- capacity: refused up front, with the limit and how to raise it ----
hosts=$T/hosts.txt
seq 0 1048576 | awk '{ printf "2001:db8:200::%x:%x\n", int($1 / 65536), $1 % 65536 }' >"$hosts"
start=$(date +%s.%N)
run_capture sl block --file "$hosts"
secs=$(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $start }")
echo "# block --file of 1,048,577 IPv6 hosts: exit $RC after ${secs}s: $ERR"
if [ "$RC" = 2 ] && grep -q "1048577 IPv6 hosts, /128 (src)" <<<"$ERR" &&
	grep -q "at most 1048576" <<<"$ERR" && grep -q "limits: {set-hosts: N}" <<<"$ERR"; then
	ok "1,048,577 hosts are refused (exit 2) naming the count, the limit and how to raise it"
else
	fail "1,048,577 hosts are refused (exit 2) naming the count, the limit and how to raise it" \
		"exit $RC: $ERR"
fi
n=$(count)
if [ "$n" = 0 ]; then ok "nothing was added"; else fail "nothing was added" "$n entries"; fi
printf 'deny:\n  - {file: %s}\n' "$hosts" >"$T/cap.yaml"
run_capture sl apply --dry-run -f "$T/cap.yaml"
if [ "$RC" = 2 ] && grep -q "1048577 IPv6 hosts, /128 (src) asked for, at most 1048576" <<<"$ERR"; then
	ok "apply --dry-run refuses the same list with the count and the limit"
else
	fail "apply --dry-run refuses the same list with the count and the limit" "exit $RC: $ERR"
fi
finish
