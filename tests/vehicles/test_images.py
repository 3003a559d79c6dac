"""A plate read's snapshot, from the sim camera through the bridge's outbox to the object store:
the pass record names it, the guard's console links it, the events table keeps no picture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from litestar import Litestar

from api.core.auth import Role
from api.core.storage import RetentionClass
from api.devices.tables import DeviceEvent
from api.vehicles.tables import PassRecord
from device_bridge import plate_image
from device_bridge.settings import BridgeSettings
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, eventually, running
from tests.jobs import Jobs
from tests.vehicles.test_site import IN, lanes
from workers.tasks.vehicles import store_plate_images


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The vehicle jobs run by the `jobs` worker."""
    return [store_plate_images]


@pytest.mark.req("VEH-11", partial=True)
async def test_a_reads_snapshot_is_kept_beside_its_pass_record(
    site_settings: BridgeSettings, as_role: AsRole, world: World, app: Litestar, jobs: Jobs
) -> None:
    manager: ApiClient = await as_role(Role.PROPERTY_MANAGER)
    guard: ApiClient = await as_role(Role.GUARD)
    picture = plate_image.render("川B67890")
    async with running(site_settings) as bridge:
        await lanes(manager, bridge, world)
        assert bridge.sim is not None
        await bridge.sim.read_plate(IN, plate="川B67891", image=b"<svg>not a photo</svg>")
        await bridge.sim.read_plate(IN, plate="川B67890", image=picture)
        records = await eventually(
            lambda: _two(PassRecord.select().where(PassRecord.community == world.a.community))
        )
    junk, kept = sorted(records, key=lambda r: r["at"])
    assert kept["image"].startswith(f"vehicles/{world.a.community}/") and junk["image"]

    async def queued() -> bool:  # after the ingest's commit, with the records already visible
        found = await jobs.queued("store_plate_images")
        return sum(len(j.kwargs["event_ids"]) for j in found) == 2

    await eventually(queued)
    await jobs.run()
    objects = app.state.objects
    assert await objects.get(kept["image"]) == picture
    assert await objects.retention_of(kept["image"]) == RetentionClass.RECORD_6M
    row = await PassRecord.select(PassRecord.image).where(PassRecord.id == junk["id"]).first()
    assert row is not None and row["image"] == ""  # not an image: not kept
    events = [
        msgspec.json.decode(e["data"]) if isinstance(e["data"], str) else e["data"]
        for e in await DeviceEvent.select(DeviceEvent.data).where(
            DeviceEvent.id.is_in([kept["device_event"], junk["device_event"]])
        )
    ]
    assert sorted(e["plate"] for e in events) == ["川B67890", "川B67891"]
    assert all("image_b64" not in e and e["image_type"] == "image/jpeg" for e in events)
    # The guard's console links the lane's last snapshot (signed, short-lived).
    r = await guard.get("/api/v1/vehicle-lanes/console")
    [status] = [x for x in r.json() if x["last"]]
    assert status["last"]["id"] == str(kept["id"])
    image = await guard.get(status["image_url"].split("testserver", 1)[-1])
    assert image.status_code == 200 and image.content == picture


async def _two(query: Any) -> list[dict[str, Any]] | None:
    rows = await query
    return rows if len(rows) == 2 else None
