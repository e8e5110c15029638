#!/usr/bin/env python3
# sandbox_apigw_http.py: API Gateway HTTP and HTTP_PROXY integrations in the sandbox, against a
# tiny http.server backend on 127.0.0.1: what the backend receives, what the client gets back,
# integration responses picked by status code, the timeout (504) and the loopback-only rule.
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import CLEANOPS, check, free_port, client  # noqa: E402

sb.need_boto3()

RECEIVED = []  # what the backend saw: dicts of method, path, headers, body


class Backend(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body, ctype="application/json", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            for one in (v if isinstance(v, list) else [v]):
                self.send_header(k, one)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        RECEIVED.append({"method": self.command, "path": self.path,
                         "headers": {k.lower(): v for k, v in self.headers.items()},
                         "body": body})
        path = self.path.split("?")[0]
        if path.startswith("/slow"):
            time.sleep(3)
            self.answer(200, "{}")
        elif path.startswith("/echo/"):
            want = int(self.headers.get("X-Want-Status") or 201)
            self.answer(want, json.dumps({"saw": self.path}), "application/vnd.test+json",
                        {"X-Backend": "yes", "Set-Cookie": ["a=1; Path=/", "b=2; Path=/"]})
        elif path == "/store/bad":
            self.answer(422, json.dumps({"err": "nope"}))
        elif path == "/store/boom":
            self.answer(503, "overloaded", "text/plain")
        elif path.startswith("/store/"):
            self.answer(200, json.dumps({"ok": True, "len": len(body)}))
        else:
            self.answer(404, json.dumps({"err": "no route"}))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


def call(url, body=None, method="GET", headers=None):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=40) as r:
            return r.status, r.read().decode(), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), {k.lower(): v for k, v in e.headers.items()}


def method_with(apigw, api_id, parent, part, verb, integration, req_params=None,
                responses=()):
    """A resource under parent with one method and its integration; responses are
    (statusCode, selectionPattern, template) integration responses. Returns the resource."""
    res = apigw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)
    apigw.put_method(restApiId=api_id, resourceId=res["id"], httpMethod=verb,
                     authorizationType="NONE", requestParameters=req_params or {})
    apigw.put_integration(restApiId=api_id, resourceId=res["id"], httpMethod=verb,
                          **integration)
    for code, pattern, tmpl in responses:
        apigw.put_method_response(restApiId=api_id, resourceId=res["id"], httpMethod=verb,
                                  statusCode=code)
        extra = {"selectionPattern": pattern} if pattern else {}
        if tmpl is not None:
            extra["responseTemplates"] = {"application/json": tmpl}
        apigw.put_integration_response(restApiId=api_id, resourceId=res["id"],
                                       httpMethod=verb, statusCode=code, **extra)
    return res


def build_api(apigw, backend):
    api = apigw.create_rest_api(name="HttpAPI")
    api_id, root = api["id"], api["rootResourceId"]
    # HTTP_PROXY: /proxy/{proxy+} ANY -> backend/echo/{proxy}
    proxy = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="proxy")
    method_with(apigw, api_id, proxy["id"], "{proxy+}", "ANY", {
        "type": "HTTP_PROXY", "integrationHttpMethod": "ANY",
        "uri": backend + "/echo/{proxy}",
        "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"}},
        {"method.request.path.proxy": True})
    # HTTP: POST /items/{id} -> PUT backend/store/{itemId}?src=..., mapped and templated
    items = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="items")
    method_with(apigw, api_id, items["id"], "{id}", "POST", {
        "type": "HTTP", "integrationHttpMethod": "PUT",
        "uri": backend + "/store/{itemId}",
        "requestParameters": {
            "integration.request.path.itemId": "method.request.path.id",
            "integration.request.querystring.src": "method.request.querystring.from",
            "integration.request.header.X-Api": "'static-value'",
            "integration.request.header.X-Caller": "method.request.header.X-Who"},
        "requestTemplates": {"application/json":
                             '{"name": $input.json(\'$.name\'), "id": "$input.params(\'id\')"}'},
        "passthroughBehavior": "NEVER"},
        {"method.request.path.id": True, "method.request.querystring.from": False,
         "method.request.header.X-Who": False},
        [("200", None, '{"stored": $input.json(\'$.ok\'), "len": $input.json(\'$.len\')}'),
         ("400", "4\\d{2}", '{"error": "backend said $input.path(\'$.err\')"}'),
         ("502", "5\\d{2}", '{"error": "backend down"}')])
    # timeouts and refusals
    method_with(apigw, api_id, root, "slow", "GET", {
        "type": "HTTP_PROXY", "integrationHttpMethod": "GET", "uri": backend + "/slow",
        "timeoutInMillis": 1000})
    method_with(apigw, api_id, root, "remote", "GET", {
        "type": "HTTP_PROXY", "integrationHttpMethod": "GET", "uri": "http://192.0.2.1/x"})
    method_with(apigw, api_id, root, "sneaky", "GET", {
        "type": "HTTP", "integrationHttpMethod": "GET",
        "uri": "http://127.0.0.1.example.com/x"}, None, [("200", None, None)])
    method_with(apigw, api_id, root, "closed", "GET", {
        "type": "HTTP_PROXY", "integrationHttpMethod": "GET",
        "uri": "http://127.0.0.1:%d/x" % free_port()})
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    return api_id


def test_proxy(base):
    RECEIVED.clear()
    status, body, hdrs = call(base + "/proxy/a/b%20c?x=1&y=two&y=3", b'{"raw": "\xc3\xa9"}',
                              "PUT", {"Content-Type": "application/json", "X-Custom": "hi"})
    check(status == 201, "HTTP_PROXY returns the backend's status (got %d %s)" % (status, body))
    check(json.loads(body) == {"saw": "/echo/a/b%20c?x=1&y=two&y=3"},
          "HTTP_PROXY body passes through: %r" % body)
    check(hdrs.get("x-backend") == "yes", "backend header passes through: %r" % hdrs)
    check(hdrs.get("content-type") == "application/vnd.test+json", "backend content type")
    check(len(RECEIVED) == 1, "backend called once")
    got = RECEIVED[0]
    check(got["method"] == "PUT", "client method forwarded (%s)" % got["method"])
    check(got["path"] == "/echo/a/b%20c?x=1&y=two&y=3", "path and query: %r" % got["path"])
    check(got["headers"].get("x-custom") == "hi", "client header forwarded")
    check(got["headers"].get("content-type") == "application/json", "content type forwarded")
    check(got["body"] == b'{"raw": "\xc3\xa9"}', "body forwarded unchanged")
    # an error status passes through too, and GET has no body
    RECEIVED.clear()
    status, body, _ = call(base + "/proxy/z", None, "GET", {"X-Want-Status": "404"})
    check(status == 404 and json.loads(body) == {"saw": "/echo/z"}, "404 passes through")
    check(RECEIVED[0]["method"] == "GET" and RECEIVED[0]["body"] == b"", "GET without body")
    with urllib.request.urlopen(base + "/proxy/cookies", timeout=40) as r:
        cookies = r.headers.get_all("Set-Cookie")
    check(cookies == ["a=1; Path=/", "b=2; Path=/"],
          "repeated Set-Cookie headers pass through as two lines: %r" % cookies)


def test_http(base, api_id):
    RECEIVED.clear()
    status, body, _ = call(base + "/items/42?from=web", '{"name": "widget", "extra": 1}',
                           "POST", {"Content-Type": "application/json", "X-Who": "tester"})
    check(status == 200, "HTTP integration 200 (got %d %s)" % (status, body))
    check(json.loads(body) == {"stored": True, "len": len(RECEIVED[0]["body"])},
          "response template applied: %r" % body)
    got = RECEIVED[0]
    check(got["method"] == "PUT", "integration httpMethod used (%s)" % got["method"])
    check(got["path"] == "/store/42?src=web", "mapped path and query: %r" % got["path"])
    check(json.loads(got["body"]) == {"name": "widget", "id": "42"},
          "request template applied: %r" % got["body"])
    check(got["headers"].get("x-api") == "static-value", "static header value")
    check(got["headers"].get("x-caller") == "tester", "header mapped from the method request")
    check(got["headers"].get("user-agent") == "AmazonAPIGateway_" + api_id,
          "API Gateway's user agent: %r" % got["headers"].get("user-agent"))
    check("x-who" not in got["headers"], "unmapped client headers are not forwarded")
    # selection by status code
    status, body, _ = call(base + "/items/bad", '{"name": "x"}', "POST",
                           {"Content-Type": "application/json"})
    check(status == 400 and json.loads(body) == {"error": "backend said nope"},
          "422 selects the 4\\d{2} response (got %d %s)" % (status, body))
    status, body, _ = call(base + "/items/boom", '{"name": "x"}', "POST",
                           {"Content-Type": "application/json"})
    check(status == 502 and json.loads(body) == {"error": "backend down"},
          "503 selects the 5\\d{2} response (got %d %s)" % (status, body))
    # passthroughBehavior NEVER: an unmapped content type never reaches the backend
    RECEIVED.clear()
    status, _, _ = call(base + "/items/7", "a=b", "POST", {"Content-Type": "text/plain"})
    check(status == 415 and not RECEIVED, "unmapped content type -> 415, backend untouched")


def test_errors(base, data):
    RECEIVED.clear()
    t0 = time.monotonic()
    status, body, _ = call(base + "/slow")
    took = time.monotonic() - t0
    check(status == 504 and json.loads(body) == {"message": "Endpoint request timed out"},
          "slow backend -> 504 (got %d %s)" % (status, body))
    check(took < 2.9, "timeoutInMillis honoured (%.1fs)" % took)
    for path in ("/remote", "/sneaky"):
        status, body, _ = call(base + path)
        check(status == 500 and json.loads(body) == {"message": "Internal server error"},
              "%s: non-loopback endpoint refused (got %d %s)" % (path, status, body))
    log = open(os.path.join(data, "sandbox.log")).read()
    check(log.count("its endpoint is not loopback") >= 2, "the refusals are logged")
    status, body, _ = call(base + "/closed")
    check(status == 500 and json.loads(body) == {"message": "Internal server error"},
          "unreachable backend -> 500 (got %d %s)" % (status, body))
    check(all(r["path"].startswith("/slow") for r in RECEIVED), "nothing else reached")


def main():
    if not os.access(CLEANOPS, os.X_OK):
        print("FAIL: no cleanops binary at %s" % CLEANOPS)
        return 1
    data = tempfile.mkdtemp(prefix="cleanops-apigw-http-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    backend = "http://127.0.0.1:%d" % server.server_address[1]
    env = dict(os.environ)
    env.pop("CLEANOPS_SANDBOX_ALLOW_REMOTE_HTTP", None)
    try:
        subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data],
                       check=True, timeout=30, env=env)
        apigw = client(url, "apigateway")
        api_id = build_api(apigw, backend)
        base = "%s/restapis/%s/prod/_user_request_" % (url, api_id)
        test_proxy(base)
        test_http(base, api_id)
        test_errors(base, data)
    except AssertionError as e:
        print("FAIL: %s" % e)
        log = os.path.join(data, "sandbox.log")
        if os.path.exists(log):
            print("".join(open(log).readlines()[-20:]))
        return 1
    finally:
        subprocess.run([CLEANOPS, "sandbox", "stop", "--data", data], timeout=60)
        server.shutdown()
        server.server_close()
        shutil.rmtree(data, ignore_errors=True)
    print("PASS: %d checks" % sb.CHECKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
