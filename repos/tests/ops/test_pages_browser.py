"""The Operations and repository Storage pages in Chromium at 390 and 1440 px: no sideways scrolling of the
page, no serious accessibility violation (axe-core)."""

import os
import random

import pytest
import requests

from repos.tests.ops.soak import MANIFEST, make_image, push_blob
from tests.support.browser import axe_violations, chromium, sideways_overflow, signed_in_context
from tests.support.servers import running_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("ops-pages")) as server:
        api = requests.Session()
        api.auth = ("admin", server.admin_password)
        rng = random.Random(7)
        for i in range(4):
            manifest, blobs = make_image([os.urandom(2000)], rng, f"p{i}")
            for data in blobs.values():
                push_blob(api, server.url, "docker-local/web-app", data, chunked=False)
            assert (
                api.put(
                    f"{server.url}/v2/docker-local/web-app/manifests/1.{i}",
                    data=manifest,
                    headers={"Content-Type": MANIFEST},
                ).status_code
                == 201
            )
        assert (
            api.patch(
                f"{server.url}/api/repositories/docker-local/policy/",
                json={"retention_keep_newest": 2, "quota_bytes": 10**8},
            ).status_code
            == 200
        )
        server.manage("gc", "--grace", "0", "--dry-run")
        yield server


@pytest.mark.parametrize("width", (390, 1440))
def test_operations_and_storage_pages(site, width):
    with chromium() as browser:
        context = signed_in_context(browser, site, "admin", site.admin_password, width=width)
        tab = context.new_page()
        found = {}
        for path in ("/operations/", "/repositories/docker-local/-/storage/"):
            tab.goto(site.url + path)
            assert tab.locator("h1").count() == 1
            problems = axe_violations(tab)
            overflow = sideways_overflow(tab)
            if problems or overflow:
                found[path] = (problems, overflow)
        assert found == {}
