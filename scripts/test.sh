#!/bin/sh
# The test command: install missing packages, bootstrap, configure, build,
# run every unit and interop test, then the sanitizer suite and a short
# fuzzing run. Exits non-zero on the first failure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh
autoreconf -fi >/dev/null
[ -f Makefile ] || ./configure -q
make -j"$(nproc)" >/dev/null
make -j"$(nproc)" check || { cat tests/unit/*.log tests/interop/*.log 2>/dev/null | tail -n 200; exit 1; }
make check-sanitize
make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
