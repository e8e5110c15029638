#!/bin/sh
# sandbox_ddb.sh: DynamoDB PutItem/GetItem throughput and p99 of the sandbox vs moto_server, same load script, same run.
# Env: CLEANOPS (binary), SECONDS_PER_TEST (5), PROCS (4 load processes).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CLEANOPS=${CLEANOPS:-$ROOT/cleanops}
DUR=${SECONDS_PER_TEST:-5}
PROCS=${PROCS:-4}
LOAD="python3 $ROOT/tests/bench/ddb_load.py"

if [ ! -x "$CLEANOPS" ]; then echo "SKIP: no cleanops binary at $CLEANOPS"; exit 77; fi
if ! command -v moto_server >/dev/null 2>&1; then echo "SKIP: moto_server is not installed"; exit 77; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DATA=$(mktemp -d /tmp/cleanops-bench-ddb-XXXXXX)
MOTO_PID=""
cleanup() {
	"$CLEANOPS" sandbox stop --data "$DATA" >/dev/null 2>&1
	[ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null && wait "$MOTO_PID" 2>/dev/null
	rm -rf "$DATA"
}
trap cleanup EXIT INT TERM

SPORT=$(free_port)
"$CLEANOPS" sandbox start --port "$SPORT" --data "$DATA" >/dev/null || { echo "FAIL: sandbox start"; exit 1; }
MPORT=$(free_port)
moto_server -H 127.0.0.1 -p "$MPORT" >"$DATA/moto.log" 2>&1 &
MOTO_PID=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$MPORT/moto-api/"; do
	i=$((i + 1)); [ $i -gt 200 ] && { echo "FAIL: moto_server did not start"; exit 1; }
	sleep 0.1
done

run_peer() { # name endpoint -> sets R_PUT R_GET
	name=$1 ep=$2
	$LOAD "$ep" benchorders create || { echo "FAIL: $name CreateTable"; exit 1; }
	R_PUT=$($LOAD "$ep" benchorders put "$DUR" "$PROCS") || { echo "FAIL: $name put"; exit 1; }
	R_GET=$($LOAD "$ep" benchorders get "$DUR" "$PROCS") || { echo "FAIL: $name get"; exit 1; }
	echo "$name: PutItem $R_PUT"
	echo "$name: GetItem $R_GET"
}

echo "DynamoDB benchmark: $PROCS load processes, ${DUR}s per test, $(nproc) cores"
run_peer sandbox "http://127.0.0.1:$SPORT"
S_PUT=$R_PUT S_GET=$R_GET
run_peer moto "http://127.0.0.1:$MPORT"
M_PUT=$R_PUT M_GET=$R_GET

python3 - "$S_PUT" "$S_GET" "$M_PUT" "$M_GET" <<'PY'
import json, sys
sp, sg, mp, mg = (json.loads(a) for a in sys.argv[1:5])
def ratio(a, b):
    return a / b if b else float("inf")
print()
print("%-22s %12s %12s %10s" % ("", "sandbox", "moto", "ratio"))
for name, s, m in (("PutItem", sp, mp), ("GetItem", sg, mg)):
    print("%-22s %10.0f/s %10.0f/s %9.1fx" % (name + " throughput", s["rps"], m["rps"], ratio(s["rps"], m["rps"])))
    print("%-22s %10.2fms %10.2fms %9.1fx" % (name + " p99", s["p99_ms"], m["p99_ms"], ratio(m["p99_ms"], s["p99_ms"])))
print("target >=10x moto PutItem throughput: %s" % ("met" if ratio(sp["rps"], mp["rps"]) >= 10 else "NOT met"))
PY
