#!/usr/bin/env bash
# Rate limits: a ratelimit rule (per source, ICMP in) lets a ping flood
# from one client through at about its rate while a second client's pings
# all pass; with `ban`, the flood gets its source banned (`ban list -j`
# shows it with its expiry), nothing of it gets through while the ban
# lasts, the ban ends by itself and the client's pings pass again, the
# other client working throughout; export of the rule applies as a no-op;
# the buckets survive an apply of the same rule, and one with `ratelimit:
# {max: 4096}` (the table made anew with that capacity, every bucket
# copied; a dry run tells it, text and JSON, and changes nothing); a rule
# with a packet
# and a byte rate holds big pings to its byte rate and passes small ones.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# This test's own names (prefix rl-), set before any namespace exists.
lab_names "rl-$$"

if ! lab_pair_up || ! lab_add_client; then
	fail "lab with two clients is built" "namespaces, veth or addresses failed"
	finish
fi

RATE=20  # packets per second
BURST=10 # packets

# flood NS DST COUNT INTERVAL: a bounded ping flood; prints "received
# seconds" (the replies, and how long it ran).
flood() {
	local ns=$1 dst=$2 count=$3 iv=$4 t0 t1 out
	t0=$(date +%s.%N)
	out=$(timeout 30 ip netns exec "$ns" ping -q -n -c "$count" -i "$iv" -W 1 "$dst" 2>&1)
	t1=$(date +%s.%N)
	echo "$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out") $(echo "$t1 - $t0" | bc -l)"
}

# replies NS DST COUNT INTERVAL: how many of COUNT pings were answered.
replies() {
	timeout 30 ip netns exec "$1" ping -q -n -c "$3" -i "$4" -W 1 "$2" 2>&1 |
		sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

stat_ratelimit() {
	sl stats -j 2>/dev/null | jq '.reasons.ratelimit.drop.packets' 2>/dev/null
}

check "attach $IF_S" sl attach "$IF_S"
check "attach $IF_S2" sl attach "$IF_S2"
if [ -e "$BPF/sluice/sl_rl_params" ] && [ -e "$BPF/sluice/sl_rl_buckets" ]; then
	ok "attach pins the rate limit maps sl_rl_params and sl_rl_buckets"
else
	fail "attach pins the rate limit maps sl_rl_params and sl_rl_buckets" "$(ls "$BPF/sluice" | tr '\n' ' ')"
fi
[ "$(replies "$NS_C" "$S4" 3 0.2)" = 3 ] && ok "client 1 pings before any rule" ||
	fail "client 1 pings before any rule" "not every reply came"

# ---- limited: about RATE/s of a 100/s flood gets through ----
check "rule add ratelimit --rate $RATE/s --burst $BURST (icmp, in)" \
	sl rule add ratelimit --direction in --proto icmp --rate "$RATE/s" --burst "$BURST" --id 5
# The second client pings at 5/s meanwhile, in its own bucket.
timeout 30 ip netns exec "$NS_C2" ping -q -n -c 10 -i 0.2 -W 1 "$S4B" >"$T/c2.out" 2>&1 &
PIDS+=($!)
c2pid=$!
read -r got secs < <(flood "$NS_C" "$S4" 200 0.01)
wait "$c2pid"
c2=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/c2.out")
# Expected: the burst plus RATE per second of the flood's duration. The
# tolerance (0.6x .. 1.25x + 3) covers the ping's own pacing and the
# last replies' wait; a flood passing unlimited would get ~200 through.
want=$(echo "$BURST + $RATE * $secs" | bc -l)
lo=$(echo "$want * 0.6" | bc -l)
hi=$(echo "$want * 1.25 + 3" | bc -l)
if [ -n "$got" ] && [ "$(echo "$got >= $lo && $got <= $hi" | bc -l)" = 1 ]; then
	ok "a 200-ping flood over $(printf %.1f "$secs") s gets $got through (want about $(printf %.0f "$want"): burst $BURST + $RATE/s)"
else
	fail "a 200-ping flood gets about burst + rate through" "$got in $secs s, want $lo..$hi"
fi
[ "$c2" = 10 ] && ok "client 2's 10 pings all pass during the flood (its own bucket)" ||
	fail "client 2's 10 pings all pass during the flood" "$c2 of 10: $(cat "$T/c2.out")"
n=$(stat_ratelimit)
if [ -n "$n" ] && [ "$n" -gt 100 ] 2>/dev/null; then
	ok "stats count the flood's drops under reason ratelimit ($n)"
else
	fail "stats count the flood's drops under reason ratelimit" "got '$n'"
fi
run_capture sl ban list -j
[ "$(jq length <<<"$OUT" 2>/dev/null)" = 0 ] && ok "a rule without ban bans nothing" ||
	fail "a rule without ban bans nothing" "$OUT"
out=$(sl rule list -j 2>&1)
if [ "$(jq -c '.rules[0] | [.action, .rate, .burst, (.per // "src")]' <<<"$out" 2>/dev/null)" = \
	"[\"ratelimit\",\"$RATE/s\",$BURST,\"src\"]" ]; then
	ok "rule list -j shows rate, burst as separate fields"
else
	fail "rule list -j shows rate, burst as separate fields" "$out"
fi

# explain names the rule's bucket's verdict and changes nothing.
# buckets: the buckets' "tokens last" values, sorted.
buckets() {
	bpftool map dump pinned "$BPF/sluice/sl_rl_buckets" -j 2>/dev/null |
		jq -c '[.[].formatted.value | "\(.tokens) \(.last)"] | sort' 2>/dev/null
}
bk=$(buckets)
out=$(sl explain --src "$C4" --dst "$S4" --proto icmp -j 2>&1)
bk2=$(buckets)
if [ -n "$(jq -r .reason <<<"$out" 2>/dev/null)" ] && [ "$bk" = "$bk2" ] &&
	[ "$(jq length <<<"$bk" 2>/dev/null)" -ge 2 ] 2>/dev/null; then
	ok "explain reads the bucket and writes nothing ($(jq -r '"\(.action) \(.reason)"' <<<"$out"))"
else
	fail "explain reads the bucket and writes nothing" "$bk -> $bk2: $out"
fi

# ---- export applies as a no-op; apply keeps the buckets ----
sl export >"$T/exp.yaml" 2>&1
run_capture sl apply -f "$T/exp.yaml"
[[ "$OUT$ERR" == *unchanged* ]] && ok "apply of the export changes nothing" ||
	fail "apply of the export changes nothing" "$OUT $ERR"
nb=$(bpftool map dump pinned "$BPF/sluice/sl_rl_buckets" -j 2>/dev/null | jq length)
[ "${nb:-0}" -ge 2 ] && ok "the buckets are still there after apply ($nb)" ||
	fail "the buckets are still there after apply" "$nb"

# ---- another capacity: the table is made anew with its buckets ----
rl_cap() { bpftool map show pinned "$BPF/sluice/sl_rl_buckets" -j 2>/dev/null | jq .max_entries; }
bk=$(buckets)
{ cat "$T/exp.yaml"; printf 'ratelimit: {max: 4096}\n'; } >"$T/cap.yaml"
run_capture sl apply --dry-run -f "$T/cap.yaml"
if [ "$RC" -eq 0 ] && [[ "$OUT" == *"~ ratelimit max: 16384 -> 4096"* ]] && [ "$(rl_cap)" = 16384 ]; then
	ok "apply --dry-run tells the new ratelimit capacity and changes nothing"
else
	fail "apply --dry-run tells the new ratelimit capacity and changes nothing" "exit $RC, capacity $(rl_cap): $OUT $ERR"
fi
out=$(sl -j apply --dry-run -f "$T/cap.yaml" 2>&1)
if [ "$(jq -c '.diff.capacities[0] | [.map, .from, .to, .entries]' <<<"$out" 2>/dev/null)" = \
	"[\"sl_rl_buckets\",16384,4096,$(jq length <<<"$bk")]" ]; then
	ok "apply --dry-run -j lists the capacity change with the entries held"
else
	fail "apply --dry-run -j lists the capacity change with the entries held" "$out"
fi
check "apply ratelimit: {max: 4096}" sl apply -f "$T/cap.yaml"
bk2=$(buckets)
if [ "$(rl_cap)" = 4096 ] && [ "$bk" = "$bk2" ] && [ "$(jq length <<<"$bk")" -ge 2 ]; then
	ok "a new capacity makes sl_rl_buckets anew (4096) with every bucket ($(jq length <<<"$bk2"))"
else
	fail "a new capacity makes sl_rl_buckets anew with every bucket" "capacity $(rl_cap); $bk -> $bk2"
fi
sl export >"$T/exp2.yaml" 2>&1
run_capture sl apply -f "$T/exp2.yaml"
if grep -q 'max: 4096' "$T/exp2.yaml" && [[ "$OUT$ERR" == *unchanged* ]]; then
	ok "export writes ratelimit max 4096 and applies as a no-op"
else
	fail "export writes ratelimit max 4096 and applies as a no-op" "$OUT $ERR: $(cat "$T/exp2.yaml")"
fi

# ---- banned: over the rate, the source is banned and dropped ----
BAN=4
cat >"$T/ban.yaml" <<EOF
rules:
  - id: 5
    action: ratelimit
    direction: in
    proto: icmp
    rate: $RATE/s
    burst: $BURST
    per: src
    ban: ${BAN}s
EOF
check "apply the rule with ban: ${BAN}s" sl apply -f "$T/ban.yaml"
read -r got secs < <(flood "$NS_C" "$S4" 50 0.01)
out=$(sl ban list -j 2>&1)
if [ "$(jq -r '.[0].prefix' <<<"$out" 2>/dev/null)" = "$C4/32" ] &&
	jq -e "length == 1 and .[0].expires_in > 0 and .[0].expires_in <= $BAN" <<<"$out" >/dev/null 2>&1; then
	ok "the flood bans its source: ban list -j shows $C4/32, expiring within ${BAN} s"
else
	fail "the flood bans its source: ban list -j shows it" "$out"
fi
# The burst, plus what refills while the burst drains (the ping's pace
# is about 60-100/s here, the rate 20/s: a few more), then the ban.
if [ -n "$got" ] && [ "$got" -ge "$BURST" ] && [ "$got" -le $((BURST * 2)) ]; then
	ok "the banned flood got $got of 50 through (the burst and its refill: $BURST..$((BURST * 2)))"
else
	fail "the banned flood got the burst and its refill through" "$got, want $BURST..$((BURST * 2))"
fi
n=$(replies "$NS_C" "$S4" 10 0.1)
[ "$n" = 0 ] && ok "while banned, nothing of client 1 gets through (0 of 10)" ||
	fail "while banned, nothing of client 1 gets through" "$n of 10"
n=$(replies "$NS_C2" "$S4B" 5 0.1)
[ "$n" = 5 ] && ok "while client 1 is banned, client 2's 5 pings pass" ||
	fail "while client 1 is banned, client 2's pings pass" "$n of 5"
b=$(sl stats -j 2>/dev/null | jq '.reasons.banned.drop.packets' 2>/dev/null)
[ "${b:-0}" -gt 0 ] 2>/dev/null && ok "the ban's drops are counted under reason banned ($b)" ||
	fail "the ban's drops are counted under reason banned" "$b"

# ---- the ban ends by itself ----
for _ in $(seq 1 20); do
	[ "$(sl ban list -j 2>/dev/null | jq length)" = 0 ] && break
	sleep 0.5
done
run_capture sl ban list -j
[ "$(jq length <<<"$OUT" 2>/dev/null)" = 0 ] && ok "the ban expires by itself (ban list is empty)" ||
	fail "the ban expires by itself" "$OUT"
n=$(replies "$NS_C" "$S4" 5 0.2)
[ "$n" = 5 ] && ok "after the ban, client 1's pings (5/s, within the rate) pass again" ||
	fail "after the ban, client 1's pings pass again" "$n of 5"
n=$(replies "$NS_C2" "$S4B" 5 0.1)
[ "$n" = 5 ] && ok "client 2 still passes" || fail "client 2 still passes" "$n of 5"

# ---- IPv6, per rule: one bucket for both clients ----
cat >"$T/v6.yaml" <<EOF
rules:
  - id: 6
    action: ratelimit
    direction: in
    proto: icmpv6
    icmp-type: 128
    rate: 1/s
    burst: 4
    per: rule
EOF
check "apply an IPv6 echo rule per rule, burst 4" sl apply -f "$T/v6.yaml"
a=$(replies "$NS_C" "$S6" 3 0.05)
b=$(replies "$NS_C2" "$S6B" 3 0.05)
if [ "$((a + b))" -ge 4 ] && [ "$((a + b))" -le 5 ]; then
	ok "per rule: the two clients share one bucket ($a + $b of 6 IPv6 pings pass)"
else
	fail "per rule: the two clients share one bucket" "$a + $b of 6"
fi

# ---- a packet rate and a byte rate together ----
# 1,000 packets/s (burst 100) and 2kB/s (burst 5,000 bytes): 20 pings
# of 1,000 bytes of payload (1,042-byte frames) meet the byte bucket
# (4 fit, plus about 2 kB/s of refill), while 20 small pings (98-byte
# frames) all fit both.
cat >"$T/two.yaml" <<EOF
rules:
  - id: 7
    action: ratelimit
    direction: in
    proto: icmp
    rate: [1000/s, 2kB/s]
    burst: 100
    burst-bytes: 5000
EOF
check "apply an echo rule with a packet and a byte rate" sl apply -f "$T/two.yaml"
run_capture sl rule list -j
if jq -e '.rules[0].rate == "1000/s,2kB/s" and .rules[0].burst == 100 and .rules[0]["burst-bytes"] == 5000' <<<"$OUT" >/dev/null 2>&1; then
	ok "rule list -j shows both rates and both bursts"
else
	fail "rule list -j shows both rates and both bursts" "$OUT"
fi
big=$(timeout 20 ip netns exec "$NS_C" ping -q -n -c 20 -i 0.02 -W 1 -s 1000 "$S4" 2>/dev/null |
	awk '/received/ { print $4 }')
if [ "${big:-0}" -ge 4 ] && [ "${big:-0}" -le 7 ]; then
	ok "the byte rate holds 20 big pings to $big (4 in the burst + 2 kB/s)"
else
	fail "the byte rate holds 20 big pings to 4-7" "${big:-none}"
fi
sleep 3 # the byte bucket refills (2 kB/s x 3 s > 5,000 bytes)
small=$(replies "$NS_C" "$S4" 20 0.02)
[ "$small" = 20 ] && ok "20 small pings pass both buckets" ||
	fail "20 small pings pass both buckets" "$small of 20"

check "apply no rules" sl apply -f /dev/null
finish
