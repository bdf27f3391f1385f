"""Fixtures for the build tests: repositories, people with and without write access, private dirs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache

from tests.support.factories import PASSWORD, GrantFactory, RepositoryFactory, UserFactory

__all__ = ["PASSWORD", "People"]


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
    local, _ = repositories
    writer, reader, outsider = (UserFactory.create(username=name) for name in ("writer", "reader", "outsider"))
    admin = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    GrantFactory.create(repository=local, user=writer, permission="write")
    GrantFactory.create(repository=local, user=reader, permission="read")
    return People(writer=writer, reader=reader, outsider=outsider, admin=admin)
