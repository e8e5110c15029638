#!/usr/bin/env python3
# crash_sandbox.py: kill -9 the sandbox in the middle of a burst of orders, restart it on the
# same data directory: every order the API accepted is stored and notified, and no function
# process of the dead sandbox (or of a stopped one) is left running.
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import crashlib as cl  # noqa: E402


def main():
    skip = cl.skip_reason()
    if skip:
        print("SKIP: " + skip)
        return 77
    box = cl.Sandbox("crash_sandbox")
    try:
        box.start()
        box.deploy()
        box.shorten_visibility()
        pid = box.daemon_pid()

        burst = cl.Burst(box.invoke, prefix="sbx", threads=6)
        burst.start()
        # kill the sandbox once orders flow through the functions (so there are
        # environments and batches in flight)
        cl.wait_for("environments of both functions", lambda: len(box.envs()) >= 2, 20)
        cl.wait_for("accepted orders", lambda: burst.accepted_count() >= 150, 20)
        # a function process that hangs cannot notice that its sandbox died and exit: the
        # next sandbox must find and kill it
        hung = box.hang_env()
        # Event invocations accepted (202) but still queued behind a reserved concurrency
        # of 1 when the sandbox dies run after the restart
        marks = os.path.join(box.tmp, "marks")
        os.mkdir(marks)
        lam = box.event_function(marks)
        events = ["event-%d" % i for i in range(6)]
        for key in events:
            r = lam.invoke(FunctionName="crash-event", InvocationType="Event",
                           Payload=json.dumps({"key": key, "sleep": 1}).encode())
            cl.check(r["StatusCode"] == 202, "Event invocation accepted: %s" % r)
        before = box.envs()
        os.kill(pid, signal.SIGKILL)
        cl.wait_for("the sandbox to die", lambda: not cl.alive(pid), 10)
        accepted_at_kill = burst.accepted_count()
        time.sleep(0.5)  # the burst keeps trying against a dead port
        orphans = [p for p in before if cl.alive(p)]
        ran_before = os.listdir(marks)
        cl.check(len(ran_before) < len(events) - 2, "Event invocations still queued at the "
                 "kill: %d of %d ran" % (len(ran_before), len(events)))
        print("killed sandbox %d with %d environments (%d still running), %d orders accepted"
              % (pid, len(before), len(orphans), accepted_at_kill))

        # the list of environments may miss the newest (a crash right after a spawn, a full
        # disk): the restart finds them without it
        pids = os.path.join(box.data, "lambda", "pids")
        cl.check(os.path.exists(pids), "the dead sandbox listed its environments")
        os.unlink(pids)
        box.start()
        new_pid = box.daemon_pid()
        cl.check(new_pid != pid, "a new sandbox runs")
        cl.wait_for("environments of the dead sandbox to be killed",
                    lambda: not [p for p in before if cl.alive(p)], 5)
        log = box.log()
        cl.check(hung in orphans, "the hung environment outlived its sandbox")
        cl.check("environment %d left by a previous sandbox" % hung in log,
                 "the restart says it killed the leftover %d: %s" % (hung, log[-2000:]))
        cl.wait_for("every accepted Event invocation to run",
                    lambda: sorted(os.listdir(marks)) == sorted(events), 30)
        # the burst goes on against the new sandbox for a while
        cl.wait_for("orders accepted after the restart",
                    lambda: burst.accepted_count() >= accepted_at_kill + 100, 20)
        burst.stop()
        ids = burst.accepted()
        print("burst: %d accepted, %d refused or failed (%s)" % (
            len(ids), burst.failed, burst.failure_kinds()))
        cl.check(burst.rejected == 0, "no order rejected with 4xx: %s" % burst.first_reject)

        stored, delivered, dups = box.wait_stored_and_notified(ids, timeout=40)
        missing_store = sorted(set(ids) - stored)
        missing_note = sorted(set(ids) - set(delivered))
        cl.check(not missing_store, "%d accepted orders not stored: %s" % (
            len(missing_store), missing_store[:10]))
        cl.check(not missing_note, "%d accepted orders not notified: %s" % (
            len(missing_note), missing_note[:10]))
        print("all %d accepted orders stored and notified; %d notified more than once "
              "(stream batches retried after the crash: at-least-once, as on AWS)"
              % (len(ids), dups))

        live = box.envs()
        cl.check(live, "the restarted sandbox runs environments")
        box.stop()
        cl.wait_for("no function process after stop",
                    lambda: not [p for p in live if cl.alive(p)] and not box.envs(), 10)
        cl.check(not os.path.exists(os.path.join(box.data, "lambda", "pids")),
                 "the pid list is removed by a clean stop")
        print("crash_sandbox: %d checks passed" % cl.sb.CHECKS)
        return 0
    finally:
        box.cleanup()


if __name__ == "__main__":
    sys.exit(main())
