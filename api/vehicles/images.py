"""Plate-read snapshots: from the bridge's event into the object store, beside the pass record.

A camera's snapshot travels inline with its `plate.read` (`image_b64`, `image_type`: through the
bridge's outbox, so a read made offline keeps its picture). The ingest's hook gives the record its
image key at once (`key`) and queues one job for the batch (`STORE_PLATE_IMAGES`), which after
commit puts each picture in the object store under that key (the 6-month class: VEH-11) and takes
the base64 out of the stored event, so the events table keeps no pictures. A picture that is not
a JPEG or PNG, or larger than `IMAGE_MAX`, is not kept and its record's key is cleared. Idempotent:
an event whose picture was already taken out is skipped.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from uuid import UUID

import msgspec
import structlog

from api.core import jobs
from api.core.effects import Effects
from api.core.storage import ObjectStore, RetentionClass, is_image
from api.devices.tables import DeviceEvent
from api.piccolo_conf import DB
from api.vehicles.tables import PassRecord

log = structlog.get_logger()

IMAGE_MAX = 256 * 1024  # bytes of a snapshot kept (as the bridge's MQTT side accepts)
RETENTION = RetentionClass.RECORD_6M
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


def key(community_id: UUID, event_id: int, data: dict[str, Any]) -> str:
    """The object key of a read's snapshot ("" when the read carries none)."""
    if not isinstance(data.get("image_b64"), str) or not data["image_b64"]:
        return ""
    ext = _EXTENSIONS.get(str(data.get("image_type") or "image/jpeg"), "jpg")
    return f"vehicles/{community_id}/{event_id}.{ext}"


def store_later(effects: Effects, community_id: UUID, event_ids: list[int]) -> None:
    """One job for a batch's snapshots (one per batch however often it is asked)."""
    if event_ids:
        job_id = f"plate-images:{community_id}:{event_ids[0]}"
        effects.job(jobs.STORE_PLATE_IMAGES, event_ids=event_ids, job_id=job_id)


async def store(objects: ObjectStore, event_ids: list[int]) -> int:
    """Put the events' snapshots in the object store under their records' keys; how many."""
    rows = await DeviceEvent.select(DeviceEvent.id, DeviceEvent.data).where(
        DeviceEvent.id.is_in(event_ids)
    )
    records = {
        r["device_event"]: r["image"]
        for r in await PassRecord.select(PassRecord.device_event, PassRecord.image).where(
            PassRecord.device_event.is_in(event_ids)
        )
    }
    stored = 0
    for row in rows:
        data = row["data"] if isinstance(row["data"], dict) else msgspec.json.decode(row["data"])
        encoded, target = data.get("image_b64"), records.get(row["id"], "")
        if not isinstance(encoded, str) or not encoded:
            continue  # stored before (a job run twice), or none
        content_type = str(data.get("image_type") or "image/jpeg")
        try:
            picture = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            picture = b""
        if target and 0 < len(picture) <= IMAGE_MAX and is_image(content_type, picture):
            await objects.put(target, picture, content_type=content_type, retention=RETENTION)
            stored += 1
        elif target:
            log.warning("vehicles.image.refused", event_id=row["id"], size=len(picture))
            await PassRecord.update({PassRecord.image: ""}).where(
                PassRecord.device_event == row["id"]
            )
        async with DB.transaction():
            await DeviceEvent.raw(
                "UPDATE device_events SET data = data - 'image_b64' WHERE id = {}", row["id"]
            )
    log.info("vehicles.images.stored", images=stored, events=len(event_ids))
    return stored
