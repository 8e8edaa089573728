#!/usr/bin/env bash
# Write verbs killed by SIGKILL at random points (issue 8 defect 1): block,
# unblock, allow and unallow of prefixes spread over every set map (IPv4
# and IPv6, hosts and shorter prefixes), rule add and rule del. After each
# kill the running state is exactly the state before the command or the
# state after it, never a mix. The delays are drawn over the time an
# uninterrupted run takes, so some kills land part-way; the test says how
# many runs were killed and fails if none was.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${KILL_ROUNDS:-10}
SEED=${SLUICE_FUZZ_SEED:-$$}
RANDOM=$SEED
echo "# seed $SEED (SLUICE_FUZZ_SEED), $ROUNDS rounds per verb"

if ! lab_up; then
	fail "lab is built" "namespaces, veth, addresses or HTTP server failed"
	finish
fi
check "attach" sl attach "$IF_S"
# Some running entries of every kind, so each write has company.
for i in $(seq 1 40); do echo "198.19.$i.0/24"; done >"$T/base.txt"
check "block a base list" sl block --file "$T/base.txt"
check "block base hosts" sl block 198.19.200.1 2001:db8:77::1 2001:db8:76::/48
check "allow a base entry" sl allow 198.18.0.0/24

# The running state the CLI shows: both sets (prefix, direction) and the
# rules (id, action, match).
state() {
	{
		sl block --list -j | jq -c 'map([.prefix, .dir]) | sort'
		sl allow --list -j | jq -c 'map([.prefix, .dir]) | sort'
		sl rule list -j | jq -c '.rules | map([.id, .action, .comment]) | sort'
	} 2>&1
}

# Milliseconds an uninterrupted run of "$@" takes (the run is undone by
# the caller).
ms_of() {
	local t0 t1
	t0=$(date +%s%N)
	sl "$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# kill_rounds NAME DO_CMD UNDO_CMD: ROUNDS times, runs DO_CMD under a
# SIGKILL after a random delay in [0, 1.3 x its run time]; the state must
# then equal the state before or the state after an uninterrupted run.
# A run that completed (or was killed after its switch) is undone.
kill_rounds() {
	local name=$1 do=$2 undo=$3 before after got ms d killed=0 mixed=0 i rc
	before=$(state)
	ms=$(eval "ms_of $do")
	after=$(state)
	if [ "$before" = "$after" ]; then
		fail "$name: an uninterrupted run changes the state" "$after"
		return
	fi
	eval "sl $undo" >/dev/null 2>&1
	if [ "$(state)" != "$before" ]; then
		fail "$name: the undo restores the state" "$(state)"
		return
	fi
	for i in $(seq 1 "$ROUNDS"); do
		d=$((RANDOM % (ms * 13 / 10 + 1)))
		eval "timeout -s KILL $(printf '%d.%03d' $((d / 1000)) $((d % 1000))) \
			ip netns exec \"\$NS_S\" \"\$SLUICE\" --bpffs \"\$BPF\" $do" >/dev/null 2>&1
		rc=$?
		[ "$rc" = 137 ] && killed=$((killed + 1))
		got=$(state)
		if [ "$got" = "$after" ]; then
			eval "sl $undo" >/dev/null 2>&1
			if [ "$(state)" != "$before" ]; then
				fail "$name: the undo restores the state" "round $i"
				return
			fi
		elif [ "$got" != "$before" ]; then
			mixed=$((mixed + 1))
			echo "# $name round $i (killed after ${d} ms, exit $rc): neither before nor after"
			diff <(echo "$before" | tr ']' '\n') <(echo "$got" | tr ']' '\n') | head -n 6 | sed 's/^/# /'
			# Put it back for the next round.
			eval "sl $undo" >/dev/null 2>&1
			[ "$(state)" = "$before" ] || { fail "$name: state repaired" "round $i"; return; }
		fi
	done
	if [ "$mixed" = 0 ] && [ "$killed" -gt 0 ]; then
		ok "$name: killed at random $killed of $ROUNDS times (run ${ms} ms): always the state before or after"
	elif [ "$mixed" = 0 ]; then
		fail "$name: killed at random part-way" "no run of $ROUNDS was killed (run ${ms} ms)"
	else
		fail "$name: killed at random: always the state before or after" "$mixed of $ROUNDS rounds left a mixed state"
	fi
}

P4="198.19.101.0/24 198.19.102.7 2001:db8:99::/48 2001:db8:98::5"
# Deterministic first: a writer dead right after writing one set map of
# several (SLUICE_TEST_DIE_AT: it kills itself there) would leave a mix; a
# multi-map write goes the apply way instead and never gets there.
for v in "block" "unblock"; do
	b=$(state)
	SLUICE_TEST_DIE_AT=set-between-maps timeout 60 ip netns exec "$NS_S" \
		"$SLUICE" --bpffs "$BPF" $v $P4 >/dev/null 2>&1
	rc=$?
	a=$(state)
	if [ "$rc" = 0 ] && [ "$a" != "$b" ]; then
		ok "$v of 4 prefixes in 4 set maps never stops between two maps"
	else
		fail "$v of 4 prefixes in 4 set maps never stops between two maps" "exit $rc, state changed: $([ "$a" != "$b" ] && echo yes || echo no)"
	fi
done
kill_rounds "block of 4 prefixes in 4 set maps" "block $P4" "unblock $P4"
check "block them for the unblock rounds" sl block $P4
kill_rounds "unblock of 4 prefixes in 4 set maps" "unblock $P4" "block $P4"
kill_rounds "allow of 4 prefixes in 4 set maps" "allow $P4 --dst" "unallow $P4 --dst"
check "allow them for the unallow rounds" sl allow $P4 --dst
kill_rounds "unallow of 4 prefixes in 4 set maps" "unallow $P4 --dst" "allow $P4 --dst"
check "rule add (company)" sl rule add drop --proto udp --dport 9 --id 7 --comment base
kill_rounds "rule add" "rule add drop --proto tcp --dport 9999 --id 500 --comment k" "rule del 500"
check "rule add for the del rounds" sl rule add drop --proto tcp --dport 9999 --id 500 --comment k
kill_rounds "rule del" "rule del 500" "rule add drop --proto tcp --dport 9999 --id 500 --comment k"
# The datapath still follows the state.
if try_ping "$NS_C" "$S4"; then ok "traffic passes after the kills"; else fail "traffic passes after the kills" "no answer"; fi
finish
