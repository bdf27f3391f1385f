"""The dashboard's aggregates follow every write: coverage rows and repository counters equal a recount."""

import pytest

from repos.models import Image, ImageCoverage, Repository, RepositoryStats, Tag
from repos.selectors.coverage import current_coverage
from repos.services.aggregates import image_coverage_rebuild, repository_stats_refresh
from repos.services.manifests import manifest_delete, tag_delete
from repos.tests.dashboard.fixtures import seed

pytestmark = pytest.mark.django_db


def kept_coverage() -> dict:
    return {row.image_id: (row.tag, row.digest, row.platforms) for row in ImageCoverage.objects.all()}


def recounted_coverage() -> dict:
    return {
        row.image_id: (row.tag or "", row.digest or "", "," + "".join(f"{p}," for p in sorted(row.present)))
        for row in current_coverage(Image.objects.all())
    }


def assert_counters_exact() -> None:
    ids = list(Repository.objects.values_list("pk", flat=True))
    repository_stats_refresh(repository_ids=ids)
    kept = {s.pk: (s.image_count, s.tag_count, s.storage) for s in RepositoryStats.objects.all()}
    RepositoryStats.objects.update(dirty=True)
    repository_stats_refresh(repository_ids=ids)
    assert kept == {s.pk: (s.image_count, s.tag_count, s.storage) for s in RepositoryStats.objects.all()}


def test_push_seed_tag_delete_and_manifest_delete_keep_aggregates_exact(pushed):
    seed(5)
    assert kept_coverage() == recounted_coverage()
    row = ImageCoverage.objects.get(image__name="team/app")
    assert (row.tag, row.platforms) == ("1.0", ",linux/amd64,linux/arm64,")
    assert_counters_exact()
    stats = RepositoryStats.objects.get(repository=pushed.repository)
    assert (stats.image_count, stats.tag_count) == (1, 3)

    image = Image.objects.get(repository=pushed.repository, name="team/app")
    tag_delete(image=image, name="1.0")
    assert kept_coverage() == recounted_coverage()
    assert ImageCoverage.objects.get(image=image).platforms == ","
    assert RepositoryStats.objects.get(repository=pushed.repository).dirty
    assert_counters_exact()

    seeded = Image.objects.filter(repository__key="seed-dev").first()
    latest = Tag.objects.get(image=seeded, name="latest")
    manifest_delete(image=seeded, digest=latest.manifest.digest)
    assert kept_coverage() == recounted_coverage()
    assert_counters_exact()


def test_deleting_a_repository_takes_its_aggregates_along(pushed):
    seed(3)
    Repository.objects.get(key="seed-dev").delete()
    assert kept_coverage() == recounted_coverage()
    assert not RepositoryStats.objects.filter(repository__key="seed-dev").exists()


def test_rebuild_repairs_drifted_rows(pushed):
    ImageCoverage.objects.update(platforms=",", tag="")
    image_coverage_rebuild()
    assert kept_coverage() == recounted_coverage()


def test_coverage_page_reads_the_kept_rows(admin_client, pushed):
    ImageCoverage.objects.filter(image__name="team/app").update(platforms=",linux/s390x,")
    page = admin_client.get("/coverage/").content.decode()
    assert 'data-platform="linux/s390x"' in page  # what the aggregate says is what the page shows
