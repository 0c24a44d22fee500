#!/bin/sh
# Issue 13, "What it must show" 1 (G.711), 2, 4 (matched) and 9: spoken
# prompts on narrowband calls, where the recogniser's 16 kHz model cannot
# hear them, found in what each client recorded by matching the clips
# (tests/e2e/clipmatch: the clip sequence the shim composes for that
# prompt and SAS, in order, through the G.711 round trip and under the
# peer's tone).
#
# baresip alice calls baresip bob, both under the shim with prompts on
# (each with its own state directory, as two users):
#   pcmu, pcma  each side's recording holds the "secure call, code: ..."
#               sequence of that call's SAS, and not the one of another
#               SAS (one character changed); the delay from SECURE (the
#               recording starts when the first packet is delivered,
#               which is right after SECURE: nothing is delivered before)
#               to the prompt is printed;
#   (pcmu)      the peer's tone is present under the prompt: bob's
#               660 Hz in alice's recording while the prompt plays,
#               measured against the same tone after the prompt;
#   mismatch    bob forgets alice (`zrtpshim cache forget`): alice's
#               recording holds the mismatch prompt with the code;
#   clear       carol without the shim, alice opportunistic: "not
#               encrypted" over carol's audio;
#   nozrtp      carol without the shim, alice require: "cannot be
#               encrypted", in packets that carry nothing of carol;
#   pin         bob without the shim: the pin alarm (alice opportunistic,
#               and nothing leaves alice in clear: the capture).
# Ports: SIP 45030-45033, ctrl_tcp 45040-45041, RTP 45120-45139.
. "$(dirname "$0")/lib.sh"
need baresip
CM=$E2E_BUILD/tests/e2e/clipmatch
[ -x "$CM" ] || { echo "ERROR: $CM not built (make check builds it)"; exit 99; }
export ZRTPSHIM_PROMPTS=code
export ZRTPSHIM_PROMPTS_DIR="${ZRTPSHIM_PROMPTS_DIR:-$E2E_BUILD/data/prompts}"
PACKS=$ZRTPSHIM_PROMPTS_DIR
[ -f "$PACKS/clips-8000.idx" ] || { echo "ERROR: no prompt clips in $PACKS"; exit 99; }

SA=45030 SB=45032
cd "$W" || exit 99
tone a8.wav 440 8
tone b8.wav 660 12
tone a14.wav 440 14
tone b14.wav 660 18
LEN=8

# call TAG PCMU|PCMA [plain [USER]]: alice calls bob (or USER); alice's
# file of $LEN s (8 or 14) ending ends the call.
call() {
	_callee=${4:-bob}
	baresip_dir "$1-alice" alice $SA 45040 45120 "$W/a$LEN.wav"
	baresip_dir "$1-bob" $_callee $SB 45041 45130 "$W/b$LEN.wav"
	for d in "$1-alice" "$1-bob"; do
		sed -i "s#audio_codecs=PCMU#audio_codecs=$2#" "$W/$d/accounts"
	done
	start_cap "$W/$1.pcap" "udp and host 127.0.0.1 and (portrange 45030-45033 or portrange 45120-45139)" 2>"$W/tcpdump-$1.err"
	if [ "${3:-}" = plain ]; then
		bg timeout -k 2 $((LEN + 17)) baresip -f "$W/$1-bob" -t $((LEN + 8)) >"$W/$1-bob.out" 2>&1
	else
		bg shimmed "$1-bob" env ZRTPSHIM_DIR="$W/state-bob" \
			timeout -k 2 $((LEN + 17)) baresip -f "$W/$1-bob" -t $((LEN + 8)) >"$W/$1-bob.out" 2>&1
	fi
	_bob=$BGPID
	sleep 1
	shimmed "$1-alice" env ZRTPSHIM_DIR="$W/state-alice" timeout -k 2 $((LEN + 17)) \
		baresip -f "$W/$1-alice" -e "/dial sip:$_callee@127.0.0.1:$SB" \
		-t $((LEN + 4)) >"$W/$1-alice.out" 2>&1
	wait $_bob
	stop_cap
}
rec() { ls "$W/$1-$2/snd"/dump-*-dec.wav 2>/dev/null | head -1; }

# found TAG WHO KIND SAS: the sequence is in WHO's recording; its start
# (ms) in $W/TAG-WHO.at
found() {
	_r=$(rec "$1" "$2")
	if [ -n "$_r" ] && "$CM" find "$_r" "$PACKS" "$3" "$4" >"$W/$1-$2.cm" 2>&1; then
		sed -n 's/.* at \([0-9]*\)[.0-9]* ms.*/\1/p' "$W/$1-$2.cm" | head -1 >"$W/$1-$2.at"
		pass "$1: $2's recording holds the $3 prompt${4:+ with code $4} (at $(cat "$W/$1-$2.at") ms)"
	else
		fail "$1: $2's recording does not hold the $3 prompt${4:+ with code $4}: $(tail -1 "$W/$1-$2.cm" 2>/dev/null)"
	fi
}
# absent TAG WHO KIND SAS: the sequence is NOT in WHO's recording
absent() {
	_r=$(rec "$1" "$2")
	if [ -n "$_r" ] && ! "$CM" find "$_r" "$PACKS" "$3" "$4" >"$W/$1-$2.cm-not" 2>&1; then
		pass "$1: $2's recording does not hold the $3 prompt with another code ($4)"
	else
		fail "$1: $2's recording matches the $3 prompt with another code ($4)"
	fi
}
# other SAS: the same one with its first character changed
other_sas() {
	_f=$(printf %s "$1" | cut -c1)
	_n=y
	[ "$_f" = y ] && _n=b
	printf '%s%s' "$_n" "$(printf %s "$1" | cut -c2-)"
}

# delay TAG WHO (item 9, printed, not asserted): SECURE to the prompt.
# Nothing reaches the client before SECURE, so its recording starts with
# the first packet delivered after it: the delay is the time from the
# last ZRTP message on the wire (Conf2ACK, or the Confirm2 the first SRTP
# acknowledges) to the first media packet toward WHO, plus where the
# prompt starts in WHO's recording.
delay() {
	_p=$(tshark -r "$W/$1.pcap" -Y "sdp && udp.srcport==$([ $2 = alice ] && echo $SA || echo $SB)" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
	_z=$(tshark -r "$W/$1.pcap" -Y zrtp -T fields -e frame.time_relative 2>/dev/null | tail -1)
	_m=$(tshark -r "$W/$1.pcap" -Y "udp.dstport==${_p:-0} && !zrtp && frame.time_relative > ${_z:-0}" -T fields -e frame.time_relative 2>/dev/null | head -1)
	_d=$(awk -v z="${_z:-0}" -v m="${_m:-0}" -v a="$(cat "$W/$1-$2.at")" 'BEGIN { printf "%d", (m - z) * 1000 + a }')
	note "$1: delay from SECURE to the prompt heard by $2: $_d ms (last ZRTP at ${_z}s, first media toward $2 at ${_m}s, prompt at $(cat "$W/$1-$2.at") ms into the recording; the shim's log: $(grep -o 'prompt secure.*after it was asked for' "$W/$1-$2.log" | sed 's/.*(//')"
}

for codec in PCMU PCMA; do
	t=$(echo $codec | tr A-Z a-z)
	call $t $codec
	sas=$(sas_of "$W/$t-alice.log")
	check_same_sas "$W/$t-alice.log" "$W/$t-bob.log"
	for who in alice bob; do
		found $t $who secure "$sas"
		absent $t $who secure "$(other_sas "$sas")"
		[ -s "$W/$t-$who.at" ] && delay $t $who
	done
done

# The peer under the prompt (item 2): bob's 660 Hz in alice's PCMU
# recording while the prompt plays, against the same tone after it.
_len=$("$CM" len "$PACKS" 8000 secure "$(sas_of "$W/pcmu-alice.log")" 2>/dev/null)
if [ -s "$W/pcmu-alice.at" ] && [ -n "$_len" ]; then
	set -- $(python3 "$E2E_SRC/tests/e2e/tone_under.py" "$(rec pcmu alice)" 660 \
		"$(cat "$W/pcmu-alice.at")" "$_len")
	note "660 Hz in alice's recording: $1 during the prompt, $2 after it (ratio $3)"
	if awk -v r="$3" -v a="$2" 'BEGIN { exit !(a > 500 && r >= 0.05 && r <= 0.5) }'; then
		pass "pcmu: bob's tone stays audible under the prompt (at $3 of its level)"
	else
		fail "pcmu: bob's tone is not heard under the prompt (ratio $3, want 0.05 .. 0.5)"
	fi
else
	fail "pcmu: no prompt position or length to measure the tone under it"
fi

# mismatch: bob forgets alice; alice still holds rs1 for bob
zid_alice=$(zid_of "$W/pcma-bob.log")
"$ZS" cache forget --dir "$W/state-bob" "$zid_alice" >"$W/forget.out" 2>&1 ||
	fail "zrtpshim cache forget: $(cat "$W/forget.out")"
LEN=14
call mismatch PCMU
grep -q 'event: mismatch ' "$W/mismatch-alice.log" && pass "mismatch: alice's shim saw the cache mismatch" ||
	fail "mismatch: no mismatch event in alice's log"
found mismatch alice mismatch "$(sas_of "$W/mismatch-alice.log")"

# carol has no shim and never spoke ZRTP with alice
export ZRTPSHIM_POLICY=opportunistic
call clear PCMU plain carol
unset ZRTPSHIM_POLICY
found clear alice clear ""
export ZRTPSHIM_POLICY=require
call nozrtp PCMU plain carol
unset ZRTPSHIM_POLICY
found nozrtp alice cannot_encrypt ""
# bob spoke ZRTP with alice before: pinned. Without his shim, even with
# alice opportunistic: the alarm, and nothing in clear from alice.
export ZRTPSHIM_POLICY=opportunistic
call pin PCMU plain
unset ZRTPSHIM_POLICY
grep -q 'event: pin-alarm ' "$W/pin-alice.log" && pass "pin: the pin-alarm event" || fail "pin: no pin-alarm event"
found pin alice pin_alarm ""
PA=$(tshark -r "$W/pin.pcap" -Y "sdp && udp.srcport==$SA" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
n=$(tshark -r "$W/pin.pcap" -Y "udp.srcport==${PA:-0} && !zrtp" 2>/dev/null | wc -l)
if [ -n "$PA" ] && [ "$n" -eq 0 ]; then
	pass "pin: nothing but ZRTP left alice's media port $PA"
else
	fail "pin: $n packets other than ZRTP left alice's media port '${PA}'"
fi
finish
