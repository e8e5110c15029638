#!/usr/bin/env python3
# stack_moto.py: `cleanops deploy --yes` and `destroy --yes` against a private moto_server (control plane only).
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import CLEANOPS, ROOT, ZIPS, check, free_port  # noqa: E402

sb.need_boto3()
import boto3  # noqa: E402
import botocore.config  # noqa: E402


def run(env, *args, timeout=300):
    p = subprocess.run([CLEANOPS, *args], env=env, capture_output=True, text=True, timeout=timeout,
                       cwd=ROOT)
    return p


def leftovers(url, stack_prefix=""):
    """Everything of the stack that boto3 can still see."""
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
              aws_secret_access_key="test",
              config=botocore.config.Config(retries={"max_attempts": 1}))
    left = []
    iam = boto3.client("iam", **kw)
    left += [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
    left += [r["RoleName"] for r in iam.list_roles()["Roles"]
             if r["RoleName"] in ("Lambda-SQS-DynamoDB", "Lambda-DynamoDBStreams-SNS", "APIGateway-SQS")]
    left += boto3.client("dynamodb", **kw).list_tables()["TableNames"]
    left += boto3.client("sqs", **kw).list_queues().get("QueueUrls", [])
    left += [t["TopicArn"] for t in boto3.client("sns", **kw).list_topics()["Topics"]]
    left += [f["FunctionName"] for f in boto3.client("lambda", **kw).list_functions()["Functions"]]
    left += [m["UUID"] for m in boto3.client("lambda", **kw).list_event_source_mappings()["EventSourceMappings"]]
    left += [a["name"] for a in boto3.client("apigateway", **kw).get_rest_apis()["items"]]
    left += [g["logGroupName"] for g in boto3.client("logs", **kw).describe_log_groups()["logGroups"]]
    return left


def main():
    if shutil.which("moto_server") is None:
        print("SKIP: moto_server is not installed")
        return 77
    if not os.path.isfile(os.path.join(ZIPS, "bin", "order-writer")) and \
            not os.path.isfile(os.path.join(ZIPS, "POC-Lambda-1.zip")):
        print("SKIP: the Lambda binaries are not built (%s/bin)" % ZIPS)
        return 77
    tmp = tempfile.mkdtemp(prefix="stack_moto.")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1)
                break
            except Exception:
                time.sleep(0.05)
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_REGION="us-east-1", XDG_STATE_HOME=os.path.join(tmp, "state"),
                   HOME=tmp)
        env.pop("AWS_PROFILE", None)
        common = ["--endpoint", url, "--zips", ZIPS]
        p = run(env, "deploy", "--yes", "--json", *common)
        print(p.stdout[-3000:], p.stderr[-3000:])
        check(p.returncode == 0, "deploy failed: %s" % p.stderr)
        doc = json.loads(p.stdout)
        check(doc["writes"] > 20, "deploy made only %d writes" % doc["writes"])
        check(all(r["state"] in ("present", "not requested") for r in doc["resources"]),
              "not everything present after deploy")
        check(doc["invoke_url"].startswith(url + "/restapis/"), "invoke url " + doc["invoke_url"])
        state_dir = os.path.join(tmp, "state", "cleanops")
        files = os.listdir(state_dir)
        check(len(files) == 1, "one state file: %s" % files)
        mode = os.stat(os.path.join(state_dir, files[0])).st_mode & 0o777
        check(mode == 0o600, "state file mode %o" % mode)
        state_text = open(os.path.join(state_dir, files[0])).read()
        check("test" not in json.loads(state_text).get("credentials", ""), "no secrets")
        check("SecretAccessKey" not in state_text and '"test"' not in state_text, "secret in state")

        p = run(env, "deploy", "--yes", "--json", *common)
        check(p.returncode == 0, "second deploy failed: %s" % p.stderr)
        doc = json.loads(p.stdout)
        check(doc["writes"] == 0, "second deploy made %d writes: %s" % (
            doc["writes"], [r for r in doc["resources"] if r.get("action")]))

        p = run(env, "status", "--json", *common)
        check(p.returncode == 0, "status not healthy: %s %s" % (p.stdout, p.stderr))
        check(json.loads(p.stdout)["healthy"] is True, "healthy flag")

        # drift: change the queue's visibility timeout; status says drifted, deploy repairs it
        sqs = boto3.client("sqs", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        qurl = sqs.get_queue_url(QueueName="POC-Queue")["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=qurl, Attributes={"VisibilityTimeout": "5"})
        p = run(env, "status", "--json", *common)
        check(p.returncode == 1, "status healthy despite drift")
        q = [r for r in json.loads(p.stdout)["resources"] if r["id"] == "queue"][0]
        check(q["state"] == "drifted" and "VisibilityTimeout" in q["detail"], "drift shown: %s" % q)
        p = run(env, "deploy", "--yes", "--json", *common)
        check(p.returncode == 0, "repair deploy failed")
        acts = [r["id"] for r in json.loads(p.stdout)["resources"] if r.get("action")]
        check(acts == ["queue"], "repair touched %s" % acts)

        # corrupt state file: reported, rebuilt
        with open(os.path.join(state_dir, files[0]), "w") as f:
            f.write("{not json")
        p = run(env, "status", *common)
        check("corrupt" in p.stderr and "rebuilding" in p.stderr, "corrupt state reported: %s" % p.stderr)
        json.load(open(os.path.join(state_dir, files[0])))

        p = run(env, "destroy", "--yes", "--endpoint", url)
        print(p.stdout[-2000:], p.stderr[-2000:])
        check(p.returncode == 0, "destroy failed: %s" % p.stderr)
        left = leftovers(url)
        check(left == [], "left after destroy: %s" % left)
        check(os.listdir(state_dir) == [], "state file removed after destroy")
        p = run(env, "status", "--endpoint", url)
        check(p.returncode == 1, "status of a destroyed stack must not be healthy")
        # another stack, with its own policies directory: names prefixed, an extra policy
        # file becomes a policy, and a changed document becomes a new default version
        # (IAM keeps 5: the oldest non-default one is deleted on the way)
        pol = os.path.join(tmp, "policies")
        shutil.copytree(os.path.join(ROOT, "policies"), pol)
        with open(os.path.join(pol, "Extra-Read-Orders.json"), "w") as f:
            json.dump({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "dynamodb:GetItem",
                "Resource": "arn:aws:dynamodb:${Region}:${Account}:table/${Prefix}orders"}]}, f)
        env["CLEANOPS_POLICIES"] = pol
        dev = common + ["--stack", "dev"]
        p = run(env, "deploy", "--yes", "--json", *dev)
        check(p.returncode == 0, "dev deploy failed: %s" % p.stderr)
        names = {r["id"]: r["name"] for r in json.loads(p.stdout)["resources"]}
        check(names["queue"] == "dev-POC-Queue" and names["table"] == "dev-orders" and
              names["fn-writer"] == "dev-POC-Lambda-1" and
              names["log-writer"] == "/aws/lambda/dev-POC-Lambda-1" and
              names["policy-Extra-Read-Orders"] == "dev-Extra-Read-Orders", "prefixed names %s" % names)
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        parn = "arn:aws:iam::123456789012:policy/dev-Extra-Read-Orders"
        doc = iam.get_policy_version(PolicyArn=parn, VersionId="v1")["PolicyVersion"]["Document"]
        check(doc["Statement"][0]["Resource"] == "arn:aws:dynamodb:us-east-1:123456789012:table/dev-orders",
              "rendered extra policy %s" % doc)
        for n in range(6):
            with open(os.path.join(pol, "Extra-Read-Orders.json"), "w") as f:
                json.dump({"Version": "2012-10-17", "Statement": [{
                    "Sid": "V%d" % n, "Effect": "Allow", "Action": "dynamodb:GetItem",
                    "Resource": "arn:aws:dynamodb:${Region}:${Account}:table/${Prefix}orders"}]}, f)
            p = run(env, "deploy", "--yes", "--json", *dev)
            check(p.returncode == 0, "policy update %d failed: %s" % (n, p.stderr))
            acts = [r["id"] for r in json.loads(p.stdout)["resources"] if r.get("action")]
            check(acts == ["policy-Extra-Read-Orders"], "update %d touched %s" % (n, acts))
        vers = iam.list_policy_versions(PolicyArn=parn)["Versions"]
        check(len(vers) == 5, "IAM keeps 5 versions: %d" % len(vers))
        default = [v for v in vers if v["IsDefaultVersion"]][0]
        doc = iam.get_policy_version(PolicyArn=parn, VersionId=default["VersionId"])["PolicyVersion"]["Document"]
        check(doc["Statement"][0]["Sid"] == "V5", "latest document is the default: %s" % doc)
        p = run(env, "destroy", "--yes", "--endpoint", url, "--stack", "dev")
        check(p.returncode == 0, "dev destroy failed: %s" % p.stderr)
        left = leftovers(url)
        check(left == [], "left after dev destroy: %s" % left)
        print("stack_moto: all checks passed")
        return 0
    finally:
        moto.terminate()
        try:
            moto.wait(timeout=10)
        except subprocess.TimeoutExpired:
            moto.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
