"""Enrolling, listing and revoking credentials; faces in the biometric store; scope; encryption."""

from __future__ import annotations

import uuid

import pytest

from api.access.tables import Credential
from api.biometrics.tables import FaceTemplate
from api.core.auth import Role
from tests.access.helpers import enrol_card, unique_card
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows

JPEG = b"\xff\xd8\xff\xe0" + b"face-photo-bytes" * 40 + b"\xff\xd9"


class TestEnrol:
    @pytest.mark.req("ACC-07", "REG-06", partial=True)
    async def test_card_is_stored_encrypted_and_listed_masked(
        self, manager: ApiClient, world: World
    ) -> None:
        number = unique_card()
        card = await enrol_card(manager, world.a.persons[0], number)
        assert card["masked"].endswith(number[-4:]) and number not in card["masked"]
        assert card["household_id"] == str(world.a.households[0])
        rows = await Credential.raw("SELECT * FROM credentials WHERE id = {}", card["id"])
        assert number not in repr(rows)  # neither the value nor its index shows the number
        listed = (
            await manager.get("/api/v1/credentials", params={"person_id": str(world.a.persons[0])})
        ).json()
        assert [c["id"] for c in listed["items"]] == [card["id"]]
        assert await audit_rows("credential.create", card["id"])

    async def test_pin_never_shown_and_duplicates_refused(
        self, manager: ApiClient, world: World
    ) -> None:
        body = {"person_id": str(world.a.persons[1]), "kind": "pin", "value": "482913"}
        r = await manager.post("/api/v1/credentials", json=body)
        assert r.status_code == 201, r.text
        assert r.json()["masked"] == "******"
        assert_error(
            await manager.post("/api/v1/credentials", json=body), 409, "duplicate_credential"
        )

    async def test_bad_input(self, manager: ApiClient, world: World) -> None:
        person = str(world.a.persons[0])
        assert_error(
            await manager.post(
                "/api/v1/credentials", json={"person_id": person, "kind": "pin", "value": "12ab"}
            ),
            400,
            "invalid_credential",
        )
        r = await manager.post("/api/v1/credentials", json={"person_id": person, "kind": "card"})
        assert_error(r, 422, "invalid_body")  # a card needs its number
        r = await manager.post(
            "/api/v1/credentials",
            json={
                "person_id": person,
                "kind": "card",
                "value": "12345678",
                "group_ids": [str(uuid.uuid4())],
            },
        )
        assert r.status_code == 400, r.text


class TestScope:
    @pytest.mark.req("IAM-01", partial=True)
    async def test_another_communitys_manager_and_residents_see_nothing(
        self, as_role: AsRole, manager: ApiClient, world: World
    ) -> None:
        card = await enrol_card(manager, world.a.persons[0], unique_card())
        other = await as_role(Role.PROPERTY_MANAGER, "b")
        assert_error(await other.get(f"/api/v1/credentials/{card['id']}"), 404, "not_found")
        assert_error(
            await other.post(f"/api/v1/credentials/{card['id']}/revoke", json={"reason": "x y"}),
            404,
            "not_found",
        )
        assert (await other.get("/api/v1/credentials")).json()["total"] == 0
        r = await other.post(
            "/api/v1/credentials",
            json={"person_id": str(world.a.persons[0]), "kind": "card", "value": unique_card()},
        )
        assert_error(r, 404, "not_found")
        resident = await as_role(Role.RESIDENT)
        assert_error(await resident.get("/api/v1/credentials"), 404, "not_found")
        assert_error(await resident.get(f"/api/v1/credentials/{card['id']}"), 404, "not_found")
        guard = await as_role(Role.GUARD)
        assert (await guard.get(f"/api/v1/credentials/{card['id']}")).status_code == 200
        r = await guard.post(f"/api/v1/credentials/{card['id']}/revoke", json={"reason": "lost"})
        assert_error(r, 404, "not_found")  # guards read, managers enrol and revoke


class TestRevoke:
    async def test_revocation_is_audited_with_its_reason(
        self, manager: ApiClient, world: World
    ) -> None:
        card = await enrol_card(manager, world.a.persons[0], unique_card())
        r = await manager.post(
            f"/api/v1/credentials/{card['id']}/revoke", json={"reason": "卡片遗失"}
        )
        assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
        assert r.json()["revoke_reason"] == "卡片遗失"
        (entry,) = await audit_rows("credential.revoke", card["id"])
        assert entry["purpose"] == "卡片遗失"
        again = await manager.post(
            f"/api/v1/credentials/{card['id']}/revoke", json={"reason": "again"}
        )
        assert_error(again, 409, "credential_already_revoked")
        r = await manager.post(f"/api/v1/credentials/{card['id']}/revoke", json={})
        assert_error(r, 422, "invalid_body")  # a reason is required


class TestFaces:
    @pytest.mark.req("DATA-25")
    @pytest.mark.req("REG-06", "ACC-07", partial=True)
    async def test_face_photo_lives_apart_encrypted_and_the_credential_names_only_its_id(
        self, manager: ApiClient, world: World
    ) -> None:
        r = await manager.post(
            "/api/v1/biometrics/faces",
            data={"person_id": str(world.a.persons[0])},
            files={"photo": ("face.jpg", JPEG, "image/jpeg")},
        )
        assert r.status_code == 201, r.text
        face_id, credential_id = r.json()["face_id"], r.json()["credential_id"]
        stored = await FaceTemplate.select().where(FaceTemplate.id == uuid.UUID(face_id)).first()
        assert (
            stored is not None
            and JPEG not in stored["photo"]
            and b"face-photo" not in stored["photo"]
        )
        assert not any("person" in c._meta.name for c in FaceTemplate._meta.columns)  # no identity
        cred = (await manager.get(f"/api/v1/credentials/{credential_id}")).json()
        assert cred["kind"] == "face" and cred["face_id"] == face_id
        assert (await manager.delete(f"/api/v1/biometrics/faces/{face_id}")).status_code == 204
        cred = (await manager.get(f"/api/v1/credentials/{credential_id}")).json()
        assert cred["status"] == "revoked"
        assert not await FaceTemplate.exists().where(FaceTemplate.id == uuid.UUID(face_id))

    async def test_not_a_photo_is_refused(self, manager: ApiClient, world: World) -> None:
        r = await manager.post(
            "/api/v1/biometrics/faces",
            data={"person_id": str(world.a.persons[0])},
            files={"photo": ("face.jpg", b"not an image", "image/jpeg")},
        )
        assert_error(r, 400, "invalid_photo")

    async def test_outside_the_community_and_residents_get_404(
        self, as_role: AsRole, manager: ApiClient, world: World
    ) -> None:
        photo = {"photo": ("face.jpg", JPEG, "image/jpeg")}
        r = await manager.post(
            "/api/v1/biometrics/faces", data={"person_id": str(world.a.persons[0])}, files=photo
        )
        face_id = r.json()["face_id"]
        other = await as_role(Role.PROPERTY_MANAGER, "b")
        mine = {"person_id": str(world.a.persons[0])}
        r = await other.post("/api/v1/biometrics/faces", data=mine, files=photo)
        assert_error(r, 404, "not_found")
        assert_error(await other.delete(f"/api/v1/biometrics/faces/{face_id}"), 404, "not_found")
        resident = await as_role(Role.RESIDENT)
        r = await resident.post("/api/v1/biometrics/faces", data=mine, files=photo)
        assert_error(r, 404, "not_found")
        assert await FaceTemplate.exists().where(FaceTemplate.id == uuid.UUID(face_id))


class TestQr:
    async def test_only_residents_get_a_qr(self, manager: ApiClient) -> None:
        assert_error(await manager.post("/api/v1/access/qr"), 404, "not_found")
