"""Web push: browser subscriptions and the notifications owed to them (a row first, then a job)."""

from piccolo.columns import JSONB, UUID, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from api.accounts.tables import Account


class PushSubscription(Table, tablename="push_subscriptions"):
    """One browser's push subscription for an account."""

    id = UUID(primary_key=True)
    account = ForeignKey(Account, null=False)
    endpoint = Text(unique=True, help_text="The push service URL of this browser.")
    p256dh = Varchar(length=128, help_text="The browser's ECDH public key (base64url).")
    auth = Varchar(length=64, secret=True, help_text="The subscription's auth secret (base64url).")
    user_agent = Varchar(length=200, default="")
    created_at = Timestamptz()
    last_success_at = Timestamptz(null=True, default=None)


class Notification(Table, tablename="notifications"):
    """A push message owed to one subscription; delivered by a worker job, swept if stuck."""

    id = UUID(primary_key=True)
    account = ForeignKey(Account, null=False)
    subscription = ForeignKey(
        PushSubscription,
        null=True,
        on_delete=OnDelete.set_null,
        help_text="Null once the browser left (410/404 or unsubscribed): the row stays as history.",
    )
    payload = JSONB(help_text="title, body, url, tag, data: what the service worker shows.")
    urgency = Varchar(length=8, default="normal", help_text="very-low | low | normal | high")
    ttl = Integer(
        default=300, help_text="Seconds the push service keeps it for an offline browser."
    )
    state = Varchar(
        length=10,
        default="pending",
        index=True,
        help_text="pending | sending | sent | gone | failed",
    )
    attempts = Integer(default=0)
    last_error = Varchar(length=200, default="")
    created_at = Timestamptz()
    claimed_at = Timestamptz(null=True, default=None, help_text="When a worker took it to send.")
    next_attempt_at = Timestamptz(
        null=True,
        default=None,
        help_text="After a transient failure: when the retry is due (the sweep waits for it).",
    )
    sent_at = Timestamptz(null=True, default=None)
