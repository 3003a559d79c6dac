"""Anchors of the audit chain: its head, signed, kept where the database's writer cannot rewrite it.

The hash chain shows an edited or deleted entry by the entry after it; removing the *newest*
entries leaves a shorter chain that is still consistent. An anchor closes that gap: the head's
sequence number (the entry id) and hash, and the time, signed with an Ed25519 key of its own (a
file beside the other keys, never in the database). Anchors are written to the object store under
`audit-anchors/`, one object per (seq, hash), so a later chain that reuses an id cannot overwrite
the anchor it contradicts, and to the log as an `audit.anchor` line.

An anchor holds while the chain contains the entry with that hash at that sequence. An anchor of
an entry older than the oldest kept one was retired with it by retention, except the newest
anchor, which must always hold: a chain emptied or cut back behind it is reported.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import msgspec
import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.audit.tables import AuditEntry
from api.core.crypto import write_new_key
from api.core.storage import ObjectStore, RetentionClass

log = structlog.get_logger()

PREFIX = "audit-anchors/"
_BATCH = 1000


class Anchor(msgspec.Struct, kw_only=True, frozen=True):
    """The chain's head at a moment, and the signature over it."""

    seq: int
    hash: str
    at: datetime
    signature: str = ""  # base64 Ed25519 over `signed_bytes`

    def signed_bytes(self) -> bytes:
        """What the signature covers: a fixed label, the sequence, the hash and the time (UTC)."""
        at = self.at.astimezone(UTC).isoformat(timespec="microseconds")
        return f"anju-audit-anchor\n{self.seq}\n{self.hash}\n{at}".encode()

    @property
    def key(self) -> str:
        """The anchor's object key: zero-padded so the store lists anchors in chain order."""
        return f"{PREFIX}{self.seq:020d}-{self.hash[:16]}.json"


class AnchorKey:
    """The Ed25519 key that signs anchors; its public half is all a verifier needs."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def load_or_create(cls, path: Path) -> AnchorKey:
        """Load the PEM key at `path`, creating it (mode 0600) when absent."""
        if not path.exists():
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_new_key(path, pem)  # the first of two racing processes wins
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(key)

    def sign(self, anchor: Anchor) -> Anchor:
        """The anchor with its signature."""
        signature = base64.b64encode(self._key.sign(anchor.signed_bytes())).decode()
        return msgspec.structs.replace(anchor, signature=signature)

    def verifies(self, anchor: Anchor) -> bool:
        """Whether the anchor was signed by this key, exactly as it reads."""
        try:
            signature = base64.b64decode(anchor.signature, validate=True)
            self._key.public_key().verify(signature, anchor.signed_bytes())
        except (InvalidSignature, ValueError):
            return False
        return True


@cache
def anchor_key(path: Path) -> AnchorKey:
    """The process's anchor key for this path (loaded once)."""
    return AnchorKey.load_or_create(path)


class AnchorCheck(msgspec.Struct, kw_only=True):
    """What checking the anchors found; `problems` name each anchor that does not hold."""

    ok: bool
    checked: int
    retired: int = 0
    newest: Anchor | None = None
    problems: list[str] = []


async def write_anchor(store: ObjectStore, key: AnchorKey) -> Anchor | None:
    """Sign the chain's current head into the store and the log; None while the log is empty."""
    head = (
        await AuditEntry.select(AuditEntry.id, AuditEntry.hash)
        .order_by(AuditEntry.id, ascending=False)
        .first()
    )
    if head is None:
        return None
    anchor = key.sign(Anchor(seq=head["id"], hash=head["hash"], at=datetime.now(UTC)))
    await store.put(
        anchor.key,
        msgspec.json.encode(anchor),
        content_type="application/json",
        retention=RetentionClass.AUDIT_6M,
    )
    log.info(
        "audit.anchor",
        seq=anchor.seq,
        hash=anchor.hash,
        at=anchor.at.isoformat(),
        signature=anchor.signature,
    )
    return anchor


async def _hashes(seqs: list[int]) -> dict[int, str]:
    """The kept entries' hashes by id, for these ids."""
    found: dict[int, str] = {}
    for start in range(0, len(seqs), _BATCH):
        rows = await AuditEntry.select(AuditEntry.id, AuditEntry.hash).where(
            AuditEntry.id.is_in(seqs[start : start + _BATCH])
        )
        found.update({r["id"]: r["hash"] for r in rows})
    return found


async def verify_anchors(store: ObjectStore, key: AnchorKey) -> AnchorCheck:
    """Check every anchor's signature, and that the chain still holds each anchored entry."""
    problems: list[str] = []
    anchors: list[Anchor] = []
    for object_key in await store.keys(PREFIX):
        try:
            anchor = msgspec.json.decode(await store.get(object_key), type=Anchor)
        except msgspec.DecodeError:
            problems.append(f"anchor {object_key}: unreadable")
            continue
        if not key.verifies(anchor):
            problems.append(f"anchor {object_key}: bad signature (forged or altered)")
            continue
        anchors.append(anchor)
    anchors.sort(key=lambda a: (a.seq, a.at))
    hashes = await _hashes(sorted({a.seq for a in anchors}))
    bounds = await AuditEntry.raw("SELECT min(id) AS oldest, max(id) AS newest FROM audit_log")
    oldest, newest = bounds[0]["oldest"], bounds[0]["newest"]
    retired = 0
    for anchor in anchors:
        at = anchor.at.isoformat(timespec="seconds")
        found = hashes.get(anchor.seq)
        if found == anchor.hash:
            continue
        if found is not None:
            problems.append(
                f"entry {anchor.seq} (anchored {at}) was replaced: "
                f"hash {found[:16]}… instead of {anchor.hash[:16]}…"
            )
        elif oldest is not None and anchor.seq < oldest and anchor is not anchors[-1]:
            retired += 1  # retention retired the entry (and with it this anchor's evidence)
        else:
            end = f"the chain ends at entry {newest}" if newest is not None else "the log is empty"
            problems.append(
                f"entry {anchor.seq} with hash {anchor.hash[:16]}… (anchored {at}) is missing: "
                f"{end}"
            )
    return AnchorCheck(
        ok=not problems,
        checked=len(anchors),
        retired=retired,
        newest=anchors[-1] if anchors else None,
        problems=problems,
    )
