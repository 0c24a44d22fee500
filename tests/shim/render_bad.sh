#!/bin/sh
# scripts/render-prompts.sh refuses a bad prompts file before it runs
# festival: a bad id, a duplicate id, a speaking rate that is not a number
# from 0.5 to 2, a line with too many fields. Each is named on stderr with
# its file and line, the exit status is 1 and no pack appears. A good file with a rate renders.
# Skips (77) without festival or sox.
set -u
src=${ZS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
r=$src/scripts/render-prompts.sh
for t in festival sox; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: no $t"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zs-render-bad.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
tab=$(printf '\t')
bad() { # NAME WANT LINE...: the file of these lines is refused with WANT
	_n=$1 _w=$2
	shift 2
	printf '%s\n' "$@" >"$tmp/$_n.txt"
	sh "$r" "$tmp/$_n.txt" "$tmp/$_n.out" 2>"$tmp/$_n.err" >/dev/null
	_rc=$?
	if [ $_rc = 1 ] && grep -q "$_n.txt:[0-9][0-9]*: $_w" "$tmp/$_n.err" && [ ! -e "$tmp/$_n.out" ]; then
		echo "ok: $_n: refused ($(head -n 1 "$tmp/$_n.err"))"
	else
		echo "FAIL: $_n: exit $_rc, stderr: $(cat "$tmp/$_n.err")"
		fails=$((fails + 1))
	fi
}
bad id_upper "bad line" "Letter_a${tab}alpha"
bad duplicate "duplicate id" "letter_a${tab}alpha" "letter_a${tab}alfa"
bad rate_text "bad line" "letter_a${tab}alpha${tab}slow"
bad rate_low "bad line" "letter_a${tab}alpha${tab}0.2"
bad rate_high "bad line" "letter_a${tab}alpha${tab}3"
bad rate_neg "bad line" "letter_a${tab}alpha${tab}-1"
bad four_fields "bad line" "letter_a${tab}alpha${tab}0.9${tab}x"
bad no_text "bad line" "letter_a"
# a good file: the rate is taken (the slower clip is longer)
printf 'letter_a\talpha\nletter_b\talpha\t0.7\n' >"$tmp/good.txt"
if sh "$r" "$tmp/good.txt" "$tmp/good" 2>"$tmp/good.err" >/dev/null &&
   [ -f "$tmp/good/clips-8000.idx" ]; then
	a=$(awk '$1 == "letter_a" { print $3 }' "$tmp/good/clips-8000.idx")
	b=$(awk '$1 == "letter_b" { print $3 }' "$tmp/good/clips-8000.idx")
	if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]; then
		echo "ok: good: rendered; at rate 0.7 the clip is longer ($b samples against $a)"
	else
		echo "FAIL: good: the rate changed nothing ($a, $b)"
		fails=$((fails + 1))
	fi
else
	echo "FAIL: good: not rendered: $(cat "$tmp/good.err")"
	fails=$((fails + 1))
fi
[ $fails = 0 ]
