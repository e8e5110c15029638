#!/bin/sh
# tests/bench/run.sh: run every benchmark script; each prints its figures and ratios.
set -u
BUILD=${BUILD:-build}
CLEANOPS=$(cd "$BUILD" && pwd)/cleanops
ROOT=$(pwd)
export BUILD CLEANOPS ROOT
rc=0
for b in tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $(basename "$b" .sh)"
	sh "$b" || { echo "benchmark $b failed"; rc=1; }
done
exit $rc
