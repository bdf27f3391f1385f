"""Blob uploads: POST starts (or mounts, or pushes monolithically), PATCH appends, PUT completes."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone

from config import metrics
from repos import errors
from repos.registry import auth
from repos.registry.streams import parse_content_range, request_body
from repos.registry.views.base import RegistryView
from repos.selectors import registry as selectors
from repos.services import uploads as upload_services


def _blob_created(name: str, digest: str) -> HttpResponse:
    response = HttpResponse(status=201)
    response.headers["Location"] = f"/v2/{name}/blobs/{digest}"
    response.headers["Docker-Content-Digest"] = digest
    response.headers["Content-Length"] = "0"
    return response


def _upload_progress(session, offset: int, *, status: int, name: str) -> HttpResponse:
    response = HttpResponse(status=status)
    # The name the client used: a push into a virtual keeps talking to the virtual (its token's scope).
    response.headers["Location"] = f"/v2/{name}/blobs/uploads/{session.id}"
    response.headers["Range"] = f"0-{max(offset - 1, 0)}"
    response.headers["Docker-Upload-UUID"] = str(session.id)
    response.headers["Content-Length"] = "0"
    return response


def _chunk_start(request, length: int | None) -> int | None:
    """Where the client says the chunk goes (Content-Range), checked against Content-Length."""
    content_range = parse_content_range(request.headers.get("Content-Range", ""))
    if content_range is None:
        return None
    start, end = content_range
    if length is not None and length != end - start + 1:
        raise errors.SizeInvalid(
            "Content-Range does not match Content-Length", detail={"Content-Range": f"{start}-{end}", "length": length}
        )
    return start


class UploadStartView(RegistryView):
    def post(self, request, name: str):
        addressed, image_name = selectors.repository_resolve(name=name)
        auth.require(request, addressed, auth.PULL, auth.PUSH)
        repository = auth.push_target(request, addressed)
        mount = request.GET.get("mount", "")
        if mount:
            blob = self._try_mount(request, repository, mount, request.GET.get("from", ""))
            if blob is not None:
                return _blob_created(name, blob.digest)
        digest = request.GET.get("digest", "")
        if digest:
            stream, length = request_body(request)
            stream = metrics.CountingStream(stream, request)
            started = timezone.now()
            blob = upload_services.blob_push_monolithic(
                repository=repository, image_name=image_name, digest=digest, stream=stream, length=length
            )
            metrics.upload_finished(started)
            return _blob_created(name, blob.digest)
        session = upload_services.upload_start(repository=repository, image_name=image_name)
        return _upload_progress(session, 0, status=202, name=name)

    @staticmethod
    def _try_mount(request, repository, digest: str, source_name: str):
        """Mount when the caller may read a repository holding the blob (the named one, or without
        `from` any); otherwise None, and a normal upload follows."""
        if not source_name:
            source = selectors.blob_find_readable(repositories=auth.readable_repositories(request), digest=digest)
            if source is None:
                return None
            return upload_services.blob_mount(repository=repository, digest=digest, source=source)
        try:
            source, _ = selectors.repository_resolve(name=source_name)
            auth.require(request, source, auth.PULL)
            selectors.blob_get_in_repository(repository=source, digest=digest)
        except errors.RegistryError:
            return None
        return upload_services.blob_mount(repository=repository, digest=digest, source=source)


class UploadView(RegistryView):
    def _session(self, request, name: str, upload_id: str):
        addressed, image_name = selectors.repository_resolve(name=name)
        auth.require(request, addressed, auth.PULL, auth.PUSH)
        repository = auth.push_target(request, addressed)
        return selectors.upload_get(repository=repository, image_name=image_name, upload_id=upload_id)

    def get(self, request, name: str, upload_id: str):
        session = self._session(request, name, upload_id)
        return _upload_progress(session, upload_services.upload_offset(session=session), status=204, name=name)

    def patch(self, request, name: str, upload_id: str):
        session = self._session(request, name, upload_id)
        stream, length = request_body(request)
        stream = metrics.CountingStream(stream, request)
        offset = upload_services.upload_append(
            session=session, stream=stream, length=length, range_start=_chunk_start(request, length)
        )
        return _upload_progress(session, offset, status=202, name=name)

    def put(self, request, name: str, upload_id: str):
        session = self._session(request, name, upload_id)
        digest = request.GET.get("digest", "")
        if not digest:
            raise errors.DigestInvalid("the digest query parameter is required")
        stream, length = request_body(request)
        stream = metrics.CountingStream(stream, request)
        blob = upload_services.upload_complete(
            session=session, digest=digest, stream=stream, length=length, range_start=_chunk_start(request, length)
        )
        metrics.upload_finished(session.created)
        return _blob_created(name, blob.digest)

    def delete(self, request, name: str, upload_id: str):
        session = self._session(request, name, upload_id)
        upload_services.upload_cancel(session=session)
        return HttpResponse(status=204)
