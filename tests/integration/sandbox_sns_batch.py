#!/usr/bin/env python3
# sandbox_sns_batch.py: SNS PublishBatch in the sandbox with boto3: deliveries, per-entry
# failures, the whole-call errors, and IAM (a batch is authorized as sns:Publish).
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

try:
    import boto3
    import botocore.config
    from botocore.exceptions import ClientError
except ImportError:
    print("SKIP: boto3 is not installed")
    sys.exit(77)

ROOT = os.environ.get("ROOT", os.getcwd())
BUILD = os.environ.get("BUILD", "build")
CLEANOPS = os.environ.get("CLEANOPS") or os.path.join(ROOT, BUILD, "cleanops")
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        raise AssertionError(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def client(url, service, creds=None):
    kw = {}
    if creds:
        kw = dict(aws_access_key_id=creds["AccessKeyId"],
                  aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"])
    else:
        kw = dict(aws_access_key_id="AKIDSANDBOXTEST", aws_secret_access_key="secret")
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        config=botocore.config.Config(retries={"max_attempts": 1}), **kw)


def error_of(fn, **kw):
    """(code, HTTP status, message) fn failed with, or None when it succeeded."""
    try:
        fn(**kw)
    except ClientError as e:
        return (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response["Error"].get("Message", ""))
    return None


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def drain(sqs, url, want):
    """Receive (long polls) until want messages arrived or a poll brings none."""
    got = []
    while len(got) < want:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                WaitTimeSeconds=5).get("Messages", [])
        if not r:
            break
        for m in r:
            got.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def subscribed_queue(sns, sqs, topic, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy({
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic}}})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})
    return url


def test_deliveries(sns, sqs):
    topic = sns.create_topic(Name="batch")["TopicArn"]
    raw = subscribed_queue(sns, sqs, topic, "batch-raw")
    entries = [{"Id": "e%d" % i, "Message": "m-%d" % i} for i in range(10)]
    entries[3] = {"Id": "e3", "Subject": "Hi", "MessageStructure": "json",
                  "Message": json.dumps({"default": "d-3", "sqs": "q-3"})}
    entries[4]["MessageAttributes"] = {"k": {"DataType": "String", "StringValue": "v"}}
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    check(r.get("Failed", []) == [], "no entry failed: %s" % r.get("Failed"))
    ok = r["Successful"]
    check(sorted(e["Id"] for e in ok) == sorted("e%d" % i for i in range(10)),
          "every Id answered once: %s" % ok)
    check(len({e["MessageId"] for e in ok}) == 10, "ten distinct MessageIds")
    bodies = sorted(drain(sqs, raw, 10))
    want = sorted(["m-%d" % i for i in range(10) if i != 3] + ["q-3"])
    check(bodies == want, "each entry delivered once, MessageStructure per protocol: %s" % bodies)

    # per-entry validation failures go to Failed; the good entries are delivered
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "good", "Message": "fine"},
        {"Id": "empty", "Message": ""},
        {"Id": "badjson", "Message": "{not json", "MessageStructure": "json"},
        {"Id": "nodefault", "Message": json.dumps({"sqs": "x"}), "MessageStructure": "json"},
        {"Id": "subject", "Message": "x", "Subject": "line\nbreak"},
        {"Id": "attr", "Message": "x", "MessageAttributes": {"k": {"DataType": "String"}}}])
    check([e["Id"] for e in r["Successful"]] == ["good"], "one success: %s" % r["Successful"])
    failed = {e["Id"]: e for e in r["Failed"]}
    check(sorted(failed) == ["attr", "badjson", "empty", "nodefault", "subject"],
          "five failures: %s" % r["Failed"])
    check(all(e["SenderFault"] is True and e["Code"] and e["Message"] for e in failed.values()),
          "failures carry Code, Message, SenderFault: %s" % r["Failed"])
    check(failed["empty"]["Code"] == "InvalidParameter" and
          failed["attr"]["Code"] == "ParameterValueInvalid", "failure codes %s" % failed)
    check(drain(sqs, raw, 1) == ["fine"] and drain(sqs, raw, 1) == [],
          "only the good entry was delivered")
    return topic


def test_errors(sns, topic):
    cases = [
        ("EmptyBatchRequest", dict(TopicArn=topic, PublishBatchRequestEntries=[])),
        ("TooManyEntriesInBatchRequest", dict(TopicArn=topic, PublishBatchRequestEntries=[
            {"Id": str(i), "Message": "x"} for i in range(11)])),
        ("BatchEntryIdsNotDistinct", dict(TopicArn=topic, PublishBatchRequestEntries=[
            {"Id": "a", "Message": "x"}, {"Id": "a", "Message": "y"}])),
        ("InvalidBatchEntryId", dict(TopicArn=topic, PublishBatchRequestEntries=[
            {"Id": "bad id!", "Message": "x"}])),
        ("InvalidBatchEntryId", dict(TopicArn=topic, PublishBatchRequestEntries=[
            {"Id": "x" * 81, "Message": "x"}])),
        ("BatchRequestTooLong", dict(TopicArn=topic, PublishBatchRequestEntries=[
            {"Id": "a", "Message": "x" * 200000}, {"Id": "b", "Message": "y" * 70000}])),
        ("NotFound", dict(TopicArn=topic + "-missing", PublishBatchRequestEntries=[
            {"Id": "a", "Message": "x"}])),
        ("InvalidParameter", dict(TopicArn="not-an-arn", PublishBatchRequestEntries=[
            {"Id": "a", "Message": "x"}])),
    ]
    for code, kw in cases:
        err = error_of(sns.publish_batch, **kw)
        check(err is not None and err[0] == code and 400 <= err[1] < 500,
              "%s expected, got %r" % (code, err))


def test_iam(url, sns, sqs, topic):
    iam, sts = client(url, "iam"), client(url, "sts")
    trust = policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"})
    roles = {}
    for name, actions in (("publisher", ["sns:Publish"]), ("nothing", None),
                          ("batch-named", ["sns:PublishBatch"])):
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        if actions:
            iam.put_role_policy(RoleName=name, PolicyName="main", PolicyDocument=policy(
                {"Effect": "Allow", "Action": actions, "Resource": topic}))
        roles[name] = sts.assume_role(RoleArn=arn, RoleSessionName=name)["Credentials"]
    q = subscribed_queue(sns, sqs, topic, "batch-iam")
    entries = [{"Id": "1", "Message": "iam-1"}, {"Id": "2", "Message": "iam-2"}]
    r = client(url, "sns", roles["publisher"]).publish_batch(
        TopicArn=topic, PublishBatchRequestEntries=entries)
    check(len(r["Successful"]) == 2, "sns:Publish allows PublishBatch: %s" % r)
    err = error_of(client(url, "sns", roles["nothing"]).publish_batch, TopicArn=topic,
                   PublishBatchRequestEntries=entries)
    check(err is not None and err[:2] == ("AuthorizationError", 403) and
          "SNS:Publish on resource: " + topic in err[2],
          "without sns:Publish: AuthorizationError naming SNS:Publish (%r)" % (err,))
    err = error_of(client(url, "sns", roles["batch-named"]).publish_batch, TopicArn=topic,
                   PublishBatchRequestEntries=entries)
    check(err is not None and err[:2] == ("AuthorizationError", 403),
          "an sns:PublishBatch grant alone does not allow it (%r)" % (err,))
    check(sorted(drain(sqs, q, 2)) == ["iam-1", "iam-2"] and drain(sqs, q, 1) == [],
          "only the allowed batch was delivered")


def main():
    if not os.access(CLEANOPS, os.X_OK):
        print("FAIL: no cleanops binary at %s" % CLEANOPS)
        return 1
    data = tempfile.mkdtemp(prefix="cleanops-snsbatch-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    try:
        subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data],
                       check=True, timeout=30)
        sns, sqs = client(url, "sns"), client(url, "sqs")
        topic = test_deliveries(sns, sqs)
        test_errors(sns, topic)
        test_iam(url, sns, sqs, topic)
    except AssertionError as e:
        print("FAIL: %s" % e)
        log = os.path.join(data, "sandbox.log")
        if os.path.exists(log):
            print("".join(open(log).readlines()[-20:]))
        return 1
    finally:
        subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], timeout=60)
        shutil.rmtree(data, ignore_errors=True)
    print("PASS: %d checks" % CHECKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
