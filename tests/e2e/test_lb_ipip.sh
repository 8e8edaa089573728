#!/usr/bin/env bash
# dsr-ipip with real TCP: client -> LB (Sluice, a dsr-ipip service) ->
# three backends that each run their own Sluice with `attach --decap`
# (its own bpffs) and hold the VIPs on lo; the lab is test_lb.sh's
# (lb_lab.sh). The LB sends each new connection's packets in an
# IPv4-in-IPv4 / IPv6-in-IPv6 header to the backend Maglev picks; the
# backend's XDP hook strips it and its stack answers the client from the
# VIP directly (routed by the backend's default route, not translated by
# the LB).
#   dsr-ipip 198.18.100.3:80 and [2001:db8:100::3]:80 -> backends :80
# Checked: the backends' status shows decap; lb list shows the mode;
# a request with full-size segments is answered after the LB's too-big
# answer lowered the client's path MTU (IPv4: 1480, IPv6: 1460);
# N_CURL curls to each VIP all answered and spread over the three
# backends, counted as new connections; without --decap on the backends
# no answer comes (the packets really travel encapsulated), and with it
# again they do; the backends' deny set matches the inner (client's)
# source; an apply that reloads the backends' programs keeps --decap.
# Namespaces li-PID-*.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "li-$$"
VIP=198.18.100.3 VIP6=2001:db8:100::3
LO_VIPS="$VIP $VIP6"
# the backends' XDP: Sluice with the decapsulation (lb_lab.sh; sbe N
# ARGS... runs sluice on backend N)
lab_backend_xdp() { lab_backend_decap "$@"; }
# shellcheck source=tests/e2e/lb_lab.sh
. "$(dirname "$0")/lb_lab.sh"

if ! lab; then
	fail "lab is built" "namespaces, veth, sluice --decap on the backends or servers failed"
	finish
fi

n_decap=0
for i in 1 2 3; do
	sbe "$i" status | grep -q "decap" && n_decap=$((n_decap + 1))
done
if [ "$n_decap" = 3 ]; then
	ok "the three backends run attach --decap (status shows decap)"
else
	fail "the backends run attach --decap" "$n_decap of 3; $(sbe 1 status | tail -2)"
fi

run_capture sbe 1 attach "$P-b10" --hooks tc --decap
if [ "$RC" = 2 ] && grep -q "needs the xdp hook" <<<"$ERR" &&
	sbe 1 status | grep -q decap; then
	ok "attach --decap --hooks tc is refused (exit 2), the backend unchanged"
else
	fail "attach --decap --hooks tc is refused" "exit $RC: $ERR"
fi

check "attach the LB node's interfaces (xdp native)" \
	sl attach "$IF_S" "$P-l1" "$P-l2" "$P-l3"
be() { echo "{addr: 198.18.1$1.2, port: 80}"; }
be6() { echo "{addr: '2001:db8:1$1::2', port: 80}"; }
cat >"$T/lb.yaml" <<YAML
loadbalancer:
  services:
    - {vip: $VIP, port: 80, mode: dsr-ipip, backends: [$(be 1), $(be 2), $(be 3)]}
    - {vip: '$VIP6', port: 80, mode: dsr-ipip, backends: [$(be6 1), $(be6 2), $(be6 3)]}
YAML
check "apply two dsr-ipip services (IPv4, IPv6)" sl apply -f "$T/lb.yaml"
if [ "$(sl lb list -j | jq -r '[.services[].mode] | unique | join(",")')" = dsr-ipip ] &&
	sl lb list | grep -q dsr-ipip; then
	ok "lb list (and -j) shows mode dsr-ipip"
else
	fail "lb list shows mode dsr-ipip" "$(sl lb list)"
fi

spread_check dsr-ipip "$VIP" 80
got=$(sl lb list -j | jq -r --arg s "$VIP:80/tcp" '.services[] | select(.service == $s) | .conns')
if [ "$got" -ge "$N_CURL" ] 2>/dev/null; then
	ok "dsr-ipip: lb list -j counts $got new connections for $N_CURL curls"
else
	fail "dsr-ipip: lb list -j counts the connections" "$got for $N_CURL curls"
fi
spread_check "dsr-ipip IPv6" "$VIP6" 80

# MTU: every link is 1500 bytes, so a full-size segment from the client
# does not fit the tunnel: the LB answers from the VIP (ICMP fragmentation
# needed / ICMPv6 packet too big), the client's stack lowers its path MTU
# to the VIP and the request (a 3000-byte line) goes through
too_big() { sl stats -j | jq -r '.reasons["lb-too-big"].packets // 0'; }
long_get() {
	local host=$1 path
	path=$(head -c 3000 /dev/zero | tr '\0' a)
	[[ "$host" == *:* ]] && host="[$host]"
	timeout 15 ip netns exec "$NS_C" curl -sS -g --connect-timeout 2 \
		--max-time 12 "http://$host:80/$path" 2>/dev/null
}
for v in "$VIP" "$VIP6"; do
	before=$(too_big)
	r=$(long_get "$v")
	want=1480
	[[ "$v" == *:* ]] && want=1460
	pmtu=$(ip -n "$NS_C" route get "$v" | grep -o "mtu [0-9]*")
	if [[ "$r" == b[123] ]] && [ "$(too_big)" -gt "$before" ] &&
		[ "$pmtu" = "mtu $want" ]; then
		ok "too big for the tunnel ($v): answered by the LB (lb-too-big), the client's path MTU $want, the request answered by $r"
	else
		fail "too big for the tunnel ($v): path MTU lowered, request answered" \
			"answer '$r', lb-too-big $before -> $(too_big), client route: $pmtu"
	fi
done

# the backends without the decapsulation: the tunnel packets reach a
# stack with no ipip module, and nothing answers
for i in 1 2 3; do sbe "$i" attach "$P-b${i}0" >/dev/null; done
if ! sbe 1 status | grep -q decap && [ -z "$(get "$VIP" 80)" ] &&
	[ -z "$(get "$VIP6" 80)" ]; then
	ok "without --decap on the backends no answer comes (the packets travel encapsulated)"
else
	fail "without --decap no answer comes" "$(sbe 1 status | tail -1)"
fi
for i in 1 2 3; do sbe "$i" attach "$P-b${i}0" --decap >/dev/null; done
read -r n c1 c2 c3 <<<"$(spread "$VIP" 80 10)"
if [ "$n" = 10 ]; then
	ok "with --decap again: 10 curls answered ($c1/$c2/$c3)"
else
	fail "with --decap again: curls answered" "$n of 10"
fi

# the backends' firewall judges the inner packet: the client's address
# blocked (the outer source is the VIP) stops the answers
for i in 1 2 3; do sbe "$i" block 198.18.0.1/32 >/dev/null; done
if [ -z "$(get "$VIP" 80)" ] && [ -z "$(get "$VIP" 80)" ]; then
	ok "a backend's deny set matches the inner source (the client blocked: no answer)"
else
	fail "a backend's deny set matches the inner source" "answered"
fi
for i in 1 2 3; do sbe "$i" unblock 198.18.0.1/32 >/dev/null; done
# an apply that reloads the programs (conntrack on) keeps --decap
printf 'conntrack: {enabled: true}\n' >"$T/ct.yaml"
for i in 1 2 3; do sbe "$i" apply -f "$T/ct.yaml" >/dev/null; done
read -r n c1 c2 c3 <<<"$(spread "$VIP" 80 10)"
if sbe 1 status | grep -q "conntrack,decap" && [ "$n" = 10 ]; then
	ok "apply (conntrack on) keeps decap: 10 curls answered ($c1/$c2/$c3)"
else
	fail "apply keeps decap" "$n of 10 answered; $(sbe 1 status | tail -1)"
fi

for i in 1 2 3; do sbe "$i" reset >/dev/null 2>&1; done
finish
