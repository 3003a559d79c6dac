"""The access log: records from bridge events, queries with filters, CSV export, retention.

Records are kept at least six months (standard 6.5.12): the purge job deletes only what is older
than `RETENTION_DAYS` (186 days: six of the longest months), never anything younger.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import structlog

from api.access.credentials import after_commit, count_use, entries_at_gates, is_gate
from api.access.rows import AccessRecordRow
from api.access.schemas import AccessRecordPage, AccessRecordRead
from api.access.tables import AccessPoint, AccessRecord, Credential
from api.accounts.tables import Account
from api.audit.service import record
from api.core.auth import Caller, Scope
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import paged_page
from api.devices.rows import DeviceEventRow
from api.people.tables import Person
from api.piccolo_conf import DB

log = structlog.get_logger()

RETENTION_DAYS = 186  # at least six months, counted at the longest month
EXPORT_LIMIT = 200_000  # rows in one CSV; narrow the filters for more
_METHODS = ("card", "pin", "qr", "face", "code", "fingerprint", "app", "remote", "intercom")
# Openings the platform commands are recorded when it sends the command, not again from the event.
_RECORDED_AT_COMMAND = ("app", "remote", "intercom")


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


OnRecords = Callable[[Sequence[AccessRecordRow], Effects], Awaitable[None]]
"""A handler of the access records a batch stored (visitor arrivals), in its transaction."""


async def on_events(
    community_id: UUID, stored: list[DeviceEventRow], *, then: Sequence[OnRecords] = ()
) -> Effects:
    """The ingest handler: store the batch's access records, then hand them to `then` (wired in
    api/app.py: the domains that build on access, such as visitor passes)."""
    effects = Effects()
    candidates = {p for e in stored if (p := _uuid(e.data.get("person")))}
    known = (
        {
            r["id"]
            for r in await Person.select(Person.id).where(
                Person.id.is_in(list(candidates)) & (Person.community == community_id)
            )
        }
        if candidates
        else set()
    )
    records, changed = await from_events(community_id, stored, known)
    if records:
        await AccessRecord.insert(*records)
        rows = [msgspec.convert(r.to_dict(), AccessRecordRow) for r in records]
        for handler in then:
            await handler(rows, effects)
    after_commit(effects, *changed)
    return effects


async def from_events(
    community_id: UUID, stored: list[DeviceEventRow], known_persons: set[UUID]
) -> tuple[list[AccessRecord], set[UUID]]:
    """Access records for the access.granted/denied events just stored (inside the ingest
    transaction), and the communities whose credentials a counted use changed.

    A granted pass with a credential counts (the platform being the authority) and logs a change,
    so the next delta carries the new count: an entry (an "in" at a door that counts the
    credential's entries: any door, a visitor pass's only at the gates) uses one of its `uses`,
    and a keypad code burns its counter at any door.
    """
    records: list[AccessRecord] = []
    events = [
        e
        for e in stored
        if e.kind in ("access.granted", "access.denied")
        and e.data.get("method") not in _RECORDED_AT_COMMAND
    ]
    mentioned = {c for e in events if (c := _uuid(e.data.get("credential")))}
    credentials = (
        {
            r["id"]: r
            for r in await Credential.select(
                Credential.id,
                Credential.person,
                Credential.visitor_pass,
                Credential.kind,
                Credential.uses,
            ).where(Credential.id.is_in(list(mentioned)) & (Credential.community == community_id))
        }
        if mentioned
        else {}
    )

    def credential_of(event: DeviceEventRow) -> dict[str, Any] | None:
        found = _uuid(event.data.get("credential"))
        return credentials.get(found) if found else None

    visitors = {
        e.device for e in events if (v := credential_of(e)) and entries_at_gates(v["visitor_pass"])
    }
    gates = (
        {
            r["device"]
            for r in await AccessPoint.select(
                AccessPoint.device, AccessPoint.kind, AccessPoint.building
            ).where(AccessPoint.device.is_in(list(visitors)))
            if is_gate(r["kind"], r["building"])
        }
        if visitors
        else set()
    )
    changed: set[UUID] = set()
    for event in events:
        data = event.data
        cred = credential_of(event)
        reported = _uuid(data.get("person"))
        person = cred["person"] if cred else reported if reported in known_persons else None
        granted = event.kind == "access.granted"
        records.append(
            AccessRecord(
                community=community_id,
                device=event.device,
                at=event.at,
                person=person,
                direction=str(data.get("direction", "in"))[:3],
                method=str(data.get("method", "card"))[:8],
                result="granted" if granted else "denied",
                reason=str(data.get("reason", ""))[:200],
                credential=cred["id"] if cred else None,
                visitor_pass=(cred["visitor_pass"] if cred else None)
                or _uuid(data.get("visitor_pass")),
                decided_by=str(data.get("decided_by", "bridge"))[:8],
                photo=str(data.get("photo", ""))[:200],
            )
        )
        if granted and cred and (cred["uses"] > 0 or cred["kind"] == "code"):
            counter = data.get("counter")
            entry = data.get("direction", "in") == "in" and (
                not entries_at_gates(cred["visitor_pass"]) or event.device in gates
            )
            community = await count_use(
                cred["id"],
                counter=int(counter) if isinstance(counter, int) else None,
                entry=entry,
            )
            if community is not None:
                changed.add(community)
    return records, changed


def _filters(
    caller: Caller,
    *,
    permission: str,
    own_person: UUID | None = None,
    device_id: UUID | None = None,
    point_id: UUID | None = None,
    person_id: UUID | None = None,
    credential_id: UUID | None = None,
    visitor_pass_id: UUID | None = None,
    result: str | None = None,
    method: str | None = None,
    direction: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any | None:
    mine: Any = AccessRecord.account == caller.account_id  # residents: only their own passes
    if own_person is not None:  # their card, PIN, QR and face passes too
        mine |= AccessRecord.person == own_person
    where = Scope.of(caller, permission).where(AccessRecord.community, own=mine)
    if where is None:
        return None
    for column, value in (
        (AccessRecord.device, device_id),
        (AccessRecord.person, person_id),
        (AccessRecord.credential, credential_id),
        (AccessRecord.visitor_pass, visitor_pass_id),
        (AccessRecord.result, result),
        (AccessRecord.method, method),
        (AccessRecord.direction, direction),
    ):
        if value is not None:
            where &= column == value
    if point_id is not None:
        where &= AccessRecord.device.is_in(
            AccessPoint.select(AccessPoint.device).where(AccessPoint.id == point_id)
        )
    if since:
        where &= AccessRecord.at >= since
    if until:
        where &= AccessRecord.at < until
    return where


_COLUMNS = (
    *AccessRecord.all_columns(),
    AccessRecord.device.name.as_alias("device_name"),
    AccessRecord.person.name.as_alias("person_name"),
)


def _read(r: dict[str, Any]) -> AccessRecordRead:
    return AccessRecordRead(
        id=r["id"],
        device_id=r["device"],
        device_name=r["device_name"],
        person_id=r["person"],
        person_name=r["person_name"] or "",
        at=r["at"],
        direction=r["direction"],
        method=r["method"],
        result=r["result"],
        reason=r["reason"],
        credential_id=r["credential"],
        visitor_pass_id=r["visitor_pass"],
        decided_by=r["decided_by"],
        photo=r["photo"],
    )


async def access_log(
    caller: Caller, *, page: int, page_size: int, **filters: Any
) -> AccessRecordPage:
    """Access records, newest first: a resident's own, or a community's for its staff and police."""
    account = await Account.select(Account.person).where(Account.id == caller.account_id).first()
    person = account["person"] if account else None
    where = _filters(caller, permission="access.read", own_person=person, **filters)
    return await paged_page(
        AccessRecordPage,
        _read,
        AccessRecord.select(*_COLUMNS).order_by(AccessRecord.at, ascending=False),
        where,
        page=page,
        page_size=page_size,
    )


HEADER = [
    ("at", "时间"),
    ("device_name", "门禁点"),
    ("person_name", "人员"),
    ("direction", "方向"),
    ("method", "方式"),
    ("result", "结果"),
    ("reason", "原因"),
    ("credential", "凭证"),
    ("visitor_pass", "访客通行证"),
    ("decided_by", "判定方"),
    ("photo", "抓拍"),
]
_BATCH = 2000


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # Excel would run it as a formula (CSV injection)
    return value


def _line(values: list[Any]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow([_cell(v) for v in values])
    return out.getvalue().encode()


async def export_csv(caller: Caller, **filters: Any) -> AsyncIterator[bytes]:
    """The filtered log as CSV (UTF-8 with BOM, Chinese headers); audited before it streams."""
    where = _filters(caller, permission="access.export", **filters)
    scope = Scope.of(caller, "access.export")
    if not scope.staff:
        raise NotFound()
    communities = None if scope.everywhere else scope.communities
    await record(
        "access_records.export",
        actor=caller,
        target_type="access_records",
        community_id=next(iter(communities)) if communities and len(communities) == 1 else None,
        details={k: str(v) for k, v in filters.items() if v is not None},
    )
    return _stream(where)


async def _stream(where: Any) -> AsyncIterator[bytes]:
    yield codecs.BOM_UTF8 + _line([label for _, label in HEADER])
    if where is None:
        return
    sent, last = 0, None
    while sent < EXPORT_LIMIT:
        query = AccessRecord.select(*_COLUMNS).where(where)
        if last is not None:  # keyset paging: (at, id) descending
            query = query.where(
                (AccessRecord.at < last[0])
                | ((AccessRecord.at == last[0]) & (AccessRecord.id < last[1]))
            )
        rows = await query.order_by(AccessRecord.at, AccessRecord.id, ascending=False).limit(_BATCH)
        if not rows:
            return
        chunk = b"".join(
            _line([r["at"].isoformat() if name == "at" else r[name] for name, _ in HEADER])
            for r in rows
        )
        yield chunk
        sent += len(rows)
        last = (rows[-1]["at"], rows[-1]["id"])


async def purge(now: datetime | None = None) -> int:
    """Delete access records older than the retention; how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=RETENTION_DAYS)
    async with DB.transaction():
        gone = (
            await AccessRecord.delete().where(AccessRecord.at < cutoff).returning(AccessRecord.id)
        )
    if gone:
        log.info("access.records.purged", count=len(gone), before=cutoff.isoformat())
    return len(gone)
