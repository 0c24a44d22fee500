#!/bin/sh
# bench_clients.sh: whole-call CPU of real clients with and without the shim,
# side by side (issue 14, "what it must show" 3). Run from the build
# directory:
#   sh ../bench/bench_clients.sh [ROUNDS]     (default 7)
# Per round, the plain call and the shimmed call run at the same time, on
# ports of their own, so that both meet the same machine (this VM's CPU
# time per call drifts by half between minutes; run one after the other,
# the two modes' medians compared different machines):
#   - baresip: two baresips on 127.0.0.1, a 10 s PCMU call (alice's 10 s
#     tone file ending ends it; bob answers automatically), both shimmed or
#     both plain; the CPU is user + system of both processes from start to
#     exit (wait4's rusage of each, its descendants included: timeout
#     and env, which both modes go through alike);
#   - sipp: sipp UAC and UAS (examples/sipp, the UAC's pause made 10 s),
#     each streaming a 10 s PCMU tone with rtp_stream.
# Prints each round's CPU and ratio, then per client the median of the
# rounds' ratios shimmed / plain (the issue's goal: at most 1.15), for
# reference the medians of each mode, and how far the rounds spread (the
# quartiles of the ratios, and how many rounds were at the goal). No
# assertions: it prints; a call that did not happen (no "secure" in a
# shimmed log, or a client that failed) is reported and its round left
# out.
# Ports (127.0.0.1), plain / shimmed: baresip SIP 46100/46102 and
# 46300/46302, ctrl 46104/46105 and 46304/46305, RTP 46110-46129 and
# 46310-46329; sipp SIP 46200/46201 and 46400/46401, media 46210/46220 and
# 46410/46420, control 46230/46231 and 46430/46431.
set -u
ROUNDS=${1:-7}
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(pwd)
SHIM=$B/.libs/libzrtpshim.so
[ -f "$SHIM" ] || { echo "run from the build directory (.libs/libzrtpshim.so)"; exit 2; }
for t in baresip sipp sox python3; do
	command -v $t >/dev/null 2>&1 || { echo "$t is not installed"; exit 2; }
done
W=$(mktemp -d /tmp/bench_clients.XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done' EXIT
trap 'exit 1' INT TERM
cd "$W" || exit 2
sox -n -r 8000 -c 1 -b 16 -e signed-integer alice.wav synth 10 sine 440 vol 0.3
sox -n -r 8000 -c 1 -b 16 -e signed-integer bob.wav synth 14 sine 660 vol 0.3
sox alice.wav -t raw -e u-law -r 8000 -c 1 audio.ulaw
sed 's/<pause milliseconds="7000"\/>/<pause milliseconds="10000"\/>/' \
	"$SRC/examples/sipp/uac.xml" >uac10.xml
grep -q 'milliseconds="10000"' uac10.xml || { echo "cannot make the 10 s sipp scenario"; exit 2; }

# cpu.py OUT CMD...: runs CMD, writes "user+system" seconds of it and its
# waited-for descendants (wait4's rusage, microseconds) to OUT, exits as it
cat >cpu.py <<'PY'
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, st, ru = os.wait4(pid, 0)
open(sys.argv[1], "w").write("%.6f+%.6f\n" % (ru.ru_utime, ru.ru_stime))
sys.exit(os.waitstatus_to_exitcode(st) & 0xff)
PY

# bdir NAME USER SIPPORT CTRLPORT RTPLO WAV (as tests/e2e/lib.sh's baresip_dir)
bdir() {
	rm -rf "$W/$1"
	mkdir -p "$W/$1/snd"
	sed -e "s#^sip_listen.*#sip_listen\t\t127.0.0.1:$3#" \
	    -e "s#^audio_source.*#audio_source\t\taufile,$6#" \
	    -e "s#^rtp_ports.*#rtp_ports\t\t$5-$(($5 + 9))#" \
	    -e "s#^snd_path.*#snd_path\t\t$W/$1/snd#" \
	    -e "s#^ctrl_tcp_listen.*#ctrl_tcp_listen\t\t127.0.0.1:$4#" \
	    "$SRC/examples/baresip/alice/config" >"$W/$1/config"
	echo "<sip:$2@127.0.0.1:$3>;regint=0;answermode=auto;audio_codecs=PCMU;ptime=20" >"$W/$1/accounts"
	: >"$W/$1/contacts"
}

# pre MODE TAG NAME: the command prefix: cpu.py into TAG.NAME.time,
# timeout, and env(1) with the shim's environment when MODE is shim. Both
# modes start the client through the same chain of programs (timeout,
# env): cpu.py counts every process of it, and env costs some 3 ms of
# CPU here (its own start and its search of PATH), which the plain mode
# must pay too or the ratio charges it to the shim.
pre() {
	P="python3 $W/cpu.py $W/$2.$3.time timeout -k 3 40 env XDG_STATE_HOME=$W/state"
	if [ "$1" = shim ]; then
		P="$P LD_PRELOAD=$SHIM ZRTPSHIM_LOG=info ZRTPSHIM_PROMPTS=off ZRTPSHIM_LOG_FILE=$W/$2.$3.log"
	fi
}

cpu_of() { # TAG NAME: user+system seconds, or "-"
	_v=$(tail -1 "$W/$1.$2.time" 2>/dev/null)
	case $_v in *+*) echo "$_v" | awk -F+ '{ printf "%.4f", $1 + $2 }' ;; *) echo - ;; esac
}

ok_call() { # MODE TAG A B: the call happened (shimmed: both logs secure)
	[ "$1" = plain ] && return 0
	grep -q "event: secure" "$W/$2.$3.log" 2>/dev/null &&
		grep -q "event: secure" "$W/$2.$4.log" 2>/dev/null
}

# ports of a mode: the shimmed call's are the plain one's + 200
off_of() { if [ "$1" = shim ]; then echo 200; else echo 0; fi; }

run_baresip() { # MODE TAG
	_o=$(off_of "$1")
	bdir "$2.alice" alice $((46100 + _o)) $((46104 + _o)) $((46110 + _o)) "$W/alice.wav"
	bdir "$2.bob" bob $((46102 + _o)) $((46105 + _o)) $((46120 + _o)) "$W/bob.wav"
	pre "$1" "$2" bob
	$P baresip -f "$W/$2.bob" -t 15 >"$W/$2.bob.out" 2>&1 &
	_b=$!
	sleep 1
	pre "$1" "$2" alice
	$P baresip -f "$W/$2.alice" -e "/dial sip:bob@127.0.0.1:$((46102 + _o))" -t 13 >"$W/$2.alice.out" 2>&1
	wait $_b
	ok_call "$1" "$2" alice bob || { echo "  $2: no secure call (see $W/$2.*)"; return 1; }
	_a=$(cpu_of "$2" alice) _bb=$(cpu_of "$2" bob)
	[ "$_a" != - ] && [ "$_bb" != - ] || return 1
	awk -v a="$_a" -v b="$_bb" 'BEGIN { printf "%.4f", a + b }'
}

run_sipp() { # MODE TAG
	_o=$(off_of "$1")
	pre "$1" "$2" uas
	$P sipp -sf "$SRC/examples/sipp/uas.xml" -i 127.0.0.1 -p $((46200 + _o)) -bind_local \
		-mi 127.0.0.1 -mp $((46220 + _o)) -cp $((46230 + _o)) -m 1 -nostdin >"$W/$2.uas.out" 2>&1 &
	_u=$!
	sleep 0.5
	pre "$1" "$2" uac
	$P sipp 127.0.0.1:$((46200 + _o)) -sf "$W/uac10.xml" -i 127.0.0.1 -p $((46201 + _o)) -bind_local \
		-mi 127.0.0.1 -mp $((46210 + _o)) -cp $((46231 + _o)) -m 1 -nostdin >"$W/$2.uac.out" 2>&1
	_rc=$?
	wait $_u
	_rc2=$?
	[ $_rc = 0 ] && [ $_rc2 = 0 ] || { echo "  $2: sipp exited $_rc/$_rc2"; return 1; }
	ok_call "$1" "$2" uac uas || { echo "  $2: no secure call (see $W/$2.*)"; return 1; }
	_a=$(cpu_of "$2" uac) _bb=$(cpu_of "$2" uas)
	[ "$_a" != - ] && [ "$_bb" != - ] || return 1
	awk -v a="$_a" -v b="$_bb" 'BEGIN { printf "%.4f", a + b }'
}

: >"$W/results"
r=1
while [ $r -le "$ROUNDS" ]; do
	for client in baresip sipp; do
		# both modes at once; each writes its CPU (or why not) to a file
		for mode in plain shim; do
			(run_$client $mode r$r.$client.$mode | tail -1 >"$W/r$r.$client.$mode.v") &
			PIDS="$PIDS $!"
		done
		wait
		vp=$(cat "$W/r$r.$client.plain.v") vs=$(cat "$W/r$r.$client.shim.v")
		case "$vp" in [0-9]*) ;; *) echo "round $r $client: plain failed: $vp"; continue ;; esac
		case "$vs" in [0-9]*) ;; *) echo "round $r $client: shimmed failed: $vs"; continue ;; esac
		echo "$client $vp $vs" >>"$W/results"
		awk -v c=$client -v r=$r -v p="$vp" -v s="$vs" 'BEGIN {
			printf "round %d %s: CPU of both clients plain %.4f s, shimmed %.4f s: %.3f\n", r, c, p, s, s / p }'
	done
	r=$((r + 1))
done
echo
for client in baresip sipp; do
	awk -v c=$client '
		function med(a, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		$1 == c { n++; p[n] = $2; s[n] = $3; q[n] = $3 / $2 }
		END {
			if (!n) { printf "%s: no round with both calls\n", c; exit }
			mq = med(q, n); mp = med(p, n); ms = med(s, n)
			printf "%s: whole-call CPU of both clients, %d rounds side by side: median ratio shimmed/plain %.3f (goal <= 1.15); medians plain %.4f s, shimmed %.4f s\n", c, n, mq, mp, ms
			# med sorted q: its quartiles, and the rounds at the goal
			k = int((n + 3) / 4)
			for (i = 1; i <= n; i++) if (q[i] <= 1.15) at++
			printf "%s: the middle half of the rounds between %.3f and %.3f; %d of %d rounds at or under 1.15\n", c, q[k], q[n + 1 - k], at, n
		}' "$W/results"
done
echo "outputs in $W"
