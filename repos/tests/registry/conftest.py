import pytest
from django.test import Client

from repos.tests.registry.client import RegistryClient
from tests.support.factories import RepositoryFactory


@pytest.fixture
def client(db, django_user_model):
    """These tests exercise the protocol, not permissions: the client is a signed-in site admin.
    (Who may do what through /v2/ is tested in accounts/tests/.)"""
    admin = django_user_model.objects.create_superuser(username="registry-admin", email="", password=None)
    signed_in = Client()
    signed_in.force_login(admin)
    return signed_in


@pytest.fixture
def repository(db, blob_storage):
    return RepositoryFactory(key="docker-local")


@pytest.fixture
def registry(client, repository):
    return RegistryClient(client)


@pytest.fixture
def http(registry):
    """The raw Django test client behind the registry fixture (signed in as it is)."""
    return registry.client
