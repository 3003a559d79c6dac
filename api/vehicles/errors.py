"""What the vehicle rules refuse."""

from api.core.errors import Conflict, DomainError, InvalidInput


class InvalidPlate(InvalidInput):
    """Not a plate of any format (device_bridge/plates.py)."""

    code = "invalid_plate"
    message = "The plate is not a valid licence plate."


class DuplicateVehicle(Conflict):
    """A vehicle with this plate is already registered (and not cancelled) in the community."""

    code = "duplicate_vehicle"
    message = "A vehicle with this plate is already registered in the community."


class VehicleClassNotAllowed(InvalidInput):
    """Residents register their own cars (resident, tenant); the rest is the manager's."""

    code = "vehicle_class_not_allowed"
    message = "This vehicle class cannot be registered here."


class InvalidLifecycleStep(Conflict):
    """The step does not follow from the vehicle's status (authorise a cancelled car, …)."""

    code = "invalid_lifecycle_step"
    message = "The vehicle is not in a state that allows this."


class InvalidValidity(InvalidInput):
    """The validity window runs backwards, or an extension does not extend."""

    code = "invalid_validity"
    message = "The validity window is not acceptable."


class HouseholdRequired(InvalidInput):
    """The caller lives in several households: say which one the car belongs to."""

    code = "household_required"
    message = "Say which household the vehicle belongs to."


class InvalidLane(InvalidInput):
    """A lane's devices must be devices of its community, of the right kind."""

    code = "invalid_lane"
    message = "The lane's devices do not fit."


class ReasonRequired(InvalidInput):
    """A remote lift or close, or a guard's refusal, states why."""

    code = "reason_required"
    message = "State the reason."


class PlateRequired(InvalidInput):
    """A correction names the plate as the guard reads it."""

    code = "plate_required"
    message = "Give the corrected plate."


class NotResolvable(Conflict):
    """Only a held or refused read at a lane is answered, and only once."""

    code = "not_resolvable"
    message = "This read has been answered already, or needs no answer."


class InvalidOccupancy(InvalidInput):
    """A correction with more temporary cars than cars."""

    code = "invalid_occupancy"
    message = "The temporary cars are among all the cars: there cannot be more of them."


class OrderSettled(Conflict):
    """The order was paid or waived already."""

    code = "order_settled"
    message = "This parking order is settled already."


class OrderPending(Conflict):
    """The read has a parking order waiting: it is paid, or the guard waives it."""

    code = "order_pending"
    message = "A parking order is waiting for this car; waive it instead."


class WrongLane(InvalidInput):
    """A ticket is taken at an entrance lane and shown at an exit lane of its car park."""

    code = "wrong_lane"
    message = "This is not the lane for that."


class TicketNotFound(DomainError):
    """No car inside holds that ticket (a typo, or it left already)."""

    status_code = 404
    code = "ticket_not_found"
    message = "No car inside holds this ticket."


class AmountMismatch(Conflict):
    """The provider says less was paid than the order asks."""

    code = "amount_mismatch"
    message = "The amount paid does not match the order."


class InvalidPhone(InvalidInput):
    """Not a phone number (an unplated car's ticket takes one, or none)."""

    code = "invalid_phone"
    message = "This is not a valid phone number."


class WarningNotOpen(Conflict):
    """A warning already dismissed or cleared is not dismissed again."""

    code = "warning_not_open"
    message = "The warning is no longer open."


class ThresholdOutOfRange(InvalidInput):
    """A warning threshold outside its range (`extra`: field, min, max)."""

    code = "threshold_out_of_range"
    message = "A warning threshold is out of range."


class NightWindowEmpty(InvalidInput):
    """The night starts and ends at the same hour: it would be no night, or the whole day."""

    code = "night_window_empty"
    message = "The night must start and end at different hours."


class NightMinExceedsWindow(InvalidInput):
    """More nights asked for than the window has days."""

    code = "night_min_exceeds_window"
    message = "The nights needed cannot be more than the days of the window."
