#!/usr/bin/env python3
# sandbox_iam.py: IAM enforcement in the sandbox with boto3: role sessions held to their policies.
"""A private sandbox (enforcement on by default) and boto3:
- operator credentials may do anything; GetCallerIdentity needs no permission;
- an assumed role without dynamodb:PutItem gets DynamoDB's AccessDeniedException with AWS's
  message; an inline policy adding it lets the call through (the cache is invalidated); a
  Deny statement wins over every Allow; NotAction; an AWS managed policy;
- SQS (AccessDenied, 403), SNS (AuthorizationError), Logs (AccessDeniedException) shapes;
- the queue policy: it may grant a role, its explicit Deny wins; SNS delivers only where
  the queue policy lets sns.amazonaws.com send;
- POC-Lambda-1 whose role lacks PutItem logs AccessDenied and its order ends in the DLQ after
  maxReceiveCount; with the right policy the next order is stored; the poller is denied
  ReceiveMessage with its role; a role without logs permissions leaves no logs;
- API Gateway: an integration role without sqs:SendMessage makes the API answer 500 (its 4xx
  integration response) with nothing on the queue; a role that does not trust API Gateway
  gives 500 "Internal server error"; with the permission the order is queued;
- roles that do not exist: CreateFunction / UpdateFunctionConfiguration with a missing role
  or one Lambda may not assume -> InvalidParameterValueException "The role defined for the
  function cannot be assumed by Lambda."; PutIntegration accepts a missing credentials role
  and the API then answers 500 "Internal server error"; a session whose role was deleted may
  do nothing;
- SNS does not deliver to a queue without any queue policy (until a policy allows it);
- CreateEventSourceMapping checks the execution role: "The function execution role does not
  have permissions to call ReceiveMessage on SQS" / "Cannot access stream ARN. Please ensure
  the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams
  Actions on your stream in IAM."; UpdateEventSourceMapping to such a function too;
- `--no-enforce-iam` lets a role without any policy do everything, a function take a role
  that does not exist, and SNS deliver to a queue without a policy.
Exit 0 pass, 77 skip (with a SKIP line), 1 fail."""
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

ACCOUNT = "000000000000"
REGION = "us-east-1"

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import CLEANOPS, ZIPS, soft_check as check, free_port, function_zip, post  # noqa: E402

sb.need_boto3()
from botocore.exceptions import ClientError  # noqa: E402


def client(url, service, creds=None):
    creds = creds or {"AccessKeyId": "AKIDSANDBOXTEST", "SecretAccessKey": "secret"}
    return sb.client(url, service, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                     token=creds.get("SessionToken"), read_timeout=60)


def error_of(fn, *a, **kw):
    """(code, HTTP status, message) of a failed call, or None when it succeeded."""
    try:
        fn(*a, **kw)
    except ClientError as e:
        return (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response["Error"].get("Message", ""))
    return None


def wait_for(what, fn, timeout=30.0, interval=0.2):
    return sb.poll(what, fn, timeout, interval)


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resources="*", **extra):
    return dict({"Effect": "Allow", "Action": actions, "Resource": resources}, **extra)


TRUST_LAMBDA = policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"})
TRUST_APIGW = policy({"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                      "Action": "sts:AssumeRole"})


def make_role(iam, name, trust=TRUST_LAMBDA, inline=None, managed=()):
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    if inline:
        iam.put_role_policy(RoleName=name, PolicyName="main", PolicyDocument=inline)
    for m in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=m)
    return arn


def session(url, role_arn, name="test"):
    sts = client(url, "sts")
    return sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]


def start(port, data, *flags):
    return subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data,
                           *flags], capture_output=True, text=True, timeout=30)


def stop(data):
    subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], capture_output=True,
                   timeout=30)


def queue_count(sqs, qurl):
    a = sqs.get_queue_attributes(QueueUrl=qurl, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


# ---- the checks ----

def test_identity_policies(url):
    iam, ddb = client(url, "iam"), client(url, "dynamodb")
    table_arn = "arn:aws:dynamodb:%s:%s:table/orders" % (REGION, ACCOUNT)
    role = make_role(iam, "writer-no-put", inline=policy(
        allow(["dynamodb:DescribeTable", "dynamodb:GetItem"], table_arn)))
    creds = session(url, role)
    me = client(url, "sts", creds).get_caller_identity()
    check(me["Arn"] == "arn:aws:sts::%s:assumed-role/writer-no-put/test" % ACCOUNT,
          "GetCallerIdentity needs no permission (%s)" % me["Arn"])
    rddb = client(url, "dynamodb", creds)
    item = {"orderID": {"S": "o-1"}}
    check(rddb.describe_table(TableName="orders")["Table"]["TableName"] == "orders",
          "an allowed action goes through")
    err = error_of(rddb.put_item, TableName="orders", Item=item)
    want = ("User: arn:aws:sts::%s:assumed-role/writer-no-put/test is not authorized to "
            "perform: dynamodb:PutItem on resource: %s because no identity-based policy "
            "allows the dynamodb:PutItem action" % (ACCOUNT, table_arn))
    check(err is not None and err[:2] == ("AccessDeniedException", 400) and err[2] == want,
          "PutItem without permission -> AccessDeniedException 400 with AWS's message (%r)"
          % (err,))
    check("Item" not in ddb.get_item(TableName="orders", Key=item), "nothing was written")
    check(error_of(rddb.put_item, TableName="other", Item=item)[0] == "AccessDeniedException",
          "another table is refused too")
    check(ddb.put_item(TableName="orders", Item={"orderID": {"S": "op"}}) is not None,
          "the operator's credentials stay all-powerful")

    iam.put_role_policy(RoleName="writer-no-put", PolicyName="puts",
                        PolicyDocument=policy(allow("dynamodb:Put*", table_arn)))
    check(error_of(rddb.put_item, TableName="orders", Item=item) is None,
          "an inline policy adding dynamodb:Put* lets PutItem through (cache invalidated)")
    check(error_of(rddb.put_item, TableName="other", Item=item)[0] == "AccessDeniedException",
          "the Resource still limits it to its table")

    iam.put_role_policy(RoleName="writer-no-put", PolicyName="deny", PolicyDocument=policy(
        {"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": "*"}))
    err = error_of(rddb.put_item, TableName="orders", Item=item)
    check(err is not None and err[0] == "AccessDeniedException" and
          err[2].endswith("with an explicit deny in an identity-based policy"),
          "a Deny statement wins over the Allow (%r)" % (err,))
    iam.delete_role_policy(RoleName="writer-no-put", PolicyName="deny")
    check(error_of(rddb.put_item, TableName="orders", Item=item) is None,
          "deleting the Deny restores the Allow")

    # NotAction: everything but DynamoDB
    role = make_role(iam, "not-dynamo", inline=policy(
        {"Effect": "Allow", "NotAction": ["dynamodb:*", "iam:*"], "Resource": "*"}))
    creds = session(url, role)
    check(error_of(client(url, "sqs", creds).list_queues) is None,
          "NotAction allows what it does not name")
    check(error_of(client(url, "dynamodb", creds).get_item, TableName="orders", Key=item)[0]
          == "AccessDeniedException", "NotAction excludes what it names")
    check(error_of(client(url, "iam", creds).list_roles)[:2] == ("AccessDenied", 403),
          "IAM refuses with AccessDenied 403")

    # an AWS managed policy, and an unknown managed policy that grants nothing
    role = make_role(iam, "managed", managed=["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
                                              "arn:aws:iam::aws:policy/NoSuchPolicy"])
    creds = session(url, role)
    check(error_of(client(url, "dynamodb", creds).put_item, TableName="orders", Item=item)
          is None, "AmazonDynamoDBFullAccess allows PutItem")
    check(error_of(client(url, "sqs", creds).list_queues)[0] == "AccessDenied",
          "and nothing outside DynamoDB")


def test_service_shapes(url):
    iam, sqs, sns = client(url, "iam"), client(url, "sqs"), client(url, "sns")
    topic = sns.create_topic(Name="events")["TopicArn"]
    qurl = sqs.create_queue(QueueName="shapes")["QueueUrl"]
    creds = session(url, make_role(iam, "nothing"))
    err = error_of(client(url, "sqs", creds).send_message, QueueUrl=qurl, MessageBody="x")
    check(err is not None and err[:2] == ("AccessDenied", 403) and
          "perform: sqs:sendmessage on resource: arn:aws:sqs:%s:%s:shapes" % (REGION, ACCOUNT)
          in err[2], "SQS: AccessDenied 403, the action in lower case (%r)" % (err,))
    err = error_of(client(url, "sqs", creds).send_message_batch, QueueUrl=qurl,
                   Entries=[{"Id": "1", "MessageBody": "x"}])
    check(err is not None and "sqs:sendmessage" in err[2],
          "SendMessageBatch is checked as sqs:SendMessage")
    err = error_of(client(url, "sns", creds).publish, TopicArn=topic, Message="x")
    check(err is not None and err[:2] == ("AuthorizationError", 403) and
          "SNS:Publish on resource: " + topic in err[2],
          "SNS: AuthorizationError 403 (%r)" % (err,))
    err = error_of(client(url, "logs", creds).create_log_group, logGroupName="/x")
    check(err is not None and err[:2] == ("AccessDeniedException", 400) and
          "logs:CreateLogGroup on resource: arn:aws:logs:%s:%s:log-group:/x:*"
          % (REGION, ACCOUNT) in err[2], "Logs: AccessDeniedException 400 (%r)" % (err,))
    check(queue_count(sqs, qurl) == 0, "nothing was sent")


def test_queue_policy(url):
    iam, sqs, sns = client(url, "iam"), client(url, "sqs"), client(url, "sns")
    qurl = sqs.create_queue(QueueName="guarded")["QueueUrl"]
    qarn = "arn:aws:sqs:%s:%s:guarded" % (REGION, ACCOUNT)
    role = make_role(iam, "sender")
    rsqs = client(url, "sqs", session(url, role))
    check(error_of(rsqs.send_message, QueueUrl=qurl, MessageBody="x")[0] == "AccessDenied",
          "no identity policy, no queue policy: refused")
    sqs.set_queue_attributes(QueueUrl=qurl, Attributes={"Policy": policy(
        {"Sid": "RoleSends", "Effect": "Allow", "Principal": {"AWS": role},
         "Action": "sqs:SendMessage", "Resource": qarn})})
    check(error_of(rsqs.send_message, QueueUrl=qurl, MessageBody="x") is None,
          "the queue policy naming the role grants SendMessage")
    check(error_of(rsqs.receive_message, QueueUrl=qurl)[0] == "AccessDenied",
          "but only what it names")
    iam.put_role_policy(RoleName="sender", PolicyName="all", PolicyDocument=policy(
        allow("sqs:*")))
    sqs.set_queue_attributes(QueueUrl=qurl, Attributes={"Policy": policy(
        {"Effect": "Deny", "Principal": {"AWS": role}, "Action": "sqs:SendMessage",
         "Resource": qarn})})
    err = error_of(rsqs.send_message, QueueUrl=qurl, MessageBody="x")
    check(err is not None and err[0] == "AccessDenied" and
          err[2].endswith("with an explicit deny in a resource-based policy"),
          "the queue policy's Deny wins over the role's sqs:* (%r)" % (err,))
    check(error_of(rsqs.get_queue_attributes, QueueUrl=qurl, AttributeNames=["All"]) is None,
          "the role's sqs:* still covers the rest")

    # SNS delivers as sns.amazonaws.com: only where the queue policy allows it
    topic = sns.create_topic(Name="deliveries")["TopicArn"]
    open_q = sqs.create_queue(QueueName="sns-allowed")["QueueUrl"]
    shut_q = sqs.create_queue(QueueName="sns-refused")["QueueUrl"]
    for name, qu, principal in (("sns-allowed", open_q, {"Service": "sns.amazonaws.com"}),
                                ("sns-refused", shut_q, {"Service": "s3.amazonaws.com"})):
        arn = "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name)
        sqs.set_queue_attributes(QueueUrl=qu, Attributes={"Policy": policy(
            {"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage",
             "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}})})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                      Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="hello")
    got = sqs.receive_message(QueueUrl=open_q, WaitTimeSeconds=10).get("Messages", [])
    check(len(got) == 1 and got[0]["Body"] == "hello",
          "SNS delivers where the queue policy allows sns.amazonaws.com")
    time.sleep(0.5)
    check(queue_count(sqs, shut_q) == 0, "and nothing where it does not")


def test_writer_function(url, data):
    iam, sqs, ddb = client(url, "iam"), client(url, "sqs"), client(url, "dynamodb")
    lam, logs = client(url, "lambda"), client(url, "logs")
    table_arn = "arn:aws:dynamodb:%s:%s:table/orders" % (REGION, ACCOUNT)
    dlq = sqs.create_queue(QueueName="fn-dlq")["QueueUrl"]
    q = sqs.create_queue(QueueName="fn-queue", Attributes={
        "VisibilityTimeout": "2", "RedrivePolicy": json.dumps({
            "deadLetterTargetArn": "arn:aws:sqs:%s:%s:fn-dlq" % (REGION, ACCOUNT),
            "maxReceiveCount": "2"})})["QueueUrl"]
    qarn = "arn:aws:sqs:%s:%s:fn-queue" % (REGION, ACCOUNT)
    group = "arn:aws:logs:%s:%s:log-group:/aws/lambda/POC-Lambda-1" % (REGION, ACCOUNT)
    role = make_role(iam, "fn-writer", inline=policy(
        allow("dynamodb:DescribeTable", table_arn),
        allow(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
               "sqs:ChangeMessageVisibility"], qarn),
        allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
              [group, group + ":*"])))
    lam.create_function(FunctionName="POC-Lambda-1", Runtime="provided.al2023", Role=role,
                        Handler="bootstrap", Timeout=10,
                        Code={"ZipFile": function_zip(os.path.join(ZIPS, "POC-Lambda-1.zip"))},
                        Environment={"Variables": {"ORDERS_TABLE": "orders"}})
    wait_for("function Active", lambda: lam.get_function(FunctionName="POC-Lambda-1")[
        "Configuration"]["State"] == "Active")
    uuid = lam.create_event_source_mapping(FunctionName="POC-Lambda-1", EventSourceArn=qarn,
                                           BatchSize=10,
                                           FunctionResponseTypes=["ReportBatchItemFailures"])[
        "UUID"]
    order = {"orderID": "iam-denied", "item": "soap", "quantity": 1}
    sqs.send_message(QueueUrl=q, MessageBody=json.dumps(order))

    def denied_logged():
        try:
            ev = logs.filter_log_events(logGroupName="/aws/lambda/POC-Lambda-1",
                                        filterPattern="AccessDenied")["events"]
        except ClientError:
            return None
        return [e["message"] for e in ev if "iam-denied" in e["message"] or
                "dynamodb:PutItem" in e["message"]]
    lines = wait_for("the function's AccessDenied log", denied_logged, 30)
    check(bool(lines) and any("AccessDeniedException" in m for m in lines),
          "the writer logs AccessDenied for PutItem (%s)" % (lines[:1] if lines else None))
    moved = wait_for("the order in the DLQ", lambda: sqs.receive_message(
        QueueUrl=dlq, WaitTimeSeconds=1).get("Messages"), 40)
    check(bool(moved) and json.loads(moved[0]["Body"])["orderID"] == "iam-denied",
          "after maxReceiveCount the order is in the DLQ")
    check("Item" not in ddb.get_item(TableName="orders", Key={"orderID": {"S": "iam-denied"}}),
          "the refused order was never stored")

    iam.put_role_policy(RoleName="fn-writer", PolicyName="put", PolicyDocument=policy(
        allow("dynamodb:PutItem", table_arn)))
    order = {"orderID": "iam-allowed", "item": "soap", "quantity": 1}
    sqs.send_message(QueueUrl=q, MessageBody=json.dumps(order))
    stored = wait_for("the allowed order", lambda: ddb.get_item(
        TableName="orders", Key={"orderID": {"S": "iam-allowed"}}).get("Item"), 30)
    check(bool(stored), "with dynamodb:PutItem in the role's policy the order is stored")

    # the poller itself uses the execution role: without sqs:ReceiveMessage nothing is read
    iam.put_role_policy(RoleName="fn-writer", PolicyName="noreceive", PolicyDocument=policy(
        {"Effect": "Deny", "Action": "sqs:ReceiveMessage", "Resource": qarn}))
    time.sleep(2)  # long polls begun before the change end (IAM is eventually consistent)
    sqs.send_message(QueueUrl=q, MessageBody=json.dumps({"orderID": "iam-unread", "item": "x",
                                                         "quantity": 1}))
    res = wait_for("the mapping's PROBLEM", lambda: "permission" in lam.get_event_source_mapping(
        UUID=uuid).get("LastProcessingResult", ""), 15)
    check(bool(res), "a role denied sqs:ReceiveMessage leaves the mapping in PROBLEM")
    time.sleep(1)
    left = queue_count(sqs, q)
    stored = "Item" in ddb.get_item(TableName="orders", Key={"orderID": {"S": "iam-unread"}})
    check(left == 1 and not stored,
          "and the message stays on the queue (%d left, stored: %s)" % (left, stored))
    lam.delete_event_source_mapping(UUID=uuid)

    # Lambda writes the function's logs with its role: without logs permissions, no logs
    quiet = make_role(iam, "fn-no-logs", inline=policy(allow("dynamodb:DescribeTable",
                                                             table_arn)))
    lam.create_function(FunctionName="no-logs", Runtime="provided.al2023", Role=quiet,
                        Handler="bootstrap", Timeout=10,
                        Code={"ZipFile": function_zip(os.path.join(ZIPS, "POC-Lambda-1.zip"))},
                        Environment={"Variables": {"ORDERS_TABLE": "orders"}})
    wait_for("no-logs Active", lambda: lam.get_function(FunctionName="no-logs")[
        "Configuration"]["State"] == "Active")
    r = lam.invoke(FunctionName="no-logs", Payload=json.dumps({"Records": []}))
    check(r["StatusCode"] == 200, "the function without logs permissions runs")
    time.sleep(0.5)
    try:
        events = logs.filter_log_events(logGroupName="/aws/lambda/no-logs")["events"]
    except ClientError:
        events = []
    check(events == [], "and writes no logs (%d events)" % len(events))
    written = logs.filter_log_events(logGroupName="/aws/lambda/POC-Lambda-1")["events"]
    check(any(e["message"].startswith("REPORT") for e in written),
          "while the role with logs permissions has its REPORT lines")


def seed_api(apigw, name, role, queue):
    """POST /orders -> SQS by path with the credentials role; SQS's 4xx answer maps to 500."""
    api = apigw.create_rest_api(name=name)
    api_id, root = api["id"], api["rootResourceId"]
    res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="orders")
    apigw.put_method(restApiId=api_id, resourceId=res["id"], httpMethod="POST",
                     authorizationType="NONE")
    apigw.put_integration(
        restApiId=api_id, resourceId=res["id"], httpMethod="POST", type="AWS",
        integrationHttpMethod="POST",
        uri="arn:aws:apigateway:%s:sqs:path/%s/%s" % (REGION, ACCOUNT, queue),
        credentials=role,
        requestParameters={"integration.request.header.Content-Type":
                           "'application/x-www-form-urlencoded'"},
        requestTemplates={"application/json": "Action=SendMessage&MessageBody=$input.body"},
        passthroughBehavior="NEVER")
    for code, pattern in (("200", ""), ("500", r"4\d{2}|5\d{2}")):
        apigw.put_method_response(restApiId=api_id, resourceId=res["id"], httpMethod="POST",
                                  statusCode=code)
        apigw.put_integration_response(restApiId=api_id, resourceId=res["id"],
                                       httpMethod="POST", statusCode=code,
                                       selectionPattern=pattern)
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    return api_id


def test_api_gateway(url):
    iam, sqs, apigw = client(url, "iam"), client(url, "sqs"), client(url, "apigateway")
    qurl = sqs.create_queue(QueueName="api-orders")["QueueUrl"]
    qarn = "arn:aws:sqs:%s:%s:api-orders" % (REGION, ACCOUNT)
    role = make_role(iam, "api-no-send", trust=TRUST_APIGW, inline=policy(
        allow("sqs:GetQueueUrl", qarn)))
    api = seed_api(apigw, "iam-api", role, "api-orders")
    invoke = "%s/restapis/%s/prod/_user_request_/orders" % (url, api)
    code, body = post(invoke, json.dumps({"orderID": "api-1"}))
    check(code == 500 and "AccessDenied" in body,
          "a credentials role without sqs:SendMessage: the API answers 500 (%d %s)"
          % (code, body[:200]))
    check(queue_count(sqs, qurl) == 0, "and nothing is on the queue")

    iam.put_role_policy(RoleName="api-no-send", PolicyName="send", PolicyDocument=policy(
        allow("sqs:SendMessage", qarn)))
    code, body = post(invoke, json.dumps({"orderID": "api-2"}))
    check(code == 200 and "MessageId" in body, "with sqs:SendMessage the order is queued (%d)"
          % code)
    check(queue_count(sqs, qurl) == 1, "one message on the queue")

    untrusting = make_role(iam, "api-untrusted", inline=policy(allow("sqs:*")))
    api = seed_api(apigw, "iam-api-2", untrusting, "api-orders")
    code, body = post("%s/restapis/%s/prod/_user_request_/orders" % (url, api),
                      json.dumps({"orderID": "api-3"}))
    check(code == 500 and "Internal server error" in body,
          "a role that does not trust apigateway.amazonaws.com: 500 Internal server error")
    check(queue_count(sqs, qurl) == 1, "and nothing more is queued")


NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."


def tiny_zip():
    """A function package that is never run (the mappings below stay disabled)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("bootstrap", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = (0o100755 << 16)
        z.writestr(info, "#!/bin/sh\nexit 1\n")
    return buf.getvalue()


def test_missing_roles(url):
    iam, lam, sqs = client(url, "iam"), client(url, "lambda"), client(url, "sqs")
    apigw = client(url, "apigateway")
    missing = "arn:aws:iam::%s:role/no-such-role" % ACCOUNT
    err = error_of(lam.create_function, FunctionName="ghost", Runtime="provided.al2023",
                   Role=missing, Handler="x", Code={"ZipFile": tiny_zip()})
    check(err == ("InvalidParameterValueException", 400, NOT_ASSUMABLE),
          "CreateFunction with a role that does not exist is refused as on AWS (%r)" % (err,))
    check(error_of(lam.get_function, FunctionName="ghost")[0] == "ResourceNotFoundException",
          "and no function was created")
    api_only = make_role(iam, "api-only", trust=TRUST_APIGW)
    err = error_of(lam.create_function, FunctionName="ghost", Runtime="provided.al2023",
                   Role=api_only, Handler="x", Code={"ZipFile": tiny_zip()})
    check(err == ("InvalidParameterValueException", 400, NOT_ASSUMABLE),
          "a role whose trust policy does not name lambda.amazonaws.com too (%r)" % (err,))
    good = make_role(iam, "assumable")
    lam.create_function(FunctionName="ghost", Runtime="provided.al2023", Role=good,
                        Handler="x", Code={"ZipFile": tiny_zip()})
    err = error_of(lam.update_function_configuration, FunctionName="ghost", Role=missing)
    check(err == ("InvalidParameterValueException", 400, NOT_ASSUMABLE),
          "UpdateFunctionConfiguration to a missing role is refused (%r)" % (err,))
    check(lam.get_function_configuration(FunctionName="ghost")["Role"] == good,
          "and the function keeps its role")
    lam.delete_function(FunctionName="ghost")

    # a session whose role has been deleted may do nothing
    gone = make_role(iam, "short-lived", inline=policy(allow("sqs:*")))
    rsqs = client(url, "sqs", session(url, gone))
    check(error_of(rsqs.list_queues) is None, "the session works while its role exists")
    iam.delete_role_policy(RoleName="short-lived", PolicyName="main")
    iam.delete_role(RoleName="short-lived")
    err = error_of(rsqs.list_queues)
    check(err is not None and err[:2] == ("AccessDenied", 403),
          "after DeleteRole the session is denied everything (%r)" % (err,))

    # API Gateway: PutIntegration takes any role ARN; the invocation fails with a 500
    qurl = sqs.create_queue(QueueName="api-ghost")["QueueUrl"]
    api = seed_api(apigw, "iam-api-ghost", missing, "api-ghost")
    code, body = post("%s/restapis/%s/prod/_user_request_/orders" % (url, api),
                      json.dumps({"orderID": "ghost-1"}))
    check(code == 500 and json.loads(body) == {"message": "Internal server error"},
          "a credentials role that does not exist: 500 Internal server error (%d %s)"
          % (code, body[:120]))
    check(queue_count(sqs, qurl) == 0, "and nothing is queued")


def test_sns_needs_queue_policy(url):
    sqs, sns = client(url, "sqs"), client(url, "sns")
    topic = sns.create_topic(Name="no-policy")["TopicArn"]
    qurl = sqs.create_queue(QueueName="no-policy-q")["QueueUrl"]
    qarn = "arn:aws:sqs:%s:%s:no-policy-q" % (REGION, ACCOUNT)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn,
                  Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="lost")
    time.sleep(1.0)
    check(queue_count(sqs, qurl) == 0, "SNS does not deliver to a queue without a policy")
    sqs.set_queue_attributes(QueueUrl=qurl, Attributes={"Policy": policy(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage",
         "Resource": qarn, "Condition": {"ArnLike": {"aws:SourceArn": topic}}})})
    sns.publish(TopicArn=topic, Message="kept")
    got = sqs.receive_message(QueueUrl=qurl, WaitTimeSeconds=10).get("Messages", [])
    check([m["Body"] for m in got] == ["kept"],
          "with a policy allowing any principal from the topic the next message arrives")


def test_mapping_role_checks(url):
    iam, lam, sqs, ddb = (client(url, "iam"), client(url, "lambda"), client(url, "sqs"),
                          client(url, "dynamodb"))
    sqs.create_queue(QueueName="esm-src")
    qarn = "arn:aws:sqs:%s:%s:esm-src" % (REGION, ACCOUNT)
    stream = ddb.create_table(
        TableName="esm-table", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})[
        "TableDescription"]["LatestStreamArn"]
    bare = make_role(iam, "esm-bare", inline=policy(allow("sqs:ReceiveMessage", qarn)))
    lam.create_function(FunctionName="esm-fn", Runtime="provided.al2023", Role=bare,
                        Handler="x", Code={"ZipFile": tiny_zip()})
    err = error_of(lam.create_event_source_mapping, FunctionName="esm-fn",
                   EventSourceArn=qarn, Enabled=False)
    check(err == ("InvalidParameterValueException", 400, "The function execution role does "
                  "not have permissions to call DeleteMessage on SQS"),
          "SQS mapping: the role must allow DeleteMessage too (%r)" % (err,))
    iam.delete_role_policy(RoleName="esm-bare", PolicyName="main")
    err = error_of(lam.create_event_source_mapping, FunctionName="esm-fn",
                   EventSourceArn=qarn, Enabled=False)
    check(err == ("InvalidParameterValueException", 400, "The function execution role does "
                  "not have permissions to call ReceiveMessage on SQS"),
          "SQS mapping with a role without sqs:ReceiveMessage: AWS's refusal (%r)" % (err,))
    err = error_of(lam.create_event_source_mapping, FunctionName="esm-fn",
                   EventSourceArn=stream, StartingPosition="LATEST", Enabled=False)
    want = ("Cannot access stream %s. Please ensure the role can perform the GetRecords, "
            "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM."
            % stream)
    check(err == ("InvalidParameterValueException", 400, want),
          "stream mapping without the stream permissions: AWS's refusal (%r)" % (err,))
    check(lam.list_event_source_mappings(FunctionName="esm-fn")["EventSourceMappings"] == [],
          "no mapping was created")

    iam.attach_role_policy(RoleName="esm-bare", PolicyArn="arn:aws:iam::aws:policy/"
                           "service-role/AWSLambdaSQSQueueExecutionRole")
    sqs_map = lam.create_event_source_mapping(FunctionName="esm-fn", EventSourceArn=qarn,
                                              Enabled=False)["UUID"]
    check(bool(sqs_map), "with AWSLambdaSQSQueueExecutionRole the SQS mapping is created")
    iam.attach_role_policy(RoleName="esm-bare", PolicyArn="arn:aws:iam::aws:policy/"
                           "service-role/AWSLambdaDynamoDBExecutionRole")
    r = lam.create_event_source_mapping(FunctionName="esm-fn", EventSourceArn=stream,
                                        StartingPosition="LATEST", Enabled=False)
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 202,
          "with AWSLambdaDynamoDBExecutionRole the stream mapping is created")

    # moving a mapping to a function whose role may not read the queue is refused
    other = make_role(iam, "esm-other")
    lam.create_function(FunctionName="esm-fn-2", Runtime="provided.al2023", Role=other,
                        Handler="x", Code={"ZipFile": tiny_zip()})
    wait_for("the SQS mapping Disabled", lambda: lam.get_event_source_mapping(
        UUID=sqs_map)["State"] == "Disabled", 15)
    err = error_of(lam.update_event_source_mapping, UUID=sqs_map, FunctionName="esm-fn-2")
    check(err is not None and err[:2] == ("InvalidParameterValueException", 400) and
          "ReceiveMessage on SQS" in err[2],
          "UpdateEventSourceMapping to a function whose role cannot read: refused (%r)" % (err,))
    check(lam.get_event_source_mapping(UUID=sqs_map)["FunctionArn"].endswith(":esm-fn"),
          "and the mapping keeps its function")
    lam.delete_event_source_mapping(UUID=sqs_map)
    lam.delete_event_source_mapping(UUID=r["UUID"])


def test_no_enforce(tmp):
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    data = os.path.join(tmp, "open")
    r = start(port, data, "--no-enforce-iam")
    check(r.returncode == 0, "start --no-enforce-iam: %s" % r.stderr.strip())
    if r.returncode != 0:
        return
    try:
        client(url, "dynamodb").create_table(
            TableName="tbl", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
        creds = session(url, make_role(client(url, "iam"), "bare"))
        check(error_of(client(url, "dynamodb", creds).put_item, TableName="tbl",
                       Item={"k": {"S": "v"}}) is None,
              "--no-enforce-iam: a role without any policy may PutItem")
        check(error_of(client(url, "sqs", creds).create_queue, QueueName="q") is None,
              "--no-enforce-iam: and create a queue")
        check(error_of(client(url, "lambda").create_function, FunctionName="f",
                       Runtime="provided.al2023", Handler="x", Code={"ZipFile": tiny_zip()},
                       Role="arn:aws:iam::%s:role/made-up" % ACCOUNT) is None,
              "--no-enforce-iam: a function may name a role that does not exist")
        sqs, sns = client(url, "sqs"), client(url, "sns")
        qurl = sqs.create_queue(QueueName="open")["QueueUrl"]
        topic = sns.create_topic(Name="open")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:%s:%s:open"
                      % (REGION, ACCOUNT), Attributes={"RawMessageDelivery": "true"})
        sns.publish(TopicArn=topic, Message="m")
        got = sqs.receive_message(QueueUrl=qurl, WaitTimeSeconds=10).get("Messages", [])
        check(len(got) == 1, "--no-enforce-iam: SNS delivers to a queue without a policy")
        log = open(os.path.join(data, "sandbox.log")).read()
        check("IAM not enforced" in log, "the log says IAM is not enforced")
    finally:
        stop(data)


def main():
    if not os.path.isfile(os.path.join(ZIPS, "POC-Lambda-1.zip")):
        print("SKIP: the Lambda packages are not built (%s)" % ZIPS)
        return 77
    tmp = tempfile.mkdtemp(prefix="sandbox_iam.")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    data = os.path.join(tmp, "sandbox")
    r = start(port, data)
    if r.returncode != 0:
        print("FAIL  the sandbox did not start: %s" % r.stderr)
        return 1
    try:
        client(url, "dynamodb").create_table(
            TableName="orders", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "orderID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "orderID", "KeyType": "HASH"}])
        test_identity_policies(url)
        test_service_shapes(url)
        test_queue_policy(url)
        test_api_gateway(url)
        test_missing_roles(url)
        test_sns_needs_queue_policy(url)
        test_mapping_role_checks(url)
        test_writer_function(url, data)
        log = open(os.path.join(data, "sandbox.log")).read()
        check(re.search(r"iam: denied dynamodb:PutItem on arn:aws:dynamodb:\S+:table/orders",
                        log) is not None, "refusals are logged")
        check("Condition, which the sandbox does not evaluate" in log,
              "an ignored Condition is logged")
        check("lambda.amazonaws.com may not assume arn:aws:iam::%s:role/no-such-role "
              "(no such role)" % ACCOUNT in log, "the missing role is logged")
        check(re.search(r"sns: delivery to arn:aws:sqs:\S+:no-policy-q of \S+ refused", log)
              is not None, "the refused SNS delivery is logged")
    finally:
        stop(data)
    test_no_enforce(tmp)
    if sb.FAILURES:
        print("sandbox_iam: %d FAILED (logs in %s)" % (len(sb.FAILURES), tmp))
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("sandbox_iam: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
