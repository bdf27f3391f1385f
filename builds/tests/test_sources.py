"""Context preparation: Git refs of every kind from a real `git daemon`, and the context/Dockerfile checks."""

import os

import pytest

from builds.errors import ArchiveRefused, BuildError
from builds.models import BuildJob
from builds.procs import run_command
from builds.sources import git_checkout, source_prepare
from builds.tests.archive_samples import good_context, tar_bytes
from builds.tests.e2e.helpers import git, serve_git, start_git_server


def runner(log: list[str]):
    def run(argv, *, env=None, cwd=None):
        log.append(" ".join(argv))
        result = run_command(argv, on_line=log.append, check=lambda: None, env={**os.environ, **(env or {})}, cwd=cwd)
        if result.returncode:
            raise BuildError(f"{argv[0]} failed")

    return run


@pytest.fixture(scope="module")
def git_server(tmp_path_factory):
    server = start_git_server(tmp_path_factory.mktemp("git"))
    yield server
    server.stop()


@pytest.fixture
def allow_local(settings):
    settings.BUILD_GIT_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.mark.parametrize("ref,expected", [("", "main"), ("main", "main"), ("v1.0", "v1.0")])
def test_git_refs(git_server, tmp_path, allow_local, ref, expected):
    log = []
    commit = git_checkout(url=git_server.url, ref=ref, dest=tmp_path / "src", workdir=tmp_path, run=runner(log))
    assert commit == git_server.commits[expected]
    assert (tmp_path / "src/app/hello.txt").read_text() == ("from git v1\n" if expected == "v1.0" else "from git v2\n")
    assert not (tmp_path / "src/.git").exists()
    assert any("--depth 1" in line and "http.followRedirects=false" in line for line in log)


@pytest.mark.parametrize("length", [40, 10])
def test_git_commit_full_and_abbreviated(git_server, tmp_path, allow_local, length):
    first = git_server.commits["v1.0"]
    commit = git_checkout(
        url=git_server.url, ref=first[:length], dest=tmp_path / "src", workdir=tmp_path, run=runner([])
    )
    assert commit == first


def test_git_unknown_ref_and_refused_host(git_server, tmp_path, settings):
    settings.BUILD_GIT_ALLOWED_HOSTS = ["127.0.0.1"]
    with pytest.raises(BuildError, match="could not fetch"):
        git_checkout(url=git_server.url, ref="no-such-branch", dest=tmp_path / "a", workdir=tmp_path, run=runner([]))
    settings.BUILD_GIT_ALLOWED_HOSTS = []  # checked again at run time, not only when the build was asked for
    with pytest.raises(BuildError, match="non-public"):
        git_checkout(url=git_server.url, ref="main", dest=tmp_path / "b", workdir=tmp_path, run=runner([]))


def test_git_checkout_with_a_link_out_is_refused(tmp_path, allow_local):
    work = tmp_path / "evil"
    work.mkdir()
    git("init", "--quiet", "--initial-branch", "main", cwd=work)
    (work / "Dockerfile").write_text("FROM scratch\nCOPY secret /\n")
    os.symlink("/etc/passwd", work / "secret")
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "evil", cwd=work)
    served = tmp_path / "served"
    served.mkdir()
    git("clone", "--quiet", "--bare", str(work), str(served / "evil.git"), cwd=tmp_path)
    server, base = serve_git(served, log_path=tmp_path / "daemon.log")
    try:
        job = BuildJob(
            source_type="git",
            git_url=f"{base}/evil.git",
            dockerfile="Dockerfile",
            platforms=["linux/amd64"],
            time_limit=60,
        )
        with pytest.raises(ArchiveRefused, match="outside the context"):
            source_prepare(job=job, workdir=tmp_path / "w", run=runner([]), log=lambda _: None)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize(
    "context_dir,dockerfile,message",
    [
        ("missing", "Dockerfile", "context directory"),
        ("", "nope/Dockerfile", "Dockerfile"),
    ],
)
def test_archive_context_checks(tmp_path, context_dir, dockerfile, message):
    archive = tmp_path / "ctx.tar"
    archive.write_bytes(tar_bytes(good_context()))
    job = BuildJob(
        source_type="archive",
        archive_path=str(archive),
        context_dir=context_dir,
        dockerfile=dockerfile,
        platforms=["linux/amd64"],
        time_limit=60,
    )
    with pytest.raises(BuildError, match=message):
        source_prepare(job=job, workdir=tmp_path / "w", run=runner([]), log=lambda _: None)
