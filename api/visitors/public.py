"""The visitor's own page of a shared pass: no login, the token in the link is the key.

Only the SHA-256 of the token is stored (`VisitorService.share`); the page shows no phone or ID
number, the name masked, and a fresh QR code and the keypad code from the access domain.
"""

from __future__ import annotations

import hmac

import structlog

from api.access import credentials
from api.core.crypto import mask_name
from api.core.errors import NotFound
from api.visitors.passes import (
    MAX_TOKEN_LENGTH,
    PASS_COLUMNS,
    door_names,
    json_list,
    now,
    token_hash,
)
from api.visitors.schemas import PublicPass, PublicQr
from api.visitors.tables import VisitorPass

log = structlog.get_logger()


async def public_pass(token: str) -> PublicPass:
    """What the shared link shows the visitor, with a fresh QR and the next keypad code.

    Unknown, revoked, declined and expired passes all answer 404 alike.
    """
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
    if (
        row is None
        or not hmac.compare_digest(row["share_token_hash"] or "", digest)
        or row["status"] not in ("active", "used_up")
        or row["valid_until"] <= now()
    ):
        raise NotFound()
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
    )
