"""Possible duplicates: a report of an asset that already has an earlier open one.

Nothing is refused or merged. A request from a label, or a resident's repair request naming an
asset, is kept as filed and answered exactly as any other (the public answer and the tracking
page say nothing about other reports). The manager who decides it sees, beside it, the earlier
reports of the same asset still open — requests from labels still pending, and orders not yet
done — each linked, so they can reject (or cancel) it as a duplicate with one tap, or approve it
anyway.

The links are worked out when read, not stored: they are always current (an earlier request
approved since links as its order; one closed since no longer counts), and two reports filed at
the same moment need no lock — the later of the two, by `(created_at, id)`, lists the earlier;
never both each other. An order opened from a request counts from when the request was filed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import msgspec

from api.workorders.catalogue import OPEN_STATES
from api.workorders.schemas import DuplicateRef
from api.workorders.tables import LabelRequest, WorkOrder


class Report(msgspec.Struct, frozen=True):
    """A report to check: its id, its community, its asset and when it was made."""

    id: UUID
    community: UUID
    device: UUID
    created_at: datetime


def _earlier(ref: DuplicateRef, report: Report) -> bool:
    return ref.id != report.id and (ref.created_at, str(ref.id)) < (
        report.created_at,
        str(report.id),
    )


async def possible_duplicates(reports: Iterable[Report]) -> dict[UUID, list[DuplicateRef]]:
    """For each report, the earlier open reports of its asset (oldest first): two queries for
    a whole page of reports."""
    wanted = list(reports)
    if not wanted:
        return {}
    devices = list({r.device for r in wanted})
    communities = list({r.community for r in wanted})
    pending = await LabelRequest.select(
        LabelRequest.id,
        LabelRequest.community,
        LabelRequest.device,
        LabelRequest.description,
        LabelRequest.created_at,
    ).where(
        LabelRequest.device.is_in(devices)
        & LabelRequest.community.is_in(communities)
        & (LabelRequest.status == "pending")
    )
    orders = await WorkOrder.select(
        WorkOrder.id,
        WorkOrder.community,
        WorkOrder.device,
        WorkOrder.title,
        WorkOrder.state,
        WorkOrder.created_at,
    ).where(
        WorkOrder.device.is_in(devices)
        & WorkOrder.community.is_in(communities)
        & WorkOrder.state.is_in(list(OPEN_STATES))
    )
    # an order opened from a request from a label was reported when the request was filed
    filed = {
        r["work_order"]: r["created_at"]
        for r in (
            await LabelRequest.select(LabelRequest.work_order, LabelRequest.created_at).where(
                LabelRequest.work_order.is_in([o["id"] for o in orders])
            )
            if orders
            else []
        )
    }
    candidates = [
        (
            (r["community"], r["device"]),
            DuplicateRef(
                kind="label_request",
                id=r["id"],
                title=r["description"][:80],
                state="pending",
                created_at=r["created_at"],
            ),
        )
        for r in pending
    ] + [
        (
            (o["community"], o["device"]),
            DuplicateRef(
                kind="work_order",
                id=o["id"],
                title=o["title"],
                state=o["state"],
                created_at=min(o["created_at"], filed.get(o["id"], o["created_at"])),
            ),
        )
        for o in orders
    ]
    candidates.sort(key=lambda c: (c[1].created_at, str(c[1].id)))
    return {
        report.id: [
            ref
            for key, ref in candidates
            if key == (report.community, report.device) and _earlier(ref, report)
        ]
        for report in wanted
    }


async def order_report(order_id: UUID, community: UUID, device: UUID, at: datetime) -> Report:
    """An order as a report to check: from when its request from a label was filed, if any."""
    filed = await LabelRequest.select(LabelRequest.created_at).where(
        LabelRequest.work_order == order_id
    )
    return Report(
        id=order_id,
        community=community,
        device=device,
        created_at=min([at, *(f["created_at"] for f in filed)]),
    )
