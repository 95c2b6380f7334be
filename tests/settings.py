"""Settings for the test suite: the service's settings under the Quick start's environment.

`dev.py` gives the development values (DEBUG, and the secure-cookie and HTTPS settings it
switches off) to the processes it starts instead of writing them to `.env`; this module
gives them to a test run started any other way (`.venv/bin/python -m pytest ...`), so every
run sees the same settings. Values set in the environment still win.
"""

import os

from dev import DEVELOPMENT_ENV

for _name, _value in DEVELOPMENT_ENV.items():
    os.environ.setdefault(_name, _value)

from segmentservice.settings import *  # noqa: E402, F403

# Every compiled read is checked against its queryset built and compiled afresh.
COMPILED_READS_VERIFY = True
