#!/bin/sh
# Issue 13, "what it must show" 7 (second half): the status file is live
# and its history bounded.
#   1. baresip <-> baresip under the shim, a ~9 s call: `zrtpshim status
#      --json` read ~3 s and ~6 s into it shows, for each side's secure
#      stream, tx_srtp and rx_srtp > 0 at the first reading and larger at
#      the second; `zrtpshim status --watch --interval 500 --count 2`
#      prints exactly two redraws (clear screen + the table), each showing
#      the secure stream of both processes.
#   2. 100 short calls in one process (a shimmed sipp UAC, -m 100, against
#      a shimmed sipp UAS) with ZRTPSHIM_HISTORY=10: the UAC's status file
#      holds no live stream and exactly 10 in its history, the last 10
#      calls in order (call numbers 91..100: the oldest were dropped), and
#      the file stays small (< 32 KiB). The UAC's Call-IDs end in a
#      quote and a backslash: the file's JSON gives them back. Neither
#      side has a session bus (one has no address, the other one where
#      nothing listens): each log has at most one notification line over
#      its ~100 secure events.
# Ports: SIP 42081/42083 (+1 TLS) and 42510/42511, ctrl 42453/42454 and
# sipp -cp 42900/42901, RTP 42220-42229, 42320-42329, 42610-42611,
# 42710-42711.
. "$(dirname "$0")/lib.sh"
need baresip sipp

cd "$W" || exit 99
STATE=$W/state
# the shim's state dir under XDG_STATE_HOME ($W/state), as shimmed sets it
zs_status() { XDG_STATE_HOME="$STATE" ZRTPSHIM_DIR= "$ZS" status "$@"; }

# counters JSON: per process, the secure streams' "pid tx_srtp rx_srtp"
counters() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["processes"]:
    st = p["status"]
    for s in st["streams"]:
        if s["phase"] == "secure":
            c = s["counters"]
            print(st["pid"], c["tx_srtp"], c["rx_srtp"])
' "$1"
}

# --- 1. a live call -----------------------------------------------------------
SA=42081 SB=42083
tone alice.wav 440 9
tone bob.wav 660 14
baresip_dir alice alice $SA 42453 42220 "$W/alice.wav"
baresip_dir bob bob $SB 42454 42320 "$W/bob.wav"
bg shimmed bob timeout -k 5 25 baresip -f "$W/bob" -t 16 >"$W/bob.out" 2>&1
BOB=$BGPID
sleep 1
bg shimmed alice timeout -k 5 25 baresip -f "$W/alice" \
	-e "/dial sip:bob@127.0.0.1:$SB" -t 13 >"$W/alice.out" 2>&1
ALICE=$BGPID
sleep 3
zs_status --json >"$W/st1.json" 2>"$W/st1.err"
sleep 1
timeout -k 2 10 sh -c 'XDG_STATE_HOME="$1" ZRTPSHIM_DIR= "$2" status --watch --interval 500 --count 2' \
	sh "$STATE" "$ZS" >"$W/watch.out" 2>"$W/watch.err"
watch_rc=$?
sleep 2
zs_status --json >"$W/st2.json" 2>"$W/st2.err"
# each refresh swaps the file with the hidden spare holding the text
# before (shim/status.c): during the call both processes have one
ls -A "$STATE/zrtpshim/status" >"$W/ls_live" 2>&1
wait $ALICE
wait $BOB
ls -A "$STATE/zrtpshim/status" >"$W/ls_after" 2>&1
spares=$(grep -c '^\.[0-9]*\.json\.tmp$' "$W/ls_live")
left=$(grep -c '^\.' "$W/ls_after")
if [ "$spares" -eq 2 ] && [ "$left" -eq 0 ]; then
	pass "status files: a spare per process during the call (refreshed by exchange), none left after exit"
else
	fail "status files: $spares spares during the call (want 2), $left hidden files after exit (want 0): $(tr '\n' ' ' <"$W/ls_live") / $(tr '\n' ' ' <"$W/ls_after")"
fi

counters "$W/st1.json" >"$W/c1" 2>&1
counters "$W/st2.json" >"$W/c2" 2>&1
sed 's/^/  at ~3 s: pid tx_srtp rx_srtp: /' "$W/c1"
sed 's/^/  at ~6 s: pid tx_srtp rx_srtp: /' "$W/c2"
np=$(wc -l <"$W/c1")
if [ "$np" -eq 2 ] && awk '$2 <= 0 || $3 <= 0 { bad = 1 } END { exit bad }' "$W/c1"; then
	pass "~3 s into the call: both processes' secure streams have tx_srtp and rx_srtp > 0"
else
	fail "~3 s into the call: want 2 secure streams with counters > 0: $(tr '\n' ';' <"$W/c1")"
fi
grown=$(awk 'NR == FNR { tx[$1] = $2; rx[$1] = $3; next }
	($1 in tx) && $2 > tx[$1] && $3 > rx[$1] { n++ } END { print n + 0 }' "$W/c1" "$W/c2")
if [ "$grown" -eq 2 ]; then
	pass "~6 s: tx_srtp and rx_srtp grew on both sides between the readings"
else
	fail "~6 s: counters grew on $grown side(s) (want 2)"
fi
clears=$(grep -o "$(printf '\033\\[2J')" "$W/watch.out" | wc -l)
views=$(grep -c "zrtpshim status --watch, every 500 ms" "$W/watch.out")
secure=$(grep -c "^    secure " "$W/watch.out")
if [ "$watch_rc" -eq 0 ] && [ "$clears" -eq 2 ] && [ "$views" -eq 2 ] && [ "$secure" -eq 4 ]; then
	pass "status --watch --count 2: two redraws, each with both secure streams"
else
	fail "status --watch --count 2: rc $watch_rc, $clears clears, $views headers, $secure secure stream lines (want 0 2 2 4)"
fi
tr -d '\033' <"$W/watch.out" | sed 's/^\[H\[2J//; s/^/  watch: /' | head -12

# --- 2. 100 calls, a history of 10 ---------------------------------------------
tone t.wav 440 1
sox t.wav -t raw -e u-law -r 8000 -c 1 audio.ulaw
MA=42610 MB=42710
t0=$(date +%s)
ZRTPSHIM_HISTORY=10 DBUS_SESSION_BUS_ADDRESS="unix:path=$W/nobus" bg shimmed uas timeout -k 5 90 sipp -sf "$E2E_SRC/examples/sipp/uas.xml" \
	-i 127.0.0.1 -p 42510 -bind_local -mi 127.0.0.1 -mp $MA -cp 42900 \
	-m 100 -nostdin -trace_err -error_file "$W/uas.err" >"$W/uas.out" 2>&1
UAS=$BGPID
sleep 0.5
# The UAC's Call-IDs end in a quote and a backslash (a SIP Call-ID may
# hold both, RFC 3261 §25.1 "word"; sipp's -cid_str): the status file
# must escape them.
ZRTPSHIM_HISTORY=10 DBUS_SESSION_BUS_ADDRESS= shimmed uac timeout -k 5 90 sipp 127.0.0.1:42510 \
	-sf "$E2E_SRC/tests/e2e/uac_short.xml" -cid_str '%u-%p@%s-q"b\s' -d 400 -r 20 \
	-i 127.0.0.1 -p 42511 -bind_local -mi 127.0.0.1 -mp $MB -cp 42901 \
	-m 100 -l 1 -nostdin -trace_err -error_file "$W/uac.err" >"$W/uac.out" 2>&1 ||
	fail "100 calls: sipp UAC exited $? (see $W/uac.err)"
wait $UAS || fail "100 calls: sipp UAS exited $?"
note "100 calls took $(( $(date +%s) - t0 )) s; $(grep -c 'event: secure' "$W/uac.log") secure events in the UAC's log"
pid=$(sed -n 's/^zrtpshim\[\([0-9]*\)\].*sip: call .* ended.*/\1/p' "$W/uac.log" | tail -1)
f="$STATE/zrtpshim/status/$pid.json"
ncalls=$(grep -c 'sip: call .* ended' "$W/uac.log")
note "the UAC's shim saw $ncalls calls end; its status file: $f ($(stat -c %s "$f" 2>/dev/null) bytes)"
python3 - "$f" >"$W/hist.txt" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
h = d.get("history")
live = len(d.get("streams", []))
nums = [int(s["name"].split("-", 1)[0]) for s in (h or [])]
quoted = sum(1 for s in (h or []) if s["name"].endswith('-q"b\\s/0'))
print("live", live, "history", -1 if h is None else len(h), "max", d.get("history_max"))
print("calls", " ".join(map(str, nums)))
print("quoted", quoted)
PY
sed 's/^/  uac status: /' "$W/hist.txt"
if [ "$ncalls" -ge 100 ] && grep -qx "live 0 history 10 max 10" "$W/hist.txt"; then
	pass "100 calls: the status file keeps exactly 10 ended streams (ZRTPSHIM_HISTORY=10), none live"
else
	fail "100 calls ($ncalls ended): want no live stream and a history of exactly 10: $(head -1 "$W/hist.txt")"
fi
if grep -qx "calls 91 92 93 94 95 96 97 98 99 100" "$W/hist.txt"; then
	pass "100 calls: the history holds calls 91..100 in order (the oldest dropped first)"
else
	fail "100 calls: the history is not calls 91..100: $(sed -n 2p "$W/hist.txt")"
fi
if grep -qx "quoted 10" "$W/hist.txt"; then
	pass "100 calls: the status file is JSON whose stream names give back the Call-IDs' quote and backslash"
else
	fail "100 calls: the status file does not give back the Call-IDs' quote and backslash: $(sed -n 3p "$W/hist.txt") (see $f)"
fi
sz=$(stat -c %s "$f" 2>/dev/null || echo 0)
if [ "$sz" -gt 0 ] && [ "$sz" -lt 32768 ]; then
	pass "100 calls: the status file stays small ($sz bytes)"
else
	fail "100 calls: the status file is $sz bytes (want 1..32767)"
fi
# No session bus for either (the UAS's address names no socket, the UAC
# has none): 100 secure events each, one notification line at most.
for side in uac uas; do
	ns=$(grep -c 'event: secure' "$W/$side.log")
	nl=$(grep -c ' notify: ' "$W/$side.log")
	if [ "$ns" -ge 50 ] && [ "$nl" -le 1 ]; then
		pass "100 calls, no bus: $side has $ns secure events and $nl notification line(s) in its log"
	else
		fail "100 calls, no bus: $side has $ns secure events and $nl notification lines (want >= 50 and <= 1)"
	fi
done
zs_status --all >"$W/human.txt" 2>&1
if grep -q "history: 10 ended streams" "$W/human.txt"; then
	pass "zrtpshim status shows the history ($(grep -c '^    stream' "$W/human.txt") ended streams listed)"
else
	fail "zrtpshim status does not show a history of 10: $(grep history "$W/human.txt")"
fi
finish
