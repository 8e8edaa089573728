# shellcheck shell=bash
# lb_lab.sh: the load balancer's lab, sourced by test_lb.sh and
# test_lb_ipip.sh after lib.sh and lab_names: a client namespace, the LB
# node ($NS_LB, forwarding on) and three backend namespaces $P-b1..3, each
# behind its own veth (198.18.1N.0/24, 2001:db8:1N::/64), running a small
# server that answers with its own name (HTTP on 8080 and 80, a line
# service on 9000). The client's end runs an empty XDP program (XDP_TX /
# redirect into a veth needs one on the peer) and every sender has
# checksum offload off. The test sets LO_VIPS (the backends' addresses on
# lo) and may define lab_backend_xdp before sourcing.

EMPTY=$(dirname "$SLUICE")/xdp_empty.bpf.o
[ -f "$EMPTY" ] || EMPTY=$ROOT_DIR/build/xdp_empty.bpf.o
NS_LB=$NS_S
N_CURL=${N_CURL:-30}

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

# lab: client -- LB -- b1, b2, b3 (one /24 and /64 each); each backend
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
lb_serve() {
	timeout 900 ip netns exec "$P-b$1" "$PY" "$T/lbpeer.py" serve \
		"b$1" >>"$T/b$1.log" 2>&1 &
	SRV_PID[$1]=$!
	PIDS+=($!)
}
# lb_listening I: backend I's servers listen (bounded wait).
lb_listening() { listening "$P-b$1" 9000; }
if ! declare -F lab_backend_xdp >/dev/null; then
	lab_backend_xdp() { ip -n "$1" link set dev "$2" xdp obj "$EMPTY" sec xdp; }
fi
lab() {
	ns_up "$NS_C" && ns_up "$NS_LB" || return 1
	pair_up "$NS_C" "$IF_C" 198.18.0.1 2001:db8::1 "$NS_LB" "$IF_S" \
		198.18.0.2 2001:db8::2 || return 1
	ip -n "$NS_C" route add 198.18.100.0/24 via 198.18.0.2 &&
		ip -n "$NS_C" -6 route add 2001:db8:100::/64 via 2001:db8::2 ||
		return 1
	ip netns exec "$NS_LB" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 || return 1
	for i in 1 2 3; do
		ns_up "$P-b$i" || return 1
		pair_up "$NS_LB" "$P-l$i" "198.18.1$i.1" "2001:db8:1$i::1" \
			"$P-b$i" "$P-b${i}0" "198.18.1$i.2" "2001:db8:1$i::2" ||
			return 1
		ip -n "$P-b$i" route add default via "198.18.1$i.1" &&
			ip -n "$P-b$i" -6 route add default via "2001:db8:1$i::1" &&
			lab_lo "$P-b$i" &&
			lab_backend_xdp "$P-b$i" "$P-b${i}0" &&
			ip netns exec "$P-b$i" ethtool -K "$P-b${i}0" tx off \
				>/dev/null || return 1
		lb_serve "$i"
	done
	ip -n "$NS_C" link set dev "$IF_C" xdp obj "$EMPTY" sec xdp &&
		ip netns exec "$NS_C" ethtool -K "$IF_C" tx off >/dev/null ||
		return 1
	for i in 1 2 3; do
		lb_listening "$i"
		# neighbours resolved both ways before the first forward
		try_ping "$NS_LB" "198.18.1$i.2" && try_ping "$NS_LB" "2001:db8:1$i::2" ||
			return 1
	done
	try_ping "$NS_LB" 198.18.0.1 && try_ping "$NS_LB" 2001:db8::1
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
