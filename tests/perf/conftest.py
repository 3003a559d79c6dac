"""Benchmarks reuse the integration fixtures (an enrolled site bridge)."""

from tests.integration.conftest import admin, site_settings  # noqa: F401
