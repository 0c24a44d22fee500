#!/bin/sh
# The shim's TLS hooks with each real TLS library, without a softphone:
# a one-connection TLS server (tests/e2e/tls_server.py, Python's ssl)
# records the plaintext it receives; the shimmed client is
#   OpenSSL   openssl s_client -quiet          (SSL_write, SSL_read)
#   GnuTLS    gnutls-cli                        (gnutls_record_send/recv)
#   mbedTLS   tests/e2e/mbedtls_client          (mbedtls_ssl_write/read)
# fed on stdin in three parts a moment apart, so the plaintext reaches
# the library's write call in several pieces. Per library:
#   - an INVITE with SDP reaches the server with exactly one a=zrtp-hash
#     line added, Content-Length right, every other byte the original;
#   - the server's 200 OK (SDP with a=zrtp-hash), read back through the
#     library's read call, reaches the client unchanged and the shim's
#     log shows the session found to carry SIP, the offer rewritten and
#     the answer read;
#   - a session whose plaintext is not SIP (an INVITE with SDP further
#     on in it included) reaches the server byte for byte, and the shim
#     logs no SIP for it.
# A library whose client is missing is skipped (noted); all missing: 77.
# Ports: TLS 5190-5195 (RTP ports in the SDP, 12300 and 12390, are only
# numbers: no media is sent).
. "$(dirname "$0")/lib.sh"
need openssl

SERVER="python3 $E2E_SRC/tests/e2e/tls_server.py"
MBED=$E2E_BUILD/tests/e2e/mbedtls_client

cd "$W" || exit 99
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout key.pem -out cert.pem \
	>/dev/null 2>&1 || { echo "ERROR: openssl req failed"; exit 99; }

# invite LIB: the INVITE (with SDP) the client LIB sends, in $W/LIB.invite
invite() {
	sdp="v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 12300 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
	len=$(printf "$sdp" | wc -c)
	{
		printf 'INVITE sip:bob@127.0.0.1;transport=tls SIP/2.0\r\n'
		printf 'Via: SIP/2.0/TLS 127.0.0.1:5199;branch=z9hG4bK-%s-1\r\n' "$1"
		printf 'Max-Forwards: 70\r\n'
		printf 'From: <sip:alice@127.0.0.1>;tag=a-%s\r\n' "$1"
		printf 'To: <sip:bob@127.0.0.1>\r\n'
		printf 'Call-ID: tls-%s-1@127.0.0.1\r\n' "$1"
		printf 'CSeq: 1 INVITE\r\n'
		printf 'Contact: <sip:alice@127.0.0.1:5199;transport=tls>\r\n'
		printf 'Content-Type: application/sdp\r\n'
		printf 'Content-Length: %d\r\n\r\n' "$len"
		printf "$sdp"
	} >"$W/$1.invite"
}

# plain LIB: a plaintext that is not SIP (its first bytes), with an INVITE
# and SDP further on, ending in END-OF-TEST
plain() {
	{
		printf 'hello from %s: this session is not SIP\n' "$1"
		printf 'binary-ish: \001\002\003\377 and lower case\n'
		cat "$W/$1.invite"
		printf 'END-OF-TEST\n'
	} >"$W/$1.plain"
}

# feed FILE: FILE on stdout in three parts, 0.4 s apart (the first ends
# inside the request line, the second inside the SDP), then stays open
# long enough for the answer to come back
feed() {
	_n=$(wc -c <"$1")
	_a=30
	_b=$((_n - 60))
	head -c "$_a" "$1"
	sleep 0.4
	tail -c +"$((_a + 1))" "$1" | head -c "$((_b - _a))"
	sleep 0.4
	tail -c +"$((_b + 1))" "$1"
	sleep "${2:-2}"
}

# client_cmd LIB PORT: CMD, the client of library LIB to 127.0.0.1:PORT
# (stdin to the server, what it reads on stdout)
client_cmd() {
	case $1 in
	openssl) CMD="openssl s_client -quiet -connect 127.0.0.1:$2" ;;
	gnutls) CMD="gnutls-cli --insecure --port=$2 127.0.0.1" ;;
	mbedtls) CMD="$MBED 127.0.0.1 $2" ;;
	esac
}
# how long the client's stdin stays open after its last part: s_client
# and gnutls-cli end their session when stdin ends (gnutls-cli) or read
# the answer while it is open; the mbedTLS client reads only after EOF
hold_of() { case $1 in mbedtls) echo 0 ;; *) echo 2 ;; esac; }

# session LIB MODE PORT NAME INPUT: the server in MODE on PORT, the shimmed
# client LIB fed INPUT; server record in $W/NAME.rec, client output in
# $W/NAME.out, shim log $W/NAME.log
session() {
	rm -f "$W/$4.ready"
	bg timeout -k 2 20 $SERVER "$W/cert.pem" "$W/key.pem" "$3" "$2" \
		"$W/$4.rec" "$W/$4.ready" 2>"$W/$4.srv"
	_srv=$BGPID
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		[ -f "$W/$4.ready" ] && break
		sleep 0.1
	done
	client_cmd "$1" "$3"
	# shellcheck disable=SC2086
	feed "$5" "$(hold_of "$1")" |
		shimmed "$4" timeout -k 2 15 $CMD >"$W/$4.out" 2>"$W/$4.err"
	wait "$_srv"
	echo $? >"$W/$4.src"
}

# check_invite LIB: the server's record of the INVITE against the original
check_invite() {
	python3 - "$W/$1.invite" "$W/$1-sip.rec" <<'PY'
import re, sys
orig = open(sys.argv[1], "rb").read()
got = open(sys.argv[2], "rb").read()
def split(m):
    h, _, b = m.partition(b"\r\n\r\n")
    return h, b
oh, ob = split(orig)
gh, gb = split(got)
cl = re.search(rb"(?im)^Content-Length:[ \t]*(\d+)\r?$", gh)
lines = gb.split(b"\r\n")
hashes = [l for l in lines if l.startswith(b"a=zrtp-hash:")]
rest = b"\r\n".join(l for l in lines if not l.startswith(b"a=zrtp-hash:"))
norm = lambda h: re.sub(rb"(?im)^(Content-Length:[ \t]*)\d+", rb"\1N", h)
errs = []
if len(hashes) != 1:
    errs.append("%d a=zrtp-hash lines" % len(hashes))
elif not re.fullmatch(rb"a=zrtp-hash:1\.10 [0-9a-f]{64}", hashes[0]):
    errs.append("malformed %r" % hashes[0])
if not cl or int(cl.group(1)) != len(gb):
    errs.append("Content-Length %s for a %d-byte body" % (cl and cl.group(1), len(gb)))
if norm(gh) != norm(oh):
    errs.append("headers changed")
if rest != ob:
    errs.append("SDP changed beyond the added line")
if errs:
    print("; ".join(e if isinstance(e, str) else e.decode() for e in errs))
    sys.exit(1)
print("one %s line, Content-Length %d (was %d)" % (hashes[0][:24].decode(), len(gb), len(ob)))
PY
}

# one_lib LIB SIPPORT PLAINPORT
one_lib() {
	lib=$1
	r=""
	invite "$lib"
	plain "$lib"
	session "$lib" sip "$2" "$lib-sip" "$W/$lib.invite"
	session "$lib" plain "$3" "$lib-plain" "$W/$lib.plain"

	if [ "$(cat "$W/$lib-sip.src")" = 0 ] && r=$(check_invite "$lib"); then
		pass "$lib: the INVITE reached the server with $r, every other byte the original"
	else
		fail "$lib: the INVITE the server received: ${r:-none} (server: $(tail -1 "$W/$lib-sip.srv"))"
	fi
	if grep -q '^SIP/2.0 200 OK' "$W/$lib-sip.out" &&
	   grep -q '^a=zrtp-hash:1.10 5a5a' "$W/$lib-sip.out"; then
		pass "$lib: the client read the 200 OK with its a=zrtp-hash"
	else
		fail "$lib: the client did not read the 200 OK ($(head -c 200 "$W/$lib-sip.out" | tr '\r\n' '  '); $(tail -2 "$W/$lib-sip.err"))"
	fi
	log=$W/$lib-sip.log
	cid="tls-$lib-1@127.0.0.1"
	if grep -q 'tls: session .* carries SIP' "$log" &&
	   grep -q "sip: call $cid: offer with a=zrtp-hash on 1 m= line" "$log" &&
	   grep -q "sip: call $cid: the peer's answer read, a=zrtp-hash on 1 m= line" "$log"; then
		pass "$lib: the shim found SIP inside TLS, rewrote the offer and read the answer"
	else
		fail "$lib: the shim's log lacks SIP inside TLS, the offer or the answer: $(grep -E 'tls:|sip:' "$log" | tr '\n' '|')"
	fi

	if [ "$(cat "$W/$lib-plain.src")" = 0 ] &&
	   cmp -s "$W/$lib.plain" "$W/$lib-plain.rec"; then
		pass "$lib: the non-SIP session reached the server byte for byte ($(wc -c <"$W/$lib.plain") bytes)"
		# the pieces the server read: the client wrote in parts
		note "$lib: server reads, non-SIP: $(cat "$W/$lib-plain.rec.sizes"), SIP: $(cat "$W/$lib-sip.rec.sizes")"
		if [ "$(wc -w <"$W/$lib-plain.rec.sizes")" -ge 3 ]; then
			pass "$lib: the client wrote the plaintext in several calls"
		else
			fail "$lib: the client wrote the plaintext in one call: the test did not split it"
		fi
	else
		fail "$lib: the non-SIP session was changed or cut: $(cmp "$W/$lib.plain" "$W/$lib-plain.rec" 2>&1)"
	fi
	if grep -q 'plain reply: [0-9]* bytes, no SIP here' "$W/$lib-plain.out" &&
	   ! grep -qE 'carries SIP|sip: call' "$W/$lib-plain.log"; then
		pass "$lib: the non-SIP session's reply came back, and the shim saw no SIP in it"
	else
		fail "$lib: non-SIP session: reply '$(head -c 80 "$W/$lib-plain.out")', shim: $(grep -E 'tls:|sip:' "$W/$lib-plain.log" | tr '\n' '|')"
	fi
}

ran=0
one_lib openssl 5190 5191
ran=$((ran + 1))
if command -v gnutls-cli >/dev/null 2>&1; then
	one_lib gnutls 5192 5193
	ran=$((ran + 1))
else
	note "GnuTLS part skipped: gnutls-cli is not installed (gnutls-bin)"
fi
if [ -x "$MBED" ]; then
	one_lib mbedtls 5194 5195
	ran=$((ran + 1))
else
	note "mbedTLS part skipped: $MBED not built (configure found no libmbedtls-dev)"
fi
note "$ran TLS libraries checked"
finish
