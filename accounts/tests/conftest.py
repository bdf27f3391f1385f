"""Every accounts test checks many passwords: a cheap hasher (tests/support/world.py)."""

import pytest


@pytest.fixture(autouse=True)
def cheap_passwords(fast_passwords):
    yield
