#!/usr/bin/env bash
# Every example of the CLI's help (docs/cli.md, `$ sluice ...` lines) runs
# as shown and exits 0, in the order the help gives them, on a host with
# the interfaces they name (eth0, eth1, eth2, veth0, wlan0). /etc/sluice/
# paths become the test's own directory. What an example needs that an
# earlier one took away is put back first (the entry `unblock` removes was
# flushed by `block --flush` just before; synproxy needs conntrack on).
# The examples that run until stopped (events --follow / -f, top without
# --once, stats --watch, daemon, dump) and `--bpffs /run/...` are left to
# their own tests (test_events, test_top, test_stats, test_daemon,
# test_dump); `reset` runs last.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces or veths failed"
	finish
fi
for i in eth0 eth1 eth2 veth0 wlan0; do
	ip -n "$NS_S" link add "$i" type veth peer name "$i-p" &&
		ip -n "$NS_S" link set "$i" up && ip -n "$NS_S" link set "$i-p" up ||
		fail "interface $i in the server's namespace" "ip link failed"
done
cd "$T" || exit 1
printf '198.18.77.0/24\n2001:db8:77::/48\n' >drop-list.txt
cp "$ROOT_DIR/examples/blocklist.txt" .
sed 's/veth0/eth1/' "$ROOT_DIR/examples/sluice.yaml" >sluice.yaml
cp sluice.yaml new.yaml
sluice() { sl "$@"; }

# before LINE: what the example needs that the ones before it took away.
before() {
	case $1 in
	"sluice unblock "*) sl block "${1#sluice unblock }" ;;
	"sluice unallow "*) sl allow "${1#sluice unallow }" ;;
	"sluice synproxy add "*)
		[ -n "${CT_ON:-}" ] ||
			printf 'conntrack: {enabled: true}\n' | sl apply -f -
		CT_ON=1
		;;
	esac >/dev/null 2>&1
}

n=0
while IFS= read -r line; do
	case $line in
	*--follow* | *" -f -c "* | "sluice top" | "sluice top -d"* | *--watch* | \
		"sluice daemon"* | "sluice dump"* | "sluice reset" | *"--bpffs /run/"*)
		continue
		;;
	esac
	n=$((n + 1))
	before "$line"
	cmd=${line//\/etc\/sluice\//$T\/}
	if (eval "set -o pipefail; $cmd") >"$T/out" 2>"$T/err" </dev/null; then
		ok "example: $line"
	else
		fail "example: $line" "$(tail -2 "$T/err" | tr '\n' ' ')"
	fi
done < <(sed -n 's/^ *\$ \(sluice .*\)$/\1/p' "$ROOT_DIR/docs/cli.md")
[ "$n" -ge 50 ] && ok "$n examples run" || fail "the examples are found" "only $n"
check "example: sluice reset" sl reset
finish
