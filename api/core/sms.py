"""Text messages to phones: one small interface, so a real SMS gateway plugs in behind it.

`ConsoleSender` is the demo's and the tests' sender: it sends nothing, logs only that a message
went to a masked number (the text, which holds one-time codes, only when `reveal` is set for a
local demo), and keeps the last text per number on the object so a test can read the code it
would have received — never through the logs.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from api.core.crypto import mask_phone

log = structlog.get_logger()


class SmsSender(Protocol):
    """Sends one text to one mainland mobile number (normalised, 11 digits)."""

    async def send(self, phone: str, text: str) -> None: ...


class ConsoleSender:
    """Sends nothing; remembers the last text per number (for tests), logs the masked number."""

    def __init__(self, *, reveal: bool = False) -> None:
        self.reveal = reveal
        self.sent: dict[str, str] = {}

    async def send(self, phone: str, text: str) -> None:
        """Record the text; log it whole only when revealing (a local demo, never production)."""
        self.sent[phone] = text
        if self.reveal:
            log.info("sms.console", phone=mask_phone(phone), text=text)
        else:
            log.info("sms.console", phone=mask_phone(phone))

    def last(self, phone: str) -> str | None:
        """The last text sent to the number, if any."""
        return self.sent.get(phone)
