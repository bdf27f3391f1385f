"""Turning what the builder pushed (under the build's staging tag) into the requested tags.

The builder pushes the index and its children under `tmp-build-<id>`; publishing then checks that
every requested platform is there and is that platform (builds/services/verify.py) and, in one
transaction that also re-checks the job was not cancelled meanwhile, points every requested tag
(with its per-platform tags) at the index and drops the staging tags. So a cancelled or failed build never leaves a partial tag behind.
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
from repos.models import Image, Tag
from repos.oci.names import platform_tag
from repos.services.manifests import tag_set

Status = BuildJob.Status


@dataclass
class Published:
    index_digest: str
    platform_digests: dict[str, str]
    checks: list[str]  # one line per platform: what its config and its programs say


def build_publish(*, job: BuildJob, staging: str, progress: dict, reported_digest: str = "") -> Published:
    image = Image.objects.filter(repository_id=job.repository_id, name=job.image_name).first()
    staged = Tag.objects.select_related("manifest").filter(image=image, name=staging).first() if image else None
    if staged is None:
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
            staging_tags_delete(image=image, staging=staging, platforms=job.platforms)
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


def staging_tag_names(staging: str, platforms: list[str]) -> list[str]:
    result = [staging]
    for platform in platforms:
        os_, arch, *variant = platform.split("/")
        derived = platform_tag(staging, os_, arch, variant[0] if variant else None)
        if derived:
            result.append(derived)
    return result


def staging_tags_delete(*, image: Image, staging: str, platforms: list[str]) -> int:
    """Drop the build's own transient tags (immutability does not apply: they are not the user's);
    the per-platform tags derived from the staging tag go with it."""
    deleted, _ = Tag.objects.filter(image=image, name__in=staging_tag_names(staging, platforms)).delete()
    return deleted


def build_staging_drop(*, job: BuildJob, staging: str) -> int:
    image = Image.objects.filter(repository_id=job.repository_id, name=job.image_name).first()
    if image is None:
        return 0
    with transaction.atomic():
        return staging_tags_delete(image=image, staging=staging, platforms=job.platforms)
