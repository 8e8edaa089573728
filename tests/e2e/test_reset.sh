#!/usr/bin/env bash
# `reset` detaches everything (native and generic), removes every pin
# (DIR/sluice is gone, nothing left on the bpffs), `ip link` shows no XDP
# program, and traffic flows again. Also: sluice mounts a bpffs at --bpffs
# DIR when none is there.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! lab_up || ! lab_add_client; then
	fail "lab with two clients is built" "namespaces, veths or HTTP server failed"
	finish
fi

check "attach server iface 1 (native)" sl attach "$IF_S"
check "attach server iface 2 (generic)" sl attach "$IF_S2" --mode generic
check "block both clients' prefixes" sl block 198.18.0.0/24 198.18.1.0/24 2001:db8::/64
check "allow a prefix" sl allow 198.18.0.9
expect_blocked "before reset, client 1 v4" "$NS_C" "$S4"
expect_blocked "before reset, client 1 v6" "$NS_C" "$S6"
expect_blocked "before reset, client 2 v4" "$NS_C2" "$S4B"
if [ -d "$BPF/sluice" ] && [ -n "$(ls -A "$BPF/sluice")" ]; then
	ok "state is pinned under DIR/sluice"
else
	fail "state is pinned under DIR/sluice" "$BPF/sluice is empty or missing"
fi

run_capture sl reset
if [ "$RC" -eq 0 ]; then ok "reset exits 0"; else fail "reset exits 0" "exit $RC: $ERR"; fi
if [ ! -e "$BPF/sluice" ]; then ok "reset removes DIR/sluice"; else
	fail "reset removes DIR/sluice" "left: $(find "$BPF/sluice" | head -n5 | tr '\n' ' ')"
fi
# (maps.debug and progs.debug are the kernel's own, on every bpffs.)
left=$(find "$BPF" -mindepth 1 ! -name maps.debug ! -name progs.debug | head -n5 | tr '\n' ' ')
if [ -z "$left" ]; then ok "reset leaves nothing on the bpffs"; else
	fail "reset leaves nothing on the bpffs" "left: $left"
fi
if ip -n "$NS_S" -d link show | grep -q 'xdp\|prog/xdp'; then
	fail "ip link shows no XDP program after reset" "$(ip -n "$NS_S" -d link show | grep -m1 xdp)"
else
	ok "ip link shows no XDP program after reset"
fi
expect_flows "after reset, client 1 v4" "$NS_C" "$S4"
expect_flows "after reset, client 1 v6" "$NS_C" "$S6"
expect_flows "after reset, client 2 v4" "$NS_C2" "$S4B"
st=$(sl status -j 2>&1)
if [ "$(echo "$st" | jq -c .attachments 2>/dev/null)" = "[]" ]; then
	ok "status -j after reset lists no attachment"
else
	fail "status -j after reset lists no attachment" "$st"
fi
bl=$(sl block --list -j 2>&1)
if [ "$(echo "$bl" | jq -c . 2>/dev/null)" = "[]" ]; then
	ok "block --list -j after reset is []"
else
	fail "block --list -j after reset is []" "$bl"
fi
check "reset again (nothing there) exits 0" sl reset
if [ ! -e "$BPF/sluice" ]; then ok "status and list after reset create no state"; else
	fail "status and list after reset create no state" "$BPF/sluice exists"
fi

# A fresh attach after reset starts from empty sets and zero counters.
check "attach after reset" sl attach "$IF_S"
expect_flows "re-attached after reset, client 1 v4" "$NS_C" "$S4"
s=$(sl stats -j 2>&1)
if [ "$(echo "$s" | jq '.reasons["deny-set"].packets' 2>/dev/null)" = 0 ]; then
	ok "counters start from zero after reset"
else
	fail "counters start from zero after reset" "$(echo "$s" | jq -c '.reasons["deny-set"]' 2>/dev/null || echo "$s")"
fi
check "second reset" sl reset
if [ ! -e "$BPF/sluice" ] && [ -z "$(xdp_prog_id "$NS_S" "$IF_S")" ]; then
	ok "second reset detaches and unpins"
else
	fail "second reset detaches and unpins" "pins or program left"
fi

# Auto-mount: --bpffs on a plain directory (root mount namespace).
mkdir -p "$T/auto"
MOUNTS+=("$T/auto")
run_capture timeout 60 "$SLUICE" --bpffs "$T/auto" block 198.19.7.0/24
if [ "$RC" -eq 0 ] && [ "$(stat -f -c %T "$T/auto")" = bpf_fs ] && [ -d "$T/auto/sluice" ]; then
	ok "--bpffs on a plain directory mounts a bpffs there"
else
	fail "--bpffs on a plain directory mounts a bpffs there" \
		"exit $RC, fs type $(stat -f -c %T "$T/auto"): $ERR"
fi
if [ "$(timeout 60 "$SLUICE" --bpffs "$T/auto" block --list -j | jq -r '.[].prefix')" = 198.19.7.0/24 ]; then
	ok "state on the mounted bpffs persists between calls"
else
	fail "state on the mounted bpffs persists between calls" "block --list lost the prefix"
fi
check "reset on the auto-mounted bpffs" timeout 60 "$SLUICE" --bpffs "$T/auto" reset
finish
