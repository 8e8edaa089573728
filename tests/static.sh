#!/usr/bin/env bash
# Static checks: formatting, generated docs in sync, help for every verb.
set -u
cd "$(dirname "$0")/.."
S=build/sluice
rc=0
ok() { echo "ok - $1"; }
fail() { echo "not ok - $1: $2"; rc=1; }

files=$(ls include/sluice/*.h bpf/*.c bpf/lib/*.h src/*/*.c src/*/*.h \
	tests/unit/*.c tests/unit/*.h bench/*.c bench/*.h 2>/dev/null)
if out=$(clang-format --dry-run -Werror $files 2>&1); then
	ok "sources are clang-formatted"
else
	fail "sources are clang-formatted" "$(echo "$out" | grep -m1 error)"
fi

if diff -q <($S help --markdown) docs/cli.md >/dev/null 2>&1; then
	ok "docs/cli.md is generated from the --help table"
else
	fail "docs/cli.md is generated from the --help table" "run 'make docs'"
fi

# --version names the build and the pinned layout.
if out=$($S --version) && echo "$out" | grep -Eq '^sluice [^ ]+ \(pinned layout [0-9]+\)$'; then
	ok "sluice --version names the build and the pinned layout"
else
	fail "sluice --version names the build and the pinned layout" "$out"
fi

# src/lib is layered: its files call only downward (tests/layers.py).
if out=$(tests/layers.py build/lib 2>&1); then
	ok "src/lib calls only downward (no cycle among its files)"
	echo "$out" | sed 's/^/# /'
else
	fail "src/lib calls only downward (no cycle among its files)" "$out"
fi

# The systemd unit: installed into a scratch root, it passes
# systemd-analyze verify, and its command is the apply it documents.
d=$(mktemp -d)
if make -s install DESTDIR="$d" >/dev/null 2>&1 &&
	sed "s|/usr/local/sbin/sluice|$d/usr/local/sbin/sluice|g" \
		"$d/etc/systemd/system/sluice.service" >"$d/sluice.service" &&
	out=$(systemd-analyze verify "$d/sluice.service" 2>&1) && [ -z "$out" ] &&
	grep -q '^ExecStart=.*sluice apply --force -f /etc/sluice/sluice.yaml$' dist/sluice.service &&
	"$d/usr/local/sbin/sluice" apply --help >/dev/null; then
	ok "make install: sluice.service verifies and runs sluice apply"
else
	fail "make install: sluice.service verifies and runs sluice apply" \
		"${out:-install failed}"
fi
rm -rf "$d"

# The verifier's work per program and feature set (stack, insns, time);
# fails when a program's stack leaves less than 192 bytes free.
if [ -x build/verifier_stats ]; then
	build/verifier_stats
	[ $? -eq 0 ] || rc=1
else
	fail "verifier work of every program" "build/verifier_stats is not built"
fi

for v in attach detach status block unblock allow unallow rule apply export stats reset; do
	if $S "$v" --help | grep -q "^EXIT STATUS"; then
		ok "sluice $v --help is complete"
	else
		fail "sluice $v --help is complete" "no EXIT STATUS section"
	fi
done

# Bad usage: one line on stderr, exit 2, for every verb.
check_usage() {
	local name=$1
	shift
	local err
	err=$("$@" 2>&1 >/dev/null)
	local st=$?
	if [ "$st" -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] &&
		[[ "$err" == sluice:* ]]; then
		ok "$name"
	else
		fail "$name" "exit $st, stderr: $err"
	fi
}
check_usage "unknown command exits 2" $S frobnicate
check_usage "unknown option exits 2" $S block --frob 198.18.0.0/24
check_usage "attach without IFACE exits 2" $S attach
check_usage "attach with a bad mode exits 2" $S attach lo --mode turbo
check_usage "stats --count without --watch exits 2" $S stats --count 2
check_usage "block without prefixes exits 2" $S block
check_usage "rule with an unknown subcommand exits 2" $S rule frob
check_usage "rule add with a bad port exits 2" $S rule add drop --proto tcp --dport 70000
check_usage "rule add with ports but no protocol exits 2" $S rule add drop --dport 80
check_usage "rule add without an action exits 2" $S rule add
check_usage "rule list with a match option exits 2" $S rule list --dport 80
check_usage "apply without -f exits 2" $S apply
exit $rc
