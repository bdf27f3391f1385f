"""Telling garbage collection that a blob is about to be relied on.

GC removes a blob only when nothing references it *and* it was last touched before the GC's
grace window (`Blob.touched`), re-checked under row locks. Every path that is about to make a
manifest reference an existing blob touches it first: the upload that finds the blob already
stored, a cross-repository mount, a HEAD (docker skips uploading what HEAD finds) and the
manifest PUT itself. A touch waits for a GC holding the row, so it either lands before GC
re-checks (GC keeps the blob) or finds the row gone (the caller uploads the bytes again).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from repos.models import Blob

logger = logging.getLogger(__name__)


def _stale_before():
    # Writing on every HEAD would cost a write per layer per push; a touch newer than this is kept.
    return timezone.now() - timedelta(seconds=settings.REGISTRY_GC_TOUCH_SECONDS)


def blobs_touch(*, blob_ids: Iterable[int] = (), digests: Iterable[str] = ()) -> None:
    blob_ids, digests = list(blob_ids), list(digests)
    if blob_ids:
        Blob.objects.filter(pk__in=blob_ids, touched__lt=_stale_before()).update(touched=timezone.now())
    if digests:
        Blob.objects.filter(digest__in=digests, touched__lt=_stale_before()).update(touched=timezone.now())


def blob_reserve(*, digest: str, size: int) -> Blob:
    """The blob row for bytes about to be committed, touched now.

    Called before the bytes are moved into the store: a GC that already holds the row finishes
    first (deleting row and bytes), then the row is made again and the bytes are written; a GC
    that comes later sees a fresh touch. Bytes received always win over a declared size.
    """
    for _ in range(3):
        with transaction.atomic():
            blob = Blob.objects.select_for_update().filter(digest=digest).first()
            if blob is not None:
                fields: dict[str, object] = {"touched": timezone.now()}
                if blob.size != size:
                    # A foreign layer's row has no size; a row from an older version may hold a declared one.
                    logger.warning(
                        "blob %s: stored size %s corrected to the %d bytes received", digest, blob.size, size
                    )
                    fields["size"] = size
                Blob.objects.filter(pk=blob.pk).update(**fields)
                blob.__dict__.update(fields)
                return blob
            try:
                with transaction.atomic():
                    return Blob.objects.create(digest=digest, size=size, touched=timezone.now())
            except IntegrityError:
                continue  # created meanwhile (another push, or a GC sweep holding the digest): look again
    return Blob.objects.get(digest=digest)
