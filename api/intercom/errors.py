"""The intercom's refusals, each with its status and machine-readable code."""

from __future__ import annotations

from api.core.errors import Conflict, DomainError, Forbidden, InvalidInput


class CallTaken(Conflict):
    """Someone else answered first."""

    code = "call_taken"
    message = "The call has been answered by someone else."


class CallNotRinging(Conflict):
    """The call is no longer ringing: answered or ended."""

    code = "call_not_ringing"
    message = "The call is no longer ringing."


class CallNotLive(Conflict):
    """Unlock and hang-up need a live call."""

    code = "call_not_live"
    message = "The call is not live."


class NotAnswerer(Forbidden):
    """Only the member who answered may unlock or hang up."""

    code = "call_not_answerer"
    message = "Only the person who answered the call may do this."


class NotOnDuty(Forbidden):
    """Guard-room calls are answered by the guards on duty."""

    code = "not_on_duty"
    message = "Only guards on duty answer guard-room calls."


class NoDoor(Conflict):
    """A lift's emergency call has no door to open."""

    code = "call_has_no_door"
    message = "This call's station has no door to open."


class MediaFailed(DomainError):
    """The station's bridge did not answer the offer."""

    status_code = 502
    code = "media_failed"
    message = "The station did not accept the media session."


class HouseholdRequired(InvalidInput):
    """A resident of several homes says which one calls the guard room."""

    code = "household_required"
    message = "Say which of your households is calling."
