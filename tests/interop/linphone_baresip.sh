#!/bin/sh
# Interop item 1: a shimmed baresip (legacy, no ZRTP of its own) and a
# native ZRTP softphone, linphonec with media_encryption=zrtp and
# media_encryption_mandatory=1, secure the call together, in both
# directions:
#   A. shimmed baresip alice calls linphonec bob;
#   B. linphonec carol calls shimmed baresip dave.
# Each call is judged from a capture of lo (only this test's ports), the
# shim's log, linphonec's stdout and debug log, and both recordings:
#   - a complete ZRTP handshake on the wire between the shim and bzrtp;
#   - linphonec prints "fully encrypted and auth token is XXXX" and the shim
#     logs "event: secure ... sas=XXXX": the same XXXX;
#   - nothing leaves the shimmed side in clear (RTP or RTCP) and its SRTP
#     authenticates with the keys the shim logged; linphonec's SRTP
#     authenticates with the same keys (both sides derived one result);
#     linphonec's own cleartext RTP before its handshake, if any, is
#     counted and reported, not failed (it is linphone's, not ours);
#   - audio both ways: linphonec's `record` file holds baresip's 440 Hz,
#     baresip's sndfile dump holds linphonec's 660 Hz (within 3 %).
. "$(dirname "$0")/lib_linphone.sh"
need baresip

cd "$W" || exit 99
tone b440.wav 440 6        # baresip's file ending ends call A
tone b440long.wav 440 14   # baresip callee in B: longer than the call
tone l660.wav 660 20       # linphonec: longer than any call (see README.md, "Interop")

# --- A: shimmed baresip -> linphonec -------------------------------------------
SA=5771 LB=5781 RA=10900 RB=7778
baresip_dir alice alice $SA 4771 $RA "$W/b440.wav"
linphone_dir bob bob $LB $RB
linphone_rc bob
start_cap "$W/a.pcap" "udp and host 127.0.0.1 and (port $SA or port $LB or portrange $RA-$((RA + 9)) or portrange $RB-$((RB + 1)))" 2>"$W/tcpdump.err"
bg linphonec_run bob 22 "play $W/l660.wav
record $W/bob/rec.wav
@13
quit" -a
LPID=$BGPID
sleep 2
shimmed alice timeout -k 5 20 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1:$LB" -t 10 >"$W/alice.out" 2>&1
wait $LPID
stop_cap

echo "A: shimmed baresip calls linphonec (ZRTP mandatory)"
PA=$(sdp_port "$W/a.pcap" $SA)
PB=$(sdp_port "$W/a.pcap" $LB)
note "media ports: baresip $PA, linphonec $PB"
if [ -n "$PA" ] && [ -n "$PB" ]; then
	check_handshake "$W/a.pcap" "$PA" "$PB"
	dir_counts "$W/a.pcap" "$W/keys.log" "$PA" "$PB"
	check_shim_clean 250
	check_lpc_srtp 250
	A_CLEAR=$LPC_CLEAR
else
	fail "A: no SDP offer/answer in the capture"
fi
sas_check "$W/alice.log" bob
check_tone "$W/bob/rec.wav" 440 "A: linphonec"
check_tone "$(ls "$W"/alice/snd/dump-*-dec.wav 2>/dev/null | head -1)" 660 "A: baresip"

# --- B: linphonec -> shimmed baresip -------------------------------------------
SD=5775 LC=5785 RD=10910 RC=7878
baresip_dir dave dave $SD 4772 $RD "$W/b440long.wav"
linphone_dir carol carol $LC $RC
linphone_rc carol
start_cap "$W/b.pcap" "udp and host 127.0.0.1 and (port $SD or port $LC or portrange $RD-$((RD + 9)) or portrange $RC-$((RC + 1)))" 2>>"$W/tcpdump.err"
bg shimmed dave timeout -k 5 20 baresip -f "$W/dave" -t 14 >"$W/dave.out" 2>&1
BPID=$BGPID
sleep 1
linphonec_run carol 20 "play $W/l660.wav
record $W/carol/rec.wav
call sip:dave@127.0.0.1:$SD
@9
terminate
@1
quit"
wait $BPID
stop_cap

echo "B: linphonec (ZRTP mandatory) calls shimmed baresip"
PD=$(sdp_port "$W/b.pcap" $SD)
PC=$(sdp_port "$W/b.pcap" $LC)
note "media ports: baresip $PD, linphonec $PC"
if [ -n "$PD" ] && [ -n "$PC" ]; then
	check_handshake "$W/b.pcap" "$PD" "$PC"
	dir_counts "$W/b.pcap" "$W/keys.log" "$PD" "$PC"
	check_shim_clean 250
	check_lpc_srtp 250
	B_CLEAR=$LPC_CLEAR
else
	fail "B: no SDP offer/answer in the capture"
fi
sas_check "$W/dave.log" carol
check_tone "$W/carol/rec.wav" 440 "B: linphonec"
check_tone "$(ls "$W"/dave/snd/dump-*-dec.wav 2>/dev/null | head -1)" 660 "B: baresip"

note "linphonec's cleartext RTP before its handshake: A ${A_CLEAR:-?}, B ${B_CLEAR:-?}"
finish
