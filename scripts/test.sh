#!/bin/sh
# The test command: install missing packages, bootstrap, configure and
# build out of tree (build/), run every unit and interop test, check the
# tarball (make distcheck), then the sanitizer suite (build-asan/) and a
# short fuzzing run (build-fuzz/).
# Exits non-zero on the first failure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh
autoreconf -fi >/dev/null 2>&1
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q
make -j"$(nproc)" >/dev/null
# On a failure: each failed test's failed checks, then its log's end.
failed_logs() {
	for t in $(find tests -name '*.trs' | xargs grep -l '^:test-result: \(FAIL\|ERROR\)'); do
		echo "==> ${t%.trs}.log: failed checks <=="
		grep -E '^(FAIL|not ok|ERROR)' "${t%.trs}.log" | head -n 40
		echo "==> ${t%.trs}.log: its end <=="
		tail -n 60 "${t%.trs}.log"
	done
}
# The tests mostly wait on real clients' calls (two at a time used about a
# sixth of two cores): twice as many at once as there are cores. Each has
# ports of its own.
make -j"$(($(nproc) * 2))" check || { failed_logs; exit 1; }
# The tarball builds from a read-only copy and passes its tests; the
# end-to-end tests skip there (ZS_DISTCHECK=1). About a minute.
log=$(mktemp /tmp/zs-distcheck.XXXXXX)
make -j"$(nproc)" distcheck >"$log" 2>&1 || { tail -n 200 "$log"; rm -f "$log"; exit 1; }
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)|archives ready' "$log"
rm -f "$log"
make check-sanitize
make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
