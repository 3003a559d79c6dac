"""Fixed patrol readers: a `patrol.checkpoint` event from a site bridge is a scan of the checkpoint
that names the reader — here a door's reader the guards tap their patrol card at."""

from __future__ import annotations

from uuid import UUID

import pytest

from api.devices.tables import Device
from api.patrol.tables import Checkpoint, PatrolScan
from device_bridge import protocol
from device_bridge.settings import BridgeSettings
from tests.devices.peer import ScriptedBridge
from tests.helpers import World, eventually, running
from tests.patrol.helpers import Patrol

READER = "gate-east-reader"
GATE = "gate-north"  # a door controller of the demo site the real bridge runs


@pytest.fixture
def site_devices() -> list[protocol.DeviceInfo]:
    """The site of community A: one door whose reader is also a patrol point."""
    return [
        protocol.DeviceInfo(
            id=READER, kind="door_controller", name="东门 门禁（巡更点）", driver="sim"
        )
    ]


async def test_a_readers_patrol_event_through_the_bridge_scans_its_checkpoint_once(
    patrol: Patrol, site: ScriptedBridge, world: World
) -> None:
    device = await eventually(
        lambda: Device.select(Device.id).where(Device.external_id == READER).first()
    )
    await patrol.manager.patch(
        f"/api/v1/patrol/checkpoints/{patrol.checkpoints[0]}",
        json={"device_id": str(device["id"])},
    )

    seq = await site.event("patrol.checkpoint", READER, {"card": "patrol-07"})
    await site.replay(seq, "patrol.checkpoint", READER)  # after a lost ack: stored once
    await site.event("patrol.checkpoint", "unknown-device")  # no checkpoint: nothing

    scans = await PatrolScan.select().where(PatrolScan.device == device["id"])
    assert len(scans) == 1
    assert scans[0]["accepted"] is True
    assert scans[0]["round"] == UUID(patrol.round)
    assert scans[0]["checkpoint"] == UUID(patrol.checkpoints[0])
    assert scans[0]["community"] == world.a.community
    assert await Checkpoint.count().where(Checkpoint.device == device["id"]) == 1
    walked = (await patrol.manager.get(f"/api/v1/patrol/rounds/{patrol.round}")).json()
    assert walked["checkpoints"][0]["scanned_at"] is not None


@pytest.mark.req("PAT-02", partial=True)
async def test_a_guard_tapping_a_sim_door_reader_through_the_real_bridge_scans_its_checkpoint(
    patrol: Patrol, site_settings: BridgeSettings, world: World
) -> None:
    async with running(site_settings) as bridge:
        assert bridge.sim is not None
        device = await eventually(
            lambda: (
                Device.select(Device.id)
                .where((Device.external_id == GATE) & (Device.community == world.a.community))
                .first()
            )
        )
        await patrol.manager.patch(
            f"/api/v1/patrol/checkpoints/{patrol.checkpoints[1]}",
            json={"device_id": str(device["id"])},
        )

        await bridge.sim.patrol_tap(GATE, card="patrol-07")

        scan = await eventually(
            lambda: PatrolScan.select().where(PatrolScan.device == device["id"]).first()
        )
    assert (scan["accepted"], scan["checkpoint"]) == (True, UUID(patrol.checkpoints[1]))
    assert scan["round"] == UUID(patrol.round)
    walked = (await patrol.manager.get(f"/api/v1/patrol/rounds/{patrol.round}")).json()
    assert walked["checkpoints"][1]["scanned_at"] is not None
