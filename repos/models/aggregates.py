"""Aggregates kept up to date when content is written, so the dashboard reads them instead of recomputing.

One coverage row per image: its current tag and the platforms that tag offers. The rows are refreshed by
`repos.services.aggregates` whenever a tag or image is written or deleted (signals, plus explicit calls
from bulk writers such as seeding), in the same transaction as the write.
"""

from django.db import models


class ImageCoverage(models.Model):
    image = models.OneToOneField("repos.Image", primary_key=True, on_delete=models.CASCADE, related_name="coverage")
    # Copied from the image, so filters and counts need no join.
    repository = models.ForeignKey("repos.Repository", on_delete=models.CASCADE, related_name="+")
    tag = models.CharField(max_length=128, blank=True)
    digest = models.CharField(max_length=140, blank=True)
    # ",linux/amd64,linux/arm64,": `platforms LIKE '%,linux/arm64,%'` asks "offers linux/arm64?".
    platforms = models.TextField(blank=True, default=",")

    def platform_set(self) -> set[str]:
        return {p for p in self.platforms.split(",") if p}

    @staticmethod
    def marker(platform: str) -> str:
        return f",{platform},"


class RepositoryStats(models.Model):
    """A repository's counts for the home page, recomputed once after content changed (`dirty`).

    Writes only flag the row (one UPDATE); the next reader recomputes it exactly, so bulk writers and
    deletes can never leave drifted counters behind.
    """

    repository = models.OneToOneField(
        "repos.Repository", primary_key=True, on_delete=models.CASCADE, related_name="stats"
    )
    dirty = models.BooleanField(default=True)
    image_count = models.PositiveIntegerField(default=0)
    tag_count = models.PositiveIntegerField(default=0)
    storage = models.BigIntegerField(default=0)  # bytes of the distinct blobs the repository holds
    pushes_by_day = models.JSONField(default=dict, blank=True)  # {"2026-11-30": manifests pushed that UTC day}


class SiteStats(models.Model):
    """Site-wide figures that cannot be added up from repositories (a blob shared by two counts once)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    dirty = models.BooleanField(default=True)
    storage = models.BigIntegerField(default=0)
    manifest_count = models.PositiveIntegerField(default=0)  # distinct manifests held by any image
