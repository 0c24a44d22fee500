#!/bin/sh
# A provider's path: kamailio as registrar and proxy with digest
# authentication and record-route, rtpengine (userspace, --table=-1)
# relaying the media under kamailio's rtpengine module, so both SDPs carry
# relay addresses. Two shimmed baresips register with passwords and call
# through it. Judged from the capture (both legs) and the logs:
#   - each REGISTER was challenged (401) and then accepted (200); the
#     INVITE was challenged (407) and went through with credentials; the
#     200 carries kamailio's Record-Route;
#   - rtpengine's ports in both SDPs and media to and from them;
#   - the same SAS; zrtpshim verify --keylog: PASS, no cleartext RTP or
#     RTCP on either leg, every packet authenticated; each side hears the
#     other.
. "$(dirname "$0")/lib.sh"
need baresip kamailio rtpengine

K=5260 SA=5262 SB=5264 NG=2242
cd "$W" || exit 99
tone alice.wav 440 6
tone bob.wav 660 10
kamailio_registrar_cfg "$W/kamailio.cfg" $K $NG

baresip_dir alice alice $SA 4510 12900 "$W/alice.wav"
baresip_dir bob bob $SB 4511 12920 "$W/bob.wav"
for u in alice bob; do
	p=$SA
	[ $u = bob ] && p=$SB
	echo "<sip:$u@127.0.0.1>;auth_pass=pw-$u;outbound=\"sip:127.0.0.1:$K\";regint=60;answermode=auto;audio_codecs=PCMU;ptime=20" >"$W/$u/accounts"
done

start_cap "$W/call.pcap" "udp and host 127.0.0.1 and (port $K or port $SA or port $SB or portrange 12900-12909 or portrange 12920-12929 or portrange 30600-30799)" 2>"$W/tcpdump.err"
rtpengine_bg $NG 30600 30799
sleep 0.5
bg timeout -k 2 40 kamailio -f "$W/kamailio.cfg" -DD -E >"$W/kamailio.out" 2>&1
sleep 1.5
bg shimmed bob timeout -k 5 22 baresip -f "$W/bob" -t 16 >"$W/bob.out" 2>&1
BOB=$BGPID
sleep 2
shimmed alice timeout -k 5 22 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1" -t 12 >"$W/alice.out" 2>&1
wait $BOB
stop_cap

codes() { # FILTER: the status codes of the responses matching it, in order
	tshark -r "$W/call.pcap" -Y "sip.Status-Code && $1" -T fields \
		-e sip.Status-Code 2>/dev/null | tr '\n' ' '
}
for u in alice bob; do
	c=$(codes "sip.CSeq.method == \"REGISTER\" && sip.from.user == \"$u\"")
	case " $c" in
	*" 401 "*"200 "*) pass "$u registered with digest authentication (responses: $c)" ;;
	*) fail "$u's REGISTER: responses $c" ;;
	esac
done
c=$(codes "sip.CSeq.method == \"INVITE\" && udp.dstport == $SA")
case " $c" in
*" 407 "*"200 "*) pass "the INVITE was challenged and went through with credentials ($c)" ;;
*) fail "INVITE responses to alice: $c" ;;
esac
if tshark -r "$W/call.pcap" -Y "sip.Status-Code == 200 && sip.CSeq.method == \"INVITE\" && sip.Record-Route" 2>/dev/null | grep -q .; then
	pass "the 200 carries kamailio's Record-Route"
else
	fail "no Record-Route in the 200"
fi
relay=$(tshark -r "$W/call.pcap" -Y "sdp" -T fields -e sdp.media.port 2>/dev/null |
	awk -F, '$1 >= 30600 && $1 <= 30799' | wc -l)
legs=$(tshark -r "$W/call.pcap" -Y "udp.srcport >= 30600 && udp.srcport <= 30799" \
	-T fields -e udp.dstport 2>/dev/null | sort -u | wc -l)
if [ "$relay" -ge 2 ] && [ "$legs" -ge 2 ]; then
	pass "rtpengine relays: its ports in $relay SDPs, its media to $legs client ports"
else
	fail "the media did not go through the relay ($relay SDPs, $legs ports)"
fi
check_same_sas "$W/alice.log" "$W/bob.log"
verify_sum "$W/call.pcap" "$W/sum"
note "$(cat "$W/sum")"
vrc=$(cat "$W/sum.rc")
sum() { vsum "$W/sum" "$1"; }
if [ "$vrc" -eq 0 ] && [ "$(sum rtp_clear)" = 0 ] && [ "$(sum rtcp_clear)" = 0 ] &&
   [ "$(sum dirs_srtp)" -ge 4 ] && [ "$(sum auth_fail)" = 0 ] && [ "$(sum no_key)" = 0 ]; then
	pass "verify PASS on both legs: no cleartext RTP or RTCP, every packet authenticated"
else
	fail "verify (exit $vrc): $(cat "$W/sum")"
fi
dump_heard "$W/bob/snd" 440 bob
dump_heard "$W/alice/snd" 660 alice
finish
