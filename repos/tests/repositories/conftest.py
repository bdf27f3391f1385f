import pytest

from repos.tests.dashboard.fixtures import admin_client, pushed  # noqa: F401


@pytest.fixture(autouse=True)
def _private_upstreams_allowed(settings, tmp_path):
    settings.UPSTREAM_ALLOW_PRIVATE = True
    settings.UPSTREAM_CREDENTIALS_KEY = ""
    settings.UPSTREAM_CREDENTIALS_KEY_PATH = str(tmp_path / "upstream_credentials_key")
