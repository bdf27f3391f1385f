"""What each dashboard page shows for a multi-arch image pushed through /v2/."""

import re

import pytest

from repos.models import Tag
from repos.tests.dashboard.content import SIGNATURE_TYPE, XSS

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200, response.content[:2000]
    return response.content.decode()


def test_home_lists_repository_with_counts_charts_and_recent_push(admin_client, pushed):
    page = html(admin_client.get("/"))
    assert "docker-local" in page
    # 1.0 plus its two per-platform tags
    assert re.search(r"<b>3</b> tags", page)
    assert "team/app:1.0" in page
    assert page.count('<svg class="chart"') == 2
    assert "1 / 1" in page  # coverage summary: every image has its required platforms (none required)
    assert "Recent builds and promotions" in page


def test_repository_page_shows_images_with_platform_badges_and_latest_tags(admin_client, pushed):
    page = html(admin_client.get("/repositories/docker-local/"))
    assert 'href="/repositories/docker-local/team/app/"' in page
    assert ">linux/amd64<" in page and ">linux/arm64<" in page
    assert "+1 attestation" in page
    assert ">1.0<" in page
    assert "Settings" in page  # the admin may edit settings


def test_image_page_groups_derived_tags_under_index_tag(admin_client, pushed):
    page = html(admin_client.get(f"{pushed.base}/"))
    # one top-level row for 1.0, the per-platform tags appear as sub rows, not as their own rows
    assert page.count('<tr class="sub">') == 2
    assert "1.0-linux-amd64" in page and "1.0-linux-arm64" in page
    assert not re.search(r'<b class="mono">1\.0-linux', page)
    assert "multi-arch" in page


def test_manifest_list_page_shows_platforms_attestation_referrers_and_pull_commands(admin_client, pushed, settings):
    content = pushed.content
    settings.PUBLIC_URL = "http://registry.example:5000"  # pull commands name the public address
    page = html(admin_client.get(f"{pushed.base}/-/tags/1.0/"))
    platforms_table = page.split("<h2>Platform images</h2>")[1].split("<h2>Attestations</h2>")[0]
    for platform in content.children:
        assert platform in platforms_table
        assert f"docker pull --platform {platform} registry.example:5000/docker-local/team/app:1.0" in platforms_table
    # compressed and uncompressed sizes (the uncompressed one read from the gzip layers' trailers)
    assert re.search(r'data-label="Compressed" class="num">\d', platforms_table)
    assert re.search(r'data-label="Uncompressed" class="num">\d', platforms_table)
    assert content.attestation[1] not in platforms_table
    attestations = page.split("<h2>Attestations</h2>")[1].split("referrers</h2>")[0]
    assert content.attestation[1][7:19] in attestations
    assert "attestation-manifest" in attestations and "linux/amd64" in attestations
    assert SIGNATURE_TYPE in page
    assert "docker pull registry.example:5000/docker-local/team/app:1.0" in page
    assert f"docker pull registry.example:5000/docker-local/team/app@{content.index_digest}" in page
    # the same page by digest: the per-platform pull commands name the index by digest
    by_digest = html(admin_client.get(f"{pushed.base}/-/manifests/{content.index_digest}/"))
    assert "Platform images" in by_digest
    assert (
        f"docker pull --platform linux/arm64 registry.example:5000/docker-local/team/app@{content.index_digest}"
        in by_digest
    )


def test_platform_page_shows_config_layers_history_and_shared_layers(admin_client, pushed):
    content = pushed.content
    amd64 = content.children["linux/amd64"][1]
    page = html(admin_client.get(f"{pushed.base}/-/manifests/{amd64}/?index={content.index_digest}"))
    assert "/app/entrypoint" in page and "/app/hello" in page
    assert "GREETING=hello" not in page.split("<h2>Config</h2>")[0]
    assert "TARGETARCH=amd64" in page
    layers = page.split("<h2>Layers</h2>")[1]
    order = [layers.index(s) for s in ("ADD rootfs.tar", "ENV GREETING=hello", "COPY hello-amd64", "CMD [")]
    assert order == sorted(order)
    assert layers.count("empty layer") == 2
    # the base layer is shared with arm64; the app layer is not
    base_row = layers.split(content.base_layer_digest)[1].split("</tr>")[0]
    assert "linux/arm64" in base_row
    app_row = layers.split(content.app_layer_digests["linux/amd64"])[1].split("</tr>")[0]
    assert "only here" in app_row
    assert "1 of 2 layers shared" in page
    # the per-platform tag opens the same image
    assert "TARGETARCH=amd64" in html(admin_client.get(f"{pushed.base}/-/tags/1.0-linux-amd64/"))


def test_labels_descriptions_and_user_input_are_escaped_and_csp_set(admin_client, pushed):
    amd64 = pushed.content.children["linux/amd64"][1]
    response = admin_client.get(f"{pushed.base}/-/manifests/{amd64}/")
    page = html(response)
    assert XSS not in page
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in page
    assert "script-src 'self'" in response["Content-Security-Policy"]
    home = html(admin_client.get("/"))
    assert "<b>unsafe</b>" not in home and "&lt;b&gt;unsafe&lt;/b&gt;" in home
    search = html(admin_client.get("/search/", {"q": XSS}))
    assert XSS not in search


def test_unknown_things_are_404(admin_client, pushed):
    assert admin_client.get("/repositories/nope/").status_code == 404
    assert admin_client.get(f"{pushed.base}x/").status_code == 404
    assert admin_client.get(f"{pushed.base}/-/tags/2.0/").status_code == 404
    assert admin_client.get(f"{pushed.base}/-/manifests/sha256:{'0' * 64}/").status_code == 404


def test_htmx_request_gets_only_the_fragment(admin_client, pushed):
    response = admin_client.get("/repositories/docker-local/", {"q": "app"}, HTTP_HX_REQUEST="true")
    fragment = html(response)
    assert "<html" not in fragment and "team/app" in fragment
    assert response["Vary"] == "HX-Request" or "HX-Request" in response["Vary"]
    empty = html(admin_client.get("/repositories/docker-local/", {"q": "zzz"}, HTTP_HX_REQUEST="true"))
    assert "No image matches" in empty


def test_lists_paginate_with_stable_urls(admin_client, pushed):
    from repos.models import Image

    Image.objects.bulk_create([Image(repository=pushed.repository, name=f"bulk/img-{i:03d}") for i in range(60)])
    first = html(admin_client.get("/repositories/docker-local/"))
    assert "1–50 of 61" in first and "?page=2" in first
    second = html(admin_client.get("/repositories/docker-local/?page=2"))
    assert "51–61 of 61" in second and "team/app" in second


def test_times_are_relative_with_absolute_on_hover_and_sizes_human(admin_client, pushed):
    page = html(admin_client.get(f"{pushed.base}/"))
    assert re.search(
        r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">(just now|\d+\xa0\w+ ago)</time>', page
    )
    assert re.search(r"\d+(\.\d)? KiB", page)


def test_derived_tags_point_at_children(pushed):
    derived = Tag.objects.filter(derived_from__name="1.0").values_list("name", flat=True)
    assert set(derived) == {"1.0-linux-amd64", "1.0-linux-arm64"}


def test_virtual_repository_page_names_its_members_in_resolution_order(admin_client):
    from repos.models import VirtualMember
    from tests.support.factories import RepositoryFactory

    first, second = RepositoryFactory(key="local-b"), RepositoryFactory(key="local-a")
    virtual = RepositoryFactory(key="all", kind="virtual")
    VirtualMember.objects.create(virtual=virtual, member=second, position=1)
    VirtualMember.objects.create(virtual=virtual, member=first, position=0)
    page = re.sub(r"\s+", " ", html(admin_client.get("/repositories/all/")))
    assert re.search(
        r'Resolves through <a href="/repositories/local-b/">local-b</a> → <a href="/repositories/local-a/">', page
    )
