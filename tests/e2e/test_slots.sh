#!/usr/bin/env bash
# Slotted maps keep only the slots in use: set maps get a map on their
# first write; after an apply moves the sets and rule definitions to slot
# 1, later commands do not re-create an empty slot 0 beside them (each
# empty host hash costs 16 MiB of buckets), and
# the datapath still filters with the running slot. Read-only verbs on a
# bpffs without state create none.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi

# slots MAP: the slot numbers MAP's outer map holds, e.g. "1".
slots() {
	bpftool -j map dump pinned "$BPF/sluice/$1" 2>/dev/null |
		jq -r '[.[] | .key | if type == "array" then (.[0] | ltrimstr("0x") | tonumber) else . end] | map(tostring) | join(" ")'
}

# Read-only verbs (and a dry run) on a bpffs without state create nothing
# (issue 8: export and rule list used to pin every map).
echo "policy: pass" >"$T/empty.yaml"
for v in status export "block --list" "allow --list" "rule list" "rule list -j" \
	"apply -f $T/empty.yaml --dry-run"; do
	# shellcheck disable=SC2086
	run_capture sl $v
	if [ "$RC" -eq 0 ] && [ ! -e "$BPF/sluice" ]; then
		ok "no state: '$v' exits 0 and creates nothing"
	else
		fail "no state: '$v' exits 0 and creates nothing" "exit $RC, $(ls "$BPF" | tr '\n' ' '): $ERR"
	fi
done

check "attach" sl attach "$IF_S"
# Set maps get an inner map on their first write; the rule definitions
# have slot 0 from the start.
for ms in "sl_host_src_v4:" "sl_set_src_v4:" "sl_rule_defs:0"; do
	m=${ms%%:*} want=${ms#*:}
	if [ "$(slots "$m")" = "$want" ]; then ok "fresh state: $m has slots '$want'"; else
		fail "fresh state: $m has slots '$want'" "slots: '$(slots "$m")'"
	fi
done
printf 'deny:\n  - %s\nrules:\n  - {action: drop, proto: udp, dport: 7009}\n' "$C4" >"$T/a.yaml"
check "apply a set entry and a rule" sl apply -f "$T/a.yaml"
check "status after the apply" sl status
check "block --list after the apply" sl block --list
# The host hash and the definitions are in slot 1; the trie stays empty
# (no map at all).
for ms in "sl_host_src_v4:1" "sl_set_src_v4:" "sl_rule_defs:1"; do
	m=${ms%%:*} want=${ms#*:}
	if [ "$(slots "$m")" = "$want" ]; then ok "after apply and two more commands: $m has slots '$want'"; else
		fail "after apply and two more commands: $m has slots '$want'" "slots: '$(slots "$m")'"
	fi
done
expect_blocked "the running slot still filters" "$NS_C" "$S4"
finish
