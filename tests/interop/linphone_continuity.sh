#!/bin/sh
# Interop item 4: the same pair -- a shimmed baresip (one shim state
# directory) and linphonec (one HOME, so one ZRTP cache: the sqlite file
# $HOME/.linphone-zidcache) -- calls again; every process exits between
# calls, so only the two caches carry over.
#   call 1 (baresip calls linphonec): first contact on both sides (shim:
#          continuity=no; linphonec: "previously verified no"); the users
#          compare the SAS and mark it verified: linphonec's own
#          `zrtp-set-verified` during the call, `zrtpshim cache verify
#          <linphonec's ZID>` after it;
#   call 2 (linphonec calls baresip: the other direction, the other ZRTP
#          roles are likely): the shim logs continuity=yes verified=yes;
#          linphonec reports no cache mismatch (its debug log would say
#          "Zrtp Event dispatched : cache mismatch"; linphonec prints
#          nothing about it on stdout) and "previously verified yes",
#          which bzrtp only says when its cached secret matched, its own
#          cache has the SAS verified and the shim's Confirm carried the V
#          flag (RFC 6189 section 7.1: the SAS counts as verified only if
#          both sides say so);
#   call 3 (control: the shim forgets linphonec with `zrtpshim cache
#          forget`): the shim starts afresh (continuity=no) and linphonec
#          does report the cache mismatch -- so the check of call 2 is
#          not blind -- and no longer reports the SAS verified.
# Each call also: same SAS both sides, nothing in clear from the shim.
. "$(dirname "$0")/lib_linphone.sh"
need baresip

cd "$W" || exit 99
tone b440.wav 440 6
tone b440long.wav 440 12
tone l660.wav 660 20

SA=5971 LB=5981 RA=11100 RB=8578
FILTER="udp and host 127.0.0.1 and (port $SA or port $LB or portrange $RA-$((RA + 9)) or portrange $RB-$((RB + 1)))"
linphone_dir bob bob $LB $RB

baresip_calls() { # N
	baresip_dir alice alice $SA 4971 $RA "$W/b440.wav"
	linphone_rc bob
	start_cap "$W/call$1.pcap" "$FILTER" 2>>"$W/tcpdump.err"
	bg linphonec_run bob 22 "play $W/l660.wav
record $W/bob/rec$1.wav
@4
zrtp-set-verified
@8
quit" -a
	lpid=$BGPID
	sleep 2
	shimmed "alice$1" timeout -k 5 20 baresip -f "$W/alice" \
		-e "/dial sip:bob@127.0.0.1:$LB" -t 10 >"$W/alice$1.out" 2>&1
	wait $lpid
	stop_cap
}
linphonec_calls() { # N
	baresip_dir alice alice $SA 4971 $RA "$W/b440long.wav"
	linphone_rc bob
	start_cap "$W/call$1.pcap" "$FILTER" 2>>"$W/tcpdump.err"
	bg shimmed "alice$1" timeout -k 5 20 baresip -f "$W/alice" -t 13 >"$W/alice$1.out" 2>&1
	bpid=$BGPID
	sleep 1
	linphonec_run bob 20 "play $W/l660.wav
record $W/bob/rec$1.wav
call sip:alice@127.0.0.1:$SA
@8
terminate
@1
quit"
	wait $bpid
	stop_cap
}
secure_line() { grep "event: secure" "$W/alice$1.log" | tail -1 | sed 's/.*event: //'; }
# per call: the same SAS, nothing in clear from the shimmed side; keeps
# a copy of linphonec's debug log for this call in $W/bob/debug$N.log
judge() { # N
	mv "$W/bob/debug.log" "$W/bob/debug$1.log" 2>/dev/null
	_s=$(sas_of "$W/alice$1.log")
	mv "$W/bob/out" "$W/bob/out$1"
	_l=$(sed -n 's/.*Call [0-9]* is fully encrypted and auth token is \([^ .]*\)\..*/\1/p' "$W/bob/out$1" | tail -1)
	if [ -n "$_s" ] && [ "$_s" = "$_l" ]; then
		pass "call $1: same SAS both sides: $_s"
	else
		fail "call $1: SAS shim '$_s', linphonec '$_l'"
	fi
	_pa=$(sdp_port "$W/call$1.pcap" $SA)
	_pb=$(sdp_port "$W/call$1.pcap" $LB)
	if [ -n "$_pa" ] && [ -n "$_pb" ]; then
		dir_counts "$W/call$1.pcap" "$W/keys.log" "$_pa" "$_pb" >/dev/null
		_c=$(($(dc shim rtp_clear) + $(dc shim rtp_unknown) + $(dc shim rtcp_clear)))
		if [ "$_c" -eq 0 ] && [ "$(dc shim srtp)" -gt 200 ]; then
			pass "call $1: shimmed side $(dc shim srtp) SRTP, 0 clear; linphonec $(dc lpc srtp) SRTP, $(dc lpc rtp_clear) clear (its own)"
		else
			fail "call $1: shimmed side sent $_c cleartext RTP/RTCP, $(dc shim srtp) SRTP"
		fi
	else
		fail "call $1: no SDP offer/answer in the capture"
	fi
}
lpc_mismatch() { grep -q "cache mismatch" "$W/bob/debug$1.log"; }
lpc_verified() {
	sed -n 's/.*ZRTP secrets on: SAS is .* previously verified \([a-z]*\) .*/\1/p' "$W/bob/debug$1.log" | tail -1
}

# --- call 1 ---------------------------------------------------------------------
echo "call 1: shimmed baresip calls linphonec (first contact)"
baresip_calls 1
judge 1
if secure_line 1 | grep -q "continuity=no"; then
	pass "call 1, shim: first contact: $(secure_line 1)"
else
	fail "call 1, shim: want continuity=no: '$(secure_line 1)'"
fi
if ! lpc_mismatch 1 && [ "$(lpc_verified 1)" = no ]; then
	pass "call 1, linphonec: first contact (previously verified no, no cache mismatch)"
else
	fail "call 1, linphonec: previously verified '$(lpc_verified 1)', cache mismatch: $(lpc_mismatch 1 && echo yes || echo no)"
fi
LZID=$(zid_of "$W/alice1.log")
note "linphonec's ZID (from the shim's log): $LZID; linphonec's cache: $(ls -l "$W/bob/home/.linphone-zidcache" 2>/dev/null | awk '{ print $5 " bytes" }')"
ZRTPSHIM_DIR="$W/state/zrtpshim" "$ZS" cache verify "$LZID" >"$W/cache.out" 2>&1 ||
	fail "zrtpshim cache verify exited $?: $(cat "$W/cache.out")"
ZRTPSHIM_DIR="$W/state/zrtpshim" "$ZS" cache list 2>&1 | sed 's/^/  /'

# --- call 2 ---------------------------------------------------------------------
echo "call 2: linphonec calls shimmed baresip (same pair, caches kept)"
linphonec_calls 2
judge 2
if secure_line 2 | grep -q "continuity=yes" && secure_line 2 | grep -q "verified=yes"; then
	pass "call 2, shim: $(secure_line 2)"
else
	fail "call 2, shim: want continuity=yes verified=yes: '$(secure_line 2)'"
fi
if lpc_mismatch 2; then
	fail "call 2, linphonec reports a cache mismatch: $(grep -m1 'cache mismatch' "$W/bob/debug2.log")"
else
	pass "call 2, linphonec: no cache mismatch"
fi
if [ "$(lpc_verified 2)" = yes ]; then
	pass "call 2, linphonec: $(grep 'ZRTP secrets on' "$W/bob/debug2.log" | tail -1 | sed 's/.*\(SAS is .* previously verified [a-z]*\).*/\1/') (its cached secret matched)"
else
	fail "call 2, linphonec: previously verified '$(lpc_verified 2)', want yes"
fi
[ "$(zid_of "$W/alice2.log")" = "$LZID" ] || fail "call 2: linphonec's ZID changed: $(zid_of "$W/alice2.log") (was $LZID)"

# --- call 3: control --------------------------------------------------------------
echo "call 3 (control): the shim forgets linphonec; linphonec must notice"
ZRTPSHIM_DIR="$W/state/zrtpshim" "$ZS" cache forget "$LZID" >"$W/cache.out" 2>&1 ||
	fail "zrtpshim cache forget exited $?: $(cat "$W/cache.out")"
baresip_calls 3
judge 3
if secure_line 3 | grep -q "continuity=no"; then
	pass "call 3, shim: no cached secret any more: $(secure_line 3)"
else
	fail "call 3, shim: want continuity=no after forget: '$(secure_line 3)'"
fi
if lpc_mismatch 3; then
	pass "call 3, linphonec reports the cache mismatch: $(grep -m1 -o 'Zrtp Event dispatched : cache mismatch' "$W/bob/debug3.log"); previously verified $(lpc_verified 3)"
else
	fail "call 3, linphonec did not report a cache mismatch (previously verified '$(lpc_verified 3)'): the call-2 check would be blind"
fi
finish
