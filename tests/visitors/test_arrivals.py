"""A visitor at the gate: the household's phone hears of it, the desk sees who is inside."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from arq.connections import ArqRedis
from litestar import Litestar

from api.access.rows import AccessRecordRow
from api.access.tables import AccessRecord, Credential
from api.core.auth import Role
from api.core.effects import Effects
from api.piccolo_conf import DB
from api.visitors.arrivals import on_access
from api.visitors.tables import VisitorPass
from tests.devices.peer import ScriptedBridge
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, eventually, live_socket, next_event, subscribed
from tests.plugins.push import RunWorker
from tests.push.push_service import LocalPushService
from tests.visitors.helpers import OpenSite, book


@pytest.fixture
async def app_queue(app: Litestar, queue: ArqRedis, monkeypatch: pytest.MonkeyPatch) -> ArqRedis:
    """The app enqueues push deliveries on the test's own queue, which `run_worker` drains."""
    monkeypatch.setattr(app.state, "queue", queue)
    return queue


def _granted(row: dict, device: str, direction: str = "in", method: str = "qr") -> dict:
    return {
        "method": method,
        "direction": direction,
        "credential": str(row["credential"]),
        "visitor_pass": str(row["id"]),
        "decided_by": "bridge",
    }


async def _row(pass_id: object) -> dict:
    row = await VisitorPass.select().where(VisitorPass.id == pass_id).first()
    assert row is not None
    return row


@pytest.mark.req("VIS-04", "VIS-05", partial=True)
class TestArrival:
    async def test_gate_entry_reaches_the_residents_phone(
        self,
        as_role: AsRole,
        live_url: str,
        world: World,
        resident: ApiClient,
        open_site: OpenSite,
        push: LocalPushService,
        app_queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        browser, _ = await subscribed(resident, push)
        site: ScriptedBridge = await open_site()
        created = await book(resident, entries=2, plate="川A12345")
        row = await _row(created["id"])
        async with live_socket(live_url, world.a.users[Role.RESIDENT]) as phone:
            await site.event("access.granted", "gate-east", _granted(row, "gate-east"))
            arrived = await next_event(phone, lambda e: e["type"] == "visitor.arrived")
        assert (arrived["pass_id"], arrived["door"]) == (created["id"], "东门")
        assert arrived["visitor_name"] == "王小明" and arrived["at"]
        await run_worker()
        [message] = browser.messages()
        assert message.payload["title"] == "访客已到达"
        assert "王小明" in message.payload["body"] and "东门" in message.payload["body"]
        assert message.payload["url"] == f"/visitors/{created['id']}"

        seen = (await resident.get(f"/api/v1/visitor-passes/{created['id']}")).json()
        assert (seen["entries_used"], seen["entries_left"], seen["inside"]) == (1, 1, True)
        assert seen["arrived_at"] and seen["status"] == "active"
        [record] = seen["access_records"]
        assert (record["door"], record["direction"], record["method"]) == ("东门", "in", "qr")
        guard = await as_role(Role.GUARD)
        inside = (await guard.get("/api/v1/visitor-desk/inside")).json()
        [visitor] = [v for v in inside["items"] if v["pass_id"] == created["id"]]
        assert (visitor["door"], visitor["household_label"]) == ("东门", "1栋1单元0101")
        assert visitor["visitor_phone"] == "137****1111" and visitor["plate"] == "川A12345"
        other_desk = await as_role(Role.GUARD, "b")
        assert (await other_desk.get("/api/v1/visitor-desk/inside")).json()["total"] == 0

        # The unit door is no new entry; leaving by the gate ends "inside".
        await site.event("access.granted", "door-1-1", _granted(row, "door-1-1", method="code"))
        await site.event("access.granted", "gate-east", _granted(row, "gate-east", "out"))
        left = await _row(created["id"])
        assert (left["entries_used"], left["inside"]) == (1, False)
        inside = (await guard.get("/api/v1/visitor-desk/inside")).json()
        assert created["id"] not in [v["pass_id"] for v in inside["items"]]

        # The second entry is the last: the pass is used up. Its credential stays, with no entry
        # left (the gates refuse another), for the doors inside and the way out.
        link = (await resident.post(f"/api/v1/visitor-passes/{created['id']}/share")).json()
        await site.event("access.granted", "gate-east", _granted(row, "gate-east"))
        done = await _row(created["id"])
        assert (done["status"], done["entries_used"], done["inside"]) == ("used_up", 2, True)
        [cred] = await Credential.select(Credential.status, Credential.uses).where(
            (Credential.visitor_pass == created["id"]) & (Credential.kind == "code")
        )
        assert (cred["status"], cred["uses"]) == ("active", 0)
        ours = str(row["credential"])
        await eventually(lambda: ours in site.held() and site.held()[ours].uses == 0, timeout=5)
        assert ours not in site.removed()
        async with ApiClient(base_url=live_url) as visitor_phone:
            page = (await visitor_phone.get(f"/api/v1/public/passes/{link['token']}")).json()
        assert (page["status"], page["entries_left"]) == ("used_up", 0)
        assert page["qr"]["token"] and len(page["code"]) == 6  # the unit door still opens

    async def test_refusals_count_nothing(
        self, live_url: str, world: World, resident: ApiClient, open_site: OpenSite
    ) -> None:
        created = await book(resident)
        site = await open_site()
        row = await _row(created["id"])
        data = {**_granted(row, "gate-east"), "reason": "not_yet_valid"}
        await site.event("access.denied", "gate-east", data)
        after = await _row(created["id"])
        assert (after["entries_used"], after["inside"], after["arrived_at"]) == (0, False, None)
        records = await AccessRecord.select(AccessRecord.result).where(
            AccessRecord.visitor_pass == created["id"]
        )
        assert records == [{"result": "denied"}]


class TestOrdering:
    async def _records(self, row: dict, gate: uuid.UUID, *moves: tuple[str, datetime]) -> None:
        records = [
            AccessRecordRow(
                id=uuid.uuid4(),
                community=row["community"],
                visitor_pass=row["id"],
                device=gate,
                direction=direction,
                result="granted",
                at=at,
                person=None,
                account=None,
                method="qr",
                reason="",
                command=None,
                credential=None,
                decided_by="bridge",
                photo="",
            )
            for direction, at in moves
        ]
        async with DB.transaction():
            await on_access(records, Effects())

    @pytest.mark.req("VIS-04", partial=True)
    async def test_a_late_replayed_entry_does_not_put_the_visitor_back_inside(
        self, world: World, resident: ApiClient, open_site: OpenSite
    ) -> None:
        created = await book(resident, entries=3)
        site = await open_site()
        row = await _row(created["id"])
        now = datetime.now(UTC)
        gate = site.devices["gate-east"]
        await self._records(row, gate, ("in", now), ("out", now + timedelta(minutes=30)))
        # A record from the bridge's outbox, older than the exit, arrives late.
        await self._records(row, gate, ("in", now + timedelta(minutes=10)))
        after = await _row(created["id"])
        assert (after["entries_used"], after["inside"]) == (2, False)
        assert after["last_entry_at"] == now + timedelta(minutes=10)

    async def test_another_communitys_record_is_ignored(
        self, world: World, resident: ApiClient, open_site: OpenSite
    ) -> None:
        created = await book(resident)
        site = await open_site()
        row = {**(await _row(created["id"])), "community": world.b.community}
        await self._records(row, site.devices["gate-east"], ("in", datetime.now(UTC)))
        assert (await _row(created["id"]))["entries_used"] == 0

    async def test_an_overstay_long_past_the_pass_leaves_the_inside_list(
        self, as_role: AsRole, resident: ApiClient, open_site: OpenSite
    ) -> None:
        created = await book(resident)
        site = await open_site()
        row = await _row(created["id"])
        await self._records(row, site.devices["gate-east"], ("in", datetime.now(UTC)))
        guard = await as_role(Role.GUARD)

        async def inside() -> list[str]:
            page = (await guard.get("/api/v1/visitor-desk/inside")).json()
            return [v["pass_id"] for v in page["items"]]

        assert created["id"] in await inside()
        for hours, listed in ((11, True), (13, False)):
            ended = datetime.now(UTC) - timedelta(hours=hours)
            await VisitorPass.update({VisitorPass.valid_until: ended}).where(
                VisitorPass.id == created["id"]
            )
            assert (created["id"] in await inside()) is listed
