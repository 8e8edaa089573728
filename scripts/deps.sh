#!/usr/bin/env bash
# Installs the Debian packages Sluice needs to build, test, demo and bench.
# Fast when everything is present: apt-get runs only for what is missing.
set -euo pipefail

PKGS=(
	# build
	make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev pkg-config
	linux-libc-dev clang-format libyaml-dev systemd
	# sluice dump (pcap) and sluice daemon (Prometheus metrics over HTTP)
	libpcap-dev libmicrohttpd-dev
	# labs, tests and benchmark anchors
	iproute2 iputils-ping curl netcat-openbsd ethtool python3 jq procps
	xdp-tools nftables iptables conntrack
	# dump read back by tcpdump and tshark, top in tmux, metrics by promtool
	tcpdump tshark tmux prometheus
	# the load balancer's scale-out test: BIRD 2 announces VIPs over BGP, ECMP
	bird2
	# the load balancer's veth lab: requests/s through the LB (bench/lab_lb.sh)
	wrk
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
