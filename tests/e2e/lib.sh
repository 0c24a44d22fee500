# Sourced by tests/e2e/*.sh: real clients under the shim on 127.0.0.1,
# judged only from a tcpdump capture of lo and the clients' shim logs.
#
# Every client runs under `timeout -k`; every process a test starts is
# remembered by PID and ended by PID. Exit: 0 pass, 1 fail, 77 skip (not
# root, a client/tool missing, or ZS_DISTCHECK=1), 99 hard error (the build is missing).
# The work directory is kept on failure (its path is printed), removed on
# success unless ZS_E2E_KEEP=1.

set -u

E2E_SRC=${ZS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
E2E_BUILD=${ZS_BUILDDIR:-$(pwd)}
SHIM=$E2E_BUILD/.libs/libzrtpshim.so
ZS=${ZS_ZRTPSHIM:-$E2E_BUILD/tools/zrtpshim}
FREQ="python3 $E2E_SRC/tests/e2e/freq.py"
FAILS=0
E2E_PIDS=""
CAP_PID=""

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
note() { echo "  $*"; }

# make distcheck's copy: real clients on fixed ports could meet another
# run's on this host, and the copy only proves the tarball builds.
[ "${ZS_DISTCHECK:-}" = 1 ] && skip "inside make distcheck (ZS_DISTCHECK=1)"
[ "$(id -u)" = 0 ] || skip "needs root for tcpdump on lo (CI runs as root)"
need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (scripts/deps.sh, or apt-get install baresip-core sip-tester tcpdump tshark sox)"
	done
}
need tcpdump tshark sox python3 timeout
if [ ! -f "$SHIM" ] || [ ! -x "$ZS" ]; then
	echo "ERROR: $SHIM or $ZS not built (run from the build tree, or set ZS_BUILDDIR)"
	exit 99
fi

W=$(mktemp -d /tmp/zrtpshim-e2e.XXXXXX)
chmod 755 "$W"      # tcpdump drops privileges to write its capture
e2e_cleanup() {
	for p in $E2E_PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $E2E_PIDS; do
		wait "$p" 2>/dev/null
	done
	if [ "$FAILS" -gt 0 ] || [ "${ZS_E2E_KEEP:-0}" = 1 ]; then
		echo "work directory kept: $W"
	else
		rm -rf "$W"
	fi
}
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

# Background a command and remember its PID in BGPID and E2E_PIDS.
bg() {
	"$@" &
	BGPID=$!
	E2E_PIDS="$E2E_PIDS $BGPID"
}

# start_cap FILE FILTER: tcpdump on lo until stop_cap.
start_cap() {
	bg tcpdump -i lo -U -s 0 -w "$1" "$2"
	CAP_PID=$BGPID
	# tcpdump says "listening on lo" once it is capturing.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		sleep 0.2
		[ -s "$1" ] && break
	done
	sleep 0.3
}
stop_cap() {
	sleep 0.5
	[ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=""
}

# shimmed NAME CMD...: CMD under the shim, log in $W/NAME.log; default
# settings except where the caller exported ZRTPSHIM_* itself. The state
# directory is the default one under $XDG_STATE_HOME, shared by both
# clients of a test exactly as two clients of one user would share it.
# Spoken prompts are off unless the caller sets ZRTPSHIM_PROMPTS: these
# tests judge what a client heard as a pure tone, and a prompt spoken
# over it is what the prompts_*.sh tests judge.
shimmed() {
	_n=$1
	shift
	env LD_PRELOAD="$SHIM" ZRTPSHIM_LOG=${ZRTPSHIM_LOG:-debug} \
		ZRTPSHIM_PROMPTS=${ZRTPSHIM_PROMPTS:-off} \
		ZRTPSHIM_LOG_FILE="$W/$_n.log" XDG_STATE_HOME="$W/state" \
		ZRTPSHIM_KEYLOG="$W/keys.log" "$@"
}

# tone FILE.wav HZ SECONDS
tone() {
	sox -n -r 8000 -c 1 -b 16 -e signed-integer "$1" synth "$3" sine "$2" vol 0.3
}

# media_counts CAP RTP_PORT_A RTP_PORT_B: per sending RTP port, how many
# packets the capture holds of each kind. Prints lines
#   <srcport> zrtp=N srtp=N clear=N other=N
# RTP is told by tshark (-d udp.port==P,rtp); a G.711 20 ms packet is 12 +
# 160 bytes in clear (UDP length 180) and 10 (HS80) or 4 (HS32) bytes
# longer as SRTP. A shim that leaked cleartext would show 180s.
media_counts() {
	tshark -r "$1" -d "udp.port==$2,rtp" -d "udp.port==$3,rtp" \
		-T fields -e udp.srcport -e udp.dstport -e udp.length \
		-e rtp.version -e zrtp.type 2>/dev/null |
	awk -F '\t' -v a="$2" -v b="$3" '
		($1 == a && $2 == b) || ($1 == b && $2 == a) {
			p = $1
			seen[p] = 1
			if ($5 != "") zrtp[p]++
			else if ($4 == 2 && $3 == 180) clear[p]++
			else if ($4 == 2 && ($3 == 190 || $3 == 184)) srtp[p]++
			else other[p]++
		}
		END {
			for (p in seen)
				printf "%s zrtp=%d srtp=%d clear=%d other=%d\n", p,
				    zrtp[p], srtp[p], clear[p], other[p]
		}'
}
# field PORT KEY: from the last media_counts output in $W/counts
field() {
	awk -v p="$1" -v k="$2" '$1 == p { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$W/counts" | head -1
}

# zrtp_types CAP PORTA PORTB: the ZRTP message types seen, sorted, unique
zrtp_types() {
	tshark -r "$1" -d "udp.port==$2,rtp" -d "udp.port==$3,rtp" \
		-Y zrtp -T fields -e zrtp.type 2>/dev/null | tr -d ' ' | sort -u | tr '\n' ' '
}
check_handshake() { # CAP PORTA PORTB
	_t=$(zrtp_types "$1" "$2" "$3")
	_miss=""
	for m in Hello HelloACK Commit DHPart1 DHPart2 Confirm1 Confirm2 Conf2ACK; do
		case " $_t " in *" $m "*) ;; *) _miss="$_miss $m" ;; esac
	done
	if [ -z "$_miss" ]; then
		pass "ZRTP handshake on the wire ($_t)"
	else
		fail "ZRTP handshake incomplete on the wire: missing$_miss (seen: $_t)"
	fi
}

# sas_of LOG: the SAS of the last "event: secure" line
sas_of() { sed -n 's/.*event: secure .*sas=\([^ ]*\).*/\1/p' "$1" | tail -1; }
zid_of() { sed -n 's/.*event: secure .*peer-zid=\([0-9a-f]*\).*/\1/p' "$1" | tail -1; }

check_same_sas() { # LOGA LOGB
	_a=$(sas_of "$1")
	_b=$(sas_of "$2")
	if [ -n "$_a" ] && [ "$_a" = "$_b" ]; then
		pass "both logs show SAS $_a"
	else
		fail "SAS differ or missing: $(basename "$1"): '${_a}', $(basename "$2"): '${_b}'"
	fi
	# Each side logs the other's ZID: two clients with default settings
	# on one host must not present the same one.
	_za=$(zid_of "$1")
	_zb=$(zid_of "$2")
	if [ -n "$_za" ] && [ "$_za" != "$_zb" ]; then
		pass "distinct ZIDs ($_zb, $_za)"
	else
		fail "ZIDs not distinct or missing: '$_za' '$_zb'"
	fi
}

# status_sent DIR: the sum over the status files of packets the clients
# handed to the shim to send, per stream name: "name sent srtp"
status_sent() {
	python3 - "$1" <<'EOF'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + '/*.json')):
    try:
        d = json.load(open(f))
    except Exception as e:
        print('unreadable %s: %s' % (f, e), file=sys.stderr)
        continue
    for s in d.get('streams', []) + d.get('history', []):
        c = s.get('counters', {})
        sent = sum(c.get(k, 0) for k in ('tx_srtp', 'tx_held', 'tx_clear', 'tx_dropped'))
        print(d['pid'], s['name'], sent, c.get('tx_srtp', 0), s.get('phase'))
EOF
}

# verify CAP [ARGS]: zrtpshim verify; prints its summary, returns its status
run_verify() {
	_cap=$1
	shift
	"$ZS" verify "$_cap" "$@" >"$W/verify.out" 2>&1
	_rc=$?
	sed 's/^/    /' "$W/verify.out" | tail -25
	return $_rc
}

# baresip_dir NAME USER SIPPORT CTRLPORT RTPLO WAV: a config dir in $W/NAME
# from examples/baresip/alice, ports and audio replaced.
baresip_dir() {
	mkdir -p "$W/$1" "$W/$1/snd"
	sed -e "s#^sip_listen.*#sip_listen\t\t127.0.0.1:$3#" \
	    -e "s#^audio_source.*#audio_source\t\taufile,$6#" \
	    -e "s#^rtp_ports.*#rtp_ports\t\t$5-$(($5 + 9))#" \
	    -e "s#^snd_path.*#snd_path\t\t$W/$1/snd#" \
	    -e "s#^ctrl_tcp_listen.*#ctrl_tcp_listen\t\t127.0.0.1:$4#" \
	    "$E2E_SRC/examples/baresip/alice/config" >"$W/$1/config"
	echo "<sip:$2@127.0.0.1:$3>;regint=0;answermode=auto;audio_codecs=PCMU;ptime=20" >"$W/$1/accounts"
	: >"$W/$1/contacts"
}

# ctrl PORT COMMAND [PARAMS]: one command to baresip's ctrl_tcp (a
# netstring of JSON); prints the response's "data" line if one came.
ctrl() {
	python3 - "$@" <<'PY'
import json, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
m = {"command": sys.argv[2], "token": "t"}
if len(sys.argv) > 3:
    m["params"] = sys.argv[3]
m = json.dumps(m).encode()
s.sendall(str(len(m)).encode() + b":" + m + b",")
s.settimeout(1.0)
buf = b""
try:
    while True:
        c = s.recv(4096)
        if not c:
            break
        buf += c
        if b'"response":true' in buf:
            break
except socket.timeout:
    pass
s.close()
PY
}

# dump_freq DIR: frequency and seconds of tone of the decoded audio that
# baresip's sndfile wrote in DIR (dump-*-dec.wav)
dump_freq() {
	_f=$(ls "$1"/dump-*-dec.wav 2>/dev/null | head -1)
	if [ -z "$_f" ]; then
		echo "0 0"
	else
		$FREQ "$_f"
	fi
}
# within3 MEASURED WANT: true if within 3 %
within3() { awk -v m="$1" -v w="$2" 'BEGIN { d = m - w; if (d < 0) d = -d; exit !(d <= 0.03 * w) }'; }

# dump_heard DIR HZ WHO: baresip's sndfile dump in DIR carries HZ (within 3 %)
# for at least 2 s.
dump_heard() {
	set -- $(dump_freq "$1") "$2" "$3"
	if within3 "$1" "$3" && awk -v s="$2" 'BEGIN { exit !(s >= 2) }'; then
		pass "$4 heard $3 Hz: $1 Hz for $2 s"
	else
		fail "$4 did not hear $3 Hz: $1 Hz for $2 s"
	fi
}

# make_cert: a self-signed certificate for 127.0.0.1 in $W (cert.pem,
# key.pem, and both.pem for baresip's sip_certificate), and a tls.cfg for
# kamailio's tls module using it.
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
		-addext "subjectAltName=IP:127.0.0.1" -keyout "$W/key.pem" \
		-out "$W/cert.pem" >/dev/null 2>&1 ||
		{ echo "ERROR: openssl req failed"; exit 99; }
	cat "$W/cert.pem" "$W/key.pem" >"$W/both.pem"
	cat >"$W/tls.cfg" <<EOT
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $W/key.pem
certificate = $W/cert.pem

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
EOT
}

# kamailio_check CFG: refuse to go on with a config kamailio refuses.
kamailio_check() {
	kamailio -f "$1" -c >"$1.check" 2>&1 ||
		{ cat "$1.check"; echo "ERROR: kamailio refuses $1"; exit 99; }
}

# kamailio_registrar_cfg FILE PORT NGPORT: kamailio on udp:127.0.0.1:PORT
# as registrar (usrloc in memory, GRUU off) and record-routing proxy with
# digest authentication (user U's password is "pw-U"), putting rtpengine
# (ng on NGPORT) into every INVITE's media.
kamailio_registrar_cfg() {
	cat >"$1" <<EOT
#!KAMAILIO
debug=2
log_stderror=yes
children=2
listen=udp:127.0.0.1:$2
auto_aliases=no
alias="127.0.0.1:$2"
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
modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:$3")
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
	kamailio_check "$1"
}

# rtpengine_bg NGPORT PORTMIN PORTMAX: rtpengine in userspace
# (--table=-1) on 127.0.0.1, in the background, its log in
# $W/rtpengine.out.
rtpengine_bg() {
	bg timeout -k 2 45 rtpengine --config-file=none --foreground --table=-1 \
		--interface=127.0.0.1 --listen-ng=127.0.0.1:$1 --port-min=$2 \
		--port-max=$3 --log-stderr -L 5 >"$W/rtpengine.out" 2>&1
}

# verify_sum CAP OUT [MIN_SRTP]: zrtpshim verify --keylog $W/keys.log
# --json on CAP; OUT gets one line "key=N ..." summed over every direction
# of every stream (the verify counts, plus dirs, dirs_srtp: directions
# with >= MIN_SRTP (default 200) SRTP packets, dirs_srtcp: with SRTCP) and
# verdict=...; $OUT.rc gets verify's exit status. vsum OUT KEY reads one.
verify_sum() {
	"$ZS" verify "$1" --keylog "$W/keys.log" --json >"$2.json" 2>"$2.err"
	echo "$?" >"$2.rc"
	python3 - "$2.json" "${3:-200}" >"$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
tot = {"dirs": 0, "dirs_srtp": 0, "dirs_srtcp": 0}
for s in d.get("streams", []):
    for x in s.get("directions", []):
        c = x.get("counts", {})
        for k, v in c.items():
            tot[k] = tot.get(k, 0) + v
        tot["dirs"] += 1
        tot["dirs_srtp"] += c.get("srtp", 0) >= want
        tot["dirs_srtcp"] += c.get("srtcp", 0) > 0
print(" ".join("%s=%d" % kv for kv in sorted(tot.items())), "verdict=%s" % d.get("verdict"))
PY
}
vsum() { sed -n "s/.*\\b$2=\\([0-9]*\\).*/\\1/p" "$1"; }
# no_clear OUT WHAT: pass if OUT (verify_sum) shows no cleartext or
# unknown RTP/RTCP
no_clear() {
	if [ "$(vsum "$1" rtp_clear)" = 0 ] && [ "$(vsum "$1" rtcp_clear)" = 0 ] &&
	   [ "$(vsum "$1" rtp_unknown)" = 0 ] && [ "$(vsum "$1" rtcp_unknown)" = 0 ]; then
		pass "$2: no cleartext RTP or RTCP"
	else
		fail "$2: cleartext or unknown media: $(cat "$1")"
	fi
}

finish() {
	if [ "$FAILS" -gt 0 ]; then
		echo "$FAILS check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
