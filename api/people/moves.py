"""Moving in and out of a household: what a move-out ends, in one transaction, as one record.

A move-out ends everything the person's residence gave them, in the same transaction as the
move-out date (so nothing is half-ended): each domain that grants something to a resident
registers a hook under a name (`api/app.py` wires access's credentials, vehicles' plates and
accounts' household roles), and the move-out's audit entry (`person.moved_out`) counts what each
one ended. A hook learns whether the person was the household's last resident: then what belongs
to the household rather than to a person ends too (docs/people.md, "Moving out").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from uuid import UUID

import msgspec

from api.core.auth import Caller
from api.core.effects import Effects
from api.people.tables import Person


class MovingOut(msgspec.Struct, frozen=True, kw_only=True):
    """Who moves out of where; `last_resident`: nobody else still lives in the household."""

    person_id: UUID
    community_id: UUID
    household_id: UUID | None
    last_resident: bool
    reason: str = "moved out"


MovedOut = Callable[[MovingOut, Caller | None, Effects], Awaitable[int]]
"""What one domain ends at a move-out, inside its transaction; how many things it ended. The
caller is None when the platform itself moves someone out (a tenant's lease ended)."""

MoveOutHooks = Mapping[str, MovedOut]
"""The hooks by the name the move-out's summary gives their count (credentials, vehicles, …)."""


async def still_living(household_id: UUID | None, *, besides: UUID) -> bool:
    """Whether anyone but `besides` still lives in the household (call inside the transaction)."""
    if household_id is None:
        return False
    return await Person.exists().where(
        (Person.household == household_id) & (Person.id != besides) & Person.moved_out_on.is_null()
    )


async def end_residence(
    hooks: MoveOutHooks, moving: MovingOut, caller: Caller | None, effects: Effects
) -> dict[str, int]:
    """Run every hook in the caller's transaction, in the order wired; their counts by name."""
    return {name: await hook(moving, caller, effects) for name, hook in hooks.items()}


async def anyone_lives_in(household_id: UUID) -> bool:
    """Whether a person still lives in the household (not moved out): then it is not retired."""
    return bool(
        await Person.exists().where(
            (Person.household == household_id) & Person.moved_out_on.is_null()
        )
    )
