#!/usr/bin/env bash
# What `apply` does with the attachments, as docs/config.md says:
# - a file without `interfaces` (rules only, or empty: the empty config)
#   replaces policy, sets and rules and leaves the attachments as they are;
# - a file with `interfaces` makes the attachments exactly its list, so
#   `interfaces: []` and `interfaces:` with no value detach everything;
# - an interface deleted while attached leaves the export (it runs
#   nothing), so applying the export changes nothing, and the boot-time
#   restore (reset, then sluice.service's `apply --dry-run` and `apply` of
#   the saved export) works.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up || ! lab_add_client; then
	fail "lab with two clients is built" "namespaces, veths or HTTP server failed"
	finish
fi

# attached: the interfaces status lists, sorted, one line.
attached() {
	sl status -j 2>/dev/null | jq -r '[.attachments[].ifname] | unique | join(" ")'
}
both=$(printf '%s\n' "$IF_S" "$IF_S2" | sort | tr '\n' ' ' | sed 's/ $//')

check "attach $IF_S (xdp, tc)" sl attach "$IF_S"
check "attach $IF_S2 (tc only)" sl attach "$IF_S2" --hooks tc
kern_before="$(hooks_in_kernel "$NS_S" "$IF_S") $(hooks_in_kernel "$NS_S" "$IF_S2")"

# ---- no interfaces key: attachments left alone ----
cat >"$T/rules.yaml" <<EOF
policy: pass
rules:
  - id: 1
    action: drop
    direction: in
    proto: icmp
EOF
run_capture sl apply -f "$T/rules.yaml"
if [ "$RC" -eq 0 ] && [[ "$OUT" == *"0 interfaces changed"* ]]; then
	ok "apply without interfaces: exit 0, 0 interfaces changed"
else
	fail "apply without interfaces: exit 0, 0 interfaces changed" "exit $RC: $OUT $ERR"
fi
kern="$(hooks_in_kernel "$NS_S" "$IF_S") $(hooks_in_kernel "$NS_S" "$IF_S2")"
if [ "$(attached)" = "$both" ] && [ "$kern" = "$kern_before" ] &&
	[ "$(status_hooks "$IF_S2")" = "tc-in tc-out" ]; then
	ok "apply without interfaces leaves both attachments and their hooks"
else
	fail "apply without interfaces leaves both attachments and their hooks" "status '$(attached)', kernel $kern (was $kern_before)"
fi
if try_ping "$NS_C" "$S4"; then fail "its rule is live (icmp dropped)" "got a reply"; else
	ok "its rule is live (icmp dropped)"
fi

for f in empty comments braces dashes; do
	case $f in
	empty) : >"$T/$f.yaml" ;;
	comments) printf '# nothing\n# at all\n' >"$T/$f.yaml" ;;
	braces) echo '{}' >"$T/$f.yaml" ;;
	dashes) echo '---' >"$T/$f.yaml" ;;
	esac
	run_capture sl apply -f "$T/$f.yaml"
	kern="$(hooks_in_kernel "$NS_S" "$IF_S") $(hooks_in_kernel "$NS_S" "$IF_S2")"
	ex=$(sl export)
	if [ "$RC" -eq 0 ] && [ "$(attached)" = "$both" ] && [ "$kern" = "$kern_before" ] &&
		! grep -q '^rules:' <<<"$ex" && grep -q '^policy: pass' <<<"$ex"; then
		ok "the empty config ($f): no rules, policy pass, attachments left alone"
	else
		fail "the empty config ($f): no rules, policy pass, attachments left alone" "exit $RC: $ERR; status '$(attached)', kernel $kern; $(tr '\n' ' ' <<<"$ex")"
	fi
done
if try_ping "$NS_C" "$S4"; then ok "after the empty config icmp passes again"; else
	fail "after the empty config icmp passes again" "no reply"
fi

# ---- interfaces: [] and interfaces: (no value) detach everything ----
for f in brackets novalue; do
	check "re-attach $IF_S" sl attach "$IF_S"
	check "re-attach $IF_S2" sl attach "$IF_S2" --hooks tc
	case $f in
	brackets) echo 'interfaces: []' >"$T/$f.yaml" ;;
	novalue) echo 'interfaces:' >"$T/$f.yaml" ;;
	esac
	run_capture sl apply -f "$T/$f.yaml"
	kern="$(hooks_in_kernel "$NS_S" "$IF_S") $(hooks_in_kernel "$NS_S" "$IF_S2")"
	if [ "$RC" -eq 0 ] && [[ "$OUT" == *"2 interfaces changed"* ]] && [ -z "$(attached)" ] &&
		[ "$kern" = "xdp=- tc-in=- tc-out=- xdp=- tc-in=- tc-out=-" ]; then
		ok "'$(cat "$T/$f.yaml")' detaches both interfaces"
	else
		fail "'$(cat "$T/$f.yaml")' detaches both interfaces" "exit $RC: $OUT $ERR; status '$(attached)', kernel $kern"
	fi
done
if [ "$(sl export | head -n1)" = "interfaces: []" ]; then ok "export says interfaces: [] when none is attached"; else
	fail "export says interfaces: [] when none is attached" "$(sl export | head -n1)"
fi

# ---- a deleted interface leaves the export ----
cat >"$T/two.yaml" <<EOF
interfaces:
  - name: $IF_S
    hooks: [xdp, tc]
  - name: $IF_S2
    hooks: [xdp, tc]
deny:
  - $C4
EOF
check "apply two interfaces and a deny entry" sl apply -f "$T/two.yaml"
ip -n "$NS_S" link del "$IF_S2"
if sl status 2>/dev/null | grep -q "$IF_S2.*interface gone"; then
	ok "status shows $IF_S2 as interface gone"
else
	fail "status shows $IF_S2 as interface gone" "$(sl status 2>&1 | tr '\n' ' ')"
fi
sl export >"$T/saved.yaml" 2>"$T/err"
if grep -q "$IF_S2" "$T/saved.yaml"; then
	fail "export leaves the deleted interface out" "$(tr '\n' ' ' <"$T/saved.yaml")"
elif grep -q "name: \"$IF_S\"" "$T/saved.yaml"; then
	ok "export leaves the deleted interface out"
else
	fail "export leaves the deleted interface out" "$IF_S missing too: $(tr '\n' ' ' <"$T/saved.yaml") $(cat "$T/err")"
fi
run_capture sl apply -f "$T/saved.yaml"
if [ "$RC" -eq 0 ] && [[ "$OUT" == *unchanged* ]]; then
	ok "applying that export changes nothing (unchanged)"
else
	fail "applying that export changes nothing (unchanged)" "exit $RC: $OUT $ERR"
fi
# The boot-time restore of sluice.service: fresh state, then its
# ExecStartPre (dry run) and ExecStart (apply) on the saved export.
check "reset (as after a reboot)" sl reset
run_capture sl apply --dry-run -f "$T/saved.yaml"
r1=$RC
run_capture sl apply -f "$T/saved.yaml"
if [ "$r1" -eq 0 ] && [ "$RC" -eq 0 ] && [ "$(attached)" = "$IF_S" ]; then
	ok "boot-time restore of the export: dry run and apply succeed, $IF_S attached"
else
	fail "boot-time restore of the export: dry run and apply succeed, $IF_S attached" "exits $r1 $RC: $OUT $ERR; status '$(attached)'"
fi
if try_ping "$NS_C" "$S4"; then fail "the restored deny entry drops client 1" "got a reply"; else
	ok "the restored deny entry drops client 1"
fi
if [ "$(sl export)" = "$(cat "$T/saved.yaml")" ]; then ok "export after the restore is the saved one"; else
	fail "export after the restore is the saved one" "$(diff "$T/saved.yaml" <(sl export) | tr '\n' ' ')"
fi

finish
