#!/bin/sh
# Issue item 2 (and 7 for this capture): baresip <-> baresip, both under
# the shim with default settings; alice says 440 Hz for 6 s, bob 660 Hz
# (longer: alice's file ending ends the call). Judged from the capture, the
# shim logs and status files, and the audio each side recorded:
#   - a complete ZRTP handshake on the wire;
#   - >= 95 % of the RTP each client handed to the shim arrives as SRTP
#     (what it handed over: the shim's status counters, sent = srtp + held
#     + dropped + clear);
#   - no cleartext RTP; both logs show the same SAS; distinct ZIDs;
#   - bob recorded 440 Hz and alice 660 Hz (within 3 %);
#   - `zrtpshim verify` passes, without and with --keylog.
. "$(dirname "$0")/lib.sh"
need baresip

SA=5271 SB=5273
cd "$W" || exit 99
tone alice.wav 440 6
tone bob.wav 660 10
baresip_dir alice alice $SA 4451 10200 "$W/alice.wav"
baresip_dir bob bob $SB 4452 10300 "$W/bob.wav"

start_cap "$W/call.pcap" "udp and host 127.0.0.1 and (port $SA or port $SB or portrange 10200-10209 or portrange 10300-10309)" 2>"$W/tcpdump.err"
bg shimmed bob timeout -k 5 20 baresip -f "$W/bob" -t 14 >"$W/bob.out" 2>&1
BOB=$BGPID
sleep 1
shimmed alice timeout -k 5 20 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1:$SB" -t 11 >"$W/alice.out" 2>&1
wait $BOB
stop_cap

# The media ports, from the SDP on the wire.
PA=$(tshark -r "$W/call.pcap" -Y "sdp && udp.srcport==$SA" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
PB=$(tshark -r "$W/call.pcap" -Y "sdp && udp.srcport==$SB" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
note "media ports: alice $PA, bob $PB"
[ -n "$PA" ] && [ -n "$PB" ] || { fail "no SDP offer/answer in the capture"; finish; }

check_handshake "$W/call.pcap" "$PA" "$PB"
media_counts "$W/call.pcap" "$PA" "$PB" >"$W/counts"
sed 's/^/  sent from port /' "$W/counts"
status_sent "$W/state/zrtpshim/status" >"$W/sent" 2>&1
sed 's/^/  status: pid stream sent srtp phase: /' "$W/sent"
for side in alice bob; do
	if [ $side = alice ]; then p=$PA; else p=$PB; fi
	pid=$(sed -n 's/^zrtpshim\[\([0-9]*\)\].*event: secure.*/\1/p' "$W/$side.log" | tail -1)
	sent=$(awk -v pid="$pid" '$1 == pid { print $3 }' "$W/sent" | head -1)
	s=$(field "$p" srtp)
	c=$(field "$p" clear)
	s=${s:-0} c=${c:-0} sent=${sent:-0}
	if [ "$sent" -gt 0 ] && [ $((s * 100)) -ge $((sent * 95)) ]; then
		pass "$side: $s of the $sent RTP packets baresip sent arrived as SRTP ($((s * 100 / sent)) %)"
	else
		fail "$side: $s SRTP packets on the wire of $sent baresip sent (want >= 95 %)"
	fi
	if [ "$c" -eq 0 ]; then
		pass "$side: no cleartext RTP"
	else
		fail "$side: $c cleartext RTP packets on the wire"
	fi
done
check_same_sas "$W/alice.log" "$W/bob.log"

set -- $(dump_freq "$W/bob/snd")
if within3 "$1" 440 && awk -v s="$2" 'BEGIN { exit !(s >= 2) }'; then
	pass "bob heard alice: $1 Hz for $2 s"
else
	fail "bob did not hear alice's 440 Hz: $1 Hz for $2 s"
fi
set -- $(dump_freq "$W/alice/snd")
if within3 "$1" 660 && awk -v s="$2" 'BEGIN { exit !(s >= 2) }'; then
	pass "alice heard bob: $1 Hz for $2 s"
else
	fail "alice did not hear bob's 660 Hz: $1 Hz for $2 s"
fi

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
