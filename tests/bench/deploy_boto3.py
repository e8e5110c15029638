#!/usr/bin/env python3
# deploy_boto3.py: the pipeline `cleanops deploy` builds, scripted the plain way with boto3:
# one call after another, boto3's waiters where it has them, a polling loop where it does not.
# It creates exactly the resources of aws/stack/resources.c (stack POC, no email subscription),
# so `cleanops status` reports the result healthy; destroy removes them all.
#
#   deploy_boto3.py ENDPOINT_URL ZIP_DIR deploy
#   deploy_boto3.py ENDPOINT_URL - destroy
#
# Credentials and region come from the environment (AWS_ACCESS_KEY_ID ..., AWS_REGION).
# tests/bench/deploy.sh times it against `cleanops deploy`; pipeline_bench.py wires its
# pipeline with deploy().
import json
import os
import platform
import sys
import time

import boto3

ROOT = os.environ.get("ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
POLICIES = ["Lambda-Write-DynamoDB", "Lambda-Read-SQS", "Lambda-DynamoDBStreams-Read",
            "Lambda-SNS-Publish", "APIGateway-SQS-Send"]
ROLES = [("Lambda-SQS-DynamoDB", "lambda", ["Lambda-Write-DynamoDB", "Lambda-Read-SQS"]),
         ("Lambda-DynamoDBStreams-SNS", "lambda", ["Lambda-DynamoDBStreams-Read", "Lambda-SNS-Publish"]),
         ("APIGateway-SQS", "apigateway", ["APIGateway-SQS-Send"])]
TEMPLATE = "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
SCHEMA = {"$schema": "http://json-schema.org/draft-04/schema#", "title": "Order", "type": "object",
          "properties": {"item": {"type": "string", "minLength": 1, "maxLength": 256},
                         "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
                         "orderID": {"type": "string"}, "customerID": {"type": "string"}},
          "required": ["item"], "additionalProperties": False}


def clients(url):
    s = boto3.session.Session()
    return lambda svc: s.client(svc, endpoint_url=url)


def render(path, region, account):
    text = open(path).read()
    for k, v in (("Region", region), ("Account", account), ("Stack", "POC"), ("Prefix", "")):
        text = text.replace("${%s}" % k, v)
    return text


def poll(what, fn, timeout=300):
    """No boto3 waiter for this: ask, sleep a second, ask again."""
    deadline = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(1)


def deploy(url, zips):
    c = clients(url)
    iam, ddb, sqs, sns, logs, lam, apigw = (c(n) for n in ("iam", "dynamodb", "sqs", "sns", "logs",
                                                            "lambda", "apigateway"))
    region = sqs.meta.region_name
    account = c("sts").get_caller_identity()["Account"]
    arn = lambda svc, res: "arn:aws:%s:%s:%s:%s" % (svc, region, account, res)  # noqa: E731
    role_arn = lambda name: "arn:aws:iam::%s:role/%s" % (account, name)  # noqa: E731

    # IAM: the five policies, the three roles with their trust policies and attachments
    for p in POLICIES:
        iam.create_policy(PolicyName=p, PolicyDocument=render(
            os.path.join(ROOT, "policies", p + ".json"), region, account))
    for name, trust, attached in ROLES:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=render(
            os.path.join(ROOT, "policies", "trust", trust + ".json"), region, account))
        for p in attached:
            iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::%s:policy/%s" % (account, p))

    # the table and its stream
    ddb.create_table(TableName="orders", KeySchema=[{"AttributeName": "orderID", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "orderID", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    ddb.get_waiter("table_exists").wait(TableName="orders")
    stream = ddb.describe_table(TableName="orders")["Table"]["LatestStreamArn"]

    # queues, topic, subscription
    keep = {"MessageRetentionPeriod": "1209600"}
    sqs.create_queue(QueueName="POC-Queue-DLQ", Attributes=keep)
    queue_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ApiSends", "Effect": "Allow", "Principal": {"AWS": role_arn("APIGateway-SQS")},
         "Action": "sqs:SendMessage", "Resource": arn("sqs", "POC-Queue")},
        {"Sid": "WriterReceives", "Effect": "Allow", "Principal": {"AWS": role_arn("Lambda-SQS-DynamoDB")},
         "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                    "sqs:ChangeMessageVisibility"], "Resource": arn("sqs", "POC-Queue")}]}
    sqs.create_queue(QueueName="POC-Queue", Attributes={
        "VisibilityTimeout": "60", "Policy": json.dumps(queue_policy),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn("sqs", "POC-Queue-DLQ"),
                                     "maxReceiveCount": 5})})
    sqs.create_queue(QueueName="POC-Stream-Failures", Attributes=keep)
    topic = sns.create_topic(Name="POC-Topic")["TopicArn"]
    deliveries_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "TopicDelivers", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
         "Action": "sqs:SendMessage", "Resource": arn("sqs", "POC-Deliveries"),
         "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]}
    sqs.create_queue(QueueName="POC-Deliveries", Attributes={"Policy": json.dumps(deliveries_policy)})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn("sqs", "POC-Deliveries"),
                  Attributes={"RawMessageDelivery": "true"}, ReturnSubscriptionArn=True)

    # the functions, their log groups and their event source mappings
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    for fn, role, env in (("POC-Lambda-1", "Lambda-SQS-DynamoDB", {"ORDERS_TABLE": "orders"}),
                          ("POC-Lambda-2", "Lambda-DynamoDBStreams-SNS", {"TOPIC_ARN": topic})):
        logs.create_log_group(logGroupName="/aws/lambda/" + fn)
        with open(os.path.join(zips, fn + ".zip"), "rb") as f:
            code = f.read()
        lam.create_function(FunctionName=fn, Role=role_arn(role), Runtime="provided.al2023",
                            Handler="bootstrap", Timeout=10, MemorySize=128,
                            Environment={"Variables": env}, Architectures=[arch],
                            Code={"ZipFile": code})
        lam.get_waiter("function_active_v2").wait(FunctionName=fn)
    maps = [lam.create_event_source_mapping(
                FunctionName="POC-Lambda-1", EventSourceArn=arn("sqs", "POC-Queue"), BatchSize=10,
                FunctionResponseTypes=["ReportBatchItemFailures"])["UUID"],
            lam.create_event_source_mapping(
                FunctionName="POC-Lambda-2", EventSourceArn=stream, StartingPosition="TRIM_HORIZON",
                BatchSize=10, MaximumRetryAttempts=3, BisectBatchOnFunctionError=True,
                DestinationConfig={"OnFailure": {"Destination": arn("sqs", "POC-Stream-Failures")}},
                FunctionResponseTypes=["ReportBatchItemFailures"])["UUID"]]
    for uuid in maps:
        poll("mapping " + uuid, lambda u=uuid: lam.get_event_source_mapping(UUID=u)["State"] == "Enabled")

    # the API: model, validator, POST on / with the SQS integration, responses, stage prod
    api = apigw.create_rest_api(name="POC-API", description="cleanops order intake",
                                endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = [r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]
    apigw.create_model(restApiId=api, name="Order", contentType="application/json",
                       schema=json.dumps(SCHEMA, separators=(",", ":")))
    validator = apigw.create_request_validator(restApiId=api, name="body", validateRequestBody=True,
                                               validateRequestParameters=False)["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="POST", authorizationType="NONE",
                     requestValidatorId=validator, requestModels={"application/json": "Order"})
    apigw.put_integration(
        restApiId=api, resourceId=root, httpMethod="POST", type="AWS", integrationHttpMethod="POST",
        uri="arn:aws:apigateway:%s:sqs:path/%s/POC-Queue" % (region, account),
        credentials=role_arn("APIGateway-SQS"),
        requestParameters={"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
        requestTemplates={"application/json": TEMPLATE}, passthroughBehavior="NEVER")
    for code, pattern in (("200", None), ("400", r"4\d{2}"), ("500", r"5\d{2}")):
        apigw.put_method_response(restApiId=api, resourceId=root, httpMethod="POST", statusCode=code,
                                  responseModels={"application/json": "Empty"})
        extra = {"selectionPattern": pattern} if pattern else {}
        apigw.put_integration_response(restApiId=api, resourceId=root, httpMethod="POST",
                                       statusCode=code, **extra)
    apigw.create_deployment(restApiId=api, stageName="prod", description="cleanops deploy")
    return api


def destroy(url):
    c = clients(url)
    iam, ddb, sqs, sns, logs, lam, apigw = (c(n) for n in ("iam", "dynamodb", "sqs", "sns", "logs",
                                                            "lambda", "apigateway"))
    account = c("sts").get_caller_identity()["Account"]
    for api in apigw.get_rest_apis(limit=500)["items"]:
        if api["name"] == "POC-API":
            apigw.delete_rest_api(restApiId=api["id"])
    for fn in ("POC-Lambda-1", "POC-Lambda-2"):
        uuids = [m["UUID"] for m in lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]]
        for u in uuids:
            lam.delete_event_source_mapping(UUID=u)
        for u in uuids:
            poll("mapping %s deleted" % u, lambda u=u: not any(
                m["UUID"] == u for m in lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]))
        lam.delete_function(FunctionName=fn)
        logs.delete_log_group(logGroupName="/aws/lambda/" + fn)
    topic = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":POC-Topic")][0]
    for sub in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
        if sub["SubscriptionArn"].startswith("arn:"):
            sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    sns.delete_topic(TopicArn=topic)
    for q in ("POC-Queue", "POC-Queue-DLQ", "POC-Stream-Failures", "POC-Deliveries"):
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=q)["QueueUrl"])
    ddb.delete_table(TableName="orders")
    ddb.get_waiter("table_not_exists").wait(TableName="orders")
    for name, _, attached in ROLES:
        for p in attached:
            iam.detach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::%s:policy/%s" % (account, p))
        iam.delete_role(RoleName=name)
    for p in POLICIES:
        parn = "arn:aws:iam::%s:policy/%s" % (account, p)
        for v in iam.list_policy_versions(PolicyArn=parn)["Versions"]:
            if not v["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=parn, VersionId=v["VersionId"])
        iam.delete_policy(PolicyArn=parn)


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ("deploy", "destroy"):
        print("usage: deploy_boto3.py ENDPOINT_URL ZIP_DIR deploy|destroy", file=sys.stderr)
        return 2
    if sys.argv[3] == "deploy":
        deploy(sys.argv[1], sys.argv[2])
    else:
        destroy(sys.argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
