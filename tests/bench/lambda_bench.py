# lambda_bench.py: cold start (exec -> first /next) and warm invocation time, C vs Python+boto3.
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

ROOT = os.environ.get("ROOT", os.getcwd())
BUILD = os.environ.get("BUILD", "build")
CLEANOPS = os.environ.get("CLEANOPS", os.path.join(ROOT, BUILD, "cleanops"))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from lambda_rapi import RuntimeAPI  # noqa: E402

COLD_RUNS_C = int(os.environ.get("LAMBDA_BENCH_COLD_C", "30"))
COLD_RUNS_PY = int(os.environ.get("LAMBDA_BENCH_COLD_PY", "5"))
WARM_RUNS = int(os.environ.get("LAMBDA_BENCH_WARM", "30"))

# The equivalent Python function: a custom runtime loop with a boto3 handler that does
# what order-writer does (validate, conditional PutItem, batchItemFailures).
PY_FUNCTION = r'''
import json, os, time, urllib.request
import boto3
ddb = boto3.client("dynamodb")
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
table = os.environ["ORDERS_TABLE"]
def handler(event):
    failures = []
    for r in event["Records"]:
        try:
            o = json.loads(r["body"])
            item = o["item"]; q = o.get("quantity", 1)
            if not isinstance(o, dict) or not isinstance(item, str) or not 1 <= len(item) <= 256 \
               or not isinstance(q, int) or not 1 <= q <= 10000:
                raise ValueError("invalid order")
        except Exception as e:
            print("messageId=%s reason=%s" % (r["messageId"], e))
            failures.append({"itemIdentifier": r["messageId"]}); continue
        it = {"orderID": {"S": o.get("orderID") or r["messageId"]}, "item": {"S": item},
              "quantity": {"N": str(q)}, "order": {"S": r["body"]},
              "receivedAt": {"S": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())},
              "messageId": {"S": r["messageId"]}}
        if o.get("customerID"):
            it["customerID"] = {"S": o["customerID"]}
        try:
            ddb.put_item(TableName=table, Item=it, ConditionExpression="attribute_not_exists(orderID)")
        except ddb.exceptions.ConditionalCheckFailedException:
            pass
        except Exception as e:
            print("messageId=%s reason=%s" % (r["messageId"], e))
            failures.append({"itemIdentifier": r["messageId"]})
    return {"batchItemFailures": failures}
while True:
    with urllib.request.urlopen(api + "next") as resp:
        rid = resp.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(resp.read())
    body = json.dumps(handler(event)).encode()
    urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=body, method="POST")).read()
'''


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def unzip(zpath, dest):
    with zipfile.ZipFile(zpath) as z:
        for info in z.infolist():
            z.extract(info, dest)
            os.chmod(os.path.join(dest, info.filename), (info.external_attr >> 16) & 0o7777)


def cold_start(argv, env, runs):
    """Milliseconds from spawning argv to its first GET /next, over runs fresh processes."""
    times = []
    for _ in range(runs):
        api = RuntimeAPI().start()
        e = dict(env, AWS_LAMBDA_RUNTIME_API=api.address)
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ok = api.first_next.wait(30)
        p.kill()
        p.wait()
        api.close()
        if not ok:
            raise RuntimeError("%s never called /next" % argv[0])
        times.append((api.first_next_at - t0) * 1000)
    return times


def batch(tag, i, valid):
    recs = []
    for k in range(10):
        mid = "%s-%d-%d" % (tag, i, k)
        body = json.dumps({"orderID": mid, "item": "widget", "quantity": 2}) if valid else "not json"
        recs.append({"messageId": mid, "receiptHandle": "h", "body": body,
                     "attributes": {"SentTimestamp": "1545082649183"}, "eventSource": "aws:sqs"})
    return {"Records": recs}


def warm(argv, env, tag, valid):
    """Median milliseconds from /next handing out a 10-record batch to the posted result."""
    api = RuntimeAPI().start()
    p = subprocess.Popen(argv, env=dict(env, AWS_LAMBDA_RUNTIME_API=api.address),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        api.invoke(batch(tag + "-warmup", 0, valid))
        times = []
        for i in range(WARM_RUNS):
            r = api.invoke(batch(tag, i, valid))
            if r.kind != "response" or (valid and r.json() != {"batchItemFailures": []}):
                raise RuntimeError("%s: unexpected result %s %s" % (tag, r.kind, r.body[:200]))
            times.append((r.done_at - r.delivered_at) * 1000)
        return times
    finally:
        p.kill()
        p.wait()
        api.close()


def med(xs):
    return statistics.median(xs)


def main():
    zips = os.path.join(ROOT, BUILD, "lambda")
    tmp = tempfile.mkdtemp(prefix="cleanops-bench-")
    moto = None
    try:
        r = subprocess.run([CLEANOPS, "package", "--bin", os.path.join(zips, "bin"), "--out", tmp],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("SKIP: cannot build the zips: " + (r.stderr or r.stdout).strip())
            return 0
        print(r.stdout.strip())
        root = os.path.join(tmp, "writer")
        os.mkdir(root)
        unzip(os.path.join(tmp, "POC-Lambda-1.zip"), root)
        pyfn = os.path.join(tmp, "function.py")
        with open(pyfn, "w") as f:
            f.write(PY_FUNCTION)

        port = free_port()
        moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        endpoint = "http://127.0.0.1:%d" % port
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        env = {"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
               "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_ENDPOINT_URL": endpoint, "ORDERS_TABLE": "orders",
               "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for k in ("PYENV_ROOT", "PYENV_VERSION", "HOME", "PYTHONPATH"):
            if k in os.environ:
                env[k] = os.environ[k]
        import boto3
        boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id="AKIDTEST", aws_secret_access_key="secret").create_table(
            TableName="orders", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "orderID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "orderID", "KeyType": "HASH"}])

        c_argv = [os.path.join(root, "bootstrap")]
        py_argv = [sys.executable, pyfn]
        c_cold = cold_start(c_argv, env, COLD_RUNS_C)
        py_cold = cold_start(py_argv, env, COLD_RUNS_PY)
        c_warm = warm(c_argv, env, "c", True)
        py_warm = warm(py_argv, env, "py", True)
        c_inv = warm(c_argv, env, "c-inv", False)
        py_inv = warm(py_argv, env, "py-inv", False)

        print("cold start (exec of bootstrap -> first /next), median of %d / %d runs:"
              % (COLD_RUNS_C, COLD_RUNS_PY))
        print("  C bootstrap      %8.2f ms (min %.2f, max %.2f)" % (med(c_cold), min(c_cold), max(c_cold)))
        print("  Python + boto3   %8.2f ms (min %.2f, max %.2f)" % (med(py_cold), min(py_cold), max(py_cold)))
        print("  ratio            %8.1fx faster   (target: C < 10 ms and >= 20x)"
              % (med(py_cold) / med(c_cold)))
        print("warm invocation, 10 records -> 10 conditional PutItems on moto, median of %d:" % WARM_RUNS)
        print("  C                %8.2f ms" % med(c_warm))
        print("  Python + boto3   %8.2f ms" % med(py_warm))
        print("  ratio            %8.1fx faster   (both wait on the same moto_server)"
              % (med(py_warm) / med(c_warm)))
        print("warm invocation, 10 invalid records (no AWS call: runtime + parsing only), median of %d:"
              % WARM_RUNS)
        print("  C                %8.3f ms" % med(c_inv))
        print("  Python           %8.3f ms" % med(py_inv))
        print("  ratio            %8.1fx faster" % (med(py_inv) / med(c_inv)))
        ok = med(c_cold) < 10 and med(py_cold) / med(c_cold) >= 20
        print("cold-start targets: %s" % ("met" if ok else "NOT met"))
        sizes = [os.path.getsize(os.path.join(tmp, z)) for z in ("POC-Lambda-1.zip", "POC-Lambda-2.zip")]
        print("zip sizes: %s (target: each under 5 MB): %s" % (
            ", ".join("%.2f MB" % (n / 1e6) for n in sizes),
            "met" if max(sizes) < 5_000_000 else "NOT met"))
        return 0
    finally:
        if moto:
            moto.kill()
            moto.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
