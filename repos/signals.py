"""Signals other apps listen to; sent after the transaction that made the change commits."""

from django.dispatch import Signal

# A tag (not a per-platform tag) now points at a manifest. Arguments: tag_id, actor_id (or None),
# source ("push", "promotion" or "build").
tag_written = Signal()

# A tag was deleted. Arguments: image_id, tag, digest, media_type, actor_id (or None).
tag_deleted = Signal()
