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
    response = browser.post("/builds/new/", {
        "source": "git", "git_url": "git://127.0.0.1:9/app.git", "git_ref": "main", "dockerfile": "Dockerfile",
        "platforms": ["linux/amd64", "linux/arm64"], "build_args": "A=1\nB=2", "repository": "docker-local",
        "image": "app", "tags": "1.0, latest", "builder": "",
    })
    job = BuildJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/builds/{job.pk}/"
    assert job.tags == ["1.0", "latest"] and job.build_args == {"A": "1", "B": "2"} and job.git_ref == "main"


def test_form_upload_and_errors(browser):
    upload = SimpleUploadedFile("ctx.tar", tar_bytes(good_context()))
    response = browser.post("/builds/new/", {
        "source": "archive", "context": upload, "dockerfile": "Dockerfile", "platforms": ["linux/amd64"],
        "repository": "docker-local", "image": "app", "tags": "latest",
    })
    assert response.status_code == 302 and BuildJob.objects.get().source_type == "archive"
    refused = browser.post("/builds/new/", {
        "source": "git", "git_url": "http://169.254.169.254/x", "dockerfile": "Dockerfile",
        "platforms": ["linux/amd64"], "repository": "docker-local", "image": "app", "tags": "latest",
    })
    assert refused.status_code == 200 and "non-public address" in refused.content.decode()
    assert BuildJob.objects.count() == 1


def test_build_page_and_fragments(browser):
    browser.post("/builds/new/", {
        "source": "git", "git_url": "git://127.0.0.1:9/app.git", "dockerfile": "Dockerfile",
        "platforms": ["linux/amd64", "linux/arm64"], "repository": "docker-local", "image": "app", "tags": "1.0",
    })
    job = BuildJob.objects.get()
    BuildJob.objects.filter(pk=job.pk).update(
        status="building", progress={"linux/amd64": {"done": 2, "total": 4, "state": "building"}})
    page = browser.get(f"/builds/{job.pk}/").content.decode()
    no_inline_code(page)
    assert 'hx-get="/builds/%d/status/"' % job.pk in page and 'value="50"' in page
    assert f'hx-get="/builds/{job.pk}/log/?start=0"' in page
    writer = LogWriter(job.pk)
    writer.line("<script>alert(1)</script>")
    writer.flush()
    fragment = browser.get(f"/builds/{job.pk}/log/?start=0")
    text = fragment.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text
    assert f"?start=1" in text  # the next poll asks for the following lines
    status = browser.get(f"/builds/{job.pk}/status/")
    assert status.status_code == 200 and "every 1s" in status.content.decode()
    BuildJob.objects.filter(pk=job.pk).update(status="failed", error="the Dockerfile is broken")
    build_log_archive(job=job)
    status = browser.get(f"/builds/{job.pk}/status/")
    assert status.status_code == 286 and "the Dockerfile is broken" in status.content.decode()
    assert "hx-trigger" not in status.content.decode()
    final = browser.get(f"/builds/{job.pk}/log/?start=1").content.decode()
    assert "log-poller" not in final  # complete: polling stops
    listing = browser.get("/builds/").content.decode()
    assert f"/builds/{job.pk}/" in listing and "Failed" in listing


def test_cancel_button(browser):
    browser.post("/builds/new/", {
        "source": "git", "git_url": "git://127.0.0.1:9/app.git", "dockerfile": "Dockerfile",
        "platforms": ["linux/amd64"], "repository": "docker-local", "image": "app", "tags": "1.0",
    })
    job = BuildJob.objects.get()
    response = browser.post(f"/builds/{job.pk}/cancel/")
    assert response.status_code == 302
    assert BuildJob.objects.get(pk=job.pk).status == "cancelled"
