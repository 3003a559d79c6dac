"""The plate as the platform keeps it: normalised and checked by device_bridge/plates.py,
encrypted (context "vehicles.plate"), indexed (blind index kind "plate"), masked for lists.

A fuzzy search (edit distance 1) cannot compare ciphertexts, so it asks for the blind indexes of
the plate and of every valid plate one edit away (`plates.neighbours`, about a thousand HMACs).
"""

from __future__ import annotations

from typing import Final

import msgspec

from api.core.crypto import FieldCipher
from api.vehicles.errors import InvalidPlate
from device_bridge import plates

CONTEXT: Final = "vehicles.plate"
TICKET_PHONE: Final = "vehicles.ticket_phone"  # an unplated car's ticket's phone, if given


class StoredPlate(msgspec.Struct, frozen=True, kw_only=True):
    """The columns a plate fills."""

    plate: str
    plate_index: str
    plate_masked: str


def clean(text: str, *, field: str = "plate") -> tuple[str, plates.PlateClass]:
    """The normalised plate and its class; 400 invalid_plate when it fits no format."""
    plate = plates.normalise(text)
    cls = plates.classify(plate)
    if cls is None:
        raise InvalidPlate(field=field)
    return plate, cls


def mask(plate: str) -> str:
    """Province and city, then stars, then the last two: 川A***45 (a short or odd read: stars)."""
    if len(plate) < 5:
        return "*" * len(plate)
    return plate[:2] + "*" * (len(plate) - 4) + plate[-2:]


def index(cipher: FieldCipher, plate: str) -> str:
    """The blind index of a normalised plate."""
    return cipher.blind_index(plate, kind="plate")


def stored(cipher: FieldCipher, plate: str) -> StoredPlate:
    """A normalised plate as the columns hold it."""
    return StoredPlate(
        plate=cipher.encrypt(plate, context=CONTEXT),
        plate_index=index(cipher, plate),
        plate_masked=mask(plate),
    )


def search_indexes(cipher: FieldCipher, text: str, *, fuzzy: bool) -> list[str]:
    """The blind indexes a plate search looks for: the plate's, and with `fuzzy` those of every
    valid plate one edit away; 400 invalid_plate when the query is no plate."""
    plate, _ = clean(text)
    found = {plate} | (plates.neighbours(plate) if fuzzy else set())
    return sorted(index(cipher, p) for p in found)
