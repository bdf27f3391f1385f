"""What a `/v2/` name means for each kind of repository.

- local: its own rows;
- remote: its cache, filled from the upstream on demand (repos.services.remote);
- virtual: its members in order, the first that has the tag, digest or blob wins; `tags/list`
  merges them; pushes go to its default deployment local (Artifactory's rule), or are refused.

A member that cannot answer (upstream down, name unknown there) is skipped, so one broken remote
does not break the virtual's other members. So is a member the caller may not read: a virtual never
shows anyone more than its members would (making a virtual public exposes only public members).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from repos import errors
from repos.models import Blob, Manifest, Repository, RepositoryBlob
from repos.oci.manifests import ImageIndex, ManifestError, parse_manifest
from repos.selectors import registry as selectors
from repos.selectors.virtual import virtual_members as _all_members
from repos.services import remote as remote_services
from repos.services.remote_blobs import BlobStream
from repos.services.uploads import blob_link


def virtual_members(*, repository: Repository, user) -> list[Repository]:
    from accounts.permissions import READ, user_can

    return [m for m in _all_members(repository=repository) if user_can(user, m, READ)]


_MISSES = (errors.ManifestUnknown, errors.NameUnknown, errors.BlobUnknown, errors.UpstreamUnavailable)
_Answer = TypeVar("_Answer")


def _first_member_answer(
    repository: Repository, user, lookup: Callable[[Repository], _Answer], miss: errors.RegistryError
) -> _Answer:
    """What the first member (in order, readable by `user`) answers to `lookup`; members that miss or cannot
    answer are skipped, and `miss` is raised when none answers."""
    for member in virtual_members(repository=repository, user=user):
        try:
            return lookup(member)
        except _MISSES:
            continue
    raise miss


def manifest_for_pull(*, repository: Repository, user, image_name: str, reference: str) -> Manifest:
    if repository.is_remote:
        return remote_services.remote_manifest(repository=repository, image_name=image_name, reference=reference)
    if repository.is_virtual:
        return _first_member_answer(
            repository,
            user,
            lambda member: manifest_for_pull(repository=member, user=user, image_name=image_name, reference=reference),
            errors.ManifestUnknown(detail={"reference": reference, "virtual": repository.key}),
        )
    image = selectors.image_get(repository=repository, name=image_name)
    return selectors.manifest_get(image=image, reference=reference)


def blob_for_pull(*, repository: Repository, user, image_name: str, digest: str) -> Blob | BlobStream:
    if repository.is_remote:
        return remote_services.remote_blob(repository=repository, image_name=image_name, digest=digest)
    if repository.is_virtual:
        return _first_member_answer(
            repository,
            user,
            lambda member: blob_for_pull(repository=member, user=user, image_name=image_name, digest=digest),
            errors.BlobUnknown(detail={"digest": digest}),
        )
    return selectors.blob_get_in_repository(repository=repository, digest=digest)


def blob_size_for_pull(*, repository: Repository, user, image_name: str, digest: str) -> tuple[str, int]:
    """(digest, size) for a HEAD request."""
    if repository.is_remote:
        return digest, remote_services.remote_blob_size(repository=repository, image_name=image_name, digest=digest)
    if repository.is_virtual:
        return _first_member_answer(
            repository,
            user,
            lambda member: blob_size_for_pull(repository=member, user=user, image_name=image_name, digest=digest),
            errors.BlobUnknown(detail={"digest": digest}),
        )
    blob = selectors.blob_get_in_repository(repository=repository, digest=digest)
    if blob.size is None:  # a foreign layer's placeholder: its bytes never came
        raise errors.BlobUnknown(detail={"digest": digest})
    return blob.digest, blob.size


def tag_names_page(*, repository: Repository, user, image_name: str, limit: int, last: str = "") -> list[str]:
    if repository.is_local:
        image = selectors.image_get(repository=repository, name=image_name)
        return selectors.tag_names_page(image=image, limit=limit, last=last)
    names = sorted(_all_tag_names(repository, image_name, user), key=lambda n: n.encode())
    return [n for n in names if not last or n.encode() > last.encode()][:limit]


def _all_tag_names(repository: Repository, image_name: str, user) -> set[str]:
    if repository.is_remote:
        return set(remote_services.remote_tag_names(repository=repository, image_name=image_name))
    if repository.is_virtual:
        found: set[str] = set()
        known = False
        for member in virtual_members(repository=repository, user=user):
            try:
                found |= _all_tag_names(member, image_name, user)
                known = True
            except _MISSES:
                continue
        if not known:
            raise errors.NameUnknown(detail={"name": f"{repository.key}/{image_name}"})
        return found
    image = selectors.image_get(repository=repository, name=image_name)
    return set(image.tags.values_list("name", flat=True))


def push_target(*, repository: Repository) -> Repository:
    """Where a push addressed to `repository` lands, or DENIED with the reason."""
    if repository.is_remote:
        raise errors.Denied(
            f"{repository.key} is a remote repository (a read-only cache of its upstream); "
            "push to a local repository instead",
            detail={"repository": repository.key, "kind": "remote"},
        )
    if repository.is_virtual:
        target = repository.default_deployment
        if target is None:
            raise errors.Denied(
                f"virtual repository {repository.key} has no default deployment repository; "
                "push to one of its local members, or ask an admin to set one",
                detail={"repository": repository.key, "kind": "virtual"},
            )
        return target
    return repository


def deployment_link_blobs(*, virtual: Repository, target: Repository, user, raw: bytes, content_type: str) -> int:
    """A manifest pushed through a virtual may reference blobs the client found through the virtual
    (docker HEADs each layer and skips those that exist, e.g. the base image's layers a build pulled
    through a remote member). Those a member holds are linked into the target, as a mount would;
    anything else is left to the usual MANIFEST_BLOB_UNKNOWN. Returns how many were linked."""
    try:
        parsed = parse_manifest(raw, content_type)
    except ManifestError:
        return 0
    if isinstance(parsed, ImageIndex):
        return 0
    wanted = {d.digest for d in (parsed.config, *parsed.layers)}
    present = set(
        RepositoryBlob.objects.filter(repository=target, blob__digest__in=wanted).values_list("blob__digest", flat=True)
    )
    members = [m for m in virtual_members(repository=virtual, user=user) if m.pk != target.pk]
    linked = 0
    for digest in sorted(wanted - present):
        held = RepositoryBlob.objects.filter(repository__in=members, blob__digest=digest).select_related("blob").first()
        if held is not None:
            blob_link(repository=target, blob=held.blob)
            linked += 1
    return linked
