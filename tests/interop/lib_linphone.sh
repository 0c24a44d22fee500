# Sourced by tests/interop/linphone_*.sh: a shimmed legacy client (baresip,
# sipp) and a native ZRTP softphone (linphonec, bzrtp inside) on 127.0.0.1,
# judged from a tcpdump capture of lo, the shim's log and linphonec's own
# output and debug log. Builds on tests/e2e/lib.sh (skip/fail/pass, bg,
# start_cap/stop_cap, shimmed, tone, baresip_dir, freq, within3, verify),
# whose skips (not root, a tool missing, ZS_DISTCHECK=1) apply here too.
#
# linphonec facts this file relies on (HARNESS.md, and found here):
#   - it needs its own HOME holding an existing .local/share/linphone, or it
#     starts no SIP listener; it rewrites its rc, so each run gets a copy;
#   - its ZRTP cache (ZID, retained secrets, the SAS-verified flag) is the
#     sqlite file $HOME/.linphone-zidcache (linphonec sets it at start and
#     ignores an rc key [sip] zrtp_secrets_file; liblinphone's default
#     ~/.local/share/linphone/zrtp-secrets.db stays empty): keeping HOME
#     keeps the cache; the cache is keyed by (own URI, peer URI, peer ZID);
#   - stdout: "Call N is fully encrypted and auth token is XXXX." once the
#     ZRTP stream is secure; a cache mismatch is not printed there, only in
#     its debug log (-d 6 -l FILE): "Zrtp Event dispatched : cache mismatch";
#     the debug log also says "ZRTP secrets on: SAS is XXXX previously
#     verified yes|no";
#   - it is driven line by line on stdin (soundcard use files, play, record,
#     call, terminate, zrtp-set-verified, quit); -a auto-answers.

. "$(dirname "$0")/../e2e/lib.sh"
need linphonec

LPC_RC=$E2E_SRC/examples/linphonec/alice.rc

# linphone_dir NAME USER SIPPORT RTPPORT: $W/NAME with an rc template (the
# example rc, ports and user replaced) and a HOME for linphonec.
linphone_dir() {
	mkdir -p "$W/$1/home/.local/share/linphone"
	sed -e "s/^sip_port=.*/sip_port=$3/" \
	    -e "s#^contact=.*#contact=sip:$2@127.0.0.1:$3#" \
	    -e "s/^audio_rtp_port=.*/audio_rtp_port=$4/" \
	    -e "s/^video_rtp_port=.*/video_rtp_port=$(($4 + 50))/" \
	    "$LPC_RC" >"$W/$1/rc.tmpl"
}

# linphone_rc NAME [KEY=VALUE ...]: a fresh rc from NAME's template with
# the given keys (any section) set.
linphone_rc() {
	_d=$W/$1
	shift
	cp "$_d/rc.tmpl" "$_d/rc"
	for _kv in "$@"; do
		sed -i "s#^${_kv%%=*}=.*#${_kv}#" "$_d/rc"
	done
}

# linphonec_run NAME TIMEOUT SCRIPT [linphonec args]: run linphonec for NAME
# (its rc and HOME), feeding SCRIPT on stdin, one command per line; a line
# "@N" sleeps N seconds instead. "soundcard use files" comes first; stdin
# closes after the script. stdout+stderr in $W/NAME/out, the debug log in
# $W/NAME/debug.log (appended to across runs). Bounded by timeout -k.
linphonec_run() {
	_d=$W/$1 _t=$2 _s=$3
	shift 3
	printf 'soundcard use files\n%s\n' "$_s" | lpc_feed |
		HOME=$_d/home timeout -k 5 "$_t" linphonec -c "$_d/rc" \
			-d 6 -l "$_d/debug.log" "$@" >>"$_d/out" 2>&1
}
lpc_feed() {
	while IFS= read -r _l; do
		case $_l in
		@*) sleep "${_l#@}" ;;
		'') ;;
		*) printf '%s\n' "$_l" ;;
		esac
	done
	sleep 1
}

# lpc_sas NAME: the auth token of the last "fully encrypted" line
lpc_sas() {
	sed -n 's/.*Call [0-9]* is fully encrypted and auth token is \([^ .]*\)\..*/\1/p' "$W/$1/out" | tail -1
}
# lpc_secure_line NAME: that line itself (or what linphonec said instead)
lpc_secure_line() {
	grep -h "encrypted and auth token" "$W/$1/out" | tail -1
}

# sas_check SHIMLOG LPCNAME: the shim's "event: secure ... sas=" and
# linphonec's auth token are the same.
sas_check() {
	_s=$(sas_of "$1")
	_l=$(lpc_sas "$2")
	if [ -n "$_s" ] && [ "$_s" = "$_l" ]; then
		pass "same SAS both sides: shim '$_s' ($(grep 'event: secure' "$1" | tail -1 | sed 's/.*event: //')), linphonec '$(lpc_secure_line "$2")'"
	else
		fail "SAS: shim '$_s', linphonec '$_l' ($(lpc_secure_line "$2"))"
	fi
}

# sdp_port CAP SIPPORT: the audio port in the SDP sent from SIPPORT
sdp_port() {
	tshark -r "$1" -d "udp.port==$2,sip" -Y "sdp && udp.srcport==$2" \
		-T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1
}

# dir_counts CAP KEYLOG SHIMPORT LPCPORT: per direction of the media stream
# between the two ports, from `zrtpshim verify --json --keylog` (every RTP
# and RTCP packet judged; SRTP authenticated with the shim's keys). Writes
# $W/dc, lines "shim|lpc KEY=N ...", and prints them.
dir_counts() {
	"$ZS" verify "$1" --keylog "$2" --json >"$W/verify.json" 2>"$W/verify.err"
	echo "$?" >"$W/verify.rc"
	python3 - "$W/verify.json" "$3" "$4" >"$W/dc" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
shim, lpc = sys.argv[2], sys.argv[3]
for s in d.get('streams', []):
    for x in s.get('directions', []):
        port = x['src'].rsplit(':', 1)[1]
        dst = x['dst'].rsplit(':', 1)[1]
        who = 'shim' if port == shim else 'lpc' if port == lpc else None
        if who is None or dst not in (shim, lpc):
            continue
        c = x['counts']
        print(who, ' '.join('%s=%d' % (k, c[k]) for k in (
            'zrtp', 'srtp', 'rtp_clear', 'rtp_unknown', 'srtcp', 'rtcp_clear',
            'rtcp_unknown', 'auth_ok', 'auth_fail', 'no_key', 'stun', 'other')),
            'client=%s' % (x.get('client_id') or '-').replace(' ', '_'),
            'zrtp_hash=%s' % x.get('zrtp_hash'))
    if any(x['src'].rsplit(':', 1)[1] in (shim, lpc) for x in s.get('directions', [])):
        z = s.get('zrtp', {})
        print('stream handshake=%s algos=%s first_media_ms=%s' % (
            'complete' if z.get('complete') else 'incomplete(' + z.get('missing', '') + ')',
            '/'.join(str(v) for v in (z.get('algorithms') or {}).values()) or '-',
            s.get('first_media_after_handshake_ms')))
EOF
	sed 's/^/  /' "$W/dc"
}
# dc WHO KEY: one count from $W/dc (0 if absent)
dc() {
	_v=$(awk -v w="$1" -v k="$2" '$1 == w { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$W/dc" | head -1)
	echo "${_v:-0}"
}

# check_shim_clean: nothing from the shimmed side in clear, and its media
# went out as SRTP that authenticates with the keys the shim logged.
# MIN is the least number of SRTP packets wanted from it.
check_shim_clean() { # MIN
	_c=$(dc shim rtp_clear) _u=$(dc shim rtp_unknown) _rc=$(dc shim rtcp_clear)
	_ru=$(dc shim rtcp_unknown) _s=$(dc shim srtp) _ok=$(dc shim auth_ok)
	_bad=$(dc shim auth_fail)
	if [ "$_c" -eq 0 ] && [ "$_u" -eq 0 ] && [ "$_rc" -eq 0 ] && [ "$_ru" -eq 0 ]; then
		pass "shimmed side: no cleartext RTP/RTCP (rtp clear $_c, unknown $_u; rtcp clear $_rc, unknown $_ru)"
	else
		fail "shimmed side sent in clear: rtp clear $_c, unknown $_u; rtcp clear $_rc, unknown $_ru"
	fi
	if [ "$_s" -ge "$1" ] && [ "$_bad" -eq 0 ] && [ "$_ok" -ge "$_s" ]; then
		pass "shimmed side: $_s SRTP packets (+ $(dc shim srtcp) SRTCP), $_ok authenticated with the logged keys"
	else
		fail "shimmed side: $_s SRTP packets (want >= $1), $_ok authenticated, $_bad failed"
	fi
}
# check_lpc_srtp MIN: linphonec's media reached the shim as SRTP under the
# keys the shim derived (the same ZRTP result on both sides); its own
# cleartext RTP before the handshake is counted and reported, not failed.
check_lpc_srtp() {
	_s=$(dc lpc srtp) _ok=$(dc lpc auth_ok) _bad=$(dc lpc auth_fail)
	LPC_CLEAR=$(dc lpc rtp_clear)
	if [ "$_s" -ge "$1" ] && [ "$_bad" -eq 0 ] && [ "$_ok" -ge "$_s" ]; then
		pass "linphonec side: $_s SRTP packets (+ $(dc lpc srtcp) SRTCP), $_ok authenticated with the shim's keys"
	else
		fail "linphonec side: $_s SRTP packets (want >= $1), $_ok authenticated, $_bad failed"
	fi
	note "linphonec's own cleartext before its handshake: rtp $LPC_CLEAR, rtcp $(dc lpc rtcp_clear) (linphone's, not the shim's)"
}

# check_tone WAV HZ WHO: the recording carries HZ (within 3 %) for >= 2 s
check_tone() {
	if [ -f "$1" ]; then
		set -- $($FREQ "$1") "$2" "$3"
	else
		set -- 0 0 "$2" "$3"
	fi
	if within3 "$1" "$3" && awk -v s="$2" 'BEGIN { exit !(s >= 2) }'; then
		pass "$4 heard $3 Hz: $1 Hz for $2 s"
	else
		fail "$4 did not hear $3 Hz: $1 Hz for $2 s"
	fi
}

# lpc_cache_mismatch NAME: linphonec's debug log reports a ZRTP cache mismatch
lpc_cache_mismatch() { grep -q "cache mismatch" "$W/$1/debug.log"; }
# lpc_prev_verified NAME: yes|no from the last "ZRTP secrets on" line
lpc_prev_verified() {
	sed -n 's/.*ZRTP secrets on: SAS is .* previously verified \([a-z]*\) .*/\1/p' "$W/$1/debug.log" | tail -1
}

# hello_delay CAP SHIMPORT LPCPORT: how long the shimmed side took to answer
# linphonec's first Hello with a HelloACK, how long the handshake took, and
# whether a non-ZRTP packet (linphonec's STUN binding request) reached the
# shimmed port before that Hello. For a client that never reads its media
# socket (sipp), the shim may read past the head of the socket only after
# its 300 ms "the client does not read" rule; linphonec's STUN request
# arrives first, so without SO_PEEK_OFF (peeking past the head) the Hello
# would wait ~300 ms, and the client's RTP would be held meanwhile.
hello_delay() {
	tshark -r "$1" -d "udp.port==$2,rtp" -d "udp.port==$3,rtp" \
		-Y "udp.dstport==$2 || udp.srcport==$2" \
		-T fields -e frame.time_relative -e udp.srcport -e udp.dstport \
		-e zrtp.type -e stun.type 2>/dev/null |
	awk -F '\t' -v s="$2" -v l="$3" '
		$2 == l && $3 == s && $5 != "" && !hello && !stun { stun = $1 }
		$2 == l && $3 == s && $4 ~ /^Hello / && !hello { hello = $1 }
		$2 == s && $4 ~ /^HelloACK/ && hello && !ack { ack = $1 }
		$4 ~ /^Hello / && !first { first = $1 }
		$4 ~ /^Conf2ACK/ { done = $1 }
		END {
			printf "  peer Hello at %.3f s, our HelloACK %+.0f ms later; handshake %.0f ms (first Hello to Conf2ACK)",
			    hello, (ack - hello) * 1000, (done - first) * 1000
			if (stun) printf "; a STUN request from linphonec reached port %s %.0f ms before its Hello", s, (hello - stun) * 1000
			printf "\n"
		}'
}
