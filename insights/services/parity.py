"""Per-arch parity: the platform images of one index should be one program built for different machines.

Compared across the index's platform images (attestations are not platforms): the OCI labels revision,
version and source (a platform missing one that others carry differs too); the `created` label more than
PARITY_CREATED_TOLERANCE_SECONDS apart; entrypoint, cmd, exposed ports, env variable names (values may
rightly differ, e.g. TARGETARCH) and user; the number of build steps (history entries); and size: the largest
platform image more than PARITY_SIZE_RATIO times the smallest.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.dateparse import parse_datetime

from insights.models import Alert
from insights.services.regressions import alert_record
from repos.models import Manifest, Tag
from repos.selectors.platforms import platform_images

OCI = "org.opencontainers.image."
LABELS = (f"{OCI}revision", f"{OCI}version", f"{OCI}source")
FIELDS = (("entrypoint", "entrypoint"), ("cmd", "cmd"), ("exposed_ports", "exposed ports"), ("user", "user"))


def _show(value) -> str:
    if value in (None, "", [], {}):
        return "(none)"
    return " ".join(value) if isinstance(value, list) else str(value)


def _differing(check: str, values: dict[str, object]) -> dict | None:
    if len({repr(v) for v in values.values()}) <= 1:
        return None
    detail = "; ".join(f"{platform}: {_show(value)}" for platform, value in sorted(values.items()))
    return {"check": check, "detail": detail, "platforms": {p: _show(v) for p, v in values.items()}}


def parity_findings(images: dict[str, Manifest]) -> list[dict]:
    if len(images) < 2:
        return []
    configs = {platform: manifest.config or {} for platform, manifest in images.items()}
    findings = []
    for label in LABELS:
        findings.append(
            _differing(f"label {label}", {p: (c.get("labels") or {}).get(label) for p, c in configs.items()})
        )
    findings.append(_created_apart(configs))
    for key, name in FIELDS:
        findings.append(_differing(name, {p: c.get(key) for p, c in configs.items()}))
    findings.append(
        _differing(
            "env variable names",
            {p: sorted({item.split("=", 1)[0] for item in c.get("env") or []}) for p, c in configs.items()},
        )
    )
    findings.append(
        _differing("build steps (history entries)", {p: len(c.get("history") or []) for p, c in configs.items()})
    )
    findings.append(_size_outlier(images))
    return [f for f in findings if f is not None]


def _created_apart(configs: dict[str, dict]) -> dict | None:
    stamps = {}
    for platform, config in configs.items():
        raw = (config.get("labels") or {}).get(f"{OCI}created")
        try:
            stamps[platform] = parse_datetime(raw) if raw else None
        except ValueError:
            stamps[platform] = None
    known = [s for s in stamps.values() if s is not None and s.tzinfo is not None]
    if len(known) < 2:
        return None
    spread = (max(known) - min(known)).total_seconds()
    if spread <= settings.PARITY_CREATED_TOLERANCE_SECONDS:
        return None
    found = _differing(f"label {OCI}created", {p: (s.isoformat() if s else None) for p, s in stamps.items()})
    if found:
        found["detail"] += f" ({int(spread)} s apart)"
    return found


def _size_outlier(images: dict[str, Manifest]) -> dict | None:
    sizes = {p: m.content_size for p, m in images.items() if m.content_size}
    if len(sizes) < 2 or min(sizes.values()) * settings.PARITY_SIZE_RATIO >= max(sizes.values()):
        return None
    ratio = max(sizes.values()) / min(sizes.values())
    return {
        "check": "size",
        "detail": "; ".join(f"{p}: {s} bytes" for p, s in sorted(sizes.items()))
        + f" (largest {ratio:.1f}× the smallest)",
        "platforms": {p: str(s) for p, s in sizes.items()},
    }


def parity_check(tag: Tag) -> Alert | None:
    """Record a parity alert for an index tag whose platform images disagree; returns it if new."""
    if not tag.manifest.is_index:
        return None
    findings = parity_findings(platform_images(tag.manifest))
    if not findings:
        return None
    checks = ", ".join(f["check"] for f in findings)
    message = f"{tag.image.name}:{tag.name}: platform images differ in {checks}"
    return alert_record(tag=tag, kind=Alert.Kind.PARITY, message=message, details={"findings": findings})
