#!/bin/sh
# A shimmed baresip reaches a native ZRTP softphone through a provider's
# path: kamailio as registrar and proxy (digest authentication,
# record-route) and rtpengine relaying the media under kamailio's
# rtpengine module. linphonec (bzrtp, ZRTP mandatory) registers with its
# password; the shimmed baresip registers with its own and calls it by
# its address of record. Judged from the capture of both legs, the shim's
# log and linphonec's output:
#   - both REGISTERs challenged (401) and accepted; the INVITE challenged
#     (407) and put through; rtpengine's ports in the SDPs;
#   - linphonec prints the shim's SAS;
#   - zrtpshim verify --keylog: no cleartext RTP or RTCP on either leg,
#     SRTP both ways on both legs, every packet authenticated with the
#     shim's keys (bzrtp derived the same);
#   - each side hears the other.
. "$(dirname "$0")/lib_linphone.sh"
need baresip kamailio rtpengine

K=5266 SA=5268 LB=5270 NG=2243 RA=12940 RB=12960
cd "$W" || exit 99
tone b440.wav 440 6
tone l660.wav 660 20
kamailio_registrar_cfg "$W/kamailio.cfg" $K $NG

baresip_dir alice alice $SA 4512 $RA "$W/b440.wav"
echo "<sip:alice@127.0.0.1>;auth_pass=pw-alice;outbound=\"sip:127.0.0.1:$K\";regint=60;answermode=auto;audio_codecs=PCMU;ptime=20" >"$W/alice/accounts"
linphone_dir bob bob $LB $RB
linphone_rc bob
cat >>"$W/bob/rc" <<EOT

[proxy_0]
reg_proxy=<sip:127.0.0.1:$K>
reg_identity=sip:bob@127.0.0.1
reg_expires=60
reg_sendregister=1
publish=0
dial_escape_plus=0

[auth_info_0]
username=bob
passwd=pw-bob
realm=127.0.0.1
domain=127.0.0.1
EOT

start_cap "$W/call.pcap" "udp and host 127.0.0.1 and (port $K or port $SA or port $LB or portrange $RA-$((RA + 9)) or portrange $RB-$((RB + 1)) or portrange 30800-30999)" 2>"$W/tcpdump.err"
rtpengine_bg $NG 30800 30999
sleep 0.5
bg timeout -k 2 45 kamailio -f "$W/kamailio.cfg" -DD -E >"$W/kamailio.out" 2>&1
sleep 1.5
bg linphonec_run bob 26 "play $W/l660.wav
record $W/bob/rec.wav
@17
quit" -a
LPID=$BGPID
sleep 4
shimmed alice timeout -k 5 22 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1" -t 12 >"$W/alice.out" 2>&1
wait $LPID
stop_cap

codes() {
	tshark -r "$W/call.pcap" -Y "sip.Status-Code && $1" -T fields \
		-e sip.Status-Code 2>/dev/null | tr '\n' ' '
}
for u in alice bob; do
	c=$(codes "sip.CSeq.method == \"REGISTER\" && sip.from.user == \"$u\"")
	case " $c" in
	*" 401 "*"200 "*) pass "$u registered with digest authentication ($c)" ;;
	*) fail "$u's REGISTER: responses $c" ;;
	esac
done
c=$(codes "sip.CSeq.method == \"INVITE\" && udp.dstport == $SA")
case " $c" in
*" 407 "*"200 "*) pass "the INVITE was challenged and put through ($c)" ;;
*) fail "INVITE responses to alice: $c" ;;
esac
relay=$(tshark -r "$W/call.pcap" -Y "sdp" -T fields -e sdp.media.port 2>/dev/null |
	awk -F, '$1 >= 30800 && $1 <= 30999' | wc -l)
if [ "$relay" -ge 2 ]; then
	pass "rtpengine's ports in $relay SDPs"
else
	fail "the media did not go through rtpengine ($relay SDPs)"
fi
sas_check "$W/alice.log" bob
verify_sum "$W/call.pcap" "$W/sum" 150
note "$(cat "$W/sum")"
sum() { vsum "$W/sum" "$1"; }
# The key log's lines name the shim's peer, rtpengine's side towards
# alice: the shim's leg is authenticated packet by packet; the leg between
# rtpengine and linphonec (bzrtp's SRTP under the same keys) is judged by
# the keyless classifier, so its packets count as no_key.
if [ "$(sum rtp_clear)" = 0 ] && [ "$(sum rtcp_clear)" = 0 ] &&
   [ "$(sum rtp_unknown)" = 0 ] && [ "$(sum rtcp_unknown)" = 0 ] &&
   [ "$(sum dirs_srtp)" -ge 4 ] && [ "$(sum auth_fail)" = 0 ] &&
   [ "$(sum auth_ok)" -ge 500 ]; then
	pass "no cleartext RTP or RTCP on either leg; SRTP both ways on both; the shim's leg all authenticated"
else
	fail "media: $(cat "$W/sum")"
fi
check_tone "$W/bob/rec.wav" 440 "linphonec"
check_tone "$(ls "$W"/alice/snd/dump-*-dec.wav 2>/dev/null | head -1)" 660 "baresip"
finish
