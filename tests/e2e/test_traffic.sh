#!/usr/bin/env bash
# IPv4 and IPv6 ping, curl and nc pass when attached, are dropped after a
# block of the client's /24 (v4) or /64 (v6), each separately, and pass
# again after unblock: in native mode, then in generic mode.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi
expect_flows "no program, v4" "$NS_C" "$S4"
expect_flows "no program, v6" "$NS_C" "$S6"

# run_mode MODE IPLINK_MODE: the whole block/unblock cycle in one mode.
run_mode() {
	local m=$1 want=$2 id

	run_capture sl attach "$IF_S" --mode "$m"
	if [ "$RC" -eq 0 ]; then ok "$m, attach exits 0"; else
		fail "$m, attach exits 0" "exit $RC: $ERR"
		return
	fi
	if [ "$(status_field "$IF_S" mode)" = "$m" ]; then
		ok "$m, status reports mode $m"
	else
		fail "$m, status reports mode $m" "got '$(status_field "$IF_S" mode)'"
	fi
	id=$(xdp_prog_id "$NS_S" "$IF_S")
	if [ -n "$id" ] && [ "$(xdp_mode "$NS_S" "$IF_S")" = "$want" ]; then
		ok "$m, ip link shows the program in $m mode"
	else
		fail "$m, ip link shows the program in $m mode" \
			"prog id '$id', mode '$(xdp_mode "$NS_S" "$IF_S")' (want $want)"
	fi

	expect_flows "$m attached, v4" "$NS_C" "$S4"
	expect_flows "$m attached, v6" "$NS_C" "$S6"

	check "$m, block 198.18.0.0/24" sl block 198.18.0.0/24
	expect_blocked "$m v4 blocked, v4" "$NS_C" "$S4"
	expect_flows "$m v4 blocked, v6" "$NS_C" "$S6"
	check "$m, unblock 198.18.0.0/24" sl unblock 198.18.0.0/24
	expect_flows "$m v4 unblocked, v4" "$NS_C" "$S4"

	check "$m, block 2001:db8::/64" sl block 2001:db8::/64
	expect_blocked "$m v6 blocked, v6" "$NS_C" "$S6"
	expect_flows "$m v6 blocked, v4" "$NS_C" "$S4"
	check "$m, unblock 2001:db8::/64" sl unblock 2001:db8::/64
	expect_flows "$m v6 unblocked, v6" "$NS_C" "$S6"
	expect_flows "$m v6 unblocked, v4" "$NS_C" "$S4"

	check "$m, detach" sl detach "$IF_S"
	if [ -z "$(xdp_prog_id "$NS_S" "$IF_S")" ]; then
		ok "$m, ip link shows no program after detach"
	else
		fail "$m, ip link shows no program after detach" \
			"prog $(xdp_prog_id "$NS_S" "$IF_S") still attached"
	fi
	if [ "$(sl status -j | jq '.attachments | length')" = 0 ]; then
		ok "$m, status lists nothing after detach"
	else
		fail "$m, status lists nothing after detach" "$(sl status -j)"
	fi
}

run_mode native 1
run_mode generic 2

# A blocked prefix left over while detached does not filter anything.
sl block 198.18.0.0/24 >/dev/null
expect_flows "detached with 198.18.0.0/24 in the set, v4" "$NS_C" "$S4"
finish
