"""The demo community comes with a card and a PIN for the demo resident, and a schedule."""

from __future__ import annotations

from litestar import Litestar

from api import demo
from api.access.credentials import VALUE_CONTEXT
from api.access.tables import AccessGroup, Credential
from api.accounts.tables import Account
from api.communities.tables import Community


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
