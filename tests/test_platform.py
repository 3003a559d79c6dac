"""The platform as a whole: schema vs migrations, OpenAPI freshness, probes, realtime."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from litestar import Litestar
from litestar.channels import ChannelsPlugin
from piccolo.apps.migrations.commands.new import AutoMigrationManager

from api.cli import OPENAPI_PATH, openapi_document
from api.core.auth import Role
from api.core.realtime import community_channel, publish, user_channel
from api.piccolo_app import APP_CONFIG
from tests.helpers import ApiClient, World, eventually, live_socket


class TestSchema:
    async def test_tables_and_migrations_agree(self, settings: object) -> None:
        """A table changed without `piccolo migrations new anju --auto` fails here."""
        statements = await AutoMigrationManager(auto_input="y").get_alter_statements(APP_CONFIG)
        pending = [s for group in statements for s in group.statements]
        assert pending == [], "tables differ from migrations:\n" + "\n".join(pending)

    def test_openapi_is_fresh(self) -> None:
        """Endpoints changed without `anju openapi` fails here."""
        assert OPENAPI_PATH.read_bytes() == openapi_document(), "run `anju openapi`"


class TestProbes:
    async def test_health_and_ready(self, client: ApiClient) -> None:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ok", "database": "ok", "redis": "ok"}


class TestRealtime:
    async def test_socket_receives_own_channel_only(
        self, app: Litestar, live_url: str, world: World
    ) -> None:
        """An event published for one account reaches that account's socket and no other."""
        resident, guard = world.a.users[Role.RESIDENT], world.a.users[Role.GUARD]
        async with (
            live_socket(live_url, resident) as resident_ws,
            live_socket(live_url, guard) as guard_ws,
        ):
            publish(
                app.plugins.get(ChannelsPlugin), {"type": "ping", "n": 1}, user_channel(resident.id)
            )
            ping = json.loads(await asyncio.wait_for(resident_ws.recv(), 5))
            assert ping == {"type": "ping", "n": 1}
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(guard_ws.recv(), 0.5)

    @pytest.mark.req("REG-09", partial=True)
    async def test_community_board_reaches_staff_and_never_residents(
        self, app: Litestar, live_url: str, world: World
    ) -> None:
        """A board event (another household's SOS, say) must not reach a resident's phone."""
        async with (
            live_socket(live_url, world.a.users[Role.RESIDENT]) as resident_ws,
            live_socket(live_url, world.a.users[Role.GUARD]) as guard_ws,
        ):
            event = {"type": "alarm", "n": 2}
            publish(app.plugins.get(ChannelsPlugin), event, community_channel(world.a.community))
            assert json.loads(await asyncio.wait_for(guard_ws.recv(), 5)) == event
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(resident_ws.recv(), 0.5)

    async def test_a_phone_gone_with_events_on_their_way_lets_go_of_its_channels(
        self, app: Litestar, live_url: str, world: World
    ) -> None:
        """A socket whose peer vanishes while events queue for it ends on the server too and
        unsubscribes (it once waited for ever for events nobody could take any more)."""
        resident = world.a.users[Role.RESIDENT]
        channels = app.plugins.get(ChannelsPlugin)
        key = user_channel(resident.id)

        async def followers() -> int:
            return int(dict(await app.state.redis.pubsub_numsub(key))[key.encode()])

        async def unfollowed() -> bool:
            return await followers() == 0

        for _ in range(5):  # the race is the server's: give it several chances to lose it
            async with live_socket(live_url, resident) as ws:
                await eventually(followers)  # subscribed (the stream follows within moments)
                ws.transport.abort()  # no close handshake: the phone lost its network
                for n in range(200):
                    publish(channels, {"type": "ping", "n": n}, user_channel(resident.id))
            await eventually(unfollowed, timeout=10)

    async def test_socket_without_session_is_refused(self, live_url: str) -> None:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(live_url.replace("http", "ws") + "/api/v1/ws")
        assert refused.value.response.status_code == 403


class TestSettings:
    def test_environment_builds_settings(self) -> None:
        from pathlib import Path

        from api.settings import from_environ

        s = from_environ(
            {
                "ANJU_DATA_DIR": "/srv/anju",
                "ANJU_PORT": "9000",
                "ANJU_LOG_JSON": "false",
                "ANJU_CRYPTO": "sm",
            }
        )
        assert (s.data_dir, s.port, s.log_json, s.crypto) == (Path("/srv/anju"), 9000, False, "sm")
        assert s.keyring_path == Path("/srv/anju/keyring.json")

    def test_bad_value_is_refused(self) -> None:
        import msgspec

        from api.settings import from_environ

        with pytest.raises(msgspec.ValidationError):
            from_environ({"ANJU_CRYPTO": "rot13"})
