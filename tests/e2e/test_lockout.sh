#!/usr/bin/env bash
# The lockout guard for the management path (issue 8): the config's
# `management:` prefixes (the hosts an operator comes from) stay reachable
# unless --force is given. Refused without --force, with FILE:LINE:COL for
# apply (dry runs too) and one line for the CLI verbs: a deny entry
# overlapping a management prefix; a drop rule whose source (in) or
# destination (out) overlaps one; a drop policy that no allow entry or pass
# rule lets the prefix through; removing (rule del, unallow, allow --flush)
# what let it through. The client of the lab is the management host; what
# is refused changes nothing and its pings keep working.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up; then
	fail "lab is built" "namespaces, veth or HTTP server failed"
	finish
fi
check "attach" sl attach "$IF_S"

pings() { try_ping "$NS_C" "$S4"; }
state() { sl export -j | jq -c 'del(.interfaces)'; }

cat >"$T/base.yaml" <<EOF
management: [$C4/32, 2001:db8::1]
policy: {in: drop}
rules:
  - {action: pass, src: 198.18.0.0/24}
  - {action: pass, src: 2001:db8::/64}
EOF
check "apply a base with management prefixes and a drop policy" sl apply -f "$T/base.yaml"
if pings; then ok "the management host gets through"; else fail "the management host gets through" "no answer"; fi
ex=$(sl export)
if echo "$ex" | grep -q "^management: \[$C4/32, 2001:db8::1/128\]$"; then
	ok "export lists the management prefixes"
else
	fail "export lists the management prefixes" "$ex"
fi
if sl export -j | jq -e --arg c "$C4/32" '.management == [$c, "2001:db8::1/128"]' >/dev/null 2>&1; then
	ok "export -j lists the management prefixes"
else
	fail "export -j lists the management prefixes" "$(sl export -j)"
fi
sl export >"$T/export.yaml"
run_capture sl apply -f "$T/export.yaml"
if [ "$RC" = 0 ] && [[ "$OUT" == *unchanged* ]]; then
	ok "applying the export needs no --force and changes nothing"
else
	fail "applying the export needs no --force and changes nothing" "exit $RC: $OUT $ERR"
fi
base=$(state)

# apply: each way of cutting the management path, refused with its line.
cp "$T/base.yaml" "$T/deny.yaml"
printf 'deny:\n  - 198.18.0.0/16\n' >>"$T/deny.yaml"
refused "apply: a deny entry holding the management host is refused at its line" 2 \
	"deny.yaml:7:5: deny 198.18.0.0/16 drops the management path ($C4/32) (lockout guard)" \
	sl apply -f "$T/deny.yaml"
refused "apply --dry-run runs the same guard" 2 "drops the management path" \
	sl apply --dry-run -f "$T/deny.yaml"
cat >"$T/rule.yaml" <<EOF
management: [$C4/32, 2001:db8::1]
policy: {in: drop}
rules:
  - {action: drop, src: $C4, proto: icmp}
  - {action: pass, src: 198.18.0.0/24}
  - {action: pass, src: 2001:db8::/64}
EOF
refused "apply: a drop rule naming the management host is refused at its line" 2 \
	"rule.yaml:4:5: rule 1 drops the management path ($C4/32) (lockout guard)" \
	sl apply -f "$T/rule.yaml"
cat >"$T/pol.yaml" <<EOF
management: [$C4/32, 2001:db8::1]
policy: {in: drop}
rules:
  - {action: pass, src: 2001:db8::/64}
EOF
refused "apply: a drop policy nothing lets the management host through is refused" 2 \
	"pol.yaml:2:9: policy in: drop drops the management path ($C4/32: no allow entry or pass rule lets it in) (lockout guard)" \
	sl apply -f "$T/pol.yaml"
if [ "$(state)" = "$base" ] && pings; then
	ok "after the refusals: the running config as before, the management host gets through"
else
	fail "after the refusals: the running config as before, the management host gets through" "$(state)"
fi
cat >"$T/ok.yaml" <<EOF
management: [$C4/32]
policy: {in: drop}
allow: [$C4]
rules:
  - {action: pass, proto: icmpv6}
  - {action: drop, src: 198.18.9.0/24}
deny: [198.18.7.0/24]
EOF
check "apply: an allow entry lets it through; other drops are no concern" sl apply -f "$T/ok.yaml"
if pings; then ok "... and the management host gets through"; else fail "... and the management host gets through" "no answer"; fi
check "apply the base again" sl apply -f "$T/base.yaml"
check "apply --force of the deny entry applies it" sl apply --force -f "$T/deny.yaml"
if ! pings; then ok "... and it drops the management host"; else fail "... and it drops the management host" "pings got through"; fi
check "apply the base again (its deny entry goes)" sl apply -f "$T/base.yaml"

# CLI verbs.
refused "block of a prefix holding the management host is refused" 2 \
	"deny 198.18.0.0/16 drops the management path ($C4/32) (lockout guard): add --force" \
	sl block 198.18.0.0/16
refused "block --dst of the management host is refused" 2 \
	"deny $C4/32 (dst) drops the management path" sl block --dst "$C4"
refused "rule add drop --src of the management host is refused" 2 \
	"drops the management path ($C4/32) (lockout guard): add --force" \
	sl rule add drop --src "$C4" --proto tcp --dport 22
refused "rule del of the pass rule that lets it through is refused" 2 \
	"policy in: drop drops the management path ($C4/32: no allow entry or pass rule lets it in)" \
	sl rule del 1
if [ "$(state)" = "$base" ] && pings; then
	ok "after the CLI refusals: the running config as before"
else
	fail "after the CLI refusals: the running config as before" "$(state)"
fi
check "block 198.18.9.0/24 (no management host there) needs no --force" sl block 198.18.9.0/24
check "rule add drop --src 198.18.9.0/24 needs no --force" sl rule add drop --src 198.18.9.0/24 --id 50
check "rule del 50" sl rule del 50
check "unblock 198.18.9.0/24" sl unblock 198.18.9.0/24
# The allow entry as the only way through, then unallow and allow --flush.
check "allow the management host" sl allow "$C4"
check "rule del 1 (the allow entry lets it through now)" sl rule del 1
refused "unallow of the allow entry that lets it through is refused" 2 \
	"policy in: drop drops the management path" sl unallow "$C4"
refused "allow --flush is refused too" 2 "drops the management path" sl allow --flush
if pings; then ok "... and the management host still gets through"; else fail "... and the management host still gets through" "no answer"; fi
check "unallow --force of it applies it" sl unallow --force "$C4"
if ! pings; then ok "... and the drop policy drops the management host"; else fail "... and the drop policy drops the management host" "pings got through"; fi
check "apply the base again" sl apply -f "$T/base.yaml"
check "block --force of the management host applies it" sl block --force "$C4"
if ! pings; then ok "... and drops it"; else fail "... and drops it" "pings got through"; fi
check "unblock it" sl unblock "$C4"
if pings; then ok "... and it gets through again"; else fail "... and it gets through again" "no answer"; fi

# Bad management lists.
printf 'management: [198.18.0.300]\n' >"$T/bad.yaml"
refused "a bad management prefix names its place" 2 "bad.yaml:1:14: management:" sl apply -f "$T/bad.yaml"
{
	printf 'management: ['
	for i in $(seq 1 25); do printf '198.18.%d.1, ' "$i"; done
	printf '198.18.99.1]\n'
} >"$T/many.yaml"
refused "more than 24 management prefixes are refused" 2 "at most 24 prefixes" sl apply -f "$T/many.yaml"
finish
