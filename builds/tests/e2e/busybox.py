"""Static busybox for each platform, from Debian's busybox-static packages (.ci/run downloads them):
the shell and `uname` inside the tiny test images that are built, pulled back and run per platform."""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import IN_CI

DEB_DIR = Path(os.environ.get("BUSYBOX_DEB_DIR", "/var/cache/registry-ci/busybox"))
# TARGETARCH (GOARCH) -> Debian architecture, and what `uname -m` says there.
DEB_ARCH = {"amd64": "amd64", "arm64": "arm64", "arm": "armhf"}
UNAME = {"linux/amd64": "x86_64", "linux/arm64": "aarch64", "linux/arm/v7": "armv7l"}
GOARCH = {"linux/amd64": "amd64", "linux/arm64": "arm64", "linux/arm/v7": "arm"}


@lru_cache(maxsize=1)
def busybox_binaries() -> dict[str, bytes]:
    """TARGETARCH -> the static busybox executable for it."""
    found = {}
    for goarch, deb_arch in DEB_ARCH.items():
        debs = sorted(DEB_DIR.glob(f"busybox-static_*_{deb_arch}.deb"))
        if not debs:
            message = (
                f"no busybox-static {deb_arch} package in {DEB_DIR} (.ci/run downloads them: "
                f"apt-get download busybox-static:{deb_arch})"
            )
            pytest.fail(message) if IN_CI else pytest.skip(message)
        found[goarch] = subprocess.run(
            ["dpkg-deb", "--fsys-tarfile", str(debs[-1])], check=True, capture_output=True
        ).stdout
    return {goarch: _member(tar, "./bin/busybox") for goarch, tar in found.items()}


def _member(tar_bytes: bytes, name: str) -> bytes:
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as archive:
        handle = archive.extractfile(name)
        assert handle is not None, f"{name} missing from the busybox-static package"
        return handle.read()
