#!/bin/sh
# Issue item 1 (and 7 for this capture): sipp <-> sipp, both under the
# shim, each streaming a 6 s tone with rtp_stream (neither reads its media
# socket). Judged from the capture and the logs:
#   - a complete ZRTP handshake on the wire;
#   - >= 95 % of the RTP each client sent arrives as SRTP (each sends the
#     whole file once: 48000 u-law bytes = 300 packets);
#   - no cleartext RTP in the capture;
#   - both logs show the same SAS; the two ZIDs differ (default settings);
#   - `zrtpshim verify` passes, without and with --keylog.
. "$(dirname "$0")/lib.sh"
need sipp

SIPA=5190 SIPB=5191 MA=16100 MB=16000
cd "$W" || exit 99
tone t.wav 440 6
sox t.wav -t raw -e u-law -r 8000 -c 1 audio.ulaw
SENT=$(($(stat -c %s audio.ulaw) / 160))

start_cap "$W/call.pcap" "udp and host 127.0.0.1 and (port $SIPA or port $SIPB or portrange $MB-$((MB + 1)) or portrange $MA-$((MA + 1)))"
bg shimmed uas timeout -k 5 30 sipp -sf "$E2E_SRC/examples/sipp/uas.xml" \
	-i 127.0.0.1 -p $SIPA -bind_local -mi 127.0.0.1 -mp $MA -cp 8990 \
	-m 1 -nostdin -trace_err -error_file "$W/uas.err" >"$W/uas.out" 2>&1
UAS=$BGPID
sleep 0.5
shimmed uac timeout -k 5 30 sipp 127.0.0.1:$SIPA -sf "$E2E_SRC/examples/sipp/uac.xml" \
	-i 127.0.0.1 -p $SIPB -bind_local -mi 127.0.0.1 -mp $MB -cp 8991 \
	-m 1 -nostdin -trace_err -error_file "$W/uac.err" >"$W/uac.out" 2>&1 ||
	fail "sipp UAC exited $? (see $W/uac.err)"
wait $UAS || fail "sipp UAS exited $?"
stop_cap

check_handshake "$W/call.pcap" $MA $MB
media_counts "$W/call.pcap" $MA $MB >"$W/counts"
sed 's/^/  sent from port /' "$W/counts"
for p in $MB $MA; do
	s=$(field $p srtp)
	c=$(field $p clear)
	s=${s:-0} c=${c:-0}
	if [ $((s * 100)) -ge $((SENT * 95)) ]; then
		pass "port $p: $s of the $SENT RTP packets sipp sent arrived as SRTP ($((s * 100 / SENT)) %)"
	else
		fail "port $p: only $s of the $SENT RTP packets sipp sent arrived as SRTP ($((s * 100 / SENT)) %, want >= 95 %)"
	fi
	if [ "$c" -eq 0 ]; then
		pass "port $p: no cleartext RTP"
	else
		fail "port $p: $c cleartext RTP packets on the wire"
	fi
done
check_same_sas "$W/uac.log" "$W/uas.log"

if run_verify "$W/call.pcap"; then
	pass "zrtpshim verify: PASS"
else
	fail "zrtpshim verify did not pass"
fi
if run_verify "$W/call.pcap" --keylog "$W/keys.log"; then
	pass "zrtpshim verify --keylog: PASS"
else
	fail "zrtpshim verify --keylog did not pass"
fi
finish
