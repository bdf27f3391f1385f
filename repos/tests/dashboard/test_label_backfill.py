"""The migration that adds label rows fills them for the manifests already stored."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("repos", "0010_dashboard_aggregates")]
AFTER = [("repos", "0011_search_indexes")]


@pytest.mark.django_db(transaction=True)
def test_existing_manifests_get_their_label_rows():
    executor = MigrationExecutor(connection)
    try:
        _check_fill(executor)
    finally:  # back to the latest schema for the tests that follow
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _check_fill(executor):
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Manifest = old.get_model("repos", "Manifest")
    labelled = Manifest.objects.create(
        digest="sha256:" + "a" * 64,
        media_type="application/vnd.oci.image.manifest.v1+json",
        raw=b"{}",
        size=2,
        config={"labels": {"team": "core", "version": "1.0"}},
    )
    Manifest.objects.create(
        digest="sha256:" + "b" * 64, media_type="application/vnd.oci.image.index.v1+json", raw=b"{}", size=2
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    rows = new.get_model("repos", "ManifestLabel").objects.order_by("key")
    assert list(rows.values_list("manifest_id", "key", "value_start", "value")) == [
        (labelled.pk, "team", "core", "core"),
        (labelled.pk, "version", "1.0", "1.0"),
    ]
