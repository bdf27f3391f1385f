"""Formatting for dashboard pages: sizes, times, digests, platforms."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from repos.oci.names import is_digest_reference
from repos.oci.platforms import parse_platform

register = template.Library()

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


@register.filter
def human_bytes(value) -> str:
    """1536 -> '1.5 KiB'."""
    if value is None or value == "":
        return "—"
    size = float(value)
    unit = 0
    while size >= 1024 and unit < len(_UNITS) - 1:
        size /= 1024
        unit += 1
    if unit == 0:
        return f"{int(size)} B"
    return f"{size:.1f} {_UNITS[unit]}" if size < 100 else f"{size:.0f} {_UNITS[unit]}"


def absolute_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@register.simple_tag
def when(value: datetime | None, empty: str = "never"):
    """Relative time with the absolute UTC time on hover: '3 minutes ago', 'in 29 days'."""
    if value is None:
        return format_html('<span class="muted">{}</span>', empty)
    now = timezone.now()
    if value > now:
        relative = timeuntil(value, now, depth=1)
        relative = "just now" if relative.startswith("0\xa0") else f"in {relative}"
    else:
        relative = timesince(value, now, depth=1)
        relative = "just now" if relative.startswith("0\xa0") else f"{relative} ago"
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), absolute_utc(value), relative)


# url_name prefixes -> the navigation section they belong to (for aria-current).
_NAV_SECTIONS = (
    ("coverage", "coverage"),
    ("build", "builds"),
    ("promotion", "promotions"),
    ("accounts-token", "tokens"),
    ("accounts-audit", "audit"),
    ("operations", "operations"),
    ("gc-", "operations"),
    ("repositor", "repositories"),
    ("home", "repositories"),
    ("image", "repositories"),
    ("tag", "repositories"),
    ("manifest", "repositories"),
    ("alert", "alerts"),
    ("webhook", "webhooks"),
)


@register.simple_tag(takes_context=True)
def nav_section(context) -> str:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    name = (match.url_name or "") if match else ""
    return next((section for prefix, section in _NAV_SECTIONS if name.startswith(prefix)), "")


@register.filter
def as_fields(detail) -> list[tuple[str, str]]:
    """A JSON detail (audit events, ...) as readable (label, value) pairs: lists joined, nested dicts flattened."""
    if not isinstance(detail, dict):
        return [("value", str(detail))] if detail not in (None, "", [], {}) else []
    pairs: list[tuple[str, str]] = []
    for key, value in detail.items():
        label = str(key).replace("_", " ")
        if isinstance(value, dict):
            pairs.extend((f"{label} {inner}", text) for inner, text in as_fields(value))
        elif isinstance(value, (list, tuple)):
            pairs.append((label, ", ".join(str(v) for v in value) or "none"))
        elif isinstance(value, bool):
            pairs.append((label, "yes" if value else "no"))
        else:
            pairs.append((label, "—" if value in (None, "") else str(value)))
    return pairs


@register.filter
def short_digest(digest: str | None) -> str:
    """'sha256:0123456789ab…' -> '0123456789ab' (12 hex characters, like docker)."""
    if not digest:
        return ""
    return digest.split(":", 1)[-1][:12]


@register.simple_tag
def digest(value: str | None):
    """A short digest with the full digest on hover."""
    if not value:
        return ""
    return format_html('<code class="digest" title="{}">{}</code>', value, short_digest(value))


@register.filter
def percent_of(value, maximum) -> float:
    try:
        return round(100.0 * float(value) / float(maximum), 1) if maximum else 0.0
    except (TypeError, ValueError):
        return 0.0


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def page_query(context, number, param: str = "page") -> str:
    """The current query string with one page parameter changed (other filters kept)."""
    query = context["request"].GET.copy()
    query[param] = number
    return "?" + query.urlencode()


@register.filter
def platform_class(label: str) -> str:
    """A colour class per architecture, so amd64 and arm64 are told apart at a glance."""
    try:
        arch = parse_platform(label or "")[1]
    except ValueError:
        arch = ""
    return {
        "amd64": "p-amd64",
        "arm64": "p-arm64",
        "arm": "p-arm",
        "386": "p-386",
        "ppc64le": "p-ppc",
        "s390x": "p-s390x",
        "riscv64": "p-riscv",
    }.get(arch, "p-other")


@register.simple_tag
def pull_command(host: str, key: str, name: str, reference: str) -> str:
    """`docker pull HOST/key/name:tag`, or `@digest` when the reference is a digest."""
    separator = "@" if is_digest_reference(reference) else ":"
    return f"docker pull {host}/{key}/{name}{separator}{reference}"


@register.simple_tag
def platform_pull_command(host: str, key: str, name: str, reference: str, platform: str) -> str:
    """`docker pull --platform linux/arm64 HOST/key/name:tag`: one platform of an index, by its tag or digest."""
    return pull_command(host, key, name, reference).replace("docker pull ", f"docker pull --platform {platform} ", 1)
