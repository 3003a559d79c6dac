"""What the O&M records domain refuses, with the status and code each refusal carries."""

from __future__ import annotations

from api.core.errors import Conflict, InvalidInput


class TransitionNotAllowed(Conflict):
    """The record's state does not allow the move (`extra`: `state`, `to`)."""

    code = "transition_not_allowed"
    message = "The record cannot move to that state from its current one."


class FieldsRequired(InvalidInput):
    """The move needs fields still empty (`extra`: `fields`)."""

    code = "fields_required"
    message = "Fill in the fields this step needs first."


class KindMismatch(InvalidInput):
    """The details given are of another kind than the record's."""

    code = "kind_mismatch"
    message = "These details are of another kind of record."


class RecordFinal(Conflict):
    """A record in a final state (closed, rejected, reviewed, verified) takes no more edits."""

    code = "record_final"
    message = "This record is final and cannot be edited."


class UnknownLinkTarget(InvalidInput):
    """The linked alarm, work order or record is not one of the community's."""

    code = "unknown_link_target"
    message = "No such alarm, work order or record in this community."


class UnknownStaff(InvalidInput):
    """The account is not active staff of the community (`extra`: `account_id`)."""

    code = "unknown_staff"
    message = "Not a staff member of this community."


class NotAGuard(InvalidInput):
    """The incoming account is not an active guard of the community (or is the caller)."""

    code = "not_a_guard"
    message = "Hand over to another guard of this community."


class UnknownShift(InvalidInput):
    """The shift is not the caller's in this community."""

    code = "unknown_shift"
    message = "No such shift of yours in this community."


class UnknownPlan(InvalidInput):
    """The emergency plan is not one of the community's."""

    code = "unknown_plan"
    message = "No such emergency plan in this community."


class NotIncoming(Conflict):
    """Only the incoming guard acknowledges a handover."""

    code = "not_incoming"
    message = "This handover is not addressed to you."


class AlreadyAcknowledged(Conflict):
    """The handover was acknowledged already."""

    code = "already_acknowledged"
    message = "This handover has been acknowledged already."


class InvalidAttachment(InvalidInput):
    """The file's bytes are not of the type it claims."""

    code = "invalid_attachment"
    message = "The file is not a JPEG, PNG, WebP image or a PDF."


class TooManyAttachments(Conflict):
    """A drill keeps at most `MAX_ATTACHMENTS` files."""

    code = "too_many_attachments"
    message = "This drill has as many attachments as it may keep."
