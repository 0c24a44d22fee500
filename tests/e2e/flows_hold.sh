#!/bin/sh
# Issue 12 item 4, call flows pinned as tests: hold, resume, re-INVITEs
# that change the media (a=inactive, c=0.0.0.0, a new m= port).
#   A. baresip alice calls baresip bob, both under the shim; alice holds
#      over ctrl_tcp ("hold": baresip 1.0 re-INVITEs with a=sendonly, bob
#      answers recvonly, RTP stops both ways) and resumes ("resume":
#      sendrecv again). SRTP both ways before the hold and after the
#      resume, next to none during it; the same SAS; each heard the other
#      before the hold (sndfile's recorder stops its file at the hold).
#   B. a sipp caller under the shim (tests/e2e/uac_reinvite_flows.xml, -rtp_echo:
#      sipp returns what it receives) against baresip bob under the shim:
#      sendrecv, a=inactive, sendrecv, c=IN IP4 0.0.0.0, then sendrecv on
#      a new port (sipp's second socket, media port + 2). Per phase: SRTP
#      both ways while sendrecv, no RTP while inactive or 0.0.0.0, and on
#      the moved pair SRTP both ways under the keys of the first handshake.
#   C. mutation: A's flow with a plain bob and alice opportunistic; the
#      no-cleartext check of A must fail on that capture.
# Every flow: zrtpshim verify --keylog --json, rtp_clear + rtcp_clear +
# rtp_unknown + rtcp_unknown summed over all directions = 0, no auth_fail,
# no no_key, exit 0.
# Ports: SIP 5280-5285, RTP 13000-13059, ctrl_tcp 4520-4522, sipp -cp 8800.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"
need baresip sipp

cd "$W" || exit 99
tone alice.wav 440 30
tone bob.wav 660 30

# nth CAP N: the CSeq number of the Nth INVITE of the capture (baresip
# starts from a random one)
nth() {
	tshark -r "$1" -Y 'sip.Method == "INVITE"' -T fields -e sip.CSeq.seq 2>/dev/null |
		awk '!seen[$1]++' | sed -n "$2p"
}
# okt CAP N: the epoch time of the 200 to the Nth INVITE
okt() {
	tshark -r "$1" -Y "sip.Status-Code == 200 && sip.CSeq.method == \"INVITE\" && sip.CSeq.seq == $(nth "$1" "$2")" \
		-T fields -e frame.time_epoch 2>/dev/null | head -1
}
# sdp_of CAP N INVITE|STATUS: media port, c= and media attributes of the
# SDP of the Nth INVITE or of its answer
sdp_of() {
	if [ "$3" = INVITE ]; then _w='sip.Method == "INVITE"'; else _w="sip.Status-Code == $3"; fi
	tshark -r "$1" -Y "sdp && $_w && sip.CSeq.seq == $(nth "$1" "$2")" -T fields \
		-e sdp.media.port -e sdp.connection_info -e sdp.media_attr 2>/dev/null | head -1
}
# want_flow LABEL WINDOWFILE SRC DST MIN: at least MIN RTP packets SRC>DST
want_flow() {
	_n=$(wcount "$2" "$3" "$4")
	if [ "$_n" -ge "$5" ]; then
		pass "$1: $_n SRTP packets $3 -> $4"
	else
		fail "$1: $_n RTP packets $3 -> $4, want >= $5"
	fi
}
# no_flow LABEL WINDOWFILE SRC DST: at most 10 (those in flight as the
# change took effect)
no_flow() {
	_n=$(wcount "$2" "$3" "$4")
	if [ "$_n" -le 10 ]; then
		pass "$1: $_n RTP packets $3 -> $4 (media stopped)"
	else
		fail "$1: $_n RTP packets $3 -> $4, want <= 10"
	fi
}

# --- A. baresip <-> baresip: hold and resume over ctrl_tcp -------------------
# hold_call TAG CAP: alice (SIP 5280, RTP 13000-9, ctrl 4520) calls bob
# (5282, 13010-9, 4521); talk 4 s, hold 3 s, resume 4 s, hang up
hold_call() {
	baresip_dir "$1-alice" alice 5280 4520 13000 "$W/alice.wav"
	baresip_dir "$1-bob" bob 5282 4521 13010 "$W/bob.wav"
	start_cap "$W/$1.pcap" "udp and host 127.0.0.1 and (portrange 5280-5283 or portrange 13000-13019)" 2>"$W/tcpdump-$1.err"
	if [ "$1" = mut ]; then
		bg timeout -k 2 25 baresip -f "$W/$1-bob" >"$W/$1-bob.out" 2>&1
	else
		bg shimmed "$1-bob" timeout -k 2 25 baresip -f "$W/$1-bob" >"$W/$1-bob.out" 2>&1
	fi
	sleep 1
	bg shimmed "$1-alice" timeout -k 2 25 baresip -f "$W/$1-alice" >"$W/$1-alice.out" 2>&1
	sleep 1
	ctrl 4520 dial sip:bob@127.0.0.1:5282
	sleep 5
	ctrl 4520 hold
	sleep 3
	ctrl 4520 resume
	sleep 4
	ctrl 4520 hangup
	sleep 0.5
	ctrl 4520 quit
	ctrl 4521 quit
	sleep 0.5
	stop_cap
}
hold_call hold
PA=$(sdp_of "$W/hold.pcap" 1 INVITE | cut -f1)
PB=$(sdp_of "$W/hold.pcap" 1 200 | cut -f1)
note "A: media ports alice $PA, bob $PB"
h_off=$(sdp_of "$W/hold.pcap" 2 INVITE | cut -f3)
h_ans=$(sdp_of "$W/hold.pcap" 2 200 | cut -f3)
r_off=$(sdp_of "$W/hold.pcap" 3 INVITE | cut -f3)
case ",$h_off,|,$h_ans,|,$r_off," in
*,sendonly,*\|*,recvonly,*\|*,sendrecv,*)
	pass "A: hold re-INVITE a=sendonly, answer a=recvonly; resume re-INVITE a=sendrecv" ;;
*)	fail "A: the hold/resume SDPs are not sendonly/recvonly/sendrecv: '$h_off' '$h_ans' '$r_off'" ;;
esac
T1=$(okt "$W/hold.pcap" 1) T2=$(okt "$W/hold.pcap" 2) T3=$(okt "$W/hold.pcap" 3)
TE=$(tshark -r "$W/hold.pcap" -Y 'sip.Method == "BYE"' -T fields -e frame.time_epoch 2>/dev/null | head -1)
if [ -n "$T1" ] && [ -n "$T2" ] && [ -n "$T3" ] && [ -n "$TE" ] && [ -n "$PA" ] && [ -n "$PB" ]; then
	window "$W/hold.pcap" "$T1" "$T2" >"$W/A1"
	window "$W/hold.pcap" "$T2" "$T3" >"$W/A2"
	window "$W/hold.pcap" "$T3" "$TE" >"$W/A3"
	for p in A1 A2 A3; do note "$p: $(tr '\n' ' ' <"$W/$p")"; done
	want_flow "A talk" "$W/A1" "$PA" "$PB" 150
	want_flow "A talk" "$W/A1" "$PB" "$PA" 150
	no_flow "A hold" "$W/A2" "$PA" "$PB"
	no_flow "A hold" "$W/A2" "$PB" "$PA"
	want_flow "A resumed" "$W/A3" "$PA" "$PB" 150
	want_flow "A resumed" "$W/A3" "$PB" "$PA" 150
else
	fail "A: the call's INVITEs/200s/BYE are not all in the capture"
fi
check_same_sas "$W/hold-alice.log" "$W/hold-bob.log"
set -- $(dump_freq "$W/hold-bob/snd")
if within3 "$1" 440 && awk -v s="$2" 'BEGIN { exit !(s >= 2) }'; then
	pass "A: bob heard alice: $1 Hz for $2 s"
else
	fail "A: bob did not hear alice's 440 Hz: $1 Hz for $2 s"
fi
set -- $(dump_freq "$W/hold-alice/snd")
if within3 "$1" 660 && awk -v s="$2" 'BEGIN { exit !(s >= 2) }'; then
	pass "A: alice heard bob: $1 Hz for $2 s"
else
	fail "A: alice did not hear bob's 660 Hz: $1 Hz for $2 s"
fi
vsum "$W/hold.pcap" A
judge_verify A

# --- B. sipp re-INVITEs: a=inactive, c=0.0.0.0, a new m= port ----------------
# sipp's -rtp_echo threads sit in a blocking recvfrom on both its media
# sockets (13040, 13042) from the start, long before an SDP names them:
# what those receives return once the sockets are media is judged by the
# media path (shim/io.c io_recv_late_media; tests/shim/late_media.sh). Before
# that, bob's Hello reached sipp unfiltered, sipp echoed it, and bob's shim
# saw its own ZID (ZRTP error 0x90).
baresip_dir rb bob 5282 4521 13010 "$W/bob.wav"
start_cap "$W/re.pcap" "udp and host 127.0.0.1 and (portrange 5282-5284 or portrange 13010-13019 or portrange 13040-13043)" 2>"$W/tcpdump-re.err"
bg shimmed rb timeout -k 2 30 baresip -f "$W/rb" >"$W/rb.out" 2>&1
sleep 1
shimmed ruac timeout -k 2 30 sipp 127.0.0.1:5282 -s bob \
	-sf "$E2E_SRC/tests/e2e/uac_reinvite_flows.xml" -i 127.0.0.1 -p 5284 -bind_local \
	-mi 127.0.0.1 -mp 13040 -rtp_echo -cp 8800 -m 1 -nostdin \
	-trace_err -error_file "$W/ruac.err" >"$W/ruac.out" 2>&1 ||
	fail "B: sipp exited $? (see $W/ruac.err)"
ctrl 4521 quit
sleep 0.5
stop_cap
PB=$(sdp_of "$W/re.pcap" 1 200 | cut -f1)
note "B: bob's media port $PB; sipp 13040, then 13042"
s2=$(sdp_of "$W/re.pcap" 2 INVITE) a2=$(sdp_of "$W/re.pcap" 2 200)
s4=$(sdp_of "$W/re.pcap" 4 INVITE) s5=$(sdp_of "$W/re.pcap" 5 INVITE)
case "$s2|$a2" in *inactive*\|*inactive*) pass "B: re-INVITE a=inactive, answered a=inactive" ;;
*) fail "B: no inactive offer/answer: '$s2' '$a2'" ;; esac
case "$s4" in *"0.0.0.0"*) pass "B: re-INVITE with c=IN IP4 0.0.0.0" ;;
*) fail "B: no c=0.0.0.0 offer: '$s4'" ;; esac
case "$s5" in 13042*) pass "B: re-INVITE moving sipp's media to port 13042" ;;
*) fail "B: no offer with m=audio 13042: '$s5'" ;; esac
T1=$(okt "$W/re.pcap" 1) T2=$(okt "$W/re.pcap" 2) T3=$(okt "$W/re.pcap" 3)
T4=$(okt "$W/re.pcap" 4) T5=$(okt "$W/re.pcap" 5)
TE=$(tshark -r "$W/re.pcap" -Y 'sip.Method == "BYE"' -T fields -e frame.time_epoch 2>/dev/null | head -1)
if [ -n "$T5" ] && [ -n "$TE" ] && [ -n "$PB" ]; then
	window "$W/re.pcap" "$T1" "$T2" >"$W/B1"
	window "$W/re.pcap" "$T2" "$T3" >"$W/B2"
	window "$W/re.pcap" "$T3" "$T4" >"$W/B3"
	window "$W/re.pcap" "$T4" "$T5" >"$W/B4"
	window "$W/re.pcap" "$T5" "$TE" >"$W/B5"
	for p in B1 B2 B3 B4 B5; do note "$p: $(tr '\n' ' ' <"$W/$p")"; done
	want_flow "B sendrecv" "$W/B1" "$PB" 13040 150
	want_flow "B sendrecv" "$W/B1" 13040 "$PB" 150
	no_flow "B inactive" "$W/B2" "$PB" 13040
	no_flow "B inactive" "$W/B2" 13040 "$PB"
	want_flow "B resumed" "$W/B3" "$PB" 13040 100
	want_flow "B resumed" "$W/B3" 13040 "$PB" 100
	no_flow "B c=0.0.0.0" "$W/B4" "$PB" 13040
	no_flow "B c=0.0.0.0" "$W/B4" 13040 "$PB"
	want_flow "B moved" "$W/B5" "$PB" 13042 150
	want_flow "B moved" "$W/B5" 13042 "$PB" 150
	n=$(tshark -r "$W/re.pcap" -Y "udp.dstport == 0 || ip.dst == 0.0.0.0" 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then pass "B: nothing sent to 0.0.0.0"; else fail "B: $n packets to 0.0.0.0"; fi
else
	fail "B: the five 200s and the BYE are not all in the capture"
fi
check_same_sas "$W/ruac.log" "$W/rb.log"
set -- $(dump_freq "$W/rb/snd")
if within3 "$1" 660 && awk -v s="$2" 'BEGIN { exit !(s >= 2) }'; then
	pass "B: bob heard his own tone through sipp's echo: $1 Hz for $2 s"
else
	fail "B: bob did not hear his 660 Hz back: $1 Hz for $2 s"
fi
vsum "$W/re.pcap" B
note "B: verify: $(cat "$W/B.sum")"
# The moved pair (bob <-> 13042) carries SRTP under the keys of the first
# handshake and no ZRTP of its own: verify ties it to the secured stream
# of the same call ("continues"). Printed per direction: SRTP both ways
# there, nothing clear or unknown, no auth failure; every other stream
# must be secured.
python3 - "$W/B.json" "$PB" >"$W/B.judge" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
moved = {"127.0.0.1:%s" % sys.argv[2], "127.0.0.1:13042"}
bad = []
for s in d["streams"]:
    ends = {x["src"] for x in s["directions"]}
    is_moved = ends == moved
    for x in s["directions"]:
        c = x["counts"]
        clear = c["rtp_clear"] + c["rtcp_clear"] + c["rtp_unknown"] + c["rtcp_unknown"]
        if clear or c["auth_fail"]:
            bad.append("stream %d %s>%s: clear/unknown %d auth_fail %d" % (s["id"], x["src"], x["dst"], clear, c["auth_fail"]))
        if c["no_key"] and not is_moved:
            bad.append("stream %d %s>%s: no_key %d" % (s["id"], x["src"], x["dst"], c["no_key"]))
        if is_moved:
            print("moved %s>%s srtp=%d no_key=%d" % (x["src"], x["dst"], c["srtp"], c["no_key"]))
            if c["srtp"] < 150:
                bad.append("moved %s>%s: only %d SRTP" % (x["src"], x["dst"], c["srtp"]))
    if not is_moved and s["has_media"] and not (s["keylog_secured"] and s["secured"]):
        bad.append("stream %d not secured" % s["id"])
print("verdict", d["verdict"], "exit", d["exit"], "reasons:", d["reasons"])
for b in bad:
    print("BAD", b)
PY
sed 's/^/    /' "$W/B.judge"
c=$(( $(sumof B rtp_clear) + $(sumof B rtcp_clear) + $(sumof B rtp_unknown) + $(sumof B rtcp_unknown) ))
if [ "$c" -eq 0 ] && [ "$(sumof B auth_fail)" = 0 ]; then
	pass "B: verify counts 0 cleartext/unknown RTP and RTCP over all directions, no auth_fail"
else
	fail "B: verify counts $c cleartext/unknown RTP/RTCP, $(sumof B auth_fail) auth_fail"
fi
if [ "$VRC" = 0 ] && [ "$(sumof B no_key)" = 0 ] && ! grep -q '^BAD' "$W/B.judge"; then
	pass "B: zrtpshim verify --keylog exits 0, no no_key, the moved pair judged with its call"
else
	fail "B: verify exit $VRC: $(grep '^BAD\|^verdict' "$W/B.judge" | tr '\n' ';')"
fi

# --- C. mutation: bob without the shim, alice opportunistic -------------------
export ZRTPSHIM_POLICY=opportunistic
hold_call mut
unset ZRTPSHIM_POLICY
vsum "$W/mut.pcap" C
c=$(( $(sumof C rtp_clear) + $(sumof C rtcp_clear) + $(sumof C rtp_unknown) + $(sumof C rtcp_unknown) ))
note "C: verify: $(cat "$W/C.sum")"
if [ "$c" -gt 0 ] && [ "$VRC" != 0 ]; then
	pass "C (mutation): a plain bob and an opportunistic alice: verify counts $c cleartext packets and exits $VRC; A's check would fail"
else
	fail "C (mutation): the no-cleartext check does not catch a call in clear ($c, exit $VRC)"
fi
finish
