"""Pass records keep their image six months and themselves a year, never less."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar

from api.vehicles.tables import PassRecord
from tests.helpers import World
from tests.vehicles.helpers import store_pass
from workers.tasks.vehicles import purge_vehicle_passes


@pytest.mark.req("VEH-11", "DATA-28", partial=True)
async def test_the_nightly_purge_forgets_images_after_six_months_and_records_after_a_year(
    app: Litestar, world: World
) -> None:
    now = datetime.now(UTC)
    ages = {"young": 1, "kept": 183, "image_gone": 186, "year_kept": 364, "gone": 367}
    ids = {}
    for name, days in ages.items():
        ids[name] = await store_pass(app, world.a.community, "川A12345")
        await PassRecord.update(
            {PassRecord.at: now - timedelta(days=days), PassRecord.image: f"vehicles/{name}.jpg"}
        ).where(PassRecord.id == ids[name])

    deleted, blanked = await purge_vehicle_passes({})
    assert deleted >= 1 and blanked >= 2

    rows = await PassRecord.select(PassRecord.id, PassRecord.image).where(
        PassRecord.id.is_in(list(ids.values()))
    )
    images = {r["id"]: r["image"] for r in rows}
    assert set(images) == {ids[n] for n in ("young", "kept", "image_gone", "year_kept")}
    assert images[ids["young"]] == "vehicles/young.jpg"
    assert images[ids["kept"]] == "vehicles/kept.jpg"
    assert images[ids["image_gone"]] == "" and images[ids["year_kept"]] == ""
