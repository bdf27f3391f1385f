"""The front of the stack: an asyncio HTTP/1.1 proxy that faces the clients and hands gunicorn only
complete, fast requests.

Gunicorn has a fixed number of request threads and no read timeouts, so a handful of clients trickling
headers or bodies used to hold every thread. Here a slow connection costs one coroutine, and:
- the request head must arrive within FRONT_HEADER_TIMEOUT (408 otherwise), at most 64 KiB (431);
- a connection idle between requests is closed after FRONT_KEEPALIVE_TIMEOUT;
- a body that stops for FRONT_BODY_IDLE_TIMEOUT is abandoned (408);
- a body is spooled (memory up to 1 MiB, then a file under $DATA_DIR/run/front-spool) until it is complete,
  and only then sent to gunicorn at local speed. A client that has already sent FRONT_STREAM_AFTER bytes
  (8 MiB) streams the rest straight through while one of FRONT_STREAM_SLOTS is free, so large layer
  uploads are not written twice; the slots bound how many gunicorn threads bodies can hold at once.
Responses are relayed as they come (gunicorn still sends blob files with sendfile; S3 pulls redirect).
Each request goes to gunicorn on its own connection (`Connection: close`, usually a unix socket), with
the client's address in X-Forwarded-For, which config/wsgi.py turns into REMOTE_ADDR.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import resource
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

logger = logging.getLogger("front")

MAX_HEAD = 64 * 1024
READ_SIZE = 256 * 1024
MEMORY_SPOOL = 1024 * 1024
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"expect",
    b"x-forwarded-for",
    b"content-length",
}
REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class Limits:
    header_timeout: float = 30.0
    keepalive_timeout: float = 75.0
    body_idle_timeout: float = 60.0
    send_timeout: float = 120.0
    upstream_timeout: float = 600.0
    upstream_wait: float = 15.0
    stream_after: int = 8 * 1024 * 1024
    stream_slots: int = 8
    max_connections: int = 5000

    @classmethod
    def from_env(cls) -> Limits:
        threads = int(os.environ.get("WEB_WORKERS", "2")) * int(os.environ.get("WEB_THREADS", "8"))

        def number(name: str, default: float) -> float:
            return float(os.environ.get(name, default))

        return cls(
            header_timeout=number("FRONT_HEADER_TIMEOUT", 30),
            keepalive_timeout=number("FRONT_KEEPALIVE_TIMEOUT", 75),
            body_idle_timeout=number("FRONT_BODY_IDLE_TIMEOUT", 60),
            send_timeout=number("FRONT_SEND_TIMEOUT", 120),
            upstream_timeout=number("FRONT_UPSTREAM_TIMEOUT", 600),
            upstream_wait=number("FRONT_UPSTREAM_WAIT", 15),
            stream_after=int(number("FRONT_STREAM_AFTER", 8 * 1024 * 1024)),
            stream_slots=int(number("FRONT_STREAM_SLOTS", max(1, threads // 2))),
            max_connections=int(number("FRONT_MAX_CONNECTIONS", 5000)),
        )


class ClientError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class ClientGone(Exception):
    """The client closed the connection or stopped sending; nothing more to answer."""


@dataclass
class Request:
    method: bytes
    target: bytes
    version: bytes
    headers: list[tuple[bytes, bytes]]
    length: int | None = None  # Content-Length, or None
    chunked: bool = False
    keep_alive: bool = True
    expect_continue: bool = False

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.length)


def parse_head(head: bytes) -> Request:
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise ClientError(400, "malformed request line")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in (b" ", b"\t"):
            raise ClientError(400, "malformed header line")
        headers.append((name, value.strip()))
    request = Request(method=parts[0], target=parts[1], version=parts[2], headers=headers)
    lengths = {value for key, value in headers if key.lower() == b"content-length"}
    encodings = [value.lower() for key, value in headers if key.lower() == b"transfer-encoding"]
    if encodings:
        if lengths:
            raise ClientError(400, "both Content-Length and Transfer-Encoding")
        if encodings != [b"chunked"]:
            raise ClientError(501, "only the chunked transfer coding is supported")
        request.chunked = True
    elif lengths:
        if len(lengths) > 1 or not next(iter(lengths)).isdigit() or len(next(iter(lengths))) > 18:
            raise ClientError(400, "invalid Content-Length")
        request.length = int(next(iter(lengths)))
    connection = (request.header(b"connection") or b"").lower()
    request.keep_alive = (
        (b"close" not in connection) if request.version == b"HTTP/1.1" else (b"keep-alive" in connection)
    )
    request.expect_continue = (request.header(b"expect") or b"").lower() == b"100-continue"
    return request


class Spool:
    """A request body: in memory while small, then in an anonymous file."""

    def __init__(self, directory: Path):
        self.directory, self.size = directory, 0
        self.buffer: IO[bytes] = io.BytesIO()
        self.on_disk = False

    def write(self, data: bytes) -> None:
        if not self.on_disk and self.size + len(data) > MEMORY_SPOOL:
            spilled = tempfile.TemporaryFile(dir=self.directory)
            spilled.write(self.buffer.getvalue())  # type: ignore[attr-defined]  # still the BytesIO here
            self.buffer, self.on_disk = spilled, True
        self.buffer.write(data)
        self.size += len(data)

    def chunks(self):
        self.buffer.seek(0)
        while data := self.buffer.read(READ_SIZE):
            yield data
        self.buffer.seek(0)
        self.buffer.truncate()
        self.size = 0

    def close(self) -> None:
        self.buffer.close()


@dataclass
class Front:
    upstream: str  # "unix:/path" or "host:port"
    limits: Limits
    spool_dir: Path
    connections: int = 0
    slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self):
        self.slots = asyncio.Semaphore(self.limits.stream_slots)

    # --- client side ---------------------------------------------------------------------------
    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        peer = writer.get_extra_info("peername")
        address = peer[0] if isinstance(peer, tuple) else "127.0.0.1"
        try:
            if self.connections > self.limits.max_connections:
                await self._error(writer, 503, "too many connections", request=None)
                return
            first = True
            while True:
                request = await self._read_head(reader, writer, first=first)
                if request is None:
                    return
                first = False
                if not await self._serve(request, reader, writer, address):
                    return
        except (ClientGone, ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:  # noqa: BLE001 - one broken exchange must not take the front down
            logger.exception("front: unexpected error")
        finally:
            self.connections -= 1
            writer.close()

    async def _read_head(self, reader, writer, *, first: bool) -> Request | None:
        wait = self.limits.header_timeout if first else self.limits.keepalive_timeout
        try:
            start = await asyncio.wait_for(reader.read(1), wait)
        except TimeoutError:
            if first:
                await self._error(writer, 408, "no request within the header timeout", request=None)
            return None  # an idle keep-alive connection just closes
        if not start:
            return None
        if not start.isalpha():
            # A TLS ClientHello (0x16) on this plain-HTTP port: answer at once, as a plain registry does, so
            # clients that try HTTPS first (`docker manifest create --insecure`) fall back to HTTP.
            await self._error(writer, 400, "not an HTTP request (TLS to a plain-HTTP port?)", request=None)
            return None
        try:
            rest = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.limits.header_timeout)
        except TimeoutError:
            await self._error(writer, 408, "the request head did not arrive within the header timeout", request=None)
            return None
        except asyncio.LimitOverrunError:
            await self._error(writer, 431, "request head larger than 64 KiB", request=None)
            return None
        except asyncio.IncompleteReadError:
            return None
        try:
            return parse_head(start + rest)
        except ClientError as exc:
            await self._error(writer, exc.status, exc.message, request=None)
            return None

    async def _body(self, reader: asyncio.StreamReader, request: Request):
        """The body's bytes as they arrive (de-chunked), each read bounded by the idle timeout."""
        idle = self.limits.body_idle_timeout

        async def read(n: int) -> bytes:
            try:
                data = await asyncio.wait_for(reader.read(n), idle)
            except TimeoutError:
                raise ClientError(408, f"no body data for {idle:.0f} s") from None
            if not data:
                raise ClientGone()
            return data

        async def read_line() -> bytes:
            try:
                return await asyncio.wait_for(reader.readuntil(b"\r\n"), idle)
            except TimeoutError:
                raise ClientError(408, f"no body data for {idle:.0f} s") from None
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                raise ClientGone() from None

        if not request.chunked:
            remaining = request.length or 0
            while remaining:
                data = await read(min(remaining, READ_SIZE))
                remaining -= len(data)
                yield data
            return
        while True:
            size_line = (await read_line()).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ClientError(400, "malformed chunk size") from None
            if size == 0:
                while (await read_line()) != b"\r\n":  # trailers, dropped
                    pass
                return
            while size:
                data = await read(min(size, READ_SIZE))
                size -= len(data)
                yield data
            if await read_line() != b"\r\n":
                raise ClientError(400, "malformed chunk")

    async def _serve(self, request: Request, reader, writer, address: str) -> bool:
        """One exchange; True when the connection may carry another request."""
        if request.expect_continue and request.has_body:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        spool = Spool(self.spool_dir)
        body = self._body(reader, request)
        streaming = False
        try:
            try:
                async for data in body:
                    spool.write(data)
                    if spool.size >= self.limits.stream_after and not self.slots.locked():
                        await self.slots.acquire()
                        streaming = True
                        break
            except ClientError as exc:
                await self._error(writer, exc.status, str(exc.message), request=request)
                return False
            upstream = await self._connect()
            if upstream is None:
                await self._error(writer, 502, "the web server is not answering", request=request)
                return False
            up_reader, up_writer = upstream
            try:
                complete = await self._send_request(request, spool, body if streaming else None, up_writer, address)
                return await self._relay_response(request, up_reader, writer) and complete
            finally:
                up_writer.close()
        except ClientError as exc:
            await self._error(writer, exc.status, exc.message, request=request)
            return False
        finally:
            if streaming:
                self.slots.release()
            spool.close()

    # --- upstream side -------------------------------------------------------------------------
    async def _connect(self):
        deadline = time.monotonic() + self.limits.upstream_wait
        while True:
            try:
                if self.upstream.startswith("unix:"):
                    return await asyncio.open_unix_connection(self.upstream[5:], limit=MAX_HEAD)
                host, _, port = self.upstream.rpartition(":")
                return await asyncio.open_connection(host, int(port), limit=MAX_HEAD)
            except OSError:
                if time.monotonic() > deadline:
                    return None
                await asyncio.sleep(0.2)  # gunicorn restarting: wait a little rather than fail

    async def _send_request(self, request: Request, spool: Spool, rest, up_writer, address: str) -> bool:
        """Head and body to gunicorn. False when gunicorn stopped reading early (its answer still goes out)."""
        lines = [b"%s %s HTTP/1.1" % (request.method, request.target)]
        lines += [b"%s: %s" % (k, v) for k, v in request.headers if k.lower() not in HOP_BY_HOP]
        lines.append(b"X-Forwarded-For: " + address.encode())
        lines.append(b"Connection: close")
        chunked = rest is not None and request.chunked
        if chunked:
            lines.append(b"Transfer-Encoding: chunked")
        elif request.has_body or request.length is not None:
            lines.append(b"Content-Length: %d" % (request.length if request.length is not None else spool.size))
        try:
            up_writer.write(b"\r\n".join(lines) + b"\r\n\r\n")
            for data in spool.chunks():
                up_writer.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                await up_writer.drain()
            if rest is not None:
                async for data in rest:
                    up_writer.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                    await up_writer.drain()
                if chunked:
                    up_writer.write(b"0\r\n\r\n")
            await up_writer.drain()
        except ConnectionError:
            return False
        return True

    async def _relay_response(self, request: Request, up_reader, writer) -> bool:
        """Gunicorn's answer to the client as it comes; True when the client connection can be kept."""
        try:
            head = await asyncio.wait_for(up_reader.readuntil(b"\r\n\r\n"), self.limits.upstream_timeout)
        except TimeoutError:
            raise ClientError(504, "the web server did not answer in time") from None
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            raise ClientError(502, "the web server closed the connection without answering") from None
        lines = head[:-4].split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = [
            line for line in lines[1:] if line.split(b":")[0].strip().lower() not in (b"connection", b"keep-alive")
        ]
        names = {line.split(b":")[0].strip().lower() for line in headers}
        framed = (
            b"content-length" in names
            or b"transfer-encoding" in names
            or request.method == b"HEAD"
            or status in (204, 304)
            or status < 200
        )
        keep = request.keep_alive and framed
        headers.append(b"Connection: keep-alive" if keep else b"Connection: close")
        await self._write(writer, b"\r\n".join([lines[0], *headers]) + b"\r\n\r\n")
        while True:
            try:
                data = await asyncio.wait_for(up_reader.read(READ_SIZE), self.limits.upstream_timeout)
            except (TimeoutError, ConnectionError):
                return False
            if not data:
                return keep
            await self._write(writer, data)

    async def _write(self, writer, data: bytes) -> None:
        writer.write(data)
        try:
            await asyncio.wait_for(writer.drain(), self.limits.send_timeout)
        except TimeoutError:
            raise ClientGone() from None

    async def _error(self, writer, status: int, message: str, *, request: Request | None) -> None:
        """A proxy-level answer in the JSON error envelope: the registry's on /v2/, the REST API's (which adds
        `status`, config/api_errors.py) everywhere else, including when the request head never arrived."""
        code = {
            408: "TIMEOUT",
            431: "HEADERS_TOO_LARGE",
            502: "UNAVAILABLE",
            503: "UNAVAILABLE",
            504: "UNAVAILABLE",
        }.get(status, "BAD_REQUEST")
        error: dict = {"code": code, "message": message, "detail": None}
        if request is None or not request.target.startswith(b"/v2/"):
            error = {"status": status, **error}
        body = json.dumps({"errors": [error]}).encode()
        writer.write(
            b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            b"Docker-Distribution-Api-Version: registry/2.0\r\nConnection: close\r\n\r\n%s"
            % (status, REASONS.get(status, "Error").encode(), len(body), body)
        )
        try:
            await asyncio.wait_for(writer.drain(), 5)
        except (TimeoutError, ConnectionError):
            pass


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


async def serve(*, host: str, port: int, upstream: str, spool_dir: Path, limits: Limits) -> None:
    spool_dir.mkdir(parents=True, exist_ok=True)
    front = Front(upstream=upstream, limits=limits, spool_dir=spool_dir)
    server = await asyncio.start_server(front.handle, host, port, limit=MAX_HEAD, backlog=1024, reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    logger.warning("front: listening on http://%s:%s/ for %s", host, port, upstream)
    async with server:
        await stop.wait()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    _raise_file_limit()
    from config import paths

    data_dir = paths.data_dir()
    asyncio.run(
        serve(
            host=os.environ.get("HOST", "127.0.0.1"),
            port=int(os.environ.get("PORT", "8000")),
            upstream=os.environ.get("FRONT_UPSTREAM", f"unix:{data_dir / 'run' / 'web.sock'}"),
            spool_dir=data_dir / "run" / "front-spool",
            limits=Limits.from_env(),
        )
    )


if __name__ == "__main__":
    main()
