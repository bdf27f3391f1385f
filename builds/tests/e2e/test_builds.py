"""Real multi-arch builds on a real worker: docker and buildah builders, from an upload and from Git,
pushed into the server's registry with the requester's credential; failure, cancel, time limit, a
killed worker, malicious archives and the Git policy."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import pytest
import requests

from builds.tests.archive_samples import malicious_archives
from builds.tests.e2e.conftest import DEV_PASSWORD
from builds.tests.e2e.helpers import (
    PAUSE_DOCKERFILE,
    context_files,
    full_log,
    wait_for,
)
from tests.support.clients import registry_manifest, run
from tests.support.content import tar_gz
from tests.support.processes import processes_mentioning
from tests.support.servers import PROJECT_ROOT
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
TWO = ["linux/amd64", "linux/arm64"]


def start_build(world, *, files: dict | None = None, filename: str = "context.tar.gz", **fields) -> dict:
    body = {"repository": "docker-local", "platforms": TWO, **fields}
    if files is None:
        response = world.api.post(f"{world.server.url}/api/builds/", json=body)
    else:
        data = {k: v for k, v in body.items() if k != "platforms"}
        data["platforms"] = ",".join(body["platforms"])  # one comma-separated multipart value
        response = world.api.post(
            f"{world.server.url}/api/builds/", data=data, files={"context": (filename, tar_gz(files))}
        )
    assert response.status_code == 201, response.text
    return response.json()


def image_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def registry_tags(world, image: str) -> set[str]:
    response = world.api.get(f"{world.server.url}/v2/docker-local/{image}/tags/list")
    if response.status_code == 404:
        return set()
    assert response.status_code == 200, response.text
    return set(response.json()["tags"] or [])


def assert_pushed(world, job: dict, *, content: str) -> None:
    """The index pulls back with every platform; each child is that platform's image; per-arch tags exist."""
    name = f"docker-local/{job['image']}"
    index, digest, _ = registry_manifest(world.server, name, job["tags"][0], session=world.api)
    assert digest == job["index_digest"]
    children = {
        f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
        for m in index["manifests"]
        if m["platform"]["architecture"] != "unknown"
    }
    assert children == job["platform_digests"] and set(children) == set(job["platforms"])
    for platform, child_digest in children.items():
        manifest, _, _ = registry_manifest(world.server, name, child_digest, session=world.api)
        config = world.api.get(f"{world.server.url}/v2/{name}/blobs/{manifest['config']['digest']}").json()
        assert f"{config['os']}/{config['architecture']}" == platform
        arch_tag = f"{job['tags'][0]}-{platform.replace('/', '-')}"
        _, tagged, _ = registry_manifest(world.server, name, arch_tag, session=world.api)
        assert tagged == child_digest
    tags = registry_tags(world, job["image"])
    assert set(job["tags"]) <= tags and not any(t.startswith("tmp-build-") for t in tags)
    # The layer really holds the file of this build's context.
    layer = manifest["layers"][0]["digest"]
    blob = world.api.get(f"{world.server.url}/v2/{name}/blobs/{layer}").content
    assert content.encode() in subprocess.run(["tar", "-xzO"], input=blob, capture_output=True).stdout


def test_pushes_need_credentials(world):
    """The worker pushes as the requester (a short-lived token), not anonymously and not as the admin."""
    assert requests.get(f"{world.server.url}/v2/docker-local/anything/tags/list").status_code == 401


@pytest.mark.parametrize("builder", ["docker", "buildah"])
def test_build_from_uploaded_archive(world, builder):
    content = f"uploaded for {builder} {uuid.uuid4().hex}\n"
    job = start_build(
        world,
        files=context_files(content),
        image=image_name(f"upload-{builder}"),
        tags=["1.0", "latest"],
        builder=builder,
    )
    job = wait_for(world.api, world.server, job["id"])
    assert job["status"] == "succeeded", job["error"]
    assert job["builder"] == builder and job["requested_by"] == "dev"
    assert all(p == {"done": 4, "total": 4, "state": "pushed", "percent": 100} for p in job["progress"].values())
    assert_pushed(world, job, content=content)
    if builder == "docker":
        assert any("build --no-cache --platform linux/arm64" in c for c in job["commands"])
        assert any(" manifest push --insecure --purge " in c for c in job["commands"])
    else:
        assert any(
            "--platform linux/amd64,linux/arm64 --authfile " in c and " --manifest " in c for c in job["commands"]
        )
    log = full_log(world.api, world.server, job["id"])
    assert log[-1].startswith("  linux/") and any("pushed " in line for line in log)


@pytest.mark.parametrize("builder,ref", [("docker", "v1.0"), ("buildah", "main")])
def test_build_from_git(world, builder, ref):
    job = start_build(
        world,
        git_url=world.git.url,
        git_ref=ref,
        context_dir="app",
        image=image_name(f"git-{builder}"),
        tags=["2.0"],
        builder=builder,
    )
    job = wait_for(world.api, world.server, job["id"])
    assert job["status"] == "succeeded", job["error"]
    assert job["source_commit"] == world.git.commits[ref]
    assert_pushed(world, job, content="from git v1\n" if ref == "v1.0" else "from git v2\n")
    manifest, _, _ = registry_manifest(
        world.server, f"docker-local/{job['image']}", "2.0-linux-arm64", session=world.api
    )
    config = world.api.get(
        f"{world.server.url}/v2/docker-local/{job['image']}/blobs/{manifest['config']['digest']}"
    ).json()
    labels = config["config"]["Labels"]
    assert labels["org.opencontainers.image.revision"] == job["source_commit"]
    assert labels["org.opencontainers.image.source"] == world.git.url


def test_failing_dockerfile_fails_with_the_log(world):
    files = context_files("x", dockerfile="FROM scratch\nCOPY missing.txt /\n")
    image = image_name("broken")
    job = wait_for(world.api, world.server, start_build(world, files=files, image=image, builder="docker")["id"])
    assert job["status"] == "failed" and "exit status" in job["error"]
    assert job["progress"]["linux/amd64"]["state"] == "failed"
    log = full_log(world.api, world.server, job["id"])
    assert any("missing.txt" in line for line in log) and log[-1].startswith("build failed:")
    assert registry_tags(world, image) == set()


def test_cancel_stops_the_tree_and_leaves_no_tag(world):
    image = image_name("cancel")
    job = start_build(
        world,
        files=context_files("c", dockerfile=PAUSE_DOCKERFILE),
        image=image,
        platforms=["linux/amd64"],
        builder="docker",
    )
    wait_for(
        world.api,
        world.server,
        job["id"],
        until=lambda j: (
            j["status"] == "building" and any("RUN" in line for line in full_log(world.api, world.server, j["id"]))
        ),
    )
    asked = time.monotonic()
    response = world.api.post(f"{world.server.url}/api/builds/{job['id']}/cancel/")
    assert response.status_code == 202 and response.json()["cancel_requested"]
    job = wait_for(world.api, world.server, job["id"], timeout=60)
    print(f"cancel: build ended {time.monotonic() - asked:.1f} s after the request")
    assert job["status"] == "cancelled" and job["error"] == "cancelled while building"
    assert job["progress"]["linux/amd64"]["state"] == "cancelled"
    assert registry_tags(world, image) == set()
    wait_until(
        lambda: not processes_mentioning(f"tmp-build-{job['id']}", f"/build-{job['id']}-"),
        what="the build's processes to end",
        timeout=30,
    )
    wait_until(
        lambda: "/pause" not in run("docker", "ps", "--format", "{{.Command}}"),
        what="the build's containers to go",
        timeout=30,
    )
    assert world.api.post(f"{world.server.url}/api/builds/{job['id']}/cancel/").status_code == 409


def test_time_limit(world):
    image = image_name("slow")
    job = start_build(
        world,
        files=context_files("s", dockerfile=PAUSE_DOCKERFILE),
        image=image,
        platforms=["linux/amd64"],
        builder="buildah",
        time_limit=5,
    )
    job = wait_for(world.api, world.server, job["id"], timeout=90)
    assert job["status"] == "failed" and "time limit of 5 s" in job["error"]
    assert registry_tags(world, image) == set()
    wait_until(
        lambda: not processes_mentioning(f"/build-{job['id']}-"), what="the build's processes to end", timeout=30
    )


def test_malicious_archives_are_refused(world):
    for case, (filename, data) in malicious_archives().items():
        response = world.api.post(
            f"{world.server.url}/api/builds/",
            data={"repository": "docker-local", "image": "evil", "platforms": "linux/amd64"},
            files={"context": (filename, data)},
        )
        assert response.status_code == 400, (case, response.text)
        assert response.json()["errors"][0]["detail"]["context"][0], case


def test_git_policy_and_permissions(world):
    url = world.server.url
    port = world.git.url.split(":")[2].split("/")[0]
    for git_url in (f"git://localhost:{port}/app.git", "http://169.254.169.254/latest", "file:///etc"):
        response = world.api.post(
            f"{url}/api/builds/",
            json={"repository": "docker-local", "image": "x", "platforms": TWO, "git_url": git_url},
        )
        assert response.status_code == 400 and "git_url" in response.json()["errors"][0]["detail"], git_url
    # dev may not write docker-target (nor even see it): refused before anything runs.
    response = world.api.post(
        f"{url}/api/builds/",
        json={"repository": "docker-target", "image": "x", "platforms": TWO, "git_url": world.git.url},
    )
    assert response.status_code == 400 and "repository" in response.json()["errors"][0]["detail"]


def test_cli_prints_the_log_as_it_runs(world, tmp_path):
    context = tmp_path / "ctx"
    context.mkdir()
    for name, data in context_files("from the cli\n").items():
        (context / name).write_bytes(data)
    image = image_name("cli")
    out = world.server.manage(
        "build",
        "--user",
        "dev",
        "--context",
        str(context),
        "--repository",
        "docker-local",
        "--image",
        image,
        "--tag",
        "cli",
        "--platform",
        "linux/amd64,linux/arm64",
        "--builder",
        "buildah",
    )
    assert "STEP 2/4: COPY hello.txt /" in out and "succeeded: sha256:" in out
    assert {"cli", "cli-linux-amd64", "cli-linux-arm64"} <= registry_tags(world, image)


def test_live_log_and_progress_in_a_browser(world, browser, tmp_path):
    """Real Chromium: the form uploads a context; the build page streams the log and moves the progress
    bars while the build runs (htmx polling, CSP as served); the cancel button stops it."""
    from playwright.sync_api import expect

    artifacts = PROJECT_ROOT / "test-artifacts" / "builds"
    artifacts.mkdir(parents=True, exist_ok=True)
    archive = tmp_path / "live.tar.gz"
    archive.write_bytes(tar_gz(context_files("live", dockerfile=PAUSE_DOCKERFILE)))
    url = world.server.url
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    page.goto(f"{url}/accounts/login/?next=/builds/new/")
    page.fill("#id_username", "dev")
    page.fill("#id_password", DEV_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/builds/new/")
    page.check("input[name=source][value=archive]")
    assert page.locator(".source-git").is_hidden()  # builds.js shows the chosen source only
    page.set_input_files("#id_context", str(archive))
    page.select_option("#id_repository", "docker-local")
    page.fill("#id_image", image_name("live"))
    page.fill("#id_tags", "live")
    page.select_option("#id_builder", "docker")
    assert page.is_checked("input[name=platforms][value='linux/amd64']")
    assert page.is_checked("input[name=platforms][value='linux/arm64']")
    page.click("form.buildform button[type=submit]")
    page.wait_for_url("**/builds/*/")
    build_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    # Lines arrive while the build runs: the RUN step never ends, so nothing here is a finished log.
    page.locator("#build-log .line", has_text="Step 4/4 : RUN").wait_for(timeout=90000)
    page.locator("#build-status[data-status=building]").wait_for(timeout=30000)
    amd64 = "tr[data-platform='linux/amd64'] progress"
    expect(page.locator(amd64)).to_have_attribute("value", "75", timeout=30000)  # 3 of 4 steps
    assert page.locator("tr[data-platform='linux/arm64'] progress").get_attribute("value") == "0"
    assert "3/4" in page.locator("tr[data-platform='linux/amd64']").inner_text()
    page.screenshot(path=str(artifacts / "build-live.png"), full_page=True)
    page.click("#build-status button[type=submit]")  # Cancel build
    page.locator("#build-status[data-status=cancelled]").wait_for(timeout=30000)
    page.locator("#build-log .line", has_text="build cancelled").wait_for(timeout=30000)
    page.screenshot(path=str(artifacts / "build-cancelled.png"), full_page=True)
    done = world.api.get(f"{url}/api/builds/", params={"status": "succeeded"}).json()["results"][0]
    page.goto(f"{url}/builds/{done['id']}/")
    assert page.locator("progress").evaluate_all("bars => bars.map(b => b.value)") == [100] * len(done["platforms"])
    assert done["index_digest"] in page.content()
    page.screenshot(path=str(artifacts / "build-succeeded.png"), full_page=True)
    # Provenance: the image's tag page links back to the build that produced it.
    page.goto(f"{url}/repositories/docker-local/{done['image']}/-/tags/{done['tags'][0]}/")
    page.click("a.provenance")
    page.wait_for_url(f"**/builds/{done['id']}/")
    assert world.api.get(f"{url}/api/builds/{build_id}/").json()["status"] == "cancelled"
    assert not [e for e in console_errors if "Content Security Policy" in e or "Refused" in e], console_errors


def test_killed_worker_leaves_the_build_failed(world):
    """kill -9 of the worker mid-build: its commands die with it, and the reconciler (on beat) fails the job."""
    server = world.server
    image = image_name("killed")
    job = start_build(
        world,
        files=context_files("k", dockerfile=PAUSE_DOCKERFILE),
        image=image,
        platforms=["linux/amd64"],
        builder="docker",
    )
    wait_for(
        world.api,
        server,
        job["id"],
        until=lambda j: (
            j["status"] == "building" and any("RUN" in line for line in full_log(world.api, server, j["id"]))
        ),
    )
    server.stop_worker(server.extra.pop("worker"), kill=True)
    wait_until(
        lambda: not processes_mentioning(f"tmp-build-{job['id']}"), what="the build's processes to end", timeout=30
    )
    beat = server.start_beat()
    try:
        server.extra["worker"] = server.start_worker()
        job = wait_for(world.api, server, job["id"], timeout=120)
    finally:
        server.stop_worker(beat)
    assert job["status"] == "failed" and "stopped answering" in job["error"]
    assert registry_tags(world, image) == set()
    log = full_log(world.api, server, job["id"])
    assert "stopped answering" in log[-1]
    wait_until(
        lambda: "/pause" not in run("docker", "ps", "--format", "{{.Command}}"),
        what="the build's containers to go",
        timeout=30,
    )
    # The dead worker's directory stays until a later build on this host sweeps it (when it is a minute old).
    [left] = (server.data_dir / "build-work").glob(f"build-{job['id']}-*")
    os.utime(left, (time.time() - 120, time.time() - 120))
    # The worker that replaced it builds as usual.
    again = start_build(world, files=context_files("after\n"), image=image_name("after"), builder="buildah")
    assert wait_for(world.api, server, again["id"])["status"] == "succeeded"
    assert not left.exists()


def test_api_lists_and_shows_builds(world):
    listing = world.api.get(f"{world.server.url}/api/builds/", params={"status": "succeeded"}).json()
    assert listing["count"] >= 1 and all(j["status"] == "succeeded" for j in listing["results"])
    anonymous = requests.get(f"{world.server.url}/api/builds/").json()
    assert anonymous["count"] == 0  # builds into private repositories stay hidden
    detail = world.api.get(f"{world.server.url}{listing['results'][0]['url']}").json()
    assert json.dumps(detail) and detail["index_digest"].startswith("sha256:")
