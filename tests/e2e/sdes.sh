#!/bin/sh
# SDES-SRTP clients (RTP/SAVP) under the shim.
# 1. baresip alice and bob, both `mediaenc=srtp-mand` (their own SDES
#    SRTP, RTP/SAVP), both shimmed, directly: each SAVP m-line carries
#    a=zrtp-hash, ZRTP completes with the same SAS, the clients' SRTP goes
#    inside ours (zrtpshim verify --keylog authenticates every packet with
#    the shim's keys: no cleartext, nothing unknown), each hears the other.
# 2. Behind an SBC that terminates SRTP toward alice (rtpengine told to
#    offer bob plain RTP/AVP, driven by tests/e2e/sbc.py), bob a plain
#    unshimmed baresip: nothing from alice's shimmed client leaves in
#    clear, and alice's log says why the call cannot be secured.
. "$(dirname "$0")/lib.sh"
need baresip

cd "$W" || exit 99
tone alice.wav 440 6
tone bob.wav 660 10
srtp_dir() { # DIR: SDES-SRTP mandatory
	sed -i 's/^module\t\t\tg711.so/module\t\t\tg711.so\nmodule\t\t\tsrtp.so/' "$W/$1/config"
	grep -q '^module.*srtp.so' "$W/$1/config" || echo "module			srtp.so" >>"$W/$1/config"
	sed -i 's/;ptime=20/;ptime=20;mediaenc=srtp-mand/' "$W/$1/accounts"
}

# --- 1: both SDES, both shimmed ---------------------------------------------
SA=5210 SB=5212
baresip_dir alice alice $SA 4490 12400 "$W/alice.wav"
baresip_dir bob bob $SB 4491 12420 "$W/bob.wav"
srtp_dir alice
srtp_dir bob
start_cap "$W/sdes.pcap" "udp and host 127.0.0.1 and (port $SA or port $SB or portrange 12400-12409 or portrange 12420-12429)" 2>"$W/tcpdump.err"
bg shimmed bob timeout -k 5 20 baresip -f "$W/bob" -t 14 >"$W/bob.out" 2>&1
BOB=$BGPID
sleep 1
shimmed alice timeout -k 5 20 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1:$SB" -t 11 >"$W/alice.out" 2>&1
wait $BOB
stop_cap

for who in "alice's offer:udp.dstport==$SB" "bob's answer:udp.srcport==$SB"; do
	f=${who#*:}
	proto=$(tshark -r "$W/sdes.pcap" -Y "sdp && $f" -T fields -e sdp.media 2>/dev/null | head -1)
	attrs=$(tshark -r "$W/sdes.pcap" -Y "sdp && $f" -T fields -e sdp.media_attr 2>/dev/null | head -1)
	case $proto in
	*RTP/SAVP*) ;;
	*) fail "${who%%:*} is not RTP/SAVP: $proto"; continue ;;
	esac
	if echo "$attrs" | grep -q zrtp-hash && echo "$attrs" | grep -q crypto; then
		pass "${who%%:*}: RTP/SAVP with the client's a=crypto and our a=zrtp-hash"
	else
		fail "${who%%:*}: no a=zrtp-hash (or no a=crypto) on the SAVP line: $attrs"
	fi
done
check_same_sas "$W/alice.log" "$W/bob.log"
verify_sum "$W/sdes.pcap" "$W/sum"
note "$(cat "$W/sum")"
sum() { vsum "$W/sum" "$1"; }
if [ "$(sum rtp_clear)" = 0 ] && [ "$(sum rtcp_clear)" = 0 ] &&
   [ "$(sum rtp_unknown)" = 0 ] && [ "$(sum rtcp_unknown)" = 0 ] &&
   [ "$(sum dirs_srtp)" -ge 2 ] && [ "$(sum auth_fail)" = 0 ] &&
   [ "$(sum no_key)" = 0 ] && [ "$(sum auth_ok)" -ge 400 ]; then
	pass "the clients' SRTP went inside ours: every packet authenticated with the shim's keys, none in clear"
else
	fail "SDES media not wrapped: $(cat "$W/sum")"
fi
dump_heard "$W/bob/snd" 440 "bob (through both layers)"

# --- 2: an SBC terminates SRTP toward alice ---------------------------------
if ! command -v rtpengine >/dev/null 2>&1; then
	note "rtpengine is not installed: the SBC case is not run"
	finish
fi
SA=5214 SB=5216 SP=5218 NG=2241
baresip_dir sa alice $SA 4492 12440 "$W/alice.wav"
baresip_dir sb bob $SB 4493 12460 "$W/bob.wav"
srtp_dir sa
bg timeout -k 2 40 rtpengine --config-file=none --foreground --table=-1 \
	--interface=127.0.0.1 --listen-ng=127.0.0.1:$NG \
	--port-min=30400 --port-max=30599 --log-stderr --log-level=6 \
	>"$W/rtpengine.log" 2>&1
sleep 1
bg timeout -k 2 40 python3 "$E2E_SRC/tests/e2e/sbc.py" $SP $SA $SB $NG \
	'{"transport-protocol": "RTP/AVP"}' >"$W/sbc.log" 2>&1
sleep 0.5
start_cap "$W/sbc.pcap" "udp and host 127.0.0.1 and (port $SA or port $SB or port $SP or portrange 12440-12469 or portrange 30400-30599)" 2>"$W/tcpdump.err"
bg timeout -k 5 20 baresip -f "$W/sb" -t 14 >"$W/sb.out" 2>&1
BOB=$BGPID
sleep 1
shimmed sa timeout -k 5 20 baresip -f "$W/sa" \
	-e "/dial sip:bob@127.0.0.1:$SP" -t 11 >"$W/sa.out" 2>&1
wait $BOB
stop_cap
bobsdp=$(tshark -r "$W/sbc.pcap" -Y "sdp && udp.dstport==$SB" -T fields -e sdp.media 2>/dev/null | head -1)
case $bobsdp in
*RTP/AVP*) pass "the SBC offered bob plain RTP/AVP: $bobsdp" ;;
*) fail "the SBC did not terminate SRTP toward bob: $bobsdp ($(tail -2 "$W/sbc.log"))" ;;
esac
PA=$(tshark -r "$W/sbc.pcap" -Y "sdp && udp.srcport==$SA" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
n_rtp=$(tshark -r "$W/sbc.pcap" -d "udp.port==${PA:-0},rtp" \
	-Y "(udp.srcport == ${PA:-0} || udp.srcport == $((${PA:-0} + 1))) && !zrtp" \
	2>/dev/null | wc -l)
n_zrtp=$(tshark -r "$W/sbc.pcap" -d "udp.port==${PA:-0},rtp" -Y "zrtp && udp.srcport == ${PA:-0}" 2>/dev/null | wc -l)
if [ -n "$PA" ] && [ "$n_rtp" -eq 0 ]; then
	pass "nothing but ZRTP left alice's ports $PA/$((PA + 1)) ($n_zrtp ZRTP packets)"
else
	fail "alice's ports ${PA:-?} sent $n_rtp packets that are not ZRTP"
fi
if grep -q 'ZRTP FAILED: .*no media will be sent' "$W/sa.log"; then
	pass "alice's log says why: $(grep -m1 -o 'ZRTP FAILED: .*' "$W/sa.log" | cut -c1-150)"
else
	fail "alice's log does not say why the call cannot be secured"
fi
finish
