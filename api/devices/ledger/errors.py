"""What the ledger refuses, each with a stable code."""

from __future__ import annotations

from api.core.errors import Conflict, InvalidInput


class TransitionNotAllowed(Conflict):
    """The lifecycle does not go from the asset's status to the one asked (lifecycle.MOVES)."""

    code = "transition_not_allowed"
    message = "The asset cannot move from its current status to that one."


class BridgeManaged(Conflict):
    """Name and place of a device a bridge reports come from the bridge (and its placement)."""

    code = "bridge_managed_field"
    message = "This field of a bridge-reported device is set by its bridge, not in the ledger."


class BadPlace(InvalidInput):
    """The building, unit or floor is not one of the asset's community, or do not agree."""

    code = "invalid_place"
    message = "The building, unit or floor is not a place of this community."


class DuplicatePartCode(Conflict):
    """Part codes are unique within a community."""

    code = "duplicate_part_code"
    message = "The community already has a spare part with that code."


class InsufficientStock(Conflict):
    """Taking out more than the stock holds: nothing was taken."""

    code = "insufficient_stock"
    message = "Not enough in stock; nothing was taken."


class ReturnExceedsTaken(Conflict):
    """Returning to stock more of a part than the use took net of its earlier returns."""

    code = "return_exceeds_taken"
    message = "More than was taken for this use (net of earlier returns); nothing was returned."


class TooManyLabels(InvalidInput):
    """One sheet request holds at most MAX_LABELS assets."""

    code = "too_many_labels"
    message = "Too many assets for one label sheet."
