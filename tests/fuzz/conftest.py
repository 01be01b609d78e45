"""Hypothesis settings for the fuzz suite: bounded for CI, scalable by hand.

``LEGACYSCAN_FUZZ_EXAMPLES`` (default 60) sets examples per test; the whole suite stays within
about a minute on the CI machine.  ``derandomize`` keeps CI runs reproducible (a failure found
once is found again); a local run with ``LEGACYSCAN_FUZZ_RANDOM=1`` explores new inputs, e.g.
``LEGACYSCAN_FUZZ_EXAMPLES=5000 LEGACYSCAN_FUZZ_RANDOM=1 python -m pytest tests/fuzz``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "legacyscan",
    max_examples=int(os.environ.get("LEGACYSCAN_FUZZ_EXAMPLES", "60")),
    deadline=None,  # no timing assertions; pytest-timeout bounds a hang
    derandomize=os.environ.get("LEGACYSCAN_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    database=None,
    print_blob=True,
)
settings.load_profile("legacyscan")
