"""Request ids on every log line and response, JSON logs, and no secret in any log.

`RequestIdMiddleware` takes a client's `X-Request-ID` (when it looks like one) or makes one,
returns it as a response header and keeps it in a context variable; `RequestIdFilter` puts it on
every record logged while the request runs (`-` outside requests). `RedactSecretsFilter` masks
credentials wherever a message or its arguments would carry them. LOG_FORMAT=json switches the
console to one JSON object per line (`JsonFormatter`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_INCOMING_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
request_logger = logging.getLogger("registry.requests")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response.headers["X-Request-ID"] = request_id
            request_logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                1000 * (time.monotonic() - started),
            )
            return response
        finally:
            request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


_SECRET_PATTERNS = [
    # Authorization headers and bearer/basic credentials
    (re.compile(r"(?i)\b(authorization\s*[:=]\s*)(\S+\s+)?\S+"), r"\1\2[REDACTED]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [REDACTED]"),
    # JSON Web Tokens anywhere
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
    # password=..., token=..., secret=... in query strings, forms and key/value text
    (
        re.compile(
            r"(?i)\b([\w.-]*(?:password|passwd|secret|token|api_key|access_key)[\w-]*[\"']?\s*[=:]\s*[\"']?)"
            r"[^\s&\"',;]+"
        ),
        r"\1[REDACTED]",
    ),
    # credentials in URLs: scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@"), r"\1[REDACTED]@"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Masks credentials in the final message (and drops the arguments it was formatted from)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logged as is
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


JsonFormatter.converter = time.gmtime
