#!/bin/sh
# Runs built libFuzzer harnesses, each for FUZZ_SECONDS (default 60) on a
# working copy of its committed corpus; exit 1 if any crashed. `make fuzz`
# calls it after building the harnesses (Makefile.am says what they link).
#
#   fuzz.sh CORPUS WORK HARNESS...
#
# CORPUS/NAME/ is the committed corpus of harness NAME and is only read;
# new inputs go to WORK/NAME/, the log to WORK/NAME.log, crash reproducers
# to WORK/NAME-crash-* (and -leak-, -timeout-, -oom-). Harnesses run side
# by side, FUZZ_JOBS at a time (default: the number of cores).
set -eu
[ $# -ge 3 ] || { echo "usage: $0 CORPUS WORK HARNESS..." >&2; exit 2; }
corpus=$1
work=$2
shift 2
secs=${FUZZ_SECONDS:-60}
mkdir -p "$work"

# One harness per core at a time (FUZZ_JOBS, default nproc): each runs
# for its FUZZ_SECONDS either way; their reports follow in the order given.
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
case $jobs in ''|*[!0-9]*|0) jobs=1 ;; esac

# run_one HARNESS: its exit status goes to WORK/NAME.rc
run_one() {
	_n=$(basename "$1")
	if "$1" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/$_n-" \
		"$work/$_n" >"$work/$_n.log" 2>&1; then
		echo 0 >"$work/$_n.rc"
	else
		echo 1 >"$work/$_n.rc"
	fi
}

running=0
for h in "$@"; do
	name=$(basename "$h")
	mkdir -p "$work/$name"
	rm -f "$work/$name.rc"
	if [ -d "$corpus/$name" ]; then
		# The copy must stay writable even when the source tree is not.
		cp -n "$corpus/$name"/* "$work/$name/" 2>/dev/null || true
		chmod -R u+w "$work/$name"
	fi
	echo "fuzz: $name for ${secs}s"
	run_one "$h" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

failed=""
for h in "$@"; do
	name=$(basename "$h")
	echo "fuzz: $name:"
	if [ "$(cat "$work/$name.rc" 2>/dev/null)" = 0 ]; then
		grep -E '^#[0-9]+.*(DONE|pulse)' "$work/$name.log" | tail -n 1 || true
		grep -E 'stat::(number_of_executed_units|average_exec_per_sec|peak_rss)' \
			"$work/$name.log" || true
	else
		tail -n 60 "$work/$name.log"
		ls "$work/$name"-crash-* "$work/$name"-leak-* "$work/$name"-timeout-* \
			"$work/$name"-oom-* 2>/dev/null || true
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed (reproduce: <harness> $work/<name>-crash-...)" >&2
	exit 1
fi
