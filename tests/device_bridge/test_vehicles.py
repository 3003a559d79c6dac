"""Plate decisions at a whole bridge (cache, sim camera and barriers, outbox) against the fake
platform: residents, visitors, the blacklist (offline too), revocation, fuzzy reads, debounce,
malformed plates, unknown lanes, a car already inside, a full car park.
"""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest

from device_bridge import protocol as p
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from device_bridge.vehicles import Lane
from tests.device_bridge.fake_platform import FakePlatform, Issuer
from tests.device_bridge.helpers import running
from tests.device_bridge.test_rules import unreachable_url

IN, OUT = "lpr-carpark", "lpr-carpark-exit"
BARRIERS = ["barrier-carpark", "barrier-carpark-exit"]


@pytest.fixture
def issuer() -> Issuer:
    """The platform's credential side for the test bridge."""
    return Issuer()


def plate(issuer: Issuer, number: str, ident: str, **fields: object) -> p.CredentialEntry:
    """A plate entry as the platform's sync sends it: at every barrier of the site."""
    base: dict[str, object] = {
        "id": ident,
        "kind": "plate",
        "doors": BARRIERS,
        "digests": [issuer.digest("plate", number)],
    }
    return p.CredentialEntry(**{**base, **fields})  # type: ignore[arg-type]


def block(issuer: Issuer, number: str) -> p.CredentialEntry:
    """A blacklisted plate."""
    return plate(issuer, number, f"block-{number}", kind="plate_block")


async def synced(
    bridge: Bridge, platform: FakePlatform, issuer: Issuer, entries: list[p.CredentialEntry]
) -> None:
    await asyncio.wait_for(bridge.link.authenticated.wait(), 5)
    applied = await platform.send_credentials(issuer.frame(entries, full=True))
    assert applied.ok


class Reader:
    """Drives the sim cameras and finds each read's recorded event, acked by the platform or not."""

    def __init__(self, bridge: Bridge, platform: FakePlatform | None = None) -> None:
        self.bridge, self.platform = bridge, platform

    async def __call__(self, camera: str, number: str) -> dict:
        """A car at a lane: the sim camera reads it, the bridge decides; the event's data."""
        assert self.bridge.sim is not None
        before = await self.bridge.outbox.last_seq()
        await self.bridge.sim.read_plate(camera, plate=number)
        return dict((await self.events(after=before))[0].data)

    async def events(self, *, after: int = 0, device: str | None = None) -> list[p.Event]:
        """The plate.read events after a seq: in the outbox or already at the platform."""
        found = {e.seq: e for e in await self.bridge.outbox.pending(limit=100_000)}
        if self.platform is not None:
            found.update(self.platform.events)
        return sorted(
            (
                e
                for e in found.values()
                if e.seq > after and e.kind == "plate.read" and device in (None, e.device)
            ),
            key=lambda e: e.seq,
        )


def barrier(bridge: Bridge, device: str) -> str:
    assert bridge.sim is not None
    return str(bridge.sim.fleet.devices[device].state["barrier"])


@pytest.fixture
def alone(bridge_settings: BridgeSettings) -> BridgeSettings:
    """The enrolled bridge's settings, pointed at a platform that is not there."""
    return msgspec.structs.replace(bridge_settings, platform_url=unreachable_url())


@pytest.mark.req("VEH-03", partial=True)
async def test_a_residents_car_is_let_in_and_out_and_an_unknown_one_waits(
    bridge_settings: BridgeSettings, platform: FakePlatform, issuer: Issuer
) -> None:
    async with running(bridge_settings, barrier_open_s=30) as bridge:
        read = Reader(bridge, platform)
        await synced(bridge, platform, issuer, [plate(issuer, "川A12345", "car-1")])
        data = await read(IN, "川a·12345")
        assert (data["decision"], data["reason"], data["credential"]) == (
            "granted",
            "resident",
            "car-1",
        )
        assert data["plate"] == "川A12345" and data["direction"] == "in"
        assert barrier(bridge, "barrier-carpark") == "open"
        assert bridge.vehicles.occupied("carpark") == 1
        unknown = await read(IN, "川B99999")
        assert (unknown["decision"], unknown["reason"]) == ("held", "unknown")
        out = await read(OUT, "川A12345")
        assert (out["decision"], out["reason"], out["direction"]) == ("granted", "exit", "out")
        assert barrier(bridge, "barrier-carpark-exit") == "open"
        assert bridge.vehicles.occupied("carpark") == 0


@pytest.mark.req("VEH-23", partial=True)
async def test_a_blacklisted_plate_never_opens_the_barrier_even_offline(
    bridge_settings: BridgeSettings, alone: BridgeSettings, platform: FakePlatform, issuer: Issuer
) -> None:
    async with running(bridge_settings, barrier_open_s=30) as bridge:
        await synced(bridge, platform, issuer, [block(issuer, "京A99999")])
        data = await Reader(bridge, platform)(IN, "京A99999")
        assert (data["decision"], data["reason"]) == ("denied", "blacklisted")
        assert barrier(bridge, "barrier-carpark") == "closed"
    async with running(alone, barrier_open_s=30) as offline:  # no platform: the cache decides
        assert not offline.link.authenticated.is_set()
        data = await Reader(offline)(IN, "京A99999")
        assert (data["decision"], data["reason"]) == ("denied", "blacklisted")
        assert barrier(offline, "barrier-carpark") == "closed"


async def test_a_restarted_bridge_still_knows_which_cars_are_inside(
    bridge_settings: BridgeSettings, alone: BridgeSettings, platform: FakePlatform, issuer: Issuer
) -> None:
    """The cars let in, and the temporary spaces their visitors hold, outlive a restart: offline,
    the bridge goes on counting from them."""
    async with running(bridge_settings, barrier_open_s=30) as bridge:
        await synced(
            bridge,
            platform,
            issuer,
            [
                plate(issuer, "川A12345", "car-1"),
                plate(issuer, "川A8D123", "visit-1", visitor_pass="pass-1"),
                plate(issuer, "川A7E456", "visit-2", visitor_pass="pass-2"),
            ],
        )
        read = Reader(bridge, platform)
        for number in ("川A12345", "川A8D123", "川A7E456"):
            assert (await read(IN, number))["decision"] == "granted"
        assert (await read(OUT, "川A7E456"))["reason"] == "exit"
        lane = bridge.vehicles.lanes()[IN]
        assert bridge.vehicles.occupied("carpark") == 2
        assert bridge.vehicles.temporary_free(lane) == lane.capacity - 1
    async with running(alone, barrier_open_s=30) as offline:
        assert not offline.link.authenticated.is_set()
        assert offline.vehicles.occupied("carpark") == 2
        assert offline.vehicles.temporary_free(lane) == lane.capacity - 1
        again = await Reader(offline)(IN, "川A8D123")  # no exit seen: not counted twice
        assert (again["decision"], again["reason"]) == ("granted", "already_inside")
        assert (await Reader(offline)(OUT, "川A8D123"))["reason"] == "exit"
        assert offline.vehicles.temporary_free(lane) == lane.capacity
        assert offline.vehicles.occupied("carpark") == 1


@pytest.mark.req("VEH-23", partial=True)
async def test_a_blacklist_entry_holds_only_inside_its_window(
    bridge: Bridge, platform: FakePlatform, issuer: Issuer
) -> None:
    now = time.time()
    ended = plate(issuer, "京A11111", "block-ended", kind="plate_block", valid_until=now - 60)
    later = plate(issuer, "京A22222", "block-later", kind="plate_block", valid_from=now + 3600)
    current = plate(issuer, "京A33333", "block-now", kind="plate_block", valid_until=now + 3600)
    await synced(bridge, platform, issuer, [ended, later, current])
    read = Reader(bridge, platform)
    assert ((await read(IN, "京A33333"))["reason"]) == "blacklisted"
    for number in ("京A11111", "京A22222"):  # out of its window: an unknown car, for the guard
        data = await read(IN, number)
        assert (data["decision"], data["reason"]) == ("held", "unknown")
    assert barrier(bridge, "barrier-carpark") == "closed"


@pytest.mark.req("VEH-07", partial=True)
async def test_a_revoked_resident_plate_stops_opening(
    bridge: Bridge, platform: FakePlatform, issuer: Issuer
) -> None:
    read = Reader(bridge, platform)
    await synced(bridge, platform, issuer, [plate(issuer, "川A12345", "car-1")])
    assert (await read(IN, "川A12345"))["decision"] == "granted"
    await read(OUT, "川A12345")
    applied = await platform.send_credentials(issuer.frame([], removals=["car-1"]))
    assert applied.ok
    bridge.vehicles.debounce = 0
    data = await read(IN, "川A12345")
    assert (data["decision"], data["reason"]) == ("denied", "revoked")


async def test_a_visitors_car_passes_in_its_window_and_not_after(
    bridge: Bridge, platform: FakePlatform, issuer: Issuer
) -> None:
    read = Reader(bridge, platform)
    now = time.time()
    await synced(
        bridge,
        platform,
        issuer,
        [
            plate(issuer, "川A8D123", "visit-1", visitor_pass="pass-1", valid_until=now + 3600),
            plate(issuer, "川A7E456", "visit-2", visitor_pass="pass-2", valid_until=now - 1),
            plate(issuer, "川A6F789", "visit-3", visitor_pass="pass-3", valid_from=now + 3600),
        ],
    )
    data = await read(IN, "川A8D123")
    assert (data["decision"], data["reason"], data["visitor_pass"]) == (
        "granted",
        "visitor",
        "pass-1",
    )
    assert (await read(IN, "川A7E456"))["reason"] == "expired"
    assert (await read(IN, "川A6F789"))["reason"] == "not_yet_valid"


async def test_bad_reads_each_get_a_clear_recorded_outcome(
    bridge: Bridge, platform: FakePlatform, issuer: Issuer
) -> None:
    read = Reader(bridge, platform)
    await synced(bridge, platform, issuer, [plate(issuer, "川A12345", "car-1")])
    assert (await read(IN, "not a plate"))["reason"] == "malformed_plate"
    assert (await read(IN, "A12345"))["reason"] == "resident"  # the site's province
    again = await read(IN, "川A12345")  # the same car read twice within seconds
    assert (again["decision"], again["reason"]) == ("ignored", "duplicate_read")
    await bridge.vehicles.read("cam-north-gate", {"plate": "川A12345"})  # not a lane's camera
    [stray] = await read.events(device="cam-north-gate")
    assert (stray.data["decision"], stray.data["reason"]) == ("ignored", "unknown_lane")
    bridge.vehicles.debounce = 0
    inside = await read(IN, "川A12345")  # no exit seen: already inside, not counted again
    assert (inside["decision"], inside["reason"]) == ("granted", "already_inside")
    assert bridge.vehicles.occupied("carpark") == 1


async def test_a_fuzzy_lane_matches_one_character_off_but_never_lets_a_blacklist_near_miss_in(
    bridge: Bridge, platform: FakePlatform, issuer: Issuer
) -> None:
    await synced(
        bridge,
        platform,
        issuer,
        [plate(issuer, "川A12345", "car-1"), block(issuer, "京A99999")],
    )
    strict = Lane(camera="lane-1", barrier="barrier-carpark", car_park="p1")
    fuzzy = Lane(camera="lane-2", barrier="barrier-carpark", car_park="p2", fuzzy=True)
    vehicles = bridge.vehicles
    assert vehicles.decide(strict, "川A12346").reason == "unknown"
    near = vehicles.decide(fuzzy, "川A12346")
    assert (near.outcome, near.reason, near.credential, near.fuzzy) == (
        "granted",
        "resident",
        "car-1",
        True,
    )
    miss = vehicles.decide(fuzzy, "京A99998")
    assert (miss.outcome, miss.reason) == ("denied", "blacklisted")


async def test_visitors_wait_when_the_temporary_spaces_are_taken_residents_do_not(
    bridge: Bridge, platform: FakePlatform, issuer: Issuer
) -> None:
    await synced(
        bridge,
        platform,
        issuer,
        [
            plate(issuer, "川A8D123", "visit-1", visitor_pass="pass-1"),
            plate(issuer, "川A7E456", "visit-2", visitor_pass="pass-2"),
            plate(issuer, "川A12345", "car-1"),
        ],
    )
    lane = Lane(camera=IN, barrier="barrier-carpark", car_park="small", capacity=1)
    assert bridge.vehicles.decide(lane, "川A8D123").reason == "visitor"
    full = bridge.vehicles.decide(lane, "川A7E456")
    assert (full.outcome, full.reason) == ("denied", "car_park_full")
    assert bridge.vehicles.decide(lane, "川A12345").reason == "resident"


@pytest.mark.parametrize(
    ("attrs", "lane"),
    [
        ({}, None),  # a plate camera that names no barrier is no lane
        (
            {"barrier": "b", "direction": "out", "capacity": "12", "fuzzy": True},
            Lane(camera="c", barrier="b", direction="out", car_park="b", capacity=12, fuzzy=True),
        ),
        (
            {"barrier": "b", "capacity": "lots", "direction": "sideways", "car_park": "P1"},
            Lane(camera="c", barrier="b", car_park="P1"),  # typos: no limit, an entrance
        ),
        ({"barrier": "b", "capacity": -3}, Lane(camera="c", barrier="b", car_park="b")),
    ],
)
def test_a_lane_is_read_from_the_cameras_site_file_attributes(
    attrs: dict, lane: Lane | None
) -> None:
    camera = p.DeviceInfo(id="c", kind="plate_camera", name="车牌", driver="sim", attrs=attrs)
    assert Lane.of(camera) == lane
