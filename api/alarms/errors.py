"""What the alarms domain refuses, with the status and code each refusal carries."""

from __future__ import annotations

from api.core.errors import Conflict, InvalidInput


class TransitionNotAllowed(Conflict):
    """The alarm cannot move from its state to the one asked for."""

    code = "alarm_transition_not_allowed"
    message = "The alarm cannot change to that state from its current one."


class NoPlan(Conflict):
    """The alarm was raised without an emergency plan."""

    code = "alarm_has_no_plan"
    message = "No emergency plan is attached to this alarm."


class StepDone(Conflict):
    """The step is ticked already."""

    code = "plan_step_done"
    message = "This step is already done."


class AlarmClosed(Conflict):
    """The alarm is resolved or a false alarm: its checklist is final."""

    code = "alarm_closed"
    message = "The alarm is closed."


class InvalidStep(InvalidInput):
    """The plan has no step with that index."""

    code = "invalid_step"
    message = "The plan has no such step."


class UnknownZone(InvalidInput):
    """A body names a zone that is not one of the community's."""

    code = "unknown_zone"
    message = "No such zone in this community."


class UnknownDevice(InvalidInput):
    """A body names a device that is not one of the community's (or not of a fitting kind)."""

    code = "unknown_device"
    message = "No such device of a fitting kind in this community."


class UnknownHousehold(InvalidInput):
    """A body names a household that is not one of the community's (or not the caller's)."""

    code = "unknown_household"
    message = "No such household."


class HouseholdRequired(InvalidInput):
    """A resident of several households must say which one needs help."""

    code = "household_required"
    message = "Say which of your households needs help (household_id)."


class InvalidAssignee(InvalidInput):
    """Only a guard or property manager of the community can handle an alarm."""

    code = "invalid_assignee"
    message = "That account cannot handle alarms of this community."


class NotAGuard(InvalidInput):
    """Only a guard of the community can be rostered."""

    code = "not_a_guard"
    message = "That account is not a guard of this community."


class InvalidMedia(InvalidInput):
    """The bytes are not an image of the stated type."""

    code = "invalid_media"
    message = "The data is not an image of the stated content type."


class TooManyDevices(InvalidInput):
    """A household SOS zone holds at most four emergency devices (standard 6.4.14)."""

    code = "too_many_devices"
    message = "A household emergency zone holds at most four devices."


class FailsafeNotSupported(InvalidInput):
    """A bridge cannot decide this alarm type by itself (intrusion depends on arming)."""

    code = "failsafe_not_supported"
    message = "This alarm type cannot have fail-safe rules."


class CannotDisarm(Conflict):
    """Household emergency zones are armed permanently (standard 6.4.16)."""

    code = "zone_cannot_be_disarmed"
    message = "Household emergency (SOS) zones are always armed."


class ZoneInUse(Conflict):
    """Plans or linkage rules still name the zone."""

    code = "zone_in_use"
    message = "Plans or linkage rules still use this zone."
