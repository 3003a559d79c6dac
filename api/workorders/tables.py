"""Work-order tables: the order, its history (every state change and event), its time log and
its photos.

One fault order per device and fault is open at a time: a partial unique index on
`(device, fault)` over the absorbing states (catalogue.ABSORBING_STATES; created in the
migration, Piccolo has no partial indexes) is what makes a repeat join the open order even when
two events race. A fault that comes back after its order ended opens a new order whose
`previous` is the old one.

A preventive plan (`MaintenancePlan`) generates orders ahead; the unique constraint on
`(plan, device, due_on)` is what makes a re-run, or two runs at once, create each order once.
"""

from piccolo.columns import (
    JSONB,
    UUID,
    BigSerial,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    SmallInt,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Unique
from piccolo.table import Table

from api.accounts.tables import Account
from api.communities.tables import Community, Household
from api.devices.tables import Device


class MaintenancePlan(Table, tablename="maintenance_plans"):
    """A preventive maintenance plan (保养计划, OPS-19/20): every in-service asset of a kind in the
    community is due for the checklist at each date of the schedule; orders are made `horizon_days`
    ahead (api/workorders/plans.py)."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    name = Varchar(length=100)
    asset_kind = Varchar(length=24, help_text="The devices.kind it covers.")
    frequency = Varchar(
        length=16, help_text="daily, weekly, monthly, quarterly, yearly, every_n_days"
    )
    interval_days = Integer(null=True, default=None, help_text="N of every_n_days.")
    starts_on = Date(help_text="The first due date; the others follow at the frequency.")
    due_time = Time(help_text="Wall-clock time (site timezone) an order is due on its date.")
    horizon_days = Integer(default=30, help_text="How far ahead orders are made.")
    priority = Varchar(length=8, default="normal")
    assignee = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    checklist = JSONB(default=[], help_text="The steps, in order (strings).")
    signature_required = Boolean(default=False)
    paused = Boolean(default=False)
    description = Text(default="")
    created_by = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class WorkOrder(Table, tablename="work_orders"):
    """A work order (工单): a fault, a resident's repair request or complaint, maintenance."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    kind = Varchar(length=16, help_text="fault, repair, complaint, preventive or manual.")
    priority = Varchar(length=8, help_text="urgent, high, normal or low (sets due_at).")
    state = Varchar(length=16, default="new", index=True)
    waiting_for = Varchar(length=16, default="", help_text="parts or resident, while waiting.")
    title = Varchar(length=200)
    description = Text(default="")
    device = ForeignKey(
        Device, null=True, on_delete=OnDelete.set_null, index=True, help_text="The asset."
    )
    fault = Varchar(length=24, null=True, default=None, help_text="The fault of a fault order.")
    repeats = Integer(default=1, help_text="How many times its fault was reported.")
    last_seen_at = Timestamptz(null=True, default=None, help_text="Its fault's latest report.")
    previous = UUID(null=True, default=None, help_text="The ended order of the same fault.")
    household = ForeignKey(Household, null=True, on_delete=OnDelete.set_null)
    requested_by = ForeignKey(Account, null=True, on_delete=OnDelete.set_null, index=True)
    assignee = ForeignKey(Account, null=True, on_delete=OnDelete.set_null, index=True)
    created_at = Timestamptz()
    due_at = Timestamptz(index=True)
    escalated_at = Timestamptz(null=True, default=None)
    prompted_at = Timestamptz(
        null=True, default=None, help_text="Preventive: when its due day's push was sent."
    )
    done_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    cause = Text(default="", help_text="Closing report: the fault's cause.")
    report = Text(default="", help_text="Closing report: what was done.")
    rating = SmallInt(null=True, default=None, help_text="The requester's 1-5 stars.")
    rating_note = Text(default="")
    plan = ForeignKey(
        MaintenancePlan, null=True, on_delete=OnDelete.set_null, help_text="Preventive: its plan."
    )
    due_on = Date(null=True, default=None, help_text="Preventive: the plan's due date.")
    checklist = JSONB(default=[], help_text="Steps to do: [{step, done}].")
    signature_required = Boolean(default=False, help_text="Done needs a signature image.")
    signature_key = Varchar(length=200, null=True, default=None, help_text="Object store key.")
    cancel_reason = Varchar(length=32, default="", help_text="Why the platform cancelled it.")
    external_cost = Integer(
        null=True, default=None, help_text="A cost outside the parts (fen): a contractor's bill."
    )
    external_cost_note = Varchar(length=200, default="", help_text="What the external cost is.")

    unique_plan_due = Unique([plan, device, due_on])


class WorkOrderEntry(Table, tablename="work_order_entries"):
    """One line of an order's history: created, assigned, moved, repeated, escalated, photo,
    rated. Appended, never changed."""

    id = BigSerial(primary_key=True)
    work_order = ForeignKey(WorkOrder, null=False, on_delete=OnDelete.cascade, index=True)
    at = Timestamptz()
    kind = Varchar(length=16)
    actor = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    from_state = Varchar(length=16, default="")
    to_state = Varchar(length=16, default="")
    text = Text(default="")
    data = JSONB(default={})


class WorkLog(Table, tablename="work_order_time"):
    """Time a staff member spent on an order: started, and stopped (null while running)."""

    id = UUID(primary_key=True)
    work_order = ForeignKey(WorkOrder, null=False, on_delete=OnDelete.cascade, index=True)
    account = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    started_at = Timestamptz()
    stopped_at = Timestamptz(null=True, default=None)


class WorkOrderPhoto(Table, tablename="work_order_photos"):
    """A photo of an order, before or after the work (or the resident's, with the request)."""

    id = UUID(primary_key=True)
    work_order = ForeignKey(WorkOrder, null=False, on_delete=OnDelete.cascade, index=True)
    stage = Varchar(length=8)
    key = Varchar(length=200, help_text="Object store key.")
    content_type = Varchar(length=32)
    size = Integer()
    uploaded_by = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    at = Timestamptz()


class LabelRequest(Table, tablename="label_requests"):
    """A repair request filed without login from an asset's QR label (/report/<label code>),
    pending until a manager approves it (it becomes `work_order`) or rejects it (`reason`).

    Only the phone is personal, and it is encrypted with a blind index beside it: the index
    finds a resident of the community with that phone (`household`, `account`), whose 报事报修
    list then holds the order. Photos are in the object store under the order's own prefix and
    become the order's request photos on approval. The requester follows it by a tracking code,
    of which only the hash is kept.
    """

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    device = ForeignKey(Device, null=False, on_delete=OnDelete.cascade, help_text="The asset.")
    location = Varchar(length=300, default="", help_text="The asset's place, as the page showed.")
    description = Text()
    phone = Text(secret=True, help_text="Encrypted mobile number (FieldCipher token).")
    phone_index = Varchar(length=64, index=True, help_text="Blind index of the phone number.")
    household = ForeignKey(
        Household, null=True, default=None, on_delete=OnDelete.set_null, help_text="A resident's."
    )
    account = ForeignKey(
        Account, null=True, default=None, on_delete=OnDelete.set_null, help_text="A resident's."
    )
    photos = JSONB(default=[], help_text="[{id, key, content_type, size}] in the object store.")
    tracking_hash = Varchar(length=64, unique=True, help_text="SHA-256 of the tracking code.")
    status = Varchar(length=10, default="pending", help_text="pending | approved | rejected.")
    reason = Varchar(length=200, default="", help_text="Why it was rejected.")
    work_order = ForeignKey(WorkOrder, null=True, default=None, on_delete=OnDelete.set_null)
    decided_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
