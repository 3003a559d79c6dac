"""A move-out cancels the person's vehicles (people's move-out hook, wired in api/app.py).

Which plates end: the vehicles registered to the person, and when the person was the household's
last resident, every resident or tenant vehicle of the household (nobody living there drives it in
any more). A household's car registered to no one stays while someone still lives there; staff
cars and blacklist entries are never a resident's and stay. Each is cancelled as a manager's
cancellation is (`vehicle.cancelled`, reason "moved out"), its plate credential revoked, and the
bridges get the delta after commit (docs/decisions.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from piccolo.custom_types import Combinable

from api.access import credentials
from api.audit.service import record
from api.core.auth import Caller
from api.core.effects import Effects
from api.people.moves import MovingOut
from api.vehicles.tables import Vehicle


async def cancel_on_move_out(moving: MovingOut, caller: Caller | None, effects: Effects) -> int:
    """Cancel the vehicles the move-out ends, inside the move-out's transaction; how many."""
    whose: Combinable = Vehicle.person == moving.person_id
    if moving.last_resident and moving.household_id is not None:
        whose |= Vehicle.household == moving.household_id
    rows = await Vehicle.select(
        Vehicle.id, Vehicle.community, Vehicle.credential, Vehicle.plate_masked
    ).where(
        whose
        & (Vehicle.status != "cancelled")
        & Vehicle.vehicle_class.is_in(["resident", "tenant", "visitor", "temporary"])
    )
    for row in rows:
        await Vehicle.update(
            {
                Vehicle.status: "cancelled",
                Vehicle.reason: moving.reason,
                Vehicle.credential: None,
                Vehicle.updated_at: datetime.now(UTC),
            }
        ).where(Vehicle.id == row["id"])
        if row["credential"] is not None:
            await credentials.revoke_credentials(
                [row["credential"]],
                reason=moving.reason,
                by=caller.account_id if caller else None,
            )
        await record(
            "vehicle.cancelled",
            actor=caller,
            target_type="vehicle",
            target_id=row["id"],
            community_id=row["community"],
            purpose=moving.reason,
            details={"plate": row["plate_masked"], "person_id": str(moving.person_id)},
        )
    credentials.after_commit(effects, *{r["community"] for r in rows})
    return len(rows)
