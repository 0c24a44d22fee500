#!/bin/sh
# Nothing in clear when a call ends before it was answered, from either
# side, and after the end (DESIGN: "a socket the shim once held stays held").
#   1. baresip alice calls baresip bob, both under the shim. bob's audio
#      source is missing: it starts its media (its RTP and RTCP sockets
#      send to alice) as it auto-answers, the answer fails and never goes
#      out; alice hangs up: CANCEL. bob's socket was held only because it
#      sent to alice's announced media address; once the call has ended
#      bob sends RTCP (BYE, SDES with its SIP URI as CNAME).
#   2. baresip alice under the shim calls a plain sipp callee that sends
#      183 with SDP (early media) and never answers; alice hangs up:
#      CANCEL, 487.
# Judged from the capture: no datagram on a media port carries a SIP URI
# (a cleartext SDES CNAME), no cleartext RTP (a 20 ms PCMU packet is 180
# bytes of UDP), and `zrtpshim verify --json` counts no cleartext RTP or
# RTCP. The logs show the scenario happened: bob's source failed, both
# shims saw the first call end, bob's shim held what bob sent.
# Ports: SIP 5120-5125 and 5130-5131, RTP 12000-12039, ctrl_tcp 4450-4452.
. "$(dirname "$0")/lib.sh"
need baresip

cd "$W" || exit 99
tone alice.wav 440 12

hangup() { # CTRLPORT: baresip's ctrl_tcp, a netstring of JSON
	python3 - "$1" <<'PY'
import json, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
m = json.dumps({"command": "hangup"}).encode()
s.sendall(str(len(m)).encode() + b":" + m + b",")
time.sleep(0.5)
s.close()
PY
}

# judge LABEL CAP: the capture's media ports hold nothing in clear
judge() {
	_uri=$(tshark -r "$2" -Y 'udp.port >= 12000 && udp.port <= 12099 && frame contains "@127.0.0.1"' \
		-T fields -e frame.number 2>/dev/null | wc -l)
	_clear=$(tshark -r "$2" -Y 'udp.srcport >= 12000 && udp.srcport <= 12099 && udp.length == 180 && (udp.payload[0] & 0xc0) == 0x80' \
		-T fields -e frame.number 2>/dev/null | wc -l)
	_media=$(tshark -r "$2" -Y 'udp.srcport >= 12000 && udp.srcport <= 12099' \
		-T fields -e frame.number 2>/dev/null | wc -l)
	note "$1: $_media datagrams from media ports"
	if [ "$_uri" -eq 0 ]; then
		pass "$1: no SIP URI (cleartext RTCP SDES) on a media port"
	else
		fail "$1: $_uri datagrams on media ports carry a SIP URI in clear"
		tshark -r "$2" -Y 'udp.port >= 12000 && udp.port <= 12099 && frame contains "@127.0.0.1"' \
			-o rtcp.heuristic_rtcp:TRUE 2>/dev/null | head -n 5 | sed 's/^/    /'
	fi
	if [ "$_clear" -eq 0 ]; then
		pass "$1: no cleartext RTP"
	else
		fail "$1: $_clear cleartext RTP packets"
	fi
	"$ZS" verify "$2" --json >"$W/$1.json" 2>/dev/null
	_v=$(python3 - "$W/$1.json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("unreadable")
    sys.exit()
n = 0
for s in d.get("streams", []):
    for di in s.get("directions", []):
        c = di.get("counts", {})
        n += sum(c.get(k, 0) for k in ("rtp_clear", "rtp_unknown", "rtcp_clear", "rtcp_unknown"))
print(n)
PY
)
	if [ "$_v" = 0 ]; then
		pass "$1: zrtpshim verify counts no cleartext RTP/RTCP"
	else
		fail "$1: zrtpshim verify counts $_v cleartext or unknown RTP/RTCP"
	fi
}

# --- 1. baresip -> baresip, the callee's answer never goes out -----------------
baresip_dir alice alice 5120 4450 12000 "$W/alice.wav"
baresip_dir bob bob 5122 4451 12010 "$W/missing.wav"
start_cap "$W/bb.pcap" "udp and host 127.0.0.1 and (portrange 5120-5123 or portrange 12000-12019)" 2>"$W/tcpdump.err"
bg shimmed bob timeout -k 2 14 baresip -f "$W/bob" -t 12 >"$W/bob.out" 2>&1
BOB=$BGPID
sleep 1
bg shimmed alice timeout -k 2 12 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1:5122" -t 10 >"$W/alice.out" 2>&1
ALICE=$BGPID
sleep 4
hangup 4450 || fail "could not hang up over ctrl_tcp"
wait $ALICE
wait $BOB
stop_cap
if grep -q "start_source failed" "$W/bob.out" &&
   ! tshark -r "$W/bb.pcap" -Y 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE"' 2>/dev/null | grep -q .; then
	pass "bob's audio source failed and no 200 to the INVITE went out"
else
	fail "the scenario did not happen: bob answered, or its source did not fail"
fi
if grep -q "call .* ended" "$W/bob.log" && grep -q "call .* ended" "$W/alice.log"; then
	pass "both shims saw the call end"
else
	fail "a shim did not see the call end"
fi
grep -h "held\|RTCP on\|RTP on" "$W/bob.log" | sed 's/^/    bob: /' | head -n 4
grep -q "held" "$W/bob.log" || fail "bob's shim held nothing: the scenario sent no early media"
judge baresip-baresip "$W/bb.pcap"

# --- 2. baresip -> sipp: 183 with SDP, never answered, CANCEL -------------------
need sipp
baresip_dir alice2 alice 5124 4452 12020 "$W/alice.wav"
start_cap "$W/bs.pcap" "udp and host 127.0.0.1 and (port 5124 or port 5130 or portrange 12020-12039)" 2>"$W/tcpdump2.err"
bg timeout -k 2 20 sipp -sf "$E2E_SRC/tests/e2e/uas_183_cancel.xml" -i 127.0.0.1 \
	-p 5130 -bind_local -mi 127.0.0.1 -mp 12030 -cp 5131 -m 1 -nostdin \
	-trace_err -error_file "$W/uas.err" >"$W/uas.out" 2>&1
UAS=$BGPID
sleep 0.5
bg shimmed alice2 timeout -k 2 12 baresip -f "$W/alice2" \
	-e "/dial sip:bob@127.0.0.1:5130" -t 10 >"$W/alice2.out" 2>&1
ALICE=$BGPID
sleep 4
hangup 4452 || fail "could not hang up over ctrl_tcp"
wait $ALICE
wait $UAS || note "sipp exited $? (see $W/uas.err)"
stop_cap
if tshark -r "$W/bs.pcap" -Y 'sip.Status-Code == 183' 2>/dev/null | grep -q . &&
   tshark -r "$W/bs.pcap" -Y 'sip.Method == "CANCEL"' 2>/dev/null | grep -q .; then
	pass "183 with SDP, then CANCEL"
else
	fail "the scenario did not happen: no 183 or no CANCEL on the wire"
fi
# sipglue counts an answer in a 183 as establishing the call, so this
# CANCEL and 487 do not end it in alice's shim; her streams stay as they
# were (failed: sipp speaks no ZRTP), which holds her media all the same.
grep -q "call .* ended" "$W/alice2.log" ||
	note "alice's shim did not see this early call end (an answered 183 counts as established)"
judge baresip-sipp "$W/bs.pcap"
finish
