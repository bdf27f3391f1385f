"""In Chromium, against the real server and a real Celery worker: a release manager promotes from the browser.

Confirm runs exactly what the preview showed: switching the mode after a preview takes Confirm away until the
next preview, and a source tag pushed again after the preview is refused with both digests, changing nothing.
Copy and the next stage are the defaults. Screenshots (390 and 1440 px) go to test-artifacts/promotion/.
"""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from playwright.sync_api import expect

from repos.demo.content import sha256
from repos.oci import media_types
from repos.tests.dashboard.content import MultiArch, multiarch
from tests.support.browser import AXE, sideways_overflow
from tests.support.servers import PROJECT_ROOT, running_server

pytestmark = pytest.mark.e2e
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "promotion"
IMAGE = "multiarch-image"
WIDTHS = {"desktop": 1440, "phone": 390}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("promotion-browser")) as running:
        running.start_worker()
        yield running


@pytest.fixture(scope="module")
def registry(server):
    session = requests.Session()
    session.auth = ("admin", server.admin_password)
    return session


def push(server, session: requests.Session, tag: str, content: MultiArch) -> str:
    """Blobs, platform manifests and the index through /v2/, as a client pushes them."""
    base = f"{server.url}/v2/docker-local/{IMAGE}"
    for blob in content.blobs:
        response = session.post(
            f"{base}/blobs/uploads/?digest={sha256(blob)}",
            data=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 201, response.text
    for raw in content.manifests_in_push_order():
        response = session.put(
            f"{base}/manifests/{sha256(raw)}", data=raw, headers={"Content-Type": media_types.OCI_MANIFEST}
        )
        assert response.status_code == 201, response.text
    response = session.put(
        f"{base}/manifests/{tag}", data=content.index, headers={"Content-Type": media_types.OCI_INDEX}
    )
    assert response.status_code == 201, response.text
    return content.index_digest


def tags_in(session, server, repository: str) -> dict[str, str]:
    found = session.get(f"{server.url}/api/tags/", params={"repository": repository, "page_size": 500}).json()
    return {t["name"]: t["digest"] for t in found["results"] if t["image"] == IMAGE}


def promotion_count(session, server) -> int:
    return session.get(f"{server.url}/api/promotions/").json()["count"]


@pytest.fixture
def page(browser, server):
    """A signed-in admin's tab; records script errors, CSP violations and failed loads."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 1000})
    tab = context.new_page()
    tab.problems = []
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
    tab.goto(f"{server.url}/admin/login/?next=/")
    tab.fill("#id_username", "admin")
    tab.fill("#id_password", server.admin_password)
    tab.click("input[type=submit]")
    tab.wait_for_url(f"{server.url}/")
    yield tab
    context.close()


def shots(page, name: str, *, axe: bool = True) -> None:
    """The page as it is, at desktop and phone width; it must fit the width and pass axe-core (serious/critical)."""
    for width in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": 1000})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        assert sideways_overflow(page) is None, (name, width, sideways_overflow(page))
        assert not axe or accessibility_violations(page) == [], (name, width)
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 1000})


def accessibility_violations(page) -> list[str]:
    # Evaluated through the DevTools protocol, so the page's Content-Security-Policy stays on for the test.
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
        "'best-practice']}})"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} — {[n['target'] for n in v['nodes'][:4]]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def open_form(page, server, tag: str) -> None:
    page.goto(f"{server.url}/promotions/new/?repository=docker-local&image={IMAGE}&tag={tag}")


def preview(page) -> None:
    with page.expect_navigation():
        page.click("button[name=preview]")


def test_copy_and_the_next_stage_are_the_defaults(page, server, registry):
    push(server, registry, "1.0", multiarch(f"defaults {uuid.uuid4().hex[:6]}"))
    open_form(page, server, "1.0")

    expect(page.locator("select[name=source_repository]")).to_have_value("docker-local")
    expect(page.locator("select[name=target_repository]")).to_have_value("docker-target")
    expect(page.locator("input[name=mode][value=copy]")).to_be_checked()
    move = page.locator("label.mode-option.move")
    expect(move).to_contain_text("destructive: 1.0 and its per-platform tags leave docker-local")
    page.fill("input[name=source_tag]", "")
    expect(move).to_contain_text(f"every tag of {IMAGE} leave docker-local")
    page.fill("input[name=source_tag]", "1.0")
    shots(page, "form")

    # The last stage has no next one: the target is left for the user to choose, never the source itself.
    page.select_option("select[name=source_repository]", "docker-target")
    expect(page.locator("select[name=target_repository]")).to_have_value("")
    expect(move).to_contain_text("leave docker-target")
    page.select_option("select[name=source_repository]", "docker-local")
    expect(page.locator("select[name=target_repository]")).to_have_value("docker-target")
    assert page.problems == []


def test_switching_the_mode_after_a_preview_disables_confirm_until_the_next_preview(page, server, registry):
    digest = push(server, registry, "1.1", multiarch(f"mode {uuid.uuid4().hex[:6]}"))
    open_form(page, server, "1.1")
    preview(page)
    confirm = page.locator("button[name=confirm]")
    expect(confirm).to_be_enabled()
    expect(confirm).to_have_text("Confirm the copy")
    expect(page.locator(".pinned-digests")).to_contain_text(f"1.1 @ {digest[:19]}")

    page.check("input[name=mode][value=move]")
    expect(confirm).to_be_disabled()
    expect(page.locator(".stale-note")).to_be_visible()
    expect(page.locator("#preview")).to_have_class(re.compile(r"\bstale\b"))
    shots(page, "form-stale")
    page.check("input[name=mode][value=copy]")  # back as it was: still not the preview's form until previewed
    expect(confirm).to_be_disabled()
    page.check("input[name=mode][value=move]")

    preview(page)  # a new preview of the move
    expect(confirm).to_be_enabled()
    expect(confirm).to_have_text(re.compile(r"Confirm the move: 3 tags leave docker-local"))
    expect(page.locator(".removed-from-source")).to_contain_text("1.1-linux-arm64")
    shots(page, "preview-move")
    page.fill("input[name=target_tag]", "1.1-final")
    expect(confirm).to_be_disabled()  # any input, not only the mode
    page.fill("input[name=target_tag]", "")

    preview(page)
    page.check("input[name=mode][value=copy]")
    preview(page)
    with page.expect_navigation():
        confirm.click()
    expect(page.locator("h1")).to_contain_text("Succeeded", timeout=60_000)  # the page refreshes itself
    assert tags_in(registry, server, "docker-target")["1.1"] == digest
    assert tags_in(registry, server, "docker-local")["1.1"] == digest  # a copy: the source keeps it
    expect(page.locator(".resulting-tags .pull").first).to_have_text(
        f"docker pull {server.host}/docker-target/{IMAGE}:1.1"
    )
    for platform in ("linux/amd64", "linux/arm64", "attestation"):
        expect(page.locator(".linked-content tr[data-role=blob]", has_text=platform).first).to_be_visible()
    shots(page, "job")

    page.click(".resulting-tags a.tagchip >> text='1.1'")
    expect(page.locator(".provenance-line")).to_contain_text(f"was promoted from docker-local/{IMAGE}:1.1 by admin")
    shots(page, "tag-provenance")
    page.goto(f"{server.url}/stages/{IMAGE}/")
    row = page.locator("tr[data-tag='1.1']")
    expect(row.locator("td[data-repository=docker-target]")).to_have_attribute("data-state", "same")
    expect(page.locator("tr[data-tag='1.0'] a.promote-next")).to_have_text("Promote to docker-target")
    shots(page, "stages")
    assert page.problems == []


def test_a_source_moved_after_the_preview_is_refused_with_both_digests(page, server, registry):
    previewed = push(server, registry, "2.0", multiarch(f"previewed {uuid.uuid4().hex[:6]}"))
    open_form(page, server, "2.0")
    preview(page)
    expect(page.locator(".pinned-digests")).to_contain_text(previewed[:19])
    current = push(server, registry, "2.0", multiarch(f"pushed after the preview {uuid.uuid4().hex[:6]}"))
    jobs_before, target_before = promotion_count(registry, server), tags_in(registry, server, "docker-target")
    source_before = tags_in(registry, server, "docker-local")

    with page.expect_navigation() as navigation:
        page.click("button[name=confirm]")

    assert navigation.value.status == 409
    error = page.locator(".promotion-error")
    expect(error).to_contain_text("nothing was changed")
    expect(error.locator("code.previewed")).to_have_text(previewed)
    expect(error.locator("code.current")).to_have_text(current)
    expect(page.locator("button[name=confirm]")).to_have_count(0)  # preview again first
    shots(page, "refused-source-changed")
    assert promotion_count(registry, server) == jobs_before
    assert tags_in(registry, server, "docker-target") == target_before
    assert tags_in(registry, server, "docker-local") == source_before and source_before["2.0"] == current
    assert [p for p in page.problems if "/promotions/new/" not in p] == []


def test_home_reads_left_to_right_from_the_first_run(page, server):
    """A freshly bootstrapped server: docker-local (dev) first, docker-target (release) next."""
    page.goto(f"{server.url}/")
    columns = page.locator(".pipeline .stagecol")
    expect(columns).to_have_count(2)
    assert [columns.nth(i).locator(".stagename").inner_text().lower() for i in range(2)] == ["dev", "release"]
    assert [columns.nth(i).locator(".repocard .key").inner_text() for i in range(2)] == [
        "docker-local",
        "docker-target",
    ]
    shots(page, "home", axe=False)  # the home page's own styles are checked by the every-page test
    assert page.problems == []
