"""Routes of the distribution API. A name holds slashes, so the fixed suffixes anchor each route."""

from django.urls import re_path

from repos.registry.views.blobs import BlobView
from repos.registry.views.listing import BaseView, CatalogView, ReferrersView, TagListView
from repos.registry.views.manifests import ManifestView
from repos.registry.views.uploads import UploadStartView, UploadView

NAME = r"(?P<name>[^?#]+?)"

urlpatterns = [
    re_path(r"^v2/?$", BaseView.as_view(), name="registry-base"),
    re_path(r"^v2/_catalog$", CatalogView.as_view(), name="registry-catalog"),
    re_path(rf"^v2/{NAME}/tags/list$", TagListView.as_view(), name="registry-tags"),
    re_path(rf"^v2/{NAME}/manifests/(?P<reference>[^/]+)$", ManifestView.as_view(), name="registry-manifest"),
    re_path(rf"^v2/{NAME}/blobs/uploads/?$", UploadStartView.as_view(), name="registry-upload-start"),
    re_path(rf"^v2/{NAME}/blobs/uploads/(?P<upload_id>[^/]+)$", UploadView.as_view(), name="registry-upload"),
    re_path(rf"^v2/{NAME}/blobs/(?P<digest>[^/]+)$", BlobView.as_view(), name="registry-blob"),
    re_path(rf"^v2/{NAME}/referrers/(?P<digest>[^/]+)$", ReferrersView.as_view(), name="registry-referrers"),
]

# Anything else under /v2/ answers in the spec's error format, not as an HTML page.
from repos.registry.views.base import NotFoundView  # noqa: E402

urlpatterns.append(re_path(r"^v2/.*$", NotFoundView.as_view(), name="registry-not-found"))
