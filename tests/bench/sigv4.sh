#!/bin/sh
# sigv4.sh: aws_sigv4_sign vs botocore's SigV4Auth on the same request, in the same run.
# Env: BUILD (default build), ROOT (the repo root), SIGV4_BENCH_SECS (CPU seconds per side,
# default 2). Exit 0, 1 (the two signatures differ, or a build/run failed), 77 (no botocore).
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
BUILD=${BUILD:-build}
SECS=${SIGV4_BENCH_SECS:-2}
CC=${CC:-cc}
LIB="$BUILD/libawsclient.a"
BIN="$BUILD/bench/sigv4_bench"

[ -f "$LIB" ] || make BUILD="$BUILD" "$LIB" >/dev/null
mkdir -p "$BUILD/bench"
# the Makefile's flags, without the Makefile
$CC -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -I. -o "$BIN" tests/bench/sigv4_bench.c "$LIB" \
	$(pkg-config --libs libcrypto)

ours=$("$BIN" "$SECS")
set +e
peer=$(python3 tests/bench/sigv4_botocore.py "$SECS")
rc=$?
set -e
if [ $rc -eq 77 ]; then
	echo "$peer"
	exit 77
elif [ $rc -ne 0 ]; then
	echo "sigv4 bench: botocore side failed (exit $rc)" >&2
	exit 1
fi

field() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
sig_ours=$(field "$ours" signature)
sig_peer=$(field "$peer" signature)
rate_ours=$(field "$ours" rate)
rate_peer=$(field "$peer" rate)
echo "sigv4: cleanops aws_sigv4_sign  $rate_ours signatures/s (CPU time)"
echo "sigv4: botocore SigV4Auth      $rate_peer signatures/s (CPU time)"
if [ -z "$sig_ours" ] || [ "$sig_ours" != "$sig_peer" ]; then
	echo "sigv4: FAIL signatures differ: cleanops=$sig_ours botocore=$sig_peer"
	exit 1
fi
echo "sigv4: identical signature $sig_ours"
awk -v a="$rate_ours" -v b="$rate_peer" 'BEGIN {
	r = a / b
	printf "sigv4: ratio %.1fx botocore (target >= 20x: %s)\n", r, (r >= 20 ? "met" : "NOT met")
}'
