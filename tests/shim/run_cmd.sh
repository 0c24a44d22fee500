#!/bin/sh
# `zrtpshim run`: sets LD_PRELOAD to this build's libzrtpshim.so (keeping
# what was there), the policy, and becomes the command; clear exit codes.
# Run from the top build directory (automake's test harness does).
set -u
zs=./tools/zrtpshim
shim=$(pwd)/.libs/libzrtpshim.so
[ -x "$zs" ] && [ -f "$shim" ] || { echo "missing $zs or $shim" >&2; exit 99; }
fail=0
check() {   # what, got, want
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: got '$2', want '$3'"; fail=1; fi
}
export ZRTPSHIM_LOG=error
got=$(LD_PRELOAD= "$zs" run -- sh -c 'echo "$LD_PRELOAD"')
case " $got " in *" $shim "*|*"$shim"*) echo "ok: LD_PRELOAD names the shim ($got)" ;;
	*) echo "FAIL: LD_PRELOAD is '$got'"; fail=1 ;; esac
got=$("$zs" run --policy opportunistic -- sh -c 'echo "$ZRTPSHIM_POLICY"')
check "--policy opportunistic" "$got" opportunistic
got=$("$zs" run -- sh -c 'exit 7'; echo $?)
check "the command's exit status" "$got" 7
"$zs" run -- /nonexistent/cmd 2>/dev/null; check "command not found" $? 127
"$zs" run --policy bogus -- true 2>/dev/null; check "bad policy" $? 2
"$zs" run 2>/dev/null; check "no command" $? 2
exit $fail
