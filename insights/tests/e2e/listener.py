"""A webhook receiver on 127.0.0.1 that records what it gets; a path may fail a few times first."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    answered: int

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    def signature_valid(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("X-Hub-Signature-256", ""), expected)


@dataclass
class Listener:
    received: list[Received] = field(default_factory=list)
    failures_left: dict[str, int] = field(default_factory=dict)  # path -> answers of 500 still to give
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None, "the listener is not started"
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]


def start_listener() -> Listener:
    listener = Listener()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with listener.lock:
                left = listener.failures_left.get(self.path, 0)
                status = 500 if left else 200
                if left:
                    listener.failures_left[self.path] = left - 1
                listener.received.append(Received(self.path, dict(self.headers), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    listener.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=listener.server.serve_forever, daemon=True).start()
    return listener
