#!/bin/sh
# Ten calls on one media address (issue 12 item 6 B): sipp 3.6's
# rtp_stream sends every call from one socket and announces its one port
# in every call. sipp -m 10 -l 10 (ten calls at once), both ends under the
# shim. The calls cannot be told apart on the wire (the same addresses
# both ways); the shim gives the socket one ZRTP stream, the first call's,
# and the later calls ride on it. Judged from the capture and the logs:
#   - no "POSSIBLE ATTACK" in either log, and each side says once, at
#     WARN, that calls share one media address (and at INFO for each of
#     the nine other calls that it rides on the first one);
#   - one handshake, each side's Hello matching the a=zrtp-hash of every
#     call's SDP (the later calls announce the first one's Hello);
#   - no cleartext RTP, and >= 95 % of what the ten calls sent arrives as
#     SRTP: the first calls keep their media after the third starts;
#   - `zrtpshim verify` passes, without and with --keylog, every packet
#     authenticated.
. "$(dirname "$0")/lib.sh"
need sipp

SIPA=5244 SIPB=5245 MA=12720 MB=12620 N=10
cd "$W" || exit 99
tone t.wav 440 3
sox t.wav -t raw -e u-law -r 8000 -c 1 audio.ulaw
SENT=$(($(stat -c %s audio.ulaw) / 160 * N))

start_cap "$W/call.pcap" "udp and host 127.0.0.1 and (port $SIPA or port $SIPB or portrange $MA-$((MA + 1)) or portrange $MB-$((MB + 1)))"
bg shimmed uas timeout -k 5 60 sipp -sf "$E2E_SRC/examples/sipp/uas.xml" \
	-i 127.0.0.1 -p $SIPA -bind_local -mi 127.0.0.1 -mp $MA -cp 8904 \
	-m $N -nostdin -trace_err -error_file "$W/uas.err" >"$W/uas.out" 2>&1
UAS=$BGPID
sleep 0.5
shimmed uac timeout -k 5 60 sipp 127.0.0.1:$SIPA -sf "$E2E_SRC/tests/e2e/uac_short.xml" \
	-d 4000 -i 127.0.0.1 -p $SIPB -bind_local -mi 127.0.0.1 -mp $MB -cp 8905 \
	-m $N -l $N -nostdin -trace_err -error_file "$W/uac.err" >"$W/uac.out" 2>&1 ||
	fail "sipp UAC exited $? (see $W/uac.err)"
wait $UAS || fail "sipp UAS exited $?"
stop_cap

for side in uac uas; do
	l="$W/$side.log"
	a=$(grep -c 'POSSIBLE ATTACK' "$l")
	w=$(grep -c 'WARN media .*: calls share one media address' "$l")
	r=$(grep -c 'INFO media .*: rides on ' "$l")
	[ "$a" -eq 0 ] && pass "$side: no attack alarm" || fail "$side: $a attack alarms"
	if [ "$w" -eq 1 ] && [ "$r" -eq $((N - 2)) ]; then
		pass "$side: 'calls share one media address' said once, $r more calls ride on it"
	else
		fail "$side: want the shared-address WARN once and $((N - 2)) riders: $w WARN, $r riders"
	fi
	sed -n 's/.*WARN \(media .*calls share one media address\).*/  \1 .../p' "$l"
	grep -q 'the last call sharing its socket ended: stream ended' "$l" &&
		pass "$side: the shared stream ended with the last call" ||
		fail "$side: the shared stream did not end with the last call"
done
check_handshake "$W/call.pcap" $MA $MB
media_counts "$W/call.pcap" $MA $MB >"$W/counts"
sed 's/^/  sent from port /' "$W/counts"
for p in $MB $MA; do
	s=$(field $p srtp) c=$(field $p clear)
	s=${s:-0} c=${c:-0}
	if [ $((s * 100)) -ge $((SENT * 95)) ]; then
		pass "port $p: $s of the $SENT RTP packets the $N calls sent arrived as SRTP"
	else
		fail "port $p: only $s of the $SENT RTP packets the $N calls sent arrived as SRTP (want >= 95 %)"
	fi
	[ "$c" -eq 0 ] && pass "port $p: no cleartext RTP" || fail "port $p: $c cleartext RTP"
done
if run_verify "$W/call.pcap"; then
	pass "zrtpshim verify: PASS"
else
	fail "zrtpshim verify did not pass"
fi
grep -q "calls with SDP $N" "$W/verify.out" || fail "verify did not see the $N calls"
if run_verify "$W/call.pcap" --keylog "$W/keys.log"; then
	pass "zrtpshim verify --keylog: PASS"
else
	fail "zrtpshim verify --keylog did not pass"
fi
grep -q 'FAILED 0, no key 0' "$W/verify.out" && ! grep -q 'FAILED [1-9]' "$W/verify.out" &&
	pass "every SRTP packet authenticated" || fail "not every SRTP packet authenticated"
finish
