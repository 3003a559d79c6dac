"""A request's effects: applied after the handler returns, never after it raises."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, post
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.datastructures import State
from litestar.di import Provide
from litestar.testing import AsyncTestClient

from api.core import effects as core_effects
from api.core.effects import Effects, Outlet, provide_effects
from api.core.errors import EXCEPTION_HANDLERS, Conflict

HOOK = "tests.effects.seen"


async def test_a_handler_s_effects_run_after_it_returns_and_not_when_it_raises() -> None:
    seen: list[Any] = []

    async def hook(outlet: Outlet, key: Any) -> None:
        seen.append(key)

    core_effects.register({HOOK: hook})

    @post("/ok", sync_to_thread=False)
    def ok(effects: Effects) -> None:
        effects.after(HOOK, "ok")
        assert seen == []  # nothing is announced while the handler runs

    @post("/fails", sync_to_thread=False)
    def fails(effects: Effects) -> None:
        effects.after(HOOK, "fails")
        raise Conflict()

    app = Litestar(
        [ok, fails],
        dependencies={"effects": Provide(provide_effects)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        plugins=[ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)],
        state=State({"redis": None, "queue": None}),
    )
    async with AsyncTestClient(app) as client:
        assert (await client.post("/fails")).status_code == 409
        assert (await client.post("/ok")).status_code == 201
    assert seen == ["ok"]


def test_keys_of_a_hook_are_kept_once_in_the_order_recorded() -> None:
    first, second = Effects(), Effects()
    first.after(HOOK, 2, 1)
    second.after(HOOK, 1, 3)
    first.merge(second)
    assert first.keys(HOOK) == [2, 1, 3] and first and not Effects()
