"""Per-platform progress parsed from recorded builder output (buildx plain, legacy docker, buildah)."""

from pathlib import Path

from builds.progress import (
    BUILDING,
    BUILT,
    FAILED,
    PUSHING,
    WAITING,
    BuildahParser,
    BuildxParser,
    DockerLegacyParser,
    Progress,
    percent,
)

DATA = Path(__file__).parent / "data"
TWO = ["linux/amd64", "linux/arm64"]


def lines(name: str) -> list[str]:
    return (DATA / name).read_text().splitlines()


def feed_until(parser, recorded: list[str], marker: str | None = None) -> None:
    for line in recorded:
        parser.feed(line)
        if marker and line.startswith(marker):
            return


def test_buildx_progress_follows_vertices_per_platform_and_stage():
    progress = Progress(TWO)
    parser = BuildxParser(progress)
    recorded = lines("buildx_plain_push.txt")
    feed_until(parser, recorded, "#11 [linux/arm64 builder 3/3]")
    snap = progress.snapshot()
    assert snap["linux/amd64"] == {"done": 3, "total": 3, "state": BUILDING}
    assert snap["linux/arm64"] == {"done": 2, "total": 3, "state": BUILDING}
    assert not progress.pushing
    progress = Progress(TWO)
    parser = BuildxParser(progress)
    feed_until(parser, recorded)
    snap = progress.snapshot()
    # Two stages (builder: 3 steps, final: 1 step), all done; the push was seen.
    assert snap == {p: {"done": 4, "total": 4, "state": PUSHING} for p in TWO}
    assert progress.pushing


def test_buildx_error_marks_only_the_failing_platform():
    progress = Progress(TWO)
    feed_until(BuildxParser(progress), lines("buildx_plain_error.txt"))
    snap = progress.snapshot()
    assert snap["linux/amd64"] == {"done": 2, "total": 2, "state": BUILDING}
    assert snap["linux/arm64"]["state"] == FAILED and snap["linux/arm64"]["done"] == 1


def test_buildx_single_platform_has_no_platform_prefix():
    progress = Progress(["linux/arm64"])
    parser = BuildxParser(progress)
    for line in ["#5 [1/2] FROM docker.io/library/alpine", "#5 DONE 0.1s", "#6 [2/2] COPY . /", "#6 DONE 0.0s"]:
        parser.feed(line)
    assert progress.snapshot() == {"linux/arm64": {"done": 2, "total": 2, "state": BUILDING}}


def test_docker_legacy_steps():
    progress = Progress(TWO)
    parser = DockerLegacyParser(progress, "linux/amd64")
    recorded = lines("docker_legacy_build.txt")
    feed_until(parser, recorded, "Step 3/3")
    assert progress.snapshot()["linux/amd64"] == {"done": 2, "total": 3, "state": BUILDING}
    assert progress.snapshot()["linux/arm64"]["state"] == WAITING
    feed_until(parser, recorded)
    assert progress.snapshot()["linux/amd64"] == {"done": 3, "total": 3, "state": BUILT}


def test_buildah_two_platforms():
    progress = Progress(TWO)
    parser = BuildahParser(progress)
    recorded = lines("buildah_two_platforms.txt")
    feed_until(parser, recorded, "[linux/amd64] STEP 2/3")
    snap = progress.snapshot()
    assert snap["linux/arm64"] == {"done": 3, "total": 3, "state": BUILT}
    assert snap["linux/amd64"] == {"done": 1, "total": 3, "state": BUILDING}
    feed_until(parser, recorded)
    assert all(entry["state"] == BUILT for entry in progress.snapshot().values())


def test_buildah_multistage_sums_stages():
    progress = Progress(TWO)
    feed_until(BuildahParser(progress), lines("buildah_multistage.txt"))
    assert progress.snapshot() == {p: {"done": 5, "total": 5, "state": BUILT} for p in TWO}


def test_unknown_platforms_and_noise_are_ignored():
    progress = Progress(["linux/amd64"])
    parser = BuildahParser(progress)
    for line in ["[linux/s390x] STEP 1/2: FROM x", "random noise", "STEP x/y", ""]:
        parser.feed(line)
    assert progress.snapshot() == {"linux/amd64": {"done": 0, "total": 0, "state": WAITING}}


def test_percent():
    assert percent({"done": 1, "total": 4, "state": BUILDING}) == 25
    assert percent({"done": 0, "total": 0, "state": WAITING}) == 0
    assert percent({"done": 1, "total": 4, "state": PUSHING}) == 100
