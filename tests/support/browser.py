"""Chromium for the browser tests: the `browser` fixture (one Chromium per test module, registered by the root
conftest), sign in, push content, overflow and axe checks."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from conftest import require_tool
from repos.demo.content import sha256
from repos.tests.dashboard.content import SIGNATURE_PAYLOAD, MultiArch, multiarch
from tests.support.clients import skopeo_push_layout
from tests.support.servers import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
AXE = PROJECT_ROOT / "repos" / "tests" / "dashboard" / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def chromium():
    require_tool("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the test module."""
    with chromium() as launched:
        yield launched


def signed_in_context(browser, server, username: str, password: str, *, width: int, height: int = 900):
    """A browser context signed in through the login form. CSP is bypassed only so axe can be injected."""
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    tab = context.new_page()
    tab.goto(f"{server.url}/accounts/login/?next=/")
    tab.fill("#id_username", username)
    tab.fill("#id_password", password)
    with tab.expect_navigation():
        tab.locator("main form button[type=submit], main form input[type=submit]").first.click()
    tab.close()
    return context


def push_multiarch(server, image: str, tag: str, tmp_dir: Path, *, label: str = "pages") -> MultiArch:
    """`docker-local/<image>:<tag>` pushed by skopeo from an OCI layout, plus a signature referrer over /v2/."""
    require_tool("skopeo")
    content = multiarch(f"{label} {uuid.uuid4().hex[:6]}")
    layout = content.write_oci_layout(tmp_dir, tag)
    skopeo_push_layout(server, layout, tag, f"docker-local/{image}:{tag}")
    session = requests.Session()
    session.auth = ("admin", server.admin_password)
    for blob in (b"{}", SIGNATURE_PAYLOAD):
        response = session.post(
            f"{server.url}/v2/docker-local/{image}/blobs/uploads/?digest={sha256(blob)}",
            data=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 201, response.text
    response = session.put(
        f"{server.url}/v2/docker-local/{image}/manifests/{sha256(content.signature)}",
        data=content.signature,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert response.status_code == 201, response.text
    return content


# The widest elements that stick out of the viewport, to say *what* overflows when a page scrolls sideways.
OVERFLOW_SCRIPT = """() => {
  const width = document.documentElement.clientWidth;
  const culprits = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && box.width > 0) {
      let inside = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const style = getComputedStyle(p);
        if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) { inside = true; break; }
      }
      if (!inside) culprits.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} right=${Math.round(box.right)}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, culprits: culprits.slice(0, 6)};
}"""


def sideways_overflow(tab) -> dict | None:
    """None when the page fits its viewport's width; else the page width and what sticks out."""
    found = tab.evaluate(OVERFLOW_SCRIPT)
    return found if found["scrollWidth"] > found["width"] else None


def axe_violations(tab, impacts=("serious", "critical")) -> list[str]:
    """axe-core's WCAG 2.x A/AA violations of the given impacts, one line each."""
    # Swagger UI's bundle defines an AMD `define`, which axe would register with instead of window.axe.
    tab.add_script_tag(
        content="(function (define, module, exports) {\n" + AXE.read_text() + "\nwindow.axe = axe;\n})();"
    )
    result = tab.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
        "'best-practice']}})"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} — {', '.join(str(n['target']) for n in v['nodes'][:4])}"
        for v in result["violations"]
        if v["impact"] in impacts
    ]
