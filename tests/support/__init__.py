"""Helpers shared by the test packages: waiting on conditions, database locks held by a test, users and tokens,
image content, real clients and servers."""
