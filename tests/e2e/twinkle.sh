#!/bin/sh
# Issue 12 item 1: Twinkle (twinkle-console, RTP through ccRTP: select,
# FIONREAD, a 1-byte MSG_PEEK recvfrom, recvfrom, on a blocking socket, on
# the thread that also sends) under the shim. Six calls, one after the
# other, on SIP 5220-5226, RTP 12500-12561, ctrl_tcp 4500:
#   0. Twinkle alice -> Twinkle bob, no shim: what a plain call sends;
#   1. the same call, both shimmed;
#   2. shimmed Twinkle alice -> shimmed baresip carol;
#   3. shimmed baresip carol -> shimmed Twinkle bob;
#   4. shimmed Twinkle alice -> linphonec dave (native ZRTP, mandatory);
#   5. linphonec dave -> shimmed Twinkle bob.
# Judged from the capture, the shim logs and what each side recorded:
#   - the same SAS on both sides of each shimmed call;
#   - each way, the SRTP on the wire between the ACK and the BYE is >= 95 %
#     of the 20 ms packets that window holds, and for call 1 also >= 95 % of
#     what call 0 sent the same way;
#   - no cleartext RTP; `zrtpshim verify --keylog` passes;
#   - each side recorded the other's tone (within 3 %, >= 2 s);
#   - every Twinkle exits 0 within 10 s of `quit` (before the fix: the
#     ccRTP thread blocked in recvfrom after the shim ate the only queued
#     datagram, so no RTP at all between two Twinkles, the caller hung
#     joining that thread and the callee crashed on quit).
. "$(dirname "$0")/../interop/lib_linphone.sh"
need twinkle-console baresip

SA=5220 SB=5222 SC=5224 CTRL=4500
RA=12500 RB=12520 RC=12540
cd "$W" || exit 99
tone carol.wav 880 8
tone l660.wav 660 20

# The microphone: an ALSA file plugin reading a FIFO (the null slave has
# no clock), fed a tone at real time.
cat >"$W/pacer.py" <<'EOF'
import math, struct, sys, time
f = open(sys.argv[1], 'wb', buffering=0)
hz, n, t0 = float(sys.argv[2]), 0, time.monotonic()
while True:
    try:
        f.write(b''.join(struct.pack('<h', int(9000 * math.sin(
            2 * math.pi * hz * (n + i) / 8000))) for i in range(160)))
    except BrokenPipeError:   # Twinkle closed its mic: it has quit
        break
    n += 160
    d = t0 + n / 8000 - time.monotonic()
    if d > 0:
        time.sleep(d)
EOF

# twinkle_home DIR USER SIPPORT RTPPORT: HOME for one Twinkle; its speaker
# writes raw s16 8 kHz mono to DIR/spk.raw, its mic reads DIR/mic.fifo.
twinkle_home() {
	rm -rf "$1"
	mkdir -p "$1/.twinkle"
	mkfifo "$1/mic.fifo"
	cat >"$1/.twinkle/twinkle.sys" <<EOF
sip_port=$3
rtp_port=$4
dev_ringtone=alsa:null
dev_speaker=alsa:spk
dev_mic=alsa:mic
validate_audio_dev=no
play_ringtone=no
play_ringback=no
EOF
	cat >"$1/.twinkle/$2.cfg" <<EOF
user_name=$2
user_domain=127.0.0.1
registrar=
register_at_startup=no
pres_publish_startup=no
sip_transport=udp
codecs=g711u
ptime=20
zrtp_enabled=no
speex_dsp_vad=no
speex_dsp_agc=no
speex_dsp_nrd=no
speex_dsp_aec=no
EOF
	cat >"$1/.asoundrc" <<EOF
pcm.mic {
	type file
	slave.pcm "null"
	file "/dev/null"
	infile "$1/mic.fifo"
	format "raw"
}
pcm.spk {
	type file
	slave.pcm "null"
	file "$1/spk.raw"
	format "raw"
}
EOF
}

# twinkle_start NAME USER FD SHIM(0|1) HZ: Twinkle in $W/NAME, its stdin a
# FIFO held open on FD (commands: `echo CMD >&FD`), its mic fed HZ.
twinkle_start() {
	mkfifo "$W/$1.in"
	eval "exec $3<>\"$W/$1.in\""
	bg python3 "$W/pacer.py" "$W/$1/mic.fifo" "$5"
	# Not through bg: an asynchronous command without its own
	# redirection would get /dev/null as stdin (POSIX sh).
	if [ "$4" = 1 ]; then
		env HOME="$W/$1" LD_PRELOAD="$SHIM" ZRTPSHIM_LOG=debug \
			ZRTPSHIM_PROMPTS=${ZRTPSHIM_PROMPTS:-off} \
			ZRTPSHIM_LOG_FILE="$W/$1.log" XDG_STATE_HOME="$W/state" \
			ZRTPSHIM_KEYLOG="$W/keys.log" \
			timeout -k 2 60 twinkle-console "$2.cfg" \
			<"$W/$1.in" >"$W/$1.out" 2>&1 &
	else
		env HOME="$W/$1" timeout -k 2 60 twinkle-console "$2.cfg" \
			<"$W/$1.in" >"$W/$1.out" 2>&1 &
	fi
	BGPID=$!
	E2E_PIDS="$E2E_PIDS $BGPID"
	TW_PID=$BGPID
}

# twinkle_quit NAME PID FD: `quit`, then it must exit 0 within 10 s.
twinkle_quit() {
	echo quit >&"$3"
	_i=0
	while kill -0 "$2" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.2
		_i=$((_i + 1))
	done
	if kill -0 "$2" 2>/dev/null; then
		fail "$1: still running 10 s after quit"
		kill "$2" 2>/dev/null
		wait "$2" 2>/dev/null
	else
		wait "$2"
		_rc=$?
		if [ $_rc -eq 0 ]; then
			pass "$1: exited 0 on quit"
		else
			fail "$1: exit status $_rc on quit"
		fi
	fi
	eval "exec $3>&-"
}

# raw_freq NAME: the tone Twinkle NAME recorded
raw_freq() {
	if [ -s "$W/$1/spk.raw" ]; then
		sox -t raw -r 8000 -e signed-integer -b 16 -c 1 "$W/$1/spk.raw" \
			"$W/$1/spk.wav" && $FREQ "$W/$1/spk.wav"
	else
		echo "0 0"
	fi
}

# heard WHO HZ FREQ SECONDS
heard() {
	if within3 "$3" "$2" && awk -v s="$4" 'BEGIN { exit !(s >= 2) }'; then
		pass "$1 heard $2 Hz: $3 Hz for $4 s"
	else
		fail "$1 did not hear $2 Hz: $3 Hz for $4 s"
	fi
}

# leg_counts CAP PORTA PORTB: per source port, RTP-sized packets (clear
# 180, SRTP 190/184) between the ACK and the BYE, and how many 20 ms
# packets that window holds: lines "<srcport> clear=N srtp=N window=N"
leg_counts() {
	tshark -r "$1" -d "udp.port==$2,rtp" -d "udp.port==$3,rtp" \
		-T fields -e frame.time_relative -e udp.srcport -e udp.dstport \
		-e udp.length -e rtp.version -e sip.Method 2>/dev/null |
	awk -F '\t' -v a="$2" -v b="$3" '
		$6 == "ACK" && ack == "" { ack = $1 }
		$6 == "BYE" && bye == "" { bye = $1 }
		($2 == a && $3 == b) || ($2 == b && $3 == a) {
			n++; t[n] = $1; p[n] = $2; l[n] = $4; v[n] = $5
		}
		END {
			seen[a] = seen[b] = 1
			for (i = 1; i <= n; i++) {
				if (ack == "" || bye == "" || t[i] < ack || t[i] > bye)
					continue
				if (v[i] == 2 && l[i] == 180) clear[p[i]]++
				if (v[i] == 2 && (l[i] == 190 || l[i] == 184)) srtp[p[i]]++
			}
			w = (ack != "" && bye != "") ? int((bye - ack) / 0.02) : 0
			for (q in seen)
				printf "%s clear=%d srtp=%d window=%d\n", q,
				    clear[q], srtp[q], w
		}'
}

# sdp_port CAP SIPPORT: the media port of the first SDP SIPPORT sent
sdp_port() {
	tshark -r "$1" -Y "sdp && udp.srcport==$2" -T fields \
		-e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1
}

# judge_call CALL CAP NAMEA SIPA NAMEB SIPB: SAS, SRTP share, cleartext,
# verify --keylog, for a shimmed call whose logs are $W/NAME.log
judge_call() {
	_pa=$(sdp_port "$2" "$4")
	_pb=$(sdp_port "$2" "$6")
	note "call $1: media ports $3 $_pa, $5 $_pb"
	if [ -z "$_pa" ] || [ -z "$_pb" ]; then
		fail "call $1: no SDP offer/answer in the capture"
		return
	fi
	check_same_sas "$W/$3.log" "$W/$5.log"
	leg_counts "$2" "$_pa" "$_pb" >"$W/counts.$1"
	sed 's/^/  from port /' "$W/counts.$1"
	for _side in "$3:$_pa" "$5:$_pb"; do
		_n=${_side%:*}
		_p=${_side#*:}
		_s=$(awk -v p="$_p" '$1 == p { sub("srtp=", "", $3); print $3 }' "$W/counts.$1")
		_c=$(awk -v p="$_p" '$1 == p { sub("clear=", "", $2); print $2 }' "$W/counts.$1")
		_w=$(awk -v p="$_p" '$1 == p { sub("window=", "", $4); print $4 }' "$W/counts.$1")
		_s=${_s:-0} _c=${_c:-0} _w=${_w:-0}
		if [ "$_w" -gt 100 ] && [ $((_s * 100)) -ge $((_w * 95)) ]; then
			pass "call $1: $_n sent $_s SRTP packets in a $_w-packet call ($((_s * 100 / _w)) %)"
		else
			fail "call $1: $_n sent $_s SRTP packets in a $_w-packet call (want >= 95 %)"
		fi
		if [ "$_c" -eq 0 ]; then
			pass "call $1: no cleartext RTP from $_n"
		else
			fail "call $1: $_c cleartext RTP packets from $_n"
		fi
		eval "SRTP_$_n=$_s"
	done
	if run_verify "$2" --keylog "$W/keys.log"; then
		pass "call $1: zrtpshim verify --keylog: PASS"
	else
		fail "call $1: zrtpshim verify --keylog did not pass"
	fi
}

CAPF="udp and host 127.0.0.1 and (portrange 5220-5225 or portrange 12500-12549)"

# A Twinkle-to-Twinkle call: alice calls bob, 8 s, alice hangs up.
tw_tw() { # CALL SHIM
	twinkle_home "$W/alice" alice $SA $RA
	twinkle_home "$W/bob" bob $SB $RB
	rm -f "$W/alice.log" "$W/bob.log" "$W/alice.in" "$W/bob.in"
	start_cap "$W/call$1.pcap" "$CAPF" 2>>"$W/tcpdump.err"
	twinkle_start bob bob 7 "$2" 660
	BOB=$TW_PID
	twinkle_start alice alice 6 "$2" 440
	ALICE=$TW_PID
	sleep 1
	echo "auto_answer -a on" >&7
	sleep 1
	echo "call sip:bob@127.0.0.1:$SB" >&6
	sleep 9
	echo bye >&6
	sleep 2
	twinkle_quit "call $1: alice (caller)" "$ALICE" 6
	twinkle_quit "call $1: bob (callee)" "$BOB" 7
	stop_cap
}

echo "== call 0: Twinkle -> Twinkle, no shim"
tw_tw 0 0
P0A=$(sdp_port "$W/call0.pcap" $SA)
P0B=$(sdp_port "$W/call0.pcap" $SB)
media_counts "$W/call0.pcap" "${P0A:-0}" "${P0B:-0}" >"$W/counts"
sed 's/^/  plain call, from port /' "$W/counts"
PLAIN_alice=$(field "${P0A:-0}" clear)
PLAIN_bob=$(field "${P0B:-0}" clear)
PLAIN_alice=${PLAIN_alice:-0} PLAIN_bob=${PLAIN_bob:-0}
if [ "$PLAIN_alice" -gt 300 ] && [ "$PLAIN_bob" -gt 300 ]; then
	pass "call 0: the plain call sent $PLAIN_alice and $PLAIN_bob RTP packets"
else
	fail "call 0: the plain call sent only $PLAIN_alice and $PLAIN_bob RTP packets (setup broken?)"
fi
set -- $(raw_freq alice); heard "call 0: alice" 660 "$1" "$2"
set -- $(raw_freq bob); heard "call 0: bob" 440 "$1" "$2"

echo "== call 1: Twinkle -> Twinkle, both shimmed"
tw_tw 1 1
SRTP_alice=0 SRTP_bob=0
judge_call 1 "$W/call1.pcap" alice $SA bob $SB
for n in alice bob; do
	eval "s=\$SRTP_$n p=\$PLAIN_$n"
	if [ "$p" -gt 0 ] && [ $((s * 100)) -ge $((p * 95)) ]; then
		pass "call 1: $n: $s SRTP packets, $p RTP in the plain call"
	else
		fail "call 1: $n: $s SRTP packets, $p RTP in the plain call (want >= 95 %)"
	fi
done
set -- $(raw_freq alice); heard "call 1: alice" 660 "$1" "$2"
set -- $(raw_freq bob); heard "call 1: bob" 440 "$1" "$2"

echo "== call 2: shimmed Twinkle alice -> shimmed baresip carol"
baresip_dir carol carol $SC $CTRL $RC "$W/carol.wav"
twinkle_home "$W/alice" alice $SA $RA
rm -f "$W/alice.log" "$W/carol.log" "$W/alice.in"
start_cap "$W/call2.pcap" "$CAPF" 2>>"$W/tcpdump.err"
bg shimmed carol timeout -k 5 30 baresip -f "$W/carol" -t 16 >"$W/carol.out" 2>&1
CAROL=$BGPID
twinkle_start alice alice 6 1 440
ALICE=$TW_PID
sleep 2
echo "call sip:carol@127.0.0.1:$SC" >&6
sleep 7
echo bye >&6
sleep 2
twinkle_quit "call 2: alice (Twinkle, caller)" "$ALICE" 6
wait $CAROL
stop_cap
judge_call 2 "$W/call2.pcap" alice $SA carol $SC
set -- $(raw_freq alice); heard "call 2: alice (Twinkle)" 880 "$1" "$2"
set -- $(dump_freq "$W/carol/snd"); heard "call 2: carol (baresip)" 440 "$1" "$2"

echo "== call 3: shimmed baresip carol -> shimmed Twinkle bob"
baresip_dir carol3 carol $SC $CTRL $RC "$W/carol.wav"
twinkle_home "$W/bob" bob $SB $RB
rm -f "$W/bob.log" "$W/carol3.log" "$W/bob.in"
start_cap "$W/call3.pcap" "$CAPF" 2>>"$W/tcpdump.err"
twinkle_start bob bob 7 1 660
BOB=$TW_PID
sleep 1
echo "auto_answer -a on" >&7
sleep 1
# carol's 8 s file ending ends the call (baresip sends the BYE)
shimmed carol3 timeout -k 5 30 baresip -f "$W/carol3" \
	-e "/dial sip:bob@127.0.0.1:$SB" -t 11 >"$W/carol3.out" 2>&1
sleep 1
twinkle_quit "call 3: bob (Twinkle, callee)" "$BOB" 7
stop_cap
judge_call 3 "$W/call3.pcap" carol3 $SC bob $SB
set -- $(raw_freq bob); heard "call 3: bob (Twinkle)" 880 "$1" "$2"
set -- $(dump_freq "$W/carol3/snd"); heard "call 3: carol (baresip)" 660 "$1" "$2"


# Twinkle and a native ZRTP peer: the shim's SAS is the one linphonec
# prints, Twinkle's media leaves as SRTP (>= 95 %, none in clear), and
# linphonec's SRTP authenticates with the keys the shim derived.
SD=5226 RD=12560
CAPL="udp and host 127.0.0.1 and (portrange 5220-5226 or portrange 12500-12561)"
judge_lpc() { # CALL CAP TWNAME TWSIP LPCNAME
	_pa=$(sdp_port "$2" "$4")
	_pb=$(sdp_port "$2" "$SD")
	note "call $1: media ports $3 $_pa, linphonec $_pb"
	if [ -z "$_pa" ] || [ -z "$_pb" ]; then
		fail "call $1: no SDP offer/answer in the capture"
		return
	fi
	sas_check "$W/$3.log" "$5"
	leg_counts "$2" "$_pa" "$_pb" >"$W/counts.$1"
	_s=$(awk -v p="$_pa" '$1 == p { sub("srtp=", "", $3); print $3 }' "$W/counts.$1")
	_w=$(awk -v p="$_pa" '$1 == p { sub("window=", "", $4); print $4 }' "$W/counts.$1")
	_s=${_s:-0} _w=${_w:-0}
	if [ "$_w" -gt 100 ] && [ $((_s * 100)) -ge $((_w * 95)) ]; then
		pass "call $1: $3 (Twinkle) sent $_s SRTP packets in a $_w-packet call"
	else
		fail "call $1: $3 (Twinkle) sent $_s SRTP packets in a $_w-packet call (want >= 95 %)"
	fi
	dir_counts "$2" "$W/keys.log" "$_pa" "$_pb" >/dev/null
	check_shim_clean 150
	check_lpc_srtp 150
}

echo "== call 4: shimmed Twinkle alice -> linphonec dave (ZRTP mandatory)"
linphone_dir dave dave $SD $RD
linphone_rc dave
twinkle_home "$W/alice" alice $SA $RA
rm -f "$W/alice.log" "$W/alice.in"
start_cap "$W/call4.pcap" "$CAPL" 2>>"$W/tcpdump.err"
bg linphonec_run dave 25 "play $W/l660.wav
record $W/dave/rec4.wav
@14
quit" -a
LPID=$BGPID
twinkle_start alice alice 6 1 440
ALICE=$TW_PID
sleep 3
echo "call sip:dave@127.0.0.1:$SD" >&6
sleep 8
echo bye >&6
sleep 2
twinkle_quit "call 4: alice (Twinkle, caller)" "$ALICE" 6
wait $LPID
stop_cap
judge_lpc 4 "$W/call4.pcap" alice $SA dave
set -- $(raw_freq alice); heard "call 4: alice (Twinkle)" 660 "$1" "$2"
check_tone "$W/dave/rec4.wav" 440 "call 4: linphonec"

echo "== call 5: linphonec dave -> shimmed Twinkle bob"
linphone_rc dave
twinkle_home "$W/bob" bob $SB $RB
rm -f "$W/bob.log" "$W/bob.in" "$W/dave/out"
start_cap "$W/call5.pcap" "$CAPL" 2>>"$W/tcpdump.err"
twinkle_start bob bob 7 1 440
BOB=$TW_PID
sleep 1
echo "auto_answer -a on" >&7
sleep 1
linphonec_run dave 25 "play $W/l660.wav
record $W/dave/rec5.wav
call sip:bob@127.0.0.1:$SB
@10
terminate
@1
quit"
sleep 1
twinkle_quit "call 5: bob (Twinkle, callee)" "$BOB" 7
stop_cap
judge_lpc 5 "$W/call5.pcap" bob $SB dave
set -- $(raw_freq bob); heard "call 5: bob (Twinkle)" 660 "$1" "$2"
check_tone "$W/dave/rec5.wav" 440 "call 5: linphonec"
finish
