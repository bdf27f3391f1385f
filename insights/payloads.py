"""The JSON that webhooks receive: repository, image, tag, digest, media type, platforms, actor."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from insights.models import Alert
from repos.models import Tag
from repos.selectors.platforms import platform_images


def actor_name(actor_id: int | None) -> str | None:
    if actor_id is None:
        return None
    return get_user_model().objects.filter(pk=actor_id).values_list("username", flat=True).first()


def tag_payload(tag: Tag, *, actor_id: int | None, source: str) -> dict:
    image = tag.image
    return {
        "repository": image.repository.key,
        "image": image.name,
        "tag": tag.name,
        "digest": tag.manifest.digest,
        "media_type": tag.manifest.media_type,
        "platforms": sorted(platform_images(tag.manifest)),
        "actor": actor_name(actor_id),
        "source": source,
    }


def alert_payload(alert: Alert, base: dict) -> dict:
    return {
        **base,
        "alert": {"id": alert.pk, "kind": alert.kind, "message": alert.message, "details": alert.details},
    }
