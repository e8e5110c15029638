# lambda_package.py: the two Lambda zips, unzipped into empty dirs, run against a test Runtime API and moto.
"""Builds both zips with `cleanops package`, checks they are reproducible, then runs each
package's bootstrap with a minimal environment against a Runtime API served here and
AWS_ENDPOINT_URL pointing at a private moto_server:
- order-writer: valid, duplicate, redelivered and invalid records give exactly the right
  items and batchItemFailures; an AWS error marks the record failed; init error without
  ORDERS_TABLE; the process exits when /next answers 500.
- notifier: one publish per INSERT (seen through an SQS queue subscribed to the topic),
  MODIFY/REMOVE skipped, a failed publish reports the record's SequenceNumber.
Exit 0 pass, 77 skip (with a SKIP line), 1 fail."""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import CLEANOPS, BUILD, ROOT, soft_check as check, skip, free_port  # noqa: E402
from lambda_rapi import RuntimeAPI  # noqa: E402


def unzip(zpath, dest):
    """Extract with the unix modes the zip carries (zipfile ignores them)."""
    with zipfile.ZipFile(zpath) as z:
        for info in z.infolist():
            z.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o7777
            os.chmod(os.path.join(dest, info.filename), mode)


class Function:
    """A bootstrap process and the Runtime API it talks to."""

    def __init__(self, root, env):
        self.api = RuntimeAPI().start()
        self.log = tempfile.TemporaryFile()
        e = dict(env)
        e["AWS_LAMBDA_RUNTIME_API"] = self.api.address
        self.proc = subprocess.Popen([os.path.join(root, "bootstrap")], env=e, cwd="/",
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def logs(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.api.close()


def sqs_record(mid, body):
    # the shape of an SQS event record, as the Lambda documentation shows it
    return {"messageId": mid, "receiptHandle": "AQEB" + mid, "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183",
                           "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                           "ApproximateFirstReceiveTimestamp": "1545082649185"},
            "messageAttributes": {}, "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:POC-Queue",
            "awsRegion": "us-east-1"}


def stream_record(seq, name, image):
    rec = {"eventID": "id-" + seq, "eventVersion": "1.1", "eventName": name,
           "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
           "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000",
           "dynamodb": {"ApproximateCreationDateTime": 1704067200,
                        "Keys": {"orderID": image["orderID"]},
                        "SequenceNumber": seq, "SizeBytes": 100,
                        "StreamViewType": "NEW_IMAGE"}}
    if name != "REMOVE":
        rec["dynamodb"]["NewImage"] = image
    return rec


def tls_checks(root, tmp, creds, funcs, servers):
    """order-writer against moto_server over HTTPS with a self-signed certificate: trusted
    through AWS_CA_BUNDLE the order is stored; not trusted, the record fails and the
    certificate error is logged."""
    import ssl
    if not shutil.which("openssl"):
        check(False, "the openssl command is needed for the TLS checks")
        return
    cert, key = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    port = free_port()
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port), "-c", cert,
                             "-k", key], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers.append(moto)
    endpoint = "https://127.0.0.1:%d" % port
    ctx = ssl.create_default_context(cafile=cert)
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1, context=ctx)
            break
        except Exception:
            if time.time() > deadline or moto.poll() is not None:
                raise RuntimeError("moto_server (TLS) did not start")
            time.sleep(0.1)
    import boto3
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", verify=cert,
                       aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
    ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "orderID", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "orderID", "KeyType": "HASH"}])
    env = dict(creds, AWS_ENDPOINT_URL=endpoint, ORDERS_TABLE="orders")

    fn = Function(root, dict(env, AWS_CA_BUNDLE=cert))
    funcs.append(fn)
    r = fn.api.invoke({"Records": [sqs_record("m-tls", json.dumps({"orderID": "tls-1", "item": "x"}))]})
    check(r.kind == "response" and r.json() == {"batchItemFailures": []},
          "over HTTPS with the certificate trusted, the order is written: %s" % r.body[:200])
    got = ddb.get_item(TableName="orders", Key={"orderID": {"S": "tls-1"}}).get("Item")
    check(got is not None and got.get("item") == {"S": "x"}, "the TLS-written item is stored")

    fn = Function(root, env)
    funcs.append(fn)
    r = fn.api.invoke({"Records": [sqs_record("m-untrusted", json.dumps({"orderID": "tls-2", "item": "x"}))]})
    check(r.kind == "response" and r.json() == {"batchItemFailures": [{"itemIdentifier": "m-untrusted"}]},
          "an untrusted certificate fails the record: %s" % r.body[:200])
    logs = fn.logs().lower()
    check("certificate" in logs or "ssl" in logs, "the certificate error is logged")
    check("Item" not in ddb.get_item(TableName="orders", Key={"orderID": {"S": "tls-2"}}),
          "nothing is written over an untrusted connection")


def main():
    sb.need_binaries()
    bindir = os.path.join(ROOT, BUILD, "lambda", "bin")
    if subprocess.run([CLEANOPS, "package", "--help"], capture_output=True).returncode != 0:
        skip("this cleanops has no `package` command yet")
    if not shutil.which("moto_server"):
        skip("moto_server is not installed")
    try:
        import boto3
    except ImportError:
        skip("boto3 is not installed")

    tmp = tempfile.mkdtemp(prefix="cleanops-lambda-")
    moto = None
    funcs = []
    servers = []
    try:
        # --- packaging: two builds of the same tree give the same bytes
        out1, out2 = os.path.join(tmp, "out1"), os.path.join(tmp, "out2")
        p1 = subprocess.run([CLEANOPS, "package", "--bin", bindir, "--out", out1],
                            capture_output=True, text=True)
        print(p1.stdout + p1.stderr)
        check(p1.returncode == 0, "cleanops package exits 0")
        p2 = subprocess.run([CLEANOPS, "package", "--bin", bindir, "--out", out2],
                            capture_output=True, text=True)
        for z in ("POC-Lambda-1.zip", "POC-Lambda-2.zip"):
            a, b = os.path.join(out1, z), os.path.join(out2, z)
            check(os.path.exists(a) and open(a, "rb").read() == open(b, "rb").read(),
                  "%s is reproducible (same bytes twice)" % z)
            import base64
            import hashlib
            sha = base64.b64encode(hashlib.sha256(open(a, "rb").read()).digest()).decode()
            check(sha in p1.stdout and str(os.path.getsize(a)) in p1.stdout,
                  "%s: printed size and CodeSha256 match the file" % z)
            with zipfile.ZipFile(a) as zf:
                names = zf.namelist()
                boot = zf.getinfo("bootstrap")
                check(names == sorted(names), "%s: entries sorted" % z)
                check((boot.external_attr >> 16) & 0o777 == 0o755, "%s: bootstrap mode 0755" % z)
                check(all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist()),
                      "%s: fixed timestamps" % z)
            size = os.path.getsize(a)
            print("size %s: %d bytes" % (z, size))
            check(size < 5_000_000, "%s: under 5 MB (%d bytes)%s" % (
                z, size, "" if size < 5_000_000 else
                "; see build/fnlibs/build.log: the lean libcurl/libxml2 were not built"))

        roots = {}
        for z, name in (("POC-Lambda-1.zip", "writer"), ("POC-Lambda-2.zip", "notifier")):
            d = os.path.join(tmp, name)
            os.mkdir(d)
            unzip(os.path.join(out1, z), d)
            roots[name] = d

        # --- moto
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
                if time.time() > deadline or moto.poll() is not None:
                    raise RuntimeError("moto_server did not start")
                time.sleep(0.1)
        creds = {"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
                 "AWS_SESSION_TOKEN": "token", "AWS_REGION": "us-east-1"}
        kw = dict(endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
        ddb = boto3.client("dynamodb", **kw)
        sns = boto3.client("sns", **kw)
        sqs = boto3.client("sqs", **kw)
        ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "orderID", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "orderID", "KeyType": "HASH"}])
        # a minimal environment: no PATH, no HOME, no LAMBDA_TASK_ROOT
        base_env = dict(creds, AWS_ENDPOINT_URL=endpoint)

        # --- order-writer
        fn = Function(roots["writer"], dict(base_env, ORDERS_TABLE="orders"))
        funcs.append(fn)
        ddb.put_item(TableName="orders", Item={"orderID": {"S": "dup-1"}, "item": {"S": "old"}})
        long_item = "é" * 256  # 256 characters, 512 bytes: valid
        batch = [
            sqs_record("m-valid", json.dumps({"orderID": "o-1", "item": "widget", "quantity": 3,
                                              "customerID": "c-9"})),
            sqs_record("m-noid", json.dumps({"item": long_item})),
            sqs_record("m-dup", json.dumps({"orderID": "dup-1", "item": "new"})),
            sqs_record("m-notjson", "this is not json"),
            sqs_record("m-qty0", json.dumps({"item": "x", "quantity": 0})),
            sqs_record("m-long", json.dumps({"item": "a" * 257})),
            sqs_record("m-noitem", json.dumps({"quantity": 2})),
            sqs_record("m-array", "[1,2,3]"),
        ]
        r = fn.api.invoke({"Records": batch})
        got = r.json() if r.kind == "response" else None
        print("order-writer response:", r.kind, r.body[:500])
        want = {"m-notjson", "m-qty0", "m-long", "m-noitem", "m-array"}
        check(r.kind == "response" and isinstance(got, dict)
              and sorted(f["itemIdentifier"] for f in got.get("batchItemFailures", [])) == sorted(want),
              "order-writer reports exactly the invalid records in batchItemFailures")
        items = {i["orderID"]["S"]: i for i in ddb.scan(TableName="orders")["Items"]}
        check(sorted(items) == ["dup-1", "m-noid", "o-1"], "exactly the valid orders are stored: %s" % sorted(items))
        o1 = items.get("o-1", {})
        check(o1.get("item") == {"S": "widget"} and o1.get("quantity") == {"N": "3"}
              and o1.get("customerID") == {"S": "c-9"} and o1.get("messageId") == {"S": "m-valid"}
              and json.loads(o1.get("order", {}).get("S", "null")) == json.loads(batch[0]["body"])
              and o1.get("receivedAt") == {"S": "2018-12-17T21:37:29.183Z"},
              "o-1 has every attribute: %s" % o1)
        n = items.get("m-noid", {})
        check(n.get("item") == {"S": long_item} and n.get("quantity") == {"N": "1"}
              and "customerID" not in n, "an order without orderID is keyed by its message id")
        check(items.get("dup-1", {}).get("item") == {"S": "old"}, "a duplicate orderID is not overwritten")
        # a redelivery of the same message: success, still one item
        r = fn.api.invoke({"Records": [batch[1], batch[0]]})
        check(r.kind == "response" and r.json() == {"batchItemFailures": []},
              "a redelivered batch succeeds with no failures")
        check(ddb.scan(TableName="orders", Select="COUNT")["Count"] == 3, "redelivery makes no new item")
        # a malformed event is a function error, not a crash
        r = fn.api.invoke(b"not json at all")
        check(r.kind == "error" and json.loads(r.body).get("errorType") == "Runtime.InvalidEvent",
              "a non-JSON event gives a function error")
        logs = fn.logs()
        check("messageId=m-qty0 reason=" in logs and "messageId=m-notjson reason=" in logs,
              "each failed record has a log line with messageId and reason")
        # the runtime exits when /next answers 500
        fn.api.stop_runtime()
        try:
            rc = fn.proc.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc is not None, "order-writer exits after /next answers 500")

        # a runtime endpoint that is down at start and comes up later: retried with
        # backoff (no busy loop), then served
        rport = free_port()
        env = dict(base_env, ORDERS_TABLE="orders", AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % rport)
        log = tempfile.TemporaryFile()
        proc = subprocess.Popen([os.path.join(roots["writer"], "bootstrap")], env=env, cwd="/",
                                stdout=log, stderr=subprocess.STDOUT)
        time.sleep(1.0)  # the point of this check is what the runtime does while it waits
        log.seek(0)
        tries = log.read().decode("utf-8", "replace").count("/next failed")
        check(1 <= tries <= 10, "while the endpoint is down, /next is retried with backoff (%d tries in 1 s)" % tries)
        late = RuntimeAPI().start(rport)
        try:
            r = late.invoke({"Records": [batch[0]]}, timeout=10)
            check(r.kind == "response" and r.json() == {"batchItemFailures": []},
                  "once the endpoint is up the invocation is served")
        except TimeoutError:
            check(False, "once the endpoint is up the invocation is served")
        proc.kill()
        proc.wait()
        late.close()

        # an AWS error (no such table) marks the record failed
        fn = Function(roots["writer"], dict(base_env, ORDERS_TABLE="no-such-table"))
        funcs.append(fn)
        r = fn.api.invoke({"Records": [sqs_record("m-x", json.dumps({"item": "x"}))]})
        check(r.kind == "response" and r.json() == {"batchItemFailures": [{"itemIdentifier": "m-x"}]},
              "a PutItem error puts the record in batchItemFailures")
        check("messageId=m-x reason=PutItem failed" in fn.logs(), "the AWS error is logged")

        # init error: no ORDERS_TABLE
        fn = Function(roots["writer"], base_env)
        funcs.append(fn)
        try:
            rc = fn.proc.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc is not None and rc != 0 and len(fn.api.init_errors) == 1
              and b"ORDERS_TABLE" in fn.api.init_errors[0][1],
              "without ORDERS_TABLE it posts an init error and exits")

        # --- notifier
        topic = sns.create_topic(Name="POC-Topic")["TopicArn"]
        qurl = sqs.create_queue(QueueName="POC-Deliveries")["QueueUrl"]
        qarn = sqs.get_queue_attributes(QueueUrl=qurl, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # the queue policy that lets the topic deliver (AWS refuses deliveries without one)
        sqs.set_queue_attributes(QueueUrl=qurl, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": qarn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn,
                      Attributes={"RawMessageDelivery": "true"})
        fn = Function(roots["notifier"], dict(base_env, TOPIC_ARN=topic))
        funcs.append(fn)
        img1 = {"orderID": {"S": "o-1"}, "item": {"S": "widget"}, "quantity": {"N": "3"},
                "customerID": {"S": "c-9"}, "price": {"N": "12345678901234567890.125"}}
        img2 = {"orderID": {"S": "o-2"}, "item": {"S": "gadget"}, "quantity": {"N": "1"},
                "tags": {"SS": ["a", "b"]}, "gift": {"BOOL": True}}
        event = {"Records": [stream_record("100", "INSERT", img1),
                             stream_record("101", "MODIFY", img1),
                             stream_record("102", "INSERT", img2),
                             stream_record("103", "REMOVE", img2)]}
        r = fn.api.invoke(event)
        print("notifier response:", r.kind, r.body[:300])
        check(r.kind == "response" and r.json() == {"batchItemFailures": []},
              "notifier reports no failures")
        msgs = []
        deadline = time.time() + 10
        while len(msgs) < 3 and time.time() < deadline:
            got = sqs.receive_message(QueueUrl=qurl, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            msgs += [m["Body"] for m in got.get("Messages", [])]
        bodies = sorted(msgs)
        check(len(bodies) == 2, "one delivery per INSERT (got %d)" % len(bodies))
        want1 = '{"customerID":"c-9","item":"widget","orderID":"o-1","price":12345678901234567890.125,"quantity":3}'
        want2 = '{"gift":true,"item":"gadget","orderID":"o-2","quantity":1,"tags":["a","b"]}'
        check(bodies == sorted([want1, want2]), "deliveries carry the NewImage as plain JSON, numbers exact: %s" % bodies)
        # a failed publish (the topic is gone) reports the record's SequenceNumber
        fn2 = Function(roots["notifier"], dict(base_env, TOPIC_ARN=topic + "-missing"))
        funcs.append(fn2)
        r = fn2.api.invoke({"Records": [stream_record("200", "MODIFY", img1),
                                        stream_record("201", "INSERT", img1),
                                        stream_record("202", "INSERT", img2)]})
        check(r.kind == "response" and r.json() == {"batchItemFailures": [{"itemIdentifier": "201"}]},
              "a failed publish reports its SequenceNumber: %s" % r.body)

        # --- TLS: the functions' own libcurl and OpenSSL verify a server certificate
        tls_checks(roots["writer"], tmp, creds, funcs, servers)
    finally:
        for f in funcs:
            f.stop()
        for m in [moto] + servers:
            if m:
                m.kill()
                m.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if sb.FAILURES:
        print("%d checks failed" % len(sb.FAILURES))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
