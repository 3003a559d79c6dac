"""Web push: browsers' subscriptions, the notifications owed to them, and their delivery.

A notification is a PostgreSQL row first (`notify`, in the caller's transaction), then a job
(`dispatch`, after commit). The job claims the row atomically (pending → sending), sends it with
VAPID and aes128gcm, and records the outcome; a cron sweep re-enqueues rows whose job was lost.
The states, retries and the exactly-once argument are in docs/push.md.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit
from uuid import UUID

import aiohttp
import msgspec
import structlog
from arq.connections import ArqRedis
from cryptography.hazmat.primitives.asymmetric import ec
from pywebpush import WebPusher, WebPushException
from redis.exceptions import RedisError

from api.audit.service import record
from api.core import jobs
from api.core.auth import Caller
from api.core.errors import InvalidInput, NotFound
from api.piccolo_conf import DB
from api.push.schemas import PushMessage, SubscriptionCreate, SubscriptionRead
from api.push.tables import Notification, PushSubscription
from api.push.vapid import VapidKey, b64url, b64url_decode

log = structlog.get_logger()

DISPATCH = "push.dispatch"  # after-commit hook: notification ids to enqueue for delivery
# Delays before the 2nd, 3rd, … attempt after a transient failure (429, 5xx, network); then failed.
BACKOFF = (1.0, 5.0, 30.0, 120.0, 600.0)
MAX_ATTEMPTS = len(BACKOFF) + 1
RETRY_AFTER_CAP = 3600.0
SEND_TIMEOUT = 10.0  # seconds for one request to a push service
PENDING_GRACE = timedelta(seconds=5)  # a pending row this overdue has lost its job
SENDING_LIMIT = timedelta(seconds=30)  # a claim this old belongs to a worker that died
SWEEP_BATCH = 500
MAX_PAYLOAD = 3800  # bytes of JSON; push services take 4 kB of ciphertext per message
MAX_SUBSCRIPTIONS = 20  # per account; the oldest browser is forgotten beyond this
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

State = Literal["sent", "gone", "failed", "pending", "skipped"]


class InvalidSubscription(InvalidInput):
    """The endpoint or keys are not what a browser's PushSubscription holds."""

    code = "invalid_push_subscription"
    message = "The push subscription is not valid."


class Delivery(msgspec.Struct, kw_only=True, frozen=True):
    """What one delivery attempt did; `retry_in` is set when the job should run again."""

    state: State
    status: int | None = None
    retry_in: timedelta | None = None


class SweepResult(msgspec.Struct, kw_only=True, frozen=True):
    """Rows the sweep took back from dead workers and rows it enqueued again."""

    reclaimed: int
    requeued: int


# --- subscriptions -----------------------------------------------------------------------------


def _check_subscription(data: SubscriptionCreate) -> None:
    url = urlsplit(data.endpoint)
    local = url.scheme == "http" and url.hostname in LOCAL_HOSTS
    if not (url.scheme == "https" or local) or not url.hostname:
        raise InvalidSubscription("The endpoint must be an https URL of a push service.")
    try:
        p256dh = b64url_decode(data.keys.p256dh)
        auth = b64url_decode(data.keys.auth)
    except ValueError as err:
        raise InvalidSubscription("The keys are not base64url.") from err
    if len(auth) != 16:
        raise InvalidSubscription("The auth secret must be 16 bytes.")
    if len(p256dh) != 65 or p256dh[0] != 4:
        raise InvalidSubscription("p256dh must be an uncompressed P-256 point (65 bytes).")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    except ValueError as err:
        raise InvalidSubscription("p256dh is not a point on P-256.") from err


def _read(row: dict[str, Any]) -> SubscriptionRead:
    return SubscriptionRead(
        id=row["id"],
        endpoint=row["endpoint"],
        user_agent=row["user_agent"],
        created_at=row["created_at"],
        last_success_at=row["last_success_at"],
    )


_READ_COLUMNS = (
    PushSubscription.id,
    PushSubscription.endpoint,
    PushSubscription.user_agent,
    PushSubscription.created_at,
    PushSubscription.last_success_at,
)


async def subscribe(caller: Caller, data: SubscriptionCreate) -> SubscriptionRead:
    """Save the browser's subscription for the caller (upsert by endpoint; re-owned if needed).

    With `old_endpoint` (the service worker's `pushsubscriptionchange`), the caller's old row is
    replaced: its pending notifications move to the new endpoint.
    """
    _check_subscription(data)
    ps, n = PushSubscription, Notification
    async with DB.transaction():
        previous = await ps.select(ps.id, ps.account).where(ps.endpoint == data.endpoint).first()
        rows = await (
            ps.insert(
                ps(
                    account=caller.account_id,
                    endpoint=data.endpoint,
                    p256dh=data.keys.p256dh,
                    auth=data.keys.auth,
                    user_agent=data.user_agent,
                )
            )
            .on_conflict(
                target=ps.endpoint,
                action="DO UPDATE",
                values=[ps.account, ps.p256dh, ps.auth, ps.user_agent],
            )
            .returning(*_READ_COLUMNS)
        )
        row = rows[0]
        reowned = previous is not None and previous["account"] != caller.account_id
        if reowned:
            # The browser now belongs to someone else: the former owner's messages must not reach
            # it.
            await n.update({n.state: "gone", n.last_error: "browser changed account"}).where(
                (n.subscription == row["id"])
                & (n.state == "pending")
                & (n.account != caller.account_id)
            )
        replaced = False
        if data.old_endpoint and data.old_endpoint != data.endpoint:
            old = (
                await ps.select(ps.id)
                .where((ps.endpoint == data.old_endpoint) & (ps.account == caller.account_id))
                .first()
            )
            if old is not None:
                await n.update({n.subscription: row["id"]}).where(
                    (n.subscription == old["id"]) & (n.state == "pending")
                )
                await ps.delete().where(ps.id == old["id"])
                replaced = True
        await _forget_oldest(caller.account_id)
        await record(
            "push.subscribed",
            actor=caller,
            ip=caller.ip,
            target_type="push_subscription",
            target_id=str(row["id"]),
            details={
                "user_agent": data.user_agent,
                "push_service": urlsplit(data.endpoint).hostname,
                "new": previous is None,
                "reowned": reowned,
                "replaced": replaced,
            },
        )
    return _read(row)


async def _forget_oldest(account_id: UUID) -> None:
    ps = PushSubscription
    keep = (
        await ps.select(ps.id)
        .where(ps.account == account_id)
        .order_by(ps.created_at, ascending=False)
        .limit(MAX_SUBSCRIPTIONS)
    )
    await ps.delete().where((ps.account == account_id) & ps.id.not_in([r["id"] for r in keep]))


async def unsubscribe(caller: Caller, endpoint: str) -> None:
    """Forget one of the caller's subscriptions; another account's endpoint is NotFound."""
    ps = PushSubscription
    async with DB.transaction():
        rows = await (
            ps.delete()
            .where((ps.endpoint == endpoint) & (ps.account == caller.account_id))
            .returning(ps.id)
        )
        if not rows:
            raise NotFound()
        await record(
            "push.unsubscribed",
            actor=caller,
            ip=caller.ip,
            target_type="push_subscription",
            target_id=str(rows[0]["id"]),
        )


async def subscriptions(caller: Caller) -> list[SubscriptionRead]:
    """The caller's subscriptions, newest first."""
    ps = PushSubscription
    rows = (
        await ps.select(*_READ_COLUMNS)
        .where(ps.account == caller.account_id)
        .order_by(ps.created_at, ascending=False)
    )
    return [_read(r) for r in rows]


# --- notifications -----------------------------------------------------------------------------


def topic(notification_id: UUID) -> str:
    """The `Topic` header: 22 base64url characters, so a push service collapses a re-send."""
    return b64url(notification_id.bytes)


def _size(payload: dict[str, Any]) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode())


def _shorten(text: str, excess: int) -> str:
    """Cut about `excess` bytes off the end, marking the cut with an ellipsis."""
    encoded = text.encode()
    keep = len(encoded) - excess - len("…".encode())
    return encoded[:keep].decode(errors="ignore").rstrip() + "…" if keep > 0 else ""


def _fit(payload: dict[str, Any]) -> dict[str, Any]:
    """Shorten the body, then drop `data`, then shorten the title, until the message fits.

    Never an error: `notify` runs inside the caller's transaction (an alarm being raised), and a
    long text must not undo that. The full text stays on the page the notification opens.
    """
    if _size(payload) <= MAX_PAYLOAD:
        return payload
    log.warning("push.payload.trimmed", notification_id=payload["id"], size=_size(payload))
    for field in ("body", "data", "title"):
        if _size(payload) <= MAX_PAYLOAD:
            break
        if field == "data":
            payload["data"] = {}
        while _size(payload) > MAX_PAYLOAD and payload[field]:
            payload[field] = _shorten(payload[field], _size(payload) - MAX_PAYLOAD)
    return payload


async def notify(account_ids: Iterable[UUID], message: PushMessage) -> list[UUID]:
    """One Notification row per subscription of each account, in the caller's transaction (if any).

    Accounts without a subscription get none. Call `dispatch` with the ids after commit.
    """
    accounts = list(dict.fromkeys(account_ids))
    if not accounts:
        return []
    ps = PushSubscription
    rows: list[Notification] = []
    # Joins the caller's transaction when there is one (nested transactions are the outer one).
    async with DB.transaction():
        for sub in await ps.select(ps.id, ps.account).where(ps.account.is_in(accounts)):
            notification_id = uuid.uuid4()
            payload = _fit(
                {
                    "id": str(notification_id),
                    "title": message.title,
                    "body": message.body,
                    "url": message.url,
                    "tag": message.tag or str(notification_id),
                    "data": message.data,
                }
            )
            rows.append(
                Notification(
                    id=notification_id,
                    account=sub["account"],
                    subscription=sub["id"],
                    payload=payload,
                    urgency=message.urgency,
                    ttl=message.ttl,
                )
            )
        if rows:
            await Notification.insert(*rows)
    return [r.id for r in rows]


async def dispatch(queue: ArqRedis, notification_ids: Sequence[UUID]) -> None:
    """After commit: enqueue one delivery job per notification (job id `push:<id>` for dedupe).

    A lost enqueue (Redis down, a crash before this call) is made good by the sweep within ~15 s.
    """
    for notification_id in notification_ids:
        try:
            await queue.enqueue_job(
                jobs.DELIVER_NOTIFICATION,
                notification_id=notification_id,
                _job_id=f"push:{notification_id}",
            )
        except (RedisError, OSError) as err:  # the rows are safe; the sweep enqueues them
            log.warning("push.dispatch.deferred", count=len(notification_ids), error=repr(err))
            return


# --- delivery ----------------------------------------------------------------------------------


_CLAIM = """
UPDATE notifications
   SET state = 'sending', claimed_at = now(), attempts = attempts + 1, next_attempt_at = NULL
 WHERE id = {} AND state = 'pending'
RETURNING id, subscription, payload::text AS payload, urgency, ttl, attempts,
          extract(epoch FROM now() - created_at)::float8 AS age
"""

# Every outcome is written only while the row is still this attempt's claim: a worker that the
# sweep gave up on cannot overwrite what its successor recorded.
_SETTLE = """
UPDATE notifications
   SET state = {}, last_error = {}, sent_at = CASE WHEN {}::boolean THEN now() END,
       next_attempt_at = now() + {}::interval
 WHERE id = {} AND state = 'sending' AND attempts = {}
RETURNING id
"""


async def _settle(
    claim: dict[str, Any], state: State, error: str = "", *, retry_in: timedelta | None = None
) -> bool:
    rows = await Notification.raw(
        _SETTLE, state, error[:200], state == "sent", retry_in, claim["id"], claim["attempts"]
    )
    return bool(rows)


def _backoff(attempts: int, retry_after: str | None) -> timedelta:
    delay = BACKOFF[min(attempts, len(BACKOFF)) - 1] * random.uniform(1.0, 1.25)
    if retry_after and retry_after.strip().isdigit():
        delay = max(delay, min(float(retry_after), RETRY_AFTER_CAP))
    return timedelta(seconds=delay)


async def _post(
    claim: dict[str, Any], sub: dict[str, Any], *, vapid: VapidKey, http: aiohttp.ClientSession
) -> tuple[int | None, str, str | None]:
    """Encrypt and POST; (status or None on a network error, error text, Retry-After)."""
    remaining = int(claim["ttl"] - claim["age"])
    pusher = WebPusher(
        {"endpoint": sub["endpoint"], "keys": {"p256dh": sub["p256dh"], "auth": sub["auth"]}},
        aiohttp_session=http,
    )
    headers = {
        "Authorization": vapid.authorization(sub["endpoint"]),
        "Urgency": claim["urgency"],
        "Topic": topic(claim["id"]),
    }
    try:
        response = await pusher.send_async(
            data=claim["payload"].encode(),
            headers=headers,
            ttl=max(remaining, 1),
            content_encoding="aes128gcm",
            timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT),
        )
    except (aiohttp.ClientError, TimeoutError) as err:
        return None, f"network: {type(err).__name__}", None
    assert not isinstance(response, str)  # only curl=True returns a string
    return (
        response.status,
        f"HTTP {response.status} {response.reason or ''}".strip(),
        (response.headers.get("Retry-After")),
    )


async def deliver(
    notification_id: UUID, *, vapid: VapidKey, http: aiohttp.ClientSession
) -> Delivery:
    """Claim the notification, send it to its browser's push service and record the outcome.

    Idempotent: a row that is not pending (sent, being sent, given up) is left alone.
    """
    rows = await Notification.raw(_CLAIM, notification_id)
    if not rows:
        return Delivery(state="skipped")
    claim = rows[0]
    ps = PushSubscription
    sub = None
    if claim["subscription"] is not None:
        sub = (
            await ps.select(ps.endpoint, ps.p256dh, ps.auth)
            .where(ps.id == claim["subscription"])
            .first()
        )
    if sub is None:
        await _settle(claim, "gone", "the browser unsubscribed")
        return Delivery(state="gone")
    if claim["age"] >= claim["ttl"]:
        await _settle(claim, "failed", "expired before it could be sent")
        log.warning("push.expired", notification_id=str(notification_id))
        return Delivery(state="failed")
    try:
        status, error, retry_after = await _post(claim, sub, vapid=vapid, http=http)
    except (WebPushException, ValueError) as err:  # keys the push library cannot use
        await _settle(claim, "failed", f"encrypt: {err}")
        return Delivery(state="failed")
    context = {"notification_id": str(notification_id), "status": status}
    if status is not None and 200 <= status < 300:
        async with DB.transaction():
            await _settle(claim, "sent")
            await ps.update({ps.last_success_at: datetime.now(UTC)}).where(
                ps.id == claim["subscription"]
            )
        log.info("push.delivered", attempts=claim["attempts"], **context)
        return Delivery(state="sent", status=status)
    if status in (404, 410):
        async with DB.transaction():
            await _settle(claim, "gone", error)
            await ps.delete().where(ps.id == claim["subscription"])
        log.info("push.subscription.gone", **context)
        return Delivery(state="gone", status=status)
    if status is None or status == 429 or status >= 500:
        if claim["attempts"] >= MAX_ATTEMPTS:
            await _settle(claim, "failed", error)
            log.error("push.failed", attempts=claim["attempts"], error=error, **context)
            return Delivery(state="failed", status=status)
        retry_in = _backoff(claim["attempts"], retry_after)
        await _settle(claim, "pending", error, retry_in=retry_in)
        log.warning("push.retry", retry_in=retry_in.total_seconds(), error=error, **context)
        return Delivery(state="pending", status=status, retry_in=retry_in)
    # 400 (bad request), 401/403 (VAPID refused), 413 (too large): sending again cannot help.
    await _settle(claim, "failed", error)
    log.error("push.rejected", error=error, **context)
    return Delivery(state="failed", status=status)


# --- the sweep ---------------------------------------------------------------------------------

_RECLAIM = """
UPDATE notifications
   SET state = CASE WHEN attempts >= {} THEN 'failed' ELSE 'pending' END,
       last_error = 'the worker sending it was lost', next_attempt_at = now()
 WHERE state = 'sending' AND id IN (
       SELECT id FROM notifications
        WHERE state = 'sending' AND claimed_at < now() - {}::interval
        ORDER BY claimed_at LIMIT {} FOR UPDATE SKIP LOCKED)
RETURNING id, attempts, state
"""

_OVERDUE = """
SELECT id FROM notifications
 WHERE state = 'pending' AND coalesce(next_attempt_at, created_at) < now() - {}::interval
 ORDER BY created_at LIMIT {}
"""


async def sweep(
    queue: ArqRedis,
    *,
    pending_grace: timedelta = PENDING_GRACE,
    sending_limit: timedelta = SENDING_LIMIT,
) -> SweepResult:
    """Take back rows from workers that died mid-send, and enqueue pending rows that lost their job.

    A reclaimed row gets a job of its own (`push:<id>:<attempt>`): the dead worker's job keeps its
    id busy in arq until its in-progress marker expires. An overdue pending row is enqueued under
    `push:<id>`, which arq refuses while that job is still queued — so nothing runs twice for it.
    """
    reclaimed = await Notification.raw(_RECLAIM, MAX_ATTEMPTS, sending_limit, SWEEP_BATCH)
    for row in reclaimed:
        log.warning("push.reclaimed", notification_id=str(row["id"]), state=row["state"])
        if row["state"] == "pending":
            await queue.enqueue_job(
                jobs.DELIVER_NOTIFICATION,
                notification_id=row["id"],
                _job_id=f"push:{row['id']}:{row['attempts']}",
            )
    requeued = 0
    for row in await Notification.raw(_OVERDUE, pending_grace, SWEEP_BATCH):
        job = await queue.enqueue_job(
            jobs.DELIVER_NOTIFICATION, notification_id=row["id"], _job_id=f"push:{row['id']}"
        )
        requeued += job is not None
    return SweepResult(reclaimed=len(reclaimed), requeued=requeued)


__all__ = [
    "Delivery",
    "SweepResult",
    "deliver",
    "dispatch",
    "notify",
    "subscribe",
    "subscriptions",
    "sweep",
    "topic",
    "unsubscribe",
]
