"""The request body as a stream, whatever framing the client used."""

from __future__ import annotations

import re

from repos import errors
from repos.storage import Readable

# At most 19 digits: offsets are int64, and int() of a 4,300+ digit string raises ValueError.
_CONTENT_RANGE = re.compile(r"(?P<start>[0-9]{1,19})-(?P<end>[0-9]{1,19})")


def request_body(request) -> tuple[Readable, int | None]:
    """A readable stream and its length, None when the body is chunked (length unknown).

    Django reports an empty body for `Transfer-Encoding: chunked` requests (no Content-Length),
    so read the server's input directly when it says the stream is terminated (gunicorn does).
    """
    raw_length = request.META.get("CONTENT_LENGTH") or ""
    if raw_length:
        try:
            length = int(raw_length)
        except ValueError:
            raise errors.SizeInvalid("invalid Content-Length") from None
        if length < 0:
            raise errors.SizeInvalid("invalid Content-Length")
        return request, length
    if request.META.get("wsgi.input_terminated"):
        return request.META["wsgi.input"], None
    return request, 0


def parse_content_range(value: str) -> tuple[int, int] | None:
    """`Content-Range: <start>-<end>` as sent by registry clients (no `bytes ` unit)."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("bytes "):
        value = value[6:].split("/", 1)[0]
    match = _CONTENT_RANGE.fullmatch(value)
    if match is None or int(match["end"]) < int(match["start"]):
        raise errors.RangeInvalid("invalid Content-Range", detail={"Content-Range": value[:64]})
    return int(match["start"]), int(match["end"])
