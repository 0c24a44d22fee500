#!/bin/sh
# Build each libFuzzer harness under tests/fuzz/ with clang and run it for
# FUZZ_SECONDS on a copy of its committed corpus; exit 1 if any crashed.
#
#   FUZZ_SECONDS  time per harness (default 60)
#   FUZZ_CC       clang (default clang)
#   FUZZ_REGEN=1  rewrite tests/fuzz/corpus/ with gen_corpus first
#
# Each harness is linked with zrtp/*.c and, for every project header it
# includes outside zrtp/ (tests/unit/sim.h, tools/pcapread.h), the .c file
# next to it; sdp/sdp.h brings all of sdp/*.c.
# The source tree stays unconfigured: config.h is written into build-fuzz/.
set -eu
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
secs=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
out="$src/build-fuzz"
mkdir -p "$out"

# What the engine takes from config.h: the version in its Hello client id.
ver=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$src/configure.ac")
printf '#define PACKAGE_VERSION "%s"\n' "${ver:-0}" >"$out/config.h"

base="-g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all -I$out -I$src -D_GNU_SOURCE"
libs="$(pkg-config --cflags --libs libsodium libcrypto)"
pkg-config --exists libpcap && libs="$libs $(pkg-config --cflags --libs libpcap)"

# The corpus generator: always compiled, so it cannot rot; run on request.
# shellcheck disable=SC2086
$cc $base -fsanitize=address,undefined -o "$out/gen_corpus" \
	"$src/tests/fuzz/gen_corpus.c" "$src/tests/unit/sim.c" "$src"/zrtp/*.c $libs
if [ "${FUZZ_REGEN:-0}" = 1 ]; then
	rm -f "$src"/tests/fuzz/corpus/fuzz_engine/* "$src"/tests/fuzz/corpus/fuzz_packet/*
	"$out/gen_corpus" "$src/tests/fuzz/corpus"
fi

failed=""
for h in "$src"/tests/fuzz/fuzz_*.c; do
	[ -e "$h" ] || continue
	name=$(basename "$h" .c)
	extra=""
	for inc in $(sed -n 's/^#include "\([^"]*\)\.h".*/\1/p' "$h"); do
		case $inc in
		zrtp/*) continue ;;
		# sdp/sdp.h is one interface over four files.
		sdp/sdp) extra="$extra $(echo "$src"/sdp/*.c)"; continue ;;
		esac
		if [ -f "$src/$inc.c" ]; then extra="$extra $src/$inc.c"; fi
	done
	# shellcheck disable=SC2086
	$cc $base -fsanitize=fuzzer,address,undefined -o "$out/$name" \
		"$h" $extra "$src"/zrtp/*.c $libs
	mkdir -p "$out/$name.corpus"
	[ -d "$src/tests/fuzz/corpus/$name" ] &&
		cp -n "$src/tests/fuzz/corpus/$name"/* "$out/$name.corpus/" 2>/dev/null || true
	echo "fuzz: $name for ${secs}s"
	# New inputs go to the working corpus, crash reproducers next to it;
	# the committed corpus is only read.
	if "$out/$name" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$out/$name-" \
		"$out/$name.corpus" >"$out/$name.log" 2>&1; then
		grep -E '^#[0-9]+.*(DONE|pulse)' "$out/$name.log" | tail -n 1 || true
		grep -E 'stat::(number_of_executed_units|average_exec_per_sec|peak_rss)' \
			"$out/$name.log" || true
	else
		tail -n 60 "$out/$name.log"
		ls "$out/$name"-crash-* "$out/$name"-leak-* "$out/$name"-timeout-* \
			"$out/$name"-oom-* 2>/dev/null || true
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed (reproduce: build-fuzz/<harness> <artifact>)" >&2
	exit 1
fi
