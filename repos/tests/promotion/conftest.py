import pytest

from tests.support.factories import GrantFactory, RepositoryFactory, UserFactory


@pytest.fixture
def source(db, blob_storage):
    return RepositoryFactory(key="docker-local")


@pytest.fixture
def target(db):
    return RepositoryFactory(key="docker-target")


@pytest.fixture
def admin(db):
    return UserFactory.create(username="release", password="pw-release-1", is_staff=True, is_superuser=True)


@pytest.fixture
def plain_user(db):
    return UserFactory.create(username="dev", password="pw-dev-1")


@pytest.fixture
def grant():
    """Give a user permissions on a repository (accounts.models.RepositoryGrant rows)."""

    def give(user, repository, *permissions):
        for permission in permissions:
            GrantFactory.create(user=user, repository=repository, permission=permission)

    return give
