"""The `anju` command against the test database: audit verify, key rotation, settings docs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pyotp
import pytest

from api.audit.anchors import anchor_key, write_anchor
from api.audit.service import record, verify
from api.audit.tables import AuditEntry
from api.biometrics.service import keyring, seal, unseal
from api.biometrics.tables import FaceTemplate
from api.core.crypto import load_server_secret
from api.core.storage import LocalObjectStore
from api.key_rotation import rotate_keys
from api.lifespan import make_cipher
from api.people.tables import Person
from api.settings import VARIABLES, Settings
from tests.helpers import ApiClient, World, assert_error

ROOT = Path(__file__).resolve().parent.parent


def anju(
    settings: Settings, *args: str, data_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the console script as an operator would, pointed at the test services."""
    env = {
        **os.environ,
        "ANJU_DATABASE_URL": settings.database_url or "",
        "ANJU_REDIS_URL": settings.redis_url or "",
        "ANJU_DATA_DIR": str(data_dir or settings.data_dir),
        "ANJU_LOG_JSON": "false",
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.req("IAM-16", partial=True)
class TestAuditVerifyCommand:
    async def test_reports_intact_then_names_the_altered_row(
        self, settings: Settings, app: object
    ) -> None:
        await record("test.cli.one", actor_name="cli")
        await record("test.cli.two", actor_name="cli")
        ok = anju(settings, "audit", "verify")
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "audit log intact" in ok.stdout

        row = await AuditEntry.select().where(AuditEntry.action == "test.cli.one").first()
        await AuditEntry.update({AuditEntry.actor_name: "someone-else"}).where(
            AuditEntry.id == row["id"]
        )
        try:
            broken = anju(settings, "audit", "verify")
            assert broken.returncode == 1
            assert f"BROKEN at entry {row['id']}" in broken.stdout
        finally:
            await AuditEntry.update({AuditEntry.actor_name: row["actor_name"]}).where(
                AuditEntry.id == row["id"]
            )
        assert (await verify()).ok


class TestAuditVerifyChecksTheAnchors:
    async def test_a_tail_cut_past_an_anchor_fails_and_names_the_missing_entry(
        self, settings: Settings, app: object, tmp_path: Path
    ) -> None:
        # A data directory of the test's own: its object store and anchor key, the shared database.
        key = anchor_key(tmp_path / "audit-anchor.pem")
        secret = load_server_secret(tmp_path / "secret.key")
        store = LocalObjectStore(
            tmp_path / "objects", public_url=settings.public_url, signing_key=secret
        )
        await record("test.cli.anchored.one", actor_name="cli")
        await record("test.cli.anchored.two", actor_name="cli")
        anchor = await write_anchor(store, key)
        assert anchor is not None
        ok = anju(settings, "audit", "verify", data_dir=tmp_path)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert f"1 anchors hold, newest at entry {anchor.seq}" in ok.stdout

        await AuditEntry.delete().where(AuditEntry.action.like("test.cli.anchored.%"))
        cut = anju(settings, "audit", "verify", data_dir=tmp_path)

        assert (await verify()).ok, "the chain alone cannot tell"
        assert cut.returncode == 1, cut.stdout + cut.stderr
        assert f"BROKEN: entry {anchor.seq} with hash {anchor.hash[:16]}" in cut.stdout
        assert "is missing: the chain ends at entry" in cut.stdout


class TestCreateAdmin:
    async def test_the_one_time_password_must_be_changed_at_the_first_login(
        self, settings: Settings, client: ApiClient
    ) -> None:
        name = f"auditor.{uuid.uuid4().hex[:8]}"
        made = anju(settings, "createadmin", "--username", name, "--role", "audit_admin")
        assert made.returncode == 0, made.stdout + made.stderr
        password = re.search(r"one-time password[^:]*: (\S+)", made.stdout)
        uri = re.search(r"TOTP: (\S+)", made.stdout)
        assert password and uri, made.stdout

        login = {"username": name, "password": password[1]}
        assert (await client.post("/api/v1/auth/login", json=login)).json()["state"] == (
            "totp_required"
        )
        code = pyotp.parse_uri(uri[1]).now()
        second = await client.post("/api/v1/auth/totp", json={"code": code})

        assert second.json()["state"] == "password_change_required", second.text
        assert_error(await client.get("/api/v1/audit/"), 403, "password_change_required")
        change = {"current_password": password[1], "new_password": "Quiet-river-walk-73"}
        assert (await client.post("/api/v1/auth/password", json=change)).json()["state"] == (
            "active"
        )
        assert (await client.get("/api/v1/audit/")).status_code == 200


@pytest.mark.req("DATA-24", partial=True)
class TestKeyRotation:
    async def test_every_field_is_reencrypted_and_still_reads(
        self, settings: Settings, app: object, world: World
    ) -> None:
        old = make_cipher(settings)
        person = await Person.objects().where(Person.id == world.a.persons[0]).first()
        before = old.decrypt(person.phone, context="persons.phone")
        lines: list[str] = []
        new_id = await rotate_keys(settings, progress=lines.append)
        cipher = make_cipher(settings)
        person = await Person.objects().where(Person.id == world.a.persons[0]).first()
        assert person.phone.split(":")[1] == new_id
        assert cipher.decrypt(person.phone, context="persons.phone") == before
        stale = [
            p
            for p in await Person.select(Person.phone, Person.id_number)
            if cipher.needs_rotation(p["phone"]) or cipher.needs_rotation(p["id_number"])
        ]
        assert stale == []
        assert any(line.startswith("persons: ") for line in lines)

    @pytest.mark.req("DATA-25", partial=True)
    async def test_face_photos_are_resealed_under_the_new_biometric_key(
        self, settings: Settings, app: object, world: World
    ) -> None:
        ring = keyring(settings.biometric_keyring_path)
        photos = {uuid.uuid4(): f"photo {i}".encode() for i in range(3)}
        for face_id, photo in photos.items():
            blob, kid = seal(photo, face_id, ring)
            await FaceTemplate(
                id=face_id, community=world.a.community, photo=blob, key_id=kid
            ).save()
        lines: list[str] = []
        await rotate_keys(settings, progress=lines.append)
        ring = keyring(settings.biometric_keyring_path)  # the rotated file, read again
        rows = await FaceTemplate.select().where(FaceTemplate.id.is_in(list(photos)))
        assert {r["key_id"] for r in rows} == {ring.current_id} != {kid}
        assert {r["id"]: unseal(r["photo"], r["id"], r["key_id"], ring) for r in rows} == photos
        done, total = lines[-1].removeprefix("biometric_faces: ").split("/")  # others' faces too
        assert lines[-1].startswith("biometric_faces: ") and done == total
        assert int(total) >= len(photos)


def test_readme_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in VARIABLES if f"`{name}`" not in readme]
    assert missing == []
