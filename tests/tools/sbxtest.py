# sbxtest.py: what the Python integration tests (tests/integration/*.py) share: where the
# build is, counting (or collecting) checks, a free port on loopback, the loud SKIP when boto3
# is missing, a boto3 client for the sandbox, and starting/stopping a sandbox on a data dir.
# Import it with:
#   sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
#   import sbxtest as sb
# and read sb.CHECKS / sb.FAILURES through the module (they change as checks run).
import io
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile

try:
    import boto3
    import botocore.config
    from botocore.exceptions import ClientError
except ImportError:
    boto3 = None

ROOT = os.environ.get("ROOT", os.getcwd())
BUILD = os.environ.get("BUILD", "build")
CLEANOPS = os.environ.get("CLEANOPS") or os.path.join(ROOT, BUILD, "cleanops")
ZIPS = os.path.abspath(os.path.join(ROOT, BUILD, "lambda"))
CHECKS = 0          # checks made by check()
FAILURES = []       # what failed under soft_check()


def skip(why):
    """Say loudly why the test cannot run and exit 77 (skipped)."""
    print("SKIP: " + why)
    sys.exit(77)


def need_boto3():
    """Skip the test unless boto3 can be imported."""
    if boto3 is None:
        skip("boto3 is not installed")


def check(cond, what):
    """Count a check; a failed one stops the test (AssertionError)."""
    global CHECKS
    CHECKS += 1
    if not cond:
        raise AssertionError(what)


def soft_check(cond, what):
    """Print the check's outcome; a failed one is collected in FAILURES and the test goes on."""
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        FAILURES.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def need_binaries():
    """Skip the test unless cleanops and the Lambda binaries (make lambdas) are built."""
    if not os.access(CLEANOPS, os.X_OK):
        skip("no cleanops binary at %s" % CLEANOPS)
    bindir = os.path.join(ROOT, BUILD, "lambda", "bin")
    for b in ("order-writer", "notifier"):
        if not os.access(os.path.join(bindir, b), os.X_OK):
            skip("no lambda binary %s/%s (make lambdas)" % (bindir, b))


def post(url, body):
    """POST body as JSON to url: (HTTP status, response body), error statuses included."""
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def client(url, service, key="AKIDSANDBOXTEST", secret="secret", token=None, attempts=1,
           read_timeout=None):
    """A boto3 client for service at url (a sandbox or moto) with static credentials."""
    cfg = {"retries": {"max_attempts": attempts}}
    if read_timeout is not None:
        cfg["read_timeout"] = read_timeout
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token,
                        config=botocore.config.Config(**cfg))


def poll(what, fn, timeout, interval):
    """Call fn until it returns a true value or timeout seconds pass; returns its last value
    (a timeout is only reported on stdout: the caller's check decides)."""
    deadline = time.monotonic() + timeout
    v = fn()
    while not v and time.monotonic() < deadline:
        time.sleep(interval)
        v = fn()
    if not v:
        print("timed out waiting for " + what)
    return v


def error_code(fn, *a, **kw):
    """Call fn(*a, **kw): the AWS error code it failed with, or None when it succeeded."""
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def error_status(fn, *a, **kw):
    """Call fn(*a, **kw): (AWS error code, HTTP status) it failed with, or (None, None)."""
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, None


def fail(err, data):
    """Report a failed test: the error, then the last 20 lines of the sandbox log in data.
    Returns the exit status 1."""
    print("FAIL: %s" % err)
    log = os.path.join(data, "sandbox.log")
    if os.path.exists(log):
        print("".join(open(log).readlines()[-20:]))
    return 1


def function_zip(path, note=False):
    """The bytes of the packaged zip at path, or when its base64 would not fit the sandbox's
    16 MB request body limit, the same program without the bundled libraries (the sandbox
    runs bootstrap on this host, whose system libraries it was built against). note: say so
    on stdout when the libraries are left out."""
    data = open(path, "rb").read()
    if len(data) * 4 // 3 < 15 * 1024 * 1024:
        return data
    if note:
        print("note: %s is %d bytes (over the sandbox's request limit once base64-encoded); "
              "using it without lib/" % (os.path.basename(path), len(data)))
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename.startswith("lib/"):
                continue
            body = src.read(info)
            if info.filename == "bootstrap":
                prog = [n for n in src.namelist() if n.startswith("bin/")][0]
                body = ('#!/bin/sh\nexec "${0%%/*}/%s" "$@"\n' % prog).encode()
            z.writestr(info, body)
    return buf.getvalue()


def start(port, data, env=None):
    """Start a sandbox (background) on 127.0.0.1:port with its state in data."""
    e = dict(os.environ)
    e.update(env or {})
    subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data],
                   check=True, timeout=30, env=e)


def stop(data):
    """Stop the sandbox whose state is in data (no error when it is not running)."""
    subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], timeout=60)


def wait_for(what, fn, timeout, interval=0.1):
    """Poll fn until it returns a true value; a timeout is a failed check. Returns the value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(interval)
    got = fn()
    check(got, "timed out (%ss) waiting for %s" % (timeout, what))
    return got
