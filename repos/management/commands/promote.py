"""`python manage.py promote IMAGE SOURCE_REPO TARGET_REPO` — after the JFrog CLI's `docker-promote`."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from repos import errors
from repos.models import PromotionJob
from repos.promotion.execution import PromotionRequest, promotion_plan
from repos.promotion.jobs import promotion_job_create, promotion_job_run_here, promotion_job_wait


class Command(BaseCommand):
    help = (
        "Promote (move, or with --copy copy) an image's tags from one repository to another. Without "
        "--source-tag every tag is promoted. Runs here and records a promotion job; --queue hands it to a worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("image", help="image name inside the source repository, e.g. team/app")
        parser.add_argument("source_repo")
        parser.add_argument("target_repo")
        parser.add_argument("--copy", action="store_true", help="keep the tags in the source (default: move)")
        parser.add_argument("--source-tag", default="", help="promote only this tag")
        parser.add_argument("--target-tag", default="", help="the tag's name in the target (needs --source-tag)")
        parser.add_argument("--target-image", default="", help="the image's name in the target")
        parser.add_argument(
            "--expected-digest", default="", help="refuse (source-changed) unless --source-tag holds this digest"
        )
        parser.add_argument("--user", default="admin", help="act as this user (default: admin)")
        parser.add_argument("--dry-run", action="store_true", help="only print what would change")
        parser.add_argument("--queue", action="store_true", help="let a Celery worker run it, and wait")
        parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait with --queue")
        parser.add_argument("--json", action="store_true", help="print the plan or job result as JSON")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        request = PromotionRequest(
            source_key=options["source_repo"],
            source_image=options["image"],
            target_key=options["target_repo"],
            target_image=options["target_image"],
            source_tag=options["source_tag"],
            target_tag=options["target_tag"],
            copy=options["copy"],
            expected_digests={options["source_tag"]: options["expected_digest"]}
            if options["expected_digest"]
            else None,
        )
        try:
            if options["dry_run"]:
                return self._show_plan(promotion_plan(request=request, user=user).as_dict(), options["json"])
            if options["queue"]:
                job = promotion_job_wait(
                    job=promotion_job_create(request=request, user=user), timeout=options["timeout"]
                )
            else:
                job = promotion_job_run_here(request=request, user=user)
        except errors.RegistryError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        self._show_job(job, options["json"])

    def _show_plan(self, plan: dict, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(plan, indent=2))
            return
        self.stdout.write("dry run: nothing changed")
        for label, key in (
            ("create", "tags_created"),
            ("overwrite", "tags_overwritten"),
            ("unchanged", "tags_unchanged"),
            ("remove from source", "removed_from_source"),
            ("remove from target", "removed_from_target"),
        ):
            for name in plan[key]:
                self.stdout.write(f"  {label}: {name}")
        for rename in plan["tags_renamed"]:
            self.stdout.write(f"  rename: {rename['from']} -> {rename['to']}")
        self.stdout.write(
            f"  content: {len(plan['manifests'])} manifests, {len(plan['blobs'])} blobs (linked, no bytes copied)"
        )
        for refusal in plan["refusals"]:
            self.stdout.write(self.style.ERROR(f"  refused ({refusal['rule']}): {refusal['message']}"))
        if plan["refusals"]:
            raise CommandError("the promotion would be refused")

    def _show_job(self, job: PromotionJob, as_json: bool) -> None:
        if as_json:
            self.stdout.write(
                json.dumps({"id": job.pk, "status": job.status, "error": job.error, "result": job.result}, indent=2)
            )
        if job.status == PromotionJob.Status.SUCCEEDED:
            if not as_json:
                result = job.result
                self.stdout.write(
                    self.style.SUCCESS(
                        f"promotion #{job.pk} succeeded: {job.mode} {job.source} -> {job.target}; "
                        f"created {', '.join(result['tags_created']) or 'no tags'}"
                        + (
                            f"; overwritten {', '.join(result['tags_overwritten'])}"
                            if result["tags_overwritten"]
                            else ""
                        )
                        + (
                            f"; removed from source {', '.join(result['removed_from_source'])}"
                            if result["removed_from_source"]
                            else ""
                        )
                    )
                )
            return
        if job.status == PromotionJob.Status.FAILED:
            raise CommandError(f"promotion #{job.pk} failed ({job.error_code}): {job.error}")
        raise CommandError(f"promotion #{job.pk} is still {job.status}; follow it at /promotions/{job.pk}/")
