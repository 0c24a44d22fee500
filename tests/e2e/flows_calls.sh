#!/bin/sh
# Issue 12 item 4, call flows pinned as tests: how calls begin and end.
#   early   a sipp callee under the shim (tests/e2e/uas_early.xml) sends 183
#           with SDP and streams RTP before its 200, to baresip alice under
#           the shim: SRTP from sipp during the early phase, both ways
#           after the 200; alice heard sipp's tone.
#   two     baresip alice calls baresip bob and baresip carol at once (all
#           under the shim), hangs up one over ctrl_tcp; the other keeps
#           SRTP both ways; each call its own SAS, the same on both ends.
#   twenty  sipp -m 20 against sipp, both under the shim, one pair of
#           processes (run alongside the others, on ports of its own):
#           20 secured calls with SRTP both ways, continuity=yes from the
#           second call on; the UAS's fd count and VmRSS flat between the
#           5th and the 20th call (fds equal; RSS within RSS_BOUND kB).
#   ipv6    baresip -6 calls baresip -6 on [::1].
#   end     baresip alice calls bob (answermode=manual) and cancels before
#           the answer (CANCEL, 487); then calls again and bob rejects
#           (486); both keep running 3 s after each: nothing in clear.
#   mutation: the ipv6 flow with a plain bob and alice opportunistic: the
#           no-cleartext check fails on it.
# Every flow: zrtpshim verify --keylog --json: rtp_clear + rtcp_clear +
# rtp_unknown + rtcp_unknown over all directions = 0, no auth_fail, no
# no_key, exit 0; except: end, which has no media at all (verify: "no
# media in the capture", exit 1, and no datagram from a media port), and
# twenty, verified call by call (see there: verify cannot take that
# capture whole today).
# Ports: SIP 5290-5299, RTP 13120-13299, ctrl_tcp 4526-4531, sipp -cp
# 8810-8812.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"
need baresip sipp editcap

RSS_BOUND=1024
cd "$W" || exit 99
tone alice.wav 440 8
tone bob.wav 660 30
tone carol.wav 880 30
tone t1.wav 440 1
sox t1.wav -t raw -e u-law -r 8000 -c 1 audio.ulaw

# want LABEL N MIN WHAT: N >= MIN
want() {
	if [ "${2:-0}" -ge "$3" ]; then pass "$1: $2 $4"; else fail "$1: ${2:-0} $4, want >= $3"; fi
}
# epoch CAP FILTER: time of the first frame matching FILTER
epoch() { tshark -r "$1" -Y "$2" -T fields -e frame.time_epoch 2>/dev/null | head -1; }
heard() { # LABEL DIR HZ
	set -- "$1" "$2" "$3" $(dump_freq "$2")
	if within3 "$4" "$3" && awk -v s="$5" 'BEGIN { exit !(s >= 1) }'; then
		pass "$1: heard $3 Hz: $4 Hz for $5 s"
	else
		fail "$1: did not hear $3 Hz: $4 Hz for $5 s"
	fi
}

# --- twenty: started first, runs in the background ---------------------------
sed -e 's/pause milliseconds="7000"/pause milliseconds="1200"/' \
	"$E2E_SRC/examples/sipp/uac.xml" >uac20.xml
start_cap "$W/twenty.pcap" "udp and host 127.0.0.1 and (port 5298 or port 5299 or portrange 13250-13251 or portrange 13260-13261)" 2>"$W/tcpdump-20.err"
TCAP=$CAP_PID
CAP_PID=""
bg shimmed uas20 timeout -k 2 80 sipp -sf "$E2E_SRC/examples/sipp/uas.xml" -i 127.0.0.1 \
	-p 5298 -bind_local -mi 127.0.0.1 -mp 13250 -cp 8810 -m 20 -nostdin \
	-trace_err -error_file "$W/uas20.err" >"$W/uas20.out" 2>&1
UAS20=$BGPID
sleep 0.5
bg shimmed uac20 timeout -k 2 80 sipp 127.0.0.1:5298 -sf uac20.xml -i 127.0.0.1 \
	-p 5299 -bind_local -mi 127.0.0.1 -mp 13260 -cp 8811 -m 20 -l 1 -nostdin \
	-trace_err -error_file "$W/uac20.err" >"$W/uac20.out" 2>&1
UAC20=$BGPID
# The sampler: the UAS's fds and VmRSS as its 5th and its 20th stream
# become secure (the same point of a call).
(
	s5="" pid=""
	for _ in $(seq 1 700); do
		n=$(grep -c 'event: secure' "$W/uas20.log" 2>/dev/null)
		[ -z "$pid" ] && pid=$(sed -n 's/^zrtpshim\[\([0-9]*\)\].*event: secure.*/\1/p' "$W/uas20.log" 2>/dev/null | head -1)
		if [ -n "$pid" ] && [ "${n:-0}" -ge 5 ] && [ -z "$s5" ]; then
			s5=1
			echo "5 $(ls /proc/$pid/fd | wc -l) $(awk '/VmRSS/ { print $2 }' /proc/$pid/status)"
		fi
		if [ -n "$pid" ] && [ "${n:-0}" -ge 20 ]; then
			echo "20 $(ls /proc/$pid/fd | wc -l) $(awk '/VmRSS/ { print $2 }' /proc/$pid/status)"
			break
		fi
		sleep 0.1
	done
) >"$W/samples" 2>&1 &
SAMPLER=$!
E2E_PIDS="$E2E_PIDS $SAMPLER"

# --- early: 183 with SDP and RTP before the 200 -------------------------------
baresip_dir ea alice 5290 4526 13120 "$W/alice.wav"
start_cap "$W/early.pcap" "udp and host 127.0.0.1 and (portrange 5290-5291 or port 5296 or portrange 13120-13129 or portrange 13200-13201)" 2>"$W/tcpdump-e.err"
bg shimmed es timeout -k 2 20 sipp -sf "$E2E_SRC/tests/e2e/uas_early.xml" -i 127.0.0.1 \
	-p 5296 -bind_local -mi 127.0.0.1 -mp 13200 -cp 8812 -m 1 -nostdin \
	-trace_err -error_file "$W/es.err" >"$W/es.out" 2>&1
ES=$BGPID
sleep 0.5
shimmed ea timeout -k 2 20 baresip -f "$W/ea" -e "/dial sip:bob@127.0.0.1:5296" -t 14 \
	>"$W/ea.out" 2>&1
wait $ES || fail "early: sipp exited $? (see $W/es.err)"
stop_cap
T183=$(epoch "$W/early.pcap" 'sip.Status-Code == 183 && sdp')
T200=$(epoch "$W/early.pcap" 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE"')
TBYE=$(epoch "$W/early.pcap" 'sip.Method == "BYE"')
PA=$(tshark -r "$W/early.pcap" -Y 'sdp && udp.srcport == 5290' -T fields -e sdp.media.port 2>/dev/null | head -1)
if [ -n "$T183" ] && [ -n "$T200" ] && [ -n "$TBYE" ] && [ -n "$PA" ]; then
	pass "early: 183 with SDP, 200 $(awk -v a="$T183" -v b="$T200" 'BEGIN { printf "%.1f", b - a }') s later, BYE"
	tshark -r "$W/early.pcap" -Y 'sip.Status-Code == 183' -T fields -e sdp.media_attr 2>/dev/null |
		grep -q zrtp-hash && pass "early: sipp's shim put a=zrtp-hash in the 183" ||
		fail "early: no a=zrtp-hash in the 183"
	window "$W/early.pcap" "$T183" "$T200" >"$W/E1"
	window "$W/early.pcap" "$T200" "$TBYE" >"$W/E2"
	note "early phase: $(tr '\n' ' ' <"$W/E1"); after the 200: $(tr '\n' ' ' <"$W/E2")"
	want "early: before the 200" "$(wcount "$W/E1" 13200 "$PA")" 50 "SRTP packets sipp -> alice"
	want "early: after the 200" "$(wcount "$W/E2" 13200 "$PA")" 100 "SRTP packets sipp -> alice"
	want "early: after the 200" "$(wcount "$W/E2" "$PA" 13200)" 100 "SRTP packets alice -> sipp"
else
	fail "early: no 183 with SDP, 200 and BYE in the capture"
fi
check_same_sas "$W/ea.log" "$W/es.log"
heard "early: alice" "$W/ea/snd" 440
vsum "$W/early.pcap" early
judge_verify early

# --- two: two calls at once in one baresip ------------------------------------
baresip_dir ta alice 5290 4527 13130 "$W/alice.wav"
baresip_dir tb bob 5292 4528 13140 "$W/bob.wav"
baresip_dir tc carol 5294 4529 13150 "$W/carol.wav"
tone alice.wav 440 30
start_cap "$W/two.pcap" "udp and host 127.0.0.1 and (portrange 5290-5295 or portrange 13130-13159)" 2>"$W/tcpdump-t.err"
bg shimmed tb timeout -k 2 25 baresip -f "$W/tb" >"$W/tb.out" 2>&1
bg shimmed tc timeout -k 2 25 baresip -f "$W/tc" >"$W/tc.out" 2>&1
bg shimmed ta timeout -k 2 25 baresip -f "$W/ta" >"$W/ta.out" 2>&1
sleep 1
ctrl 4527 dial sip:bob@127.0.0.1:5292
# sndfile names its files by the second: a second apart, two recordings
sleep 1.2
ctrl 4527 dial sip:carol@127.0.0.1:5294
sleep 4
ctrl 4527 hangup
sleep 4
ctrl 4527 quit
ctrl 4528 quit
ctrl 4529 quit
sleep 0.5
stop_cap
PAB=$(tshark -r "$W/two.pcap" -Y 'sdp && sip.Method == "INVITE" && sip.To contains "bob"' -T fields -e sdp.media.port 2>/dev/null | head -1)
PAC=$(tshark -r "$W/two.pcap" -Y 'sdp && sip.Method == "INVITE" && sip.To contains "carol"' -T fields -e sdp.media.port 2>/dev/null | head -1)
PB=$(tshark -r "$W/two.pcap" -Y 'sdp && udp.srcport == 5292' -T fields -e sdp.media.port 2>/dev/null | head -1)
PC=$(tshark -r "$W/two.pcap" -Y 'sdp && udp.srcport == 5294' -T fields -e sdp.media.port 2>/dev/null | head -1)
TBYE=$(epoch "$W/two.pcap" 'sip.Method == "BYE"')
BYETO=$(tshark -r "$W/two.pcap" -Y 'sip.Method == "BYE"' -T fields -e udp.dstport 2>/dev/null | head -1)
T2=$(epoch "$W/two.pcap" 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE" && udp.srcport == 5294')
TEND=$(awk -v t="$TBYE" 'BEGIN { printf "%.3f", t + 3.5 }')
note "two: alice $PAB <-> bob $PB, alice $PAC <-> carol $PC; BYE to port $BYETO"
if [ -n "$PAB" ] && [ -n "$PAC" ] && [ -n "$PB" ] && [ -n "$PC" ] && [ -n "$TBYE" ] && [ -n "$T2" ]; then
	if [ "$BYETO" = 5294 ]; then
		gone=carol kept=bob PK=$PB PAK=$PAB PG=$PC PAG=$PAC
	else
		gone=bob kept=carol PK=$PC PAK=$PAC PG=$PB PAG=$PAB
	fi
	window "$W/two.pcap" "$T2" "$TBYE" >"$W/T1"
	window "$W/two.pcap" "$(awk -v t="$TBYE" 'BEGIN { printf "%.3f", t + 0.5 }')" "$TEND" >"$W/T2"
	note "both calls: $(tr '\n' ' ' <"$W/T1")"
	note "after the hangup: $(tr '\n' ' ' <"$W/T2")"
	for p in "$PAB $PB" "$PB $PAB" "$PAC $PC" "$PC $PAC"; do
		set -- $p
		want "two: both calls up" "$(wcount "$W/T1" "$1" "$2")" 100 "SRTP packets $1 -> $2"
	done
	want "two: $kept's call after $gone's hangup" "$(wcount "$W/T2" "$PAK" "$PK")" 100 "SRTP packets alice -> $kept"
	want "two: $kept's call after $gone's hangup" "$(wcount "$W/T2" "$PK" "$PAK")" 100 "SRTP packets $kept -> alice"
	n=$(( $(wcount "$W/T2" "$PAG" "$PG") + $(wcount "$W/T2" "$PG" "$PAG") ))
	if [ "$n" -eq 0 ]; then pass "two: nothing on $gone's call after its BYE"; else fail "two: $n RTP packets on $gone's call after its BYE"; fi
else
	fail "two: the two calls' SDPs and the BYE are not all in the capture"
fi
sas_a=$(sed -n 's/.*event: secure .*sas=\([^ ]*\).*/\1/p' "$W/ta.log" | sort | tr '\n' ' ')
sas_bc=$( (sas_of "$W/tb.log"; sas_of "$W/tc.log") | sort | tr '\n' ' ')
if [ -n "$sas_a" ] && [ "$sas_a" = "$sas_bc" ] && [ "$(echo $sas_a | wc -w)" = 2 ]; then
	pass "two: alice's two SAS ($sas_a) are bob's and carol's"
else
	fail "two: alice's SAS '$sas_a', bob's and carol's '$sas_bc'"
fi
heard "two: bob" "$W/tb/snd" 440
heard "two: carol" "$W/tc/snd" 440
fa=$(for f in "$W"/ta/snd/dump-*-dec.wav; do $FREQ "$f" | cut -d' ' -f1; done | sort -n | tr '\n' ' ')
set -- $fa
if [ $# -eq 2 ] && within3 "$1" 660 && within3 "$2" 880; then
	pass "two: alice heard both: $fa Hz"
else
	fail "two: alice's recordings: '$fa' Hz, want 660 and 880"
fi
vsum "$W/two.pcap" two
judge_verify two

# --- ipv6 ---------------------------------------------------------------------
# v6_call TAG [plain]: alice [::1]:5290 calls bob [::1]:5292, RTP 13160-79
v6_call() {
	baresip_dir "$1-a" alice 5290 4530 13160 "$W/alice6.wav"
	baresip_dir "$1-b" bob 5292 4531 13170 "$W/bob.wav"
	for d in "$1-a" "$1-b"; do
		sed -i -e "s#^sip_listen.*127.0.0.1:\\(.*\\)#sip_listen\t\t[::1]:\\1#" \
			-e 's#^net_interface.*#net_interface\t\t::1#' -e '/^ctrl_tcp_listen/d' -e '/ctrl_tcp.so/d' "$W/$d/config"
		sed -i 's#@127.0.0.1:#@[::1]:#' "$W/$d/accounts"
	done
	start_cap "$W/$1.pcap" "udp and ip6 and host ::1 and (portrange 5290-5293 or portrange 13160-13179)" 2>"$W/tcpdump-$1.err"
	if [ "${2:-}" = plain ]; then
		bg timeout -k 2 20 baresip -6 -f "$W/$1-b" -t 13 >"$W/$1-b.out" 2>&1
	else
		bg shimmed "$1-b" timeout -k 2 20 baresip -6 -f "$W/$1-b" -t 13 >"$W/$1-b.out" 2>&1
	fi
	_b=$BGPID
	sleep 1
	shimmed "$1-a" timeout -k 2 20 baresip -6 -f "$W/$1-a" -e "/dial sip:bob@[::1]:5292" -t 10 \
		>"$W/$1-a.out" 2>&1
	wait $_b
	stop_cap
}
tone alice6.wav 440 7
v6_call v6
n6=$(tshark -r "$W/v6.pcap" -Y 'ipv6 && sdp' -T fields -e sdp.connection_info 2>/dev/null | grep -c 'IP6 ::1')
n4=$(tshark -r "$W/v6.pcap" -Y 'ip' 2>/dev/null | wc -l)
if [ "$n6" -ge 2 ] && [ "$n4" -eq 0 ]; then
	pass "ipv6: offer and answer with c=IN IP6 ::1, all on IPv6"
else
	fail "ipv6: $n6 SDPs with c=IN IP6 ::1, $n4 IPv4 packets"
fi
check_same_sas "$W/v6-a.log" "$W/v6-b.log"
heard "ipv6: bob" "$W/v6-b/snd" 440
heard "ipv6: alice" "$W/v6-a/snd" 660
vsum "$W/v6.pcap" v6
judge_verify v6
want "ipv6" "$(sumof v6 dirs_srtp)" 2 "directions with >= 100 SRTP packets"

# --- end: CANCEL before the answer, then 486 ---------------------------------
baresip_dir na alice 5290 4530 13180 "$W/alice.wav"
baresip_dir nb bob 5292 4531 13190 "$W/bob.wav"
sed -i 's/answermode=auto/answermode=manual/' "$W/nb/accounts"
start_cap "$W/end.pcap" "udp and host 127.0.0.1 and (portrange 5290-5293 or portrange 13180-13199)" 2>"$W/tcpdump-n.err"
bg shimmed nb timeout -k 2 25 baresip -f "$W/nb" >"$W/nb.out" 2>&1
bg shimmed na timeout -k 2 25 baresip -f "$W/na" >"$W/na.out" 2>&1
sleep 1
ctrl 4530 dial sip:bob@127.0.0.1:5292
sleep 2
ctrl 4530 hangup
sleep 3
ctrl 4530 dial sip:bob@127.0.0.1:5292
sleep 2
ctrl 4531 hangup
sleep 3
ctrl 4530 quit
ctrl 4531 quit
sleep 0.5
stop_cap
codes=$(tshark -r "$W/end.pcap" -Y 'sip.CSeq.method == "INVITE" && sip.Status-Code >= 200' -T fields -e sip.Status-Code 2>/dev/null | sort -u | tr '\n' ' ')
nc=$(tshark -r "$W/end.pcap" -Y 'sip.Method == "CANCEL"' 2>/dev/null | wc -l)
case " $codes" in
*" 486 "*) case " $codes" in
	*" 487 "*) [ "$nc" -ge 1 ] && pass "end: CANCEL/487 and 486 on the wire (final codes: $codes)" ||
		fail "end: no CANCEL on the wire" ;;
	*) fail "end: no 487 (final responses: $codes)" ;;
	esac ;;
*) fail "end: no 486 (final responses: '$codes', $nc CANCEL)" ;;
esac
nmedia=$(tshark -r "$W/end.pcap" -Y 'udp.srcport >= 13180 && udp.srcport <= 13199' 2>/dev/null | wc -l)
nuri=$(tshark -r "$W/end.pcap" -Y 'udp.port >= 13180 && udp.port <= 13199 && frame contains "@127.0.0.1"' 2>/dev/null | wc -l)
nclr=$(tshark -r "$W/end.pcap" -Y 'udp.srcport >= 13180 && udp.srcport <= 13199 && udp.length == 180 && (udp.payload[0] & 0xc0) == 0x80' 2>/dev/null | wc -l)
note "end: $nmedia datagrams from media ports over both calls and 3 s after each"
if [ "$nuri" -eq 0 ] && [ "$nclr" -eq 0 ]; then
	pass "end: no cleartext RTP, no SIP URI (cleartext RTCP SDES) on a media port"
else
	fail "end: $nclr cleartext RTP, $nuri datagrams with a SIP URI on media ports"
fi
vsum "$W/end.pcap" end
note "end: verify: $(cat "$W/end.sum")"
c=$(( $(sumof end rtp_clear) + $(sumof end rtcp_clear) + $(sumof end rtp_unknown) + $(sumof end rtcp_unknown) ))
# Neither call was answered: no media at all, which verify reports as
# "no media in the capture: nothing to prove" (exit 1). That, with no
# datagram from a media port, is the result wanted here.
if [ "$c" -eq 0 ] && [ "$(sumof end auth_fail)" = 0 ] && [ "$(sumof end no_key)" = 0 ] && [ "$VRC" = 0 ]; then
	pass "end: verify: 0 cleartext/unknown RTP and RTCP, exit 0"
elif [ "$c" -eq 0 ] && [ "$nmedia" -eq 0 ] && grep -q '"reasons":"no media in the capture' "$W/end.json"; then
	pass "end: verify: 0 cleartext/unknown RTP and RTCP; no media at all (exit $VRC: nothing to prove)"
else
	fail "end: verify: $c cleartext/unknown, exit $VRC"
fi

# --- twenty: the results --------------------------------------------------------
wait $UAC20 || fail "twenty: sipp UAC exited $? (see $W/uac20.err)"
wait $UAS20 || fail "twenty: sipp UAS exited $?"
wait $SAMPLER
CAP_PID=$TCAP
stop_cap
for s in uac20 uas20; do
	n=$(grep -c 'event: secure' "$W/$s.log")
	first=$(grep 'event: secure' "$W/$s.log" | head -1 | grep -c 'continuity=no')
	rest=$(grep 'event: secure' "$W/$s.log" | tail -n +2 | grep -c 'continuity=yes')
	if [ "$n" -eq 20 ] && [ "$first" -eq 1 ] && [ "$rest" -eq 19 ]; then
		pass "twenty: $s: 20 secure streams, continuity=yes in calls 2-20"
	else
		fail "twenty: $s: $n secure streams, first without continuity: $first, later with: $rest of 19"
	fi
done
# The whole capture is checked for cleartext without keys, then with the
# key log as a whole (verify tells the twenty calls on one port pair apart
# and checks each Hello against its own call's SDP; with more than 8
# matching key-log records it used to crash), and each call on its own:
# the capture from its INVITE to the 200 to its BYE (at most 0.3 s more,
# never into the next call), with its own records of the key log
# (stream=CALL-ID/...).
"$ZS" verify "$W/twenty.pcap" --keylog "$W/keys.log" --json >"$W/twenty-keys.json" 2>"$W/twenty-keys.err"
vrc=$?
nstreams=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["streams"]))' "$W/twenty-keys.json" 2>/dev/null)
if [ "$vrc" -eq 0 ] && [ "${nstreams:-0}" -ge 20 ]; then
	pass "twenty: the whole capture: verify --keylog exits 0, $nstreams streams"
else
	fail "twenty: the whole capture: verify --keylog exit $vrc, ${nstreams:-?} streams ($(head -c 200 "$W/twenty-keys.err"))"
fi
"$ZS" verify "$W/twenty.pcap" --json >"$W/twenty-all.json" 2>/dev/null
c=$(python3 - "$W/twenty-all.json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("unreadable")
    sys.exit()
print(sum(x["counts"][k] for s in d["streams"] for x in s["directions"]
          for k in ("rtp_clear", "rtcp_clear", "rtp_unknown", "rtcp_unknown")))
PY
)
if [ "$c" = 0 ]; then
	pass "twenty: the whole capture: verify counts 0 cleartext/unknown RTP and RTCP"
else
	fail "twenty: the whole capture: verify counts '$c' cleartext/unknown RTP/RTCP"
fi
tshark -r "$W/twenty.pcap" -Y 'sip.Method == "INVITE" || (sip.CSeq.method == "BYE" && sip.Status-Code == 200)' \
	-T fields -e frame.time_epoch -e sip.Call-ID -e sip.Method 2>/dev/null |
awk -F '\t' '
	$3 == "INVITE" && !($2 in t0) { t0[$2] = $1; id[++n] = $2 }
	$3 == "" && !($2 in t1) { t1[$2] = $1 }
	END {
		for (i = 1; i <= n; i++) {
			e = t1[id[i]] + 0.3
			if (i < n && t0[id[i + 1]] - 0.001 < e) e = t0[id[i + 1]] - 0.001
			printf "%d %s %s %.6f\n", i, id[i], t0[id[i]], e
		}
	}' >"$W/calls20"
ts() { date -u -d "@${1%.*}" "+%Y-%m-%d %H:%M:%S.${1#*.}"; }
ok=0 secured=0
: >"$W/twenty.per-call"
while read -r i cid t0 t1; do
	editcap -A "$(ts "$t0")" -B "$(ts "$t1")" "$W/twenty.pcap" "$W/c$i.pcap" 2>/dev/null
	grep -F "stream=$cid/" "$W/keys.log" >"$W/k$i.log"
	"$ZS" verify "$W/c$i.pcap" --keylog "$W/k$i.log" --json >"$W/c$i.json" 2>/dev/null
	rc=$?
	python3 - "$W/c$i.json" "$i" "$rc" >>"$W/twenty.per-call" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = {}
for s in d["streams"]:
    for x in s["directions"]:
        for k, v in x["counts"].items():
            t[k] = t.get(k, 0) + v
clear = sum(t.get(k, 0) for k in ("rtp_clear", "rtcp_clear", "rtp_unknown", "rtcp_unknown"))
both = sum(1 for s in d["streams"] for x in s["directions"] if x["counts"]["srtp"] >= 40)
print(sys.argv[2], "exit=%s" % sys.argv[3], "clear=%d" % clear, "auth_ok=%d" % t.get("auth_ok", 0),
      "auth_fail=%d" % t.get("auth_fail", 0), "no_key=%d" % t.get("no_key", 0), "dirs40=%d" % both)
PY
done <"$W/calls20"
n=$(grep -c 'exit=0 clear=0 .*auth_fail=0 no_key=0 dirs40=2' "$W/twenty.per-call")
note "twenty: per call: $(sed -n '1p;$p' "$W/twenty.per-call" | tr '\n' ';')"
if [ "$n" -eq 20 ]; then
	pass "twenty: each of the 20 calls: verify --keylog exits 0, 0 cleartext/unknown, no auth_fail, no no_key, >= 40 SRTP each way"
else
	fail "twenty: $n of 20 calls pass verify on their own: $(grep -v 'exit=0 clear=0 .*auth_fail=0 no_key=0 dirs40=2' "$W/twenty.per-call" | head -3 | tr '\n' ';')"
fi
note "twenty: samples (call fds VmRSS-kB): $(tr '\n' ';' <"$W/samples")"
set -- $(awk '$1 == 5 { print $2, $3 }' "$W/samples") $(awk '$1 == 20 { print $2, $3 }' "$W/samples")
if [ $# -eq 4 ] && [ "$1" -eq "$3" ] && [ $(($4 - $2)) -le $RSS_BOUND ]; then
	pass "twenty: the UAS's fds $1 -> $3 and VmRSS $2 -> $4 kB from call 5 to 20 (bound: equal fds, +$RSS_BOUND kB)"
else
	fail "twenty: the UAS's fds/VmRSS from call 5 to 20: '$*' (bound: equal fds, +$RSS_BOUND kB)"
fi

# --- mutation: ipv6 with a plain bob, alice opportunistic ---------------------
export ZRTPSHIM_POLICY=opportunistic
v6_call mut plain
unset ZRTPSHIM_POLICY
vsum "$W/mut.pcap" mut
c=$(( $(sumof mut rtp_clear) + $(sumof mut rtcp_clear) + $(sumof mut rtp_unknown) + $(sumof mut rtcp_unknown) ))
note "mut: verify: $(cat "$W/mut.sum")"
if [ "$c" -gt 0 ] && [ "$VRC" != 0 ]; then
	pass "mutation: ipv6 with a plain bob, alice opportunistic: verify counts $c cleartext packets, exits $VRC: the check catches it"
else
	fail "mutation: the no-cleartext check does not catch an IPv6 call in clear ($c, exit $VRC)"
fi
finish
