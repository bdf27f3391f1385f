"""Dashboard pages and the REST API. Image names hold slashes; `/-/` separates them from what follows."""

from django.urls import include, path, register_converter

from repos.url_converters import CONVERTERS
from repos.views import (
    coverage,
    home,
    images,
    manifests,
    operations,
    repositories,
    repository_storage,
    search,
    stages,
)

for _name, _converter in CONVERTERS.items():
    register_converter(_converter, _name)

KEY = "<repo_key:key>"
NAME = "<image_name:name>"

urlpatterns = [
    path("", home.home, name="home"),
    path("coverage/", coverage.coverage, name="coverage"),
    path("coverage.csv", coverage.coverage_csv, name="coverage-csv"),
    path("search/", search.search, name="search"),
    path("repositories/", repositories.repository_list, name="repositories"),
    path("repositories/-/new/", repositories.repository_create, name="repository-create"),
    path(f"stages/{NAME}/", stages.image_stages, name="image-stages"),
    path("operations/", operations.operations, name="operations"),
    path("operations/gc/", operations.gc_start, name="gc-start"),
    path(f"repositories/{KEY}/", repositories.repository_detail, name="repository"),
    path(f"repositories/{KEY}/-/storage/", repository_storage.repository_storage_page, name="repository-storage"),
    path(f"repositories/{KEY}/-/retention/", repository_storage.retention_run, name="retention-run"),
    path(f"repositories/{KEY}/-/settings/", repositories.repository_settings, name="repository-settings"),
    path(f"repositories/{KEY}/-/delete/", repositories.repository_delete, name="repository-delete"),
    path(
        f"repositories/{KEY}/{NAME}/-/tags/<tag:tag>/",
        manifests.tag_detail,
        name="tag",
    ),
    path(
        f"repositories/{KEY}/{NAME}/-/manifests/<digest:digest>/",
        manifests.manifest_detail,
        name="manifest",
    ),
    path(f"repositories/{KEY}/{NAME}/", images.image_detail, name="image"),
    path("api/", include("repos.api.urls")),
]
