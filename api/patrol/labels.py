"""Printable sheets of checkpoint QR labels (A4, 21 a page), by route or by area.

A label's QR code is the checkpoint's `code`, what a guard's phone reads and sends as a scan; the
code is printed beside it too, for a phone without a camera to type. Codes are secret to those who
set patrols up, so a sheet is theirs only (`patrol.configure`) and each one printed is audited as a
reveal (`patrol.labels_printed`). The sheet itself is set by the ledger's label printer
(`api/devices/ledger/labels.print_labels`), one layout for every label the site sticks up.
"""

from __future__ import annotations

import functools
from pathlib import Path
from uuid import UUID

import anyio.to_thread

from api.core.auth import Caller
from api.core.errors import InvalidInput
from api.devices.ledger.labels import Label, print_labels
from api.patrol.errors import NoCheckpoints
from api.patrol.points import audited, row_in_scope
from api.patrol.tables import Checkpoint, PatrolArea, PatrolRoute
from api.piccolo_conf import DB

FOOTER = "巡更点 Patrol checkpoint"


async def label_sheet(
    caller: Caller, *, route_id: UUID | None, area_id: UUID | None, font: Path | None
) -> tuple[str, bytes]:
    """(file name, PDF) of the labels of a route's checkpoints in walking order, or of an area's
    by name; exactly one of the two is named."""
    query = Checkpoint.select(
        Checkpoint.id, Checkpoint.name, Checkpoint.code, Checkpoint.area.name.as_alias("area_name")
    )
    if route_id is not None and area_id is None:
        row = await row_in_scope(caller, PatrolRoute, route_id, "patrol.configure")
        order = [UUID(str(c)) for c in row["checkpoints"]]
        found = {r["id"]: r for r in await query.where(Checkpoint.id.is_in(order))} if order else {}
        points = [found[i] for i in order if i in found]
        target = ("patrol_route", route_id, "route")
    elif area_id is not None and route_id is None:
        row = await row_in_scope(caller, PatrolArea, area_id, "patrol.configure")
        points = await query.where(Checkpoint.area == row["id"]).order_by(Checkpoint.name)
        target = ("patrol_area", row["id"], "area")
    else:
        raise InvalidInput("Name a route or an area.", field="route_id")
    if not points:
        raise NoCheckpoints()
    labels = [
        Label(
            qr=p["code"],
            title=p["name"],
            code=p["code"],
            place=(
                f"{row['name']} {n}/{len(points)} · {p['area_name']}"
                if route_id is not None
                else p["area_name"]
            ),
            footer=FOOTER,
        )
        for n, p in enumerate(points, start=1)
    ]
    async with DB.transaction():
        await audited(
            caller,
            "patrol.labels_printed",
            target[0],
            target[1],
            row["community"],
            checkpoints=len(labels),
        )
    pdf = await anyio.to_thread.run_sync(
        functools.partial(
            print_labels, labels, title=f"Anju patrol labels: {row['name']}", font=font
        )
    )
    return f"patrol-labels-{target[2]}.pdf", pdf
