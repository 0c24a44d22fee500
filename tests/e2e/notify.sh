#!/bin/sh
# Issue 13, "what it must show" 5: desktop notifications. A private
# session bus (dbus-daemon with its own config and socket in $W), a
# dbus-monitor on it and a stand-in notification server
# (notify_server.py) that owns org.freedesktop.Notifications and replies.
#   call 1: baresip <-> baresip under the shim with DBUS_SESSION_BUS_ADDRESS
#     set: the monitor shows a Notify from each side whose summary carries
#     the SAS that side's shim logged; the server answered them (so the
#     shim logged no "notify:" failure line). Where the shim knows the
#     peer's name (it logs peer="..." on its secure line, or the
#     Notify body starts "Peer: "), the body carries the peer's SIP
#     identity (and the logged name); where it knows none yet, the body
#     names the peer's ZID and the name check is skipped.
#   call 2: the same with ZRTPSHIM_NOTIFY=off: no Notify at all.
#   call 3: alice with no DBUS_SESSION_BUS_ADDRESS, bob with one where no
#     bus listens: the call is secure on both sides and each log has at
#     most one notification line.
#   call 4: an alarm. alice (shimmed, require, the bus) calls a plain
#     baresip bob: her shim fails the stream (no ZRTP peer) and the
#     monitor shows her Notify "ZRTP alarm: Call not secured" with the
#     reason her log gave, at critical urgency.
#   call 5: audio and video (baresip fakevideo + VP8): two secure streams
#     on each side, one SAS, and one secure Notify per side, not two.
# Ports: SIP 42071/42073 (+1 for baresip's TLS), ctrl 42451/42452, RTP
# 42200-42209 and 42300-42309.
. "$(dirname "$0")/lib.sh"
need baresip dbus-daemon dbus-monitor
PY=/usr/bin/python3
$PY -c 'import dbus, dbus.mainloop.glib; from gi.repository import GLib' 2>/dev/null ||
	skip "python3-dbus and python3-gi are not installed (scripts/deps.sh)"

SA=42071 SB=42073
cd "$W" || exit 99
tone alice.wav 440 4
tone bob.wav 660 8

cat >"$W/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$W/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
bg timeout -k 2 120 dbus-daemon --config-file="$W/bus.conf" --nofork \
	--print-address=1 >"$W/bus.addr" 2>"$W/bus.err"
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	[ -s "$W/bus.addr" ] && break
	sleep 0.1
done
ADDR=$(head -1 "$W/bus.addr")
[ -n "$ADDR" ] || { fail "dbus-daemon did not start: $(cat "$W/bus.err")"; finish; }
note "private session bus: $ADDR"
bg timeout -k 2 110 dbus-monitor --address "$ADDR" \
	"interface='org.freedesktop.Notifications'" >"$W/monitor.out" 2>"$W/monitor.err"
bg timeout -k 2 110 $PY "$E2E_SRC/tests/e2e/notify_server.py" "$ADDR" \
	"$W/server.out" "$W/server.ready" 100 2>"$W/server.err"
for _ in $(seq 1 50); do
	[ -s "$W/server.ready" ] && break
	sleep 0.1
done
[ -s "$W/server.ready" ] || { fail "the stand-in notification server did not start: $(cat "$W/server.err")"; finish; }

# call N ENV_ALICE ENV_BOB (VAR=VALUE words for env(1)): one call, logs $W/alice$N.log and
# $W/bob$N.log (fresh baresip dirs each time).
call() {
	baresip_dir alice$1 alice $SA 42451 42200 "$W/alice.wav"
	baresip_dir bob$1 bob $SB 42452 42300 "$W/bob.wav"
	# display names in From/To, for the names work to find
	sed -i 's/^</"Alice Example" </' "$W/alice$1/accounts"
	sed -i 's/^</"Bob Example" </' "$W/bob$1/accounts"
	bg env $3 LD_PRELOAD="$SHIM" ZRTPSHIM_LOG=debug ZRTPSHIM_PROMPTS=off \
		ZRTPSHIM_LOG_FILE="$W/bob$1.log" XDG_STATE_HOME="$W/state" \
		timeout -k 5 20 baresip -f "$W/bob$1" -t 12 >"$W/bob$1.out" 2>&1
	_bob=$BGPID
	sleep 1
	env $2 LD_PRELOAD="$SHIM" ZRTPSHIM_LOG=debug ZRTPSHIM_PROMPTS=off \
		ZRTPSHIM_LOG_FILE="$W/alice$1.log" XDG_STATE_HOME="$W/state" \
		timeout -k 5 20 baresip -f "$W/alice$1" \
		-e "/dial sip:bob@127.0.0.1:$SB" -t 8 >"$W/alice$1.out" 2>&1
	wait $_bob
	sleep 1   # the monitor writes what it saw
}

# notifies: the Notify calls the monitor saw so far, one line each:
# "sender<TAB>summary<TAB>body" (Notify's strings: app, icon, summary,
# body; a string with newlines spans lines in dbus-monitor's output and is
# joined here with " | ").
notifies() {
	awk '
		function flush() { if (in_n) print s "\t" str[3] "\t" str[4]; in_n = 0 }
		cont {
			v = $0
			if (v ~ /"$/) { sub(/"$/, "", v); cont = 0 }
			str[n] = str[n] " | " v
			next
		}
		/^method call .*member=Notify/ {
			flush(); in_n = 1; n = 0; delete str
			s = $0; sub(/.*sender=/, "", s); sub(/ .*/, "", s)
			next
		}
		/^(method|signal|error)/ { flush(); next }
		in_n && /^   string "/ {
			v = $0; sub(/^   string "/, "", v)
			if (v ~ /"$/) sub(/"$/, "", v); else cont = 1
			str[++n] = v
		}
		END { flush() }
	' "$W/monitor.out"
}

# --- call 1: notifications on --------------------------------------------
call 1 "DBUS_SESSION_BUS_ADDRESS=$ADDR" "DBUS_SESSION_BUS_ADDRESS=$ADDR"
notifies >"$W/notify1.txt"
sed 's/^/  monitor: Notify /' "$W/notify1.txt"
check_same_sas "$W/alice1.log" "$W/bob1.log"
SAS=$(sas_of "$W/alice1.log")
n=$(awk -F '\t' -v s="Secure call, code: $SAS" 'index($2, s) == 1 { print $1 }' "$W/notify1.txt" | sort -u | wc -l)
if [ -n "$SAS" ] && [ "$n" -eq 2 ]; then
	pass "call 1: the monitor saw a Notify \"Secure call, code: $SAS\" from each side (2 senders)"
else
	fail "call 1: $n sender(s) sent a Notify with the SAS '$SAS' (want 2)"
fi
if awk -F '\t' '$3 ~ /^Secure call/' "$W/server.out" 2>/dev/null | grep -q .; then
	pass "call 1: the notification server received and answered them ($(wc -l <"$W/server.out") Notify)"
else
	fail "call 1: the notification server received no secure-call Notify"
fi
for side in alice bob; do
	if grep -q 'notify: sent "Secure call' "$W/${side}1.log" &&
		! grep -q 'notify: .*no desktop notifications' "$W/${side}1.log"; then
		pass "call 1: $side's shim logged the Notify as sent (answered)"
	else
		fail "call 1: $side's shim did not log a sent Notify: $(grep 'notify:' "$W/${side}1.log" | head -3)"
	fi
	# The peer's name, when the shim knows it: the names work logs it on
	# the secure line as peer="...", and the Notify body then starts
	# "Peer: " instead of naming the ZID.
	if [ $side = alice ]; then peer=bob; else peer=alice; fi
	pn=$(sed -n 's/.*event: secure .* peer="\(.*\)"$/\1/p' "$W/${side}1.log" | tail -1)
	# as the body carries it: markup escaped (a server with body-markup
	# would take <sip:...> for a tag)
	pn_body=$(printf '%s' "$pn" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')
	zid=$(zid_of "$W/${side}1.log")
	sender=$(awk -F '\t' -v z="$zid" -v s="Secure call, code: $SAS" \
		'index($2, s) == 1 && index($3, "Peer ZID " z) { print $1 }' "$W/notify1.txt" | head -1)
	named=$(awk -F '\t' -v s="Secure call, code: $SAS" -v p="$peer@127.0.0.1" \
		'index($2, s) == 1 && index($3, "Peer: ") == 1 && index($3, p) { print $1 }' "$W/notify1.txt" | head -1)
	if [ -n "$pn" ] || [ -n "$named" ]; then
		if [ -n "$named" ] && { [ -z "$pn" ] || grep -F "$pn_body" "$W/notify1.txt" | grep -q "^$named	"; }; then
			pass "call 1: $side's Notify names the peer ($peer@127.0.0.1${pn:+, logged as \"$pn\"})"
		else
			fail "call 1: $side's shim knows the peer's name (${pn:-?}) but no Notify body carries $peer@127.0.0.1 and it"
		fi
	elif [ -n "$zid" ] && [ -n "$sender" ]; then
		pass "call 1: $side's Notify names the peer by its ZID $zid (the shim knows no name yet: name check skipped)"
	else
		fail "call 1: no Notify body of $side names the peer, by name or by its ZID '$zid'"
	fi
done
n1=$(wc -l <"$W/notify1.txt")

# --- call 2: ZRTPSHIM_NOTIFY=off --------------------------------------------
call 2 "DBUS_SESSION_BUS_ADDRESS=$ADDR ZRTPSHIM_NOTIFY=off" \
	"DBUS_SESSION_BUS_ADDRESS=$ADDR ZRTPSHIM_NOTIFY=off"
notifies >"$W/notify2.txt"
n2=$(wc -l <"$W/notify2.txt")
if grep -q "event: secure" "$W/alice2.log" && grep -q "event: secure" "$W/bob2.log" &&
	[ "$n2" -eq "$n1" ]; then
	pass "call 2 (ZRTPSHIM_NOTIFY=off): secure on both sides, no Notify on the bus ($n2 in all, as after call 1)"
else
	fail "call 2 (ZRTPSHIM_NOTIFY=off): $((n2 - n1)) Notify on the bus, or not secure"
fi

# --- call 3: no bus ---------------------------------------------------------
call 3 "DBUS_SESSION_BUS_ADDRESS=" "DBUS_SESSION_BUS_ADDRESS=unix:path=$W/nobus"
check_same_sas "$W/alice3.log" "$W/bob3.log"
for side in alice bob; do
	l=$(grep -c ' notify: ' "$W/${side}3.log")
	grep ' notify: ' "$W/${side}3.log" | sed "s/^/  $side log: /"
	if [ "$l" -le 1 ] && grep -q "event: secure" "$W/${side}3.log"; then
		pass "call 3 (no bus): $side secure, $l notification line(s) in its log"
	else
		fail "call 3 (no bus): $side has $l notification lines (want <= 1) or is not secure"
	fi
done

# --- call 4: an alarm ----------------------------------------------------------
tone alice4.wav 440 7
baresip_dir alice4 alice $SA 42451 42200 "$W/alice4.wav"
baresip_dir bob4 bob $SB 42452 42300 "$W/bob.wav"
bg timeout -k 5 20 baresip -f "$W/bob4" -t 12 >"$W/bob4.out" 2>&1
_bob=$BGPID
sleep 1
env DBUS_SESSION_BUS_ADDRESS="$ADDR" LD_PRELOAD="$SHIM" ZRTPSHIM_LOG=debug \
	ZRTPSHIM_PROMPTS=off ZRTPSHIM_LOG_FILE="$W/alice4.log" \
	XDG_STATE_HOME="$W/state" timeout -k 5 20 baresip -f "$W/alice4" \
	-e "/dial sip:bob@127.0.0.1:$SB" -t 10 >"$W/alice4.out" 2>&1
wait $_bob
sleep 1
notifies >"$W/notify4.txt"
reason=$(sed -n 's/.*event: failed .*reason="\([^"]*\)".*/\1/p' "$W/alice4.log" | head -1)
note "alice's log: failed, reason \"$reason\""
awk 'NR > n' n="$n2" "$W/notify4.txt" | sed 's/^/  monitor: Notify /'
if [ -n "$reason" ] && awk -F '\t' -v r="$reason" 'NR > n && $2 == "ZRTP alarm: Call not secured" &&
	index($3, r) == 1 { f = 1 } END { exit !f }' n="$n2" "$W/notify4.txt" &&
	grep -A20 'member=Notify' "$W/monitor.out" | grep -q 'variant *byte 2'; then
	pass "call 4: the failed call's alarm reached the bus (\"ZRTP alarm: Call not secured\", its reason, urgency critical)"
else
	fail "call 4: no Notify \"ZRTP alarm: Call not secured\" with the reason \"$reason\" and urgency 2"
fi
n4=$(wc -l <"$W/notify4.txt")

# --- call 5: two media lines, one notification ------------------------------
if [ -f /usr/lib/baresip/modules/fakevideo.so ] && [ -f /usr/lib/baresip/modules/vp8.so ]; then
	baresip_dir alice5 alice $SA 42451 42200 "$W/alice.wav"
	baresip_dir bob5 bob $SB 42452 42300 "$W/bob.wav"
	for d in alice5 bob5; do
		printf 'module\t\t\tfakevideo.so\nmodule\t\t\tvp8.so\nvideo_source\t\tfakevideo,nil\n' >>"$W/$d/config"
		sed -i 's/audio_codecs=PCMU/audio_codecs=PCMU;video_codecs=vp8/' "$W/$d/accounts"
	done
	bg env DBUS_SESSION_BUS_ADDRESS="$ADDR" LD_PRELOAD="$SHIM" ZRTPSHIM_LOG=debug \
		ZRTPSHIM_PROMPTS=off ZRTPSHIM_LOG_FILE="$W/bob5.log" XDG_STATE_HOME="$W/state" \
		timeout -k 5 20 baresip -f "$W/bob5" -t 12 >"$W/bob5.out" 2>&1
	_bob=$BGPID
	sleep 1
	env DBUS_SESSION_BUS_ADDRESS="$ADDR" LD_PRELOAD="$SHIM" ZRTPSHIM_LOG=debug \
		ZRTPSHIM_PROMPTS=off ZRTPSHIM_LOG_FILE="$W/alice5.log" XDG_STATE_HOME="$W/state" \
		timeout -k 5 20 baresip -f "$W/alice5" \
		-e "/dial sip:bob@127.0.0.1:$SB" -t 8 >"$W/alice5.out" 2>&1
	wait $_bob
	sleep 1
	notifies >"$W/notify5.txt"
	SAS5=$(sas_of "$W/alice5.log")
	sa=$(grep -c "event: secure" "$W/alice5.log")
	sb=$(grep -c "event: secure" "$W/bob5.log")
	ns=$(awk -F '\t' -v s="Secure call, code: $SAS5" 'NR > n && index($2, s) == 1' n="$n4" "$W/notify5.txt" | wc -l)
	nd=$(awk -F '\t' -v s="Secure call, code: $SAS5" 'NR > n && index($2, s) == 1 { print $1 }' n="$n4" "$W/notify5.txt" | sort -u | wc -l)
	if [ "$sa" -eq 2 ] && [ "$sb" -eq 2 ] && [ -n "$SAS5" ] && [ "$ns" -eq 2 ] && [ "$nd" -eq 2 ]; then
		pass "call 5 (audio + video): 2 secure streams per side, one secure Notify per side (SAS $SAS5)"
	else
		fail "call 5 (audio + video): secure streams alice $sa bob $sb (want 2 each); $ns secure Notify from $nd sender(s) (want 2 from 2)"
	fi
else
	note "call 5 skipped: baresip's fakevideo.so or vp8.so is not installed"
fi
finish
