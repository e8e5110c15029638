#!/usr/bin/env python3
# sandbox_lambda.py: the sandbox's Lambda: control plane (boto3 and the AWS CLI), the real packaged functions, the executor.
"""Starts a private sandbox and checks, with boto3 and the AWS CLI:
- CreateFunction from our packaged zips (CodeSha256 / CodeSize exact), Get, List (paging),
  UpdateFunctionCode / Configuration, permissions, reserved concurrency, error codes;
- POC-Lambda-1 run for real on SQS events: a valid order lands in DynamoDB, an invalid one
  is reported in batchItemFailures; LogType Tail returns START/END/REPORT; Event and DryRun;
- a shell-script function: Timeout kills it (Sandbox.Timedout), a crash gives
  Runtime.ExitError and the next invoke works, an init error reaches the invoke, 8 parallel
  invokes with reserved concurrency 2 never run more than 2 processes, environments are reused;
- the logs in CloudWatch Logs (FilterLogEvents); DeleteFunction and sandbox stop leave no
  process behind.
Exit 0 pass, 77 skip, 1 fail."""
import base64
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import (  # noqa: E402
    CLEANOPS, BUILD, soft_check as check, free_port, error_status as error_of)

sb.need_boto3()
import boto3  # noqa: E402
import botocore.config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

TEST_BOOTSTRAP = r'''#!/bin/sh
# a test function speaking the Runtime API with curl
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
if [ "$MODE" = initerror ]; then
  echo "init failing on purpose"
  curl -sS -X POST "$API/init/error" -H 'Lambda-Runtime-Function-Error-Type: Test.InitError' \
    -d '{"errorMessage":"init failed on purpose","errorType":"Test.InitError"}' >/dev/null
  exit 1
fi
echo "init pid $$ greeting=$GREETING"
while true; do
  HDRS=$(mktemp)
  BODY=$(curl -sS -D "$HDRS" "$API/invocation/next") || exit 1
  ID=$(grep -i '^lambda-runtime-aws-request-id:' "$HDRS" | tr -d '\r' | awk '{print $2}')
  DEADLINE=$(grep -i '^lambda-runtime-deadline-ms:' "$HDRS" | tr -d '\r' | awk '{print $2}')
  rm -f "$HDRS"
  echo "event $BODY"
  case "$BODY" in
    *sleep*) S=$(echo "$BODY" | sed 's/.*"secs": *\([0-9.]*\).*/\1/'); sleep "$S" ;;
    *crash*) echo "crashing on purpose"; exit 3 ;;
    *fail*) curl -sS -X POST "$API/invocation/$ID/error" \
              -d '{"errorMessage":"it failed","errorType":"Test.Failure","stackTrace":[]}' >/dev/null
            continue ;;
  esac
  echo "done $ID"
  curl -sS -X POST "$API/invocation/$ID/response" \
    -d "{\"pid\": $$, \"greeting\": \"$GREETING\", \"deadline\": $DEADLINE, \"id\": \"$ID\", \"ak\": \"$AWS_ACCESS_KEY_ID\", \"sk\": \"$AWS_SECRET_ACCESS_KEY\", \"token\": \"$AWS_SESSION_TOKEN\", \"region\": \"$AWS_REGION\", \"endpoint\": \"$AWS_ENDPOINT_URL\", \"fname\": \"$AWS_LAMBDA_FUNCTION_NAME\", \"stream\": \"$AWS_LAMBDA_LOG_STREAM_NAME\"}" >/dev/null
done
'''


def sha_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def zip_bytes(entries):
    """entries: (name, bytes, mode)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3
            z.writestr(info, data)
    return buf.getvalue()


def sqs_event(*records):
    return {"Records": [
        {"messageId": mid, "receiptHandle": "AQEB" + mid, "body": body,
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183",
                        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                        "ApproximateFirstReceiveTimestamp": "1545082649185"},
         "messageAttributes": {}, "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
         "eventSource": "aws:sqs",
         "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:POC-Queue",
         "awsRegion": "us-east-1"} for mid, body in records]}


def group_leaders(under):
    """pids of process-group leaders whose working directory is under `under`."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % p)
            with open("/proc/%s/stat" % p) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] == "Z":
            continue
        if cwd.startswith(under) and int(fields[2]) == int(p):
            out.append(int(p))
    return out


def wait_until(cond, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def get_zips(tmp):
    bindir = os.path.join(BUILD, "lambda", "bin")
    if os.path.exists(os.path.join(bindir, "order-writer")):
        out = os.path.join(tmp, "zips")
        subprocess.run([CLEANOPS, "package", "--bin", bindir, "--out", out], check=True,
                       timeout=120, stdout=subprocess.DEVNULL)
        return out
    out = os.path.join(BUILD, "lambda")
    if os.path.exists(os.path.join(out, "POC-Lambda-1.zip")):
        return out
    print("SKIP: no Lambda binaries in %s (run make)" % bindir)
    sys.exit(77)


def main():
    if not os.access(CLEANOPS, os.X_OK):
        print("SKIP: no cleanops binary at %s" % CLEANOPS)
        return 77
    if not shutil.which("curl"):
        print("SKIP: curl is needed by the test function")
        return 77
    tmp = tempfile.mkdtemp(prefix="sbx-lambda-")
    data = os.path.join(tmp, "data")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    started = False

    def stop_sandbox(*_):
        if started:
            subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], timeout=60)

    signal.signal(signal.SIGTERM, lambda *a: (stop_sandbox(), sys.exit(1)))
    try:
        zips = get_zips(tmp)
        subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data],
                       check=True, timeout=30)
        started = True
        run(url, data, zips, tmp)
        stop_sandbox()
        started = False
        check(wait_until(lambda: not group_leaders(os.path.join(data, "lambda")), 10),
              "sandbox stop leaves no function process behind")
        # a sandbox killed with -9 leaves its environments; the next start kills them
        subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data],
                       check=True, timeout=30)
        started = True
        leftover = busy_function(url, data)
        with open(os.path.join(data, "sandbox.pid")) as f:
            os.kill(int(f.read().strip()), signal.SIGKILL)
        started = False
        check(leftover and all(os.path.exists("/proc/%d" % p) for p in leftover),
              "after kill -9 of the sandbox its busy environment still runs (%s)" % leftover)
        subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data],
                       check=True, timeout=30)
        started = True
        check(wait_until(lambda: not any(os.path.exists("/proc/%d" % p) and
                                         p in group_leaders(data) for p in leftover), 5),
              "the next start kills the environments a dead sandbox left")
    finally:
        stop_sandbox()
        leftovers = group_leaders(os.path.join(data, "lambda"))
        for pid in leftovers:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        if os.environ.get("KEEP_TMP"):
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if sb.FAILURES:
        print("%d check(s) failed" % len(sb.FAILURES))
        return 1
    return 0


def busy_function(url, data):
    """Start a 30 s invocation of sh-fn (Event) and return its environment's pid."""
    cfg = botocore.config.Config(read_timeout=60, retries={"max_attempts": 1})
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
              aws_secret_access_key="test", config=cfg)
    lam = boto3.client("lambda", **kw)
    logs = boto3.client("logs", **kw)
    lam.update_function_configuration(FunctionName="sh-fn", Timeout=60)
    lam.invoke(FunctionName="sh-fn", InvocationType="Event",
               Payload=b'{"action": "sleep", "secs": 30, "mark": "leftover"}')

    def sleeping():
        ev = logs.filter_log_events(logGroupName="/aws/lambda/sh-fn",
                                    filterPattern='"leftover"')["events"]
        return any(e["message"].startswith("event ") for e in ev)
    check(wait_until(sleeping, 15), "the long invocation started")
    return group_leaders(os.path.join(data, "lambda", "sh-fn") + "/")


def run(url, data, zips, tmp):
    cfg = botocore.config.Config(read_timeout=60, retries={"max_attempts": 1})
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
              aws_secret_access_key="test", config=cfg)
    lam = boto3.client("lambda", **kw)
    ddb = boto3.client("dynamodb", **kw)
    logs = boto3.client("logs", **kw)
    z1 = open(os.path.join(zips, "POC-Lambda-1.zip"), "rb").read()
    z2 = open(os.path.join(zips, "POC-Lambda-2.zip"), "rb").read()

    ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "orderID", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "orderID", "KeyType": "HASH"}])
    # the execution role, as on AWS: Lambda may assume it; it may log, store and publish
    iam = boto3.client("iam", **kw)
    iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))
    iam.attach_role_policy(RoleName="lambda-role", PolicyArn="arn:aws:iam::aws:policy/"
                           "service-role/AWSLambdaBasicExecutionRole")
    iam.put_role_policy(RoleName="lambda-role", PolicyName="orders", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:PutItem",
             "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/orders"},
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}))

    # ---- control plane ----
    c1 = lam.create_function(FunctionName="POC-Lambda-1", Runtime="provided.al2023",
                             Role=ROLE, Handler="order-writer", Code={"ZipFile": z1},
                             Timeout=10, MemorySize=256,
                             Environment={"Variables": {"ORDERS_TABLE": "orders"}})
    check(c1["ResponseMetadata"]["HTTPStatusCode"] == 201, "CreateFunction answers 201")
    check(c1["CodeSha256"] == sha_b64(z1) and c1["CodeSize"] == len(z1),
          "CodeSha256 and CodeSize are exact")
    check(c1["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:POC-Lambda-1",
          "FunctionArn")
    check(c1["State"] in ("Pending", "Active") and c1["Version"] == "$LATEST",
          "State and Version")
    lm = c1["LastModified"]
    check(len(lm) == 28 and lm[10] == "T" and lm.endswith("+0000"),
          "LastModified looks like AWS's: %s" % lm)
    lam.get_waiter("function_active_v2").wait(FunctionName="POC-Lambda-1",
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    c2 = lam.create_function(FunctionName="POC-Lambda-2", Runtime="provided.al2", Role=ROLE,
                             Handler="notifier", Code={"ZipFile": z2})
    check(c2["CodeSha256"] == sha_b64(z2) and c2["Timeout"] == 3 and c2["MemorySize"] == 128,
          "defaults: Timeout 3, MemorySize 128")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1")
    zpath = os.path.join(zips, "POC-Lambda-2.zip")
    cli = subprocess.run(["aws", "lambda", "create-function", "--endpoint-url", url,
                          "--function-name", "cli-fn", "--runtime", "provided.al2023",
                          "--role", ROLE, "--handler", "notifier",
                          "--zip-file", "fileb://" + zpath, "--output", "json"],
                         env=env, capture_output=True, text=True, timeout=60)
    out = json.loads(cli.stdout) if cli.returncode == 0 else {}
    check(out.get("CodeSha256") == sha_b64(z2) and out.get("CodeSize") == len(z2),
          "aws lambda create-function --zip-file fileb:// (%s)" % cli.stderr.strip()[:200])
    g = lam.get_function(FunctionName="POC-Lambda-1")
    check(g["Configuration"]["Environment"]["Variables"] == {"ORDERS_TABLE": "orders"}
          and g["Configuration"]["State"] == "Active"
          and g["Configuration"]["LastUpdateStatus"] == "Successful", "GetFunction")
    gc = lam.get_function_configuration(
        FunctionName="arn:aws:lambda:us-east-1:000000000000:function:POC-Lambda-1")
    check(gc["Handler"] == "order-writer" and gc["MemorySize"] == 256,
          "GetFunctionConfiguration by ARN")
    names = []
    for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1}):
        names += [f["FunctionName"] for f in page["Functions"]]
    check(names == ["POC-Lambda-1", "POC-Lambda-2", "cli-fn"], "ListFunctions pages: %s" % names)

    check(error_of(lam.get_function, FunctionName="nope") == ("ResourceNotFoundException", 404),
          "unknown function: ResourceNotFoundException 404")
    check(error_of(lam.create_function, FunctionName="POC-Lambda-2", Runtime="provided.al2",
                   Role=ROLE, Handler="h", Code={"ZipFile": z2})
          == ("ResourceConflictException", 409), "duplicate: ResourceConflictException 409")
    check(error_of(lam.create_function, FunctionName="x1", Runtime="python3.12", Role=ROLE,
                   Handler="h", Code={"ZipFile": z2})[0] == "InvalidParameterValueException",
          "an unsupported runtime is refused")
    check(error_of(lam.create_function, FunctionName="x2", Runtime="provided.al2023",
                   Role=ROLE, Handler="h", Code={"ZipFile": z2},
                   Environment={"Variables": {"AWS_REGION": "x"}})[0]
          == "InvalidParameterValueException", "a reserved variable is refused")
    check(error_of(lam.create_function, FunctionName="x3", Runtime="provided.al2023",
                   Role=ROLE, Handler="h", Code={"ZipFile": b"not a zip"})[0]
          == "InvalidParameterValueException", "not a zip is refused")
    slip = zip_bytes([("bootstrap", b"#!/bin/sh\n", 0o755), ("../../evil", b"x", 0o644)])
    check(error_of(lam.create_function, FunctionName="x4", Runtime="provided.al2023",
                   Role=ROLE, Handler="h", Code={"ZipFile": slip})[0]
          == "InvalidZipFileException", "a zip-slip entry is refused")
    check(not os.path.exists(os.path.join(data, "evil")) and
          not os.path.exists(os.path.join(data, "lambda", "evil")), "nothing written outside")
    check(error_of(lam.get_function, FunctionName="x4")[0] == "ResourceNotFoundException",
          "a refused function does not exist")

    # ---- POC-Lambda-1 for real ----
    ok = json.dumps({"orderID": "o-1", "item": "widget", "quantity": 3, "customerID": "c-9"})
    r = lam.invoke(FunctionName="POC-Lambda-1", LogType="Tail",
                   Payload=json.dumps(sqs_event(("m-1", ok))))
    body = json.loads(r["Payload"].read())
    tail = base64.b64decode(r.get("LogResult", "")).decode()
    check(r["StatusCode"] == 200 and "FunctionError" not in r and
          body == {"batchItemFailures": []}, "valid order: empty batchItemFailures (%s)" % body)
    item = ddb.get_item(TableName="orders", Key={"orderID": {"S": "o-1"}}).get("Item")
    check(item is not None and item.get("item") == {"S": "widget"}, "the order is in DynamoDB")
    check("START RequestId:" in tail and "END RequestId:" in tail and
          "REPORT RequestId:" in tail and "Init Duration:" in tail and
          "Max Memory Used:" in tail, "LogType Tail: START/END/REPORT with Init Duration")
    check("o-1" in tail, "LogType Tail has the function's own lines")
    check(r["ResponseMetadata"]["HTTPHeaders"].get("x-amz-executed-version") == "$LATEST",
          "X-Amz-Executed-Version")
    bad = "this is not json"
    r = lam.invoke(FunctionName="POC-Lambda-1", LogType="Tail",
                   Payload=json.dumps(sqs_event(("m-2", bad), ("m-3", json.dumps(
                       {"orderID": "o-2", "item": "gadget"})))))
    body = json.loads(r["Payload"].read())
    tail = base64.b64decode(r.get("LogResult", "")).decode()
    check(body == {"batchItemFailures": [{"itemIdentifier": "m-2"}]},
          "invalid order: batchItemFailures lists it (%s)" % body)
    check("Init Duration" not in tail, "the second invoke reuses the warm environment")
    r = lam.invoke(FunctionName="POC-Lambda-1", InvocationType="DryRun")
    check(r["StatusCode"] == 204, "DryRun: 204")
    r = lam.invoke(FunctionName="POC-Lambda-1", InvocationType="Event",
                   Payload=json.dumps(sqs_event(("m-4", json.dumps(
                       {"orderID": "o-async", "item": "thing"})))))
    check(r["StatusCode"] == 202, "Event: 202")
    check(wait_until(lambda: "Item" in ddb.get_item(TableName="orders",
                                                    Key={"orderID": {"S": "o-async"}}), 15),
          "the Event invocation ran")
    check(error_of(lam.invoke, FunctionName="POC-Lambda-1", Payload=b"{not json")[0]
          == "InvalidRequestContentException", "a payload that is not JSON is refused")

    def all_messages(group, pattern=None):
        msgs = []
        kw2 = dict(logGroupName=group)
        if pattern:
            kw2["filterPattern"] = pattern
        for page in logs.get_paginator("filter_log_events").paginate(**kw2):
            msgs += [e["message"] for e in page["events"]]
        return msgs

    msgs = all_messages("/aws/lambda/POC-Lambda-1")
    check(any(m.startswith("START RequestId:") for m in msgs) and
          any(m.startswith("REPORT RequestId:") for m in msgs) and
          any("o-1" in m and "stored" in m for m in msgs),
          "FilterLogEvents shows START/REPORT and the function's lines")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/POC-Lambda-1")["logStreams"]
    check(streams and all("/[$LATEST]" in s["logStreamName"] for s in streams),
          "log streams are named YYYY/MM/DD/[$LATEST]id")

    # ---- the shell-script function ----
    tz = zip_bytes([("bootstrap", TEST_BOOTSTRAP.encode(), 0o755)])
    lam.create_function(FunctionName="sh-fn", Runtime="provided.al2023", Role=ROLE,
                        Handler="x", Code={"ZipFile": tz}, Timeout=1,
                        Environment={"Variables": {"GREETING": "hello"}})
    fn_dir = os.path.join(data, "lambda", "sh-fn")
    r = lam.invoke(FunctionName="sh-fn", Payload=b'{"action": "echo"}')
    first = json.loads(r["Payload"].read())
    check(first.get("greeting") == "hello" and "FunctionError" not in r,
          "the script function answers with its Environment (%s)" % first)
    check(first.get("deadline", 0) > time.time() * 1000, "Lambda-Runtime-Deadline-Ms is ahead")
    check(first.get("region") == "us-east-1" and first.get("endpoint") == url and
          first.get("fname") == "sh-fn" and "/[$LATEST]" in first.get("stream", ""),
          "the Lambda environment variables")
    sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id=first.get("ak"), aws_secret_access_key=first.get("sk"),
                       aws_session_token=first.get("token"), config=cfg)
    who = sts.get_caller_identity()
    check(first.get("ak", "").startswith("ASIA") and
          who["Arn"] == "arn:aws:sts::000000000000:assumed-role/lambda-role/sh-fn",
          "the function's credentials map back to its role, session named after the "
          "function (%s)" % who["Arn"])
    t0 = time.time()
    r = lam.invoke(FunctionName="sh-fn", LogType="Tail", Payload=b'{"action": "sleep", "secs": 5}')
    took = time.time() - t0
    err = json.loads(r["Payload"].read())
    tail = base64.b64decode(r.get("LogResult", "")).decode()
    check(r.get("FunctionError") == "Unhandled" and err.get("errorType") == "Sandbox.Timedout"
          and "Task timed out after 1.00 seconds" in err.get("errorMessage", ""),
          "Timeout: Sandbox.Timedout (%s)" % err)
    check(took < 4, "the timeout kills it after ~1 s (took %.2f s)" % took)
    check("Task timed out after 1.00 seconds" in tail, "the timeout is in the log")
    r = lam.invoke(FunctionName="sh-fn", Payload=b'{"action": "echo"}')
    after = json.loads(r["Payload"].read())
    check("FunctionError" not in r and after.get("pid") not in (None, first.get("pid")),
          "after a timeout a new environment answers")
    r = lam.invoke(FunctionName="sh-fn", Payload=b'{"action": "crash"}')
    err = json.loads(r["Payload"].read())
    check(r.get("FunctionError") == "Unhandled" and err.get("errorType") == "Runtime.ExitError"
          and "exit status 3" in err.get("errorMessage", ""), "crash: Runtime.ExitError (%s)" % err)
    r = lam.invoke(FunctionName="sh-fn", Payload=b'{"action": "echo"}')
    check("FunctionError" not in r and json.loads(r["Payload"].read()).get("greeting") == "hello",
          "after a crash the next invoke works")
    r = lam.invoke(FunctionName="sh-fn", Payload=b'{"action": "fail"}')
    err = json.loads(r["Payload"].read())
    check(r.get("FunctionError") == "Unhandled" and err.get("errorType") == "Test.Failure",
          "a posted error: X-Amz-Function-Error and the error body")

    # reserved concurrency 2: 8 parallel invokes, never more than 2 processes
    lam.update_function_configuration(FunctionName="sh-fn", Timeout=10)
    lam.put_function_concurrency(FunctionName="sh-fn", ReservedConcurrentExecutions=2)
    check(lam.get_function_concurrency(FunctionName="sh-fn").get(
        "ReservedConcurrentExecutions") == 2, "Put/GetFunctionConcurrency")
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], len(group_leaders(fn_dir + "/")))
            time.sleep(0.01)

    results = []
    lock = threading.Lock()

    def one():
        c = boto3.client("lambda", **kw)
        try:
            rr = c.invoke(FunctionName="sh-fn", Payload=b'{"action": "sleep", "secs": 0.3}')
            res = (rr.get("FunctionError"), json.loads(rr["Payload"].read()).get("pid"))
        except ClientError as e:
            res = (e.response["Error"]["Code"], None)
        with lock:
            results.append(res)

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    sampler.join()
    pids = {p for e, p in results if p}
    check(len(results) == 8 and all(e is None for e, _ in results),
          "8 parallel invokes all ran (%s)" % results)
    check(peak[0] <= 2 and len(pids) <= 2, "never more than 2 processes (peak %d, pids %s)"
          % (peak[0], pids))
    lam.delete_function_concurrency(FunctionName="sh-fn")
    check(lam.get_function_concurrency(FunctionName="sh-fn").get(
        "ReservedConcurrentExecutions") is None, "DeleteFunctionConcurrency")
    lam.put_function_concurrency(FunctionName="sh-fn", ReservedConcurrentExecutions=0)
    check(error_of(lam.invoke, FunctionName="sh-fn", Payload=b"{}") ==
          ("TooManyRequestsException", 429), "reserved concurrency 0 throttles: 429")
    lam.delete_function_concurrency(FunctionName="sh-fn")

    # updates stop the old environments
    before = set(group_leaders(fn_dir + "/"))
    u = lam.update_function_configuration(FunctionName="sh-fn",
                                          Environment={"Variables": {"GREETING": "bonjour"}})
    check(u["Environment"]["Variables"] == {"GREETING": "bonjour"} and
          u["RevisionId"] != first.get("rev"), "UpdateFunctionConfiguration")
    check(wait_until(lambda: not (before & set(group_leaders(fn_dir + "/"))), 5),
          "an update stops the old environments")
    r = lam.invoke(FunctionName="sh-fn", Payload=b'{"action": "echo"}')
    check(json.loads(r["Payload"].read()).get("greeting") == "bonjour",
          "the next invoke sees the new configuration")
    tz2 = zip_bytes([("bootstrap", TEST_BOOTSTRAP.replace("$GREETING", "v2-$GREETING")
                      .encode(), 0o755)])
    u = lam.update_function_code(FunctionName="sh-fn", ZipFile=tz2)
    check(u["CodeSha256"] == sha_b64(tz2) and u["CodeSize"] == len(tz2), "UpdateFunctionCode")
    r = lam.invoke(FunctionName="sh-fn", Payload=b'{"action": "echo"}')
    check(json.loads(r["Payload"].read()).get("greeting") == "v2-bonjour",
          "the next invoke runs the new code")

    # an init error reaches the invoke
    lam.update_function_configuration(FunctionName="sh-fn",
                                      Environment={"Variables": {"MODE": "initerror"}})
    r = lam.invoke(FunctionName="sh-fn", Payload=b"{}")
    err = json.loads(r["Payload"].read())
    check(r.get("FunctionError") == "Unhandled" and err.get("errorType") == "Test.InitError",
          "an init error is returned to the invoke (%s)" % err)
    msgs = all_messages("/aws/lambda/sh-fn")
    check(any("crashing on purpose" in m for m in msgs) and
          any("Task timed out after 1.00 seconds" in m for m in msgs),
          "the script's lines and the timeout are in CloudWatch Logs")

    # permissions
    p = lam.add_permission(FunctionName="POC-Lambda-1", StatementId="apigw", Action=
                           "lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                           SourceArn="arn:aws:execute-api:us-east-1:000000000000:abc/*")
    st = json.loads(p["Statement"])
    check(st["Sid"] == "apigw" and st["Principal"] == {"Service": "apigateway.amazonaws.com"},
          "AddPermission")
    check(error_of(lam.add_permission, FunctionName="POC-Lambda-1", StatementId="apigw",
                   Action="lambda:InvokeFunction", Principal="sns.amazonaws.com")[0]
          == "ResourceConflictException", "a duplicate StatementId: 409")
    pol = json.loads(lam.get_policy(FunctionName="POC-Lambda-1")["Policy"])
    check([s["Sid"] for s in pol["Statement"]] == ["apigw"], "GetPolicy")
    lam.remove_permission(FunctionName="POC-Lambda-1", StatementId="apigw")
    check(error_of(lam.get_policy, FunctionName="POC-Lambda-1")[0] ==
          "ResourceNotFoundException", "RemovePermission empties the policy")

    # delete stops the processes
    r = lam.invoke(FunctionName="POC-Lambda-1", Payload=json.dumps(sqs_event()))
    p1_dir = os.path.join(data, "lambda", "POC-Lambda-1")
    check(len(group_leaders(p1_dir + "/")) >= 1, "POC-Lambda-1 has a warm environment")
    d = lam.delete_function(FunctionName="POC-Lambda-1")
    check(d["ResponseMetadata"]["HTTPStatusCode"] in (200, 204), "DeleteFunction")
    check(wait_until(lambda: not group_leaders(p1_dir + "/"), 5),
          "DeleteFunction leaves no bootstrap running")
    check(not os.path.exists(p1_dir), "DeleteFunction removes the code")
    check(error_of(lam.invoke, FunctionName="POC-Lambda-1", Payload=b"{}")[0]
          == "ResourceNotFoundException", "invoking a deleted function: 404")
    # leave an environment running for the stop check
    lam.invoke(FunctionName="sh-fn", Payload=b"{}")
    lam.update_function_configuration(FunctionName="sh-fn", Environment={"Variables": {}})
    lam.invoke(FunctionName="sh-fn", Payload=b'{"action": "echo"}')
    check(len(group_leaders(fn_dir + "/")) == 1, "one warm environment before stop")


if __name__ == "__main__":
    sys.exit(main())
