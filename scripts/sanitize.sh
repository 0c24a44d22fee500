#!/bin/sh
# Build and run `make check` under AddressSanitizer and UBSan, out of tree
# in build-asan/ so the normal build is untouched.
set -eu
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
mkdir -p "$src/build-asan"
cd "$src/build-asan"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
# ZS_PROMPTS_FROM (make check-sanitize: the normal build's data/prompts):
# copy the rendered prompt clips instead of rendering them again.
[ -f Makefile ] || "$src/configure" -q CFLAGS="$san" LDFLAGS="$san" \
	${ZS_PROMPTS_FROM:+--with-prompts="$ZS_PROMPTS_FROM"}
make -j"$(nproc)" >/dev/null
# Check forks each test; ASan must see the children too.
# Every test of our own code. Tests that preload the shim into real
# programs (sipp, baresip, linphonec, sh through `zrtpshim run`, python3
# in late_media.sh) run in the
# normal build only (scripts/test.sh): an ASan-built shim needs the ASan
# runtime preloaded first, which those programs' own launchers do not do.
tests=$(make -s print-tests | tr ' ' '\n' |
	grep -v -e '^tests/e2e/' -e '^tests/interop/linphone_' \
		-e '^tests/shim/run_cmd.sh$' -e '^tests/shim/late_media.sh$' | tr '\n' ' ')
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	make -j"$(nproc)" check TESTS="$tests" ||
	{ tail -n 200 tests/*/*.log 2>/dev/null; exit 1; }
