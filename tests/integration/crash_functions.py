#!/usr/bin/env python3
# crash_functions.py: kill -9 the function processes again and again during a burst of orders:
# the sandbox replaces them, the failed batches come back (SQS after the visibility timeout,
# the stream from its checkpoint), and every order the API accepted is stored and notified.
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import crashlib as cl  # noqa: E402

KILL_SECONDS = 8


def main():
    skip = cl.skip_reason()
    if skip:
        print("SKIP: " + skip)
        return 77
    box = cl.Sandbox("crash_functions")
    try:
        box.start()
        box.deploy()
        box.shorten_visibility()

        burst = cl.Burst(box.invoke, prefix="fn", threads=6)
        burst.start()
        cl.wait_for("environments of both functions", lambda: len(box.envs()) >= 2, 20)
        killed = []
        rnd = random.Random(8)
        # kill for KILL_SECONDS, and on until kills have cut short at least two invocations
        # (a process may be killed while idle, between batches)
        start = time.time()
        while time.time() < start + KILL_SECONDS or (
                box.log().count("Runtime.ExitError") < 2 and time.time() < start + 20):
            envs = box.envs()
            if envs:
                pid = rnd.choice(envs)
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                except OSError:
                    pass
            time.sleep(rnd.uniform(0.3, 0.7))
        mark = burst.accepted_count()
        # the sandbox replaces what was killed: orders keep flowing with new processes
        cl.wait_for("orders accepted after the kills", lambda: burst.accepted_count() >= mark + 60,
                    20)
        burst.stop()
        ids = burst.accepted()
        log = box.log()
        ended = log.count("ended (signal 9)")
        exit_errors = log.count("Runtime.ExitError")
        print("killed %d function processes; %d ended by signal 9 in the log, %d batches "
              "failed with Runtime.ExitError; %d orders accepted, %d failed (%s)"
              % (len(killed), ended, exit_errors, len(ids), burst.failed, burst.failure_kinds()))
        cl.check(len(killed) >= 8, "killed only %d processes" % len(killed))
        cl.check(ended >= len(killed) // 2, "the sandbox saw its processes die: %d" % ended)
        cl.check(exit_errors >= 1, "at least one kill hit a batch in flight")
        cl.check(burst.rejected == 0 and burst.failed == 0,
                 "the API kept accepting orders: %d rejected (%s), %d failed (%s)" % (
                     burst.rejected, burst.first_reject, burst.failed, burst.failure_kinds()))

        stored, delivered, dups = box.wait_stored_and_notified(ids, timeout=40)
        missing_store = sorted(set(ids) - stored)
        missing_note = sorted(set(ids) - set(delivered))
        cl.check(not missing_store, "%d accepted orders not stored: %s" % (
            len(missing_store), missing_store[:10]))
        cl.check(not missing_note, "%d accepted orders not notified: %s" % (
            len(missing_note), missing_note[:10]))
        sqs = box.client("sqs")
        for q in ("POC-Queue-DLQ", "POC-Stream-Failures"):
            n = sqs.get_queue_attributes(QueueUrl=box.queue_url(q), AttributeNames=[
                "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]
            cl.check(n == "0", "%s holds %s messages: something was given up" % (q, n))
        live = box.envs()
        cl.check(live and not set(live) & set(killed), "new processes replace the killed ones")
        print("all %d accepted orders stored and notified; %d notified more than once "
              "(retried stream batches: at-least-once, as on AWS)" % (len(ids), dups))
        box.stop()
        cl.wait_for("no function process after stop", lambda: not box.envs(), 10)
        print("crash_functions: %d checks passed" % cl.sb.CHECKS)
        return 0
    finally:
        box.cleanup()


if __name__ == "__main__":
    sys.exit(main())
