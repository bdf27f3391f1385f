"""GET/HEAD/PUT/DELETE /v2/<name>/manifests/<reference>."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse

from repos import errors
from repos.models import Manifest
from repos.oci import names
from repos.registry import auth
from repos.registry.streams import request_body
from repos.registry.views.base import RegistryView
from repos.selectors import registry as selectors
from repos.services import manifests as manifest_services
from repos.services import resolution


def _manifest_headers(response: HttpResponse, manifest: Manifest) -> HttpResponse:
    response.headers["Content-Type"] = manifest.media_type
    response.headers["Content-Length"] = str(manifest.size)
    response.headers["Docker-Content-Digest"] = manifest.digest
    response.headers["ETag"] = f'"{manifest.digest}"'
    return response


class ManifestView(RegistryView):
    def _lookup(self, request, name: str, reference: str) -> Manifest:
        found = selectors.manifest_find_for_pull(name=name, reference=reference)
        if found is not None:
            repository, manifest = found
            auth.require(request, repository, auth.PULL)
        else:  # the long way: remotes and virtuals, and the error that says what is missing
            repository, image_name = selectors.repository_resolve(name=name)
            auth.require(request, repository, auth.PULL)
            manifest = resolution.manifest_for_pull(
                repository=repository, user=request.user, image_name=image_name, reference=reference
            )
        return selectors.manifest_negotiate(manifest=manifest, accept=request.headers.get("Accept", ""))

    def head(self, request, name: str, reference: str):
        manifest = self._lookup(request, name, reference)
        return _manifest_headers(HttpResponse(status=200), manifest)

    def get(self, request, name: str, reference: str):
        manifest = self._lookup(request, name, reference)
        return _manifest_headers(HttpResponse(bytes(manifest.raw), status=200), manifest)

    def put(self, request, name: str, reference: str):
        addressed, image_name = selectors.repository_resolve(name=name)
        auth.require(request, addressed, auth.PULL, auth.PUSH)
        raw = _read_manifest_body(request)
        repository = auth.push_target(request, addressed)
        if repository.pk != addressed.pk:
            resolution.deployment_link_blobs(
                virtual=addressed,
                target=repository,
                user=request.user,
                raw=raw,
                content_type=request.headers.get("Content-Type", ""),
            )
        manifest = manifest_services.manifest_put(
            repository=repository,
            image_name=image_name,
            reference=reference,
            raw=raw,
            content_type=request.headers.get("Content-Type", ""),
            user=request.user if request.user.is_authenticated else None,
        )
        response = HttpResponse(status=201)
        response.headers["Location"] = f"/v2/{name}/manifests/{manifest.digest}"
        response.headers["Docker-Content-Digest"] = manifest.digest
        response.headers["Content-Length"] = "0"
        if manifest.subject_digest:
            response.headers["OCI-Subject"] = manifest.subject_digest
        return response

    def delete(self, request, name: str, reference: str):
        repository, image_name = selectors.repository_resolve(name=name)
        auth.require(request, repository, auth.DELETE)
        image = selectors.image_get(repository=repository, name=image_name)
        if names.is_digest_reference(reference):
            selectors.manifest_get(image=image, reference=reference)
            manifest_services.manifest_delete(image=image, digest=reference)
        else:
            manifest_services.tag_delete(image=image, name=reference, user=request.user)
        return HttpResponse(status=202)


def _read_manifest_body(request) -> bytes:
    """Read at most the size limit (+1 to detect excess): an oversized body never fills memory."""
    limit = settings.REGISTRY_MAX_MANIFEST_BYTES
    stream, length = request_body(request)
    if length is not None and length > limit:
        raise errors.ManifestTooLarge(detail={"limit": limit})
    raw = stream.read(limit + 1) if length is None else stream.read(length)
    if len(raw) > limit:
        raise errors.ManifestTooLarge(detail={"limit": limit})
    return raw
