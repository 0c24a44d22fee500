#!/bin/sh
# Issue 14, "what it must show" 5: 100 concurrent calls in one process per
# side (bench/loadcall: one SIP socket, one RTP socket per call, PCMU every
# 20 ms for 8 s), both processes under the shim. Judged from loadcall's
# per-call counts and the two shim logs (tests/e2e/calls_check.py):
#   - all 100 calls set up and ended with BYE/200 on both sides;
#   - every call logged "event: secure" on both sides, with the same SAS;
#   - each call received >= 99 % of the tone RTP the peer sent from its
#     first arrived packet on (the ZRTP handshake before is reported as
#     "first packet after setup"), no call cut (> 1 s without a packet),
#     no packet that was not the peer's tone for that call;
# bounded in time: each loadcall under timeout (40 s), the whole test ~12 s.
# ZS_CALLS=N runs N calls instead of 100 (ports allow up to 200).
# Ports: SIP 49800/49801, RTP 49000-49399 and 49400-49799 (RTCP ports
# reserved, not sent; pairs held by other processes skipped).
. "$(dirname "$0")/lib.sh"
LC=$E2E_BUILD/bench/loadcall
[ -x "$LC" ] || { echo "ERROR: $LC not built"; exit 99; }
N=${ZS_CALLS:-100}
cd "$W" || exit 99
ulimit -n 4096 2>/dev/null

bg shimmed callee timeout -k 10 40 "$LC" callee --sip-port 49801 --peer-sip-port 49800 \
	--rtp-base 49400 --rtp-max 49799 --calls "$N" --timeout 35 >"$W/callee.out" 2>"$W/callee.err"
CALLEE=$BGPID
sleep 0.5
shimmed caller timeout -k 10 40 "$LC" caller --sip-port 49800 --peer-sip-port 49801 \
	--rtp-base 49000 --rtp-max 49399 --calls "$N" --duration 8 --rate 50 --timeout 35 \
	>"$W/caller.out" 2>"$W/caller.err"
note "caller exit $?"
wait $CALLEE
note "callee exit $?"
sed -n 's/^summary/  caller summary/p' "$W/caller.out"
sed -n 's/^summary/  callee summary/p' "$W/callee.out"
if python3 "$E2E_SRC/tests/e2e/calls_check.py" "$N" 0.99 "$W/caller.out" "$W/callee.out" \
	"$W/caller.log" "$W/callee.log" >"$W/check.out"; then
	cat "$W/check.out"
else
	cat "$W/check.out"
	fail "100 concurrent calls (see above)"
fi
finish
