#!/bin/sh
# Issue item 3 (and 7: verify must fail on the opportunistic capture):
# baresip alice under the shim calls a plain baresip bob.
#   require:        the capture holds no cleartext RTP from alice, and her
#                   log says why (ZRTP failed: no ZRTP peer);
#   opportunistic:  audio flows both ways (each side records the other's
#                   tone), alice's log warns that media is in clear, and
#                   `zrtpshim verify` fails on the capture.
# The shim gives up on a silent peer after its Hello retries (about 4 s),
# so these calls last 12 s.
. "$(dirname "$0")/lib.sh"
need baresip

cd "$W" || exit 99
tone alice.wav 440 12
tone bob.wav 660 16

one_call() { # POLICY SIPPORT_A SIPPORT_B RTPBASE_A RTPBASE_B CTRL
	pol=$1
	baresip_dir "a-$pol" alice "$2" "$6" "$4" "$W/alice.wav"
	baresip_dir "b-$pol" bob "$3" $(($6 + 1)) "$5" "$W/bob.wav"
	start_cap "$W/$pol.pcap" "udp and host 127.0.0.1 and (port $2 or port $3 or portrange $4-$(($4 + 9)) or portrange $5-$(($5 + 9)))" 2>"$W/tcpdump.err"
	bg timeout -k 5 24 baresip -f "$W/b-$pol" -t 17 >"$W/b-$pol.out" 2>&1
	bobpid=$BGPID
	sleep 1
	ZRTPSHIM_POLICY=$pol shimmed "alice-$pol" timeout -k 5 24 baresip \
		-f "$W/a-$pol" -e "/dial sip:bob@127.0.0.1:$3" -t 15 \
		>"$W/a-$pol.out" 2>&1
	wait $bobpid
	stop_cap
	PA=$(tshark -r "$W/$pol.pcap" -Y "sdp && udp.srcport==$2" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
	PB=$(tshark -r "$W/$pol.pcap" -Y "sdp && udp.srcport==$3" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
	note "$pol: media ports alice $PA, bob $PB"
	media_counts "$W/$pol.pcap" "${PA:-1}" "${PB:-1}" >"$W/counts"
	sed "s/^/  $pol: sent from port /" "$W/counts"
}

# --- require ----------------------------------------------------------------
one_call require 5371 5373 10400 10500 4461
c=$(field "$PA" clear)
s=$(field "$PA" srtp)
if [ -n "$PA" ] && [ "${c:-0}" -eq 0 ] && [ "${s:-0}" -eq 0 ]; then
	pass "require: no RTP at all from alice's port $PA (clear ${c:-0}, srtp ${s:-0})"
else
	fail "require: alice's port ${PA:-?} sent clear ${c:-0} / srtp ${s:-0} RTP"
fi
if grep -q "ZRTP FAILED: no ZRTP peer\|event: failed .*no ZRTP peer" "$W/alice-require.log"; then
	pass "require: alice's log says why: $(grep -m1 -o 'ZRTP FAILED: [^;]*' "$W/alice-require.log")"
else
	fail "require: alice's log does not say that ZRTP failed for want of a peer"
fi

# --- opportunistic ------------------------------------------------------------
one_call opportunistic 5471 5473 10600 10700 4471
c=$(field "$PA" clear)
cb=$(field "$PB" clear)
note "opportunistic: clear RTP alice ${c:-0}, bob ${cb:-0}"
if grep -q "IN CLEAR" "$W/alice-opportunistic.log"; then
	pass "opportunistic: alice's log warns: $(grep -m1 -o 'the peer does not speak ZRTP[^(]*' "$W/alice-opportunistic.log")"
else
	fail "opportunistic: no warning about media in clear in alice's log"
fi
set -- $(dump_freq "$W/b-opportunistic/snd")
if within3 "$1" 440 && awk -v s="$2" 'BEGIN { exit !(s >= 2) }'; then
	pass "opportunistic: bob heard alice: $1 Hz for $2 s"
else
	fail "opportunistic: bob did not hear alice's 440 Hz: $1 Hz for $2 s"
fi
set -- $(dump_freq "$W/a-opportunistic/snd")
if within3 "$1" 660 && awk -v s="$2" 'BEGIN { exit !(s >= 2) }'; then
	pass "opportunistic: alice heard bob: $1 Hz for $2 s"
else
	fail "opportunistic: alice did not hear bob's 660 Hz: $1 Hz for $2 s"
fi
# No stream became secure, so the shim wrote no keys: an empty key log.
touch "$W/keys.log"
run_verify "$W/opportunistic.pcap" --keylog "$W/keys.log"
rc=$?
if [ $rc -eq 1 ]; then
	pass "opportunistic: zrtpshim verify --keylog fails (exit 1) as it must"
else
	fail "opportunistic: zrtpshim verify --keylog exited $rc, want 1"
fi
finish
