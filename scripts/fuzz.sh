#!/bin/sh
# Build each libFuzzer harness under tests/fuzz/ with clang and run it for
# FUZZ_SECONDS on a copy of its committed corpus.
set -eu
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
secs=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
out="$src/build-fuzz"
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I$src -D_GNU_SOURCE"
libs="$(pkg-config --cflags --libs libsodium libcrypto)"
for h in "$src"/tests/fuzz/fuzz_*.c; do
	[ -e "$h" ] || continue
	name=$(basename "$h" .c)
	# shellcheck disable=SC2086
	$cc $flags -o "$out/$name" "$h" "$src"/zrtp/*.c $libs
	mkdir -p "$out/$name.corpus"
	[ -d "$src/tests/fuzz/corpus/$name" ] && cp -n "$src/tests/fuzz/corpus/$name"/* "$out/$name.corpus/" 2>/dev/null || true
	echo "fuzz: $name for ${secs}s"
	"$out/$name" -max_total_time="$secs" -print_final_stats=1 "$out/$name.corpus" 2>"$out/$name.log" ||
		{ tail -n 60 "$out/$name.log"; exit 1; }
	grep -E 'stat::number_of_executed_units' "$out/$name.log" || true
done
