"""Live views of cameras: who watched which camera, from when, for how long."""

from piccolo.columns import UUID, Float, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from api.communities.tables import Community
from api.devices.tables import Device


class ViewSession(Table, tablename="video_view_sessions"):
    """One live view of one camera by one account; audited at its start and its end."""

    id = UUID(primary_key=True, help_text="Also the media session id at the bridge.")
    community = ForeignKey(Community, null=False)
    camera = ForeignKey(Device, null=False)
    account = UUID(help_text="The viewer's account.")
    started_at = Timestamptz(index=True)
    ended_at = Timestamptz(null=True, default=None)
    duration_s = Float(null=True, default=None)
    end_reason = Varchar(
        length=12, default="", help_text="closed | limit | failed | stale (viewer gone)"
    )
    created_at = Timestamptz()
