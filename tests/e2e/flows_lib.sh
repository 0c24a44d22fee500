# Sourced after lib.sh by tests/e2e/flows_*.sh (issue 12 item 4: call
# flows pinned as tests).

# now: seconds since the epoch, to mark the phases of a call
now() { date +%s.%N; }

# vsum CAP TAG [ARGS]: zrtpshim verify CAP --keylog keys.log --json [ARGS];
# the counts summed over every direction of every stream into $W/TAG.sum
# ("key=N ..."), plus dirs (directions seen), dirs_srtp (directions with
# >= 100 SRTP packets), dirs_srtcp (with SRTCP), verdict and exit; VRC is
# verify's exit status.
vsum() {
	_cap=$1 _tag=$2
	shift 2
	"$ZS" verify "$_cap" --keylog "$W/keys.log" --json "$@" >"$W/$_tag.json" 2>"$W/$_tag.verr"
	VRC=$?
	python3 - "$W/$_tag.json" "$VRC" >"$W/$_tag.sum" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("unreadable=1 exit=%s" % sys.argv[2])
    sys.exit()
tot = {k: 0 for k in ("rtp_clear", "rtcp_clear", "rtp_unknown", "rtcp_unknown",
                      "auth_fail", "no_key", "auth_ok", "srtp", "srtcp")}
tot["streams"] = len(d.get("streams", []))
for s in d.get("streams", []):
    for x in s.get("directions", []):
        for k, v in x.get("counts", {}).items():
            tot[k] = tot.get(k, 0) + v
        tot["dirs"] = tot.get("dirs", 0) + 1
        tot["dirs_srtp"] = tot.get("dirs_srtp", 0) + (x.get("counts", {}).get("srtp", 0) >= 100)
        tot["dirs_srtcp"] = tot.get("dirs_srtcp", 0) + (x.get("counts", {}).get("srtcp", 0) > 0)
print(" ".join("%s=%d" % kv for kv in sorted(tot.items())),
      "verdict=%s exit=%s" % (d.get("verdict"), sys.argv[2]))
PY
}
# sumof TAG KEY: one number from $W/TAG.sum
sumof() {
	_v=$(sed -n "s/.*\\b$2=\\([0-9]*\\).*/\\1/p" "$W/$1.sum" 2>/dev/null)
	echo "${_v:-0}"
}

# judge_verify TAG: the checks every flow makes of its vsum: no cleartext
# or unknown RTP/RTCP in any direction, no auth_fail, no no_key, exit 0
judge_verify() {
	note "$1: verify: $(cat "$W/$1.sum")"
	_c=$(( $(sumof "$1" rtp_clear) + $(sumof "$1" rtcp_clear) + $(sumof "$1" rtp_unknown) + $(sumof "$1" rtcp_unknown) ))
	if [ "$_c" -eq 0 ]; then
		pass "$1: verify counts 0 cleartext/unknown RTP and RTCP over all directions"
	else
		fail "$1: verify counts $_c cleartext/unknown RTP/RTCP packets"
	fi
	if [ "$(sumof "$1" auth_fail)" = 0 ] && [ "$(sumof "$1" no_key)" = 0 ] &&
	   [ "$(sumof "$1" auth_ok)" -gt 0 ]; then
		pass "$1: every SRTP/SRTCP packet authenticated with the logged keys ($(sumof "$1" auth_ok))"
	else
		fail "$1: auth_ok $(sumof "$1" auth_ok), auth_fail $(sumof "$1" auth_fail), no_key $(sumof "$1" no_key)"
	fi
	if [ "$VRC" = 0 ]; then
		pass "$1: zrtpshim verify --keylog exits 0"
	else
		fail "$1: zrtpshim verify --keylog exits $VRC: $(sed -n 's/.*"reasons":"\([^"]*\)".*/\1/p' "$W/$1.json" | head -c 400)"
	fi
}

# window CAP T0 T1 [FILTER]: RTP-like media packets (RTP version 2 by the
# first byte, not ZRTP, not STUN) per "src>dst" UDP port pair between the
# epoch times T0 and T1; lines "SRCPORT>DSTPORT N". Media ports are those
# of FILTER (a display filter; default the 13000-13299 range).
window() {
	tshark -r "$1" -Y "${4:-udp.srcport >= 13000 && udp.srcport <= 13299}" \
		-T fields -e frame.time_epoch -e udp.srcport -e udp.dstport \
		-e udp.payload 2>/dev/null |
	awk -F '\t' -v t0="$2" -v t1="$3" '
		$1 >= t0 && $1 < t1 {
			b = substr($4, 1, 2)
			magic = substr($4, 9, 8)
			# RTP v2 first byte 0x80-0xbf; ZRTP starts 0x10 and has
			# the magic cookie 5a525450 at byte 4; RTCP PT 200-204
			if (b !~ /^[89ab]/ || magic == "5a525450") next
			pt = substr($4, 3, 2)
			k = $2 ">" $3 (pt ~ /^c[89abc]$/ ? " rtcp" : "")
			n[k]++
		}
		END { for (k in n) print k, n[k] }' | sort
}
# wcount FILE SRC DST: RTP packets SRC>DST in a window output
wcount() { awk -v k="$2>$3" '$1 == k && NF == 2 { print $2 }' "$1" | head -1 | grep . || echo 0; }
