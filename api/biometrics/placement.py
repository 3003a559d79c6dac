"""Faces onto face readers and off them again, each reader confirming.

A face reader (a door controller or lift whose site-file attrs list `readers = [..., "face"]`)
matches faces itself, so it must hold the photo of every face credential that passes it, and
nothing else. This rides on the credential sync (api/access/sync.py): whenever a bridge is sent a
full set, or a delta that touches a face or removes anything, `frames_for` compares where each
active face credential passes (the same `reach` as its entry) with where its photo is
(`FacePlacement`, one row per face and reader) and answers the `FaceEnrol` / `FaceRemove` frames
that close the gap. A revoked, erased, expired or moved-out person's face is no longer wanted, so
it is removed; the row becomes `removed` only when the reader says it deleted it (`applied`).

A request still open (`enrolling`, `removing`) or one a reader refused (`failed`) is sent again
with the next full set (every inventory), not with every delta.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog

from api.access.credentials import usable
from api.access.rows import CREDENTIAL_COLUMNS, credential_rows
from api.access.sync import load_site, reach
from api.access.tables import Credential
from api.audit.service import record
from api.biometrics.service import keyring, unseal
from api.biometrics.tables import FacePlacement, FaceTemplate
from api.devices.tables import Device
from device_bridge import protocol

log = structlog.get_logger()

READER_KINDS = ("door_controller", "lift")
_ring_path: list[Path] = []  # the biometric keyring's file, set at start-up (`configure`)


def configure(path: Path) -> None:
    """Where the biometric keyring is (`Settings.biometric_keyring_path`); at app start-up."""
    _ring_path[:] = [path]


def is_face_reader(attrs: Any) -> bool:
    """Whether a device's attrs say it has a face reader (`readers` lists "face")."""
    readers = attrs.get("readers") if isinstance(attrs, dict) else None
    return isinstance(readers, list) and "face" in readers


def placement_id(face: UUID, device: UUID) -> UUID:
    """The one row of a face on a reader."""
    return uuid.uuid5(face, str(device))


async def frames_for(bridge_id: UUID, community_id: UUID, *, full: bool) -> list[protocol.Frame]:
    """The enrolments and removals that bring this bridge's face readers to the credentials."""
    readers = {
        r["id"]: r["external_id"]
        for r in await Device.select(Device.id, Device.external_id, Device.attrs)
        .where((Device.bridge == bridge_id) & Device.kind.is_in(list(READER_KINDS)))
        .output(load_json=True)
        if is_face_reader(r["attrs"])
    }
    held = {
        (r["face"], r["device"]): r["state"]
        for r in await FacePlacement.select(
            FacePlacement.face, FacePlacement.device, FacePlacement.state
        ).where(FacePlacement.device.is_in(list(readers) or [uuid.uuid4()]))
    }
    if not readers:
        return []
    wanted = await _wanted(bridge_id, community_id, readers)
    retry = ("enrolling", "removing", "failed") if full else ()
    enrol: dict[UUID, list[UUID]] | defaultdict[UUID, list[UUID]] = defaultdict(list)
    for face, device in sorted(wanted, key=str):
        state = held.get((face, device))
        if state in (None, "removed", "removing") or state in retry:
            enrol[face].append(device)
    remove: dict[UUID, list[UUID]] = defaultdict(list)
    for (face, device), state in held.items():
        if (face, device) not in wanted and (state in ("enrolled", "enrolling") or state in retry):
            remove[face].append(device)
    frames: list[protocol.Frame] = []
    photos = await _photos(list(enrol))
    # A photo erased meanwhile: its credential is revoked, and a removal follows.
    enrol = {face: devices for face, devices in enrol.items() if face in photos}
    for face, devices in enrol.items():
        photo, content_type = photos[face]
        frames.append(
            protocol.FaceEnrol(
                id=uuid.uuid4().hex,
                face=str(face),
                photo=photo,
                content_type=content_type,
                doors=[readers[d] for d in devices],
            )
        )
    for face, devices in remove.items():
        frames.append(
            protocol.FaceRemove(
                id=uuid.uuid4().hex, face=str(face), doors=[readers[d] for d in devices]
            )
        )
    await _mark(community_id, "enrolling", enrol)
    await _mark(community_id, "removing", remove)
    return frames


async def applied(bridge_id: UUID, frame: protocol.FaceApplied) -> None:
    """What the readers said: done doors are `enrolled` / `removed`, the rest keep why not."""
    devices = {
        r["external_id"]: r
        for r in await Device.select(Device.id, Device.external_id, Device.community).where(
            (Device.bridge == bridge_id)
            & Device.external_id.is_in([*frame.done, *frame.failed] or [""])
        )
    }
    try:
        face = UUID(frame.face)
    except ValueError:
        log.warning("biometrics.face.bad_answer", bridge_id=str(bridge_id))
        return
    done = "enrolled" if frame.action == "enrol" else "removed"
    not_done = "failed" if frame.action == "enrol" else "removing"
    now = datetime.now(UTC)
    for door, row in devices.items():
        state, detail = (done, "") if door in frame.done else (not_done, frame.failed[door][:200])
        await FacePlacement.update(
            {
                FacePlacement.state: state,
                FacePlacement.detail: detail,
                FacePlacement.updated_at: now,
            }
        ).where(FacePlacement.id == placement_id(face, row["id"]))
    if devices:
        community = next(iter(devices.values()))["community"]
        await record(
            f"biometric.face.{done}",
            actor_name="bridge",
            target_type="biometric_face",
            target_id=face,
            community_id=community,
            details={
                "bridge_id": str(bridge_id),
                "done": frame.done,
                "failed": sorted(frame.failed),
            },
        )


async def _wanted(
    bridge_id: UUID, community_id: UUID, readers: dict[UUID, str]
) -> set[tuple[UUID, UUID]]:
    """(face, reader) pairs: every active face credential on the readers it passes."""
    rows = credential_rows(
        await Credential.select(*CREDENTIAL_COLUMNS)
        .where(
            (Credential.community == community_id)
            & (Credential.kind == "face")
            & (Credential.status == "active")
            & Credential.template.is_not_null()
        )
        .output(load_json=True)
    )
    if not rows:
        return set()
    site = await load_site(community_id, bridge_id)
    device_of = {external: device for device, external in readers.items()}
    now = datetime.now(UTC)
    wanted = set()
    for row in rows:
        if row.template is None or usable(row, now) not in (None, "not_yet_valid"):
            continue
        for door in reach(site, row)[0]:
            if door in device_of:
                wanted.add((row.template, device_of[door]))
    return wanted


async def _photos(faces: list[UUID]) -> dict[UUID, tuple[bytes, str]]:
    """The decrypted photos of these faces (those not erased)."""
    if not faces:
        return {}
    ring = keyring(_ring_path[0])
    rows = await FaceTemplate.select(
        FaceTemplate.id, FaceTemplate.photo, FaceTemplate.key_id, FaceTemplate.content_type
    ).where(FaceTemplate.id.is_in(faces))
    return {
        r["id"]: (unseal(r["photo"], r["id"], r["key_id"], ring), r["content_type"]) for r in rows
    }


async def _mark(community_id: UUID, state: str, pairs: dict[UUID, list[UUID]]) -> None:
    now = datetime.now(UTC)
    for face, devices in pairs.items():
        for device in devices:
            await FacePlacement.raw(
                "INSERT INTO biometric_face_devices (id, community, face, device, state, detail,"
                " updated_at) VALUES ({}, {}, {}, {}, {}, '', {})"
                " ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, detail = '',"
                " updated_at = EXCLUDED.updated_at",
                placement_id(face, device),
                community_id,
                face,
                device,
                state,
                now,
            )
