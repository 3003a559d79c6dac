"""Bridges and devices: enrolment, link authentication, the registry, status and commands."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from piccolo.columns import Column
from piccolo.columns.combination import Combinable
from piccolo.query.functions.aggregate import Count

from api.audit.service import record
from api.communities.tables import Building, Unit
from api.core.auth import Caller, Scope, require_staff
from api.core.errors import DomainError, InvalidInput, NotFound
from api.core.paging import equals, paged, paged_page
from api.core.query import like
from api.devices.bus import BridgeOffline, CommandBus
from api.devices.ledger.assets import new_label_code
from api.devices.schemas import (
    BridgePage,
    BridgeRead,
    CommandRead,
    DevicePage,
    DeviceRead,
    DeviceUpdate,
    EnrolmentTokenCreate,
    EnrolmentTokenRead,
    EnrolRequest,
    EnrolResult,
)
from api.devices.tables import Bridge, Device, DeviceCommand, DeviceEvent, EnrolmentToken
from api.piccolo_conf import DB
from device_bridge import protocol

log = structlog.get_logger()

OFFLINE_AFTER = timedelta(seconds=30)  # three missed 10 s heartbeats
SKEW_LIMIT = 2.0  # seconds; records must be time-accurate (standard 6.1.7)


class InvalidToken(DomainError):
    """The enrolment token is unknown, used or expired."""

    status_code = 401
    code = "invalid_enrolment_token"
    message = "The enrolment token is unknown, already used or expired."


class BridgeUnavailable(DomainError):
    """No link to the device's bridge: the command was not sent."""

    status_code = 503
    code = "bridge_offline"
    message = "The site's bridge is offline; the command was not sent."


class LinkRefused(Exception):
    """A bridge failed to authenticate; the reason is logged and sent back."""


def _now() -> datetime:
    return datetime.now(UTC)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- enrolment and link authentication -------------------------------------------------------------


async def new_token(
    community_id: UUID, *, hours: int, actor: Caller | None, actor_name: str | None
) -> tuple[str, datetime]:
    """Create and record a one-time enrolment token; only its hash is stored."""
    token = secrets.token_urlsafe(24)
    expires = _now() + timedelta(hours=hours)
    async with DB.transaction():
        row = EnrolmentToken(
            community=community_id,
            token_hash=_hash(token),
            expires_at=expires,
            created_by=actor.account_id if actor else None,
        )
        await row.save()
        await record(
            "bridge.token.issued",
            actor=actor,
            actor_name=actor_name,
            target_type="enrolment_token",
            target_id=row.id,
            community_id=community_id,
        )
    return token, expires


async def issue_token(caller: Caller, data: EnrolmentTokenCreate) -> EnrolmentTokenRead:
    """A one-time enrolment token for a new bridge of a community (system administrators)."""
    require_staff(caller, "device.write", data.community_id)
    token, expires = await new_token(
        data.community_id, hours=data.valid_hours, actor=caller, actor_name=None
    )
    return EnrolmentTokenRead(token=token, community_id=data.community_id, expires_at=expires)


async def enrol(data: EnrolRequest, *, ip: str | None) -> EnrolResult:
    """Exchange a one-time token for the registration of the bridge's public key.

    A refused token is audited after the transaction, in one of its own: inside, the entry would
    roll back with the refusal and a token-guessing run would leave no trace.
    """
    try:
        key = base64.b64decode(data.public_key, validate=True)
        Ed25519PublicKey.from_public_bytes(key)
    except ValueError as err:
        raise InvalidInput(
            "public_key must be a base64 raw Ed25519 key.", field="public_key"
        ) from err
    bridge = None
    async with DB.transaction():
        used = (
            await EnrolmentToken.update({EnrolmentToken.used_at: _now()})
            .where(
                (EnrolmentToken.token_hash == _hash(data.token))
                & EnrolmentToken.used_at.is_null()
                & (EnrolmentToken.expires_at > _now())
            )
            .returning(EnrolmentToken.id, EnrolmentToken.community)
        )
        if used:
            bridge = Bridge(
                community=used[0]["community"],
                name=data.name,
                version=data.version,
                public_key=base64.b64encode(key).decode(),
            )
            await bridge.save()
            await EnrolmentToken.update({EnrolmentToken.bridge: bridge.id}).where(
                EnrolmentToken.id == used[0]["id"]
            )
            await record(
                "bridge.enrolled",
                actor_name=data.name,
                ip=ip,
                target_type="bridge",
                target_id=bridge.id,
                community_id=bridge.community,
            )
    if bridge is None:
        await record("bridge.enrol.failed", outcome="denied", ip=ip, actor_name=data.name)
        raise InvalidToken()
    return EnrolResult(bridge_id=bridge.id, community_id=bridge.community)


async def authenticate(hello: protocol.Hello, nonce: bytes) -> Bridge:
    """The bridge whose key signed this challenge; LinkRefused when none did."""
    try:
        bridge_id = UUID(hello.bridge_id)
    except ValueError as err:
        raise LinkRefused("malformed bridge id") from err
    bridge = await Bridge.objects().where(Bridge.id == bridge_id).first()
    if bridge is None or bridge.revoked_at is not None:
        raise LinkRefused("unknown or revoked bridge")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(bridge.public_key))
    try:
        key.verify(hello.signature, protocol.challenge_message(nonce, hello.bridge_id))
    except InvalidSignature as err:
        raise LinkRefused("bad signature") from err
    return bridge


# -- link state ------------------------------------------------------------------------------


async def link_up(bridge: Bridge, version: str) -> int:
    """Mark the bridge online; return the highest event seq stored for it."""
    await Bridge.update(
        {Bridge.online: True, Bridge.last_seen: _now(), Bridge.version: version}
    ).where(Bridge.id == bridge.id)
    row = (
        await DeviceEvent.select(DeviceEvent.seq.as_alias("seq"))
        .where(DeviceEvent.bridge == bridge.id)
        .order_by(DeviceEvent.seq, ascending=False)
        .where(DeviceEvent.seq.is_not_null())
        .first()
    )
    return int(row["seq"]) if row else 0


async def heartbeat(bridge_id: UUID, frame: protocol.Heartbeat, received: float) -> None:
    """Record liveness and clock skews against the platform clock (standard 6.1.7).

    The bridge reports each device's clock against its own; adding the bridge's own skew (its
    clock at sending minus ours at receipt, within the link latency) gives the device's. One
    statement whatever the site's size: the bridge's row and every device's, from two arrays.
    """
    bridge_skew = frame.sent_at - received
    now = _now()
    await Device.raw(
        """
        WITH seen AS (
            UPDATE bridges SET last_seen = {}, online = true, clock_skew = {}
            WHERE id = {} RETURNING id
        )
        UPDATE devices AS d SET clock_skew = v.skew + {}, last_seen = {}
        FROM seen, unnest({}::text[], {}::float8[]) AS v(external_id, skew)
        WHERE d.bridge = seen.id AND d.external_id = v.external_id
        """,
        now,
        bridge_skew,
        bridge_id,
        bridge_skew,
        now,
        list(frame.device_skew),
        [float(v) for v in frame.device_skew.values()],
    )


async def link_down(bridge_id: UUID, *, reason: str) -> bool:
    """Mark the bridge offline and raise a device-offline record; False if it already was."""
    async with DB.transaction():
        changed = (
            await Bridge.update({Bridge.online: False})
            .where((Bridge.id == bridge_id) & (Bridge.online.eq(True)))
            .returning(Bridge.community)
        )
        if not changed:
            return False
        await DeviceEvent(
            bridge=bridge_id,
            community=changed[0]["community"],
            kind="device.offline",
            at=_now(),
            received_at=_now(),
            data={"scope": "bridge", "reason": reason},
        ).save()
    return True


async def has_bridges(community_id: UUID) -> bool:
    """Whether the community still has a bridge not revoked (places ask before retiring it)."""
    return bool(
        await Bridge.exists().where(
            (Bridge.community == community_id) & Bridge.revoked_at.is_null()
        )
    )


async def stale_bridges() -> list[UUID]:
    """Bridges marked online whose last heartbeat is older than the offline threshold."""
    rows = await Bridge.select(Bridge.id).where(
        Bridge.online.eq(True) & (Bridge.last_seen < _now() - OFFLINE_AFTER)
    )
    return [r["id"] for r in rows]


async def mark_stale_offline() -> int:
    """Mark bridges offline whose heartbeats stopped while their TCP link looked alive; how many
    were stale (a second run finds them offline already and changes nothing)."""
    stale = await stale_bridges()
    for bridge_id in stale:
        if await link_down(bridge_id, reason="heartbeats missed"):
            log.warning("bridge.offline.missed_heartbeats", bridge_id=str(bridge_id))
    return len(stale)


async def sync_clocks(bus: CommandBus) -> int:
    """Send `time.sync` to every reachable device whose clock is off by more than SKEW_LIMIT;
    how many answered ok. A device that is off by less is left alone, so a rerun is harmless."""
    skewed = await Device.select(Device.id).where(
        Device.bridge._.online.eq(True)
        & ((Device.clock_skew > SKEW_LIMIT) | (Device.clock_skew < -SKEW_LIMIT))
    )
    synced = 0
    for row in skewed:
        try:
            result = await command(
                bus, row["id"], "time.sync", {"server_time": time.time()}, requested_by=None
            )
        except BridgeUnavailable:
            continue
        synced += result.status == "ok"
    return synced


class LostLink(msgspec.Struct, frozen=True, kw_only=True):
    """A bridge whose link is down, with the record of the drop that began the outage."""

    bridge: UUID
    community: UUID
    name: str
    event: int  # the bridge-scope `device.offline` event link_down recorded
    since: datetime


async def lost_links(grace: timedelta) -> list[LostLink]:
    """Bridges (not revoked) whose link has been down for longer than `grace`.

    link_down records one event per outage (a bridge already offline records none), so the
    latest bridge-scope `device.offline` of an offline bridge is the start of its outage.
    """
    rows = await Bridge.raw(
        """
        SELECT b.id AS bridge, b.community, b.name, e.id AS event, e.at AS since
        FROM bridges b
        CROSS JOIN LATERAL (
            SELECT id, at FROM device_events
            WHERE bridge = b.id AND kind = 'device.offline' AND device IS NULL
            ORDER BY at DESC LIMIT 1
        ) e
        WHERE NOT b.online AND b.revoked_at IS NULL AND e.at < {}
        """,
        _now() - grace,
    )
    return msgspec.convert(rows, list[LostLink])


async def sync_inventory(bridge: Bridge, devices: list[protocol.DeviceInfo]) -> dict[str, UUID]:
    """Create or update the bridge's devices; place them by building/unit attrs; return id map."""
    buildings = {
        r["number"]: r["id"]
        for r in await Building.select(Building.id, Building.number).where(
            Building.community == bridge.community
        )
    }
    units = {
        (r["building"], r["number"]): r["id"]
        for r in await Unit.select(Unit.id, Unit.building, Unit.number).where(
            Unit.community == bridge.community
        )
    }
    known = {
        r["external_id"]: r["id"]
        for r in await Device.select(Device.id, Device.external_id).where(
            Device.bridge == bridge.id
        )
    }
    async with DB.transaction():
        for info in devices:
            building = buildings.get(str(info.attrs.get("building", "")))
            unit = units.get((building, str(info.attrs.get("unit", "")))) if building else None
            values: dict[str | Column, Any] = {
                "kind": info.kind,
                "name": info.name,
                "reported_online": info.online,
                "attrs": msgspec.json.encode(info.attrs).decode(),
                "last_seen": _now(),
                "building": building,
                "unit": unit,
            }
            if info.id in known:
                await Device.update(values).where(Device.id == known[info.id])
            else:
                row = Device(
                    community=bridge.community,
                    bridge=bridge.id,
                    external_id=info.id,
                    protection_zone=info.attrs.get("protection_zone"),
                    label_code=new_label_code(),
                    **{str(k): v for k, v in values.items()},
                )
                await row.save()
                known[info.id] = row.id
    return known


# -- registry for people -------------------------------------------------------------------------


def _device_read(row: dict[str, Any]) -> DeviceRead:
    return DeviceRead(
        id=row["id"],
        community_id=row["community"],
        community_name=row["community_name"],
        bridge_id=row["bridge"],
        external_id=row["external_id"],
        kind=row["kind"],
        name=row["name"],
        building_id=row["building"],
        unit_id=row["unit"],
        protection_zone=row["protection_zone"],
        map_x=row["map_x"],
        map_y=row["map_y"],
        online=bool(row["reported_online"] and row["bridge_online"]),
        last_seen=row["last_seen"],
        clock_skew=row["clock_skew"],
    )


_DEVICE_COLUMNS = (
    Device.id,
    Device.community,
    Device.bridge,
    Device.external_id,
    Device.kind,
    Device.name,
    Device.building,
    Device.unit,
    Device.protection_zone,
    Device.map_x,
    Device.map_y,
    Device.reported_online,
    Device.last_seen,
    Device.clock_skew,
    Device.bridge._.online.as_alias("bridge_online"),
    Device.community._.name.as_alias("community_name"),
)


async def list_devices(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    kind: str | None = None,
    online: bool | None = None,
    q: str | None = None,
) -> DevicePage:
    """Devices in the caller's scope, filtered by community, kind, status and name."""
    online_is: dict[bool, Combinable] = {
        True: Device.reported_online.eq(True) & Device.bridge._.online.eq(True),
        False: Device.reported_online.eq(False) | Device.bridge._.online.eq(False),
    }
    return await paged_page(
        DevicePage,
        _device_read,
        Device.select(*_DEVICE_COLUMNS).order_by(Device.kind).order_by(Device.name),
        Scope.of(caller, "device.read").where(Device.community),
        Device.bridge.is_not_null(),  # assets added by hand are the ledger's, not the registry's
        equals(Device.community, community_id),
        Device.kind == kind if kind else None,
        Device.name.ilike(like(q)) | Device.external_id.ilike(like(q)) if q else None,
        None if online is None else online_is[online],
        page=page,
        page_size=page_size,
    )


async def get_device(
    caller: Caller, device_id: UUID, permission: str = "device.read"
) -> DeviceRead:
    """One device in scope."""
    row = (
        await Device.select(*_DEVICE_COLUMNS)
        .where((Device.id == device_id) & Device.bridge.is_not_null())
        .first()
    )
    if row is None:
        raise NotFound()
    require_staff(caller, permission, row["community"])
    return _device_read(row)


async def update_device(caller: Caller, device_id: UUID, data: DeviceUpdate) -> DeviceRead:
    """Place a device: name, protection zone, map position."""
    device = await get_device(caller, device_id, "device.write")
    changes = {
        getattr(Device, f): v
        for f in ("name", "protection_zone", "map_x", "map_y")
        if (v := getattr(data, f)) is not msgspec.UNSET
    }
    if changes:
        async with DB.transaction():
            await Device.update(changes).where(Device.id == device_id)
            await record(
                "device.updated",
                actor=caller,
                target_type="device",
                target_id=device_id,
                community_id=device.community_id,
                details={"fields": sorted(c._meta.name for c in changes)},
            )
    return await get_device(caller, device_id)


async def list_bridges(caller: Caller, *, page: int, page_size: int) -> BridgePage:
    """Bridges of the caller's communities with their link state."""
    rows, total = await paged(
        Bridge.select(
            *Bridge.all_columns(), Bridge.community._.name.as_alias("community_name")
        ).order_by(Bridge.name),
        Scope.of(caller, "device.read").where(Bridge.community),
        page=page,
        page_size=page_size,
    )
    counts = (
        {
            r["bridge"]: r["n"]
            for r in await Device.select(Device.bridge, Count(alias="n"))
            .where(Device.bridge.is_in([r["id"] for r in rows]))
            .group_by(Device.bridge)
        }
        if rows
        else {}
    )
    return BridgePage(
        items=[
            BridgeRead(
                id=r["id"],
                community_id=r["community"],
                community_name=r["community_name"],
                name=r["name"],
                version=r["version"],
                online=r["online"],
                last_seen=r["last_seen"],
                clock_skew=r["clock_skew"],
                devices=counts.get(r["id"], 0),
            )
            for r in rows
        ],
        total=total,
        page=page,
        page_size=page_size,
    )


# -- commands --------------------------------------------------------------------------------


async def command(
    bus: CommandBus,
    device_id: UUID,
    action: str,
    args: dict[str, Any],
    *,
    requested_by: UUID | None,
    timeout: float = 5.0,
) -> CommandRead:
    """Send a command to a device through its bridge; record it with who asked and its outcome."""
    device = await Device.objects().where(Device.id == device_id).first()
    if device is None or device.bridge is None:  # an asset added by hand has no bridge to ask
        raise NotFound()
    row = DeviceCommand(
        community=device.community,
        device=device.id,
        action=action,
        args=msgspec.json.encode(args).decode(),
        requested_by=requested_by,
    )
    await row.save()
    frame = protocol.Command(
        id=str(row.id),
        device=device.external_id,
        action=action,
        args=args,
        deadline=_now().timestamp() + timeout,
    )
    try:
        result = await bus.send(device.bridge, frame, wait=timeout + 0.5)
    except BridgeOffline:
        result = protocol.CommandResult(id=frame.id, status="failed", detail="bridge offline")
        await _finish(row, result)
        raise BridgeUnavailable() from None
    result = result or protocol.CommandResult(
        id=frame.id, status="timeout", detail="no answer in time"
    )
    await _finish(row, result)
    return CommandRead(
        id=row.id,
        device_id=device.id,
        action=action,
        status=result.status,
        detail=result.detail,
        data=result.data,
        requested_at=row.requested_at,
        completed_at=_now(),
    )


async def _finish(row: DeviceCommand, result: protocol.CommandResult) -> None:
    await DeviceCommand.update(
        {
            DeviceCommand.status: result.status,
            DeviceCommand.detail: result.detail,
            DeviceCommand.completed_at: _now(),
        }
    ).where(DeviceCommand.id == row.id)


class NotAMaintenanceAction(NotFound):
    """The generic command route sends maintenance actions only; other acts have their routes."""

    code = "not_found"
    message = "No such maintenance action for this device."


async def admin_command(
    caller: Caller,
    bus: CommandBus,
    device_id: UUID,
    action: str,
    args: dict[str, Any],
    timeout: float,
) -> CommandRead:
    """A maintenance command from the console (maintenance staff, system administrators).

    Only `protocol.MAINTENANCE_ACTIONS` (state, clock) pass. Opening or holding a door, arming a
    zone, moving a barrier, a snapshot or a live view each have a route that checks the permission
    for that act, scopes it and writes its record; here they answer 404 and never reach the bridge.
    Every attempt in scope is audited with its outcome (a refused one as `denied`).
    """
    device = await get_device(caller, device_id, "device.command")

    async def audit(outcome: str) -> None:
        await record(
            "device.command",
            actor=caller,
            outcome=outcome,
            target_type="device",
            target_id=device_id,
            community_id=device.community_id,
            details={"action": action},
        )

    if action not in protocol.MAINTENANCE_ACTIONS:
        await audit("denied")
        raise NotAMaintenanceAction()
    try:
        result = await command(
            bus, device_id, action, args, requested_by=caller.account_id, timeout=timeout
        )
    except BridgeUnavailable:
        await audit("failed")
        raise
    await audit(result.status)
    return result
