#!/usr/bin/env python3
# secrets_grep.py: a full run (sandbox with --strict-auth, deploy, status, order, watch, call,
# destroy, stop) with a recognisable operator secret key and session token, then a search for
# them in every output, log and stored file, plus the modes of the state and data files.
# Exits 1 naming each place where the secret or the token was found.
#
# Where the operator's secret may legitimately be: the credentials file the test wrote, and
# DATA/keys.json (strict signing must know each accepted key's secret; it is 0600). Nowhere else.
# The sandbox's own issued secrets (IAM CreateAccessKey, STS, the function roles' credentials)
# live in its database by design; they are not the operator's and are not searched for.
import base64
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import CLEANOPS, ROOT, ZIPS, check, free_port  # noqa: E402


def encodings(secret):
    """Byte strings that betray secret: itself, its hex, and its base64 at every alignment
    (the part of each encoding that does not depend on the neighbouring bytes)."""
    raw = secret.encode()
    forms = {raw, raw.hex().encode(), raw.hex().upper().encode()}
    for pad in range(3):
        enc = base64.b64encode(b"\0" * pad + raw)
        start = (pad * 4 + 2) // 3 + 1          # skip characters mixed with the padding bytes
        forms.add(enc[start:start + (len(raw) * 4) // 3 - 4])
    return [f for f in forms if len(f) >= 16]


class Finder:
    """Collects every place a needle shows up."""

    def __init__(self, needles):
        self.needles = {name: [value.encode()] + [f for f in encodings(value) if f != value.encode()]
                        for name, value in needles.items()}
        self.hits = []
        self.scanned = 0

    def scan_bytes(self, where, data):
        self.scanned += 1
        for name, forms in self.needles.items():
            for f in forms:
                if f in data:
                    self.hits.append("%s: the %s (%s)" % (where, name,
                                     "as is" if f == forms[0] else "encoded"))
                    break

    def scan_text(self, where, text):
        self.scan_bytes(where, text.encode(errors="replace"))

    def scan_tree(self, root, skip=()):
        for d, dirs, files in os.walk(root):
            for f in files:
                p = os.path.join(d, f)
                if p in skip or os.path.islink(p) or not os.path.isfile(p):
                    continue
                with open(p, "rb") as fh:
                    self.scan_bytes(p, fh.read())
                if f.endswith(".db"):
                    self.scan_db(p)

    def scan_db(self, path):
        """Every value of every table, as SQLite returns it (catches what the WAL holds too)."""
        try:
            con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for t in tables:
                rows = con.execute('SELECT * FROM "%s"' % t.replace('"', '""')).fetchall()
                blob = b"\n".join(v if isinstance(v, bytes) else str(v).encode()
                                  for row in rows for v in row)
                self.scan_bytes("%s table %s" % (path, t), blob)
            con.close()
        except sqlite3.Error as e:
            self.hits.append("%s: cannot be read as SQLite (%s)" % (path, e))


def loose_modes(root, allow=()):
    """Files and directories under root that group or others may read or enter."""
    bad = []
    for d, dirs, files in os.walk(root):
        for n in [d] + [os.path.join(d, f) for f in files]:
            if n in allow or os.path.islink(n):
                continue
            mode = os.lstat(n).st_mode
            if mode & 0o077:
                bad.append("%s is %o" % (n, stat.S_IMODE(mode)))
    return bad


def self_test(tmp):
    """The finder and the mode check must see a planted secret and a loose file."""
    secret = "SelfTest" + uuid.uuid4().hex
    d = os.path.join(tmp, "selftest")
    old = os.umask(0o077)
    os.makedirs(os.path.join(d, "sub"), mode=0o700)
    with open(os.path.join(d, "sub", "plain.log"), "w") as f:
        f.write("line\n" + secret + "\n")
    with open(os.path.join(d, "b64.bin"), "wb") as f:
        f.write(b"\x00\x01x" + base64.b64encode(b"ab" + secret.encode()) + b"\xff")
    con = sqlite3.connect(os.path.join(d, "t.db"))
    con.execute("CREATE TABLE t (a TEXT)")
    con.execute("INSERT INTO t VALUES (?)", ("k=" + secret.encode().hex(),))
    con.commit()
    con.close()
    with open(os.path.join(d, "clean.txt"), "w") as f:
        f.write("nothing here " + secret[:10] + "\n")
    fd = Finder({"planted secret": secret})
    fd.scan_tree(d)
    fd.scan_text("stdout of a planted command", "x" + secret)
    where = sorted(h.split(":")[0] for h in fd.hits)
    check(any(w.endswith("plain.log") for w in where), "self-test: plain secret missed %s" % fd.hits)
    check(any(w.endswith("b64.bin") for w in where), "self-test: base64 secret missed %s" % fd.hits)
    check(any("t.db" in w for w in where), "self-test: hex secret in SQLite missed %s" % fd.hits)
    check(any("planted command" in w for w in where), "self-test: output missed %s" % fd.hits)
    check(not any(w.endswith("clean.txt") for w in where), "self-test: false hit %s" % fd.hits)
    os.umask(old)
    check(loose_modes(d) == [], "self-test: private files flagged: %s" % loose_modes(d))
    os.chmod(os.path.join(d, "clean.txt"), 0o644)
    check(len(loose_modes(d)) == 1, "self-test: a 0644 file not flagged: %s" % loose_modes(d))
    shutil.rmtree(d)


def main():
    if not os.path.isfile(os.path.join(ZIPS, "bin", "order-writer")) and \
            not os.path.isfile(os.path.join(ZIPS, "POC-Lambda-1.zip")):
        print("SKIP: the Lambda binaries are not built (%s/bin)" % ZIPS)
        return 77
    os.umask(0o022)  # a usual umask: what cleanops writes must be private by itself
    tmp = tempfile.mkdtemp(prefix="secrets_grep.")
    self_test(tmp)

    # the operator's credentials: one pair in the environment, one in a profile
    mark = uuid.uuid4().hex
    akid, secret, token = "AKIAENV" + mark[:13].upper(), "EnvSecret" + mark, "EnvToken" + mark * 3
    akid2, secret2, token2 = ("AKIAFILE" + mark[13:25].upper(), "FileSecret" + mark[::-1],
                              "FileToken" + mark[::-1] * 3)
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, ".aws"), mode=0o700)
    creds = os.path.join(home, ".aws", "credentials")
    with open(creds, "w") as f:
        f.write("[grep]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                "aws_session_token = %s\n" % (akid2, secret2, token2))
    os.chmod(creds, 0o600)
    data = os.path.join(home, ".local", "state", "cleanops", "sandbox")
    state_dir = os.path.dirname(data)
    for d in (".local", ".local/state", ".local/state/cleanops", ".local/state/cleanops/sandbox"):
        os.mkdir(os.path.join(home, d), 0o700)
    keys = os.path.join(data, "keys.json")
    with open(keys, "w") as f:
        f.write('{"%s": "%s", "%s": "%s", "cleanops-sandbox": "cleanops-sandbox-secret"}\n'
                % (akid, secret, akid2, secret2))
    os.chmod(keys, 0o600)

    port = free_port()
    url = "http://127.0.0.1:%d" % port
    env = dict(os.environ, HOME=home, AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret,
               AWS_SESSION_TOKEN=token, AWS_REGION="us-east-1",
               AWS_SHARED_CREDENTIALS_FILE=creds, AWS_CONFIG_FILE=os.path.join(home, ".aws", "config"))
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "XDG_STATE_HOME", "CLEANOPS_TARGET"):
        env.pop(k, None)
    finder = Finder({"operator secret key": secret, "operator session token": token,
                     "profile secret key": secret2, "profile session token": token2})
    outputs = []  # (label, returncode, stdout, stderr)
    ep = ["--endpoint", url]

    def run(label, *args, timeout=300, extra=None, stdin=None):
        e = dict(env, **(extra or {}))
        p = subprocess.run([CLEANOPS, *args], env=e, capture_output=True, text=True,
                           timeout=timeout, cwd=ROOT, input=stdin)
        outputs.append((label, p.returncode, p.stdout, p.stderr))
        return p

    started = False
    try:
        p = run("sandbox start", "sandbox", "start", "--port", str(port), "--strict-auth", timeout=60)
        check(p.returncode == 0, "sandbox start: %s %s" % (p.stdout, p.stderr))
        started = True
        p = run("sandbox status", "sandbox", "status")
        check(p.returncode == 0 and url in p.stdout, "sandbox status: %s" % p.stdout)

        # strict signing really checks the operator's secret: a wrong one is refused
        p = run("call with a wrong secret", "call", "sts", "GetCallerIdentity", *ep,
                extra={"AWS_SECRET_ACCESS_KEY": "Wrong" + secret[5:]})
        check(p.returncode != 0 and "SignatureDoesNotMatch" in p.stderr,
              "a wrong secret was accepted: %s %s" % (p.stdout, p.stderr))
        p = run("call with an unknown key", "call", "sts", "GetCallerIdentity", *ep,
                extra={"AWS_ACCESS_KEY_ID": "AKIAUNKNOWN" + mark[:9].upper()})
        check(p.returncode != 0 and "InvalidClientTokenId" in p.stderr,
              "an unknown key was accepted: %s %s" % (p.stdout, p.stderr))

        # hostile input is refused, and the sandbox lives on: a signed query-protocol form
        # whose key nests 100000 levels (it once overflowed the stack), an invoke body over
        # API Gateway's 10 MB
        deep = "a." * 100000 + "b"
        p = run("call with a deep form key", "call", "sns", "Publish", "-", *ep, stdin=(
            '{"TopicArn": "arn:aws:sns:us-east-1:000000000000:none", "Message": "m", "%s": "1"}'
            % deep))
        check(p.returncode != 0 and "MalformedQueryString" in p.stderr,
              "deep form key: %s %s" % (p.stdout[-300:], p.stderr[-300:]))
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sk:
            sk.sendall(b"POST /restapis/none/prod/_user_request_/ HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Type: application/json\r\nContent-Length: 10485761\r\n\r\n")
            answer = sk.recv(200)
        check(answer.startswith(b"HTTP/1.1 413"), "11 MB invoke body answered %r" % answer[:40])
        p = run("sandbox status after hostile input", "sandbox", "status")
        check(p.returncode == 0 and "running" in p.stdout, "the sandbox died: %s" % p.stdout)

        p = run("deploy", "deploy", "--yes", "--zips", ZIPS, "--email", "ops@example.com", *ep)
        check(p.returncode == 0, "deploy failed:\n%s\n%s" % (p.stdout[-3000:], p.stderr[-2000:]))
        p = run("status", "status", "--zips", ZIPS, *ep)
        check(p.returncode == 0, "status: %s %s" % (p.stdout[-2000:], p.stderr))
        p = run("status --json", "status", "--json", "--zips", ZIPS, *ep)
        check(p.returncode == 0 and p.stdout.lstrip().startswith("{"), "status --json: %s" % p.stderr)

        # the state file: 0600 in a 0700 directory, names and identifiers only
        files = [f for f in os.listdir(state_dir) if f.startswith("stack-")]
        check(len(files) == 1, "one state file, got %s" % files)
        st = os.stat(os.path.join(state_dir, files[0]))
        check(stat.S_IMODE(st.st_mode) == 0o600, "state file mode %o" % stat.S_IMODE(st.st_mode))

        # watch (consumes deliveries) runs first, then order --wait on its own
        w = subprocess.Popen([CLEANOPS, "watch", "--json", *ep], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p = run("order (during watch)", "order", "--count", "2", "--json", *ep, timeout=120)
        check(p.returncode == 0, "order: %s %s" % (p.stdout, p.stderr))
        time.sleep(4)
        w.send_signal(signal.SIGINT)
        try:
            wout, werr = w.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()
            wout, werr = w.communicate()
        outputs.append(("watch --json", w.returncode, wout, werr))
        check(wout.strip() != "", "watch printed nothing: %s" % werr)

        p = run("order --wait", "order", "--count", "5", "--wait=90", "--json", *ep, timeout=180)
        check(p.returncode == 0 and '"notified":5' in p.stdout.replace(" ", ""),
              "order --wait: %s %s" % (p.stdout, p.stderr))

        # the function environments get the roles' credentials, never the operator's
        pids_file = os.path.join(data, "lambda", "pids")
        pids = open(pids_file).read().split() if os.path.exists(pids_file) else []
        seen = 0
        for pid in pids:
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    environ = f.read()
            except OSError:
                continue
            seen += 1
            finder.scan_bytes("environment of function process %s" % pid, environ)
            check(b"AWS_SECRET_ACCESS_KEY=" in environ, "function %s has no role credentials" % pid)
        check(seen > 0, "no live function process to inspect (pids %s)" % pids)
        sbx_pid = open(os.path.join(data, "sandbox.pid")).read().strip()
        with open("/proc/%s/environ" % sbx_pid, "rb") as f:
            finder.scan_bytes("environment of the sandbox process", f.read())

        # the functions' logs as CloudWatch Logs serves them
        for fn in ("POC-Lambda-1", "POC-Lambda-2"):
            p = run("logs of " + fn, "call", "logs", "FilterLogEvents",
                    '{"logGroupName": "/aws/lambda/%s"}' % fn, *ep)
            check(p.returncode == 0 and '"events"' in p.stdout, "logs of %s: %s" % (fn, p.stderr))
        # the profile's credentials (from the file) work too, and leave nothing either
        p = run("call --profile", "call", "sqs", "ListQueues", "--profile", "grep", *ep)
        check(p.returncode == 0 and "POC-Queue" in p.stdout, "call --profile: %s" % p.stderr)
        p = run("call sts", "call", "sts", "GetCallerIdentity", *ep)
        check(p.returncode == 0 and '"Account"' in p.stdout, "call sts: %s" % p.stderr)

        # the data directory while everything is deployed and has run
        bad = loose_modes(data)
        check(not bad, "%d group/world-accessible files in the data directory: %s" % (
            len(bad), bad[:5]))

        # everything stored while deployed (destroy deletes rows the search must also see)
        finder.scan_tree(home, skip={creds, keys})

        p = run("destroy", "destroy", "--yes", *ep)
        check(p.returncode == 0, "destroy: %s %s" % (p.stdout[-2000:], p.stderr[-2000:]))
        p = run("sandbox stop", "sandbox", "stop")
        check(p.returncode == 0, "sandbox stop: %s %s" % (p.stdout, p.stderr))
        started = False

        # every output, every file of the temporary HOME (state, data dir, logs, Maildir,
        # function code, SQLite with its WAL), the two places the test put the secrets aside
        for label, rc, out, err in outputs:
            finder.scan_text("stdout of '%s'" % label, out)
            finder.scan_text("stderr of '%s'" % label, err)
        finder.scan_tree(home, skip={creds, keys})
        check(stat.S_IMODE(os.stat(keys).st_mode) == 0o600, "keys.json mode changed")
        check(stat.S_IMODE(os.stat(data).st_mode) & 0o077 == 0, "data directory is not 0700")
        bad = loose_modes(state_dir, allow={creds})
        check(not bad, "%d group/world-accessible files after the run: %s" % (len(bad), bad[:5]))
        check(finder.scanned > 30, "only %d places scanned" % finder.scanned)
        if finder.hits:
            for h in finder.hits:
                print("LEAK: " + h)
            raise AssertionError("%d places hold the operator's secret or token" % len(finder.hits))
        print("ok: %d checks, %d outputs and files scanned, no secret or token found" % (
            sb.CHECKS, finder.scanned))
        return 0
    finally:
        if started:
            subprocess.run([CLEANOPS, "sandbox", "stop"], env=env, capture_output=True, timeout=60)
        if os.environ.get("KEEP_TMP"):
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print("FAIL: %s" % e)
        sys.exit(1)
