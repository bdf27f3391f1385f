"""Every dashboard page in Chromium at phone (390 px) and desktop (1440 px) width, against the real server.

Fails when a page scrolls sideways, when axe-core finds a serious or critical accessibility violation, or when an
action cannot be reached with the keyboard or its focus is invisible. Screenshots go to test-artifacts/pages/.
"""

from __future__ import annotations

import re
import secrets

import pytest
import requests

from tests.support.browser import (
    ARTIFACTS,
    axe_violations,
    push_multiarch,
    sideways_overflow,
    signed_in_context,
)
from tests.support.content import tar_gz
from tests.support.servers import running_server

pytestmark = pytest.mark.e2e
SHOTS = ARTIFACTS / "pages"
IMAGE = "multiarch-image"
WIDTHS = (390, 1440)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A server with seeded content, a pushed multi-arch image, a promotion, a build and a second, plain user."""
    with running_server(tmp_path_factory.mktemp("pages")) as server:
        server.manage("seed_dashboard", "--images", "12", "--tags", "120")
        content = push_multiarch(server, IMAGE, "1.0", tmp_path_factory.mktemp("layout"))
        api = requests.Session()
        api.auth = ("admin", server.admin_password)
        promotion = api.post(
            f"{server.url}/api/promotions/",
            json={
                "source_repository": "docker-local",
                "image": IMAGE,
                "target_repository": "docker-target",
                "source_tag": "1.0",
                "copy": True,
            },
        )
        assert promotion.status_code in (200, 201, 202), promotion.text
        build = api.post(
            f"{server.url}/api/builds/",
            data={
                "repository": "docker-local",
                "image": "built",
                "tags": "1.0",
                "platforms": "linux/amd64,linux/arm64",
            },
            files={
                "context": (
                    "context.tar.gz",
                    tar_gz({"Dockerfile": b"FROM scratch\nARG TARGETARCH\nCOPY hello /hello\n", "hello": b"hello\n"}),
                    "application/gzip",
                )
            },
        )
        assert build.status_code in (200, 201, 202), build.text
        api.post(f"{server.url}/api/tokens/", json={"name": "ci", "permissions": ["pull"]})
        viewer_password = secrets.token_urlsafe(12)
        server.manage(
            "shell",
            "-c",
            (
                "from django.contrib.auth import get_user_model; "
                f"get_user_model().objects.create_user('viewer', password={viewer_password!r})"
            ),
        )
        child = next(iter(content.children.values()))[1]
        server.extra.update(
            viewer_password=viewer_password,
            index=content.index_digest,
            child=child,
            promotion=promotion.json()["id"],
            build=build.json()["id"],
        )
        yield server


def pages(site) -> list[tuple[str, str, str]]:
    """(name, path, who) of every page; `who` is admin, viewer or anonymous."""
    extra = site.extra
    base = f"/repositories/docker-local/{IMAGE}"
    return [
        ("home", "/", "admin"),
        ("repositories", "/repositories/", "admin"),
        ("repository", "/repositories/docker-local/", "admin"),
        ("repository-seeded", "/repositories/seed-dev/", "admin"),
        ("image", f"{base}/", "admin"),
        ("tag", f"{base}/-/tags/1.0/", "admin"),
        ("per-arch", f"{base}/-/manifests/{extra['child']}/?index={extra['index']}", "admin"),
        ("settings", "/repositories/docker-local/-/settings/", "admin"),
        ("repository-new", "/repositories/-/new/", "admin"),
        ("repository-delete", "/repositories/docker-local/-/delete/", "admin"),
        ("coverage", "/coverage/", "admin"),
        ("coverage-missing", "/coverage/?platform=linux/arm64&missing=1", "admin"),
        ("search", "/search/?q=linux/arm64", "admin"),
        ("stages", f"/stages/{IMAGE}/", "admin"),
        ("promotions", "/promotions/", "admin"),
        ("promotion-new", "/promotions/new/", "admin"),
        ("promotion", f"/promotions/{extra['promotion']}/", "admin"),
        ("builds", "/builds/", "admin"),
        ("build-new", "/builds/new/", "admin"),
        ("build", f"/builds/{extra['build']}/", "admin"),
        ("tokens", "/accounts/tokens/", "admin"),
        ("audit", "/accounts/audit/", "admin"),
        ("alerts", "/alerts/?state=all", "admin"),
        ("webhooks", "/webhooks/", "admin"),
        ("not-found", "/repositories/no-such-repository/", "admin"),
        ("forbidden", "/accounts/audit/", "viewer"),
        ("viewer-home", "/", "viewer"),
        ("login", "/accounts/login/", "anonymous"),
        ("api-docs", "/api/docs/", "admin"),
    ]


def contexts(browser, site, width):
    return {
        "admin": signed_in_context(browser, site, "admin", site.admin_password, width=width),
        "viewer": signed_in_context(browser, site, "viewer", site.extra["viewer_password"], width=width),
        "anonymous": browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True),
    }


def visit(tab, site, path: str) -> None:
    tab.goto(f"{site.url}{path}")
    if path.startswith("/api/docs/"):
        tab.wait_for_selector(".swagger-ui .opblock", timeout=30000)
    tab.wait_for_load_state("networkidle")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(browser, site, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    tabs = {who: context.new_page() for who, context in contexts(browser, site, width).items()}
    overflowing = {}
    for name, path, who in pages(site):
        tab = tabs[who]
        visit(tab, site, path)
        tab.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        found = sideways_overflow(tab)
        if found:
            overflowing[name] = found
    for tab in tabs.values():
        tab.context.close()
    assert not overflowing, "\n".join(f"{name}: {found}" for name, found in overflowing.items())


@pytest.mark.parametrize("width", WIDTHS)
def test_no_serious_accessibility_violation(browser, site, width):
    tabs = {who: context.new_page() for who, context in contexts(browser, site, width).items()}
    found = {}
    for name, path, who in pages(site):
        tab = tabs[who]
        visit(tab, site, path)
        violations = axe_violations(tab)
        if violations:
            found[name] = violations
    for tab in tabs.values():
        tab.context.close()
    assert not found, "\n".join(f"{name}: {line}" for name, lines in found.items() for line in lines)


def test_error_pages_keep_the_layout(browser, site):
    tabs = {who: context.new_page() for who, context in contexts(browser, site, 1440).items()}
    for path, who, status, heading in (
        ("/repositories/no-such-repository/", "admin", 404, "not found"),
        ("/accounts/audit/", "viewer", 403, "not allowed"),
    ):
        tab = tabs[who]
        response = tab.goto(f"{site.url}{path}")
        assert response.status == status
        assert heading in tab.locator("h1").inner_text().lower()
        assert tab.locator("nav[aria-label=Main] a").count() >= 4
        assert tab.locator("main a[href='/']").count() >= 1  # a way on
    for tab in tabs.values():
        tab.context.close()


FOCUS_SCRIPT = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const visible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
  const label = (el.getAttribute('aria-label') || el.textContent || el.value || el.name || '').trim().slice(0, 40);
  return {tag: el.tagName.toLowerCase(), label, href: el.getAttribute('href'), visible};
}"""


def tab_through(tab, presses: int = 120) -> list[dict]:
    seen: list[dict] = []
    for _ in range(presses):
        tab.keyboard.press("Tab")
        focused = tab.evaluate(FOCUS_SCRIPT)
        if focused is None:
            break
        if seen and focused == seen[0]:
            break
        seen.append(focused)
    return seen


@pytest.mark.parametrize("width", WIDTHS)
def test_keyboard_reaches_every_action_with_visible_focus(browser, site, width):
    context = signed_in_context(browser, site, "admin", site.admin_password, width=width)
    tab = context.new_page()
    visit(tab, site, f"/repositories/docker-local/{IMAGE}/-/tags/1.0/")
    focused = tab_through(tab)
    invisible = [f for f in focused if not f["visible"]]
    assert invisible == []
    labels = [f["label"] for f in focused]
    hrefs = [f["href"] for f in focused]
    # Navigation (collapsed behind its button on a phone), search, copy buttons and the promote action.
    if width < 700:
        assert "Menu" in labels
        tab.keyboard.press("Escape")
        tab.focus("button.navtoggle")
        tab.keyboard.press("Enter")
        focused_after_open = tab_through(tab)
        hrefs = [f["href"] for f in focused_after_open]
    assert {"/", "/coverage/", "/promotions/", "/builds/"} <= set(hrefs)
    assert any(f["tag"] == "input" and "Search" in f["label"] for f in tab_through(tab) + focused)
    assert labels.count("Copy") >= 3
    assert any(re.match(r"Promote", label) for label in labels)
    context.close()
