#!/usr/bin/env python3
# sandbox_dynamodb.py: the sandbox's DynamoDB and DynamoDB Streams driven by boto3 and the AWS CLI.
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import CLEANOPS, check, free_port, start, stop  # noqa: E402

sb.need_boto3()
from botocore.exceptions import ClientError  # noqa: E402

# short enough to test expiry, long enough for 1000 writes on a loaded sanitizer build
ITER_TTL_MS = 8000
RETENTION_MS = 2000


def client(url, service="dynamodb"):
    return sb.client(url, service)


def err(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", "")
    return None, None


def cli(url, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDCLI", AWS_SECRET_ACCESS_KEY="secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    p = subprocess.run(["aws", "--endpoint-url", url, "--output", "json"] + list(args),
                       capture_output=True, text=True, timeout=60, env=env)
    return p.returncode, p.stdout, p.stderr


def make_table(ddb, name, rng=("sk", "N"), stream=None):
    ks = [{"AttributeName": "pk", "KeyType": "HASH"}]
    ad = [{"AttributeName": "pk", "AttributeType": "S"}]
    if rng:
        ks.append({"AttributeName": rng[0], "KeyType": "RANGE"})
        ad.append({"AttributeName": rng[0], "AttributeType": rng[1]})
    kw = dict(TableName=name, KeySchema=ks, AttributeDefinitions=ad, BillingMode="PAY_PER_REQUEST")
    if stream:
        kw["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
    return ddb.create_table(**kw)["TableDescription"]


ALL_TYPES = {
    "pk": {"S": "types"},
    "s": {"S": "h\u00e9llo \u2603 \"quoted\" \\ back"},
    "empty": {"S": ""},
    "n": {"N": "123456789012345678901234567890.123"},
    "neg": {"N": "-0.000000000000000000000000000000000001"},
    "exp": {"N": "1.5E+20"},
    "b": {"B": bytes(range(256))},
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "z": {"NULL": True},
    "m": {"M": {"deep": {"M": {"l": {"L": [{"N": "1"}, {"S": "x"}, {"M": {}}, {"L": []}]}}}}},
    "l": {"L": [{"S": "a"}, {"N": "2"}, {"B": b"\x00"}, {"BOOL": False}, {"NULL": True}]},
    "ss": {"SS": ["a", "b", "c"]},
    "ns": {"NS": ["1", "2.5", "-3", "99999999999999999999999999999999999999"]},
    "bs": {"BS": [b"\x00", b"\x01\x02"]},
}


def norm(item):
    """Sets compare without order."""
    out = {}
    for k, v in item.items():
        (t, x), = v.items()
        if t in ("SS", "NS", "BS"):
            out[k] = {t: sorted(x)}
        elif t == "M":
            out[k] = {"M": norm(x)}
        else:
            out[k] = v
    return out


def test_tables(ddb, url):
    d = make_table(ddb, "orders", stream="NEW_AND_OLD_IMAGES")
    check(d["TableStatus"] == "ACTIVE", "created table is ACTIVE")
    check(d["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/orders", d["TableArn"])
    check("/stream/" in d["LatestStreamArn"], "stream ARN")
    code, _ = err(make_table, ddb, "orders")
    check(code == "ResourceInUseException", "duplicate table: %s" % code)
    code, msg = err(ddb.describe_table, TableName="nosuchtable")
    check(code == "ResourceNotFoundException" and "Requested resource not found" in msg, msg)
    t = ddb.describe_table(TableName="orders")["Table"]
    for k in ("TableStatus", "TableArn", "ItemCount", "TableSizeBytes", "KeySchema",
              "AttributeDefinitions", "LatestStreamArn", "LatestStreamLabel",
              "StreamSpecification", "BillingModeSummary", "CreationDateTime"):
        check(k in t, "DescribeTable has %s" % k)
    check(t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
          str(t["StreamSpecification"]))
    check(t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", "billing")
    code, msg = err(ddb.create_table, TableName="bad1", KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "b", "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST")
    check(code == "ValidationException", "undefined key attribute: %s" % msg)
    # ListTables pagination
    for i in range(5):
        make_table(ddb, "list%02d" % i, rng=None)
    names, start = [], None
    while True:
        kw = {"Limit": 2}
        if start:
            kw["ExclusiveStartTableName"] = start
        r = ddb.list_tables(**kw)
        check(len(r["TableNames"]) <= 2, "Limit respected")
        names += r["TableNames"]
        start = r.get("LastEvaluatedTableName")
        if not start:
            break
    check(names == sorted(names) and "orders" in names and "list04" in names, str(names))
    check(len(names) == len(set(names)), "no duplicates across pages")
    # the waiter works
    ddb.get_waiter("table_exists").wait(TableName="list00", WaiterConfig={"Delay": 1})
    ddb.delete_table(TableName="list00")
    code, _ = err(ddb.describe_table, TableName="list00")
    check(code == "ResourceNotFoundException", "deleted table is gone")
    # the AWS CLI
    rc, out, e = cli(url, "dynamodb", "describe-table", "--table-name", "orders")
    check(rc == 0 and json.loads(out)["Table"]["TableName"] == "orders", "cli describe-table: " + e)
    rc, out, e = cli(url, "dynamodb", "list-tables")
    check(rc == 0 and "orders" in json.loads(out)["TableNames"], "cli list-tables: " + e)


def test_items(ddb, url):
    make_table(ddb, "items", rng=None)
    ddb.put_item(TableName="items", Item=ALL_TYPES)
    got = ddb.get_item(TableName="items", Key={"pk": {"S": "types"}})["Item"]
    check(norm(got) == norm(ALL_TYPES), "all types round trip: %s" % got)
    check(got["n"]["N"] == "123456789012345678901234567890.123", "big number kept exactly")
    # the raw wire too: numbers stay text
    rc, out, e = cli(url, "dynamodb", "get-item", "--table-name", "items", "--key",
                     json.dumps({"pk": {"S": "types"}}))
    check(rc == 0 and json.loads(out)["Item"]["n"] == {"N": "123456789012345678901234567890.123"},
          "cli get-item: " + e)
    rc, out, e = cli(url, "dynamodb", "put-item", "--table-name", "items", "--item",
                     json.dumps({"pk": {"S": "cli"}, "v": {"N": "1"}}))
    check(rc == 0, "cli put-item: " + e)
    # projection
    got = ddb.get_item(TableName="items", Key={"pk": {"S": "types"}},
                       ProjectionExpression="#s, m.deep.l[1], l[0]",
                       ExpressionAttributeNames={"#s": "s"})["Item"]
    check(got == {"s": ALL_TYPES["s"], "m": {"M": {"deep": {"M": {"l": {"L": [{"S": "x"}]}}}}},
                  "l": {"L": [{"S": "a"}]}}, "projection: %s" % got)
    check("Item" not in ddb.get_item(TableName="items", Key={"pk": {"S": "none"}}), "missing item")
    # validation errors
    code, msg = err(ddb.put_item, TableName="items", Item={"x": {"S": "no key"}})
    check(code == "ValidationException" and "Missing the key pk" in msg, msg)
    code, msg = err(ddb.put_item, TableName="items", Item={"pk": {"N": "1"}})
    check(code == "ValidationException" and "Type mismatch for key pk" in msg, msg)
    code, msg = err(ddb.put_item, TableName="items", Item={"pk": {"S": ""}})
    check(code == "ValidationException" and "empty string value" in msg, msg)
    code, msg = err(ddb.get_item, TableName="items", Key={"pk": {"S": "a"}, "x": {"S": "b"}})
    check(code == "ValidationException" and "does not match the schema" in msg, msg)
    code, msg = err(ddb.put_item, TableName="items", Item={"pk": {"S": "big"}, "v": {"S": "x" * 409600}})
    check(code == "ValidationException" and "Item size has exceeded the maximum allowed size" in msg, msg)
    ddb.put_item(TableName="items", Item={"pk": {"S": "almost"}, "v": {"S": "x" * 400000}})
    code, msg = err(ddb.put_item, TableName="items", Item={"pk": {"S": "a"}, "v": {"N": "12x"}})
    check(code == "ValidationException", msg)
    code, msg = err(ddb.put_item, TableName="nosuch", Item={"pk": {"S": "a"}})
    check(code == "ResourceNotFoundException", msg)
    # conditional writes
    ddb.put_item(TableName="items", Item={"pk": {"S": "c"}, "v": {"N": "1"}, "st": {"S": "NEW"}},
                 ConditionExpression="attribute_not_exists(pk)")
    code, msg = err(ddb.put_item, TableName="items", Item={"pk": {"S": "c"}},
                    ConditionExpression="attribute_not_exists(pk)")
    check(code == "ConditionalCheckFailedException" and msg == "The conditional request failed", msg)
    r = ddb.put_item(TableName="items", Item={"pk": {"S": "c"}, "v": {"N": "2"}, "st": {"S": "PAID"}},
                     ConditionExpression="#st = :new AND v < :two AND attribute_type(v, :N)",
                     ExpressionAttributeNames={"#st": "st"},
                     ExpressionAttributeValues={":new": {"S": "NEW"}, ":two": {"N": "2"}, ":N": {"S": "N"}},
                     ReturnValues="ALL_OLD")
    check(r["Attributes"]["st"] == {"S": "NEW"}, "ALL_OLD: %s" % r)
    cases = [
        ("v BETWEEN :a AND :b", {":a": {"N": "1"}, ":b": {"N": "3"}}, True),
        ("v IN (:a, :b)", {":a": {"N": "5"}, ":b": {"N": "2.0"}}, True),
        ("NOT (v <> :a) OR begins_with(st, :p)", {":a": {"N": "9"}, ":p": {"S": "PA"}}, True),
        ("contains(st, :p) AND size(st) = :n", {":p": {"S": "AI"}, ":n": {"N": "4"}}, True),
        ("v >= :a", {":a": {"N": "3"}}, False),
    ]
    for expr, vals, ok in cases:
        code, msg = err(ddb.update_item, TableName="items", Key={"pk": {"S": "c"}},
                        UpdateExpression="SET touched = :t",
                        ConditionExpression=expr,
                        ExpressionAttributeValues=dict(vals, **{":t": {"BOOL": True}}))
        check((code is None) == ok, "condition %s: %s %s" % (expr, code, msg))
    code, msg = err(ddb.put_item, TableName="items", Item={"pk": {"S": "c"}},
                    ConditionExpression="attribute_exists(pk",)
    check(code == "ValidationException" and msg.startswith("Invalid ConditionExpression: Syntax error; token:"), msg)
    code, msg = err(ddb.put_item, TableName="items", Item={"pk": {"S": "c"}},
                    ConditionExpression="attribute_exists(#p)",
                    ExpressionAttributeNames={"#p": "pk", "#q": "x"})
    check(code == "ValidationException" and "unused in expressions: keys: {#q}" in msg, msg)
    code, msg = err(ddb.put_item, TableName="items", Item={"pk": {"S": "c"}},
                    ConditionExpression="pk = :nope", ExpressionAttributeValues={":x": {"S": "1"}})
    check(code == "ValidationException" and "not defined; attribute value: :nope" in msg, msg)
    # UpdateItem: arithmetic, if_not_exists, REMOVE, ADD, DELETE, ReturnValues
    r = ddb.update_item(TableName="items", Key={"pk": {"S": "u"}},
                        UpdateExpression="SET cnt = if_not_exists(cnt, :z) + :one, tags = :tags",
                        ExpressionAttributeValues={":z": {"N": "0"}, ":one": {"N": "1"},
                                                   ":tags": {"SS": ["x", "y"]}},
                        ReturnValues="ALL_NEW")
    check(r["Attributes"]["cnt"] == {"N": "1"} and r["Attributes"]["pk"] == {"S": "u"}, str(r))
    code, msg = err(ddb.update_item, TableName="items", Key={"pk": {"S": "u"}},
                    UpdateExpression="ADD tags :x DELETE tags :x",
                    ExpressionAttributeValues={":x": {"SS": ["x"]}})
    check(code == "ValidationException" and "Two document paths overlap" in msg, msg)
    ddb.update_item(TableName="items", Key={"pk": {"S": "u"}}, UpdateExpression="DELETE tags :x",
                    ExpressionAttributeValues={":x": {"SS": ["x"]}})
    r = ddb.update_item(TableName="items", Key={"pk": {"S": "u"}},
                        UpdateExpression="SET cnt = cnt + :big ADD tags :more, hits :one",
                        ExpressionAttributeValues={":big": {"N": "123456789012345678901234567890.123"},
                                                   ":one": {"N": "1"}, ":more": {"SS": ["z"]}},
                        ReturnValues="UPDATED_NEW")
    check(r["Attributes"]["cnt"] == {"N": "123456789012345678901234567891.123"}, str(r))
    check(sorted(r["Attributes"]["tags"]["SS"]) == ["y", "z"] and r["Attributes"]["hits"] == {"N": "1"}, str(r))
    r = ddb.update_item(TableName="items", Key={"pk": {"S": "u"}}, UpdateExpression="REMOVE tags",
                        ReturnValues="UPDATED_OLD")
    check(sorted(r["Attributes"]["tags"]["SS"]) == ["y", "z"] and list(r["Attributes"]) == ["tags"], str(r))
    got = ddb.get_item(TableName="items", Key={"pk": {"S": "u"}})["Item"]
    check("tags" not in got, "REMOVE")
    code, msg = err(ddb.update_item, TableName="items", Key={"pk": {"S": "u"}},
                    UpdateExpression="SET pk = :v", ExpressionAttributeValues={":v": {"S": "x"}})
    check(code == "ValidationException" and "part of the key" in msg, msg)
    code, msg = err(ddb.update_item, TableName="items", Key={"pk": {"S": "u"}},
                    UpdateExpression="SET cnt = cnt + :s", ExpressionAttributeValues={":s": {"S": "x"}})
    check(code == "ValidationException" and "incorrect data type" in msg, msg)
    r = ddb.delete_item(TableName="items", Key={"pk": {"S": "u"}}, ReturnValues="ALL_OLD")
    check(r["Attributes"]["pk"] == {"S": "u"}, "delete ALL_OLD")
    check("Item" not in ddb.get_item(TableName="items", Key={"pk": {"S": "u"}}), "deleted")
    # batches
    ddb.batch_write_item(RequestItems={"items": [{"PutRequest": {"Item": {"pk": {"S": "bw%d" % i}}}}
                                                 for i in range(25)]})
    r = ddb.batch_get_item(RequestItems={"items": {"Keys": [{"pk": {"S": "bw%d" % i}} for i in range(30)]}})
    check(len(r["Responses"]["items"]) == 25, "batch get")
    code, msg = err(ddb.batch_write_item, RequestItems={"items": [{"PutRequest": {"Item": {"pk": {"S": "x"}}}}] * 2})
    check(code == "ValidationException" and "duplicates" in msg, msg)


def test_query_scan(ddb):
    make_table(ddb, "events", rng=("ts", "N"))
    with_s = make_table(ddb, "names", rng=("sk", "S"))
    check(with_s["TableStatus"] == "ACTIVE", "names")
    nums = ["-5", "0", "0.5", "1", "2", "10", "11", "100", "1E+3", "123456789012345678901234567890"]
    for i, n in enumerate(nums):
        ddb.put_item(TableName="events", Item={"pk": {"S": "p"}, "ts": {"N": n}, "i": {"N": str(i)}})
        ddb.put_item(TableName="events", Item={"pk": {"S": "q"}, "ts": {"N": n}})
    for sk in ["a", "ab", "abc", "b", "ba", "c"]:
        ddb.put_item(TableName="names", Item={"pk": {"S": "p"}, "sk": {"S": sk}})
    r = ddb.query(TableName="events", KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": {"S": "p"}})
    check([x["ts"]["N"] for x in r["Items"]] == nums, "numeric order: %s" % [x["ts"]["N"] for x in r["Items"]])
    r = ddb.query(TableName="events", KeyConditionExpression="pk = :p", ScanIndexForward=False,
                  ExpressionAttributeValues={":p": {"S": "p"}})
    check([x["ts"]["N"] for x in r["Items"]] == nums[::-1], "reverse order")
    for expr, vals, want in [
        ("pk = :p AND ts BETWEEN :a AND :b", {":a": {"N": "0.5"}, ":b": {"N": "11"}}, nums[2:7]),
        ("pk = :p AND ts < :a", {":a": {"N": "1"}}, nums[:3]),
        ("pk = :p AND ts <= :a", {":a": {"N": "1.0"}}, nums[:4]),
        ("pk = :p AND ts > :a", {":a": {"N": "100"}}, nums[8:]),
        ("pk = :p AND ts >= :a", {":a": {"N": "100"}}, nums[7:]),
        ("pk = :p AND ts = :a", {":a": {"N": "1000"}}, ["1E+3"]),
    ]:
        vals[":p"] = {"S": "p"}
        r = ddb.query(TableName="events", KeyConditionExpression=expr, ExpressionAttributeValues=vals)
        check([x["ts"]["N"] for x in r["Items"]] == want, "%s: %s" % (expr, r["Items"]))
    r = ddb.query(TableName="names", KeyConditionExpression="pk = :p AND begins_with(sk, :a)",
                  ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"S": "a"}})
    check([x["sk"]["S"] for x in r["Items"]] == ["a", "ab", "abc"], "begins_with")
    r = ddb.query(TableName="events", KeyConditionExpression="pk = :p", FilterExpression="i >= :five",
                  ExpressionAttributeValues={":p": {"S": "p"}, ":five": {"N": "5"}})
    check(r["Count"] == 5 and r["ScannedCount"] == 10, "filter counts: %s %s" % (r["Count"], r["ScannedCount"]))
    r = ddb.query(TableName="events", KeyConditionExpression="pk = :p", Select="COUNT",
                  ExpressionAttributeValues={":p": {"S": "p"}})
    check(r["Count"] == 10 and "Items" not in r, "Select=COUNT")
    # pagination with Limit / LastEvaluatedKey
    seen, esk = [], None
    while True:
        kw = dict(TableName="events", KeyConditionExpression="pk = :p", Limit=3,
                  ExpressionAttributeValues={":p": {"S": "p"}})
        if esk:
            kw["ExclusiveStartKey"] = esk
        r = ddb.query(**kw)
        check(len(r["Items"]) <= 3, "page size")
        seen += [x["ts"]["N"] for x in r["Items"]]
        esk = r.get("LastEvaluatedKey")
        if not esk:
            break
    check(seen == nums, "query pages: %s" % seen)
    pages = ddb.get_paginator("scan").paginate(TableName="events", PaginationConfig={"PageSize": 4})
    items = [x for p in pages for x in p["Items"]]
    check(len(items) == 20, "scan paginator: %d" % len(items))
    keys = {(x["pk"]["S"], x["ts"]["N"]) for x in items}
    check(len(keys) == 20, "scan pages do not overlap")
    r = ddb.scan(TableName="events", FilterExpression="attribute_exists(i)", Select="COUNT")
    check(r["Count"] == 10 and r["ScannedCount"] == 20, "scan filter count")
    code, msg = err(ddb.query, TableName="events", KeyConditionExpression="pk = :p",
                    FilterExpression="ts > :a",
                    ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"N": "1"}})
    check(code == "ValidationException" and "Primary key attribute: ts" in msg, msg)
    code, msg = err(ddb.query, TableName="events", KeyConditionExpression="ts = :a",
                    ExpressionAttributeValues={":a": {"N": "1"}})
    check(code == "ValidationException" and "missed key schema element: pk" in msg, msg)
    code, msg = err(ddb.query, TableName="events", KeyConditionExpression="pk = :a OR ts = :a",
                    ExpressionAttributeValues={":a": {"N": "1"}})
    check(code == "ValidationException", msg)
    code, msg = err(ddb.query, TableName="events", KeyConditionExpression="pk = :a",
                    ExpressionAttributeValues={":a": {"N": "1"}})
    check(code == "ValidationException" and "does not match schema type" in msg, msg)


def stream_of(ddb, streams, table):
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return arn, shard


def read_all(streams, it):
    out = []
    while it:
        r = streams.get_records(ShardIterator=it, Limit=1000)
        out += r["Records"]
        if not r["Records"]:
            break
        it = r.get("NextShardIterator")
    return out


def test_streams(ddb, streams, url):
    views = {}
    for v in ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        t = "sv_" + v.lower()
        make_table(ddb, t, rng=None, stream=v)
        ddb.put_item(TableName=t, Item={"pk": {"S": "k"}, "v": {"N": "1"}})
        ddb.put_item(TableName=t, Item={"pk": {"S": "k"}, "v": {"N": "1"}})  # unchanged: no record
        ddb.update_item(TableName=t, Key={"pk": {"S": "k"}}, UpdateExpression="SET v = :2",
                        ExpressionAttributeValues={":2": {"N": "2"}})
        ddb.delete_item(TableName=t, Key={"pk": {"S": "k"}})
        ddb.delete_item(TableName=t, Key={"pk": {"S": "k"}})  # nothing deleted: no record
        arn, shard = stream_of(ddb, streams, t)
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        views[v] = read_all(streams, it)
    for v, recs in views.items():
        check([r["eventName"] for r in recs] == ["INSERT", "MODIFY", "REMOVE"],
              "%s events: %s" % (v, [r["eventName"] for r in recs]))
        for r in recs:
            d = r["dynamodb"]
            check(r["eventVersion"] == "1.1" and r["eventSource"] == "aws:dynamodb"
                  and r["awsRegion"] == "us-east-1" and r["eventID"], "record envelope")
            check(d["Keys"] == {"pk": {"S": "k"}} and d["StreamViewType"] == v, "keys/view")
            check(isinstance(d["SizeBytes"], int) and d["SizeBytes"] > 0, "SizeBytes")
            check("ApproximateCreationDateTime" in d, "ApproximateCreationDateTime")
        ins, mod, rem = (r["dynamodb"] for r in recs)
        has_new = v in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
        has_old = v in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
        check(("NewImage" in ins) == has_new and ("OldImage" in ins) is False, v + " insert images")
        check(("NewImage" in mod) == has_new and ("OldImage" in mod) == has_old, v + " modify images")
        check(("NewImage" in rem) is False and ("OldImage" in rem) == has_old, v + " remove images")
        if has_new:
            check(mod["NewImage"]["v"] == {"N": "2"}, "new image value")
        if has_old:
            check(mod["OldImage"]["v"] == {"N": "1"}, "old image value")
    # ordering: 1000 writes, strictly increasing sequence numbers, in order
    arn, shard = stream_of(ddb, streams, "orders")
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                        ShardIteratorType="LATEST")["ShardIterator"]
    for i in range(1000):
        ddb.put_item(TableName="orders", Item={"pk": {"S": "o"}, "sk": {"N": str(i)}})
    recs = read_all(streams, latest)
    check(len(recs) == 1000, "1000 records after LATEST: %d" % len(recs))
    check([int(r["dynamodb"]["Keys"]["sk"]["N"]) for r in recs] == list(range(1000)), "write order")
    seqs = [r["dynamodb"]["SequenceNumber"] for r in recs]
    check(all(int(a) < int(b) for a, b in zip(seqs, seqs[1:])), "sequence numbers strictly increase")
    check(all(len(s) == len(seqs[0]) for s in seqs), "sequence numbers are fixed width")
    mid = seqs[500]
    r = streams.get_records(ShardIterator=streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=mid)["ShardIterator"], Limit=2)
    check([x["dynamodb"]["SequenceNumber"] for x in r["Records"]] == seqs[500:502], "AT_SEQUENCE_NUMBER")
    r = streams.get_records(ShardIterator=streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=mid)["ShardIterator"], Limit=2)
    check([x["dynamodb"]["SequenceNumber"] for x in r["Records"]] == seqs[501:503], "AFTER_SEQUENCE_NUMBER")
    code, msg = err(streams.get_records, ShardIterator="garbage|x|1|2|3")
    check(code == "ValidationException", "bad iterator: %s" % code)
    code, msg = err(streams.get_records, ShardIterator=latest, Limit=1001)
    check(code == "ValidationException", "limit 1001")
    # ListStreams with pagination
    all_streams, esa = [], None
    while True:
        kw = {"Limit": 2}
        if esa:
            kw["ExclusiveStartStreamArn"] = esa
        r = streams.list_streams(**kw)
        all_streams += r["Streams"]
        esa = r.get("LastEvaluatedStreamArn")
        if not esa:
            break
    check(len(all_streams) == 5 and len({s["StreamArn"] for s in all_streams}) == 5,
          "ListStreams pages: %d" % len(all_streams))
    # disable: the shard closes; enable again: a new label
    old_label = ddb.describe_table(TableName="sv_keys_only")["Table"]["LatestStreamLabel"]
    old_arn, old_shard = stream_of(ddb, streams, "sv_keys_only")
    ddb.update_table(TableName="sv_keys_only", StreamSpecification={"StreamEnabled": False})
    d = streams.describe_stream(StreamArn=old_arn)["StreamDescription"]
    check(d["StreamStatus"] == "DISABLED" and "EndingSequenceNumber" in d["Shards"][0]["SequenceNumberRange"],
          "closed shard: %s" % d)
    it = streams.get_shard_iterator(StreamArn=old_arn, ShardId=old_shard,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    r = streams.get_records(ShardIterator=it)
    check(len(r["Records"]) == 3 and not r.get("NextShardIterator"), "closed shard read to its end")
    time.sleep(0.01)
    t = ddb.update_table(TableName="sv_keys_only",
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]
    check(t["LatestStreamLabel"] != old_label and t["LatestStreamArn"] != old_arn, "new stream label")
    code, msg = err(ddb.update_table, TableName="sv_keys_only",
                    StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    check(code == "ValidationException", "already enabled")
    # iterator expiry (the sandbox runs with a short TTL)
    arn, shard = stream_of(ddb, streams, "orders")
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    streams.get_records(ShardIterator=it)
    time.sleep(ITER_TTL_MS / 1000.0 + 0.5)
    code, msg = err(streams.get_records, ShardIterator=it)
    check(code == "ExpiredIteratorException", "iterator expiry: %s %s" % (code, msg))
    # deleting the table closes its stream
    ddb.delete_table(TableName="sv_new_image")
    arn = [s for s in streams.list_streams(TableName="sv_new_image")["Streams"]][0]["StreamArn"]
    d = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    check(d["StreamStatus"] == "DISABLED", "stream of a deleted table is disabled")
    # AWS CLI
    rc, out, e = cli(url, "dynamodbstreams", "describe-stream", "--stream-arn", arn)
    check(rc == 0 and json.loads(out)["StreamDescription"]["StreamArn"] == arn, "cli describe-stream " + e)


def test_kill9(url, port, data):
    """kill -9 under acknowledged PutItem calls, restart: nothing acknowledged is lost."""
    ddb = client(url)
    make_table(ddb, "durable", rng=None, stream="KEYS_ONLY")
    acked, lock, stop_flag = [], threading.Lock(), threading.Event()

    def writer(w):
        c = client(url)
        i = 0
        while not stop_flag.is_set():
            k = "w%d-%d" % (w, i)
            try:
                c.put_item(TableName="durable", Item={"pk": {"S": k}, "v": {"N": str(i)}})
            except Exception:
                return
            with lock:
                acked.append(k)
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    deadline = time.time() + 20
    while len(acked) < 300 and time.time() < deadline:
        time.sleep(0.05)
    with open(os.path.join(data, "sandbox.pid")) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGKILL)
    stop_flag.set()
    for t in threads:
        t.join()
    check(len(acked) >= 300, "writes were acknowledged before the kill: %d" % len(acked))
    start(port, data, {"CLEANOPS_SBX_ITERATOR_TTL_MS": str(ITER_TTL_MS),
                       "CLEANOPS_SBX_STREAM_RETENTION_MS": str(RETENTION_MS)})
    ddb = client(url)
    got = set()
    for page in ddb.get_paginator("scan").paginate(TableName="durable"):
        got |= {x["pk"]["S"] for x in page["Items"]}
    lost = [k for k in acked if k not in got]
    check(not lost, "acknowledged writes lost after kill -9: %d of %d" % (len(lost), len(acked)))
    return len(acked)


def test_trim(ddb, streams):
    """The restarted sandbox keeps records RETENTION_MS: older ones are trimmed."""
    arn, shard = stream_of(ddb, streams, "durable")
    first = streams.get_records(ShardIterator=streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"], Limit=1)["Records"]
    time.sleep(RETENTION_MS / 1000.0 + 1.0)
    ddb.put_item(TableName="durable", Item={"pk": {"S": "after-trim"}})
    time.sleep(RETENTION_MS / 4000.0 + 0.1)
    ddb.put_item(TableName="durable", Item={"pk": {"S": "after-trim-2"}})
    if first:
        code, msg = err(streams.get_shard_iterator, StreamArn=arn, ShardId=shard,
                        ShardIteratorType="AT_SEQUENCE_NUMBER",
                        SequenceNumber=first[0]["dynamodb"]["SequenceNumber"])
        check(code == "TrimmedDataAccessException", "trimmed position: %s %s" % (code, msg))
    recs = read_all(streams, streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
    check([r["dynamodb"]["Keys"]["pk"]["S"] for r in recs] == ["after-trim", "after-trim-2"],
          "only recent records remain: %s" % [r["dynamodb"]["Keys"] for r in recs][:5])


def main():
    if not os.access(CLEANOPS, os.X_OK):
        print("SKIP: no cleanops binary at %s" % CLEANOPS)
        return 77
    if not shutil.which("aws"):
        print("SKIP: the AWS CLI is not installed")
        return 77
    data = tempfile.mkdtemp(prefix="cleanops-ddb-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    try:
        start(port, data, {"CLEANOPS_SBX_ITERATOR_TTL_MS": str(ITER_TTL_MS)})
        ddb = client(url)
        streams = client(url, "dynamodbstreams")
        test_tables(ddb, url)
        test_items(ddb, url)
        test_query_scan(ddb)
        test_streams(ddb, streams, url)
        n = test_kill9(url, port, data)
        test_trim(client(url), client(url, "dynamodbstreams"))
        print("ok: %d checks (%d acknowledged writes survived kill -9)" % (sb.CHECKS, n))
        return 0
    finally:
        stop(data)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
