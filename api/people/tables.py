"""The resident registry (standard 7.3.5): permanent residents, floating population, tenants."""

from piccolo.columns import UUID, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table

from api.communities.tables import Community, Household


class Person(Table, tablename="persons"):
    """A person living in (or registered to) a community. Identifiers are encrypted per field."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    household = ForeignKey(Household, null=True)
    category = Varchar(length=10, help_text="permanent | floating | tenant (常住/流动/租户).")
    relation = Varchar(length=10, default="member", help_text="owner | member | tenant.")
    name = Varchar(length=50)
    id_number = Text(secret=True, help_text="Encrypted resident ID number (FieldCipher token).")
    id_number_index = Varchar(length=64, index=True, help_text="Blind index of the ID number.")
    phone = Text(secret=True, help_text="Encrypted mobile number (FieldCipher token).")
    phone_index = Varchar(length=64, index=True, help_text="Blind index of the phone number.")
    moved_in_on = Date(null=True, default=None)
    moved_out_on = Date(null=True, default=None)
    lease_ends_on = Date(
        null=True,
        default=None,
        help_text="A tenant's last day: the platform moves them out after it (workers).",
    )
    created_at = Timestamptz()
    updated_at = Timestamptz()
