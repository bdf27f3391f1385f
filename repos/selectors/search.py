"""Search by image name, tag, digest (full or short), platform and label.

A query is read as what it looks like (`sha256:…`/hex → digest, `linux/arm64` → platform, `key=value` →
label) unless it says so with a prefix: `image:`, `tag:`, `digest:`, `platform:`, `label:`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast

from repos.models import Blob, Image, ImageManifest, Manifest, ManifestListEntry, Repository, Tag
from repos.selectors.home import count_related

KINDS = ("image", "tag", "digest", "platform", "label")
_HEX = re.compile(r"(?:sha256:)?[0-9a-f]{6,64}")
_PLATFORM = re.compile(r"([a-z0-9]+)/([a-z0-9_]+)(?:/([a-z0-9]+))?")
MAX_LABELLED = 5_000  # ids passed as parameters, twice: within SQLite's limit
_PLAIN = re.compile(r"[A-Za-z0-9._/:@ -]*")  # the same in JSON text, escaped or not
_LABEL_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
KNOWN_OS = {
    "linux",
    "windows",
    "darwin",
    "freebsd",
    "netbsd",
    "openbsd",
    "solaris",
    "illumos",
    "aix",
    "android",
    "ios",
    "dragonfly",
    "plan9",
    "wasip1",
    "js",
}


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    kinds: tuple[str, ...]


def parse_query(raw: str) -> ParsedQuery:
    text = raw.strip()[:300]
    prefix, sep, rest = text.partition(":")
    if sep and prefix in KINDS:
        return ParsedQuery(rest.strip(), (prefix,))
    if text.lower().startswith("sha256:"):
        return ParsedQuery(text, ("digest",))
    kinds = []
    if _HEX.fullmatch(text.lower()):
        kinds.append("digest")
    platform = _PLATFORM.fullmatch(text.lower())
    if platform and platform.group(1) in KNOWN_OS:
        kinds.append("platform")
    if "=" in text:
        kinds.append("label")
    if not kinds or kinds == ["digest"]:
        kinds = [*kinds, "image", "tag"]  # hex may be a digest or a name: digests first
    return ParsedQuery(text, tuple(kinds))


def search_images(*, repositories: QuerySet[Repository], text: str) -> QuerySet[Image]:
    return (
        Image.objects.filter(repository__in=repositories, name__icontains=text)
        .select_related("repository")
        .annotate(tag_count=count_related(Tag.objects.all(), "image"))
        .order_by("repository__stage_order", "repository__key", "name")
    )


def _tags(repositories: QuerySet[Repository]) -> QuerySet[Tag]:
    return (
        Tag.objects.filter(image__repository__in=repositories, derived_from__isnull=True)
        .select_related("image__repository", "manifest", "pushed_by")
        .defer("manifest__raw", "manifest__config", "manifest__annotations")
    )


def search_tags(*, repositories: QuerySet[Repository], text: str) -> QuerySet[Tag]:
    return _tags(repositories).filter(name__icontains=text).order_by("-updated", "-id")


def _digest_prefix(field: str, prefix: str) -> Q:
    # A range, not LIKE: both databases answer it from the digest's unique index.
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "~"})


def search_digests(*, repositories: QuerySet[Repository], text: str) -> QuerySet[ImageManifest]:
    """Manifests whose digest, config digest or one of whose layer digests starts with `text`."""
    value = text.lower()
    if not _HEX.fullmatch(value):
        return ImageManifest.objects.none()
    digest = value if value.startswith("sha256:") else f"sha256:{value}"
    blobs = Blob.objects.filter(_digest_prefix("digest", digest)).values("id")
    with_blob = Manifest.objects.filter(Q(config_blob_id__in=blobs) | Q(layers__blob_id__in=blobs)).values("id")
    own = Manifest.objects.filter(_digest_prefix("digest", digest)).values("id")
    return (
        ImageManifest.objects.filter(image__repository__in=repositories)
        .filter(Q(manifest_id__in=own) | Q(manifest_id__in=with_blob))
        .select_related("image__repository", "manifest", "pushed_by")
        .defer("manifest__raw", "manifest__config", "manifest__annotations")
        .order_by("-pushed_at", "-id")
    )


def search_platform(*, repositories: QuerySet[Repository], text: str) -> QuerySet[Tag]:
    """Top-level tags that run on the platform: an image manifest of it, or an index with a child of it."""
    match = _PLATFORM.fullmatch(text.lower())
    if not match:
        return Tag.objects.none()
    os, arch, variant = match.groups()
    fields = {"os": os, "architecture": arch, **({"variant": variant} if variant else {})}
    indexes = ManifestListEntry.objects.filter(**fields).values("index_id")
    own = Q(**{f"manifest__{k}": v for k, v in fields.items()})
    return _tags(repositories).filter(own | Q(manifest_id__in=indexes)).order_by("-updated", "-id")


def search_label(*, repositories: QuerySet[Repository], text: str) -> QuerySet[Tag]:
    """Top-level tags whose image (or one of whose platform images) carries the label `key` or `key=value`."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not _LABEL_KEY.fullmatch(key):
        return Tag.objects.none()
    # Explicit transforms: a key like `contains` must never be read as a lookup.
    # Cast: compare as plain text on every backend (a bare key transform compares JSON to JSON).
    value = value.strip()
    labelled = Manifest.objects.all()
    if _PLAIN.fullmatch(key + value):
        # A plain-text scan first: cheap, and it leaves the JSON parsing to the few rows that may match.
        labelled = labelled.annotate(config_text=Cast("config", TextField())).filter(
            config_text__contains=value if sep and value else key
        )
    labelled = labelled.annotate(
        label=Cast(KeyTextTransform(key, KeyTransform("labels", "config")), output_field=TextField())
    )
    labelled = labelled.filter(label=value) if sep else labelled.filter(label__isnull=False)
    # Evaluated once here when not too many, else the count and the page each scan every config again.
    labelled_ids = list(labelled.values_list("id", flat=True)[: MAX_LABELLED + 1])
    if len(labelled_ids) > MAX_LABELLED:
        labelled_ids = labelled.values("id")
    indexes = ManifestListEntry.objects.filter(manifest_id__in=labelled_ids).values("index_id")
    return (
        _tags(repositories)
        .filter(Q(manifest_id__in=labelled_ids) | Q(manifest_id__in=indexes))
        .order_by("-updated", "-id")
    )


SEARCHES = {
    "image": search_images,
    "tag": search_tags,
    "digest": search_digests,
    "platform": search_platform,
    "label": search_label,
}
