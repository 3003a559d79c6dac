"""What the work-order domain refuses, with the status and code each refusal carries."""

from __future__ import annotations

from api.core.errors import Conflict, InvalidInput


class TransitionNotAllowed(Conflict):
    """The order's state does not allow the move (`extra`: `state`, `to`)."""

    code = "transition_not_allowed"
    message = "The work order cannot move to that state from its current one."


class NotAssignee(Conflict):
    """Only the order's assignee works it (start, wait, done, time, photos)."""

    code = "not_assignee"
    message = "This work order is not assigned to you."


class UnknownAssignee(InvalidInput):
    """The account is not maintenance staff of the order's community."""

    code = "unknown_assignee"
    message = "Not a maintenance staff member of this community."


class UnknownDevice(InvalidInput):
    """The order names a device that is not one of the community's."""

    code = "unknown_device"
    message = "No such device in this community."


class KindNotAllowed(InvalidInput):
    """The caller may not open an order of this kind (residents: repair or complaint only)."""

    code = "kind_not_allowed"
    message = "You cannot open a work order of this kind."


class ReportRequired(InvalidInput):
    """Done needs the closing report: the cause and what was done."""

    code = "report_required"
    message = "Say what the cause was and what was done."


class WaitingForRequired(InvalidInput):
    """Waiting needs what for: parts or the resident."""

    code = "waiting_for_required"
    message = "Say whether the order waits for parts or for the resident."


class InvalidPhoto(InvalidInput):
    """The photo's bytes are not of the type it claims."""

    code = "invalid_photo"
    message = "The photo is not a JPEG, PNG or WebP image."


class TooManyPhotos(Conflict):
    """An order keeps at most `MAX_PHOTOS` photos."""

    code = "too_many_photos"
    message = "This work order has as many photos as it may keep."


class WorkAlreadyStarted(Conflict):
    """A time-log entry is running already (stop it first)."""

    code = "work_running"
    message = "Your time on this order is running already."


class WorkNotStarted(Conflict):
    """No time-log entry of the caller's is running."""

    code = "work_not_running"
    message = "Your time on this order is not running."


class NotRatable(Conflict):
    """Only the requester rates, once, an order that is done or closed."""

    code = "not_ratable"
    message = "This request cannot be rated now."


class NotPending(Conflict):
    """The request from a label was approved or rejected already."""

    code = "not_pending"
    message = "The request has been decided already."


class SignatureRequired(InvalidInput):
    """The order (its plan) requires a signature to be done."""

    code = "signature_required"
    message = "This work order needs a signature to be done."


class InvalidSignature(InvalidInput):
    """The signature's bytes are not a PNG image."""

    code = "invalid_signature"
    message = "The signature is not a PNG image."


class UnknownStep(InvalidInput):
    """A checked step is not one of the order's checklist."""

    code = "unknown_step"
    message = "No such step in this work order's checklist."


class PlanScheduleInvalid(InvalidInput):
    """`interval_days` goes with `every_n_days`, and only with it."""

    code = "invalid_schedule"
    message = "Give interval_days with every_n_days, and only then."


class PlanPeriodInvalid(InvalidInput):
    """A plan's execution is read over `since` ≤ `until`, at most 366 days."""

    code = "invalid_period"
    message = "Give since on or before until, at most 366 days apart."
