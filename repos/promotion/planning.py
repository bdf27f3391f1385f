"""Promotion planning: the exact list of changes a promotion makes, and the rules that refuse it.

Reads only. `promotion_plan` serves the preview (dry run); execution builds the same plan again
inside its transaction, under locks, and applies it (repos/promotion/execution.py).
"""

from __future__ import annotations

from accounts.permissions import READ, user_can
from repos.models import Image, Manifest, ManifestLayer, ManifestListEntry, Repository, RepositoryBlob, Tag
from repos.oci import media_types, platforms
from repos.promotion.domain import PromotionNotFound, PromotionPlan, PromotionRequest, TagChange
from repos.promotion.rules import raise_if_pinned, refusals_for


def repositories_resolve(request: PromotionRequest, *, user) -> tuple[Repository, Repository]:
    """Both repositories; one the caller may not even read is reported as unknown (no existence oracle)."""
    found = {r.key: r for r in Repository.objects.filter(key__in={request.source_key, request.target_key})}
    for key in (request.source_key, request.target_key):
        repository = found.get(key)
        if repository is None or not user_can(user, repository, READ):
            raise PromotionNotFound(f"repository {key!r} not found", detail={"repository": key})
    return found[request.source_key], found[request.target_key]


def promotion_plan(*, request: PromotionRequest, user) -> PromotionPlan:
    """The preview: what promoting would change, and why it would be refused (no writes, no locks)."""
    request.validate()
    source, target = repositories_resolve(request, user=user)
    source_image = Image.objects.filter(repository=source, name=request.source_image).first()
    target_image = Image.objects.filter(repository=target, name=request.target_image_name).first()
    return plan_build(
        request=request, user=user, source=source, target=target, source_image=source_image, target_image=target_image
    )


def plan_build(
    *,
    request: PromotionRequest,
    user,
    source: Repository,
    target: Repository,
    source_image: Image | None,
    target_image: Image | None,
) -> PromotionPlan:
    if source_image is None:
        raise_if_pinned(request)
        raise PromotionNotFound(
            f"image {request.source_image!r} not found in {source.key}", detail={"image": request.source_image}
        )
    plan = PromotionPlan(
        request=request,
        source_repository=source,
        target_repository=target,
        source_image_row=source_image,
        target_image_row=target_image,
    )
    try:
        selected = _selected_source_tags(request, source_image)
    except PromotionNotFound:
        raise_if_pinned(request)
        raise
    plan.source_digests = {tag.name: tag.manifest.digest for tag in selected}
    for tag in selected:
        plan.primaries.append((request.target_tag or tag.name, tag.manifest))
    _plan_target_tags(plan, selected, target_image)
    content = content_closure(image=source_image, roots=[m for _, m in plan.primaries])
    plan.manifests = {m.digest: role for m, role in content.values()}
    plan.manifest_ids = [m.pk for m, _ in content.values()]
    blob_rows = _blobs_of(source, [m for m, _ in content.values()])
    plan.blob_ids = [pk for pk, _ in blob_rows]
    plan.blobs = [digest for _, digest in blob_rows]
    if not request.copy:
        _plan_source_removal(plan, selected, source_image, content)
    plan.refusals = refusals_for(plan, user=user, source=source, target=target)
    return plan


def _selected_source_tags(request: PromotionRequest, image: Image) -> list[Tag]:
    tags = Tag.objects.filter(image=image).select_related("manifest").order_by("name")
    if request.source_tag:
        tag = tags.filter(name=request.source_tag).first()
        if tag is None:
            raise PromotionNotFound(
                f"tag {request.source_tag!r} not found in {image.client_name}", detail={"tag": request.source_tag}
            )
        return [tag]
    # Per-platform tags follow their index tag; promoting them on their own would only duplicate that.
    selected = list(tags.filter(derived_from__isnull=True))
    if not selected:
        raise PromotionNotFound(f"{image.client_name} has no tags to promote")
    return selected


def _plan_target_tags(plan: PromotionPlan, selected: list[Tag], target_image: Image | None) -> None:
    """Target tags, mirroring repos.services.manifests.tag_set (index tags derive per-platform tags)."""
    source_derived = {
        (t.derived_from_id, t.name) for t in Tag.objects.filter(derived_from__in=selected).only("name", "derived_from")
    }
    wanted: dict[str, TagChange] = {}
    for tag, (target_name, manifest) in zip(selected, plan.primaries):
        wanted[target_name] = TagChange(target_tag=target_name, digest=manifest.digest, action="", source_tag=tag.name)
        if not manifest.is_index:
            continue
        for entry in ManifestListEntry.objects.filter(index=manifest).select_related("manifest"):
            derived = platforms.platform_tag(target_name, entry.os, entry.architecture, entry.variant or None)
            if not derived or derived == target_name:
                continue
            already = wanted.get(derived)
            if already and already.derived_from == target_name:
                continue  # a platform listed twice names the first entry, as in tag_set
            in_source = platforms.platform_tag(tag.name, entry.os, entry.architecture, entry.variant or None)
            wanted[derived] = TagChange(
                target_tag=derived,
                digest=entry.manifest.digest,
                action="",
                source_tag=in_source if in_source and (tag.pk, in_source) in source_derived else "",
                platform=entry.platform,
                derived_from=target_name,
            )
    existing: dict[str, Tag] = {}
    if target_image is not None:
        existing = {
            t.name: t for t in Tag.objects.filter(image=target_image).select_related("manifest", "derived_from")
        }
    for change in wanted.values():
        current = existing.get(change.target_tag)
        if current is None:
            change.action = "create"
        else:
            change.previous_digest = current.manifest.digest
            change.action = "unchanged" if current.manifest.digest == change.digest else "overwrite"
    # Each index tag followed by its per-platform tags.
    plan.tags = sorted(
        wanted.values(), key=lambda c: (c.derived_from or c.target_tag, bool(c.derived_from), c.target_tag)
    )
    # tag_set drops per-platform tags of an overwritten index tag that the new index does not have.
    primaries = {name for name, _ in plan.primaries}
    plan.removed_parents = {
        t.name: t.derived_from.name
        for t in existing.values()
        if t.derived_from is not None and t.derived_from.name in primaries and t.name not in wanted
    }
    plan.removed_from_target = sorted(plan.removed_parents)


def content_closure(*, image: Image, roots: list[Manifest]) -> dict[int, tuple[Manifest, str]]:
    """Everything the roots reach inside the image: index children, and referrers (transitively)."""
    found: dict[int, tuple[Manifest, str]] = {}
    frontier: list[Manifest] = []
    for manifest in roots:
        if manifest.pk not in found:
            found[manifest.pk] = (manifest, "index" if manifest.is_index else "manifest")
            frontier.append(manifest)
    while frontier:
        index_ids = [m.pk for m in frontier if m.is_index]
        children = Manifest.objects.filter(parent_entries__index_id__in=index_ids).distinct() if index_ids else []
        referrers = Manifest.objects.filter(
            subject_digest__in=[m.digest for m in frontier], memberships__image=image
        ).distinct()
        frontier = []
        for role, manifests in (("manifest", children), ("referrer", referrers)):
            for manifest in manifests:
                if manifest.pk not in found:
                    found[manifest.pk] = (manifest, role)
                    frontier.append(manifest)
    return found


def _blobs_of(repository: Repository, manifests: list[Manifest]) -> list[tuple[int, str]]:
    """Config and layer blobs of the manifests that the repository holds (foreign layers are not stored)."""
    ids = {m.config_blob_id for m in manifests if m.config_blob_id}
    ids |= set(ManifestLayer.objects.filter(manifest__in=[m.pk for m in manifests]).values_list("blob_id", flat=True))
    links = RepositoryBlob.objects.filter(repository=repository, blob_id__in=ids).select_related("blob")
    return sorted(((link.blob_id, link.blob.digest) for link in links), key=lambda row: row[1])


def _plan_source_removal(plan: PromotionPlan, selected: list[Tag], image: Image, content: dict) -> None:
    removed = {t.name for t in selected}
    removed |= set(Tag.objects.filter(derived_from__in=selected).values_list("name", flat=True))
    same_image = plan.target_image_row is not None and plan.target_image_row.pk == image.pk
    if same_image:
        # A move inside one image is a rename: the new names stay.
        removed -= {change.target_tag for change in plan.tags}
    plan.removed_from_source = sorted(removed)
    if same_image:
        return
    remaining = Tag.objects.filter(image=image).exclude(name__in=removed).select_related("manifest")
    # What stays keeps what it needs: manifests remaining tags reach, and children of indexes left in the image.
    other_indexes = Manifest.objects.filter(memberships__image=image, media_type__in=media_types.INDEX_TYPES).exclude(
        pk__in=list(content)
    )
    still_reached = content_closure(image=image, roots=[t.manifest for t in remaining] + list(other_indexes))
    plan.unlinked_from_source = sorted(m.digest for pk, (m, _) in content.items() if pk not in still_reached)
    untagged_left = image.memberships.exclude(manifest__digest__in=plan.unlinked_from_source).exists()
    plan.source_image_removed = not remaining.exists() and not untagged_left
