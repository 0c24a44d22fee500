#!/bin/sh
# Altered media end to end: two shimmed baresips through rtpengine told to
# transcode (alice PCMU, bob PCMA only; tests/e2e/sbc.py is the SIP proxy
# that drives rtpengine's ng protocol). ZRTP passes rtpengine untouched,
# so both sides go secure; rtpengine then re-encodes what it takes for
# PCMU/PCMA (our SRTP), and nothing authenticates on either side. Judged:
#   - both logs: secure with the same SAS, then "event: altered" once
#     (ZRTPSHIM_ALTERED_MS 1500; its timing is judged in media_test);
#   - the ZRTPSHIM_ON_EVENT command ran with ZRTPSHIM_EVENT=altered on both;
#   - both status files: the stream "altered": true, last_event altered;
#   - nothing in clear: every packet our two clients' media ports sent is
#     ZRTP or SRTP-sized (no 180-byte G.711 RTP), the shims passed nothing
#     clear (tx_clear 0), and neither baresip heard a tone.
# Ports: SIP 5144/5146 (+1 for baresip's TLS), proxy 5150, RTP
# 12100-12109 / 12120-12129, ctrl_tcp 4462/4463, rtpengine ng 2231 and
# media 30000-30199.
. "$(dirname "$0")/lib.sh"
need baresip rtpengine

SA=5144 SB=5146 SP=5150 NG=2231 ALTERED=1500
cd "$W" || exit 99
tone alice.wav 440 8
tone bob.wav 660 12
baresip_dir alice alice $SA 4462 12100 "$W/alice.wav"
baresip_dir bob bob $SB 4463 12120 "$W/bob.wav"
sed -i 's/audio_codecs=PCMU/audio_codecs=PCMA/' "$W/bob/accounts"

bg timeout -k 2 40 rtpengine --config-file=none --foreground --table=-1 \
	--interface=127.0.0.1 --listen-ng=127.0.0.1:$NG \
	--port-min=30000 --port-max=30199 --log-stderr --log-level=6 \
	>"$W/rtpengine.log" 2>&1
sleep 1
kill -0 $BGPID 2>/dev/null || { fail "rtpengine did not start: $(tail -3 "$W/rtpengine.log")"; finish; }
bg timeout -k 2 40 python3 "$E2E_SRC/tests/e2e/sbc.py" $SP $SA $SB $NG \
	'{"codec": {"transcode": ["PCMA"], "mask": ["PCMU"]}}' >"$W/sbc.log" 2>&1
sleep 0.5

start_cap "$W/call.pcap" "udp and host 127.0.0.1 and (port $SA or port $SB or port $SP or portrange 12100-12129 or portrange 30000-30199)" 2>"$W/tcpdump.err"
export ZRTPSHIM_ALTERED_MS=$ALTERED
for side in alice bob; do
	: >"$W/$side.events"
done
on_event() { echo "echo \"\$ZRTPSHIM_EVENT \$ZRTPSHIM_STREAM \$ZRTPSHIM_REASON\" >>$W/$1.events"; }
ZRTPSHIM_ON_EVENT=$(on_event bob)
export ZRTPSHIM_ON_EVENT
bg shimmed bob timeout -k 5 25 baresip -f "$W/bob" -t 16 >"$W/bob.out" 2>&1
BOB=$BGPID
sleep 1
ZRTPSHIM_ON_EVENT=$(on_event alice)
shimmed alice timeout -k 5 25 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1:$SP" -t 13 >"$W/alice.out" 2>&1
wait $BOB
stop_cap
note "$(grep -c 'through rtpengine' "$W/sbc.log") SDP(s) through rtpengine"

check_same_sas "$W/alice.log" "$W/bob.log"
for side in alice bob; do
	n=$(grep -c 'event: altered stream=' "$W/$side.log")
	if [ "$n" -eq 1 ]; then
		pass "$side: one altered event: $(sed -n 's/.*\(event: altered stream=.*\)/\1/p' "$W/$side.log" | cut -c1-160)"
	else
		fail "$side: $n altered events in its log (want 1)"
	fi
	ls=$(grep -n 'event: secure' "$W/$side.log" | head -1 | cut -d: -f1)
	la=$(grep -n 'event: altered stream=' "$W/$side.log" | head -1 | cut -d: -f1)
	if [ -n "$ls" ] && [ -n "$la" ] && [ "$ls" -lt "$la" ]; then
		pass "$side: altered after secure"
	else
		fail "$side: altered (line ${la:-none}) not after secure (line ${ls:-none})"
	fi
	if grep -q '^altered ' "$W/$side.events"; then
		pass "$side: ZRTPSHIM_ON_EVENT ran with ZRTPSHIM_EVENT=altered"
	else
		fail "$side: no altered event reached ZRTPSHIM_ON_EVENT ($(cat "$W/$side.events" | tr '\n' ';'))"
	fi
	if grep -q 'event: altered-end' "$W/$side.log"; then
		fail "$side: an altered-end, yet nothing could authenticate"
	fi
done

python3 - "$W/state/zrtpshim/status" >"$W/status.txt" 2>&1 <<'EOF'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + '/*.json')):
    d = json.load(open(f))
    for s in d['streams'] + d.get('history', []):
        c = s['counters']
        print(d['pid'], s['name'], s['phase'], s.get('altered'), s['last_event'],
              c['tx_clear'], c['rx_srtp'], c['rx_auth_fail'])
EOF
sed 's/^/  status: pid stream phase altered last_event tx_clear rx_srtp rx_auth_fail: /' "$W/status.txt"
n=$(awk '$4 == "True" && $5 == "altered"' "$W/status.txt" | wc -l)
if [ "$n" -eq 2 ]; then
	pass "both status files: altered, last_event altered"
else
	fail "$n status file stream(s) show altered (want 2)"
fi
if awk '$6 != 0 { bad = 1 } END { exit bad }' "$W/status.txt" && [ -s "$W/status.txt" ]; then
	pass "the shims sent nothing in clear (tx_clear 0)"
else
	fail "a shim passed RTP in clear"
fi

# Our clients' media ports, from their SDP as they sent it.
PA=$(tshark -r "$W/call.pcap" -Y "sdp && udp.srcport==$SA" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
PB=$(tshark -r "$W/call.pcap" -Y "sdp && udp.srcport==$SB" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
note "media ports: alice $PA, bob $PB"
if [ -n "$PA" ] && [ -n "$PB" ]; then
	for p in $PA $PB; do
		tshark -r "$W/call.pcap" -Y "udp.srcport==$p" -T fields -e udp.length 2>/dev/null |
			awk -v p="$p" '{ n++; if ($1 == 180) clear++; else if ($1 == 190) srtp++ }
				END { printf "%s sent=%d srtp=%d clear=%d\n", p, n, srtp, clear }'
	done >"$W/sizes"
	sed 's/^/  from port /' "$W/sizes"
	if awk '$4 != "clear=0" || $3 == "srtp=0" { bad = 1 } END { exit bad }' "$W/sizes"; then
		pass "our clients' media ports sent SRTP and no 180-byte cleartext RTP"
	else
		fail "cleartext-sized RTP (or no SRTP) from our clients' media ports"
	fi
else
	fail "no SDP from the clients in the capture"
fi
for side in alice bob; do
	set -- $(dump_freq "$W/$side/snd")
	if awk -v s="$2" 'BEGIN { exit !(s < 0.5) }'; then
		pass "$side heard no tone (nothing failing authentication delivered)"
	else
		fail "$side heard $1 Hz for $2 s"
	fi
done
finish
