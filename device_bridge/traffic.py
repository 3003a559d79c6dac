"""Simulated car traffic at a site's lanes: who arrives, what the camera reads, who leaves later.

A seeded generator (the same seed plays the same cars in the same order) for the sim plate
cameras (`Scenario`, the benchmarks, the tests). Its cars, by weight:

| car | the camera reports |
|---|---|
| a resident's (the site's known plates, `[scenario] plates`) | the plate, confidence 0.93–0.99 |
| a visitor's (`visitor_plates`, else an unknown plate) | the plate |
| an unknown car (a random plate of the site's province, a fifth of them new-energy) | the plate |
| the blacklisted car (`blacklisted`) | the plate |
| a resident's, misread | one serial character swapped for a look-alike (8↔B, 0↔D, 5↔S, 2↔Z, 1↔7) |
| a resident's, hard to read (rain, dirt, glare) | the plate with confidence 0.45–0.75 |
| a resident's, not read at all | no plate, confidence 0 (for the recogniser: recognise.py) |
| a truck or bus | a yellow plate |

Cars that went in leave later through an exit lane (a third of the steps, when any are inside).
Each read comes with its snapshot: the true plate rendered (device_bridge/plate_image.py) — the
picture shows the real plate even when the camera's string is a misread.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass
from typing import Final, Literal

from device_bridge import plate_image
from device_bridge import plates as rules

Kind = Literal[
    "resident", "visitor", "unknown", "blacklisted", "misread", "low_confidence", "unread", "truck"
]
# A plate's serial characters: letters without I and O (read as 1 and 0), and digits.
SERIALS: Final = "".join(c for c in string.ascii_uppercase if c not in "IO") + string.digits
LOOK_ALIKE: Final = {"8": "B", "B": "8", "0": "D", "D": "0", "5": "S", "S": "5", "2": "Z", "Z": "2"}
LOOK_ALIKE_DEFAULT: Final = {"1": "7", "7": "1"}
WEIGHTS: Final[dict[Kind, float]] = {
    "resident": 0.42,
    "visitor": 0.12,
    "unknown": 0.16,
    "blacklisted": 0.03,
    "misread": 0.08,
    "low_confidence": 0.08,
    "unread": 0.03,
    "truck": 0.08,
}


@dataclass(frozen=True, slots=True)
class CarRead:
    """One car at one camera: what the camera says, and what the car truly is."""

    camera: str
    kind: Kind | Literal["exit"]
    plate: str  # what the camera read ("" when it read nothing)
    true_plate: str
    colour: plate_image.PlateColour
    vehicle_type: str
    confidence: float
    direction: Literal["in", "out"]
    image: bytes  # JPEG: the true plate

    def data(self) -> dict[str, object]:
        """The camera's `plate.read` data (the snapshot inline, docs/vehicles.md)."""
        return {
            "plate": self.plate,
            "colour": self.colour,
            "confidence": self.confidence,
            "vehicle_type": self.vehicle_type,
            "image_b64": _b64(self.image),
            "image_type": "image/jpeg",
        }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Traffic:
    """Cars at the entrances and exits of one site, seeded."""

    def __init__(
        self,
        *,
        entrances: list[str],
        exits: list[str],
        plates: list[str] | None = None,
        visitor_plates: list[str] | None = None,
        blacklisted: list[str] | None = None,
        seed: int = 1,
        province: str = "川",
        city: str = "A",
        images: bool = True,
    ) -> None:
        self.rng = random.Random(seed)
        self.entrances, self.exits = entrances, exits
        self.province, self.city, self.images = province, city, images
        known = [rules.normalise(p) for p in plates or []]
        self.residents = [p for p in known if rules.is_valid(p)] or [
            self.plate() for _ in range(12)
        ]
        self.visitors = [rules.normalise(p) for p in visitor_plates or []]
        self.blacklisted = [rules.normalise(p) for p in blacklisted or []] or [self.plate()]
        # (plate, colour, vehicle type) of the cars let in and not yet out
        self.inside: list[tuple[str, plate_image.PlateColour, str]] = []

    def next(self) -> CarRead:
        """The next car: one leaving (a third of the time when cars are inside), or arriving."""
        if self.exits and self.inside and self.rng.random() < 0.35:
            plate, colour, vtype = self.inside.pop(self.rng.randrange(len(self.inside)))
            return self._read(self.rng.choice(self.exits), "exit", plate, plate, colour, vtype)
        if not self.entrances:
            raise ValueError("a site without plate cameras has no traffic")
        kind: Kind = self.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        camera = self.rng.choice(self.entrances)
        vtype = "car"
        if kind in ("resident", "misread", "low_confidence", "unread"):
            true = self.rng.choice(self.residents)
        elif kind == "visitor":
            true = self.rng.choice(self.visitors) if self.visitors else self.plate()
        elif kind == "blacklisted":
            true = self.rng.choice(self.blacklisted)
        elif kind == "truck":
            true, vtype = self.plate(new_energy=False), self.rng.choice(["truck", "bus"])
        else:
            true = self.plate()
        if len(true) == 8:
            vtype = "new_energy"
        colour = plate_image.colour_of(true, vtype)
        read = true
        if kind == "misread":
            read = self.misread(true)
        elif kind == "unread":
            read = ""
        car = self._read(camera, kind, read, true, colour, vtype)
        if kind != "blacklisted" and (true, colour, vtype) not in self.inside:
            self.inside.append((true, colour, vtype))
        return car

    def _read(
        self,
        camera: str,
        kind: Kind | Literal["exit"],
        read: str,
        true: str,
        colour: plate_image.PlateColour,
        vtype: str,
    ) -> CarRead:
        if kind == "unread":
            confidence = 0.0
        elif kind == "low_confidence":
            confidence = round(self.rng.uniform(0.45, 0.75), 2)
        else:
            confidence = round(self.rng.uniform(0.93, 0.99), 2)
        return CarRead(
            camera=camera,
            kind=kind,
            plate=read,
            true_plate=true,
            colour=colour,
            vehicle_type=vtype,
            confidence=confidence,
            direction="out" if kind == "exit" else "in",
            image=plate_image.render(true, colour) if self.images else b"",
        )

    def plate(self, *, new_energy: bool | None = None) -> str:
        """A random plate of the site's province and city; a fifth new-energy (8 characters)."""
        if new_energy is None:
            new_energy = self.rng.random() < 0.2
        if new_energy:
            tail = self.rng.choice("DF") + "".join(self.rng.choices(string.digits, k=5))
        else:
            tail = "".join(self.rng.choices(SERIALS, k=5))
        return self.province + self.city + tail

    def misread(self, plate: str) -> str:
        """The plate with one serial character read as a look-alike (valid, one edit off)."""
        places = list(range(2, len(plate)))
        self.rng.shuffle(places)
        for i in places:
            for table in (LOOK_ALIKE, LOOK_ALIKE_DEFAULT):
                if plate[i] in table:
                    candidate = plate[:i] + table[plate[i]] + plate[i + 1 :]
                    if rules.is_valid(candidate):
                        return candidate
        i = places[0]
        swap = "1" if plate[i] != "1" else "7"
        return plate[:i] + swap + plate[i + 1 :]
