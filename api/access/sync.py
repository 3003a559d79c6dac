"""Credential sync: what each bridge holds, as a full set or as versioned deltas.

A bridge holds the credentials that may pass one of its doors, each with the bridge's device ids,
schedule, validity and uses, and the digests of card numbers, PINs and keypad codes under the
bridge's own key (api/access/credential_keys.py). The community's credential version is the id of
the last row of the change log (api/access/credentials.py).

The link (api/devices/link.py) sends the full set after the bridge's inventory (an empty one too:
the deltas that follow chain on its version), then a delta
`since` the version it sent last whenever a change is pushed (`push_credentials`, over Redis, to
whichever api instance holds the link) and, as a safety net, on heartbeats. The bridge applies a
delta only on top of `since`; when it answers ok=False the link sends the full set again.

Where a credential passes: a household's credential the community's gates, its unit's doors and
its building's lifts; every credential the points of its groups and its listed points. One entry
has one schedule: doors reached without a schedule pass at any time; otherwise the windows of the
groups' schedules are joined and only holidays common to all of them block (docs/access.md).

A phone key's entry carries its raw public key: the bridge verifies the QR codes the phone makes
from it, offline too (docs/bridge.md, phone keys); a revocation removes it like any credential.

Entries: a visitor pass's credential (kind "code", its QR tokens name it too) counts its `uses`
only at the community gates, so its entry carries `entry_doors` (the bridge's gates among its
doors). At a bridge with none of its gates nothing counts: the entry goes with `uses` -1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog
from redis.asyncio import Redis

from api.access.credential_keys import bridge_digest, keys
from api.access.credentials import (
    CODE_WINDOW,
    HOTP_CONTEXT,
    PLATE_KINDS,
    VALUE_CONTEXT,
    VALUE_KINDS,
    entries_at_gates,
    hotp_codes,
    is_gate,
    usable,
)
from api.access.rows import CREDENTIAL_COLUMNS, CredentialRow, credential_rows
from api.access.tables import (
    AccessGroup,
    AccessPoint,
    AccessSchedule,
    BridgeCredentials,
    Credential,
    CredentialChange,
)
from api.communities.tables import Household
from api.devices.bus import credentials_channel
from api.devices.tables import Bridge, Device
from device_bridge import protocol

log = structlog.get_logger()

HOUSEHOLD_KINDS = ("gate", "unit_door", "lift")


def windows_of(schedule: dict[str, Any]) -> list[protocol.Window]:
    """A schedule's windows on the wire: a day bitmask (bit 0 Monday) and minutes."""

    def minutes(text: str) -> int:
        hours, mins = text.split(":")
        return int(hours) * 60 + int(mins)

    return [
        protocol.Window(
            days=sum(1 << (int(d) - 1) for d in w["days"]),
            start=minutes(w["start"]),
            end=minutes(w["end"]),
        )
        for w in schedule.get("windows") or []
    ]


@dataclass
class Site:
    """What deciding where credentials pass needs, loaded once per frame."""

    community_id: UUID
    bridge_id: UUID | None  # None: every device of the community (platform decisions)
    devices: dict[UUID, str]  # device id -> external id (the bridge's, or the platform's)
    points: dict[str, dict[str, Any]]  # access point id (str) -> row
    groups: dict[str, dict[str, Any]]
    schedules: dict[UUID, dict[str, Any]]
    households: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    barriers: list[str] = field(default_factory=list)  # external ids of the vehicle barriers


async def load_site(community_id: UUID, bridge_id: UUID | None) -> Site:
    """Devices, points, groups, schedules and households of the community."""
    where: Any = Device.community == community_id
    if bridge_id is not None:
        where &= Device.bridge == bridge_id
    rows = await Device.select(Device.id, Device.external_id, Device.kind).where(where)
    devices = {r["id"]: r["external_id"] for r in rows}
    barriers = sorted(r["external_id"] for r in rows if r["kind"] == "barrier")
    points = {
        str(r["id"]): r
        for r in await AccessPoint.select(
            AccessPoint.id,
            AccessPoint.device,
            AccessPoint.kind,
            AccessPoint.building,
            AccessPoint.unit,
            AccessPoint.floors,
        )
        .where(AccessPoint.community == community_id)
        .output(load_json=True)
    }
    groups = {
        str(r["id"]): r
        for r in await AccessGroup.select(AccessGroup.id, AccessGroup.points, AccessGroup.schedule)
        .where(AccessGroup.community == community_id)
        .output(load_json=True)
    }
    schedules = {
        r["id"]: r
        for r in await AccessSchedule.select()
        .where(AccessSchedule.community == community_id)
        .output(load_json=True)
    }
    households = {
        r["id"]: r
        for r in await Household.select(
            Household.id, Household.building, Household.unit, Household.room
        ).where(Household.community == community_id)
    }
    return Site(community_id, bridge_id, devices, points, groups, schedules, households, barriers)


def _floor_of(room: str) -> int | None:
    digits = room.strip()
    return int(digits[:-2]) if digits.isdigit() and len(digits) >= 3 else None


def reach(
    site: Site, cred: CredentialRow
) -> tuple[list[str], list[int], list[protocol.Window], list[str]]:
    """(doors, floors, schedule, holidays) of a credential at the site; no doors: not here.

    A plate (or a blacklisted plate) is decided at every vehicle barrier of the site and
    nowhere else; the vehicle's validity window is the credential's."""
    if cred.kind in PLATE_KINDS:
        return list(site.barriers), [], [], []
    sources: list[tuple[list[str], dict[str, Any] | None]] = []  # (point ids, schedule or None)
    floors = {int(f) for f in cred.floors or []}
    household = site.households.get(cred.household) if cred.household else None
    if household is not None:
        mine = []
        for pid, p in site.points.items():
            if p["kind"] == "gate" or (
                p["kind"] in ("unit_door", "lift")
                and (
                    p["unit"] == household["unit"]
                    or (p["unit"] is None and p["building"] == household["building"])
                )
            ):
                mine.append(pid)
        sources.append((mine, None))
        if (floor := _floor_of(household["room"])) is not None:
            floors.update({1, floor})
    for gid in cred.groups or []:
        group = site.groups.get(str(gid))
        if group is not None:
            sources.append(
                ([str(p) for p in group["points"] or []], site.schedules.get(group["schedule"]))
            )
    if cred.points:
        sources.append(([str(p) for p in cred.points], None))
    doors: set[str] = set()
    reached: list[dict[str, Any] | None] = []
    for pids, schedule in sources:
        here = {
            site.devices[point["device"]]
            for pid in pids
            if (point := site.points.get(pid)) and point["device"] in site.devices
        }
        if here:
            doors |= here
            reached.append(schedule)
    if not doors:
        return [], [], [], []
    if any(s is None for s in reached):
        return sorted(doors), sorted(floors), [], []
    schedules = [s for s in reached if s is not None]
    windows = [w for s in schedules for w in windows_of(s)]
    holidays = set.intersection(*(set(s.get("holidays") or []) for s in schedules))
    return sorted(doors), sorted(floors), windows, sorted(holidays)


def entry_doors(site: Site, cred: CredentialRow, doors: list[str]) -> list[str] | None:
    """The doors among `doors` where a granted "in" uses one of the credential's entries; None:
    every door (the credential is not a visitor pass's)."""
    if not entries_at_gates(cred.visitor_pass):
        return None
    gates = {
        site.devices[p["device"]]
        for p in site.points.values()
        if p["device"] in site.devices and is_gate(p["kind"], p["building"])
    }
    return [d for d in doors if d in gates]


def entry_of(
    site: Site, cred: CredentialRow, key: bytes, now: datetime
) -> protocol.CredentialEntry | None:
    """The credential as this bridge holds it, or None when it passes none of its doors now."""
    if usable(cred, now) not in (None, "not_yet_valid"):
        return None
    doors, floors, schedule, holidays = reach(site, cred)
    if not doors:
        return None
    kind = cred.kind
    digests: list[bytes] = []
    cipher = keys().cipher
    if kind in VALUE_KINDS and cred.value:
        # A plate and a blacklisted plate share the read's digest: one look-up finds either.
        of = "plate" if kind in PLATE_KINDS else kind
        digests = [bridge_digest(key, of, cipher.decrypt(cred.value, context=VALUE_CONTEXT))]
    elif kind == "code" and cred.hotp_secret:
        # Every door burns a code (not only the entries): the window does not shrink with uses.
        secret = cipher.decrypt(cred.hotp_secret, context=HOTP_CONTEXT)
        digests = [
            bridge_digest(key, "code", c) for c in hotp_codes(secret, cred.counter, CODE_WINDOW)
        ]
    elif kind == "face" and cred.template:
        digests = [bridge_digest(key, "face", str(cred.template))]
    entries = entry_doors(site, cred, doors)
    uses = -1 if entries == [] else cred.uses  # no gate of it here: nothing counts here
    return protocol.CredentialEntry(
        id=str(cred.id),
        kind=kind,
        doors=doors,
        digests=digests,
        person=str(cred.person or ""),
        visitor_pass=str(cred.visitor_pass or ""),
        floors=floors,
        schedule=schedule,
        holidays=holidays,
        valid_from=cred.valid_from.timestamp() if cred.valid_from else 0.0,
        valid_until=cred.valid_until.timestamp() if cred.valid_until else 0.0,
        uses=uses,
        counter=cred.counter if kind == "code" else 0,
        entry_doors=entries or [],
        public_key=bytes(cred.public_key or b"") if kind == "phone_key" else b"",
    )


async def version_of(community_id: UUID) -> int:
    """The community's credential version: the last change's id (0 before any)."""
    row = (
        await CredentialChange.select(CredentialChange.id)
        .where(CredentialChange.community == community_id)
        .order_by(CredentialChange.id, ascending=False)
        .first()
    )
    return row["id"] if row else 0


async def frame_for(
    bridge_id: UUID, community_id: UUID, *, since: int | None
) -> protocol.Credentials | None:
    """The full set (since None, possibly empty: later deltas chain on it) or the delta since a
    version; None when the delta would be empty."""
    version = await version_of(community_id)  # first: rows read after it are at least as new
    if since is not None and since >= version:
        return None
    where: Any = Credential.community == community_id
    if since is None:
        where &= Credential.status == "active"
    else:
        changed = await CredentialChange.select(CredentialChange.credential).where(
            (CredentialChange.community == community_id) & (CredentialChange.id > since)
        )
        where &= Credential.id.is_in(list({r["credential"] for r in changed}) or [uuid4()])
    rows = credential_rows(
        await Credential.select(*CREDENTIAL_COLUMNS).where(where).output(load_json=True)
    )
    site = await load_site(community_id, bridge_id)
    key = keys().bridge_key(bridge_id)
    now = datetime.now(UTC)
    upserts, removals = [], []
    for row in rows:
        entry = entry_of(site, row, key, now)
        if entry is not None:
            upserts.append(entry)
        elif since is not None:
            removals.append(str(row.id))
    return protocol.Credentials(
        version=version,
        since=since,
        key=key,
        qr_keys=keys().qr.public(),
        upserts=upserts,
        removals=removals,
    )


_SENT = """
INSERT INTO bridge_credentials (id, bridge, sent_version, entries, sent_at, full_at)
VALUES ({}, {}, {}, {}, {}, {})
ON CONFLICT (bridge) DO UPDATE SET
    sent_version = EXCLUDED.sent_version,
    sent_at = EXCLUDED.sent_at,
    entries = CASE WHEN EXCLUDED.full_at IS NULL THEN bridge_credentials.entries
                   ELSE EXCLUDED.entries END,
    full_at = COALESCE(EXCLUDED.full_at, bridge_credentials.full_at)
"""


async def sent(bridge_id: UUID, frame: protocol.Credentials) -> None:
    """Note what the bridge was sent."""
    now = datetime.now(UTC)
    full = frame.since is None
    await BridgeCredentials.raw(
        _SENT, uuid4(), bridge_id, frame.version, len(frame.upserts), now, now if full else None
    )


async def applied(bridge_id: UUID, version: int) -> None:
    """The bridge's cache is at this version."""
    await BridgeCredentials.update(
        {
            BridgeCredentials.applied_version: version,
            BridgeCredentials.applied_at: datetime.now(UTC),
        }
    ).where(BridgeCredentials.bridge == bridge_id)


async def push_credentials(redis: Redis, community_id: UUID) -> int:
    """Tell the links of the community's bridges (on any api instance) to send their delta."""
    bridges = await Bridge.select(Bridge.id).where(
        (Bridge.community == community_id) & Bridge.revoked_at.is_null() & Bridge.online.eq(True)
    )
    told = 0
    for bridge in bridges:
        told += await redis.publish(credentials_channel(bridge["id"]), str(time.time()).encode())
    return told
