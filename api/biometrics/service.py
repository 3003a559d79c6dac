"""The biometric store: enrol a face photo (encrypted under the biometric key), delete it.

The photo is encrypted with AES-256-GCM under a key of the biometric keyring — a keyring of its own
(`ANJU_BIOMETRIC_KEYRING`), never the personal-data keys — with the row id as associated data, so
a ciphertext moved to another row fails to decrypt. The store never names a person: enrolment
creates the face credential (api/access) for the person, which holds only the face's id.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from api.access.credentials import after_commit, create_credential, revoke_credentials
from api.access.tables import Credential
from api.audit.service import record
from api.biometrics.tables import FaceTemplate
from api.core.auth import Caller, require_staff
from api.core.crypto import Keyring
from api.core.effects import Effects
from api.core.errors import InvalidInput, NotFound
from api.people.tables import Person
from api.piccolo_conf import DB

MAX_PHOTO = 900_000  # bytes; the request body limit is 1 MB
PHOTO_TYPES = ("image/jpeg", "image/png")


class BadPhoto(InvalidInput):
    """Not a JPEG or PNG photo of acceptable size."""

    code = "invalid_photo"
    message = "The photo must be a JPEG or PNG image under 900 kB."


class FaceEnrolled(msgspec.Struct, kw_only=True):
    """An enrolled face and the credential that lets its person pass by face."""

    face_id: UUID
    credential_id: UUID


@cache
def _keyring(path: Path, stamp: tuple[int, int]) -> Keyring:
    return Keyring.load_or_create(path)


def keyring(path: Path) -> Keyring:
    """The biometric keyring at this path (`Settings.biometric_keyring_path`), created on first
    use with mode 0600; read again when the file changes (`anju keys rotate` added a key), so a
    running api decrypts the photos a rotation re-sealed."""
    if not path.exists():
        Keyring.load_or_create(path)
    stat = path.stat()
    return _keyring(path, (stat.st_mtime_ns, stat.st_size))


def seal(photo: bytes, face_id: UUID, ring: Keyring) -> tuple[bytes, str]:
    """Encrypt a photo for one row: (nonce || ciphertext+tag, key id)."""
    nonce = secrets.token_bytes(12)
    kid = ring.current_id
    return nonce + AESGCM(ring.key(kid)).encrypt(nonce, photo, face_id.bytes), kid


def unseal(blob: bytes, face_id: UUID, kid: str, ring: Keyring) -> bytes:
    """Decrypt a stored photo (InvalidTag when it belongs to another row or was changed)."""
    return AESGCM(ring.key(kid)).decrypt(blob[:12], blob[12:], face_id.bytes)


async def reseal_all(ring: Keyring, *, batch: int, progress: Callable[[str], Any]) -> int:
    """Re-encrypt every photo not under the ring's current key, `batch` rows a transaction (key
    rotation); the number re-sealed. Each row keeps its id, so its associated data stays valid."""
    total = await FaceTemplate.count().where(FaceTemplate.key_id != ring.current_id)
    done = 0
    last: UUID | None = None
    while True:
        query = FaceTemplate.select(FaceTemplate.id, FaceTemplate.photo, FaceTemplate.key_id).where(
            FaceTemplate.key_id != ring.current_id
        )
        if last is not None:
            query = query.where(FaceTemplate.id > last)
        rows = await query.order_by(FaceTemplate.id).limit(batch)
        if not rows:
            break
        async with DB.transaction():
            for row in rows:
                photo = unseal(row["photo"], row["id"], row["key_id"], ring)
                blob, kid = seal(photo, row["id"], ring)
                await FaceTemplate.update(
                    {FaceTemplate.photo: blob, FaceTemplate.key_id: kid}
                ).where(FaceTemplate.id == row["id"])
        done += len(rows)
        last = rows[-1]["id"]
        progress(f"{FaceTemplate._meta.tablename}: {done}/{total}")
    return done


def _looks_like_image(photo: bytes, content_type: str) -> bool:
    if content_type == "image/jpeg":
        return photo.startswith(b"\xff\xd8\xff")
    return photo.startswith(b"\x89PNG\r\n\x1a\n")


async def enrol_face(
    caller: Caller,
    *,
    person_id: UUID,
    photo: bytes,
    content_type: str,
    ring: Keyring,
    effects: Effects,
) -> FaceEnrolled:
    """Store a person's face photo apart from their identity and give them a face credential."""
    person = (
        await Person.select(Person.community, Person.household)
        .where(Person.id == person_id)
        .first()
    )
    if person is None:
        raise NotFound()
    community = person["community"]
    require_staff(caller, "credential.write", community)
    if (
        content_type not in PHOTO_TYPES
        or not 0 < len(photo) <= MAX_PHOTO
        or not _looks_like_image(photo, content_type)
    ):
        raise BadPhoto()
    face_id = uuid4()
    blob, kid = seal(photo, face_id, ring)
    async with DB.transaction():
        await FaceTemplate(
            id=face_id,
            community=community,
            photo=blob,
            key_id=kid,
            content_type=content_type,
            created_by=caller.account_id,
            created_at=datetime.now(UTC),
        ).save()
        credential_id = await create_credential(
            community_id=community,
            kind="face",
            person_id=person_id,
            household_id=person["household"],
            template_id=face_id,
            created_by=caller.account_id,
        )
        await record(
            "biometric.face.enrol",
            actor=caller,
            target_type="biometric_face",
            target_id=face_id,
            community_id=community,
            details={"credential_id": str(credential_id), "bytes": len(photo)},
        )
    after_commit(effects, community)
    return FaceEnrolled(face_id=face_id, credential_id=credential_id)


async def delete_face(caller: Caller, face_id: UUID, effects: Effects) -> None:
    """Erase a face photo; its credentials are revoked at every reader."""
    row = (
        await FaceTemplate.select(FaceTemplate.community).where(FaceTemplate.id == face_id).first()
    )
    if row is None:
        raise NotFound()
    community = row["community"]
    require_staff(caller, "credential.write", community)
    async with DB.transaction():
        credentials = [
            r["id"]
            for r in await Credential.select(Credential.id).where(Credential.template == face_id)
        ]
        await revoke_credentials(credentials, reason="face deleted", by=caller.account_id)
        await FaceTemplate.delete().where(FaceTemplate.id == face_id)
        await record(
            "biometric.face.delete",
            actor=caller,
            target_type="biometric_face",
            target_id=face_id,
            community_id=community,
            details={"revoked": len(credentials)},
        )
    after_commit(effects, community)
