import pytest
from django.contrib.auth import get_user_model

from tests.support.factories import RepositoryFactory


@pytest.fixture
def source(db, blob_storage):
    return RepositoryFactory(key="docker-local")


@pytest.fixture
def target(db):
    return RepositoryFactory(key="docker-target")


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_superuser(username="release", password="pw-release-1")


@pytest.fixture
def plain_user(db):
    return get_user_model().objects.create_user(username="dev", password="pw-dev-1")


@pytest.fixture
def grant():
    """Give a user permissions on a repository (accounts.models.RepositoryGrant rows)."""
    from accounts.models import RepositoryGrant

    def give(user, repository, *permissions):
        for permission in permissions:
            RepositoryGrant.objects.get_or_create(user=user, repository=repository, permission=permission)

    return give
