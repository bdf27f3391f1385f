import pytest

from repos.tests.dashboard.fixtures import admin_client  # noqa: F401
from tests.support.factories import RepositoryFactory


@pytest.fixture
def stages(db, blob_storage):
    """Two stages: docker-local (dev, order 10) then docker-target (prod, order 20)."""
    return (
        RepositoryFactory(key="docker-local", stage="dev", stage_order=10),
        RepositoryFactory(key="docker-target", stage="prod", stage_order=20),
    )


@pytest.fixture
def push_index(django_capture_on_commit_callbacks):
    """Push through /v2/; pushes commit inside the test's transaction, so their after-commit work
    (checks, webhook queueing) runs as a real commit would run it."""
    from insights.tests.content import push_index as push_through_v2

    def push(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return push_through_v2(*args, **kwargs)

    return push
