#!/usr/bin/env python3
"""sandbox_core.py: the sandbox's core, IAM, STS and CloudWatch Logs driven by boto3 and the
AWS CLI against a private sandbox on a free port; malformed requests; --strict-auth; busy
port; kill -9 durability; stop."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import CLEANOPS, free_port  # noqa: E402

sb.need_boto3()
from botocore.exceptions import ClientError  # noqa: E402

if not os.access(CLEANOPS, os.X_OK):
    print(f"SKIP: no cleanops binary at {CLEANOPS}")
    sys.exit(77)
AWS_CLI = shutil.which("aws")

failures = []


def check(cond, what):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}")
        failures.append(what)


def sandbox(*args):
    return subprocess.run([CLEANOPS, "sandbox", *args], capture_output=True, text=True,
                          timeout=60)


def client(service, url, key="test", secret="test"):
    return sb.client(url, service, key=key, secret=secret)


def error_of(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def raw(port, method, body, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request(method, "/", body=body, headers=headers)
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def cli(url, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    p = subprocess.run([AWS_CLI, "--endpoint-url", url, "--output", "json", *args],
                       capture_output=True, text=True, env=env, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_iam(url):
    iam = client("iam", url)
    doc = {"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
             "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}
    p = iam.create_policy(PolicyName="send", PolicyDocument=json.dumps(doc),
                          Description="d & <x>")["Policy"]
    arn = p["Arn"]
    check(arn == "arn:aws:iam::000000000000:policy/send", "CreatePolicy ARN")
    check(p["DefaultVersionId"] == "v1" and p["IsAttachable"] is True, "CreatePolicy fields")
    check(error_of(iam.create_policy, PolicyName="send", PolicyDocument="{}") ==
          ("EntityAlreadyExists", 409), "CreatePolicy twice -> EntityAlreadyExists 409")
    check(error_of(iam.create_policy, PolicyName="bad", PolicyDocument="{not json") ==
          ("MalformedPolicyDocument", 400), "bad document -> MalformedPolicyDocument")
    doc2 = dict(doc, Statement=[dict(doc["Statement"][0], Action="sqs:*")])
    v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc2),
                                  SetAsDefault=True)["PolicyVersion"]
    check(v["VersionId"] == "v2" and v["IsDefaultVersion"] is True, "CreatePolicyVersion v2")
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
    check(got["Document"] == doc2, "GetPolicyVersion document decoded by boto3")
    vers = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    check([x["VersionId"] for x in vers] == ["v2", "v1"], "ListPolicyVersions")
    check(error_of(iam.delete_policy_version, PolicyArn=arn, VersionId="v2") ==
          ("DeleteConflict", 409), "delete default version -> DeleteConflict")
    check(iam.get_policy(PolicyArn=arn)["Policy"]["Description"] == "d & <x>",
          "GetPolicy description escaped and back")

    r = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(trust),
                        Tags=[{"Key": "team", "Value": "ops"}])["Role"]
    check(r["Arn"] == "arn:aws:iam::000000000000:role/fn-role", "CreateRole ARN")
    check(iam.get_role(RoleName="fn-role")["Role"]["AssumeRolePolicyDocument"] == trust,
          "GetRole trust policy round trip")
    check(error_of(iam.get_role, RoleName="nope") == ("NoSuchEntity", 404),
          "GetRole missing -> NoSuchEntity 404")
    check(error_of(iam.create_role, RoleName="fn-role",
                   AssumeRolePolicyDocument=json.dumps(trust)) == ("EntityAlreadyExists", 409),
          "CreateRole twice -> EntityAlreadyExists")
    check(error_of(iam.create_role, RoleName="x", AssumeRolePolicyDocument="nope") ==
          ("MalformedPolicyDocument", 400), "CreateRole bad trust -> MalformedPolicyDocument")
    iam.attach_role_policy(RoleName="fn-role", PolicyArn=arn)
    iam.attach_role_policy(RoleName="fn-role", PolicyArn="arn:aws:iam::aws:policy/service-role/"
                           "AWSLambdaBasicExecutionRole")
    att = iam.list_attached_role_policies(RoleName="fn-role")["AttachedPolicies"]
    check([a["PolicyName"] for a in att] == ["send", "AWSLambdaBasicExecutionRole"],
          "ListAttachedRolePolicies")
    check(iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1, "AttachmentCount")
    iam.put_role_policy(RoleName="fn-role", PolicyName="inline", PolicyDocument=json.dumps(doc))
    check(iam.get_role_policy(RoleName="fn-role", PolicyName="inline")["PolicyDocument"] == doc,
          "GetRolePolicy document")
    check(iam.list_role_policies(RoleName="fn-role")["PolicyNames"] == ["inline"],
          "ListRolePolicies")
    check(error_of(iam.delete_role, RoleName="fn-role") == ("DeleteConflict", 409),
          "DeleteRole with policies -> DeleteConflict")
    check(error_of(iam.delete_policy, PolicyArn=arn) == ("DeleteConflict", 409),
          "DeletePolicy attached -> DeleteConflict")
    new_trust = dict(trust, Statement=[dict(trust["Statement"][0],
                     Principal={"Service": "apigateway.amazonaws.com"})])
    iam.update_assume_role_policy(RoleName="fn-role", PolicyDocument=json.dumps(new_trust))
    check(iam.get_role(RoleName="fn-role")["Role"]["AssumeRolePolicyDocument"] == new_trust,
          "UpdateAssumeRolePolicy")
    iam.tag_role(RoleName="fn-role", Tags=[{"Key": "env", "Value": "dev"}])
    tags = iam.list_role_tags(RoleName="fn-role")["Tags"]
    check(tags == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "ops"}], "role tags")
    for i in range(3):
        iam.create_role(RoleName=f"page-{i}", Path="/paged/",
                        AssumeRolePolicyDocument=json.dumps(trust))
    pages = list(iam.get_paginator("list_roles").paginate(PathPrefix="/paged/",
                                                          PaginationConfig={"PageSize": 2}))
    names = [x["RoleName"] for p in pages for x in p["Roles"]]
    check(len(pages) == 2 and names == ["page-0", "page-1", "page-2"] and
          pages[1]["Roles"][0]["Arn"] == "arn:aws:iam::000000000000:role/paged/page-2",
          "ListRoles with PathPrefix paginated with Marker/IsTruncated")
    iam.detach_role_policy(RoleName="fn-role", PolicyArn=arn)
    check(error_of(iam.detach_role_policy, RoleName="fn-role", PolicyArn=arn) ==
          ("NoSuchEntity", 404), "detach twice -> NoSuchEntity")
    iam.detach_role_policy(RoleName="fn-role", PolicyArn="arn:aws:iam::aws:policy/service-role/"
                           "AWSLambdaBasicExecutionRole")
    iam.delete_role_policy(RoleName="fn-role", PolicyName="inline")
    iam.delete_role(RoleName="fn-role")
    check(error_of(iam.get_role, RoleName="fn-role")[0] == "NoSuchEntity", "DeleteRole")
    check(error_of(iam.delete_policy, PolicyArn=arn) == ("DeleteConflict", 409),
          "DeletePolicy with versions -> DeleteConflict")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy(PolicyArn=arn)
    check(error_of(iam.get_policy, PolicyArn=arn)[0] == "NoSuchEntity", "DeletePolicy")
    return iam


def test_sts(url):
    sts = client("sts", url)
    ident = sts.get_caller_identity()
    check(ident["Account"] == "000000000000" and
          ident["Arn"] == "arn:aws:iam::000000000000:root", "GetCallerIdentity (root)")
    iam = client("iam", url)
    iam.create_role(RoleName="assumed", AssumeRolePolicyDocument="{}")
    creds = sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/assumed",
                            RoleSessionName="s1")["Credentials"]
    sts2 = client("sts", url, creds["AccessKeyId"], creds["SecretAccessKey"])
    arn = sts2.get_caller_identity()["Arn"]
    check(arn == "arn:aws:sts::000000000000:assumed-role/assumed/s1",
          "GetCallerIdentity with role credentials")


def test_logs(url):
    logs = client("logs", url)
    logs.create_log_group(logGroupName="/aws/lambda/one")
    logs.create_log_group(logGroupName="/aws/lambda/two")
    logs.create_log_group(logGroupName="/other")
    check(error_of(logs.create_log_group, logGroupName="/other") ==
          ("ResourceAlreadyExistsException", 400), "CreateLogGroup twice")
    g = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/", limit=1)
    check(len(g["logGroups"]) == 1 and "nextToken" in g, "DescribeLogGroups limit + nextToken")
    g2 = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/", nextToken=g["nextToken"])
    check([x["logGroupName"] for x in g2["logGroups"]] == ["/aws/lambda/two"] and
          "nextToken" not in g2, "DescribeLogGroups second page")
    logs.put_retention_policy(logGroupName="/other", retentionInDays=7)
    g = logs.describe_log_groups(logGroupNamePrefix="/other")["logGroups"][0]
    check(g["retentionInDays"] == 7, "PutRetentionPolicy")
    check(error_of(logs.put_retention_policy, logGroupName="/other", retentionInDays=8)[0] ==
          "InvalidParameterException", "bad retention -> InvalidParameterException")
    grp = "/aws/lambda/one"
    logs.create_log_stream(logGroupName=grp, logStreamName="a")
    logs.create_log_stream(logGroupName=grp, logStreamName="b")
    check(error_of(logs.create_log_stream, logGroupName="/nope", logStreamName="a")[0] ==
          "ResourceNotFoundException", "CreateLogStream in missing group")
    now = int(time.time() * 1000)
    ev = [{"timestamp": now - 5000 + i, "message": f"line {i} {'ERROR' if i % 3 == 0 else 'ok'}"}
          for i in range(25)]
    r = logs.put_log_events(logGroupName=grp, logStreamName="a", logEvents=ev)
    check("nextSequenceToken" in r, "PutLogEvents")
    logs.put_log_events(logGroupName=grp, logStreamName="b",
                        logEvents=[{"timestamp": now, "message": "from b ERROR"}])
    check(error_of(logs.put_log_events, logGroupName=grp, logStreamName="a",
                   logEvents=[{"timestamp": now, "message": "x"},
                              {"timestamp": now - 10, "message": "y"}])[0] ==
          "InvalidParameterException", "PutLogEvents out of order rejected")
    # forward paging from the head until the token repeats
    got, token, pages = [], None, 0
    while True:
        kw = {"nextToken": token} if token else {}
        p = logs.get_log_events(logGroupName=grp, logStreamName="a", startFromHead=True,
                                limit=10, **kw)
        got += [e["message"] for e in p["events"]]
        pages += 1
        if p["nextForwardToken"] == token or pages > 10:
            break
        token = p["nextForwardToken"]
    check(got == [e["message"] for e in ev] and pages == 4,
          "GetLogEvents forward paging ends on the same token")
    tail = logs.get_log_events(logGroupName=grp, logStreamName="a", limit=5)
    check([e["message"] for e in tail["events"]] == [e["message"] for e in ev[-5:]],
          "GetLogEvents without startFromHead returns the newest")
    back = logs.get_log_events(logGroupName=grp, logStreamName="a", limit=5,
                               nextToken=tail["nextBackwardToken"])
    check([e["message"] for e in back["events"]] == [e["message"] for e in ev[-10:-5]],
          "GetLogEvents nextBackwardToken")
    f = logs.filter_log_events(logGroupName=grp, filterPattern="ERROR line")
    want = [e["message"] for e in ev if "ERROR" in e["message"]]
    check([e["message"] for e in f["events"]] == want, "FilterLogEvents all terms must appear")
    f = logs.filter_log_events(logGroupName=grp, filterPattern="ERROR", startTime=now - 5000,
                               endTime=now - 5000 + 10)
    check([e["message"] for e in f["events"]] == [e["message"] for e in ev[:10]
                                                  if "ERROR" in e["message"]],
          "FilterLogEvents time range")
    seen, kw = [], {}
    for _ in range(20):
        f = logs.filter_log_events(logGroupName=grp, filterPattern="ERROR", limit=3, **kw)
        seen += [e["message"] for e in f["events"]]
        if "nextToken" not in f:
            break
        kw = {"nextToken": f["nextToken"]}
    check(seen == want + ["from b ERROR"], "FilterLogEvents nextToken paging across streams")
    s = logs.describe_log_streams(logGroupName=grp)["logStreams"]
    check([x["logStreamName"] for x in s] == ["a", "b"] and
          s[0]["lastEventTimestamp"] == ev[-1]["timestamp"], "DescribeLogStreams")
    logs.delete_log_stream(logGroupName=grp, logStreamName="b")
    logs.delete_log_group(logGroupName="/other")
    check(error_of(logs.delete_log_group, logGroupName="/other")[0] ==
          "ResourceNotFoundException", "DeleteLogGroup")


def test_cli(url):
    if not AWS_CLI:
        print("note: aws CLI not installed; CLI checks skipped")
        return
    rc, out, err = cli(url, "sts", "get-caller-identity")
    check(rc == 0 and json.loads(out)["Account"] == "000000000000", "aws sts get-caller-identity")
    rc, out, err = cli(url, "iam", "create-role", "--role-name", "cli-role",
                       "--assume-role-policy-document", '{"Version":"2012-10-17"}')
    check(rc == 0 and json.loads(out)["Role"]["RoleName"] == "cli-role", "aws iam create-role")
    rc, out, err = cli(url, "iam", "get-role", "--role-name", "cli-role")
    check(rc == 0 and json.loads(out)["Role"]["AssumeRolePolicyDocument"] ==
          {"Version": "2012-10-17"}, "aws iam get-role")
    rc, out, err = cli(url, "iam", "get-role", "--role-name", "missing")
    check(rc != 0 and "NoSuchEntity" in err, "aws iam get-role missing -> NoSuchEntity")
    rc, out, err = cli(url, "iam", "list-roles", "--max-items", "50")
    check(rc == 0 and any(r["RoleName"] == "cli-role" for r in json.loads(out)["Roles"]),
          "aws iam list-roles")
    rc, out, err = cli(url, "logs", "create-log-group", "--log-group-name", "/cli")
    check(rc == 0, "aws logs create-log-group")
    cli(url, "logs", "create-log-stream", "--log-group-name", "/cli", "--log-stream-name", "s")
    rc, out, err = cli(url, "logs", "put-log-events", "--log-group-name", "/cli",
                       "--log-stream-name", "s", "--log-events",
                       f"timestamp={int(time.time() * 1000)},message=hello-cli")
    check(rc == 0, "aws logs put-log-events")
    rc, out, err = cli(url, "logs", "filter-log-events", "--log-group-name", "/cli",
                       "--filter-pattern", "hello-cli")
    check(rc == 0 and [e["message"] for e in json.loads(out)["events"]] == ["hello-cli"],
          "aws logs filter-log-events (paginated by the CLI)")
    rc, out, err = cli(url, "logs", "describe-log-groups")
    check(rc == 0 and any(g["logGroupName"] == "/cli" for g in json.loads(out)["logGroups"]),
          "aws logs describe-log-groups")


def test_malformed(port):
    st, h, body = raw(port, "POST", b"{not json", {"X-Amz-Target": "Logs_20140328.CreateLogGroup",
                      "Content-Type": "application/x-amz-json-1.1"})
    check(st == 400 and json.loads(body)["__type"].endswith("#SerializationException") and
          h.get("content-type") == "application/x-amz-json-1.1" and "x-amzn-requestid" in h,
          "bad JSON -> 400 SerializationException, JSON 1.1 content type, request id")
    st, h, body = raw(port, "POST", b"[]", {"X-Amz-Target": "Logs_20140328.CreateLogGroup",
                      "Content-Type": "application/x-amz-json-1.1"})
    check(st == 400 and b"SerializationException" in body, "JSON array body -> Serialization")
    st, h, body = raw(port, "POST", b"{}", {"X-Amz-Target": "Logs_20140328.NoSuchThing",
                      "Content-Type": "application/x-amz-json-1.1"})
    check(st == 400 and b"UnknownOperationException" in body, "unknown op -> Unknown...")
    st, h, body = raw(port, "POST", b"{}", {"X-Amz-Target": "Bogus_2020.Op",
                      "Content-Type": "application/x-amz-json-1.0"})
    check(st == 400 and b"UnknownOperationException" in body, "unknown target -> Unknown...")
    st, h, body = raw(port, "POST", b"Action=Frobnicate&Version=2010-05-08",
                      {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400 and b"<Code>InvalidAction</Code>" in body and
          h.get("content-type") == "text/xml" and b"<RequestId>" in body,
          "unknown action -> InvalidAction XML")
    st, h, body = raw(port, "POST", b"Version=2010-05-08",
                      {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400 and b"MissingAction" in body, "no Action -> MissingAction")
    st, h, body = raw(port, "POST", b"Action=GetRole&Version=2010-05-08&RoleName=%zz",
                      {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400 and b"<Error>" in body, "bad percent escape -> query error")
    st, h, body = raw(port, "POST", b"Action=GetRole&Version=2010-05-08",
                      {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400 and b"ValidationError" in body, "missing member -> ValidationError")
    big = b"{" + b" " * (17 * 1024 * 1024) + b"}"
    try:
        st, h, body = raw(port, "POST", big, {"X-Amz-Target": "Logs_20140328.CreateLogGroup",
                          "Content-Type": "application/x-amz-json-1.1"})
    except (ConnectionError, BrokenPipeError):
        st = 413  # the server may answer and close before the whole body is sent
    check(st == 413, "oversized body -> 413")
    st, h, body = raw(port, "GET", None, {})
    check(st == 404, "GET / with nothing to route -> 404")
    st, h, body = raw(port, "POST", b"{}", {"X-Amz-Target": "Logs_20140328.DescribeLogGroups",
                      "Content-Type": "application/x-amz-json-1.1"})
    check(st == 200, "still serving after malformed requests")


def test_strict(tmp):
    port = free_port()
    data = os.path.join(tmp, "strict")
    os.makedirs(data, mode=0o700)
    with open(os.path.join(data, "keys.json"), "w") as f:
        json.dump({"AKIDSTRICT": "s3cret", "test": "test"}, f)
    r = sandbox("start", "--port", str(port), "--data", data, "--strict-auth")
    check(r.returncode == 0, "start --strict-auth")
    url = f"http://127.0.0.1:{port}"
    try:
        ok = client("sts", url, "AKIDSTRICT", "s3cret").get_caller_identity()
        check(ok["Account"] == "000000000000", "strict: right key accepted (query)")
        logs = client("logs", url, "AKIDSTRICT", "s3cret")
        logs.create_log_group(logGroupName="/strict")
        check(True, "strict: right key accepted (JSON)")
        check(error_of(client("sts", url, "AKIDSTRICT", "wrong").get_caller_identity) ==
              ("SignatureDoesNotMatch", 403), "strict: wrong secret -> SignatureDoesNotMatch")
        check(error_of(client("logs", url, "AKIDSTRICT", "wrong").describe_log_groups)[0] ==
              "SignatureDoesNotMatch", "strict: wrong secret on JSON -> SignatureDoesNotMatch")
        check(error_of(client("sts", url, "NOSUCHKEY", "x").get_caller_identity) ==
              ("InvalidClientTokenId", 403), "strict: unknown key -> InvalidClientTokenId")
        st, h, body = raw(port, "POST", b"{}", {"X-Amz-Target": "Logs_20140328.DescribeLogGroups",
                          "Content-Type": "application/x-amz-json-1.1"})
        check(st == 403, "strict: unsigned request refused")
        iam = client("iam", url, "AKIDSTRICT", "s3cret")
        iam.create_user(UserName="u1")
        key = iam.create_access_key(UserName="u1")["AccessKey"]
        who = client("sts", url, key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
        check(who["Arn"] == "arn:aws:iam::000000000000:user/u1",
              "strict: IAM access key accepted, caller is the user")
    finally:
        r = sandbox("stop", "--data", data)
        check(r.returncode == 0, "stop the strict sandbox")
    # no keys.json: the sandbox writes the default pairs, which cleanops' own client uses
    data = os.path.join(tmp, "strict-default")
    r = sandbox("start", "--port", str(port), "--data", data, "--strict-auth")
    try:
        keys = os.path.join(data, "keys.json")
        check(r.returncode == 0 and os.stat(keys).st_mode & 0o777 == 0o600 and
              json.load(open(keys)) == {"test": "test",
                                        "cleanops-sandbox": "cleanops-sandbox-secret"},
              "strict: default keys.json written 0600")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        p = subprocess.run([CLEANOPS, "call", "sts", "GetCallerIdentity", "--endpoint", url],
                           capture_output=True, text=True, env=env, timeout=60)
        check(p.returncode == 0 and "000000000000" in p.stdout,
              "strict: cleanops call signs with the default sandbox key")
        check(client("sts", url).get_caller_identity()["Account"] == "000000000000",
              "strict: test/test accepted by default")
    finally:
        sandbox("stop", "--data", data)


def main():
    tmp = tempfile.mkdtemp(prefix="cleanops-sbx-")
    port = free_port()
    data = os.path.join(tmp, "data")
    url = f"http://127.0.0.1:{port}"
    try:
        r = sandbox("start", "--port", str(port), "--data", data)
        check(r.returncode == 0 and r.stdout.strip() == url, f"start prints {url}")
        if r.returncode != 0:
            print(r.stderr)
            return 1
        check(oct(os.stat(data).st_mode & 0o777) == "0o700", "data dir created 0700")
        with open(os.path.join(data, "sandbox.port")) as f:
            check(f.read().strip() == str(port), "sandbox.port records the port")
        r = sandbox("status", "--data", data)
        check(r.returncode == 0 and "running" in r.stdout and url in r.stdout, "status running")
        test_sts(url)
        test_iam(url)
        test_logs(url)
        test_cli(url)
        test_malformed(port)
        # a second sandbox on the same port: a clear error, exit 1
        r = sandbox("start", "--port", str(port), "--data", os.path.join(tmp, "other"))
        check(r.returncode == 1 and "already in use" in r.stderr, "busy port -> clear error")
        # kill -9, restart: acknowledged writes survive
        client("iam", url).create_role(RoleName="durable", AssumeRolePolicyDocument="{}")
        with open(os.path.join(data, "sandbox.pid")) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
                time.sleep(0.05)
            except ProcessLookupError:
                break
        r = sandbox("start", "--port", str(port), "--data", data)
        check(r.returncode == 0, "restart after kill -9")
        role = client("iam", url).get_role(RoleName="durable")["Role"]
        check(role["RoleName"] == "durable", "role written before kill -9 is still there")
        test_strict(tmp)
    finally:
        r = sandbox("stop", "--data", data)
        check(r.returncode == 0, "stop")
        with socket.socket() as s:
            check(s.connect_ex(("127.0.0.1", port)) != 0, "port closed after stop")
        r = sandbox("status", "--data", data)
        check(r.returncode == 0 and "not running" in r.stdout, "status after stop")
        log = os.path.join(data, "sandbox.log")
        if os.path.exists(log):
            text = open(log).read()
            check("s3cret" not in text and "Signature=" not in text, "log holds no secrets")
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
