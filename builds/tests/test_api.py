"""REST API: input shapes (JSON arrays, repeated multipart fields, comma lists), refusals, log, cancel."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from builds.models import BuildJob, BuildLog
from builds.services.logs import LogWriter, build_log_archive
from builds.tests.archive_samples import good_context, malicious_archives, tar_bytes

ALLOWED_GIT = "git://127.0.0.1:9/team/app.git"


@pytest.fixture
def api(people, settings):
    settings.BUILD_GIT_ALLOWED_HOSTS = ["127.0.0.1"]
    client = APIClient()
    client.force_authenticate(people.writer)
    return client


def archive_upload(data: bytes | None = None, name: str = "ctx.tar.gz"):
    return SimpleUploadedFile(name, data if data is not None else tar_bytes(good_context(), gz=True))


def test_json_request_with_git_source(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as sent:
        response = api.post(
            "/api/builds/",
            {
                "repository": "docker-local",
                "image": "team/app",
                "tags": ["1.0", "latest"],
                "platforms": ["linux/amd64", "linux/arm64"],
                "git_url": ALLOWED_GIT,
                "git_ref": "v1.0",
                "context_dir": "services/web",
                "dockerfile": "docker/Dockerfile",
                "build_args": {"VERSION": "1.0"},
                "target": "runtime",
                "builder": "buildah",
                "time_limit": 600,
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and response["Location"] == f"/api/builds/{body['id']}/"
    assert len(sent) == 1  # "run build N" goes to the broker only after the commit
    job = BuildJob.objects.get(pk=body["id"])
    assert (job.source_type, job.git_url, job.git_ref, job.context_dir) == ("git", ALLOWED_GIT, "v1.0", "services/web")
    assert (job.tags, job.platforms, job.build_args) == (
        ["1.0", "latest"],
        ["linux/amd64", "linux/arm64"],
        {"VERSION": "1.0"},
    )
    assert (job.dockerfile, job.target_stage, job.requested_builder, job.time_limit) == (
        "docker/Dockerfile",
        "runtime",
        "buildah",
        600,
    )
    assert job.requested_by.username == job.requested_by_name == "writer"


def test_multipart_with_repeated_and_comma_separated_fields(api, build_dirs):
    response = api.post(
        "/api/builds/",
        {
            "repository": "docker-local",
            "image": "app",
            "tags": "1.0,latest",
            "platforms": ["linux/amd64", "linux/arm64,linux/arm/v7"],
            "build_args": ["A=1", "B=x=y"],
            "context": archive_upload(),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    job = BuildJob.objects.get(pk=response.json()["id"])
    assert job.tags == ["1.0", "latest"]
    assert job.platforms == ["linux/amd64", "linux/arm64", "linux/arm/v7"]
    assert job.build_args == {"A": "1", "B": "x=y"}
    assert job.source_type == "archive" and job.archive_name == "ctx.tar.gz"
    stored = build_dirs / "build-contexts"
    assert [p.name for p in stored.iterdir()] == [job.archive_path.rsplit("/", 1)[1]]


def test_build_args_keyed_by_platform(api):
    response = api.post(
        "/api/builds/",
        {
            "repository": "docker-local",
            "image": "app",
            "platforms": ["linux/amd64", "linux/arm64"],
            "git_url": ALLOWED_GIT,
            "build_args": [
                "V=1",
                "linux/arm64:ARCH=h:5000/docker-local/arm64v8/",
                "linux/amd64:ARCH=h:5000/docker-local/amd64/",
            ],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["build_args"] == {
        "V": "1",
        "linux/arm64": {"ARCH": "h:5000/docker-local/arm64v8/"},
        "linux/amd64": {"ARCH": "h:5000/docker-local/amd64/"},
    }
    as_json = {"V": "1", "linux/arm64": {"ARCH": "arm64v8/"}}
    response = api.post(
        "/api/builds/",
        {
            "repository": "docker-local",
            "image": "app",
            "git_url": ALLOWED_GIT,
            "platforms": ["linux/amd64", "linux/arm64"],
            "build_args": as_json,
        },
        format="json",
    )
    assert response.status_code == 201 and response.json()["build_args"] == as_json


def test_json_comma_string_is_accepted_too(api):
    response = api.post(
        "/api/builds/",
        {"repository": "docker-local", "image": "app", "platforms": "linux/arm64, linux/amd64", "git_url": ALLOWED_GIT},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["platforms"] == ["linux/arm64", "linux/amd64"] and response.json()["tags"] == ["latest"]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"platforms": ["windows/amd64"]}, "platforms"),
        ({"platforms": []}, "platforms"),
        ({"git_url": "file:///etc"}, "git_url"),
        ({"git_url": "http://169.254.169.254/x"}, "git_url"),
        ({"git_ref": "--upload-pack=x"}, "git_ref"),
        ({"image": "Bad Name"}, "image"),
        ({"tags": ["tmp-build-1"]}, "tags"),
        ({"tags": ["-x"]}, "tags"),
        ({"dockerfile": "../Dockerfile"}, "dockerfile"),
        ({"context_dir": "/etc"}, "context_dir"),
        ({"build_args": {"1BAD": "x"}}, "build_args"),
        ({"build_args": {"linux/arm64": {"ARCH": "x"}}}, "build_args"),  # not a platform of this build
        ({"build_args": {"linux/amd64": {"ARCH": {"deep": "x"}}}}, "build_args"),
        ({"build_args": ["linux/amd64:1BAD=x"]}, "build_args"),
        ({"builder": "kaniko"}, "builder"),
        ({"repository": "nope"}, "repository"),
        ({"git_url": ""}, "context"),
    ],
)
def test_invalid_requests_get_400_on_their_field(api, change, field):
    body = {
        "repository": "docker-local",
        "image": "app",
        "platforms": ["linux/amd64"],
        "git_url": ALLOWED_GIT,
        **change,
    }
    response = api.post("/api/builds/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"][0]["detail"]
    assert not BuildJob.objects.exists()


def test_both_sources_at_once_are_refused(api):
    response = api.post(
        "/api/builds/",
        {
            "repository": "docker-local",
            "image": "app",
            "platforms": "linux/amd64",
            "git_url": ALLOWED_GIT,
            "context": archive_upload(),
        },
        format="multipart",
    )
    assert response.status_code == 400 and "context" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize(
    "case",
    [
        "dotdot tar",
        "symlink out tar",
        "char device tar",
        "gzip bomb",
        "symlink chain tar",
        "zip bomb (lying header)",
        "not an archive",
        # issue 12, defect 10: refused at upload, not when the build runs
        "hardlink to missing tar",
        "file then dir tar",
        "file under a file zip",
        "truncated gzip after the tar's end",
        "6000-character path tar",
    ],
)
def test_malicious_archives_are_refused_at_upload(api, build_dirs, case):
    filename, data = malicious_archives()[case]
    response = api.post(
        "/api/builds/",
        {
            "repository": "docker-local",
            "image": "app",
            "platforms": "linux/amd64",
            "context": archive_upload(data, filename),
        },
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["errors"][0]["detail"]["context"][0], response.content
    assert not BuildJob.objects.exists()
    assert not any((build_dirs / "build-contexts").iterdir())  # the refused upload is not kept


def test_permissions(people, settings):
    settings.BUILD_GIT_ALLOWED_HOSTS = ["127.0.0.1"]
    body = {"repository": "docker-local", "image": "app", "platforms": ["linux/amd64"], "git_url": ALLOWED_GIT}
    client = APIClient()
    assert client.post("/api/builds/", body, format="json").status_code in (401, 403)
    client.force_authenticate(people.reader)
    assert client.post("/api/builds/", body, format="json").status_code == 403
    client.force_authenticate(people.outsider)  # cannot even see the repository: same answer as unknown
    response = client.post("/api/builds/", body, format="json")
    assert (
        response.status_code == 400 and "unknown repository" in response.json()["errors"][0]["detail"]["repository"][0]
    )
    client.force_authenticate(people.writer)
    created = client.post("/api/builds/", body, format="json").json()
    client.force_authenticate(people.outsider)
    assert client.get(f"/api/builds/{created['id']}/").status_code == 404
    assert client.get("/api/builds/").json()["count"] == 0
    client.force_authenticate(people.reader)
    assert client.get(f"/api/builds/{created['id']}/").status_code == 200
    assert client.post(f"/api/builds/{created['id']}/cancel/").status_code == 403


def test_log_from_a_line_index_live_then_archived(api):
    job_id = api.post(
        "/api/builds/",
        {"repository": "docker-local", "image": "app", "platforms": ["linux/amd64"], "git_url": ALLOWED_GIT},
        format="json",
    ).json()["id"]
    writer = LogWriter(job_id)
    for i in range(5):
        writer.line(f"line {i}\n")
    writer.flush()
    page = api.get(f"/api/builds/{job_id}/log?start=2").json()
    assert page == {
        "start": 2,
        "next": 5,
        "complete": False,
        "status": "queued",
        "lines": ["line 2", "line 3", "line 4"],
    }
    job = BuildJob.objects.get(pk=job_id)
    BuildJob.objects.filter(pk=job_id).update(status="failed")
    build_log_archive(job=job)
    assert BuildLog.objects.get(job=job).line_count == 5
    page = api.get(f"/api/builds/{job_id}/log?start=4").json()
    assert page["lines"] == ["line 4"] and page["complete"] and page["next"] == 5
    assert api.get(f"/api/builds/{job_id}/log?start=x").status_code == 400


def test_cancel_a_queued_build(api, people):
    job_id = api.post(
        "/api/builds/",
        {"repository": "docker-local", "image": "app", "platforms": ["linux/amd64"], "git_url": ALLOWED_GIT},
        format="json",
    ).json()["id"]
    response = api.post(f"/api/builds/{job_id}/cancel/")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    assert api.post(f"/api/builds/{job_id}/cancel/").status_code == 409
    log = api.get(f"/api/builds/{job_id}/log").json()
    assert log["complete"] and "cancelled by writer before it started" in log["lines"][-1]


def test_cancel_a_running_build_only_flags_it(api):
    job_id = api.post(
        "/api/builds/",
        {"repository": "docker-local", "image": "app", "platforms": ["linux/amd64"], "git_url": ALLOWED_GIT},
        format="json",
    ).json()["id"]
    BuildJob.objects.filter(pk=job_id).update(status="building")
    body = api.post(f"/api/builds/{job_id}/cancel/").json()
    assert body["status"] == "building" and body["cancel_requested"] is True


def test_openapi_schema_lists_the_build_endpoints(api):
    schema = api.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert {"/api/builds/", "/api/builds/{id}/", "/api/builds/{id}/log", "/api/builds/{id}/cancel/"} <= set(paths)
