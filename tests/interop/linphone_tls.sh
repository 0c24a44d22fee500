#!/bin/sh
# SIP over TLS between a shimmed baresip (libre: OpenSSL) and linphonec
# (belle-sip: mbedTLS through bctoolbox), ZRTP mandatory on linphonec,
# both directions:
#   A. shimmed baresip alice calls linphonec bob through kamailio's TLS
#      listener: linphonec 5.1 listens on TLS but does not take incoming
#      TLS connections (its debug log: "New connection arriving on TLS,
#      not handled !"), so bob registers with kamailio over TLS and
#      kamailio reaches him on that connection (force_tcp_alias);
#   B. linphonec carol calls shimmed baresip dave's TLS listener directly.
# Only baresip is shimmed: the shim reads its SIP at SSL_write/SSL_read.
# Each call is judged from a capture of lo, the shim's log and linphonec's
# output:
#   - no SIP in clear on the wire (TLS records only);
#   - the shim read SIP inside TLS and added a=zrtp-hash to baresip's SDP;
#   - the shim logs "the peer's Hello matches the a=zrtp-hash of its SDP"
#     (linphonec's a=zrtp-hash, read inside TLS);
#   - linphonec prints the same SAS as the shim's log;
#   - zrtpshim verify --keylog: 0 cleartext RTP and 0 cleartext RTCP from
#     the shimmed side, SRTP both ways authenticated with the logged keys;
#   - each side heard the other's tone.
# Ports: SIP 5190-5195 (baresip), 5200-5203 (linphonec, kamailio), RTP
# 12300-12369, ctrl_tcp 4480-4481.
. "$(dirname "$0")/lib_linphone.sh"
need baresip openssl kamailio

cd "$W" || exit 99
make_cert
tone b440.wav 440 6        # baresip's file ending ends call A
tone b440long.wav 440 14   # baresip callee in B: longer than the call
tone l660.wav 660 20       # linphonec: longer than any call

# lpc_tls NAME USER TLSPORT RTPPORT [KEY=VALUE ...]: linphonec NAME on TLS
# only (UDP and TCP off), not checking certificates (the test's own
# self-signed one)
lpc_tls() {
	_n=$1 _u=$2 _p=$3 _r=$4
	shift 4
	linphone_dir "$_n" "$_u" 0 "$_r"
	# (video is off; its port is kept inside the test's range anyway)
	linphone_rc "$_n" sip_tls_port="$_p" "contact=sip:$_u@127.0.0.1" \
		video_rtp_port=$((_r + 10)) "$@"
	printf '%s\n' "verify_server_certs=0" "verify_server_cn=0" |
		sed -i '/^\[sip\]/r /dev/stdin' "$W/$_n/rc"
}

# baresip_tls NAME USER SIPPORT CTRL RTPLO WAV: a baresip dir whose account
# is on TLS (SIPPORT+1), with the test's certificate to listen and trust
baresip_tls() {
	baresip_dir "$1" "$2" "$3" "$4" "$5" "$6"
	printf 'sip_certificate\t\t%s\nsip_cafile\t\t%s\n' "$W/both.pem" \
		"$W/cert.pem" >>"$W/$1/config"
	echo "<sip:$2@127.0.0.1:$3;transport=tls>;regint=0;answermode=auto;audio_codecs=PCMU;ptime=20" >"$W/$1/accounts"
}

# judge TAG CAP SHIMLOG LPC SIPPORTS: the checks both calls share
judge() {
	_tag=$1 _cap=$2 _log=$3 _lpc=$4
	n_sip=$(tshark -r "$_cap" -Y sip 2>/dev/null | wc -l)
	n_tls=$(tshark -r "$_cap" -Y tls 2>/dev/null | wc -l)
	if [ "$n_sip" -eq 0 ] && [ "$n_tls" -ge 4 ]; then
		pass "$_tag: no SIP in clear on the wire, $n_tls TLS records"
	else
		fail "$_tag: $n_sip SIP packets in clear, $n_tls TLS records"
	fi
	if grep -q 'tls: session .* carries SIP' "$_log" &&
	   grep -q "sip: call .* with a=zrtp-hash" "$_log"; then
		pass "$_tag: the shim read SIP inside TLS and added a=zrtp-hash there"
	else
		fail "$_tag: the shim did not read/rewrite SIP inside TLS"
	fi
	if grep -q "the peer's Hello matches the a=zrtp-hash of its SDP" "$_log"; then
		pass "$_tag: linphonec's Hello matched the a=zrtp-hash the shim read inside TLS"
	else
		fail "$_tag: no Hello checked against an a=zrtp-hash read inside TLS ($(grep -E 'zrtp-hash|answer read' "$_log" | tail -2 | tr '\n' '|'))"
	fi
	sas_check "$_log" "$_lpc"
	# the media ports, from the SDP the shim saw (its log's media lines)
	"$ZS" verify "$_cap" --keylog "$W/keys.log" --json >"$W/$_tag.json" 2>"$W/$_tag.verr"
	python3 - "$W/$_tag.json" "$5" >"$W/$_tag.sum" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
shim_lo, shim_hi = (int(x) for x in sys.argv[2].split("-"))
tot = {}
for s in d.get("streams", []):
    for x in s.get("directions", []):
        port = int(x["src"].rsplit(":", 1)[1])
        who = "shim" if shim_lo <= port <= shim_hi else "lpc"
        for k, v in x.get("counts", {}).items():
            tot[who + "_" + k] = tot.get(who + "_" + k, 0) + v
print(" ".join("%s=%d" % kv for kv in sorted(tot.items())), "verdict=%s" % d.get("verdict"))
PY
	note "$_tag: $(cat "$W/$_tag.sum")"
	sum() { _v=$(sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" "$W/$_tag.sum"); echo "${_v:-0}"; }
	if [ "$(sum shim_rtp_clear)" = 0 ] && [ "$(sum shim_rtcp_clear)" = 0 ] &&
	   [ "$(sum shim_rtp_unknown)" = 0 ] && [ "$(sum shim_rtcp_unknown)" = 0 ] &&
	   [ "$(sum shim_srtp)" -ge 200 ] && [ "$(sum shim_srtcp)" -ge 1 ]; then
		pass "$_tag: shimmed side: 0 cleartext RTP, 0 cleartext RTCP; $(sum shim_srtp) SRTP, $(sum shim_srtcp) SRTCP"
	else
		fail "$_tag: shimmed side: cleartext or too little SRTP: $(cat "$W/$_tag.sum")"
	fi
	if [ "$(sum shim_auth_fail)" = 0 ] && [ "$(sum shim_no_key)" = 0 ] &&
	   [ "$(sum shim_auth_ok)" -ge "$(sum shim_srtp)" ] &&
	   [ "$(sum lpc_srtp)" -ge 200 ] && [ "$(sum lpc_auth_fail)" = 0 ]; then
		pass "$_tag: SRTP both ways authenticated with the shim's logged keys"
	else
		fail "$_tag: SRTP not authenticated both ways: $(cat "$W/$_tag.sum")"
	fi
}

# --- kamailio: a TLS listener only, a registrar; it reaches a registered
# contact on the connection it registered over ------------------------------
KT=5201
cat >"$W/kamailio.cfg" <<EOT
#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
listen=tls:127.0.0.1:$KT
enable_tls=yes
auto_aliases=no
alias="127.0.0.1:$KT"
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "pv.so"
loadmodule "tls.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "xlog.so"
modparam("tls", "config", "$W/tls.cfg")
modparam("usrloc", "db_mode", 0)
# no GRUU: linphonec would put it in its Contact, and kamailio resolve it
# as UDP to port 5060 (another test's, maybe)
modparam("registrar", "gruu_enabled", 0)
request_route {
	xlog("L_NOTICE", "request \$rm \$ru from \$si:\$sp (\$pr)\n");
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (has_totag()) {
		if (loose_route()) { t_relay(); exit; }
		if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
		sl_send_reply("404", "Not here"); exit;
	}
	if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
	if (is_method("REGISTER")) {
		# later requests to the contact's address go on this connection
		force_tcp_alias();
		save("location");
		exit;
	}
	remove_hf("Route");
	record_route();
	# every new call here is to a user registered with kamailio (a plain
	# alias 127.0.0.1 would make every port of it "myself", in-dialog
	# requests to linphonec's contact included)
	if (!lookup("location")) { sl_send_reply("404", "Not registered"); exit; }
	if (!t_relay()) { sl_reply_error(); }
}
onreply_route {
	xlog("L_NOTICE", "reply \$rs \$rm from \$si:\$sp (\$pr)\n");
}
EOT
kamailio -f "$W/kamailio.cfg" -c >"$W/kamailio-check.out" 2>&1 ||
	{ cat "$W/kamailio-check.out"; echo "ERROR: kamailio refuses its config"; exit 99; }

# --- A: shimmed baresip -> kamailio (TLS) -> linphonec (TLS) ----------------
SA=5190 LB=5200 RA=12300 RB=12320
baresip_tls alice alice $SA 4480 $RA "$W/b440.wav"
echo "<sip:alice@127.0.0.1:$SA;transport=tls>;outbound=\"sip:127.0.0.1:$KT;transport=tls\";regint=0;answermode=auto;audio_codecs=PCMU;ptime=20" >"$W/alice/accounts"
lpc_tls bob bob $LB $RB
cat >>"$W/bob/rc" <<EOT

[proxy_0]
reg_proxy=<sip:127.0.0.1:$KT;transport=tls>
reg_identity=sip:bob@127.0.0.1
reg_expires=300
reg_sendregister=1
EOT
start_cap "$W/a.pcap" "host 127.0.0.1 and (tcp or udp) and (portrange $SA-$((SA + 1)) or portrange $LB-$KT or portrange $RA-$((RA + 9)) or portrange $RB-$((RB + 1)))" 2>"$W/tcpdump.err"
bg timeout -k 2 30 kamailio -f "$W/kamailio.cfg" -DD -E >"$W/a-kamailio.out" 2>&1
sleep 1
bg linphonec_run bob 24 "play $W/l660.wav
record $W/bob/rec.wav
@15
quit" -a
LPID=$BGPID
sleep 3
shimmed alice timeout -k 5 20 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1" -t 11 >"$W/alice.out" 2>&1
wait $LPID
stop_cap

echo "A: shimmed baresip calls linphonec (ZRTP mandatory) through kamailio's TLS listener"
if grep -q 'to \[LinphoneRegistrationOk\]' "$W/bob/debug.log"; then
	pass "A: linphonec registered with kamailio over TLS"
else
	fail "A: linphonec did not register over TLS ($(grep -o 'to \[LinphoneRegistration[A-Za-z]*\]' "$W/bob/debug.log" | tr '\n' ' '))"
fi
n_via=$(tshark -r "$W/a.pcap" -Y "tls && tcp.port == $KT" 2>/dev/null | wc -l)
if [ "$n_via" -ge 8 ] && grep -q 'reply 200 BYE' "$W/a-kamailio.out"; then
	pass "A: the signalling went through kamailio's TLS listener ($n_via records), BYE answered"
else
	fail "A: $n_via TLS records through kamailio; its log: $(grep '<script>' "$W/a-kamailio.out" | tail -3 | tr '\n' '|')"
fi
judge A "$W/a.pcap" "$W/alice.log" bob "$RA-$((RA + 9))"
check_tone "$W/bob/rec.wav" 440 "A: linphonec"
check_tone "$(ls "$W"/alice/snd/dump-*-dec.wav 2>/dev/null | head -1)" 660 "A: baresip"

# --- B: linphonec (TLS) -> shimmed baresip's TLS listener -------------------
SD=5194 LC=5203 RD=12340 RC=12360
baresip_tls dave dave $SD 4481 $RD "$W/b440long.wav"
lpc_tls carol carol $LC $RC
start_cap "$W/b.pcap" "host 127.0.0.1 and (tcp or udp) and (portrange $SD-$((SD + 1)) or port $LC or portrange $RD-$((RD + 9)) or portrange $RC-$((RC + 1)))" 2>>"$W/tcpdump.err"
bg shimmed dave timeout -k 5 20 baresip -f "$W/dave" -t 15 >"$W/dave.out" 2>&1
BPID=$BGPID
sleep 1
linphonec_run carol 20 "play $W/l660.wav
record $W/carol/rec.wav
call sip:dave@127.0.0.1:$((SD + 1));transport=tls
@10
terminate
@1
quit"
wait $BPID
stop_cap

echo "B: linphonec (ZRTP mandatory) calls shimmed baresip over TLS"
judge B "$W/b.pcap" "$W/dave.log" carol "$RD-$((RD + 9))"
check_tone "$W/carol/rec.wav" 440 "B: linphonec"
check_tone "$(ls "$W"/dave/snd/dump-*-dec.wav 2>/dev/null | head -1)" 660 "B: baresip"

finish
