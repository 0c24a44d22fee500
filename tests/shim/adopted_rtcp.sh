#!/bin/sh
# Whole adopted streams: RTP and RTCP on sockets no SDP announced (no SIP
# at all, as with SIP over TLS) are held from their first packet and
# protected together once ZRTP is secure. Two peers under the shim send
# RTP and RTCP (SR + SDES, the cleartext marker as CNAME, as a softphone
# puts its SIP URI there) through a relay that plays the wire: RTCP from
# the RTP port + 1, on the RTP socket (rtcp-mux), from an unrelated port
# to the peer's RTP port + 1, and each of those with the RTCP starting
# 600 ms before the RTP. Nothing with the marker may cross, SRTCP must,
# and each peer must get the other's RTCP back in clear. A control run
# without the shim shows the relay does see cleartext RTCP.
# Ports 14000-14095 (16 per mode). Run from the top build directory.
set -u
WORK_NAME=adopted-rtcp
. "$(dirname "$0")/preload.sh"
modes="plus1 mux dest first-plus1 first-mux first-dest"
secs=4

run() { # $1 preload or "", $2 label
	i=0
	pids=""
	for m in $modes; do
		b=$((14000 + 16 * i))
		"$prog" rtcp-relay $((b + 4)) $((b + 6)) $((secs + 1)) \
			>"$work/$2.$m.relay" &
		pids="$pids $!"
		i=$((i + 1))
	done
	sleep 0.2
	i=0
	for m in $modes; do
		b=$((14000 + 16 * i))
		LD_PRELOAD="$1" ZRTPSHIM_DIR="$work/state" \
			ZRTPSHIM_LOG_FILE="$work/$2.$m.a.log" \
			"$prog" rtcp-peer "$m" "$b" $((b + 4)) "$secs" >"$work/$2.$m.a" &
		pids="$pids $!"
		LD_PRELOAD="$1" ZRTPSHIM_DIR="$work/state" \
			ZRTPSHIM_LOG_FILE="$work/$2.$m.b.log" \
			"$prog" rtcp-peer "$m" $((b + 2)) $((b + 6)) "$secs" >"$work/$2.$m.b" &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do
		wait "$p"
	done
}

fail=0
run "" plain
for m in $modes; do
	set -- $(cat "$work/plain.$m.relay")
	[ "${8:-0}" -gt 10 ] ||
		{ echo "FAIL: control run $m: the relay saw no cleartext RTCP"; fail=1; }
done

run "$pre" shim
for m in $modes; do
	set -- $(cat "$work/shim.$m.relay")
	ra=$(sed -n 's/.* rtcp //p' "$work/shim.$m.a")
	rb=$(sed -n 's/.* rtcp //p' "$work/shim.$m.b")
	echo "$m: relay saw zrtp $2 clear $4 srtp $6 clear-rtcp $8 srtcp ${10} other ${12}; RTCP handed back: a ${ra:-?} b ${rb:-?}"
	bad=0
	[ "$4" -eq 0 ] || { echo "FAIL: $m: $4 cleartext RTP crossed"; bad=1; }
	[ "$8" -eq 0 ] || { echo "FAIL: $m: $8 cleartext RTCP crossed"; bad=1; }
	[ "$2" -gt 0 ] || { echo "FAIL: $m: no ZRTP"; bad=1; }
	[ "$6" -gt 100 ] || { echo "FAIL: $m: too little SRTP ($6)"; bad=1; }
	# 10 RTCP a second each way for ~3 s once secure
	[ "${10}" -gt 20 ] || { echo "FAIL: $m: too little SRTCP (${10})"; bad=1; }
	[ "${ra:-0}" -gt 10 ] && [ "${rb:-0}" -gt 10 ] ||
		{ echo "FAIL: $m: the peers did not get each other's RTCP back"; bad=1; }
	if [ $bad -ne 0 ]; then
		fail=1
		grep -h "RTCP\|RTP on\|adopt" "$work/shim.$m".*.log | head -n 6
	fi
done
exit $fail
