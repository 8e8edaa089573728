#!/usr/bin/env bash
# Bad input: each case prints exactly one line on stderr (starting
# "sluice: "), exits with the contract's status (2 bad usage/input, 1 no
# privileges) and leaves the state exactly as before (`status -j`,
# `block --list -j` and `allow --list -j` compared before and after).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi
check "attach (native)" sl attach "$IF_S"
check "block two prefixes" sl block 198.19.1.0/24 2001:db8:ffff::/48
check "allow a prefix" sl allow 198.19.2.0/24
before=$(state_snapshot)
if echo "$before" | jq -s -e 'length == 3 and ([.[0].attachments[] | select(.hook == "xdp")] | length) == 1 and (.[1] | length) == 2 and (.[2] | length) == 1' >/dev/null 2>&1; then
	ok "state before the bad calls is as set up"
else
	fail "state before the bad calls is as set up" "$(echo "$before" | tr -d '\n ' | head -c 300)"
fi

# bad NAME STATUS CMD...: one line on stderr, exit STATUS, state unchanged.
bad() {
	local name=$1 want=$2 lines after
	shift 2
	run_capture "$@"
	if [ "$RC" = "$want" ]; then ok "$name exits $want"; else
		fail "$name exits $want" "exit $RC: $ERR"
	fi
	lines=$(wc -l <"$T/err")
	if [ "$lines" = 1 ] && [[ "$ERR" == "sluice: "* ]]; then
		ok "$name prints one error line"
	else
		fail "$name prints one error line" "$lines lines: $(tr '\n' '|' <"$T/err" | head -c 300)"
	fi
	after=$(state_snapshot)
	if [ "$after" = "$before" ]; then ok "$name leaves the state unchanged"; else
		fail "$name leaves the state unchanged" \
			"$(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -n4 | tr '\n' '|')"
	fi
}

bad "block 198.18.0.0/33 (prefix too long)" 2 sl block 198.18.0.0/33
bad "block a valid then an invalid prefix" 2 sl block 198.19.3.0/24 198.18.0.300/24
bad "block 198.19.3.1/24 (host bits set)" 2 sl block 198.19.3.1/24
bad "block 2001:db8::/129" 2 sl block 2001:db8::/129
bad "block 2001:db8::g/64" 2 sl block 2001:db8::g/64
bad "allow 198.18.0.0/24/8" 2 sl allow 198.18.0.0/24/8
bad "unblock not-a-cidr" 2 sl unblock not-a-cidr
bad "block --dst with an empty prefix" 2 sl block --dst ""
bad "attach an unknown interface" 2 sl attach "sl$$-nosuch"
bad "attach --hooks xdp,udp" 2 sl attach "$IF_S" --hooks xdp,udp
bad "attach --mode turbo" 2 sl attach "$IF_S" --mode turbo
bad "detach an interface not attached" 2 sl detach lo
bad "an unknown verb" 2 sl frobnicate
bad "an unknown option" 2 sl block --frobnicate 198.19.5.0/24
bad "stats --count without --watch" 2 sl stats --count 2
bad "stats --watch 0" 2 sl stats --watch 0

# No privileges: the same calls that succeed as root fail with exit 1.
nopriv() {
	timeout 60 ip netns exec "$NS_S" setpriv --reuid=65534 --regid=65534 \
		--clear-groups "$SLUICE" --bpffs "$BPF" "$@"
}
bad "attach without privileges" 1 nopriv attach "$IF_S"
bad "block without privileges" 1 nopriv block 198.19.6.0/24
bad "status without privileges" 1 nopriv status -j
bad "stats without privileges" 1 nopriv stats -j
bad "reset without privileges" 1 nopriv reset

# block --file with a bad line 3: nothing from the file is added.
f=$T/prefixes.txt
printf '%s\n' '# deny list' '198.19.10.0/24' '198.19.11.0/33' '198.19.12.0/24' \
	'2001:db8:10::/48' >"$f"
bad "block --file with a bad line 3" 2 sl block --file "$f"
if [[ "$ERR" == *"$f:3:"* ]]; then ok "the --file error names $(basename "$f"):3:"; else
	fail "the --file error names $(basename "$f"):3:" "$ERR"
fi
printf '%s\n' '198.19.10.0/24' '198.19.11.0/24' 'garbage' >"$f"
bad "block --file plus arguments, bad line 3" 2 sl block 198.19.13.0/24 --file "$f"
if [[ "$ERR" == *"$f:3:"* ]]; then ok "the --file error names the file and line 3 again"; else
	fail "the --file error names the file and line 3 again" "$ERR"
fi

# On an empty bpffs (no state at all), a failing call creates no state.
B2=$T/bpf2
mkdir -p "$B2" && mount -t bpf bpf "$B2" && MOUNTS+=("$B2")
empty() {
	local name=$1 want=$2
	shift 2
	run_capture timeout 60 ip netns exec "$NS_S" "$SLUICE" --bpffs "$B2" "$@"
	if [ "$RC" = "$want" ] && [ "$(wc -l <"$T/err")" = 1 ] && [[ "$ERR" == "sluice: "* ]]; then
		ok "$name on an empty bpffs exits $want with one error line"
	else
		fail "$name on an empty bpffs exits $want with one error line" "exit $RC: $(tr '\n' '|' <"$T/err")"
	fi
	if [ ! -e "$B2/sluice" ]; then ok "$name on an empty bpffs creates no state"; else
		fail "$name on an empty bpffs creates no state" "created: $(ls "$B2/sluice" | tr '\n' ' ')"
		timeout 60 ip netns exec "$NS_S" "$SLUICE" --bpffs "$B2" reset >/dev/null 2>&1
	fi
}
empty "attach an unknown interface" 2 attach "sl$$-nosuch"
empty "attach --mode turbo" 2 attach "$IF_S" --mode turbo
empty "block 198.18.0.0/33" 2 block 198.18.0.0/33
empty "block --file with a bad line 3" 2 block --file "$f"
empty "detach an interface not attached" 2 detach "$IF_S"
empty "unblock a prefix never blocked" 2 unblock 198.19.9.0/24

# --bpffs naming a directory with files in it that is no bpffs: refused,
# nothing mounted over the files.
D=$T/notbpf
mkdir -p "$D" && echo keep >"$D/precious"
run_capture "$SLUICE" --bpffs "$D" block 198.19.14.0/24
if [ "$RC" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && [[ "$ERR" == "sluice: "* ]]; then
	ok "--bpffs on a non-empty plain directory exits 2 with one error line"
else
	fail "--bpffs on a non-empty plain directory exits 2 with one error line" "exit $RC: $(tr '\n' '|' <"$T/err")"
fi
if ! mountpoint -q "$D" && [ "$(cat "$D/precious" 2>/dev/null)" = keep ]; then
	ok "--bpffs never mounts over a directory's files"
else
	mountpoint -q "$D" && umount "$D"
	fail "--bpffs never mounts over a directory's files" "mounted or file gone"
fi

# After all that, the program still filters as configured.
if [ "$(xdp_prog_id "$NS_S" "$IF_S")" = "$(status_field "$IF_S" prog_id)" ] &&
	[ "$(xdp_mode "$NS_S" "$IF_S")" = 1 ]; then
	ok "the native attachment is intact"
else
	fail "the native attachment is intact" "ip link prog $(xdp_prog_id "$NS_S" "$IF_S") mode $(xdp_mode "$NS_S" "$IF_S")"
fi
finish
