#!/bin/sh
# Issue item 5: the same two clients (sipp UAC and UAS under the shim,
# default settings: one state directory, each process its own cache slot)
# call three times; every client process exits between calls, so what
# carries over is only what is in the cache files.
#   call 1: no continuity yet (first contact);
#   call 2: both sides report rs1 continuity ("continuity=yes");
#   then each user marks the SAS verified with `zrtpshim cache verify`
#   (the documented way: zrtpshim cache --help);
#   call 3: both sides report verified=yes, and the status files say so.
. "$(dirname "$0")/lib.sh"
need sipp

SIPA=5590 SIPB=5591 MA=16500 MB=16400
cd "$W" || exit 99
tone t.wav 440 3
sox t.wav -t raw -e u-law -r 8000 -c 1 audio.ulaw
# The example scenarios with a 3 s call instead of 7 s.
sed 's/pause milliseconds="7000"/pause milliseconds="3500"/' \
	"$E2E_SRC/examples/sipp/uac.xml" >uac.xml
cp "$E2E_SRC/examples/sipp/uas.xml" uas.xml

call() { # N
	start_cap "$W/call$1.pcap" "udp and host 127.0.0.1 and (port $SIPA or port $SIPB or portrange $MB-$((MB + 1)) or portrange $MA-$((MA + 1)))" 2>>"$W/tcpdump.err"
	bg shimmed "uas$1" timeout -k 5 25 sipp -sf uas.xml -i 127.0.0.1 -p $SIPA \
		-bind_local -mi 127.0.0.1 -mp $MA -cp 8992 -m 1 -nostdin >"$W/uas$1.out" 2>&1
	uas=$BGPID
	sleep 0.5
	shimmed "uac$1" timeout -k 5 25 sipp 127.0.0.1:$SIPA -sf uac.xml -i 127.0.0.1 \
		-p $SIPB -bind_local -mi 127.0.0.1 -mp $MB -cp 8993 -m 1 -nostdin \
		>"$W/uac$1.out" 2>&1 || fail "call $1: sipp UAC exited $?"
	wait $uas || fail "call $1: sipp UAS exited $?"
	stop_cap
}
secure_line() { grep "event: secure" "$1" | tail -1; }
has() { # LOG WORD
	secure_line "$1" | grep -q " $2"
}

call 1
for s in uac1 uas1; do
	if secure_line "$W/$s.log" | grep -q "continuity=no"; then
		pass "call 1, $s: secure, no continuity yet (first contact)"
	else
		fail "call 1, $s: want a secure stream without continuity: '$(secure_line "$W/$s.log")'"
	fi
done

call 2
for s in uac2 uas2; do
	if has "$W/$s.log" "continuity=yes"; then
		pass "call 2, $s: rs1 continuity: $(secure_line "$W/$s.log" | sed 's/.*event: //')"
	else
		fail "call 2, $s: no rs1 continuity: '$(secure_line "$W/$s.log")'"
	fi
done

# Both users read the SAS aloud; it matched; each marks it verified.
SAS=$(sas_of "$W/uac2.log")
ZA=$(zid_of "$W/uas2.log")     # the UAC's ZID, as the UAS saw it
ZB=$(zid_of "$W/uac2.log")
note "SAS $SAS; ZIDs: uac $ZA, uas $ZB"
export ZRTPSHIM_DIR="$W/state/zrtpshim"
if "$ZS" cache --help >/dev/null 2>&1; then
	"$ZS" cache verify "$ZA" "$ZB" >"$W/cache.out" 2>&1 ||
		fail "zrtpshim cache verify exited $?: $(cat "$W/cache.out")"
	sed 's/^/  /' "$W/cache.out"
	"$ZS" cache list 2>&1 | sed 's/^/  /'
else
	fail "zrtpshim cache is not available ($("$ZS" cache --help 2>&1 | head -1)): tools/cache_cmd.c is not wired into tools/zrtpshim.c"
fi
unset ZRTPSHIM_DIR

call 3
for s in uac3 uas3; do
	if has "$W/$s.log" "verified=yes" && has "$W/$s.log" "continuity=yes"; then
		pass "call 3, $s: the SAS verified in call 2 persisted: $(secure_line "$W/$s.log" | sed 's/.*event: //')"
	else
		fail "call 3, $s: want verified=yes and continuity=yes: '$(secure_line "$W/$s.log")'"
	fi
done
if python3 - "$W/state/zrtpshim/status" "$(sed -n 's/^zrtpshim\[\([0-9]*\)\].*event: secure.*/\1/p' "$W/uac3.log" | tail -1)" <<'EOF'
import json, sys
d = json.load(open('%s/%s.json' % (sys.argv[1], sys.argv[2])))
s = [x for x in d['streams'] + d.get('history', []) if x['sas']]
print('  status of pid %s: %s' % (sys.argv[2], ', '.join('%s %s sas=%s verified=%s continuity=%s' % (x['name'], x['phase'], x['sas'], x['verified'], x['continuity']) for x in s)))
sys.exit(0 if s and s[-1]['verified'] and s[-1]['continuity'] else 1)
EOF
then
	pass "call 3: the status file shows the stream verified"
else
	fail "call 3: the status file does not show the stream verified"
fi
finish
