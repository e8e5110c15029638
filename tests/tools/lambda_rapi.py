# lambda_rapi.py: a Lambda Runtime API (2018-06-01) served in-process, for tests and benchmarks.
"""A fake Lambda Runtime API.

RuntimeAPI().start() listens on 127.0.0.1 (a free port); .address is what goes into
AWS_LAMBDA_RUNTIME_API. invoke(event) queues an event, blocks until the function posts
its response or error, and returns Result(kind, body, ...). GET /next long-polls like
Lambda's. stop_runtime() makes the next /next answer 500 (the runtime must exit).
"""
import http.server
import json
import queue
import threading
import time
import uuid

PREFIX = "/2018-06-01/runtime"


class Result:
    def __init__(self, kind, body, headers, request_id, delivered_at, done_at):
        self.kind = kind            # "response" or "error"
        self.body = body            # bytes
        self.headers = headers
        self.request_id = request_id
        self.delivered_at = delivered_at  # when /next handed the event out (perf_counter)
        self.done_at = done_at            # when the result was posted (perf_counter)

    def json(self):
        return json.loads(self.body.decode("utf-8")) if self.body else None


class RuntimeAPI:
    def __init__(self):
        self.events = queue.Queue()
        self.pending = {}            # request id -> [threading.Event, Result or None, t_delivered]
        self.lock = threading.Lock()
        self.init_errors = []        # (headers, body) of POST /runtime/init/error
        self.next_calls = 0
        self.first_next = threading.Event()
        self.first_next_at = None    # perf_counter of the first /next request
        self.server = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    def start(self, port=0):
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the function went away (killed by the test)

            def do_GET(self):
                if self.path != PREFIX + "/invocation/next":
                    return self.reply(404, b'{"errorMessage":"no such path"}')
                with api.lock:
                    api.next_calls += 1
                    if api.first_next_at is None:
                        api.first_next_at = time.perf_counter()
                        api.first_next.set()
                item = api.events.get()
                if item is None:
                    return self.reply(500, b'{"errorMessage":"runtime must exit",'
                                           b'"errorType":"Runtime.Exit"}')
                rid, body, hdrs = item
                with api.lock:
                    api.pending[rid][2] = time.perf_counter()
                headers = {
                    "Lambda-Runtime-Aws-Request-Id": rid,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30000),
                    "Lambda-Runtime-Invoked-Function-Arn":
                        "arn:aws:lambda:us-east-1:123456789012:function:test",
                    "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
                    "Content-Type": "application/json",
                }
                headers.update(hdrs)
                self.reply(200, body, headers)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                now = time.perf_counter()
                if self.path == PREFIX + "/init/error":
                    with api.lock:
                        api.init_errors.append((dict(self.headers), body))
                    return self.reply(202, b'{"status":"OK"}')
                parts = self.path[len(PREFIX):].split("/")
                # ["", "invocation", id, "response"|"error"]
                if len(parts) != 4 or parts[1] != "invocation" or parts[3] not in ("response", "error"):
                    return self.reply(404, b'{"errorMessage":"no such path"}')
                rid = parts[2]
                with api.lock:
                    slot = api.pending.get(rid)
                    if slot is None or slot[1] is not None:
                        return self.reply(400, b'{"errorMessage":"unknown or answered request id"}')
                    slot[1] = Result(parts[3], body, dict(self.headers), rid, slot[2], now)
                    slot[0].set()
                self.reply(202, b'{"status":"OK"}')

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def invoke(self, event, timeout=60, headers=None):
        body = event if isinstance(event, bytes) else json.dumps(event).encode("utf-8")
        rid = str(uuid.uuid4())
        done = threading.Event()
        with self.lock:
            self.pending[rid] = [done, None, None]
        self.events.put((rid, body, headers or {}))
        if not done.wait(timeout):
            raise TimeoutError("no result for request %s within %ss" % (rid, timeout))
        with self.lock:
            return self.pending.pop(rid)[1]

    def stop_runtime(self):
        self.events.put(None)

    def close(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
