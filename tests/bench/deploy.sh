#!/bin/sh
# tests/bench/deploy.sh: issue 6: deploy and destroy wall time of `cleanops deploy`/`destroy`
# against the same stack scripted with boto3 (deploy_boto3.py) and with the AWS CLI
# (peers/deploy_cli.sh), each on its own fresh sandbox; printed as ratios (targets: deploy >= 3x
# faster than boto3, >= 20x faster than the CLI). After each deploy `cleanops status` must
# find the stack healthy (the scripts built the same thing), after each destroy nothing left.
# Each contender runs REPEAT times (default 3; the CLI once: it takes a minute), every run on
# a fresh sandbox, and its best run counts (noise on a shared machine only adds time).
# Env: CLEANOPS, ROOT, BUILD, REPEAT.
set -u
ROOT=${ROOT:-$(pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
CLEANOPS=${CLEANOPS:-$BDIR/cleanops}

if [ ! -x "$CLEANOPS" ]; then echo "SKIP: no cleanops binary at $CLEANOPS"; exit 77; fi
if ! python3 -c 'import boto3' 2>/dev/null; then echo "SKIP: boto3 is not installed"; exit 77; fi
if ! command -v aws >/dev/null 2>&1; then echo "SKIP: the AWS CLI is not installed"; exit 77; fi
if [ ! -d "$BDIR/lambda/bin" ]; then echo "SKIP: no Lambda binaries in $BDIR/lambda/bin"; exit 77; fi

export AWS_ACCESS_KEY_ID=AKIDDEPLOYBENCH AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1 \
	AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent ROOT
unset AWS_PROFILE AWS_ENDPOINT_URL
TMP=$(mktemp -d /tmp/cleanops-bench-deploy-XXXXXX)
export XDG_STATE_HOME="$TMP/state" # cleanops' state file: never the user's
DATA=""
cleanup() {
	[ -n "$DATA" ] && "$CLEANOPS" sandbox stop --data "$DATA" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; } # not a python start: that would add ~20 ms to every contender
ZIPS="$TMP/zips"
"$CLEANOPS" package --bin "$BDIR/lambda/bin" --out "$ZIPS" >/dev/null || { echo "FAIL: cleanops package"; exit 1; }

# check_state URL healthy|empty: what `cleanops status` finds.
check_state() {
	"$CLEANOPS" status --json --endpoint "$1" --zips "$ZIPS" >"$TMP/status.json" 2>"$TMP/status.err"
	python3 - "$TMP/status.json" "$2" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
if sys.argv[2] == "healthy":
    bad = [(r["id"], r["state"], r.get("detail", "")) for r in doc["resources"]
           if r["state"] not in ("present", "not requested")]
    ok = doc["healthy"] and not bad
else:
    bad = [(r["id"], r["state"]) for r in doc["resources"] if r["state"] not in ("missing", "not requested")]
    ok = not bad
if not ok:
    print("status: %s" % bad)
sys.exit(0 if ok else 1)
EOF
}

REPEAT=${REPEAT:-3}

# run_once NAME DEPLOY_CMD DESTROY_CMD: a fresh sandbox, time both; sets T_DEPLOY T_DESTROY.
run_once() {
	name=$1 deploy_cmd=$2 destroy_cmd=$3
	DATA="$TMP/data-$name"
	rm -rf "$DATA"
	port=$(free_port)
	url="http://127.0.0.1:$port"
	"$CLEANOPS" sandbox start --port "$port" --data "$DATA" >/dev/null || { echo "FAIL: sandbox start"; exit 1; }
	t0=$(now)
	eval "$deploy_cmd" >"$TMP/$name-deploy.log" 2>&1 || { echo "FAIL: $name deploy"; tail -20 "$TMP/$name-deploy.log"; exit 1; }
	t1=$(now)
	check_state "$url" healthy || { echo "FAIL: $name deploy: the stack is not what cleanops deploy builds"; exit 1; }
	t2=$(now)
	eval "$destroy_cmd" >"$TMP/$name-destroy.log" 2>&1 || { echo "FAIL: $name destroy"; tail -20 "$TMP/$name-destroy.log"; exit 1; }
	t3=$(now)
	check_state "$url" empty || { echo "FAIL: $name destroy left resources"; exit 1; }
	"$CLEANOPS" sandbox stop --data "$DATA" >/dev/null 2>&1
	DATA=""
	T_DEPLOY=$(python3 -c "print(round($t1 - $t0, 2))")
	T_DESTROY=$(python3 -c "print(round($t3 - $t2, 2))")
	echo "$name: deploy ${T_DEPLOY}s, destroy ${T_DESTROY}s (load average $(cut -d' ' -f1 /proc/loadavg))"
}

# run_contender NAME RUNS DEPLOY_CMD DESTROY_CMD: the best of RUNS runs in T_DEPLOY T_DESTROY.
run_contender() {
	name=$1 runs=$2
	best_dep="" best_des=""
	n=0
	while [ $n -lt "$runs" ]; do
		run_once "$name" "$3" "$4"
		best_dep=$(python3 -c "print(min(x for x in ($T_DEPLOY, ${best_dep:-1e9})))")
		best_des=$(python3 -c "print(min(x for x in ($T_DESTROY, ${best_des:-1e9})))")
		n=$((n + 1))
	done
	T_DEPLOY=$best_dep T_DESTROY=$best_des
}

echo "deploy benchmark: $(nproc) cores, each contender on a fresh sandbox"
run_contender cleanops "$REPEAT" '"$CLEANOPS" deploy --yes --endpoint "$url" --zips "$ZIPS"' \
	'"$CLEANOPS" destroy --yes --endpoint "$url"'
C_DEP=$T_DEPLOY C_DES=$T_DESTROY
run_contender boto3 "$REPEAT" 'python3 "$ROOT/tests/bench/deploy_boto3.py" "$url" "$ZIPS" deploy' \
	'python3 "$ROOT/tests/bench/deploy_boto3.py" "$url" - destroy'
B_DEP=$T_DEPLOY B_DES=$T_DESTROY
run_contender cli 1 'sh "$ROOT/tests/bench/peers/deploy_cli.sh" "$url" "$ZIPS" deploy' \
	'sh "$ROOT/tests/bench/peers/deploy_cli.sh" "$url" - destroy'
A_DEP=$T_DEPLOY A_DES=$T_DESTROY

python3 - "$C_DEP" "$C_DES" "$B_DEP" "$B_DES" "$A_DEP" "$A_DES" <<'EOF'
import sys
c_dep, c_des, b_dep, b_des, a_dep, a_des = (float(a) for a in sys.argv[1:7])
r = lambda a, b: a / b if b > 0 else float("inf")
print()
print("%-10s %10s %10s %10s %14s %14s" % ("best run", "cleanops", "boto3", "aws cli", "vs boto3", "vs aws cli"))
print("%-10s %9.2fs %9.2fs %9.2fs %13.1fx %13.1fx" % ("deploy", c_dep, b_dep, a_dep, r(b_dep, c_dep), r(a_dep, c_dep)))
print("%-10s %9.2fs %9.2fs %9.2fs %13.1fx %13.1fx" % ("destroy", c_des, b_des, a_des, r(b_des, c_des), r(a_des, c_des)))
ok_b, ok_a = r(b_dep, c_dep) >= 3, r(a_dep, c_dep) >= 20
print("targets: deploy >= 3x faster than boto3: %s; >= 20x faster than the CLI: %s" %
      ("met" if ok_b else "NOT met", "met" if ok_a else "NOT met"))
print("note: figures from a shared machine are indicative; compare on a quiet one")
EOF
