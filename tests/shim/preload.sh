# Sourced by the tests/shim scripts that preload the shim into rtp_peer,
# from the top build directory (automake's test harness runs them there).
# Set WORK_NAME first. Gives $prog (rtp_peer), $shim, $pre (the
# LD_PRELOAD value: libasan first when the shim is an ASan build) and
# $work (a fresh directory, removed on exit); exits 99 if a piece is
# missing.
prog=./tests/shim/rtp_peer
shim=$(pwd)/.libs/libzrtpshim.so
[ -x "$prog" ] && [ -f "$shim" ] || { echo "missing $prog or $shim" >&2; exit 99; }
asan=$(ldd "$shim" 2>/dev/null | sed -n 's/.*libasan[^ ]* => \([^ ]*\).*/\1/p' | head -n 1)
pre="$shim"
[ -n "$asan" ] && pre="$asan $pre"
work=$(mktemp -d "/tmp/zs-$WORK_NAME.XXXXXX")
trap 'rm -rf "$work"' EXIT
