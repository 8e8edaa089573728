# shellcheck shell=bash disable=SC2034
# The load balancer's lab, sourced by test_lb.sh and test_lb_health.sh
# after lib.sh and lab_names: a client namespace, the LB node ($NS_LB)
# and three backend namespaces, each behind its own veth, running a small
# server that answers with its own name (HTTP on 8080 and 80, and a line
# service on 9000 that answers every line of a long connection). The
# clients' and backends' ends run an empty XDP program (XDP_TX/redirect
# into a veth needs one on the peer) and send with checksum offload off.
# Backend i is 198.18.1i.2 / 2001:db8:1i::2; the VIPs route via the LB.
EMPTY=$(dirname "$SLUICE")/xdp_empty.bpf.o
[ -f "$EMPTY" ] || EMPTY=build/xdp_empty.bpf.o
NS_LB=$NS_S
VIP=198.18.100.1 VIP_DSR=198.18.100.2 VIP6=2001:db8:100::1
VIP6_DSR=2001:db8:100::2
N_CURL=30

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

# lab: client -- LB -- b1, b2, b3 (one /24 and /64 each)
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
			ip -n "$P-b$i" addr add "$VIP_DSR/32" dev lo &&
			ip -n "$P-b$i" addr add "$VIP6_DSR/128" dev lo nodad &&
			ip -n "$P-b$i" link set dev "$P-b${i}0" xdp obj "$EMPTY" \
				sec xdp &&
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
if ! lab; then
	fail "lab is built" "namespaces, veth, XDP on the peers or servers failed"
	finish
fi

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
# be I PORT, be6 I PORT: backend I as a config entry.
be() { echo "{addr: 198.18.1$1.2, port: $2}"; }
be6() { echo "{addr: '2001:db8:1$1::2', port: $2}"; }
# conns SERVICE: the service's new connections in `lb list -j`.
conns() {
	sl lb list -j | jq -r --arg s "$1" '.services[] | select(.service == $s) | .conns'
}
