#!/bin/sh
# The man pages document every key, fault type, probe and option that the
# binary accepts, each where it belongs, with a type, a default and a
# description; they are mandoc -Tlint clean and dated. The lists come from
# the binary itself (its messages for an unknown key, type or probe, and
# its --help), not from the generator, so a key, kind or option added
# without appearing in the pages fails here.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
: "${BUILD:?set BUILD to the build directory}"
trap t_cleanup_tmp EXIT
man=$BUILD/man
cd "$T_TMP"

for p in sabot.8 sabot-scenario.5 sabot-policy.5; do
	[ -s "$man/$p" ] || { fail "no $man/$p (make man)"; exit 1; }
done

# mandoc -Tlint: nothing at all, style messages included.
if ! command -v mandoc >/dev/null 2>&1; then
	fail "mandoc is not installed (packaging/build-deps.sh --test installs it)"
else
	for p in sabot.8 sabot-scenario.5 sabot-policy.5; do
		OUT=$(mandoc -Tlint "$man/$p" 2>&1)
		if [ -z "$OUT" ]; then pass "mandoc -Tlint $p: clean"; else fail "mandoc -Tlint $p"; printf '%s\n' "$OUT" | sed 's/^/    | /'; fi
	done
fi
for p in sabot.8 sabot-scenario.5 sabot-policy.5; do
	grep -qE '^\.TH [^ ]+ [58] [0-9]{4}-[0-9]{2}-[0-9]{2} "sabot [^"@]+"' "$man/$p" &&
		pass "$p: .TH has a date and a version" || fail "$p: .TH line: $(grep '^\.TH' "$man/$p")"
done

# The pages' roff with '\-' as '-', for matching.
for p in sabot.8 sabot-scenario.5 sabot-policy.5; do sed 's/\\-/-/g' "$man/$p" > "$p"; done

# section FILE START: the lines from the one equal to START up to the next
# .SH (or .SS, for a .SS START).
section() {
	awk -v start="$2" '
		$0 == start { on = 1; next }
		on && /^\.SH/ { exit }
		on && substr(start, 1, 3) == ".SS" && /^\.SS/ { exit }
		on { print }' "$1"
}
# documented FILE START KEY: KEY has an entry in that section, with a
# description and a default on the lines after its tag.
documented() {
	section "$1" "$2" | awk -v key="$3" '
		index($0, ".BI \"" key " = \"") == 1 { tag = 1; next }
		tag && /^\./ { exit }
		tag { text = text " " $0 }
		END { exit !(tag && text ~ /[a-z]/ && text ~ /Default: [^ ]/) }'
}
# The list after "PREFIX" in the binary's message (", " or " | " separated).
after() { printf '%s\n' "$OUT" | sed -n "s/.*$1//p" | head -n 1 | sed 's/ | /, /g; s/, /\n/g'; }

n_keys=0 missing=""
check() { # FILE START KEY WHAT
	n_keys=$((n_keys + 1))
	documented "$1" "$2" "$3" || { missing="$missing $4"; fail "$4 is not documented under $2 in $1"; }
}

# Scenario sections without a narrowing word, and the limits of both files.
cat > u.ini <<'INI'
[scenario]
name = x
duration = 10s
zzqq = 1
[target t]
comm = x
zzqq = 1
[limits]
zzqq = 1
INI
OUT=$("$SABOT" validate u.ini 2>&1)
for sec in scenario target limits; do
	keys=$(printf '%s\n' "$OUT" | grep "in \[$sec\]; allowed keys:" | sed 's/.*allowed keys: //; s/, /\n/g')
	[ -n "$keys" ] || fail "no key list for [$sec] from sabot validate"
	h=".SH \"[$sec]\""; [ "$sec" = target ] && h='.SH "[target NAME]"'
	for k in $keys; do check sabot-scenario.5 "$h" "$k" "[$sec] $k"; done
done

# Every fault type (from the binary's list), and the keys each takes:
# those of every fault under [fault NAME], the rest under its own type.
printf '[scenario]\nname = x\nduration = 10s\n[fault f]\ntype = zzqq\n' > t.ini
OUT=$("$SABOT" validate t.ini 2>&1)
types=$(after "use one of ")
[ "$(printf '%s\n' "$types" | wc -l)" -ge 15 ] && pass "the binary lists $(printf '%s\n' "$types" | wc -l) fault types" ||
	fail "fault types from the binary: $types"
for ty in $types; do
	grep -qxF ".SS \"type = $ty\"" sabot-scenario.5 || { fail "type = $ty has no section in sabot-scenario.5"; continue; }
	printf '[scenario]\nname = x\nduration = 10s\n[fault f]\ntype = %s\nzzqq = 1\n' "$ty" > k.ini
	OUT=$("$SABOT" validate k.ini 2>&1)
	keys=$(after "in \[fault\]; keys for $ty: ")
	[ -n "$keys" ] || fail "no key list for type = $ty from sabot validate"
	for k in $keys; do
		if documented sabot-scenario.5 '.SH "[fault NAME]"' "$k"; then
			n_keys=$((n_keys + 1))
		else
			check sabot-scenario.5 ".SS \"type = $ty\"" "$k" "$ty $k"
		fi
	done
done

# Every probe and its keys.
printf '[scenario]\nname = x\nduration = 10s\n[slo s]\nprobe = zzqq\n' > p.ini
OUT=$("$SABOT" validate p.ini 2>&1)
probes=$(after "unknown probe 'zzqq'; use ")
[ -n "$probes" ] || fail "no probe list from sabot validate"
for pr in $probes; do
	printf '[scenario]\nname = x\nduration = 10s\n[slo s]\nprobe = %s\nzzqq = 1\n' "$pr" > k.ini
	OUT=$("$SABOT" validate k.ini 2>&1)
	keys=$(after "in \[slo\]; keys for probe = $pr: ")
	[ -n "$keys" ] || fail "no key list for probe = $pr from sabot validate"
	for k in $keys; do check sabot-scenario.5 '.SH "[slo NAME]"' "$k" "probe = $pr $k"; done
done

# The policy's sections.
printf '[limits]\nzzqq = 1\n[protect]\nzzqq = 1\n[probes]\nzzqq = 1\n' > pol.ini
chmod 600 pol.ini
OUT=$("$SABOT" --policy "$T_TMP/pol.ini" validate t.ini 2>&1)
for sec in limits protect probes; do
	keys=$(printf '%s\n' "$OUT" | grep "pol.ini:.*in \[$sec\]; allowed keys:" | sed 's/.*allowed keys: //; s/, /\n/g')
	[ -n "$keys" ] || fail "no key list for the policy's [$sec] from sabot validate"
	for k in $keys; do check sabot-policy.5 ".SH \"[$sec]\"" "$k" "policy [$sec] $k"; done
done
[ -z "$missing" ] && pass "all $n_keys keys the binary accepts are documented where they belong" ||
	fail "undocumented:$missing"

# The generator's list runs (the Makefile's man rule uses the same tables).
if [ -x "$BUILD/gen-man" ]; then
	"$BUILD/gen-man" --keys | grep -q '^fault latency delay$' && pass "gen-man --keys lists the kinds' keys" ||
		fail "gen-man --keys"
fi

# Every command and option of the CLI's --help is in sabot(8).
cmds=$("$SABOT" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/Commands:/ {print $1}')
[ "$(printf '%s\n' "$cmds" | wc -l)" -ge 9 ] || fail "commands from sabot --help: $cmds"
bad=""
for c in $cmds; do
	section sabot.8 '.SH COMMANDS' | grep -qE "^\.BI? \"$c[ \"]" || bad="$bad $c"
	for o in $("$SABOT" "$c" --help | grep -oE '^  (-[a-z], )?--[a-z-]+' | sed 's/.*--//'); do
		section sabot.8 '.SH OPTIONS' | grep -qE "^\.BI? \"(-[a-z], )?--$o[ \"]" || bad="$bad $c:--$o"
	done
done
[ -z "$bad" ] && pass "every command and option of --help is in sabot(8)" || fail "not in sabot(8):$bad"
for s in 'EXIT STATUS' ENVIRONMENT FILES EXAMPLES; do
	grep -qx ".SH \"*$s\"*" sabot.8 && pass "sabot(8) has $s" || fail "sabot(8) has no $s"
done
for v in JOURNAL_STREAM NO_COLOR TERM; do
	section sabot.8 '.SH ENVIRONMENT' | grep -qx ".B $v" && pass "ENVIRONMENT names $v" || fail "ENVIRONMENT lacks $v"
done
for code in 0 1 2 3 4 5 6 7; do
	section sabot.8 '.SH EXIT STATUS' | grep -qx ".B $code" || fail "EXIT STATUS lacks $code"
done
exit $((T_FAILS > 0))
