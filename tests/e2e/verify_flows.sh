#!/bin/sh
# zrtpshim verify on real flows (issue 12 items 5 and 6), sipp <-> sipp,
# both under the shim, judged from the captures and the logs:
#   1. a re-INVITE moves the media: the callee (sipp -rtp_echo, which also
#      echoes on -mp + 2) answers it with [media_port+2]. The same call,
#      SSRC and keys go on over a new address pair with no handshake of
#      its own: verify passes (without and with --keylog), the moved pair
#      reported as continuing the secured stream, every packet of it
#      authenticated by the key log (its records name the old pair; their
#      stream= names the call), no cleartext on the wire.
#   2. 20 calls in a row on the same two sockets (sipp -m 20 -l 1): 20
#      streams, each with its own handshake and its Hello matching its own
#      call's SDP; verify passes (without and with --keylog).
#   3. the flow of 1 without the shim: cleartext on both address pairs,
#      and verify fails on both.
. "$(dirname "$0")/lib.sh"
need sipp

cd "$W" || exit 99
tone t.wav 440 6
sox t.wav -t raw -e u-law -r 8000 -c 1 audio.ulaw
tone s.wav 440 1
sox s.wav -t raw -e u-law -r 8000 -c 1 short.ulaw

# reinvite TAG SIPUAS SIPUAC MUAS MUAC CPUAS CPUAC SHIM(yes|no)
reinvite() {
	_run=""
	[ "$8" = yes ] && _run="shimmed $1"
	start_cap "$W/$1.pcap" "udp and host 127.0.0.1 and (port $2 or port $3 or portrange $4-$(($4 + 3)) or portrange $5-$(($5 + 1)))"
	bg $_run timeout -k 5 30 sipp -sf "$E2E_SRC/tests/e2e/uas_reinvite.xml" -rtp_echo \
		-i 127.0.0.1 -p "$2" -bind_local -mi 127.0.0.1 -mp "$4" -cp "$6" \
		-m 1 -nostdin -trace_err -error_file "$W/$1-uas.err" >"$W/$1-uas.out" 2>&1
	_uas=$BGPID
	sleep 0.5
	[ "$8" = yes ] && _run="shimmed $1-uac"
	$_run timeout -k 5 30 sipp "127.0.0.1:$2" -sf "$E2E_SRC/tests/e2e/uac_reinvite.xml" \
		-i 127.0.0.1 -p "$3" -bind_local -mi 127.0.0.1 -mp "$5" -cp "$7" \
		-m 1 -nostdin -trace_err -error_file "$W/$1-uac.err" >"$W/$1-uac.out" 2>&1 ||
		fail "$1: sipp UAC exited $? (see $W/$1-uac.err)"
	wait $_uas || fail "$1: sipp UAS exited $?"
	stop_cap
}

# --- 1. the re-INVITE --------------------------------------------------------
MA=12700 MB=12600
reinvite move 5240 5241 $MA $MB 8900 8901 yes
# the shim names the UAS's log after the tag, the UAC's TAG-uac
media_counts "$W/move.pcap" $MB $((MA + 2)) >"$W/counts"
s=$(field $MB srtp) c1=$(field $MB clear) c2=$(field $((MA + 2)) clear)
s=${s:-0} c1=${c1:-0} c2=${c2:-0}
if [ "$s" -ge 100 ] && [ "$c1" -eq 0 ] && [ "$c2" -eq 0 ]; then
	pass "moved pair $MB <-> $((MA + 2)): $s SRTP from $MB, no cleartext either way"
else
	fail "moved pair: srtp from $MB $s (want >= 100), clear $c1 / $c2"
fi
media_counts "$W/move.pcap" $MB $MA >"$W/counts"
c=$(field $MB clear)
[ "${c:-0}" -eq 0 ] && pass "first pair: no cleartext" || fail "first pair: $c cleartext"
if run_verify "$W/move.pcap"; then
	pass "verify: PASS on the moved call"
else
	fail "verify did not pass on the moved call"
fi
grep -q "continues stream 1" "$W/verify.out" &&
	pass "the moved pair is reported as continuing stream 1" ||
	fail "the moved pair is not tied to its call's stream"
if run_verify "$W/move.pcap" --keylog "$W/keys.log"; then
	pass "verify --keylog: PASS on the moved call"
else
	fail "verify --keylog did not pass on the moved call"
fi
"$ZS" verify "$W/move.pcap" --keylog "$W/keys.log" --json >"$W/move.json" 2>&1
python3 - "$W/move.json" <<'PY' && pass "key log: every SRTP packet of both pairs authenticated, none without a key" || fail "key log did not cover the moved pair"
import json, sys
d = json.load(open(sys.argv[1]))
ok = len(d["streams"]) == 2 and d["streams"][1]["continues"] == 1
for s in d["streams"]:
    for k in s["directions"]:
        n = k["counts"]
        print("   ", k["src"], "auth_ok", n["auth_ok"], "no_key", n["no_key"], "srtp", n["srtp"])
        ok = ok and n["no_key"] == 0 and n["auth_fail"] == 0 and n["auth_ok"] == n["srtp"] + n["srtcp"] and n["srtp"] > 0
sys.exit(0 if ok else 1)
PY

# --- 2. 20 calls in a row on the same sockets --------------------------------
MA=12710 MB=12610
start_cap "$W/seq.pcap" "udp and host 127.0.0.1 and (port 5242 or port 5243 or portrange $MA-$((MA + 1)) or portrange $MB-$((MB + 1)))"
bg shimmed seq-uas timeout -k 5 120 sipp -sf "$E2E_SRC/examples/sipp/uas.xml" \
	-i 127.0.0.1 -p 5242 -bind_local -mi 127.0.0.1 -mp $MA -cp 8902 \
	-m 20 -nostdin -trace_err -error_file "$W/seq-uas.err" >"$W/seq-uas.out" 2>&1
UAS=$BGPID
sleep 0.5
# (uac_short.xml streams audio.ulaw: the 1 s file here)
cp short.ulaw audio.ulaw
shimmed seq-uac timeout -k 5 120 sipp 127.0.0.1:5242 -sf "$E2E_SRC/tests/e2e/uac_short.xml" \
	-d 1500 -i 127.0.0.1 -p 5243 -bind_local -mi 127.0.0.1 -mp $MB -cp 8903 \
	-m 20 -l 1 -nostdin -trace_err -error_file "$W/seq-uac.err" >"$W/seq-uac.out" 2>&1 ||
	fail "20 calls: sipp UAC exited $? (see $W/seq-uac.err)"
wait $UAS || fail "20 calls: sipp UAS exited $?"
stop_cap
n=$(grep -c 'event: secure' "$W/seq-uac.log" 2>/dev/null)
[ "${n:-0}" -eq 20 ] && pass "20 calls: 20 secure events in the caller's log" || fail "20 calls: $n secure events"
grep -q 'POSSIBLE ATTACK' "$W/seq-uac.log" "$W/seq-uas.log" && fail "20 calls: an attack alarm in a log"
media_counts "$W/seq.pcap" $MA $MB >"$W/counts"
c1=$(field $MA clear) c2=$(field $MB clear)
c=$((${c1:-0} + ${c2:-0}))
[ "$c" -eq 0 ] && pass "20 calls: no cleartext RTP" || fail "20 calls: $c cleartext RTP"
for kl in "" "--keylog $W/keys.log"; do
	if run_verify "$W/seq.pcap" $kl; then
		pass "verify $kl: PASS on 20 calls in a row"
	else
		fail "verify $kl did not pass on 20 calls in a row"
	fi
done
n=$(grep -c '^stream .*Call-ID' "$W/verify.out")
m=$(grep -c 'zrtp-hash match' "$W/verify.out")
[ "$n" -eq 20 ] && [ "$m" -eq 40 ] && pass "20 streams, 40 Hellos each matching its own call's SDP" ||
	fail "want 20 streams and 40 matching Hellos: $n streams, $m matches"

# --- 3. the same re-INVITE flow, no shim: a real leak ------------------------
sox t.wav -t raw -e u-law -r 8000 -c 1 audio.ulaw
reinvite leak 5246 5247 12730 12630 8906 8907 no
if run_verify "$W/leak.pcap"; then
	fail "verify passed a capture of cleartext calls"
else
	grep -q "stream 1: .* cleartext RTP" "$W/verify.out" &&
	grep -q "stream 2: .* cleartext RTP" "$W/verify.out" &&
		pass "verify fails the cleartext call on both address pairs" ||
		fail "verify failed, but not for cleartext on both pairs"
fi
finish
