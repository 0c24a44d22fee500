#!/bin/sh
# Issue 13, "what it must show" item 3 (without the spoken cues): the
# keypad. Two baresips under the shim, each with its own state directory
# (its own cache); bob answers, alice calls, three calls:
#   call 1: alice sends the confirm sequence *1# as RFC 4733 events
#     (baresip's ctrl_tcp "sndcode"): alice's shim logs the match, emits
#     "event: verified", and `zrtpshim cache list` in alice's state shows
#     bob's ZID verified; bob's baresip received the events (its ctrl_tcp
#     reports CALL_DTMF_START for * 1 #), and the capture holds them as
#     SRTP (payload type telephone-event) that `zrtpshim verify --keylog`
#     authenticates;
#   call 2: both audio sources carry the tones of *1# (in-band, G.711):
#     bob's shim matches them (by in-band tone) and bob's cache shows
#     alice verified; bob's recording holds alice's tones (the DTMF still
#     reaches the peer);
#   call 3: both sides log verified=yes: each confirmed on its own side,
#     and the engine says yes only with its own cache's flag and the V
#     flag in the peer's Confirm (RFC 6189 §5.7), so both Confirms carried
#     it (in call 2, alice alone had confirmed: verified=no there); then
#     alice withdraws (*9#): her cache no longer has bob verified.
# Calls 1 and 3 have spoken prompts on (calls 2's recordings are judged
# for DTMF tones): in call 1 alice's recording holds the "verified" cue
# after her *1#; in call 3 both recordings hold the short "secure,
# verified" cue and not the code, and alice's the "confirmation
# withdrawn" cue after her *9# (tests/e2e/clipmatch, G.711).
# Before call 1, neither cache has the peer verified (the test fails
# without the keypad).
. "$(dirname "$0")/lib.sh"
need baresip

SA=44010 SB=44020 CA=44040 CB=44041 RA=44100 RB=44200
DTMF="python3 $E2E_SRC/tests/e2e/dtmf.py"
cd "$W" || exit 99
baresip_dir alice alice $SA $CA $RA "$W/alice.wav"
baresip_dir bob bob $SB $CB $RB "$W/bob.wav"
mkdir -p "$W/astate" "$W/bstate"

# listen PORT SECONDS OUT: what baresip's ctrl_tcp reports (its events),
# one JSON per line
listen() {
	python3 - "$@" <<'PY'
import socket, sys, time
end = time.time() + float(sys.argv[2])
out = open(sys.argv[3], "w")
s = None
while s is None and time.time() < end:
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
    except OSError:
        time.sleep(0.2)
if s is None:
    sys.exit(0)
buf = b""
s.settimeout(0.5)
while time.time() < end:
    try:
        c = s.recv(4096)
    except socket.timeout:
        continue
    except OSError:
        break
    if not c:
        break
    buf += c
    while b":" in buf:
        n, rest = buf.split(b":", 1)
        if not n.isdigit() or len(rest) < int(n) + 1:
            break
        out.write(rest[:int(n)].decode("utf-8", "replace") + "\n")
        out.flush()
        buf = rest[int(n) + 1:]
PY
}
wait_log() { # FILE PATTERN SECONDS
	_i=0
	while [ $_i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
cache_list() { # STATE-DIR
	"$ZS" cache list --dir "$1" 2>&1
}
# verified_in STATE-DIR ZID: the cache there lists peer ZID as verified
# ("peer ZID  verified yes ...")
verified_in() {
	cache_list "$1" | grep -i "peer $2 " | grep -q "verified yes"
}

# call N CODE: bob answers, alice dials; CODE: what alice's keypad sends
# by RFC 4733 events once the call is secure ("" none)
call() {
	_n=$1 _code=$2
	start_cap "$W/call$_n.pcap" "udp and host 127.0.0.1 and (port $SA or port $SB or portrange $RA-$((RA + 9)) or portrange $RB-$((RB + 9)))" 2>>"$W/tcpdump.err"
	rm -rf "$W/alice/snd" "$W/bob/snd"
	mkdir -p "$W/alice/snd" "$W/bob/snd"
	bg shimmed "bob$_n" env ZRTPSHIM_DIR="$W/bstate" timeout -k 5 22 \
		baresip -f "$W/bob" -t 18 >"$W/bob$_n.out" 2>&1
	_bob=$BGPID
	bg listen $CB 17 "$W/bob$_n.events"
	_lis=$BGPID
	sleep 1
	bg shimmed "alice$_n" env ZRTPSHIM_DIR="$W/astate" timeout -k 5 20 \
		baresip -f "$W/alice" -e "/dial sip:bob@127.0.0.1:$SB" -t 15 \
		>"$W/alice$_n.out" 2>&1
	_alice=$BGPID
	if [ -n "$_code" ]; then
		if wait_log "$W/alice$_n.log" "event: secure" 8; then
			sleep 1
			ctrl $CA sndcode "$_code"
		else
			fail "call $_n: alice's stream did not become secure"
		fi
	fi
	wait $_alice
	wait $_bob
	wait $_lis
	stop_cap
}
secure_line() { grep "event: secure" "$1" | tail -1; }

# --- call 1: the confirm sequence as RFC 4733 events --------------------------
tone alice.wav 440 9
tone bob.wav 660 11
export ZRTPSHIM_PROMPTS=code
export ZRTPSHIM_PROMPTS_DIR="${ZRTPSHIM_PROMPTS_DIR:-$E2E_BUILD/data/prompts}"
CM=$E2E_BUILD/tests/e2e/clipmatch
# cue N WHO KIND [SAS] [not]: WHO's recording of call N holds (or not) it
cue() {
	_f=$(ls "$W/$2/snd"/dump-*-dec.wav 2>/dev/null | head -1)
	cp "$_f" "$W/$2$1.wav" 2>/dev/null
	if [ -n "$_f" ] && "$CM" find "$_f" "$ZRTPSHIM_PROMPTS_DIR" "$3" "$4" >"$W/$2$1-$3.cm" 2>&1; then
		[ "${5:-}" = not ] && fail "call $1: $2's recording holds the $3 prompt ${4:+($4)}" ||
			pass "call $1: $2's recording holds the $3 prompt ${4:+($4)}: $(cat "$W/$2$1-$3.cm")"
	else
		[ "${5:-}" = not ] && pass "call $1: $2's recording does not hold the $3 prompt ${4:+($4)}" ||
			fail "call $1: $2's recording does not hold the $3 prompt ${4:+($4)}: $(tail -1 "$W/$2$1-$3.cm")"
	fi
}
call 1 '*1#'
unset ZRTPSHIM_PROMPTS
cue 1 alice verified ""
check_same_sas "$W/alice1.log" "$W/bob1.log"
ZB=$(zid_of "$W/alice1.log")   # bob's ZID, as alice saw it
ZA=$(zid_of "$W/bob1.log")
note "ZIDs: alice $ZA, bob $ZB"
if grep -q "keypad: \*1# (by telephone-event)" "$W/alice1.log"; then
	pass "call 1: alice's shim matched *1# from telephone-events: $(grep -m1 'keypad: \*1#' "$W/alice1.log" | sed 's/.*media //')"
else
	fail "call 1: alice's shim did not match *1# from telephone-events"
fi
if grep -q "event: verified .*peer-zid=$ZB" "$W/alice1.log"; then
	pass "call 1: alice: event verified for bob's ZID"
else
	fail "call 1: alice: no 'event: verified' for $ZB"
fi
cache_list "$W/astate" | sed 's/^/  alice cache: /'
if [ -n "$ZB" ] && verified_in "$W/astate" "$ZB"; then
	pass "call 1: alice's cache has bob ($ZB) verified"
else
	fail "call 1: alice's cache does not show bob verified"
fi
if [ -n "$ZA" ] && verified_in "$W/bstate" "$ZA"; then
	fail "call 1: bob's cache has alice verified, but bob pressed nothing"
else
	pass "call 1: bob's cache does not (yet) have alice verified"
fi
# The DTMF still reached bob: his baresip got the events, decrypted.
got=$(grep -o '"type":"CALL_DTMF_START"[^}]*' "$W/bob1.events" | sed -n 's/.*"param":"\([^"]*\)".*/\1/p' | tr -d '\n')
if [ "$got" = '*1#' ]; then
	pass "call 1: bob's baresip received the DTMF events *1#"
else
	note "bob's events: $(grep -c . "$W/bob1.events" 2>/dev/null) lines: $(grep DTMF "$W/bob1.events" | head -5)"
	fail "call 1: bob's baresip did not receive *1# (got '$got')"
fi
PA=$(tshark -r "$W/call1.pcap" -Y "sdp && udp.srcport==$SA" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
TE=$(tshark -r "$W/call1.pcap" -Y "sdp && udp.srcport==$SB" -T fields -e sdp.media_attr 2>/dev/null | tr ',' '\n' | sed -n 's/^rtpmap:\([0-9]*\) telephone-event.*/\1/p' | head -1)
nte=$(tshark -r "$W/call1.pcap" -d "udp.port==$PA,rtp" -Y "udp.srcport==$PA && rtp.p_type==${TE:-101}" 2>/dev/null | wc -l)
note "alice's media port $PA, telephone-event payload type ${TE:-?}: $nte packets of it on the wire"
if [ "$nte" -ge 3 ]; then
	pass "call 1: $nte telephone-event packets left alice (as SRTP)"
else
	fail "call 1: no telephone-event packets from alice on the wire ($nte)"
fi
if run_verify "$W/call1.pcap" --keylog "$W/keys.log"; then
	pass "call 1: zrtpshim verify --keylog: every packet authenticates"
else
	fail "call 1: zrtpshim verify --keylog did not pass"
fi
if grep -q "keypad: no in-band tones looked for: both SDPs have telephone-event" "$W/alice1.log" &&
   grep -q "keypad: no in-band tones looked for: both SDPs have telephone-event" "$W/bob1.log"; then
	pass "call 1: telephone-event negotiated: neither shim looks for in-band tones (ZRTPSHIM_INBAND=auto)"
else
	fail "call 1: want both shims to say they do not look for in-band tones (telephone-event negotiated)"
fi

# --- call 2: in-band tones of *1# in both audio sources ------------------------
$DTMF gen alice.wav 440 9 '*1#' 4.5
$DTMF gen bob.wav 660 11 '*1#' 5
# baresip negotiates telephone-event, with which the shim by default does
# not look for tones (ZRTPSHIM_INBAND=auto, checked after call 1); these
# clients send tones anyway, so: always
export ZRTPSHIM_INBAND=always
call 2 ''
unset ZRTPSHIM_INBAND
if grep -q "keypad: \*1# (by in-band tone)" "$W/bob2.log"; then
	pass "call 2: bob's shim matched *1# from in-band tones: $(grep -m1 'keypad: \*1#' "$W/bob2.log" | sed 's/.*media //')"
else
	fail "call 2: bob's shim did not match *1# from in-band tones"
fi
if grep -q "keypad: \*1# (by in-band tone)" "$W/alice2.log"; then
	pass "call 2: alice's shim matched *1# from in-band tones too"
else
	fail "call 2: alice's shim did not match *1# from in-band tones"
fi
# Alice's cache had bob verified since call 1, but verified=yes needs the
# peer's V flag too (RFC 6189 §5.7), and bob had not confirmed when the
# Confirms of call 2 went out.
if secure_line "$W/alice2.log" | grep -q " verified=no"; then
	pass "call 2, alice: verified=no while only she has confirmed (bob's Confirm has no V flag)"
else
	fail "call 2, alice: want verified=no before bob confirmed: '$(secure_line "$W/alice2.log")'"
fi
cache_list "$W/bstate" | sed 's/^/  bob cache: /'
if [ -n "$ZA" ] && verified_in "$W/bstate" "$ZA"; then
	pass "call 2: bob's cache has alice ($ZA) verified"
else
	fail "call 2: bob's cache does not show alice verified"
fi
for side in bob:alice alice:bob; do
	who=${side%%:*} from=${side#*:}
	f=$(ls "$W/$who/snd"/dump-*-dec.wav 2>/dev/null | head -1)
	heard=$([ -n "$f" ] && $DTMF keys "$f")
	if [ "$heard" = '*1#' ]; then
		pass "call 2: $who's recording holds $from's tones *1#"
	else
		fail "call 2: $who's recording does not hold $from's tones *1# (heard '$heard')"
	fi
done

# --- call 3: both confirmed: verified=yes on both sides -------------------------
tone alice.wav 440 7
tone bob.wav 660 9
export ZRTPSHIM_PROMPTS=code
call 3 '*9#'
unset ZRTPSHIM_PROMPTS
for who in alice bob; do
	cue 3 $who secure_verified ""
	cue 3 $who secure "$(sas_of "$W/${who}3.log")" not
done
cue 3 alice unverified ""
for s in alice3 bob3; do
	if secure_line "$W/$s.log" | grep -q " verified=yes"; then
		pass "call 3, $s: $(secure_line "$W/$s.log" | sed 's/.*event: //')"
	else
		fail "call 3, $s: want verified=yes: '$(secure_line "$W/$s.log")'"
	fi
done
# ...and then alice withdraws her confirmation (*9#, RFC 4733).
if grep -q "event: unverified .*peer-zid=$ZB" "$W/alice3.log" &&
   ! verified_in "$W/astate" "$ZB" && verified_in "$W/bstate" "$ZA"; then
	pass "call 3: alice withdrew (*9#): her cache no longer has bob verified; bob's still has alice"
else
	fail "call 3: alice's *9# did not clear bob's flag in her cache alone"
fi
cache_list "$W/astate" | sed 's/^/  alice cache: /'
finish
