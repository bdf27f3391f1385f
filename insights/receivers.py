"""After a tag is written or deleted: look for regressions and parity problems, queue the smoke test, tell webhooks.

Runs after the tag's transaction committed, so a failure here never undoes a push; it is logged.
"""

import logging

from django.dispatch import receiver

from insights import payloads
from insights.services import parity, regressions
from insights.services.smoke_tests import smoke_tests_after_tag_written
from insights.services.webhooks import event_dispatch
from repos import signals
from repos.models import Image, Tag

logger = logging.getLogger("insights")


@receiver(signals.tag_written)
def on_tag_written(sender, *, tag_id: int, actor_id, source: str, **kwargs) -> None:
    try:
        tag = Tag.objects.select_related("image__repository", "manifest").filter(pk=tag_id).first()
    except Exception:
        logger.exception("insights after tag %s failed", tag_id)
        return
    if tag is None:
        return  # moved away or deleted since
    try:
        base = payloads.tag_payload(tag, actor_id=actor_id, source=source)
        event_dispatch(event=source, repository=tag.image.repository, payload=base)
        for alert in tag_checks(tag):
            event_dispatch(event="alert", repository=tag.image.repository, payload=payloads.alert_payload(alert, base))
    except Exception:
        logger.exception("insights after tag %s failed", tag_id)
    try:
        smoke_tests_after_tag_written(tag, actor_id=actor_id, source=source)
    except Exception:
        logger.exception("queueing the smoke test after tag %s failed", tag_id)


def tag_checks(tag: Tag) -> list:
    alerts = [regressions.regression_check(tag), parity.parity_check(tag)]
    return [alert for alert in alerts if alert is not None]


@receiver(signals.tag_deleted)
def on_tag_deleted(sender, *, image_id: int, tag: str, digest: str, media_type: str, actor_id, **kwargs) -> None:
    try:
        image = Image.objects.select_related("repository").filter(pk=image_id).first()
        if image is None:
            return
        event_dispatch(
            event="tag.delete",
            repository=image.repository,
            payload={
                "repository": image.repository.key,
                "image": image.name,
                "tag": tag,
                "digest": digest,
                "media_type": media_type,
                "platforms": [],
                "actor": payloads.actor_name(actor_id),
                "source": "delete",
            },
        )
    except Exception:
        logger.exception("insights after deleting tag %s failed", tag)
