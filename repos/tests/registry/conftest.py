import pytest

from repos.tests.factories import RepositoryFactory
from repos.tests.registry.client import RegistryClient


@pytest.fixture
def repository(db, blob_storage):
    return RepositoryFactory(key="docker-local")


@pytest.fixture
def registry(client, repository):
    return RegistryClient(client)
