"""Self-registration (业主认证): a community's join link and the requests filed through it."""

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table

from api.communities.tables import Community, Household, Unit


class JoinLink(Table, tablename="join_links"):
    """The public code of a community's join link (/join/<code>); one per community."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, unique=True)
    code = Varchar(length=32, unique=True)
    created_at = Timestamptz()


class JoinRequest(Table, tablename="join_requests"):
    """A person's request to become a resident of a household, filed with a proven phone.

    The room is kept as entered: `household` is the one it names, or null when the unit has no
    such room (the manager sees "no such room"; the person saw the same answer either way).
    """

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    unit = ForeignKey(Unit, null=False)
    room = Varchar(length=20)
    household = ForeignKey(Household, null=True, default=None)
    name = Varchar(length=50)
    phone = Text(secret=True, help_text="Encrypted mobile number (FieldCipher token).")
    phone_index = Varchar(length=64, index=True, help_text="Blind index of the phone number.")
    username = Varchar(length=64)
    password_hash = Text(secret=True, help_text="argon2id hash of the password the person chose.")
    status = Varchar(length=10, default="pending", help_text="pending | approved | rejected.")
    reason = Varchar(length=200, default="", help_text="Why it was rejected.")
    account = UUID(null=True, default=None, help_text="The account approval created.")
    decided_by = UUID(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
