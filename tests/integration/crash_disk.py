#!/usr/bin/env python3
# crash_disk.py: a full disk (a file-size limit, RLIMIT_FSIZE) makes the sandbox answer writes
# with a clear 5xx error and log it, and loses nothing it acknowledged; a corrupt sandbox
# database stops the start with an error naming the file and leaves the file as it was; a
# corrupt stack state file is reported by name and rebuilt, and no order is lost.
import glob
import hashlib
import os
import resource
import signal
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import crashlib as cl  # noqa: E402

ROOM = 768 * 1024  # bytes the database may still grow by under the limit


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


NOTIFIED = set()  # orders whose delivery was seen (and taken off the deliveries queue)


def follow(box, ids, label, timeout=40):
    """Every id stored, and notified unless its delivery was seen before."""
    stored, delivered, dups = box.wait_stored_and_notified(ids, timeout=timeout,
                                                           notified=NOTIFIED)
    NOTIFIED.update(delivered)
    lost = sorted(set(ids) - stored)
    cl.check(not lost, "%s: %d acknowledged orders not stored: %s" % (label, len(lost), lost[:10]))
    lost = sorted(set(ids) - set(delivered) - NOTIFIED)
    cl.check(not lost, "%s: %d acknowledged orders not notified: %s" % (
        label, len(lost), lost[:10]))
    return dups


def biggest_table_root(path):
    """(page size, root page) of the table with the most rows, read without writing."""
    con = sqlite3.connect("file:%s?immutable=1" % path, uri=True)
    try:
        page = con.execute("PRAGMA page_size").fetchone()[0]
        tables = con.execute("SELECT name, rootpage FROM sqlite_master WHERE type = 'table'"
                             " AND rootpage > 1").fetchall()
        rows = [(con.execute('SELECT COUNT(*) FROM "%s"' % n).fetchone()[0], r)
                for n, r in tables]
    finally:
        con.close()
    count, root = max(rows)
    cl.check(count > 50, "a table with many rows to tear: %s" % rows)
    return page, root


def main():
    skip = cl.skip_reason()
    if skip:
        print("SKIP: " + skip)
        return 77
    box = cl.Sandbox("crash_disk")
    db = os.path.join(box.data, "sandbox.db")
    try:
        box.start()
        box.deploy()
        box.shorten_visibility()
        first = cl.Burst(box.invoke, prefix="before", threads=4)
        first.start()
        cl.wait_for("orders before the disk fills", lambda: first.accepted_count() >= 50, 20)
        first.stop()
        accepted = first.accepted()
        follow(box, accepted, "before the limit")

        # 1. the disk fills: the database may grow by ROOM bytes, no more
        p = box.stop()
        cl.check(p.returncode == 0, "stop: %s" % p.stderr)
        os.rename(os.path.join(box.data, "sandbox.log"), os.path.join(box.data, "sandbox.log.1"))
        biggest = max(os.path.getsize(f) for f in glob.glob(db + "*"))
        limit = biggest + ROOM

        def limited():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        box.start(preexec=limited)
        full = cl.Burst(box.invoke, prefix="full", threads=6, pace=0.005)
        full.start()
        # (a request that is not answered at all ends the wait too: checked below)
        cl.wait_for("the disk to fill (5xx answers)", lambda: full.failed >= 30 or
                    set(full.kinds) - {"500", "503"}, 40)
        full.stop()
        kinds = full.failure_kinds()
        print("under the limit (%d bytes): %d accepted, %d failed (%s), answers %s" % (
            limit, full.accepted_count(), full.failed, kinds, full.bodies))
        cl.check(full.accepted_count() > 0, "some orders fit before the disk filled")
        cl.check(set(full.kinds) <= {"500", "503"},
                 "a full disk answers 500/503, never a dropped connection: %s" % kinds)
        for kind, body in full.bodies.items():
            cl.check(body.strip() and ("disk" in body.lower() or "full" in body.lower() or
                                       "stor" in body.lower()),
                     "the %s answer says why: %r" % (kind, body))
        cl.check(cl.alive(box.daemon_pid()), "the sandbox survives a full disk")
        log = box.log()
        cl.check("ERROR" in log and ("full" in log or "disk" in log),
                 "the full disk is logged: %s" % log[-1500:])
        errors = log.count(" ERROR ")
        print("%d ERROR lines logged while the disk was full" % errors)
        cl.check(errors < 2000, "the sandbox does not spin on a full disk: %d ERROR lines, "
                 "most common: %s" % (errors, max(set(log.splitlines()[-200:]),
                                                  key=log.count)[:200]))
        accepted += full.accepted()

        # 2. restarted without the limit, nothing acknowledged is lost
        p = box.stop()
        cl.check(p.returncode == 0, "stop with a full disk: %s %s" % (p.stdout, p.stderr))
        box.start()
        dups = follow(box, accepted, "after the disk filled")
        print("after the restart all %d acknowledged orders are stored and notified (%d twice)"
              % (len(accepted), dups))

        # 3. a corrupt database: the start fails naming the file, which is left untouched
        p = box.stop()
        cl.check(p.returncode == 0, "stop: %s" % p.stderr)
        cl.check(not os.path.exists(db + "-wal") or os.path.getsize(db + "-wal") == 0,
                 "a clean stop leaves everything in the database file")
        with open(db, "rb") as f:
            good = f.read()
        bad = bytearray(good)
        bad[0:100] = b"this is not a database, it was overwritten by a crash" + b"\0" * 47
        with open(db, "wb") as f:
            f.write(bad)
        before = sha(db)
        p = box.start(expect_ok=False)
        cl.check(p.returncode == 1, "start on a corrupt database exits 1: %d" % p.returncode)
        cl.check(db + " is corrupt" in p.stderr,
                 "the error names the database: %r" % p.stderr)
        cl.check(sha(db) == before, "the corrupt database is left as it was")
        cl.check(not os.path.exists(os.path.join(box.data, "sandbox.pid")), "no sandbox runs")
        with open(db, "wb") as f:
            f.write(good)
        print("a corrupt database: %s" % p.stderr.strip())
        # a torn page inside the file (the root page of the biggest table) is found at start
        page, root = biggest_table_root(db)
        torn = bytearray(good)
        torn[(root - 1) * page:root * page] = os.urandom(page)
        with open(db, "wb") as f:
            f.write(torn)
        before = sha(db)
        p = box.start(expect_ok=False)
        cl.check(p.returncode == 1 and db + " is corrupt" in p.stderr,
                 "start on a torn page fails naming the database: %d %r" % (
                     p.returncode, p.stderr))
        cl.check(sha(db) == before, "the torn database is left as it was")
        with open(db, "wb") as f:
            f.write(good)
        box.start()
        follow(box, accepted, "the restored database", timeout=20)

        # 4. a corrupt stack state file: named, rebuilt from the target, nothing lost
        states = glob.glob(os.path.join(box.tmp, "state", "cleanops", "stack-*.json"))
        cl.check(len(states) == 1, "one state file: %s" % states)
        with open(states[0], "w") as f:
            f.write('{"resources": [{"id": "queue", "name": ')
        p = box.run("deploy", "--yes", "--json", "--endpoint", box.url, "--zips", cl.ZIPS,
                    timeout=180)
        cl.check(p.returncode == 0, "deploy over a corrupt state file: %s" % p.stderr[-1500:])
        cl.check(states[0] in p.stderr and "corrupt" in p.stderr,
                 "the corrupt state file is named: %r" % p.stderr[-1500:])
        with open(states[0]) as f:
            rebuilt = f.read()
        cl.check(rebuilt.startswith("{") and '"resources"' in rebuilt, "the state is rebuilt")
        # a full disk while the state file is written: no half-written file is left (the
        # resources are there; the next deploy writes the state)
        os.unlink(states[0])

        def tiny():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

        p = box.run("deploy", "--yes", "--endpoint", box.url, "--zips", cl.ZIPS, timeout=180,
                    preexec=tiny)
        out = p.stdout + p.stderr
        cl.check(p.returncode != 0 and states[0] in out and "too large" in out.lower(),
                 "deploy on a full disk names the state file (%d): %r" % (p.returncode,
                                                                          out[-1500:]))
        print("deploy on a full disk: %s" % [l for l in out.splitlines() if "error" in l])
        left = os.listdir(os.path.dirname(states[0]))
        cl.check(left == [], "no partial state file is left: %s" % left)
        p = box.run("deploy", "--yes", "--endpoint", box.url, "--zips", cl.ZIPS, timeout=180)
        cl.check(p.returncode == 0 and os.path.exists(states[0]),
                 "the next deploy writes the state: %s" % p.stderr[-1000:])
        last = cl.Burst(box.invoke, prefix="after", threads=2)
        last.start()
        cl.wait_for("orders after the state was rebuilt", lambda: last.accepted_count() >= 10, 20)
        last.stop()
        accepted += last.accepted()
        follow(box, accepted, "after the state file was rebuilt")
        print("crash_disk: %d checks passed (%d orders followed)" % (cl.sb.CHECKS, len(accepted)))
        return 0
    finally:
        box.cleanup()


if __name__ == "__main__":
    sys.exit(main())
