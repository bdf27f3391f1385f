"""Seed repositories with realistic multi-arch images (default: 1,000 images / 10,000 tags)."""

import time

from django.core.management.base import BaseCommand

from repos.demo.seeding import seed_dashboard_content


class Command(BaseCommand):
    help = "Seed <prefix>-dev/-test/-prod with multi-arch images, tags, layers and attestations (idempotent per image)."

    def add_arguments(self, parser):
        parser.add_argument("--images", type=int, default=1000)
        parser.add_argument("--tags", type=int, default=10000, help="total tags, per-platform tags included")
        parser.add_argument("--prefix", default="seed", help="repository key prefix")
        parser.add_argument("--metadata-only", action="store_true", help="write database rows but no blob bytes")

    def handle(self, *args, images, tags, prefix, metadata_only, **options):
        started = time.monotonic()
        report = seed_dashboard_content(images=images, tags=tags, prefix=prefix, write_blobs=not metadata_only)
        self.stdout.write(
            f"seeded {report.images} images, {report.tags} tags, {report.manifests} manifests, "
            f"{report.blobs} blobs in {report.repositories} repositories ({time.monotonic() - started:.1f} s)"
        )
