#!/bin/sh
# Interop item 3: linphonec with media_encryption=none (and
# media_encryption_mandatory=0) and a shimmed baresip.
#
# Found here: media_encryption=none does not make liblinphone 5.1 a peer
# without ZRTP. It creates its ZRTP engine for every call and, whenever the
# offer or the answer carries a=zrtp-hash (the shim adds one to everything
# baresip sends), negotiates ZRTP anyway: its offer/answer code treats "all
# encryptions as supported" for the actual configuration, and
# [sip] supported_encryptions only governs RFC 5939 capability negotiation
# (potential configurations). So against the shim the call is secured in
# both directions and both policies. The test checks what must hold in
# either case and says which case it saw:
#   require (baresip calls linphonec, which also has
#            supported_encryptions=None,SRTP,DTLS):
#       nothing leaves the shimmed side in clear; if the call became secure,
#       the SAS matches; if not, the shim's log says why ("ZRTP FAILED: no
#       ZRTP peer") and no RTP at all left the shimmed port;
#   opportunistic (linphonec calls baresip: its offer has no a=zrtp-hash):
#       audio both ways (linphonec's recording holds baresip's 440 Hz,
#       baresip's dump linphonec's 660 Hz); if secure, same SAS and no
#       cleartext from the shim, and no false "IN CLEAR" warning; if not,
#       the shim's log warns that the call flows in clear.
# A peer that really lacks ZRTP (plain baresip) is tests/e2e/one_sided.sh.
. "$(dirname "$0")/lib_linphone.sh"
need baresip

cd "$W" || exit 99
tone b440.wav 440 12
tone l660.wav 660 25
touch "$W/keys.log"

lpc_answer_hash() { # CAP SIPPORT: does the SDP sent from SIPPORT carry a=zrtp-hash
	if tshark -r "$1" -d "udp.port==$2,sip" -Y "sdp && udp.srcport==$2" \
		-T fields -e sdp.media_attr 2>/dev/null | grep -q zrtp-hash; then
		echo yes
	else
		echo no
	fi
}

# --- require: shimmed baresip -> linphonec ------------------------------------------
SA=5871 LB=5881 RA=11000 RB=8178
echo "require: shimmed baresip calls linphonec (media_encryption=none, supported_encryptions=None,SRTP,DTLS)"
baresip_dir alice alice $SA 4871 $RA "$W/b440.wav"
linphone_dir bob bob $LB $RB
linphone_rc bob media_encryption=none media_encryption_mandatory=0
sed -i '/^\[sip\]/a supported_encryptions=None,SRTP,DTLS' "$W/bob/rc"
start_cap "$W/require.pcap" "udp and host 127.0.0.1 and (port $SA or port $LB or portrange $RA-$((RA + 9)) or portrange $RB-$((RB + 1)))" 2>>"$W/tcpdump.err"
bg linphonec_run bob 26 "play $W/l660.wav
record $W/bob/rec.wav
@16
quit" -a
LPID=$BGPID
sleep 2
ZRTPSHIM_POLICY=require shimmed alice timeout -k 5 24 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1:$LB" -t 15 >"$W/alice.out" 2>&1
wait $LPID
stop_cap
PA=$(sdp_port "$W/require.pcap" $SA)
PB=$(sdp_port "$W/require.pcap" $LB)
note "media ports: baresip $PA, linphonec $PB; linphonec's answer carries a=zrtp-hash: $(lpc_answer_hash "$W/require.pcap" $LB)"
if [ -n "$PA" ] && [ -n "$PB" ]; then
	dir_counts "$W/require.pcap" "$W/keys.log" "$PA" "$PB"
	if grep -q "event: secure" "$W/alice.log"; then
		pass "require: linphonec (media_encryption=none) ran ZRTP with the shim anyway"
		sas_check "$W/alice.log" bob
		check_shim_clean 250
		note "require: linphonec's own cleartext before its handshake: rtp $(dc lpc rtp_clear) (mandatory=0)"
	else
		c=$(dc shim rtp_clear) u=$(dc shim rtp_unknown) s=$(dc shim srtp) rc=$(dc shim rtcp_clear)
		if [ "$c" -eq 0 ] && [ "$u" -eq 0 ] && [ "$s" -eq 0 ] && [ "$rc" -eq 0 ]; then
			pass "require: no RTP/RTCP from baresip's port $PA (clear $c, srtp $s, rtcp clear $rc)"
		else
			fail "require: baresip's port $PA sent rtp clear $c / unknown $u / srtp $s, rtcp clear $rc"
		fi
		if grep -q "ZRTP FAILED" "$W/alice.log"; then
			pass "require: the shim's log says why: $(grep -m1 -o 'ZRTP FAILED: [^;]*' "$W/alice.log")"
		else
			fail "require: the shim's log does not say why nothing was sent"
		fi
	fi
else
	fail "require: no SDP offer/answer in the capture"
fi

# --- opportunistic: linphonec -> shimmed baresip ------------------------------------
SD=5875 LC=5885 RD=11010 RC=8278
echo "opportunistic: linphonec (media_encryption=none) calls shimmed baresip"
baresip_dir dave dave $SD 4872 $RD "$W/b440.wav"
linphone_dir carol carol $LC $RC
linphone_rc carol media_encryption=none media_encryption_mandatory=0
start_cap "$W/opportunistic.pcap" "udp and host 127.0.0.1 and (port $SD or port $LC or portrange $RD-$((RD + 9)) or portrange $RC-$((RC + 1)))" 2>>"$W/tcpdump.err"
ZRTPSHIM_POLICY=opportunistic bg shimmed dave timeout -k 5 24 baresip -f "$W/dave" -t 16 >"$W/dave.out" 2>&1
BPID=$BGPID
sleep 1
linphonec_run carol 24 "play $W/l660.wav
record $W/carol/rec.wav
call sip:dave@127.0.0.1:$SD
@10
terminate
@1
quit"
wait $BPID
stop_cap
PD=$(sdp_port "$W/opportunistic.pcap" $SD)
PC=$(sdp_port "$W/opportunistic.pcap" $LC)
note "media ports: baresip $PD, linphonec $PC; linphonec's offer carries a=zrtp-hash: $(lpc_answer_hash "$W/opportunistic.pcap" $LC)"
if [ -n "$PD" ] && [ -n "$PC" ]; then
	dir_counts "$W/opportunistic.pcap" "$W/keys.log" "$PD" "$PC"
	if grep -q "event: secure" "$W/dave.log"; then
		pass "opportunistic: linphonec (media_encryption=none, offer without a=zrtp-hash) ran ZRTP once the answer had one"
		sas_check "$W/dave.log" carol
		check_shim_clean 250
		if grep -q "IN CLEAR" "$W/dave.log"; then
			fail "opportunistic: the call is secure but the shim's log says IN CLEAR: $(grep -m1 'IN CLEAR' "$W/dave.log")"
		else
			pass "opportunistic: no (false) IN CLEAR warning for a secured call"
		fi
		note "opportunistic: linphonec's own cleartext before its handshake: rtp $(dc lpc rtp_clear) (mandatory=0)"
	elif grep -q "IN CLEAR" "$W/dave.log"; then
		pass "opportunistic: the shim's log warns: $(grep -m1 'IN CLEAR' "$W/dave.log" | sed 's/^zrtpshim\[[0-9]*\]: //')"
	else
		fail "opportunistic: neither secure nor a warning about media in clear in the shim's log"
	fi
else
	fail "opportunistic: no SDP offer/answer in the capture"
fi
check_tone "$W/carol/rec.wav" 440 "opportunistic: linphonec"
check_tone "$(ls "$W"/dave/snd/dump-*-dec.wav 2>/dev/null | head -1)" 660 "opportunistic: baresip"
finish
