"""Dashboard pages and the REST API. Image names hold slashes; `/-/` separates them from what follows."""

from django.urls import include, path, re_path

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

KEY = r"(?P<key>[a-z0-9]+(?:[._-][a-z0-9]+)*)"
# A path component never is a lone "-", so "/-/" cannot be part of a name.
NAME = r"(?P<name>[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*)"

urlpatterns = [
    path("", home.home, name="home"),
    path("coverage/", coverage.coverage, name="coverage"),
    path("coverage.csv", coverage.coverage_csv, name="coverage-csv"),
    path("search/", search.search, name="search"),
    path("repositories/", repositories.repository_list, name="repositories"),
    path("repositories/-/new/", repositories.repository_create, name="repository-create"),
    re_path(rf"^stages/{NAME}/$", stages.image_stages, name="image-stages"),
    path("operations/", operations.operations, name="operations"),
    path("operations/gc/", operations.gc_start, name="gc-start"),
    re_path(rf"^repositories/{KEY}/$", repositories.repository_detail, name="repository"),
    re_path(rf"^repositories/{KEY}/-/storage/$", repository_storage.repository_storage_page, name="repository-storage"),
    re_path(rf"^repositories/{KEY}/-/retention/$", repository_storage.retention_run, name="retention-run"),
    re_path(rf"^repositories/{KEY}/-/settings/$", repositories.repository_settings, name="repository-settings"),
    re_path(rf"^repositories/{KEY}/-/delete/$", repositories.repository_delete, name="repository-delete"),
    re_path(
        rf"^repositories/{KEY}/{NAME}/-/tags/(?P<tag>[A-Za-z0-9_][A-Za-z0-9._-]{{0,127}})/$",
        manifests.tag_detail,
        name="tag",
    ),
    re_path(
        rf"^repositories/{KEY}/{NAME}/-/manifests/(?P<digest>[a-z0-9]+:[a-f0-9]+)/$",
        manifests.manifest_detail,
        name="manifest",
    ),
    re_path(rf"^repositories/{KEY}/{NAME}/$", images.image_detail, name="image"),
    path("api/", include("repos.api.urls")),
]
