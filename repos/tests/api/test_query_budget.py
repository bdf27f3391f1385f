"""Every API list (and detail) runs at most 15 SQL queries, with 1 image seeded and with 200."""

import pytest

from repos.models import Image
from repos.tests.dashboard.budget import BUDGET, DIRTY_READ_EXTRA, assert_within_budget
from repos.tests.dashboard.fixtures import seed

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("images", [1, 200])
def test_every_api_list_within_budget(admin_client, pushed, images, django_assert_max_num_queries):
    seed(images)
    image_id = Image.objects.filter(repository__key="seed-dev").values_list("id", flat=True).first()
    urls = [
        "/api/repositories/",
        "/api/repositories/seed-dev/",
        "/api/images/",
        "/api/images/?repository=seed-dev&page_size=200",
        f"/api/images/{image_id}/",
        "/api/tags/",
        "/api/tags/?derived=false&page_size=200",
        "/api/tags/?repository=seed-prod",
        "/api/manifests/",
        "/api/manifests/?page_size=200",
        "/api/manifests/?platform=linux/arm64",
        f"/api/manifests/{pushed.content.index_digest}/",
        "/api/coverage/",
        "/api/coverage/?missing_required=true&page_size=500",
    ]
    # The seeding flagged the repository counters; their first reader recounts them (bounded separately below).
    with django_assert_max_num_queries(BUDGET + DIRTY_READ_EXTRA):
        assert admin_client.get("/").status_code == 200
    assert_within_budget(admin_client, urls, django_assert_max_num_queries)
