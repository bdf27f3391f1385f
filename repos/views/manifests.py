"""A tag or a manifest by digest: an index with its platform images, or one platform image with its layers."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from config.public_url import public_host
from repos.oci import digests
from repos.oci.platforms import is_attestation
from repos.selectors import manifests as selectors
from repos.selectors.platforms import platforms_of
from repos.selectors.provenance import tag_provenance
from repos.services.layer_sizes import manifests_uncompressed_size
from repos.views.common import image_or_404, paginate

CHILDREN_PER_PAGE = 100
LAYER_ROWS_PER_PAGE = 200


def tag_detail(request, key: str, name: str, tag: str):
    image = image_or_404(request, key, name)
    found = selectors.tag_find(image=image, name=tag)
    if found is None:
        raise Http404("No such tag")
    return _render_manifest(request, image=image, manifest=found.manifest, tag=found)


def manifest_detail(request, key: str, name: str, digest: str):
    image = image_or_404(request, key, name)
    manifest = selectors.manifest_find(image=image, digest=digest) if digests.is_valid_digest(digest) else None
    if manifest is None:
        raise Http404("No such manifest in this image")
    return _render_manifest(request, image=image, manifest=manifest, tag=None)


def _render_manifest(request, *, image, manifest, tag):
    context = {
        "image": image,
        "repository": image.repository,
        "manifest": manifest,
        "tag": tag,
        "membership": selectors.membership(image=image, manifest=manifest),
        "provenance": tag_provenance(tag) if tag is not None else None,
        "host": public_host(request),
    }
    if manifest.is_index:
        return _render_index(request, context)
    return _render_platform_image(request, context)


def _render_index(request, context):
    image, index = context["image"], context["manifest"]
    page = paginate(request, selectors.index_children(index=index), per_page=CHILDREN_PER_PAGE)
    children = list(page.object_list)
    child_ids = [entry.manifest_id for entry in children]
    tags = selectors.tags_pointing_at(image=image, manifest_ids=[index.id, *child_ids])
    uncompressed = manifests_uncompressed_size(manifest_ids=child_ids)
    duplicates = platforms_of([index])[index.id].duplicates
    context.update(
        page=page,
        children=[(entry, tags.get(entry.manifest_id, []), uncompressed.get(entry.manifest_id)) for entry in children],
        index_tags=tags.get(index.id, []),
        attestations=selectors.index_attestations(index=index),
        referrers=selectors.referrers(image=image, digests=[index.digest, *(e.manifest.digest for e in children)]),
        platform_of={e.manifest.digest: e.platform for e in children},
        duplicate_platforms=duplicates,
        # Entries a `--platform` pull never reaches (another entry of their platform comes first).
        shadowed={digest for d in duplicates for digest in d.shadowed} - {d.pulled for d in duplicates},
    )
    return render(request, "repos/manifest_list.html", context)


def _render_platform_image(request, context):
    image, manifest = context["image"], context["manifest"]
    where = selectors.image_context(image=image, manifest=manifest, index_digest=request.GET.get("index", ""))
    rows = selectors.layer_rows(manifest=manifest, shared_blobs=where.shared_blobs)
    largest = max((row.layer.size for row in rows if row.layer), default=0)
    page = paginate(request, rows, per_page=LAYER_ROWS_PER_PAGE)
    config = manifest.config if isinstance(manifest.config, dict) else {}
    context.update(
        where=where,
        page=page,
        largest=largest,
        layer_count=sum(1 for row in rows if row.layer),
        shared_count=sum(1 for row in rows if row.shared_with),
        config=config,
        labels=sorted((config.get("labels") or {}).items()),
        tags=selectors.tags_pointing_at(image=image, manifest_ids=[manifest.id]).get(manifest.id, []),
        referrers=selectors.referrers(image=image, digests=[manifest.digest]),
        is_attestation=is_attestation(manifest.os, manifest.architecture),
    )
    return render(request, "repos/image_manifest.html", context)
