#!/usr/bin/env bash
# `apply --dry-run` runs every check the real apply runs (sets filled off to
# the side, so the capacities; the classifier build; the interfaces'
# foreign programs) and changes nothing: on every config the real apply
# refuses, the dry run refuses too, with the same exit status and message.
# On a valid config it prints what would change: policy, interfaces added,
# removed and changed, rules added, removed and changed, set entries added
# and removed (text and -j); the real apply then does exactly that.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up || ! lab_add_client; then
	fail "lab with two clients is built" "namespaces, veths or HTTP server failed"
	finish
fi

cat >"$T/a.yaml" <<EOF
interfaces:
  - name: $IF_S
    hooks: [xdp, tc]
    mode: native
policy: pass
deny:
  - $C4
rules:
  - {id: 3, action: drop, proto: tcp, dport: 80}
  - {id: 4, action: pass, proto: udp}
EOF
cat >"$T/b.yaml" <<EOF
interfaces:
  - name: $IF_S
    hooks: [xdp, tc]
    mode: generic
  - name: $IF_S2
    hooks: [tc]
policy: {in: drop, out: pass}
deny:
  - $C4B
allow:
  - 198.18.9.0/24
rules:
  - {id: 3, action: drop, proto: tcp, dport: 81}
  - {id: 5, action: count, direction: in}
EOF
check "apply a.yaml" sl apply -f "$T/a.yaml"

# snapshot: export and status (hooks, programs, links) of the state.
snapshot() {
	sl export
	sl status -j | jq -c '[.attachments[] | [.ifname, .hook, .mode, .prog_id, .link_id]]'
}
before=$(snapshot)

# ---- the diff ----
run_capture sl apply -f "$T/b.yaml" --dry-run
if [ "$RC" -eq 0 ] && [ "$(head -n1 <<<"$OUT")" = "$T/b.yaml: valid, not applied (dry run) (2 rules, 2 set entries, 2 interfaces changed)" ]; then
	ok "dry run: exit 0, the summary line"
else
	fail "dry run: exit 0, the summary line" "exit $RC: $OUT $ERR"
fi
want=(
	"  ~ policy in: pass -> drop"
	"  ~ interface $IF_S: hooks [xdp, tc], mode native -> hooks [xdp, tc], mode generic"
	"  + interface $IF_S2: hooks [tc]"
	"  + rule id 5 prio 1000 count in"
	"  - rule id 4 prio 1000 pass proto udp"
	"  ~ rule id 3 prio 1000 drop proto tcp dport 81"
	"      was id 3 prio 1000 drop proto tcp dport 80"
	"  + allow 198.18.9.0/24"
	"  + deny $C4B/32"
	"  - deny $C4/32"
)
missing=""
for l in "${want[@]}"; do
	grep -qxF -- "$l" <<<"$OUT" || missing+=" [$l]"
done
n=$(($(wc -l <<<"$OUT") - 1))
if [ -z "$missing" ] && [ "$n" -eq ${#want[@]} ]; then
	ok "dry run prints each change (policy, interfaces, rules, set entries)"
else
	fail "dry run prints each change (policy, interfaces, rules, set entries)" "missing:$missing; got $n lines: $(tr '\n' '|' <<<"$OUT")"
fi
run_capture sl -j apply -f "$T/b.yaml" --dry-run
j=$(jq -c '[.result, .interfaces_changed, (.diff.policy | map(.direction + ":" + .from + ">" + .to)),
	(.diff.interfaces | map(.change + ":" + .name + ":" + (.to.mode // "-"))),
	(.diff.rules.added | map(.id)), (.diff.rules.removed | map(.id)),
	(.diff.rules.changed | map(.id)),
	(.diff.set_entries.added | map(.set + ":" + .prefix)),
	(.diff.set_entries.removed | map(.set + ":" + .prefix))]' <<<"$OUT" 2>&1)
wantj='["dry-run",2,["in:pass>drop"],["changed:'$IF_S':generic","added:'$IF_S2':-"],[5],[4],[3],["allow:198.18.9.0/24","deny:'$C4B'/32"],["deny:'$C4'/32"]]'
if [ "$RC" -eq 0 ] && [ "$j" = "$wantj" ]; then ok "dry run -j: the same diff as JSON"; else
	fail "dry run -j: the same diff as JSON" "exit $RC: got $j want $wantj ($ERR)"
fi
if [ "$(snapshot)" = "$before" ]; then ok "the dry runs changed nothing (export, hooks, programs, links)"; else
	fail "the dry runs changed nothing (export, hooks, programs, links)" "$(diff <(echo "$before") <(snapshot) | tr '\n' ' ')"
fi
if try_ping "$NS_C" "$S4"; then fail "after the dry runs client 1 is still denied" "got a reply"; else
	ok "after the dry runs client 1 is still denied"
fi

# The real apply does what the dry run said.
check "apply b.yaml" sl apply -f "$T/b.yaml"
run_capture sl apply -f "$T/b.yaml" --dry-run
if [ "$RC" -eq 0 ] && [[ "$OUT" == *": unchanged ("* ]] && [ "$(wc -l <<<"$OUT")" -eq 1 ]; then
	ok "after the apply, the dry run of the same file says unchanged, no diff"
else
	fail "after the apply, the dry run of the same file says unchanged, no diff" "exit $RC: $OUT $ERR"
fi
if [ "$(status_field "$IF_S" mode)" = generic ] && [ "$(status_hooks "$IF_S2")" = "tc-in tc-out" ]; then
	ok "the apply changed the interfaces as the dry run said"
else
	fail "the apply changed the interfaces as the dry run said" "$(sl status -j | jq -c .attachments)"
fi
sed -e "/name: $IF_S2/,/hooks: \[tc\]/d" "$T/b.yaml" >"$T/c.yaml"
run_capture sl apply -f "$T/c.yaml" --dry-run
if [ "$RC" -eq 0 ] && grep -qxF "  - interface $IF_S2: hooks [tc]" <<<"$OUT" &&
	[ "$(wc -l <<<"$OUT")" -eq 2 ]; then
	ok "dry run of a file without $IF_S2 lists its removal only"
else
	fail "dry run of a file without $IF_S2 lists its removal only" "exit $RC: $OUT $ERR"
fi

# ---- parity: what apply refuses, the dry run refuses ----
# parity NAME FILE: both exit non-zero with the same status and message,
# and neither changed anything.
parity() {
	local name=$1 f=$2 s0 rd ed ra ea
	s0=$(snapshot)
	run_capture sl apply -f "$f" --dry-run
	rd=$RC ed=$ERR
	run_capture sl apply -f "$f"
	ra=$RC ea=$ERR
	if [ "$rd" -ne 0 ] && [ "$rd" = "$ra" ] && [ "$ed" = "$ea" ] && [ -n "$ed" ]; then
		ok "$name: dry run refuses as apply does (exit $rd)"
	else
		fail "$name: dry run refuses as apply does" "dry run exit $rd '$ed', apply exit $ra '$ea'"
	fi
	if [ "$(snapshot)" = "$s0" ]; then ok "$name: nothing changed"; else
		fail "$name: nothing changed" "$(diff <(echo "$s0") <(snapshot) | tr '\n' ' ')"
	fi
}

# The classifier: 17 count rules over the same packets (more than a leaf
# holds).
{
	echo "rules:"
	for i in $(seq 17); do echo "  - {id: $i, action: count, proto: tcp, dport: 80}"; done
} >"$T/count17.yaml"
parity "17 overlapping count rules" "$T/count17.yaml"

# An interface with an XDP program Sluice does not manage.
ip -n "$NS_S" link set dev "$IF_S2" xdpgeneric obj "$ROOT_DIR/build/xdp_empty.bpf.o" sec xdp
cat >"$T/foreign.yaml" <<EOF
interfaces:
  - name: $IF_S
    hooks: [xdp, tc]
    mode: generic
  - name: $IF_S2
    hooks: [xdp, tc]
EOF
parity "an interface with a foreign XDP program" "$T/foreign.yaml"
ip -n "$NS_S" link set dev "$IF_S2" xdpgeneric off

# Capacity: one host entry more than the 1,048,576 a set holds per
# direction and family.
"$PY" - "$T/big.txt" <<'EOF'
import ipaddress, sys
base = int(ipaddress.IPv4Address("198.18.0.0"))
with open(sys.argv[1], "w") as f:
    f.write("".join(str(ipaddress.IPv4Address(base + i)) + "\n" for i in range(1048577)))
EOF
printf 'deny:\n  - {file: big.txt}\n' >"$T/big.yaml"
parity "1,048,577 host entries" "$T/big.yaml"

finish
