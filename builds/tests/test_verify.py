"""The check of every pushed platform image: its config and the programs inside against the platform asked."""

from __future__ import annotations

import gzip
import io
import struct
import tarfile

import pytest

from builds.errors import BuildError
from builds.services.verify import elf_architecture, platform_parse, pushed_platforms_verify
from repos.models import Manifest
from repos.oci import media_types
from repos.services.manifests import manifest_put
from repos.tests.promotion.content import push_blob
from tests.support import content as f

MACHINES = {"amd64": 62, "arm64": 183, "arm": 40}


def elf(arch: str) -> bytes:
    klass = 1 if arch == "arm" else 2
    return b"\x7fELF" + bytes([klass, 1, 1]) + bytes(9) + struct.pack("<HH", 2, MACHINES[arch]) + bytes(64)


def layer(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue())


def push(repository, *, entries: list[tuple[dict, dict, dict[str, bytes]]]) -> Manifest:
    """An index whose children each have (declared platform, config platform, files)."""
    children = []
    for declared, config_platform, files in entries:
        config = f.image_config(
            os=config_platform["os"],
            architecture=config_platform["architecture"],
            variant=config_platform.get("variant"),
        )
        data = layer(files)
        push_blob(repository, "app", config)
        push_blob(repository, "app", data)
        raw = f.image_manifest(config=config, layers=[data], oci=True)
        manifest_put(
            repository=repository,
            image_name="app",
            reference=f.digest_of(raw),
            raw=raw,
            content_type=media_types.OCI_MANIFEST,
        )
        children.append((raw, declared))
    raw = f.index(children=children, oci=True)
    manifest_put(
        repository=repository, image_name="app", reference="tmp-build-1", raw=raw, content_type=media_types.OCI_INDEX
    )
    return Manifest.objects.get(digest=f.digest_of(raw))


AMD64 = {"os": "linux", "architecture": "amd64"}
ARM64 = {"os": "linux", "architecture": "arm64"}
ARM64_V8 = {"os": "linux", "architecture": "arm64", "variant": "v8"}
ARMV7 = {"os": "linux", "architecture": "arm", "variant": "v7"}
ARM_BARE = {"os": "linux", "architecture": "arm"}


def test_elf_headers_and_platform_names():
    assert [elf_architecture(elf(a)) for a in ("amd64", "arm64", "arm")] == ["amd64", "arm64", "arm"]
    assert elf_architecture(b"#!/bin/sh\necho hello world\n") is None
    assert platform_parse("linux/arm64") == platform_parse("linux/arm64/v8") == ("linux", "arm64", "v8")
    assert platform_parse("linux/arm") == platform_parse("linux/arm/v7")
    assert platform_parse("linux/arm/v6") != platform_parse("linux/arm/v7")


@pytest.mark.django_db
def test_right_platforms_pass_with_a_summary(repositories):
    local, _ = repositories
    index = push(
        local,
        entries=[
            (AMD64, AMD64, {"bin/busybox": elf("amd64"), "arch.txt": b"amd64\n"}),
            (ARM64, ARM64_V8, {"bin/busybox": elf("arm64")}),  # arm64/v8 is arm64
            (ARMV7, ARM_BARE, {"bin/busybox": elf("arm"), "lib/x.so": elf("arm")}),  # arm without variant is v7
            ({"os": "unknown", "architecture": "unknown"}, AMD64, {"attestation.json": b"{}"}),  # not a platform
        ],
    )
    digests, summary = pushed_platforms_verify(manifest=index, platforms=["linux/amd64", "linux/arm64", "linux/arm/v7"])
    assert list(digests) == ["linux/amd64", "linux/arm64", "linux/arm/v7"]
    assert summary == [
        "linux/amd64: config linux/amd64, 1 program(s) for amd64",
        "linux/arm64: config linux/arm64/v8, 1 program(s) for arm64",
        "linux/arm/v7: config linux/arm/v7, 2 program(s) for arm",
    ]


@pytest.mark.django_db
def test_a_config_of_another_platform_fails_and_says_what_came_out(repositories):
    local, _ = repositories
    # What the legacy builder does with a multi-arch FROM: the arm64 entry's image is amd64.
    index = push(local, entries=[(AMD64, AMD64, {"a": elf("amd64")}), (ARM64, AMD64, {"a": elf("amd64")})])
    with pytest.raises(
        BuildError,
        match=r"linux/arm64 was asked, but the image pushed for it .* is linux/amd64 "
        r"according to its config",
    ):
        pushed_platforms_verify(manifest=index, platforms=["linux/amd64", "linux/arm64"])


@pytest.mark.django_db
def test_programs_of_another_platform_fail_even_when_the_config_agrees(repositories):
    local, _ = repositories
    index = push(local, entries=[(ARM64, ARM64, {"bin/busybox": elf("amd64"), "bin/sh": elf("amd64")})])
    with pytest.raises(BuildError, match=r"programs inside are for amd64 \(2, e.g. /bin/busybox\), none for arm64"):
        pushed_platforms_verify(manifest=index, platforms=["linux/arm64"])


@pytest.mark.django_db
def test_a_missing_platform_names_what_the_index_holds(repositories):
    local, _ = repositories
    index = push(local, entries=[(AMD64, AMD64, {"a": b"text only"}), (AMD64, AMD64, {"b": b"text"})])
    with pytest.raises(BuildError, match=r"linux/arm64 was asked, but the pushed image holds linux/amd64, linux/amd64"):
        pushed_platforms_verify(manifest=index, platforms=["linux/amd64", "linux/arm64"])
    # Images without programs (FROM scratch with data files) have nothing to contradict their config.
    digests, summary = pushed_platforms_verify(manifest=index, platforms=["linux/amd64"])
    assert summary == ["linux/amd64: config linux/amd64, no programs"]
