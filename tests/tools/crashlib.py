# crashlib.py: what the crash-safety tests (tests/integration/crash_*.py) share: a private
# sandbox with the stack deployed, a burst of orders that records what the API accepted, and
# the check that every accepted order is stored in DynamoDB and delivered through SNS.
# What every integration test shares (check, free_port, wait_for, paths) is in sbxtest.py.
import json
import os
import io
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile

import sbxtest as sb
from sbxtest import CLEANOPS, ROOT, ZIPS, check, free_port, wait_for  # noqa: F401

# The stack's queue keeps a received message invisible for 60 s (6 x the function timeout);
# the tests lower it so that batches lost in a crash come back within their time budget.
VISIBILITY_S = 10


def skip_reason():
    if sb.boto3 is None:
        return "boto3 is not installed"
    if not os.path.isfile(os.path.join(ZIPS, "bin", "order-writer")) and \
            not os.path.isfile(os.path.join(ZIPS, "POC-Lambda-1.zip")):
        return "the Lambda binaries are not built (%s/bin)" % ZIPS
    if not os.path.isdir("/proc/self"):
        return "no /proc to find function processes in"
    return None


def alive(pid):
    """Is pid a running (not zombie) process?"""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:][:1] not in ("Z", "X")


def post(url, body, timeout=10):
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        return 0, type(reason).__name__


class Sandbox:
    """A private sandbox (data directory, port, XDG state) that the test starts and kills."""

    def __init__(self, name):
        self.tmp = tempfile.mkdtemp(prefix=name + ".")
        self.data = os.path.join(self.tmp, "sandbox")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDSANDBOXTEST",
                        AWS_SECRET_ACCESS_KEY="secret", AWS_REGION="us-east-1",
                        XDG_STATE_HOME=os.path.join(self.tmp, "state"), HOME=self.tmp)
        self.env.pop("AWS_PROFILE", None)
        self.invoke = None
        self.seen_envs = set()

    def run(self, *args, timeout=120, preexec=None):
        return subprocess.run([CLEANOPS, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT, preexec_fn=preexec)

    def start(self, preexec=None, expect_ok=True):
        p = self.run("sandbox", "start", "--port", str(self.port), "--data", self.data,
                     timeout=30, preexec=preexec)
        if expect_ok:
            check(p.returncode == 0, "sandbox start failed (%d): %s %s" % (
                p.returncode, p.stdout, p.stderr))
        return p

    def stop(self):
        return self.run("sandbox", "stop", "--data", self.data, timeout=60)

    def daemon_pid(self):
        with open(os.path.join(self.data, "sandbox.pid")) as f:
            return int(f.read().split()[0])

    def log(self):
        try:
            with open(os.path.join(self.data, "sandbox.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def client(self, service):
        return sb.client(self.url, service, attempts=2)

    def deploy(self):
        p = self.run("deploy", "--yes", "--json", "--endpoint", self.url, "--zips", ZIPS,
                     timeout=180)
        check(p.returncode == 0, "deploy failed:\n%s\n%s" % (p.stdout[-3000:], p.stderr))
        self.invoke = json.loads(p.stdout)["invoke_url"]
        return self.invoke

    def queue_url(self, name):
        return self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]

    def shorten_visibility(self, seconds=VISIBILITY_S):
        sqs, url = self.client("sqs"), self.queue_url("POC-Queue")
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(seconds)})
        check(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])[
            "Attributes"]["VisibilityTimeout"] == str(seconds), "visibility timeout set")
        # a receive takes the queue's visibility timeout when it begins: let the pollers'
        # long polls begun before the change (1 s each) end (AWS: up to 60 s to propagate)
        time.sleep(2)

    def hang_env(self):
        """Start an environment of a function "crash-hang" whose bootstrap hangs in its init
        (it never asks for its invocation, so it cannot notice that its sandbox died).
        Returns its pid."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            info = zipfile.ZipInfo("bootstrap", date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | 0o755) << 16
            z.writestr(info, "#!/bin/sh\nexec sleep 300\n")
        lam = self.client("lambda")
        lam.create_function(FunctionName="crash-hang", Runtime="provided.al2023",
                            Role="arn:aws:iam::000000000000:role/Lambda-SQS-DynamoDB",
                            Handler="hang", Timeout=60, Code={"ZipFile": buf.getvalue()})
        wait_for("crash-hang to be active", lambda: lam.get_function(
            FunctionName="crash-hang")["Configuration"]["State"] == "Active", 20)
        lam.invoke(FunctionName="crash-hang", InvocationType="Event", Payload=b"{}")
        root = os.path.join(self.data, "lambda", "crash-hang") + "/"
        found = []

        def started():
            found[:] = [p for p in self.envs() if self.cwd(p).startswith(root)]
            return found
        wait_for("the crash-hang environment", started, 20)
        return found[0]

    def event_function(self, marks, concurrency=1):
        """Create "crash-event": each invocation sleeps event["sleep"] seconds, then writes
        its request id into marks/<event["key"]>. Its reserved concurrency keeps Event
        invocations waiting in the queue."""
        boot = """#!%s
import json, os, time, urllib.request
api = "http://%%s/2018-06-01/runtime/invocation/" %% os.environ["AWS_LAMBDA_RUNTIME_API"]
while True:
    with urllib.request.urlopen(api + "next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        ev = json.loads(r.read())
    time.sleep(ev.get("sleep", 0))
    with open(os.path.join(os.environ["MARKS"], ev["key"]), "w") as f:
        f.write(rid)
    urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=b"{}",
                                                  method="POST")).read()
""" % os.path.realpath(sys.executable)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            info = zipfile.ZipInfo("bootstrap", date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | 0o755) << 16
            z.writestr(info, boot)
        lam = self.client("lambda")
        lam.create_function(FunctionName="crash-event", Runtime="provided.al2023",
                            Role="arn:aws:iam::000000000000:role/Lambda-SQS-DynamoDB",
                            Handler="event", Timeout=30, Code={"ZipFile": buf.getvalue()},
                            Environment={"Variables": {"MARKS": marks}})
        lam.put_function_concurrency(FunctionName="crash-event",
                                     ReservedConcurrentExecutions=concurrency)
        wait_for("crash-event to be active", lambda: lam.get_function(
            FunctionName="crash-event")["Configuration"]["State"] == "Active", 20)
        return lam

    @staticmethod
    def cwd(pid):
        try:
            return os.readlink("/proc/%d/cwd" % pid)
        except OSError:
            return ""

    def envs(self):
        """Pids of the function processes running under this sandbox's data directory."""
        found = []
        root = os.path.join(self.data, "lambda") + "/"
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                cwd = os.readlink("/proc/%s/cwd" % d)
            except OSError:
                continue
            if cwd.startswith(root) and alive(int(d)):
                found.append(int(d))
        self.seen_envs.update(found)
        return found

    def wait_stored_and_notified(self, ids, timeout, notified=()):
        """Follow ids to the table and the deliveries queue (ids in notified were delivered
        before). Returns (stored set, deliveries per id, number of ids delivered more than
        once)."""
        want = set(ids)
        stored, delivered = set(), {}
        ddb, sqs = self.client("dynamodb"), self.client("sqs")
        qurl = self.queue_url("POC-Deliveries")
        pat = re.compile(r'"orderID"\s*:\s*(?:\{\s*"S"\s*:\s*)?"([^"]+)"')
        deadline = time.time() + timeout
        while time.time() < deadline:
            todo = sorted(want - stored)
            for i in range(0, len(todo), 100):
                keys = [{"orderID": {"S": k}} for k in todo[i:i + 100]]
                r = ddb.batch_get_item(RequestItems={"orders": {
                    "Keys": keys, "ConsistentRead": True, "ProjectionExpression": "orderID"}})
                for it in r["Responses"].get("orders", []):
                    stored.add(it["orderID"]["S"])
            while True:
                r = sqs.receive_message(QueueUrl=qurl, MaxNumberOfMessages=10,
                                        WaitTimeSeconds=0, VisibilityTimeout=30)
                msgs = r.get("Messages", [])
                if not msgs:
                    break
                for m in msgs:
                    for oid in set(pat.findall(m["Body"])):
                        delivered[oid] = delivered.get(oid, 0) + 1
                sqs.delete_message_batch(QueueUrl=qurl, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(msgs)])
            if want <= stored and want <= set(delivered) | set(notified):
                break
            time.sleep(0.5)
        dups = sum(1 for k in want if delivered.get(k, 0) > 1)
        return stored, delivered, dups

    def cleanup(self):
        """Stop the sandbox, kill what it left, remove its files (kept when an exception
        is on its way out: the path is printed)."""
        failing = sys.exc_info()[0] is not None
        if os.path.exists(os.path.join(self.data, "sandbox.pid")):
            self.stop()
        for pid in self.seen_envs | set(self.envs()):
            if alive(pid):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
        if failing:
            print("the sandbox's files are kept in %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Burst:
    """Threads posting orders with unique ids as fast as pace allows, until stopped."""

    def __init__(self, url, prefix, threads=6, pace=0.03):
        self.url, self.prefix, self.pace = url, prefix, pace
        self.mu = threading.Lock()
        self.ok = []
        self.rejected = 0
        self.failed = 0
        self.first_reject = None
        self.kinds = {}
        self.bodies = {}
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self.worker, args=(i,), daemon=True)
                        for i in range(threads)]

    def worker(self, index):
        n = 0
        while not self.done.is_set():
            oid = "%s-%d-%d" % (self.prefix, index, n)
            n += 1
            code, body = post(self.url, json.dumps({"orderID": oid, "item": "soap",
                                                    "quantity": 1 + n % 7}))
            with self.mu:
                if code == 200:
                    self.ok.append(oid)
                elif 400 <= code < 500:
                    self.rejected += 1
                    self.first_reject = self.first_reject or "%d %s" % (code, body[:300])
                else:
                    self.failed += 1
                    kind = str(code) if code else body
                    self.kinds[kind] = self.kinds.get(kind, 0) + 1
                    self.bodies.setdefault(kind, body[:300])
            time.sleep(self.pace if code == 200 else 0.05)

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(30)

    def accepted_count(self):
        with self.mu:
            return len(self.ok)

    def accepted(self):
        with self.mu:
            return list(self.ok)

    def failure_kinds(self):
        with self.mu:
            return ", ".join("%s: %d" % kv for kv in sorted(self.kinds.items())) or "none"
