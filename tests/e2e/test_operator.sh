#!/usr/bin/env bash
# Operator features (issue 8): `apply -f -` reads standard input; `attach`
# takes several interfaces, all or nothing; `block --flush` / `allow
# --flush` empty a set in one switch (JSON too); the lockout guard: `block
# 0.0.0.0/0` / `::/0` and a drop rule without match fields need --force,
# and `apply` of a file adding such an entry or rule is refused with its
# FILE:LINE:COL unless `apply --force`.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up || ! lab_add_client; then
	fail "lab is built" "namespaces, veths or HTTP server failed"
	finish
fi

hooks_of() { status_hooks "$1"; }

# ---- attach IFACE... ----
run_capture sl attach "$IF_S" "$IF_S2"
if [ "$RC" = 0 ] && [ "$(hooks_of "$IF_S")" = "tc-out xdp" ] &&
	[ "$(hooks_of "$IF_S2")" = "tc-out xdp" ]; then
	ok "attach of two interfaces attaches both"
else
	fail "attach of two interfaces attaches both" "exit $RC: $ERR; $(hooks_of "$IF_S") / $(hooks_of "$IF_S2")"
fi
expect_blocked_none() { expect_flows "$@"; }
check "detach the second" sl detach "$IF_S2"
check "the first goes generic" sl attach --mode generic "$IF_S"
before=$(sl status -j | jq -c '[.attachments[] | {ifname, hook, mode}] | sort_by(.ifname, .hook)')
# lo has no native XDP: the third attach fails after the first two were
# made; both are put back (IF_S generic again, IF_S2 detached).
run_capture sl attach "$IF_S" "$IF_S2" lo
after=$(sl status -j | jq -c '[.attachments[] | {ifname, hook, mode}] | sort_by(.ifname, .hook)')
if [ "$RC" = 1 ] && [ "$after" = "$before" ]; then
	ok "attach of three, the last failing, changes none"
else
	fail "attach of three, the last failing, changes none" "exit $RC ($ERR): before $before after $after"
fi
if [ -z "$(xdp_prog_id "$NS_S" "$IF_S2")" ] && [ "$(xdp_mode "$NS_S" "$IF_S")" = 2 ]; then
	ok "the kernel agrees: $IF_S2 has no XDP, $IF_S is generic"
else
	fail "the kernel agrees: $IF_S2 has no XDP, $IF_S is generic" \
		"$IF_S2 xdp '$(xdp_prog_id "$NS_S" "$IF_S2")', $IF_S mode '$(xdp_mode "$NS_S" "$IF_S")'"
fi
refused "attach of a missing interface among others changes nothing" 2 \
	"no interface named 'sl$$-nosuch'" sl attach "$IF_S2" "sl$$-nosuch"
[ -z "$(hooks_of "$IF_S2")" ] && ok "... and $IF_S2 stays detached" ||
	fail "... and $IF_S2 stays detached" "$(hooks_of "$IF_S2")"
refused "attach of one interface twice" 2 "interface '$IF_S2' given twice" \
	sl attach "$IF_S2" "$IF_S2"
check "attach both (native) again" sl attach "$IF_S" "$IF_S2"

# ---- apply -f - ----
run_capture sh -c "printf 'deny:\n  - $C4B\n' | timeout 60 ip netns exec $NS_S $SLUICE --bpffs $BPF apply -f -"
if [ "$RC" = 0 ] && [[ "$OUT" == "stdin: applied"* ]]; then ok "apply -f - reads standard input"; else
	fail "apply -f - reads standard input" "exit $RC: $OUT $ERR"
fi
expect_blocked "the config from stdin is live" "$NS_C2" "$S4B"
run_capture sh -c "printf 'deny:\n  - 198.18.0.0/33\n' | timeout 60 ip netns exec $NS_S $SLUICE --bpffs $BPF apply -f -"
if [ "$RC" = 2 ] && [[ "$ERR" == *"stdin:2:5: deny: expected a prefix"* ]]; then
	ok "apply -f - names stdin:LINE:COL in errors"
else
	fail "apply -f - names stdin:LINE:COL in errors" "exit $RC: $ERR"
fi

# ---- block --flush / allow --flush ----
check "block two more prefixes" sl block 198.18.70.0/24 2001:db8:70::/48
check "block a destination prefix" sl block --dst 198.18.71.0/24
check "allow a prefix" sl allow 198.18.72.0/24
check "a rule" sl rule add drop --proto udp --dport 9
run_capture sl block --flush -j
if [ "$RC" = 0 ] && [ "$(echo "$OUT" | jq -c .)" = '{"set":"deny","flushed":4}' ]; then
	ok "block --flush -j empties the deny set (src and dst)"
else
	fail "block --flush -j empties the deny set (src and dst)" "exit $RC: $OUT $ERR"
fi
if [ "$(sl block --list -j | jq length)" = 0 ] && [ "$(sl allow --list -j | jq length)" = 1 ] &&
	[ "$(sl rule list -j | jq '.rules | length')" = 1 ]; then
	ok "block --flush keeps the allow set and the rules"
else
	fail "block --flush keeps the allow set and the rules" "$(sl export -j)"
fi
expect_flows "after block --flush the blocked client passes" "$NS_C2" "$S4B"
run_capture sl allow --flush
if [ "$RC" = 0 ] && [ "$OUT" = "allow set: flushed (1 entry removed)" ] &&
	[ "$(sl allow --list -j | jq length)" = 0 ]; then
	ok "allow --flush empties the allow set"
else
	fail "allow --flush empties the allow set" "exit $RC: $OUT $ERR"
fi
refused "block --flush with a prefix is bad usage" 2 "--flush takes no prefixes" \
	sl block --flush 198.18.0.0/24
B2=$T/bpf2
mkdir -p "$B2" && mount -t bpf bpf "$B2" && MOUNTS+=("$B2")
run_capture timeout 60 ip netns exec "$NS_S" "$SLUICE" --bpffs "$B2" allow --flush -j
if [ "$RC" = 0 ] && [ "$OUT" = '{"set":"allow","flushed":0}' ] && [ ! -e "$B2/sluice" ]; then
	ok "allow --flush on an empty bpffs flushes nothing and creates no state"
else
	fail "allow --flush on an empty bpffs flushes nothing and creates no state" \
		"exit $RC: $OUT $ERR; $(ls "$B2" | tr '\n' ' ')"
fi

# ---- lockout guard ----
for p in 0.0.0.0/0 ::/0; do
	refused "block $p needs --force" 2 \
		"$p would drop every IPv$([ "$p" = ::/0 ] && echo 6 || echo 4) packet (lockout guard): add --force" \
		sl block "$p"
done
refused "block --dst 0.0.0.0/0 needs --force" 2 "lockout guard" sl block --dst 0.0.0.0/0
printf '198.18.73.0/24\n0.0.0.0/0\n' >"$T/list.txt"
refused "block --file with 0.0.0.0/0 needs --force" 2 "lockout guard" \
	sl block --file "$T/list.txt"
[ "$(sl block --list -j | jq length)" = 0 ] && ok "the refused blocks added nothing" ||
	fail "the refused blocks added nothing" "$(sl block --list -j)"
refused "rule add drop without match fields needs --force" 2 \
	"a drop rule without match fields drops every packet (lockout guard): add --force" \
	sl rule add drop
refused "rule add drop --direction in without match fields needs --force" 2 \
	"drops every packet coming in (lockout guard)" sl rule add drop --direction in
check "rule add drop with a match field needs no --force" sl rule add drop --proto udp --dport 10
check "allow 0.0.0.0/0 needs no --force" sl allow 0.0.0.0/0
check "allow --flush" sl allow --flush

cat >"$T/lock.yaml" <<EOF
policy: pass
deny:
  - 198.18.74.0/24
  - ::/0
EOF
refused "apply of a deny ::/0 names FILE:LINE:COL" 2 \
	"lock.yaml:4:5: deny ::/0 drops every packet (lockout guard): apply --force" \
	sl apply -f "$T/lock.yaml"
refused "apply --dry-run runs the guard too" 2 "lock.yaml:4:5: deny ::/0" \
	sl apply --dry-run -f "$T/lock.yaml"
cat >"$T/lockrule.yaml" <<EOF
rules:
  - id: 1
    action: drop
    proto: udp
    dport: 9
  - id: 5
    action: drop
    direction: out
EOF
refused "apply of a drop rule without match fields names FILE:LINE:COL" 2 \
	"lockrule.yaml:6:5: rule 5 (drop without match fields) drops every packet (lockout guard)" \
	sl apply -f "$T/lockrule.yaml"
[ "$(sl rule list -j | jq '.rules | length')" = 2 ] && ok "the refused applies changed nothing" ||
	fail "the refused applies changed nothing" "$(sl rule list -j)"
check "apply --force applies it" sl apply --force -f "$T/lockrule.yaml"
sl export >"$T/running.yaml" 2>/dev/null
run_capture sl apply -f "$T/running.yaml"
if [ "$RC" = 0 ] && [[ "$OUT" == *unchanged* ]]; then
	ok "re-applying a running lockout rule (the export) needs no --force"
else
	fail "re-applying a running lockout rule (the export) needs no --force" "exit $RC: $OUT $ERR"
fi
check "block --force 0.0.0.0/0" sl block --force 0.0.0.0/0
expect_blocked "block --force 0.0.0.0/0 drops IPv4" "$NS_C" "$S4"
check "block --flush takes it away" sl block --flush
check "apply of an empty config" sh -c "echo 'policy: pass' | timeout 60 ip netns exec $NS_S $SLUICE --bpffs $BPF apply -f -"
expect_flows "traffic flows again" "$NS_C" "$S4"

# ---- status: version, build, program tags, config and capacities ----
printf 'policy: {in: pass, out: drop}\nmanagement: [198.18.0.1]\ndeny: [198.18.9.0/24, "2001:db8:9::/48"]\nrules:\n  - {action: pass, direction: out}\nlimits: {rules: 5000}\n' >"$T/st.yaml"
check "apply a config for status" sl apply -f "$T/st.yaml"
st=$(sl status -j)
tag=$(bpftool -j prog show id "$(echo "$st" | jq '.attachments[0].prog_id')" 2>/dev/null | jq -r .tag)
if echo "$st" | jq -e --arg t "$tag" '(.build.version | length > 0) and (.build.libbpf | test("^[0-9]+[.][0-9]+$")) and (.build.compiler | length > 0) and .config.rules == 1 and .config.set_entries == 2 and .config.management_prefixes == 1 and .config.policy == {"in": "pass", "out": "drop"} and .limits.rules == 5000 and .limits["set-hosts"] > 0 and .limits.config_blob_kib >= 256 and ([.attachments[].tag | test("^[0-9a-f]{16}$")] | all) and .attachments[0].tag == $t' >/dev/null 2>&1; then
	ok "status -j: build, config (rules, entries, policy, management), limits, program tags (as bpftool)"
else
	fail "status -j: build, config (rules, entries, policy, management), limits, program tags (as bpftool)" "bpftool tag $tag: $(echo "$st" | jq -c 'del(.attachments)') $(echo "$st" | jq -c '[.attachments[].tag]')"
fi
txt=$(sl status)
if echo "$txt" | grep -q '^config: 1 rule, 2 set entries, policy in pass out drop, 1 management prefix, conntrack off, 0 synproxy ports$' &&
	echo "$txt" | grep -q '^capacities: .*rules 5000, config blob [0-9]* KiB$' &&
	echo "$txt" | grep -q "^IFACE .*TAG .*FEATURES" && echo "$txt" | grep -q "$tag"; then
	ok "status: config, capacities and program tags in the text"
else
	fail "status: config, capacities and program tags in the text" "$txt"
fi
check "apply policy pass again" sh -c "echo 'policy: pass' | timeout 60 ip netns exec $NS_S $SLUICE --bpffs $BPF apply -f -"

finish
