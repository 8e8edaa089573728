#!/usr/bin/env bash
# Per-interface counters: each attached interface counts its verdicts by
# direction and action (stats, stats -j); a drop on one interface shows on
# that one only; re-attaching keeps the counts.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up || ! lab_add_client; then
	fail "lab with two clients is built" "namespaces, veth or addresses failed"
	finish
fi

# cell IFACE DIR ACTION: packets of that cell in stats -j (empty: none).
cell() {
	sl stats -j | jq --arg i "$1" --arg d "$2" --arg a "$3" \
		'[.interfaces[] | select(.name == $i)][0][$d][$a].packets // empty'
}

check "attach $IF_S" sl attach "$IF_S"
check "attach $IF_S2" sl attach "$IF_S2"
for i in 1 2 3 4 5; do
	ip netns exec "$NS_C" ping -q -n -c 1 -W 1 "$S4" >/dev/null 2>&1
	ip netns exec "$NS_C2" ping -q -n -c 1 -W 1 "$S4B" >/dev/null 2>&1
done
a_in=$(cell "$IF_S" in pass) a_out=$(cell "$IF_S" out pass)
b_in=$(cell "$IF_S2" in pass) b_out=$(cell "$IF_S2" out pass)
if [ "${a_in:-0}" -ge 5 ] && [ "${a_out:-0}" -ge 5 ] && [ "${b_in:-0}" -ge 5 ] && [ "${b_out:-0}" -ge 5 ]; then
	ok "each interface counts its pings in and its replies out"
else
	fail "each interface counts its pings in and its replies out" "$IF_S in $a_in out $a_out, $IF_S2 in $b_in out $b_out"
fi

check "block the first client" sl block "$C4"
for i in 1 2 3; do
	ip netns exec "$NS_C" ping -q -n -c 1 -W 1 "$S4" >/dev/null 2>&1
	ip netns exec "$NS_C2" ping -q -n -c 1 -W 1 "$S4B" >/dev/null 2>&1
done
a_drop=$(cell "$IF_S" in drop) b_drop=$(cell "$IF_S2" in drop)
if [ "${a_drop:-0}" -ge 3 ] && [ -z "$b_drop" -o "${b_drop:-0}" = 0 ]; then
	ok "drops count on the interface that dropped only"
else
	fail "drops count on the interface that dropped only" "$IF_S drop $a_drop, $IF_S2 drop $b_drop"
fi

before=$(cell "$IF_S" in drop)
check "re-attach $IF_S" sl attach "$IF_S"
after=$(cell "$IF_S" in drop)
if [ -n "$before" ] && [ "$before" = "$after" ]; then
	ok "re-attaching keeps the interface's counters"
else
	fail "re-attaching keeps the interface's counters" "before $before, after $after"
fi

t=$(sl stats 2>&1)
if echo "$t" | grep -Eq "^$IF_S +in +drop +[0-9]+"; then
	ok "stats prints the interface rows"
else
	fail "stats prints the interface rows" "$t"
fi
finish
