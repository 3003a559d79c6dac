"""Access rows as the access package hands them to the domains above it.

Converted where they are made (`msgspec.convert`), so a misspelt column fails in mypy rather than
in a handler inside the ingest's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from api.access.tables import Credential
from device_bridge import protocol


class AccessRecordRow(msgspec.Struct, frozen=True, kw_only=True):
    """An `AccessRecord`: one pass or refusal at an access point."""

    id: UUID
    community: UUID
    device: UUID
    person: UUID | None
    account: UUID | None
    at: datetime
    direction: str
    method: str
    result: str
    reason: str
    command: UUID | None
    credential: UUID | None
    visitor_pass: UUID | None
    decided_by: str
    photo: str


CredentialKind = protocol.CredentialKind

CREDENTIAL_COLUMNS = (
    Credential.id,
    Credential.kind,
    Credential.person,
    Credential.household,
    Credential.visitor_pass,
    Credential.value,
    Credential.hotp_secret,
    Credential.counter,
    Credential.template,
    Credential.public_key,
    Credential.groups,
    Credential.points,
    Credential.floors,
    Credential.valid_from,
    Credential.valid_until,
    Credential.uses,
    Credential.status,
)
"""What a decision or a bridge's credential set reads of a credential (select with load_json)."""


class CredentialRow(msgspec.Struct, frozen=True, kw_only=True):
    """A `Credential` as decisions and the bridges' sets read it (`CREDENTIAL_COLUMNS`).

    `value` and `hotp_secret` are still encrypted. `presented` is the counter of the keypad code a
    decision matched (kind code); 0 elsewhere.
    """

    id: UUID
    kind: CredentialKind
    person: UUID | None
    household: UUID | None
    visitor_pass: UUID | None
    value: str | None
    hotp_secret: str | None
    counter: int
    template: UUID | None
    public_key: bytes | None
    groups: list[str] | None
    points: list[str] | None
    floors: list[int] | None
    valid_from: datetime | None
    valid_until: datetime | None
    uses: int
    status: str
    presented: int = 0


def credential_rows(rows: list[dict[str, Any]]) -> list[CredentialRow]:
    """Rows selected with `CREDENTIAL_COLUMNS` as Structs."""
    return msgspec.convert(rows, list[CredentialRow])
