#!/bin/sh
# tests/run.sh BUILD: run every unit test binary and integration script; print a summary.
# An integration script exits 0 (pass), 77 (skipped: it must say why, loudly) or else (fail).
# Under a sanitizer build (make asan) every process a test starts (cleanops, the sandbox, the
# function bootstraps) writes its AddressSanitizer/LeakSanitizer/UBSan reports into
# BUILD/sanitizer/TEST/; a test that leaves any report there fails, whatever its exit code.
set -u
BUILD=${1:-build}
export BUILD
CLEANOPS=$(cd "$BUILD" && pwd)/cleanops
export CLEANOPS
ROOT=$(pwd)
export ROOT
SAN_DIR=$(cd "$BUILD" && pwd)/sanitizer
SAN_ASAN=${ASAN_OPTIONS:-}
SAN_UBSAN=${UBSAN_OPTIONS:-}
rm -rf "$SAN_DIR"
pass=0; fail=0; skip=0; failed=""; seen=""
mkdir -p "$BUILD/test-logs"
run_one() { # name, command...
	name=$1; shift
	log="$BUILD/test-logs/$name.log"
	san="$SAN_DIR/$name"
	mkdir -p "$san"
	ASAN_OPTIONS="${SAN_ASAN:+$SAN_ASAN:}halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$san/asan"
	UBSAN_OPTIONS="${SAN_UBSAN:+$SAN_UBSAN:}halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$san/ubsan"
	export ASAN_OPTIONS UBSAN_OPTIONS
	start=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	reports=$(find "$san" -type f 2>/dev/null | sort)
	# a report on a direct child's stderr counts too (gcc's UBSan ignores log_path next to ASan)
	if grep -Eq ': runtime error: |==[0-9]+==ERROR: [A-Za-z]+Sanitizer' "$log"; then
		reports="$reports $log"
	fi
	if [ -n "$reports" ]; then
		seen="$seen $reports"
		[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] && rc=98
		for r in $reports; do
			[ "$r" = "$log" ] || { echo "==== sanitizer report $r"; cat "$r"; } >>"$log"
		done
	fi
	case $rc in
	0) pass=$((pass + 1)); echo "PASS  $name (${secs}s)";;
	77) skip=$((skip + 1)); echo "SKIP  $name: $(grep -m1 'SKIP' "$log" || echo 'skipped')";;
	*) fail=$((fail + 1)); failed="$failed $name"; echo "FAIL  $name (exit $rc, ${secs}s); last lines of $log:"
	   [ -n "$reports" ] && echo "    sanitizer reports:" $reports
	   [ -n "$reports" ] && for r in $reports; do grep -m3 -E 'ERROR|SUMMARY|runtime error' "$r" | sed 's/^/    /'; done
	   tail -n 30 "$log" | sed 's/^/    /';;
	esac
}
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" "$t"
done
for t in tests/integration/*.sh tests/integration/*.py; do
	[ -f "$t" ] || continue
	case $t in *.py) run_one "$(basename "$t")" python3 "$t";; *) run_one "$(basename "$t")" sh "$t";; esac
done
# a report written after its test ended (a process that outlived it) fails the run too
for r in $(find "$SAN_DIR" -type f 2>/dev/null | sort); do
	case " $seen " in *" $r "*) continue;; esac
	fail=$((fail + 1)); failed="$failed $r"
	echo "FAIL  late sanitizer report $r:"
	grep -m3 -E 'ERROR|SUMMARY|runtime error' "$r" | sed 's/^/    /'
done
echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
