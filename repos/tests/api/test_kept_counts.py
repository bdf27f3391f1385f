"""Unfiltered image and tag lists take their count from the kept repository counters, not a COUNT per request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from repos.models import Image, ImageManifest, Manifest, Repository, Tag
from repos.tests.dashboard.fixtures import seed
from tests.support.factories import RepositoryFactory

pytestmark = pytest.mark.django_db


def count(client, url, **params) -> int:
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response.json()["count"]


def test_counts_match_the_rows_and_follow_writes(admin_client, pushed):
    seed(30)
    assert count(admin_client, "/api/images/") == Image.objects.count()
    assert count(admin_client, "/api/tags/") == Tag.objects.count()
    # A tag written after the counters were read flags them: the next list recounts.
    image = Image.objects.get(repository__key="seed-prod", name="team-02/service-0002")
    Tag.objects.create(image=image, name="extra", manifest=image.tags.first().manifest)
    assert count(admin_client, "/api/tags/") == Tag.objects.count()
    # Filtered lists count their own rows.
    prod_tags = Tag.objects.filter(image__repository__key="seed-prod").count()
    assert count(admin_client, "/api/tags/", repository="seed-prod") == prod_tags
    assert count(admin_client, "/api/tags/", name="extra") == 1
    assert count(admin_client, "/api/images/", name="service-000") == 10


def test_no_count_over_the_tags_once_the_counters_are_current(admin_client, pushed):
    seed(5)
    admin_client.get("/api/tags/")  # the first reader recounts the counters the seeding flagged
    with CaptureQueriesContext(connection) as queries:
        body = admin_client.get("/api/tags/", {"page_size": 2}).json()
    assert body["count"] == Tag.objects.count() and len(body["results"]) == 2
    counting = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and '"repos_tag"' in q["sql"]]
    assert counting == []


def test_only_readable_repositories_are_counted(client, pushed):
    RepositoryFactory(key="open-source", is_public=True)
    assert count(client, "/api/tags/") == 0 and count(client, "/api/images/") == 0
    Repository.objects.filter(key="docker-local").update(is_public=True)
    assert count(client, "/api/tags/") == 3 and count(client, "/api/images/") == 1


def test_manifest_list_counts_held_manifests_from_the_site_figure(admin_client, pushed):
    seed(10)
    held = Manifest.objects.filter(memberships__isnull=False).distinct().count()
    assert count(admin_client, "/api/manifests/") == held
    # A manifest no image holds any more (awaiting garbage collection) is no longer listed nor counted.
    ImageManifest.objects.filter(image__repository__key="seed-dev").order_by("id").first().delete()
    assert count(admin_client, "/api/manifests/") == held - 1
    with CaptureQueriesContext(connection) as queries:
        assert count(admin_client, "/api/manifests/", page_size=2) == held - 1
    counting = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "manifest" in q["sql"]]
    assert counting == []
    assert count(admin_client, "/api/manifests/", media_type="application/vnd.oci.image.index.v1+json") == (
        Manifest.objects.filter(memberships__isnull=False, media_type="application/vnd.oci.image.index.v1+json")
        .distinct()
        .count()
    )


def test_manifests_of_some_repositories_are_counted_on_the_list(client, pushed):
    RepositoryFactory(key="open-source", is_public=True)
    RepositoryFactory(key="closed")
    assert count(client, "/api/manifests/") == 0
    Repository.objects.filter(key="docker-local").update(is_public=True)
    held = Manifest.objects.filter(memberships__image__repository__key="docker-local").distinct().count()
    assert count(client, "/api/manifests/") == held
