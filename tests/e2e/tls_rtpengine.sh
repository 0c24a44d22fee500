#!/bin/sh
# One side on TLS, the other on UDP, rtpengine relaying: baresip alice
# reaches kamailio over TLS (her outbound proxy), kamailio forwards to
# baresip bob over UDP and has rtpengine (userspace, --table=-1) put
# itself into both SDPs, so each leg of the media runs between a client
# and rtpengine. Both clients under the shim. Judged from the capture of
# both legs with zrtpshim verify --keylog (each shim logs its keys with
# the relay addresses its SDP peer announced):
#   - no cleartext RTP or RTCP on either leg; SRTP and SRTCP on both;
#     every packet authenticated; the same SAS on both sides (rtpengine
#     forwards ZRTP and keeps a=zrtp-hash byte for byte);
#   - alice's shim read her SIP inside TLS, bob's in UDP, and each side's
#     Hello matched the a=zrtp-hash of the other's SDP;
#   - each side heard the other.
. "$(dirname "$0")/lib.sh"
need baresip openssl kamailio rtpengine

SA=5185 SB=5187 KU=5188 KT=5189 NG=2240
cd "$W" || exit 99
make_cert
tone alice.wav 440 6
tone bob.wav 660 10
cat >"$W/kamailio.cfg" <<EOT
#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
listen=udp:127.0.0.1:$KU
listen=tls:127.0.0.1:$KT
enable_tls=yes
auto_aliases=no
alias="127.0.0.1:$KU"
alias="127.0.0.1:$KT"
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "pv.so"
loadmodule "tls.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "rtpengine.so"
modparam("tls", "config", "$W/tls.cfg")
modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:$NG")
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (has_totag()) {
		if (loose_route()) {
			if (is_method("BYE")) { rtpengine_delete(); }
			t_relay(); exit;
		}
		if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
		sl_send_reply("404", "Not here"); exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans()) { rtpengine_delete(); t_relay(); }
		exit;
	}
	remove_hf("Route");
	record_route();
	if (is_method("INVITE") && has_body("application/sdp")) {
		rtpengine_offer("replace-origin replace-session-connection");
	}
	# bob's leg is UDP, whatever transport alice's client names
	if (\$rp == $SB) { \$du = "sip:127.0.0.1:$SB;transport=udp"; }
	t_on_reply("MEDIA");
	if (!t_relay()) { sl_reply_error(); }
}
onreply_route[MEDIA] {
	if (has_body("application/sdp")) {
		rtpengine_answer("replace-origin replace-session-connection");
	}
}
EOT
kamailio_check "$W/kamailio.cfg"

baresip_dir alice alice $SA 4477 12240 "$W/alice.wav"
baresip_dir bob bob $SB 4478 12260 "$W/bob.wav"
printf 'sip_certificate\t\t%s\nsip_cafile\t\t%s\n' "$W/both.pem" "$W/cert.pem" >>"$W/alice/config"
echo "<sip:alice@127.0.0.1:$SA;transport=tls>;outbound=\"sip:127.0.0.1:$KT;transport=tls\";regint=0;answermode=auto;audio_codecs=PCMU;ptime=20" >"$W/alice/accounts"

start_cap "$W/call.pcap" "host 127.0.0.1 and (tcp or udp) and (portrange $SA-$((SA + 2)) or portrange $KU-$KT or portrange 12240-12249 or portrange 12260-12269 or portrange 30200-30399)" 2>"$W/tcpdump.err"
rtpengine_bg $NG 30200 30399
sleep 0.5
bg timeout -k 2 40 kamailio -f "$W/kamailio.cfg" -DD -E >"$W/kamailio.out" 2>&1
sleep 1.5
bg shimmed bob timeout -k 5 22 baresip -f "$W/bob" -t 15 >"$W/bob.out" 2>&1
BOB=$BGPID
sleep 1
shimmed alice timeout -k 5 22 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1:$SB" -t 12 >"$W/alice.out" 2>&1
wait $BOB
stop_cap

n_tls=$(tshark -r "$W/call.pcap" -Y "tls && tcp.port == $KT" 2>/dev/null | wc -l)
n_udp=$(tshark -r "$W/call.pcap" -Y "sip && udp.port == $SB" 2>/dev/null | wc -l)
n_clear_tls_leg=$(tshark -r "$W/call.pcap" -Y "sip && tcp" 2>/dev/null | wc -l)
if [ "$n_tls" -ge 4 ] && [ "$n_udp" -ge 2 ] && [ "$n_clear_tls_leg" -eq 0 ]; then
	pass "alice's leg over TLS ($n_tls records), bob's over UDP ($n_udp SIP packets)"
else
	fail "legs: $n_tls TLS records, $n_udp SIP packets on bob's UDP, $n_clear_tls_leg SIP over TCP"
fi
# The SDP on bob's UDP leg names rtpengine, and media flows to and from
# its ports on both legs (alice's SDP is inside TLS).
relay=$(tshark -r "$W/call.pcap" -Y "sdp && udp" -T fields -e sdp.media.port 2>/dev/null |
	awk -F, '$1 >= 30200 && $1 <= 30399' | wc -l)
legs=$(tshark -r "$W/call.pcap" -Y "udp.srcport >= 30200 && udp.srcport <= 30399" \
	-T fields -e udp.dstport 2>/dev/null | sort -u | wc -l)
if [ "$relay" -ge 1 ] && [ "$legs" -ge 2 ]; then
	pass "rtpengine relays: its ports in bob's SDP, its media to $legs client ports"
else
	fail "the media did not go through the relay ($relay SDPs, $legs ports; $(grep -m3 -iE 'error|warn' "$W/rtpengine.out"))"
fi
check_same_sas "$W/alice.log" "$W/bob.log"
verify_sum "$W/call.pcap" "$W/sum"
note "$(cat "$W/sum")"
sum() { vsum "$W/sum" "$1"; }
no_clear "$W/sum" "either leg"
if [ "$(sum dirs_srtp)" -ge 4 ] && [ "$(sum dirs_srtcp)" -ge 4 ] &&
   [ "$(sum auth_fail)" = 0 ] && [ "$(sum no_key)" = 0 ]; then
	pass "SRTP and SRTCP in both directions of both legs, every packet authenticated"
else
	fail "SRTP/SRTCP on both legs not shown: $(cat "$W/sum")"
fi
if grep -q 'tls: session .* carries SIP' "$W/alice.log"; then
	pass "alice's shim read her SIP inside TLS"
else
	fail "alice's shim did not read her SIP inside TLS"
fi
for who in alice bob; do
	if grep -q "the peer's Hello matches the a=zrtp-hash of its SDP" "$W/$who.log"; then
		pass "$who: the peer's Hello matched the a=zrtp-hash of its SDP"
	else
		fail "$who: no Hello checked against an a=zrtp-hash"
	fi
done
dump_heard "$W/bob/snd" 440 bob
dump_heard "$W/alice/snd" 660 alice
finish
