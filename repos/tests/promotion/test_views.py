"""The browser's promote form: preview lists exactly what will happen; confirm queues the job; the ledger."""

import re

import pytest

from repos.models import PromotionJob, Tag
from repos.promotion.tasks import run_promotion
from repos.tests.promotion.content import push_index

IMAGE = "multiarch-image"


def form(**kwargs) -> dict:
    data = {
        "source_repository": "docker-local",
        "image": IMAGE,
        "source_tag": "latest",
        "target_repository": "docker-target",
        "target_tag": "",
        "target_image": "",
        "mode": "move",
    }
    data.update(kwargs)
    return data


def pinned_token(response) -> str:
    found = re.search(r'name="pinned" value="([^"]+)"', response.content.decode())
    assert found, "the preview pins no plan"
    return found.group(1)


def confirm(client, **fields):
    """Preview, then confirm what the preview pinned (as the browser does)."""
    preview = client.post("/promotions/new/", form(preview="1", **fields))
    assert preview.status_code == 200, preview.content
    return client.post("/promotions/new/", form(confirm="1", pinned=pinned_token(preview), **fields))


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def signed_in(client, admin):
    client.force_login(admin)
    return client


def test_the_form_is_prefilled_from_the_tag_page(signed_in, source, target):
    response = signed_in.get("/promotions/new/", {"repository": "docker-local", "image": IMAGE, "tag": "latest"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{IMAGE}"' in html and 'value="latest"' in html
    assert '<option value="docker-target">' in html


def test_preview_lists_every_change_and_changes_nothing(signed_in, source, target):
    push_index(source, IMAGE, "latest")
    response = signed_in.post("/promotions/new/", form(target_tag="latest-new", preview="1"))
    assert response.status_code == 200
    page = text(response)
    assert "latest-new-linux-amd64 created latest-linux-amd64 (renamed) linux/amd64" in page
    assert "latest-new-linux-arm64 created latest-linux-arm64 (renamed) linux/arm64" in page
    assert "Tags removed from docker-local (move) latest latest-linux-amd64 latest-linux-arm64" in page
    assert 'name="confirm"' in response.content.decode()
    assert not PromotionJob.objects.exists()
    assert not Tag.objects.filter(image__repository=target).exists()


def test_preview_shows_the_rules_that_refuse_it_and_offers_no_confirm(signed_in, source, target):
    target.required_platforms = ["linux/amd64", "linux/arm64", "linux/s390x"]
    target.save()
    push_index(source, IMAGE, "latest")
    response = signed_in.post("/promotions/new/", form(preview="1"))
    page = text(response)
    assert "Refused: nothing will change" in page
    assert "required-platforms" in page and "linux/s390x" in page
    assert 'name="confirm"' not in response.content.decode()


def test_preview_of_an_unknown_tag_says_so(signed_in, source, target):
    push_index(source, IMAGE, "latest")
    response = signed_in.post("/promotions/new/", form(source_tag="nope", preview="1"))
    assert response.status_code == 404
    assert "tag &#x27;nope&#x27; not found" in response.content.decode()


def test_confirm_queues_the_job_and_its_page_shows_the_result(signed_in, source, target):
    pushed = push_index(source, IMAGE, "latest")
    response = confirm(signed_in, mode="copy")
    job = PromotionJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/promotions/{job.pk}/"
    assert job.copy and job.status == "queued"
    waiting = signed_in.get(response["Location"])
    assert 'data-refresh-seconds="2"' in waiting.content.decode() and "promotion_job.js" in waiting.content.decode()

    run_promotion(job_id=job.pk)

    done = signed_in.get(response["Location"])
    assert "data-refresh-seconds" not in done.content.decode()
    page = text(done)
    assert "Succeeded" in page and "latest, latest-linux-amd64, latest-linux-arm64" in page
    assert pushed.digest in page

    ledger = text(signed_in.get("/promotions/", {"digest": pushed.children["linux/amd64"]}))
    assert f"Where {pushed.children['linux/amd64']} was promoted" in ledger
    assert f"release copy docker-local/{IMAGE}:latest docker-target/{IMAGE}:latest Succeeded" in ledger
    other = text(signed_in.get("/promotions/", {"digest": "sha256:" + "1" * 64}))
    assert "This digest has not been promoted." in other


def test_confirm_without_promote_permission_is_forbidden(client, source, target, plain_user, grant):
    push_index(source, IMAGE, "latest")
    grant(plain_user, source, "read")
    grant(plain_user, target, "read")
    client.force_login(plain_user)
    preview = text(client.post("/promotions/new/", form(preview="1")))
    assert "you may not promote from or into docker-local" in preview
    assert client.post("/promotions/new/", form(confirm="1")).status_code == 403
    assert not PromotionJob.objects.exists()


def test_pages_need_a_signed_in_user(client, source):
    for url in ("/promotions/", "/promotions/new/", "/promotions/1/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_promote_button_and_recent_promotions_for_other_pages(rf, source, target, admin, plain_user, grant):
    from django.template import Context, Template

    from repos.models import Image

    push_index(source, IMAGE, "latest")
    image = Image.objects.get(repository=source, name=IMAGE)
    page = Template("{% load promotions %}{% promote_button repository image 'latest' %}{% recent_promotions %}")
    request = rf.get("/")
    request.user = admin
    html = page.render(Context({"request": request, "repository": source, "image": image}))
    assert f"/promotions/new/?repository=docker-local&amp;image={IMAGE}&amp;tag=latest" in html
    assert "No promotions yet." in html
    grant(plain_user, source, "read")
    request.user = plain_user
    assert "Promote" not in page.render(Context({"request": request, "repository": source, "image": image}))


def test_dashboard_pages_lead_to_the_form_and_show_recent_promotions(signed_in, source, target, admin):
    push_index(source, "app", "1.0")
    confirm(signed_in, image="app", source_tag="1.0", mode="copy")
    job = PromotionJob.objects.get()
    run_promotion(job_id=job.pk)

    assert f"/promotions/{job.pk}/" in signed_in.get("/").content.decode()
    links = {
        "/repositories/docker-local/app/-/tags/1.0/": "image=app&amp;tag=1.0",  # the index tag
        "/repositories/docker-local/app/-/tags/1.0-linux-amd64/": "image=app&amp;tag=1.0-linux-amd64",
        "/repositories/docker-local/app/": "image=app",  # every tag
    }
    for page, query in links.items():
        assert f"/promotions/new/?repository=docker-local&amp;{query}" in signed_in.get(page).content.decode()


def test_ledger_pages_keep_the_status_and_repository_filters(signed_in, source, target):
    """Page 2 of a filtered ledger is page 2 of the same filter: every pager link keeps every filter."""
    other = type(source).objects.create(key="docker-other")
    fields = {"source_image": IMAGE, "target_image": IMAGE, "status": PromotionJob.Status.FAILED}
    PromotionJob.objects.bulk_create(
        [
            PromotionJob(
                source_repository=source,
                target_repository=target,
                source_key="docker-local",
                target_key="docker-target",
                **fields,
            )
            for _ in range(55)
        ]
        + [
            PromotionJob(
                source_repository=other,
                target_repository=target,
                source_key="docker-other",
                target_key="docker-target",
                **fields,
            )
            for _ in range(5)
        ]
        + [
            PromotionJob(
                source_repository=source,
                target_repository=target,
                source_key="docker-local",
                target_key="docker-target",
                source_image=IMAGE,
                target_image=IMAGE,
            )
            for _ in range(5)
        ]
    )
    first = signed_in.get("/promotions/", {"status": "failed", "repository": "docker-local"}).content.decode()
    links = set(re.findall(r'href="(\?[^"]*page=2[^"]*)"', first))
    assert links, "the first page links to no second page"
    for link in links:
        query = dict(pair.split("=", 1) for pair in link[1:].replace("&amp;", "&").split("&"))
        assert query.get("status") == "failed" and query.get("repository") == "docker-local", link
    second = text(signed_in.get("/promotions/" + links.pop().replace("&amp;", "&")))
    assert "page 2 of 2" in second.lower() and "51–55 of 55" in second
