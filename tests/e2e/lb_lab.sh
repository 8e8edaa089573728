# shellcheck shell=bash
# lb_lab.sh: the load balancer's lab, sourced by test_lb.sh,
# test_lb_health.sh, test_lb_ipip.sh and bench/lab_lb.sh after lib.sh and
# lab_names: a client namespace, the LB node ($NS_LB, forwarding on) and
# backend namespaces $P-b1..N, each behind its own veth, running a small
# server that answers with its own name (HTTP on 8080 and 80, a line
# service on 9000). The client's end runs an empty XDP program (XDP_TX /
# redirect into a veth needs one on the peer) and every sender has
# checksum offload off. The caller sets LO_VIPS (the backends' addresses
# on lo) and may define, before sourcing, lab_backend_xdp NS IF (the
# backends' XDP program; default: the empty one; lab_backend_decap for
# dsr-ipip) and lb_serve I /
# lb_listening I (backend I's server and its readiness; default: the
# name server below), and set the addresses (defaults in brackets):
#   LB_NET_C  LB_NET6_C   client link /24, /64: .1 / ::1 the client, .2 /
#                         ::2 the LB node [198.18.0, 2001:db8:]
#   LB_NET_VIP LB_NET6_VIP the VIPs' /24, /64, routed via the LB node
#                         [198.18.100, 2001:db8:100:]
#   LB_NETS_BE LB_NETS6_BE one per backend, its link's /24, /64: .1 the LB
#                         node, .2 the backend [198.18.11..13,
#                         2001:db8:11..13:]
EMPTY=$(dirname "$SLUICE")/xdp_empty.bpf.o
[ -f "$EMPTY" ] || EMPTY=$ROOT_DIR/build/xdp_empty.bpf.o
NS_LB=$NS_S
N_CURL=${N_CURL:-30}
LB_NET_C=${LB_NET_C:-198.18.0} LB_NET6_C=${LB_NET6_C:-2001:db8:}
LB_NET_VIP=${LB_NET_VIP:-198.18.100} LB_NET6_VIP=${LB_NET6_VIP:-2001:db8:100:}
read -r -a LB_BE4 <<<"${LB_NETS_BE:-198.18.11 198.18.12 198.18.13}"
read -r -a LB_BE6 <<<"${LB_NETS6_BE:-2001:db8:11: 2001:db8:12: 2001:db8:13:}"

# The backends' server and the long-connection client (one file).
cat >"$T/lbpeer.py" <<'EOF'
import socket, socketserver, sys, threading, time

class S(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True

def serve(name):
    class Http(socketserver.StreamRequestHandler):
        def handle(self):
            self.rfile.readline()
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain"
                             b"\r\n\r\n" + name.encode() + b"\n")
    class Line(socketserver.StreamRequestHandler):
        def handle(self):
            for _ in self.rfile:
                self.wfile.write(name.encode() + b"\n")
    for port, h in ((8080, Http), (80, Http), (9000, Line)):
        s = S(("::", port), h)
        threading.Thread(target=s.serve_forever, daemon=True).start()
    time.sleep(900)

def client(host, out, secs):
    # one line every 0.2 s for secs seconds; each answer (or "ERR") on out
    with open(out, "w", buffering=1) as f:
        try:
            c = socket.create_connection((host, 9000), timeout=3)
            r = c.makefile()
            end = time.time() + float(secs)
            while time.time() < end:
                c.sendall(b"x\n")
                a = r.readline().strip()
                f.write((a or "ERR") + "\n")
                if not a:
                    return
                time.sleep(0.2)
        except OSError:
            f.write("ERR\n")

if sys.argv[1] == "serve":
    serve(sys.argv[2])
else:
    client(sys.argv[2], sys.argv[3], sys.argv[4])
EOF

# lab: client -- LB -- b1..N (one /24 and /64 each); each backend
# holds $LO_VIPS on lo and gets its XDP program from lab_backend_xdp NS
# IF (default: the empty program).
lab_lo() {
	local a
	for a in $LO_VIPS; do
		if [[ "$a" == *:* ]]; then
			ip -n "$1" addr add "$a/128" dev lo nodad || return 1
		else
			ip -n "$1" addr add "$a/32" dev lo || return 1
		fi
	done
}
# lb_serve I: backend I's server (80, 8080, 9000) in the background;
# its pid in SRV_PID[I].
declare -A SRV_PID
if ! declare -F lb_serve >/dev/null; then
	lb_serve() {
		timeout 900 ip netns exec "$P-b$1" "$PY" "$T/lbpeer.py" serve \
			"b$1" >>"$T/b$1.log" 2>&1 &
		SRV_PID[$1]=$!
		PIDS+=($!)
	}
fi
# lb_listening I: backend I's servers listen (bounded wait).
if ! declare -F lb_listening >/dev/null; then
	lb_listening() { listening "$P-b$1" 9000; }
fi
# sbe N ARGS...: sluice on backend N (its namespace, its own bpffs).
sbe() {
	timeout 60 ip netns exec "$P-b$1" "$SLUICE" --bpffs "$T/bpf-b$1" \
		"${@:2}"
}
# lab_backend_decap NS IF: Sluice with the decapsulation (attach --decap,
# for dsr-ipip) on backend NS's IF, on a bpffs of its own; a test makes it
# its lab_backend_xdp.
lab_backend_decap() {
	local n=${1##*-b}
	mkdir -p "$T/bpf-b$n" && mount -t bpf bpf "$T/bpf-b$n" || return 1
	MOUNTS+=("$T/bpf-b$n")
	sbe "$n" attach "$2" --decap >/dev/null
}
if ! declare -F lab_backend_xdp >/dev/null; then
	lab_backend_xdp() { ip -n "$1" link set dev "$2" xdp obj "$EMPTY" sec xdp; }
fi
lab() {
	local i n4 n6
	ns_up "$NS_C" && ns_up "$NS_LB" || return 1
	pair_up "$NS_C" "$IF_C" "$LB_NET_C.1" "${LB_NET6_C}:1" "$NS_LB" "$IF_S" \
		"$LB_NET_C.2" "${LB_NET6_C}:2" || return 1
	ip -n "$NS_C" route add "$LB_NET_VIP.0/24" via "$LB_NET_C.2" &&
		ip -n "$NS_C" -6 route add "${LB_NET6_VIP}:/64" via "${LB_NET6_C}:2" ||
		return 1
	ip netns exec "$NS_LB" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 || return 1
	for i in $(seq ${#LB_BE4[@]}); do
		n4=${LB_BE4[i - 1]} n6=${LB_BE6[i - 1]}
		ns_up "$P-b$i" || return 1
		pair_up "$NS_LB" "$P-l$i" "$n4.1" "${n6}:1" \
			"$P-b$i" "$P-b${i}0" "$n4.2" "${n6}:2" ||
			return 1
		ip -n "$P-b$i" route add default via "$n4.1" &&
			ip -n "$P-b$i" -6 route add default via "${n6}:1" &&
			lab_lo "$P-b$i" &&
			lab_backend_xdp "$P-b$i" "$P-b${i}0" &&
			ip netns exec "$P-b$i" ethtool -K "$P-b${i}0" tx off \
				>/dev/null || return 1
		lb_serve "$i"
	done
	ip -n "$NS_C" link set dev "$IF_C" xdp obj "$EMPTY" sec xdp &&
		ip netns exec "$NS_C" ethtool -K "$IF_C" tx off >/dev/null ||
		return 1
	for i in $(seq ${#LB_BE4[@]}); do
		lb_listening "$i"
		# neighbours resolved both ways before the first forward
		try_ping "$NS_LB" "${LB_BE4[i - 1]}.2" &&
			try_ping "$NS_LB" "${LB_BE6[i - 1]}:2" || return 1
	done
	try_ping "$NS_LB" "$LB_NET_C.1" && try_ping "$NS_LB" "${LB_NET6_C}:1"
}
# get HOST PORT: one fetch; the backend's name (empty on failure).
get() {
	local host=$1
	[[ "$host" == *:* ]] && host="[$host]"
	timeout 6 ip netns exec "$NS_C" curl -sS -g --connect-timeout 2 \
		--max-time 3 "http://$host:$2/" 2>/dev/null
}
# spread HOST PORT N: fetch N times; prints "ok b1 b2 b3" counts.
spread() {
	local n=0 r c1=0 c2=0 c3=0
	for _ in $(seq "$3"); do
		r=$(get "$1" "$2")
		case "$r" in
		b1) c1=$((c1 + 1)) ;;
		b2) c2=$((c2 + 1)) ;;
		b3) c3=$((c3 + 1)) ;;
		*) continue ;;
		esac
		n=$((n + 1))
	done
	echo "$n $c1 $c2 $c3"
}
# spread_check NAME HOST PORT: N_CURL curls all answered, each backend
# answering some.
spread_check() {
	read -r n c1 c2 c3 <<<"$(spread "$2" "$3" "$N_CURL")"
	if [ "$n" = "$N_CURL" ] && [ "$c1" -gt 0 ] && [ "$c2" -gt 0 ] &&
		[ "$c3" -gt 0 ]; then
		ok "$1: $N_CURL curls to $2 port $3 all answered, spread $c1/$c2/$c3"
	else
		fail "$1: curls spread over the three backends" \
			"$n answered: $c1/$c2/$c3"
	fi
}
# long NAME HOST SECS: a long connection in the background, answers in
# $T/long-NAME.
long() {
	timeout $(($3 + 10)) ip netns exec "$NS_C" "$PY" "$T/lbpeer.py" client \
		"$2" "$T/long-$1" "$3" &
	PIDS+=($!)
}
# answers NAME: the distinct answers of a long connection so far.
answers() {
	sort -u "$T/long-$1" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
}
# conns SERVICE: the service's new connections in `lb list -j`.
conns() {
	sl lb list -j | jq -r --arg s "$1" '.services[] | select(.service == $s) | .conns'
}
