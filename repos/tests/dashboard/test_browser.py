"""In Chromium, against the real server: push a multi-arch image with skopeo, then look at it as a person would.

Screenshots go to test-artifacts/dashboard/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from repos.tests.dashboard.content import XSS
from tests.support.browser import push_multiarch
from tests.support.servers import PROJECT_ROOT, running_server

pytestmark = pytest.mark.e2e
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "dashboard"
IMAGE = "multiarch-image"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def pushed(server, tmp_path_factory):
    """`docker-local/multiarch-image:1.0` pushed by skopeo from an OCI layout, and a signature pushed over /v2/."""
    return push_multiarch(server, IMAGE, "1.0", tmp_path_factory.mktemp("layout"), label="browser")


@pytest.fixture(scope="module")
def page(browser, server, pushed):
    """A signed-in admin's tab; records CSP violations, script errors and dialogs (an XSS would open one)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    tab = context.new_page()
    tab.problems = []
    # Failed loads are reported with their URL by the response hook; other console errors (CSP) as they come.
    tab.on(
        "console",
        lambda m: (
            tab.problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    tab.on("response", lambda r: tab.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    tab.on("dialog", lambda d: (tab.problems.append(f"dialog: {d.message}"), d.dismiss()))
    tab.goto(f"{server.url}/admin/login/?next=/")
    tab.fill("#id_username", "admin")
    tab.fill("#id_password", server.admin_password)
    tab.click("input[type=submit]")
    tab.wait_for_url(f"{server.url}/")
    yield tab
    context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_manifest_list_page(page, server, pushed):
    page.goto(f"{server.url}/repositories/docker-local/{IMAGE}/-/tags/1.0/")
    assert page.locator("h1").inner_text().startswith(f"{IMAGE}:1.0")
    platforms = page.locator("section", has=page.locator("h2", has_text="Platform images"))
    rows = platforms.locator("tbody tr")
    assert rows.count() == 2
    for i, (platform, (_, digest)) in enumerate(pushed.children.items()):
        row = rows.nth(i)
        assert row.locator("td").nth(0).inner_text().startswith(platform)
        assert row.locator("td").nth(1).inner_text() == digest[7:19]
        assert re.fullmatch(r"\d+(\.\d)? (B|KiB)", row.locator("td").nth(2).inner_text())  # compressed
        assert re.fullmatch(r"\d+(\.\d)? (B|KiB)", row.locator("td").nth(3).inner_text())  # uncompressed
        assert row.locator("code.pull").inner_text() == (
            f"docker pull --platform {platform} {server.host}/docker-local/{IMAGE}:1.0"
        )
    attestations = page.locator("section", has=page.locator("h2", has_text="Attestations"))
    assert "attestation-manifest" in attestations.inner_text() and "linux/amd64" in attestations.inner_text()
    referrers = page.locator("section", has=page.locator("h2", has_text="referrers"))
    assert "cosign.artifact.sig" in referrers.inner_text()
    copy = page.locator("button[data-copy='#pull-index']")
    copy.click()
    # The label changes when the clipboard promise settles (and reverts after 1.5 s): wait for it.
    expect(copy).to_have_text("Copied", timeout=1400)
    shot(page, "manifest-list")
    assert page.problems == []


def test_per_arch_page(page, server, pushed):
    page.goto(f"{server.url}/repositories/docker-local/{IMAGE}/-/tags/1.0/")
    link = (
        page.locator("section", has=page.locator("h2", has_text="Platform images"))
        .locator("a", has_text="linux/arm64")
        .first
    )
    with page.expect_navigation():
        link.click()
    expect(page.locator("h1")).to_contain_text("linux/arm64")
    layers = page.locator("section", has=page.locator("h2", has_text="Layers")).locator("tbody tr")
    texts = [layers.nth(i).inner_text() for i in range(layers.count())]
    assert [t.split("\t")[0].strip() for t in texts if "empty layer" not in t] == ["1", "2"]
    assert "ADD rootfs.tar" in texts[0] and "linux/amd64" in texts[0]  # base layer shared with amd64
    assert "ENV GREETING=hello" in texts[1] and "empty layer" in texts[1]
    assert "COPY hello-arm64" in texts[2] and "only here" in texts[2]
    assert "empty layer" in texts[3]
    config = page.locator("section", has=page.locator("h2", has_text="Config")).inner_text()
    assert "/app/entrypoint" in config and "TARGETARCH=arm64" in config
    assert XSS in config  # the label shows as text and never runs
    shot(page, "per-arch")
    assert page.problems == []


def test_settings_then_coverage_matrix(page, server, pushed):
    page.goto(f"{server.url}/repositories/docker-local/-/settings/")
    page.fill("#id_required_platforms", "linux/amd64, linux/arm64, linux/s390x")
    page.fill("#id_stage", "dev")
    page.click("form.settings button[type=submit]")
    page.wait_for_url(f"{server.url}/repositories/docker-local/")
    assert "Settings of docker-local saved" in page.inner_text(".messages")

    page.goto(f"{server.url}/coverage/")
    with page.expect_response(lambda r: "/coverage/?" in r.url):
        page.select_option("select[name=repository]", "docker-local")
    page.wait_for_url(re.compile(r".*/coverage/\?.*repository=docker-local"))  # htmx pushed the filtered URL
    row = page.locator("table.matrix tbody tr", has=page.locator("a", has_text=IMAGE))
    cells = {c.get_attribute("data-platform"): c.inner_text().strip() for c in row.locator("td.cell").all()}
    assert cells == {"linux/amd64": "✓", "linux/arm64": "✓", "linux/s390x": "✗ required"}
    shot(page, "coverage")
    with page.expect_response(lambda r: "platform=linux" in r.url):
        page.fill("input[name=platform]", "linux/arm64")
    with page.expect_response(lambda r: "missing=1" in r.url):
        page.check("input[name=missing]")
    page.wait_for_selector("#results >> text=No image matches these filters")
    assert page.problems == []


def test_home_and_search(page, server, pushed):
    page.goto(f"{server.url}/")
    assert page.locator("svg.chart").count() == 2
    assert f"docker-local/{IMAGE}:1.0" in page.inner_text("body")
    shot(page, "home")
    page.click("a.repocard[href='/repositories/docker-local/']")
    row = page.locator("#results tbody tr", has=page.locator("a", has_text=IMAGE))
    assert "linux/amd64" in row.inner_text() and "linux/arm64" in row.inner_text() and "1.0" in row.inner_text()
    shot(page, "repository")
    row.locator("a", has_text=IMAGE).click()
    page.wait_for_url(f"{server.url}/repositories/docker-local/{IMAGE}/")
    assert page.locator("tr.sub").count() == 2  # 1.0-linux-amd64 and 1.0-linux-arm64 under 1.0
    shot(page, "image")
    page.fill(".topsearch input", pushed.index_digest[7:19])
    page.press(".topsearch input", "Enter")
    page.wait_for_url(re.compile(r".*/search/\?q=.*"))
    assert f"docker-local/{IMAGE}" in page.locator("#results").inner_text()
    shot(page, "search")
    page.goto(f"{server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30000)
    assert "/api/coverage/" in page.inner_text("body")
    shot(page, "api-docs")
    assert page.problems == []
