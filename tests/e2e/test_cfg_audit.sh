#!/usr/bin/env bash
# test_cfg_audit: `apply`, `apply --dry-run` and `export` against what
# docs/config.md says of a config file, where a unit test of the loader
# cannot see it (the checks `apply` makes with the running state):
# - a file whose rule has ct-state, or whose synproxy section has ports,
#   without `conntrack: {enabled: true}`, and a file with more rules than
#   its `limits: rules`, are refused (exit 2) at FILE:LINE:COL, by the dry
#   run too, and change nothing (status, sets, export, JSON export);
# - a rule set where one packet meets more than 8 count rules is refused
#   at the rule's FILE:LINE:COL too (the classifier's check);
# - `hooks: [tc]` with `mode: generic` applied again is "unchanged", and
#   so are its export and JSON export;
# - `policy:` with no value is pass;
# - a dry run (valid or refused) leaves the rate limits' parameter slots
#   (sl_rl_params) as they were, so a dry run of 255 rates does not make
#   the next apply of other rates fail, and the redirect targets' slots;
# - export -j writes synproxy port ranges as "LO-HI" and applying it
#   changes nothing.
# Namespaces cf-PID-*, addresses 198.18.62.0/24 and 2001:db8:62::/64.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

lab_names "cf-$$"
C4=198.18.62.1 S4=198.18.62.2 C6=2001:db8:62::1 S6=2001:db8:62::2

if ! lab_pair_up; then
	fail "lab is built" "namespaces or veths failed"
	finish
fi

# everything a refused apply must leave as it was
snap() {
	state_snapshot
	sl export
	sl export -j
}

# expect_out NAME TEXT CMD...: CMD exits 0 and its first stdout line is TEXT.
expect_out() {
	local name=$1 want=$2
	shift 2
	run_capture "$@"
	if [ "$RC" = 0 ] && [ "$(head -n1 <<<"$OUT")" = "$want" ]; then
		ok "$name"
	else
		fail "$name" "exit $RC: $OUT $ERR (want '$want')"
	fi
}

cat >"$T/base.yaml" <<EOF
interfaces:
  - {name: $IF_S, hooks: [tc], mode: generic}
policy: {in: pass, out: pass}
deny: [198.18.63.0/24, "2001:db8:63::/48"]
rules:
  - {id: 1, action: drop, proto: tcp, dport: 9}
EOF
check "apply a tc-only interface with mode generic" sl apply -f "$T/base.yaml"

# ---- the XDP mode of a tc-only interface is no change ----
expect_out "tc-only, mode generic: applied again is unchanged" \
	"$T/base.yaml: unchanged (1 rules, 2 set entries, 0 interfaces changed)" \
	sl apply -f "$T/base.yaml"
expect_out "tc-only, mode generic: the dry run says unchanged" \
	"$T/base.yaml: unchanged (1 rules, 2 set entries, 0 interfaces changed)" \
	sl apply -f "$T/base.yaml" --dry-run
sl export >"$T/export.yaml"
sl export -j >"$T/export.json"
expect_out "export -> apply: unchanged" \
	"$T/export.yaml: unchanged (1 rules, 2 set entries, 0 interfaces changed)" \
	sl apply -f "$T/export.yaml"
expect_out "export -j -> apply: unchanged" \
	"$T/export.json: unchanged (1 rules, 2 set entries, 0 interfaces changed)" \
	sl apply -f "$T/export.json"

# ---- refused at FILE:LINE:COL, dry run too, nothing changes ----
before=$(snap)
cat >"$T/ct.yaml" <<EOF
interfaces: [{name: $IF_S, hooks: [xdp, tc]}]
rules:
  - {id: 1, action: drop, proto: tcp, dport: 9}
  - {id: 2, action: pass, ct-state: [established, related]}
EOF
cat >"$T/syn.yaml" <<EOF
interfaces: [{name: $IF_S, hooks: [xdp, tc]}]
deny: [198.18.61.0/24]
synproxy:
  ports: [80, 443]
EOF
cat >"$T/many.yaml" <<EOF
interfaces: [{name: $IF_S, hooks: [xdp, tc]}]
limits: {rules: 2}
rules:
  - {id: 1, action: drop, proto: tcp, dport: 9}
  - {id: 2, action: drop, proto: tcp, dport: 10}
  - {id: 3, action: drop, proto: tcp, dport: 11}
EOF
{
	echo "rules:"
	for i in 1 2 3 4 5 6 7 8 9; do
		echo "  - {id: $i, action: count, proto: tcp}"
	done
} >"$T/count.yaml"
for dry in "" --dry-run; do
	refused "ct-state without conntrack: refused at the rule ${dry:-(apply)}" 2 \
		"$T/ct.yaml:4:5: rule 2: ct-state needs the conntrack stage; add 'conntrack: {enabled: true}' to the file" \
		sl apply -f "$T/ct.yaml" $dry
	refused "synproxy without conntrack: refused at the section ${dry:-(apply)}" 2 \
		"$T/syn.yaml:4:3: synproxy needs the conntrack stage; add 'conntrack: {enabled: true}' to the file" \
		sl apply -f "$T/syn.yaml" $dry
	refused "more rules than limits: rules: refused at the first over ${dry:-(apply)}" 2 \
		"$T/many.yaml:6:5: too many rules: 3, at most 2 (limits: rules)" \
		sl apply -f "$T/many.yaml" $dry
	refused "a 9th count rule one packet meets: refused at the rule ${dry:-(apply)}" 2 \
		"$T/count.yaml:10:5: rule 9: a packet can match it after 8 other count rules" \
		sl apply -f "$T/count.yaml" $dry
done
refused "standard input is named stdin in the position" 2 \
	"stdin:4:5: rule 2: ct-state needs the conntrack stage" \
	sl apply -f - <"$T/ct.yaml"
if [ "$(snap)" = "$before" ]; then
	ok "refused files changed nothing (status, sets, export, export -j)"
else
	fail "refused files changed nothing (status, sets, export, export -j)" \
		"$(diff <(echo "$before") <(snap) | head -5)"
fi

printf 'policy:\nrules:\n' >"$T/nopol.yaml"

# ---- a dry run leaves the rate limits' parameter slots as they were ----
# (it filled them for its rules and left them filled: after a dry run of
# 255 rates, no other rate limit could be applied)
rl_file() { # NAME N BASE: N ratelimit rules of rates BASE+1.. per second
	{
		echo "rules:"
		for i in $(seq "$2"); do
			echo "  - {id: $i, action: ratelimit, rate: $(($3 + i))/s}"
		done
	} >"$T/$1.yaml"
}
rl_file rl3 3 0
rl_file rl255 255 100
rl_file rl5 5 1000
rl_params() { bpftool map dump pinned "$BPF/sluice/sl_rl_params" -j | md5sum; }
check "apply 3 ratelimit rules" sl apply -f "$T/rl3.yaml"
before=$(rl_params)
run_capture sl apply -f "$T/rl255.yaml" --dry-run # refused: 3 + 255 slots
rc1=$RC
run_capture sl apply -f "$T/rl5.yaml" --dry-run # valid
if [ "$rc1" = 2 ] && [ "$RC" = 0 ] && [ "$(rl_params)" = "$before" ]; then
	ok "a refused and a valid dry run leave sl_rl_params as it was"
else
	fail "a refused and a valid dry run leave sl_rl_params as it was" \
		"exits $rc1, $RC; slots changed: $([ "$(rl_params)" = "$before" ] && echo no || echo yes)"
fi
check "apply a config without rules" sl apply -f "$T/nopol.yaml"
check "dry run of 255 rates" sl apply -f "$T/rl255.yaml" --dry-run
check "after a dry run of 255 rates, 5 other rates apply" sl apply -f "$T/rl5.yaml"

# ---- and the redirect targets' slots ----
rd_used() {
	bpftool map dump pinned "$BPF/sluice/sl_redirect_ifindex" -j |
		jq '[.[] | select((.value | join("")) != "0x000x000x000x00")] | length'
}
printf 'rules: [{action: redirect, to: %s, proto: tcp, dport: 9}]\n' "$IF_S" >"$T/rd.yaml"
check "apply a config without redirects" sl apply -f "$T/nopol.yaml"
rd0=$(rd_used)
check "dry run of a redirect rule" sl apply -f "$T/rd.yaml" --dry-run
if [ "$rd0" = 0 ] && [ "$(rd_used)" = 0 ]; then
	ok "a dry run leaves sl_redirect_ifindex empty"
else
	fail "a dry run leaves sl_redirect_ifindex empty" "slots used: $rd0 before, $(rd_used) after"
fi

# ---- a top-level key with no value is its default ----
printf 'policy: drop\n' >"$T/drop.yaml"
check "apply policy drop" sl apply -f "$T/drop.yaml" --force
run_capture sl apply -f "$T/nopol.yaml"
if [ "$RC" = 0 ] && [ "$(sl export | grep '^policy')" = "policy: pass" ]; then
	ok "policy: with no value is pass"
else
	fail "policy: with no value is pass" "exit $RC: $ERR; $(sl export | grep '^policy')"
fi

# ---- synproxy ranges in export -j ----
cat >"$T/synok.yaml" <<EOF
conntrack: {enabled: true}
synproxy: {ports: [443, 8000-8010, 80]}
EOF
check "apply synproxy with ranges" sl apply -f "$T/synok.yaml"
sl export -j >"$T/syn.json"
if [ "$(jq -c .synproxy.ports "$T/syn.json")" = '[80,443,"8000-8010"]' ]; then
	ok "export -j: synproxy ports as in YAML, ranges \"LO-HI\""
else
	fail "export -j: synproxy ports as in YAML, ranges \"LO-HI\"" "$(jq -c .synproxy "$T/syn.json")"
fi
expect_out "export -j with synproxy -> apply: unchanged" \
	"$T/syn.json: unchanged (0 rules, 0 set entries, 0 interfaces changed)" \
	sl apply -f "$T/syn.json"

finish
