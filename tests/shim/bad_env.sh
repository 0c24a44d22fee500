#!/bin/sh
# Bad environment values never break the client: each is named in a
# warning and replaced by its default. A plain command's output is intact,
# and a call between two RTP peers with every value bad still secures its
# media under the default policy (require) and the default algorithms.
# Run from the top build directory (automake's test harness does).
set -u
WORK_NAME=badenv
. "$(dirname "$0")/preload.sh"
fail=0
long=$(head -c 6000 /dev/zero | tr '\0' x)

# 1. A plain command under the shim with every value wrong.
out=$(LD_PRELOAD="$pre" ZRTPSHIM_POLICY=maybe ZRTPSHIM_LOG=loud \
	ZRTPSHIM_ALGOS='ka=NOPE;;=' ZRTPSHIM_ON_EVENT="$long" \
	ZRTPSHIM_TLS=maybe ZRTPSHIM_ALTERED_MS=soon ZRTPSHIM_HISTORY=many ZRTPSHIM_NOTIFY=maybe \
	ZRTPSHIM_DIR="$work/state" sh -c 'echo output intact' 2>"$work/err1")
rc=$?
[ "$rc" -eq 0 ] && [ "$out" = "output intact" ] ||
	{ echo "FAIL: the command broke (rc $rc, output '$out')"; fail=1; }
for w in "ZRTPSHIM_POLICY=maybe" "ZRTPSHIM_LOG=loud" "ZRTPSHIM_ON_EVENT is longer" \
	"ZRTPSHIM_TLS=maybe" "ZRTPSHIM_ALTERED_MS=soon" "ZRTPSHIM_HISTORY=many" "ZRTPSHIM_NOTIFY=maybe"; do
	grep -q "$w" "$work/err1" && echo "ok: warned: $w" ||
		{ echo "FAIL: no warning for $w"; fail=1; }
done

# 2. A call whose every setting is bad: defaults apply (require, default
# algorithms), media is secured, the bad algorithm list is named.
base=$(( 21000 + ($$ % 100) * 8 ))   # 21000-21799: its own range
"$prog" relay $((base + 4)) $((base + 6)) 5 >"$work/relay" &
relay=$!
sleep 0.2
for side in a b; do
	if [ $side = a ]; then l=$base; r=$((base + 4)); else l=$((base + 2)); r=$((base + 6)); fi
	LD_PRELOAD="$pre" ZRTPSHIM_POLICY=maybe ZRTPSHIM_LOG=loud \
		ZRTPSHIM_ALGOS='ka=NOPE' ZRTPSHIM_DIR="$work/state" \
		ZRTPSHIM_LOG_FILE="$work/$side.log" \
		"$prog" peer "$l" "$r" 4 >"$work/$side" 2>"$work/$side.err" &
	eval "pid_$side=\$!"
done
wait "$pid_a" "$pid_b" "$relay"
set -- $(cat "$work/relay")
echo "relay saw zrtp $2, clear $4, other $6"
[ "$2" -gt 0 ] && [ "$4" -eq 0 ] && [ "$6" -gt 100 ] ||
	{ echo "FAIL: media not secured with default settings"; fail=1; }
grep -q 'ZRTPSHIM_ALGOS "ka=NOPE" is not valid' "$work/a.log" &&
	echo "ok: warned: ZRTPSHIM_ALGOS" || { echo "FAIL: no ALGOS warning"; cat "$work/a.log" | head; fail=1; }
grep -q "event: secure" "$work/a.log" && echo "ok: secure with the defaults" ||
	{ echo "FAIL: no secure event"; fail=1; }
exit $fail
