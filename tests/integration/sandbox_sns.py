#!/usr/bin/env python3
# sandbox_sns.py: the sandbox's SNS driven by boto3: topics, SQS/HTTP/email deliveries, confirmations.
import email
import email.policy
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import CLEANOPS, check, free_port, client, error_code  # noqa: E402

sb.need_boto3()


def receive_one(sqs, url, **kw):
    """Wait (long poll, up to 10 s) for one message; deliveries are asynchronous."""
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, **kw).get("Messages", [])
    check(len(r) == 1, "one delivery on %s, got %d" % (url, len(r)))
    sqs.delete_message(QueueUrl=url, ReceiptHandle=r[0]["ReceiptHandle"])
    return r[0]


def wait_for(pred, what, timeout=10.0):
    """Poll a condition that has no notification channel (a Maildir file, an HTTP hit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    check(False, "timed out waiting for " + what)


def test_topics(sns):
    t = sns.create_topic(Name="orders")["TopicArn"]
    check(t == "arn:aws:sns:us-east-1:000000000000:orders", "topic arn %s" % t)
    check(sns.create_topic(Name="orders")["TopicArn"] == t, "CreateTopic is idempotent")
    check(error_code(sns.create_topic, Name="bad name") == "InvalidParameter", "bad topic name")
    sns.set_topic_attributes(TopicArn=t, AttributeName="DisplayName", AttributeValue="Orders")
    a = sns.get_topic_attributes(TopicArn=t)["Attributes"]
    for k in ("TopicArn", "DisplayName", "Policy", "Owner", "SubscriptionsConfirmed",
              "SubscriptionsPending", "SubscriptionsDeleted"):
        check(k in a, "topic attribute %s" % k)
    check(a["DisplayName"] == "Orders" and a["Owner"] == "000000000000", "topic attributes %s" % a)
    json.loads(a["Policy"])
    check(error_code(sns.set_topic_attributes, TopicArn=t, AttributeName="Policy",
                     AttributeValue="{bad") == "InvalidParameter", "bad policy")
    missing = "arn:aws:sns:us-east-1:000000000000:missing"
    check(error_code(sns.get_topic_attributes, TopicArn=missing) == "NotFound", "missing topic")
    check(error_code(sns.publish, TopicArn=missing, Message="x") == "NotFound", "publish to missing")
    for i in range(105):
        sns.create_topic(Name="many-%03d" % i)
    arns, token = [], None
    while True:
        page = sns.list_topics(**({"NextToken": token} if token else {}))
        arns += [x["TopicArn"] for x in page["Topics"]]
        token = page.get("NextToken")
        if not token:
            break
    check(len(arns) == 106 and t in arns, "ListTopics pages: %d" % len(arns))
    tagged = sns.create_topic(Name="tagged", Tags=[{"Key": "team", "Value": "ops"}])["TopicArn"]
    check(sns.list_tags_for_resource(ResourceArn=tagged)["Tags"] == [{"Key": "team", "Value": "ops"}], "tags")
    # empty results keep their <OpResult/> wrapper: boto3 raises KeyError without it
    r = sns.tag_resource(ResourceArn=tagged, Tags=[{"Key": "env", "Value": "dev"}])
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 200, "TagResource %s" % r)
    tags = sorted((x["Key"], x["Value"]) for x in sns.list_tags_for_resource(ResourceArn=tagged)["Tags"])
    check(tags == [("env", "dev"), ("team", "ops")], "tags after TagResource %s" % tags)
    sns.untag_resource(ResourceArn=tagged, TagKeys=["team"])
    check(sns.list_tags_for_resource(ResourceArn=tagged)["Tags"] == [{"Key": "env", "Value": "dev"}],
          "tags after UntagResource")
    sns.delete_topic(TopicArn=tagged)
    for i in range(105):
        sns.delete_topic(TopicArn="arn:aws:sns:us-east-1:000000000000:many-%03d" % i)
    check([x["TopicArn"] for x in sns.list_topics()["Topics"]] == [t], "deleted topics gone")
    return t


def test_sqs_deliveries(sns, sqs, topic):
    raw_q = sqs.create_queue(QueueName="raw")["QueueUrl"]
    env_q = sqs.create_queue(QueueName="env")["QueueUrl"]
    arn = lambda u: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # the queue policies that let the topic deliver (AWS refuses deliveries without one): the
    # service principal, and the SDKs' SubscribeQueue form (any principal, from this topic)
    for u, principal in ((raw_q, {"Service": "sns.amazonaws.com"}), (env_q, {"AWS": "*"})):
        sqs.set_queue_attributes(QueueUrl=u, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage",
                "Resource": arn(u), "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    raw_sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn(raw_q),
                            Attributes={"RawMessageDelivery": "true"}, ReturnSubscriptionArn=True)["SubscriptionArn"]
    env_sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn(env_q))["SubscriptionArn"]
    check(env_sub.startswith(topic + ":"), "sqs subscriptions are confirmed at once: %s" % env_sub)
    check(sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn(env_q))["SubscriptionArn"] == env_sub,
          "Subscribe is idempotent")
    a = sns.get_subscription_attributes(SubscriptionArn=raw_sub)["Attributes"]
    check(a["RawMessageDelivery"] == "true" and a["PendingConfirmation"] == "false" and
          a["Protocol"] == "sqs" and a["TopicArn"] == topic and a["Endpoint"] == arn(raw_q),
          "subscription attributes %s" % a)
    mid = sns.publish(TopicArn=topic, Message="order 1", Subject="New order",
                      MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}})["MessageId"]
    m = receive_one(sqs, raw_q, MessageAttributeNames=["All"])
    check(m["Body"] == "order 1", "raw body %r" % m["Body"])
    check(m.get("MessageAttributes", {}).get("kind", {}).get("StringValue") == "order",
          "raw delivery carries the attributes %s" % m)
    env = json.loads(receive_one(sqs, env_q)["Body"])
    check(env["Type"] == "Notification" and env["MessageId"] == mid and env["TopicArn"] == topic and
          env["Message"] == "order 1" and env["Subject"] == "New order" and
          env["SignatureVersion"] == "1" and "Timestamp" in env and "UnsubscribeURL" in env,
          "envelope %s" % env)
    check(env["MessageAttributes"] == {"kind": {"Type": "String", "Value": "order"}}, "envelope attributes")
    # TargetArn works like TopicArn; no Subject: no Subject key
    sns.publish(TargetArn=topic, Message="order 2")
    env = json.loads(receive_one(sqs, env_q)["Body"])
    check("Subject" not in env and "MessageAttributes" not in env, "minimal envelope %s" % env)
    receive_one(sqs, raw_q)
    # MessageStructure=json: per-protocol text with the default as fallback
    sns.set_subscription_attributes(SubscriptionArn=raw_sub, AttributeName="RawMessageDelivery",
                                    AttributeValue="false")
    sns.publish(TopicArn=topic, MessageStructure="json",
                Message=json.dumps({"default": "for everyone", "sqs": "for queues", "email": "mail"}))
    check(json.loads(receive_one(sqs, raw_q)["Body"])["Message"] == "for queues", "sqs key used")
    receive_one(sqs, env_q)
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "fallback"}))
    check(json.loads(receive_one(sqs, env_q)["Body"])["Message"] == "fallback", "default fallback")
    receive_one(sqs, raw_q)
    check(error_code(sns.publish, TopicArn=topic, MessageStructure="json",
                     Message=json.dumps({"sqs": "x"})) == "InvalidParameter", "no default entry")
    check(error_code(sns.publish, TopicArn=topic, Message="x", Subject="s" * 120) == "InvalidParameter",
          "Subject too long")
    check(error_code(sns.publish, TopicArn=topic, Message="x" * 262145) == "InvalidParameter",
          "message too long")
    sns.unsubscribe(SubscriptionArn=raw_sub)
    check(error_code(sns.get_subscription_attributes, SubscriptionArn=raw_sub) == "NotFound",
          "unsubscribed")
    sns.publish(TopicArn=topic, Message="after unsubscribe")
    receive_one(sqs, env_q)
    check("Messages" not in sqs.receive_message(QueueUrl=raw_q, WaitTimeSeconds=1), "no delivery after unsubscribe")
    a = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    check(a["SubscriptionsDeleted"] == "1", "deleted counter %s" % a)
    sns.unsubscribe(SubscriptionArn=env_sub)


class Hook(http.server.BaseHTTPRequestHandler):
    hits = []
    fail_next = [0]

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        if Hook.fail_next[0] > 0:
            Hook.fail_next[0] -= 1
            Hook.hits.append(("failed", dict(self.headers), body))
            self.send_response(500)
            self.end_headers()
            return
        Hook.hits.append(("ok", dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def test_http(sns, topic):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        endpoint = "http://127.0.0.1:%d/hook" % srv.server_address[1]
        r = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
        check(r["SubscriptionArn"] == "pending confirmation", "http starts pending %s" % r)
        wait_for(lambda: [h for h in Hook.hits if h[0] == "ok"], "the subscription confirmation")
        _, headers, body = [h for h in Hook.hits if h[0] == "ok"][0]
        conf = json.loads(body)
        check(headers.get("x-amz-sns-message-type") == "SubscriptionConfirmation" and
              conf["Type"] == "SubscriptionConfirmation" and conf["TopicArn"] == topic and conf["Token"],
              "confirmation request %s %s" % (headers, conf))
        page = urllib.request.urlopen(conf["SubscribeURL"], timeout=10)
        check(page.status == 200, "SubscribeURL answered")
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        sub = [s for s in subs if s["Protocol"] == "http"][0]
        check(sub["SubscriptionArn"].startswith(topic + ":"), "http confirmed %s" % sub)
        # a failing endpoint is retried
        Hook.hits.clear()
        Hook.fail_next[0] = 2
        mid = sns.publish(TopicArn=topic, Message="to the hook", Subject="Hi")["MessageId"]
        wait_for(lambda: [h for h in Hook.hits if h[0] == "ok"], "the retried notification")
        check(len([h for h in Hook.hits if h[0] == "failed"]) == 2, "two failed attempts first")
        _, headers, body = [h for h in Hook.hits if h[0] == "ok"][0]
        n = json.loads(body)
        check(headers.get("x-amz-sns-message-type") == "Notification" and
              headers.get("x-amz-sns-message-id") == mid and
              headers.get("x-amz-sns-topic-arn") == topic and
              headers.get("x-amz-sns-subscription-arn") == sub["SubscriptionArn"] and
              n["Message"] == "to the hook" and n["Subject"] == "Hi", "http notification %s %s" % (headers, n))
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    finally:
        srv.shutdown()


def maildir_files(data):
    d = os.path.join(data, "maildir", "new")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def read_mail(data, name):
    with open(os.path.join(data, "maildir", "new", name), "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


def test_email(sns, topic, data):
    check(sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")["SubscriptionArn"]
          == "pending confirmation", "email starts pending")
    subs = [s for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
            if s["Protocol"] == "email"]
    check(len(subs) == 1 and subs[0]["SubscriptionArn"] == "PendingConfirmation", "listed pending %s" % subs)
    files = wait_for(lambda: maildir_files(data), "the confirmation mail")
    check(not os.listdir(os.path.join(data, "maildir", "tmp")), "nothing left in tmp/")
    mail = read_mail(data, files[0])
    for h in ("From", "To", "Date", "Subject", "Message-ID", "MIME-Version", "Content-Type"):
        check(mail[h], "confirmation header %s" % h)
    check(mail["To"] == "ops@example.com", "To %s" % mail["To"])
    text = mail.get_content()
    link = re.search(r"(http://127\.0\.0\.1:\d+/\S+)", text)
    check(link is not None, "a link in %r" % text)
    page = urllib.request.urlopen(link.group(1), timeout=10)
    check(page.status == 200 and b"confirmed" in page.read(), "following the link confirms")
    subs = [s for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
            if s["Protocol"] == "email"]
    arn = subs[0]["SubscriptionArn"]
    check(arn.startswith(topic + ":"), "confirmed arn %s" % arn)
    a = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    check(a["PendingConfirmation"] == "false", "PendingConfirmation false %s" % a)
    before = set(maildir_files(data))
    sns.publish(TopicArn=topic, Message="Order 42 shipped.\nThanks.", Subject="Shipping update")
    new = wait_for(lambda: sorted(set(maildir_files(data)) - before), "the notification mail")
    mail = read_mail(data, new[0])
    check(mail["Subject"] == "Shipping update" and mail["To"] == "ops@example.com", "notification headers")
    check(mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8", "text/plain")
    check("Order 42 shipped.\nThanks." in mail.get_content(), "body %r" % mail.get_content())
    check(mail["Date"] and mail["Message-ID"] and mail["From"], "From, Date, Message-ID")
    # email-json confirmed through the API with the token from its mail
    before = set(maildir_files(data))
    r = sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="robot@example.com",
                      ReturnSubscriptionArn=True)
    check(r["SubscriptionArn"].startswith(topic + ":"), "ReturnSubscriptionArn gives the arn")
    check(sns.get_subscription_attributes(SubscriptionArn=r["SubscriptionArn"])["Attributes"]
          ["PendingConfirmation"] == "true", "email-json pending")
    new = wait_for(lambda: sorted(set(maildir_files(data)) - before), "the email-json confirmation")
    token = re.search(r"Token=([0-9a-f]+)", read_mail(data, new[0]).get_content()).group(1)
    check(error_code(sns.confirm_subscription, TopicArn=topic, Token="0" * 64) == "InvalidParameter",
          "a wrong token is refused")
    c = sns.confirm_subscription(TopicArn=topic, Token=token)
    check(c["SubscriptionArn"] == r["SubscriptionArn"], "ConfirmSubscription %s" % c)
    before = set(maildir_files(data))
    sns.publish(TopicArn=topic, Message="json please", Subject="J")
    new = wait_for(lambda: len(set(maildir_files(data)) - before) >= 2 and
                   sorted(set(maildir_files(data)) - before), "two notification mails")
    bodies = [read_mail(data, f) for f in new]
    js = [m for m in bodies if m["To"] == "robot@example.com"][0]
    env = json.loads(js.get_content().split("\n\n--\n")[0])
    check(env["Message"] == "json please" and env["Type"] == "Notification", "email-json envelope %s" % env)


def main():
    if not os.access(CLEANOPS, os.X_OK):
        print("FAIL: no cleanops binary at %s" % CLEANOPS)
        return 1
    data = tempfile.mkdtemp(prefix="cleanops-sns-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    try:
        subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data],
                       check=True, timeout=30)
        sns, sqs = client(url, "sns"), client(url, "sqs")
        topic = test_topics(sns)
        test_sqs_deliveries(sns, sqs, topic)
        test_http(sns, topic)
        test_email(sns, topic, data)
        subs = sns.list_subscriptions()["Subscriptions"]
        check(all(s["TopicArn"] == topic for s in subs) and len(subs) == 2, "ListSubscriptions %s" % subs)
        sns.delete_topic(TopicArn=topic)
        check(sns.list_subscriptions().get("Subscriptions", []) == [], "DeleteTopic drops subscriptions")
    except AssertionError as e:
        return sb.fail(e, data)
    finally:
        subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], timeout=60)
        shutil.rmtree(data, ignore_errors=True)
    print("PASS: %d checks" % sb.CHECKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
