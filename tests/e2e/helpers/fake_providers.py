"""Fake providers for the lifecycle tests: the webhook APIs of Stripe,
GitLab, Linear, Typeform, Zendesk, Airtable, Microsoft Graph and Google
Calendar, each under its own path prefix (/stripe, /gitlab, /linear,
/typeform, /zendesk, /airtable, /graph, /gcal), OpenAI's objects that
enrich calls read (/openai: GET /v1/responses/ID, /v1/batches/ID,
/v1/fine_tuning/jobs/ID; an id starting with "missing" is 404) and
Airtable's webhook payloads (GET .../webhooks/ID/payloads?cursor=N, two
a page), and an OAuth token
endpoint (any POST to a path ending in /token) that issues and refreshes tokens. They answer as
the providers document. Every call is recorded as a JSON line in LOG.

usage: fake_providers.py PORTFILE LOG

Tokens: "good-token" and every token the OAuth endpoint issued (until it
expires) are valid. OAuth: client "cid"/"csecret"; code "good-code";
refresh tokens "refresh-N" are valid once (rotated), except after
POST /_admin/refuse-refresh; POST /_admin/revoke invalidates every
issued access token (a token revoked early: the next call gets 401).
Token lifetime: TOKEN_TTL seconds (env).
Webhook lifetimes (Graph, Airtable, Google): HOOK_TTL seconds (env).
Graph validates a new subscription's notificationUrl before it answers,
as Graph does. The GitLab project "acme/missing" does not exist.
POST /_admin/drop/PREFIX forgets every webhook of a provider (a hook
deleted behind hookpipe's back); POST /_admin/fail/PREFIX makes that
provider answer 503 until POST /_admin/ok/PREFIX.
POST /_admin/answer/PREFIX/CODE/N: the next N calls to PREFIX get CODE.
POST /_admin/hold/PREFIX: calls to PREFIX wait (recorded as they come)
until POST /_admin/release/PREFIX.
POST /_admin/change/airtable/WEBHOOK/N: N more payloads for a webhook.
"""
import base64
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request

portfile, log = sys.argv[1], sys.argv[2]
TOKEN_TTL = int(os.environ.get("TOKEN_TTL", "3600"))
HOOK_TTL = int(os.environ.get("HOOK_TTL", "600000"))
lock = threading.Lock()
hooks = {}          # prefix -> {id: hook}
seq = [1000]
tokens = {"good-token": None}   # token -> expiry (None: never)
refresh_tokens = set()
refuse_refresh = [False]
failing = set()
answers = {}        # prefix -> [code, calls left]
held = {}           # prefix -> threading.Event, set when released
payloads = {}       # Airtable webhook id -> [payload]


def new_id(prefix=""):
    seq[0] += 1
    return "%s%d" % (prefix, seq[0])


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


class Fake(http.server.BaseHTTPRequestHandler):
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

    def token(self):
        auth = self.headers.get("Authorization", "")
        if self.headers.get("PRIVATE-TOKEN"):
            return self.headers["PRIVATE-TOKEN"]
        if auth.lower().startswith("bearer "):
            return auth[7:]
        if auth.lower().startswith("basic "):
            # Zendesk: email/token:TOKEN
            raw = base64.b64decode(auth[6:]).decode()
            return raw.split(":", 1)[1] if raw.count("/token:") else ""
        return auth     # Linear's API keys come bare

    def authorized(self):
        t = self.token()
        with lock:
            if t not in tokens:
                return False
            exp = tokens[t]
        return exp is None or exp > time.time()

    def handle_any(self):
        n = int(self.headers.get("Content-Length", 0) or 0)
        body = self.rfile.read(n) if n else b""
        self.record(body)
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if path.startswith("/_admin/"):
            return self.admin(path)
        if path.endswith("/token") and self.command == "POST":
            return self.oauth(body)
        prefix = path.split("/")[1]
        with lock:
            gate = held.get(prefix)
            canned = answers.get(prefix)
            if canned and canned[1] > 0:
                canned[1] -= 1
            else:
                canned = None
        if gate is not None:
            gate.wait(60)
        if canned is not None:
            return self.reply(canned[0], {"error": {
                "message": "The server had an error while processing your request.",
                "type": "server_error"}})
        if prefix in failing:
            return self.reply(503, {"error": {"message": "Service Unavailable"}})
        if not self.authorized():
            return self.reply(401, {"message": "Unauthorized",
                                    "error": {"message": "invalid token"}})
        try:
            doc = json.loads(body) if body and prefix != "stripe" else {}
        except ValueError:
            return self.reply(400, {"message": "invalid JSON"})
        fn = getattr(self, "p_" + prefix, None)
        if fn is None:
            return self.reply(404, {"message": "Not Found"})
        with lock:
            table = hooks.setdefault(prefix, {})
        rest = path[len(prefix) + 1:]
        return fn(rest, doc, body, table, url)

    # --- test controls -------------------------------------------------
    def admin(self, path):
        parts = path.split("/")
        with lock:
            if parts[2] == "drop":
                hooks.pop(parts[3], None)
            elif parts[2] == "fail":
                failing.add(parts[3])
            elif parts[2] == "ok":
                failing.discard(parts[3])
            elif parts[2] == "refuse-refresh":
                refuse_refresh[0] = True
            elif parts[2] == "revoke":
                for t in [t for t in tokens if t != "good-token"]:
                    del tokens[t]
            elif parts[2] == "answer":
                answers[parts[3]] = [int(parts[4]), int(parts[5])]
            elif parts[2] == "hold":
                held[parts[3]] = threading.Event()
            elif parts[2] == "release":
                gate = held.pop(parts[3], None)
                if gate is not None:
                    gate.set()
            elif parts[2] == "change":
                got = payloads.setdefault(parts[4], [])
                for _ in range(int(parts[5])):
                    got.append({"timestamp": iso(time.time()),
                                "baseTransactionNumber": len(got) + 1,
                                "payloadFormat": "v0",
                                "actionMetadata": {"source": "client"}})
            elif parts[2] == "hooks":
                return self.reply(200, hooks.get(parts[3], {}))
        return self.reply(200, {})

    def issue(self):
        tok = "oauth-" + secrets.token_hex(8)
        ref = "refresh-" + secrets.token_hex(8)
        with lock:
            tokens[tok] = time.time() + TOKEN_TTL
            refresh_tokens.add(ref)
        return {"access_token": tok, "token_type": "Bearer",
                "expires_in": TOKEN_TTL, "refresh_token": ref,
                "scope": "all"}

    def oauth(self, body):
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            cid, _, csec = base64.b64decode(auth[6:]).decode().partition(":")
            form.setdefault("client_id", urllib.parse.unquote(cid))
            form["client_secret"] = urllib.parse.unquote(csec)
        if form.get("client_id") != "cid" or form.get("client_secret") != "csecret":
            return self.reply(401, {"error": "invalid_client"})
        if form.get("grant_type") == "authorization_code" or "code" in form:
            if form.get("code") != "good-code":
                return self.reply(400, {"error": "invalid_grant"})
            return self.reply(200, self.issue())
        if form.get("grant_type") == "refresh_token":
            with lock:
                ok = form.get("refresh_token") in refresh_tokens and not refuse_refresh[0]
                refresh_tokens.discard(form.get("refresh_token"))
            if not ok:
                return self.reply(400, {"error": "invalid_grant",
                                        "error_description": "The refresh token is invalid or was revoked."})
            return self.reply(200, self.issue())
        return self.reply(400, {"error": "unsupported_grant_type"})

    # --- Stripe ---------------------------------------------------------
    def p_stripe(self, rest, _doc, body, table, _url):
        form = urllib.parse.parse_qs(body.decode())
        events = [v[0] for k, v in sorted(form.items()) if k.startswith("enabled_events[")]
        m = re.fullmatch(r"/v1/webhook_endpoints(?:/([^/]+))?", rest)
        if not m:
            return self.reply(404, {"error": {"message": "Unrecognized request URL"}})
        wid = m.group(1)
        if wid is None and self.command == "GET":
            return self.reply(200, {"object": "list", "data": list(table.values())})
        if wid is None and self.command == "POST":
            if "url" not in form or not events:
                return self.reply(400, {"error": {"message": "Missing required param: url."}})
            w = {"id": new_id("we_"), "object": "webhook_endpoint", "status": "enabled",
                 "url": form["url"][0], "enabled_events": events,
                 "secret": "whsec_" + secrets.token_hex(16)}
            table[w["id"]] = w
            return self.reply(200, w)
        if wid not in table:
            return self.reply(404, {"error": {"code": "resource_missing",
                                              "message": "No such webhook endpoint: '%s'" % wid}})
        w = {k: v for k, v in table[wid].items() if k != "secret"}
        if self.command == "POST":
            if events:
                table[wid]["enabled_events"] = events
            return self.reply(200, {k: v for k, v in table[wid].items() if k != "secret"})
        if self.command == "DELETE":
            del table[wid]
            return self.reply(200, {"id": wid, "deleted": True})
        return self.reply(200, w)

    # --- GitLab ---------------------------------------------------------
    def p_gitlab(self, rest, doc, _body, table, _url):
        if rest == "/user":
            return self.reply(200, {"id": 1, "username": "tanuki"})
        m = re.fullmatch(r"/(projects|groups)/([^/]+)/hooks(?:/(\d+))?", rest)
        if not m:
            return self.reply(404, {"message": "404 Not Found"})
        scope = urllib.parse.unquote(m.group(2))
        if scope == "acme/missing":
            return self.reply(404, {"message": "404 Project Not Found"})
        hid = m.group(3)
        if hid is None and self.command == "POST":
            if not doc.get("url"):
                return self.reply(400, {"message": "url is missing"})
            h = dict(doc, id=int(new_id()), scope=scope)
            table[str(h["id"])] = h
            return self.reply(201, {k: v for k, v in h.items() if k != "token"})
        if hid is None:
            return self.reply(200, [h for h in table.values() if h["scope"] == scope])
        if hid not in table or table[hid]["scope"] != scope:
            return self.reply(404, {"message": "404 Not found"})
        if self.command == "PUT":
            table[hid].update(doc)
        elif self.command == "DELETE":
            del table[hid]
            return self.reply(204)
        return self.reply(200, {k: v for k, v in table[hid].items() if k != "token"})

    # --- Linear (GraphQL) --------------------------------------------------
    def p_linear(self, rest, doc, _body, table, _url):
        q, v = doc.get("query", ""), doc.get("variables", {})
        if rest != "/graphql":
            return self.reply(404, {})
        if "viewer" in q:
            return self.reply(200, {"data": {"viewer": {"id": "u1", "email": "ada@example.com"}}})
        if "webhookCreate" in q:
            i = v["input"]
            if not i.get("url") or not i.get("resourceTypes"):
                return self.reply(200, {"errors": [{"message": "Argument Validation Error"}]})
            h = dict(i, id=new_id("lin-"), enabled=True)
            table[h["id"]] = h
            return self.reply(200, {"data": {"webhookCreate": {"success": True,
                                    "webhook": {"id": h["id"], "enabled": True}}}})
        if v.get("id") not in table:
            return self.reply(200, {"data": None, "errors": [{"message": "Entity not found: Webhook"}]})
        if "webhookUpdate" in q:
            table[v["id"]].update(v["input"])
            return self.reply(200, {"data": {"webhookUpdate": {"success": True}}})
        if "webhookDelete" in q:
            del table[v["id"]]
            return self.reply(200, {"data": {"webhookDelete": {"success": True}}})
        h = table[v["id"]]
        return self.reply(200, {"data": {"webhook": {"id": h["id"], "url": h["url"],
                                "enabled": True, "resourceTypes": h["resourceTypes"]}}})

    # --- Typeform ----------------------------------------------------------
    def p_typeform(self, rest, doc, _body, table, _url):
        if rest == "/me":
            return self.reply(200, {"alias": "ada", "email": "ada@example.com"})
        m = re.fullmatch(r"/forms/([^/]+)/webhooks/([^/]+)", rest)
        if not m:
            return self.reply(404, {"code": "NOT_FOUND", "description": "not found"})
        key = m.group(1) + "/" + m.group(2)
        if self.command == "PUT":
            if not doc.get("url"):
                return self.reply(400, {"code": "VALIDATION_ERROR", "description": "url is required"})
            h = dict(doc, tag=m.group(2), form_id=m.group(1), id=table.get(key, {}).get("id") or new_id("tf"))
            h.setdefault("event_types", {"form_response": True})
            table[key] = h
            return self.reply(200, {k: v for k, v in h.items() if k != "secret"})
        if key not in table:
            return self.reply(404, {"code": "NOT_FOUND", "description": "Webhook not found"})
        if self.command == "DELETE":
            del table[key]
            return self.reply(204)
        return self.reply(200, {k: v for k, v in table[key].items() if k != "secret"})

    # --- Zendesk -------------------------------------------------------------
    def p_zendesk(self, rest, doc, _body, table, _url):
        m = re.fullmatch(r"/webhooks(?:/([^/]+))?(/signing_secret)?", rest)
        if not m:
            return self.reply(404, {"error": "InvalidEndpoint"})
        wid = m.group(1)
        if wid is None and self.command == "POST":
            w = doc.get("webhook", {})
            if not w.get("endpoint") or not w.get("subscriptions"):
                return self.reply(400, {"errors": [{"code": "InvalidValue", "title": "Invalid value",
                                                    "detail": "endpoint and subscriptions are required"}]})
            w = dict(w, id=new_id("01ZD"), secret=base64.b64encode(os.urandom(32)).decode())
            table[w["id"]] = w
            return self.reply(201, {"webhook": {k: v for k, v in w.items() if k != "secret"}})
        if wid not in table:
            return self.reply(404, {"errors": [{"code": "WebhookNotFound", "title": "Webhook not found"}]})
        if m.group(2):
            return self.reply(200, {"signing_secret": {"algorithm": "SHA256", "secret": table[wid]["secret"]}})
        if self.command == "PATCH":
            table[wid].update(doc.get("webhook", {}))
            return self.reply(204)
        if self.command == "DELETE":
            del table[wid]
            return self.reply(204)
        return self.reply(200, {"webhook": {k: v for k, v in table[wid].items() if k != "secret"}})

    # --- Airtable --------------------------------------------------------------
    def p_airtable(self, rest, doc, _body, table, url):
        if rest == "/meta/whoami":
            return self.reply(200, {"id": "usrFake"})
        m = re.fullmatch(r"/bases/([^/]+)/webhooks/([^/]+)/payloads", rest)
        if m and self.command == "GET":
            if m.group(2) not in table:
                return self.reply(404, {"error": "NOT_FOUND"})
            q = urllib.parse.parse_qs(url.query)
            cursor = int(q.get("cursor", ["1"])[0])
            with lock:
                got = payloads.get(m.group(2), [])
                page = got[cursor - 1:cursor + 1]
                more = cursor - 1 + len(page) < len(got)
            return self.reply(200, {"payloads": page, "cursor": cursor + len(page),
                                    "mightHaveMore": more, "payloadFormat": "v0"})
        m = re.fullmatch(r"/bases/([^/]+)/webhooks(?:/([^/]+))?(/refresh)?", rest)
        if not m:
            return self.reply(404, {"error": "NOT_FOUND"})
        wid = m.group(2)
        if wid is None and self.command == "POST":
            if not doc.get("notificationUrl"):
                return self.reply(422, {"error": {"type": "INVALID_REQUEST", "message": "notificationUrl is required"}})
            h = {"id": new_id("ach"), "base": m.group(1), "notificationUrl": doc["notificationUrl"],
                 "specification": doc.get("specification"), "isHookEnabled": True,
                 "expirationTime": iso(time.time() + HOOK_TTL)}
            table[h["id"]] = h
            return self.reply(200, {"id": h["id"], "expirationTime": h["expirationTime"],
                                    "macSecretBase64": base64.b64encode(os.urandom(32)).decode()})
        if wid is None:
            return self.reply(200, {"webhooks": [h for h in table.values() if h["base"] == m.group(1)]})
        if wid not in table:
            return self.reply(404, {"error": "NOT_FOUND"})
        if m.group(3):
            table[wid]["expirationTime"] = iso(time.time() + HOOK_TTL)
            return self.reply(200, {"expirationTime": table[wid]["expirationTime"]})
        if self.command == "DELETE":
            del table[wid]
            return self.reply(200, {})
        return self.reply(200, table[wid])

    # --- OpenAI: the objects its webhooks name -----------------------------------
    def p_openai(self, rest, _doc, _body, _table, _url):
        if rest == "/v1/models" and self.command == "GET":
            return self.reply(200, {"object": "list", "data": []})
        kinds = {"responses": "response", "batches": "batch",
                 "fine_tuning/jobs": "fine_tuning.job"}
        m = re.fullmatch(r"/v1/(responses|batches|fine_tuning/jobs)/([^/]+)", rest)
        if not m or self.command != "GET":
            return self.reply(404, {"error": {"message": "Invalid URL (%s %s)" % (self.command, rest),
                                              "type": "invalid_request_error"}})
        oid = urllib.parse.unquote(m.group(2))
        if oid.startswith("missing"):
            return self.reply(404, {"error": {"message": "No %s found with id '%s'." % (kinds[m.group(1)], oid),
                                              "type": "invalid_request_error", "param": None, "code": None}})
        return self.reply(200, {"id": oid, "object": kinds[m.group(1)], "status": "completed",
                                "created_at": int(time.time())})

    # --- Microsoft Graph ----------------------------------------------------------
    def p_graph(self, rest, doc, _body, table, _url):
        if rest == "/me":
            return self.reply(200, {"userPrincipalName": "ada@contoso.example"})
        m = re.fullmatch(r"/subscriptions(?:/([^/]+))?", rest)
        if not m:
            return self.reply(404, {"error": {"code": "ResourceNotFound", "message": "not found"}})
        sid = m.group(1)
        if sid is None and self.command == "POST":
            for k in ("changeType", "notificationUrl", "resource", "expirationDateTime", "clientState"):
                if not doc.get(k):
                    return self.reply(400, {"error": {"code": "InvalidRequest", "message": "%s is required" % k}})
            # Graph validates the notification URL first.
            tok = "valid-" + secrets.token_hex(6)
            sep = "&" if "?" in doc["notificationUrl"] else "?"
            try:
                req = urllib.request.Request(doc["notificationUrl"] + sep + "validationToken=" + tok,
                                             data=b"", method="POST")
                with urllib.request.urlopen(req, timeout=10) as r:
                    ok = r.status == 200 and r.read().decode() == tok
            except Exception:
                ok = False
            if not ok:
                return self.reply(400, {"error": {"code": "ValidationError",
                                                  "message": "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."}})
            h = dict(doc, id="%08x-0000-4000-8000-%012d" % (seq[0], int(new_id())),
                     expirationDateTime=iso(min(time.time() + HOOK_TTL, time.time() + 253800)))
            table[h["id"]] = h
            return self.reply(201, {k: v for k, v in h.items() if k != "clientState"})
        if sid not in table:
            return self.reply(404, {"error": {"code": "ResourceNotFound",
                                              "message": "The object was not found."}})
        if self.command == "PATCH":
            table[sid]["expirationDateTime"] = iso(time.time() + HOOK_TTL)
        elif self.command == "DELETE":
            del table[sid]
            return self.reply(204)
        return self.reply(200, {k: v for k, v in table[sid].items() if k != "clientState"})

    # --- Google Calendar ----------------------------------------------------------
    def p_gcal(self, rest, doc, _body, table, _url):
        if rest.startswith("/users/me/calendarList"):
            return self.reply(200, {"items": []})
        if rest == "/channels/stop" and self.command == "POST":
            h = table.get(doc.get("id"))
            if h is None or h["resourceId"] != doc.get("resourceId"):
                return self.reply(404, {"error": {"code": 404, "message": "Channel not found"}})
            del table[doc["id"]]
            return self.reply(204)
        m = re.fullmatch(r"/calendars/([^/]+)/events/watch", rest)
        if not m or self.command != "POST":
            return self.reply(404, {"error": {"code": 404, "message": "Not Found"}})
        if doc.get("type") != "web_hook" or not doc.get("id") or not doc.get("address"):
            return self.reply(400, {"error": {"code": 400, "message": "Invalid channel"}})
        if doc["id"] in table:
            return self.reply(400, {"error": {"code": 400, "message": "Channel id not unique"}})
        h = {"kind": "api#channel", "id": doc["id"], "resourceId": new_id("res-"),
             "resourceUri": "https://www.googleapis.com/calendar/v3/calendars/%s/events" % m.group(1),
             "token": doc.get("token"), "address": doc["address"],
             "expiration": str(int((time.time() + HOOK_TTL) * 1000))}
        table[doc["id"]] = h
        return self.reply(200, {k: v for k, v in h.items() if k not in ("token", "address")})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fake)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
