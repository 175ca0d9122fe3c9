#!/bin/sh
# Bash completion (packaging/bash-completion/sabot): sourced in bash, its
# function called as bash calls it (COMP_WORDS, COMP_CWORD): commands,
# each command's options read from its --help, option arguments, scenario
# files for run, validate and plan; and 'make install' puts it where
# bash-completion looks.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
top=$(cd "$(dirname "$0")/../.." && pwd)
trap t_cleanup_tmp EXIT
cd "$T_TMP"

command -v bash >/dev/null || { skip "no bash"; t_done; exit 0; }
mkdir scen
touch scen/a.ini scen/b.ini scen/notes.txt scen/r.json

# complete WORD...: the last word is the one being completed; prints
# COMPREPLY one a line, sorted.
complete_words() {
	bash --norc --noprofile -c '
		. "$1" || exit 9
		shift
		[ "$(complete -p sabot 2>/dev/null)" = "complete -F _sabot sabot" ] || { echo "not registered: $(complete -p sabot 2>&1)"; exit 8; }
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_sabot
		printf "%s\n" "${COMPREPLY[@]}" | sort' sh "$top/packaging/bash-completion/sabot" "$SABOT" "$@"
}
# check NAME WANT WORD...: the completions, space-separated, are WANT.
check() {
	name=$1 want=$2
	shift 2
	got=$(complete_words "$@" | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want" ] && pass "$name" || fail "$name: got '$got', want '$want'"
}

cmds=$("$SABOT" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')
[ -n "$cmds" ] && check "every command of --help, at the first word" "$cmds" "" ||
	fail "no commands in sabot --help"
check "a command by its prefix" "validate" va
check "st: status" "status" st
check "the global options" "--help --policy --run-dir --state-dir --verbose --version" --
check "run's options and the global ones" \
	"--help --metrics-file --policy --report --require-effect --run-dir --skip-unsupported --state-dir --verbose --yes" run --
check "status --j: --json" "--json" status --j
check "report --h: its own --html and --help" "--help --html" report --h
check "a global option's argument is not the command" "status" --state-dir "$T_TMP/st" st
check "run: scenario files and directories" "scen/a.ini scen/b.ini" run scen/
check "validate: scenario files" "scen/a.ini scen/b.ini" validate scen/
check "plan, after its options: scenario files" "scen/a.ini scen/b.ini" --policy x.ini plan scen/
check "directories on the way to them" "scen" validate sc
check "report: a run's JSON report" "scen/r.json" report scen/
check "--report takes any file" "scen/a.ini scen/b.ini scen/notes.txt scen/r.json" run --report scen/
check "--state-dir takes a directory" "scen" --state-dir sc
check "status takes no operand" "" status sc
mkdir spaced && touch "spaced/a b.ini"
n=$(complete_words run spaced/ | grep -cx 'spaced/a b.ini')
[ "$n" = 1 ] && pass "a file name with a space is one completion" || fail "spaced: $(complete_words run spaced/)"
if command -v shellcheck >/dev/null; then
	shellcheck -s bash "$top/packaging/bash-completion/sabot" >sc.out 2>&1 && pass "shellcheck: clean" ||
		fail "shellcheck: $(cat sc.out)"
else
	skip "no shellcheck"
fi

# make install puts it where bash-completion loads it from.
make -s -C "$top" install DESTDIR="$T_TMP/dest" PREFIX=/usr SBINDIR=/usr/sbin UNITDIR=/lib/systemd/system >make.out 2>&1
cmp -s "$T_TMP/dest/usr/share/bash-completion/completions/sabot" "$top/packaging/bash-completion/sabot" &&
	pass "make install: \$(DATADIR)/bash-completion/completions/sabot" || fail "not installed: $(cat make.out)"
grep -qx 'usr/share/bash-completion/completions/sabot' "$top/packaging/debian/sabot.install" &&
	pass "and the Debian package ships it" || fail "not in packaging/debian/sabot.install"
t_done
