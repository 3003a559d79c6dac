"""The biometric store's endpoints: enrol a face photo for a person, delete it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from api.alarms.deps import DEPENDENCIES
from api.alarms.effects import AppOutlet, Effects
from api.biometrics.service import FaceEnrolled, delete_face, enrol_face, keyring
from api.core.auth import Caller


@dataclass
class FaceForm:
    """Multipart form of a face enrolment: whose face, and the photo (JPEG or PNG)."""

    person_id: UUID
    photo: UploadFile


class FaceController(Controller):
    """Face enrolment photos, kept in the biometric store."""

    path = "/api/v1/biometrics/faces"
    tags = ["access"]
    dependencies = DEPENDENCIES

    @post("/")
    async def enrol(
        self,
        caller: Caller,
        state: State,
        outlet: AppOutlet,
        data: Annotated[FaceForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> FaceEnrolled:
        """Enrol a person's face (form fields `person_id`, `photo`): the face and its credential."""
        effects = Effects()
        enrolled = await enrol_face(
            caller,
            person_id=data.person_id,
            photo=await data.photo.read(),
            content_type=data.photo.content_type,
            ring=keyring(state.settings.biometric_keyring_path),
            effects=effects,
        )
        await effects.apply(outlet)
        return enrolled

    @delete("/{face_id:uuid}")
    async def erase(self, caller: Caller, outlet: AppOutlet, face_id: UUID) -> None:
        """Erase a face photo; the credentials that named it are revoked."""
        effects = Effects()
        await delete_face(caller, face_id, effects)
        await effects.apply(outlet)
