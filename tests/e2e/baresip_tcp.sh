#!/bin/sh
# SIP over TCP, both ends: baresip alice calls baresip bob with
# ;transport=tcp, both under the shim. Bob is the TCP server: his side of
# the signalling runs on a connection he accept()ed, which the shim must
# track to read alice's offer and put a=zrtp-hash into his answer.
# Judged from the capture and the shim logs:
#   - the INVITE and its 200 went over TCP (none over UDP);
#   - both SDPs on the wire carry a=zrtp-hash (bob's only if the shim saw
#     his accepted connection), and each side's Hello matches the hash the
#     other side's SDP announced (zrtpshim verify: zrtp_hash=match);
#   - bob's shim says it put a=zrtp-hash into his answer (its log);
#   - a complete ZRTP handshake, the same SAS, no cleartext RTP, >= 250
#     SRTP packets each way, and bob heard alice's 440 Hz.
. "$(dirname "$0")/lib.sh"
need baresip

SA=5275 SB=5277
cd "$W" || exit 99
tone alice.wav 440 6
tone bob.wav 660 10
baresip_dir alice alice $SA 4453 11200 "$W/alice.wav"
baresip_dir bob bob $SB 4454 11300 "$W/bob.wav"

start_cap "$W/call.pcap" "host 127.0.0.1 and ((tcp and (port $SA or port $SB)) or (udp and (port $SA or port $SB or portrange 11200-11209 or portrange 11300-11309)))" 2>"$W/tcpdump.err"
bg shimmed bob timeout -k 5 20 baresip -f "$W/bob" -t 14 >"$W/bob.out" 2>&1
BOB=$BGPID
sleep 1
shimmed alice timeout -k 5 20 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1:$SB;transport=tcp" -t 11 >"$W/alice.out" 2>&1
wait $BOB
stop_cap

n_tcp=$(tshark -r "$W/call.pcap" -Y "sip.Method == \"INVITE\" && tcp" 2>/dev/null | wc -l)
n_udp=$(tshark -r "$W/call.pcap" -Y "sip.Method == \"INVITE\" && udp" 2>/dev/null | wc -l)
if [ "$n_tcp" -ge 1 ] && [ "$n_udp" -eq 0 ]; then
	pass "the INVITE went over TCP ($n_tcp over TCP, $n_udp over UDP)"
else
	fail "INVITEs: $n_tcp over TCP, $n_udp over UDP"
fi
PA=$(tshark -r "$W/call.pcap" -Y "sdp && tcp.dstport==$SB" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
PB=$(tshark -r "$W/call.pcap" -Y "sdp && tcp.srcport==$SB" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
note "media ports: alice $PA, bob $PB"
[ -n "$PA" ] && [ -n "$PB" ] || { fail "no SDP offer/answer over TCP in the capture"; finish; }
for dir in "alice's offer:tcp.dstport==$SB" "bob's answer:tcp.srcport==$SB"; do
	if tshark -r "$W/call.pcap" -Y "sdp && ${dir#*:}" -T fields -e sdp.media_attr 2>/dev/null | grep -q zrtp-hash; then
		pass "${dir%%:*} carries a=zrtp-hash"
	else
		fail "${dir%%:*} has no a=zrtp-hash"
	fi
done
if grep -q "sip: call .*answer with a=zrtp-hash" "$W/bob.log"; then
	pass "bob's shim rewrote his answer on the accepted connection: $(grep -m1 'sip: call .*answer with' "$W/bob.log" | sed 's/^zrtpshim\[[0-9]*\]: //')"
else
	fail "bob's shim did not rewrite his answer"
fi

check_handshake "$W/call.pcap" "$PA" "$PB"
media_counts "$W/call.pcap" "$PA" "$PB" >"$W/counts"
sed 's/^/  sent from port /' "$W/counts"
for side in alice bob; do
	if [ $side = alice ]; then p=$PA; else p=$PB; fi
	s=$(field "$p" srtp) c=$(field "$p" clear)
	s=${s:-0} c=${c:-0}
	if [ "$c" -eq 0 ] && [ "$s" -ge 250 ]; then
		pass "$side: $s SRTP packets, no cleartext RTP"
	else
		fail "$side: $s SRTP, $c cleartext RTP packets on the wire"
	fi
done
check_same_sas "$W/alice.log" "$W/bob.log"
"$ZS" verify "$W/call.pcap" --json >"$W/verify.json" 2>"$W/verify.err"
hashes=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(" ".join(str(x.get("zrtp_hash")) for s in d.get("streams", []) for x in s.get("directions", [])))' "$W/verify.json")
note "zrtp_hash per direction: $hashes"
n_match=$(echo "$hashes" | tr ' ' '\n' | grep -c '^match$')
n_all=$(echo "$hashes" | wc -w)
if [ "$n_match" -ge 2 ] && [ "$n_match" -eq "$n_all" ]; then
	pass "each Hello matches the a=zrtp-hash its side announced over TCP ($hashes)"
else
	fail "a Hello did not match its a=zrtp-hash: $hashes"
fi
set -- $(dump_freq "$W/bob/snd")
if within3 "$1" 440 && awk -v s="$2" 'BEGIN { exit !(s >= 2) }'; then
	pass "bob heard alice: $1 Hz for $2 s"
else
	fail "bob did not hear alice's 440 Hz: $1 Hz for $2 s"
fi
finish
