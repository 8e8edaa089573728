#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bench/run.sh: Sluice's XDP ns/packet next to an empty program (the floor)
# and to xdp-filter (the anchor), all through bpf_prog_test_run_opts, in one
# run. Needs root and `make all`. See bench/README.md.
#   BENCH_REPEAT (1000000)  packets per run    BENCH_RUNS (5)  runs per case
#   BENCH_EXPLAIN auto|1|0  the breakdown of where the time goes (auto: when a
#                           target misses)
#   BENCH_LB 1|0            the load balancer's rows and Maglev build (bench_lb)
#   BENCH_RULES 1|0         ns/packet by rule count (bench_rules, bench_cls)
#   BENCH_SETS 1|0          seconds to apply 1M set entries (bench_sets)
#   BENCH_LAB 1|0           then the packets/s veth lab, bench/lab_pps.sh
#   BENCH_SYN 1|0           then the SYN-flood and conntrack-filtering lab,
#                           bench/syn_lab.sh
#   BENCH_LBLAB 1|0         then the load balancer's veth lab (wrk through the
#                           LB vs direct), bench/lab_lb.sh
#   BENCH_MEM 1|0           then the memory of the whole state, bench/mem.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=$PWD/build/bench/bench_xdp
REPEAT=${BENCH_REPEAT:-1000000}
RUNS=${BENCH_RUNS:-5}
EXPLAIN=${BENCH_EXPLAIN:-auto}
NS=sluice-bench-$$
OUT=$(mktemp -d /tmp/sluice-bench.XXXXXX)
RES=$OUT/results

die() { echo "bench/run.sh: $*" >&2; exit 1; }

cleanup() {
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "bench/run.sh: failed (line $LINENO)" >&2' ERR

[ "$(id -u)" = 0 ] || die "needs root (BPF test runs and a network namespace)"
[ -x "$BIN" ] || die "$BIN is missing; run 'make all' first"

# Every case prints `case name=... median=...` or `load ...`; keep them all.
bench() {
	"$BIN" --repeat "$REPEAT" --runs "$RUNS" "$@" | tee -a "$RES" | sed 's/^/  /'
}

echo "Sluice XDP benchmark: ns/packet through bpf_prog_test_run_opts," \
	"repeat $REPEAT, median of $RUNS runs"
echo "frames: Ethernet/IPv4/TCP SYN 198.18.0.1 -> 198.18.0.2 (54 B)," \
	"Ethernet/IPv6/TCP SYN 2001:db8::1 -> 2001:db8::2 (74 B)"
echo "sets: every write goes through libsluice (sl_set_add/sl_set_del), which" \
	"puts /32 and /128 entries in the exact-match host hash (behind the" \
	"presence bitmap) and shorter prefixes in the LPM trie"
echo "  deny hit: the frame's source as a host entry (/32, /128: host hash)," \
	"or its /24 (trie); pass at 1M: the source's bitmap bucket clear," \
	"or shared with one host entry (probe misses, then the trie)"
echo "  the other prefixes are random and distinct, seeded, never in the" \
	"frames' ranges:"
echo "  IPv4 public unicast, BGP/block-list mix: /24 60%, /16-/23 26%," \
	"/25-/31 3.5%, /32 10.5%"
echo "  IPv6 2000::/3, /64-ish mix: /64 40%, /48 35%, /49-/63 8%," \
	"/33-/47 5%, /32 2%, /128 10%"
echo

# ---- the floor and Sluice ----
bench empty
bench sluice -f 4 -n 0 --pass
bench sluice -f 4 -n 1 --deny
bench sluice -f 4 -n 1000 --deny
bench sluice -f 4 -n 1000000 --pass --shared --deny
bench sluice -f 4 -n 1000000 --deny --hit-plen 24
bench sluice -f 6 -n 1000000 --deny

# ---- xdp-filter on a veth in a namespace, same frame, test-run by id ----
# No packet is sent: the program is only test-run. The namespace (and with
# it the veth and the attachment) goes in the EXIT trap; the bpffs lives in
# the mount namespace of the one `ip netns exec` and goes with it.
if command -v xdp-filter >/dev/null; then
	ip netns add "$NS"
	ip -n "$NS" link add sb0 type veth peer name sb1
	ip -n "$NS" addr add 198.18.0.2/24 dev sb0
	ip -n "$NS" link set sb0 up
	ip -n "$NS" link set sb1 up
	ip netns exec "$NS" sh -ec '
		bin=$1 repeat=$2 runs=$3
		mount -t bpf bpf /sys/fs/bpf
		xdp-filter load sb0 --mode skb >/dev/null
		xdp-filter ip 198.18.0.1 --mode src
		id=$(ip -d link show sb0 |
			sed -n "s|.*prog/xdp id \([0-9]*\).*|\1|p")
		[ -n "$id" ] || { echo "xdp-filter: no program on sb0" >&2; exit 1; }
		"$bin" --repeat "$repeat" --runs "$runs" prog --prog-id "$id" \
			--name xdp-filter-deny-v4 --expect drop
		xdp-filter ip 198.18.0.1 --mode src --remove
		"$bin" --repeat "$repeat" --runs "$runs" prog --prog-id "$id" \
			--name xdp-filter-pass-v4 --expect pass
		xdp-filter unload sb0 --all >/dev/null
	' sh "$BIN" "$REPEAT" "$RUNS" | tee -a "$RES" | sed 's/^/  /'
	ip netns del "$NS"
else
	echo "  xdp-filter not installed (Debian package xdp-tools): no anchor"
fi
echo

# ---- the table ----
TABLE=$(awk '
function label(n,    a, what, s) {
	if (n == "empty") return "empty XDP program (floor)"
	if (n == "xdp-filter-deny-v4") return "xdp-filter deny, IPv4 (exact src)"
	if (n == "xdp-filter-pass-v4") return "xdp-filter pass, IPv4"
	split(n, a, "-")
	what = (a[2] == "deny") ? "deny hit" : "pass"
	s = sprintf("Sluice %s, IP%s, %s prefix%s", what, a[3], commas(a[4]),
		a[4] == 1 ? "" : "es")
	if (a[2] == "deny" && a[5] == "")
		s = s sprintf(", /%d hit: host hash", a[3] == "v4" ? 32 : 128)
	else if (a[2] == "deny")
		s = s sprintf(", /%s hit: trie", substr(a[5], 2))
	else if (a[4] > 0)
		s = s (a[5] == "shared" ? ", bucket shared" : ", bucket clear")
	return s
}
function commas(s,    r) {
	r = ""
	while (length(s) > 3) {
		r = "," substr(s, length(s) - 2) r
		s = substr(s, 1, length(s) - 3)
	}
	return s r
}
function mib(b) { return sprintf("%.1f", b / 1048576) }
/^case / {
	delete f
	for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	n = f["name"]; order[++cnt] = n
	med[n] = f["median"]; lo[n] = f["min"]; hi[n] = f["max"]
}
/^load / {
	delete g
	for (i = 2; i <= NF; i++) { split($i, kv, "="); g[kv[1]] = kv[2] }
	if (g["prefixes"] == 1000)
		small = sprintf("IPv4 set, 1,000 prefixes: sl_set_add in %.1f ms", g["seconds"] * 1000)
	if (g["prefixes"] != 1000000) next
	loads[++nl] = sprintf("IPv%s set, 1,000,000 prefixes (%s trie + %s host%s): sl_set_add %.2f s (%.0f k/s)",
		g["family"], commas(g["trie"]), commas(g["host"]),
		g["hit"] == 24 ? ", with the /24 hit" : "",
		g["seconds"], g["per_sec"] / 1000)
	loads[nl] = loads[nl] sprintf("\n  memlock %s MiB = trie %s + host hash %s + bitmap %s; slab growth ~%.0f MiB; all 9 set maps %s MiB",
		mib(g["memlock"]), mib(g["memlock_trie"]), mib(g["memlock_host"]),
		mib(g["memlock_bits"]), g["slab_delta_kib"] / 1024, mib(g["memlock_all_sets"]))
}
function ratio(a, b) { return (a != "" && b > 0) ? sprintf("%.2fx", a / b) : "-" }
function verdict(ok) { return ok ? "PASS" : "MISS" }
END {
	e = med["empty"]; xd = med["xdp-filter-deny-v4"]; xp = med["xdp-filter-pass-v4"]
	printf "%-64s %7s %9s %8s %12s\n", "case", "ns/pkt", "min..max", "x empty", "x xdp-filter"
	for (i = 1; i <= cnt; i++) {
		n = order[i]
		anchor = n ~ /deny/ ? xd : (n ~ /pass/ ? xp : "")
		printf "%-64s %7d %9s %8s %12s\n", label(n), med[n],
			lo[n] ".." hi[n], ratio(med[n], e), ratio(med[n], anchor)
	}
	print "(figures as measured: each includes the test-run harness itself, about the floor above)"
	print ""
	d1 = med["sluice-deny-v4-1"]; dm = med["sluice-deny-v4-1000000"]
	if (xd > 0) {
		ok = d1 <= 0.75 * xd && dm <= 0.75 * xd
		printf "target (a) deny hit <= 0.75x xdp-filter deny (%d ns, limit %.0f ns): 1 prefix %s %s, 1M prefixes %s %s -> %s\n",
			xd, 0.75 * xd, ratio(d1, xd), verdict(d1 <= 0.75 * xd),
			ratio(dm, xd), verdict(dm <= 0.75 * xd), verdict(ok)
	} else {
		print "target (a) deny hit <= 0.75x xdp-filter deny: n/a (no xdp-filter) -> MISS"
		ok = 0
	}
	okb = dm <= 1.5 * d1
	printf "target (b) deny hit at 1M <= 1.5x at 1 prefix (limit %.0f ns): %s -> %s\n",
		1.5 * d1, ratio(dm, d1), verdict(okb)
	print ""
	print small
	for (i = 1; i <= nl; i++) print loads[i]
	print (ok && okb) ? "targets: all PASS" : "targets: MISS"
}' "$RES")
echo "$TABLE"

# ---- a stage switched off costs 0 ns ----
# bench_xdp `stages`: Sluice with every stage, with sets and rules switched
# off at load time (attach --stages none), and built without those rows
# (bench/sluice_nostage.bpf.c); a frame no entry or rule holds.
echo
echo "optional stages off (IPv4 frame passed by policy; 1,000 deny entries" \
	"and 1 rule, neither holding it):"
: >"$OUT/stages"
"$BIN" --repeat "$REPEAT" --runs "$RUNS" stages -n 1000 >"$OUT/stages"
awk '
/^case / { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	ns[f["name"]] = f["median"] }
/^insns / { for (i = 2; i <= NF; i++) { split($i, kv, "="); g[kv[1]] = kv[2] }
	ins[g["name"]] = g["xlated"] }
END {
	printf "  %-44s %8s %14s\n", "program", "ns/pkt", "xlated insns"
	printf "  %-44s %8s %14s\n", "every stage on", ns["stages-all-on"], ins["stages-all-on"]
	printf "  %-44s %8s %14s\n", "sets and rules off at load (--stages none)", ns["stages-off"], ins["stages-off"]
	printf "  %-44s %8s %14s\n", "built without sets and rules", ns["stages-built-without"], ins["stages-built-without"]
	printf "  stage off vs built without: %+d ns, %+d insns\n",
		ns["stages-off"] - ns["stages-built-without"],
		ins["stages-off"] - ins["stages-built-without"]
}' "$OUT/stages"

# ---- conntrack (issue 9): the established fast path ----
# bench_xdp `conntrack`: an established TCP packet whose pass is cached
# (the rules and policy stages skipped) at 1 and 1,000,000 live entries,
# and with window state (the segment read and checked), next to a stateless pass with no rules (conntrack off) measured in the
# same run; the same flow classified every packet; a fresh flow (SYN:
# lookup miss and insert; runs of repeat 1 over 20,000 distinct flows, so
# compared with the anchor measured the same way); a rate-limited drop and
# an invalid ACK dropped (drop-invalid); the table's memory.
echo
echo "conntrack (IPv4 TCP 198.18.0.1:40000 -> 198.18.0.2:80, 2 rules; anchor:" \
	"stateless pass, no rules, conntrack off):"
: >"$OUT/ct"
"$BIN" --repeat "$REPEAT" --runs "$RUNS" conntrack >"$OUT/ct"
awk '
/^case / { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	ns[f["name"]] = f["median"] }
/^mem / { for (i = 2; i <= NF; i++) { split($i, kv, "="); m[kv[1]] = kv[2] } }
/^load / { for (i = 2; i <= NF; i++) { split($i, kv, "="); l[kv[1]] = kv[2] } }
function ratio(a, b) { return (a != "" && b > 0) ? sprintf("%.2fx", a / b) : "-" }
function row(what, n, a, target) {
	printf "  %-58s %8s %8s %s\n", what, ns[n], ratio(ns[n], ns[a]),
		target == "" ? "" : (ns[n] <= target * ns[a] ? "PASS" : "MISS") \
		" (<= " target "x)"
}
END {
	printf "  %-58s %8s %8s\n", "packet class", "ns/pkt", "vs anchor"
	row("stateless pass, no rules (anchor)", "stateless-pass", "stateless-pass", "")
	row("established, fast path, 1 live entry", "ct-established-1", "stateless-pass", 1.2)
	row("established, fast path, window-checked (1 live entry)", "ct-established-checked-1", "stateless-pass", "")
	row("established, classified every packet (a tcp-flags rule)", "ct-established-classified-1", "stateless-pass", "")
	row("rate-limited drop (established flow, ratelimit rule)", "ratelimit-drop", "stateless-pass", "")
	row("invalid ACK dropped (drop-invalid)", "ct-invalid-drop", "stateless-pass", "")
	row("stateless pass, no rules (anchor, again)", "stateless-pass-again", "stateless-pass-again", "")
	row("established, fast path, 1,000,000 live entries", "ct-established-1M", "stateless-pass-again", 1.2)
	row("runs of repeat 1: stateless pass (anchor)", "stateless-pass-r1", "stateless-pass-r1", "")
	row("runs of repeat 1: new flow (SYN, lookup miss + insert)", "ct-new-flow-r1", "stateless-pass-r1", "")
	row("runs of repeat 1: SYN answered with a cookie (XDP_TX)", "syn-cookie-answer-r1", "stateless-pass-r1", "")
	row("ACK of no flow, bad cookie, to a synproxy port (dropped)", "syn-cookie-bad-ack", "stateless-pass", "")
	printf "  fill of 1,000,000 entries (batch updates): %s s\n", l["seconds"]
	printf "  sl_ct memory (LRU hash, preallocated): %d bytes per entry, %.1f MiB per 1,000,000 entries\n",
		m["per_entry"], m["per_1M_mib"]
}' "$OUT/ct"

# ---- events (issue 10): drop, sampled flow and log events ----
# bench_xdp `events`: the same IPv4 TCP pass (2 rules) with programs
# loaded without the events switch (the anchor, measured in the same run)
# and with it: nothing asked (the switch's own cost), sampling 1-in-1000
# and 1-in-1 (a record per packet), a `log` rule under flood (its bucket
# empty after the burst: 10 events/s), and a drop event per packet; a
# consumer thread drains the ring on another CPU meanwhile (read, lost).
echo
echo "events (IPv4 TCP 198.18.0.1:40000 -> 198.18.0.2:80, 2 rules; anchor:" \
	"programs without the events switch):"
: >"$OUT/ev"
"$BIN" --repeat "$REPEAT" --runs "$RUNS" events >"$OUT/ev"
awk '
/^case / { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	ns[f["name"]] = f["median"] }
/^events / { for (i = 2; i <= NF; i++) { split($i, kv, "="); e[kv[1]] = kv[2] }
	rd[e["name"]] = e["read"]; lo[e["name"]] = e["lost"]; pk[e["name"]] = e["packets"] }
function ratio(a, b) { return (a != "" && b > 0) ? sprintf("%.2fx", a / b) : "-" }
function row(what, n, target) {
	printf "  %-50s %8s %8s %10s %8s %s\n", what, ns[n], ratio(ns[n], ns["events-off"]),
		rd[n] == "" ? "-" : rd[n], lo[n] == "" ? "-" : lo[n],
		target == "" ? "" : (ns[n] <= target * ns["events-off"] ? "PASS" : "MISS") \
		" (<= " target "x)"
}
END {
	printf "  %-50s %8s %8s %10s %8s\n", "packet class", "ns/pkt", "vs anchor", "read", "lost"
	row("events off (anchor: no events code)", "events-off", "")
	row("events on, nothing asked (the switch)", "events-on-idle", "")
	row("sampling 1-in-1000", "events-sample-1000", 1.03)
	row("sampling 1-in-1 (a record per packet)", "events-sample-1", "")
	row("a log rule under flood (10 events/s)", "events-log-rule", "")
	row("drops: true, a drop event per packet", "events-drops", "")
	row("events off (anchor, again)", "events-off-again", "")
}' "$OUT/ev"

# ---- events (issue 10): the consumer's rate ----
# bench_xdp `evrate`: `events: {sample: 1}` (every verdict an event), test
# runs in this thread while a consumer thread (libbpf ring_buffer__poll,
# counting records) drains the ring on another CPU: paced producer steps
# of 0.5 s, then 2 s saturating; events produced, read and lost (sl_ev_lost)
# per second. Fails unless read + lost is every packet run.
echo
echo "events consumer rate (sample 1: an event per packet; IPv4 TCP pass;" \
	"a consumer thread counting records on another CPU):"
"$BIN" evrate

# ---- load balancer (issue 11): established flow, new-flow SYN, Maglev ----
# bench_lb (a network namespace of its own, as tests/unit/test_lb.c):
# nat, dsr-l2 and dsr-ipip, IPv4 and IPv6, loops of single runs (a rewriting program
# sees its own output on the next repeat), next to the same frames through
# the program without lb (the in-run anchor) and Katran's figures quoted
# in issue 11; every row checked from the LB counters and lb-forward; then
# the same rows by restored frames (bench/lb_harness.bpf.c: large repeat,
# the frame put back and Sluice's program tail-called every run). Then
# the Maglev build of 1,000 services x 100 backends. BENCH_LB=0 skips it.
if [ "${BENCH_LB:-1}" = 1 ]; then
	echo
	build/bench/bench_lb
fi

# ---- where the time goes ----
if [ "$EXPLAIN" = 1 ] || { [ "$EXPLAIN" = auto ] &&
	grep -q '^targets: MISS' <<<"$TABLE"; }; then
	echo
	echo "where the time goes (bench/sluice_variants.bpf.c: Sluice's parser," \
		"maps and lookups with parts removed; IPv4 deny frame; set: the" \
		"/32 hit, its /24 and N-1 random, via sl_set_add):"
	: >"$RES"
	bench breakdown -n 1
	bench breakdown -n 1000000
	bench sweep -n 1000000
	echo
	awk '
	/^case / {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		n = f["name"]; m = n; sub(/-[0-9]+$/, "", m); k = n; sub(/.*-/, "", k)
		v[m, k] = sprintf("%d (%d)", f["median"], f["min"])
		if (m ~ /^exp-/ && !(m in seen)) { seen[m] = 1; ord[++c] = m }
		if (m == "sweep-deny-v4") sw = sw sprintf(" %s:%d", k, f["median"])
	}
	END {
		what["exp-full"] = "Sluice as shipped (parse, bitmap+host hash, counters)"
		what["exp-no-counters"] = "Sluice lookups, no entry counters, no stats"
		what["exp-src-only"] = "no dst lookup"
		what["exp-src-bare"] = "parse + src lookup (bitmap, hash) only"
		what["exp-parse-only"] = "parse + stats, no lookup"
		what["exp-lpm-only"] = "one raw src trie lookup (hits the /24), no parse"
		what["exp-array24"] = "parse + one array lookup by /24 (DIR-24-8)"
		what["exp-hash32"] = "parse + one hash lookup by /32, no bitmap"
		print "ns/pkt, median (min) of the runs"
		printf "%-14s %-54s %10s %10s\n", "variant", "what runs", "N=1", "N=1M"
		for (i = 1; i <= c; i++) {
			m = ord[i]; s = m; sub(/^exp-/, "", s)
			printf "%-14s %-54s %10s %10s\n", s, what[m], v[m, 1], v[m, 1000000]
		}
		print "deny hit vs set size (ns/pkt):" sw
	}' "$RES"
fi

# ---- rules: ns/packet by rule count (issue 3's flatness target) ----
# The whole program with the matching rule last (bench_rules: IPv4 5-tuple
# rules as in the lab, then the full profile), and the classifier alone
# with many distinct packets (bench_cls: hot and streamed). BENCH_RULES=0
# skips them.
if [ "${BENCH_RULES:-1}" = 1 ]; then
	echo
	build/bench/bench_rules --repeat "$REPEAT" --runs "$RUNS" 1 10 100 10000 100000
	echo
	build/bench/bench_rules --repeat "$REPEAT" --runs "$RUNS" --full 1 10 100 10000 100000
	echo
	build/bench/bench_cls --repeat "$REPEAT" --runs "$RUNS"
fi

# ---- control plane: seconds to apply 1,000,000 set entries ----
# bench_sets: sl_config_load and sl_apply of a config whose deny lists hold
# 1M prefixes, and the whole CLI on a bpffs of its own, next to plain batch
# updates of the same keys into fresh maps (the anchor), in one run.
# BENCH_SETS=0 skips it.
if [ "${BENCH_SETS:-1}" = 1 ]; then
	echo
	build/bench/bench_sets -n 1000000 --runs 3 --cli build/sluice
	echo
	build/bench/bench_sets -n 1000000 --v6 30 --dst 20 --runs 3
fi

# ---- packets/s on a veth lab (bench/lab_pps.sh; BENCH_LAB=0 skips it) ----
# Real frames between two namespaces, counted at the receiver, next to an
# empty XDP_DROP measured in the same run; then rule-set load times.
if [ "${BENCH_LAB:-1}" = 1 ]; then
	echo
	bench/lab_pps.sh || echo "bench/run.sh: the packets/s lab failed" >&2
fi

# ---- SYN flood and conntrack filtering on a veth lab (bench/syn_lab.sh;
# BENCH_SYN=0 skips it): the kernel's own SYN cookies vs Sluice's, and
# nftables ct state vs Sluice's drop-invalid, in the same run ----
if [ "${BENCH_SYN:-1}" = 1 ]; then
	echo
	bench/syn_lab.sh || echo "bench/run.sh: the SYN-flood lab failed" >&2
fi

# ---- the load balancer on a veth lab (bench/lab_lb.sh; BENCH_LBLAB=0
# skips it): requests/s and connections/s by wrk through the LB's VIP vs
# directly to the backend, per mode, each LB run checked from the LB
# counters ----
if [ "${BENCH_LBLAB:-1}" = 1 ]; then
	echo
	bench/lab_lb.sh || echo "bench/run.sh: the load balancer's lab failed" >&2
fi

# ---- memory of the whole state (bench/mem.sh; BENCH_MEM=0 skips it) ----
# Empty attach, an empty config, 1M set entries, 100k rules: bytes_memlock
# of every map of the state, next to issue 7's target.
if [ "${BENCH_MEM:-1}" = 1 ]; then
	echo
	bench/mem.sh || echo "bench/run.sh: the memory benchmark failed" >&2
fi
