"""GET/HEAD/DELETE /v2/<name>/blobs/<digest>."""

from __future__ import annotations

from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase

from repos import errors
from repos.registry import auth
from repos.registry.views.base import RegistryView
from repos.selectors import registry as selectors
from repos.services import blob_guard, resolution
from repos.services import blobs as blob_services
from repos.services.remote_blobs import BlobStream
from repos.storage import BlobNotFound, get_blob_store

STREAM_CHUNK = 1024 * 1024


class BlobView(RegistryView):
    def head(self, request, name: str, digest: str):
        repository, image_name = selectors.repository_resolve(name=name)
        auth.require(request, repository, auth.PULL)
        digest, size = resolution.blob_size_for_pull(
            repository=repository, user=request.user, image_name=image_name, digest=digest
        )
        # Clients skip uploading what HEAD finds and reference it next: keep GC off it meanwhile.
        blob_guard.blobs_touch(digests=[digest])
        response = HttpResponse(status=200, content_type="application/octet-stream")
        response.headers["Content-Length"] = str(size)
        return _described(response, digest)

    def get(self, request, name: str, digest: str):
        repository, image_name = selectors.repository_resolve(name=name)
        auth.require(request, repository, auth.PULL)
        blob = resolution.blob_for_pull(repository=repository, user=request.user, image_name=image_name, digest=digest)
        if isinstance(blob, BlobStream):
            return _upstream_stream_response(blob)
        if blob.size is None:  # a foreign layer's placeholder: its bytes never came
            raise errors.BlobUnknown(detail={"digest": blob.digest})
        store = get_blob_store()
        byte_range = _parse_range(request.headers.get("Range", ""), blob.size)
        url = store.presigned_url(blob.digest)
        if url and byte_range is None:
            request._registry_bytes_out = blob.size  # the client fetches them from storage
            redirect = HttpResponseRedirect(url, status=307)
            redirect.status_code = 307
            redirect.headers["Docker-Content-Digest"] = blob.digest
            return redirect
        try:
            handle = store.open(blob.digest)
        except BlobNotFound:
            raise errors.BlobUnknown(detail={"digest": blob.digest}) from None
        if byte_range is None:
            # Served with sendfile by gunicorn (wsgi.file_wrapper), never read through Python.
            response: HttpResponseBase = FileResponse(handle, content_type="application/octet-stream")
            response.headers["Content-Length"] = str(blob.size)
            response.headers.pop("Content-Disposition", None)  # HEAD has none either
        else:
            response = _range_response(handle, *byte_range, total=blob.size)
        return _described(response, blob.digest)

    def delete(self, request, name: str, digest: str):
        repository, _ = selectors.repository_resolve(name=name)
        auth.require(request, repository, auth.DELETE)
        blob = selectors.blob_get_in_repository(repository=repository, digest=digest)
        blob_services.blob_unlink(repository=repository, blob=blob)
        return HttpResponse(status=202)


def _described(response: HttpResponseBase, digest: str) -> HttpResponseBase:
    """What HEAD and GET of a stored blob say about it: its digest (the ETag too), and that ranges are served."""
    response.headers["Docker-Content-Digest"] = digest
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["ETag"] = f'"{digest}"'
    return response


def _upstream_stream_response(stream: BlobStream) -> StreamingHttpResponse:
    """A blob a remote is fetching right now, streamed as it arrives (a Range is answered in full)."""
    response = StreamingHttpResponse(stream.chunks, status=200, content_type="application/octet-stream")
    response.headers["Content-Length"] = str(stream.size)
    response.headers["Docker-Content-Digest"] = stream.digest
    response.headers["ETag"] = f'"{stream.digest}"'
    return response


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """A single `bytes=start-end` range, None for the whole blob; 416 when unsatisfiable."""
    if not value:
        return None
    unit, _, spec = value.partition("=")
    start_s, sep, end_s = spec.strip().partition("-")
    if unit.strip() != "bytes" or not sep or "," in spec:
        raise _unsatisfiable(size)
    try:
        if start_s:
            start = int(start_s)
            end = int(end_s) if end_s else size - 1
        else:  # suffix range: the last N bytes
            start, end = max(size - int(end_s), 0), size - 1
    except ValueError:
        raise _unsatisfiable(size) from None
    end = min(end, size - 1)
    if start > end or start >= size:
        raise _unsatisfiable(size)
    if start == 0 and end == size - 1:
        return None
    return start, end


def _unsatisfiable(size: int) -> errors.RegistryError:
    return errors.RangeInvalid("requested range not satisfiable", headers={"Content-Range": f"bytes */{size}"})


def _range_response(handle, start: int, end: int, *, total: int):
    length = end - start + 1
    handle.seek(start) if hasattr(handle, "seek") else _skip(handle, start)

    def chunks():
        remaining = length
        try:
            while remaining > 0:
                data = handle.read(min(STREAM_CHUNK, remaining))
                if not data:
                    break
                remaining -= len(data)
                yield data
        finally:
            handle.close()

    response = StreamingHttpResponse(chunks(), status=206, content_type="application/octet-stream")
    response.headers["Content-Length"] = str(length)
    response.headers["Content-Range"] = f"bytes {start}-{end}/{total}"
    return response


def _skip(handle, count: int) -> None:
    while count > 0:
        data = handle.read(min(STREAM_CHUNK, count))
        if not data:
            return
        count -= len(data)
