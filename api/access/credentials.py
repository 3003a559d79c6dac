"""Credentials: create, revoke, count a use, issue a dynamic QR, tell a visitor's next keypad code.

Other domains (visitor passes) call these inside their own transaction, then, after commit, apply
the `Effects` they collected: `after_commit(effects, community_id)` marks the community, and
`Effects.apply` pushes the change to every online bridge of it (api/access/sync.py), well within
the 5 seconds a revocation may take to reach every reader.

A visitor pass has one credential, of kind "code": the bridges find it by its keypad codes and by
the signed QR tokens that name it (`issue_qr`). Its `uses` are the pass's entries left: only a
granted "in" at a community gate (`is_gate`) uses one, and only there does none left refuse; the
unit doors, lifts and exits keep opening for it until its window ends. Other credentials count a
granted "in" at any door.

Every change to what a credential may pass appends a row to the change log (`CredentialChange`);
its id is the community's credential version. Writers take a per-community advisory lock first,
so versions commit in the order they were numbered and a delta never skips one.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID, uuid4

import pyotp
from piccolo.querystring import QueryString

from api.access.credential_keys import keys
from api.access.rows import CREDENTIAL_COLUMNS, CredentialRow, credential_rows
from api.access.tables import Credential, CredentialChange
from api.core.effects import Effects
from api.core.errors import Conflict, InvalidInput, NotFound
from api.piccolo_conf import DB
from device_bridge import plates, protocol

KINDS: Final = (
    "card",
    "pin",
    "qr",
    "app",
    "face",
    "code",
    "fingerprint",
    "phone_key",
    "plate",
    "plate_block",
)
PLATE_KINDS: Final = ("plate", "plate_block")  # a vehicle let in at the barriers; one never let in
VALUE_KINDS: Final = ("card", "pin", "fingerprint", *PLATE_KINDS)  # encrypted and indexed
VALUE_CONTEXT: Final = "credentials.value"
HOTP_CONTEXT: Final = "credentials.hotp_secret"
CODE_WINDOW: Final = 5  # keypad codes a bridge holds ahead of use
QR_KINDS: Final = ("qr", "code")  # a QR token names a resident's QR identity or a visitor pass
CREDENTIALS: Final = "access.credentials"  # after-commit hook: communities to push to bridges


class InvalidCredential(InvalidInput):
    """The credential's fields do not fit its kind."""

    code = "invalid_credential"
    message = "The credential's value does not fit its kind."


class DuplicateCredential(Conflict):
    """An active card or PIN with this value already exists in the community."""

    code = "duplicate_credential"
    message = "An active credential with this value already exists in the community."


class CredentialRevoked(Conflict):
    """The credential is revoked, expired or used up."""

    code = "credential_revoked"
    message = "The credential is no longer valid."


def is_gate(kind: str, building: object) -> bool:
    """Where a visitor pass uses an entry: a gate, or a turnstile outside any building."""
    return kind == "gate" or (kind == "turnstile" and building is None)


def entries_at_gates(visitor_pass: UUID | None) -> bool:
    """Whether only community gates count a credential's entries (a visitor pass's: the pass it
    belongs to); else any door counts them."""
    return visitor_pass is not None


def mask(kind: str, value: str) -> str:
    """What a list shows: the last 4 digits of a card, nothing of a PIN, a plate's ends."""
    if kind in PLATE_KINDS and len(value) >= 5:
        return value[:2] + "*" * (len(value) - 4) + value[-2:]
    if kind == "card":
        return "*" * max(len(value) - 4, 4) + value[-4:]
    return "*" * len(value)


def index_of(kind: str, value: str) -> str:
    """The blind index of a value. A plate and a blacklisted plate index alike, so one plate has
    at most one active credential in a community: the bridge finds it by one digest."""
    return keys().index("plate" if kind in PLATE_KINDS else kind, value)


def _lock_key(community_id: UUID) -> int:
    return int.from_bytes(community_id.bytes[:8], "big", signed=True)


async def log_changes(community_id: UUID, credential_ids: Iterable[UUID]) -> None:
    """Append to the change log (inside the caller's transaction), in version order."""
    ids = sorted(set(credential_ids))
    if not ids:
        return
    await DB.run_querystring(_advisory_lock(community_id))
    await CredentialChange.raw(
        "INSERT INTO credential_changes (community, credential, at)"
        " SELECT {}, c, {} FROM unnest({}::uuid[]) AS t(c) ORDER BY c",
        community_id,
        datetime.now(UTC),
        ids,
    )


def _advisory_lock(community_id: UUID) -> Any:
    # Held to commit: versions of one community commit in the order they were numbered.
    return QueryString("SELECT pg_advisory_xact_lock({})", _lock_key(community_id))


def _check(
    kind: str, value: str | None, hotp_secret: str | None, public_key: bytes | None = None
) -> None:
    if kind not in KINDS:
        raise InvalidCredential(f"unknown credential kind {kind!r}")
    if kind == "card" and not (value and value.isalnum() and 4 <= len(value) <= 32):
        raise InvalidCredential("a card number is 4 to 32 letters or digits")
    if kind == "pin" and not (value and value.isdigit() and 4 <= len(value) <= 8):
        raise InvalidCredential("a PIN is 4 to 8 digits")
    if kind == "fingerprint" and not (value and re.fullmatch(r"[\x21-\x7e]{4,32}", value)):
        raise InvalidCredential("a fingerprint names the template id its device gave (4 to 32)")
    if kind in PLATE_KINDS and not (value and plates.is_valid(value)):
        raise InvalidCredential("a plate credential names a normalised, valid plate")
    if kind == "phone_key" and not public_key:
        raise InvalidCredential("a phone key names its public key")
    if kind == "code":
        try:
            pyotp.HOTP(hotp_secret or "").at(0)
        except Exception as err:
            raise InvalidCredential("a keypad code needs a base32 HOTP secret") from err


async def create_credential(
    *,
    community_id: UUID,
    kind: str,
    person_id: UUID | None = None,
    household_id: UUID | None = None,
    visitor_pass_id: UUID | None = None,
    value: str | None = None,
    hotp_secret: str | None = None,
    template_id: UUID | None = None,
    public_key: bytes | None = None,
    label: str = "",
    groups: Sequence[UUID] = (),
    points: Sequence[UUID] = (),
    floors: Sequence[int] = (),
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    uses: int = -1,
    created_by: UUID | None = None,
) -> UUID:
    """Create a credential inside the caller's transaction and log the change; its id.

    `value` is the card number, PIN or fingerprint template id (stored encrypted, indexed for
    look-ups), `hotp_secret` the base32 secret of a keypad code (kind "code"), `template_id` the
    biometric store's face id, `public_key` and `label` a phone key's raw public key and name.
    """
    _check(kind, value, hotp_secret, public_key)
    if kind == "face" and template_id is None:
        raise InvalidCredential("a face credential names an enrolled face")
    k = keys()
    index = index_of(kind, value) if value and kind in VALUE_KINDS else None
    if index and await Credential.exists().where(
        (Credential.community == community_id)
        & (Credential.value_index == index)
        & (Credential.status == "active")
    ):
        raise DuplicateCredential()
    row = Credential(
        id=uuid4(),
        community=community_id,
        kind=kind,
        person=person_id,
        household=household_id,
        visitor_pass=visitor_pass_id,
        value=k.cipher.encrypt(value, context=VALUE_CONTEXT) if value else None,
        value_index=index,
        masked=mask(kind, value) if value else "",
        hotp_secret=k.cipher.encrypt(hotp_secret, context=HOTP_CONTEXT) if hotp_secret else None,
        template=template_id,
        public_key=public_key,
        label=label,
        groups=[str(g) for g in groups],
        points=[str(p) for p in points],
        floors=[int(f) for f in floors],
        valid_from=valid_from,
        valid_until=valid_until,
        uses=uses,
        created_by=created_by,
        created_at=datetime.now(UTC),
    )
    await row.save()
    await log_changes(community_id, [row.id])
    return row.id


async def revoke_credentials(
    ids: Sequence[UUID], *, reason: str, by: UUID | None = None
) -> list[UUID]:
    """Revoke active credentials inside the caller's transaction; the communities touched."""
    if not ids:
        return []
    rows = await Credential.select(Credential.id, Credential.community).where(
        Credential.id.is_in(list(ids)) & (Credential.status == "active")
    )
    if not rows:
        return []
    await Credential.update(
        {
            Credential.status: "revoked",
            Credential.revoked_at: datetime.now(UTC),
            Credential.revoked_by: by,
            Credential.revoke_reason: reason[:200],
        }
    ).where(Credential.id.is_in([r["id"] for r in rows]))
    communities = sorted({r["community"] for r in rows})
    for community_id in communities:
        await log_changes(community_id, [r["id"] for r in rows if r["community"] == community_id])
    return communities


def after_commit(effects: Effects, *community_ids: UUID) -> None:
    """Mark the communities whose credentials changed: after commit, the `CREDENTIALS` hook
    (`api.access.sync.push_credentials`, wired in api/app.py) tells their bridges."""
    effects.after(CREDENTIALS, *community_ids)


def usable(row: CredentialRow, now: datetime | None = None) -> str | None:
    """None when the credential may pass now, else the reason (the bridge's words).

    A visitor pass's credential with no entries left is still usable: it is refused only for a
    new entry at a gate (api/access/decide.py), not at the doors inside.
    """
    now = now or datetime.now(UTC)
    if row.status != "active":
        return "revoked"
    if row.valid_from and now < row.valid_from:
        return "not_yet_valid"
    if row.valid_until and now >= row.valid_until:
        return "expired"
    if row.uses == 0 and not entries_at_gates(row.visitor_pass):
        return "no_uses_left"
    return None


async def issue_qr(credential_id: UUID) -> tuple[str, datetime]:
    """A fresh signed QR token for a qr credential or a visitor pass's, and when it expires (≤ 60 s
    from now)."""
    rows = credential_rows(
        await Credential.select(*CREDENTIAL_COLUMNS)
        .where(Credential.id == credential_id)
        .output(load_json=True)
    )
    row = rows[0] if rows else None
    if row is None or row.kind not in QR_KINDS:
        raise NotFound()
    now = time.time()
    if (refusal := usable(row)) is not None and refusal != "not_yet_valid":
        raise CredentialRevoked(refusal)
    qr = keys().qr
    exp = now + protocol.QR_MAX_VALIDITY
    if row.valid_until:
        exp = min(exp, row.valid_until.timestamp())
    claims = protocol.QrClaims(
        cred=str(credential_id), iat=now, exp=exp, nonce=secrets.token_bytes(8), kid=qr.current
    )
    return protocol.qr_token(claims, qr.sign), datetime.fromtimestamp(exp, UTC)


def hotp_codes(secret: str, counter: int, count: int) -> list[str]:
    """The keypad codes for counters counter … counter + count - 1."""
    hotp = pyotp.HOTP(secret)
    return [hotp.at(counter + i) for i in range(count)]


async def current_code(credential_id: UUID) -> str:
    """The visitor's next keypad code (the code for the credential's current counter)."""
    row = (
        await Credential.select(Credential.kind, Credential.hotp_secret, Credential.counter)
        .where(Credential.id == credential_id)
        .first()
    )
    if row is None or row["kind"] != "code" or not row["hotp_secret"]:
        raise NotFound()
    secret = keys().cipher.decrypt(row["hotp_secret"], context=HOTP_CONTEXT)
    return hotp_codes(secret, row["counter"], 1)[0]


async def count_use(
    credential_id: UUID, *, counter: int | None = None, entry: bool = True
) -> UUID | None:
    """A granted pass: one use fewer if it was an entry, a keypad code's counter past the one
    used; the community.

    `entry`: a granted "in" at a door that counts this credential's entries (`is_gate` for a
    visitor pass, any door for others). Inside the caller's transaction. Returns None when
    nothing changed (not an entry, unlimited, unknown).
    """
    row = (
        await Credential.select(
            Credential.community, Credential.kind, Credential.uses, Credential.counter
        )
        .where(Credential.id == credential_id)
        .first()
    )
    if row is None:
        return None
    where = Credential.id == credential_id
    changed = False
    if entry and row["uses"] > 0:
        await Credential.update({Credential.uses: Credential.uses - 1}).where(
            where & (Credential.uses > 0)
        )
        changed = True
    if row["kind"] == "code" and counter is not None and counter >= row["counter"]:
        # A used code also burns the earlier ones.
        await Credential.update({Credential.counter: counter + 1}).where(
            where & (Credential.counter <= counter)
        )
        changed = True
    if not changed:
        return None
    await log_changes(row["community"], [credential_id])
    return row["community"]
