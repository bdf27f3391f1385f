from repos.tests.dashboard.fixtures import admin_client, pushed  # noqa: F401
