"""Shared test configuration: hypothesis profiles and common fixtures."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=True, print_blob=True,
)
settings.register_profile("dev", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def japan37():
    import simcore as sc

    return sc.datasets.load("japan-2015-37")


@pytest.fixture(scope="session")
def japan185():
    import simcore as sc

    return sc.datasets.load("japan-2015-185")


@pytest.fixture(scope="session")
def mb23():
    import simcore as sc

    return sc.datasets.load("miller-blair-2.3")
