#!/bin/sh
# Issue 12 item 4, call flows pinned as tests: codecs and media layouts.
# baresip alice calls baresip bob, both under the shim, four times:
#   opus   audio_codecs=opus/48000/2 (a 2-channel 48 kHz source WAV)
#   g722   audio_codecs=G722/16000/1 (16 kHz mono)
#   mux    PCMU with rtcp_mux yes: RTP and RTCP on one port
#   video  PCMU + VP8 (fakevideo source): two m-lines; the second is a
#          Multistream stream for the shim
# Each: the same SAS in both logs; each side heard the other's tone
# (sndfile's dump of the decoded audio); zrtpshim verify --keylog --json:
# 0 rtp_clear + rtcp_clear + rtp_unknown + rtcp_unknown over all
# directions, no auth_fail, no no_key, exit 0, SRTP (>= 100) in every
# direction (video: on both m-lines, and two secure streams in each log).
# Mutation: the mux flow once more with a plain bob and alice
# opportunistic: the same no-cleartext check must fail.
# Ports: SIP 5286-5289, RTP 13060-13079, ctrl_tcp 4523-4524.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"
need baresip
for m in opus g722 vp8 fakevideo; do
	[ -f /usr/lib/baresip/modules/$m.so ] || skip "baresip module $m.so is not installed"
done

cd "$W" || exit 99
sox -n -r 48000 -c 2 -b 16 -e signed-integer a-opus.wav synth 6 sine 440 vol 0.3
sox -n -r 48000 -c 2 -b 16 -e signed-integer b-opus.wav synth 10 sine 660 vol 0.3
sox -n -r 16000 -c 1 -b 16 -e signed-integer a-g722.wav synth 6 sine 440 vol 0.3
sox -n -r 16000 -c 1 -b 16 -e signed-integer b-g722.wav synth 10 sine 660 vol 0.3
tone a-pcmu.wav 440 6
tone b-pcmu.wav 660 10

# call TAG AWAV BWAV CODEC EXTRA_CONFIG EXTRA_ACCOUNT [plain]: alice (SIP
# 5286, RTP 13060-9) calls bob (5288, 13070-9); alice's file (6 s) ending
# ends the call
call() {
	baresip_dir "$1-alice" alice 5286 4523 13060 "$W/$2"
	baresip_dir "$1-bob" bob 5288 4524 13070 "$W/$3"
	for d in "$1-alice" "$1-bob"; do
		printf '%b' "$5" >>"$W/$d/config"
		[ "$1" = mux ] || [ "$1" = mut ] && sed -i 's/^rtcp_mux.*/rtcp_mux\t\tyes/' "$W/$d/config"
		sed -i "s#audio_codecs=PCMU#audio_codecs=$4$6#" "$W/$d/accounts"
	done
	start_cap "$W/$1.pcap" "udp and host 127.0.0.1 and (portrange 5286-5289 or portrange 13060-13079)" 2>"$W/tcpdump-$1.err"
	if [ "${7:-}" = plain ]; then
		bg timeout -k 2 20 baresip -f "$W/$1-bob" -t 13 >"$W/$1-bob.out" 2>&1
	else
		bg shimmed "$1-bob" timeout -k 2 20 baresip -f "$W/$1-bob" -t 13 >"$W/$1-bob.out" 2>&1
	fi
	_bob=$BGPID
	sleep 1
	shimmed "$1-alice" timeout -k 2 20 baresip -f "$W/$1-alice" \
		-e "/dial sip:bob@127.0.0.1:5288" -t 10 >"$W/$1-alice.out" 2>&1
	wait $_bob
	stop_cap
}
heard() { # TAG WHO HZ
	set -- "$1" "$2" "$3" $(dump_freq "$W/$1-$2/snd")
	if within3 "$4" "$3" && awk -v s="$5" 'BEGIN { exit !(s >= 2) }'; then
		pass "$1: $2 heard $3 Hz: $4 Hz for $5 s"
	else
		fail "$1: $2 did not hear $3 Hz: $4 Hz for $5 s"
	fi
}
judge() { # TAG CODEC-IN-SDP DIRS
	# bob's answer: its first rtpmap is the codec the call uses
	_a=$(tshark -r "$W/$1.pcap" -Y 'sdp && udp.srcport == 5288' -T fields -e sdp.media_attr 2>/dev/null | head -1)
	case "$_a" in
	"rtpmap:"[0-9]*" $2"*) pass "$1: bob's answer: ${_a%%,*}" ;;
	*) fail "$1: bob's answer does not choose $2: ${_a%%,fmtp*}" ;;
	esac
	check_same_sas "$W/$1-alice.log" "$W/$1-bob.log"
	heard "$1" bob 440
	heard "$1" alice 660
	vsum "$W/$1.pcap" "$1"
	judge_verify "$1"
	if [ "$(sumof "$1" dirs_srtp)" -ge "$3" ]; then
		pass "$1: SRTP in $(sumof "$1" dirs_srtp) directions (>= 100 packets each; $(sumof "$1" srtp) in all)"
	else
		fail "$1: SRTP in only $(sumof "$1" dirs_srtp) directions, want $3"
	fi
}

call opus a-opus.wav b-opus.wav opus/48000/2 'module\t\t\topus.so\n' ''
judge opus opus/48000/2 2
call g722 a-g722.wav b-g722.wav G722/16000/1 'module\t\t\tg722.so\n' ''
judge g722 G722/8000 2

call mux a-pcmu.wav b-pcmu.wav PCMU '' ''
judge mux PCMU/8000 2
if tshark -r "$W/mux.pcap" -Y 'sdp' -T fields -e sdp.media_attr 2>/dev/null | grep -q 'rtcp-mux'; then
	pass "mux: both SDPs carry a=rtcp-mux"
else
	fail "mux: no a=rtcp-mux in the SDP"
fi
if [ "$(sumof mux dirs_srtcp)" -ge 2 ] && python3 - "$W/mux.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if all(s["rtcp_mux"] for s in d["streams"] if s["has_media"]) else 1)
PY
then
	pass "mux: verify sees SRTCP both ways on the RTP ports (rtcp_mux)"
else
	fail "mux: no muxed SRTCP both ways: $(cat "$W/mux.sum")"
fi

call video a-pcmu.wav b-pcmu.wav PCMU \
	'module\t\t\tfakevideo.so\nmodule\t\t\tvp8.so\nvideo_source\t\tfakevideo,nil\n' ';video_codecs=vp8'
judge video PCMU/8000 4
if tshark -r "$W/video.pcap" -Y 'sdp' -T fields -e sdp.media 2>/dev/null | grep -q '^audio.*,video'; then
	pass "video: two m-lines (audio, video)"
	if tshark -r "$W/video.pcap" -Y 'sdp && udp.srcport == 5288' -T fields -e sdp.media_attr 2>/dev/null | grep -q 'rtpmap:[0-9]* VP8/90000'; then
		pass "video: bob's answer takes VP8"
	else
		fail "video: bob's answer has no VP8"
	fi
else
	fail "video: no audio + video m-lines: $(tshark -r "$W/video.pcap" -Y sdp -T fields -e sdp.media 2>/dev/null | head -1)"
fi
for who in alice bob; do
	n=$(grep -c 'event: secure' "$W/video-$who.log")
	ms=$(grep -c 'SECURE .*ka=Mult' "$W/video-$who.log")
	if [ "$n" -ge 2 ] && [ "$ms" -ge 1 ]; then
		pass "video: $who's shim: $n secure streams, $ms in Multistream mode"
	else
		fail "video: $who's shim: $n secure streams, $ms Multistream (want 2 and 1)"
		grep 'SECURE\|FAILED' "$W/video-$who.log" | sed 's/^/    /'
	fi
done
n=$(python3 - "$W/video.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for s in d["streams"] if s["has_media"] and s["secured"] and s["keylog_secured"]
          and all(x["counts"]["srtp"] >= 100 for x in s["directions"])))
PY
)
if [ "$n" -ge 2 ]; then
	pass "video: verify: $n streams secured with SRTP both ways (audio and video)"
else
	fail "video: verify: only $n streams secured with SRTP both ways"
fi

# --- mutation: the mux flow with a plain bob, alice opportunistic -----------
export ZRTPSHIM_POLICY=opportunistic
call mut a-pcmu.wav b-pcmu.wav PCMU '' '' plain
unset ZRTPSHIM_POLICY
vsum "$W/mut.pcap" mut
c=$(( $(sumof mut rtp_clear) + $(sumof mut rtcp_clear) + $(sumof mut rtp_unknown) + $(sumof mut rtcp_unknown) ))
note "mut: verify: $(cat "$W/mut.sum")"
if [ "$c" -gt 0 ] && [ "$VRC" != 0 ]; then
	pass "mutation: plain bob, opportunistic alice: verify counts $c cleartext packets, exits $VRC: the check catches it"
else
	fail "mutation: the no-cleartext check does not catch a call in clear ($c, exit $VRC)"
fi
finish
