"""The demo community comes with a visitor pass the demo resident can open and share."""

from __future__ import annotations

from litestar import Litestar

from api import demo
from api.access.tables import Credential
from api.communities.tables import Community
from api.visitors.tables import VisitorPass


async def test_demo_seeds_a_visitor_pass(app: Litestar) -> None:
    await demo.seed(app.state.cipher)  # False when another test seeded it first: same result
    community = (
        await Community.select(Community.id).where(Community.code == demo.COMMUNITY_CODE).first()
    )
    assert community is not None
    [visitor] = await VisitorPass.select().where(VisitorPass.community == community["id"])
    assert (visitor["status"], visitor["entries_allowed"]) == ("active", 2)
    kinds = await Credential.select(Credential.kind).where(Credential.visitor_pass == visitor["id"])
    # One credential for keypad codes and QR; the visitor's car plate one of its own.
    assert sorted(k["kind"] for k in kinds) == ["code", "plate"]
