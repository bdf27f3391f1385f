"""Browser pages: form, list, build page and its htmx fragments (no inline script or style: CSP)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from builds.models import BuildJob
from builds.services.logs import LogWriter, build_log_archive
from builds.tests.archive_samples import good_context, tar_bytes


@pytest.fixture
def browser(people, settings):
    settings.BUILD_GIT_ALLOWED_HOSTS = ["127.0.0.1"]
    client = Client()
    client.force_login(people.writer)
    return client


def no_inline_code(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert " style=" not in html and "<style" not in html, "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_pages_need_a_login(people):
    response = Client().get("/builds/new/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_form_starts_a_git_build(browser):
    page = browser.get("/builds/new/")
    html = page.content.decode()
    assert page.status_code == 200 and 'value="linux/arm64"' in html and 'value="docker-local"' in html
    no_inline_code(html)
    response = browser.post(
        "/builds/new/",
        {
            "source": "git",
            "git_url": "git://127.0.0.1:9/app.git",
            "git_ref": "main",
            "dockerfile": "Dockerfile",
            "platforms": ["linux/amd64", "linux/arm64"],
            "build_args": "A=1\nB=2",
            "repository": "docker-local",
            "image": "app",
            "tags": "1.0, latest",
            "builder": "",
        },
    )
    job = BuildJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/builds/{job.pk}/"
    assert job.tags == ["1.0", "latest"] and job.build_args == {"A": "1", "B": "2"} and job.git_ref == "main"


def test_form_upload_and_errors(browser):
    upload = SimpleUploadedFile("ctx.tar", tar_bytes(good_context()))
    response = browser.post(
        "/builds/new/",
        {
            "source": "archive",
            "context": upload,
            "dockerfile": "Dockerfile",
            "platforms": ["linux/amd64"],
            "repository": "docker-local",
            "image": "app",
            "tags": "latest",
        },
    )
    assert response.status_code == 302 and BuildJob.objects.get().source_type == "archive"
    refused = browser.post(
        "/builds/new/",
        {
            "source": "git",
            "git_url": "http://169.254.169.254/x",
            "dockerfile": "Dockerfile",
            "platforms": ["linux/amd64"],
            "repository": "docker-local",
            "image": "app",
            "tags": "latest",
        },
    )
    assert refused.status_code == 200 and "non-public address" in refused.content.decode()
    assert BuildJob.objects.count() == 1


def test_build_page_and_fragments(browser):
    browser.post(
        "/builds/new/",
        {
            "source": "git",
            "git_url": "git://127.0.0.1:9/app.git",
            "dockerfile": "Dockerfile",
            "platforms": ["linux/amd64", "linux/arm64"],
            "repository": "docker-local",
            "image": "app",
            "tags": "1.0",
        },
    )
    job = BuildJob.objects.get()
    BuildJob.objects.filter(pk=job.pk).update(
        status="building", progress={"linux/amd64": {"done": 2, "total": 4, "state": "building"}}
    )
    page = browser.get(f"/builds/{job.pk}/").content.decode()
    no_inline_code(page)
    assert 'hx-get="/builds/%d/status/"' % job.pk in page and 'value="50"' in page
    assert f'data-log-url="/api/builds/{job.pk}/log"' in page  # builds.js polls it from a line index
    writer = LogWriter(job.pk)
    writer.line("<script>alert(1)</script>")  # the page sets it as text, never as HTML
    writer.line("")
    writer.flush()
    first = browser.get(f"/api/builds/{job.pk}/log", {"start": 0}).json()
    assert first == {
        "start": 0,
        "next": 2,
        "complete": False,
        "status": "building",
        "lines": ["<script>alert(1)</script>", ""],
    }
    assert browser.get(f"/api/builds/{job.pk}/log", {"start": 2}).json()["lines"] == []
    status = browser.get(f"/builds/{job.pk}/status/")
    assert status.status_code == 200 and "every 1s" in status.content.decode()
    BuildJob.objects.filter(pk=job.pk).update(status="failed", error="the Dockerfile is broken")
    build_log_archive(job=job)
    status = browser.get(f"/builds/{job.pk}/status/")
    assert status.status_code == 286 and "the Dockerfile is broken" in status.content.decode()
    assert "hx-trigger" not in status.content.decode()
    final = browser.get(f"/api/builds/{job.pk}/log", {"start": 1}).json()
    assert final["complete"] and final["lines"] == [""] and final["next"] == 2  # the archive: same lines, same index
    listing = browser.get("/builds/").content.decode()
    assert f"/builds/{job.pk}/" in listing and "Failed" in listing


def test_cancel_button(browser):
    browser.post(
        "/builds/new/",
        {
            "source": "git",
            "git_url": "git://127.0.0.1:9/app.git",
            "dockerfile": "Dockerfile",
            "platforms": ["linux/amd64"],
            "repository": "docker-local",
            "image": "app",
            "tags": "1.0",
        },
    )
    job = BuildJob.objects.get()
    response = browser.post(f"/builds/{job.pk}/cancel/")
    assert response.status_code == 302
    assert BuildJob.objects.get(pk=job.pk).status == "cancelled"


def test_a_finished_build_offers_promote_this_build_and_home_lists_builds(browser, people):
    browser.post(
        "/builds/new/",
        {
            "source": "git",
            "git_url": "git://127.0.0.1:9/app.git",
            "dockerfile": "Dockerfile",
            "platforms": ["linux/amd64"],
            "repository": "docker-local",
            "image": "team/app",
            "tags": "1.0, latest",
        },
    )
    job = BuildJob.objects.get()
    admin = Client()
    admin.force_login(people.admin)
    assert "Promote this build" not in admin.get(f"/builds/{job.pk}/").content.decode()  # not finished yet
    BuildJob.objects.filter(pk=job.pk).update(status="succeeded", index_digest="sha256:" + "a" * 64)
    page = admin.get(f"/builds/{job.pk}/").content.decode()
    no_inline_code(page)
    assert 'href="/promotions/new/?repository=docker-local&amp;image=team%2Fapp&amp;tag=1.0">Promote this build' in page
    assert 'href="/promotions/new/?repository=docker-local&amp;image=team%2Fapp&amp;tag=latest">latest' in page
    form = admin.get("/promotions/new/?repository=docker-local&image=team%2Fapp&tag=1.0").content.decode()
    assert 'value="team/app"' in form and 'value="1.0"' in form  # the promotion form, filled in
    status = admin.get(f"/builds/{job.pk}/status/").content.decode()
    assert "Promote this build" in status  # the polled status panel gains it when the build ends
    # Write access alone does not offer a promotion (the form would refuse it).
    assert "Promote this build" not in browser.get(f"/builds/{job.pk}/").content.decode()
    home = browser.get("/").content.decode()
    assert f'href="/builds/{job.pk}/"' in home and "docker-local/team/app:1.0, latest" in home
    assert "Succeeded" in home
    outsider = Client()
    outsider.force_login(people.outsider)
    assert f'href="/builds/{job.pk}/"' not in outsider.get("/").content.decode()  # builds they cannot see
