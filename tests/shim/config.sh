#!/bin/sh
# The config file (shim/settings.c, common/conffile.c), judged from the
# shim's own start-up lines at ZRTPSHIM_LOG=debug ("setting KEY (ENV) =
# "VALUE" from ORIGIN"): every setting read from the file, every one
# overridden by the environment, sections matched by the program name (a
# non-matching one ignored), bad values, a malformed line and an unknown
# key each named with their line (the default stays, the rest of the file
# applies), no warning for a missing file, one for an unreadable one,
# ZRTPSHIM_CONFIG=none, the XDG_CONFIG_HOME and HOME locations, and the
# zrtpshim command using the same state directory as the shim.
# No sockets, no ports. Run from the top build directory.
set -u
WORK_NAME=config
. "$(dirname "$0")/preload.sh"
fail=0
zs=./tools/zrtpshim
unset ZRTPSHIM_CONFIG ZRTPSHIM_LOG ZRTPSHIM_LOG_FILE ZRTPSHIM_POLICY \
	ZRTPSHIM_TLS ZRTPSHIM_DIR ZRTPSHIM_ALTERED_MS ZRTPSHIM_KEYLOG \
	ZRTPSHIM_ALGOS ZRTPSHIM_ON_EVENT ZRTPSHIM_PROMPTS \
	ZRTPSHIM_PROMPT_ALWAYS_CODE ZRTPSHIM_PROMPTS_DIR ZRTPSHIM_KEY_REPEAT \
	ZRTPSHIM_KEY_CONFIRM ZRTPSHIM_KEY_WITHDRAW ZRTPSHIM_NOTIFY \
	ZRTPSHIM_HISTORY XDG_CONFIG_HOME

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# Run a plain command (the program "sh") under the shim; its lines go to
# $2 (stderr, unless a log file is set).
shimmed() { # OUTFILE [VAR=VALUE...]
	out=$1; shift
	timeout -k 2 20 env "$@" LD_PRELOAD="$pre" sh -c 'echo output intact' >"$out.stdout" 2>"$out"
	[ "$(cat "$out.stdout")" = "output intact" ] || bad "the command broke ($out)"
}

# expect LOG KEY VALUE ORIGIN: the debug line of KEY says so.
expect() {
	if grep -qF "setting $2 (" "$1" &&
		grep "setting $2 (" "$1" | grep -qF "= \"$3\" from $4"; then
		ok "$2 = \"$3\" from $4"
	else
		bad "$2: wanted \"$3\" from $4, got: $(grep "setting $2 (" "$1")"
	fi
}

# 1. Every setting from the file: non-default values, one a line. The log
# level and file come from the file too (so its lines are in f.log).
cfg=$work/xdg/zrtpshim/config
mkdir -p "$work/xdg/zrtpshim"
cat >"$cfg" <<CFG
# every setting, none at its default
log = debug
log_file = $work/f.log

policy = opportunistic
tls = off
dir = $work/state-file
altered_ms = 1234
keylog = $work/keys-file
algos = cipher=AES1
on_event = /bin/true from-file
prompts = cues
prompt_always_code = yes
prompts_dir = $work/clips-file
key_repeat = *7#
key_confirm = 55
key_withdraw = #9*
notify = off
history = 7
CFG
line() { grep -n "^$1 = " "$cfg" | cut -d: -f1; }
shimmed "$work/f.err" XDG_CONFIG_HOME="$work/xdg"
[ -s "$work/f.log" ] && ok "log_file from the file: lines in f.log" ||
	bad "no f.log (log_file from the file not applied)"
for kv in "log=debug" "log_file=$work/f.log" "policy=opportunistic" \
	"tls=off" "dir=$work/state-file" "altered_ms=1234" \
	"keylog=$work/keys-file" "algos=cipher=AES1" \
	"on_event=/bin/true from-file" "prompts=cues" \
	"prompt_always_code=yes" "prompts_dir=$work/clips-file" \
	"key_repeat=*7#" "key_confirm=55" "key_withdraw=#9*" "notify=off" \
	"history=7"; do
	k=${kv%%=*}; v=${kv#*=}
	expect "$work/f.log" "$k" "$v" "config $cfg:$(line "$k")"
done
grep -qF "WARN config $cfg:$(line keylog): keylog is set: SRTP keys are written to $work/keys-file" "$work/f.log" &&
	ok "the keylog warning names the file's line" || bad "no keylog warning naming the line"
n=$(grep -c "setting .* from config $cfg:" "$work/f.log")
[ "$n" -eq 17 ] && ok "17 settings from the file" || bad "$n settings from the file, not 17"
grep -q 'state dir "'"$work/state-file"'"' "$work/f.log" &&
	ok "the shim's state dir is the file's" || bad "state dir not the file's"

# 2. The environment overrides every one of them.
shimmed "$work/e.err" XDG_CONFIG_HOME="$work/xdg" ZRTPSHIM_LOG=DEBUG \
	ZRTPSHIM_LOG_FILE="$work/e.log" ZRTPSHIM_POLICY=require \
	ZRTPSHIM_TLS=on ZRTPSHIM_DIR="$work/state-env" ZRTPSHIM_ALTERED_MS=4321 \
	ZRTPSHIM_KEYLOG="$work/keys-env" ZRTPSHIM_ALGOS=cipher=AES3 \
	ZRTPSHIM_ON_EVENT="/bin/true from-env" ZRTPSHIM_PROMPTS=off \
	ZRTPSHIM_PROMPT_ALWAYS_CODE=no ZRTPSHIM_PROMPTS_DIR="$work/clips-env" \
	ZRTPSHIM_KEY_REPEAT=A ZRTPSHIM_KEY_CONFIRM=bcd ZRTPSHIM_KEY_WITHDRAW=0 \
	ZRTPSHIM_NOTIFY=on ZRTPSHIM_HISTORY=1000
for kv in "log=debug" "log_file=$work/e.log" "policy=require" "tls=on" \
	"dir=$work/state-env" "altered_ms=4321" "keylog=$work/keys-env" \
	"algos=cipher=AES3" "on_event=/bin/true from-env" "prompts=off" \
	"prompt_always_code=no" "prompts_dir=$work/clips-env" \
	"key_repeat=A" "key_confirm=BCD" "key_withdraw=0" "notify=on" \
	"history=1000"; do
	expect "$work/e.log" "${kv%%=*}" "${kv#*=}" env
done
n=$(grep -c "setting .* from env" "$work/e.log")
[ "$n" -eq 17 ] && ok "17 settings from the environment" || bad "$n from the environment, not 17"

# 3. Sections by program name ("sh"): a glob that matches, one that does
# not, [*], lines after a broken header (for no one); a later matching line wins; a bad value, a malformed line, an
# unknown key, each with its line; the rest of the file still applies.
cat >"$cfg" <<'CFG'
prompts = off
history = 5
[nomatch*]
history = 9
policy = opportunistic
[s?]
key_confirm = *5#
prompts = loud
notify = maybe
history = 1001
altered_ms = 99
key_repeat = *1x#
prompt_always_code = sure
tls = 1
algos = ka=NOPE
this is not a setting
frobnicate = 3
[broken
prompts = cues
[*]
history = 6
log = debug
# history = 99
   # an indented comment
CFG
shimmed "$work/s.err" XDG_CONFIG_HOME="$work/xdg"
expect "$work/s.err" key_confirm '*5#' "config $cfg:7"
expect "$work/s.err" history 6 "config $cfg:21"
expect "$work/s.err" policy require default
expect "$work/s.err" prompts off "config $cfg:1"
expect "$work/s.err" notify on default
expect "$work/s.err" altered_ms 3000 default
expect "$work/s.err" key_repeat '*0#' default
expect "$work/s.err" prompt_always_code no default
expect "$work/s.err" tls on default
expect "$work/s.err" algos "" default
for w in "config $cfg:8: prompts = loud is not one of off|cues|code: using off" \
	"config $cfg:9: notify = maybe is not one of off|on: using on" \
	"config $cfg:10: history = 1001 is not a number of ended streams from 0 to 1000: using 5" \
	"config $cfg:11: altered_ms = 99 is not a number of milliseconds from 100 to 600000: using 3000" \
	"config $cfg:12: key_repeat = *1x# is not 1 to 8 keys of 0-9 * # A-D: using *0#" \
	"config $cfg:13: prompt_always_code = sure is not one of no|yes: using no" \
	"config $cfg:14: tls = 1 is not one of off|on: using on" \
	"config $cfg:15: algos \"ka=NOPE\" is not valid: using the defaults" \
	"config $cfg:16: \"this is not a setting\" is not \"key = value\"" \
	"config $cfg:17: unknown setting \"frobnicate\": ignored" \
	"config $cfg:18: \"[broken\" is not"; do
	grep -qF "WARN $w" "$work/s.err" && ok "warned: $w" || bad "no warning: $w"
done
n=$(grep -c WARN "$work/s.err")
[ "$n" -eq 11 ] && ok "11 warnings, no more" || { bad "$n warnings, not 11"; grep WARN "$work/s.err"; }
# The same file for another program name: [s?] does not apply, [nomatch*]
# does when the name matches it.
cp "$(command -v sh)" "$work/nomatchsh"
env XDG_CONFIG_HOME="$work/xdg" LD_PRELOAD="$pre" "$work/nomatchsh" -c 'echo x' >/dev/null 2>"$work/n.err"
expect "$work/n.err" policy opportunistic "config $cfg:5"
expect "$work/n.err" key_confirm '*1#' default
grep -q 'for program "nomatchsh"' "$work/n.err" && ok "program name nomatchsh" ||
	bad "program name not shown"
grep -q "prompts = loud" "$work/n.err" && bad "a bad value in a section for another program was checked" ||
	ok "values of another program's section are not checked"

# An over-long value is refused with its line; CRLF line ends are read.
long=$(head -c 5000 /dev/zero | tr '\0' x)
printf 'log = debug\r\non_event = %s\r\nhistory = 12\r\n' "$long" >"$work/crlf"
shimmed "$work/l.err" ZRTPSHIM_CONFIG="$work/crlf"
grep -q "WARN config $work/crlf:2: on_event is longer than 4095 bytes: ignored" "$work/l.err" &&
	ok "over-long value named with its line" || bad "no warning for the over-long value"
expect "$work/l.err" history 12 "config $work/crlf:3"
expect "$work/l.err" on_event "" default

# 4. A missing file: no warning, nothing at all at the default level.
shimmed "$work/m.err" ZRTPSHIM_CONFIG="$work/absent"
[ ! -s "$work/m.err" ] && ok "missing file: silent" || { bad "missing file: output:"; cat "$work/m.err"; }
shimmed "$work/m2.err" ZRTPSHIM_CONFIG="$work/absent" ZRTPSHIM_LOG=debug
grep -q "config: $work/absent (absent)" "$work/m2.err" && ok "missing file: shown at debug" ||
	bad "missing file not shown at debug"

# 5. Unreadable files: one warning each, the environment still applies.
mkdir "$work/adir"
printf 'policy = opportunistic\n\000\n' >"$work/binary"
head -c 70000 /dev/zero | tr '\0' '#' >"$work/large"
mkfifo "$work/fifo"   # must not hang the client's start
for f in adir binary large fifo; do
	shimmed "$work/u-$f.err" ZRTPSHIM_CONFIG="$work/$f" ZRTPSHIM_LOG=debug ZRTPSHIM_HISTORY=3
	n=$(grep -c WARN "$work/u-$f.err")
	grep -q "WARN config $work/$f: .*: not read" "$work/u-$f.err" && [ "$n" -eq 1 ] &&
		ok "$f: one warning: $(grep WARN "$work/u-$f.err" | sed 's/.*WARN //')" ||
		{ bad "$f: $n warnings"; cat "$work/u-$f.err"; }
	expect "$work/u-$f.err" history 3 env
	expect "$work/u-$f.err" policy require default
done
# A file without read permission: as root, the client runs as nobody.
printf 'policy = opportunistic\n' >"$work/noperm"; chmod 000 "$work/noperm"
as=""
if [ "$(id -u)" -eq 0 ]; then
	if command -v setpriv >/dev/null; then
		chmod 711 "$work"
		as="setpriv --reuid=65534 --regid=65534 --clear-groups"
	else
		as=skip
	fi
fi
if [ "$as" = skip ]; then
	echo "skipped: no permission (root without setpriv)"
else
	$as env ZRTPSHIM_CONFIG="$work/noperm" ZRTPSHIM_LOG=debug HOME="$work" \
		LD_PRELOAD="$pre" sh -c 'echo x' >/dev/null 2>"$work/u-p.err"
	[ "$(grep -c WARN "$work/u-p.err")" -eq 1 ] &&
		grep -q "WARN config $work/noperm: Permission denied: not read" "$work/u-p.err" &&
		ok "no permission: one warning" || { bad "no permission:"; cat "$work/u-p.err"; }
	expect "$work/u-p.err" policy require default
fi

# 6. ZRTPSHIM_CONFIG=none: the file in XDG_CONFIG_HOME is not read.
printf 'policy = opportunistic\nlog = debug\n' >"$cfg"
shimmed "$work/x.err" XDG_CONFIG_HOME="$work/xdg" ZRTPSHIM_CONFIG=none ZRTPSHIM_LOG=debug
expect "$work/x.err" policy require default
grep -q 'config: none' "$work/x.err" && ok "none: no file" || bad "none not shown"
# ... while without it that file is read, and under HOME when there is no
# XDG_CONFIG_HOME.
shimmed "$work/x2.err" XDG_CONFIG_HOME="$work/xdg"
expect "$work/x2.err" policy opportunistic "config $cfg:1"
mkdir -p "$work/home/.config/zrtpshim"
printf 'log = debug\nhistory = 11\n' >"$work/home/.config/zrtpshim/config"
shimmed "$work/h.err" HOME="$work/home"
expect "$work/h.err" history 11 "config $work/home/.config/zrtpshim/config:2"

# 7. The zrtpshim command finds the state directory where the shim does:
# dir from the file, overridden by ZRTPSHIM_DIR.
printf 'dir = %s\n' "$work/state-cmd" >"$cfg"
shimmed "$work/d.err" XDG_CONFIG_HOME="$work/xdg" ZRTPSHIM_LOG=debug
sdir=$(sed -n 's/.*state dir "\(.*\)".*/\1/p' "$work/d.err")
cdir=$(XDG_CONFIG_HOME="$work/xdg" "$zs" status --json | sed -n 's/.*"dir":"\([^"]*\)".*/\1/p')
[ "$sdir" = "$work/state-cmd" ] && [ "$cdir" = "$sdir" ] &&
	ok "shim and zrtpshim status agree: $cdir" || bad "shim dir '$sdir', status dir '$cdir'"
cdir=$(XDG_CONFIG_HOME="$work/xdg" ZRTPSHIM_DIR="$work/state-env" "$zs" status --json | sed -n 's/.*"dir":"\([^"]*\)".*/\1/p')
[ "$cdir" = "$work/state-env" ] && ok "ZRTPSHIM_DIR overrides the file for the command" ||
	bad "status dir with ZRTPSHIM_DIR: '$cdir'"
exit $fail
