#!/usr/bin/env python3
# order_watch.py: `cleanops order` and `cleanops watch` against a private sandbox: first through
# a stand-in API (a local HTTP server that stores and publishes like the pipeline), then, when
# the sandbox runs API Gateway and Lambda, through the deployed stack's real invoke URL.
import http.server
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import CLEANOPS, check, free_port  # noqa: E402

sb.need_boto3()
from botocore.exceptions import ClientError, EndpointConnectionError  # noqa: E402

ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDORDERTEST", AWS_SECRET_ACCESS_KEY="secret",
           AWS_REGION="us-east-1", AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
ENV.pop("AWS_PROFILE", None)
ENV.pop("AWS_ENDPOINT_URL", None)


def client(url, service):
    return sb.client(url, service, key="AKIDORDERTEST", attempts=2)


def run(args, timeout=120):
    p = subprocess.run([CLEANOPS] + args, capture_output=True, text=True, timeout=timeout, env=ENV)
    return p.returncode, p.stdout, p.stderr


def answers(fn):
    """True when the sandbox implements the call (any answer but 'unknown operation/404')."""
    try:
        fn()
        return True
    except ClientError as e:
        code = e.response["Error"]["Code"]
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code not in ("UnknownOperationException", "UnknownOperation", "NotImplemented",
                            "InvalidAction", "404") and status not in (404, 501)
    except EndpointConnectionError:
        return False


# ---- the stand-in pipeline: the resources the engine reads, and an API that feeds them ----

def make_resources(url):
    ddb, sqs, sns = client(url, "dynamodb"), client(url, "sqs"), client(url, "sns")
    ddb.create_table(TableName="orders", KeySchema=[{"AttributeName": "orderID", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "orderID", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    for q in ("POC-Queue", "POC-Queue-DLQ", "POC-Stream-Failures"):
        sqs.create_queue(QueueName=q)
    dq = sqs.create_queue(QueueName="POC-Deliveries")["QueueUrl"]
    darn = sqs.get_queue_attributes(QueueUrl=dq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="POC-Topic")["TopicArn"]
    # the queue policy that lets the topic deliver (AWS refuses deliveries without one)
    sqs.set_queue_attributes(QueueUrl=dq, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": darn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=darn,
                  Attributes={"RawMessageDelivery": "true"})
    return topic


class FakeApi(http.server.BaseHTTPRequestHandler):
    """POST /: validate like the API's model, store like POC-Lambda-1, publish like POC-Lambda-2."""
    protocol_version = "HTTP/1.1"
    ddb = sns = topic = None

    def log_message(self, *a):
        pass

    def answer(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        try:
            order = json.loads(raw)
            ok = isinstance(order, dict) and isinstance(order.get("item"), str) and order["item"]
        except ValueError:
            ok = False
        if not ok:
            self.answer(400, {"message": "Invalid request body"})
            return
        mid = str(uuid.uuid4())
        item = {"orderID": {"S": order.get("orderID") or mid}, "item": {"S": order["item"]},
                "quantity": {"N": str(order.get("quantity", 1))}, "order": {"S": raw},
                "messageId": {"S": mid}}
        self.ddb.put_item(TableName="orders", Item=item)
        self.sns.publish(TopicArn=self.topic, Subject="New Order Notification",
                         MessageStructure="json", Message=json.dumps(
                             {"default": json.dumps(item), "email": "order " + item["orderID"]["S"]}))
        self.answer(200, {"SendMessageResponse": {"SendMessageResult": {"MessageId": mid}}})


def start_fake_api(url, topic):
    FakeApi.ddb, FakeApi.sns, FakeApi.topic = client(url, "dynamodb"), client(url, "sns"), topic
    http.server.ThreadingHTTPServer.request_queue_size = 128  # 8 workers connect at once
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d/" % srv.server_address[1]


# ---- the checks, shared by both pipelines ----

def check_burst(common, label):
    rc, out, err = run(["order"] + common + ["--count", "100", "--concurrency", "8", "--wait=60", "--json"])
    check(rc == 0, "%s: order --count 100 --wait exits 0 (rc %d, stderr %s)" % (label, rc, err))
    doc = json.loads(out)
    check(list(doc) == ["submitted", "accepted", "rejected", "failed", "stored", "notified",
                        "elapsed_s", "latency_ms"], "%s: the contract's keys in order: %s" % (label, list(doc)))
    for k, v in (("submitted", 100), ("accepted", 100), ("rejected", 0), ("failed", 0),
                 ("stored", 100), ("notified", 100)):
        check(doc[k] == v, "%s: %s is %s, want %d" % (label, k, doc[k], v))
    lat = doc["latency_ms"]
    check(sorted(lat) == ["max", "p50", "p95", "p99"], "%s: latency keys %s" % (label, lat))
    check(0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"] < 60000, "%s: latency order %s" % (label, lat))
    check(doc["elapsed_s"] > 0, "%s: elapsed %s" % (label, doc["elapsed_s"]))
    print("%s: %s" % (label, out.strip()))
    return doc


def check_rejection(common, ddb, label):
    before = ddb.scan(TableName="orders", Select="COUNT")["Count"]
    rc, out, err = run(["order"] + common + ["--body", "{\"quantity\": 3}", "--json"])
    check(rc != 0, "%s: a rejected order exits non-zero" % label)
    doc = json.loads(out)
    check(doc["rejected"] == 1 and doc["accepted"] == 0 and doc["submitted"] == 1,
          "%s: rejected 1: %s" % (label, doc))
    check("stored" not in doc and "latency_ms" not in doc, "%s: no wait keys without --wait" % label)
    check("400" in err and "message" not in err.lower().split("rejected:")[0],
          "%s: the API's status on stderr: %s" % (label, err))
    check(len(err.split("400:", 1)[-1].strip()) > 0, "%s: the API's message shown: %s" % (label, err))
    rc, out, err = run(["order"] + common + ["--body", "not json at all"])
    check(rc != 0 and "rejected" in out and "400" in out, "%s: human summary of a rejection: %s" % (label, out))
    time.sleep(0.5)  # an accepted-by-mistake order would be stored within this
    check(ddb.scan(TableName="orders", Select="COUNT")["Count"] == before, "%s: rejected orders never stored" % label)


def check_raw_follow(common, label):
    # without orderID: followed by the SQS MessageId the API answers (the item's orderID)
    rc, out, err = run(["order"] + common + ["--body", json.dumps({"item": "anon", "quantity": 2}),
                                             "--count", "3", "--wait=30", "--json"])
    doc = json.loads(out)
    check(rc == 0 and doc["stored"] == 3 and doc["notified"] == 3,
          "%s: raw bodies without orderID followed by MessageId: %s %s" % (label, doc, err))
    # the same orderID three times: one order, sent three times, all share its fate
    oid = "dup-" + str(uuid.uuid4())
    rc, out, err = run(["order"] + common + ["--body", json.dumps({"orderID": oid, "item": "d", "quantity": 1}),
                                             "--count", "3", "--concurrency", "3", "--wait=30", "--json"])
    doc = json.loads(out)
    check(rc == 0 and doc["accepted"] == 3 and doc["stored"] == 3 and doc["notified"] == 3,
          "%s: a repeated orderID is followed once: %s %s" % (label, doc, err))


def check_rate(common, label):
    rc, out, err = run(["order"] + common + ["--count", "21", "--rate", "40", "--concurrency", "4", "--json"])
    doc = json.loads(out)
    check(rc == 0 and doc["accepted"] == 21, "%s: rate-limited burst accepted: %s %s" % (label, doc, err))
    # 21 orders at 40/s: the last leaves 0.5 s after the first
    check(0.45 <= doc["elapsed_s"] < 5, "%s: --rate 40 paces 21 orders over ~0.5 s, took %s" % (label, doc["elapsed_s"]))


def read_events(proc, pred, timeout):
    """Read JSON lines from proc.stdout until pred(event) holds; returns the events read."""
    seen, buf, deadline = [], b"", time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            ev = json.loads(line)
            check(set(ev) >= {"time", "kind", "source", "detail"}, "event shape %s" % ev)
            seen.append(ev)
            if pred(ev, seen):
                return seen
    return seen


def check_watch(common, order_args, label, logs, put_log=None):
    proc = subprocess.Popen([CLEANOPS, "watch", "--json"] + common, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV)
    try:
        # the queue counters come first: the monitor is up
        evs = read_events(proc, lambda e, s: e["kind"] == "queue" and e["source"] == "POC-Stream-Failures", 15)
        check(any(e["kind"] == "queue" for e in evs), "%s: watch reports queue counters: %s" % (label, evs))
        oid = "watch-" + str(uuid.uuid4())
        rc, out, err = run(["order"] + order_args + ["--body", json.dumps({"orderID": oid, "item": "lamp"})])
        check(rc == 0, "%s: the watched order was accepted: %s %s" % (label, out, err))
        if put_log:
            put_log(oid)

        def done(e, s):
            kinds = {x["kind"] for x in s if x.get("orderID") == oid or oid in x["detail"]}
            return {"item", "delivery"} <= kinds and (not logs or "log" in kinds or
                                                      any(x["kind"] == "log" for x in s))
        evs += read_events(proc, done, 30)
        mine = [e for e in evs if e.get("orderID") == oid or oid in e["detail"]]
        kinds = {e["kind"] for e in mine}
        check("item" in kinds, "%s: watch shows the stream record: %s" % (label, evs[-10:]))
        check("delivery" in kinds, "%s: watch shows the SNS delivery: %s" % (label, evs[-10:]))
        if logs:
            check(any(e["kind"] == "log" for e in evs), "%s: watch tails the functions' logs" % label)
        item = [e for e in mine if e["kind"] == "item"][0]
        check(item["detail"].startswith("INSERT") and "lamp" in item["detail"], "item detail %s" % item)
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=15)
        check(rc == 0, "%s: watch exits 0 on SIGINT (rc %d, %s)" % (label, rc, proc.stderr.read()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def stand_in(url):
    ddb, logs = client(url, "dynamodb"), client(url, "logs")
    topic = make_resources(url)
    srv, api = start_fake_api(url, topic)
    try:
        common = ["--endpoint", url, "--url", api]
        check_burst(common, "stand-in")
        check_rejection(common, ddb, "stand-in")
        check_raw_follow(common, "stand-in")
        check_rate(common, "stand-in")
        rc, out, err = run(["order"] + common + ["--url", "http://127.0.0.1:%d/" % free_port(), "--json"])
        doc = json.loads(out)
        check(rc != 0 and doc["failed"] == 1, "no answer counts as failed: %s %s" % (doc, err))
        rc, out, err = run(["order", "--endpoint", url, "--count", "1"])
        check(rc != 0 and err.startswith("error: "), "no API: an error: %s" % err)
        if answers(lambda: client(url, "apigateway").get_rest_apis()):
            check("POC-API" in err and "deploy" in err, "no API deployed: named in the error: %s" % err)
        logs.create_log_group(logGroupName="/aws/lambda/POC-Lambda-1")
        logs.create_log_stream(logGroupName="/aws/lambda/POC-Lambda-1", logStreamName="s1")

        def put_log(oid):
            logs.put_log_events(logGroupName="/aws/lambda/POC-Lambda-1", logStreamName="s1",
                                logEvents=[{"timestamp": int(time.time() * 1000),
                                            "message": "stored order %s\n" % oid}])
        check_watch(["--endpoint", url], common, "stand-in", True, put_log)
    finally:
        srv.shutdown()


ORDER_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#", "title": "Order", "type": "object",
    "required": ["item"],
    "properties": {"orderID": {"type": "string"},
                   "item": {"type": "string", "minLength": 1, "maxLength": 256},
                   "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
                   "customerID": {"type": "string"}},
}


def wait_for(what, fn, timeout=30.0):
    """Poll control-plane state that has no notification (function/mapping states)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return
        time.sleep(0.1)
    check(False, "timed out waiting for " + what)


def make_role(iam, name, service, statements):
    """A role the service may assume, with one inline policy (the sandbox enforces IAM)."""
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName=name, PolicyName="main", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": acts, "Resource": res} for acts, res in statements]}))


def wire_by_hand(url, zips):
    """The seed's pipeline with boto3, for when `cleanops deploy` is not there yet."""
    lam, apigw, iam = client(url, "lambda"), client(url, "apigateway"), client(url, "iam")
    topic = make_resources(url)
    stream = client(url, "dynamodb").describe_table(TableName="orders")["Table"]["LatestStreamArn"]
    acct = "arn:aws:sqs:us-east-1:000000000000:"
    table = "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
    logs = (["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "*")
    make_role(iam, "POC-Lambda-1", "lambda.amazonaws.com", [
        (["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], acct + "POC-Queue"),
        (["dynamodb:PutItem"], table), logs])
    make_role(iam, "POC-Lambda-2", "lambda.amazonaws.com", [
        (["dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream",
          "dynamodb:ListStreams"], stream), (["sns:Publish"], topic), logs])
    make_role(iam, "APIGateway-SQS", "apigateway.amazonaws.com",
              [(["sqs:SendMessage"], acct + "POC-Queue")])
    for name, env in (("POC-Lambda-1", {"ORDERS_TABLE": "orders"}),
                      ("POC-Lambda-2", {"TOPIC_ARN": topic})):
        lam.create_function(FunctionName=name, Runtime="provided.al2023", Handler="bootstrap",
                            Role="arn:aws:iam::000000000000:role/" + name, Timeout=10,
                            Code={"ZipFile": open(os.path.join(zips, name + ".zip"), "rb").read()},
                            Environment={"Variables": env})
        wait_for(name + " Active", lambda n=name: lam.get_function(FunctionName=n)[
            "Configuration"]["State"] == "Active")
    lam.create_event_source_mapping(FunctionName="POC-Lambda-1", EventSourceArn=acct + "POC-Queue",
                                    BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
    lam.create_event_source_mapping(FunctionName="POC-Lambda-2", EventSourceArn=stream,
                                    StartingPosition="TRIM_HORIZON", BatchSize=100,
                                    FunctionResponseTypes=["ReportBatchItemFailures"])
    api = apigw.create_rest_api(name="POC-API")
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="orders")
    apigw.create_model(restApiId=api["id"], name="Order", contentType="application/json",
                       schema=json.dumps(ORDER_SCHEMA))
    v = apigw.create_request_validator(restApiId=api["id"], name="body", validateRequestBody=True)
    apigw.put_method(restApiId=api["id"], resourceId=res["id"], httpMethod="POST",
                     authorizationType="NONE", requestValidatorId=v["id"],
                     requestModels={"application/json": "Order"})
    apigw.put_integration(
        restApiId=api["id"], resourceId=res["id"], httpMethod="POST", type="AWS",
        integrationHttpMethod="POST", uri="arn:aws:apigateway:us-east-1:sqs:path/000000000000/POC-Queue",
        credentials="arn:aws:iam::000000000000:role/APIGateway-SQS",
        requestParameters={"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
        requestTemplates={"application/json": "Action=SendMessage&MessageBody=$input.body"},
        passthroughBehavior="NEVER")
    apigw.put_method_response(restApiId=api["id"], resourceId=res["id"], httpMethod="POST", statusCode="200")
    apigw.put_integration_response(restApiId=api["id"], resourceId=res["id"], httpMethod="POST",
                                   statusCode="200", selectionPattern="")
    apigw.create_deployment(restApiId=api["id"], stageName="prod")


def real_pipeline(url, zips):
    if "\n  deploy " in run(["--help"])[1]:
        print("deploying with cleanops deploy")
        rc, out, err = run(["deploy", "--yes", "--endpoint", url, "--zips", zips], timeout=300)
        if rc != 0:
            return "cleanops deploy failed on the sandbox (rc %d): %s" % (rc, (err or out)[-300:])
    else:
        print("no deploy command yet: wiring the pipeline by hand with boto3")
        wire_by_hand(url, zips)
    common = ["--endpoint", url]
    check_burst(common, "deployed")
    check_rejection(common, client(url, "dynamodb"), "deployed")
    check_raw_follow(common, "deployed")
    check_watch(common, common, "deployed", True)
    return None


def main():
    if not os.access(CLEANOPS, os.X_OK):
        print("FAIL: no cleanops binary at %s" % CLEANOPS)
        return 1
    data = tempfile.mkdtemp(prefix="cleanops-order-")
    ENV["XDG_STATE_HOME"] = data + "-state"  # deploy's state file: never the user's
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    skip = None
    try:
        subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data],
                       check=True, timeout=30, env=ENV)
        stand_in(url)
        missing = []
        if not answers(lambda: client(url, "apigateway").get_rest_apis()):
            missing.append("API Gateway (GetRestApis)")
        if not answers(lambda: client(url, "lambda").create_function(
                FunctionName="probe", Runtime="provided.al2023", Role="arn:aws:iam::000000000000:role/x",
                Handler="bootstrap", Code={"ZipFile": b"not a zip"})):
            missing.append("Lambda (CreateFunction)")
        zips = os.path.join(data + "-zips")
        bindir = os.path.join(os.environ.get("ROOT", os.getcwd()), os.environ.get("BUILD", "build"),
                              "lambda", "bin")
        p = subprocess.run([CLEANOPS, "package", "--bin", bindir, "--out", zips],
                           capture_output=True, text=True, env=ENV)
        if p.returncode != 0:
            missing.append("the Lambda zips (cleanops package: %s)" % (p.stderr or p.stdout).strip()[:120])
        if missing:
            skip = "SKIP: the deployed-pipeline half: the sandbox lacks %s (the stand-in API half passed, %d checks)" % (
                ", ".join(missing), sb.CHECKS)
        else:
            # a fresh sandbox for the real stack: the stand-in's resources share its names
            subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], timeout=60, env=ENV)
            shutil.rmtree(data, ignore_errors=True)
            os.makedirs(data)
            subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data],
                           check=True, timeout=30, env=ENV)
            why = real_pipeline(url, zips)
            if why:
                print("FAIL: %s" % why)
                return 1
    except (AssertionError, ValueError, subprocess.CalledProcessError) as e:
        return sb.fail(e, data)
    finally:
        subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], timeout=60, env=ENV)
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(data + "-zips", ignore_errors=True)
        shutil.rmtree(data + "-state", ignore_errors=True)
    if skip:
        print(skip)
        return 77
    print("PASS: %d checks" % sb.CHECKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
