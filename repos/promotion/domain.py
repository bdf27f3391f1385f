"""What a promotion is: the request, the plan of tag changes it would make, the refusals of the target's rules,
and the errors it ends with. Values only, no queries (planning.py builds plans, rules.py refuses them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from repos import errors
from repos.models import Image, Manifest, Repository
from repos.oci import digests, names

RULE_PERMISSION = "permission"
RULE_IMMUTABLE = "tag-immutability"
RULE_OVERWRITE = "overwrite-permission"
RULE_PLATFORMS = "required-platforms"
RULE_SOURCE_CHANGED = "source-changed"
RULE_TARGET_KIND = "target-kind"


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
