"""Picture quality of a camera's snapshot (PAT-07): pure, Pillow only (numpy is no dependency of
the platform, and Pillow's C filters and statistics do all of it).

A video-patrol snapshot is measured on its grey levels (ITU-R BT.601 luma, Pillow's "L"),
scaled to `WORK_WIDTH` so the thresholds do not depend on the camera's resolution:

- too dark / too bright: the mean level;
- covered or uniform (a lens cap, a wall, a sprayed lens, a blank encoder): a small spread of
  levels (standard deviation) or few distinct levels (Shannon entropy of the histogram);
- blurred (out of focus, fogged, dirty dome): a low variance of the Laplacian (Pech-Pacheco et al.
  2000; Pertuz et al. 2013 rank it among the most robust focus measures);
  each asked only of a picture the ones before did not flag (a dark picture is flat and soft too:
  its darkness is the finding);
- frozen: against the camera's previous snapshot taken at least `FROZEN_MIN_GAP` earlier, a mean
  absolute difference of the small grey fingerprints below `FROZEN_MAX_DIFF`: a live picture moves
  by its sensor noise at least, a stuck stream repeats the very same frame.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Final, Literal

import msgspec
from PIL import Image, ImageChops, ImageFilter, ImageStat, UnidentifiedImageError

Flag = Literal["dark", "bright", "covered", "blurred", "frozen"]

WORK_WIDTH: Final = 640  # measured at this width (a 1280 px frame halves): thresholds hold for any
MAX_PIXELS: Final = 4096 * 4096  # a snapshot larger than this is no browser frame (refused)
# Mean level (0–255): a well-lit scene averages near mid-grey (18 % grey is 118 in sRGB). Below 40
# most of the picture sits in the bottom sixth of the range (a night scene without its IR light, a
# dead iris); above 220 in the top sixth (facing the sun, the iris stuck open).
DARK_MEAN: Final = 40.0
BRIGHT_MEAN: Final = 220.0
# Spread: a scene has edges and shadows, a standard deviation of 30–70 levels; under 8 the picture
# is one flat tone. Entropy: a natural scene's histogram holds 6–7.5 bits; a cap or a wall in front
# of the lens leaves a handful of levels, under 3 bits (8 levels used evenly).
COVERED_STD: Final = 8.0
COVERED_ENTROPY: Final = 3.0
# Variance of the 4-neighbour Laplacian at WORK_WIDTH: 100 is the usual cut (sharp outdoor frames
# give several hundred to thousands; a defocused or fogged lens tens).
BLURRED_LAPLACIAN: Final = 100.0
# Frozen: ffmpeg's freezedetect calls frames the same under -60 dB, a mean difference of 0.001 of
# the range. Our fingerprint is point-sampled (nearest pixel, so no averaging hides the noise) and
# rounded to whole levels: a live frame of a still scene differs by its sensor noise, a level or
# more on average (1.1–1.5 for the noise of the tests); a stream stuck on one frame by 0.
FINGERPRINT_SIZE: Final = 160
FROZEN_MAX_DIFF: Final = 0.5
FROZEN_MIN_GAP: Final = timedelta(minutes=5)  # a static scene may look the same for a moment

LABELS: Final[dict[str, str]] = {
    "dark": "画面过暗",
    "bright": "画面过亮",
    "covered": "遮挡",
    "blurred": "模糊",
    "frozen": "冻结",
}


class NotAPicture(ValueError):
    """The bytes do not decode as a picture (or decode to an absurd size)."""


class Measures(msgspec.Struct, kw_only=True, frozen=True):
    """What was measured, and the flags the thresholds raise (empty: the picture is fine)."""

    luminance: float
    contrast: float
    entropy: float
    sharpness: float
    change: float | None = (
        None  # mean difference from the previous snapshot (None: none to compare)
    )
    flags: list[Flag] = []


class Fingerprint(msgspec.Struct, kw_only=True, frozen=True):
    """A snapshot's small grey copy (≤ 160 × 160, one byte a pixel), kept with the check to tell a
    frozen stream on the camera's next one."""

    width: int
    height: int
    data: bytes


def _grey(picture: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(picture))
        if image.width * image.height > MAX_PIXELS:
            raise NotAPicture("too large")
        image.draft("L", (WORK_WIDTH, WORK_WIDTH))  # JPEG: decode at a reduced scale, faster
        grey = image.convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
        raise NotAPicture(str(e)) from e
    if grey.width > WORK_WIDTH:
        grey = grey.resize((WORK_WIDTH, max(1, round(grey.height * WORK_WIDTH / grey.width))))
    return grey


# The 4-neighbour Laplacian, scaled by 1/8 around 128 so its whole range (±1020) fits a grey level:
# the variance of the result times 64 is the Laplacian's (rounding adds 64/12, nothing to 100).
_LAPLACIAN = ImageFilter.Kernel((3, 3), [0, 1, 0, 1, -4, 1, 0, 1, 0], scale=8, offset=128)


def _laplacian_variance(grey: Image.Image) -> float:
    if grey.width < 3 or grey.height < 3:
        return 0.0
    inner = grey.filter(_LAPLACIAN).crop((1, 1, grey.width - 1, grey.height - 1))
    return float(ImageStat.Stat(inner).var[0]) * 64


def fingerprint(grey: Image.Image) -> Fingerprint:
    small = grey.copy()
    small.thumbnail((FINGERPRINT_SIZE, FINGERPRINT_SIZE), Image.Resampling.NEAREST)
    return Fingerprint(width=small.width, height=small.height, data=small.tobytes())


def difference(a: Fingerprint, b: Fingerprint) -> float | None:
    """Mean absolute difference in grey levels; None when the shapes differ (not comparable)."""
    if (a.width, a.height) != (b.width, b.height) or len(a.data) != len(b.data):
        return None
    x, y = (Image.frombytes("L", (f.width, f.height), f.data) for f in (a, b))
    return float(ImageStat.Stat(ImageChops.difference(x, y)).mean[0])


def measure(picture: bytes) -> tuple[Measures, Fingerprint]:
    """The snapshot's measures and flags (all but `frozen`: see `against`), and its fingerprint.
    Raises NotAPicture."""
    grey = _grey(picture)
    stat = ImageStat.Stat(grey)
    mean, std = float(stat.mean[0]), float(stat.stddev[0])
    entropy, sharpness = max(0.0, float(grey.entropy())), _laplacian_variance(grey)
    flags: list[Flag] = []
    if mean < DARK_MEAN:
        flags.append("dark")
    elif mean > BRIGHT_MEAN:
        flags.append("bright")
    elif std < COVERED_STD or entropy < COVERED_ENTROPY:
        flags.append("covered")
    elif sharpness < BLURRED_LAPLACIAN:
        flags.append("blurred")
    measures = Measures(
        luminance=round(mean, 1),
        contrast=round(std, 1),
        entropy=round(entropy, 2),
        sharpness=round(sharpness, 1),
        flags=flags,
    )
    return measures, fingerprint(grey)


def against(measures: Measures, mine: Fingerprint, previous: Fingerprint | None) -> Measures:
    """The measures with the change from the camera's previous snapshot (taken at least
    FROZEN_MIN_GAP before: the caller picks it), flagged `frozen` when it did not move."""
    change = difference(mine, previous) if previous is not None else None
    if change is None:
        return measures
    frozen: list[Flag] = ["frozen"] if change < FROZEN_MAX_DIFF else []
    return msgspec.structs.replace(
        measures, change=round(change, 2), flags=[*measures.flags, *frozen]
    )


def label(flags: list[str]) -> str:
    """画面过暗、模糊 …"""
    return "、".join(LABELS[f] for f in flags if f in LABELS)
