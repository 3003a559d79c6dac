"""The biometric store's endpoints: enrol a face photo for a person, delete it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from api.biometrics.service import FaceEnrolled, delete_face, enrol_face, keyring
from api.core.auth import Caller
from api.core.effects import Effects


@dataclass
class FaceForm:
    """Multipart form of a face enrolment: whose face, and the photo (JPEG or PNG)."""

    person_id: UUID
    photo: UploadFile


class FaceController(Controller):
    """Face enrolment photos, kept in the biometric store."""

    path = "/api/v1/biometrics/faces"
    tags = ["access"]

    @post("/")
    async def enrol(
        self,
        caller: Caller,
        state: State,
        effects: Effects,
        data: Annotated[FaceForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> FaceEnrolled:
        """Enrol a person's face (form fields `person_id`, `photo`): the face and its credential."""
        return await enrol_face(
            caller,
            person_id=data.person_id,
            photo=await data.photo.read(),
            content_type=data.photo.content_type,
            ring=keyring(state.settings.biometric_keyring_path),
            effects=effects,
        )

    @delete("/{face_id:uuid}")
    async def erase(self, caller: Caller, effects: Effects, face_id: UUID) -> None:
        """Erase a face photo; the credentials that named it are revoked."""
        await delete_face(caller, face_id, effects)
