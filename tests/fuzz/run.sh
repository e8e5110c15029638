#!/bin/sh
# tests/fuzz/run.sh BUILD SECONDS NAME...: run each libFuzzer target BUILD/fuzz-bin/fuzz_NAME
# for SECONDS, growing a scratch corpus BUILD/corpus/NAME seeded from tests/fuzz/corpus/NAME.
# A crash, leak, timeout or OOM leaves its reproducer in BUILD/crashes/NAME/ and fails the run.
# Prints one line per target: runs, exec/s, coverage (edges) and features.
set -u
BUILD=$1; SECONDS_EACH=$2; shift 2
failed=""

max_len() { # the largest input worth trying, per target
	case $1 in
	xml|event|router) echo 8192;;
	*) echo 4096;;
	esac
}

for name in "$@"; do
	bin=$BUILD/fuzz-bin/fuzz_$name
	seeds=tests/fuzz/corpus/$name
	scratch=$BUILD/corpus/$name
	crashes=$BUILD/crashes/$name
	log=$BUILD/logs/$name.log
	mkdir -p "$scratch" "$crashes" "$BUILD/logs"
	dict=""
	[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
	echo "fuzz: $name for ${SECONDS_EACH}s (log $log)"
	# shellcheck disable=SC2086
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	"$bin" "$scratch" "$seeds" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$name")" \
		-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$crashes/" $dict >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	if [ "$rc" -ne 0 ]; then
		failed="$failed $name"
		echo "FAIL  $name (exit $rc): $(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log")"
		ls "$crashes" | sed "s|^|      reproducer: $crashes/|"
	else
		echo "ok    $name: ${runs:-?} runs, ${eps:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: findings in:$failed"
	exit 1
fi
echo "fuzz: no findings"
