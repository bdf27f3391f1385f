"""Settings for the test run (pytest.ini): config/settings.py with $DATA_DIR, unless set, in a directory of this
run's own under the system temp directory, so tests never write `./var` into the checkout. The directory is made
and removed by the root conftest.py; servers the tests start inherit DATA_DIR or get their own."""

import os
import tempfile

os.environ.setdefault("DATA_DIR", os.path.join(tempfile.gettempdir(), f"registry-tests-{os.getpid()}"))

from config.settings import *  # noqa: E402, F403
