"""Intercom calls: who rang which household from which station, who answered, what came of it."""

from piccolo.columns import UUID, BigInt, Float, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from api.communities.tables import Community, Household
from api.devices.tables import Device


class Call(Table, tablename="intercom_calls"):
    """One call from a door station or a lift, or placed in the app (the guard room calls a
    household, a resident calls the guard room); kept at least 6 months (standard 6.7.12).

    The id of a station's call is the station's own call id, so the station's later events and the
    browser's signalling name the same row.
    """

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    station = ForeignKey(
        Device, null=True, help_text="The door station or lift that called; null for app calls."
    )
    caller = UUID(
        null=True,
        default=None,
        help_text="Account that placed an app call (guard room → household, resident → guard "
        "room); null for a station's call.",
    )
    household = ForeignKey(Household, null=True, help_text="Null for a station's guard-room calls.")
    target = Varchar(length=12, help_text="household | guard_room")
    reason = Varchar(length=24, default="visitor", help_text="visitor | lift_emergency | app")
    room = Varchar(length=24, default="", help_text="The room label dialled, e.g. '1-1-0302'.")
    state = Varchar(length=8, default="ringing", index=True, help_text="ringing | live | ended")
    started_at = Timestamptz(index=True)
    answered_at = Timestamptz(null=True, default=None)
    answered_by = UUID(null=True, default=None, help_text="Account that answered.")
    ended_at = Timestamptz(null=True, default=None)
    ended_by = UUID(null=True, default=None, help_text="Account that declined or hung up.")
    duration_s = Float(null=True, default=None, help_text="Talk time; 0 for unanswered calls.")
    outcome = Varchar(
        length=16,
        default="",
        help_text="answered | unanswered | declined | limit | network | hangup | unknown_room",
    )
    unlocked_at = Timestamptz(null=True, default=None)
    unlocked_by = UUID(null=True, default=None)
    snapshot_key = Varchar(length=200, null=True, default=None, help_text="Object store key.")
    snapshot_type = Varchar(length=40, default="")
    clip_key = Varchar(length=200, null=True, default=None, help_text="Object store key.")
    clip_type = Varchar(length=40, default="")
    media = Varchar(length=8, default="none", help_text="none | pending | stored | failed")
    event = BigInt(null=True, default=None, help_text="The device event that started the call.")
    retention = Varchar(length=24, default="record_6m", help_text="Retention class of the row.")
    created_at = Timestamptz()
