"""Request budgets per client address, counted in Redis (the app's `rate_limit` store) so every api
instance shares them. The login endpoints spend the default budget; any other public endpoint that
a stranger could hammer (the visitor's pass page, bridge enrolment) gets a bucket of its own, so
one cannot spend the others' allowance. Longer budgets a service keeps itself (codes per phone,
reports per QR label) are counted with `spend`."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from redis.asyncio import Redis

from api.core.errors import DomainError


def address_rate_limit(per_minute: int, bucket: str) -> RateLimitConfig:
    """`per_minute` requests per client address in the named bucket (the limiter keys on it)."""

    def client(request: Request[Any, Any, Any]) -> str:
        return f"{bucket}:{get_remote_address(request)}"

    return RateLimitConfig(
        rate_limit=("minute", per_minute), store="rate_limit", identifier_for_request=client
    )


class TooManyRequests(DomainError):
    """A client address (or another key: a phone, a label) spent its budget for the window."""

    status_code = 429
    code = "too_many_requests"
    message = "Too many attempts; try again later."


async def spend(redis: Redis, key: str, limit: int, window: int) -> None:
    """Count one use of a budget kept in Redis (every api process shares it); TooManyRequests
    once `limit` uses were counted in the `window` (s) that began with the first."""
    used = await redis.incr(key)
    if used == 1:
        await redis.expire(key, window)
    if used > limit:
        raise TooManyRequests()
