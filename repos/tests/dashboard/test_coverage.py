"""The architecture coverage matrix: cells, counts, filters, CSV export."""

import csv
import io

import pytest

from repos.oci import media_types
from repos.tests.registry.client import RegistryClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_images(admin_client, pushed):
    """team/app:1.0 on amd64+arm64, team/solo:2.0 on amd64 only; docker-local requires amd64 and s390x."""
    amd64_raw, _ = pushed.content.children["linux/amd64"]
    registry = RegistryClient(admin_client)
    for blob in pushed.content.blobs:
        registry.push_blob("docker-local/team/solo", blob)
    assert (
        registry.push_manifest("docker-local/team/solo", "2.0", amd64_raw, media_types.OCI_MANIFEST).status_code == 201
    )
    pushed.repository.required_platforms = ["linux/amd64", "linux/s390x"]
    pushed.repository.save()
    return pushed


def cells(page: str, image: str) -> dict[str, str]:
    row = page.split(f">{image}</a>")[1].split("</tr>")[0]
    import re

    return dict(re.findall(r'data-platform="([^"]+)" data-state="([^"]+)"', row))


def test_matrix_cells_and_counts(admin_client, two_images):
    page = admin_client.get("/coverage/").content.decode()
    assert cells(page, "team/app") == {
        "linux/amd64": "present",
        "linux/arm64": "present",
        "linux/s390x": "missing_required",
    }
    assert cells(page, "team/solo") == {
        "linux/amd64": "present",
        "linux/arm64": "missing",
        "linux/s390x": "missing_required",
    }
    assert "0 of 2 images in scope have every required platform" in page
    footer = page.split("<tfoot>")[1]
    assert "2 ✓" in footer and "2 ✗" in footer


def test_filters_answer_what_does_not_run_on_arm64(admin_client, two_images):
    page = admin_client.get("/coverage/", {"platform": "linux/arm64", "missing": "1"}).content.decode()
    assert ">team/solo</a>" in page and ">team/app</a>" not in page
    assert cells(page, "team/solo") == {"linux/arm64": "missing"}
    by_name = admin_client.get("/coverage/", {"name": "app"}).content.decode()
    assert ">team/app</a>" in by_name and ">team/solo</a>" not in by_name
    other = admin_client.get("/coverage/", {"repository": "elsewhere"}).content.decode()
    assert "No image matches these filters" in other
    by_stage = admin_client.get("/coverage/", {"stage": "dev", "missing_required": "1"}).content.decode()
    assert ">team/app</a>" in by_stage and ">team/solo</a>" in by_stage


def test_current_tag_is_latest_when_present(admin_client, two_images):
    amd64_raw, _ = two_images.content.children["linux/amd64"]
    registry = RegistryClient(admin_client)
    assert (
        registry.push_manifest("docker-local/team/app", "latest", amd64_raw, media_types.OCI_MANIFEST).status_code
        == 201
    )
    page = admin_client.get("/coverage/", {"name": "team/app", "platform": "linux/amd64,linux/arm64"}).content.decode()
    assert cells(page, "team/app")["linux/arm64"] == "missing"
    assert ">latest</a>" in page


def test_csv_export(admin_client, two_images):
    response = admin_client.get("/coverage.csv", {"repository": "docker-local"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["repository", "stage", "image", "tag", "digest", "linux/amd64", "linux/arm64", "linux/s390x"]
    by_image = {row[2]: row for row in rows[1:]}
    assert by_image["team/app"][3] == "1.0" and by_image["team/app"][5:] == ["present", "present", "missing_required"]
    assert by_image["team/solo"][5:] == ["present", "missing", "missing_required"]


def test_htmx_filter_returns_fragment(admin_client, two_images):
    fragment = admin_client.get("/coverage/", {"name": "solo"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and ">team/solo</a>" in fragment
    assert "/coverage.csv?name=solo" in fragment


def test_home_summary_counts_images_missing_a_required_platform(admin_client, two_images):
    page = admin_client.get("/").content.decode()
    assert "0 / 2" in page
    two_images.repository.required_platforms = ["linux/amd64"]
    two_images.repository.save()
    assert "2 / 2" in admin_client.get("/").content.decode()
