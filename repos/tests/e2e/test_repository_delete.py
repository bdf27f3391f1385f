"""Deleting a repository while a pull streams one of its blobs: the pull finishes with every byte."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests

from repos.oci.digests import sha256_digest
from repos.tests.e2e.test_remote import server  # noqa: F401
from tests.support.clients import admin_session

pytestmark = pytest.mark.e2e


def test_pull_in_flight_finishes_when_its_repository_is_deleted(server):  # noqa: F811
    session = admin_session(server)
    assert session.post(f"{server.url}/api/repositories/", json={"key": "doomed"}).status_code == 201
    blob = os.urandom(64 * 1024 * 1024)
    digest = sha256_digest(blob)
    start = session.post(f"{server.url}/v2/doomed/app/blobs/uploads/")
    location = requests.compat.urljoin(server.url, start.headers["Location"])
    assert session.put(location, params={"digest": digest}, data=blob).status_code == 201

    with admin_session(server).get(f"{server.url}/v2/doomed/app/blobs/{digest}", stream=True) as pull:
        chunks = pull.iter_content(1024 * 1024)
        received = [next(chunks)]
        refused = session.delete(f"{server.url}/api/repositories/doomed/")
        assert refused.status_code == 409  # it holds content: a confirmation is needed
        assert session.delete(f"{server.url}/api/repositories/doomed/?force=true").status_code == 204
        received += list(chunks)
    assert hashlib.sha256(b"".join(received)).hexdigest() == digest[7:]
    assert session.get(f"{server.url}/v2/doomed/app/blobs/{digest}").status_code in (401, 404)
