"""The audit log: read by the audit administrator alone, filtered and paged, hash-chained."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar

from api.audit import service as audit_service
from api.audit.service import GENESIS, chain_hash, record, verify
from api.audit.tables import AuditEntry
from api.core.auth import Role
from api.core.crypto import digest
from api.settings import Settings
from tests.helpers import ApiClient, World, build_world, make_account

AUDIT = "/api/v1/audit/"
VERIFY = "/api/v1/audit/verify"
COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "outcome",
    "target_type",
    "target_id",
    "community_id",
    "ip",
    "purpose",
    "details",
    "prev_hash",
    "hash",
)

Browser = Callable[[], Awaitable[ApiClient]]


@pytest.fixture(scope="module")
async def places(app: Litestar) -> World:
    """Communities for the module's accounts (also readies make_account's cipher)."""
    return await build_world(app.state.cipher)


@pytest.fixture
async def auditor(browser: Browser, places: World) -> ApiClient:
    """A browser logged in as a fresh audit administrator."""
    client = await browser()
    await client.login(await make_account(Role.AUDIT_ADMIN))
    return client


async def raw_row(entry_id: int) -> dict[str, Any]:
    """An audit row exactly as stored (details as JSON text)."""
    rows = await AuditEntry.raw(
        "SELECT id, at, actor_id, actor_name, actor_role, action, outcome, target_type, target_id, "
        "community_id, ip, purpose, details::text AS details, prev_hash, hash "
        "FROM audit_log WHERE id = {}",
        entry_id,
    )
    return rows[0]


async def put_back(row: dict[str, Any]) -> None:
    """Re-insert a deleted audit row with its original id and values."""
    await AuditEntry.raw(
        "INSERT INTO audit_log (id, at, actor_id, actor_name, actor_role, action, outcome, "
        "target_type, target_id, community_id, ip, purpose, details, prev_hash, hash) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}::jsonb, {}, {})",
        *(row[c] for c in COLUMNS),
    )


async def newest(action_prefix: str, count: int) -> list[dict[str, Any]]:
    """The last `count` entries whose action starts with the prefix, oldest first."""
    rows = await (
        AuditEntry.select()
        .where(AuditEntry.action.like(action_prefix + "%"))
        .order_by(AuditEntry.id, ascending=False)
        .limit(count)
        .output(load_json=True)
    )
    return rows[::-1]


async def three_entries(tag: str) -> list[dict[str, Any]]:
    """Three fresh entries at the end of the chain."""
    for n in range(3):
        await record(f"test.chain.{tag}", actor_name="chain-test", details={"n": n, "名": "安居"})
    rows = await newest(f"test.chain.{tag}", 3)
    assert [r["details"]["n"] for r in rows] == [0, 1, 2]
    return rows


@pytest.mark.req("IAM-16")
@pytest.mark.req("IAM-02")
class TestOnlyTheAuditAdministratorReads:
    @pytest.mark.parametrize(
        "role",
        [
            Role.RESIDENT,
            Role.GUARD,
            Role.PROPERTY_MANAGER,
            Role.POLICE,
            Role.COMMUNITY_OFFICER,
            Role.SYSTEM_ADMIN,
            Role.SECURITY_ADMIN,
        ],
    )
    async def test_every_other_role_gets_404(
        self, client: ApiClient, places: World, role: Role
    ) -> None:
        users = {**places.a.users, **places.admins}
        await client.login(users[role])

        for path in (AUDIT, VERIFY, f"{AUDIT}?action=auth"):
            r = await client.get(path)
            assert r.status_code == 404, path
            assert r.json()["code"] == "not_found"

    async def test_the_audit_administrator_reads_and_verifies(
        self, auditor: ApiClient, places: World
    ) -> None:
        page = await auditor.get(AUDIT)
        checked = await auditor.get(VERIFY)

        assert page.status_code == 200
        assert page.json()["total"] >= 1
        assert checked.status_code == 200
        assert checked.json()["ok"] is True
        assert checked.json()["checked"] >= page.json()["total"]

    async def test_not_logged_in_is_401(self, client: ApiClient, places: World) -> None:
        assert (await client.get(AUDIT)).status_code == 401
        assert (await client.get(VERIFY)).status_code == 401


@pytest.mark.req("IAM-09")
class TestSearch:
    @pytest.fixture
    async def tag(self, app: Litestar) -> str:
        """Five entries under a fresh action prefix: two actors, two outcomes."""
        tag = uuid.uuid4().hex[:8]
        for action, name, outcome in [
            ("login", "alice", "ok"),
            ("login", "bob", "denied"),
            ("export", "alice", "ok"),
            ("export", "alice", "denied"),
            ("login", "carol", "ok"),
        ]:
            await record(
                f"test.{tag}.{action}",
                actor_name=f"{name}-{tag}",
                outcome=outcome,
                target_id=f"t-{tag}",
            )
        return tag

    async def test_filters_by_action_prefix(self, auditor: ApiClient, tag: str) -> None:
        every = (await auditor.get(AUDIT, params={"action": f"test.{tag}"})).json()
        logins = (await auditor.get(AUDIT, params={"action": f"test.{tag}.login"})).json()

        assert every["total"] == 5
        assert logins["total"] == 3
        assert {e["action"] for e in logins["items"]} == {f"test.{tag}.login"}

    async def test_filters_by_actor_and_outcome(self, auditor: ApiClient, tag: str) -> None:
        alice = (await auditor.get(AUDIT, params={"actor": f"alice-{tag}"})).json()
        denied = (
            await auditor.get(AUDIT, params={"action": f"test.{tag}", "outcome": "denied"})
        ).json()
        both = (
            await auditor.get(AUDIT, params={"actor": f"alice-{tag}", "outcome": "denied"})
        ).json()

        assert alice["total"] == 3
        assert {e["actor_name"] for e in alice["items"]} == {f"alice-{tag}"}
        assert sorted(e["actor_name"] for e in denied["items"]) == [f"alice-{tag}", f"bob-{tag}"]
        assert [e["action"] for e in both["items"]] == [f"test.{tag}.export"]

    async def test_pages_newest_first(self, auditor: ApiClient, tag: str) -> None:
        params = {"target_id": f"t-{tag}", "page_size": 2}
        pages = [(await auditor.get(AUDIT, params={**params, "page": n})).json() for n in (1, 2, 3)]

        items = [e for p in pages for e in p["items"]]
        assert [p["total"] for p in pages] == [5, 5, 5]
        assert [len(p["items"]) for p in pages] == [2, 2, 1]
        ids = [e["id"] for e in items]
        assert ids == sorted(ids, reverse=True)
        assert len(set(ids)) == 5
        assert items[0]["actor_name"] == f"carol-{tag}"

    async def test_filters_by_time(self, auditor: ApiClient, tag: str) -> None:
        rows = await newest(f"test.{tag}", 5)
        since = rows[2]["at"].isoformat()

        r = await auditor.get(AUDIT, params={"action": f"test.{tag}", "since": since})

        assert r.json()["total"] == 3

    async def test_bad_filters_are_4xx_with_a_code(self, auditor: ApiClient, tag: str) -> None:
        for params in (
            {"page": 0},
            {"page_size": 1000},
            {"since": "yesterday"},
            {"actor": "a\u0000"},
        ):
            r = await auditor.get(AUDIT, params=params)
            assert 400 <= r.status_code < 500, params
            assert {"code", "message"} <= set(r.json())


@pytest.mark.req("IAM-01", partial=True)
@pytest.mark.req("IAM-09")
class TestEveryWriteIsLogged:
    async def test_account_administration_names_its_actor(
        self, browser: Browser, auditor: ApiClient, places: World
    ) -> None:
        security = await make_account(Role.SECURITY_ADMIN)
        admin = await browser()
        await admin.login(security)
        body = {
            "username": f"audited.{uuid.uuid4().hex[:8]}",
            "display_name": "审计对象",
            "password": "Harbour-lights-58!",
            "role": {"role": "guard", "community_id": str(places.a.community)},
        }
        created = (await admin.post("/api/v1/accounts/", json=body)).json()
        target = f"/api/v1/accounts/{created['id']}"
        assert (await admin.patch(target, json={"display_name": "改名"})).status_code == 200
        grant = {"role": "maintenance", "community_id": str(places.a.community)}
        assert (await admin.post(f"{target}/roles", json=grant)).status_code == 200
        assert (await admin.delete(f"{target}/roles/maintenance")).status_code == 200
        assert (await admin.post("/api/v1/auth/logout")).status_code == 204

        r = await auditor.get(AUDIT, params={"actor": security.username})

        entries = r.json()["items"][::-1]
        assert [e["action"] for e in entries] == [
            "auth.login",
            "auth.totp",
            "account.created",
            "account.updated",
            "account.role.granted",
            "account.role.revoked",
            "auth.logout",
        ]
        assert {e["actor_id"] for e in entries} == {str(security.id)}
        writes = [e for e in entries if e["action"].startswith("account.")]
        assert {(e["actor_role"], e["target_type"], e["target_id"]) for e in writes} == {
            ("security_admin", "account", created["id"])
        }
        assert all(e["hash"] and e["at"] for e in entries)

    async def test_failed_logins_are_logged_as_denied(
        self, client: ApiClient, auditor: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        await client.post(
            "/api/v1/auth/login", json={"username": user.username, "password": "Nope-nope-1"}
        )

        r = await auditor.get(AUDIT, params={"actor": user.username, "outcome": "denied"})

        assert [
            (e["action"], e["actor_id"], e["details"]["reason"]) for e in r.json()["items"]
        ] == [("auth.login.failed", str(user.id), "wrong_password")]


@pytest.mark.req("IAM-16")
class TestHashChain:
    async def test_an_intact_chain_verifies(self, app: Litestar) -> None:
        await three_entries(uuid.uuid4().hex[:8])

        result = await verify()

        assert result.ok is True
        assert result.broken_id is None
        assert result.checked == await AuditEntry.count()

    async def test_each_entry_links_to_the_one_before(self, app: Litestar) -> None:
        rows = await three_entries(uuid.uuid4().hex[:8])

        assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
        for row in rows:
            assert chain_hash(row["prev_hash"], row, "std") == row["hash"]

    async def test_an_edited_entry_is_named(self, app: Litestar) -> None:
        rows = await three_entries(uuid.uuid4().hex[:8])
        middle = await raw_row(rows[1]["id"])
        await AuditEntry.raw(
            "UPDATE audit_log SET details = {}::jsonb WHERE id = {}",
            json.dumps({"n": 99}),
            middle["id"],
        )
        try:
            result = await verify()
        finally:
            await AuditEntry.raw(
                "UPDATE audit_log SET details = {}::jsonb WHERE id = {}",
                middle["details"],
                middle["id"],
            )

        assert result.ok is False
        assert result.broken_id == middle["id"]
        assert result.reason == "entry altered"
        assert (await verify()).ok is True  # restored exactly

    async def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(self, app: Litestar) -> None:
        rows = await three_entries(uuid.uuid4().hex[:8])
        middle = await raw_row(rows[1]["id"])
        forged = {**rows[1], "actor_name": "someone-else"}
        await AuditEntry.raw(
            "UPDATE audit_log SET actor_name = {}, hash = {} WHERE id = {}",
            "someone-else",
            chain_hash(forged["prev_hash"], forged, "std"),
            middle["id"],
        )
        try:
            result = await verify()
        finally:
            await AuditEntry.raw(
                "UPDATE audit_log SET actor_name = {}, hash = {} WHERE id = {}",
                middle["actor_name"],
                middle["hash"],
                middle["id"],
            )

        assert result.ok is False
        assert result.broken_id == rows[2]["id"]
        assert (await verify()).ok is True

    async def test_a_deleted_entry_is_named_by_the_next_one(self, app: Litestar) -> None:
        rows = await three_entries(uuid.uuid4().hex[:8])
        middle = await raw_row(rows[1]["id"])
        await AuditEntry.raw("DELETE FROM audit_log WHERE id = {}", middle["id"])
        try:
            result = await verify()
        finally:
            await put_back(middle)

        assert result.ok is False
        assert result.broken_id == rows[2]["id"]
        assert result.reason == "previous entry missing or altered"
        assert (await verify()).ok is True

    async def test_the_verify_endpoint_reports_a_break(self, auditor: ApiClient) -> None:
        rows = await three_entries(uuid.uuid4().hex[:8])
        middle = await raw_row(rows[1]["id"])
        await AuditEntry.raw("UPDATE audit_log SET outcome = 'denied' WHERE id = {}", middle["id"])
        try:
            r = await auditor.get(VERIFY)
        finally:
            await AuditEntry.raw(
                "UPDATE audit_log SET outcome = {} WHERE id = {}", middle["outcome"], middle["id"]
            )

        assert r.status_code == 200
        assert (r.json()["ok"], r.json()["broken_id"]) == (False, middle["id"])
        assert (await auditor.get(VERIFY)).json()["ok"] is True


def independent_canonical(row: dict[str, Any]) -> bytes:
    """The documented canonical form, written out again: sorted keys, compact, UTF-8, UTC µs."""
    fields = {
        "at": row["at"].astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": str(row["actor_id"]) if row["actor_id"] else None,
        **{
            k: row[k]
            for k in (
                "actor_name",
                "actor_role",
                "action",
                "outcome",
                "target_type",
                "target_id",
                "ip",
                "purpose",
                "details",
            )
        },
        "community_id": str(row["community_id"]) if row["community_id"] else None,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


SAMPLE = {
    "at": datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC),
    "actor_id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "actor_name": "审计员",
    "actor_role": "audit_admin",
    "action": "person.revealed",
    "outcome": "ok",
    "target_type": "person",
    "target_id": "p-1",
    "community_id": None,
    "ip": "10.0.0.8",
    "purpose": "核查身份",
    "details": {"field": "phone", "b": 1, "a": [1, 2]},
}


@pytest.fixture
async def sm_mode(settings: Settings) -> AsyncIterator[None]:
    """ANJU_CRYPTO=sm for the audit service; entries written meanwhile are removed afterwards.

    They sit at the end of the chain, so removing them leaves the chain as it was.
    """
    mark = (
        await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False).first()
    )["id"]
    audit_service.configure("sm")
    yield
    audit_service.configure(settings.crypto)
    await AuditEntry.delete().where(AuditEntry.id > mark)


@pytest.mark.req("IAM-16", partial=True)
class TestSm3Chain:
    def test_sm_mode_hashes_with_sm3(self) -> None:
        prev = "ab" * 32
        expected = hashlib.new("sm3", prev.encode() + independent_canonical(SAMPLE)).hexdigest()

        assert chain_hash(prev, SAMPLE, "sm") == expected
        assert (
            chain_hash(prev, SAMPLE, "std")
            == hashlib.sha256(prev.encode() + independent_canonical(SAMPLE)).hexdigest()
        )
        assert chain_hash(prev, SAMPLE, "sm") != chain_hash(prev, SAMPLE, "std")

    def test_sm3_matches_the_published_test_vector(self) -> None:
        # GB/T 32905-2016, appendix A.1: SM3("abc").
        assert digest(b"abc", "sm").hex() == (
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        )

    def test_the_chain_starts_from_the_genesis_hash(self) -> None:
        assert GENESIS == "0" * 64
        assert chain_hash(GENESIS, SAMPLE, "sm") != chain_hash("1" * 64, SAMPLE, "sm")

    async def test_entries_written_in_sm_mode_carry_sm3_hashes(
        self, app: Litestar, sm_mode: None
    ) -> None:
        tag = uuid.uuid4().hex[:8]
        rows = await three_entries(tag)

        for row in rows:
            assert row["hash"] == chain_hash(row["prev_hash"], row, "sm")
            assert row["hash"] != chain_hash(row["prev_hash"], row, "std")
        assert (await verify()).ok is True

    async def test_a_chain_spanning_a_switch_of_mode_still_verifies(
        self, app: Litestar, sm_mode: None
    ) -> None:
        # Entries keep the algorithm they were written with: after a switch of ANJU_CRYPTO (either
        # way) the older part of the chain must still verify, since it can never be re-hashed.
        await three_entries(uuid.uuid4().hex[:8])
        assert (await verify()).ok is True  # in sm mode, over the older SHA-256 entries

        audit_service.configure("std")
        assert (await verify()).ok is True  # back in std mode, over the SM3 entries
