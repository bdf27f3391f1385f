"""Check that the database and blob storage agree (run after a crash, a restore, or in monitoring)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from repos.consistency import consistency_check
from repos.services.gc import gc_plan_build


class Command(BaseCommand):
    help = (
        "Report blobs without bytes, stored sizes that differ from the bytes, corrupt blobs (--rehash), tags "
        "or index children that dangle, and the unreferenced blobs and bytes garbage collection would free."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rehash", action="store_true", help="re-hash every blob's bytes (slow)")

    def handle(self, *args, rehash: bool = False, **options):
        report = consistency_check(rehash=rehash)
        self.stdout.write(f"blobs checked: {report.blobs_checked}")
        for label, values in report.findings().items():
            self.stdout.write(f"{label}: {len(values)}")
            for value in values[:20]:
                self.stdout.write(f"  {value}")
        # Not problems, but what garbage collection would free now (ignoring its grace window).
        plan = gc_plan_build(grace_seconds=0, untagged_age_seconds=settings.REGISTRY_GC_UNTAGGED_AGE_SECONDS)
        self.stdout.write(f"unreferenced blobs: {len(plan.blob_ids)}")
        for digest in list(plan.blob_digests.values())[:20]:
            self.stdout.write(f"  {digest}")
        self.stdout.write(f"stored files without a blob row: {len(plan.orphans)}")
        self.stdout.write(
            f"unreferenced manifests: {len(plan.manifest_ids)} "
            f"(untagged manifests older than {settings.REGISTRY_GC_UNTAGGED_AGE_SECONDS} s: "
            f"{plan.membership_count})"
        )
        self.stdout.write(f"bytes garbage collection would free: {plan.bytes_reclaimable}")
        if report.problems:
            raise CommandError(f"{report.problems} problem(s) found")
        self.stdout.write(self.style.SUCCESS("consistent"))
