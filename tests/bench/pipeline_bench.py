#!/usr/bin/env python3
# pipeline_bench.py: issue 5's benchmark: the whole pipeline in the sandbox (API -> SQS ->
# POC-Lambda-1 -> DynamoDB -> stream -> POC-Lambda-2 -> SNS -> the POC-Deliveries tap), wired
# by hand with boto3 (deploy_boto3.deploy: the same resources and settings as `cleanops deploy`).
#
# Load generator: `cleanops order --rate R --concurrency C --wait --json`. It is C: worker
# threads with kept-alive connections paced by a token bucket, and it measures what we want
# (POST to the delivery's receipt on the SNS->SQS tap, from a drain thread that long-polls the
# tap from before the first POST), so the measuring client costs little of the 2 cores the
# pipeline needs; a Python client would not reach 1,000 POSTs/s here without taking them.
#
# Runs: a warm-up (starts the functions' environments), the target load (RATE orders/s for
# SECONDS) and a burst (BURST orders as fast as the API takes them) for the capacity.
# Env: CLEANOPS, ROOT, BUILD; PIPELINE_RATE (1000), PIPELINE_SECONDS (10), PIPELINE_BURST
# (10000), PIPELINE_CONCURRENCY (16).
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get("ROOT") or os.getcwd()
BUILD = os.environ.get("BUILD", "build")
CLEANOPS = os.environ.get("CLEANOPS") or os.path.join(ROOT, BUILD, "cleanops")
RATE = float(os.environ.get("PIPELINE_RATE", "1000"))
SECONDS = float(os.environ.get("PIPELINE_SECONDS", "10"))
BURST = int(os.environ.get("PIPELINE_BURST", "10000"))
CONC = int(os.environ.get("PIPELINE_CONCURRENCY", "16"))
TARGET_RATE, TARGET_P99_MS = 1000.0, 250.0
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDPIPELINEBENCH", AWS_SECRET_ACCESS_KEY="secret",
           AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/nonexistent",
           AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
ENV.pop("AWS_PROFILE", None)
ENV.pop("AWS_ENDPOINT_URL", None)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(data):
    """CPU seconds used so far by the sandbox and the functions' processes (all under data)."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % pid, "rb").read().decode(errors="replace")
            if data not in cmd:
                continue
            fields = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total


def order(url, data, count, rate, wait_s):
    args = [CLEANOPS, "order", "--endpoint", url, "--count", str(count), "--concurrency", str(CONC),
            "--wait=%d" % wait_s, "--json"]
    if rate:
        args += ["--rate", str(rate)]
    cpu0 = cpu_seconds(data)
    p = subprocess.run(args, capture_output=True, text=True, env=ENV, timeout=wait_s + count / 100 + 120)
    if not p.stdout.strip():
        raise RuntimeError("cleanops order printed nothing (rc %d): %s" % (p.returncode, p.stderr))
    doc = json.loads(p.stdout)
    doc["cpu_s"] = cpu_seconds(data) - cpu0
    doc["stderr"] = p.stderr.strip()
    lat = doc.get("latency_ms") or {"p50": 0, "p95": 0, "p99": 0, "max": 0}
    doc["lat"] = lat
    doc["lost"] = doc["submitted"] - doc["notified"]
    # every delivery arrived by the last POST + the largest latency: a lower bound of the
    # end-to-end throughput over the run
    span = doc["elapsed_s"] + lat["max"] / 1000.0
    doc["e2e_rate"] = doc["notified"] / span if span > 0 else 0.0
    doc["post_rate"] = doc["submitted"] / doc["elapsed_s"] if doc["elapsed_s"] > 0 else 0.0
    return doc


def show(label, d):
    print("%-8s %6d orders: POSTs %7.0f/s, delivered end to end >= %7.0f/s; POST->delivery "
          "p50 %7.1f ms p99 %7.1f ms max %7.1f ms; lost %d; %.2f ms CPU/order (sandbox+functions)" % (
              label, d["submitted"], d["post_rate"], d["e2e_rate"], d["lat"]["p50"], d["lat"]["p99"],
              d["lat"]["max"], d["lost"], 1000.0 * d["cpu_s"] / max(1, d["submitted"])))
    if d["stderr"]:
        print("         order said: %s" % d["stderr"][:300])


def main():
    if not os.access(CLEANOPS, os.X_OK):
        print("SKIP: no cleanops binary at %s" % CLEANOPS)
        return 77
    try:
        import boto3  # noqa: F401
    except ImportError:
        print("SKIP: boto3 is not installed")
        return 77
    bindir = os.path.join(ROOT, BUILD, "lambda", "bin")
    if not os.path.isdir(bindir):
        print("SKIP: no Lambda binaries in %s (run make)" % bindir)
        return 77
    spec = importlib.util.spec_from_file_location("deploy_boto3", os.path.join(ROOT, "tests", "bench",
                                                                              "deploy_boto3.py"))
    wiring = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wiring)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION",
              "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ[k] = ENV[k]

    tmp = tempfile.mkdtemp(prefix="cleanops-bench-pipeline-")
    data, zips = os.path.join(tmp, "data"), os.path.join(tmp, "zips")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    try:
        subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data], check=True,
                       timeout=30, env=ENV, stdout=subprocess.DEVNULL)
        subprocess.run([CLEANOPS, "package", "--bin", bindir, "--out", zips], check=True, env=ENV,
                       stdout=subprocess.DEVNULL)
        wiring.deploy(url, zips)
        print("pipeline benchmark: %d cores (load average %.2f at start), %d client threads" % (
            os.cpu_count(), os.getloadavg()[0], CONC))
        warm = order(url, data, 200, 200, 30)
        if warm["lost"]:
            print("FAIL: warm-up lost %d orders: %s" % (warm["lost"], warm["stderr"]))
            return 1
        steady = order(url, data, int(RATE * SECONDS), RATE, 120)
        show("%.0f/s" % RATE, steady)
        burst = order(url, data, BURST, 0, 180)
        show("burst", burst)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, RuntimeError, ValueError) as e:
        print("FAIL: %s" % e)
        log = os.path.join(data, "sandbox.log")
        if os.path.exists(log):
            print("".join(open(log).readlines()[-15:]))
        return 1
    finally:
        subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], timeout=60, env=ENV,
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)

    sustained = steady["e2e_rate"] if steady["lat"]["p99"] < TARGET_P99_MS else 0.0
    capacity = burst["e2e_rate"]
    p99 = steady["lat"]["p99"]
    lost = steady["lost"] + burst["lost"]
    print()
    print("%-34s %12s %12s %9s" % ("", "measured", "target", "ratio"))
    print("%-34s %10.0f/s %10.0f/s %8.2fx" % ("sustained at %.0f/s offered" % RATE,
                                              steady["e2e_rate"], TARGET_RATE,
                                              steady["e2e_rate"] / TARGET_RATE))
    print("%-34s %10.0f/s %10.0f/s %8.2fx" % ("capacity (burst of %d)" % BURST, capacity, TARGET_RATE,
                                              capacity / TARGET_RATE))
    print("%-34s %10.1fms %10.1fms %8.2fx" % ("p50 POST->delivery at %.0f/s" % RATE, steady["lat"]["p50"],
                                              TARGET_P99_MS, TARGET_P99_MS / max(steady["lat"]["p50"], 0.001)))
    print("%-34s %10.1fms %10.1fms %8.2fx" % ("p99 POST->delivery at %.0f/s" % RATE, p99, TARGET_P99_MS,
                                              TARGET_P99_MS / max(p99, 0.001)))
    print("%-34s %12d %12d" % ("lost (both runs)", lost, 0))
    met = sustained >= TARGET_RATE * 0.98 and RATE >= TARGET_RATE and p99 < TARGET_P99_MS and lost == 0
    print("targets (>= %.0f orders/s sustained, p99 < %.0f ms, nothing lost): %s" % (
        TARGET_RATE, TARGET_P99_MS, "met" if met else "NOT met"))
    print("note: figures from a shared machine are indicative; compare on a quiet one")
    if lost:
        print("FAIL: %d orders were accepted but never delivered" % lost)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
