#!/bin/sh
# recognise.sh WAV [b32|b256]: what the prompts in a recording say.
#
# Transcribes WAV (any rate, mono or not: sox makes it 16 kHz mono, the
# rate of the en-us model) with pocketsphinx_continuous (Debian
# pocketsphinx 0.8, model /usr/share/pocketsphinx/model/en-us/) restricted
# to a JSGF grammar of the prompts: any run of the phrases, the ICAO words
# and digits of a B32 code, and (b256) the PGP words; the test tones are
# notched out before (ZS_NOTCH below). The grammar and the
# mapping back are built from data/prompts.txt, so they say what the clips
# say. Prints two lines:
#   the recognised words ("secure call code tango four five bravo");
#   the code they imply in the engine's rendering ("t45b"; b256:
#   "Aztec:Yucatan": the first even-list word followed by an odd-list
#   one), taken from what follows the last "code" (or from the start);
#   "-" when there is none.
# Exits 0 when it printed a code, 1 when not, 2 on an error (77: no
# pocketsphinx, sox or model). ZS_CODE_LEN=4 (B32; any value for b256)
# says the recording is a prompt ending with a code: the grammar is then
# phrases followed by exactly that code's symbols (still any of them).
# The dictionary is cmudict's entries for
# those words plus the words cmudict lacks (below), and one variant: the
# voice's "eight" ends with a T so weak that the recogniser often took the
# word for a pause ("code eight whiskey" heard as "code whiskey": 36 of 42
# codes with an 8 heard right; with "eight" also as EY, 42 of 42).
set -eu
wav=${1:?usage: recognise.sh WAV [b32|b256]}
mode=${2:-b32}
case $mode in b32|b256) ;; *) echo "recognise.sh: mode b32 or b256" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
src=${ZS_SRCDIR:-$here/../..}
txt=$src/data/prompts.txt
model=/usr/share/pocketsphinx/model/en-us
for t in pocketsphinx_continuous sox; do
	command -v "$t" >/dev/null 2>&1 || { echo "recognise.sh: no $t" >&2; exit 77; }
done
[ -d "$model/en-us" ] && [ -f "$model/cmudict-en-us.dict" ] ||
	{ echo "recognise.sh: no model in $model (pocketsphinx-en-us)" >&2; exit 77; }
[ -f "$txt" ] || { echo "recognise.sh: no $txt" >&2; exit 2; }
[ -f "$wav" ] || { echo "recognise.sh: no $wav" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zs-recognise.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# id<TAB>spoken words (lower case, letters only)
grep -v -e '^#' -e '^[[:space:]]*$' "$txt" |
	awk -F'\t' '{ t = tolower($2); gsub(/[^a-z]+/, " ", t); gsub(/^ +| +$/, "", t);
		print $1 "\t" t }' >"$tmp/said"

# The grammar: <utt> is any run of items; each phrase is one item.
{
	echo '#JSGF V1.0;'
	echo 'grammar zrtpshim;'
	if [ -n "${ZS_CODE_LEN:-}" ]; then
		# A prompt that ends with a code: phrases, then the code's
		# symbols (ZS_CODE_LEN of them for B32; two words for B256).
		# Which symbols is still free: 32^4 codes, 65536 word pairs.
		syms=""
		n=0
		while [ "$n" -lt "$ZS_CODE_LEN" ]; do syms="$syms <sym>"; n=$((n + 1)); done
		[ "$mode" = b256 ] && syms=" <word> <word>"
		echo "public <utt> = <phrase>+$syms ;"
	elif [ "$mode" = b256 ]; then
		echo 'public <utt> = ( <phrase> | <sym> | <word> )+ ;'
	else
		echo 'public <utt> = ( <phrase> | <sym> )+ ;'
	fi
	awk -F'\t' -v mode="$mode" '
		$1 ~ /^phrase_/ { p = p (p ? " | " : "") $2 }
		$1 ~ /^(letter|digit)_/ { s = s (s ? " | " : "") $2 }
		$1 ~ /^word_/ { w = w (w ? " | " : "") $2 }
		END { print "<phrase> = " p " ;"; print "<sym> = " s " ;";
		      if (mode == "b256") print "<word> = " w " ;" }' "$tmp/said"
} >"$tmp/g.jsgf"

# The dictionary: cmudict's entries (all variants), then ours.
tr ' ' '\n' <"$tmp/said" | cut -f2 | tr ' \t' '\n\n' | grep . | sort -u >"$tmp/words"
cat >"$tmp/extra.dict" <<'DICT'
adroitness AH D R OY T N AH S
bedlamp B EH D L AE M P
beeswax B IY Z W AE K S
belowground B IH L OW G R AW N D
breadline B R EH D L AY N
chairlift CH EH R L IH F T
chambermaid CH EY M B ER M EY D
crowfoot K R OW F UH T
deckhand D EH K HH AE N D
dogsled D AO G S L EH D
eightball EY T B AO L
eight EY T
eight(2) EY
eyetooth AY T UW TH
flatfoot F L AE T F UH T
highchair HH AY CH EH R
klaxon K L AE K S AH N
nightbird N AY T B ER D
offload AO F L OW D
preshrunk P R IY SH R AH NG K
retouch R IY T AH CH
ribcage R IH B K EY JH
ringbolt R IH NG B OW L T
sandalwood S AE N D AH L W UH D
seabird S IY B ER D
snapline S N AE P L AY N
snowcap S N OW K AE P
snowslide S N OW S L AY D
spellbind S P EH L B AY N D
sweatband S W EH T B AE N D
tapeworm T EY P W ER M
topmost T AA P M OW S T
woodlark W UH D L AA R K
DICT
awk 'FILENAME == ARGV[1] { want[$1] = 1; next }
	{ w = $1; sub(/\([0-9]+\)$/, "", w) }
	FILENAME == ARGV[2] { ours[w] = 1 }
	(w in want) && (FILENAME == ARGV[2] || !(w in ours)) { print; have[w] = 1 }
	END { for (w in want) if (!(w in have)) { print "recognise.sh: no pronunciation for " w >"/dev/stderr"; bad = 1 }
	      exit bad }' "$tmp/words" "$tmp/extra.dict" "$model/cmudict-en-us.dict" >"$tmp/dict" || exit 2

# The test peers' steady tones (440 and 660 Hz, under the prompt in a
# call's recording) are notched out first: ZS_NOTCH="HZ HZ.." (or "")
# changes them, ZS_NOTCH_WIDTH their width in Hz (default 60). Measured
# (seed 7, 50 B32 and 20 B256 codes, 440 Hz tone at -20 dBFS under the
# prompt, real codecs: spandsp G.722 64k, libopus 24k VoIP at 16 kHz):
#   width 60:  G.722 50/50, 20/20; Opus 25/50, 14/20;
#   width 300: G.722 49/50, 19/20; Opus 47/50, 15/20 (the tone through
#              Opus smears past a narrow notch); without a tone a wide
#              notch costs (clean 41/50 against 48/50).
# Without the tone, Opus 24k: 20/20 B32 at width 60.
rej=""
for f in ${ZS_NOTCH-440 660}; do rej="$rej bandreject $f ${ZS_NOTCH_WIDTH:-60}h"; done
# shellcheck disable=SC2086
sox "$wav" -r 16000 -c 1 -b 16 -e signed-integer "$tmp/in.wav" $rej 2>"$tmp/sox.log" ||
	{ cat "$tmp/sox.log" >&2; exit 2; }
# -wip 0.01 (word insertion, default 0.65): fewer spurious short words
# between the code's ("three eight bravo" for "three bravo"). ZS_PS_OPTS
# adds options.
pocketsphinx_continuous -hmm "$model/en-us" -dict "$tmp/dict" -jsgf "$tmp/g.jsgf" \
	-infile "$tmp/in.wav" -wip 0.01 ${ZS_PS_OPTS:-} -logfn "$tmp/ps.log" >"$tmp/hyp" 2>/dev/null ||
	{ tail -n 20 "$tmp/ps.log" >&2; exit 2; }
words=$(tr '\n' ' ' <"$tmp/hyp" | tr -s ' ' | sed 's/^ //; s/ $//')
echo "$words"

# Back to the code: the symbols after the last "code", longest text first.
echo "$words" | awk -F'\t' -v mode="$mode" -v txt="$txt" '
	FILENAME == "-" { hyp = $0; next }
	$1 ~ /^(letter|digit)_/ { ch[$2] = substr($1, length($1)) }
	$1 ~ /^word_/ { wd[$2] = $1; list[$1] = ++nw <= 256 ? "even" : "odd" }
	END {
		while ((getline l < txt) > 0)
			if (l ~ /^word_/) { split(l, f, "\t"); proper[f[1]] = f[2] }
		n = split(hyp, t, " ")
		start = 1
		for (i = 1; i <= n; i++) if (t[i] == "code") start = i + 1
		out = ""; k = 0
		for (i = start; i <= n; i++) {
			if (mode == "b32") {
				if (i < n && ((t[i] " " t[i + 1]) in ch)) { out = out ch[t[i] " " t[i + 1]]; i++; k++ }
				else if (t[i] in ch) { out = out ch[t[i]]; k++ }
				if (k == 4) break
			} else if (i < n && (t[i] in wd) && (t[i + 1] in wd) &&
				   list[wd[t[i]]] == "even" && list[wd[t[i + 1]]] == "odd") {
				out = proper[wd[t[i]]] ":" proper[wd[t[i + 1]]]; k = 2
				break
			}
		}
		if ((mode == "b32" && k == 4) || (mode == "b256" && k == 2)) { print out; exit 0 }
		print "-"; exit 1
	}' - "$tmp/said"
