#!/bin/sh
# A provider's path: kamailio as registrar and proxy with digest
# authentication and record-route, rtpengine (userspace, --table=-1)
# relaying the media under kamailio's rtpengine module, so both SDPs carry
# relay addresses. Two shimmed baresips register with passwords and call
# through it. Judged from the capture (both legs) and the logs:
#   - each REGISTER was challenged (401) and then accepted (200); the
#     INVITE was challenged (407) and went through with credentials; the
#     200 carries kamailio's Record-Route;
#   - rtpengine's ports in both SDPs and media to and from them;
#   - the same SAS; zrtpshim verify --keylog: PASS, no cleartext RTP or
#     RTCP on either leg, every packet authenticated; each side hears the
#     other.
. "$(dirname "$0")/lib.sh"
need baresip kamailio rtpengine

K=5260 SA=5262 SB=5264 NG=2242
cd "$W" || exit 99
tone alice.wav 440 6
tone bob.wav 660 10
cat >"$W/kamailio.cfg" <<EOT
#!KAMAILIO
debug=2
log_stderror=yes
children=2
listen=udp:127.0.0.1:$K
auto_aliases=no
alias="127.0.0.1:$K"
alias="127.0.0.1"
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "pv.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "rtpengine.so"
modparam("usrloc", "db_mode", 0)
modparam("registrar", "gruu_enabled", 0)
modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:$NG")
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (has_totag()) {
		if (loose_route()) {
			if (is_method("BYE")) { rtpengine_delete(); }
			t_relay(); exit;
		}
		if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
		sl_send_reply("404", "Not here"); exit;
	}
	if (is_method("CANCEL")) { if (t_check_trans()) { rtpengine_delete(); t_relay(); } exit; }
	if (is_method("REGISTER")) {
		if (!pv_www_authenticate("\$td", "pw-\$tU", "0")) { www_challenge("\$td", "0"); exit; }
		if (!save("location")) { sl_reply_error(); }
		exit;
	}
	if (!pv_proxy_authenticate("\$fd", "pw-\$fU", "0")) { proxy_challenge("\$fd", "0"); exit; }
	consume_credentials();
	remove_hf("Route");
	record_route();
	if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
	if (is_method("INVITE") && has_body("application/sdp")) {
		rtpengine_offer("replace-origin replace-session-connection");
	}
	t_on_reply("MEDIA");
	if (!t_relay()) { sl_reply_error(); }
}
onreply_route[MEDIA] {
	if (has_body("application/sdp")) {
		rtpengine_answer("replace-origin replace-session-connection");
	}
}
EOT
kamailio -f "$W/kamailio.cfg" -c >"$W/kamailio-check.out" 2>&1 ||
	{ cat "$W/kamailio-check.out"; echo "ERROR: kamailio refuses its config"; exit 99; }

baresip_dir alice alice $SA 4510 12900 "$W/alice.wav"
baresip_dir bob bob $SB 4511 12920 "$W/bob.wav"
for u in alice bob; do
	p=$SA
	[ $u = bob ] && p=$SB
	echo "<sip:$u@127.0.0.1>;auth_pass=pw-$u;outbound=\"sip:127.0.0.1:$K\";regint=60;answermode=auto;audio_codecs=PCMU;ptime=20" >"$W/$u/accounts"
done

start_cap "$W/call.pcap" "udp and host 127.0.0.1 and (port $K or port $SA or port $SB or portrange 12900-12909 or portrange 12920-12929 or portrange 30600-30799)" 2>"$W/tcpdump.err"
bg timeout -k 2 40 rtpengine --config-file=none --foreground --table=-1 \
	--interface=127.0.0.1 --listen-ng=127.0.0.1:$NG --port-min=30600 \
	--port-max=30799 --log-stderr -L 5 >"$W/rtpengine.out" 2>&1
sleep 0.5
bg timeout -k 2 40 kamailio -f "$W/kamailio.cfg" -DD -E >"$W/kamailio.out" 2>&1
sleep 1.5
bg shimmed bob timeout -k 5 22 baresip -f "$W/bob" -t 16 >"$W/bob.out" 2>&1
BOB=$BGPID
sleep 2
shimmed alice timeout -k 5 22 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1" -t 12 >"$W/alice.out" 2>&1
wait $BOB
stop_cap

codes() { # FILTER: the status codes of the responses matching it, in order
	tshark -r "$W/call.pcap" -Y "sip.Status-Code && $1" -T fields \
		-e sip.Status-Code 2>/dev/null | tr '\n' ' '
}
for u in alice bob; do
	c=$(codes "sip.CSeq.method == \"REGISTER\" && sip.from.user == \"$u\"")
	case " $c" in
	*" 401 "*"200 "*) pass "$u registered with digest authentication (responses: $c)" ;;
	*) fail "$u's REGISTER: responses $c" ;;
	esac
done
c=$(codes "sip.CSeq.method == \"INVITE\" && udp.dstport == $SA")
case " $c" in
*" 407 "*"200 "*) pass "the INVITE was challenged and went through with credentials ($c)" ;;
*) fail "INVITE responses to alice: $c" ;;
esac
if tshark -r "$W/call.pcap" -Y "sip.Status-Code == 200 && sip.CSeq.method == \"INVITE\" && sip.Record-Route" 2>/dev/null | grep -q .; then
	pass "the 200 carries kamailio's Record-Route"
else
	fail "no Record-Route in the 200"
fi
relay=$(tshark -r "$W/call.pcap" -Y "sdp" -T fields -e sdp.media.port 2>/dev/null |
	awk -F, '$1 >= 30600 && $1 <= 30799' | wc -l)
legs=$(tshark -r "$W/call.pcap" -Y "udp.srcport >= 30600 && udp.srcport <= 30799" \
	-T fields -e udp.dstport 2>/dev/null | sort -u | wc -l)
if [ "$relay" -ge 2 ] && [ "$legs" -ge 2 ]; then
	pass "rtpengine relays: its ports in $relay SDPs, its media to $legs client ports"
else
	fail "the media did not go through the relay ($relay SDPs, $legs ports)"
fi
check_same_sas "$W/alice.log" "$W/bob.log"
"$ZS" verify "$W/call.pcap" --keylog "$W/keys.log" --json >"$W/verify.json" 2>"$W/verify.err"
vrc=$?
python3 - "$W/verify.json" >"$W/sum" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
tot = {"dirs": 0, "dirs_srtp": 0, "dirs_srtcp": 0}
for s in d.get("streams", []):
    for x in s.get("directions", []):
        c = x.get("counts", {})
        for k, v in c.items():
            tot[k] = tot.get(k, 0) + v
        tot["dirs"] += 1
        tot["dirs_srtp"] += c.get("srtp", 0) >= 200
        tot["dirs_srtcp"] += c.get("srtcp", 0) > 0
print(" ".join("%s=%d" % kv for kv in sorted(tot.items())), "verdict=%s" % d.get("verdict"))
PY
note "$(cat "$W/sum")"
sum() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" "$W/sum"; }
if [ "$vrc" -eq 0 ] && [ "$(sum rtp_clear)" = 0 ] && [ "$(sum rtcp_clear)" = 0 ] &&
   [ "$(sum dirs_srtp)" -ge 4 ] && [ "$(sum auth_fail)" = 0 ] && [ "$(sum no_key)" = 0 ]; then
	pass "verify PASS on both legs: no cleartext RTP or RTCP, every packet authenticated"
else
	fail "verify (exit $vrc): $(cat "$W/sum")"
fi
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
finish
