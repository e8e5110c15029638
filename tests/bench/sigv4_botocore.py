#!/usr/bin/env python3
"""sigv4_botocore.py: signatures per second of botocore's SigV4Auth on the request sigv4_bench.c signs."""
import datetime
import sys
import time

try:
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:  # the peer is missing: nothing to compare against
    print(f"SKIP: botocore not importable ({e})")
    sys.exit(77)

# Keep in step with tests/bench/sigv4_bench.c.
AK = "AKIDEXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = ("AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHG"
         "BuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8ph"
         "UZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7Z"
         "D0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==")
BODY = (b'{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/000000000000/orders",'
        b'"MessageBody":"{\\"orderId\\":\\"o-1001\\",\\"amount\\":42}"}')
WHEN = datetime.datetime(2015, 8, 30, 12, 36, 0, tzinfo=datetime.timezone.utc)


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    # pin the clock botocore reads, as the C signer takes the time as an argument
    botocore.auth.get_current_datetime = lambda *a, **k: WHEN
    auth = botocore.auth.SigV4Auth(Credentials(AK, SK, TOKEN), "sqs", "us-east-1")
    req = AWSRequest(method="POST", url="https://sqs.us-east-1.amazonaws.com/",
                     headers={"Host": "sqs.us-east-1.amazonaws.com",
                              "Content-Type": "application/x-amz-json-1.0",
                              "X-Amz-Target": "AmazonSQS.SendMessage",
                              "Content-Length": str(len(BODY))},
                     data=BODY)
    # CPU time, like the C side: other processes on the box do not skew the ratio
    # add_auth replaces X-Amz-Date, X-Amz-Security-Token and Authorization on every call
    n = 0
    t0 = time.process_time()
    while True:
        for _ in range(100):
            auth.add_auth(req)
        n += 100
        t1 = time.process_time()
        if t1 - t0 >= secs:
            break
    sig = req.headers["Authorization"].rsplit("Signature=", 1)[1]
    print(f"signature {sig}")
    print(f"rate {n / (t1 - t0):.0f}")


if __name__ == "__main__":
    main()
