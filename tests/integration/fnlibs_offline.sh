#!/bin/sh
# fnlibs_offline.sh: mk/fnlibs.sh on a machine that cannot fetch the Debian sources (offline,
# or no apt) still leaves a working build: it exits 0, warns loudly, records mode "system"
# and link flags for the system libraries, and keeps that result until retried. (The online
# path, the lean static libraries, is what every function zip of the other tests is built
# with: lambda_package.py checks their size.) Exit 0 pass, 1 fail.
set -u
ROOT=${ROOT:-$(pwd)}
cd "$ROOT" || exit 1
TMP=$(mktemp -d /tmp/cleanops-fnlibs-XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM
fail=0
ok() { echo "ok    $1"; }
bad() { echo "FAIL  $1"; fail=1; }

# apt-get that fails as it does offline; everything else as on this machine
mkdir -p "$TMP/bin"
printf '#!/bin/sh\necho "E: Failed to fetch (offline test)" >&2\nexit 100\n' >"$TMP/bin/apt-get"
chmod +x "$TMP/bin/apt-get"

PATH="$TMP/bin:$PATH" sh mk/fnlibs.sh "$TMP/out" >"$TMP/out.txt" 2>"$TMP/err.txt"
rc=$?
[ "$rc" = 0 ] && ok "offline, fnlibs.sh exits 0" || bad "offline, fnlibs.sh exits $rc"
[ "$(cat "$TMP/out/mode" 2>/dev/null)" = system ] && ok "mode is system" ||
	bad "mode is '$(cat "$TMP/out/mode" 2>/dev/null)'"
grep -q -- '-lcurl' "$TMP/out/libs" 2>/dev/null && grep -q -- '-lxml2' "$TMP/out/libs" &&
	ok "the link flags name the system libcurl and libxml2: $(cat "$TMP/out/libs")" ||
	bad "link flags: $(cat "$TMP/out/libs" 2>/dev/null)"
grep -q 'WARNING.*cannot fetch' "$TMP/err.txt" && grep -q 'to retry: rm -rf' "$TMP/err.txt" &&
	ok "it warns and says how to retry" || bad "no warning: $(cat "$TMP/err.txt")"
[ ! -e "$TMP/out/lib/libcurl.a" ] && ok "no half-built library is left" ||
	bad "a libcurl.a was left behind"

# the result is kept: a second run does nothing (no fetch)
PATH="$TMP/bin:$PATH" sh mk/fnlibs.sh "$TMP/out" >/dev/null 2>"$TMP/err2.txt"
[ ! -s "$TMP/err2.txt" ] && ok "a second run keeps the result" ||
	bad "a second run did something: $(cat "$TMP/err2.txt")"

# the system flags link a real function binary
if [ -f "${BUILD:-build}/liblrt.a" ] && [ -f "${BUILD:-build}/obj/lambdas/notifier/main.o" ]; then
	B=${BUILD:-build}
	CCX=cc SAN=""
	if [ -f "$B/.cc" ]; then # make asan's build: its compiler and sanitizers
		CCX=$(cat "$B/.cc") SAN="-fsanitize=address,undefined"
	fi
	# shellcheck disable=SC2046
	if $CCX $SAN -o "$TMP/notifier" "$B/obj/lambdas/notifier/main.o" "$B/liblrt.a" \
		"$B/libawsclient.a" $(cat "$TMP/out/libs") 2>"$TMP/ld.txt"; then
		ok "the system flags link the notifier"
	else
		bad "the system flags do not link: $(head -5 "$TMP/ld.txt")"
	fi
fi
[ "$fail" = 0 ] && echo "all checks passed" || echo "some checks failed"
exit "$fail"
