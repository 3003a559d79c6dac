"""The biometric store (standard 6.5.7): face enrolment photos, apart from identity data.

Nothing here names a person. A credential (api/access) holds a template's id, and that id is
the only link between who someone is and what their face looks like.
"""

from piccolo.columns import UUID, Bytea, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from api.communities.tables import Community
from api.devices.tables import Device


class FaceTemplate(Table, tablename="biometric_faces"):
    """One enrolment photo, encrypted under the biometric key; the device derives its template."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    photo = Bytea(secret=True, help_text="AES-256-GCM under the biometric key (see service).")
    key_id = Varchar(length=8, help_text="The biometric keyring key that encrypted the photo.")
    content_type = Varchar(length=40, default="image/jpeg")
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()


class FacePlacement(Table, tablename="biometric_face_devices"):
    """A face on one face reader: being put there, there, being taken off, off (or failed).

    Its id is derived from the face and the device, so there is one row per pair. The row stays
    after the photo is erased, until the reader has confirmed the removal: it names no person."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    face = UUID(index=True, help_text="The FaceTemplate id (kept after the photo is erased).")
    device = ForeignKey(Device, null=False)
    state = Varchar(length=10, help_text="enrolling | enrolled | removing | removed | failed")
    detail = Varchar(length=200, default="", help_text="Why the reader did not, when it did not.")
    updated_at = Timestamptz()
