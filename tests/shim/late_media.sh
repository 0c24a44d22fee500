#!/bin/sh
# A receive already blocked when the socket becomes media: a thread of the
# client waits in recvfrom on a UDP socket before any SDP names it, then
# the client's INVITE offers that port (the shim makes it a media socket
# while the receive is blocked). The first datagram that arrives is ZRTP:
# it is the shim's, and the blocked receive must not return it; the
# datagrams that are no media after it reach the client untouched.
# (sipp's -rtp_echo thread got the peer's Hello this way, echoed it, and
# the peer then saw its own ZID.) Run from the top build directory.
set -u
WORK_NAME=latemedia
. "$(dirname "$0")/preload.sh"
here=$(cd "$(dirname "$0")" && pwd)
base=$(( 22500 + ($$ % 100) * 4 ))   # 22500-22899: its own range
fail=0
python3 "$here/late_media.py" peer "$base" &
peer=$!
LD_PRELOAD="$pre" ZRTPSHIM_DIR="$work/state" ZRTPSHIM_LOG_FILE="$work/shim.log" \
	ZRTPSHIM_LOG=debug timeout -k 2 15 python3 "$here/late_media.py" client \
	"$base" $((base + 2)) "$work/got"
rc=$?
wait "$peer"
echo "client exit $rc; it received:"
sed 's/^/  /' "$work/got"
first=$(head -n 1 "$work/got")
case $first in
05*) echo "ok: the blocked receive skipped the ZRTP and returned the next datagram" ;;
10*) echo "FAIL: the blocked receive returned the peer's ZRTP to the client"; fail=1 ;;
*) echo "FAIL: the blocked receive returned '$first'"; fail=1 ;;
esac
[ "$(sed -n 2p "$work/got" | cut -c1-2)" = 05 ] &&
	echo "ok: the next datagram that is no media reached the client untouched" ||
	{ echo "FAIL: the second datagram did not reach the client"; fail=1; }
grep -q 'offer with a=zrtp-hash' "$work/shim.log" &&
	echo "ok: the shim read the offer that made the socket media" ||
	{ echo "FAIL: the shim did not read the offer"; fail=1; }
exit $fail
