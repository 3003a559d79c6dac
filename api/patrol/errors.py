"""What the patrol domain refuses, with the status and code each refusal carries."""

from __future__ import annotations

from api.core.errors import Conflict, InvalidInput


class UnknownCheckpoint(InvalidInput):
    """A body names a checkpoint that is not one of the community's."""

    code = "unknown_checkpoint"
    message = "No such checkpoint in this community."


class UnknownArea(InvalidInput):
    """A body names a patrol area that is not one of the community's."""

    code = "unknown_area"
    message = "No such patrol area in this community."


class UnknownRoute(InvalidInput):
    """A body names a route that is not one of the community's."""

    code = "unknown_route"
    message = "No such patrol route in this community."


class UnknownGuard(InvalidInput):
    """A plan names an account that is not a guard of the community."""

    code = "unknown_guard"
    message = "Not a guard of this community."


class UnknownDevice(InvalidInput):
    """A checkpoint names a device that is not one of the community's."""

    code = "unknown_device"
    message = "No such device in this community."


class InvalidPlan(InvalidInput):
    """A plan's windows or times do not fit together once a change is applied."""

    code = "invalid_plan"
    message = "The plan's times do not fit together."


class InUse(Conflict):
    """An area with checkpoints, or a checkpoint or route that a route or plan uses."""

    code = "patrol_in_use"
    message = "Still used: remove what uses it first."


class InvalidPhoto(InvalidInput):
    """The photo's bytes are not of the type it claims."""

    code = "invalid_photo"
    message = "The photo is not a JPEG, PNG or WebP image."


class ScanRefused(Conflict):
    """A scan that does not count: recorded all the same, with its reason in `extra.reason`.

    Reasons: `unknown_code` (no checkpoint has it: a forged or mistyped label),
    `other_community` (a point of a community the guard does not patrol), `outside_round` (no
    round of the guard's takes this point now), `round_ended` (it arrived after its round ended).
    """

    code = "scan_refused"
    message = "This scan does not count for any round of yours."


class UnknownCamera(InvalidInput):
    """A tour or a check names a camera that is not one of the community's (or of the run's)."""

    code = "unknown_camera"
    message = "No such camera in this community or tour."


class TourClosed(Conflict):
    """A check for a tour run not begun yet, or already done or missed (`extra.status`)."""

    code = "tour_closed"
    message = "This tour cannot be checked now."


class CameraChecked(Conflict):
    """The camera was already confirmed or reported in this run."""

    code = "camera_checked"
    message = "This camera was already checked in this tour."


class NoCheckpoints(Conflict):
    """A label sheet was asked for a route or an area with no checkpoints."""

    code = "no_checkpoints"
    message = "There are no checkpoints to print labels for."
