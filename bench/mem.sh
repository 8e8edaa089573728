#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bench/mem.sh: kernel memory of Sluice's state, as a user sees it: an empty
# attach, an empty config applied (the config blob), then 1,000,000 set
# entries (apply), then 100,000 rules (apply),
# each next to the target of issue 7 (an empty attach under 16 MiB). The
# figure is the sum of bytes_memlock (the kernel's own accounting of each
# map, per-CPU maps included) over every map the state holds: the pinned
# maps and the inner maps their slots point at. Also the wall time of each
# apply. Needs root and `make all`; runs in its own network namespace and
# bpffs (interfaces eth0 and eth1 there, as the generated rules name),
# removed at exit. MEM_ENTRIES (1000000), MEM_RULES (100000).
set -euo pipefail
cd "$(dirname "$0")/.."

S=$PWD/build/sluice
RG=$PWD/build/rulegen
ENTRIES=${MEM_ENTRIES:-1000000}
RULES=${MEM_RULES:-100000}
NS=slmem-$$
T=$(mktemp -d /tmp/sluice-mem.XXXXXX)
B=$T/bpf

cleanup() {
	set +e
	if mountpoint -q "$B" 2>/dev/null; then
		ip netns exec "$NS" "$S" --bpffs "$B" reset >/dev/null 2>&1
		umount "$B" 2>/dev/null || umount -l "$B"
	fi
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bench/mem.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$S" ] && [ -x "$RG" ] || die "run 'make all' first"

mkdir -p "$B"
mount -t bpf bpf "$B"
ip netns add "$NS"
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up
sl() { ip netns exec "$NS" "$S" --bpffs "$B" "$@"; }

# state_bytes: bytes_memlock summed over the pinned maps and the maps in
# their slots (ARRAY_OF_MAPS values are inner map ids).
state_bytes() {
	local ids="" id p
	for p in "$B"/sluice/sl_*; do
		id=$(bpftool -j map show pinned "$p" | jq -r .id)
		ids="$ids $id"
		if bpftool -j map show id "$id" | jq -e '.type == "array_of_maps"' >/dev/null; then
			ids="$ids $(bpftool -j map dump id "$id" 2>/dev/null |
				jq -r '.[] | .value | if type == "array" then
					(map(ltrimstr("0x") | explode | map(if . > 96 then . - 87 else . - 48 end) | .[0] * 16 + .[1])
					 | .[0] + .[1] * 256 + .[2] * 65536 + .[3] * 16777216)
					else . end' |
				tr '\n' ' ')"
		fi
	done
	for id in $ids; do
		bpftool -j map show id "$id" 2>/dev/null |
			jq -r '"\(.bytes_memlock // 0) \(.name) \(.id)"'
	done >"$T/maps"
	[ -z "${MEM_DEBUG:-}" ] || sort -n "$T/maps" >&2
	awk '{s += $1} END {printf "%d\n", s}' "$T/maps"
}

mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
now() { date +%s.%N; }

# 1M entries: distinct /32s and /24s of 198.18.0.0/15-free space, seeded.
python3 - "$ENTRIES" >"$T/sets.yaml" <<'EOF'
import random, sys
n = int(sys.argv[1]); r = random.Random(7)
print("deny:")
seen = set()
while len(seen) < n:
    a = r.randrange(1 << 24, 224 << 24)
    if r.random() < 0.4:
        p = "%d.%d.%d.0/24" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255)
    else:
        p = "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)
    if p not in seen:
        seen.add(p)
        print("  - " + p)
EOF
"$RG" "$RULES" 1 --format yaml >"$T/rules.yaml"
cat "$T/sets.yaml" "$T/rules.yaml" >"$T/both.yaml"

sl attach eth0 >/dev/null
empty=$(state_bytes)
echo "policy: pass" >"$T/none.yaml"
sl apply -f "$T/none.yaml" >/dev/null
none=$(state_bytes)
t0=$(now)
sl apply -f "$T/sets.yaml" >/dev/null
t1=$(now)
sets=$(state_bytes)
sl apply -f "$T/both.yaml" >/dev/null
t2=$(now)
both=$(state_bytes)

printf '\nSluice state memory (bytes_memlock of every map of the state), %s CPUs\n' "$(nproc)"
printf '%-34s %10s %10s %10s\n' "state" "MiB" "target" "apply s"
printf '%-34s %10s %10s %10s\n' "empty attach" "$(mib "$empty")" "< 16" "-"
printf '%-34s %10s %10s %10s\n' "+ an empty config applied" "$(mib "$none")" "-" "-"
printf '%-34s %10s %10s %10.2f\n' "+ $ENTRIES set entries" "$(mib "$sets")" "-" \
	"$(echo "$t1 - $t0" | bc)"
printf '%-34s %10s %10s %10.2f\n' "+ $RULES rules" "$(mib "$both")" "-" \
	"$(echo "$t2 - $t1" | bc)"
printf 'per 1M set entries: %s MiB; per %s rules: %s MiB\n' \
	"$(mib $(((sets - none) * 1000000 / ENTRIES)))" "$RULES" "$(mib $((both - sets)))"
