#!/usr/bin/env python3
# sqs_load.py: SQS load over keep-alive HTTP (awsJson 1.0), the same bytes for any endpoint.
"""Usage:
  sqs_load.py ENDPOINT QUEUE send SECONDS PROCS     -> JSON {ops, seconds, rps, p50_ms, p99_ms}
  sqs_load.py ENDPOINT QUEUE recvdel SECONDS PROCS  -> the same, one op = receive + delete
  sqs_load.py ENDPOINT QUEUE fill COUNT PROCS       -> SendMessageBatch until COUNT messages sent
  sqs_load.py ENDPOINT QUEUE create                 -> create the queue, print its URL
Requests carry a SigV4-shaped Authorization header (scope service sqs) so that multi-service
servers route them; neither peer verifies signatures by default."""
import http.client
import json
import multiprocessing
import sys
import time
import urllib.parse

AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDBENCH/20240101/us-east-1/sqs/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)


class Conn:
    def __init__(self, endpoint):
        u = urllib.parse.urlparse(endpoint)
        self.host, self.port = u.hostname, u.port
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, op, body):
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + op,
                   "X-Amz-Date": "20240101T000000Z", "Authorization": AUTH,
                   "x-amzn-query-mode": "true"}
        for attempt in range(2):
            try:
                self.c.request("POST", "/", body=data, headers=headers)
                r = self.c.getresponse()
                out = r.read()
                if r.status != 200:
                    raise RuntimeError("%s -> %d %s" % (op, r.status, out[:200]))
                return json.loads(out) if out else {}
            except (http.client.HTTPException, ConnectionError):
                self.c.close()
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise


def worker(args):
    endpoint, queue, op, seconds = args
    c = Conn(endpoint)
    lat = []
    body = "x" * 200
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        if op == "send":
            c.call("SendMessage", {"QueueUrl": queue, "MessageBody": body})
        else:
            r = c.call("ReceiveMessage", {"QueueUrl": queue, "MaxNumberOfMessages": 1})
            msgs = r.get("Messages", [])
            if not msgs:
                break  # the queue ran dry: stop measuring this worker
            c.call("DeleteMessage", {"QueueUrl": queue, "ReceiptHandle": msgs[0]["ReceiptHandle"]})
        lat.append(time.perf_counter() - t0)
    return lat


def filler(args):
    endpoint, queue, count = args
    c = Conn(endpoint)
    sent = 0
    while sent < count:
        n = min(10, count - sent)
        c.call("SendMessageBatch", {"QueueUrl": queue, "Entries": [
            {"Id": "m%d" % i, "MessageBody": "payload-%d-%s" % (sent + i, "y" * 180)} for i in range(n)]})
        sent += n
    return sent


def main():
    endpoint, queue, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "create":
        r = Conn(endpoint).call("CreateQueue", {"QueueName": queue})
        print(r["QueueUrl"])
        return 0
    procs = int(sys.argv[5])
    with multiprocessing.Pool(procs) as pool:
        if mode == "fill":
            count = int(sys.argv[4])
            t0 = time.monotonic()
            sent = sum(pool.map(filler, [(endpoint, queue, count // procs)] * procs))
            print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - t0, 2)}))
            return 0
        seconds = float(sys.argv[4])
        t0 = time.monotonic()
        lats = pool.map(worker, [(endpoint, queue, mode, seconds)] * procs)
        wall = time.monotonic() - t0
    all_lat = sorted(x for l in lats for x in l)
    n = len(all_lat)
    res = {"ops": n, "seconds": round(wall, 2), "rps": round(n / wall, 1) if wall else 0,
           "p50_ms": round(all_lat[n // 2] * 1000, 2) if n else None,
           "p99_ms": round(all_lat[min(n - 1, int(n * 0.99))] * 1000, 2) if n else None}
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
