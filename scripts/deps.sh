#!/bin/sh
# Install the Debian 12 packages zrtpshim needs to build and test, if any
# are missing. Runs apt-get only when something is missing (needs root).
set -eu
# Build and unit tests, then the real clients and tools of the end-to-end
# and interop tests (they skip, exit 77, only when one is missing).
PKGS="build-essential autoconf automake libtool pkg-config
      libsrtp2-dev libsodium-dev libssl-dev libpcap-dev check libbzrtp-dev
      clang llvm libclang-rt-14-dev
      tcpdump tshark sox python3 baresip-core sip-tester linphone-cli
      openssl kamailio kamailio-tls-modules rtpengine-daemon gnutls-bin
      libmbedtls-dev twinkle-console libopus-dev libspandsp-dev
      festival festvox-us-slt-hts pocketsphinx pocketsphinx-en-us
      dbus-daemon dbus-bin libdbus-1-3 python3-dbus python3-gi"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "zrtpshim: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "zrtpshim: run as root (or install them yourself):$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
