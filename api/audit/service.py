"""The audit log: every login, failure, write and reveal, hash-chained so edits and deletions show.

Each entry's hash covers the previous entry's hash and the entry's own fields in canonical JSON.
Appends take a transaction-scoped advisory lock, so concurrent writers still form one chain. An
entry is written in the caller's transaction: a write and its audit entry commit or vanish together.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from api.audit.schemas import AuditEntryRead, AuditPage
from api.audit.tables import AuditEntry
from api.core.auth import Caller, Scope
from api.core.crypto import digest
from api.core.errors import NotFound
from api.core.paging import paged_page
from api.piccolo_conf import DB
from api.settings import CryptoMode

GENESIS = "0" * 64
_OTHER: dict[CryptoMode, CryptoMode] = {"std": "sm", "sm": "std"}
_LOCK = 0x616E6A75  # "anju": the advisory lock that serialises appends to the chain
_crypto: CryptoMode | None = None  # ANJU_CRYPTO, from `configure`


def configure(crypto: CryptoMode) -> None:
    """Hash new entries with this algorithm; where the process starts, from its settings."""
    global _crypto
    _crypto = crypto


def _mode() -> CryptoMode:
    if _crypto is None:
        raise RuntimeError("audit log not configured: call api.audit.service.configure(crypto)")
    return _crypto


class VerifyResult(msgspec.Struct, kw_only=True):
    """What `anju audit verify` found."""

    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str | None = None


def _canonical(row: dict[str, Any]) -> bytes:
    fields = {
        "at": row["at"].astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": str(row["actor_id"]) if row["actor_id"] else None,
        "actor_name": row["actor_name"],
        "actor_role": row["actor_role"],
        "action": row["action"],
        "outcome": row["outcome"],
        "target_type": row["target_type"],
        "target_id": row["target_id"],
        "community_id": str(row["community_id"]) if row["community_id"] else None,
        "ip": row["ip"],
        "purpose": row["purpose"],
        "details": row["details"],
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def chain_hash(prev_hash: str, row: dict[str, Any], mode: CryptoMode) -> str:
    """The hash of an entry: digest(previous hash || canonical fields), hex."""
    return digest(prev_hash.encode() + _canonical(row), mode).hex()


async def record(
    action: str,
    *,
    actor: Caller | None = None,
    actor_id: UUID | None = None,
    actor_name: str | None = None,
    outcome: str = "ok",
    target_type: str | None = None,
    target_id: object = None,
    community_id: UUID | None = None,
    ip: str | None = None,
    purpose: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry, inside the current transaction when there is one."""
    row: dict[str, Any] = {
        "at": datetime.now(UTC),
        "actor_id": actor.account_id if actor else actor_id,
        "actor_name": actor.username if actor else actor_name,
        "actor_role": actor.primary_role if actor else None,
        "action": action,
        "outcome": outcome,
        "target_type": target_type,
        "target_id": str(target_id) if target_id is not None else None,
        "community_id": community_id,
        "ip": actor.ip if actor and ip is None else ip,
        "purpose": purpose,
        "details": details or {},
    }
    if DB.transaction_exists():
        await _append(row)
    else:
        async with DB.transaction():
            await _append(row)


async def reveal(
    caller: Caller,
    target_type: str,
    target_id: UUID,
    row: dict[str, Any] | None,
    fields: Sequence[str],
    purpose: str,
    decrypt: Callable[[str, Any], str | None],
) -> dict[str, str | None]:
    """Personal fields of `row` in full (`decrypt(field, stored)`), each reveal on record.

    `row` is what the caller reached: None (missing, or out of scope) is 404 and still recorded,
    as `<target_type>.reveal.denied`, since a refused attempt at personal data is a security event.
    A reveal is `<target_type>.revealed` with the purpose and the field names, never the values;
    it is written before the values leave, so there is no reveal without its record.
    """
    if row is None:
        await record(
            f"{target_type}.reveal.denied",
            actor=caller,
            outcome="denied",
            target_type=target_type,
            target_id=target_id,
            purpose=purpose,
            details={"fields": list(fields)},
        )
        raise NotFound()
    values = {f: decrypt(f, row[f]) for f in fields}
    await record(
        f"{target_type}.revealed",
        actor=caller,
        target_type=target_type,
        target_id=target_id,
        community_id=row["community"],
        purpose=purpose,
        details={"fields": list(fields)},
    )
    return values


async def _append(row: dict[str, Any]) -> None:
    await DB.run_ddl(f"SELECT pg_advisory_xact_lock({_LOCK})")
    last = await AuditEntry.select(AuditEntry.hash).order_by(AuditEntry.id, ascending=False).first()
    prev = last["hash"] if last else GENESIS
    entry_hash = chain_hash(prev, row, _mode())
    await AuditEntry.insert(
        AuditEntry(
            **{**row, "details": json.dumps(row["details"])}, prev_hash=prev, hash=entry_hash
        )
    )


async def _rows(batch: int = 1000) -> AsyncIterator[dict[str, Any]]:
    after = -1
    while True:
        rows = (
            await AuditEntry.select()
            .where(AuditEntry.id > after)
            .order_by(AuditEntry.id)
            .limit(batch)
            .output(load_json=True)
        )
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        after = rows[-1]["id"]


async def verify() -> VerifyResult:
    """Walk the chain from the oldest kept entry; report the first entry that does not fit."""
    mode = _mode()
    checked = 0
    prev: str | None = None  # the oldest kept entry anchors the chain (older ones may be retired)
    async for row in _rows():
        if prev is not None and row["prev_hash"] != prev:
            return VerifyResult(
                ok=False,
                checked=checked,
                broken_id=row["id"],
                reason="previous entry missing or altered",
            )
        if chain_hash(row["prev_hash"], row, mode) != row["hash"] and (
            # Entries written before a switch of ANJU_CRYPTO keep the other algorithm's hash.
            chain_hash(row["prev_hash"], row, _OTHER[mode]) != row["hash"]
        ):
            return VerifyResult(
                ok=False, checked=checked, broken_id=row["id"], reason="entry altered"
            )
        prev = row["hash"]
        checked += 1
    return VerifyResult(ok=True, checked=checked)


async def search(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    action: str | None = None,
    actor: str | None = None,
    outcome: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditPage:
    """A page of the audit log, newest first; for the audit administrator alone."""
    Scope.of(caller, "audit.read")
    return await paged_page(
        AuditPage,
        lambda r: msgspec.convert(r, AuditEntryRead, from_attributes=False),
        AuditEntry.select().order_by(AuditEntry.id, ascending=False).output(load_json=True),
        AuditEntry.id.is_not_null(),
        AuditEntry.action.like(f"{action}%") if action else None,
        AuditEntry.actor_name.ilike(f"%{actor}%") if actor else None,
        AuditEntry.outcome == outcome if outcome else None,
        AuditEntry.target_id == target_id if target_id else None,
        AuditEntry.at >= since if since else None,
        AuditEntry.at < until if until else None,
        page=page,
        page_size=page_size,
    )


async def entries_of(
    target_type: str, target_id: UUID, *, limit: int = 200
) -> list[AuditEntryRead]:
    """The audit entries of one record, oldest first: its history as a domain shows it to the
    staff who may read the record (the caller's scope is the domain's to check first)."""
    rows = (
        await AuditEntry.select()
        .where((AuditEntry.target_type == target_type) & (AuditEntry.target_id == str(target_id)))
        .order_by(AuditEntry.id)
        .limit(limit)
        .output(load_json=True)
    )
    return [msgspec.convert(r, AuditEntryRead, from_attributes=False) for r in rows]
