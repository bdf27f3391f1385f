"""Fixtures for the build tests: repositories, people with and without write access, private dirs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from accounts.models import RepositoryGrant
from tests.support.factories import RepositoryFactory

PASSWORD = "correct horse battery staple"


@dataclass
class People:
    writer: object
    reader: object
    outsider: object
    admin: object


@pytest.fixture(autouse=True)
def build_dirs(settings, tmp_path):
    """Logs and stored contexts in a temporary directory; cheap password hashing; the file log store."""
    settings.BUILD_LOG_DIR = str(tmp_path / "build-logs")
    settings.BUILD_CONTEXT_DIR = str(tmp_path / "build-contexts")
    settings.BUILD_CONTEXT_MAX_BYTES = 16 * 1024 * 1024
    settings.BUILD_PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.REDIS_URL = ""
    cache.clear()
    yield tmp_path


@pytest.fixture
def repositories(db):
    local = RepositoryFactory(key="docker-local", is_public=False)
    target = RepositoryFactory(key="docker-target", is_public=False)
    return local, target


@pytest.fixture
def people(repositories):
    users = get_user_model().objects
    local, _ = repositories
    writer = users.create_user("writer", password=PASSWORD)
    reader = users.create_user("reader", password=PASSWORD)
    outsider = users.create_user("outsider", password=PASSWORD)
    admin = users.create_superuser("root", password=PASSWORD)
    RepositoryGrant.objects.create(repository=local, user=writer, permission="write")
    RepositoryGrant.objects.create(repository=local, user=reader, permission="read")
    return People(writer=writer, reader=reader, outsider=outsider, admin=admin)
