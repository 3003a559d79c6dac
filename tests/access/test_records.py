"""Access records from bridge events, counting uses, the log's filters, CSV export, retention."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.channels import ChannelsPlugin

from api.access import records
from api.access.credentials import after_commit, create_credential
from api.access.tables import AccessRecord, Credential
from api.audit.tables import AuditEntry
from api.core.auth import Role
from api.core.effects import AppOutlet, Effects
from api.devices.tables import Device
from api.people.tables import Person
from api.piccolo_conf import DB
from device_bridge import protocol
from tests.access.helpers import Link, enrol_card, unique_card
from tests.devices.peer import EnrolledBridge, door_event
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error


def granted(seq: int, credential: str, **data: object) -> protocol.Event:
    return door_event(
        seq, "access.granted", method="card", direction="in", credential=credential, **data
    )


class TestIngest:
    @pytest.mark.req("ACC-04")
    @pytest.mark.req("ACC-10", partial=True)
    async def test_pass_is_recorded_and_counts_a_use(
        self,
        link: Link,
        live_url: str,
        manager: ApiClient,
        world: World,
        bridge: EnrolledBridge,
        outlet: AppOutlet,
    ) -> None:
        site = await link(bridge)
        await site.settle()
        async with DB.transaction():  # as the visitors domain creates its credentials
            limited = await create_credential(
                community_id=world.a.community,
                kind="card",
                person_id=world.a.persons[1],
                household_id=world.a.households[1],
                value=unique_card(),
                uses=3,
            )
        effects = Effects()
        after_commit(effects, world.a.community)
        await effects.apply(outlet)
        full = await site.next_credentials()
        assert next(e for e in full.upserts if e.id == str(limited)).uses == 3
        await site.peer.send(
            protocol.EventBatch(
                events=[
                    granted(1, str(limited), decided_by="bridge"),
                    door_event(
                        2,
                        "access.denied",
                        "door-1-1",
                        method="card",
                        direction="in",
                        reason="unknown",
                    ),
                ]
            )
        )
        assert await site.next_of(protocol.Ack) == protocol.Ack(seq=2)
        rows = (
            await AccessRecord.select()
            .where(AccessRecord.community == world.a.community)
            .order_by(AccessRecord.at)
        )
        assert [(r["result"], r["reason"]) for r in rows] == [
            ("granted", ""),
            ("denied", "unknown"),
        ]
        assert rows[0]["credential"] == limited and rows[0]["person"] == world.a.persons[1]
        assert rows[0]["decided_by"] == "bridge" and rows[0]["direction"] == "in"
        left = await Credential.select(Credential.uses).where(Credential.id == limited).first()
        assert left == {"uses": 2}
        delta = await site.next_credentials()  # the platform's count reaches the bridge
        assert delta.since == full.version
        assert next(e for e in delta.upserts if e.id == str(limited)).uses == 2

        log = (
            await manager.get("/api/v1/access-records", params={"credential_id": str(limited)})
        ).json()
        assert [r["credential_id"] for r in log["items"]] == [str(limited)]
        person = await Person.select(Person.name).where(Person.id == world.a.persons[1]).first()
        assert person is not None and log["items"][0]["person_name"] == person["name"]
        denied = (await manager.get("/api/v1/access-records", params={"result": "denied"})).json()
        assert [(r["reason"], r["person_name"]) for r in denied["items"]] == [("unknown", "")]
        none = (await manager.get("/api/v1/access-records", params={"direction": "out"})).json()
        assert none["total"] == 0
        gate = (
            await Device.select(Device.id)
            .where((Device.external_id == "gate-north") & (Device.bridge == bridge.id))
            .first()
        )
        assert gate is not None
        points = (await manager.get("/api/v1/access-points")).json()["items"]
        point = next(p for p in points if p["device_id"] == str(gate["id"]))
        by_point = (
            await manager.get("/api/v1/access-records", params={"point_id": point["id"]})
        ).json()
        assert [r["device_name"] for r in by_point["items"]] == ["北门"]
        await site.close()


@pytest.fixture
def outlet(app: Litestar) -> AppOutlet:
    """The app's outlet, for effects applied outside a request."""
    return AppOutlet(app.plugins.get(ChannelsPlugin), app.state.redis, app.state.queue)


class TestExport:
    @pytest.mark.req("ACC-13", "ACC-10", partial=True)
    async def test_csv_for_excel_with_chinese_headers_audited(
        self, as_role: AsRole, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        card = await enrol_card(manager, world.a.persons[0], unique_card())
        site = await link(bridge)
        await site.settle()
        await site.peer.send(
            protocol.EventBatch(events=[granted(seq, card["id"]) for seq in (1, 2, 3)])
        )
        await site.next_of(protocol.Ack)
        r = await manager.get("/api/v1/access-records.csv", params={"result": "granted"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        assert r.content.startswith(codecs.BOM_UTF8)
        lines = r.content[len(codecs.BOM_UTF8) :].decode().splitlines()
        assert lines[0].split(",")[:3] == ["时间", "门禁点", "人员"]
        assert len(lines) == 4 and all("北门" in line and "张三" in line for line in lines[1:])
        assert all(card["id"] in line for line in lines[1:])
        entries = (
            await AuditEntry.select()
            .where(
                (AuditEntry.action == "access_records.export")
                & (AuditEntry.actor_id == world.a.users[Role.PROPERTY_MANAGER].id)
            )
            .output(load_json=True)
        )
        assert entries and entries[-1]["details"] == {"result": "granted"}
        await site.peer.send(
            protocol.EventBatch(
                events=[door_event(4, "access.denied", method="card", reason='=HYPERLINK("x")')]
            )
        )
        await site.next_of(protocol.Ack)
        denied = await manager.get("/api/v1/access-records.csv", params={"result": "denied"})
        row = next(csv.reader(io.StringIO(denied.content.decode("utf-8-sig").splitlines()[1])))
        assert row[6] == '\'=HYPERLINK("x")'  # Excel shows it, never runs it
        resident = await as_role(Role.RESIDENT)
        assert_error(await resident.get("/api/v1/access-records.csv"), 404, "not_found")
        other = await as_role(Role.PROPERTY_MANAGER, "b")
        body = (await other.get("/api/v1/access-records.csv")).content
        assert len(body[len(codecs.BOM_UTF8) :].decode().splitlines()) == 1  # headers only
        await site.close()


class TestRetention:
    @pytest.mark.req("ACC-10", "VIS-04", "DATA-18", "DATA-28", partial=True)
    async def test_purge_keeps_six_months(
        self, link: Link, world: World, bridge: EnrolledBridge
    ) -> None:
        site = await link(bridge)
        await site.settle()
        await site.close()
        gate = await Device.select(Device.id).where(Device.bridge == bridge.id).first()
        assert gate is not None
        now = datetime.now(UTC)
        ages = {"old": 190, "kept": 180, "fresh": 1}
        ids = {}
        for name, days in ages.items():
            row = AccessRecord(
                community=world.a.community,
                device=gate["id"],
                at=now - timedelta(days=days),
                method="card",
                result="granted",
            )
            await row.save()
            ids[name] = row.id
        assert await records.purge(now) >= 1
        left = {
            r["id"]
            for r in await AccessRecord.select(AccessRecord.id).where(
                AccessRecord.id.is_in(list(ids.values()))
            )
        }
        assert left == {ids["kept"], ids["fresh"]}


class TestResidentsLog:
    async def test_a_resident_sees_their_own_passes_only(
        self, as_role: AsRole, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        mine = await enrol_card(manager, world.a.persons[0], unique_card())
        theirs = await enrol_card(manager, world.a.persons[1], unique_card())
        site = await link(bridge)
        await site.settle()
        await site.peer.send(
            protocol.EventBatch(events=[granted(1, mine["id"]), granted(2, theirs["id"])])
        )
        await site.next_of(protocol.Ack)
        resident = await as_role(Role.RESIDENT)
        log = (await resident.get("/api/v1/access-records")).json()
        assert [r["credential_id"] for r in log["items"]] == [mine["id"]]
        staff = (await manager.get("/api/v1/access-records")).json()
        assert staff["total"] == 2
