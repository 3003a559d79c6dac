"""Faces onto the face readers of a site and off them again, each reader confirming: enrolment
sends the photo after the credential, revocation and move-out take it off (the scripted bridge)."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from api.audit.tables import AuditEntry
from api.biometrics.placement import placement_id
from api.biometrics.tables import FacePlacement
from api.devices.tables import Device
from device_bridge import protocol
from tests.access.helpers import DOORS
from tests.devices.peer import EnrolledBridge, ScriptedBridge, enrol
from tests.helpers import ApiClient, World, eventually
from tests.plugins.site import LinkBridge

JPEG = b"\xff\xd8\xff\xe0" + b"a face" * 60 + b"\xff\xd9"
# Every door has a face reader except the parcel room, which only reads cards.
FACE_DOORS = [
    msgspec.structs.replace(
        d, attrs={**d.attrs, "readers": ["card"] if d.id == "parcel-room" else ["card", "face"]}
    )
    for d in DOORS
]


async def linked(scripted_bridge: LinkBridge, bridge: EnrolledBridge) -> ScriptedBridge:
    """The site linked with its face readers; every frame sent so far read."""
    site = await scripted_bridge(bridge, FACE_DOORS, auto=False)
    await site.settle()
    return site


async def enrol_face(manager: ApiClient, person: object) -> dict[str, str]:
    r = await manager.post(
        "/api/v1/biometrics/faces",
        data={"person_id": str(person)},
        files={"photo": ("face.jpg", JPEG, "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    face: dict[str, str] = r.json()
    return face


async def states(site: ScriptedBridge, face: str) -> dict[str, str]:
    """The platform's record of the face on each reader, by door."""
    devices = await Device.select(Device.id, Device.external_id).where(
        Device.bridge == uuid.UUID(site.bridge.id)
    )
    return {
        d["external_id"]: row["state"]
        for d in devices
        if (
            row := await FacePlacement.select(FacePlacement.state)
            .where(FacePlacement.id == placement_id(uuid.UUID(face), d["id"]))
            .first()
        )
    }


@pytest.mark.req("DATA-25", partial=True)
@pytest.mark.req("ACC-07", partial=True)
class TestFaceReaders:
    async def test_enrolled_face_goes_to_its_readers_and_revocation_takes_it_off_confirmed(
        self,
        scripted_bridge: LinkBridge,
        admin: ApiClient,
        manager: ApiClient,
        world: World,
    ) -> None:
        site = await linked(scripted_bridge, await enrol(admin, world.a.community))
        face = await enrol_face(manager, world.a.persons[0])
        delta = await site.next_credentials()
        assert any(e.id == face["credential_id"] for e in delta.upserts)
        put: protocol.FaceEnrol = await site.next_of(protocol.FaceEnrol)
        # The household's gate and unit door; not the parcel room (no face reader, not theirs).
        assert (put.face, put.photo, put.content_type) == (face["face_id"], JPEG, "image/jpeg")
        assert sorted(put.doors) == ["door-1-1", "gate-north"]
        assert await states(site, face["face_id"]) == {
            "door-1-1": "enrolling",
            "gate-north": "enrolling",
        }
        await site.peer.send(
            protocol.FaceApplied(id=put.id, face=put.face, action="enrol", done=put.doors)
        )
        await eventually(
            lambda: _all(site, face["face_id"], {"door-1-1": "enrolled", "gate-north": "enrolled"})
        )

        r = await manager.post(
            f"/api/v1/credentials/{face['credential_id']}/revoke", json={"reason": "lost access"}
        )
        assert r.status_code == 200, r.text
        delta = await site.next_credentials()
        assert delta.removals == [face["credential_id"]]
        off: protocol.FaceRemove = await site.next_of(protocol.FaceRemove)
        assert off.face == face["face_id"] and sorted(off.doors) == ["door-1-1", "gate-north"]
        # One reader deletes it, the other is offline: only the first is confirmed off.
        await site.peer.send(
            protocol.FaceApplied(
                id=off.id,
                face=off.face,
                action="remove",
                done=["door-1-1"],
                failed={"gate-north": "failed: device gate-north is offline"},
            )
        )
        await eventually(
            lambda: _all(site, face["face_id"], {"door-1-1": "removed", "gate-north": "removing"})
        )
        assert await AuditEntry.exists().where(
            (AuditEntry.action == "biometric.face.removed")
            & (AuditEntry.target_id == face["face_id"])
        )
        await site.close()

        # The next link's full set sends the removal again to the reader that missed it.
        again = await linked(scripted_bridge, site.bridge)
        retry = next(f for f in again.other if isinstance(f, protocol.FaceRemove))
        assert retry.face == face["face_id"] and retry.doors == ["gate-north"]

    async def test_moving_out_takes_the_face_off_the_readers(
        self,
        scripted_bridge: LinkBridge,
        admin: ApiClient,
        manager: ApiClient,
        world: World,
    ) -> None:
        site = await linked(scripted_bridge, await enrol(admin, world.a.community))
        face = await enrol_face(manager, world.a.persons[1])
        put: protocol.FaceEnrol = await site.next_of(protocol.FaceEnrol)
        await site.peer.send(
            protocol.FaceApplied(id=put.id, face=put.face, action="enrol", done=put.doors)
        )
        await site.settle()
        r = await manager.patch(
            f"/api/v1/persons/{world.a.persons[1]}", json={"moved_out_on": "2026-11-30"}
        )
        assert r.status_code == 200, r.text
        off: protocol.FaceRemove = await site.next_of(protocol.FaceRemove)
        assert off.face == face["face_id"] and sorted(off.doors) == sorted(put.doors)
        cred = (await manager.get(f"/api/v1/credentials/{face['credential_id']}")).json()
        assert (cred["status"], cred["revoke_reason"]) == ("revoked", "moved out")
        await site.close()


async def _all(site: ScriptedBridge, face: str, expected: dict[str, str]) -> bool:
    return await states(site, face) == expected
