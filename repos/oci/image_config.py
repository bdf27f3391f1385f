"""Tolerant parsing of image config blobs (Docker / OCI image config JSON).

Configs are informational (UI, platform detection), so unlike manifests they are
never rejected: anything missing, mistyped or unparseable just becomes None/empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HistoryEntry:
    created: str | None = None
    created_by: str | None = None
    empty_layer: bool = False
    comment: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class ImageConfig:
    os: str | None = None
    architecture: str | None = None
    variant: str | None = None
    os_version: str | None = None
    created: str | None = None
    author: str | None = None
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    working_dir: str | None = None
    exposed_ports: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    rootfs_diff_ids: list[str] = field(default_factory=list)

    @property
    def platform_label(self) -> str | None:
        """``"linux/arm64/v8"``-style label, or None if os/arch are unknown."""
        if not self.os or not self.architecture:
            return None
        parts = [self.os, self.architecture]
        if self.variant:
            parts.append(self.variant)
        return "/".join(parts)


def _str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _str_list(obj: dict[str, Any], key: str) -> list[str] | None:
    value = obj.get(key)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _str_dict(obj: dict[str, Any], key: str) -> dict[str, str]:
    value = obj.get(key)
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str)}


def _keys(obj: dict[str, Any], key: str) -> list[str]:
    # ExposedPorts / Volumes are encoded as {"80/tcp": {}} sets.
    value = obj.get(key)
    return sorted(value) if isinstance(value, dict) else []


def _history(value: Any) -> list[HistoryEntry]:
    if not isinstance(value, list):
        return []
    return [
        HistoryEntry(
            created=_str(item, "created"),
            created_by=_str(item, "created_by"),
            empty_layer=item.get("empty_layer") is True,
            comment=_str(item, "comment"),
            author=_str(item, "author"),
        )
        for item in value
        if isinstance(item, dict)
    ]


def _load(raw: bytes | bytearray | memoryview | str) -> dict[str, Any] | None:
    try:
        text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8")
        doc = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def parse_image_config(raw: bytes | bytearray | memoryview | str) -> ImageConfig:
    """Extract the useful fields of an image config; never raises for any input."""
    doc = _load(raw)
    if doc is None:
        return ImageConfig()
    conf = doc.get("config")
    conf = conf if isinstance(conf, dict) else {}
    rootfs = doc.get("rootfs")
    rootfs = rootfs if isinstance(rootfs, dict) else {}
    return ImageConfig(
        os=_str(doc, "os"),
        architecture=_str(doc, "architecture"),
        variant=_str(doc, "variant"),
        os_version=_str(doc, "os.version"),
        created=_str(doc, "created"),
        author=_str(doc, "author"),
        entrypoint=_str_list(conf, "Entrypoint"),
        cmd=_str_list(conf, "Cmd"),
        env=_str_list(conf, "Env") or [],
        labels=_str_dict(conf, "Labels"),
        user=_str(conf, "User"),
        working_dir=_str(conf, "WorkingDir"),
        exposed_ports=_keys(conf, "ExposedPorts"),
        volumes=_keys(conf, "Volumes"),
        history=_history(doc.get("history")),
        rootfs_diff_ids=_str_list(rootfs, "diff_ids") or [],
    )


def layer_history(config: ImageConfig | None, layer_count: int) -> list[HistoryEntry | None]:
    """For each layer index, the history entry that created it (or None).

    History has one entry per build step; steps flagged ``empty_layer`` (ENV,
    CMD, ...) produced no layer, so the remaining entries line up with layers in
    order. Missing entries yield None; surplus entries are ignored.
    """
    count = max(layer_count, 0)
    if config is None:
        return [None] * count
    producing = [h for h in config.history if not h.empty_layer]
    return [producing[i] if i < len(producing) else None for i in range(count)]
