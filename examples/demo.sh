#!/bin/sh
# zrtpshim demo: two unmodified baresip instances call each other on
# loopback under the shim, with audio from a file; the call is captured;
# then both sides' SAS and `zrtpshim verify`'s verdict are printed.
#
#   sudo examples/demo.sh [BUILD_DIR]
#
# As root it installs what is missing (scripts/deps.sh, and baresip-core,
# sip-tester, tcpdump, tshark, sox), builds the tree out of source in
# BUILD_DIR (default /tmp/zrtpshim-demo-build) unless it is already built,
# and captures on lo. Everything runs on 127.0.0.1; every process it
# starts is bounded by `timeout -k` and ended by its PID.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-/tmp/zrtpshim-demo-build}
W=$(mktemp -d /tmp/zrtpshim-demo.XXXXXX)
chmod 755 "$W"
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || :; done
	for p in $PIDS; do wait "$p" 2>/dev/null || :; done
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root (it installs packages and captures on lo)" >&2
	exit 1
fi

say "dependencies"
sh "$SRC/scripts/deps.sh"
missing=""
for p in baresip-core sip-tester tcpdump tshark sox; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi

say "build ($BUILD)"
[ -x "$SRC/configure" ] || (cd "$SRC" && autoreconf -fi >/dev/null)
mkdir -p "$BUILD"
[ -f "$BUILD/Makefile" ] || (cd "$BUILD" && "$SRC/configure" -q)
(cd "$BUILD" && make -j"$(nproc)" >/dev/null)
ZS=$BUILD/tools/zrtpshim
echo "built: $BUILD/.libs/libzrtpshim.so, $ZS"

say "audio and configs ($W)"
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$W/alice.wav" synth 8 sine 440 vol 0.3
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$W/bob.wav" synth 12 sine 660 vol 0.3
for who in alice bob; do
	mkdir -p "$W/$who/snd"
	sed -e "s#^audio_source.*#audio_source\t\taufile,$W/$who.wav#" \
	    -e "s#^snd_path.*#snd_path\t\t$W/$who/snd#" \
	    "$SRC/examples/baresip/$who/config" >"$W/$who/config"
	cp "$SRC/examples/baresip/$who/accounts" "$SRC/examples/baresip/$who/contacts" "$W/$who/"
done
echo "alice says 440 Hz (sip:alice@127.0.0.1:5071), bob says 660 Hz (sip:bob@127.0.0.1:5073)"

# Each unmodified client runs under the shim.
SHIMMED="$ZS run --"
# Both share the default state directory (under $XDG_STATE_HOME): each
# process takes its own cache slot, hence its own ZID.
export XDG_STATE_HOME="$W/state" ZRTPSHIM_KEYLOG="$W/keys.log"

say "call (about 10 s)"
tcpdump -i lo -U -s 0 -w "$W/call.pcap" \
	'udp and host 127.0.0.1 and (port 5071 or port 5073 or portrange 10000-10019 or portrange 10100-10119)' \
	2>"$W/tcpdump.err" &
CAP=$!
PIDS="$PIDS $CAP"
sleep 1.5
ZRTPSHIM_LOG_FILE="$W/bob.log" timeout -k 5 20 $SHIMMED baresip -f "$W/bob" -t 14 >"$W/bob.out" 2>&1 &
BOB=$!
PIDS="$PIDS $BOB"
sleep 1
ZRTPSHIM_LOG_FILE="$W/alice.log" timeout -k 5 20 $SHIMMED baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1:5073" -t 12 >"$W/alice.out" 2>&1 || :
wait "$BOB" || :
sleep 0.5
kill "$CAP" 2>/dev/null || :
wait "$CAP" 2>/dev/null || :

say "what each side's user reads aloud"
for who in alice bob; do
	line=$(grep "event: " "$W/$who.log" | tail -1 || :)
	sas=$(echo "$line" | sed -n 's/.*event: secure .*sas=\([^ ]*\).*/\1/p')
	if [ -n "$sas" ]; then
		echo "$who: SAS $sas   ($(echo "$line" | sed 's/.*event: //'))"
	else
		echo "$who: NOT SECURE: ${line:-no event in $W/$who.log}"
	fi
done
echo "If both SAS match when read aloud, mark them verified (each side):"
echo "  ZRTPSHIM_DIR=$W/state/zrtpshim $ZS cache verify PEER-ZID"

say "zrtpshim verify $W/call.pcap --keylog $W/keys.log"
set +e
"$ZS" verify "$W/call.pcap" --keylog "$W/keys.log"
rc=$?
set -e
say "verdict: $( [ $rc -eq 0 ] && echo "PASS: the call was ZRTP-secured, nothing in clear" || echo "FAIL (exit $rc)")"
echo "logs, capture and key log: $W"
exit $rc
