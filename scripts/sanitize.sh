#!/bin/sh
# Build and run `make check` under AddressSanitizer and UBSan, out of tree
# in build-asan/ so the normal build is untouched.
set -eu
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
mkdir -p "$src/build-asan"
cd "$src/build-asan"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
[ -f Makefile ] || "$src/configure" -q CFLAGS="$san" LDFLAGS="$san"
make -j"$(nproc)" >/dev/null
# Check forks each test; ASan must see the children too.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	make -j"$(nproc)" check || { cat tests/unit/*.log tests/interop/*.log 2>/dev/null | tail -n 200; exit 1; }
