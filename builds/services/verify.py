"""Checking that every pushed platform image is the platform that was asked, before any tag moves.

Builders can get this wrong without failing: the legacy `docker build` resolves a multi-arch `FROM`
to the platform it already has (its config then says amd64 under an arm64 request), and a
per-platform `FROM ${ARCH}base` given the wrong base yields an image whose config says arm64 while
its files are amd64 programs. So each platform image is checked twice:

1. its config's `os`/`architecture`/`variant` against the platform asked (arm64 = arm64/v8,
   arm = arm/v7 when the variant is left out, as docker and containerd read them);
2. the ELF programs and libraries in its layers: when it holds some for a known machine but none
   for the asked one, the files inside are another platform's.

Either failure names what came out instead; the build then fails and no tag is set.
"""

from __future__ import annotations

import struct
import tarfile
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field

from builds.errors import BuildError
from repos.models import Manifest
from repos.oci.platforms import normalize_platform, parse_platform, platform_label
from repos.selectors.manifests import manifest_layers
from repos.selectors.platforms import platform_entries
from repos.storage import get_blob_store

# ELF e_machine -> GOARCH-style architecture (only machines a platform string names unambiguously).
ELF_MACHINES = {3: "386", 62: "amd64", 40: "arm", 183: "arm64", 21: "ppc64le", 22: "s390x", 243: "riscv64"}
MAX_SCANNED_LAYER_BYTES = 512 * 1024 * 1024  # compressed bytes read per platform image
MAX_ELF_FILES = 2000


def platform_parse(platform: str) -> tuple[str, str, str]:
    return normalize_platform(*parse_platform(platform))


def _label(os_: str, architecture: str, variant: str) -> str:
    return platform_label(os_, architecture, variant) or "no platform"


@dataclass
class Executables:
    machines: Counter = field(default_factory=Counter)
    example: dict[str, str] = field(default_factory=dict)  # architecture -> one path
    scanned_everything: bool = True


def elf_architecture(head: bytes) -> str | None:
    """The architecture an ELF header is built for, or None (not ELF, or a machine we do not map)."""
    if len(head) < 20 or head[:4] != b"\x7fELF" or head[5] not in (1, 2):
        return None
    machine = struct.unpack("<H" if head[5] == 1 else ">H", head[18:20])[0]
    arch = ELF_MACHINES.get(machine)
    if arch == "ppc64le" and head[5] != 1:
        return "ppc64"
    if arch == "riscv64" and head[4] != 2:
        return None
    return arch


def executables_scan(manifest: Manifest) -> Executables:
    """Count ELF files per architecture over the image's layers (streamed, never extracted)."""
    found = Executables()
    store = get_blob_store()
    budget = MAX_SCANNED_LAYER_BYTES
    for layer in manifest_layers(manifest=manifest):
        if layer.size > budget or sum(found.machines.values()) >= MAX_ELF_FILES:
            found.scanned_everything = False
            break
        budget -= layer.size
        try:
            with closing(store.open(layer.blob.digest)) as stream, tarfile.open(fileobj=stream, mode="r|*") as archive:
                for member in archive:
                    if not member.isreg() or member.size < 20:
                        continue
                    handle = archive.extractfile(member)
                    arch = elf_architecture(handle.read(20)) if handle else None
                    if arch:
                        found.machines[arch] += 1
                        found.example.setdefault(arch, "/" + member.name.lstrip("./"))
        except (tarfile.TarError, OSError, EOFError):
            found.scanned_everything = False  # zstd or another format tarfile cannot read: skip it
    return found


def platform_image_verify(*, asked: str, manifest: Manifest) -> str:
    """Raise BuildError when the image is not the asked platform; else a one-line summary."""
    want = platform_parse(asked)
    got = normalize_platform(manifest.os, manifest.architecture, manifest.variant)
    if got != want:
        raise BuildError(
            f"{asked} was asked, but the image pushed for it ({manifest.digest[:19]}…) is "
            f"{_label(*got)} according to its config: the builder built another platform "
            f"(no tag was set)"
        )
    found = executables_scan(manifest)
    if found.machines and not found.machines[want[1]]:
        other = ", ".join(
            f"{arch} ({count}, e.g. {found.example[arch]})" for arch, count in found.machines.most_common()
        )
        raise BuildError(
            f"{asked} was asked and the image's config says so, but the programs inside are for "
            f"{other}, none for {want[1]}: a FROM image or a copied file of another platform "
            f"(no tag was set)"
        )
    programs = f"{found.machines[want[1]]} program(s) for {want[1]}" if found.machines else "no programs"
    return f"{asked}: config {_label(*got)}, {programs}"


def pushed_platforms_verify(*, manifest: Manifest, platforms: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map each asked platform to the digest of its pushed image, checking every one of them.

    Returns ({asked platform: digest}, summary lines). Raises BuildError naming what came out when
    a platform is missing or an image is another platform than its entry claims."""
    children = platform_entries(manifest)  # attestations are no platform
    by_platform: dict[tuple[str, str, str], Manifest] = {}
    for os_, arch, variant, child in children:
        by_platform.setdefault(normalize_platform(os_, arch, variant), child)  # the first match, as docker picks
    missing = [p for p in platforms if platform_parse(p) not in by_platform]
    if missing:
        pushed = ", ".join(_label(*normalize_platform(o, a, v)) for o, a, v, _ in children) or "nothing"
        raise BuildError(
            f"{', '.join(missing)} was asked, but the pushed image holds {pushed}: "
            f"the builder built another platform than asked (no tag was set)"
        )
    digests, summary = {}, []
    for platform in platforms:
        child = by_platform[platform_parse(platform)]
        summary.append(platform_image_verify(asked=platform, manifest=child))
        digests[platform] = child.digest
    return digests, summary
