#!/usr/bin/env bash
# The CLI's messages and exit codes (issue 8, defect 12): each case below
# was misleading or wrong; each now prints one line on stderr saying what
# is wrong and what is expected, with the contract's exit status (2 bad
# usage or input, 1 runtime failure), or the right text on stdout.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_pair_up; then
	fail "lab is built" "namespaces or veth failed"
	finish
fi

# usage NAME STATUS TEXT CMD...: CMD exits STATUS with exactly one line on
# stderr, starting "sluice: " and containing TEXT, and no control
# character but the newline.
usage() {
	local name=$1 want=$2 text=$3 lines
	shift 3
	run_capture "$@"
	lines=$(wc -l <"$T/err")
	if [ "$RC" != "$want" ]; then
		fail "$name" "exit $RC (want $want): $ERR"
	elif [ "$lines" != 1 ] || [[ "$ERR" != "sluice: "* ]]; then
		fail "$name" "$lines lines: $(tr '\n' '|' <"$T/err" | head -c 300)"
	elif [[ "$ERR" != *"$text"* ]]; then
		fail "$name" "message lacks '$text': $ERR"
	elif tr -d '\n' <"$T/err" | LC_ALL=C grep -q '[[:cntrl:]]'; then
		fail "$name" "control characters printed raw: $(od -c "$T/err" | head -n 3 | tr '\n' ' ')"
	else
		ok "$name"
	fi
}

# says NAME TEXT CMD...: CMD exits 0 and prints exactly TEXT on stdout.
says() {
	local name=$1 text=$2
	shift 2
	run_capture "$@"
	if [ "$RC" = 0 ] && [ "$OUT" = "$text" ]; then ok "$name"; else
		fail "$name" "exit $RC, stdout '$OUT' (want '$text'): $ERR"
	fi
}

check "attach" sl attach "$IF_S"

# ---- rules ----
usage "rule add ratelimit without --rate asks for the rate" 2 \
	"action ratelimit: requires rate (packets or bytes per second, e.g. rate: 100/s or rate: 1MB/s)" \
	sl rule add ratelimit
usage "rule add ratelimit --rate 100 names the rate's forms" 2 \
	"rate: expected a rate N/s (packets) or N with B, kB, MB, GB, kbit, mbit or gbit and /s" \
	sl rule add ratelimit --rate 100
usage "rule add drop --burst 5: burst only with ratelimit" 2 \
	"burst: only with action ratelimit" sl rule add drop --burst 5
usage "rule add ratelimit --ban permanent: a ban has a duration" 2 \
	"ban: expected a duration such as 30s, 10m, 2h or 1d" \
	sl rule add ratelimit --rate 1/s --ban permanent
check "rule add ratelimit --rate 100/s --burst 50 --per src/24 --ban 30s" \
	sl rule add ratelimit --rate 100/s --burst 50 --per src/24 --ban 30s
run_capture sl rule list
if [[ "$OUT" == *"ratelimit rate 100/s burst 50 per src/24,src/128 ban 30s"* ]]; then
	ok "rule list prints the ratelimit rule's rate, burst, per and ban"
else
	fail "rule list prints the ratelimit rule's rate, burst, per and ban" "$OUT"
fi
check "rule del 1 (the ratelimit rule)" sl rule del 1
check "rule add drop --proto tcp --dport 22" sl rule add drop --proto tcp --dport 22
usage "rule del 1 1 names the repeated id" 2 "rule id 1 given twice" sl rule del 1 1
usage "rule del 99999999 names the valid range" 2 \
	"invalid rule id '99999999' (expected 1-131071)" sl rule del 99999999
usage "rule del 0 names the valid range" 2 "(expected 1-131071)" sl rule del 0
usage "rule del 007 (leading zeros) is refused" 2 "invalid rule id '007'" sl rule del 007
usage "tcp-flags syn/ack says why and the expected form" 2 \
	"syn is in the value but not in the mask; VALUE/MASK checks the flags of MASK and wants those of VALUE set, so MASK must name every flag of VALUE (e.g. syn/syn,ack)" \
	sl rule add drop --proto tcp --tcp-flags syn/ack
usage "tcp-flags with an unknown flag lists the names" 2 \
	"from fin, syn, rst, psh, ack, urg, ece, cwr, got 'syn/bogus'" \
	sl rule add drop --proto tcp --tcp-flags syn/bogus
says "rule del of one rule: '1 rule deleted'" "1 rule deleted" sl rule del 1

# ---- sets: counts and plurals ----
says "block X X: a new prefix counted once, none present" \
	"deny set (src): added 1 prefix, 0 already present" \
	sl block 198.18.40.0/24 198.18.40.0/24
says "block of two prefixes: plural" \
	"deny set (src): added 2 prefixes, 0 already present" \
	sl block 198.18.41.0/24 198.18.42.0/24
says "block of a present prefix" \
	"deny set (src): added 0 prefixes, 1 already present" \
	sl block 198.18.41.0/24
says "unblock X X: removed once, singular" "deny set (src): removed 1 prefix" \
	sl unblock 198.18.40.0/24 198.18.40.0/24

# ---- prefixes that do not mean what they seem ----
usage "198.18.0.0/024 (leading zero) is refused" 2 \
	"prefix length '024' has a leading zero (write /24)" sl block 198.18.0.0/024
usage "::ffff:198.18.0.1 says it would not match IPv4" 2 \
	"IPv4-mapped IPv6 address: it would match only IPv6 packets, never IPv4 198.18.0.1 (write 198.18.0.1/32)" \
	sl block ::ffff:198.18.0.1
printf 'deny:\n  - "::ffff:198.18.0.0/120"\n' >"$T/mapped.yaml"
usage "apply of an IPv4-mapped prefix names FILE:LINE:COL" 2 \
	"mapped.yaml:2:5: deny: expected a prefix, got '::ffff:198.18.0.0/120' (IPv4-mapped" \
	sl apply -f "$T/mapped.yaml"

# ---- control characters are printed escaped ----
usage "a comment with a tab and an escape is quoted escaped" 2 \
	"got 'a\\x09b\\x1b[31m'" sl rule add drop --comment "$(printf 'a\tb\033[31m')"
usage "a prefix argument with a newline stays on one line" 2 \
	"invalid prefix 'x\\x0ay'" sl block "$(printf 'x\ny')"
usage "an unknown verb with an escape is quoted escaped" 2 \
	"unknown command 'x\\x1b]0;y'" sl "$(printf 'x\033]0;y')"
printf '198.18.43.0/24\n198.18.\00144.0/24\n' >"$T/ctl.txt"
usage "a prefix list with a control character: FILE:LINE:COL, escaped" 2 \
	"ctl.txt:2:1: '198.18.\\x0144.0' is not an IPv4 or IPv6 address" sl block --file "$T/ctl.txt"

# ---- --bpffs ----
usage "--bpffs '' is refused (it is not the default)" 2 \
	"--bpffs: expected a directory, got an empty path" "$SLUICE" --bpffs "" status
echo x >"$T/file"
usage "--bpffs naming a file" 2 "--bpffs $T/file: not a directory" \
	"$SLUICE" --bpffs "$T/file" status
usage "--bpffs naming a missing path (status)" 2 \
	"--bpffs $T/nosuch: No such file or directory" "$SLUICE" --bpffs "$T/nosuch" status
usage "--bpffs naming a missing path (export)" 2 \
	"--bpffs $T/nosuch: No such file or directory" "$SLUICE" --bpffs "$T/nosuch" export
usage "SLUICE_BPFFS naming a file" 2 "SLUICE_BPFFS $T/file: not a directory" \
	env SLUICE_BPFFS="$T/file" "$SLUICE" block --list
[ ! -e "$T/nosuch" ] && ok "--bpffs on a missing path created nothing" ||
	fail "--bpffs on a missing path created nothing" "$T/nosuch exists"

# ---- a pinned map that does not match this binary: runtime failure ----
B2=$T/bpf2
mkdir -p "$B2" && mount -t bpf bpf "$B2" && MOUNTS+=("$B2")
if timeout 60 ip netns exec "$NS_S" "$SLUICE" --bpffs "$B2" block 198.18.44.0/24 >/dev/null 2>&1 &&
	rm "$B2/sluice/sl_redirect_ports" &&
	bpftool map create "$B2/sluice/sl_redirect_ports" type array key 4 value 4 \
		entries 1 name sl_other >/dev/null 2>&1; then
	for v in "block 198.18.45.0/24" "rule list" export "attach $IF_S"; do
		# shellcheck disable=SC2086
		usage "pinned-layout mismatch: $v exits 1" 1 \
			"does not match this version of Sluice" \
			timeout 60 ip netns exec "$NS_S" "$SLUICE" --bpffs "$B2" $v
	done
else
	fail "pinned-layout mismatch set up" "could not replace a pinned map"
fi
timeout 60 ip netns exec "$NS_S" "$SLUICE" --bpffs "$B2" reset >/dev/null 2>&1

# ---- YAML merge keys, as the docs promise for aliases ----
cat >"$T/merge.yaml" <<EOF
rules:
  - &ssh
    id: 10
    action: drop
    proto: tcp
    dport: 22
  - <<: *ssh
    id: 11
    dport: 2222
EOF
run_capture sl apply --dry-run -j -f "$T/merge.yaml"
if [ "$RC" = 0 ] && echo "$OUT" | jq -e '[.diff.rules.added[].rule] | index("id 11 prio 1000 drop proto tcp dport 2222") != null' >/dev/null; then
	ok "a merge key (<<: *anchor) merges the anchored rule"
else
	fail "a merge key (<<: *anchor) merges the anchored rule" "exit $RC: $OUT $ERR"
fi
printf 'rules:\n  - <<: drop\n    id: 12\n' >"$T/badmerge.yaml"
usage "a merge key of a scalar names FILE:LINE:COL" 2 \
	"badmerge.yaml:2:9: <<: expected a mapping or a list of mappings to merge, got a scalar" \
	sl apply -f "$T/badmerge.yaml"

# ---- reset unmounts the bpffs Sluice mounted itself ----
mkdir -p "$T/auto"
MOUNTS+=("$T/auto")
check "block on a plain directory mounts a bpffs there" \
	timeout 60 "$SLUICE" --bpffs "$T/auto" block 198.19.7.0/24
if mountpoint -q "$T/auto"; then ok "the auto-mounted bpffs is mounted"; else
	fail "the auto-mounted bpffs is mounted" "not a mountpoint"
fi
check "reset on the auto-mounted bpffs" timeout 60 "$SLUICE" --bpffs "$T/auto" reset
if ! mountpoint -q "$T/auto"; then ok "reset unmounts the bpffs Sluice mounted"; else
	fail "reset unmounts the bpffs Sluice mounted" "$T/auto is still a mountpoint"
fi
check "reset on the test's own bpffs" sl reset
if mountpoint -q "$BPF"; then ok "reset leaves a bpffs Sluice did not mount"; else
	fail "reset leaves a bpffs Sluice did not mount" "$BPF was unmounted"
fi

finish
