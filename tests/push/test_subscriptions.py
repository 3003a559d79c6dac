"""The browser's side: the VAPID key, subscribing, re-subscribing, unsubscribing."""

from __future__ import annotations

import stat
from collections.abc import Awaitable, Callable

from api.audit.tables import AuditEntry
from api.core.auth import Role
from api.push import service
from api.push.schemas import PushMessage
from api.push.tables import Notification, PushSubscription
from api.push.vapid import VapidKey, b64url_decode
from api.settings import Settings
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, subscribed
from tests.push.push_service import LocalPushService

Browser = Callable[[], Awaitable[ApiClient]]
URL = "/api/v1/push/subscriptions"


async def _rows(endpoint: str) -> list[dict[str, object]]:
    return await PushSubscription.select().where(PushSubscription.endpoint == endpoint)


class TestVapidKey:
    async def test_key_file_is_private_and_the_endpoint_serves_its_public_half(
        self, settings: Settings, resident: ApiClient, vapid: VapidKey
    ) -> None:
        response = await resident.get("/api/v1/push/vapid-public-key")
        assert response.status_code == 200
        key = response.json()["public_key"]
        assert key == vapid.public_key_b64url()
        raw = b64url_decode(key)
        assert len(raw) == 65 and raw[0] == 4
        mode = stat.S_IMODE(settings.vapid_keys_path.stat().st_mode)
        assert mode == 0o600

    async def test_reloading_the_file_gives_the_same_key(
        self, settings: Settings, vapid: VapidKey
    ) -> None:
        again = VapidKey.load_or_create(settings.vapid_keys_path, subject="mailto:x@localhost")
        assert again.public_key_b64url() == vapid.public_key_b64url()

    async def test_needs_a_login(self, client: ApiClient) -> None:
        response = await client.get("/api/v1/push/vapid-public-key")
        assert response.status_code == 401


class TestSubscribe:
    async def test_saves_the_subscription_once_and_lists_it(
        self, resident: ApiClient, push: LocalPushService, world: World
    ) -> None:
        browser, body = await subscribed(resident, push)
        assert body["endpoint"] == browser.endpoint
        assert body["user_agent"] == "FakeBrowser/1"
        again = await resident.post(URL, json=browser.subscription())
        assert again.status_code == 200 and again.json()["id"] == body["id"]
        assert len(await _rows(browser.endpoint)) == 1
        listed = (await resident.get(URL)).json()
        assert [s["endpoint"] for s in listed] == [browser.endpoint]
        audit = await AuditEntry.select().where(
            (AuditEntry.action == "push.subscribed") & (AuditEntry.target_id == body["id"])
        )
        assert len(audit) == 2
        assert audit[0]["actor_id"] == world.a.users[Role.RESIDENT].id
        assert browser.endpoint not in str(audit[0]["details"])  # a capability URL: not logged

    async def test_lists_only_the_callers_own(
        self, as_role: AsRole, resident: ApiClient, push: LocalPushService
    ) -> None:
        await subscribed(resident, push)
        other = await as_role(Role.RESIDENT, "b")
        assert (await other.get(URL)).json() == []

    async def test_a_browser_that_changes_account_is_reowned(
        self, as_role: AsRole, resident: ApiClient, push: LocalPushService, world: World
    ) -> None:
        fake, _ = await subscribed(resident, push)
        first = world.a.users[Role.RESIDENT].id
        [pending] = await service.notify([first], PushMessage(title="t", body="for the first"))
        other = await as_role(Role.RESIDENT, "b")
        response = await other.post(URL, json=fake.subscription())
        assert response.status_code == 200
        [row] = await _rows(fake.endpoint)
        assert row["account"] == world.b.users[Role.RESIDENT].id
        assert (await resident.get(URL)).json() == []
        moved = await Notification.select().where(Notification.id == pending).first()
        assert (
            moved is not None and moved["state"] == "gone"
        )  # the first owner's message never reaches the new one

    async def test_pushsubscriptionchange_replaces_the_old_endpoint(
        self, resident: ApiClient, push: LocalPushService, world: World
    ) -> None:
        old, _ = await subscribed(resident, push)
        account = world.a.users[Role.RESIDENT].id
        [pending] = await service.notify([account], PushMessage(title="t", body="b"))
        new = push.browser(old.application_server_key)
        response = await resident.post(URL, json=new.subscription(old_endpoint=old.endpoint))
        assert response.status_code == 200
        assert await _rows(old.endpoint) == []
        [row] = await _rows(new.endpoint)
        moved = await Notification.select().where(Notification.id == pending).first()
        assert moved is not None
        assert moved["subscription"] == row["id"] and moved["state"] == "pending"

    async def test_old_endpoint_of_another_account_is_left_alone(
        self, as_role: AsRole, resident: ApiClient, push: LocalPushService
    ) -> None:
        theirs, _ = await subscribed(resident, push)
        other = await as_role(Role.RESIDENT, "b")
        mine = push.browser(theirs.application_server_key)
        response = await other.post(URL, json=mine.subscription(old_endpoint=theirs.endpoint))
        assert response.status_code == 200
        assert len(await _rows(theirs.endpoint)) == 1

    async def test_needs_a_login(self, client: ApiClient, push: LocalPushService) -> None:
        fake = push.browser("unused")
        assert (await client.post(URL, json=fake.subscription())).status_code == 401
        assert (await client.get(URL)).status_code == 401


class TestSubscribeBadInput:
    async def test_endpoint_must_be_https(
        self, resident: ApiClient, push: LocalPushService
    ) -> None:
        fake = push.browser("unused")
        for endpoint in ("http://push.example.com/x", "ftp://push.example.com/x", "https:///x"):
            body = {**fake.subscription(), "endpoint": endpoint}
            response = await resident.post(URL, json=body)
            assert response.status_code == 400, endpoint
            assert response.json()["code"] == "invalid_push_subscription"

    async def test_keys_must_have_the_right_lengths(
        self, resident: ApiClient, push: LocalPushService
    ) -> None:
        fake = push.browser("unused")
        good = fake.subscription()
        short_auth = {**good["keys"], "auth": good["keys"]["auth"][:-4]}
        short_key = {**good["keys"], "p256dh": good["keys"]["p256dh"][:-8]}
        off_curve = {**good["keys"], "p256dh": "BA" + "A" * 85}
        for keys in (short_auth, short_key, off_curve):
            response = await resident.post(URL, json={**good, "keys": keys})
            assert response.status_code == 400, keys
        assert await _rows(fake.endpoint) == []

    async def test_undecodable_bodies_are_422(
        self, resident: ApiClient, push: LocalPushService
    ) -> None:
        fake = push.browser("unused")
        good = fake.subscription()
        for body in (
            {"endpoint": fake.endpoint},
            {**good, "keys": {**good["keys"], "auth": "not base64!!"}},
            {**good, "endpoint": 42},
        ):
            assert (await resident.post(URL, json=body)).status_code == 422, body


class TestUnsubscribe:
    async def test_forgets_the_own_subscription(
        self, resident: ApiClient, push: LocalPushService
    ) -> None:
        fake, _ = await subscribed(resident, push)
        response = await resident.request("DELETE", URL, json={"endpoint": fake.endpoint})
        assert response.status_code == 204
        assert await _rows(fake.endpoint) == []
        assert (await AuditEntry.count().where(AuditEntry.action == "push.unsubscribed")) >= 1

    async def test_another_accounts_endpoint_is_not_found(
        self, as_role: AsRole, resident: ApiClient, push: LocalPushService
    ) -> None:
        fake, _ = await subscribed(resident, push)
        other = await as_role(Role.RESIDENT, "b")
        response = await other.request("DELETE", URL, json={"endpoint": fake.endpoint})
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert len(await _rows(fake.endpoint)) == 1
        unknown = await other.request("DELETE", URL, json={"endpoint": fake.endpoint + "x"})
        assert unknown.status_code == 404

    async def test_bad_body_and_no_login(self, resident: ApiClient, client: ApiClient) -> None:
        assert (await resident.request("DELETE", URL, json={})).status_code == 422
        response = await client.request("DELETE", URL, json={"endpoint": "https://x.example/1"})
        assert response.status_code == 401
