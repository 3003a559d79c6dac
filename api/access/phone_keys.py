"""A phone that is its own key: residents register the key their phone made, list and revoke it.

The phone makes a key pair with WebCrypto (ECDSA P-256, or Ed25519 where the browser has it; the
private half is not extractable and never leaves the phone) and registers the public half here as a
credential of kind "phone_key" of the resident's household: it passes where the resident's own QR
passes. The phone then computes its QR codes itself (`protocol.phone_key_message`), with no
signal; the bridges verify them from their cache, where the public key arrives with the ordinary
credential sync (api/access/sync.py). A resident revokes a phone here; a manager revokes a lost
phone's key as any credential (`POST /credentials/{id}/revoke`). Both reach every online bridge as a
delta within seconds. A visitor's phone registers its key through the pass page the same way
(api/visitors/phone_key.py): the same kind, sync and verification, bound to the pass.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final
from uuid import UUID

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api.access.credentials import DuplicateCredential, after_commit, create_credential
from api.access.credentials import revoke_credentials as revoke_all
from api.access.enrolment import resident_home
from api.access.schemas import PhoneKeyAlgorithm, PhoneKeyCreate, PhoneKeyRead
from api.access.tables import Credential
from api.audit.service import record
from api.core.auth import Caller
from api.core.effects import Effects
from api.core.errors import Conflict, InvalidInput, NotFound
from api.piccolo_conf import DB

MAX_PHONE_KEYS: Final = 5  # active phone keys one account may hold
KIND: Final = "phone_key"


class InvalidPhoneKey(InvalidInput):
    """The public key is not a P-256 or Ed25519 key in SubjectPublicKeyInfo form, or not of the
    algorithm named."""

    code = "invalid_phone_key"
    message = "The public key is not a P-256 or Ed25519 key of the algorithm named."


class TooManyPhoneKeys(Conflict):
    """The account holds MAX_PHONE_KEYS active phone keys already."""

    code = "too_many_phone_keys"
    message = "Too many phones hold a key: revoke one first."


class PhoneKeyRevoked(Conflict):
    """The phone key is revoked already."""

    code = "phone_key_revoked"
    message = "The phone key is revoked already."


def raw_public_key(algorithm: str, spki: str) -> bytes:
    """The raw public key (a 65-byte uncompressed P-256 point, or 32 Ed25519 bytes) of a base64
    SubjectPublicKeyInfo, which must be of `algorithm`; InvalidPhoneKey otherwise."""
    try:
        der = base64.b64decode(spki.replace("-", "+").replace("_", "/") + "=" * (-len(spki) % 4))
        key = serialization.load_der_public_key(der)
    except (binascii.Error, ValueError, TypeError) as err:
        raise InvalidPhoneKey(
            "not a public key in SubjectPublicKeyInfo form", field="public_key"
        ) from err
    if algorithm == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise InvalidPhoneKey(f"curve {key.curve.name} is not P-256", field="public_key")
        return key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    if algorithm == "Ed25519" and isinstance(key, Ed25519PublicKey):
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raise InvalidPhoneKey(f"the key is not an {algorithm} key", field="public_key")


def algorithm_of(public_key: bytes | None) -> PhoneKeyAlgorithm:
    """The algorithm a stored raw key is for (its length tells)."""
    return "Ed25519" if public_key is not None and len(public_key) == 32 else "ES256"


_COLUMNS = (
    Credential.id,
    Credential.label,
    Credential.public_key,
    Credential.status,
    Credential.created_at,
    Credential.revoked_at,
    Credential.revoke_reason,
)


def _read(r: dict[str, Any]) -> PhoneKeyRead:
    return PhoneKeyRead(
        id=r["id"],
        name=r["label"],
        algorithm=algorithm_of(r["public_key"]),
        status=r["status"],
        created_at=r["created_at"],
        revoked_at=r["revoked_at"],
        revoke_reason=r["revoke_reason"],
    )


def _mine(caller: Caller) -> Any:
    return (Credential.kind == KIND) & (Credential.created_by == caller.account_id)


async def register(caller: Caller, data: PhoneKeyCreate, effects: Effects) -> PhoneKeyRead:
    """Register this phone's public key as a credential of the caller's household (audited)."""
    home = await resident_home(caller)
    public_key = raw_public_key(data.algorithm, data.public_key)
    async with DB.transaction():
        held = await Credential.select(Credential.public_key).where(
            _mine(caller) & (Credential.status == "active")
        )
        if any(bytes(r["public_key"] or b"") == public_key for r in held):
            raise DuplicateCredential()
        if len(held) >= MAX_PHONE_KEYS:
            raise TooManyPhoneKeys(max=MAX_PHONE_KEYS)
        credential_id = await create_credential(
            community_id=home.community,
            kind=KIND,
            person_id=home.person,
            household_id=home.household,
            public_key=public_key,
            label=data.name.strip() or "phone",
            created_by=caller.account_id,
        )
        await record(
            "credential.create",
            actor=caller,
            target_type="credential",
            target_id=credential_id,
            community_id=home.community,
            details={"kind": KIND, "algorithm": data.algorithm},
        )
    after_commit(effects, home.community)
    return await _one(caller, credential_id)


async def key_of(credential_id: UUID) -> PhoneKeyRead | None:
    """A phone key by its credential id (a visitor's, which no account owns), or None."""
    row = (
        await Credential.select(*_COLUMNS)
        .where((Credential.kind == KIND) & (Credential.id == credential_id))
        .first()
    )
    return None if row is None else _read(row)


async def _one(caller: Caller, credential_id: UUID) -> PhoneKeyRead:
    row = (
        await Credential.select(*_COLUMNS)
        .where(_mine(caller) & (Credential.id == credential_id))
        .first()
    )
    if row is None:
        raise NotFound()
    return _read(row)


async def mine(caller: Caller) -> list[PhoneKeyRead]:
    """The caller's phone keys, active first, newest first (the profile's list)."""
    rows = (
        await Credential.select(*_COLUMNS)
        .where(_mine(caller))
        .order_by(Credential.created_at, ascending=False)
    )
    return sorted((_read(r) for r in rows), key=lambda k: k.status != "active")


async def revoke(caller: Caller, credential_id: UUID, effects: Effects) -> PhoneKeyRead:
    """Revoke one of the caller's own phone keys: every online bridge refuses it within seconds."""
    row = (
        await Credential.select(Credential.community, Credential.status)
        .where(_mine(caller) & (Credential.id == credential_id))
        .first()
    )
    if row is None:
        raise NotFound()
    if row["status"] != "active":
        raise PhoneKeyRevoked()
    async with DB.transaction():
        await revoke_all([credential_id], reason="revoked by the resident", by=caller.account_id)
        await record(
            "credential.revoke",
            actor=caller,
            target_type="credential",
            target_id=credential_id,
            community_id=row["community"],
            purpose="revoked by the resident",
            details={"kind": KIND},
        )
    after_commit(effects, row["community"])
    return await _one(caller, credential_id)
