"""Test configuration: Hypothesis profiles.

Locally Hypothesis explores new random examples on every run (that is how it
finds bugs); under CI (``CI`` set in the environment) it is derandomized, so a
run's verdict depends only on the code.  Select a profile explicitly with
``HYPOTHESIS_PROFILE=dev|ci``.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
