"""A fake GitHub for the subscription tests: the REST API (user, repository
and organisation hooks) and the OAuth token endpoint, answering as GitHub
does. Every call is recorded as a JSON line in LOG.

usage: fake_github.py PORTFILE LOG
Tokens: "good-token" (and whatever the OAuth exchange issued) are valid.
OAuth: client "cid"/"csecret", code "good-code" -> token "oauth-token-1".
Repository "acme/missing" does not exist (404); "acme/archived" refuses
new hooks (422).
"""
import http.server
import json
import os
import re
import sys
import threading
import urllib.parse

portfile, log = sys.argv[1], sys.argv[2]
lock = threading.Lock()
hooks = {}          # (scope, name) -> {id: hook}
next_id = [1000]
tokens = {"good-token"}


class GitHub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, doc=None):
        out = b"" if doc is None else json.dumps(doc).encode()
        self.send_response(code)
        if doc is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def record(self, body):
        with lock, open(log, "a") as f:
            f.write(json.dumps({
                "method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace")}) + "\n")

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        tok = auth.split(" ", 1)[1] if " " in auth else ""
        return auth.split(" ", 1)[0].lower() in ("bearer", "token") and tok in tokens

    def handle_any(self):
        n = int(self.headers.get("Content-Length", 0) or 0)
        body = self.rfile.read(n) if n else b""
        self.record(body)
        path = urllib.parse.urlsplit(self.path).path
        if path == "/login/oauth/access_token" and self.command == "POST":
            form = urllib.parse.parse_qs(body.decode())
            ok = (form.get("client_id") == ["cid"] and
                  form.get("client_secret") == ["csecret"] and
                  form.get("code") == ["good-code"])
            if not ok:
                return self.reply(200, {"error": "bad_verification_code",
                                        "error_description": "The code passed is incorrect or expired."})
            tokens.add("oauth-token-1")
            return self.reply(200, {"access_token": "oauth-token-1",
                                    "token_type": "bearer",
                                    "scope": "admin:repo_hook"})
        if not self.authorized():
            return self.reply(401, {"message": "Bad credentials",
                                    "documentation_url": "https://docs.github.com/rest"})
        if path == "/user" and self.command == "GET":
            return self.reply(200, {"login": "octocat", "id": 1})
        m = re.fullmatch(r"/(repos/[^/]+/[^/]+|orgs/[^/]+)/hooks(?:/(\d+))?", path)
        if not m:
            return self.reply(404, {"message": "Not Found"})
        scope, hid = m.group(1), m.group(2)
        if scope == "repos/acme/missing":
            return self.reply(404, {"message": "Not Found"})
        if scope == "repos/acme/archived" and self.command == "POST":
            return self.reply(422, {"message": "Validation Failed",
                                    "errors": [{"resource": "Hook", "code": "custom",
                                                "message": "Repository was archived so is read-only."}]})
        with lock:
            table = hooks.setdefault(scope, {})
            if self.command == "POST" and hid is None:
                try:
                    doc = json.loads(body)
                    url = doc["config"]["url"]
                    assert doc["config"].get("secret")
                    assert isinstance(doc.get("events"), list)
                except Exception:
                    return self.reply(422, {"message": "Validation Failed",
                                            "errors": [{"resource": "Hook", "code": "custom",
                                                        "message": "config.url and secret are required"}]})
                if any(h["config"]["url"] == url for h in table.values()):
                    return self.reply(422, {"message": "Validation Failed",
                                            "errors": [{"resource": "Hook", "code": "custom",
                                                        "message": "Hook already exists on this repository"}]})
                next_id[0] += 1
                hook = {"id": next_id[0], "type": "Repository", "name": "web",
                        "active": doc.get("active", True), "events": doc["events"],
                        "config": {"url": url, "content_type": doc["config"].get("content_type"),
                                   "insecure_ssl": "0", "secret": "********"}}
                table[next_id[0]] = hook
                return self.reply(201, hook)
            if hid is None:
                return self.reply(200, list(table.values()))
            hid = int(hid)
            if hid not in table:
                return self.reply(404, {"message": "Not Found"})
            if self.command == "PATCH":
                doc = json.loads(body or b"{}")
                table[hid].update({k: v for k, v in doc.items() if k in ("events", "active")})
                return self.reply(200, table[hid])
            if self.command == "DELETE":
                del table[hid]
                return self.reply(204)
            return self.reply(200, table[hid])

    do_GET = do_POST = do_PATCH = do_DELETE = handle_any

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GitHub)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
