#!/usr/bin/env bash
# The load balancer's health checks (docs/loadbalancer.md, Health checks)
# run by `sluice daemon` inside the LB node's namespace, in the lab of
# test_lb.sh (lb_lab.sh): nat services 198.18.100.1:8080 (health http,
# path /) and :9000 (health tcp), interval 1s, rise 2, fall 2, over three
# backends. Checked: every backend is found up; b2's server killed
# mid-run is shown down by `lb list -j` within two intervals (+ slack),
# then 30 curls all succeed and none reaches b2, while the long
# connections to b1 and b3 (a line every 0.2 s) are not reset; the
# metrics say sluice_lb_backend_up 0; b2's server restarted, it is up
# again after rise checks, takes new connections, and the metric is 1.
# Namespaces lh-PID-*.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "lh-$$"
VIP=198.18.100.1
LO_VIPS=""
N_CURL=30
# shellcheck source=tests/e2e/lb_lab.sh
. "$(dirname "$0")/lb_lab.sh"
if ! lab; then
	fail "lab is built" "namespaces, veth, XDP on the peers or servers failed"
	finish
fi
be() { echo "{addr: 198.18.1$1.2, port: $2}"; }

URL=http://127.0.0.1:9469/metrics
scrape() {
	timeout 10 ip netns exec "$NS_LB" curl -sSf --max-time 8 "$URL"
}
# up_metric BACKEND: sluice_lb_backend_up of BACKEND (ADDR:PORT) of
# $VIP:8080/tcp.
up_metric() {
	scrape | awk -v s="sluice_lb_backend_up{service=\"$VIP:8080/tcp\",backend=\"$1\"}" \
		'index($0, s " ") == 1 { print $NF }'
}
# up_is DESC BACKEND WANT: sluice_lb_backend_up of BACKEND is WANT.
up_is() {
	if [ "$(up_metric "$2")" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "$(scrape | grep lb_backend_up)"
	fi
}
# curls DESC B2: N_CURL curls all answered, b2 answering none or some (B2).
curls() {
	local n c1 c2 c3
	read -r n c1 c2 c3 <<<"$(spread "$VIP" 8080 "$N_CURL")"
	local want=0
	[ "$2" = some ] && want=1
	if [ "$n" = "$N_CURL" ] && [ $((c2 > 0)) = "$want" ]; then
		ok "$1: $N_CURL curls all answered, $2 by b2 ($c1/$c2/$c3)"
	else
		fail "$1: $N_CURL curls all answered, $2 by b2" "$n answered: $c1/$c2/$c3"
	fi
}
# health SERVICE ADDR: the backend's health in `lb list -j`.
health() {
	sl lb list -j | jq -r --arg s "$1" --arg a "$2" \
		'.services[] | select(.service == $s) | .backends[] | select(.addr == $a) | .health'
}
# wait_health SERVICE ADDR STATE TENTHS: polls (every 0.1 s, at most
# TENTHS times) until the backend's health is STATE; prints the tenths
# waited.
wait_health() {
	local k
	for k in $(seq "$4"); do
		[ "$(health "$1" "$2")" = "$3" ] && echo "$k" && return 0
		sleep 0.1
	done
	echo "$4"
	return 1
}

check "attach the LB node's interfaces" \
	sl attach "$IF_S" "$P-l1" "$P-l2" "$P-l3"
{
	echo "loadbalancer:"
	echo "  services:"
	echo "    - vip: $VIP"
	echo "      port: 8080"
	echo "      mode: nat"
	echo "      backends: [$(be 1 8080), $(be 2 8080), $(be 3 8080)]"
	echo "      health: {type: http, path: /, interval: 1s, rise: 2, fall: 2}"
	echo "    - vip: $VIP"
	echo "      port: 9000"
	echo "      mode: nat"
	echo "      backends: [$(be 1 9000), $(be 2 9000), $(be 3 9000)]"
	echo "      health: {type: tcp, interval: 1s, rise: 2, fall: 2}"
} >"$T/lb.yaml"
check "apply two nat services with health checks (http, tcp)" \
	sl apply -f "$T/lb.yaml"
if [ "$(health "$VIP:8080/tcp" 198.18.12.2)" = unchecked ]; then
	ok "before the daemon: backends unchecked (in the table)"
else
	fail "before the daemon: backends unchecked" "$(sl lb list)"
fi

ip netns exec "$NS_LB" "$SLUICE" --bpffs "$BPF" daemon >>"$T/daemon.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
all_up=0
for _ in $(seq 60); do
	all_up=$(sl lb list -j | jq '[.services[].backends[] | select(.health == "up")] | length')
	[ "$all_up" = 6 ] && break
	sleep 0.2
done
if [ "$all_up" = 6 ]; then
	ok "the daemon checks every backend: 6 of 6 up"
else
	fail "the daemon checks every backend" "$all_up of 6 up; $(tail -3 "$T/daemon.log")"
fi
up_is "metrics: sluice_lb_backend_up of b2 is 1" 198.18.12.2:8080 1
curls "all up" some

# ---- b2 killed mid-run ----
for k in 1 2 3 4 5 6; do long "$k" "$VIP" 40; done
sleep 2
declare -A first
for k in 1 2 3 4 5 6; do first[$k]=$(answers "$k"); done
kill "${SRV_PID[2]}"
t=$(wait_health "$VIP:8080/tcp" 198.18.12.2 down 60)
# fall 2 at 1s: the second failed check comes 1 to 2 s after the kill
if [ "$(health "$VIP:8080/tcp" 198.18.12.2)" = down ] && [ "$t" -le 35 ]; then
	ok "b2 killed: lb list -j shows it down after $t tenths of a second (fall 2, interval 1s; at most 3.5 s)"
else
	fail "b2 killed: down within two intervals" "after $t tenths: $(sl lb list)"
fi
wait_health "$VIP:9000/tcp" 198.18.12.2 down 30 >/dev/null
if sl lb list -j | jq -e '.services[] | select(.service == "'"$VIP"':8080/tcp") | .backends[] | select(.addr == "198.18.12.2") | .health_error != "" and .health_fail >= 2 and .health_since != null' >/dev/null; then
	ok "lb list -j: b2's last error, failures in a row and since"
else
	fail "lb list -j: b2's last error" "$(sl lb list -j)"
fi
curls "b2 down" none
up_is "metrics: sluice_lb_backend_up of b2 is 0" 198.18.12.2:8080 0
up_is "metrics: sluice_lb_backend_up of b1 is 1" 198.18.11.2:8080 1
# kept WHEN: the long connections of b1 and b3 still answered by their
# backend only, none reset
kept() {
	local same=0 others=0 k
	for k in 1 2 3 4 5 6; do
		[ "${first[$k]}" = b2 ] && continue
		others=$((others + 1))
		[ "$(answers "$k")" = "${first[$k]}" ] && ! grep -q ERR "$T/long-$k" &&
			same=$((same + 1))
	done
	if [ "$others" -gt 0 ] && [ "$same" = "$others" ]; then
		ok "$1: the $others long connections to b1/b3 go on, not reset (${first[*]})"
	else
		fail "$1: long connections to b1/b3 not reset" \
			"$same of $others; first ${first[*]}"
	fi
}
kept "b2 down"

# ---- b2 back ----
lb_serve 2
lb_listening 2 || fail "b2's server restarts" "$(tail -3 "$T/b2.log")"
t=$(wait_health "$VIP:8080/tcp" 198.18.12.2 up 60)
if [ "$(health "$VIP:8080/tcp" 198.18.12.2)" = up ]; then
	ok "b2 restarted: up again after $t tenths of a second (rise 2)"
else
	fail "b2 restarted: up again" "after $t tenths: $(sl lb list)"
fi
curls "b2 up" some
up_is "metrics: sluice_lb_backend_up of b2 is 1 again" 198.18.12.2:8080 1
kept "b2 back"

# ---- an unrelated apply keeps a down backend out ----
kill "${SRV_PID[2]}"
wait_health "$VIP:8080/tcp" 198.18.12.2 down 60 >/dev/null
check "lb backend add b1 --weight 2 (an unrelated change to the service)" \
	sl lb backend add "$VIP:8080/tcp" 198.18.11.2:8080 --weight 2
read -r n c1 c2 c3 <<<"$(spread "$VIP" 8080 20)"
if [ "$(health "$VIP:8080/tcp" 198.18.12.2)" = down ] && [ "$n" = 20 ] && [ "$c2" = 0 ]; then
	ok "after an apply b2 stays down and out ($n answered: $c1/$c2/$c3)"
else
	fail "after an apply b2 stays out" "$(health "$VIP:8080/tcp" 198.18.12.2); $c1/$c2/$c3"
fi
kill "$DPID"
if timeout 10 tail --pid="$DPID" -f /dev/null; then
	ok "the daemon stops on SIGTERM"
else
	fail "the daemon stops on SIGTERM" "$(tail -3 "$T/daemon.log")"
fi
finish
