#!/bin/sh
# Render the prompt clips (data/prompts.txt) into the packs shim/clips.c
# loads: render-prompts.sh PROMPTS_TXT OUTDIR.
#
# One festival process says every clip with the cmu_us_slt_arctic_hts
# voice (a Scheme loop of utt.synth and utt.save.wave, each clip at its own
# speaking rate: the optional third field, hts_engine's -r, default 1.0);
# then sox, per clip and rate, trims the leading and trailing silence,
# resamples to 8000, 16000 and 48000 Hz mono and normalises the peak to
# -3 dBFS, without dither so a render is repeatable. Each rate is packed into
# OUTDIR/clips-RATE.pcm (the clips' s16le samples back to back) and
# OUTDIR/clips-RATE.idx (the text index; its format is described at the top
# of shim/clips.c). The files appear in OUTDIR only when all are written.
# About 25 s on 2 cores (README).
set -eu
txt=$1
out=$2
rates="8000 16000 48000"
for t in festival sox; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "render-prompts: $t not found (Debian: festival festvox-us-slt-hts sox)" >&2
		exit 1
	}
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zs-prompts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/wav" "$tmp/raw"

# id<TAB>text[<TAB>rate] lines, comments and blank lines dropped; ids and
# rates checked here so a typo fails the build instead of making an
# unloadable index.
grep -v -e '^#' -e '^[[:space:]]*$' "$txt" >"$tmp/list"
if awk -F'\t' '/^#/ || /^[[:space:]]*$/ { next }
	(NF != 2 && NF != 3) || $1 !~ /^[a-z0-9_]+$/ || length($1) > 31 ||
		(NF == 3 && ($3 !~ /^[0-9]+(\.[0-9]+)?$/ || $3 + 0 < 0.5 || $3 + 0 > 2)) {
		print FILENAME ":" FNR ": bad line: " $0; bad = 1 }
	seen[$1]++ { print FILENAME ":" FNR ": duplicate id " $1; bad = 1 }
	END { exit !bad }' "$txt" >&2; then
	exit 1
fi

{
	echo '(voice_cmu_us_slt_arctic_hts)'
	echo '(set! zs-params hts_engine_params)'
	echo '(define (zs-say id text rate)'
	echo '  (set! hts_engine_params (append zs-params (list (list "-r" rate))))'
	echo '  (let ((u (utt.synth (eval (list (quote Utterance) (quote Text) text)))))'
	echo "    (utt.save.wave u (string-append \"$tmp/wav/\" id \".wav\") (quote riff))))"
	awk -F'\t' '{ gsub(/\\/, "\\\\", $2); gsub(/"/, "\\\"", $2);
		printf "(zs-say \"%s\" \"%s\" %s)\n", $1, $2, NF == 3 ? $3 : "1.0" }' "$tmp/list"
} >"$tmp/say.scm"
festival -b "$tmp/say.scm" >"$tmp/festival.log" 2>&1 || {
	cat "$tmp/festival.log" >&2
	echo "render-prompts: festival failed (is festvox-us-slt-hts installed?)" >&2
	exit 1
}

cut -f1 "$tmp/list" >"$tmp/ids"
for id in $(cat "$tmp/ids"); do
	[ -s "$tmp/wav/$id.wav" ] || {
		cat "$tmp/festival.log" >&2
		echo "render-prompts: festival wrote no audio for $id" >&2
		exit 1
	}
done

# silence 1 0.005 0.1%: cut up to the first 5 ms above 0.1% of full scale
# (lower cuts the soft start of "mike" or "hotel"); reversed and done again
# for the end; then 20 ms of silence back at each end.
ncpu=$(nproc 2>/dev/null || echo 2)
for r in $rates; do
	sed "s/\$/ $r/" "$tmp/ids"
done | xargs -P "$ncpu" -n 2 sh -c '
	sox -D "$0/wav/$1.wav" -t raw -e signed-integer -b 16 -c 1 -L "$0/raw/$1.$2" \
		silence 1 0.005 0.1% reverse silence 1 0.005 0.1% reverse \
		gain -6 rate -v "$2" norm -3 pad 0.02 0.02' "$tmp"

for r in $rates; do
	off=0
	: >"$tmp/clips-$r.pcm"
	: >"$tmp/body-$r"
	for id in $(cat "$tmp/ids"); do
		f="$tmp/raw/$id.$r"
		n=$(($(wc -c <"$f") / 2))
		[ "$n" -gt 0 ] || { echo "render-prompts: $id is silent at $r Hz" >&2; exit 1; }
		cat "$f" >>"$tmp/clips-$r.pcm"
		echo "$id $off $n" >>"$tmp/body-$r"
		off=$((off + n))
	done
	{
		echo "zrtpshim-clips 1 $r $(wc -l <"$tmp/ids") $off"
		cat "$tmp/body-$r"
	} >"$tmp/clips-$r.idx"
done

mkdir -p "$out"
for r in $rates; do
	mv -f "$tmp/clips-$r.pcm" "$out/clips-$r.pcm"
	mv -f "$tmp/clips-$r.idx" "$out/clips-$r.idx"
done
