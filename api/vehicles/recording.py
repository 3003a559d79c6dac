"""Pass records from the bridges' `plate.read` events, and the car parks' occupancy.

The ingest's hook (api/app.py wires it): it runs inside the ingest's transaction for the events
stored now, so a batch replayed after a crash or a lost ack records nothing twice; the record's
`device_event` is unique as well. One record per read, with the bridge's decision and reason
(device_bridge/vehicles.py), or the one the camera's own system put in the read; a read with
none decided nothing (`ignored`), one with a decision unheard of is `held` for the guard.

The record names the lane of the camera (none: `unknown_lane`, recorded all the same), the
registry's vehicle (by the credential the bridge matched, else by the plate's blind index) and the
household whose passes it is: the vehicle's, or the visitor pass's host. A granted entry (not a
car already inside) takes a space of the lane's car park, a granted exit gives one back, and the
count never goes below zero; a car that is not the registry's resident, tenant or staff car (a
visitor's, an unknown one) takes a temporary space too (api/vehicles/parking.py). A visitor's
car let in marks its pass arrived and tells the host household (api/vehicles/arrivals.py). A
blacklisted car at the barrier is the alarms' hook's to raise (`vehicle_blacklisted`,
api/alarms/catalogue.py). A car held at a paying exit that is still there (the read is fresh)
has its stay priced by a job (api/vehicles/payments/orders.py).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from api.access.credential_keys import keys
from api.core.crypto import FieldCipher
from api.core.effects import Effects
from api.core.jobs import SETTLE_PARKING_EXIT
from api.devices.rows import DeviceEventRow
from api.vehicles import identifiers, images
from api.vehicles.arrivals import cars_arrived
from api.vehicles.console import announce
from api.vehicles.parking import move_occupancy
from api.vehicles.passes import pass_read
from api.vehicles.payments import orders as payment_orders
from api.vehicles.tables import Lane, PassRecord, Vehicle
from api.visitors.tables import VisitorPass
from device_bridge import plates

DECISIONS = ("granted", "denied", "held", "ignored")
LONG_TERM_CLASSES = ("resident", "tenant", "staff")  # the rest park on temporary spaces


def _plate(data: dict[str, Any]) -> str:
    """The read's plate, normalised; a plate is 8 characters at most, junk is cut, not refused."""
    return plates.normalise(str(data.get("plate") or ""))[:16]


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


async def on_events(community_id: UUID, stored: list[DeviceEventRow]) -> Effects:
    """The ingest hook: pass records for the batch's new plate reads (the personal-data cipher is
    the one the access keys were configured with, as the credential sync's)."""
    return await PassRecorder(keys().cipher).record(community_id, stored)


class PassRecorder:
    """Pass records of one batch, with the personal-data cipher."""

    def __init__(self, cipher: FieldCipher) -> None:
        self.cipher = cipher

    async def record(self, community_id: UUID, stored: list[DeviceEventRow]) -> Effects:
        reads = [e for e in stored if e.kind == "plate.read" and e.device is not None]
        if not reads:
            return Effects()
        lanes = {
            r["camera"]: r
            for r in await Lane.select().where(Lane.camera.is_in(list({e.device for e in reads})))
        }
        credentials = {str(c) for e in reads if (c := _uuid(e.data.get("credential")))}
        vehicles = {
            str(r["credential"]): r
            for r in (
                await Vehicle.select(
                    Vehicle.id, Vehicle.household, Vehicle.credential, Vehicle.vehicle_class
                ).where(Vehicle.credential.is_in([UUID(c) for c in credentials]))
                if credentials
                else []
            )
        }
        passes = {_uuid(e.data.get("visitor_pass")) for e in reads} - {None}
        hosts = {
            r["id"]: r["household"]
            for r in (
                await VisitorPass.select(VisitorPass.id, VisitorPass.household).where(
                    VisitorPass.id.is_in(list(passes))
                )
                if passes
                else []
            )
        }
        unmatched = {
            identifiers.index(self.cipher, plate)
            for e in reads
            if str(e.data.get("credential") or "") not in vehicles
            and plates.is_valid(plate := _plate(e.data))
        }
        by_plate = {
            r["plate_index"]: r
            for r in (
                await Vehicle.select(
                    Vehicle.id, Vehicle.household, Vehicle.plate_index, Vehicle.vehicle_class
                ).where(
                    (Vehicle.community == community_id)
                    & Vehicle.plate_index.is_in(list(unmatched))
                    & (Vehicle.status != "cancelled")
                )
                if unmatched
                else []
            )
        }
        rows, moves = [], []
        for event in reads:
            lane = lanes.get(event.device)
            row, move = self._record(community_id, event, lane, vehicles, by_plate, hosts)
            rows.append(row)
            if move:
                moves.append(move)
        await PassRecord.insert(*rows)
        effects = Effects()
        names = {lane["id"]: lane["name"] for lane in lanes.values()}
        # The snapshots into the object store after commit, under the keys the records name.
        pictures = [e.id for e in reads if images.key(community_id, e.id, e.data)]
        images.store_later(effects, community_id, pictures)
        for row in rows:  # live to the lane console, masked (api/vehicles/console.py)
            announce(effects, pass_read(row.to_dict(), names))
        await cars_arrived(
            community_id,
            [
                (r.visitor_pass, r.at, names.get(r.lane, ""))
                for r in rows
                if r.visitor_pass and r.decision == "granted" and r.reason == "visitor"
            ],
            effects,
        )
        for row in rows:  # a temporary car held at a paying exit, still there: price its stay
            if (
                row.lane is not None
                and (row.decision, row.reason) == ("held", payment_orders.HELD_REASON)
                and payment_orders.fresh(row.at)
            ):
                effects.job(SETTLE_PARKING_EXIT, read_id=row.id, job_id=f"settle-exit:{row.id}")
        for car_park, delta, temporary in moves:
            await move_occupancy(car_park, delta, temporary, effects)
        return effects

    def _record(
        self,
        community_id: UUID,
        event: DeviceEventRow,
        lane: dict[str, Any] | None,
        vehicles: dict[str, dict[str, Any]],
        by_plate: dict[str, dict[str, Any]],
        hosts: dict[UUID, UUID],
    ) -> tuple[PassRecord, tuple[UUID, int, int] | None]:
        data = event.data
        plate = _plate(data)
        decision = str(data.get("decision") or "ignored")  # a bare read decided nothing
        reason = str(data.get("reason") or "")
        if decision not in DECISIONS:
            decision, reason = "held", f"unknown_decision:{decision}"[:40]
        if not reason:
            reason = "unknown_lane" if lane is None else "no_decision"
        direction = "out" if (lane and lane["direction"] == "out") else "in"
        if lane is None:
            direction = "out" if data.get("direction") == "out" else "in"
        stored = (
            identifiers.stored(self.cipher, plate)
            if plate
            else identifiers.StoredPlate(plate="", plate_index="", plate_masked="")
        )
        vehicle = vehicles.get(str(data.get("credential") or "")) or by_plate.get(
            stored.plate_index
        )
        visitor_pass = _uuid(data.get("visitor_pass"))
        host = hosts.get(visitor_pass) if visitor_pass else None
        household = vehicle["household"] if vehicle else host
        confidence = data.get("confidence")
        row = PassRecord(
            community=community_id,
            lane=lane["id"] if lane else None,
            car_park=lane["car_park"] if lane else None,
            vehicle=vehicle["id"] if vehicle else None,
            household=household,
            visitor_pass=visitor_pass if host else None,
            at=event.at,
            direction=direction,
            colour=str(data.get("colour") or "")[:8],
            vehicle_type=str(data.get("vehicle_type") or "")[:12],
            confidence=float(confidence) if isinstance(confidence, int | float) else 0.0,
            decision=decision,
            reason=reason[:40],
            image=images.key(community_id, event.id, data) or str(data.get("image") or "")[:200],
            device_event=event.id,
            **msgspec.structs.asdict(stored),
        )
        move = None
        if lane is not None and decision == "granted" and reason != "already_inside":
            delta = -1 if direction == "out" else 1
            long_term = vehicle is not None and vehicle["vehicle_class"] in LONG_TERM_CLASSES
            move = (lane["car_park"], delta, 0 if long_term else delta)
        return row, move
