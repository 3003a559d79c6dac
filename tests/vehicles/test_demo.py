"""The demo community's cars: the residents' plates the sim cameras see are registered and active,
the blacklisted one blocked, each with the plate credential the bridges decide with."""

from __future__ import annotations

from litestar import Litestar

from api import demo
from api.access.tables import Credential
from api.communities.tables import Community
from api.vehicles.tables import Vehicle
from device_bridge.settings import PACKAGE_DIR, load_config


async def test_the_demo_registers_the_cars_its_cameras_see(app: Litestar) -> None:
    await demo.seed(app.state.cipher)  # False when another test seeded it first: same result
    community = (
        await Community.select(Community.id).where(Community.code == demo.COMMUNITY_CODE).first()
    )
    assert community is not None
    cars = await Vehicle.select(
        Vehicle.plate_masked, Vehicle.vehicle_class, Vehicle.status, Vehicle.credential
    ).where(Vehicle.community == community["id"])
    by_class = {
        c: [r for r in cars if r["vehicle_class"] == c] for c in ("resident", "blacklisted")
    }
    assert len(by_class["resident"]) == len(demo.DEMO_PLATES)
    assert len(by_class["blacklisted"]) == len(demo.DEMO_BLACKLISTED)
    assert all(r["status"] == "active" for r in cars)
    kinds = {
        r["kind"]
        for r in await Credential.select(Credential.kind).where(
            Credential.id.is_in([r["credential"] for r in cars])
        )
    }
    assert kinds == {"plate", "plate_block"}
    scenario = load_config(PACKAGE_DIR / "demo.toml").scenario
    assert (scenario.plates, scenario.blacklisted) == (demo.DEMO_PLATES, demo.DEMO_BLACKLISTED)
