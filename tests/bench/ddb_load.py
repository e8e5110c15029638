#!/usr/bin/env python3
# ddb_load.py: DynamoDB load over keep-alive HTTP (awsJson 1.0), the same bytes for any endpoint.
"""Usage:
  ddb_load.py ENDPOINT TABLE create                 -> create the table (pk S, PAY_PER_REQUEST)
  ddb_load.py ENDPOINT TABLE put SECONDS PROCS      -> JSON {ops, seconds, rps, p50_ms, p99_ms}
  ddb_load.py ENDPOINT TABLE get SECONDS PROCS      -> the same for GetItem of the keys put
Requests carry a SigV4-shaped Authorization header (scope service dynamodb) so that
multi-service servers route them; neither peer verifies signatures by default."""
import http.client
import json
import multiprocessing
import os
import sys
import time
import urllib.parse

AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDBENCH/20240101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)


class Conn:
    def __init__(self, endpoint):
        u = urllib.parse.urlparse(endpoint)
        self.host, self.port = u.hostname, u.port
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, op, body):
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0",
                   "X-Amz-Target": "DynamoDB_20120810." + op,
                   "X-Amz-Date": "20240101T000000Z", "Authorization": AUTH}
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


def item(w, i):
    return {"pk": {"S": "order-%d-%d" % (w, i)}, "status": {"S": "NEW"},
            "amount": {"N": "%d.%02d" % (i, i % 100)}, "customer": {"S": "c" * 40},
            "lines": {"L": [{"M": {"sku": {"S": "sku-%d" % n}, "qty": {"N": str(n + 1)}}}
                            for n in range(3)]}}


def worker(args):
    endpoint, table, op, seconds, w = args
    c = Conn(endpoint)
    lat = []
    i = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        if op == "put":
            c.call("PutItem", {"TableName": table, "Item": item(w, i)})
        else:
            r = c.call("GetItem", {"TableName": table, "Key": {"pk": {"S": "order-%d-%d" % (w, i % 500)}}})
            if "Item" not in r:
                raise RuntimeError("GetItem found nothing")
        lat.append(time.perf_counter() - t0)
        i += 1
    return lat


def main():
    endpoint, table, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "create":
        Conn(endpoint).call("CreateTable", {
            "TableName": table, "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]})
        return 0
    seconds, procs = float(sys.argv[4]), int(sys.argv[5])
    with multiprocessing.Pool(procs) as pool:
        t0 = time.monotonic()
        lats = pool.map(worker, [(endpoint, table, mode, seconds, w) for w in range(procs)])
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
