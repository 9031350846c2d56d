#!/usr/bin/env python3
"""An identity server written from docs/identity-server.md alone, independent of tools/fake_server.

It deliberately differs from the project's fake wherever the spec allows: discovery served at
an issuer with a path, endpoints on unusual paths, opaque tokens with '/', '+' and '=', JSON
replies with extra claims, memberships without a "default" flag (the first is the default),
revocation that insists on client_id and answers 200 with an empty body, a userinfo that
accepts the token only as a Bearer header, and a device flow whose reply has no "interval"
(so 5 s applies), a lowercase "bearer" token_type, an id_token, and slow_down for polls that
come faster than 5 s.

Usage: oidc_server.py PORT_FILE TOKEN_FILE
Writes its port to PORT_FILE and one valid access token (for you@yourcompany.com) to
TOKEN_FILE, then serves on 127.0.0.1 until killed. Control endpoints of this test server:
GET /_control/active?token=T answers {"active": true|false}; POST /_control/approve with
user_code=C approves a pending code; GET /_control/polls answers {"polls": [seconds since the
code was issued...], "too_fast": N} for the latest code.
"""
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/realms/acme"
CLIENT_ID = "datagen-cli"
USERS = {
    "you@yourcompany.com": [
        {"slug": "yourcompany", "role": "admin", "since": "2020-01-01"},
        {"slug": "test-org", "role": "member"},
        {"slug": "viewer-org", "role": "viewer"},
    ],
}
TOKENS = {}
GRANTS = {}  # device_code -> {"user_code", "issued", "approved", "polls", "too_fast", "used"}
LOCK = threading.Lock()
INTERVAL = 5.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # paths only; never bodies or headers
        sys.stderr.write("oidc_server: %s %s\n" % (self.command, self.path.split("?")[0]))

    def reply(self, status, body=None, headers=()):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def base(self):
        return "http://127.0.0.1:%d%s" % (self.server.server_address[1], PREFIX)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == PREFIX + "/.well-known/openid-configuration":
            b = self.base()
            return self.reply(200, {
                "issuer": b,
                "authorization_endpoint": b + "/protocol/openid-connect/auth",
                "device_authorization_endpoint": b + "/protocol/openid-connect/auth/device",
                "token_endpoint": b + "/protocol/openid-connect/token",
                "revocation_endpoint": b + "/protocol/openid-connect/revoke",
                "userinfo_endpoint": b + "/protocol/openid-connect/userinfo",
                "grant_types_supported": ["urn:ietf:params:oauth:grant-type:device_code"],
            })
        if url.path == PREFIX + "/protocol/openid-connect/userinfo":
            auth = self.headers.get("Authorization", "")
            token = auth[7:] if auth.lower().startswith("bearer ") else ""
            with LOCK:
                email = TOKENS.get(token)
            if not email:
                return self.reply(401, {"error": "invalid_token"},
                                  [("WWW-Authenticate", 'Bearer error="invalid_token"')])
            return self.reply(200, {"sub": "f:1234", "email": email, "email_verified": True,
                                    "name": "You", "memberships": USERS[email]})
        if url.path == "/_control/polls":
            with LOCK:
                latest = max(GRANTS.values(), key=lambda g: g["issued"], default=None)
                if latest is None:
                    return self.reply(200, {"polls": [], "too_fast": 0})
                return self.reply(200, {"polls": [p - latest["issued"] for p in latest["polls"]],
                                        "too_fast": latest["too_fast"]})
        if url.path == "/_control/active":
            token = urllib.parse.parse_qs(url.query).get("token", [""])[0]
            with LOCK:
                return self.reply(200, {"active": token in TOKENS})
        return self.reply(404, {"error": "not_found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        field = lambda name: form.get(name, [""])[0]
        if self.path == PREFIX + "/protocol/openid-connect/auth/device":
            if field("client_id") != CLIENT_ID:
                return self.reply(401, {"error": "invalid_client"})
            device_code = secrets.token_urlsafe(32)
            user_code = "%04d-%04d" % (secrets.randbelow(10000), secrets.randbelow(10000))
            with LOCK:
                GRANTS[device_code] = {"user_code": user_code, "issued": time.time(),
                                       "approved": False, "polls": [], "too_fast": 0,
                                       "used": False}
            base = self.base()
            return self.reply(200, {
                "device_code": device_code, "user_code": user_code,
                "verification_uri": base + "/device",
                "verification_uri_complete": base + "/device?user_code=" + user_code,
                "expires_in": 600})
        if self.path == PREFIX + "/protocol/openid-connect/token":
            if field("client_id") != CLIENT_ID:
                return self.reply(401, {"error": "invalid_client"})
            if field("grant_type") != "urn:ietf:params:oauth:grant-type:device_code":
                return self.reply(400, {"error": "unsupported_grant_type"})
            now = time.time()
            with LOCK:
                grant = GRANTS.get(field("device_code"))
                if grant is None or grant["used"]:
                    return self.reply(400, {"error": "invalid_grant"})
                last = grant["polls"][-1] if grant["polls"] else grant["issued"]
                grant["polls"].append(now)
                if now - last < INTERVAL - 0.02:
                    grant["too_fast"] += 1
                    return self.reply(400, {"error": "slow_down"})
                if not grant["approved"]:
                    return self.reply(400, {"error": "authorization_pending",
                                            "error_description": "waiting"})
                grant["used"] = True
                token = "opaque/" + secrets.token_urlsafe(24) + "+y=="
                TOKENS[token] = "you@yourcompany.com"
            return self.reply(200, {"access_token": token, "token_type": "bearer",
                                    "expires_in": 300, "id_token": "e30.e30.sig",
                                    "refresh_token": secrets.token_urlsafe(24),
                                    "scope": "openid email"})
        if self.path == "/_control/approve":
            with LOCK:
                for grant in GRANTS.values():
                    if grant["user_code"] == field("user_code"):
                        grant["approved"] = True
                        return self.reply(200, {})
            return self.reply(404, {"error": "not_found"})
        if self.path == PREFIX + "/protocol/openid-connect/revoke":
            if field("client_id") != CLIENT_ID:
                return self.reply(401, {"error": "invalid_client"})
            if not field("token"):
                return self.reply(400, {"error": "invalid_request"})
            with LOCK:
                TOKENS.pop(field("token"), None)
            return self.reply(200)
        return self.reply(404, {"error": "not_found"})


def main():
    port_file, token_file = sys.argv[1], sys.argv[2]
    token = "opaque/" + secrets.token_urlsafe(24) + "+x=="
    TOKENS[token] = "you@yourcompany.com"
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(token_file + ".tmp", "w") as f:
        f.write(token)
    import os
    os.replace(token_file + ".tmp", token_file)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
