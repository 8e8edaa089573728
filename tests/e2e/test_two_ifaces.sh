#!/usr/bin/env bash
# Two server interfaces (one client behind each) attached at once share one
# deny set: one block stops both clients; a narrower block stops only the
# client it covers; detaching one interface leaves the other filtered.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up || ! lab_add_client; then
	fail "lab with two clients is built" "namespaces, veths or HTTP server failed"
	finish
fi

check "attach server iface 1" sl attach "$IF_S"
check "attach server iface 2" sl attach "$IF_S2"
n=$(sl status -j | jq '[.attachments[].ifname] | unique | join(" ")' -r)
want=$(printf '%s\n' "$IF_S" "$IF_S2" | sort | tr '\n' ' ' | sed 's/ $//')
if [ "$n" = "$want" ]; then
	ok "status lists both interfaces"
else
	fail "status lists both interfaces" "got '$n', want '$want'"
fi
id1=$(xdp_prog_id "$NS_S" "$IF_S") id2=$(xdp_prog_id "$NS_S" "$IF_S2")
if [ -n "$id1" ] && [ -n "$id2" ]; then
	ok "ip link shows a program on both interfaces"
else
	fail "ip link shows a program on both interfaces" "ids '$id1' '$id2'"
fi

expect_flows "attached, client 1 v4" "$NS_C" "$S4"
expect_flows "attached, client 2 v4" "$NS_C2" "$S4B"
expect_flows "attached, client 2 v6" "$NS_C2" "$S6B"

# One block covering both clients (198.18.0.0/24 and 198.18.1.0/24).
check "block 198.18.0.0/23" sl block 198.18.0.0/23
expect_blocked "198.18.0.0/23 blocked, client 1 v4" "$NS_C" "$S4"
expect_blocked "198.18.0.0/23 blocked, client 2 v4" "$NS_C2" "$S4B"
expect_flows "198.18.0.0/23 blocked, client 2 v6" "$NS_C2" "$S6B"
check "unblock 198.18.0.0/23" sl unblock 198.18.0.0/23
expect_flows "198.18.0.0/23 unblocked, client 1 v4" "$NS_C" "$S4"
expect_flows "198.18.0.0/23 unblocked, client 2 v4" "$NS_C2" "$S4B"

# The same for IPv6 (2001:db8::/64 and 2001:db8:1::/64).
check "block 2001:db8::/47" sl block 2001:db8::/47
expect_blocked "2001:db8::/47 blocked, client 1 v6" "$NS_C" "$S6"
expect_blocked "2001:db8::/47 blocked, client 2 v6" "$NS_C2" "$S6B"
check "unblock 2001:db8::/47" sl unblock 2001:db8::/47
expect_flows "2001:db8::/47 unblocked, client 2 v6" "$NS_C2" "$S6B"

# A block of client 2's /24 only: client 1 unaffected.
check "block 198.18.1.0/24" sl block 198.18.1.0/24
expect_blocked "198.18.1.0/24 blocked, client 2 v4" "$NS_C2" "$S4B"
expect_flows "198.18.1.0/24 blocked, client 1 v4" "$NS_C" "$S4"

# Detach client 2's interface: it flows again, client 1 still filtered.
check "block 198.18.0.0/24" sl block 198.18.0.0/24
check "detach server iface 2" sl detach "$IF_S2"
expect_flows "iface 2 detached, client 2 v4" "$NS_C2" "$S4B"
expect_blocked "iface 2 detached, client 1 v4" "$NS_C" "$S4"
n=$(sl status -j | jq -r '[.attachments[].ifname] | unique | join(" ")')
if [ "$n" = "$IF_S" ]; then
	ok "status lists only iface 1 after detaching iface 2"
else
	fail "status lists only iface 1 after detaching iface 2" "got '$n'"
fi
finish
