"""Places: jurisdictions, communities, buildings, units and households (GB/T 31000 coding)."""

from piccolo.columns import UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table


class Jurisdiction(Table, tablename="jurisdictions"):
    """A police station's area: the communities its officers may see."""

    id = UUID(primary_key=True)
    name = Varchar(length=100)
    code = Varchar(length=12, unique=True, help_text="Police organisation code of the station.")
    created_at = Timestamptz()


class Community(Table, tablename="communities"):
    """A residential community (小区)."""

    id = UUID(primary_key=True)
    code = Varchar(
        length=15,
        unique=True,
        help_text=(
            "GB/T 31000-style code: the 12-digit division code of the residents' committee"
            " + a 3-digit sequence."
        ),
    )
    name = Varchar(length=100)
    address = Varchar(length=200)
    jurisdiction = ForeignKey(Jurisdiction, null=True)
    created_at = Timestamptz()
    retired_at = Timestamptz(
        null=True, default=None, help_text="When it was retired: kept, hidden from lists."
    )


class Building(Table, tablename="buildings"):
    """A residential building (楼栋) of a community."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    number = Varchar(length=10, help_text="Building number as posted on site, e.g. '3'.")
    name = Varchar(length=50)
    code = Varchar(length=18, unique=True, help_text="Community code + 3-digit building number.")
    floors = Integer(default=1)
    created_at = Timestamptz()
    retired_at = Timestamptz(
        null=True, default=None, help_text="When it was retired: kept, hidden from lists."
    )


class Unit(Table, tablename="units"):
    """A unit (单元) of a building: one entrance door, one stairwell."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    building = ForeignKey(Building, null=False)
    number = Varchar(length=10)
    code = Varchar(length=20, unique=True, help_text="Building code + 2-digit unit number.")
    created_at = Timestamptz()
    retired_at = Timestamptz(
        null=True, default=None, help_text="When it was retired: kept, hidden from lists."
    )


class Household(Table, tablename="households"):
    """A dwelling (户/房屋) and the people registered in it."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    building = ForeignKey(Building, null=False)
    unit = ForeignKey(Unit, null=False)
    room = Varchar(length=10, help_text="Room number as posted, e.g. '0302'.")
    code = Varchar(length=24, unique=True, help_text="Unit code + 4-digit room number.")
    housing = Varchar(
        length=12,
        default="owned",
        help_text="owned | rented | vacant (standard 7.3.5 keeps rented housing on file).",
    )
    created_at = Timestamptz()
    retired_at = Timestamptz(
        null=True, default=None, help_text="When it was retired: kept, hidden from lists."
    )
