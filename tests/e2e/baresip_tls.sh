#!/bin/sh
# SIP over TLS, both ends: baresip alice calls baresip bob with
# ;transport=tls (libre's TLS is OpenSSL), both under the shim, with a
# self-signed certificate the test makes: once directly, once through
# kamailio's TLS listener (a record-routing proxy, alice's outbound
# proxy). The shim reads the SIP inside
# TLS at the record calls (SSL_write/SSL_read) and adds a=zrtp-hash there.
# Judged from the capture, the key log and the shim logs:
#   - no SIP in clear on the wire (it all went inside TLS);
#   - each shim says the session carried SIP and that it rewrote its SDP;
#   - each side's SECURE line says the peer's Hello matched the a=zrtp-hash
#     the shim read inside TLS; the same SAS on both sides;
#   - zrtpshim verify --keylog: no cleartext RTP nor RTCP from either side,
#     SRTP and SRTCP both ways, every packet authenticated;
#   - each side heard the other's tone.
# Then the same call (direct) with ZRTPSHIM_TLS=off, standing for a TLS
# library the shim does not know: the SDP cannot be read, RTP and RTCP are
# adopted from their first packets: still no cleartext, the same SAS.
. "$(dirname "$0")/lib.sh"
need baresip openssl kamailio

cd "$W" || exit 99
make_cert
tone alice.wav 440 6
tone bob.wav 660 10

# kamailio as a stateful proxy with record-route, its TLS listener on
# 127.0.0.1:5181 (the configuration users are told to run)
KU=5180 KT=5181
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
modparam("tls", "config", "$W/tls.cfg")
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (has_totag()) {
		if (loose_route()) { t_relay(); exit; }
		if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
		sl_send_reply("404", "Not here"); exit;
	}
	if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
	remove_hf("Route");
	record_route();
	if (!t_relay()) { sl_reply_error(); }
}
EOT
kamailio_check "$W/kamailio.cfg"

# one_call TAG SA SB CTRL_A CTRL_B RTP_A RTP_B [proxy]: alice (SIP SA, TLS
# SA+1) calls bob (TLS on SB+1), directly or through kamailio's TLS
# listener as her outbound proxy
one_call() {
	tag=$1 SA=$2 SB=$3
	baresip_dir "$tag-alice" alice "$SA" "$4" "$6" "$W/alice.wav"
	baresip_dir "$tag-bob" bob "$SB" "$5" "$7" "$W/bob.wav"
	if [ "${8:-}" = proxy ]; then
		echo "<sip:alice@127.0.0.1:$SA;transport=tls>;outbound=\"sip:127.0.0.1:$KT;transport=tls\";regint=0;answermode=auto;audio_codecs=PCMU;ptime=20" >"$W/$tag-alice/accounts"
		bg timeout -k 2 30 kamailio -f "$W/kamailio.cfg" -DD -E >"$W/$tag-kamailio.out" 2>&1
		sleep 1
	fi
	for d in "$tag-alice" "$tag-bob"; do
		printf 'sip_certificate\t\t%s\nsip_cafile\t\t%s\n' "$W/both.pem" \
			"$W/cert.pem" >>"$W/$d/config"
	done
	start_cap "$W/$tag.pcap" "host 127.0.0.1 and (tcp or udp) and (portrange $SA-$((SA + 1)) or portrange $SB-$((SB + 1)) or portrange $KU-$KT or portrange $6-$(($6 + 9)) or portrange $7-$(($7 + 9)))" 2>"$W/tcpdump.err"
	bg shimmed "$tag-bob" timeout -k 5 22 baresip -f "$W/$tag-bob" -t 15 >"$W/$tag-bob.out" 2>&1
	BOB=$BGPID
	sleep 1
	shimmed "$tag-alice" timeout -k 5 22 baresip -f "$W/$tag-alice" \
		-e "/dial sip:bob@127.0.0.1:$((SB + 1));transport=tls" -t 12 >"$W/$tag-alice.out" 2>&1
	wait $BOB
	stop_cap
}

# judge TAG: the checks both calls share
judge() {
	tag=$1
	n_sip=$(tshark -r "$W/$tag.pcap" -Y sip 2>/dev/null | wc -l)
	n_tls=$(tshark -r "$W/$tag.pcap" -Y tls 2>/dev/null | wc -l)
	if [ "$n_sip" -eq 0 ] && [ "$n_tls" -ge 4 ]; then
		pass "$tag: no SIP in clear on the wire, $n_tls TLS records"
	else
		fail "$tag: $n_sip SIP packets in clear, $n_tls TLS records"
	fi
	check_same_sas "$W/$tag-alice.log" "$W/$tag-bob.log"
	verify_sum "$W/$tag.pcap" "$W/$tag.sum"
	note "$tag: $(cat "$W/$tag.sum")"
	sum() { vsum "$W/$tag.sum" "$1"; }
	no_clear "$W/$tag.sum" "$tag: either side"
	if [ "$(sum dirs_srtp)" -ge 2 ] && [ "$(sum dirs_srtcp)" -ge 2 ] &&
	   [ "$(sum auth_fail)" = 0 ] && [ "$(sum no_key)" = 0 ] &&
	   [ "$(sum auth_ok)" -ge 400 ]; then
		pass "$tag: SRTP and SRTCP both ways, every packet authenticated with the logged keys"
	else
		fail "$tag: SRTP/SRTCP both ways not shown: $(cat "$W/$tag.sum")"
	fi
	dump_heard "$W/$tag-bob/snd" 440 "$tag: bob"
	dump_heard "$W/$tag-alice/snd" 660 "$tag: alice"
}

one_call tls 5161 5165 4471 4472 12200 12220
judge tls
one_call proxy 5175 5177 4475 4476 12280 12290 proxy
judge proxy
n_via=$(tshark -r "$W/proxy.pcap" -Y "tls && tcp.port == $KT" 2>/dev/null | wc -l)
if [ "$n_via" -ge 4 ]; then
	pass "proxy: the signalling went through kamailio's TLS listener ($n_via records)"
else
	fail "proxy: only $n_via TLS records through kamailio ($(tail -3 "$W/proxy-kamailio.out"))"
fi
for t in tls proxy; do for who in alice bob; do
	log="$W/$t-$who.log"
	if grep -q 'tls: session .* carries SIP' "$log" &&
	   grep -q "sip: call .* with a=zrtp-hash" "$log"; then
		pass "$t: $who's shim read SIP inside TLS and rewrote its SDP there"
	else
		fail "$t: $who's shim did not read/rewrite SIP inside TLS"
	fi
	if grep -q "the peer's Hello matches the a=zrtp-hash of its SDP" "$log"; then
		pass "$t: $who: the peer's Hello matched the a=zrtp-hash read inside TLS"
	else
		fail "$t: $who: no Hello checked against an a=zrtp-hash read inside TLS"
	fi
done; done

export ZRTPSHIM_TLS=off
one_call notls 5169 5173 4473 4474 12230 12250
unset ZRTPSHIM_TLS
judge notls
for who in alice bob; do
	if grep -q 'tls: session .* carries SIP' "$W/notls-$who.log"; then
		fail "notls: $who's shim read TLS although ZRTPSHIM_TLS=off"
	elif grep -qE 'no SDP announced|its RTCP began' "$W/notls-$who.log"; then
		pass "notls: $who's shim read no TLS and adopted the media"
	else
		fail "notls: $who's shim neither read TLS nor adopted the media"
	fi
done
finish
