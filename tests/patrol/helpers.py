"""Setting a patrol up through the API, and what a guard's phone posts (tests and e2e)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from api.alarms.catalogue import SITE_TIMEZONE
from api.devices.tables import Bridge, Device
from api.patrol import rounds
from tests.helpers import ApiClient

# Three points of a route: two 44 m apart, the third without coordinates.
POINTS = [
    ("东门岗亭", 30.6500, 104.0800),
    ("地下车库入口", 30.6504, 104.0800),
    ("北侧围墙", None, None),
]


@dataclass
class Patrol:
    """A patrol of community A: its area, checkpoints (ids and QR codes), route, plan, round."""

    area: str
    checkpoints: list[str]
    codes: list[str]
    route: str
    plan: str
    round: str
    manager: ApiClient


async def set_up_patrol(
    manager: ApiClient,
    community: UUID,
    guards: list[UUID],
    points: list[tuple[str, float | None, float | None]] = POINTS,
    *,
    started_ago: int = 0,
) -> Patrol:
    """Area → checkpoints → route → plan through the API, a round that began `started_ago`
    minutes ago (the job's service run at once)."""
    r = await manager.post(
        "/api/v1/patrol/areas", json={"community_id": str(community), "name": "东区"}
    )
    assert r.status_code == 201, r.text
    area = r.json()["id"]
    checkpoints, codes = [], []
    for name, lat, lon in points:
        body: dict[str, Any] = {"area_id": area, "name": name}
        if lat is not None:
            body.update(lat=lat, lon=lon)
        r = await manager.post("/api/v1/patrol/checkpoints", json=body)
        assert r.status_code == 201, r.text
        checkpoints.append(r.json()["id"])
        codes.append(r.json()["code"])
    r = await manager.post(
        "/api/v1/patrol/routes",
        json={"community_id": str(community), "name": "夜间外围", "checkpoints": checkpoints},
    )
    assert r.status_code == 201, r.text
    route = r.json()["id"]
    # the day window opens with the round under way (site time)
    start = datetime.now(SITE_TIMEZONE).replace(second=0, microsecond=0)
    start -= timedelta(minutes=started_ago)
    r = await manager.post(
        "/api/v1/patrol/plans",
        json={
            "route_id": route,
            "name": "外围巡更",
            "guards": [str(g) for g in guards],
            "day_starts": start.strftime("%H:%M:%S"),
            "night_starts": (start + timedelta(hours=12)).strftime("%H:%M:%S"),
            "day_every": 120,
            "night_every": 60,
            "round_minutes": 30,
            "grace_minutes": 10,
        },
    )
    assert r.status_code == 201, r.text
    plan = r.json()["id"]
    await rounds.make_rounds(UUID(plan))
    r = await manager.get("/api/v1/patrol/rounds", params={"community_id": str(community)})
    now = datetime.now(UTC)
    current = [x for x in r.json()["items"] if datetime.fromisoformat(x["starts_at"]) <= now]
    assert current, r.text
    return Patrol(area, checkpoints, codes, route, plan, current[-1]["id"], manager)


def scan_body(
    code: str, *, ago: float = 0, skew: float = 0, phone: str = "phone-1", **extra: Any
) -> dict[str, Any]:
    """What the guard's phone posts: a scan made `ago` seconds back and sent now, by a phone
    whose clock is `skew` seconds ahead."""
    now = datetime.now(UTC) + timedelta(seconds=skew)
    return {
        "id": str(uuid.uuid4()),
        "code": code,
        "scanned_at": (now - timedelta(seconds=ago)).isoformat(),
        "sent_at": now.isoformat(),
        "phone": phone,
        **extra,
    }


async def make_cameras(community: UUID, names: list[str]) -> list[UUID]:
    """Camera devices of a community on a bridge of its own (rows, as a bridge's inventory
    makes them)."""
    bridge = Bridge(community=community, name="site", public_key=uuid.uuid4().hex)
    await bridge.save()
    cameras = [
        Device(
            community=community,
            bridge=bridge.id,
            external_id=f"cam-{uuid.uuid4().hex[:6]}",
            kind="camera",
            name=name,
        )
        for name in names
    ]
    await Device.insert(*cameras)
    return [c.id for c in cameras]


def tour_body(community: UUID, cameras: list[Any], **extra: Any) -> dict[str, Any]:
    """A tour whose day window opens now (site time): its first run is due at once."""
    start = datetime.now(SITE_TIMEZONE).replace(second=0, microsecond=0)
    return {
        "community_id": str(community),
        "name": "监控室巡查",
        "cameras": [str(c) for c in cameras],
        "dwell_seconds": 10,
        "day_starts": start.strftime("%H:%M:%S"),
        "night_starts": (start + timedelta(hours=12)).strftime("%H:%M:%S"),
        "day_every": 240,
        "night_every": 120,
        "run_minutes": 15,
        **extra,
    }
