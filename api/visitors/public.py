"""The visitor's own page of a shared pass: no login, the token in the link is the key.

Only the SHA-256 of the token is stored (`VisitorService.share`); the page shows no phone or ID
number, the name masked, and a fresh QR code and the keypad code from the access domain. When the
resident allowed it, the page registers a key the visitor's phone made (`register_phone_key`): a
credential of kind "phone_key" like a resident's (api/access/phone_keys.py), bound to the pass.
"""

from __future__ import annotations

import hmac
from typing import Any

import structlog

from api.access import credentials, phone_keys
from api.access.schemas import PhoneKeyCreate, PhoneKeyRead
from api.access.tables import Credential
from api.audit.service import record
from api.core.crypto import mask_name
from api.core.effects import Effects
from api.core.errors import Conflict, Forbidden, NotFound
from api.piccolo_conf import DB
from api.visitors.passes import (
    MAX_TOKEN_LENGTH,
    PASS_COLUMNS,
    door_names,
    json_list,
    locked,
    now,
    token_hash,
)
from api.visitors.schemas import PublicPass, PublicQr
from api.visitors.tables import VisitorPass

log = structlog.get_logger()


class PhoneKeyNotAllowed(Forbidden):
    """The resident did not allow a phone key for this pass."""

    code = "visitor_phone_key_not_allowed"
    message = "The host did not allow a phone key for this pass: show the QR code below."


class PhoneKeyTaken(Conflict):
    """The pass has its phone key already (one per pass)."""

    code = "visitor_phone_key_exists"
    message = "A phone key is registered for this pass already."


def _shown(row: dict[str, Any] | None, digest: str) -> bool:
    """Whether a pass found by a link's hash is one the link still shows."""
    return (
        row is not None
        and hmac.compare_digest(row["share_token_hash"] or "", digest)
        and row["status"] in ("active", "used_up")
        and row["valid_until"] > now()
    )


async def _by_token(token: str) -> dict[str, Any]:
    """The pass a link shows, with its community's name; 404 alike for unknown, revoked,
    declined and expired passes."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise NotFound()
    digest = token_hash(token)
    row = (
        await VisitorPass.select(
            *PASS_COLUMNS,
            VisitorPass.community._.name.as_alias("community_name"),
        )
        .where(VisitorPass.share_token_hash == digest)
        .output(load_json=True)
        .first()
    )
    if row is None or not _shown(row, digest):
        raise NotFound()
    return dict(row)


async def public_pass(token: str) -> PublicPass:
    """What the shared link shows the visitor, with a fresh QR and the next keypad code."""
    row = await _by_token(token)
    doors = await door_names(row)
    entries_left = max(row["entries_allowed"] - row["entries_used"], 0)
    qr = code = None
    if row["credential"]:  # also used up: the QR and code still open the doors inside
        try:
            qr_token, expires_at = await credentials.issue_qr(row["credential"])
            qr = PublicQr(token=qr_token, expires_at=expires_at)
            code = await credentials.current_code(row["credential"])
        except credentials.CredentialRevoked:
            qr = code = None
    key = await phone_keys.key_of(row["phone_key"]) if row["phone_key"] else None
    log.info("visitor_pass.page.viewed", pass_id=str(row["id"]))
    return PublicPass(
        visitor_name=mask_name(row["visitor_name"]),
        community_name=row["community_name"],
        destination=f"{row['building_number']}栋{row['unit_number']}单元",
        doors=doors,
        floors=json_list(row["floors"]),
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        entries_left=entries_left,
        status=row["status"],
        qr=qr,
        code=code,
        phone_key_allowed=row["phone_key_allowed"],
        phone_key=key,
    )


async def register_phone_key(
    token: str, data: PhoneKeyCreate, effects: Effects, *, ip: str | None
) -> PhoneKeyRead:
    """Register the key the visitor's phone made for the pass of this link (audited).

    Only when the resident allowed it (403 `visitor_phone_key_not_allowed`), once per pass (409
    `visitor_phone_key_exists`, a revoked one too). The key's credential opens what the pass's
    own opens — its doors and floors, within its window, its entries left — and is revoked with
    the pass (`passes.end_pass`); the bridges get it with the ordinary credential sync.
    """
    found = await _by_token(token)
    public_key = phone_keys.raw_public_key(data.algorithm, data.public_key)
    async with DB.transaction():
        row = await locked(found["id"])
        if row is None or not _shown(row, token_hash(token)):
            raise NotFound()
        if not row["phone_key_allowed"]:
            raise PhoneKeyNotAllowed()
        if row["phone_key"] is not None:
            raise PhoneKeyTaken()
        own = (
            await Credential.select(Credential.points, Credential.floors, Credential.uses)
            .where((Credential.id == row["credential"]) & (Credential.status == "active"))
            .output(load_json=True)
            .first()
        )
        if own is None:  # the pass's credential ended (its window is over): nothing to open
            raise NotFound()
        key_id = await credentials.create_credential(
            community_id=row["community"],
            kind=phone_keys.KIND,
            visitor_pass_id=row["id"],
            public_key=public_key,
            label=data.name.strip() or "visitor phone",
            points=json_list(own["points"]),
            floors=json_list(own["floors"]),
            valid_from=row["valid_from"],
            valid_until=row["valid_until"],
            uses=own["uses"],  # the pass's entries left (`passes.align_entries` keeps them so)
        )
        await VisitorPass.update(
            {VisitorPass.phone_key: key_id, VisitorPass.updated_at: now()}
        ).where(VisitorPass.id == row["id"])
        await record(
            "visitor_pass.phone_key_registered",
            actor_name="visitor (pass link)",
            target_type="visitor_pass",
            target_id=row["id"],
            community_id=row["community"],
            ip=ip,
            details={"credential_id": str(key_id), "algorithm": data.algorithm},
        )
    credentials.after_commit(effects, found["community"])
    log.info("visitor_pass.phone_key.registered", pass_id=str(found["id"]))
    key = await phone_keys.key_of(key_id)
    assert key is not None
    return key
