"""The seeding command behind the page benchmark: exact counts, real blobs, rows as a push makes them."""

import pytest
from django.core.management import call_command

from repos.models import Blob, Image, Manifest, ManifestListEntry, Tag
from repos.oci import platforms
from repos.oci.digests import sha256_digest
from repos.storage import get_blob_store

pytestmark = pytest.mark.django_db


def test_seed_counts_blobs_and_derived_tags(blob_storage):
    call_command("seed_dashboard", images=40, tags=400, prefix="bench")
    assert Image.objects.filter(repository__key__startswith="bench-").count() == 40
    assert Tag.objects.count() == 400
    store = get_blob_store()
    for blob in Blob.objects.order_by("?")[:20]:
        with store.open(blob.digest) as handle:
            data = handle.read()
        assert len(data) == blob.size and sha256_digest(data) == blob.digest
    for manifest in Manifest.objects.order_by("?")[:20]:
        assert sha256_digest(bytes(manifest.raw)) == manifest.digest
    for derived in Tag.objects.filter(derived_from__isnull=False).select_related("derived_from", "manifest")[:50]:
        entry = ManifestListEntry.objects.get(index=derived.derived_from.manifest_id, manifest=derived.manifest)
        assert derived.name == platforms.platform_tag(
            derived.derived_from.name, entry.os, entry.architecture, entry.variant or None
        )
    # some images lack arm64, the prod repository requires it: the coverage page has something to show
    prod = Image.objects.filter(repository__key="bench-prod")
    assert prod.exists() and ManifestListEntry.objects.filter(os="unknown").exists()
    # idempotent: a second run adds nothing
    call_command("seed_dashboard", images=40, tags=400, prefix="bench")
    assert Tag.objects.count() == 400
