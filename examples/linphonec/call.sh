#!/bin/sh
# Run linphonec as alice or bob from the rc files here, each with its own
# HOME (linphonec needs HOME/.local/share/linphone to exist, or it starts
# no SIP listener) and a fresh copy of its rc (linphonec rewrites its rc).
# The HOME is kept between runs: it holds linphonec's ZRTP cache
# ($HOME/.linphone-zidcache, sqlite), so a second call with the same peer
# has ZRTP continuity.
#
#   examples/linphonec/call.sh bob -a        # bob on 127.0.0.1:5083, auto-answer
#   examples/linphonec/call.sh alice         # alice on 127.0.0.1:5081
#
# Then type at the linphonec> prompt, e.g.
#   soundcard use files          (no sound card: play/record WAV files)
#   play /path/to/say.wav        (8 kHz mono 16-bit)
#   record /path/to/heard.wav
#   call sip:alice@127.0.0.1:5071
#   zrtp-set-verified            (after comparing the SAS aloud)
#   terminate
#   quit
# It prints "Call 1 is fully encrypted and auth token is XXXX." once ZRTP
# is up: the same XXXX as the shim's "event: secure ... sas=XXXX".
# State goes to $LINPHONEC_STATE (default ./linphonec-NAME).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: $0 alice|bob [linphonec args]}
shift
[ -f "$here/$name.rc" ] || { echo "$0: no $here/$name.rc" >&2; exit 2; }
state=${LINPHONEC_STATE:-$PWD/linphonec-$name}
mkdir -p "$state/home/.local/share/linphone"
cp "$here/$name.rc" "$state/rc"
HOME=$state/home exec linphonec -c "$state/rc" "$@"
