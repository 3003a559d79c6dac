"""Request budgets per client address, counted in Redis (the app's `rate_limit` store) so every api
instance shares them. The login endpoints spend the default budget; any other public endpoint that
a stranger could hammer (the visitor's pass page, bridge enrolment) gets a bucket of its own, so
one cannot spend the others' allowance."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address


def address_rate_limit(per_minute: int, bucket: str) -> RateLimitConfig:
    """`per_minute` requests per client address in the named bucket (the limiter keys on it)."""

    def client(request: Request[Any, Any, Any]) -> str:
        return f"{bucket}:{get_remote_address(request)}"

    return RateLimitConfig(
        rate_limit=("minute", per_minute), store="rate_limit", identifier_for_request=client
    )
