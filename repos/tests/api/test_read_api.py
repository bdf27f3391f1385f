"""The read API: repositories, images, tags, manifests, coverage; filters, pagination, visibility, schema."""

import pytest

from repos.models import Repository
from tests.support.factories import RepositoryFactory

pytestmark = pytest.mark.django_db


def get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:1000]
    return response.json()


def test_repositories_with_counts_and_filters(admin_client, pushed):
    RepositoryFactory(key="docker-prod", stage="prod", stage_order=30)
    body = get(admin_client, "/api/repositories/")
    assert [r["key"] for r in body["results"]] == ["docker-local", "docker-prod"]
    local = body["results"][0]
    assert local["image_count"] == 1 and local["tag_count"] == 3 and local["storage_bytes"] > 0
    assert [r["key"] for r in get(admin_client, "/api/repositories/", stage="prod")["results"]] == ["docker-prod"]
    assert get(admin_client, "/api/repositories/docker-local/")["stage"] == "dev"


def test_images_with_platforms_of_current_tag(admin_client, pushed):
    body = get(admin_client, "/api/images/", repository="docker-local")
    assert body["count"] == 1
    image = body["results"][0]
    assert image["client_name"] == "docker-local/team/app"
    assert image["platforms"] == ["linux/amd64", "linux/arm64"] and image["latest_tags"] == ["1.0"]
    assert get(admin_client, f"/api/images/{image['id']}/")["platforms"] == ["linux/amd64", "linux/arm64"]
    assert get(admin_client, "/api/images/", name="nope")["count"] == 0


def test_tags_with_platforms_and_derived(admin_client, pushed):
    top = get(admin_client, "/api/tags/", derived="false")["results"]
    assert [t["name"] for t in top] == ["1.0"]
    assert top[0]["is_index"] and top[0]["digest"] == pushed.content.index_digest
    assert {p["platform"] for p in top[0]["platforms"]} == {"linux/amd64", "linux/arm64"}
    assert sorted(top[0]["derived_tags"]) == ["1.0-linux-amd64", "1.0-linux-arm64"]
    derived = get(admin_client, "/api/tags/", derived="true")["results"]
    assert {t["derived_from"] for t in derived} == {"1.0"}
    by_digest = get(admin_client, "/api/tags/", digest=pushed.content.index_digest[:15])
    assert [t["name"] for t in by_digest["results"]] == ["1.0"]


def test_manifest_with_children_and_layers(admin_client, pushed):
    index = get(admin_client, f"/api/manifests/{pushed.content.index_digest}/")
    assert index["is_index"]
    children = {c["platform"]: c for c in index["children"]}
    assert set(children) == {"linux/amd64", "linux/arm64", "unknown/unknown"}
    assert children["unknown/unknown"]["attestation"] and not children["linux/amd64"]["attestation"]
    assert index["locations"] == [
        {"repository": "docker-local", "image": "team/app", "pushed_at": index["locations"][0]["pushed_at"]}
    ]
    amd64 = get(admin_client, f"/api/manifests/{children['linux/amd64']['digest']}/")
    assert amd64["platform"] == "linux/amd64"
    assert [layer["digest"] for layer in amd64["layers"]] == [
        pushed.content.base_layer_digest,
        pushed.content.app_layer_digests["linux/amd64"],
    ]
    assert amd64["layers"][1]["created_by"].startswith("COPY hello-amd64")
    assert amd64["config"]["cmd"] == ["/app/hello"]
    arm = get(admin_client, "/api/manifests/", platform="linux/arm64")
    assert [m["digest"] for m in arm["results"]] == [pushed.content.children["linux/arm64"][1]]
    referrers = get(admin_client, "/api/manifests/", subject=pushed.content.index_digest)["results"]
    assert [m["artifact_type"] for m in referrers] == ["application/vnd.dev.cosign.artifact.sig.v1+json"]
    assert get(admin_client, "/api/manifests/", repository="elsewhere")["count"] == 0


def test_coverage_filters(admin_client, pushed):
    Repository.objects.filter(key="docker-local").update(required_platforms=["linux/amd64", "linux/s390x"])
    body = get(admin_client, "/api/coverage/")
    assert body["platforms"] == ["linux/amd64", "linux/arm64", "linux/s390x"]
    assert body["results"][0]["platforms"] == {
        "linux/amd64": "present",
        "linux/arm64": "present",
        "linux/s390x": "missing_required",
    }
    assert body["results"][0]["missing_required"] == ["linux/s390x"]
    assert body["counts"]["linux/s390x"] == {"present": 0, "missing": 0, "missing_required": 1}
    assert body["images_in_scope"] == 1 and body["images_complete"] == 0
    only_arm = get(admin_client, "/api/coverage/", platform="linux/arm64")
    assert only_arm["platforms"] == ["linux/arm64"]
    assert get(admin_client, "/api/coverage/", platform="linux/arm64", missing_required="true")["count"] == 0
    assert get(admin_client, "/api/coverage/", missing_required="true")["count"] == 1
    assert get(admin_client, "/api/coverage/", repository="docker-local,other")["count"] == 1
    assert get(admin_client, "/api/coverage/", repository="other")["count"] == 0
    assert admin_client.get("/api/coverage/", {"missing_required": "perhaps"}).status_code == 400


def test_pagination(admin_client, pushed):
    body = get(admin_client, "/api/tags/", page_size=2)
    assert body["count"] == 3 and len(body["results"]) == 2 and "page=2" in body["next"]
    assert len(get(admin_client, "/api/tags/", page_size=2, page=2)["results"]) == 1


def test_anonymous_sees_public_only(client, pushed):
    RepositoryFactory(key="open-source", is_public=True)
    assert [r["key"] for r in get(client, "/api/repositories/")["results"]] == ["open-source"]
    for url in ("/api/images/", "/api/tags/", "/api/manifests/", "/api/coverage/"):
        assert get(client, url)["count"] == 0, url
    assert client.get(f"/api/manifests/{pushed.content.index_digest}/").status_code == 404
    assert client.get("/api/repositories/docker-local/").status_code == 404
    Repository.objects.filter(key="docker-local").update(is_public=True)
    assert get(client, "/api/tags/")["count"] == 3


def test_content_api_is_read_only(admin_client, pushed):
    # Repositories are managed through the API (repos/tests/repositories); content is not.
    assert admin_client.delete(f"/api/manifests/{pushed.content.index_digest}/").status_code in (403, 405)


def test_openapi_schema_and_offline_docs(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/repositories/", "/api/images/", "/api/tags/", "/api/manifests/{digest}/", "/api/coverage/"):
        assert path in paths, path
    names = {p["name"] for p in paths["/api/coverage/"]["get"]["parameters"]}
    assert {"repository", "platform", "missing_required", "page"} <= names
    docs = client.get("/api/docs/")
    page = docs.content.decode()
    assert docs.status_code == 200 and "swagger-ui" in page
    assert "cdn" not in page.lower() and "https://" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
