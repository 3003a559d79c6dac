"""What happens after a transaction commits: the live board, pushes, jobs, rules to the bridges.

Services collect these in an `Effects` while they write (inside the transaction) and the caller
applies them after commit through an `Outlet`: the app's (Litestar channels, the arq pool) or a
worker's (its arq Redis). Nothing here runs inside a transaction, so a rolled-back write announces
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import msgspec
import structlog
from arq.connections import ArqRedis
from litestar.channels import ChannelsPlugin
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


@dataclass
class Effects:
    """Everything to announce once the transaction has committed."""

    raised: list[UUID] = field(default_factory=list)
    alarms: set[UUID] = field(default_factory=set)
    events: list[tuple[dict[str, Any], tuple[str, ...]]] = field(default_factory=list)
    notifications: list[UUID] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    rules: set[UUID] = field(default_factory=set)
    credentials: set[UUID] = field(default_factory=set)  # communities: push to their bridges

    def __bool__(self) -> bool:
        return bool(
            self.alarms
            or self.events
            or self.notifications
            or self.jobs
            or self.rules
            or self.credentials
        )

    def board(self, alarm_id: UUID) -> None:
        """Show the alarm's new state on its community's board."""
        self.alarms.add(alarm_id)

    def send(self, event: dict[str, Any], *channels: str) -> None:
        """A live event for particular channels (a user's)."""
        self.events.append((event, channels))

    def job(
        self, name: str, *, defer: float | None = None, job_id: str | None = None, **kwargs: Any
    ) -> None:
        """Enqueue a job."""
        self.jobs.append(Job(name, kwargs, defer, job_id))

    def merge(self, other: Effects) -> None:
        """Take on another batch of effects."""
        self.raised += other.raised
        self.alarms |= other.alarms
        self.events += other.events
        self.notifications += other.notifications
        self.jobs += other.jobs
        self.rules |= other.rules
        self.credentials |= other.credentials

    async def apply(self, outlet: Outlet) -> None:
        """Announce it all; a failure is logged, never raised (the rows are committed already).

        What a failure loses is recovered elsewhere: the sweep re-enqueues linkage and escalation
        jobs, the push sweep re-sends pending notifications, a board reloads on reconnect.
        """
        # Imported here: these modules produce effects themselves.
        from api.access.sync import push_credentials
        from api.alarms.failsafe import push_rules
        from api.alarms.reads import board_event
        from api.push.service import dispatch

        async def step(what: str, call: Any) -> None:
            try:
                await call
            except Exception:
                log.exception("alarm.effects.failed", step=what)

        for alarm_id in sorted(self.alarms):
            found = await board_event(alarm_id)
            if found is not None:
                await step("board", outlet.publish(*found))
        for event, channels in self.events:
            await step("event", outlet.publish(event, *channels))
        if self.notifications:
            await step("dispatch", dispatch(outlet.queue, self.notifications))
        for job in self.jobs:
            await step(
                job.name,
                outlet.queue.enqueue_job(
                    job.name, _job_id=job.job_id, _defer_by=job.defer, **job.kwargs
                ),
            )
        for community_id in self.rules:
            await step("rules", push_rules(outlet.redis, community_id))
        for community_id in sorted(self.credentials):
            await step("credentials", push_credentials(outlet.redis, community_id))
