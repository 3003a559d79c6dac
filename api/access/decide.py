"""The platform's decision on an AccessQuery: what a bridge's cache could not decide.

The same rules as the bridge's (device_bridge), read from the database: the credential is found by
its value's blind index (card, PIN, fingerprint template id), its template (face), its signed
token (QR), the phone key a phone's own QR code names, or its next keypad codes; then validity,
the door (and at a lift the floor asked for), the schedule and, for an entry (a granted "in"
where the credential counts entries: any door, a visitor pass's only at the gates), the entries
left. The bridge records the event itself.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from redis.asyncio import Redis

from api.access.credential_keys import keys
from api.access.credentials import (
    CODE_WINDOW,
    HOTP_CONTEXT,
    QR_KINDS,
    VALUE_KINDS,
    hotp_codes,
    log_changes,
    usable,
)
from api.access.rows import CREDENTIAL_COLUMNS, CredentialRow, credential_rows
from api.access.sync import entry_doors, load_site, push_credentials, reach
from api.access.tables import Credential
from api.alarms.catalogue import SITE_TIMEZONE
from api.devices.tables import Device
from api.piccolo_conf import DB
from device_bridge import protocol

log = structlog.get_logger()

QR_SKEW = 5.0  # seconds a token's iat may lie in the future (clocks differ)


def in_schedule(
    windows: list[protocol.Window], holidays: list[str], at: datetime | None = None
) -> bool:
    """Whether a time (site wall clock) lies in one of the windows and is not a holiday."""
    if not windows:
        return True
    local = (at or datetime.now(UTC)).astimezone(SITE_TIMEZONE)
    if local.date().isoformat() in holidays:
        return False
    minute = local.hour * 60 + local.minute
    today, yesterday = local.isoweekday() - 1, (local.isoweekday() - 2) % 7
    for w in windows:
        if w.start <= w.end:
            if w.days >> today & 1 and w.start <= minute < w.end:
                return True
        elif (w.days >> today & 1 and minute >= w.start) or (
            w.days >> yesterday & 1 and minute < w.end
        ):
            return True
    return False


async def _by_qr(community_id: UUID, text: str, redis: Redis) -> tuple[CredentialRow | None, str]:
    """The credential a signed token names. The token is spent at the first presentation the
    platform decides, at any door of any bridge: one token, one passage (docs/access.md)."""
    try:
        claims, payload, signature = protocol.parse_qr(text)
    except ValueError:
        return None, "qr_forged"
    public = keys().qr.public().get(claims.kid)
    if public is None:
        return None, "qr_unknown_key"
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, payload)
    except InvalidSignature:
        return None, "qr_forged"
    now = time.time()
    if not (
        claims.exp - claims.iat <= protocol.QR_MAX_VALIDITY
        and claims.iat - QR_SKEW <= now <= claims.exp
    ):
        return None, "qr_expired"
    fresh = await redis.set(
        f"anju:qr-used:{claims.nonce.hex()}", b"1", nx=True, ex=int(claims.exp - now) + 6
    )
    if not fresh:
        return None, "qr_reused"
    try:
        cred_id = UUID(claims.cred)
    except ValueError:
        return None, "qr_forged"
    rows = credential_rows(
        await Credential.select(*CREDENTIAL_COLUMNS)
        .where((Credential.id == cred_id) & (Credential.community == community_id))
        .output(load_json=True)
    )
    return (rows[0], "unknown") if rows and rows[0].kind in QR_KINDS else (None, "unknown")


async def _by_phone_key(
    community_id: UUID, text: str, redis: Redis
) -> tuple[CredentialRow | None, str]:
    """The phone key whose code this is (docs/bridge.md, phone keys): a credential a bridge did not
    hold yet. Spent at its first grant-worthy presentation, as a signed token is."""
    try:
        code = protocol.parse_phone_qr(text)
    except ValueError:
        return None, "qr_forged"
    rows = credential_rows(
        await Credential.select(*CREDENTIAL_COLUMNS)
        .where((Credential.id == UUID(code.cred)) & (Credential.community == community_id))
        .output(load_json=True)
    )
    row = rows[0] if rows and rows[0].kind == "phone_key" else None
    if row is None or not row.public_key:
        return None, "unknown"
    now = time.time()
    if not protocol.phone_key_fresh(code.window, now):
        return None, "qr_expired"
    message = protocol.phone_key_message(code.cred, code.window, code.seq)
    if not protocol.phone_key_verifier(bytes(row.public_key))(code.signature, message):
        return None, "qr_forged"
    expiry = protocol.phone_key_expiry(code.window)
    fresh = await redis.set(
        f"anju:qr-used:{message.hex()}", b"1", nx=True, ex=max(1, int(expiry - now) + 6)
    )
    return (row, "unknown") if fresh else (None, "qr_reused")


async def _by_code(community_id: UUID, code: str) -> tuple[CredentialRow | None, str]:
    rows = credential_rows(
        await Credential.select(*CREDENTIAL_COLUMNS)
        .where(
            (Credential.community == community_id)
            & (Credential.kind == "code")
            & (Credential.status == "active")
        )
        .output(load_json=True)
    )
    cipher = keys().cipher
    burnt = False  # a code just behind a counter: used (unless another pass's next code matches)
    for row in rows:
        if row.hotp_secret is None:
            continue
        secret = cipher.decrypt(row.hotp_secret, context=HOTP_CONTEXT)
        start = max(0, row.counter - CODE_WINDOW)
        codes = hotp_codes(secret, start, row.counter - start + CODE_WINDOW)
        if code in codes:
            presented = start + codes.index(code)
            if presented >= row.counter:
                return msgspec.structs.replace(row, presented=presented), "unknown"
            burnt = True
    return None, "code_used" if burnt else "unknown"


async def _burn_code(community_id: UUID, credential_id: UUID, counter: int) -> bool:
    """Move the credential's counter past the code presented, unless a concurrent decision (or
    the ingest) already did: the conditional UPDATE takes the row lock and re-reads the counter, so
    of two presentations of one code exactly one gets True. Logs the change for the bridges."""
    async with DB.transaction():
        burnt = (
            await Credential.update({Credential.counter: counter + 1})
            .where((Credential.id == credential_id) & (Credential.counter <= counter))
            .returning(Credential.id)
        )
        if burnt:
            await log_changes(community_id, [credential_id])
    return bool(burnt)


async def find(
    community_id: UUID, method: str, value: str, redis: Redis
) -> tuple[CredentialRow | None, str]:
    """The credential a presented value names, or None and why not."""
    where: Any = Credential.community == community_id
    if method in VALUE_KINDS:
        where &= Credential.value_index == keys().index(method, value)
    elif method == "face":
        try:
            where &= Credential.template == UUID(value)
        except ValueError:
            return None, "unknown"
    elif method == "qr" and value.startswith(protocol.PHONE_KEY_PREFIX):
        return await _by_phone_key(community_id, value, redis)
    elif method == "qr":
        return await _by_qr(community_id, value, redis)
    elif method == "code":
        return await _by_code(community_id, value)
    else:
        return None, "unknown"
    rows = credential_rows(
        await Credential.select(*CREDENTIAL_COLUMNS).where(where).output(load_json=True)
    )
    rows.sort(key=lambda r: r.status != "active")  # an active one before revoked ones
    return (rows[0], "unknown") if rows else (None, "unknown")


async def decide(
    bridge_id: UUID, community_id: UUID, query: protocol.AccessQuery, redis: Redis
) -> protocol.AccessAnswer:
    """Grant or refuse a credential the bridge's cache could not decide."""
    device = (
        await Device.select(Device.id, Device.kind)
        .where((Device.bridge == bridge_id) & (Device.external_id == query.door))
        .first()
    )
    if device is None:
        return protocol.AccessAnswer(id=query.id, granted=False, reason="unknown")
    cred, reason = await find(community_id, query.method, query.value, redis)
    if cred is None:
        return protocol.AccessAnswer(id=query.id, granted=False, reason=reason)
    answer = protocol.AccessAnswer(
        id=query.id,
        granted=False,
        credential=str(cred.id),
        person=str(cred.person or ""),
        visitor_pass=str(cred.visitor_pass or ""),
    )
    if (refusal := usable(cred)) is not None:
        answer.reason = refusal
        return answer
    site = await load_site(community_id, bridge_id)
    doors, floors, windows, holidays = reach(site, cred)
    floor = query.floor
    if floor is None and device["kind"] == "lift" and len(floors) == 1:
        floor = floors[0]  # as the bridge: a visitor's lift goes to the host's floor by itself
    entries = entry_doors(site, cred, doors)
    entry = query.direction == "in" and (entries is None or query.door in entries)
    if query.door not in doors or (query.floor is not None and query.floor not in floors):
        answer.reason = "not_this_door"
    elif not in_schedule(windows, holidays):
        answer.reason = "out_of_schedule"
    elif entry and cred.uses == 0:
        answer.reason = "no_uses_left"
    elif query.method == "code" and not await _burn_code(community_id, cred.id, cred.presented):
        answer.reason = "code_used"
    else:
        answer.granted = True
        answer.floor = floor if device["kind"] == "lift" else None
    if query.method == "code" and answer.granted:
        await push_credentials(redis, community_id)  # the bridges learn the next codes
    log.info("access.query.decided", bridge_id=str(bridge_id), granted=answer.granted)
    return answer
