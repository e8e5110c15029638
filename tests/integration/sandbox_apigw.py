#!/usr/bin/env python3
# sandbox_apigw.py: the sandbox's API Gateway REST APIs: control plane by boto3 and the AWS CLI,
# invocation of the seed's SQS integration, request validation, MOCK, redeploys, deletes.
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import CLEANOPS, check, free_port, client, error_status as error_code  # noqa: E402

sb.need_boto3()

ORDER_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Order",
    "type": "object",
    "required": ["item", "quantity"],
    "properties": {
        "orderID": {"type": "string"},
        "item": {"type": "string", "minLength": 1, "maxLength": 256},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
        "customerID": {"type": "string"},
    },
}


def post(url, body, ctype="application/json", method="POST", headers=None):
    data = body if isinstance(body, bytes) or body is None else body.encode()
    req = urllib.request.Request(url, data=data, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def drain(sqs, qurl):
    """Every message now on the queue (bodies), deleting them."""
    out = []
    while True:
        r = sqs.receive_message(QueueUrl=qurl, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        msgs = r.get("Messages", [])
        if not msgs:
            return out
        for m in msgs:
            out.append(m["Body"])
            sqs.delete_message(QueueUrl=qurl, ReceiptHandle=m["ReceiptHandle"])


def trust(service):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def make_roles(url):
    """The roles a careful user creates (the sandbox enforces IAM like AWS): the integration's
    credentials role, which API Gateway may assume and which may send to POC-Queue, and the
    proxy function's execution role."""
    iam = client(url, "iam")
    iam.create_role(RoleName="APIGateway-SQS", AssumeRolePolicyDocument=trust(
        "apigateway.amazonaws.com"))
    iam.put_role_policy(RoleName="APIGateway-SQS", PolicyName="send", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sqs:SendMessage",
            "Resource": "arn:aws:sqs:us-east-1:000000000000:POC-Queue"}]}))
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))
    iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/service-role/"
                           "AWSLambdaBasicExecutionRole")


def seed_api(apigw, name="POC-API", validate=True):
    """The seed's configuration: POST /orders -> SQS POC-Queue by path, plus a model."""
    api = apigw.create_rest_api(name=name, endpointConfiguration={"types": ["REGIONAL"]})
    api_id, root = api["id"], api["rootResourceId"]
    check(len(api_id) == 10 and api_id.isalnum() and api_id.lower() == api_id, "api id shape")
    res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="orders")
    check(res["path"] == "/orders", "resource path")
    apigw.create_model(restApiId=api_id, name="Order", contentType="application/json",
                       schema=json.dumps(ORDER_SCHEMA))
    extra = {}
    if validate:
        v = apigw.create_request_validator(restApiId=api_id, name="body",
                                           validateRequestBody=True,
                                           validateRequestParameters=False)
        extra = {"requestValidatorId": v["id"],
                 "requestModels": {"application/json": "Order"}}
    apigw.put_method(restApiId=api_id, resourceId=res["id"], httpMethod="POST",
                     authorizationType="NONE", **extra)
    apigw.put_integration(
        restApiId=api_id, resourceId=res["id"], httpMethod="POST", type="AWS",
        integrationHttpMethod="POST",
        uri="arn:aws:apigateway:us-east-1:sqs:path/000000000000/POC-Queue",
        credentials="arn:aws:iam::000000000000:role/APIGateway-SQS",
        requestParameters={"integration.request.header.Content-Type":
                           "'application/x-www-form-urlencoded'"},
        requestTemplates={"application/json": "Action=SendMessage&MessageBody=$input.body"},
        passthroughBehavior="NEVER")
    apigw.put_method_response(restApiId=api_id, resourceId=res["id"], httpMethod="POST",
                              statusCode="200")
    apigw.put_integration_response(restApiId=api_id, resourceId=res["id"], httpMethod="POST",
                                   statusCode="200", selectionPattern="")
    return api_id, root, res["id"]


def test_control_plane(apigw, url):
    api_id, root, rid = seed_api(apigw, "CP-API", validate=False)
    got = apigw.get_rest_api(restApiId=api_id)
    check(got["name"] == "CP-API" and got["rootResourceId"] == root, "get_rest_api")
    ids = [a["id"] for a in apigw.get_rest_apis()["items"]]
    check(api_id in ids, "get_rest_apis lists it")
    items = apigw.get_resources(restApiId=api_id)["items"]
    paths = sorted(i["path"] for i in items)
    check(paths == ["/", "/orders"], "get_resources paths %r" % paths)
    orders = [i for i in items if i["path"] == "/orders"][0]
    check(orders["parentId"] == root and orders["pathPart"] == "orders", "resource parent")
    check("POST" in orders.get("resourceMethods", {}), "resourceMethods lists POST")
    integ = apigw.get_integration(restApiId=api_id, resourceId=rid, httpMethod="POST")
    check(integ["type"] == "AWS" and integ["httpMethod"] == "POST", "integration type/method")
    check(integ["requestTemplates"]["application/json"].startswith("Action=SendMessage"),
          "integration template")
    check(integ["passthroughBehavior"] == "NEVER", "passthroughBehavior")
    m = apigw.get_method(restApiId=api_id, resourceId=rid, httpMethod="POST")
    check(m["authorizationType"] == "NONE" and "200" in m["methodResponses"], "get_method")
    check(m["methodIntegration"]["integrationResponses"]["200"]["statusCode"] == "200",
          "integration response embedded")
    check(error_code(apigw.get_rest_api, restApiId="nosuchapi1")[0] == "NotFoundException",
          "unknown API -> NotFoundException")
    check(error_code(apigw.create_resource, restApiId=api_id, parentId=root,
                     pathPart="orders") == ("ConflictException", 409), "duplicate resource")
    check(error_code(apigw.put_method, restApiId=api_id, resourceId=rid, httpMethod="POST",
                     authorizationType="NONE") == ("ConflictException", 409),
          "duplicate method")
    check(error_code(apigw.create_model, restApiId=api_id, name="Bad",
                     contentType="application/json", schema="{not json")[0] ==
          "BadRequestException", "bad model schema")
    check(error_code(apigw.get_resource, restApiId=api_id, resourceId="nosuchres0")[1] == 404,
          "unknown resource 404")
    # paging: limit 1 gives a position and the next page
    for i in range(2):
        apigw.create_rest_api(name="page-%d" % i)
    p1 = apigw.get_rest_apis(limit=1)
    check(len(p1["items"]) == 1 and "position" in p1, "paging first page")
    p2 = apigw.get_rest_apis(limit=1, position=p1["position"])
    check(len(p2["items"]) == 1 and p2["items"][0]["id"] != p1["items"][0]["id"], "paging")
    # stages and deployments
    d = apigw.create_deployment(restApiId=api_id, stageName="prod", description="first")
    st = apigw.get_stage(restApiId=api_id, stageName="prod")
    check(st["deploymentId"] == d["id"], "stage points at the deployment")
    apigw.update_stage(restApiId=api_id, stageName="prod",
                       patchOperations=[{"op": "replace", "path": "/variables/color",
                                         "value": "blue"}])
    check(apigw.get_stage(restApiId=api_id, stageName="prod")["variables"]["color"] == "blue",
          "update_stage variables")
    apigw.create_stage(restApiId=api_id, stageName="test", deploymentId=d["id"])
    names = sorted(s["stageName"] for s in apigw.get_stages(restApiId=api_id)["item"])
    check(names == ["prod", "test"], "get_stages %r" % names)
    check(error_code(apigw.delete_deployment, restApiId=api_id, deploymentId=d["id"])[0] ==
          "BadRequestException", "deleting a deployment in use")
    apigw.delete_stage(restApiId=api_id, stageName="test")
    deps = apigw.get_deployments(restApiId=api_id)["items"]
    check([x["id"] for x in deps] == [d["id"]], "get_deployments")
    # the AWS CLI sees the same
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDSANDBOXTEST", AWS_SECRET_ACCESS_KEY="secret",
               AWS_DEFAULT_REGION="us-east-1")
    out = subprocess.run(["aws", "--endpoint-url", url, "apigateway", "get-resources",
                          "--rest-api-id", api_id, "--output", "json"],
                         capture_output=True, text=True, env=env, timeout=60)
    if out.returncode == 0:
        check(sorted(i["path"] for i in json.loads(out.stdout)["items"]) == ["/", "/orders"],
              "aws apigateway get-resources")
        out = subprocess.run(["aws", "--endpoint-url", url, "apigateway", "get-integration",
                              "--rest-api-id", api_id, "--resource-id", rid,
                              "--http-method", "POST", "--output", "json"],
                             capture_output=True, text=True, env=env, timeout=60)
        check(out.returncode == 0 and json.loads(out.stdout)["uri"].endswith("POC-Queue"),
              "aws apigateway get-integration")
    else:
        check("command not found" not in out.stderr, "aws cli failed: " + out.stderr[-300:])
    apigw.delete_rest_api(restApiId=api_id)
    check(error_code(apigw.get_rest_api, restApiId=api_id)[1] == 404, "deleted API is gone")


def test_seed_pipeline(apigw, sqs, url):
    qurl = sqs.create_queue(QueueName="POC-Queue")["QueueUrl"]
    api_id, root, rid = seed_api(apigw)
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    base = "%s/restapis/%s/prod/_user_request_" % (url, api_id)

    order = '{"orderID":"o-1","item":"widget","quantity":3,"customerID":"c-9"}'
    status, body, headers = post(base + "/orders", order)
    check(status == 200, "valid order -> 200 (got %d %s)" % (status, body))
    check("<SendMessageResponse" in body and "<MessageId>" in body and
          "<MD5OfMessageBody>" in body, "the SQS reply passes through: %s" % body)
    got = drain(sqs, qurl)
    check(got == [order], "the body lands on the queue exactly: %r" % got)

    bad = [
        ("not json", "{item: widget"),
        ("missing quantity", '{"item":"widget"}'),
        ("quantity zero", '{"item":"widget","quantity":0}'),
        ("quantity too big", '{"item":"widget","quantity":10001}'),
        ("quantity not integer", '{"item":"widget","quantity":1.5}'),
        ("quantity a string", '{"item":"widget","quantity":"3"}'),
        ("empty item", '{"item":"","quantity":1}'),
        ("item too long", json.dumps({"item": "x" * 257, "quantity": 1})),
        ("orderID not a string", '{"item":"w","quantity":1,"orderID":7}'),
        ("array body", '[1,2]'),
    ]
    for what, b in bad:
        status, body, headers = post(base + "/orders", b)
        check(status == 400, "%s -> 400 (got %d %s)" % (what, status, body))
        check(json.loads(body) == {"message": "Invalid request body"}, "%s body %s" % (what, body))
    # 256 characters (not bytes) is still valid
    ok = json.dumps({"item": "\u00e9" * 256, "quantity": 10000}, ensure_ascii=False)
    status, body, _ = post(base + "/orders", ok.encode())
    check(status == 200, "256 non-ASCII characters are valid (got %d %s)" % (status, body))
    check(drain(sqs, qurl) == [ok], "only the valid orders reached the queue")

    # unknown paths and methods: 403 Missing Authentication Token, like AWS
    status, body, headers = post(base + "/nosuch", order)
    check(status == 403 and json.loads(body) == {"message": "Missing Authentication Token"},
          "unknown path -> 403 (got %d %s)" % (status, body))
    status, body, _ = post(base + "/orders", None, method="GET", ctype=None)
    check(status == 403, "unknown method -> 403")
    status, body, _ = post("%s/restapis/%s/nostage/_user_request_/orders" % (url, api_id), order)
    check(status == 403, "unknown stage -> 403 (got %d)" % status)
    status, body, _ = post("%s/restapis/zzzzzzzzzz/prod/_user_request_/orders" % url, order)
    check(status == 404, "unknown API -> 404 (got %d)" % status)
    # NEVER: another content type -> 415, nothing sent
    status, body, _ = post(base + "/orders", "item=x", ctype="text/plain")
    check(status == 415 and json.loads(body) == {"message": "Unsupported Media Type"},
          "NEVER passthrough -> 415 (got %d %s)" % (status, body))
    check(drain(sqs, qurl) == [], "nothing on the queue after the rejections")

    # redeploy semantics: an edit is invisible until the next deployment
    apigw.put_integration(
        restApiId=api_id, resourceId=rid, httpMethod="POST", type="AWS",
        integrationHttpMethod="POST",
        uri="arn:aws:apigateway:us-east-1:sqs:action/SendMessage",
        requestParameters={"integration.request.header.Content-Type":
                           "'application/x-www-form-urlencoded'"},
        requestTemplates={"application/json":
                          "QueueUrl=$util.urlEncode('%s')&MessageBody="
                          "$util.urlEncode('v2:')$util.urlEncode($input.body)" % qurl},
        passthroughBehavior="WHEN_NO_TEMPLATES")
    apigw.put_integration_response(
        restApiId=api_id, resourceId=rid, httpMethod="POST", statusCode="200",
        selectionPattern="", responseTemplates={"application/json":
                                                '{"accepted":true,"requestId":"$context.requestId"}'})
    apigw.put_method_response(restApiId=api_id, resourceId=rid, httpMethod="POST",
                              statusCode="400")
    apigw.put_integration_response(restApiId=api_id, resourceId=rid, httpMethod="POST",
                                   statusCode="400", selectionPattern="4\\d{2}",
                                   responseTemplates={"application/json":
                                                      '{"rejected":"$context.stage"}'})
    post(base + "/orders", order)
    check(drain(sqs, qurl) == [order], "the stage still serves the old deployment")
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    status, body, _ = post(base + "/orders", '{"item":"a+b & c","quantity":2}')
    check(status == 200 and json.loads(body)["accepted"] is True, "redeployed: %s" % body)
    check(len(json.loads(body)["requestId"]) == 36, "$context.requestId rendered")
    check(drain(sqs, qurl) == ['v2:{"item":"a+b & c","quantity":2}'],
          "the action integration with urlEncode sends the exact body")
    # an SQS error (no such queue) selects the 4\d{2} integration response
    gone = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="gone")["id"]
    apigw.put_method(restApiId=api_id, resourceId=gone, httpMethod="POST",
                     authorizationType="NONE")
    apigw.put_integration(
        restApiId=api_id, resourceId=gone, httpMethod="POST", type="AWS",
        integrationHttpMethod="POST",
        uri="arn:aws:apigateway:us-east-1:sqs:path/000000000000/No-Such-Queue",
        requestParameters={"integration.request.header.Content-Type":
                           "'application/x-www-form-urlencoded'"},
        requestTemplates={"application/json": "Action=SendMessage&MessageBody=$input.body"})
    for code, pattern, tmpl in (("200", "", None),
                                ("400", "4\\d{2}", '{"rejected":"$context.stage"}')):
        apigw.put_method_response(restApiId=api_id, resourceId=gone, httpMethod="POST",
                                  statusCode=code)
        kw = {"responseTemplates": {"application/json": tmpl}} if tmpl else {}
        apigw.put_integration_response(restApiId=api_id, resourceId=gone, httpMethod="POST",
                                       statusCode=code, selectionPattern=pattern, **kw)
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    status, body, _ = post(base + "/gone", order)
    check(status == 400 and json.loads(body) == {"rejected": "prod"},
          "backend 400 -> selectionPattern 4\\d{2} (got %d %s)" % (status, body))
    apigw.delete_integration_response(restApiId=api_id, resourceId=gone, httpMethod="POST",
                                      statusCode="400")
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    status, body, _ = post(base + "/gone", order)
    check(status == 200 and "NonExistentQueue" in body,
          "no pattern matches: the default passes the SQS error through (got %d %s)"
          % (status, body))
    apigw.delete_rest_api(restApiId=api_id)
    status, _, _ = post(base + "/orders", order)
    check(status == 404, "a deleted API answers 404")


def test_mock_and_templates(apigw, url):
    api = apigw.create_rest_api(name="MockAPI")
    api_id, root = api["id"], api["rootResourceId"]
    items = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="items")
    one = apigw.create_resource(restApiId=api_id, parentId=items["id"], pathPart="{id}")
    lit = apigw.create_resource(restApiId=api_id, parentId=items["id"], pathPart="special")
    for rid, tmpl in ((one["id"], '{"id":"$input.params(\'id\')","q":"$input.params(\'q\')",'
                                   '"stage":"$context.stage","color":"$stageVariables.color",'
                                   '"path":"$context.resourcePath"}'),
                      (lit["id"], '{"special":true}')):
        apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod="ANY",
                         authorizationType="NONE")
        apigw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="ANY", type="MOCK",
                              requestTemplates={"application/json": '{"statusCode": 200}'})
        apigw.put_method_response(restApiId=api_id, resourceId=rid, httpMethod="ANY",
                                  statusCode="200")
        apigw.put_integration_response(restApiId=api_id, resourceId=rid, httpMethod="ANY",
                                       statusCode="200",
                                       responseTemplates={"application/json": tmpl})
    # a method with required parameters and a broken template
    apigw.create_request_validator(restApiId=api_id, name="params",
                                   validateRequestBody=False, validateRequestParameters=True)
    vid = apigw.get_request_validators(restApiId=api_id)["items"][0]["id"]
    apigw.put_method(restApiId=api_id, resourceId=items["id"], httpMethod="GET",
                     authorizationType="NONE", requestValidatorId=vid,
                     requestParameters={"method.request.querystring.page": True,
                                        "method.request.header.X-Tenant": True})
    apigw.put_integration(restApiId=api_id, resourceId=items["id"], httpMethod="GET",
                          type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(restApiId=api_id, resourceId=items["id"], httpMethod="GET",
                              statusCode="200")
    apigw.put_integration_response(restApiId=api_id, resourceId=items["id"], httpMethod="GET",
                                   statusCode="200", responseTemplates={
                                       "application/json": "#macro(x)#end broken"})
    apigw.create_deployment(restApiId=api_id, stageName="dev", variables={"color": "red"})
    base = "%s/restapis/%s/dev/_user_request_" % (url, api_id)
    status, body, _ = post(base + "/items/42?q=hello%20there", None, method="GET")
    check(status == 200, "MOCK with {id} (got %d %s)" % (status, body))
    doc = json.loads(body)
    check(doc == {"id": "42", "q": "hello there", "stage": "dev", "color": "red",
                  "path": "/items/{id}"}, "MOCK template rendered: %r" % doc)
    status, body, _ = post(base + "/items/special", "{}", method="DELETE")
    check(status == 200 and json.loads(body) == {"special": True},
          "a literal path part wins over {id}, ANY matches DELETE")
    status, body, _ = post(base + "/items", None, method="GET")
    check(status == 400 and json.loads(body)["message"].startswith(
        "Missing required request parameters: ["), "required parameters: %s" % body)
    check("page" in body and "X-Tenant" in body, "both missing parameters named: %s" % body)
    status, body, _ = post(base + "/items?page=1", None, method="GET",
                           headers={"X-Tenant": "t1"})
    check(status == 500 and json.loads(body) == {"message": "Internal server error"},
          "an unsupported template construct -> 500 (got %d %s)" % (status, body))
    apigw.delete_rest_api(restApiId=api_id)


PROXY_BOOTSTRAP = '''#!%s
# a test function: answers an API Gateway proxy event with the event itself
import json, os, urllib.request
api = "http://%%s/2018-06-01/runtime" %% os.environ["AWS_LAMBDA_RUNTIME_API"]
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    if "fail" in (event.get("body") or ""):
        out, path = {"errorMessage": "it failed", "errorType": "Test.Failure"}, "error"
    elif event.get("path", "").endswith("/csv"):
        out = {"statusCode": 200, "multiValueHeaders": {"Content-Type": ["text/csv"]},
               "body": "a,b"}
        path = "response"
    else:
        out = {"statusCode": 201, "headers": {"Content-Type": "application/json",
                                              "X-Echo": "yes", "X-Both": "h"},
               "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Both": ["h", "m"]},
               "body": json.dumps(event), "isBase64Encoded": False}
        path = "response"
    urllib.request.urlopen(urllib.request.Request(
        "%%s/invocation/%%s/%%s" %% (api, rid, path), data=json.dumps(out).encode(),
        method="POST")).read()
''' % sys.executable


def test_proxy(apigw, url):
    lam = client(url, "lambda")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("bootstrap", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | 0o755) << 16
        info.create_system = 3
        z.writestr(info, PROXY_BOOTSTRAP)
    fn = lam.create_function(FunctionName="echo", Runtime="provided.al2023",
                             Role="arn:aws:iam::000000000000:role/r", Handler="x",
                             Code={"ZipFile": buf.getvalue()}, Timeout=10)
    lam.get_waiter("function_active_v2").wait(FunctionName="echo",
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    api = apigw.create_rest_api(name="ProxyAPI")
    api_id, root = api["id"], api["rootResourceId"]
    rid = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")["id"]
    apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod="ANY",
                     authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="ANY",
                          type="AWS_PROXY", integrationHttpMethod="POST",
                          uri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                              "%s/invocations" % fn["FunctionArn"])
    apigw.create_deployment(restApiId=api_id, stageName="live")
    base = "%s/restapis/%s/live/_user_request_" % (url, api_id)
    status, body, headers = post(base + "/echo/a/b?x=1&x=2", '{"hi":1}',
                                 headers={"X-Custom": "c1"})
    check(status == 201, "AWS_PROXY status from the function (got %d %s)" % (status, body))
    check(headers.get("X-Echo") == "yes", "AWS_PROXY response headers: %r" % headers)
    req = urllib.request.Request(base + "/echo/cookies", data=b"{}", method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        cookies, both = r.headers.get_all("Set-Cookie"), r.headers.get_all("X-Both")
    check(cookies == ["a=1", "b=2"], "multiValueHeaders: one line per value: %r" % cookies)
    check(both == ["h", "m"], "headers and multiValueHeaders merged, the pair in both once: %r" % both)
    cst, cbody, chdrs = post(base + "/csv", "{}")
    check(cst == 200 and cbody == "a,b" and chdrs.get("Content-Type") == "text/csv",
          "a Content-Type given only in multiValueHeaders is the response's: %r" % chdrs)
    ev = json.loads(body)
    check(ev["resource"] == "/{proxy+}" and ev["path"] == "/echo/a/b" and
          ev["httpMethod"] == "POST", "proxy event resource/path/method: %r" % ev)
    check(ev["pathParameters"] == {"proxy": "echo/a/b"}, "greedy path parameter")
    check(ev["queryStringParameters"] == {"x": "2"} and
          ev["multiValueQueryStringParameters"] == {"x": ["1", "2"]}, "query parameters")
    check(ev["headers"].get("X-Custom") == "c1", "headers in the event")
    check(ev["body"] == '{"hi":1}' and ev["isBase64Encoded"] is False, "body in the event")
    rc = ev["requestContext"]
    check(rc["stage"] == "live" and rc["apiId"] == api_id and rc["httpMethod"] == "POST" and
          rc["resourcePath"] == "/{proxy+}" and rc["path"] == "/live/echo/a/b" and
          len(rc["requestId"]) == 36 and rc["identity"]["sourceIp"] == "127.0.0.1",
          "requestContext: %r" % rc)
    status, body, _ = post(base + "/x", "please fail")
    check(status == 502 and json.loads(body) == {"message": "Internal server error"},
          "a function error -> 502 (got %d %s)" % (status, body))
    apigw.delete_rest_api(restApiId=api_id)
    lam.delete_function(FunctionName="echo")


def test_strict_auth_lets_invokes_through():
    """Invocations are unsigned: with --strict-auth they still reach API Gateway (a 404 for
    an unknown API, not a signature error), and a form body is not taken for a query call."""
    data = tempfile.mkdtemp(prefix="cleanops-apigw-strict-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    try:
        subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data,
                        "--strict-auth"], check=True, timeout=30)
        inv = "%s/restapis/abcdefghij/prod/_user_request_/orders" % url
        for ctype, body in (("application/json", '{"a":1}'),
                            ("application/x-www-form-urlencoded", "Action=SendMessage")):
            status, text, _ = post(inv, body, ctype=ctype)
            check(status == 404 and json.loads(text) == {"message": "Not Found"},
                  "strict auth, %s invoke -> 404 (got %d %s)" % (ctype, status, text))
        status, _, _ = post(url + "/restapis", "{}")
        check(status == 403, "the unsigned control plane is still refused under strict auth")
    finally:
        subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def main():
    if not os.access(CLEANOPS, os.X_OK):
        print("FAIL: no cleanops binary at %s" % CLEANOPS)
        return 1
    data = tempfile.mkdtemp(prefix="cleanops-apigw-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    try:
        subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data],
                       check=True, timeout=30)
        apigw = client(url, "apigateway")
        sqs = client(url, "sqs")
        make_roles(url)
        test_control_plane(apigw, url)
        test_seed_pipeline(apigw, sqs, url)
        test_mock_and_templates(apigw, url)
        test_proxy(apigw, url)
        test_strict_auth_lets_invokes_through()
        log = open(os.path.join(data, "sandbox.log")).read()
        check("unsupported directive #macro" in log, "the render error is logged clearly")
    except AssertionError as e:
        return sb.fail(e, data)
    finally:
        subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], timeout=60)
        shutil.rmtree(data, ignore_errors=True)
    print("PASS: %d checks" % sb.CHECKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
