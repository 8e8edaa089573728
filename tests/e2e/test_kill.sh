#!/usr/bin/env bash
# Writers killed with SIGKILL (no handler runs): an apply killed while it
# fills the unused set slot leaves the running config as it was, and the
# next sluice command frees what the dead apply left in that slot (issue 8
# defect 1).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces, veth, addresses or HTTP server failed"
	finish
fi
command -v bpftool >/dev/null || { fail "bpftool is installed" "scripts/deps.sh"; finish; }

# A config of 500,000 /24 deny entries (not traffic: never sent to).
python3 - "$T/big.txt" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    n = 0
    for a in range(1, 9):
        for b in range(256):
            for c in range(256):
                f.write(f"{a}.{b}.{c}.0/24\n")
                n += 1
                if n == 500000:
                    sys.exit(0)
PY
printf 'deny:\n  - {file: %s}\n' "$T/big.txt" >"$T/big.yaml"

check "attach" sl attach "$IF_S"
check "block one prefix" sl block 198.19.9.0/24
want=$(sl block --list -j | jq -c 'map(.prefix)')

# The inner map in slot 1 of the source trie array, or empty.
slot1() {
	bpftool -j map lookup pinned "$BPF/sluice/sl_set_src_v4" key 1 0 0 0 2>/dev/null |
		jq -r '.value // empty' 2>/dev/null
}

# Killed by SIGKILL once its new slots are written, before the switch
# (SLUICE_TEST_DIE_AT: the process kills itself there; no handler runs).
SLUICE_TEST_DIE_AT=apply-filled timeout 60 ip netns exec "$NS_S" \
	"$SLUICE" --bpffs "$BPF" apply -f "$T/big.yaml" >/dev/null 2>&1
rc=$?
if [ "$rc" = 137 ] && [ -n "$(slot1)" ]; then
	ok "an apply killed by SIGKILL before its switch left a filled unused slot"
else
	fail "an apply killed by SIGKILL before its switch left a filled unused slot" "exit $rc, slot 1 '$(slot1)'"
fi
got=$(sl block --list -j | jq -c 'map(.prefix)')
if [ "$got" = "$want" ]; then
	ok "the running config is as before the killed apply"
else
	fail "the running config is as before the killed apply" "$(echo "$got" | head -c 200)"
fi
if [ -z "$(slot1)" ]; then
	ok "the next command freed the dead apply's slot"
else
	fail "the next command freed the dead apply's slot" "slot 1 still holds map $(slot1)"
fi
# block --file and unblock --file go the same way: killed before the
# switch, the set is exactly as before.
head -n 200000 "$T/big.txt" >"$T/list.txt"
for verb in block unblock; do
	[ "$verb" = unblock ] && sl block --file "$T/list.txt" >/dev/null 2>&1
	before=$(sl block --list -j | jq 'length')
	SLUICE_TEST_DIE_AT=apply-filled timeout 60 ip netns exec "$NS_S" \
		"$SLUICE" --bpffs "$BPF" "$verb" --file "$T/list.txt" >/dev/null 2>&1
	rc=$?
	after=$(sl block --list -j | jq 'length')
	if [ "$rc" = 137 ] && [ "$before" = "$after" ]; then
		ok "$verb --file killed by SIGKILL before its switch: the set as before ($after entries)"
	else
		fail "$verb --file killed by SIGKILL before its switch: the set as before" "exit $rc, $before -> $after entries"
	fi
	check "$verb --file completes" sl "$verb" --file "$T/list.txt"
done
if try_ping "$NS_C" "$S4"; then ok "traffic passes"; else fail "traffic passes" "no answer"; fi
check "apply of the same file completes" sl apply -f "$T/big.yaml"
n=$(sl block --list -j | jq 'length')
if [ "$n" = 500000 ]; then
	ok "after a full apply: 500,000 entries"
else
	fail "after a full apply: 500,000 entries" "$n"
fi
finish
