#!/bin/sh
# Prints libzrtpshim's link arguments for libsrtp2, libsodium and libcrypto
# (Makefile.am, SHIM_DEPS_LIBS): their static archives when all three are
# installed, as GNU ld's -l:NAME, plus what libsrtp2.a itself may need
# (its pkg-config Libs.private: NSS on Debian), as needed only. With -Wl,--exclude-libs,ALL
# their symbols become local to the shim. Otherwise (no static archives):
# the shared libraries, with a warning, and check-exports.sh will fail.
#   static-deps.sh CC PKG_CONFIG
cc=${1:-cc}
pkgconfig=${2:-pkg-config}
static=yes
for l in srtp2 sodium crypto; do
	p=$($cc -print-file-name=lib$l.a)
	[ -f "$p" ] || static=no
done
if [ "$static" = yes ]; then
	priv=$($pkgconfig --static --libs-only-l libsrtp2 | sed 's/-lsrtp2//')
	# --as-needed: NSS becomes a dependency only if some NSS code of
	# libsrtp2.a was linked after all (check-exports.sh fails then).
	echo "-l:libsrtp2.a -l:libsodium.a -l:libcrypto.a -Wl,--as-needed $priv -Wl,--no-as-needed"
else
	echo "static-deps.sh: no static libsrtp2/libsodium/libcrypto:" \
	     "linking the shared ones (no dependency isolation)" >&2
	$pkgconfig --libs libsrtp2 libsodium libcrypto
fi
