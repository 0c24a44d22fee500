#!/bin/sh
# RTP on sockets no SDP announced (no SIP at all) is protected too, from
# its very first packet: two peers under the shim send RTP through a plain
# relay that plays the wire and counts what crosses it. Mid-call one peer
# forks and the child sends on the same socket: a child starts fresh and
# never uses its parent's keys, so none of its packets may cross. A control
# run without the shim shows the relay does see cleartext and the child.
# Run from the top build directory (automake's test harness does).
set -u
WORK_NAME=unannounced
. "$(dirname "$0")/preload.sh"
base=$(( 20000 + ($$ % 100) * 8 ))   # 20000-20799: its own range

call() {   # $1: preload or "", $2: output prefix; side A forks at 2 s
	"$prog" relay $((base + 4)) $((base + 6)) 5 >"$work/$2.relay" &
	relay=$!
	sleep 0.2
	LD_PRELOAD="$1" ZRTPSHIM_DIR="$work/state" ZRTPSHIM_LOG_FILE="$work/$2.a.log" \
		"$prog" peer "$base" $((base + 4)) 4 2 >"$work/$2.a" &
	a=$!
	LD_PRELOAD="$1" ZRTPSHIM_DIR="$work/state" ZRTPSHIM_LOG_FILE="$work/$2.b.log" \
		"$prog" peer $((base + 2)) $((base + 6)) 4 >"$work/$2.b" &
	b=$!
	wait "$a" "$b" "$relay"
}

fail=0
call "" plain
set -- $(cat "$work/plain.relay")
echo "without the shim: relay saw zrtp $2, clear $4, other $6, forked child $8"
[ "$4" -gt 100 ] || { echo "FAIL: control run: the relay saw no cleartext"; fail=1; }
[ "$8" -gt 10 ] || { echo "FAIL: control run: the relay did not see the child"; fail=1; }

call "$pre" shim
set -- $(cat "$work/shim.relay")
echo "with the shim:    relay saw zrtp $2, clear $4, other $6, forked child $8"
# A forked child never sends with its parent's keys and packet indexes:
# its streams are ended, so its RTP is held (dropped), SRTP or not.
[ "$8" -eq 0 ] || { echo "FAIL: $8 packets of the forked child crossed the relay"; fail=1; }
ra=$(sed -n 's/received //p' "$work/shim.a")
rb=$(sed -n 's/received //p' "$work/shim.b")
echo "peers received plain RTP: a $ra, b $rb"
[ "$2" -gt 0 ] || { echo "FAIL: no ZRTP crossed the relay"; fail=1; }
[ "$4" -eq 0 ] || { echo "FAIL: $4 cleartext RTP packets crossed the relay"; fail=1; }
[ "$6" -gt 100 ] || { echo "FAIL: too little SRTP crossed ($6)"; fail=1; }
# 4 s at 50 packets/s; the handshake and start-up cost under a second.
[ "${ra:-0}" -gt 100 ] && [ "${rb:-0}" -gt 100 ] ||
	{ echo "FAIL: the media path did not hand plain RTP back"; fail=1; }
grep -h "SAS" "$work"/shim.*.log | head -n 2
[ $fail -eq 0 ] || { tail -n 20 "$work"/shim.*.log; exit 1; }
exit 0
