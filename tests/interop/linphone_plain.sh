#!/bin/sh
# Interop item 3: linphonec with media_encryption=none against a shimmed
# baresip, under each policy.
#
# media_encryption=none alone does not make liblinphone 5.1.65 a peer without
# ZRTP: its call parameters list every encryption compiled in as
# "supported", and it starts its ZRTP engine whenever ZRTP is supported and
# either SDP carries a=zrtp-hash (the shim adds one to everything baresip
# sends). Only with RFC 5939 capability negotiation on does its
# supported_encryptions key narrow that list:
#   [sip] support_capability_negotiations=1
#         supported_encryptions=LinphoneMediaEncryptionNone
# (the values are enum names; "None,SRTP" is silently ignored). With that:
#   - linphonec as caller offers no a=zrtp-hash and never sends a Hello,
#     even though baresip's (shimmed) answer carries a=zrtp-hash: a peer that
#     will not encrypt. Both policies are judged on this direction:
#       require: nothing leaves the shimmed side (no RTP, no RTCP), the
#         shim's log says why ("ZRTP FAILED: no ZRTP peer");
#       opportunistic: audio both ways (linphonec's recording holds baresip's
#         440 Hz, baresip's dump linphonec's 660 Hz) and the shim's log warns
#         that the call flows IN CLEAR.
#   - linphonec as callee still runs ZRTP: it builds its media session (and
#     its ZRTP engine) from the full encryption list before the call is
#     accepted, answers with an empty "a=zrtp-hash:" line, and answers the
#     shim's Hello. The last call checks that this departure still ends in a
#     correctly secured call (same SAS, nothing in clear from the shim).
# A peer that lacks ZRTP altogether (plain baresip) is tests/e2e/one_sided.sh.
. "$(dirname "$0")/lib_linphone.sh"
need baresip

cd "$W" || exit 99
tone b440.wav 440 14
tone l660.wav 660 25
touch "$W/keys.log"

# sdp_has_hash CAP SIPPORT: does the SDP sent from SIPPORT carry a=zrtp-hash
sdp_has_hash() {
	if tshark -r "$1" -d "udp.port==$2,sip" -Y "sdp && udp.srcport==$2" \
		-T fields -e sdp.media_attr 2>/dev/null | grep -q zrtp-hash; then
		echo yes
	else
		echo no
	fi
}
# lpc_plain_rc NAME: media_encryption=none, and ZRTP really off (see above)
lpc_plain_rc() {
	linphone_rc "$1" media_encryption=none media_encryption_mandatory=0
	sed -i '/^\[sip\]/a support_capability_negotiations=1\nsupported_encryptions=LinphoneMediaEncryptionNone' "$W/$1/rc"
}

# lpc_calls POLICY NAME SIPPORT RTPPORT BNAME BSIP BRTP: linphonec NAME
# (plain) calls shimmed baresip BNAME under POLICY for ~11 s, captured in
# $W/POLICY.pcap; sets PB (baresip's media port) and PL (linphonec's).
lpc_calls() {
	_pol=$1 _ln=$2 _ls=$3 _lr=$4 _bn=$5 _bs=$6 _br=$7
	echo "$_pol: linphonec (media_encryption=none, ZRTP not supported) calls shimmed baresip"
	baresip_dir "$_bn" "$_bn" "$_bs" $((_bs - 1000)) "$_br" "$W/b440.wav"
	linphone_dir "$_ln" "$_ln" "$_ls" "$_lr"
	lpc_plain_rc "$_ln"
	start_cap "$W/$_pol.pcap" "udp and host 127.0.0.1 and (port $_bs or port $_ls or portrange $_br-$((_br + 9)) or portrange $_lr-$((_lr + 1)))" 2>>"$W/tcpdump.err"
	ZRTPSHIM_POLICY=$_pol bg shimmed "$_bn" timeout -k 5 24 baresip -f "$W/$_bn" -t 17 >"$W/$_bn.out" 2>&1
	_bp=$BGPID
	sleep 1
	linphonec_run "$_ln" 24 "play $W/l660.wav
record $W/$_ln/rec.wav
call sip:$_bn@127.0.0.1:$_bs
@11
terminate
@1
quit"
	wait $_bp
	stop_cap
	PB=$(sdp_port "$W/$_pol.pcap" "$_bs")
	PL=$(sdp_port "$W/$_pol.pcap" "$_ls")
	note "media ports: baresip $PB, linphonec $PL; a=zrtp-hash in linphonec's offer: $(sdp_has_hash "$W/$_pol.pcap" "$_ls"), in baresip's answer: $(sdp_has_hash "$W/$_pol.pcap" "$_bs")"
	if [ -z "$PB" ] || [ -z "$PL" ]; then
		fail "$_pol: no SDP offer/answer in the capture"
		return 1
	fi
	dir_counts "$W/$_pol.pcap" "$W/keys.log" "$PB" "$PL"
	if [ "$(dc lpc zrtp)" -eq 0 ] && ! grep -q "event: secure" "$W/$_bn.log"; then
		pass "$_pol: linphonec sent no ZRTP packet and the call was not secured: a peer that will not encrypt"
	else
		fail "$_pol: linphonec sent $(dc lpc zrtp) ZRTP packets / the shim secured the call: not the case under test"
	fi
}

# --- require: linphonec -> shimmed baresip --------------------------------------
if lpc_calls require carol 5885 8278 dave 5875 11010; then
	c=$(dc shim rtp_clear) u=$(dc shim rtp_unknown) s=$(dc shim srtp)
	rc=$(dc shim rtcp_clear) ru=$(dc shim rtcp_unknown)
	if [ "$c" -eq 0 ] && [ "$u" -eq 0 ] && [ "$s" -eq 0 ] && [ "$rc" -eq 0 ] && [ "$ru" -eq 0 ]; then
		pass "require: nothing left baresip's port $PB (rtp clear $c, unknown $u, srtp $s; rtcp clear $rc, unknown $ru)"
	else
		fail "require: baresip's port $PB sent rtp clear $c / unknown $u / srtp $s, rtcp clear $rc / unknown $ru"
	fi
	if [ "$(dc lpc rtp_clear)" -ge 100 ]; then
		pass "require: linphonec did send its audio in clear ($(dc lpc rtp_clear) RTP packets), so the shim had media to hold back"
	else
		fail "require: linphonec sent only $(dc lpc rtp_clear) cleartext RTP packets"
	fi
	if grep -q "ZRTP FAILED: no ZRTP peer" "$W/dave.log"; then
		pass "require: the shim's log says why: $(grep -m1 'ZRTP FAILED' "$W/dave.log" | sed 's/^zrtpshim\[[0-9]*\]: //')"
	else
		fail "require: the shim's log does not say why nothing was sent: $(grep -m1 -E 'ZRTP|media' "$W/dave.log")"
	fi
	if grep -q "IN CLEAR" "$W/dave.log"; then
		fail "require: the shim let the call flow in clear: $(grep -m1 'IN CLEAR' "$W/dave.log")"
	fi
fi

# --- opportunistic: linphonec -> shimmed baresip --------------------------------
if lpc_calls opportunistic erin 5886 8378 frank 5876 11020; then
	if grep -q "IN CLEAR" "$W/frank.log"; then
		pass "opportunistic: the shim's log warns: $(grep -m1 'IN CLEAR' "$W/frank.log" | sed 's/^zrtpshim\[[0-9]*\]: //')"
	else
		fail "opportunistic: no warning in the shim's log that the call flows in clear"
	fi
	if [ "$(dc shim rtp_clear)" -ge 100 ] && [ "$(dc shim srtp)" -eq 0 ]; then
		pass "opportunistic: baresip's audio went out (in clear, as warned): $(dc shim rtp_clear) RTP packets"
	else
		fail "opportunistic: baresip sent $(dc shim rtp_clear) cleartext and $(dc shim srtp) SRTP packets"
	fi
	check_tone "$W/erin/rec.wav" 440 "opportunistic: linphonec"
	check_tone "$(ls "$W"/frank/snd/dump-*-dec.wav 2>/dev/null | head -1)" 660 "opportunistic: baresip"
fi

# --- departure: shimmed baresip -> linphonec (callee) ---------------------------
SA=5871 LB=5881 RA=11000 RB=8178
echo "require: shimmed baresip calls linphonec (same rc): linphonec as callee runs ZRTP anyway"
baresip_dir alice alice $SA 4871 $RA "$W/b440.wav"
linphone_dir bob bob $LB $RB
lpc_plain_rc bob
start_cap "$W/callee.pcap" "udp and host 127.0.0.1 and (port $SA or port $LB or portrange $RA-$((RA + 9)) or portrange $RB-$((RB + 1)))" 2>>"$W/tcpdump.err"
bg linphonec_run bob 22 "play $W/l660.wav
record $W/bob/rec.wav
@12
quit" -a
LPID=$BGPID
sleep 2
ZRTPSHIM_POLICY=require shimmed alice timeout -k 5 20 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1:$LB" -t 11 >"$W/alice.out" 2>&1
wait $LPID
stop_cap
PA=$(sdp_port "$W/callee.pcap" $SA)
PB=$(sdp_port "$W/callee.pcap" $LB)
note "media ports: baresip $PA, linphonec $PB; linphonec's answer: $(tshark -r "$W/callee.pcap" -d "udp.port==$LB,sip" -Y "sdp && udp.srcport==$LB" -T fields -e sdp.media_attr 2>/dev/null | tr ',' '\n' | grep zrtp-hash | head -1)"
if [ -n "$PA" ] && [ -n "$PB" ]; then
	dir_counts "$W/callee.pcap" "$W/keys.log" "$PA" "$PB"
	if grep -q "SDP did not parse" "$W/alice.log"; then
		fail "callee: the shim could not read linphonec's answer: $(grep -m1 'SDP did not parse' "$W/alice.log")"
	else
		pass "callee: the shim read linphonec's answer (its empty a=zrtp-hash: line read as no hash)"
	fi
	if grep -q "event: secure" "$W/alice.log"; then
		sas_check "$W/alice.log" bob
		check_shim_clean 200
	elif grep -q "ZRTP FAILED" "$W/alice.log" && [ "$(dc shim rtp_clear)" -eq 0 ] && [ "$(dc shim srtp)" -eq 0 ]; then
		# a later linphonec that honours its rc here is fine too
		pass "callee: linphonec did not run ZRTP; nothing left the shimmed side and the log says why"
	else
		fail "callee: neither secured nor cleanly refused (see $W/alice.log)"
	fi
else
	fail "callee: no SDP offer/answer in the capture"
fi
finish
