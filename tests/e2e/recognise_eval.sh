#!/bin/sh
# recognise_eval.sh [N_B32] [N_B256]: how well recognise.sh hears the
# prompts (not a make check test; its figures are in the README of the
# prompts). Random SASes (ZS_SEED to repeat) composed by shim/clips.c at
# 16 kHz (clipmatch say), each through three channels:
#   clean:  as composed;
#   g722:   G.722-like: band-limited to 50-7000 Hz;
#   tone:   the same with the peer's 440 Hz tone under it at -20 dBFS
#           (recognise.sh notches 440 and 660 Hz out);
#   opus:   composed at 48 kHz and brought to 16 kHz (what a wideband Opus
#           call's decoder hands the client, without the codec itself).
# Prints each miss and the accuracy per channel and mode. ZS_CHANNELS
# picks channels (default "clean g722 tone16 opus").
# Run from the build directory: ZS_BUILDDIR, ZS_PROMPTS as in make check.
set -eu
b=${ZS_BUILDDIR:-.}
here=$(cd "$(dirname "$0")" && pwd)
cm=$b/tests/e2e/clipmatch
packs=${ZS_PROMPTS:-$b/data/prompts}
txt=${ZS_SRCDIR:-$here/../..}/data/prompts.txt
n32=${1:-50}
n256=${2:-20}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zs-receval.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
seed=${ZS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed $seed"
grep '^word_' "$txt" | cut -f2 >"$tmp/pgp"
awk -v seed="$seed" -v n32="$n32" -v n256="$n256" -v pgp="$tmp/pgp" 'BEGIN {
	srand(seed % 1000003); z = "ybndrfg8ejkmcpqxot1uwisza345h769"
	while ((getline w < pgp) > 0) word[nw++] = w
	for (i = 0; i < n32; i++) {
		s = ""; for (k = 0; k < 4; k++) s = s substr(z, int(rand() * 32) + 1, 1)
		print "b32 " (i % 2 ? "secure" : "code") " " s
	}
	for (i = 0; i < n256; i++)
		print "b256 " (i % 2 ? "secure" : "code") " " word[int(rand() * 256)] ":" word[256 + int(rand() * 256)]
}' >"$tmp/cases"
sox -n -r 16000 -c 1 -b 16 "$tmp/tone.wav" synth 12 sine 440 vol 0.1
: >"$tmp/results"
while read -r mode kind sas; do
	"$cm" say "$packs" 16000 "$kind" "$sas" "$tmp/p16.wav"
	"$cm" say "$packs" 48000 "$kind" "$sas" "$tmp/p48.wav"
	sox "$tmp/p16.wav" "$tmp/clean.wav" pad 0.5 1
	sox "$tmp/clean.wav" "$tmp/bl.wav" sinc 50-7000
	cp "$tmp/bl.wav" "$tmp/g722.wav"
	sox -m -v 0.9 "$tmp/bl.wav" -v 0.9 "$tmp/tone.wav" "$tmp/tone16.wav" trim 0 "$(soxi -D "$tmp/clean.wav")"
	sox "$tmp/p48.wav" -r 16000 "$tmp/opus.wav" pad 0.5 1
	for ch in ${ZS_CHANNELS:-clean g722 tone16 opus}; do
		out=$(sh "$here/recognise.sh" "$tmp/$ch.wav" "$mode" || true)
		got=$(echo "$out" | tail -n 1)
		if [ "$got" = "$sas" ]; then ok=1; else ok=0
			echo "miss $ch $mode $kind $sas: $(echo "$out" | head -n 1) -> $got"
		fi
		echo "$ch $mode $ok" >>"$tmp/results"
	done
done <"$tmp/cases"
awk '{ n[$1 " " $2]++; ok[$1 " " $2] += $3 }
	END { for (k in n) printf "%s: %d/%d\n", k, ok[k], n[k] }' "$tmp/results" | sort
