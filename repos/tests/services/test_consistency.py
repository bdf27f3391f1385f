"""The consistency check finds what a crash or a tampered store would leave behind."""

import pytest

from repos.consistency import consistency_check
from repos.models import Blob, RepositoryBlob
from repos.services.uploads import blob_push_monolithic
from repos.storage import get_blob_store
from tests.support.content import digest_of
from tests.support.factories import RepositoryFactory


@pytest.fixture
def stored_blob(db, blob_storage):
    import io

    data = b"bytes that matter" * 100
    repository = RepositoryFactory(key="docker-local")
    blob_push_monolithic(
        repository=repository, image_name="app", digest=digest_of(data), stream=io.BytesIO(data), length=len(data)
    )
    return Blob.objects.get(digest=digest_of(data))


def test_a_healthy_store_is_consistent(stored_blob):
    report = consistency_check(rehash=True)
    assert report.blobs_checked == 1 and report.problems == 0


def test_missing_bytes_are_reported(stored_blob):
    get_blob_store().delete(stored_blob.digest)
    assert consistency_check().missing_blob_bytes == [stored_blob.digest]


def test_corrupt_bytes_are_reported_on_rehash(stored_blob):
    path = get_blob_store().local_path(stored_blob.digest)
    with open(path, "r+b") as handle:
        handle.write(b"X")
    assert consistency_check(rehash=False).problems == 0
    assert consistency_check(rehash=True).corrupt_blobs == [stored_blob.digest]
    assert RepositoryBlob.objects.count() == 1
