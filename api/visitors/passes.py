"""The rules of a visitor pass: checked input, places, credentials on and off, scope.

Shared by the resident's booking (`service.py`), the visitor desk (`desk.py`) and the gates
(`arrivals.py`). The functions that write run inside the caller's transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
import pyotp

from api.access import credentials
from api.access.tables import AccessPoint, Credential
from api.alarms.roster import recipients
from api.communities.tables import Building, Household
from api.core.auth import Caller, Role, Scope
from api.core.crypto import (
    FieldCipher,
    mask_id_number,
    normalize_id_number,
    normalize_phone,
    valid_id_number,
    valid_phone,
)
from api.core.errors import Conflict, InvalidInput
from api.devices.tables import Bridge
from api.piccolo_conf import DB
from api.visitors.schemas import (
    IdType,
    PassStatus,
)
from api.visitors.tables import VisitorPass
from device_bridge import plates

CONTEXTS = {"phone": "visitor_passes.phone", "id_number": "visitor_passes.id_number"}
LIVE: tuple[PassStatus, ...] = ("pending_consent", "active")
MAX_WINDOW = timedelta(days=7)  # the longest booked visit
START_GRACE = timedelta(minutes=15)  # a booking may start this much in the past (slow typing)
SITE_TZ = ZoneInfo("Asia/Shanghai")
BUILDING_KINDS = ("unit_door", "lift", "turnstile")  # a building's own; gates: `gate_points`
TOKEN_BYTES = 24  # 192 bits: the share link cannot be guessed
MAX_TOKEN_LENGTH = 64
_ID_PATTERNS: dict[str, re.Pattern[str]] = {
    "passport": re.compile(r"[A-Z0-9]{5,17}"),
    "hk_macao_permit": re.compile(r"[HM][0-9]{8}([0-9]{2})?"),
    "taiwan_permit": re.compile(r"[0-9]{8}([0-9]{2})?"),
}
_INTERNATIONAL = re.compile(r"\+[1-9][0-9]{5,14}")
# Province, issuing letter, then 5 (ordinary) or 6 (new-energy) letters and digits; I and O are
# never used, and the last may be 挂 学 警 港 澳 领.


# --- errors ----------------------------------------------------------------------------------


class InvalidPhone(InvalidInput):
    """Neither a mainland mobile number nor an international number with its + prefix."""

    code = "invalid_phone"
    message = "The phone number is not a valid mobile number."


class InvalidIdNumber(InvalidInput):
    """The number does not fit its document type (a resident ID also needs its check digit)."""

    code = "invalid_id_number"
    message = "The ID number is not valid for this type of document."


class InvalidPlate(InvalidInput):
    """Not a Chinese car plate."""

    code = "invalid_plate"
    message = "The car plate is not valid."


class InvalidWindow(InvalidInput):
    """The time window is over already, starts too far back, or is too long."""

    code = "invalid_window"
    message = "The visit must end in the future and last at most 7 days."


class InvalidPlaces(InvalidInput):
    """A gate, building or floor that is not one of the community's (or not open to visitors)."""

    code = "invalid_places"
    message = "Choose gates and buildings of this community."


class HouseholdRequired(InvalidInput):
    """The caller lives in several households: which one is being visited?"""

    code = "household_required"
    message = "Choose the household the visitor comes to."


class PassNotLive(Conflict):
    """The pass has ended (used up, expired, revoked or declined)."""

    code = "visitor_pass_not_live"
    message = "This visitor pass is no longer valid."


class PassNotActive(Conflict):
    """Only an active pass has a link to share."""

    code = "visitor_pass_not_active"
    message = "Only an active visitor pass can be shared."


# --- small helpers -----------------------------------------------------------------------------


def now() -> datetime:
    """The platform clock (a function, so tests may move it)."""
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    """SHA-256 of a share token, hex: what the table keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def household_floor(room: str) -> int:
    """The floor of a room number as posted: '0302' → 3, '1201' → 12, '101' → 1."""
    digits = re.sub(r"[^0-9]", "", room)
    return max(int(digits[:-2] or "1"), 1) if len(digits) > 2 else 1


def clean_phone(value: str) -> str:
    """A mainland mobile (digits) or an international number ('+' and digits); else 400."""
    compact = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", value))
    if _INTERNATIONAL.fullmatch(compact) and not compact.startswith("+86"):
        return compact
    if not valid_phone(value):
        raise InvalidPhone(field="visitor_phone")
    return normalize_phone(value)


def identifiers(
    cipher: FieldCipher, phone: str, id_type: IdType | None, id_number: str | None
) -> dict[str, Any]:
    """The encrypted phone and ID number with their blind indexes, as table columns."""
    out: dict[str, Any] = {
        "phone": cipher.encrypt(phone, context=CONTEXTS["phone"]),
        "phone_index": cipher.blind_index(phone, kind="phone"),
    }
    if id_type and id_number:
        out.update(
            id_type=id_type,
            id_number=cipher.encrypt(id_number, context=CONTEXTS["id_number"]),
            id_number_index=cipher.blind_index(id_number, kind="id_number"),
        )
    return out


def clean_id(id_type: IdType, value: str) -> str:
    """The ID number normalised and checked against its document type; else 400."""
    number = normalize_id_number(value)
    ok = (
        valid_id_number(number)
        if id_type == "resident_id"
        else _ID_PATTERNS[id_type].fullmatch(number) is not None
    )
    if not ok:
        raise InvalidIdNumber(field="id_number")
    return number


def mask_document(id_type: str | None, number: str) -> str:
    """A resident ID as everywhere (5101**********1234); shorter documents keep 2 + 2."""
    if id_type == "resident_id":
        return mask_id_number(number)
    return number[:2] + "*" * (len(number) - 4) + number[-2:] if len(number) > 6 else "*" * 6


def clean_plate(value: str | None) -> str:
    """The plate normalised as everywhere (device_bridge/plates.py); '' for none; 400 when it
    fits no plate format."""
    plate = plates.normalise(value or "")
    if not plate:
        return ""
    if not plates.is_valid(plate):
        raise InvalidPlate(field="plate")
    return plate


def resident_households(caller: Caller) -> list[UUID]:
    """The households the caller lives in (resident assignments), in assignment order."""
    found = [
        a.household_id
        for a in caller.assignments
        if a.role == Role.RESIDENT and a.household_id is not None
    ]
    return list(dict.fromkeys(found))


def scope(caller: Caller, permission: str) -> Any | None:
    """Passes the caller reaches with the permission (residents: their households')."""
    return Scope.of(caller, permission).where(VisitorPass.community, VisitorPass.household)


async def household_row(household_id: UUID) -> dict[str, Any] | None:
    """A household with its community, building, unit and room."""
    row: dict[str, Any] | None = (
        await Household.select(
            Household.id,
            Household.community,
            Household.building,
            Household.unit,
            Household.room,
            Household.building._.number.as_alias("building_number"),
            Household.building._.floors.as_alias("building_floors"),
            Household.unit._.number.as_alias("unit_number"),
        )
        .where(Household.id == household_id)
        .first()
    )
    return row


async def household_members(household_id: UUID) -> list[UUID]:
    """The active resident accounts of a household (who hear about its visitors)."""
    row = await Household.select(Household.community).where(Household.id == household_id).first()
    if row is None:
        return []
    return sorted(await recipients(row["community"], ["household"], household_id=household_id))


async def gate_points(community_id: UUID) -> list[UUID]:
    """The community's gates: its gate points and the turnstiles outside any building."""
    rows = (
        await AccessPoint.select(AccessPoint.id)
        .where(
            (AccessPoint.community == community_id)
            & (
                (AccessPoint.kind == "gate")
                | ((AccessPoint.kind == "turnstile") & AccessPoint.building.is_null())
            )
        )
        .order_by(AccessPoint.name)
    )
    return [r["id"] for r in rows]


async def building_points(community_id: UUID, buildings: list[UUID]) -> list[UUID]:
    """The unit doors, lifts and lobby turnstiles of some buildings."""
    if not buildings:
        return []
    rows = await AccessPoint.select(AccessPoint.id).where(
        (AccessPoint.community == community_id)
        & AccessPoint.building.is_in(buildings)
        & AccessPoint.kind.is_in(list(BUILDING_KINDS))
    )
    return [r["id"] for r in rows]


async def doors_of(ids: list[UUID]) -> list[dict[str, Any]]:
    """Id, name and kind of these access points, in the order given."""
    if not ids:
        return []
    rows = {
        r["id"]: r
        for r in await AccessPoint.select(AccessPoint.id, AccessPoint.name, AccessPoint.kind).where(
            AccessPoint.id.is_in(ids)
        )
    }
    return [rows[i] for i in ids if i in rows]


async def choose_places(
    household: dict[str, Any],
    points: list[UUID] | None,
    buildings: list[UUID] | None,
    floors: list[int] | None,
) -> tuple[list[UUID], list[UUID], list[int]]:
    """The gates, buildings and lift floors of a pass, with the defaults filled in and checked.

    No gates named: every gate. No buildings named: the household's. No floors: its floor.
    """
    community_id = household["community"]
    gates = await gate_points(community_id)
    if points:
        chosen = list(dict.fromkeys(points))
        if not set(chosen) <= set(gates):
            raise InvalidPlaces("Choose gates of this community.", field="points")
        gates = chosen
    chosen_buildings = list(dict.fromkeys(buildings or [household["building"]]))
    known = await Building.select(Building.id, Building.floors).where(
        (Building.community == community_id) & Building.id.is_in(chosen_buildings)
    )
    if len(known) != len(chosen_buildings):
        raise InvalidPlaces("Choose buildings of this community.", field="buildings")
    top = max(r["floors"] for r in known)
    lifts = sorted(set(floors)) if floors else [household_floor(household["room"])]
    if any(f == 0 or f > top for f in lifts):
        raise InvalidPlaces(f"Floors run from the basement to {top}.", field="floors")
    return gates, chosen_buildings, lifts


def json_list(value: Any) -> list[Any]:
    """A JSONB list column, whether the driver decoded it (select) or not (raw queries)."""
    if isinstance(value, str | bytes):
        value = msgspec.json.decode(value)
    return list(value or [])


def ids_of(value: Any) -> list[UUID]:
    """The UUIDs of a JSONB list column."""
    return [UUID(str(v)) for v in json_list(value)]


async def door_names(row: dict[str, Any]) -> list[str]:
    """The names of every access point a pass opens: its gates, then its buildings' doors."""
    ids = ids_of(row["points"]) + await building_points(row["community"], ids_of(row["buildings"]))
    if not ids:
        return []
    names = {
        r["id"]: r["name"]
        for r in await AccessPoint.select(AccessPoint.id, AccessPoint.name).where(
            AccessPoint.id.is_in(ids)
        )
    }
    return [names[i] for i in ids if i in names]


async def activate(row: dict[str, Any], *, by: UUID | None) -> UUID:
    """Give an active pass its credential; inside the caller's transaction.

    One credential of kind `code` (an HOTP secret for the keypad; the visitor's QR tokens name it
    too): one count of entries for both. It passes the pass's gates and the unit doors and lifts
    of its buildings (lifts: only its floors) within its window; `entries_allowed` entries, each a
    granted "in" at a gate (api/access/credentials.py), the doors inside at any time.

    A pass with a car plate also gets a credential of kind `plate` for its window: the bridges
    let the car through the vehicle barriers (docs/vehicles.md), counting nothing. None when the
    plate already has one in the community (a registered car, or a blacklisted plate, which then
    stays out).
    """
    community_id = row["community"]
    points = ids_of(row["points"]) + await building_points(community_id, ids_of(row["buildings"]))
    common: dict[str, Any] = {
        "community_id": community_id,
        "visitor_pass_id": row["id"],
        "points": points,
        "floors": json_list(row["floors"]),
        "valid_from": row["valid_from"],
        "valid_until": row["valid_until"],
        "uses": row["entries_allowed"],
        "created_by": by,
    }
    credential = await credentials.create_credential(
        kind="code", hotp_secret=pyotp.random_base32(), **common
    )
    if row["plate"]:
        with contextlib.suppress(credentials.DuplicateCredential):
            await credentials.create_credential(
                community_id=community_id,
                kind="plate",
                value=row["plate"],
                visitor_pass_id=row["id"],
                household_id=row["household"],
                valid_from=row["valid_from"],
                valid_until=row["valid_until"],
                created_by=by,
            )
    await VisitorPass.update(
        {
            VisitorPass.credential: credential,
            VisitorPass.status: "active",
            VisitorPass.updated_at: now(),
        }
    ).where(VisitorPass.id == row["id"])
    return credential


async def follow_new_doors(bridge_id: UUID) -> int:
    """After a bridge's inventory: the community's active passes open the doors that came with it.

    A pass names gates (none named when it was booked before the site had any: then every gate)
    and buildings, whose unit doors and lifts it opens; a door that appears later (a bridge linked
    after the booking, as on the demo site) is added to the pass's credentials (its own and the
    visitor phone's key) and the change logged, so the next set carries it. The number of
    credentials changed. One transaction.
    """
    bridge = await Bridge.select(Bridge.community).where(Bridge.id == bridge_id).first()
    if bridge is None:
        return 0
    community_id = bridge["community"]
    rows = await VisitorPass.select(
        VisitorPass.id,
        VisitorPass.points,
        VisitorPass.buildings,
        VisitorPass.credential,
        VisitorPass.phone_key,
    ).where(
        (VisitorPass.community == community_id)
        & (VisitorPass.status == "active")
        & (VisitorPass.valid_until > now())
        & VisitorPass.credential.is_not_null()
    )
    if not rows:
        return 0
    gates = await gate_points(community_id)
    held = {
        r["id"]: {UUID(str(p)) for p in json_list(r["points"])}
        for r in await Credential.select(Credential.id, Credential.points).where(
            Credential.id.is_in([r["credential"] for r in rows]) & (Credential.status == "active")
        )
    }
    changed = []
    async with DB.transaction():
        for row in rows:
            if row["credential"] not in held:
                continue
            chosen = ids_of(row["points"]) or gates
            doors = chosen + await building_points(community_id, ids_of(row["buildings"]))
            if set(doors) == held[row["credential"]]:
                continue
            if not ids_of(row["points"]):
                await VisitorPass.update(
                    {VisitorPass.points: [str(g) for g in gates], VisitorPass.updated_at: now()}
                ).where(VisitorPass.id == row["id"])
            ours = [c for c in (row["credential"], row["phone_key"]) if c]
            await Credential.update({Credential.points: [str(d) for d in doors]}).where(
                Credential.id.is_in(ours)
            )
            changed += ours
        await credentials.log_changes(community_id, changed)
    return len(changed)


async def end_pass(
    row: dict[str, Any], status: PassStatus, *, by: UUID | None, reason: str
) -> None:
    """Move a pass to a final status and revoke its credentials (its own and the visitor phone's
    key); inside the caller's transaction.

    The share link dies with it (its hash is dropped), so the pass page answers 404; only a
    used-up pass keeps its link, to tell the visitor so. A pass is used up by its last entry
    (api/visitors/arrivals.py), which does not end it here: its credential keeps opening the
    doors inside and the exits until the expiry job ends it with its window.
    """
    plates = await Credential.select(Credential.id).where(
        (Credential.visitor_pass == row["id"])
        & (Credential.kind == "plate")
        & (Credential.status == "active")
    )
    held = [p["id"] for p in plates] + [c for c in (row["credential"], row["phone_key"]) if c]
    await credentials.revoke_credentials(held, reason=reason, by=by)
    changes: dict[Any, Any] = {VisitorPass.status: status, VisitorPass.updated_at: now()}
    if status != "used_up":  # a used-up pass still shows the visitor "no entries left"
        changes[VisitorPass.share_token_hash] = None
    if status == "revoked":
        changes[VisitorPass.revoked_at] = now()
        changes[VisitorPass.revoked_by] = by
    await VisitorPass.update(changes).where(VisitorPass.id == row["id"])


async def align_entries(pass_id: UUID, community_id: UUID, left: int) -> bool:
    """Give every active credential of a pass the pass's entries left; inside the caller's
    transaction. Whether one changed (then the change is logged for the bridges).

    A pass with a visitor phone key has two credentials, each counted where it was used
    (api/access/records.py); the pass's count is the one truth, so the other learns it here.
    """
    rows = await Credential.select(Credential.id).where(
        (Credential.visitor_pass == pass_id)
        & (Credential.status == "active")
        & (Credential.uses >= 0)
        & (Credential.uses != left)
    )
    if not rows:
        return False
    ids = [r["id"] for r in rows]
    await Credential.update({Credential.uses: left}).where(Credential.id.is_in(ids))
    await credentials.log_changes(community_id, ids)
    return True


async def locked(pass_id: UUID) -> dict[str, Any] | None:
    """The pass row, locked for the rest of the transaction."""
    rows = await VisitorPass.raw("SELECT * FROM visitor_passes WHERE id = {} FOR UPDATE", pass_id)
    return rows[0] if rows else None


# --- reads -------------------------------------------------------------------------------------

PASS_COLUMNS = (
    *VisitorPass.all_columns(),
    VisitorPass.household._.building._.number.as_alias("building_number"),
    VisitorPass.household._.unit._.number.as_alias("unit_number"),
    VisitorPass.household._.room.as_alias("room"),
)


async def place_names(rows: Iterable[dict[str, Any]]) -> dict[UUID, str]:
    """Names of the access points and buildings the rows mention."""
    points: set[UUID] = set()
    buildings: set[UUID] = set()
    for r in rows:
        points |= set(ids_of(r["points"]))
        buildings |= set(ids_of(r["buildings"]))
    names: dict[UUID, str] = {}
    if points:
        for p in await AccessPoint.select(AccessPoint.id, AccessPoint.name).where(
            AccessPoint.id.is_in(list(points))
        ):
            names[p["id"]] = p["name"]
    if buildings:
        for b in await Building.select(Building.id, Building.name).where(
            Building.id.is_in(list(buildings))
        ):
            names[b["id"]] = b["name"]
    return names
