"""Benchmark: the `lpr` extra's recogniser (hyperlpr2) on the plates the sim cameras render.

Seeded random plates (every province, city letters, serials as device_bridge/traffic.py draws
them) in each colour at the camera's size (244 × 94 JPEG): how many it reads exactly, one edit
off (a fuzzy lane still finds the resident), not at all, or wrongly; the characters it confuses;
and the time per picture against the baseline of decoding the same JPEG with OpenCV alone (the
first step of every read). Skipped without the extra.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
import statistics
import string
import time
from collections import Counter

import pytest

from device_bridge import plate_image, plates
from device_bridge.recognise import load
from device_bridge.traffic import SERIALS
from tests.perf.sizes import size

N = size(200, smoke=8)
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
CITIES = "ABCDEFGHJKLMNPQRSTUVWXY"


def _plate(rng: random.Random, new_energy: bool) -> str:
    if new_energy:
        tail = rng.choice("DF") + "".join(rng.choices(string.digits, k=5))
    else:
        tail = "".join(rng.choices(SERIALS, k=5))
    return rng.choice(PROVINCES) + rng.choice(CITIES) + tail


def _ms(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def test_hyperlpr2_accuracy_and_time_on_rendered_plates() -> None:
    if importlib.util.find_spec("hyperlpr2") is None:
        pytest.skip("the lpr extra (hyperlpr2) is not installed")
    cv2, np = importlib.import_module("cv2"), importlib.import_module("numpy")
    recogniser = load("hyperlpr2")
    assert recogniser is not None
    rng = random.Random(7)
    sets: list[tuple[plate_image.PlateColour, int]] = [
        ("blue", N),
        ("yellow", N // 2),
        ("green", N // 4),
    ]
    print()
    for colour, n in sets:
        counts: Counter[str] = Counter()
        confused: Counter[tuple[str, str]] = Counter()
        read_ms: list[float] = []
        decode_ms: list[float] = []
        for _ in range(n):
            number = _plate(rng, new_energy=colour == "green")
            image = plate_image.render(number, colour)
            start = time.perf_counter()
            cv2.imdecode(np.frombuffer(image, np.uint8), 1)
            decode_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            found = recogniser.recognise(image)
            read_ms.append((time.perf_counter() - start) * 1000)
            if found is None:
                counts["none"] += 1
                continue
            if found.plate == number:
                counts["exact"] += 1
            elif found.plate in plates.neighbours(number):
                counts["one edit off"] += 1
            else:
                counts["other"] += 1
            if len(found.plate) == len(number):
                confused.update((a, b) for a, b in zip(number, found.plate, strict=True) if a != b)
        assert sum(counts.values()) == n
        p50, p95 = _ms(read_ms)
        base = _ms(decode_ms)[0]
        print(
            f"{colour:6} n={n}: exact {counts['exact']}, one edit off {counts['one edit off']}, "
            f"none {counts['none']}, other {counts['other']}; "
            f"{p50:.1f} ms p50, {p95:.1f} ms p95 a picture; "
            f"p50 ÷ JPEG decode ({base:.2f} ms) = {p50 / base:.0f}×"
        )
        worst = confused.most_common(6)
        print("        confused:", ", ".join(f"{a}→{b} {k}" for (a, b), k in worst))
