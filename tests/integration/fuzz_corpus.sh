#!/bin/sh
# fuzz_corpus.sh: replay the committed fuzz corpora through every fuzz target (the cheap
# regression for `make fuzz`).
#
# Builds each tests/fuzz/fuzz_NAME.c with a plain main (tests/fuzz/replay.c) under ASan and
# UBSan with clang, in its own object tree $BUILD/fuzz-replay-build (incremental: the first
# run compiles the libraries once, later runs only what changed), then runs every file of
# tests/fuzz/corpus/NAME/ through it: the seeds and the reproducers of fixed findings. A
# crash, leak, UB or hang on any of them fails. Exit 0 pass, 77 skip (no clang), 1 fail.
set -u

ROOT=${ROOT:-$(pwd)}
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
RB=$BUILD/fuzz-replay-build
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

if ! command -v clang >/dev/null 2>&1; then
	echo "SKIP: clang is not installed (the fuzz targets build with clang's sanitizers)"
	exit 77
fi
# a make of our own, not a child of the caller's jobserver
if ! MAKEFLAGS= make -s BUILD="$RB" CC=clang CFLAGS="-O1 -g $SAN" LDFLAGS="$SAN" -j2 \
	fuzz-replay; then
	echo "FAIL: the replay build failed"
	exit 1
fi

fail=0
total=0
for src in tests/fuzz/fuzz_*.c; do
	name=${src#tests/fuzz/fuzz_}
	name=${name%.c}
	corpus=tests/fuzz/corpus/$name
	n=$(ls "$corpus" 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "FAIL: $name has no seeds in $corpus"
		fail=1
		continue
	fi
	# a hang is a finding too: 60 s is far beyond any seed's time; so is a blow-up past
	# the 2 GiB that `make fuzz` allows. A 1 MiB stack: without libFuzzer's instrumentation
	# frames are smaller, and a recursion reproducer must still overflow it.
	if (ulimit -s 1024 &&
	    ASAN_OPTIONS=detect_leaks=1:hard_rss_limit_mb=2048 UBSAN_OPTIONS=print_stacktrace=1 \
		exec timeout 60 "$RB/fuzz-replay/fuzz_$name" "$corpus"); then
		total=$((total + n))
	else
		echo "FAIL: $name: an input of $corpus crashed, leaked or hung (exit $?)"
		fail=1
	fi
done
[ "$fail" -eq 0 ] || exit 1
echo "PASS: $total corpus inputs replayed cleanly"
