"""`manage.py build`: the same options as the API; a directory context is packed into a tar."""

import tarfile

import pytest
from django.core.management import CommandError, call_command

from builds.models import BuildJob


def test_cli_queues_a_directory_context(people, tmp_path, capsys, django_capture_on_commit_callbacks):
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nCOPY a /\n")
    (context / "a").write_text("a")
    with django_capture_on_commit_callbacks() as sent:
        call_command(
            "build",
            "--user",
            "writer",
            "--context",
            str(context),
            "--repository",
            "docker-local",
            "--image",
            "cli",
            "--tag",
            "1.0,latest",
            "--platform",
            "linux/amd64",
            "--platform",
            "linux/arm64",
            "--build-arg",
            "A=1",
            "--builder",
            "buildah",
            "--no-follow",
        )
    job = BuildJob.objects.get()
    assert len(sent) == 1 and f"build #{job.pk}" in capsys.readouterr().out
    assert (job.tags, job.platforms, job.build_args, job.requested_builder) == (
        ["1.0", "latest"],
        ["linux/amd64", "linux/arm64"],
        {"A": "1"},
        "buildah",
    )
    with tarfile.open(job.archive_path) as archive:
        assert sorted(m.name for m in archive.getmembers() if m.isfile()) == ["./Dockerfile", "./a"]


def test_cli_refusals(people):
    with pytest.raises(CommandError, match="no active user"):
        call_command(
            "build",
            "--user",
            "ghost",
            "--git-url",
            "git://127.0.0.1/x",
            "--repository",
            "docker-local",
            "--image",
            "x",
            "--platform",
            "linux/amd64",
        )
    with pytest.raises(CommandError, match="non-public"):
        call_command(
            "build",
            "--user",
            "writer",
            "--git-url",
            "git://127.0.0.1/x",
            "--repository",
            "docker-local",
            "--image",
            "x",
            "--platform",
            "linux/amd64",
        )
