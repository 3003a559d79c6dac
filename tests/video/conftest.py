"""Live view tests use the intercom's scripted site: its cameras answer `media.offer` too."""

from tests.intercom.conftest import site as site
