"""Check that the database and blob storage agree (run after a crash, a restore, or in monitoring)."""
from django.core.management.base import BaseCommand, CommandError

from repos.consistency import consistency_check


class Command(BaseCommand):
    help = "Report blobs without bytes, stored sizes that differ from the bytes, corrupt blobs (--rehash), and tags or index children that dangle."

    def add_arguments(self, parser):
        parser.add_argument("--rehash", action="store_true", help="re-hash every blob's bytes (slow)")

    def handle(self, *args, rehash: bool = False, **options):
        report = consistency_check(rehash=rehash)
        self.stdout.write(f"blobs checked: {report.blobs_checked}")
        for label in ("missing_blob_bytes", "corrupt_blobs", "size_mismatches", "tags_without_membership",
                      "layers_without_blob_bytes", "children_outside_image"):
            values = getattr(report, label)
            self.stdout.write(f"{label}: {len(values)}")
            for value in values[:20]:
                self.stdout.write(f"  {value}")
        if report.problems:
            raise CommandError(f"{report.problems} problem(s) found")
        self.stdout.write(self.style.SUCCESS("consistent"))
