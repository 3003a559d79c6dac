"""Plugins for every test folder (tests/ and e2e/)."""

pytest_plugins = ["tests.requirements"]
