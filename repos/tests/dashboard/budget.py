"""Query budgets: every page and API list stays within a fixed number of SQL queries."""

from __future__ import annotations

import pytest

BUDGET = 17  # 15, plus one for the open alerts an image or tag page shows, one for its smoke test card
# The first read after content changed recounts the flagged repository and site counters: a fixed number of
# grouped queries, whatever the number of repositories.
DIRTY_READ_EXTRA = 16


def assert_within_budget(client, urls: list[str], assert_max_num_queries) -> None:
    """`assert_max_num_queries`: pytest-django's django_assert_max_num_queries fixture."""
    for url in urls:
        try:
            with assert_max_num_queries(BUDGET):
                response = client.get(url)
        except pytest.fail.Exception as exc:
            pytest.fail(f"{url}: {exc}")
        assert response.status_code == 200, (url, response.status_code)
