#!/bin/sh
# tests/run.sh BUILD: run every unit test binary and integration script; print a summary.
# An integration script exits 0 (pass), 77 (skipped: it must say why, loudly) or else (fail).
set -u
BUILD=${1:-build}
export BUILD
CLEANOPS=$(cd "$BUILD" && pwd)/cleanops
export CLEANOPS
ROOT=$(pwd)
export ROOT
pass=0; fail=0; skip=0; failed=""
mkdir -p "$BUILD/test-logs"
run_one() { # name, command...
	name=$1; shift
	log="$BUILD/test-logs/$name.log"
	start=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); echo "PASS  $name (${secs}s)";;
	77) skip=$((skip + 1)); echo "SKIP  $name: $(grep -m1 'SKIP' "$log" || echo 'skipped')";;
	*) fail=$((fail + 1)); failed="$failed $name"; echo "FAIL  $name (exit $rc, ${secs}s); last lines of $log:"
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
echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
