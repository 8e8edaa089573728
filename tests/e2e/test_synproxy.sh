#!/usr/bin/env bash
# SYN-flood protection with real TCP: the server namespace runs Sluice (XDP
# native) with conntrack and `synproxy: {ports: [HTTP]}`; its SYNs are
# answered from XDP with cookies and the kernel's SYNPROXY (the nftables
# table Sluice writes) completes the connections: curl over IPv4 and IPv6
# works, each SYN counted as syn-cookie. A bounded SYN flood from spoofed
# sources (198.18.128.0/17, 2001:db8:ff::/48) is answered from XDP and
# leaves no flow in the table, while a second client's 100 curls all
# succeed; a flood of bare ACKs is dropped as syn-cookie-invalid, one for
# one. `synproxy add|del|list`, export, --dry-run, bad config and the
# conntrack requirement; reset removes the kernel table; with TC ingress
# only (no XDP) the kernel's SYNPROXY answers the SYNs. On veth the
# XDP_TX answer reaches the peer only when the peer runs an XDP program
# (the kernel's veth), so the clients' ends run an empty one.
# Namespaces sy-PID-*.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "sy-$$"
FLOOD=$(dirname "$SLUICE")/bench/synflood
EMPTY=$(dirname "$SLUICE")/xdp_empty.bpf.o
[ -x "$FLOOD" ] || FLOOD=build/bench/synflood
[ -f "$EMPTY" ] || EMPTY=build/xdp_empty.bpf.o

if ! lab_up || ! lab_add_client ||
	! ip -n "$NS_C" link set dev "$IF_C" xdp obj "$EMPTY" sec xdp ||
	! ip -n "$NS_C2" link set dev "$IF_C2" xdp obj "$EMPTY" sec xdp; then
	fail "lab is built" "namespaces, veth, XDP on the clients or HTTP failed"
	finish
fi

# reason_count REASON: packets of a reason in `stats -j`.
reason_count() {
	sl stats -j | jq -r --arg r "$1" '.reasons[$r].packets // 0'
}
# nft_table: the kernel table Sluice wrote in the server namespace.
nft_table() {
	ip netns exec "$NS_S" nft list table inet sluice_synproxy 2>/dev/null
}
# curls NS DST N: how many of N fetches succeed.
curls() {
	local n=0
	for _ in $(seq "$3"); do
		try_curl "$1" "$2" && n=$((n + 1))
	done
	echo "$n"
}

check "attach $IF_S and $IF_S2 (xdp native)" sl attach "$IF_S" "$IF_S2"

# ---- the requirement and bad input change nothing ----
printf 'synproxy:\n  ports: [%s]\n' "$HTTP_PORT" >"$T/noct.yaml"
run_capture sl apply -f "$T/noct.yaml"
if [ "$RC" != 0 ] && grep -q "conntrack" <<<"$ERR" && [ -z "$(nft_table)" ]; then
	ok "synproxy without conntrack is refused, no kernel table"
else
	fail "synproxy without conntrack is refused" "exit $RC: $ERR"
fi
for bad in "[0]" "[70000]" "[9000-8000]" "[http]" "{a: 1}"; do
	printf 'conntrack: {enabled: true}\nsynproxy:\n  ports: %s\n' "$bad" >"$T/bad.yaml"
	run_capture sl apply -f "$T/bad.yaml"
	if [ "$RC" = 2 ] && grep -q "bad.yaml:3:" <<<"$ERR" && [ -z "$(nft_table)" ]; then
		ok "ports: $bad refused with its line (exit 2)"
	else
		fail "ports: $bad refused with its line" "exit $RC: $ERR"
	fi
done

# ---- on ----
printf 'conntrack: {enabled: true}\nsynproxy:\n  ports: [%s]\n' "$HTTP_PORT" >"$T/syn.yaml"
run_capture sl apply --dry-run -f "$T/syn.yaml"
if [ "$RC" = 0 ] && [ -z "$(nft_table)" ] && [ "$(sl synproxy list -j | jq -c .ports)" = "[]" ]; then
	ok "--dry-run checks and changes nothing"
else
	fail "--dry-run checks and changes nothing" "exit $RC: $ERR; $(nft_table | head -3)"
fi
check "apply conntrack + synproxy ports [$HTTP_PORT]" sl apply -f "$T/syn.yaml"
if nft_table | grep -q "synproxy mss 1460 wscale 7 timestamp sack-perm" &&
	nft_table | grep -q "notrack" &&
	[ "$(ip netns exec "$NS_S" cat /proc/sys/net/netfilter/nf_conntrack_tcp_loose)" = 0 ]; then
	ok "the kernel's SYNPROXY table and nf_conntrack_tcp_loose=0 are in place"
else
	fail "the kernel's SYNPROXY table is in place" "$(nft_table | head -5)"
fi
if [ "$(sl synproxy list -j | jq -c '[.ports, .conntrack]')" = "[[$HTTP_PORT],true]" ] &&
	sl export | grep -q "^synproxy:" && sl export | grep -q "ports: \[$HTTP_PORT\]"; then
	ok "synproxy list -j and export show the port"
else
	fail "synproxy list -j and export show the port" "$(sl synproxy list -j); $(sl export | grep -A1 synproxy)"
fi
if [ "$(sl status -j | jq -c '[.config.conntrack, .config.synproxy_ports]')" = "[true,1]" ] &&
	sl status | grep -q "conntrack on, 1 synproxy port$"; then
	ok "status shows conntrack on and 1 synproxy port"
else
	fail "status shows conntrack and the synproxy ports" "$(sl status -j | jq -c .config)"
fi

c0=$(reason_count syn-cookie)
ok4=$(curls "$NS_C" "$S4" 10)
ok6=$(curls "$NS_C" "$S6" 5)
c1=$(reason_count syn-cookie)
if [ "$ok4" = 10 ] && [ "$ok6" = 5 ] && [ $((c1 - c0)) -ge 15 ]; then
	ok "curl through SYN cookies: 10/10 IPv4, 5/5 IPv6, $((c1 - c0)) SYNs answered from XDP"
else
	fail "curl through SYN cookies" "IPv4 $ok4/10, IPv6 $ok6/5, syn-cookie +$((c1 - c0))"
fi
if sl ct list -j | jq -e --arg d "$HTTP_PORT" \
	'[.flows[] | select((.dport | tostring) == $d and .src == "198.18.0.1")] | length >= 10' >/dev/null; then
	ok "the connections are tracked flows of the client"
else
	fail "the connections are tracked flows" "$(sl ct list -j | head -c 300)"
fi

# ---- a spoofed SYN flood while a second client fetches ----
mac_s2=$(ip -n "$NS_S" -j link show "$IF_S2" | jq -r '.[0].address')
n_before=$(sl ct list -j | jq '.flows | length')
c0=$(reason_count syn-cookie)
timeout 60 ip netns exec "$NS_C2" "$FLOOD" --iface "$IF_C2" --dst-mac "$mac_s2" \
	--dst "$S4B" --dport "$HTTP_PORT" --src-prefix 198.18.128.0/17 \
	--count 20000000 --seconds 12 --listen --wait 1 >"$T/flood.json" 2>"$T/flood.err" &
FPID=$!
PIDS+=("$FPID")
sleep 0.5
t_c0=$(date +%s.%N)
good=$(curls "$NS_C" "$S4" 100)
t_c1=$(date +%s.%N)
wait "$FPID"
sent=$(jq -r .sent "$T/flood.json" 2>/dev/null)
synacks=$(jq -r .synacks "$T/flood.json" 2>/dev/null)
c1=$(reason_count syn-cookie)
n_after=$(sl ct list -j | jq '.flows | length')
fsec=$(jq -r .seconds "$T/flood.json" 2>/dev/null)
if [ "$good" = 100 ] && awk -v a="$t_c0" -v b="$t_c1" -v f="${fsec:-0}" 'BEGIN { exit !(b - a + 0.5 <= f) }'; then
	ok "during a flood of $sent spoofed SYNs (${fsec}s), 100/100 curls of the other client succeed (all inside the flood)"
else
	fail "100 curls during the flood" "$good/100 succeeded in $(awk -v a="$t_c0" -v b="$t_c1" 'BEGIN { print b - a }')s, flood ${fsec}s: $(cat "$T/flood.json" "$T/flood.err")"
fi
if [ "${sent:-0}" -gt 1000 ] && [ $((c1 - c0)) -ge "$sent" ] && [ "${synacks:-0}" -gt $((sent / 2)) ]; then
	ok "the flood's SYNs were answered from XDP ($((c1 - c0)) syn-cookie, $synacks SYN-ACKs seen by the flooder)"
else
	fail "the flood's SYNs were answered from XDP" "sent $sent, syn-cookie +$((c1 - c0)), SYN-ACKs $synacks"
fi
if [ $((n_after - n_before)) -le 110 ]; then
	ok "the flood left no flows (table $n_before -> $n_after: the curls' own)"
else
	fail "the flood left no flows" "table $n_before -> $n_after"
fi

# ---- bare ACKs with bad cookies ----
b0=$(reason_count syn-cookie-invalid)
timeout 30 ip netns exec "$NS_C2" "$FLOOD" --iface "$IF_C2" --dst-mac "$mac_s2" \
	--dst "$S6B" --dport "$HTTP_PORT" --src-prefix 2001:db8:ff::/48 \
	--count 5000 --seconds 10 --ack >"$T/ack.json" 2>&1
sent=$(jq -r .sent "$T/ack.json" 2>/dev/null)
b1=$(reason_count syn-cookie-invalid)
if [ "${sent:-0}" = 5000 ] && [ $((b1 - b0)) = 5000 ]; then
	ok "5000 spoofed IPv6 ACKs to the port: 5000 dropped as syn-cookie-invalid"
else
	fail "spoofed ACKs dropped as syn-cookie-invalid" "sent $sent, counted $((b1 - b0)): $(cat "$T/ack.json")"
fi

# ---- del, add ----
run_capture sl synproxy del "$HTTP_PORT"
if [ "$RC" = 0 ] && [ -z "$(nft_table)" ] && ! sl export | grep -q synproxy &&
	[ "$(curls "$NS_C" "$S4" 3)" = 3 ]; then
	ok "synproxy del: the kernel table goes, curl works without it"
else
	fail "synproxy del" "exit $RC: $ERR; $(nft_table | head -2)"
fi
c0=$(reason_count syn-cookie)
check "synproxy add $HTTP_PORT 9000-9002" sl synproxy add "$HTTP_PORT" 9000-9002
if [ "$(sl synproxy list -j | jq -c .ports)" = "[$HTTP_PORT,9000,9001,9002]" ] &&
	nft_table | grep -q "9000-9002" && [ "$(curls "$NS_C" "$S6" 3)" = 3 ] &&
	[ $(($(reason_count syn-cookie) - c0)) -ge 3 ]; then
	ok "synproxy add: ports, kernel table and cookies back"
else
	fail "synproxy add" "$(sl synproxy list -j); $(nft_table | grep dport | head -2)"
fi
run_capture sl synproxy add 0
if [ "$RC" = 2 ] && [ "$(sl synproxy list -j | jq -c .ports)" = "[$HTTP_PORT,9000,9001,9002]" ]; then
	ok "synproxy add 0 is refused (exit 2), nothing changes"
else
	fail "synproxy add 0 is refused" "exit $RC: $ERR"
fi
check "an unchanged apply keeps the ports" sl apply -f <(sl export)
if [ "$(sl synproxy list -j | jq -c .ports)" = "[$HTTP_PORT,9000,9001,9002]" ] && [ -n "$(nft_table)" ]; then
	ok "export | apply round trip keeps ports and table"
else
	fail "export | apply round trip" "$(sl synproxy list -j)"
fi

# ---- reset ----
check "reset" sl reset
if [ -z "$(nft_table)" ]; then
	ok "reset removes the kernel's SYNPROXY table"
else
	fail "reset removes the kernel's SYNPROXY table" "$(nft_table | head -3)"
fi

# ---- TC ingress only (no XDP): the kernel's SYNPROXY answers ----
check "attach --hooks tc $IF_S" sl attach --hooks tc "$IF_S"
check "apply conntrack + synproxy (TC only)" sl apply -f "$T/syn.yaml"
if [ "$(curls "$NS_C" "$S4" 3)" = 3 ] && [ "$(curls "$NS_C" "$S6" 2)" = 2 ] &&
	[ "$(reason_count syn-cookie)" = 0 ] && [ -n "$(nft_table)" ] &&
	sl ct list -j | jq -e --arg d "$HTTP_PORT" \
		'[.flows[] | select((.dport | tostring) == $d)] | length >= 5' >/dev/null; then
	ok "TC only: curl works through the kernel's SYNPROXY (no XDP answer), flows tracked"
else
	fail "TC only: curl through the kernel's SYNPROXY" "syn-cookie $(reason_count syn-cookie); $(sl ct list -j | head -c 300)"
fi
check "reset (TC only)" sl reset

finish
