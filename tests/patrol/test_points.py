"""A checkpoint's reference photo: a manager sets it, the guard sees it beside the point in the
round and reads it; replacing or removing it deletes the old picture; other communities get 404."""

from __future__ import annotations

import base64

import pytest
from litestar import Litestar

from api.core.auth import Role
from api.core.storage import ObjectNotFound, RetentionClass
from api.patrol.tables import Checkpoint
from tests.fixtures import AsRole
from tests.helpers import JPEG, assert_error, audit_rows
from tests.patrol.helpers import Patrol

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def picture(data: bytes, content_type: str = "image/jpeg") -> dict[str, str]:
    return {"content_type": content_type, "data": base64.b64encode(data).decode()}


async def test_a_points_reference_photo_is_shown_to_the_guard_beside_it_in_the_round(
    patrol: Patrol, as_role: AsRole, app: Litestar
) -> None:
    store = app.state.objects
    point = patrol.checkpoints[0]
    url = f"/api/v1/patrol/checkpoints/{point}/photo"

    first = await patrol.manager.put(url, json=picture(JPEG))

    assert first.status_code == 200, first.text
    shown = first.json()["photo_url"]
    assert shown.startswith(f"{url}?v=")
    guard = await as_role(Role.GUARD)
    walked = (await guard.get(f"/api/v1/patrol/rounds/{patrol.round}")).json()
    assert [c["photo_url"] for c in walked["checkpoints"]] == [shown, None, None]
    seen = await guard.get(shown)
    assert seen.status_code == 200
    assert (seen.content, seen.headers["content-type"]) == (JPEG, "image/jpeg")
    key = (await Checkpoint.select(Checkpoint.photo).where(Checkpoint.id == point).first())["photo"]
    assert await store.retention_of(key) == RetentionClass.PERMANENT

    second = await patrol.manager.put(url, json=picture(PNG, "image/png"))
    assert second.json()["photo_url"] != shown  # a new address: no stale picture from a cache
    with pytest.raises(ObjectNotFound):
        await store.get(key)  # the photo replaced is gone
    assert (await guard.get(second.json()["photo_url"])).content == PNG

    removed = await patrol.manager.delete(url)
    assert removed.status_code == 204
    assert (await guard.get(f"/api/v1/patrol/checkpoints/{point}")).json()["photo_url"] is None
    assert (await guard.get(url)).status_code == 404
    assert len(await audit_rows("patrol.checkpoint_photo_set", point)) == 2
    assert len(await audit_rows("patrol.checkpoint_photo_removed", point)) == 1


async def test_reference_photos_are_the_managers_of_the_community_and_must_be_pictures(
    patrol: Patrol, as_role: AsRole
) -> None:
    url = f"/api/v1/patrol/checkpoints/{patrol.checkpoints[0]}/photo"
    guard = await as_role(Role.GUARD)
    b_manager = await as_role(Role.PROPERTY_MANAGER, "b")
    b_guard = await as_role(Role.GUARD, "b")

    assert (await guard.put(url, json=picture(JPEG))).status_code == 404
    assert (await b_manager.put(url, json=picture(JPEG))).status_code == 404
    assert (await b_manager.delete(url)).status_code == 404
    assert_error(
        await patrol.manager.put(url, json=picture(b"%PDF-1.4 not a picture")), 400, "invalid_photo"
    )
    assert_error(
        await patrol.manager.put(url, json={"content_type": "image/gif"}), 422, "invalid_body"
    )
    assert (await patrol.manager.get(url)).status_code == 404  # none set
    await patrol.manager.put(url, json=picture(JPEG))
    assert (await b_guard.get(url)).status_code == 404
    assert (await guard.get(url)).status_code == 200
