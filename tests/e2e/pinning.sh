#!/bin/sh
# Issue 13, items 4 and 6 (names and pinning), "what it must show" 6 and
# the first half of 7: baresip alice (under the shim, her own state
# directory) and baresip bob, the same SIP identities in every call.
#   1. both shimmed: secure; during the call `zrtpshim status` (human and
#      --json) on each side names the other's SIP identity; after it
#      `zrtpshim cache list` on each side shows the other's identity and
#      its pin to the other's ZID;
#   2. bob WITHOUT the shim, ZRTPSHIM_POLICY=require: alice's log has the
#      pin-alarm event naming sip:bob@...; the capture holds nothing in
#      clear (nor anything at all) from alice's media port;
#   3. the same under opportunistic, which without the pin would go clear
#      (call 5 shows it does);
#   4. bob shimmed with a NEW state directory (a new ZID): alice's
#      pin-alarm "possible attack ... another ZRTP identity (ZID new) than
#      the one pinned (ZID old)", the call still secure;
#   5. `zrtpshim cache forget OLD-ZID` on alice's side, then an
#      opportunistic call to a plain bob goes clear again, no pin alarm.
# Ports: SIP 41001 (alice) / 41003 (bob), control 41005-41006, RTP
# 41100-41109 / 41200-41209.
. "$(dirname "$0")/lib.sh"
need baresip

SA=41001 SB=41003
BOB_ID="sip:bob@127.0.0.1:$SB"
ALICE_ID="sip:alice@127.0.0.1:$SA"
cd "$W" || exit 99
tone alice.wav 440 12
tone bob.wav 660 16
mkdir -p "$W/alice-state" "$W/bob-state" "$W/bob-state2"

# call N BOBSTATE ALICE_POLICY: one call; BOBSTATE "" = bob without the
# shim. Leaves PA, PB (media ports from the SDP) and $W/counts.
call() {
	n=$1 bstate=$2 pol=$3
	baresip_dir "a$n" alice $SA 41005 41100 "$W/alice.wav"
	baresip_dir "b$n" bob $SB 41006 41200 "$W/bob.wav"
	start_cap "$W/call$n.pcap" "udp and host 127.0.0.1 and (port $SA or port $SB or portrange 41100-41109 or portrange 41200-41209)" 2>"$W/tcpdump.err"
	if [ -n "$bstate" ]; then
		ZRTPSHIM_DIR="$bstate" shimmed "bob$n" timeout -k 5 24 \
			baresip -f "$W/b$n" -t 17 >"$W/b$n.out" 2>&1 &
	else
		timeout -k 5 24 baresip -f "$W/b$n" -t 17 >"$W/b$n.out" 2>&1 &
	fi
	bobpid=$!
	E2E_PIDS="$E2E_PIDS $bobpid"
	sleep 1
	ZRTPSHIM_DIR="$W/alice-state" ZRTPSHIM_POLICY=$pol shimmed "alice$n" \
		timeout -k 5 24 baresip -f "$W/a$n" \
		-e "/dial $BOB_ID" -t 15 >"$W/a$n.out" 2>&1 &
	alicepid=$!
	E2E_PIDS="$E2E_PIDS $alicepid"
	if [ "$n" = 1 ]; then
		# Mid-call: what `zrtpshim status` shows on each side.
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			sleep 0.5
			grep -q "event: secure" "$W/alice$n.log" 2>/dev/null &&
				grep -q "event: secure" "$W/bob$n.log" 2>/dev/null && break
		done
		sleep 1
		"$ZS" status --dir "$W/alice-state" >"$W/status-alice.txt" 2>&1
		"$ZS" status --json --dir "$W/alice-state" >"$W/status-alice.json" 2>&1
		"$ZS" status --dir "$bstate" >"$W/status-bob.txt" 2>&1
		"$ZS" status --json --dir "$bstate" >"$W/status-bob.json" 2>&1
	fi
	wait $alicepid
	wait $bobpid
	stop_cap
	PA=$(tshark -r "$W/call$n.pcap" -Y "sdp && udp.srcport==$SA" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
	PB=$(tshark -r "$W/call$n.pcap" -Y "sdp && udp.srcport==$SB" -T fields -e sdp.media.port 2>/dev/null | head -1 | cut -d, -f1)
	media_counts "$W/call$n.pcap" "${PA:-1}" "${PB:-1}" >"$W/counts"
	note "call $n: media ports alice ${PA:-?}, bob ${PB:-?}"
	sed "s/^/  call $n: sent from port /" "$W/counts"
}

# nothing_clear N: the capture of call N has no RTP at all from alice
nothing_clear() {
	c=$(field "$PA" clear)
	s=$(field "$PA" srtp)
	o=$(field "$PA" other)
	if [ -n "$PA" ] && [ -n "$PB" ] && [ "${c:-0}" -eq 0 ] &&
	   [ "${s:-0}" -eq 0 ] && [ "${o:-0}" -eq 0 ]; then
		pass "call $1: nothing from alice's media port $PA on the wire (clear ${c:-0}, srtp ${s:-0}, other ${o:-0}); bob sent $(field "$PB" clear) clear RTP packets"
	else
		fail "call $1: alice's port ${PA:-?} sent clear ${c:-0} / srtp ${s:-0} / other ${o:-0} (bob's port ${PB:-?})"
	fi
}

# pin_alarm N WANT: alice's log of call N has one pin-alarm whose reason
# holds WANT (a fixed string)
pin_alarm() {
	_l=$(grep "event: pin-alarm" "$W/alice$1.log")
	_k=$(printf '%s\n' "$_l" | grep -c "event: pin-alarm")
	if [ -n "$_l" ] && [ "$_k" -eq 1 ] && printf '%s' "$_l" | grep -qF "$2"; then
		pass "call $1: alice's pin alarm: $(printf '%s' "$_l" | sed 's/.*reason=//')"
	else
		fail "call $1: want one pin-alarm naming '$2' in alice's log, got $_k: $_l"
	fi
}

# --- 1: both under the shim -------------------------------------------------
call 1 "$W/bob-state" require
check_same_sas "$W/alice1.log" "$W/bob1.log"
BOB_ZID=$(zid_of "$W/alice1.log")
ALICE_ZID=$(zid_of "$W/bob1.log")
if grep -q "event: secure .*peer=\"$BOB_ID\"" "$W/alice1.log" &&
   grep -q "event: secure .*peer=\"$ALICE_ID\"" "$W/bob1.log"; then
	pass "call 1: each secure event names the peer ($BOB_ID, $ALICE_ID)"
else
	fail "call 1: the secure events do not name the peers"
fi
sed 's/^/    alice: /' "$W/status-alice.txt"
if grep -qF "peer: $BOB_ID" "$W/status-alice.txt" &&
   grep -qF "peer: $ALICE_ID" "$W/status-bob.txt"; then
	pass "call 1: zrtpshim status during the call names the peer on each side"
else
	fail "call 1: zrtpshim status during the call does not name the peer"
	cat "$W/status-alice.txt" "$W/status-bob.txt"
fi
if python3 - "$W/status-alice.json" "$BOB_ID" "$W/status-bob.json" "$ALICE_ID" <<'PY'
import json, sys
for f, want in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    d = json.load(open(f))
    peers = [s.get("peer") for p in d.get("processes", [])
             for s in p.get("status", {}).get("streams", [])]
    if want not in peers:
        print("  %s: peers %r, want %s" % (f, peers, want))
        sys.exit(1)
PY
then
	pass "call 1: zrtpshim status --json during the call: \"peer\" is the other's identity"
else
	fail "call 1: zrtpshim status --json lacks the peer's identity"
	head -c 2000 "$W/status-alice.json"
fi
"$ZS" cache list --dir "$W/alice-state" >"$W/list-alice.txt" 2>&1
"$ZS" cache list --dir "$W/bob-state" >"$W/list-bob.txt" 2>&1
sed 's/^/    alice: /' "$W/list-alice.txt"
sed 's/^/    bob: /' "$W/list-bob.txt"
if grep -A1 "peer $BOB_ZID" "$W/list-alice.txt" | grep -qF "identity $BOB_ID" &&
   grep -qF "pin $BOB_ID -> $BOB_ZID" "$W/list-alice.txt"; then
	pass "call 1: alice's cache list: bob's ZID $BOB_ZID with $BOB_ID, pinned"
else
	fail "call 1: alice's cache list lacks bob's identity or pin"
fi
if grep -A1 "peer $ALICE_ZID" "$W/list-bob.txt" | grep -qF "identity $ALICE_ID" &&
   grep -qF "pin $ALICE_ID -> $ALICE_ZID" "$W/list-bob.txt"; then
	pass "call 1: bob's cache list: alice's ZID $ALICE_ZID with $ALICE_ID, pinned"
else
	fail "call 1: bob's cache list lacks alice's identity or pin"
fi

# A display name by hand: a good one is stored, a control character refused.
NAME=$(printf 'Bob \303\206r\303\270 "B"')
if "$ZS" cache name "$BOB_ZID" "$NAME" --dir "$W/alice-state" >"$W/name.out" 2>&1 &&
   "$ZS" cache list --dir "$W/alice-state" | grep -A1 "peer $BOB_ZID" | grep -qF "name $NAME"; then
	pass "cache name: bob's ZID now shows \"$NAME\" in cache list"
else
	fail "cache name did not set the name: $(cat "$W/name.out")"
fi
"$ZS" cache name "$BOB_ZID" "$(printf 'Bob\033[2J')" --dir "$W/alice-state" >"$W/name2.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && "$ZS" cache list --dir "$W/alice-state" | grep -qF "name $NAME"; then
	pass "cache name refuses a control character (exit 2: $(cat "$W/name2.out"))"
else
	fail "cache name with a control character: exit $rc, want 2 and the old name kept"
fi

# --- 2, 3: bob without the shim, under both policies -------------------------
call 2 "" require
pin_alarm 2 "$BOB_ID spoke ZRTP before (ZID $BOB_ZID)"
nothing_clear 2
# The alarm names the peer as the cache knows it (the ZID its identity is
# pinned to, and the name set above): in the event and in the status.
"$ZS" status --all --dir "$W/alice-state" >"$W/status2.txt" 2>&1
if grep -q "event: pin-alarm .*peer-zid=$BOB_ZID" "$W/alice2.log" &&
   grep -B1 -F "peer: $NAME <$BOB_ID>" "$W/status2.txt" | grep -q "^ *failed "; then
	pass "call 2: the pin-alarm event carries bob's pinned ZID, and zrtpshim status shows the failed stream's peer as \"$NAME <$BOB_ID>\""
else
	fail "call 2: the pin alarm does not name the peer in the event or the status"
	cat "$W/status2.txt"
fi
call 3 "" opportunistic
pin_alarm 3 "$BOB_ID spoke ZRTP before (ZID $BOB_ZID)"
nothing_clear 3
if grep -q "IN CLEAR" "$W/alice3.log"; then
	fail "call 3: alice's log says media went in clear"
else
	pass "call 3: opportunistic did not fall back to clear (pinned identity)"
fi

# --- 4: bob with a new ZID ------------------------------------------------------
call 4 "$W/bob-state2" require
NEW_ZID=$(zid_of "$W/alice4.log")
note "bob's new ZID: ${NEW_ZID:-?}"
if [ -n "$NEW_ZID" ] && [ "$NEW_ZID" != "$BOB_ZID" ]; then
	pin_alarm 4 "possible attack: $BOB_ID answered with another ZRTP identity (ZID $NEW_ZID) than the one pinned (ZID $BOB_ZID)"
else
	fail "call 4: not secure with a new ZID (got '${NEW_ZID}')"
fi
check_same_sas "$W/alice4.log" "$W/bob4.log"

# unpin by identity: bob's side drops alice's pin (an unknown identity is
# an error).
"$ZS" cache unpin sip:nobody@127.0.0.1 --dir "$W/bob-state" >"$W/unpin0.out" 2>&1
rc0=$?
"$ZS" cache unpin "$ALICE_ID" --dir "$W/bob-state" >"$W/unpin.out" 2>&1
rc=$?
if [ $rc0 -eq 1 ] && [ $rc -eq 0 ] &&
   ! "$ZS" cache list --dir "$W/bob-state" | grep -qF "pin $ALICE_ID" &&
   "$ZS" cache list --dir "$W/bob-state" | grep -qF "identity $ALICE_ID"; then
	pass "cache unpin $ALICE_ID on bob's side: the pin is gone, the names stay ($(cat "$W/unpin.out"))"
else
	fail "cache unpin: exit $rc0 / $rc: $(cat "$W/unpin0.out" "$W/unpin.out")"
fi

# --- 5: forget the old ZID: a plain opportunistic call goes clear again --------
if "$ZS" cache forget "$BOB_ZID" --dir "$W/alice-state" >"$W/forget.out" 2>&1; then
	pass "cache forget $BOB_ZID: $(cat "$W/forget.out")"
else
	fail "cache forget $BOB_ZID failed: $(cat "$W/forget.out")"
fi
"$ZS" cache list --dir "$W/alice-state" >"$W/list-alice5.txt" 2>&1
if grep -q "^  pin " "$W/list-alice5.txt"; then
	fail "after forget, alice's cache still has a pin: $(grep '^  pin ' "$W/list-alice5.txt")"
else
	pass "after forget, alice's cache has no pin"
fi
call 5 "" opportunistic
c=$(field "$PA" clear)
if grep -q "IN CLEAR" "$W/alice5.log" && [ "${c:-0}" -gt 0 ] &&
   ! grep -q "event: pin-alarm" "$W/alice5.log"; then
	pass "call 5: unpinned, opportunistic goes clear again ($c clear RTP packets from alice), no pin alarm"
else
	fail "call 5: want clear media and no pin alarm (clear ${c:-0}; $(grep -c 'event: pin-alarm' "$W/alice5.log") alarms)"
fi
finish
