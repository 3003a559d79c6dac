"""Plugins for every test folder (tests/ and e2e/): each fixture defined once for the whole run."""

pytest_plugins = [
    "tests.requirements",
    "tests.fixtures",
    "tests.plugins.jobs",
    "tests.plugins.push",
    "tests.plugins.site",
]
