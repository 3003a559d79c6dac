"""The demo community comes with a card and a PIN for the demo resident, a schedule, and a visitor
pass that opens the site's gates and doors once its bridge has said what they are."""

from __future__ import annotations

import pytest
from litestar import Litestar

from api import demo
from api.access.credentials import VALUE_CONTEXT
from api.access.tables import AccessGroup, Credential
from api.accounts.tables import Account
from api.communities.tables import Community
from api.visitors.tables import VisitorPass
from tests.access.helpers import Link
from tests.devices.peer import enrol
from tests.helpers import ApiClient


async def test_demo_seeds_the_residents_card_and_pin(app: Litestar) -> None:
    await demo.seed(app.state.cipher)  # False when another test seeded it first: same result
    community = (
        await Community.select(Community.id).where(Community.code == demo.COMMUNITY_CODE).first()
    )
    assert community is not None
    resident = await Account.select(Account.person).where(Account.username == "resident").first()
    assert resident is not None
    rows = await Credential.select(Credential.kind, Credential.value, Credential.household).where(
        (Credential.person == resident["person"]) & Credential.kind.is_in(["card", "pin"])
    )
    values = {r["kind"]: app.state.cipher.decrypt(r["value"], context=VALUE_CONTEXT) for r in rows}
    assert values == {"card": demo.DEMO_CARD, "pin": demo.DEMO_PIN}
    assert all(r["household"] for r in rows)  # they pass the household's gates and door
    assert await AccessGroup.exists().where(AccessGroup.community == community["id"])
    assert any(demo.DEMO_CARD in line for line in demo.access_notes())


@pytest.mark.req("VIS-03", partial=True)
async def test_the_demo_pass_opens_the_gates_and_doors_once_the_bridge_is_known(
    app: Litestar, admin: ApiClient, link: Link
) -> None:
    await demo.seed(app.state.cipher)
    community = (
        await Community.select(Community.id).where(Community.code == demo.COMMUNITY_CODE).first()
    )
    assert community is not None
    visitor = (
        await VisitorPass.select(VisitorPass.id, VisitorPass.credential)
        .where((VisitorPass.community == community["id"]) & (VisitorPass.visitor_name == "周晓燕"))
        .first()
    )
    assert visitor is not None
    site = await link(await enrol(admin, community["id"], "demo-site"))  # sends its inventory
    frame = await site.next_credentials()
    entry = next(e for e in frame.upserts if e.id == str(visitor["credential"]))
    assert entry.kind == "code" and entry.doors == ["door-1-1", "gate-north"]
    assert entry.entry_doors == ["gate-north"]  # its two entries count at the gate
    row = (
        await VisitorPass.select(VisitorPass.points)
        .where(VisitorPass.id == visitor["id"])
        .output(load_json=True)
        .first()
    )
    assert row is not None and len(row["points"]) == 1  # the gate, named on the pass
