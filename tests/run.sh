#!/usr/bin/env bash
# Runs every test suite and ends with one line: "N passed, N failed[, N skipped]".
# A suite prints one line per check: "ok - NAME", "not ok - NAME: WHY" or
# "skip - NAME: WHY". Under CI=true a skip counts as a failure: a test that
# cannot run (no root, no BPF) must fail there, not hide.
# Usage: tests/run.sh [PATTERN]   (run only suites whose path matches PATTERN)
set -u
cd "$(dirname "$0")/.."
pattern=${1:-}
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

suites=(tests/static.sh build/tests/* tests/e2e/test_*.sh)

for s in "${suites[@]}"; do
	[ -x "$s" ] || continue
	[ -n "$pattern" ] && [[ "$s" != *"$pattern"* ]] && continue
	echo "# $s"
	start=$(date +%s)
	"$s" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	k=$(grep -c '^skip - ' "$log")
	# A suite that failed without saying which check failed still fails.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $s: exited $rc without naming a failed check"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$k" -eq 0 ]; then
		echo "not ok - $s: ran no check"
		f=1
	fi
	if [ "${CI:-}" = "true" ] && [ "$k" -gt 0 ]; then
		echo "# CI=true: $k skipped checks count as failed"
		f=$((f + k))
		k=0
	fi
	echo "# $s: $p ok, $f not ok, $k skipped ($(($(date +%s) - start))s)"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
done

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
