import pytest

from tests.support.servers import running_server


@pytest.fixture(scope="session")
def registry_server(tmp_path_factory):
    """The production server (gunicorn) with its own data directory and database."""
    with running_server(tmp_path_factory.mktemp("registry")) as server:
        yield server
