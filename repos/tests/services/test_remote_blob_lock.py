"""The single-fetch lock of remote blobs: a request that takes the lock just after the last fetch
stored the blob (it looked at the store just before) serves the stored blob and fetches nothing."""

import pytest

from repos.models import Blob, RemoteBlobFetch, Repository
from repos.services import blob_guard, remote_blobs
from repos.services.uploads import blob_link
from tests.support.factories import RepositoryFactory

DIGEST = "sha256:" + "ab" * 32


class _NoFetchClient:
    """An upstream that must not be asked: asking it is the double fetch this lock prevents."""

    def blob(self, name, digest):
        raise AssertionError(f"fetched {digest} from the upstream again")


@pytest.mark.django_db
def test_lock_taken_after_the_last_fetch_finished_serves_the_stored_blob(blob_storage):
    repository = RepositoryFactory(key="hub", kind=Repository.Kind.REMOTE)
    # What the last fetch left: the blob stored and linked, its lock gone.
    blob = blob_guard.blob_reserve(digest=DIGEST, size=3)
    blob_link(repository=repository, blob=blob)
    request = remote_blobs.FetchRequest(
        repository=repository, client=_NoFetchClient(), upstream_name="team/big", digest=DIGEST, declared_size=None
    )

    found = remote_blobs._lead(request)

    assert isinstance(found, Blob) and found.digest == DIGEST
    assert not RemoteBlobFetch.objects.filter(digest=DIGEST).exists()  # the lock is given back
