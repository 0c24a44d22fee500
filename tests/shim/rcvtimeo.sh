#!/bin/sh
# SO_RCVTIMEO holds under the shim: a client's blocking recv with a 300 ms
# timeout returns EAGAIN after about 300 ms even while packets the shim
# consumes (ZRTP, never handed to the client) keep arriving. Each consumed
# packet makes the shim receive again; without care the kernel would start
# the timeout afresh each time, and the recv would last as long as the
# flood (4 s here). The bound checked, 2 s, is far from both.
# Run from the top build directory (automake's test harness does).
set -u
WORK_NAME=rcvtimeo
. "$(dirname "$0")/preload.sh"
base=$(( 22000 + ($$ % 100) * 4 ))   # 22000-22399: its own range
fail=0

# the echo must see a ZRTP packet first: without the shim, send one
"$prog" zrtp-echo $((base + 1)) 4 >"$work/echo" &
echo_pid=$!
sleep 0.2
LD_PRELOAD="$pre" ZRTPSHIM_DIR="$work/state" ZRTPSHIM_LOG_FILE="$work/shim.log" \
	timeout -k 2 10 "$prog" rcvtimeo "$base" $((base + 1)) 300 >"$work/out"
wait "$echo_pid"
set -- $(cat "$work/out") x x x x x x
echo "with the shim: recv returned $2, errno $4, after $6 ms ($(cat "$work/echo") ZRTP packets echoed at it)"
grep -q "echoed [1-9]" "$work/echo" || { echo "FAIL: no ZRTP was echoed at the client"; fail=1; }
[ "$2" = -1 ] && [ "$4" = 11 ] || { echo "FAIL: want rc -1, errno 11 (EAGAIN)"; fail=1; }
case $6 in
''|*[!0-9]*) echo "FAIL: no time measured"; fail=1 ;;
*)	[ "$6" -ge 250 ] || { echo "FAIL: returned before the timeout ($6 ms)"; fail=1; }
	[ "$6" -le 2000 ] || { echo "FAIL: the timeout restarted with each consumed packet ($6 ms)"; fail=1; } ;;
esac
[ $fail -eq 0 ] || { tail -n 20 "$work/shim.log"; exit 1; }
exit 0
