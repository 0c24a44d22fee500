#!/bin/sh
# Interop item 2: shimmed sipp (legacy; streams a file with rtp_stream and
# never reads its media socket: the shim reads ZRTP from it itself) and
# linphonec with ZRTP mandatory, in both directions:
#   A. shimmed sipp UAC calls linphonec bob (examples/sipp/uac.xml);
#   B. linphonec carol calls shimmed sipp UAS (examples/sipp/uas.xml).
#   C. linphonec calls shimmed sipp UAS with -rtp_echo
#      (examples/sipp/uas_echo.xml): sipp reads what it receives and sends
#      it back.
# sipp cannot record. In A and B linphonec's `record` file holds sipp's
# 440 Hz (within 3 %); in C it holds linphonec's own 660 Hz, which can only
# come back if sipp received it decrypted (the shim decrypts on sipp's
# read and encrypts sipp's echo): audio both ways with sipp. Judged from the
# capture and logs:
#   - a complete ZRTP handshake between the shim and bzrtp on the wire;
#   - linphonec's auth token equals the shim's "event: secure ... sas=";
#   - sipp sends the whole 6 s file (300 packets): >= 95 % of it leaves as
#     SRTP that authenticates with the shim's logged keys, nothing in clear
#     (the shim holds, i.e. drops, sipp's RTP during the handshake: 98-99 %
#     measured, as between two shimmed sipps; linphonec's STUN request
#     queued before its Hello no longer delays it: see hello_delay in
#     lib_linphone.sh and README.md, "Interop");
#   - SRTP flows the other way too (linphonec -> sipp), authenticated with
#     the same keys; linphonec's own cleartext, if any, counted apart.
. "$(dirname "$0")/lib_linphone.sh"
need sipp

cd "$W" || exit 99
tone s440.wav 440 6
sox s440.wav -t raw -e u-law -r 8000 -c 1 audio.ulaw   # the scenarios' file
SENT=$(($(stat -c %s audio.ulaw) / 160))
tone l660.wav 660 20
SIPP_MIN=$((SENT * 95 / 100))

# --- A: shimmed sipp UAC -> linphonec --------------------------------------------
SU=5791 LB=5795 MU=16700 RB=7978
linphone_dir bob bob $LB $RB
linphone_rc bob
start_cap "$W/a.pcap" "udp and host 127.0.0.1 and (port $SU or port $LB or portrange $MU-$((MU + 1)) or portrange $RB-$((RB + 1)))" 2>"$W/tcpdump.err"
bg linphonec_run bob 22 "play $W/l660.wav
record $W/bob/rec.wav
@12
quit" -a
LPID=$BGPID
sleep 2
shimmed uac timeout -k 5 20 sipp 127.0.0.1:$LB -s bob -sf "$E2E_SRC/examples/sipp/uac.xml" \
	-i 127.0.0.1 -p $SU -bind_local -mi 127.0.0.1 -mp $MU -cp 8790 \
	-m 1 -nostdin -trace_err -error_file "$W/uac.err" >"$W/uac.out" 2>&1 ||
	fail "A: sipp UAC exited $? (see $W/uac.err)"
wait $LPID
stop_cap

echo "A: shimmed sipp UAC calls linphonec (ZRTP mandatory)"
PB=$(sdp_port "$W/a.pcap" $LB)
note "media ports: sipp $MU, linphonec $PB"
if [ -n "$PB" ]; then
	check_handshake "$W/a.pcap" $MU "$PB"
	dir_counts "$W/a.pcap" "$W/keys.log" $MU "$PB"
	check_shim_clean $SIPP_MIN
	check_lpc_srtp 250
	A_CLEAR=$LPC_CLEAR
	note "sipp sent $SENT RTP packets, $(dc shim srtp) left as SRTP ($(($(dc shim srtp) * 100 / SENT)) %)"
	hello_delay "$W/a.pcap" $MU "$PB"
else
	fail "A: no SDP answer from linphonec in the capture"
fi
sas_check "$W/uac.log" bob
check_tone "$W/bob/rec.wav" 440 "A: linphonec"

# --- B: linphonec -> shimmed sipp UAS ---------------------------------------------
SS=5793 LC=5797 MS=16710 RC=8078
linphone_dir carol carol $LC $RC
linphone_rc carol
start_cap "$W/b.pcap" "udp and host 127.0.0.1 and (port $SS or port $LC or portrange $MS-$((MS + 1)) or portrange $RC-$((RC + 1)))" 2>>"$W/tcpdump.err"
bg shimmed uas timeout -k 5 25 sipp -sf "$E2E_SRC/examples/sipp/uas.xml" \
	-i 127.0.0.1 -p $SS -bind_local -mi 127.0.0.1 -mp $MS -cp 8791 \
	-m 1 -nostdin -trace_err -error_file "$W/uas.err" >"$W/uas.out" 2>&1
SPID=$BGPID
sleep 0.5
linphonec_run carol 20 "play $W/l660.wav
record $W/carol/rec.wav
call sip:sipp@127.0.0.1:$SS
@9
terminate
@1
quit"
wait $SPID || fail "B: sipp UAS exited $? (see $W/uas.err)"
stop_cap

echo "B: linphonec (ZRTP mandatory) calls shimmed sipp UAS"
PC=$(sdp_port "$W/b.pcap" $LC)
note "media ports: sipp $MS, linphonec $PC"
if [ -n "$PC" ]; then
	check_handshake "$W/b.pcap" $MS "$PC"
	dir_counts "$W/b.pcap" "$W/keys.log" $MS "$PC"
	check_shim_clean $SIPP_MIN
	check_lpc_srtp 250
	B_CLEAR=$LPC_CLEAR
	note "sipp sent $SENT RTP packets, $(dc shim srtp) left as SRTP ($(($(dc shim srtp) * 100 / SENT)) %)"
	hello_delay "$W/b.pcap" $MS "$PC"
else
	fail "B: no SDP offer from linphonec in the capture"
fi
sas_check "$W/uas.log" carol
check_tone "$W/carol/rec.wav" 440 "B: linphonec"

# --- C: linphonec -> shimmed sipp UAS that echoes --------------------------------
SE=5799 LD=5801 ME=16720 RD=8478
linphone_dir dave dave $LD $RD
linphone_rc dave
start_cap "$W/c.pcap" "udp and host 127.0.0.1 and (port $SE or port $LD or portrange $ME-$((ME + 1)) or portrange $RD-$((RD + 1)))" 2>>"$W/tcpdump.err"
bg shimmed echo timeout -k 5 25 sipp -sf "$E2E_SRC/examples/sipp/uas_echo.xml" -rtp_echo \
	-i 127.0.0.1 -p $SE -bind_local -mi 127.0.0.1 -mp $ME -cp 8792 \
	-m 1 -nostdin -trace_err -error_file "$W/echo.err" >"$W/echo.out" 2>&1
SPID=$BGPID
sleep 0.5
linphonec_run dave 20 "play $W/l660.wav
record $W/dave/rec.wav
call sip:sipp@127.0.0.1:$SE
@9
terminate
@1
quit"
wait $SPID || fail "C: sipp UAS exited $? (see $W/echo.err)"
stop_cap

echo "C: linphonec (ZRTP mandatory) calls shimmed sipp UAS with -rtp_echo"
PD=$(sdp_port "$W/c.pcap" $LD)
note "media ports: sipp $ME, linphonec $PD"
if [ -n "$PD" ]; then
	check_handshake "$W/c.pcap" $ME "$PD"
	dir_counts "$W/c.pcap" "$W/keys.log" $ME "$PD"
	check_shim_clean 250
	check_lpc_srtp 250
	C_CLEAR=$LPC_CLEAR
	# sipp echoes each packet it reads: with nothing lost on the shim's
	# receive path, as many come back as linphonec sent (but the few
	# in flight at hang-up)
	if [ "$(dc shim srtp)" -ge $(($(dc lpc srtp) - 5)) ]; then
		pass "C: sipp echoed $(dc shim srtp) of linphonec's $(dc lpc srtp) SRTP packets (the shim decrypted each on sipp's read, encrypted each echo)"
	else
		fail "C: sipp echoed only $(dc shim srtp) of linphonec's $(dc lpc srtp) SRTP packets"
	fi
else
	fail "C: no SDP offer from linphonec in the capture"
fi
sas_check "$W/echo.log" dave
check_tone "$W/dave/rec.wav" 660 "C: linphonec (its own tone, echoed by sipp)"

note "linphonec's cleartext RTP before its handshake: A ${A_CLEAR:-?}, B ${B_CLEAR:-?}, C ${C_CLEAR:-?}"
finish
