"""Promotion planning: the exact list of changes a promotion makes, and the rules that refuse it.

Reads only. `promotion_plan` serves the preview (dry run); execution builds the same plan again
inside its transaction, under locks, and applies it (repos/promotion/execution.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from accounts.permissions import DELETE, PROMOTE, READ, user_can
from repos import errors
from repos.models import Image, Manifest, ManifestLayer, ManifestListEntry, Repository, RepositoryBlob, Tag
from repos.oci import digests, media_types, names, platforms
from repos.selectors.platforms import platform_entries


class PromotionInvalid(errors.RegistryError):
    code = "PROMOTION_INVALID"
    status = 400
    message = "invalid promotion request"


class PromotionNotFound(errors.RegistryError):
    code = "NOT_FOUND"
    status = 404
    message = "not found"


class PromotionRefused(errors.RegistryError):
    code = "PROMOTION_REFUSED"
    status = 409
    message = "promotion refused"

    def __init__(self, plan: PromotionPlan):
        refusals = plan.refusals
        super().__init__("; ".join(r.message for r in refusals), detail={"refusals": [r.as_dict() for r in refusals]})
        self.plan = plan
        self.status = refusal_status(r.rule for r in refusals)


def refusal_status(rules) -> int:
    """A missing permission is a 403; a repository rule is a conflict with the target's state."""
    return 403 if RULE_PERMISSION in set(rules) else 409


class PromotionFailed(errors.RegistryError):
    """A promotion job that ended failed, as the error its run raised (code and status), for the API."""

    code = "PROMOTION_FAILED"
    # A refusal's status depends on its rules; DENIED at run time means the target changed under the job.
    STATUS_BY_CODE = {"NOT_FOUND": 404, "PROMOTION_INVALID": 400, "DENIED": 409}

    @classmethod
    def of(cls, job) -> PromotionFailed:
        refusals = job.result.get("refusals")
        failure = cls(job.error, detail={"refusals": refusals} if refusals else job.result.get("detail"))
        failure.code = job.error_code or cls.code
        if job.error_code == PromotionRefused.code:
            failure.status = refusal_status(r.get("rule") for r in refusals or [])
        else:
            failure.status = cls.STATUS_BY_CODE.get(job.error_code, 500)
        return failure


RULE_PERMISSION = "permission"
RULE_IMMUTABLE = "tag-immutability"
RULE_OVERWRITE = "overwrite-permission"
RULE_PLATFORMS = "required-platforms"
RULE_SOURCE_CHANGED = "source-changed"
RULE_TARGET_KIND = "target-kind"


@dataclass(frozen=True)
class PromotionRequest:
    source_key: str
    source_image: str
    target_key: str
    target_image: str = ""
    source_tag: str = ""
    target_tag: str = ""
    copy: bool = False
    # Source tag -> digest the requester saw (a preview, or `expected_digest`). None: take the source
    # as it is when the job runs. Otherwise a source that no longer matches is refused (source-changed).
    expected_digests: dict[str, str] | None = field(default=None, compare=False, hash=False)

    @property
    def target_image_name(self) -> str:
        return self.target_image or self.source_image

    def validate(self) -> None:
        for label, value in (("source image", self.source_image), ("target image", self.target_image_name)):
            if not names.is_valid_name(value):
                raise PromotionInvalid(f"invalid {label} name {value[:100]!r}", detail={"name": value[:300]})
        for label, value in (("source tag", self.source_tag), ("target tag", self.target_tag)):
            if value and not names.is_valid_tag(value):
                raise PromotionInvalid(f"invalid {label} {value[:130]!r}", detail={"tag": value[:300]})
        if self.target_tag and not self.source_tag:
            raise PromotionInvalid("a target tag needs a source tag (which tag should be renamed?)")
        for tag, digest in (self.expected_digests or {}).items():
            if not names.is_valid_tag(tag) or not digests.is_valid_digest(digest):
                raise PromotionInvalid(
                    f"invalid expected digest {str(digest)[:100]!r} for tag {str(tag)[:130]!r}",
                    detail={"tag": str(tag)[:300], "digest": str(digest)[:300]},
                )
        if self.expected_digests is not None and self.source_tag and set(self.expected_digests) != {self.source_tag}:
            raise PromotionInvalid(
                "the expected digest must be the one of the source tag",
                detail={"source_tag": self.source_tag, "expected": sorted(self.expected_digests)},
            )
        same_image = self.source_key == self.target_key and self.source_image == self.target_image_name
        if same_image and (self.target_tag or self.source_tag) == self.source_tag:
            raise PromotionInvalid("source and target are the same; give another repository, image or tag")


@dataclass
class TagChange:
    """A tag the target will have. `source_tag` is what it is called in the source, when it exists there."""

    target_tag: str
    digest: str
    action: str  # create | overwrite | unchanged
    source_tag: str = ""
    previous_digest: str = ""
    platform: str = ""
    derived_from: str = ""

    @property
    def renamed(self) -> bool:
        return bool(self.source_tag) and self.source_tag != self.target_tag


@dataclass
class Refusal:
    rule: str
    message: str
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message, "detail": self.detail}


@dataclass
class PromotionPlan:
    request: PromotionRequest
    tags: list[TagChange] = field(default_factory=list)
    removed_from_target: list[str] = field(default_factory=list)
    removed_parents: dict[str, str] = field(default_factory=dict)  # removed per-platform tag -> its index tag
    removed_from_source: list[str] = field(default_factory=list)
    unlinked_from_source: list[str] = field(default_factory=list)
    source_image_removed: bool = False
    manifests: dict[str, str] = field(default_factory=dict)  # digest -> role (index, manifest, referrer)
    blobs: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    source_digests: dict[str, str] = field(default_factory=dict)  # source tag -> digest it holds now
    # Rows the execution needs; not part of the preview.
    source_repository: Repository | None = None
    target_repository: Repository | None = None
    source_image_row: Image | None = None
    target_image_row: Image | None = None
    primaries: list[tuple[str, Manifest]] = field(default_factory=list)  # (target tag, manifest)
    manifest_ids: list[int] = field(default_factory=list)
    blob_ids: list[int] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def renamed(self) -> list[TagChange]:
        return [change for change in self.tags if change.renamed]

    def changes(self, action: str) -> list[TagChange]:
        return [change for change in self.tags if change.action == action]

    def as_dict(self) -> dict:
        r = self.request
        return {
            "source": {"repository": r.source_key, "image": r.source_image, "tag": r.source_tag},
            "target": {"repository": r.target_key, "image": r.target_image_name, "tag": r.target_tag},
            "copy": r.copy,
            "allowed": self.allowed,
            # What `expected_digest` (or `expected_digests` for every tag) pins for the real run.
            "source_digest": self.source_digests.get(r.source_tag) if r.source_tag else None,
            "source_digests": self.source_digests,
            "tags": [vars(change).copy() for change in self.tags],
            "tags_created": [c.target_tag for c in self.changes("create")],
            "tags_overwritten": [c.target_tag for c in self.changes("overwrite")],
            "tags_unchanged": [c.target_tag for c in self.changes("unchanged")],
            "tags_renamed": [{"from": c.source_tag, "to": c.target_tag} for c in self.renamed],
            "removed_from_target": self.removed_from_target,
            "removed_from_source": self.removed_from_source,
            "unlinked_from_source": self.unlinked_from_source,
            "source_image_removed": self.source_image_removed,
            "manifests": [{"digest": d, "role": role} for d, role in self.manifests.items()],
            "blobs": self.blobs,
            "refusals": [refusal.as_dict() for refusal in self.refusals],
        }


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
    plan.refusals = _refusals(plan, user=user, source=source, target=target)
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


# Rules other apps add (insights: `smoke-test`), each `(plan) -> list[Refusal]`, checked after the ones below.
EXTRA_RULES: list[Callable[[PromotionPlan], list[Refusal]]] = []


def promotion_rule_register(rule: Callable[[PromotionPlan], list[Refusal]]) -> None:
    if rule not in EXTRA_RULES:
        EXTRA_RULES.append(rule)


def _refusals(plan: PromotionPlan, *, user, source: Repository, target: Repository) -> list[Refusal]:
    request = plan.request
    refusals = []
    changed = source_changes(request, plan.source_digests)
    if changed:
        refusals.append(source_changed_refusal(request, changed))
    for side, repository in (("source", source), ("target", target)):
        if not user_can(user, repository, PROMOTE):
            refusals.append(
                Refusal(
                    RULE_PERMISSION,
                    f"you may not promote from or into {repository.key} (promote permission needed)",
                    {"repository": repository.key, "permission": PROMOTE, "side": side},
                )
            )
    if not request.copy and not user_can(user, source, DELETE):
        refusals.append(
            Refusal(
                RULE_PERMISSION,
                f"a move removes tags from {source.key}, which needs the delete permission there",
                {"repository": source.key, "permission": DELETE, "side": "source"},
            )
        )
    if not target.is_local:
        refusals.append(
            Refusal(
                RULE_TARGET_KIND,
                f"{target.key} is a {target.kind} repository: promote into a local repository",
                {"repository": target.key, "kind": target.kind, "side": "target"},
            )
        )
    if not request.copy and not source.is_local:
        refusals.append(
            Refusal(
                RULE_TARGET_KIND,
                f"{source.key} is a {source.kind} repository: copy from it (a move would remove "
                "from the cache, not from its upstream)",
                {"repository": source.key, "kind": source.kind, "side": "source"},
            )
        )
    overwritten = [c.target_tag for c in plan.changes("overwrite")] + plan.removed_from_target
    if overwritten and target.tag_immutability:
        refusals.append(
            Refusal(
                RULE_IMMUTABLE,
                f"{target.key} has immutable tags and these exist: {', '.join(overwritten)}",
                {"repository": target.key, "tags": overwritten, "side": "target"},
            )
        )
    if plan.removed_from_source and source.tag_immutability:
        refusals.append(
            Refusal(
                RULE_IMMUTABLE,
                f"{source.key} has immutable tags: a move cannot remove "
                f"{', '.join(plan.removed_from_source)} (copy instead)",
                {"repository": source.key, "tags": plan.removed_from_source, "side": "source"},
            )
        )
    if overwritten and not user_can(user, target, DELETE):
        refusals.append(
            Refusal(
                RULE_OVERWRITE,
                f"overwriting {', '.join(overwritten)} in {target.key} needs the delete permission",
                {"repository": target.key, "tags": overwritten, "permission": DELETE},
            )
        )
    required = [p for p in (target.required_platforms or []) if isinstance(p, str) and p]
    for target_name, manifest in plan.primaries if required else []:
        missing = missing_platforms(required, manifest)
        if missing:
            refusals.append(
                Refusal(
                    RULE_PLATFORMS,
                    f"{target.key} requires platforms {', '.join(missing)} that {target_name} does not have",
                    {"repository": target.key, "tag": target_name, "missing": missing, "required": required},
                )
            )
    for rule in EXTRA_RULES:
        refusals.extend(rule(plan))
    return refusals


def image_platforms(manifest: Manifest) -> list[tuple[str, str, str]]:
    """(os, architecture, variant) of an image manifest, or of an index's children (attestations aside)."""
    return [(os, architecture, variant) for os, architecture, variant, _ in platform_entries(manifest)]


def missing_platforms(required: list[str], manifest: Manifest) -> list[str]:
    """Required `os/arch[/variant]` entries the image lacks; a requirement without variant accepts any."""
    present = image_platforms(manifest)
    missing = []
    for requirement in required:
        os_, arch, variant = platforms.parse_platform(requirement)
        if not any(p[0] == os_ and p[1] == arch and (not variant or p[2] == variant) for p in present):
            missing.append(requirement)
    return missing


class SourceChanged(PromotionRefused):
    """The source is not what the requester saw: refused before anything is queued or changed."""

    def __init__(self, request: PromotionRequest, changed: list[dict]):
        refusal = source_changed_refusal(request, changed)
        errors.RegistryError.__init__(self, refusal.message, detail={"refusals": [refusal.as_dict()]})
        self.status = 409
        self.plan = PromotionPlan(request=request, refusals=[refusal])


def source_changes(request: PromotionRequest, current: dict[str, str]) -> list[dict]:
    """Each source tag whose digest differs from the expected one (`current` "" when the tag is gone)."""
    if request.expected_digests is None:
        return []
    expected = request.expected_digests
    return [
        {"tag": tag, "previewed": expected.get(tag, ""), "current": current.get(tag, "")}
        for tag in sorted(set(expected) | set(current))
        if expected.get(tag, "") != current.get(tag, "")
    ]


def source_changed_refusal(request: PromotionRequest, changed: list[dict]) -> Refusal:
    ref = f"{request.source_key}/{request.source_image}"
    parts = []
    for change in changed:
        previewed, current = change["previewed"] or "absent", change["current"] or "absent"
        parts.append(f"{ref}:{change['tag']} was {previewed} when previewed and is now {current}")
    return Refusal(
        RULE_SOURCE_CHANGED,
        "the source changed since the preview: " + "; ".join(parts) + " (preview again)",
        {"repository": request.source_key, "image": request.source_image, "changed": changed},
    )


def source_digests_current(request: PromotionRequest, source: Repository) -> dict[str, str]:
    """What the source tags of the request hold now (the tags a promotion of every tag would take)."""
    tags = Tag.objects.filter(image__repository=source, image__name=request.source_image)
    if request.source_tag:
        tags = tags.filter(name=request.source_tag)
    else:
        tags = tags.filter(derived_from__isnull=True)
    return dict(tags.values_list("name", "manifest__digest"))


def raise_if_pinned(request: PromotionRequest) -> None:
    """The pinned source tags are gone: that is a changed source (409), not an unknown one."""
    if request.expected_digests:
        raise SourceChanged(request, source_changes(request, {}))


def source_unchanged_check(request: PromotionRequest, source: Repository) -> None:
    """Raise SourceChanged (409) when the request pins digests the source no longer holds."""
    if request.expected_digests is None:
        return
    changed = source_changes(request, source_digests_current(request, source))
    if changed:
        raise SourceChanged(request, changed)
