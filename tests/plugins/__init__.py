"""Fixtures shared by several test folders, registered once by the root conftest.py."""
