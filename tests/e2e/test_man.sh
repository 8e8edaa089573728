#!/usr/bin/env bash
# The man page (issue 8): `sluice help --man` prints sluice(8) in troff,
# generated from the same command tables as --help and docs/cli.md: it
# names every verb, every sub-command and every option that --help lists,
# man(1) renders it without warnings, and `make install` installs it (as
# build/sluice.8, which the build generates).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

run_capture "$SLUICE" help --man
if [ "$RC" = 0 ] && [[ "$OUT" == *".TH SLUICE 8 "* ]]; then ok "sluice help --man prints a man page"; else
	fail "sluice help --man prints a man page" "exit $RC: $(echo "$OUT" | head -c 200) $ERR"
	finish
fi
echo "$OUT" >"$T/sluice.8"

# The verbs: the command list of `sluice help` (two-space indent).
verbs=$("$SLUICE" help | awk '/^  [a-z]/ && $1 != "help" {print $1}')
[ "$(echo "$verbs" | wc -w)" -ge 12 ] && ok "sluice help lists the verbs" ||
	fail "sluice help lists the verbs" "got: $verbs"
missing=""
for v in $verbs; do
	grep -q "^\.SS \"sluice $v\"$" "$T/sluice.8" || missing="$missing $v"
	# its sub-commands ("    rule add ...")
	for s in $("$SLUICE" help | awk -v v="$v" '$1 == v && NF > 2 && /^    / {print $2}'); do
		# (troff writes a sub-command's hyphens as \-: drain\-node)
		esc=$(printf '%s' "$s" | sed 's/-/\\\\-/g')
		grep -q "^\\\\fBsluice $v $esc\\\\fR" "$T/sluice.8" || missing="$missing $v-$s"
	done
	# its options: every "--name" of `sluice V --help`'s OPTIONS section
	for o in $("$SLUICE" "$v" --help | sed -n '/^OPTIONS/,/^[A-Z]/p' |
		grep -o -- '--[a-z][a-z-]*' | sort -u); do
		esc=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
		grep -q -- "\\\\fB$esc\\\\fR" "$T/sluice.8" || missing="$missing $v:$o"
	done
done
if [ -z "$missing" ]; then ok "the man page has every verb, sub-command and option of --help"; else
	fail "the man page has every verb, sub-command and option of --help" "missing:$missing"
fi
for sec in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" ENVIRONMENT FILES; do
	grep -q "^\.SH $sec$" "$T/sluice.8" || missing="$missing $sec"
done
[ -z "$missing" ] && ok "the man page has its sections" || fail "the man page has its sections" "missing:$missing"

warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$T/sluice.8" 2>&1 >/dev/null)
if [ -z "$warn" ]; then ok "man renders it without warnings"; else
	fail "man renders it without warnings" "$(echo "$warn" | head -n 3 | tr '\n' '|')"
fi
if MANWIDTH=80 man -l "$T/sluice.8" 2>/dev/null | grep -q -- '--dry-run'; then
	ok "the rendered page reads --dry-run"
else
	fail "the rendered page reads --dry-run" "not in man's output"
fi

if make -s -C "$ROOT_DIR" install DESTDIR="$T/root" >"$T/install.log" 2>&1 &&
	[ -f "$T/root/usr/local/share/man/man8/sluice.8" ] &&
	grep -q '^\.SS "sluice apply"$' "$T/root/usr/local/share/man/man8/sluice.8"; then
	ok "make install installs share/man/man8/sluice.8"
else
	fail "make install installs share/man/man8/sluice.8" "$(tail -n 2 "$T/install.log" | tr '\n' '|')"
fi

finish
