#!/usr/bin/env bash
# The TC hooks: attach --hooks tc classifies ingress at TC (a blocked source
# prefix stops ping, curl and nc; unblock restores them) and egress without
# the sets; a large download through the egress filter (non-linear GSO
# skbs) is neither dropped nor counted malformed; --hooks xdp,tc runs XDP at
# ingress and TC at egress only; switching hook sets leaves nothing stale
# (ip link, tc filter, bpftool, pins); a failed TC attach rolls the XDP part
# back; detach removes the filters; reset leaves nothing; generic mode too.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi
# 4 MiB served by the HTTP server: big enough for GSO (non-linear) skbs.
head -c 4194304 /dev/zero >"$T/www/big.bin"

# want NAME GOT WANT: ok when GOT equals WANT.
want() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

pins() {
	ls "$BPF/sluice/links/$IF_S" 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'
}

# ---- --hooks tc ----
run_capture sl attach "$IF_S" --hooks tc
want "attach --hooks tc exits 0" "$RC" 0
want "--hooks tc: status lists tc-in and tc-out" "$(status_hooks "$IF_S")" "tc-in tc-out"
in_id=$(status_field "$IF_S" prog_id tc-in)
out_id=$(status_field "$IF_S" prog_id tc-out)
want "--hooks tc: the kernel runs the programs status names, no XDP" \
	"$(hooks_in_kernel "$NS_S" "$IF_S")" "xdp=- tc-in=$in_id tc-out=$out_id"
want "--hooks tc: pins tc-in and tc-out" "$(pins)" "tc-in tc-out"
want "--hooks tc: status mode is clsact" "$(status_field "$IF_S" mode tc-out)" clsact

expect_flows "tc attached, v4" "$NS_C" "$S4"
expect_flows "tc attached, v6" "$NS_C" "$S6"

# TC ingress parses from the Ethernet header: ARP is non-ip, pings pass,
# nothing is malformed.
ip -n "$NS_C" neigh flush dev "$IF_C"
timeout 10 ip netns exec "$NS_C" ping -q -n -c 5 -i 0.2 -W 1 "$S4" >/dev/null 2>&1
st=$(sl stats -j)
if echo "$st" | jq -e '.reasons["non-ip"].pass.packets > 0 and .reasons.pass.pass.packets >= 10 and .reasons["malformed-l2"].packets == 0 and .reasons["malformed-l3"].packets == 0 and .reasons["malformed-l4"].packets == 0' >/dev/null; then
	ok "tc: ARP counts as non-ip, pings as pass, nothing malformed"
else
	fail "tc: ARP counts as non-ip, pings as pass, nothing malformed" "$(echo "$st" | jq -c .reasons)"
fi

# 4 MiB from the server through its egress filter, v4 and v6.
for dst in "$S4" "[$S6]"; do
	n=$(timeout 20 ip netns exec "$NS_C" curl -sS -g --connect-timeout 2 \
		--max-time 15 -o /dev/null -w '%{size_download}' \
		"http://$dst:$HTTP_PORT/big.bin" 2>/dev/null)
	want "tc: 4 MiB download from $dst through the egress filter" "$n" 4194304
done
m=$(sl stats -j | jq '[.reasons["malformed-l2","malformed-l3","malformed-l4"].packets] | add')
want "tc: no malformed verdict after the downloads (non-linear skbs)" "$m" 0

# The sets classify ingress only.
d0=$(stats_packets deny-set drop)
check "tc: block 198.18.0.0/24" sl block 198.18.0.0/24
expect_blocked "tc, v4 blocked, v4" "$NS_C" "$S4"
expect_flows "tc, v4 blocked, v6" "$NS_C" "$S6"
d1=$(stats_packets deny-set drop)
if [ "$d1" -gt "$d0" ] 2>/dev/null; then ok "tc: drops count under deny-set"; else
	fail "tc: drops count under deny-set" "before $d0, after $d1"
fi
check "tc: unblock 198.18.0.0/24" sl unblock 198.18.0.0/24
expect_flows "tc, v4 unblocked, v4" "$NS_C" "$S4"
check "tc: block 2001:db8::/64" sl block 2001:db8::/64
if try_ping "$NS_C" "$S6"; then fail "tc, v6 blocked, ping is dropped" "got through"; else
	ok "tc, v6 blocked, ping is dropped"
fi
check "tc: unblock 2001:db8::/64" sl unblock 2001:db8::/64
# Entries that would match only the server's replies (source: the server,
# destination: the client): egress does not consult the sets.
check "tc: block the server's address and --dst the client's" \
	sl block 198.18.0.2 2001:db8::2
check "tc: block --dst the client's addresses" sl block --dst 198.18.0.1 2001:db8::1
expect_flows "tc, entries matching only egress, v4" "$NS_C" "$S4"
if try_ping "$NS_C" "$S6" || try_ping "$NS_C" "$S6"; then
	ok "tc, entries matching only egress, v6 ping passes"
else
	fail "tc, entries matching only egress, v6 ping passes" "no answer"
fi
sl unblock 198.18.0.2 2001:db8::2 >/dev/null
sl unblock --dst 198.18.0.1 2001:db8::1 >/dev/null

# Re-attach --hooks tc: new programs, replaced in place (one filter each).
check "tc: re-attach --hooks tc" sl attach "$IF_S" --hooks tc
in2=$(status_field "$IF_S" prog_id tc-in)
out2=$(status_field "$IF_S" prog_id tc-out)
if [ "$in2" != "$in_id" ] && [ "$out2" != "$out_id" ] &&
	[ "$(hooks_in_kernel "$NS_S" "$IF_S")" = "xdp=- tc-in=$in2 tc-out=$out2" ] &&
	[ "$(tc_filter_count "$NS_S" "$IF_S" ingress)" = 1 ] &&
	[ "$(tc_filter_count "$NS_S" "$IF_S" egress)" = 1 ]; then
	ok "tc: re-attach replaces both filters' programs in place"
else
	fail "tc: re-attach replaces both filters' programs in place" \
		"$(hooks_in_kernel "$NS_S" "$IF_S"), status $in2/$out2, was $in_id/$out_id"
fi

# ---- switch to xdp,tc (the default) ----
run_capture sl attach "$IF_S"
want "switch to xdp,tc exits 0" "$RC" 0
want "xdp,tc: status lists xdp and tc-out" "$(status_hooks "$IF_S")" "tc-out xdp"
want "xdp,tc: status -j has two entries" "$(sl status -j | jq '.attachments | length')" 2
x_id=$(status_field "$IF_S" prog_id xdp)
o_id=$(status_field "$IF_S" prog_id tc-out)
want "xdp,tc: the kernel runs XDP and tc-out, no TC ingress filter" \
	"$(hooks_in_kernel "$NS_S" "$IF_S")" "xdp=$x_id tc-in=- tc-out=$o_id"
want "xdp,tc: no filter left at TC ingress" "$(tc_filter_count "$NS_S" "$IF_S" ingress)" 0
want "xdp,tc: pins tc-out and xdp-native" "$(pins)" "tc-out xdp-native"
if prog_gone "$in2"; then ok "xdp,tc: the old tc-in program is freed"; else
	fail "xdp,tc: the old tc-in program is freed" "prog $in2 still loaded"
fi
expect_flows "xdp,tc, v4" "$NS_C" "$S4"
check "xdp,tc: block 198.18.0.0/24" sl block 198.18.0.0/24
if try_ping "$NS_C" "$S4"; then fail "xdp,tc, v4 blocked, ping is dropped" "got through"; else
	ok "xdp,tc, v4 blocked, ping is dropped"
fi
check "xdp,tc: unblock 198.18.0.0/24" sl unblock 198.18.0.0/24

# ---- back to tc only ----
check "switch back to --hooks tc" sl attach "$IF_S" --hooks tc
want "tc again: status lists tc-in and tc-out" "$(status_hooks "$IF_S")" "tc-in tc-out"
want "tc again: no XDP program on the interface" "$(xdp_prog_id "$NS_S" "$IF_S")" ""
want "tc again: pins tc-in and tc-out" "$(pins)" "tc-in tc-out"
if prog_gone "$x_id"; then ok "tc again: the old XDP program is freed"; else
	fail "tc again: the old XDP program is freed" "prog $x_id still loaded"
fi
expect_flows "tc again, v4" "$NS_C" "$S4"

# ---- --hooks xdp alone removes the TC filters ----
check "switch to --hooks xdp" sl attach "$IF_S" --hooks xdp
want "xdp only: status lists xdp" "$(status_hooks "$IF_S")" "xdp"
want "xdp only: no Sluice filter at TC" \
	"$(tc_prog_id "$NS_S" "$IF_S" ingress)$(tc_prog_id "$NS_S" "$IF_S" egress)" ""

# ---- bad hook names: exit 2, one line, nothing changed ----
before=$(hooks_in_kernel "$NS_S" "$IF_S")
for h in bogus xdp,bogus "" ,; do
	run_capture sl attach "$IF_S" --hooks "$h"
	if [ "$RC" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && [[ "$ERR" == "sluice: "* ]]; then
		ok "--hooks '$h' exits 2 with one error line"
	else
		fail "--hooks '$h' exits 2 with one error line" "exit $RC: $(tr '\n' '|' <"$T/err")"
	fi
done
want "bad --hooks change nothing" "$(hooks_in_kernel "$NS_S" "$IF_S")" "$before"

# ---- detach ----
check "detach" sl detach "$IF_S"
want "detach: nothing runs on the interface" "$(hooks_in_kernel "$NS_S" "$IF_S")" "xdp=- tc-in=- tc-out=-"
check "attach --hooks tc before detach" sl attach "$IF_S" --hooks tc
check "detach (tc)" sl detach "$IF_S"
want "detach (tc): no Sluice filter left" "$(hooks_in_kernel "$NS_S" "$IF_S")" "xdp=- tc-in=- tc-out=-"
want "detach (tc): no filter at all on ingress or egress" \
	"$(tc_filter_count "$NS_S" "$IF_S" ingress) $(tc_filter_count "$NS_S" "$IF_S" egress)" "0 0"
want "detach (tc): status lists nothing" "$(sl status -j | jq '.attachments | length')" 0
want "detach (tc): no pins for the interface" "$(pins)" ""

# ---- a TC failure after the XDP part rolls the XDP part back ----
# A foreign filter (classic BPF, protocol ip) at Sluice's priority on
# egress makes the TC attach fail after the XDP link was made.
ip netns exec "$NS_S" tc qdisc add dev "$IF_S" clsact 2>/dev/null
if ip netns exec "$NS_S" tc filter add dev "$IF_S" egress protocol ip \
	pref 20942 handle 0x51ce bpf bytecode '1,6 0 0 0,' 2>/dev/null; then
	run_capture sl attach "$IF_S"
	if [ "$RC" -ne 0 ] && [ -z "$(xdp_prog_id "$NS_S" "$IF_S")" ] &&
		[ "$(sl status -j | jq '.attachments | length')" = 0 ] && [ -z "$(pins)" ]; then
		ok "a failed TC attach leaves no XDP link, no pin"
		echo "# the failed attach said: $ERR"
	else
		fail "a failed TC attach leaves no XDP link, no pin" \
			"exit $RC ($ERR), $(hooks_in_kernel "$NS_S" "$IF_S"), pins '$(pins)'"
	fi
	want "the foreign filter is untouched" "$(tc_filter_count "$NS_S" "$IF_S" egress)" 1
	ip netns exec "$NS_S" tc filter del dev "$IF_S" egress pref 20942
else
	fail "a failed TC attach leaves no XDP link, no pin" "cannot add the foreign filter"
fi

# ---- generic mode ----
run_capture sl attach "$IF_S" --mode generic
want "generic: attach (xdp,tc) exits 0" "$RC" 0
want "generic: ip link shows generic XDP" "$(xdp_mode "$NS_S" "$IF_S")" 2
want "generic: status lists xdp and tc-out" "$(status_hooks "$IF_S")" "tc-out xdp"
want "generic: status mode generic" "$(status_field "$IF_S" mode)" generic
expect_flows "generic xdp,tc, v6" "$NS_C" "$S6"
check "generic: block 2001:db8::/64" sl block 2001:db8::/64
if try_ping "$NS_C" "$S6"; then fail "generic, v6 blocked, ping is dropped" "got through"; else
	ok "generic, v6 blocked, ping is dropped"
fi
check "generic: unblock 2001:db8::/64" sl unblock 2001:db8::/64
check "generic: switch to --hooks tc" sl attach "$IF_S" --hooks tc --mode generic
want "generic -> tc: no XDP left" "$(xdp_prog_id "$NS_S" "$IF_S")" ""
want "generic -> tc: status lists tc-in and tc-out" "$(status_hooks "$IF_S")" "tc-in tc-out"

# ---- two interfaces: an attach moves the other's filters too ----
lab_add_client || fail "second client" "lab_add_client failed"
check "attach iface 2 (xdp,tc)" sl attach "$IF_S2"
o1=$(status_field "$IF_S" prog_id tc-out)
o2=$(status_field "$IF_S2" prog_id tc-out)
want "both interfaces run the same tc-out program" "$o1" "$o2"
want "iface 1's filter runs it" "$(tc_prog_id "$NS_S" "$IF_S" egress)" "$o1"
expect_flows "two ifaces, client 2 v4" "$NS_C2" "$S4B"

# ---- reset leaves nothing ----
check "reset" sl reset
want "reset: nothing runs on iface 1" "$(hooks_in_kernel "$NS_S" "$IF_S")" "xdp=- tc-in=- tc-out=-"
want "reset: nothing runs on iface 2" "$(hooks_in_kernel "$NS_S" "$IF_S2")" "xdp=- tc-in=- tc-out=-"
left=$(find "$BPF" -mindepth 1 ! -name maps.debug ! -name progs.debug | head -n5 | tr '\n' ' ')
want "reset: no pin left on the bpffs" "$left" ""
if prog_gone "$o1"; then ok "reset: the tc-out program is freed"; else
	fail "reset: the tc-out program is freed" "prog $o1 still loaded"
fi
expect_flows "reset, v4" "$NS_C" "$S4"
finish
