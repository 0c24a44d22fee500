#!/bin/sh
# zrtpshim(7) documents every setting of the shim's table (shim/
# settings.c): the list comes from the table itself, through the debug
# lines the shim prints at start-up ('setting KEY (ENV) = "VALUE" from
# ORIGIN, default "DEFAULT"'), never from a hand-kept list. Each must have its entry
# (".B KEY\fR, \fBENV") and, where the default is a value, name it
# ("default \fBDEFAULT\fR"). The page's example config file must load
# without a warning, and every page must format without a groff warning.
# Run from the top build directory.
set -u
WORK_NAME=mansettings
. "$(dirname "$0")/preload.sh"
fail=0
src=${ZS_SRCDIR:-..}
page=$src/doc/zrtpshim.7

env -u ZRTPSHIM_LOG_FILE ZRTPSHIM_CONFIG=none ZRTPSHIM_LOG=debug HOME="$work" \
	LD_PRELOAD="$pre" sh -c 'echo x' >/dev/null 2>"$work/err"
grep 'DEBUG setting ' "$work/err" |
	sed -n 's/.*DEBUG setting \([a-z_]*\) (\([A-Z_]*\)) = ".*" from .*, default "\(.*\)"$/\1 \2 \3/p' >"$work/table"
n=$(wc -l <"$work/table")
[ "$n" -ge 17 ] && echo "ok: $n settings in the table" ||
	{ echo "FAIL: only $n settings listed by the shim"; cat "$work/err"; fail=1; }
while read -r key var def; do
	entry=$(awk -v h=".B $key\\\\fR, \\\\fB$var" '
		$0 == h { on = 1; next }
		on && /^\.(TP|SS|SH)/ { exit }
		on { print }' "$page")
	if [ -z "$entry" ]; then
		printf 'FAIL: zrtpshim.7 has no entry ".B %s\\fR, \\fB%s"\n' "$key" "$var"
		fail=1
	elif [ -n "$def" ] &&
		! printf '%s\n' "$entry" | grep -qF "default \\fB$def\\fR"; then
		echo "FAIL: zrtpshim.7's entry for $key does not give its default $def"
		fail=1
	else
		echo "ok: $key ($var) documented${def:+, default $def}"
	fi
done <"$work/table"
# The example config of the page loads without a warning.
awk '/^An example:/{ex=1} ex && /^\.nf/{on=1;next} on && /^\.fi/{exit} on' "$page" |
	sed 's/\\-/-/g' >"$work/example"
[ -s "$work/example" ] || { echo "FAIL: no example in zrtpshim.7"; fail=1; }
sed "s#/home/ann#$work#" "$work/example" >"$work/config"
mkdir -p "$work/.local/state/zrtpshim" "$work/bin"
# Under each program name its sections name, and one no section names.
for p in baresip linphonec sipp other; do
	cp "$(command -v sh)" "$work/bin/$p"
	ZRTPSHIM_CONFIG="$work/config" ZRTPSHIM_LOG=debug HOME="$work" \
		LD_PRELOAD="$pre" "$work/bin/$p" -c 'echo x' >/dev/null 2>>"$work/ex.err"
done
log=$work/.local/state/zrtpshim/shim.log
if [ "$(grep -c 'DEBUG setting .* from config' "$log" 2>/dev/null)" -lt 16 ]; then
	echo "FAIL: the example config did not load:"; cat "$work/ex.err" "$log"; fail=1
elif grep -q WARN "$work/ex.err" "$log"; then
	echo "FAIL: the example config warns:"; grep WARN "$work/ex.err" "$log"; fail=1
else
	echo "ok: the example config loads without a warning" \
		"($(grep -c 'DEBUG setting .* from config' "$log") settings from it)"
fi

# groff: no warnings in any page.
if command -v man >/dev/null; then
	for p in "$src"/doc/*.[17]; do
		w=$(MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
		[ -z "$w" ] && echo "ok: $(basename "$p") formats cleanly" ||
			{ echo "FAIL: $(basename "$p"): $w"; fail=1; }
	done
fi
exit $fail
