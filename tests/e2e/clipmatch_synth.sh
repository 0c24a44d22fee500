#!/bin/sh
# clipmatch on synthetic G.711 recordings: the prompt for a SAS (composed by
# shim/clips.c through `clipmatch say`) at a random place in the peer's
# steady 440 Hz tone, mixed at call levels (tone at -20 and -8 dBFS,
# both scaled by 0.7 so the sum does not clip), through a mu-law or A-law
# round trip (sox). clipmatch must find that prompt, at the place it was
# put (within 5 ms), and must not find the same kind with another SAS that
# differs in one character (or one word) only. Random SASes (seed printed;
# ZS_SEED to repeat), plus every kind. Needs sox; skips (77) without it.
set -eu
b=${ZS_BUILDDIR:-.}
cm=$b/tests/e2e/clipmatch
packs=${ZS_PROMPTS:-$b/data/prompts}
command -v sox >/dev/null 2>&1 || { echo "SKIP: no sox"; exit 77; }
[ -x "$cm" ] || { echo "FAIL: no $cm"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zs-clipmatch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
seed=${ZS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed $seed"
fail=0

# lines: KIND SAS OTHER_SAS OFFSET_MS VOL ENC
awk -v seed="$seed" 'BEGIN {
	srand(seed % 1000003); z = "ybndrfg8ejkmcpqxot1uwisza345h769"
	for (i = 0; i < 12; i++) {
		s = ""; for (k = 0; k < 4; k++) s = s substr(z, int(rand() * 32) + 1, 1)
		p = int(rand() * 4) + 1
		do c = substr(z, int(rand() * 32) + 1, 1); while (c == substr(s, p, 1))
		o = substr(s, 1, p - 1) c substr(s, p + 1)
		kind = i % 3 == 0 ? "mismatch" : i % 3 == 1 ? "code" : "secure"
		printf "%s %s %s %d %s %s\n", kind, s, o, 300 + int(rand() * 4000),
			i % 2 ? "0.1" : "0.4", i % 4 < 2 ? "mu-law" : "a-law"
	}
	print "secure Aztec:Yucatan Aztec:Wyoming 1200 0.4 mu-law"
	print "code Zulu:adroitness Zulu:Atlantic 2500 0.1 a-law"
	print "secure aardvark:Wilmington allow:Wilmington 700 0.4 a-law"
	n = split("secure_verified verified unverified clear cannot_encrypt altered pin_alarm", kk, " ")
	for (i = 1; i <= n; i++)
		printf "%s - %s %d 0.4 %s\n", kk[i], kk[i % n + 1], 500 + 300 * i, i % 2 ? "mu-law" : "a-law"
}' >"$tmp/cases"

while read -r kind sas other off vol enc; do
	[ "$sas" = - ] && sas=""
	"$cm" say "$packs" 8000 "$kind" "$sas" "$tmp/p.wav"
	# the tone from 0 to 1 s after the prompt's end
	len=$(awk -v o="$off" -v d="$(soxi -D "$tmp/p.wav")" 'BEGIN { print o / 1000 + d + 1 }')
	sox -n -r 8000 -c 1 -b 16 "$tmp/tone.wav" synth "$len" sine 440 vol "$vol"
	sox "$tmp/p.wav" "$tmp/pad.wav" pad "$(awk -v o="$off" 'BEGIN { print o / 1000 }')"
	sox -m -v 0.7 "$tmp/tone.wav" -v 0.7 "$tmp/pad.wav" "$tmp/mix.wav"
	sox "$tmp/mix.wav" -e "$enc" -t wav "$tmp/g711.wav"
	sox "$tmp/g711.wav" -e signed-integer -b 16 "$tmp/rec.wav"
	out=$("$cm" find "$tmp/rec.wav" "$packs" "$kind" "$sas") || {
		echo "FAIL: $kind '$sas' ($enc, tone $vol) not found: $out"; fail=1; continue; }
	at=$(echo "$out" | sed -n 's/.* at \([0-9.]*\) ms.*/\1/p')
	if awk -v a="$at" -v o="$off" 'BEGIN { exit !(a < o - 5 || a > o + 5) }'; then
		echo "FAIL: $kind '$sas' found at $at ms, put at $off ms"; fail=1
	fi
	echo "ok: $out ($enc, tone $vol, put at $off ms)"
	# another SAS (kinds with a code), or another kind
	case $other in
	*[!a-z_]*|????) okind=$kind; osas=$other ;;
	*) okind=$other; osas="" ;;
	esac
	if out=$("$cm" find "$tmp/rec.wav" "$packs" "$okind" "$osas"); then
		echo "FAIL: $okind '$osas' found in the recording of $kind '$sas': $out"; fail=1
	else
		echo "ok: $out"
	fi
done <"$tmp/cases"
exit $fail
