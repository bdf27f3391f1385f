"""/v2/, /v2/_catalog, /v2/<name>/tags/list and /v2/<name>/referrers/<digest>."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse

from repos import errors
from repos.oci import digests, media_types
from repos.registry import auth
from repos.registry.views.base import RegistryView, json_response
from repos.selectors import registry as selectors
from repos.services import resolution


def page_size(request) -> int:
    cap = settings.REGISTRY_CATALOG_MAX_PAGE
    raw = request.GET.get("n", "")
    if not raw:
        return cap
    if not raw.isdigit():
        raise errors.ParameterInvalid("n must be a non-negative integer", detail={"n": raw[:50]})
    return min(int(raw), cap)


def _next_link(path: str, n: int, last: str) -> str:
    return f'<{path}?{urlencode({"n": n, "last": last})}>; rel="next"'


class BaseView(RegistryView):
    def get(self, request):
        auth.require_base(request)
        return json_response({})

    head = get


class CatalogView(RegistryView):
    def get(self, request):
        n = page_size(request)
        last = request.GET.get("last", "")
        names = selectors.catalog_page(repositories=auth.readable_repositories(request), limit=n, last=last)
        headers = {"Link": _next_link(request.path, n, names[-1])} if n and len(names) == n else {}
        return json_response({"repositories": names}, headers=headers)


class TagListView(RegistryView):
    def get(self, request, name: str):
        repository, image_name = selectors.repository_resolve(name=name)
        auth.require(request, repository, auth.PULL)
        n = page_size(request)
        tags = resolution.tag_names_page(
            repository=repository, user=request.user, image_name=image_name, limit=n, last=request.GET.get("last", "")
        )
        headers = {"Link": _next_link(request.path, n, tags[-1])} if n and len(tags) == n else {}
        return json_response({"name": name, "tags": tags}, headers=headers)


class ReferrersView(RegistryView):
    def get(self, request, name: str, digest: str):
        repository, image_name = selectors.repository_resolve(name=name)
        auth.require(request, repository, auth.PULL)
        if not digests.is_valid_digest(digest):
            raise errors.DigestInvalid("invalid digest", detail={"digest": digest})
        artifact_type = request.GET.get("artifactType", "")
        image = selectors.image_find(repository=repository, name=image_name)
        descriptors = selectors.referrers_of(image=image, digest=digest, artifact_type=artifact_type)
        body = {"schemaVersion": 2, "mediaType": media_types.OCI_INDEX, "manifests": descriptors}
        response = HttpResponse(json.dumps(body), content_type=media_types.OCI_INDEX)
        if artifact_type:
            response.headers["OCI-Filters-Applied"] = "artifactType"
        return response
