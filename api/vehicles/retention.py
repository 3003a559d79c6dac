"""How long vehicle pass records are kept (VEH-11, DATA-28).

A pass record is both a record of the pass (≥ 6 months, its snapshot image included) and the
vehicle's event information (≥ 365 days): the nightly purge drops a record's image key once the
record is past `IMAGE_DAYS` (the image object, stored with the 6-month class, goes with the object
store's own purge) and deletes the record itself past `RECORD_DAYS`. Both counted at the longest
months, like `api/core/storage.py`'s classes; never anything younger.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog

from api.core.storage import RetentionClass
from api.piccolo_conf import DB
from api.vehicles.tables import PassRecord

log = structlog.get_logger(__name__)

IMAGE_DAYS = RetentionClass.RECORD_6M.days or 0
RECORD_DAYS = RetentionClass.VEHICLE_EVENT_365D.days or 0


async def purge(now: datetime | None = None) -> tuple[int, int]:
    """Delete pass records past a year and forget the images of those past six months:
    (records deleted, images forgotten)."""
    now = now or datetime.now(UTC)
    deleted_before = now - timedelta(days=RECORD_DAYS)
    image_before = now - timedelta(days=IMAGE_DAYS)
    async with DB.transaction():
        gone = (
            await PassRecord.delete().where(PassRecord.at < deleted_before).returning(PassRecord.id)
        )
        blanked = (
            await PassRecord.update({PassRecord.image: ""})
            .where((PassRecord.at < image_before) & (PassRecord.image != ""))
            .returning(PassRecord.id)
        )
    if gone or blanked:
        log.info(
            "vehicles.passes.purged",
            deleted=len(gone),
            images=len(blanked),
            before=deleted_before.isoformat(),
        )
    return len(gone), len(blanked)
