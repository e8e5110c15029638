#!/bin/sh
# mk/fnlibs.sh OUT: the lean static libcurl and libxml2 that the Lambda functions link.
#
# Debian's libcurl pulls in gnutls, krb5, ldap, rtmp and ssh2, and its libxml2 pulls in ICU
# (libicudata alone is 31 MB): bundled, each function zip came to 23 MB. The functions need
# HTTP(S) and an XML parser, nothing more. So this builds both from the Debian source packages
# of the installed versions (same upstream release as the headers we compile against, with
# Debian's security patches), as static libraries with only what the functions use:
#   libcurl: HTTP and HTTPS over OpenSSL, zlib, the threaded resolver;
#   libxml2: the parser and tree, without ICU, lzma, zlib, HTTP or the optional modules.
# apt fetches the sources through a private configuration (deb-src entries derived from the
# machine's own Debian entries) and checks their signatures and hashes as for any package.
#
# Writes OUT/libs, the functions' link flags, then OUT/mode: "static" when OUT/lib/libcurl.a
# and OUT/lib/libxml2.a are built, "system" when they could not be (offline, no deb-src on the
# mirror...): the functions then link the system's shared libraries and the zips are large,
# which this says loudly. The result is kept until OUT is removed (make clean, or rm -rf OUT
# to retry).
set -u
OUT=${1:?usage: fnlibs.sh OUT}
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
exec 9>"$OUT/.lock"
flock 9 2>/dev/null || true
[ -f "$OUT/mode" ] && exit 0

LOG="$OUT/build.log"
: >"$LOG"
say() { echo "cleanops fnlibs: $*" >&2; }

# The fallback: the functions link the system libraries (ldd bundles them, about 23 MB a zip).
fallback() {
	say "WARNING: $1; the functions link the system's libcurl and libxml2 instead"
	say "WARNING: their zips will be about 23 MB, not under 5 MB (log: $LOG)"
	say "WARNING: to retry: rm -rf $OUT && make package"
	echo "$(pkg-config --libs libcurl libcrypto jansson libxml-2.0) -lpthread" >"$OUT/libs"
	echo system >"$OUT/mode"
	exit 0
}

for tool in apt-get dpkg-source dpkg-query make cc; do
	command -v "$tool" >/dev/null 2>&1 || fallback "$tool is not installed (make deps installs it)"
done

# A private apt state: deb-src twins of the machine's Debian entries (deb822 and one-line).
APT="$OUT/apt"
rm -rf "$APT" "$OUT/src"
mkdir -p "$APT/parts" "$APT/lists/partial" "$APT/cache/archives/partial" "$OUT/src" "$OUT/lib"
for f in /etc/apt/sources.list.d/*.sources; do
	[ -r "$f" ] || continue
	grep -qi 'debian' "$f" || continue
	sed 's/^Types:.*\bdeb\b.*$/Types: deb-src/' "$f" >"$APT/parts/$(basename "$f")"
done
if [ -r /etc/apt/sources.list ]; then
	sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list | grep -i debian \
		>"$APT/sources.list"
else
	: >"$APT/sources.list"
fi
aptget() {
	apt-get -q -o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts="$APT/parts" \
		-o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" \
		-o APT::Sandbox::User="$(id -un)" -o Acquire::Retries=2 "$@" >>"$LOG" 2>&1
}
say "fetching the Debian sources of libcurl and libxml2"
aptget update || say "apt-get update reported errors (see $LOG); trying the sources anyway"

# fetch SRC BINPKG: the source package SRC at the version of the installed BINPKG, else the
# newest with the same upstream version. Prints the unpacked directory.
fetch() {
	want=$(dpkg-query -W -f='${Version}' "$2" 2>/dev/null) || return 1
	(cd "$OUT/src" && { aptget source "$1=$want" || aptget source "$1"; }) || return 1
	dir=$(find "$OUT/src" -mindepth 1 -maxdepth 1 -type d -name "$1-*" | head -n 1)
	[ -n "$dir" ] || return 1
	upstream=${want#*:}
	upstream=${upstream%%-*}
	case $(basename "$dir") in
	"$1-$upstream" | "$1-${upstream%%+*}") ;;
	*) say "$(basename "$dir") is not upstream $upstream (installed $2 $want)"; return 1 ;;
	esac
	# dpkg-source's patches are newer than the generated build files: keep make from
	# trying to regenerate them with autotools.
	find "$dir" \( -name aclocal.m4 -o -name configure -o -name Makefile.in -o -name 'config.h.in' \) \
		-exec touch {} +
	echo "$dir"
}

CURL_SRC=$(fetch curl libcurl4-openssl-dev) || fallback "cannot fetch the curl source package"
XML_SRC=$(fetch libxml2 libxml2-dev) || fallback "cannot fetch the libxml2 source package"

JOBS=$(nproc 2>/dev/null || echo 2)
FLAGS="-O2 -g0 -ffunction-sections -fdata-sections"

say "building a static libcurl (HTTP and HTTPS only)"
(cd "$CURL_SRC" && ./configure --disable-shared --enable-static --disable-dependency-tracking \
	--with-openssl --with-zlib --enable-threaded-resolver \
	--without-libpsl --without-libidn2 --without-nghttp2 --without-brotli --without-zstd \
	--without-libssh2 --without-libssh --without-librtmp --without-gssapi --without-libgsasl \
	--disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
	--disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher \
	--disable-mqtt --disable-ftp --disable-file --disable-manual --disable-ntlm \
	--disable-netrc --without-ca-path --with-ca-bundle=/etc/pki/tls/certs/ca-bundle.crt \
	CFLAGS="$FLAGS" && make -j"$JOBS" -C lib) >>"$LOG" 2>&1 ||
	fallback "building libcurl failed"

say "building a static libxml2 (parser and tree only, no ICU)"
(cd "$XML_SRC" && ./configure --disable-shared --enable-static --disable-dependency-tracking \
	--without-icu --without-lzma --without-zlib --without-python --without-http \
	--without-ftp --without-catalog --without-debug --without-docbook --without-legacy \
	--without-html --without-schematron --without-xinclude --without-xptr --without-c14n \
	--without-schemas --without-regexps --without-modules --without-valid --without-reader \
	--without-writer --without-pattern --without-push --without-iso8859x \
	CFLAGS="$FLAGS" && make -j"$JOBS" libxml2.la) >>"$LOG" 2>&1 ||
	fallback "building libxml2 failed"

cp "$CURL_SRC/lib/.libs/libcurl.a" "$XML_SRC/.libs/libxml2.a" "$OUT/lib/" ||
	fallback "cannot copy the libraries"
echo "$(basename "$CURL_SRC") $(basename "$XML_SRC")" >"$OUT/versions"
rm -rf "$APT" "$OUT/src"
echo "$OUT/lib/libcurl.a $OUT/lib/libxml2.a -Wl,--gc-sections" \
	"-Wl,-Bstatic -lssl -lcrypto -ljansson -lz -Wl,-Bdynamic -lpthread -lm -ldl" >"$OUT/libs"
echo static >"$OUT/mode"
say "built $(cat "$OUT/versions") in $OUT/lib"
