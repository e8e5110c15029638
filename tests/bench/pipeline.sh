#!/bin/sh
# tests/bench/pipeline.sh: issue 5: the whole pipeline in the sandbox, wired by hand with boto3:
# sustained orders/s, p50/p99 POST -> SNS delivery, lost orders, as ratios to the targets
# (1,000 orders/s, p99 < 250 ms, nothing lost). The driver is pipeline_bench.py.
set -u
ROOT=${ROOT:-$(pwd)}
BUILD=${BUILD:-build}
CLEANOPS=${CLEANOPS:-$ROOT/$BUILD/cleanops}
export ROOT BUILD CLEANOPS
exec python3 "$ROOT/tests/bench/pipeline_bench.py" "$@"
