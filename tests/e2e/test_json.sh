#!/usr/bin/env bash
# -j on every verb (issue 8, defect 11): each prints exactly one JSON
# document on stdout, of the shape checked here with jq; `rule list -j`
# and `export -j` carry each rule field separately (named as in the config
# file), and `apply -f` of `export -j` changes nothing (JSON is YAML).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_pair_up; then
	fail "lab is built" "namespaces or veth failed"
	finish
fi

# json NAME FILTER CMD...: CMD exits 0 and prints one JSON document (and
# nothing else) for which the jq FILTER is true.
json() {
	local name=$1 filter=$2 n
	shift 2
	run_capture "$@"
	if [ "$RC" -ne 0 ]; then
		fail "$name" "exit $RC: $ERR"
		return
	fi
	n=$(printf '%s' "$OUT" | jq -s 'length' 2>/dev/null)
	if [ "$n" != 1 ]; then
		fail "$name" "expected one JSON document, got ${n:-invalid JSON}: $(printf '%s' "$OUT" | head -c 200)"
		return
	fi
	if printf '%s' "$OUT" | jq -e "$filter" >/dev/null 2>&1; then
		ok "$name"
	else
		fail "$name" "shape: $(printf '%s' "$OUT" | head -c 300)"
	fi
}

json "attach -j" \
	'.attached == [{"ifname": "'"$IF_S"'", "hooks": ["xdp", "tc"], "mode": "native"}]' \
	sl attach "$IF_S" -j
json "status -j" '.attachments | length >= 1' sl status -j
json "block -j" '. == {"set": "deny", "dir": "src", "added": 2, "present": 0}' \
	sl block -j 198.18.50.0/24 2001:db8:50::/48
json "block -j of a present prefix" \
	'. == {"set": "deny", "dir": "src", "added": 0, "present": 1}' \
	sl block -j 198.18.50.0/24
json "block --dst -j" '. == {"set": "deny", "dir": "dst", "added": 1, "present": 0}' \
	sl block --dst -j 198.18.51.0/24
json "unblock -j" '. == {"set": "deny", "dir": "src", "removed": 1}' \
	sl unblock -j 2001:db8:50::/48
json "allow -j" '. == {"set": "allow", "dir": "src", "added": 1, "present": 0}' \
	sl allow -j 198.18.52.1
json "unallow -j" '. == {"set": "allow", "dir": "src", "removed": 1}' \
	sl unallow -j 198.18.52.1
json "block --list -j" 'type == "array" and length == 2 and (.[0] | has("prefix") and has("packets"))' \
	sl block --list -j
json "rule add -j" \
	'.id == 1 and .added == {"id": 1, "priority": 1000, "action": "drop", "direction": "in", "proto": "tcp", "dport": "22-23", "comment": "ssh"}' \
	sl rule add drop -j --direction in --proto tcp --dport 22-23 --comment ssh
json "rule add -j (v6, icmp type)" '.id == 2 and .added.src == "2001:db8::/32" and .added["icmp-type"] == 128' \
	sl rule add pass -j --src 2001:db8::/32 --proto icmpv6 --icmp-type 128
json "rule list -j: every field separately" \
	'(.rules | length) == 2 and (.rules[0] | .id == 1 and .priority == 1000 and .action == "drop" and .direction == "in" and .proto == "tcp" and .dport == "22-23" and .comment == "ssh" and .packets == 0 and .bytes == 0) and (.rules[1] | .src == "2001:db8::/32" and .proto == "icmpv6" and .["icmp-type"] == 128 and .direction == "both")' \
	sl rule list -j
json "export -j: the config as JSON" \
	'.interfaces[0].name == "'"$IF_S"'" and .policy == "pass" and (.deny | length) == 2 and (.deny[] | select(type == "object") | .dir) == "dst" and (.rules | map(.id)) == [1, 2] and .rules[0].dport == "22-23" and (.rules[0] | has("packets") | not)' \
	sl export -j
sl export -j >"$T/export.json" 2>/dev/null
json "apply -f of export -j changes nothing" '.result == "unchanged"' \
	sl apply -j -f "$T/export.json"
jq '.deny += ["198.18.60.0/24"]' "$T/export.json" >"$T/more.json"
json "apply --dry-run -j" '.result == "dry-run" and .diff.set_entries.added == [{"set": "deny", "dir": "src", "prefix": "198.18.60.0/24"}]' \
	sl apply -j --dry-run -f "$T/more.json"
json "rule del -j" '. == {"deleted": [2]}' sl rule del -j 2
json "stats -j" 'has("reasons")' sl stats -j
json "detach -j" '. == {"detached": ["'"$IF_S"'"]}' sl detach -j "$IF_S"
json "reset -j" '.reset == true' sl reset -j

finish
