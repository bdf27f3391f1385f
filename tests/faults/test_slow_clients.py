"""Slow clients do not starve the registry: with 150 connections trickling headers, trickling upload bodies
or idling between keep-alive requests held open through the stack's front (config/front.py), a real
skopeo push and pull and a large blob's push and pull succeed, and none of the slow connections was
dropped. Then the front's header, body-idle and keep-alive timeouts close such connections."""

import os
import socket

import pytest

from bench.slow_clients import SlowCrowd, push_and_pull, upload_paths
from conftest import require_tool
from tests.faults.harness import running_stack
from tests.support.clients import skopeo_pull_layout

pytestmark = pytest.mark.e2e
PATIENT = {
    "FRONT_HEADER_TIMEOUT": "600",
    "FRONT_BODY_IDLE_TIMEOUT": "600",
    "FRONT_KEEPALIVE_TIMEOUT": "600",
    "FRONT_STREAM_AFTER": str(1024 * 1024),
}


def test_push_and_pull_while_slow_clients_hold_connections(tmp_path):
    require_tool("skopeo")
    with running_stack(tmp_path, extra_env=PATIENT) as stack:
        stack.wait_ready()
        auth = ("admin", stack.admin_password)
        crowd = SlowCrowd(
            host="127.0.0.1", port=stack.port, count=150, auth=auth, upload_paths=upload_paths(stack.url, auth, 50)
        )
        crowd.start()
        try:
            assert crowd.opened == {"headers": 50, "body": 50, "keepalive": 50} and crowd.failed == 0
            stack.push_image("crowded")
            pulled = tmp_path / "pulled"
            skopeo_pull_layout(stack, "docker-local/crowded:latest", pulled, "latest")
            assert len(list((pulled / "blobs" / "sha256").iterdir())) == 7  # index, 2 manifests, 2 configs, 2 layers
            # 24 MiB: past FRONT_STREAM_AFTER, so the body streams through to gunicorn; pulled back byte-identical.
            push_and_pull(stack.url, auth, os.urandom(24 * 1024 * 1024), "big", timeout=120)
            assert crowd.open_now == 150 and sum(crowd.closed.values()) == 0
        finally:
            crowd.stop()


def _exchange(port: int, data: bytes, *, then_wait: bool = True) -> bytes:
    """Send `data`, then read until the server closes the connection (bounded)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(data)
        received = b""
        while then_wait:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_front_timeouts_and_malformed_heads(tmp_path):
    quick = {"FRONT_HEADER_TIMEOUT": "2", "FRONT_BODY_IDLE_TIMEOUT": "2", "FRONT_KEEPALIVE_TIMEOUT": "2"}
    with running_stack(tmp_path, extra_env=quick) as stack:
        stack.wait_ready()
        port = stack.port
        # Headers that never finish: 408 with the registry's error envelope, then closed.
        answer = _exchange(port, b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
        assert answer.startswith(b"HTTP/1.1 408") and b'"code": "TIMEOUT"' in answer
        # A body that stops: 408, closed; nothing reaches the application.
        answer = _exchange(
            port,
            b"PATCH /v2/docker-local/x/blobs/uploads/none HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 1000\r\n\r\n" + b"x" * 10,
        )
        assert answer.startswith(b"HTTP/1.1 408") and b'"status"' not in answer  # the OCI envelope on /v2/
        # The same stall on the REST API: its envelope, with the status.
        answer = _exchange(
            port, b"POST /api/promotions/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"{" * 10
        )
        assert answer.startswith(b"HTTP/1.1 408") and b'"status": 408' in answer
        # An idle keep-alive connection: the first answer, then closed by the server.
        answer = _exchange(port, b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.count(b"HTTP/1.1 ") == 1 and b"Connection: keep-alive" in answer
        # Two requests on one connection, the first with a chunked body.
        answer = _exchange(
            port,
            b"POST /v2/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n0\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        assert answer.count(b"HTTP/1.1 ") == 2
        # Ambiguous framing (request smuggling), unknown codings, bad lengths, huge heads: refused at the front.
        for head, status in (
            (b"POST /v2/ HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", b"400"),
            (b"POST /v2/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"501"),
            (b"POST /v2/ HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", b"400"),
            (b"POST /v2/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
            (b"GET /v2/ HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", b"431"),
            (b"GET /v2/\r\n\r\n", b"400"),
            # A TLS ClientHello: 400 at once rather than 408 after the header timeout, so HTTPS-first clients
            # (docker manifest --insecure) see a plain-HTTP server and fall back.
            (bytes.fromhex("16030100a5010000a10303") + os.urandom(32), b"400"),
        ):
            assert _exchange(port, head).startswith(b"HTTP/1.1 " + status), head[:60]
        assert stack.web_up()
