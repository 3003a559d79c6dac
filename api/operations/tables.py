"""O&M record tables: one table for the five record kinds (their own fields in `details`, checked
by the kind's Struct at every write), each record's history and its links; the duty handover
log on the duty roster; drill and training records with participants and attachments."""

from piccolo.columns import (
    JSONB,
    UUID,
    BigSerial,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from api.accounts.tables import Account
from api.alarms.tables import DutyShift, EmergencyPlan
from api.communities.tables import Community


class OpsRecord(Table, tablename="ops_records"):
    """An O&M record (运维记录): an incident, problem, change, release or defect."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    kind = Varchar(length=16, index=True, help_text="incident, problem, change, release, defect.")
    state = Varchar(length=16, index=True)
    severity = Varchar(length=8, help_text="critical, major, minor or low (分级).")
    category = Varchar(length=40, default="", help_text="分类: hardware, software, network, …")
    title = Varchar(length=200)
    description = Text(default="")
    details = JSONB(default={}, help_text="The kind's own fields (schemas.<Kind>Details).")
    search_text = Text(default="", help_text="Title, description and details, for `q`.")
    reported_by = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    owner = ForeignKey(Account, null=True, on_delete=OnDelete.set_null, index=True)
    created_at = Timestamptz(index=True)
    updated_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None, help_text="When it reached a final state.")


class OpsRecordEntry(Table, tablename="ops_record_entries"):
    """One line of a record's history: created, updated, moved, linked. Appended, never changed."""

    id = BigSerial(primary_key=True)
    record = ForeignKey(OpsRecord, null=False, on_delete=OnDelete.cascade, index=True)
    at = Timestamptz()
    kind = Varchar(length=16)
    actor = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    from_state = Varchar(length=16, default="")
    to_state = Varchar(length=16, default="")
    text = Text(default="")
    data = JSONB(default={})


class OpsRecordLink(Table, tablename="ops_record_links"):
    """A record's link to an alarm, a work order or another record of its community (an incident
    to its alarm, a problem to its incidents). Unique per (record, target_type, target)."""

    id = BigSerial(primary_key=True)
    record = ForeignKey(OpsRecord, null=False, on_delete=OnDelete.cascade, index=True)
    target_type = Varchar(length=16)
    target = UUID(index=True)
    created_at = Timestamptz()


class Handover(Table, tablename="duty_handovers"):
    """A duty handover (交接班): the outgoing guard's open items, notes, keys and equipment, and the
    incoming guard's acknowledgement. Tied to the roster's shifts where there are some."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    shift = ForeignKey(DutyShift, null=True, on_delete=OnDelete.set_null, index=True)
    to_shift = ForeignKey(DutyShift, null=True, on_delete=OnDelete.set_null, index=True)
    from_account = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    to_account = ForeignKey(Account, null=True, on_delete=OnDelete.set_null, index=True)
    open_items = Text(default="")
    notes = Text(default="")
    keys_equipment = Text(default="")
    created_at = Timestamptz(index=True)
    acknowledged_at = Timestamptz(null=True, default=None)
    ack_note = Text(default="")


class Drill(Table, tablename="drills"):
    """A drill or training (应急演练 / 培训): when, what, who took part, how it went."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    kind = Varchar(length=24, help_text="fire_drill, emergency_plan_drill or training.")
    title = Varchar(length=200)
    held_at = Timestamptz(index=True)
    location = Varchar(length=200, default="")
    plan = ForeignKey(EmergencyPlan, null=True, on_delete=OnDelete.set_null)
    content = Text(default="")
    evaluation = Text(default="")
    recorded_by = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class DrillParticipant(Table, tablename="drill_participants"):
    """A staff account that took part in a drill or training."""

    id = BigSerial(primary_key=True)
    drill = ForeignKey(Drill, null=False, on_delete=OnDelete.cascade, index=True)
    account = ForeignKey(Account, null=False, on_delete=OnDelete.cascade, index=True)


class DrillAttachment(Table, tablename="drill_attachments"):
    """A photo or file of a drill, kept in the object store."""

    id = UUID(primary_key=True)
    drill = ForeignKey(Drill, null=False, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=120)
    key = Varchar(length=200, help_text="Object store key.")
    content_type = Varchar(length=40)
    size = Integer()
    uploaded_by = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    at = Timestamptz()
