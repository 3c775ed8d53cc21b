#!/usr/bin/env python3
"""backend-api: the lab's small HTTP service on the remote node (tools/lab.sh runs it in the remote namespace,
bound to the wireguard-go tunnel address). It checks the credentials frontend-client sends and answers with
JSON carrying credentials of its own, so that both directions of the conversation hold secrets worth hiding.

Usage: backend_api.py ADDRESS PORT
Environment (set by tools/lab.sh; the lab greps captures for exactly these values):
  LAB_BEARER_TOKEN, LAB_API_KEY, LAB_PASSWORD   what a client must present
  LAB_DB_PASSWORD, LAB_SESSION_TOKEN            what the answers contain
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENV = {k: os.environ[k] for k in ("LAB_BEARER_TOKEN", "LAB_API_KEY", "LAB_PASSWORD",
                                  "LAB_DB_PASSWORD", "LAB_SESSION_TOKEN")}


class BackendApi(BaseHTTPRequestHandler):
    server_version = "backend-api/1.0"

    def authorized(self):
        return (self.headers.get("Authorization") == "Bearer " + ENV["LAB_BEARER_TOKEN"]
                and self.headers.get("X-API-Key") == ENV["LAB_API_KEY"])

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if not self.authorized():
            return self.answer(401, {"error": "missing or wrong bearer token / API key"})
        if self.path == "/api/orders":
            return self.answer(200, {"orders": [{"id": 1001, "item": "gpu-node", "qty": 2}],
                                     "db_user": "orders", "db_password": ENV["LAB_DB_PASSWORD"]})
        return self.answer(404, {"error": "no such path"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self.answer(400, {"error": "body is not JSON"})
        if self.path != "/api/login":
            return self.answer(404, {"error": "no such path"})
        if not self.authorized() or body.get("password") != ENV["LAB_PASSWORD"]:
            return self.answer(401, {"error": "login refused"})
        return self.answer(200, {"user": body.get("user"), "session_token": ENV["LAB_SESSION_TOKEN"]})

    def log_message(self, fmt, *args):
        print("backend-api: %s %s" % (self.client_address[0], fmt % args), flush=True)


def main():
    address, port = sys.argv[1], int(sys.argv[2])
    server = ThreadingHTTPServer((address, port), BackendApi)
    print("backend-api: listening on http://%s:%d" % (address, port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
