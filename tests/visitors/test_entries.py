"""A visitor pass counts entries, not doors: one credential, one count, only a gate's "in" uses one.

The platform's side: its decisions on a bridge's queries, the counts the ingest keeps, and what
the bridges are sent. (The bridge's own offline decisions: tests/device_bridge/test_access.py.)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from api.access.credential_keys import keys
from api.access.credentials import HOTP_CONTEXT, issue_qr
from api.access.tables import Credential
from api.core.auth import Role
from api.core.effects import Effects
from api.visitors.service import expire_due
from api.visitors.tables import VisitorPass
from tests.devices.peer import ScriptedBridge
from tests.fixtures import AsRole
from tests.helpers import ApiClient, eventually
from tests.visitors.helpers import OpenSite, book


async def _credential(pass_id: object) -> dict:
    row = await VisitorPass.select(VisitorPass.credential).where(VisitorPass.id == pass_id).first()
    assert row is not None and row["credential"] is not None
    cred = await Credential.select().where(Credential.id == row["credential"]).first()
    assert cred is not None
    return cred


def _code(cred: dict, offset: int = 0) -> str:
    secret = keys().cipher.decrypt(cred["hotp_secret"], context=HOTP_CONTEXT)
    return pyotp.HOTP(secret).at(cred["counter"] + offset)


async def _granted(
    site: ScriptedBridge, cred: dict, door: str, method: str, direction: str = "in", **extra: object
) -> None:
    await site.event(
        "access.granted",
        door,
        {
            "method": method,
            "direction": direction,
            "credential": str(cred["id"]),
            "visitor_pass": str(cred["visitor_pass"]),
            "decided_by": "bridge",
            **extra,
        },
    )


@pytest.mark.req("VIS-07")
@pytest.mark.req("VIS-04", partial=True)
class TestOneEntry:
    async def test_after_the_gate_the_unit_door_the_lift_and_the_exit_still_open(
        self, as_role: AsRole, open_site: OpenSite
    ) -> None:
        resident: ApiClient = await as_role(Role.RESIDENT)
        site = await open_site()
        created = await book(resident, entries=1)
        cred = await _credential(created["id"])
        assert (cred["kind"], cred["uses"]) == ("code", 1)
        # The QR token and the keypad code name the same credential: one count for both.
        token, _ = await issue_qr(cred["id"])
        answer = await site.ask("gate-east", "qr", token)
        assert answer.granted and answer.credential == str(cred["id"])
        await _granted(site, cred, "gate-east", "qr")
        after = await _credential(created["id"])
        assert (after["uses"], after["status"]) == (0, "active")
        # The entry is used: the keypad code is refused a second entry at the gate...
        refused = await site.ask("gate-east", "code", _code(after))
        assert (refused.granted, refused.reason) == (False, "no_uses_left")
        # ... but opens the unit door, which counts no entry (the code itself is burnt).
        code = _code(after)
        assert (await site.ask("door-1-1", "code", code)).granted
        await _granted(site, after, "door-1-1", "code", counter=after["counter"])
        burnt = await _credential(created["id"])
        assert (burnt["uses"], burnt["counter"]) == (0, after["counter"] + 1)
        # The lift goes to the host's floor only (floor 1 for room 0101), and the exit opens.
        # Each grant burns the code presented (the platform's decision too): the next code.
        lift = await site.ask("lift-1", "code", _code(burnt))
        assert (lift.granted, lift.floor) == (True, 1)
        again = await site.ask("lift-1", "code", _code(burnt))
        assert (again.granted, again.reason) == (False, "code_used")
        burnt = await _credential(created["id"])
        wrong = await site.ask("lift-1", "code", _code(burnt), floor=5)
        assert (wrong.granted, wrong.reason) == (False, "not_this_door")
        chosen = await site.ask("lift-1", "code", _code(burnt), floor=1)
        assert (chosen.granted, chosen.floor) == (True, 1)
        burnt = await _credential(created["id"])
        token, _ = await issue_qr(cred["id"])  # a used-up pass still has its QR
        out = await site.ask("gate-east", "qr", token, direction="out")
        assert out.granted and out.floor is None
        await _granted(site, burnt, "gate-east", "qr", "out")
        assert (await _credential(created["id"]))["uses"] == 0
        row = await VisitorPass.select().where(VisitorPass.id == created["id"]).first()
        assert row is not None
        assert (row["status"], row["entries_used"], row["inside"]) == ("used_up", 1, False)
        # The bridge keeps it, with no entry left at the gate and the unit door's code burnt.
        await eventually(lambda: site.held()[str(cred["id"])].counter == burnt["counter"])
        held = site.held()[str(cred["id"])]
        assert (held.uses, held.entry_doors) == (0, ["gate-east"])

    async def test_the_window_end_revokes_a_used_up_pass(
        self, as_role: AsRole, open_site: OpenSite
    ) -> None:
        resident: ApiClient = await as_role(Role.RESIDENT)
        site = await open_site()
        created = await book(resident, entries=1)
        cred = await _credential(created["id"])
        await _granted(site, cred, "gate-east", "code", counter=cred["counter"])
        await VisitorPass.update(
            {VisitorPass.valid_until: datetime.now(UTC) - timedelta(minutes=1)}
        ).where(VisitorPass.id == created["id"])
        assert created["id"] in {str(i) for i in await expire_due(Effects())}
        row = (
            await VisitorPass.select(VisitorPass.status)
            .where(VisitorPass.id == created["id"])
            .first()
        )
        assert row == {"status": "used_up"}
        assert (await _credential(created["id"]))["status"] == "revoked"
        assert created["id"] not in {str(i) for i in await expire_due(Effects())}  # once


class TestPlatformFloors:
    @pytest.mark.req("VIS-07")
    async def test_a_lift_query_is_granted_only_for_an_allowed_floor(
        self, as_role: AsRole, open_site: OpenSite
    ) -> None:
        resident: ApiClient = await as_role(Role.RESIDENT)
        site = await open_site()
        created = await book(resident, entries=2)
        cred = await _credential(created["id"])
        token, _ = await issue_qr(cred["id"])
        assert (await site.ask("lift-1", "qr", token, floor=3)).reason == "not_this_door"
        token, _ = await issue_qr(cred["id"])
        allowed = await site.ask("lift-1", "qr", token, floor=1)
        assert (allowed.granted, allowed.floor) == (True, 1)
        assert uuid.UUID(allowed.credential) == cred["id"]
