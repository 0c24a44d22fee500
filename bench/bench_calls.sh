#!/bin/sh
# bench_calls.sh: N concurrent calls in one process per side (bench/loadcall),
# with both processes under the shim and both plain, for each N; issue 14,
# "what it must show" 4. Run from the build directory:
#   sh ../bench/bench_calls.sh [-p PTIME_MS] [-d SECONDS] [-r CALLS_PER_S] [N ...]
# (default N: 1 10 100 1000; ptime 20; each call lasts the ramp (N / rate)
# plus SECONDS (default 12) so every call is up together for SECONDS.)
#
# Per N and mode it prints, per side: the steady-state CPU per packet handled
# (process CPU over packets sent + received while every call is up, from
# 2 s after the last call started to the first BYE), the packet rate, and
# the RSS per call: what each call adds, (VmRSS with N calls up - VmRSS
# with 1 call up) / (N - 1), the libraries a call loads (libsrtp2's and
# OpenSSL's tables, spandsp for the keypad's in-band DTMF) and the first
# call's fixed costs being paid once per process; and, "(over 0)", the same
# over a process that had no call, (VmRSS with N up - max RSS of a 0-call
# run) / N, those costs included; and the verdict of tests/e2e/calls_check.py: all calls set up and
# ended, shimmed: all secure with the same SAS on both sides; each call
# >= 99 % of the peer's packets (from its first arrived one), none cut.
# A run that fails says so, with the shim's eviction lines, and the next
# one goes on; everything runs under timeout. Exit status 1 if any failed.
#
# Ports (127.0.0.1): caller RTP 46000 + 2i, callee RTP 48000 + 2i (RTCP
# ports above each reserved, not sent), SIP: caller 49999, callee 47999
# (the RTCP ports of the other side's call 999, never bound). Do not run it
# while tests/e2e/calls100.sh runs (it uses ports inside this range).
# 1,000 calls use every even port of 46000-49998: an ephemeral port that
# another process holds there fails the run (it is tried three times);
# `sysctl net.ipv4.ip_local_reserved_ports=46000-49999` keeps the kernel
# from handing them out. BENCH_MODES="shim" (or "plain") runs one mode.
set -u
PTIME=20 SECS=12 RATE=50
while getopts p:d:r: o; do
	case $o in
	p) PTIME=$OPTARG ;;
	d) SECS=$OPTARG ;;
	r) RATE=$OPTARG ;;
	*) echo "usage: $0 [-p PTIME] [-d SECONDS] [-r RATE] [N ...]"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
NS=${*:-1 10 100 1000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(pwd)
LC=$B/bench/loadcall
SHIM=$B/.libs/libzrtpshim.so
[ -x "$LC" ] && [ -f "$SHIM" ] || { echo "run from the build directory (bench/loadcall, .libs/libzrtpshim.so)"; exit 2; }
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null
W=$(mktemp -d /tmp/bench_calls.XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done' EXIT
trap 'exit 1' INT TERM
FAILED=0

# run MODE N TAG: one caller/callee pair; outputs in $W/TAG.{caller,callee}.{out,log}
run() {
	_mode=$1 _n=$2 _t=$3
	_ramp=$(( (_n + RATE - 1) / RATE ))
	_dur=$((_ramp + SECS))
	_to=$((_dur + 40))
	rm -rf "$W/state.$_t" "$W/$_t.caller.log" "$W/$_t.callee.log"
	for side in callee caller; do
		if [ $side = callee ]; then
			set -- callee --sip-port 47999 --peer-sip-port 49999 --rtp-base 48000 --rtp-max 49998
		else
			set -- caller --sip-port 49999 --peer-sip-port 47999 --rtp-base 46000 --rtp-max 47998 \
				--duration $_dur --rate "$RATE"
		fi
		set -- timeout -k 10 $((_to + 5)) "$LC" "$@" --calls "$_n" --ptime "$PTIME" --timeout $_to
		if [ "$_mode" = shim ]; then
			set -- env LD_PRELOAD="$SHIM" ZRTPSHIM_LOG=info ZRTPSHIM_PROMPTS=off \
				ZRTPSHIM_LOG_FILE="$W/$_t.$side.log" XDG_STATE_HOME="$W/state.$_t" "$@"
		fi
		if [ $side = callee ]; then
			"$@" >"$W/$_t.$side.out" 2>"$W/$_t.$side.err" &
			_callee=$!
			PIDS="$PIDS $_callee"
			sleep 0.5
		else
			"$@" >"$W/$_t.$side.out" 2>"$W/$_t.$side.err"
			echo "caller exit status $?" >"$W/$_t.status"
		fi
	done
	wait $_callee
	echo "callee exit status $? (124: timeout, 128+n: signal n)" >>"$W/$_t.status"
}
# run_retry MODE N TAG: run, again (twice at most) when another process
# held one of the RTP ports (an ephemeral port of someone else's socket)
run_retry() {
	for _try in 1 2 3; do
		run "$@"
		grep -q "no free RTP port" "$W/$3.caller.err" "$W/$3.callee.err" || return 0
		echo "  ($1 N=$2: an RTP port was held by another process; again. With 1,000 calls the"
		echo "   range has no spare port: sysctl net.ipv4.ip_local_reserved_ports=46000-49999 helps)"
		sleep 2
	done
}

printf '%-5s %-5s %-6s %10s %9s %12s %12s %11s  %s\n' N mode side "us/pkt" "pkt/s" "RSS/call kB" "(over 0) kB" "cpu total s" verdict
for mode in ${BENCH_MODES:-plain shim}; do
	run $mode 0 $mode.0
	base_caller=$(sed -n 's/^summary.* maxrss_kb=\([0-9]*\).*/\1/p' "$W/$mode.0.caller.out")
	base_callee=$(sed -n 's/^summary.* maxrss_kb=\([0-9]*\).*/\1/p' "$W/$mode.0.callee.out")
	# One call up: the libraries a call loads and the first call's fixed
	# costs are paid; what more calls add is the cost per call.
	run $mode 1 $mode.1base
	one_caller=$(sed -n 's/^steady.* rss_kb=\([0-9]*\).*/\1/p' "$W/$mode.1base.caller.out")
	one_callee=$(sed -n 's/^steady.* rss_kb=\([0-9]*\).*/\1/p' "$W/$mode.1base.callee.out")
	for n in $NS; do
		t=$mode.$n
		run_retry $mode "$n" "$t"
		if [ $mode = shim ]; then
			python3 "$SRC/tests/e2e/calls_check.py" "$n" 0.99 "$W/$t.caller.out" "$W/$t.callee.out" \
				"$W/$t.caller.log" "$W/$t.callee.log" >"$W/$t.check" 2>&1
		else
			python3 "$SRC/tests/e2e/calls_check.py" "$n" 0.99 "$W/$t.caller.out" "$W/$t.callee.out" \
				>"$W/$t.check" 2>&1
		fi
		if [ $? = 0 ]; then v=PASS; else v=FAIL; FAILED=1; fi
		for side in caller callee; do
			eval base=\$base_$side one=\$one_$side
			awk -v n="$n" -v m=$mode -v s=$side -v base="${base:-0}" -v one="$one" -v v=$v '
				/^summary/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); S[kv[1]] = kv[2] } }
				/^steady/ && !/none/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); T[kv[1]] = kv[2] } }
				END {
					us = ("us_per_pkt" in T) ? T["us_per_pkt"] : "-"
					pps = ("pps" in T) ? T["pps"] : "-"
					rpc0 = ("rss_kb" in T) ? sprintf("%.1f", (T["rss_kb"] - base) / n) : "-"
					rpc = ("rss_kb" in T) && one != "" && n > 1 ? sprintf("%.1f", (T["rss_kb"] - one) / (n - 1)) : "-"
					printf "%-5s %-5s %-6s %10s %9s %12s %12s %11s  %s\n", n, m, s, us, pps, rpc, rpc0, S["cpu_s"], v
				}' "$W/$t.$side.out"
		done
		if [ $v = FAIL ]; then
			{ cat "$W/$t.status"; grep -E '^FAIL|eviction' "$W/$t.check"
			  grep -h "^loadcall" "$W/$t.caller.err" "$W/$t.callee.err" | grep -v skipped | head -3
			} | sed 's/^/      /' | cut -c1-220
		fi
	done
done
echo "outputs in $W"
exit $FAILED
