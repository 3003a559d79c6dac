"""What the visitor tests share: the scripted gate site, and valid bodies of bookings and walk-ins.

The site speaks the wire protocol frame by frame (tests/devices/peer.py): it keeps the credential
frames the platform sends it (the full set after its inventory, then the deltas, acknowledged),
so a test sees what reached the gate.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import websockets

from api.access.tables import AccessPoint
from api.devices.tables import Bridge
from device_bridge import protocol
from tests.devices.peer import EnrolledBridge, Peer
from tests.helpers import ApiClient, eventually

ID_NUMBER = "510104199001011230"  # checksummed (tests/helpers.py uses it for a resident too)

DEVICES = [
    protocol.DeviceInfo(
        id="gate-east", kind="door_controller", name="东门", driver="sim", attrs={"role": "gate"}
    ),
    protocol.DeviceInfo(
        id="door-1-1",
        kind="door_controller",
        name="1栋1单元 单元门",
        driver="sim",
        attrs={"building": "1", "unit": "1", "role": "unit_door"},
    ),
    protocol.DeviceInfo(
        id="lift-1", kind="lift", name="1栋 电梯", driver="sim", attrs={"building": "1"}
    ),
]


@dataclass
class GateSite:
    """A scripted bridge: sends access events, keeps the credential frames it receives."""

    peer: Peer
    bridge: EnrolledBridge
    devices: dict[str, uuid.UUID]
    seq: int = 0
    credentials: list[protocol.Credentials] = field(default_factory=list)
    acks: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    answers: asyncio.Queue[protocol.AccessAnswer] = field(default_factory=asyncio.Queue)
    reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                frame = await self.peer.recv()
                match frame:
                    case protocol.Ack(seq=seq):
                        self.acks.put_nowait(seq)
                    case protocol.Credentials(version=version):
                        self.credentials.append(frame)
                        await self.peer.send(protocol.CredentialsApplied(version=version))
                    case protocol.AccessAnswer():
                        self.answers.put_nowait(frame)
                    case protocol.Command(id=command_id):
                        await self.peer.send(protocol.CommandResult(id=command_id, status="ok"))

    async def event(self, kind: str, device: str, data: dict[str, Any]) -> int:
        """Report one event and wait until the platform has committed it."""
        self.seq += 1
        event = protocol.Event(seq=self.seq, kind=kind, device=device, at=time.time(), data=data)
        await self.peer.send(protocol.EventBatch(events=[event]))
        while (await asyncio.wait_for(self.acks.get(), 5)) < self.seq:
            pass
        return self.seq

    async def ask(
        self, door: str, method: str, value: str, direction: str = "in", floor: int | None = None
    ) -> protocol.AccessAnswer:
        """Ask the platform to decide a presentation (as a bridge does for what it cannot)."""
        query = protocol.AccessQuery(
            id=uuid.uuid4().hex,
            door=door,
            method=method,  # type: ignore[arg-type]
            value=value,
            direction=direction,  # type: ignore[arg-type]
            floor=floor,
        )
        await self.peer.send(query)
        answer = await asyncio.wait_for(self.answers.get(), 5)
        assert answer.id == query.id
        return answer

    def removed(self) -> set[str]:
        """Credential ids the platform told this bridge to drop."""
        return {r for frame in self.credentials for r in frame.removals}

    def held(self) -> dict[str, protocol.CredentialEntry]:
        """The bridge's credential cache as the frames so far built it."""
        cache: dict[str, protocol.CredentialEntry] = {}
        for frame in self.credentials:
            if frame.since is None:
                cache = {}
            for entry in frame.upserts:
                cache[entry.id] = entry
            for gone in frame.removals:
                cache.pop(gone, None)
        return cache

    async def close(self) -> None:
        """Close the link and wait until the platform has seen it go."""
        await self.peer.ws.close()
        if self.reader is not None:
            await self.reader

        async def offline() -> bool:
            row = await Bridge.select(Bridge.online).where(Bridge.id == self.bridge.id).first()
            return bool(row and not row["online"])

        await eventually(offline)


OpenSite = Callable[[], Awaitable[GateSite]]


async def point_ids(community: uuid.UUID) -> dict[str, uuid.UUID]:
    """The community's access points by name."""
    rows = await AccessPoint.select(AccessPoint.id, AccessPoint.name).where(
        AccessPoint.community == community
    )
    return {r["name"]: r["id"] for r in rows}


def booking(**overrides: Any) -> dict[str, Any]:
    """A valid booking body: from now for four hours, one entry."""
    start = datetime.now(UTC)
    body: dict[str, Any] = {
        "visitor_name": "王小明",
        "visitor_phone": "13700001111",
        "purpose": "探亲",
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(hours=4)).isoformat(),
        "entries": 1,
    }
    body.update(overrides)
    return body


def walk_in(household: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    """A valid walk-in registration body."""
    body: dict[str, Any] = {
        "household_id": str(household),
        "visitor_name": "赵师傅",
        "visitor_phone": "13911112222",
        "id_type": "resident_id",
        "id_number": ID_NUMBER,
        "purpose": "送货",
    }
    body.update(overrides)
    return body


async def book(api: ApiClient, **overrides: Any) -> dict[str, Any]:
    """Book a visitor through the API; the created pass."""
    answer = await api.post("/api/v1/visitor-passes", json=booking(**overrides))
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result
