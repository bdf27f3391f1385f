"""Virtual repositories through /v2/ in process: members in order, pushes to the default deployment,
and never more than the caller may read of each member."""

from __future__ import annotations

import pytest
from django.test import Client

from repos.models import Repository, Tag, VirtualMember
from repos.oci import media_types
from repos.tests.registry.client import RegistryClient, error_code
from tests.support.content import image_config, image_manifest
from tests.support.factories import RepositoryFactory

pytestmark = pytest.mark.django_db

DOCKER_MANIFEST = media_types.DOCKER_MANIFEST_V2


def push_image(registry: RegistryClient, name: str, tag: str, label: str) -> str:
    config = image_config(history=[{"created_by": label}])
    layer = label.encode() * 100
    registry.push_blob(name, config)
    registry.push_blob(name, layer)
    raw = image_manifest(config=config, layers=[layer])
    response = registry.push_manifest(name, tag, raw, DOCKER_MANIFEST)
    assert response.status_code == 201, response.content
    return response["Docker-Content-Digest"]


@pytest.fixture
def setup(blob_storage, django_user_model):
    admin = django_user_model.objects.create_superuser(username="v-admin", email="", password=None)
    signed_in = Client()
    signed_in.force_login(admin)
    registry = RegistryClient(signed_in)
    private = RepositoryFactory(key="private-local")
    public = RepositoryFactory(key="public-local", is_public=True)
    virtual = RepositoryFactory(key="all", kind="virtual", is_public=True, default_deployment=private)
    for position, member in enumerate((private, public)):
        VirtualMember.objects.create(virtual=virtual, member=member, position=position)
    digests = {
        "private": push_image(registry, "private-local/app", "1.0", "private"),
        "public": push_image(registry, "public-local/app", "1.0", "public"),
        "public-only": push_image(registry, "public-local/app", "2.0", "public-2"),
    }
    return registry, digests


def test_first_member_wins_and_tags_merge(setup):
    registry, digests = setup
    assert registry.get_manifest("all/app", "1.0")["Docker-Content-Digest"] == digests["private"]
    assert registry.get_manifest("all/app", "2.0")["Docker-Content-Digest"] == digests["public-only"]
    assert registry.tags("all/app") == ["1.0", "2.0"]
    missing = registry.get_manifest("all/app", "3.0")
    assert missing.status_code == 404 and error_code(missing) == "MANIFEST_UNKNOWN"


def test_a_public_virtual_shows_anonymous_callers_only_public_members(setup):
    _, digests = setup
    anonymous = RegistryClient(Client())
    assert anonymous.get_manifest("all/app", "1.0")["Docker-Content-Digest"] == digests["public"]
    assert anonymous.tags("all/app") == ["1.0", "2.0"]
    assert anonymous.get_manifest("private-local/app", "1.0").status_code in (401, 404)


def test_push_lands_in_the_default_deployment(setup):
    registry, _ = setup
    digest = push_image(registry, "all/pushed", "1.0", "pushed")
    tag = Tag.objects.select_related("image__repository", "manifest").get(image__name="pushed", name="1.0")
    assert tag.image.repository.key == "private-local" and tag.manifest.digest == digest
    Repository.objects.filter(key="all").update(default_deployment=None)
    refused = registry.client.post("/v2/all/other/blobs/uploads/")
    assert refused.status_code == 403 and "no default deployment" in refused.json()["errors"][0]["message"]
