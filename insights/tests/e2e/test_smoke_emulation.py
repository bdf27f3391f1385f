"""End to end, for real: gunicorn + a Celery worker on Redis, skopeo pushing a linux/amd64 + linux/arm64 index
of static busybox images, and the worker's Docker engine running `/app` in each platform image, the arm64 one
under QEMU user emulation. `/app` exits 1 when `uname -m` says aarch64: the smoke test fails on arm64 only;
docker-target requires smoke tests, so the promotion of that digest is refused naming linux/arm64; the fixed
image passes on both platforms and its promotion goes through. No image is left in the engine.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from builds.tests.e2e.busybox import busybox_binaries
from insights.tests.e2e.listener import start_listener
from repos.demo import content as oci
from tests.support.browser import axe_violations, chromium, sideways_overflow, signed_in_context
from tests.support.clients import admin_session, docker_available, run, signed_in, skopeo_push_layout
from tests.support.content import write_oci_layout
from tests.support.servers import PROJECT_ROOT, running_server
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
AMD, ARM = "linux/amd64", "linux/arm64"
GOARCH = {AMD: "amd64", ARM: "arm64"}
SECRET = f"secret-{uuid.uuid4().hex}"
BROKEN_APP = '#!/bin/sh\nm=$(busybox uname -m)\necho "app 1.0 on $m"\n[ "$m" != aarch64 ] || exit 1\n'
FIXED_APP = '#!/bin/sh\nm=$(busybox uname -m)\necho "app 1.1 on $m"\n'
TEST = {"command": ["/app"], "output_pattern": r"^app 1\.\d on ", "time_limit_seconds": 120}
FINISHED = ("passed", "failed", "error")


def layer(busybox: bytes, app: str) -> tuple[bytes, str]:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        directory = tarfile.TarInfo("bin")
        directory.type, directory.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(directory)
        for name, data in (("bin/busybox", busybox), ("app", app.encode())):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("bin/sh")
        link.type, link.linkname = tarfile.SYMTYPE, "busybox"
        archive.addfile(link)
    return gzip.compress(raw.getvalue(), mtime=0), oci.sha256(raw.getvalue())


def write_layout(directory: Path, app: str, tag: str) -> None:
    """An OCI image layout holding one index: amd64 and arm64 images of busybox + /app, runnable under emulation
    (which is why the layers are built here, not with tests/support/content.py)."""
    blobs, children = [], []
    for goarch in GOARCH.values():
        compressed, diff_id = layer(busybox_binaries()[goarch], app)
        config = json.dumps(
            {
                "architecture": goarch,
                "os": "linux",
                "config": {"Cmd": ["/app"], "Env": ["PATH=/bin"]},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": [{"created_by": "COPY busybox app /"}],
            }
        ).encode()
        manifest = oci.image_manifest(config=config, layers=[compressed])
        blobs += [compressed, config, manifest]
        children.append(
            {"digest": oci.sha256(manifest), "size": len(manifest), "platform": {"os": "linux", "architecture": goarch}}
        )
    write_oci_layout(directory, index=oci.index(children), blobs=blobs, tag=tag)


def push(server, tmp_path: Path, app: str, reference: str) -> None:
    layout = tmp_path / f"layout-{uuid.uuid4().hex[:8]}"
    write_layout(layout, app, "pushed")
    skopeo_push_layout(server, layout, "pushed", reference)


def finished_run(api, server, *, repository: str, tag: str, trigger: str, digest: str) -> dict:
    def found():
        runs = api.get(
            f"{server.url}/api/smoke-tests/", params={"repository": repository, "image": "app", "tag": tag}
        ).json()["results"]
        mine = [r for r in runs if r["digest"] == digest and r["trigger"] == trigger]
        return mine[0] if mine and mine[0]["status"] in FINISHED else None

    return wait_until(found, what=f"a finished smoke test run of {repository}/app:{tag} ({trigger})", timeout=600)


def engine_images(server) -> list[str]:
    listed = run("docker", "image", "ls", "--digests", "--format", "{{.Repository}}@{{.Digest}}")
    return [line for line in listed.splitlines() if line.startswith(server.host)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    docker_available()
    require_emulation()
    env = {"UPSTREAM_ALLOW_PRIVATE": "1", "WEBHOOK_RETRY_BASE_SECONDS": "1"}
    with running_server(tmp_path_factory.mktemp("smoke"), extra_env=env, redis=True) as running:
        running.start_worker()
        yield running


def require_emulation() -> None:
    from conftest import IN_CI

    if not Path("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists():
        message = "no binfmt_misc handler for aarch64 (qemu-user-static with binfmt-support)"
        pytest.fail(message) if IN_CI else pytest.skip(message)


def test_arm64_failure_under_emulation_blocks_the_promotion_until_fixed(server, tmp_path):
    api = admin_session(server)
    listener = start_listener()
    hook = api.post(
        f"{server.url}/api/webhooks/",
        json={"url": listener.url + "/smoke", "events": ["smoke-test"], "secret": SECRET, "repository": "docker-local"},
    )
    assert hook.status_code == 201, hook.text
    for key, required in (("docker-local", False), ("docker-target", True)):
        response = api.put(
            f"{server.url}/api/repositories/{key}/smoke-test/", json={**TEST, "required_for_promotion": required}
        )
        assert response.status_code == 200, response.text

    push(server, tmp_path, BROKEN_APP, "docker-local/app:1.0")
    broken = api.get(f"{server.url}/v2/docker-local/app/manifests/1.0", headers={"Accept": oci.media_types.OCI_INDEX})
    broken_digest = broken.headers["Docker-Content-Digest"]
    result = finished_run(api, server, repository="docker-local", tag="1.0", trigger="push", digest=broken_digest)
    assert result["status"] == "failed", result
    by_platform = {r["platform"]: r for r in result["results"]}
    assert set(by_platform) == {AMD, ARM}
    assert by_platform[AMD]["status"] == "passed" and by_platform[AMD]["exit_code"] == 0
    assert by_platform[AMD]["output"] == "app 1.0 on x86_64"
    # The arm64 program really ran as arm64: under QEMU, uname reports the emulated machine.
    assert by_platform[ARM]["output"] == "app 1.0 on aarch64"
    assert (by_platform[ARM]["status"], by_platform[ARM]["reason"], by_platform[ARM]["exit_code"]) == (
        "failed",
        "exit-code",
        1,
    )

    page = signed_in(server).get(f"{server.url}/repositories/docker-local/app/-/tags/1.0/").text
    assert 'data-platform="linux/arm64"' in page and "exited with 1, expected 0" in page

    delivered = wait_until(lambda: listener.on("/smoke"), what="a smoke-test webhook delivery", timeout=120)[0]
    assert delivered.signature_valid(SECRET)
    body = delivered.payload
    assert (body["event"], body["repository"], body["image"], body["tag"], body["digest"]) == (
        "smoke-test",
        "docker-local",
        "app",
        "1.0",
        broken_digest,
    )
    assert body["platforms"] == [AMD, ARM] and body["smoke_test"]["results"][ARM]["reason"] == "exit-code"
    assert body["smoke_test"]["results"][AMD]["status"] == "passed"

    promotion = {
        "source_repository": "docker-local",
        "image": "app",
        "source_tag": "1.0",
        "target_repository": "docker-target",
        "copy": True,
    }
    preview = api.post(f"{server.url}/api/promotions/", json={**promotion, "dry_run": True}).json()
    assert preview["allowed"] is False
    [refusal] = preview["refusals"]
    assert refusal["rule"] == "smoke-test" and refusal["detail"]["failing"] == {ARM: "exited with 1, expected 0"}
    assert "fails on linux/arm64" in refusal["message"]
    refused = api.post(f"{server.url}/api/promotions/", json={**promotion, "wait": True})
    assert refused.status_code == 409, refused.text
    assert "smoke-test" in refused.text

    push(server, tmp_path, FIXED_APP, "docker-local/app:1.0")
    fixed = api.get(f"{server.url}/v2/docker-local/app/manifests/1.0", headers={"Accept": oci.media_types.OCI_INDEX})
    fixed_digest = fixed.headers["Docker-Content-Digest"]
    assert fixed_digest != broken_digest
    result = finished_run(api, server, repository="docker-local", tag="1.0", trigger="push", digest=fixed_digest)
    assert result["status"] == "passed", result
    outputs = {r["platform"]: r["output"] for r in result["results"]}
    assert outputs == {AMD: "app 1.1 on x86_64", ARM: "app 1.1 on aarch64"}

    preview = api.post(f"{server.url}/api/promotions/", json={**promotion, "dry_run": True}).json()
    assert preview["allowed"] is True, preview["refusals"]
    promoted = api.post(f"{server.url}/api/promotions/", json={**promotion, "wait": True})
    assert promoted.status_code in (200, 201), promoted.text
    assert promoted.json()["status"] == "succeeded", promoted.text
    # Promoted in: docker-target runs its own test on what arrived.
    in_target = finished_run(
        api, server, repository="docker-target", tag="1.0", trigger="promotion", digest=fixed_digest
    )
    assert in_target["status"] == "passed", in_target

    assert engine_images(server) == []  # every pulled platform image was removed again
    leftovers = subprocess.run(
        ["docker", "ps", "--all", "--filter", "name=smoke-", "--format", "{{.Names}}"], capture_output=True, text=True
    )
    assert leftovers.stdout.strip() == ""


def test_run_again_with_another_repository_test_kills_at_the_time_limit(server, tmp_path):
    """`Run again` of the qa repository's test on a docker-local tag: `sleep` past the limit is killed (the
    container removed by force), a missing program could not start, and nothing is left in the engine."""
    api = admin_session(server)
    created = api.post(f"{server.url}/api/repositories/", json={"key": "docker-qa", "kind": "local"})
    assert created.status_code == 201, created.text
    push(server, tmp_path, FIXED_APP, "docker-local/app:slow")
    digest = api.get(
        f"{server.url}/v2/docker-local/app/manifests/slow", headers={"Accept": oci.media_types.OCI_INDEX}
    ).headers["Docker-Content-Digest"]
    body = {"repository": "docker-local", "image": "app", "tag": "slow", "test_repository": "docker-qa"}

    for command, limit in ((["/bin/sh", "-c", "echo started; sleep 600"], 3), (["/no/such/program"], 30)):
        defined = api.put(
            f"{server.url}/api/repositories/docker-qa/smoke-test/",
            json={"command": command, "time_limit_seconds": limit},
        )
        assert defined.status_code == 200, defined.text
        queued = api.post(f"{server.url}/api/smoke-tests/", json=body)
        assert queued.status_code == 202, queued.text
        run_id = queued.json()["id"]
        result = wait_until(
            lambda run_id=run_id: (lambda r: r if r["status"] in FINISHED else None)(
                api.get(f"{server.url}/api/smoke-tests/{run_id}/").json()
            ),
            what=f"smoke test run {run_id}",
            timeout=600,
        )
        assert result["digest"] == digest and result["test_repository"] == "docker-qa", result
        reasons = {r["platform"]: (r["status"], r["reason"]) for r in result["results"]}
        if limit == 3:
            assert reasons == {AMD: ("failed", "timeout"), ARM: ("failed", "timeout")}, result
            assert all(r["output"] == "started" and r["exit_code"] is None for r in result["results"])
        else:
            assert reasons == {AMD: ("failed", "could-not-start"), ARM: ("failed", "could-not-start")}, result

    assert engine_images(server) == []
    leftovers = subprocess.run(
        ["docker", "ps", "--all", "--filter", "name=smoke-", "--format", "{{.Names}}"], capture_output=True, text=True
    )
    assert leftovers.stdout.strip() == ""


def test_in_the_browser_settings_card_tag_card_and_run_again(server, tmp_path):
    """An admin sets the test on the settings page; the tag page shows both platforms and runs it again. The
    pages fit a phone's width and pass axe-core (serious, critical). Screenshots: test-artifacts/smoke-tests/."""
    artifacts = PROJECT_ROOT / "test-artifacts" / "smoke-tests"
    artifacts.mkdir(parents=True, exist_ok=True)
    api = admin_session(server)
    assert api.post(f"{server.url}/api/repositories/", json={"key": "docker-ui"}).status_code == 201
    with chromium() as browser:
        context = signed_in_context(browser, server, "admin", server.admin_password, width=1440)
        tab = context.new_page()
        tab.goto(f"{server.url}/repositories/docker-ui/-/settings/")
        card = tab.locator("#smoke-test")
        card.locator("input[name=command]").fill('["/app"]')
        card.locator("input[name=output_pattern]").fill(r"^app 1\.1 on ")
        card.locator("input[name=time_limit_seconds]").fill("60")
        card.locator("input[name=required_for_promotion]").check()
        with tab.expect_navigation():
            card.locator("button[type=submit]:not([name=delete])").click()
        assert "Smoke test of docker-ui saved." in tab.locator(".messages").inner_text()
        test = api.get(f"{server.url}/api/repositories/docker-ui/smoke-test/").json()
        assert test["command"] == ["/app"] and test["required_for_promotion"] is True

        push(server, tmp_path, FIXED_APP, "docker-ui/app:2.0")
        digest = api.get(
            f"{server.url}/v2/docker-ui/app/manifests/2.0", headers={"Accept": oci.media_types.OCI_INDEX}
        ).headers["Docker-Content-Digest"]
        finished_run(api, server, repository="docker-ui", tag="2.0", trigger="push", digest=digest)
        tab.goto(f"{server.url}/repositories/docker-ui/app/-/tags/2.0/")
        results = tab.locator(".smoke-results tbody tr")
        assert results.count() == 2
        assert "passed" in tab.locator("#smoke-heading").inner_text()
        arm = tab.locator('tr[data-platform="linux/arm64"]')
        arm.locator("summary").click()  # a pass keeps its output folded
        assert "app 1.1 on aarch64" in arm.locator("pre").inner_text()
        for width in (1440, 390):
            tab.set_viewport_size({"width": width, "height": 1000})
            tab.screenshot(path=str(artifacts / f"tag-card-{width}.png"), full_page=True)
            assert sideways_overflow(tab) is None, (width, sideways_overflow(tab))
        assert axe_violations(tab) == []
        with tab.expect_navigation():
            tab.locator(".smoke-tests button", has_text="Run again").click()
        assert "queued" in tab.locator(".messages").inner_text()
        finished_run(api, server, repository="docker-ui", tag="2.0", trigger="manual", digest=digest)
        context.close()
