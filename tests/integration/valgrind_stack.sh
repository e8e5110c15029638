#!/bin/sh
# valgrind_stack.sh: the headless stack commands are valgrind-clean against the sandbox.
#
# Starts a sandbox (run normally, not under valgrind) on a free port with a private data
# directory and state home, then runs `deploy --yes`, `status`, `order --count 5 --wait` and
# `destroy --yes` each under valgrind memcheck. Any memory error, or any definitely or
# indirectly lost block, fails the test (valgrind exits 99); so does a command that fails.
# "Still reachable" and "possibly lost" blocks (libcurl, OpenSSL and the like keep global
# state until exit) are not errors. Exit 0 pass, 77 skip, 1 fail. KEEP_TMP=1 keeps the
# valgrind logs and outputs in the temporary directory.
set -u

ROOT=${ROOT:-.}
BUILD=${BUILD:-build}
CLEANOPS=${CLEANOPS:-$ROOT/cleanops}
ZIPS=$(cd "$ROOT/$BUILD" 2>/dev/null && pwd)/lambda

if ! command -v valgrind >/dev/null 2>&1; then
	echo "SKIP: valgrind is not installed (make deps installs it)"
	exit 77
fi
if [ ! -x "$CLEANOPS" ]; then
	echo "SKIP: cleanops not built ($CLEANOPS)"
	exit 77
fi
# valgrind cannot run a binary built with AddressSanitizer (make asan checks those itself)
if grep -Eaq '__(asan|tsan|ubsan)_' "$CLEANOPS"; then
	echo "SKIP: $CLEANOPS is a sanitizer build; valgrind runs on the plain build (make test)"
	exit 77
fi
if [ ! -x "$ZIPS/bin/order-writer" ] || [ ! -x "$ZIPS/bin/notifier" ]; then
	echo "SKIP: the Lambda binaries are not built ($ZIPS/bin)"
	exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/valgrind_stack.XXXXXX") || exit 1
DATA="$TMP/sandbox"
started=0
cleanup() {
	[ "$started" = 1 ] && "$CLEANOPS" sandbox stop --data "$DATA" >/dev/null 2>&1
	[ "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# a private identity and state: nothing of the caller's AWS setup is read
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL CLEANOPS_TARGET
export HOME="$TMP" XDG_STATE_HOME="$TMP/state" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=AKIDVALGRINDTEST AWS_SECRET_ACCESS_KEY=secret

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null)
[ -n "$PORT" ] || PORT=$((20000 + $$ % 20000))
URL="http://127.0.0.1:$PORT"
if ! "$CLEANOPS" sandbox start --port "$PORT" --data "$DATA" >"$TMP/start.out" 2>&1; then
	cat "$TMP/start.out"
	echo "FAIL: the sandbox did not start"
	exit 1
fi
started=1

fails=0
# vg NAME ARGS...: run cleanops ARGS under memcheck; report its summary; count a failure.
vg() {
	name=$1; shift
	log="$TMP/vg-$name.log"
	t0=$(date +%s)
	timeout 300 valgrind --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30 \
		--log-file="$log" "$CLEANOPS" "$@" >"$TMP/$name.out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	summary=$(grep -E 'ERROR SUMMARY|definitely lost:|indirectly lost:|All heap blocks' "$log" |
		sed 's/^==[0-9]*== *//; s/ (suppressed.*//' | tr '\n' ' ')
	if [ "$rc" -eq 0 ]; then
		echo "ok    $name (${secs}s): $summary"
		return 0
	fi
	fails=$((fails + 1))
	if [ "$rc" -eq 99 ]; then
		echo "FAIL  $name: valgrind found errors or leaks: $summary"
		sed 's/^/    /' "$log"
	else
		echo "FAIL  $name: exit $rc ($summary)"
		tail -n 40 "$TMP/$name.out" | sed 's/^/    /'
		grep -E 'ERROR SUMMARY|lost' "$log" | sed 's/^/    /'
	fi
	return 1
}

# the zips are built natively first: deflating two 23 MB zips under valgrind takes minutes
if ! "$CLEANOPS" package --bin "$ZIPS/bin" --out "$TMP/zips" >"$TMP/package.out" 2>&1; then
	cat "$TMP/package.out"
	echo "FAIL: cleanops package"
	exit 1
fi
start=$(date +%s)
vg deploy deploy --yes --endpoint "$URL" --zips "$TMP/zips"
vg status status --endpoint "$URL" --zips "$TMP/zips"
vg order order --count 5 --wait --endpoint "$URL"
vg destroy destroy --yes --endpoint "$URL"
# the commands did their job too, not only cleanly
if ! grep -q '5 accepted' "$TMP/order.out" || ! grep -q '5 stored' "$TMP/order.out"; then
	echo "FAIL  order: the 5 orders did not all go through:"
	sed 's/^/    /' "$TMP/order.out"
	fails=$((fails + 1))
fi
echo "valgrind_stack: $fails failure(s) in 4 commands ($(( $(date +%s) - start ))s)"
[ "$fails" -eq 0 ] || exit 1
exit 0
