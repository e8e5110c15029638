#!/bin/sh
# tests/bench/lambda.sh: Lambda cold start and warm invocation, C bootstrap vs a boto3 handler.
# Both run against the same test Runtime API and moto_server; printed as ratios.
set -u
ROOT=${ROOT:-$(pwd)}
BUILD=${BUILD:-build}
CLEANOPS=${CLEANOPS:-$ROOT/$BUILD/cleanops}
export ROOT BUILD CLEANOPS
exec python3 "$ROOT/tests/bench/lambda_bench.py" "$@"
