#!/usr/bin/env bash
# Every config the docs show is valid as shown: each ```yaml block of
# README.md and docs/*.md, and examples/sluice.yaml, passes `apply
# --dry-run` and then the real `apply`, on a host that has the interfaces
# they name (veth0, eth0) and examples/blocklist.txt beside the file. A
# reader copies these; a refused example (the lockout guard, a key renamed,
# a bound changed) is a bug of the docs, and this test finds it.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces or veths failed"
	finish
fi
# the interfaces the examples name, in the server's namespace
for p in "veth0 veth1" "eth0 eth1"; do
	set -- $p
	ip -n "$NS_S" link add "$1" type veth peer name "$2" &&
		ip -n "$NS_S" link set "$1" up && ip -n "$NS_S" link set "$2" up ||
		fail "interface $1 in the server's namespace" "ip link failed"
done
cp "$ROOT_DIR/examples/blocklist.txt" "$T/blocklist.txt"

# The blocks, one file each, named after their place (FILE:LINE).
n=0
for f in "$ROOT_DIR/README.md" "$ROOT_DIR"/docs/*.md; do
	while IFS= read -r start; do
		n=$((n + 1))
		awk -v s="$start" 'NR > s && /^```/ { exit } NR > s' "$f" >"$T/ex$n.yaml"
		echo "${f#"$ROOT_DIR"/}:$start" >"$T/ex$n.where"
	done < <(awk '/^```yaml[[:space:]]*$/ { print NR }' "$f")
done
n=$((n + 1))
cp "$ROOT_DIR/examples/sluice.yaml" "$T/ex$n.yaml"
echo "examples/sluice.yaml" >"$T/ex$n.where"
if [ "$n" -ge 5 ]; then
	ok "$n example configs found in README.md, docs/ and examples/"
else
	fail "the docs' example configs are found" "only $n"
fi

for i in $(seq "$n"); do
	where=$(cat "$T/ex$i.where")
	run_capture sl apply --dry-run -f "$T/ex$i.yaml"
	if [ "$RC" -eq 0 ]; then
		ok "$where: apply --dry-run accepts it"
	else
		fail "$where: apply --dry-run accepts it" "exit $RC: $ERR"
	fi
	run_capture sl apply -f "$T/ex$i.yaml"
	if [ "$RC" -eq 0 ]; then
		ok "$where: apply applies it"
	else
		fail "$where: apply applies it" "exit $RC: $ERR"
	fi
done
finish
