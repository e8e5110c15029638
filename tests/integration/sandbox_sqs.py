#!/usr/bin/env python3
# sandbox_sqs.py: the sandbox's SQS driven by boto3, the AWS CLI and raw query-protocol forms.
import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import CLEANOPS, check, free_port, start, stop  # noqa: E402

sb.need_boto3()
from botocore.exceptions import ClientError  # noqa: E402


def client(url, service="sqs", timeout=60):
    return sb.client(url, service, read_timeout=timeout)


def error_code(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["Error"].get("QueryErrorCode") or e.response["Error"]["Code"], \
            e.response["Error"].get("Message", "")
    return None, None


def md5_attrs(attrs):
    """MD5OfMessageAttributes the way AWS documents it, computed independently."""
    buf = b""
    for name in sorted(attrs):
        a = attrs[name]
        for part in (name, a["DataType"]):
            b = part.encode()
            buf += struct.pack(">I", len(b)) + b
        if "BinaryValue" in a:
            v = a["BinaryValue"]
            buf += b"\x02" + struct.pack(">I", len(v)) + v
        else:
            v = a["StringValue"].encode()
            buf += b"\x01" + struct.pack(">I", len(v)) + v
    return hashlib.md5(buf).hexdigest()


def test_queues(sqs, url):
    u1 = sqs.create_queue(QueueName="alpha-1", Attributes={"VisibilityTimeout": "7"})["QueueUrl"]
    check(u1 == url + "/000000000000/alpha-1", "queue url %s" % u1)
    # same name, same attributes: the same queue; different attributes: QueueNameExists
    check(sqs.create_queue(QueueName="alpha-1", Attributes={"VisibilityTimeout": "7"})["QueueUrl"] == u1,
          "idempotent create")
    code, _ = error_code(sqs.create_queue, QueueName="alpha-1", Attributes={"VisibilityTimeout": "8"})
    check(code == "QueueNameExists", "QueueNameExists, got %s" % code)
    code, _ = error_code(sqs.create_queue, QueueName="bad name!")
    check(code == "InvalidParameterValue", "bad queue name: %s" % code)
    code, _ = error_code(sqs.create_queue, QueueName="x", Attributes={"VisibilityTimeout": "99999"})
    check(code == "InvalidAttributeValue", "bad VisibilityTimeout: %s" % code)
    code, _ = error_code(sqs.create_queue, QueueName="x", Attributes={"Bogus": "1"})
    check(code == "InvalidAttributeName", "unknown attribute: %s" % code)
    for i in range(2, 6):
        sqs.create_queue(QueueName="alpha-%d" % i)
    sqs.create_queue(QueueName="beta")
    urls = sqs.list_queues(QueueNamePrefix="alpha")["QueueUrls"]
    check(len(urls) == 5 and all("/alpha-" in u for u in urls), "prefix listing %s" % urls)
    page = sqs.list_queues(QueueNamePrefix="alpha", MaxResults=2)
    check(len(page["QueueUrls"]) == 2 and "NextToken" in page, "first page %s" % page)
    seen = list(page["QueueUrls"])
    while "NextToken" in page:
        page = sqs.list_queues(QueueNamePrefix="alpha", MaxResults=2, NextToken=page["NextToken"])
        seen += page["QueueUrls"]
    check(sorted(seen) == sorted(urls), "paging covers all: %s" % seen)
    check(sqs.get_queue_url(QueueName="beta")["QueueUrl"].endswith("/000000000000/beta"), "GetQueueUrl")
    # QueueUrl in any host form is accepted, keyed by the last path segment
    other = "https://sqs.us-east-1.amazonaws.com/000000000000/alpha-1"
    attrs = sqs.get_queue_attributes(QueueUrl=other, AttributeNames=["All"])["Attributes"]
    for k in ("VisibilityTimeout", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
              "DelaySeconds", "MaximumMessageSize", "ApproximateNumberOfMessages",
              "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
              "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn"):
        check(k in attrs, "attribute %s in %s" % (k, attrs))
    check(attrs["VisibilityTimeout"] == "7", "VisibilityTimeout kept")
    check(attrs["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:alpha-1", "QueueArn")
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    sqs.set_queue_attributes(QueueUrl=u1, Attributes={"MessageRetentionPeriod": "600", "Policy": policy,
                                                      "DelaySeconds": "1",
                                                      "ReceiveMessageWaitTimeSeconds": "2",
                                                      "MaximumMessageSize": "2048"})
    attrs = sqs.get_queue_attributes(QueueUrl=u1, AttributeNames=["MessageRetentionPeriod", "Policy",
                                                                  "DelaySeconds"])["Attributes"]
    check(attrs == {"MessageRetentionPeriod": "600", "Policy": policy, "DelaySeconds": "1"},
          "set then get: %s" % attrs)
    code, _ = error_code(sqs.set_queue_attributes, QueueUrl=u1, Attributes={"Policy": "{not json"})
    check(code == "InvalidAttributeValue", "bad policy: %s" % code)
    code, _ = error_code(sqs.get_queue_attributes, QueueUrl=u1, AttributeNames=["Nope"])
    check(code == "InvalidAttributeName", "bad attribute name: %s" % code)
    sqs.tag_queue(QueueUrl=u1, Tags={"team": "ops"})
    check(sqs.list_queue_tags(QueueUrl=u1).get("Tags") == {"team": "ops"}, "tags")
    sqs.delete_queue(QueueUrl=u1)
    try:
        sqs.get_queue_url(QueueName="alpha-1")
        check(False, "deleted queue still found")
    except sqs.exceptions.QueueDoesNotExist as e:
        check(e.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue",
              "legacy code %s" % e.response["Error"])
    code, _ = error_code(sqs.send_message, QueueUrl=u1, MessageBody="x")
    check(code == "QueueDoesNotExist", "send to a deleted queue: %s" % code)


def test_messages(sqs):
    u = sqs.create_queue(QueueName="msgs")["QueueUrl"]
    attrs = {"color": {"DataType": "String", "StringValue": "blue"},
             "n": {"DataType": "Number", "StringValue": "42"},
             "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe"}}
    body = "héllo wörld"
    r = sqs.send_message(QueueUrl=u, MessageBody=body, MessageAttributes=attrs)
    check(r["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest(), "MD5OfMessageBody")
    check(r["MD5OfMessageAttributes"] == md5_attrs(attrs), "MD5OfMessageAttributes %s vs %s" %
          (r["MD5OfMessageAttributes"], md5_attrs(attrs)))
    r = sqs.send_message(QueueUrl=u, MessageBody="plain")
    check("MD5OfMessageAttributes" not in r, "no attribute MD5 without attributes")
    got = sqs.receive_message(QueueUrl=u, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                              MessageSystemAttributeNames=["All"])["Messages"]
    check(len(got) == 2, "two messages received: %d" % len(got))
    m = [x for x in got if x["Body"] == body][0]
    check(m["MessageAttributes"]["bin"]["BinaryValue"] == b"\x00\x01\xfe", "binary attribute")
    check(m["MD5OfMessageAttributes"] == md5_attrs(attrs), "received attribute MD5")
    sysattrs = m["Attributes"]
    for k in ("ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp",
              "SenderId"):
        check(k in sysattrs, "system attribute %s" % k)
    check(sysattrs["ApproximateReceiveCount"] == "1", "receive count 1")
    # only the requested attributes come back
    sqs.change_message_visibility(QueueUrl=u, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=u, AttributeNames=["ApproximateReceiveCount"],
                                MessageAttributeNames=["color"])["Messages"][0]
    check(again["Attributes"] == {"ApproximateReceiveCount": "2"}, "receive count 2: %s" % again)
    check(list(again["MessageAttributes"]) == ["color"], "filtered attributes")
    check(again["MD5OfMessageAttributes"] == md5_attrs({"color": attrs["color"]}), "filtered MD5")
    code, _ = error_code(sqs.delete_message, QueueUrl=u, ReceiptHandle="garbage")
    check(code == "ReceiptHandleIsInvalid", "bad receipt handle: %s" % code)
    # a receipt handle from an earlier receive no longer deletes (the message was received again)
    sqs.delete_message(QueueUrl=u, ReceiptHandle=m["ReceiptHandle"])
    n = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    check(n["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "2", "stale handle kept message")
    sqs.delete_message(QueueUrl=u, ReceiptHandle=again["ReceiptHandle"])
    code, _ = error_code(sqs.receive_message, QueueUrl=u, MaxNumberOfMessages=11)
    check(code == "InvalidParameterValue", "MaxNumberOfMessages 11: %s" % code)
    code, _ = error_code(sqs.receive_message, QueueUrl=u, WaitTimeSeconds=21)
    check(code == "InvalidParameterValue", "WaitTimeSeconds 21: %s" % code)
    # delays
    sqs.send_message(QueueUrl=u, MessageBody="later", DelaySeconds=30)
    a = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["All"])["Attributes"]
    check(a["ApproximateNumberOfMessagesDelayed"] == "1", "delayed count %s" % a)
    sqs.purge_queue(QueueUrl=u)
    a = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["All"])["Attributes"]
    check(a["ApproximateNumberOfMessages"] == "0" and a["ApproximateNumberOfMessagesDelayed"] == "0"
          and a["ApproximateNumberOfMessagesNotVisible"] == "0", "purged %s" % a)


def test_visibility(sqs):
    u = sqs.create_queue(QueueName="vis", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=u, MessageBody="v")
    first = sqs.receive_message(QueueUrl=u)["Messages"][0]
    check("Messages" not in sqs.receive_message(QueueUrl=u), "invisible while in flight")
    t0 = time.monotonic()
    back = sqs.receive_message(QueueUrl=u, WaitTimeSeconds=5).get("Messages", [])
    dt = time.monotonic() - t0
    check(len(back) == 1 and back[0]["MessageId"] == first["MessageId"], "visible again")
    check(0.5 < dt < 2.5, "the long poll woke when the timeout expired (%.2fs)" % dt)
    code, _ = error_code(sqs.change_message_visibility, QueueUrl=u,
                         ReceiptHandle=back[0]["ReceiptHandle"], VisibilityTimeout=50000)
    check(code == "InvalidParameterValue", "visibility out of range: %s" % code)
    # per-receive override
    sqs.change_message_visibility(QueueUrl=u, ReceiptHandle=back[0]["ReceiptHandle"], VisibilityTimeout=0)
    r = sqs.receive_message(QueueUrl=u, VisibilityTimeout=100)["Messages"][0]
    t0 = time.monotonic()
    check("Messages" not in sqs.receive_message(QueueUrl=u, WaitTimeSeconds=2), "override held")
    check(time.monotonic() - t0 >= 1.8, "the wait lasted its WaitTimeSeconds")
    # batches
    sqs.send_message_batch(QueueUrl=u, Entries=[{"Id": "a%d" % i, "MessageBody": str(i)} for i in range(3)])
    msgs = sqs.receive_message(QueueUrl=u, MaxNumberOfMessages=10, VisibilityTimeout=60)["Messages"]
    check(len(msgs) == 3, "three received")
    res = sqs.change_message_visibility_batch(QueueUrl=u, Entries=[
        {"Id": "c%d" % i, "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
        for i, m in enumerate(msgs)] + [{"Id": "bad", "ReceiptHandle": "nope", "VisibilityTimeout": 0}])
    check(len(res["Successful"]) == 3 and res["Failed"][0]["Id"] == "bad" and
          res["Failed"][0]["Code"] == "ReceiptHandleIsInvalid", "visibility batch %s" % res)
    msgs = sqs.receive_message(QueueUrl=u, MaxNumberOfMessages=10)["Messages"]
    check(len(msgs) == 3, "visible again after the batch")
    res = sqs.delete_message_batch(QueueUrl=u, Entries=[
        {"Id": "d%d" % i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
    check(len(res["Successful"]) == 3 and not res.get("Failed"), "delete batch %s" % res)
    sqs.delete_message(QueueUrl=u, ReceiptHandle=r["ReceiptHandle"])
    a = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["All"])["Attributes"]
    check(a["ApproximateNumberOfMessages"] == "0" and a["ApproximateNumberOfMessagesNotVisible"] == "0",
          "all deleted %s" % a)


def test_long_poll(sqs, url):
    u = sqs.create_queue(QueueName="poll")["QueueUrl"]
    result = {}

    def receiver():
        c = client(url)
        t0 = time.monotonic()
        result["msgs"] = c.receive_message(QueueUrl=u, WaitTimeSeconds=10).get("Messages", [])
        result["done"] = time.monotonic()
        result["took"] = result["done"] - t0

    th = threading.Thread(target=receiver)
    th.start()
    time.sleep(0.5)  # let the receiver reach its wait; the assertion is on the wake-up delay
    sent = time.monotonic()
    sqs.send_message(QueueUrl=u, MessageBody="wake up")
    th.join(15)
    check(not th.is_alive(), "receiver returned")
    check(len(result["msgs"]) == 1 and result["msgs"][0]["Body"] == "wake up", "long poll got it")
    delay = result["done"] - sent
    check(delay < 2.0, "long poll woke %.3fs after the send" % delay)
    print("long-poll wake-up delay: %.1f ms" % (delay * 1000))
    # the queue's ReceiveMessageWaitTimeSeconds applies when the call gives none
    sqs.set_queue_attributes(QueueUrl=u, Attributes={"ReceiveMessageWaitTimeSeconds": "1"})
    sqs.delete_message(QueueUrl=u, ReceiptHandle=result["msgs"][0]["ReceiptHandle"])
    t0 = time.monotonic()
    sqs.receive_message(QueueUrl=u)
    dt = time.monotonic() - t0
    check(0.8 < dt < 3, "queue default wait applied (%.2fs)" % dt)


def test_redrive(sqs):
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    code, _ = error_code(sqs.create_queue, QueueName="src", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn + "-missing", "maxReceiveCount": 2})})
    check(code == "InvalidAttributeValue", "DLQ must exist: %s" % code)
    code, _ = error_code(sqs.create_queue, QueueName="src", Attributes={"RedrivePolicy": "not json"})
    check(code == "InvalidAttributeValue", "RedrivePolicy must be JSON: %s" % code)
    src = sqs.create_queue(QueueName="src", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})})["QueueUrl"]
    rp = json.loads(sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["RedrivePolicy"])
                    ["Attributes"]["RedrivePolicy"])
    check(rp["deadLetterTargetArn"] == dlq_arn and int(rp["maxReceiveCount"]) == 2, "policy kept %s" % rp)
    check(sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src], "DLQ sources")
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    for i in (1, 2):
        m = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0, AttributeNames=["All"])["Messages"][0]
        check(m["Attributes"]["ApproximateReceiveCount"] == str(i), "receive %d" % i)
    check("Messages" not in sqs.receive_message(QueueUrl=src), "third attempt moves it away")
    moved = sqs.receive_message(QueueUrl=dlq)["Messages"]
    check(len(moved) == 1 and moved[0]["Body"] == "poison", "message in the DLQ")


def test_limits_and_batches(sqs):
    u = sqs.create_queue(QueueName="limits")["QueueUrl"]
    sqs.send_message(QueueUrl=u, MessageBody="x" * 262144)
    code, msg = error_code(sqs.send_message, QueueUrl=u, MessageBody="x" * 262145)
    check(code == "InvalidParameterValue" and msg.startswith("One or more parameters are invalid"),
          "256 KiB limit: %s %s" % (code, msg))
    code, _ = error_code(sqs.send_message, QueueUrl=u, MessageBody="x" * 262000, MessageAttributes={
        "a": {"DataType": "String", "StringValue": "y" * 1000}})
    check(code == "InvalidParameterValue", "attributes count toward the limit: %s" % code)
    code, _ = error_code(sqs.send_message_batch, QueueUrl=u, Entries=[])
    check(code == "EmptyBatchRequest", "empty batch: %s" % code)
    code, _ = error_code(sqs.send_message_batch, QueueUrl=u,
                         Entries=[{"Id": str(i), "MessageBody": "b"} for i in range(11)])
    check(code == "TooManyEntriesInBatchRequest", "11 entries: %s" % code)
    code, _ = error_code(sqs.send_message_batch, QueueUrl=u,
                         Entries=[{"Id": "same", "MessageBody": "b"}, {"Id": "same", "MessageBody": "c"}])
    check(code == "BatchEntryIdsNotDistinct", "duplicate ids: %s" % code)
    code, _ = error_code(sqs.send_message_batch, QueueUrl=u, Entries=[{"Id": "no spaces", "MessageBody": "b"}])
    check(code == "InvalidBatchEntryId", "bad id: %s" % code)
    code, _ = error_code(sqs.delete_message_batch, QueueUrl=u, Entries=[])
    check(code == "EmptyBatchRequest", "empty delete batch: %s" % code)
    res = sqs.send_message_batch(QueueUrl=u, Entries=[
        {"Id": "ok", "MessageBody": "fine", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
        {"Id": "bad", "MessageBody": "fine", "DelaySeconds": 901}])
    check([e["Id"] for e in res["Successful"]] == ["ok"], "batch success %s" % res)
    check(res["Successful"][0]["MD5OfMessageBody"] == hashlib.md5(b"fine").hexdigest(), "batch MD5")
    check(res["Successful"][0]["MD5OfMessageAttributes"] ==
          md5_attrs({"k": {"DataType": "String", "StringValue": "v"}}), "batch attribute MD5")
    check(res["Failed"][0]["Id"] == "bad" and res["Failed"][0]["SenderFault"], "batch failure %s" % res)


def test_query_protocol_and_cli(url):
    q = url + "/000000000000/legacy"
    form = urllib.parse.urlencode({"Action": "CreateQueue", "Version": "2012-11-05", "QueueName": "legacy"})
    req = urllib.request.Request(url + "/", data=form.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sqs/aws4_request, "
                         "SignedHeaders=host, Signature=00"})
    body = urllib.request.urlopen(req, timeout=10).read().decode()
    check("<QueueUrl>" in body and "legacy" in body, "CreateQueue over query: %s" % body)
    form = urllib.parse.urlencode({"Action": "SendMessage", "Version": "2012-11-05", "QueueUrl": q,
                                   "MessageBody": "from a form"})
    req = urllib.request.Request(url + "/", data=form.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sqs/aws4_request, "
                         "SignedHeaders=host, Signature=00"})
    resp = urllib.request.urlopen(req, timeout=10)
    body = resp.read().decode()
    check("xml" in resp.headers.get("Content-Type", ""), "XML content type")
    check("<SendMessageResponse" in body and hashlib.md5(b"from a form").hexdigest() in body,
          "SendMessage over query: %s" % body)
    if not shutil.which("aws"):
        print("note: the aws CLI is missing; CLI checks skipped")
        return
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDCLI", AWS_SECRET_ACCESS_KEY="s",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")

    def aws(*args):
        out = subprocess.run(["aws", "--endpoint-url", url, "--output", "json", "sqs"] + list(args),
                             env=env, capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, "aws sqs %s: %s" % (args[0], out.stderr))
        return json.loads(out.stdout) if out.stdout.strip() else {}

    aws("send-message", "--queue-url", q, "--message-body", "from the cli")
    got = aws("receive-message", "--queue-url", q, "--max-number-of-messages", "10")
    bodies = sorted(m["Body"] for m in got["Messages"])
    check(bodies == ["from a form", "from the cli"], "CLI receive %s" % bodies)
    check(any(u.endswith("/legacy") for u in aws("list-queues")["QueueUrls"]), "CLI list-queues")
    aws("purge-queue", "--queue-url", q)


def test_kill9(port, data, url):
    sqs = client(url)
    u = sqs.create_queue(QueueName="durable")["QueueUrl"]
    acked = [0]
    stop_flag = threading.Event()
    lock = threading.Lock()

    def sender():
        c = client(url, timeout=5)
        while not stop_flag.is_set():
            try:
                c.send_message(QueueUrl=u, MessageBody="m")
            except Exception:
                return
            with lock:
                acked[0] += 1

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while acked[0] < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    pid = int(open(os.path.join(data, "sandbox.pid")).read().strip())
    os.kill(pid, signal.SIGKILL)
    stop_flag.set()
    for t in threads:
        t.join(10)
    with lock:
        n_acked = acked[0]
    check(n_acked >= 300, "senders were acknowledged before the kill (%d)" % n_acked)
    for _ in range(100):  # the killed process must be gone before the restart
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    start(port, data)
    sqs = client(url)
    a = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    stored = int(a["ApproximateNumberOfMessages"])
    # every acknowledged send survived; at most one unacknowledged send per sender on top
    check(n_acked <= stored <= n_acked + len(threads), "after kill -9: %d acked, %d stored" % (n_acked, stored))
    print("kill -9: %d acknowledged, %d stored after restart" % (n_acked, stored))


def test_stop_during_long_poll(port, data, url):
    """`cleanops sandbox stop` wakes a pending 20 s long poll instead of waiting it out."""
    sqs = client(url)
    u = sqs.create_queue(QueueName="stop-poll")["QueueUrl"]
    got = {}

    def poll():
        t0 = time.monotonic()
        try:
            got["reply"] = client(url, timeout=30).receive_message(QueueUrl=u, WaitTimeSeconds=20)
        except Exception as e:  # the connection may close under it: still an early end
            got["error"] = repr(e)
        got["secs"] = time.monotonic() - t0

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)  # let the poll reach the server; a later arrival only makes stop easier
    check(t.is_alive(), "the long poll is pending before the stop")
    t0 = time.monotonic()
    out = subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], capture_output=True,
                         text=True, timeout=60)
    secs = time.monotonic() - t0
    print("sandbox stop during a 20 s long poll: %.2f s" % secs)
    check(out.returncode == 0 and "stopped" in out.stdout, "stop: %s %s" % (out.stdout, out.stderr))
    check(secs < 3.0, "stop returned in %.2f s (long poll not woken)" % secs)
    t.join(10)
    check(not t.is_alive() and got.get("secs", 99) < 5.0, "the long poll ended early: %s" % got)
    check(got.get("reply", {}).get("Messages") is None, "the woken poll got no message: %s" % got)
    start(port, data)


def main():
    if not os.access(CLEANOPS, os.X_OK):
        print("FAIL: no cleanops binary at %s" % CLEANOPS)
        return 1
    data = tempfile.mkdtemp(prefix="cleanops-sqs-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    try:
        start(port, data)
        sqs = client(url)
        test_queues(sqs, url)
        test_messages(sqs)
        test_visibility(sqs)
        test_long_poll(sqs, url)
        test_redrive(sqs)
        test_limits_and_batches(sqs)
        test_query_protocol_and_cli(url)
        test_kill9(port, data, url)
        test_stop_during_long_poll(port, data, url)
    except AssertionError as e:
        return sb.fail(e, data)
    finally:
        stop(data)
        shutil.rmtree(data, ignore_errors=True)
    print("PASS: %d checks" % sb.CHECKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
