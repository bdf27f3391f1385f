"""Search by image name, tag, digest (full or short), platform and label.

A query is read as what it looks like (`sha256:…`/hex → digest, `linux/arm64` → platform, `key=value` →
label) unless it says so with a prefix: `image:`, `tag:`, `digest:`, `platform:`, `label:`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from repos.models import (
    Blob,
    Image,
    ImageManifest,
    Manifest,
    ManifestLabel,
    ManifestLayer,
    ManifestListEntry,
    Repository,
    Tag,
)
from repos.oci.platforms import is_valid_platform, parse_platform
from repos.selectors.home import count_related

KINDS = ("image", "tag", "digest", "platform", "label")
MAX_LISTED = 5_000  # matches whose ids a search reads at once to count and page them
_HEX = re.compile(r"(?:sha256:)?[0-9a-f]{6,64}")
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
    if is_valid_platform(text.lower()) and parse_platform(text.lower())[0] in KNOWN_OS:
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


class NarrowPages:
    """Search results for the paginator: counted, sorted and sliced on the narrow matching rows; only the
    rows of the page shown are then read with their image, repository, manifest and pusher (joining them
    first would widen every match before the sort keeps 25).

    Up to MAX_LISTED matches, their ids are read once, sorted, and both the count and the page come from
    that list: one pass over the matches instead of two.
    """

    def __init__(self, matches: QuerySet, detailed: QuerySet):
        self.matches = matches
        self.detailed = detailed
        self.ordered = True
        self._ids: list[int] | None = None
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            ids = list(self.matches.values_list("pk", flat=True)[: MAX_LISTED + 1])
            if len(ids) <= MAX_LISTED:
                self._ids, self._count = ids, len(ids)
            else:
                self._count = self.matches.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        self.count()
        ids = self._ids[index] if self._ids is not None else list(self.matches.values_list("pk", flat=True)[index])
        found = self.detailed.in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]


def _tags(repositories: QuerySet[Repository], condition: Q) -> NarrowPages:
    """Top-level tags matching `condition`, newest first."""
    matches = Tag.objects.filter(image__repository__in=repositories, derived_from__isnull=True).filter(condition)
    detailed = Tag.objects.select_related("image__repository", "manifest", "pushed_by").defer(
        "manifest__raw", "manifest__config", "manifest__annotations"
    )
    return NarrowPages(matches.order_by("-updated", "-id"), detailed)


def search_tags(*, repositories: QuerySet[Repository], text: str) -> NarrowPages:
    return _tags(repositories, Q(name__icontains=text))


def _digest_prefix(field: str, prefix: str) -> Q:
    # A range, not LIKE: both databases answer it from the digest's unique index.
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "~"})


def _manifest_in(field: str, *queries: QuerySet) -> Q:
    """`field` among the manifest ids the `queries` (flat id lists) select, as one UNION subquery: the
    database gathers the few ids first, then reads the tag or membership index by manifest (an OR of
    subqueries would test them on every row instead)."""
    first, *rest = [query.order_by() for query in queries]
    return Q(**{f"{field}__in": first.union(*rest)})


def search_digests(*, repositories: QuerySet[Repository], text: str) -> QuerySet[ImageManifest]:
    """Manifests whose digest, config digest or one of whose layer digests starts with `text`."""
    value = text.lower()
    if not _HEX.fullmatch(value):
        return ImageManifest.objects.none()
    digest = value if value.startswith("sha256:") else f"sha256:{value}"
    blobs = Blob.objects.filter(_digest_prefix("digest", digest)).values("id")
    # Three indexed lookups (digest, config blob, layer blob), never a join of every manifest to its layers.
    matching = _manifest_in(
        "manifest_id",
        Manifest.objects.filter(_digest_prefix("digest", digest)).values_list("id", flat=True),
        Manifest.objects.filter(config_blob_id__in=blobs).values_list("id", flat=True),
        ManifestLayer.objects.filter(blob_id__in=blobs).values_list("manifest_id", flat=True),
    )
    return (
        ImageManifest.objects.filter(image__repository__in=repositories)
        .filter(matching)
        .select_related("image__repository", "manifest", "pushed_by")
        .defer("manifest__raw", "manifest__config", "manifest__annotations")
        .order_by("-pushed_at", "-id")
    )


def search_platform(*, repositories: QuerySet[Repository], text: str) -> QuerySet[Tag] | NarrowPages:
    """Top-level tags that run on the platform: an image manifest of it, or an index with a child of it."""
    if not is_valid_platform(text.lower()):
        return Tag.objects.none()
    os, arch, variant = parse_platform(text.lower())
    fields = {"os": os, "architecture": arch, **({"variant": variant} if variant else {})}
    # Both lookups use a platform index; a join of every tag to its manifest would not.
    matching = _manifest_in(
        "manifest_id",
        Manifest.objects.filter(**fields).values_list("id", flat=True),
        ManifestListEntry.objects.filter(**fields).values_list("index_id", flat=True),
    )
    return _tags(repositories, matching)


def search_label(*, repositories: QuerySet[Repository], text: str) -> QuerySet[Tag] | NarrowPages:
    """Top-level tags whose image (or one of whose platform images) carries the label `key` or `key=value`."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not _LABEL_KEY.fullmatch(key):
        return Tag.objects.none()
    value = value.strip()
    # The label rows' index answers both forms (the value's indexed start narrows, the whole value decides).
    labels = ManifestLabel.objects.filter(key=key)
    if sep:
        labels = labels.filter(value_start=value[: ManifestLabel.VALUE_INDEXED], value=value)
    labelled = labels.values_list("manifest_id", flat=True)
    matching = _manifest_in(
        "manifest_id",
        labelled,
        ManifestListEntry.objects.filter(manifest_id__in=labelled).values_list("index_id", flat=True),
    )
    return _tags(repositories, matching)


SEARCHES = {
    "image": search_images,
    "tag": search_tags,
    "digest": search_digests,
    "platform": search_platform,
    "label": search_label,
}
