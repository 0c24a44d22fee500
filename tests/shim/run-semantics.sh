#!/bin/sh
# Runs tests/shim/semantics twice and requires both runs to pass: once
# against libc alone, once with libzrtpshim.so preloaded (plus a tiny
# library whose constructor calls the hooks before the shim has
# initialised). The program's assertions are libc's behaviour, so passing
# both ways means the hooks behave exactly like libc.
# Run from the top build directory (automake's test harness does).
set -u
here=$(cd "$(dirname "$0")" && pwd)
prog=./tests/shim/semantics
shim=$(pwd)/.libs/libzrtpshim.so
[ -x "$prog" ] || { echo "missing $prog" >&2; exit 99; }
[ -f "$shim" ] || { echo "missing $shim" >&2; exit 99; }

# The constructor library, built here (no libtool: a plain .so).
ctor=$(pwd)/tests/shim/libzsctor.so
${CC:-cc} -shared -fPIC -O1 -o "$ctor" "$here/ctor.c" ||
	{ echo "cannot build $ctor" >&2; exit 99; }

# An ASan-built shim needs the ASan runtime first in the preload list.
asan=$(ldd "$shim" 2>/dev/null | sed -n 's/.*libasan[^ ]* => \([^ ]*\).*/\1/p' | head -n 1)
pre="$shim $ctor"
[ -n "$asan" ] && pre="$asan $pre"

echo "== libc alone"
ZS_EXPECT_SHIM=0 "$prog" || { echo "FAIL: without the shim"; exit 1; }
echo "== with LD_PRELOAD=$pre"
LD_PRELOAD="$pre" ZS_EXPECT_SHIM=1 ZS_CTOR=1 ZRTPSHIM_LOG=${ZRTPSHIM_LOG:-warn} \
	ZRTPSHIM_DIR=$(pwd)/tests/shim/state "$prog" ||
	{ echo "FAIL: with the shim"; exit 1; }
exit 0
