"""An asset's fault history for the equipment ledger: the alarms its device raised.

The ledger lives in `api.devices`, below alarms, so it cannot read them; this read sits here and
checks the ledger's own permission (`ledger.read`: maintenance staff, guards, managers), since
maintenance staff, who keep the ledger, do not read the alarm board. It shows what a fault was
and how it ended, nothing of the people involved.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Controller, get

from api.alarms.tables import Alarm
from api.core.auth import Caller, require_staff
from api.core.errors import NotFound
from api.core.paging import Page, PageNumber, PageSize, paged_page
from api.devices.tables import Device


class DeviceFaultRead(msgspec.Struct, kw_only=True):
    """One alarm of a device, as its fault history shows it."""

    id: UUID
    type: str
    severity: str
    state: str
    title: str
    raised_at: datetime
    resolved_at: datetime | None


class DeviceFaultPage(Page, kw_only=True):
    """A page of a device's alarms, newest first."""

    items: list[DeviceFaultRead]


async def device_faults(
    caller: Caller, device_id: UUID, *, page: int, page_size: int
) -> DeviceFaultPage:
    """The alarms a device raised, newest first; NotFound outside the caller's ledger scope."""
    device = await Device.select(Device.community).where(Device.id == device_id).first()
    if device is None:
        raise NotFound()
    require_staff(caller, "ledger.read", device["community"])
    return await paged_page(
        DeviceFaultPage,
        lambda r: msgspec.convert(r, DeviceFaultRead),
        Alarm.select(
            Alarm.id,
            Alarm.type,
            Alarm.severity,
            Alarm.state,
            Alarm.title,
            Alarm.raised_at,
            Alarm.resolved_at,
        ).order_by(Alarm.raised_at, ascending=False),
        Alarm.source_device == device_id,
        Alarm.community == device["community"],
        page=page,
        page_size=page_size,
    )


class DeviceFaultController(Controller):
    """A device's fault history, for the equipment ledger."""

    path = "/api/v1/alarms/device-faults"
    tags = ["alarms", "ledger"]

    @get("/{device_id:uuid}")
    async def list_device_faults(
        self, caller: Caller, device_id: UUID, page: PageNumber = 1, page_size: PageSize = 50
    ) -> DeviceFaultPage:
        """The alarms an asset's device raised, newest first (maintenance, guards, managers)."""
        return await device_faults(caller, device_id, page=page, page_size=page_size)
