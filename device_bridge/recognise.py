"""The recogniser hook: a plate read from the snapshot when the camera gives none or a doubtful one.

The camera's own plate string is the default; cameras recognise plates themselves. A site may
name a recogniser (`[site] recogniser`), which the bridge then runs on the read's snapshot when
the camera sent no plate, or one with a confidence below `[site] recognise_below` (0.8). Its
plate is taken when it is more confident than the camera; the event keeps the camera's read
(`read`) and what the recogniser said (`recognised`). Off by default: no recogniser is loaded.

Any recogniser plugs in through `Recogniser` (a name and `recognise(image) -> Recognition |
None`, blocking: it runs in a thread). `[site] recogniser` is either a built-in name or
`module:attribute` naming a class or factory that takes no arguments:

| name | what | needs |
|---|---|---|
| `hyperlpr2` | HyperLPR's first models (OpenCV) | the `lpr` extra; offline (docs/vehicles.md) |
| `module:attribute` | your own | importable by the bridge |
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import structlog

log = structlog.get_logger(__name__)

RECOGNISE_BELOW = 0.8  # the camera's confidence below which the recogniser is asked


@dataclass(frozen=True, slots=True)
class Recognition:
    """A plate read from a picture, and how sure the recogniser is (0–1)."""

    plate: str
    confidence: float


@runtime_checkable
class Recogniser(Protocol):
    """Reads a plate from a snapshot (JPEG or PNG bytes); None when it finds none. Blocking."""

    name: str

    def recognise(self, image: bytes) -> Recognition | None: ...


class RecogniserUnavailable(Exception):
    """The configured recogniser cannot be loaded (its package or models are missing)."""


class HyperLPR2:
    """HyperLPR's first models (the `lpr` extra: the `hyperlpr2` wheel, which bundles them, and
    OpenCV 4): a cascade finds the plate, Caffe networks fine-map and read it. Nothing is fetched.

    OpenCV 5 dropped the cascade classifier it needs (`opencv-python>=4.11,<5`). The networks are
    one set for the process and OpenCV's nets are not safe to run from two threads at once: the
    lanes' reads take turns (about 12 ms each).
    """

    name = "hyperlpr2"
    _lock = threading.Lock()

    def __init__(self) -> None:
        try:
            cv2 = importlib.import_module("cv2")
            numpy = importlib.import_module("numpy")
            lpr = importlib.import_module("hyperlpr2")  # loads the wheel's models
        except ImportError as err:
            raise RecogniserUnavailable(f"the lpr extra is not installed: {err}") from err
        except AttributeError as err:  # cv2.CascadeClassifier is gone from OpenCV 5
            raise RecogniserUnavailable(f"hyperlpr2 needs OpenCV 4 (<5): {err}") from err
        self._cv2, self._np, self._read = cv2, numpy, lpr.HyperLPR_plate_recognition

    def recognise(self, image: bytes) -> Recognition | None:
        """The most confident plate hyperlpr2 finds in the picture."""
        picture = self._cv2.imdecode(self._np.frombuffer(image, self._np.uint8), 1)
        if picture is None:
            return None
        with self._lock:
            found = self._read(picture)  # [[plate, confidence, box], …]
        if not found:
            return None
        best = max(found, key=lambda f: float(f[1]))
        return Recognition(plate=str(best[0]), confidence=float(best[1]))


BUILT_IN: dict[str, Any] = {"hyperlpr2": HyperLPR2}


def load(spec: str) -> Recogniser | None:
    """The recogniser a site names; None for "" (off). RecogniserUnavailable when it cannot be
    made (a package or its models missing, a name that does not resolve)."""
    spec = spec.strip()
    if not spec:
        return None
    factory = BUILT_IN.get(spec)
    if factory is None:
        module, _, attribute = spec.partition(":")
        if not module or not attribute:
            raise RecogniserUnavailable(f"not a built-in recogniser nor module:attribute: {spec}")
        try:
            factory = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError) as err:
            raise RecogniserUnavailable(f"{spec}: {err}") from err
    recogniser = factory()
    if not isinstance(recogniser, Recogniser):
        raise RecogniserUnavailable(f"{spec} has no name and recognise(image)")
    log.info("bridge.recogniser.loaded", recogniser=recogniser.name)
    return recogniser
