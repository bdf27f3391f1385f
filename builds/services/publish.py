"""Turning what the builder pushed (under the build's staging tag) into the requested tags.

The builder pushes the index and its children under `tmp-build-<id>`; publishing then checks that
every requested platform is there and is that platform (builds/services/verify.py) and, in one
transaction that also re-checks the job was not cancelled meanwhile, points every requested tag
(with its per-platform tags) at the index and drops the staging tags. So a cancelled or failed build
never leaves a partial tag behind. The tags are read and written through repos' selectors and services.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.permissions import WRITE, user_can
from builds.errors import BuildError, BuildStopped
from builds.models import BuildJob
from builds.services.verify import pushed_platforms_verify
from repos.errors import RegistryError
from repos.models import Image
from repos.selectors.manifests import tag_find
from repos.selectors.registry import image_find
from repos.services.manifests import tag_set, transient_tag_delete

Status = BuildJob.Status


@dataclass
class Published:
    index_digest: str
    platform_digests: dict[str, str]
    checks: list[str]  # one line per platform: what its config and its programs say


def build_publish(*, job: BuildJob, staging: str, progress: dict, reported_digest: str = "") -> Published:
    image = _image_of(job)
    staged = tag_find(image=image, name=staging) if image else None
    if image is None or staged is None:
        raise BuildError(f"the builder finished but nothing arrived under {job.image_ref}:{staging}")
    manifest = staged.manifest
    if reported_digest and reported_digest != manifest.digest:
        raise BuildError(f"the builder pushed {reported_digest} but {staging} holds {manifest.digest}")
    # Every platform image must be the platform asked (config and programs inside), before any tag moves.
    digests, checks = pushed_platforms_verify(manifest=manifest, platforms=job.platforms)
    user = job.requested_by
    if user is None or job.repository is None or not user_can(user, job.repository, WRITE):
        raise BuildError(f"{job.requested_by_name or 'the requester'} may no longer push to {job.repository_key}")
    try:
        with transaction.atomic():
            current = (
                BuildJob.objects.select_for_update().filter(pk=job.pk).values("status", "cancel_requested").first()
            )
            if not current or current["status"] != Status.PUSHING:
                raise BuildStopped("abandoned", "the build was ended elsewhere before its tags were set")
            if current["cancel_requested"]:
                raise BuildStopped("cancelled", "cancelled before the tags were set")
            for name in job.tags:
                tag_set(image=image, name=name, manifest=manifest, user=user, build_id=job.pk)
            transient_tag_delete(image=image, name=staging, platform_labels=job.platforms)
            BuildJob.objects.filter(pk=job.pk).update(
                status=Status.SUCCEEDED,
                finished=timezone.now(),
                heartbeat=timezone.now(),
                index_digest=manifest.digest,
                platform_digests=digests,
                progress=progress,
            )
    except RegistryError as exc:
        raise BuildError(f"setting the tags failed: {exc.message}") from None
    return Published(index_digest=manifest.digest, platform_digests=digests, checks=checks)


def _image_of(job: BuildJob) -> Image | None:
    return image_find(repository=job.repository, name=job.image_name) if job.repository else None


def build_staging_drop(*, job: BuildJob, staging: str) -> int:
    """Drop the build's own transient tags: the staging tag and its per-platform tags."""
    image = _image_of(job)
    if image is None:
        return 0
    return transient_tag_delete(image=image, name=staging, platform_labels=job.platforms)
