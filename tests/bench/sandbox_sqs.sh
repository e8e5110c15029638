#!/bin/sh
# sandbox_sqs.sh: SQS throughput, p99 latency and RSS of the sandbox vs moto_server, same load script, same run.
# Env: CLEANOPS (binary), SECONDS_PER_TEST (5), PROCS (4 load processes), FILL (100000 messages),
# MOTO_FILL (1000: moto stores slowly; its RSS is reported for that many).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CLEANOPS=${CLEANOPS:-$ROOT/cleanops}
DUR=${SECONDS_PER_TEST:-5}
PROCS=${PROCS:-4}
FILL=${FILL:-100000}
MOTO_FILL=${MOTO_FILL:-1000}
LOAD="python3 $ROOT/tests/bench/sqs_load.py"

if [ ! -x "$CLEANOPS" ]; then echo "SKIP: no cleanops binary at $CLEANOPS"; exit 77; fi
if ! command -v moto_server >/dev/null 2>&1; then echo "SKIP: moto_server is not installed"; exit 77; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DATA=$(mktemp -d /tmp/cleanops-bench-XXXXXX)
MOTO_PID=""
cleanup() {
	"$CLEANOPS" sandbox stop --data "$DATA" >/dev/null 2>&1
	[ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null && wait "$MOTO_PID" 2>/dev/null
	rm -rf "$DATA"
}
trap cleanup EXIT INT TERM

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

SPORT=$(free_port)
"$CLEANOPS" sandbox start --port "$SPORT" --data "$DATA" >/dev/null || { echo "FAIL: sandbox start"; exit 1; }
SPID=$(cat "$DATA/sandbox.pid")
MPORT=$(free_port)
moto_server -H 127.0.0.1 -p "$MPORT" >"$DATA/moto.log" 2>&1 &
MOTO_PID=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$MPORT/moto-api/"; do
	i=$((i + 1)); [ $i -gt 200 ] && { echo "FAIL: moto_server did not start"; exit 1; }
	sleep 0.1
done

run_peer() { # name endpoint pid fill -> sets R_SEND R_RECV R_RSS
	name=$1 ep=$2 pid=$3 fill=$4
	q=$($LOAD "$ep" bench create) || { echo "FAIL: $name CreateQueue"; exit 1; }
	bulk=$($LOAD "$ep" bulk create) || exit 1
	R_SEND=$($LOAD "$ep" "$q" send "$DUR" "$PROCS") || { echo "FAIL: $name send"; exit 1; }
	R_FILL=$($LOAD "$ep" "$bulk" fill "$fill" "$PROCS") || { echo "FAIL: $name fill"; exit 1; }
	R_RSS=$(rss_kb "$pid")
	R_RECV=$($LOAD "$ep" "$q" recvdel "$DUR" "$PROCS") || { echo "FAIL: $name recv"; exit 1; }
	echo "$name: SendMessage $R_SEND"
	echo "$name: Receive+Delete $R_RECV"
	echo "$name: filled $R_FILL; RSS $((R_RSS / 1024)) MB with $fill messages in one queue"
}

echo "SQS benchmark: $PROCS load processes, ${DUR}s per test, $(nproc) cores"
run_peer sandbox "http://127.0.0.1:$SPORT" "$SPID" "$FILL"
S_SEND=$R_SEND S_RECV=$R_RECV S_RSS=$R_RSS
run_peer moto "http://127.0.0.1:$MPORT" "$MOTO_PID" "$MOTO_FILL"
M_SEND=$R_SEND M_RECV=$R_RECV M_RSS=$R_RSS

python3 - "$S_SEND" "$S_RECV" "$M_SEND" "$M_RECV" "$S_RSS" "$M_RSS" "$FILL" "$MOTO_FILL" <<'EOF'
import json, sys
ss, sr, ms, mr = (json.loads(a) for a in sys.argv[1:5])
s_rss, m_rss, fill, mfill = (int(a) for a in sys.argv[5:9])
def ratio(a, b):
    return a / b if b else float("inf")
print()
print("%-22s %12s %12s %10s" % ("", "sandbox", "moto", "ratio"))
for name, s, m in (("SendMessage", ss, ms), ("Receive+Delete", sr, mr)):
    print("%-22s %10.0f/s %10.0f/s %9.1fx" % (name + " throughput", s["rps"], m["rps"], ratio(s["rps"], m["rps"])))
    print("%-22s %10.2fms %10.2fms %9.1fx" % (name + " p99", s["p99_ms"], m["p99_ms"], ratio(m["p99_ms"], s["p99_ms"])))
print("%-22s %10.1fMB %10.1fMB   (sandbox %d msgs, moto %d msgs)" % ("RSS", s_rss / 1024, m_rss / 1024, fill, mfill))
ok = ratio(ss["rps"], ms["rps"]) >= 10 and ratio(sr["rps"], mr["rps"]) >= 10
print("target >=10x moto throughput: %s; target <50 MB RSS with %d messages: %s" %
      ("met" if ok else "NOT met", fill, "met" if s_rss < 50 * 1024 else "NOT met"))
EOF
