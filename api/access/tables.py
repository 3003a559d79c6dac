"""Access records: who passed (or was refused at) which door, when, how."""

from piccolo.columns import UUID, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from api.communities.tables import Community
from api.devices.tables import Device
from api.people.tables import Person


class AccessRecord(Table, tablename="access_records"):
    """One pass or refusal at an access point; kept at least 6 months (standard 6.5.12)."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    device = ForeignKey(Device, null=False)
    person = ForeignKey(Person, null=True)
    account = UUID(null=True, default=None, help_text="The account that asked, for app openings.")
    at = Timestamptz(index=True)
    direction = Varchar(length=3, default="in", help_text="in | out")
    method = Varchar(length=8, help_text="app | card | pin | qr | face | remote")
    result = Varchar(length=8, help_text="granted | denied | failed")
    reason = Varchar(length=200, default="")
    command = UUID(
        null=True, default=None, help_text="The device command of an app or remote opening."
    )
