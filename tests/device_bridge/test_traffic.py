"""The sim cameras' traffic: residents', visitors', unknown and blacklisted cars, misreads, hard and
missed reads, trucks, exits — seeded — each with a rendered picture of its plate."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from typing import Any

from PIL import Image

from device_bridge import plate_image, plates
from device_bridge.drivers.sim import SimDriver
from device_bridge.scenario import Scenario
from device_bridge.settings import PACKAGE_DIR, load_config
from device_bridge.traffic import Traffic

RESIDENTS = ["川A12345", "川AD12345", "川A8B5S2", "川A6Z0D7"]


def traffic(seed: int = 1, **options: Any) -> Traffic:
    return Traffic(
        entrances=["in"],
        exits=["out"],
        plates=RESIDENTS,
        blacklisted=["川A99999"],
        seed=seed,
        **options,
    )


def test_the_traffic_has_every_kind_of_car_and_each_read_fits_its_kind() -> None:
    t = traffic(seed=2, images=False)
    cars = [t.next() for _ in range(400)]
    kinds = Counter(c.kind for c in cars)
    assert set(kinds) == {
        "resident",
        "visitor",
        "unknown",
        "blacklisted",
        "misread",
        "low_confidence",
        "unread",
        "truck",
        "exit",
    }
    for car in cars:
        assert car.direction == ("out" if car.kind == "exit" else "in")
        assert car.camera == ("out" if car.kind == "exit" else "in")
        if car.kind in ("resident", "low_confidence", "unread"):
            assert car.true_plate in RESIDENTS
        if car.kind == "blacklisted":
            assert car.plate == "川A99999"
        if car.kind == "misread":
            # one look-alike character off a resident's plate, still a valid plate
            assert car.true_plate in RESIDENTS and car.plate != car.true_plate
            assert plates.within_one(car.plate, car.true_plate) and plates.is_valid(car.plate)
        if car.kind == "unread":
            assert (car.plate, car.confidence) == ("", 0.0)
        elif car.kind == "low_confidence":
            assert 0.45 <= car.confidence <= 0.75
        else:
            assert car.confidence >= 0.93 and plates.is_valid(car.plate)
        assert car.colour == plate_image.colour_of(car.true_plate, car.vehicle_type)
        if car.kind == "truck":
            assert car.colour == "yellow" and car.vehicle_type in ("truck", "bus")
    # New-energy plates (8 characters, green) among residents and unknown cars.
    assert any(len(c.true_plate) == 8 and c.colour == "green" for c in cars)
    # Every exit is of a car let in before and not yet out; the blacklisted car never leaves.
    inside: Counter[str] = Counter()
    for car in cars:
        if car.kind == "exit":
            assert inside[car.true_plate] > 0
            inside[car.true_plate] -= 1
        elif car.kind != "blacklisted" and inside[car.true_plate] == 0:
            inside[car.true_plate] += 1


def test_the_same_seed_plays_the_same_cars() -> None:
    def run(seed: int) -> list[tuple[str, str, float]]:
        t = traffic(seed=seed, images=False)
        return [(c.kind, c.plate, c.confidence) for c in (t.next() for _ in range(60))]

    assert run(4) == run(4) and run(4) != run(5)


def test_each_read_carries_a_picture_of_the_true_plate_in_its_colours() -> None:
    blue, green, yellow = (
        Image.open(io.BytesIO(plate_image.render(p, c)))
        for p, c in (("川A12345", "blue"), ("川AD12345", "green"), ("川A6789F", "yellow"))
    )
    assert blue.format == "JPEG" and blue.size == (244, 94)
    assert green.size == (264, 94)  # new-energy plates are wider (480 mm)

    def at(img: Image.Image, x: int, y: int) -> tuple[int, int, int]:
        r, g, b = img.convert("RGB").getpixel((x, y))  # type: ignore[misc]
        return r, g, b

    r, g, b = at(blue, 20, 80)
    assert b > 120 and r < 60  # blue ground
    top, bottom = at(green, 40, 17), at(green, 40, 78)
    assert top[1] > 200 and bottom[0] < top[0] - 40  # white fading to green
    r, g, b = at(yellow, 20, 80)
    assert r > 200 and g > 150 and b < 80  # yellow ground
    font, cjk = plate_image.font_file()
    assert font  # the system's font: CJK when installed, a Latin one otherwise
    if cjk:
        assert "wqy" in font.lower() or "cjk" in font.lower()


async def test_the_demo_scenario_plays_cars_at_the_configured_rate_with_pictures() -> None:
    config = load_config(PACKAGE_DIR / "demo.toml")
    assert config.scenario.vehicle_rate > 0 and config.scenario.plates
    sim = SimDriver([d.info() for d in config.devices], seed=1)
    reads: list[dict[str, Any]] = []
    enough = asyncio.Event()

    async def emit(kind: str, device: str, data: dict[str, Any], *_: object, **__: object) -> None:
        if kind == "plate.read":
            reads.append(data)
            if len(reads) >= 5:
                enough.set()

    await sim.start(emit)
    scenario = Scenario(
        sim,
        seed=1,
        rate=0.001,  # no door or sensor action meanwhile
        vehicle_rate=200.0,
        plates=config.scenario.plates,
        blacklisted=config.scenario.blacklisted,
    )
    task = asyncio.create_task(scenario.run())
    try:
        async with asyncio.timeout(10):
            await enough.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sim.stop()
    for read in reads:
        assert read["image_type"] == "image/jpeg" and read["image_b64"]
        assert "decision" not in read  # the bridge decides
