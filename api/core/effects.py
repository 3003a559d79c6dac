"""What happens after a transaction commits: live events, jobs, and the domains' after-commit hooks.

Services collect these in an `Effects` while they write (inside the transaction) and they are
applied after commit through an `Outlet`: the app's (Litestar channels, the arq pool) or a
worker's (its arq Redis). Nothing here runs inside a transaction, so a rolled-back write announces
nothing. A request gets its `Effects` from `provide_effects`, which applies them once the handler
has returned without raising; a handler never applies them by hand. In the app, `apply_after_commit`
is the one place that applies: the dependency and a bridge link's committed ingest batch call it.

Core knows only the generic parts. What a domain announces (an alarm on the board, rules or
credentials to the bridges, push notifications) it records as keys under a hook name
(`effects.after(name, *keys)`); `api/app.py` registers the hook for each name (`register`), and
`apply` calls it once per key. So a lower layer never imports the domain that announces.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
import structlog
from arq.connections import ArqRedis
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from redis.asyncio import Redis

from api.core.realtime import fanout, publish

log = structlog.get_logger()


class Outlet(Protocol):
    """Where effects go: live channels, the job queue, and Redis for bridge frames."""

    @property
    def queue(self) -> ArqRedis:
        """The arq pool jobs and push deliveries are enqueued on."""
        ...

    @property
    def redis(self) -> Redis:
        """Redis, for frames to bridges over the command bus."""
        ...

    async def publish(self, event: dict[str, Any], *channels: str) -> None:
        """Send a live event to the channels' sockets."""
        ...


class AppOutlet:
    """Effects from a request or a bridge link: Litestar channels and the app's arq pool."""

    def __init__(self, channels: ChannelsPlugin, redis: Redis, queue: ArqRedis) -> None:
        self.channels = channels
        self.redis = redis
        self.queue = queue

    async def publish(self, event: dict[str, Any], *channels: str) -> None:
        """Through the ChannelsPlugin (api/core/realtime.py)."""
        publish(self.channels, event, *channels)


class WorkerOutlet:
    """Effects from a worker job: the same channels, published straight on Redis pub/sub.

    The channels plugin's pub/sub backend uses channel names as they are, so a PUBLISH of the
    JSON event reaches every api instance's subscribers exactly as `publish` would.
    """

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis
        self.queue = redis

    async def publish(self, event: dict[str, Any], *channels: str) -> None:
        """PUBLISH the JSON event on each channel (and the feeds `publish` adds)."""
        data = msgspec.json.encode(event)
        for channel in fanout(channels):
            await self.redis.publish(channel, data)


@dataclass
class Job:
    """A job to enqueue: arq function name, keyword arguments, delay and dedupe id."""

    name: str
    kwargs: dict[str, Any]
    defer: float | None = None
    job_id: str | None = None


Hook = Callable[["Outlet", Any], Awaitable[object]]
"""An after-commit hook: what to do, through the outlet, for one key a service recorded."""

_HOOKS: dict[str, Hook] = {}


def register(hooks: Mapping[str, Hook]) -> None:
    """Register the domains' after-commit hooks by name (api/app.py, at app and worker start)."""
    _HOOKS.update(hooks)


@dataclass
class Effects:
    """Everything to announce once the transaction has committed."""

    events: list[tuple[dict[str, Any], tuple[str, ...]]] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    # hook name -> its keys, in the order recorded, each once (a dict is an ordered set)
    later: dict[str, dict[Any, None]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.events or self.jobs or any(self.later.values()))

    def send(self, event: dict[str, Any], *channels: str) -> None:
        """A live event for particular channels (a user's, a community's)."""
        self.events.append((event, channels))

    def job(
        self, name: str, *, defer: float | None = None, job_id: str | None = None, **kwargs: Any
    ) -> None:
        """Enqueue a job."""
        self.jobs.append(Job(name, kwargs, defer, job_id))

    def after(self, hook: str, *keys: Any) -> None:
        """Have the hook registered as `hook` run once for each key after commit."""
        self.later.setdefault(hook, {}).update(dict.fromkeys(keys))

    def keys(self, hook: str) -> list[Any]:
        """The keys recorded for a hook, in order."""
        return list(self.later.get(hook, ()))

    def merge(self, other: Effects) -> None:
        """Take on another batch of effects."""
        self.events += other.events
        self.jobs += other.jobs
        for hook, keys in other.later.items():
            self.after(hook, *keys)

    async def apply(self, outlet: Outlet) -> None:
        """Announce it all; a failure is logged, never raised (the rows are committed already).

        What a failure loses is recovered elsewhere: the sweep re-enqueues linkage and escalation
        jobs, the push sweep re-sends pending notifications, a board reloads on reconnect, a
        bridge's heartbeat catches up its credentials.
        """

        async def step(what: str, call: Awaitable[object]) -> None:
            try:
                await call
            except Exception:
                log.exception("effects.failed", step=what)

        for hook, keys in self.later.items():
            run = _HOOKS.get(hook)
            if run is None:
                log.error("effects.hook.missing", hook=hook)
                continue
            for key in keys:
                await step(hook, run(outlet, key))
        for event, channels in self.events:
            await step("event", outlet.publish(event, *channels))
        for job in self.jobs:
            await step(
                job.name,
                outlet.queue.enqueue_job(
                    job.name, _job_id=job.job_id, _defer_by=job.defer, **job.kwargs
                ),
            )


async def apply_after_commit(effects: Effects, state: State, channels: ChannelsPlugin) -> None:
    """Apply committed effects through the app's outlet (its channels, Redis and arq pool)."""
    if effects:
        await effects.apply(AppOutlet(channels, state.redis, state.queue))


async def provide_effects(state: State, channels: ChannelsPlugin) -> AsyncGenerator[Effects, None]:
    """A request's effects, applied after its handler returns, and only if it did not raise.

    Litestar runs a yield dependency's cleanup after the handler and its response are built, before
    the response is sent; when the handler raises, the exception is thrown in at the `yield`, so
    nothing after it runs and the exception goes on to the error handlers.
    """
    effects = Effects()
    yield effects
    await apply_after_commit(effects, state, channels)
