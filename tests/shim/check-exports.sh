#!/bin/sh
# libzrtpshim.so exports exactly the libc names listed in shim/exports.map
# and its crypto dependencies cannot clash with a client's
# own copies: no libsrtp2/libsodium/libcrypto symbol is defined OR imported
# dynamically, and none of those libraries is a DT_NEEDED dependency
# (they are linked statically with their symbols made local).
# Run from the top build directory (automake's test harness does).
set -u
here=$(cd "$(dirname "$0")" && pwd)
map="$here/../../shim/exports.map"
so=./.libs/libzrtpshim.so
[ -f "$so" ] || { echo "missing $so" >&2; exit 99; }
[ -f "$map" ] || { echo "missing $map" >&2; exit 99; }
fail=0
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

# The names between "global:" and "local:", one per line.
sed -n '/global:/,/local:/p' "$map" | sed -e 's|/\*.*\*/||g' \
	-e 's/global://; s/local://' | tr ';' '\n' | tr -d ' \t' |
	grep -v '^$' | sort -u > "$tmp/want"
nm -D --defined-only "$so" | awk '{print $3}' | sed 's/@.*//' |
	grep -v '^$' | sort -u > "$tmp/have"

if ! cmp -s "$tmp/want" "$tmp/have"; then
	echo "FAIL: exported names differ from shim/exports.map (< map, > .so):"
	diff "$tmp/want" "$tmp/have" | grep '^[<>]'
	fail=1
else
	echo "ok: exports are exactly the $(wc -l < "$tmp/want") names of shim/exports.map"
fi

# Dependency isolation: neither defined nor imported.
leak=$(nm -D "$so" | awk '{print $NF}' |
	grep -E '^(srtp_|sodium_|crypto_|randombytes_|EVP_|OPENSSL_|OSSL_|ERR_|RAND_|BN_|CRYPTO_|SHA[0-9]|HMAC|AES_)' || true)
if [ -n "$leak" ]; then
	echo "FAIL: libsrtp2/libsodium/OpenSSL symbols in the dynamic symbol table:"
	echo "$leak" | head -n 20
	fail=1
else
	echo "ok: no srtp_/sodium_/EVP_/OPENSSL_ symbol defined or imported"
fi
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
bad=$(echo "$needed" | grep -E '^lib(srtp2|sodium|crypto|ssl)\.so' || true)
# A sanitizer build links with --no-as-needed (gcc's libasan spec), so
# libzrtp.la's own -lsodium -lcrypto stay as unused DT_NEEDED entries: the
# symbols are still bound to the static copies (checked above); say so.
if [ -n "$bad" ] && echo "$needed" | grep -q '^libasan'; then
	echo "note: sanitizer build: unused DT_NEEDED" $bad "(no symbol imported from them)"
elif [ -n "$bad" ]; then
	echo "FAIL: dynamic dependency on a library a client may carry:"
	echo "$bad"
	fail=1
else
	echo "ok: DT_NEEDED:" $needed
fi
if [ -z "$bad" ] && ldd "$so" 2>/dev/null | grep -E 'lib(srtp2|sodium|crypto|ssl)\.so'; then
	echo "FAIL: ldd shows the above"
	fail=1
fi

# libsrtp2's crypto is ours: no NSS code is linked in (libsrtp2.a's NSS
# objects are left out because the shim defines the type names its
# kernel loads, shim/srtp_evp.c), so NSS is neither a dependency nor
# named. Were it linked, the stock AES/HMAC could be what SRTP runs on.
nss_needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(libnss[^]]*\|libnspr[^]]*\)\]/\1/p')
if [ -n "$nss_needed" ] && echo "$needed" | grep -q '^libasan'; then
	# as above: the sanitizer build links --no-as-needed
	echo "note: sanitizer build: unused DT_NEEDED" $nss_needed "(checked below: no NSS symbol imported)"
	nss_needed=
fi
if [ -n "$nss_needed" ]; then
	echo "FAIL: libzrtpshim.so depends on NSS:" $nss_needed
	fail=1
elif nm -D "$so" | awk '$1 == "U" { print $2 }' | grep -qE '^(NSS_|PK11_|PR_)'; then
	echo "FAIL: libzrtpshim.so imports NSS functions:"
	nm -D "$so" | awk '$1 == "U" { print $2 }' | grep -E '^(NSS_|PK11_|PR_)' | head
	fail=1
elif ! nm "$so" | grep -q ' srtp_evp_aes_icm_128$'; then
	echo "FAIL: no srtp_evp_aes_icm_128 in libzrtpshim.so (unexpected build)"
	fail=1
else
	echo "ok: no NSS in libzrtpshim.so; libsrtp2's kernel types are ours"
fi

# spandsp: a client's own spandsp (baresip's g722 module), or a library
# exporting names spandsp uses (librem's goertzel_*), never meets ours. Its
# names are neither defined nor imported dynamically, and libspandsp is no
# dependency; where configure linked the DTMF receiver in (ZS_SPANDSP_LINKED,
# from AM_TESTS_ENVIRONMENT), it is there, local.
sp_dyn=$(nm -D "$so" | awk '{print $NF}' |
	grep -E '^(dtmf_|g722_|goertzel_|span_log|tone_gen|queue_|make_goertzel)' || true)
if [ -n "$sp_dyn" ]; then
	echo "FAIL: spandsp names in the dynamic symbol table:" $sp_dyn
	fail=1
elif echo "$needed" | grep -q '^libspandsp'; then
	echo "FAIL: libzrtpshim.so depends on libspandsp"
	fail=1
elif [ "${ZS_SPANDSP_LINKED:-}" = yes ]; then
	if nm "$so" | grep -q ' t dtmf_rx$' && nm "$so" | grep -q ' t goertzel_init$'; then
		echo "ok: spandsp's DTMF receiver linked in, local (dtmf_rx, goertzel_init)"
	else
		echo "FAIL: configure linked spandsp's DTMF receiver, but libzrtpshim.so has no local dtmf_rx/goertzel_init"
		fail=1
	fi
else
	echo "ok: no spandsp name in the dynamic symbol table (this build loads libspandsp.so.2 at run time)"
fi
exit $fail
