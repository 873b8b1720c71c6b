"""An HTTP sink for the action tests: records every request (time, path,
headers, body) as a JSON line in LOG and answers by path:

  /ok            200
  /fail          500 always
  /flaky/N       503 for the first N requests to this path, then 200
  /busy/N        429 with Retry-After: 1 for the first N, then 200
  /after/N/V     429 with Retry-After: V (percent-decoded: a number or an
                 HTTP-date) for the first N, then 200
  /bad           400
  /v1/workflows/run   a Dify answer (200, data.status succeeded)

usage: sink.py PORTFILE LOG   (binds an ephemeral port on 127.0.0.1 and
writes it to PORTFILE)
"""
import http.server
import json
import sys
import threading
import time
import urllib.parse

portfile, log = sys.argv[1], sys.argv[2]
counts = {}
lock = threading.Lock()


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            n = counts[self.path] = counts.get(self.path, 0) + 1
            with open(log, "a") as f:
                f.write(json.dumps({
                    "t": time.time(), "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", "replace")}) + "\n")
        parts = self.path.strip("/").split("/")
        code, extra, out = 200, {}, b'{"ok":true}'
        if parts[0] == "fail":
            code = 500
        elif parts[0] == "bad":
            code = 400
        elif parts[0] == "flaky" and n <= int(parts[1]):
            code = 503
        elif parts[0] == "busy" and n <= int(parts[1]):
            code, extra = 429, {"Retry-After": "1"}
        elif parts[0] == "after" and n <= int(parts[1]):
            code = 429
            extra = {"Retry-After": urllib.parse.unquote(parts[2])}
        elif self.path == "/v1/workflows/run":
            out = json.dumps({"workflow_run_id": "wr-1", "task_id": "t-1",
                              "data": {"id": "wr-1", "status": "succeeded",
                                       "outputs": {}}}).encode()
        self.send_response(code)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
