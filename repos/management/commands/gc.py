"""python manage.py gc [--dry-run] [--grace SECONDS] [--untagged-age SECONDS]"""

from django.core.management.base import BaseCommand, CommandError

from repos.models import GcRun
from repos.services.gc import GcAlreadyRunning, gc_run


class Command(BaseCommand):
    help = (
        "Remove manifests and blobs that no tag, index or referrer reaches any more, and report the bytes "
        "reclaimed. Safe while the registry serves pushes: content touched inside the grace window stays."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only report what would be removed")
        parser.add_argument(
            "--grace",
            type=int,
            default=None,
            metavar="SECONDS",
            help="keep content touched in the last SECONDS (default REGISTRY_GC_GRACE_SECONDS; 0 collects at once)",
        )
        parser.add_argument(
            "--untagged-age",
            type=int,
            default=None,
            metavar="SECONDS",
            help="remove untagged manifests older than this (default REGISTRY_GC_UNTAGGED_AGE_SECONDS, "
            "or --grace when that is given)",
        )

    def handle(self, *args, dry_run=False, grace=None, untagged_age=None, **options):
        if grace is not None and grace < 0 or untagged_age is not None and untagged_age < 0:
            raise CommandError("--grace and --untagged-age take a number of seconds >= 0")
        if untagged_age is None and grace is not None:
            untagged_age = grace
        try:
            run = gc_run(
                grace_seconds=grace, untagged_age_seconds=untagged_age, dry_run=dry_run, trigger=GcRun.Trigger.COMMAND
            )
        except GcAlreadyRunning as exc:
            raise CommandError(str(exc)) from None
        verb = "would remove" if dry_run else "removed"
        self.stdout.write(f"garbage collection #{run.pk} {verb}:")
        self.stdout.write(f"  untagged manifests (from images): {run.memberships_removed}")
        self.stdout.write(f"  manifests: {run.manifests_removed}")
        self.stdout.write(f"  blobs: {run.blobs_removed}")
        self.stdout.write(f"  files without a blob row: {run.orphan_files_removed}")
        self.stdout.write(f"  bytes reclaimed: {run.bytes_reclaimed}")
        self.stdout.write(f"  took: {run.duration_seconds:.2f} s")
        if run.skipped:
            self.stdout.write(f"  kept because in use meanwhile: {run.skipped}")
        for kind, digests in run.removed.items():
            for digest in digests[:50]:
                self.stdout.write(f"  {kind[:-1]} {digest}")
