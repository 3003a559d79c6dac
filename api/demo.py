"""The demo community: places, residents and one login for every role. Seeded once, kept after."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec
import pyotp

from api.access.credentials import create_credential
from api.access.tables import AccessGroup, AccessSchedule
from api.accounts.tables import Account, RoleAssignment
from api.alarms.defaults import seed_defaults
from api.audit.service import record
from api.communities.tables import Building, Community, Household, Jurisdiction, Unit
from api.core.auth import Role
from api.core.crypto import FieldCipher, id_check_digit
from api.core.passwords import hash_password
from api.devices.service import new_token
from api.people.tables import Person
from api.piccolo_conf import DB
from api.vehicles import identifiers
from api.vehicles.tables import Vehicle
from api.visitors.service import seed_demo_pass
from device_bridge import plates

DEMO_PASSWORD = "Anju-demo-2026"  # noqa: S105 - printed to the operator by design
DEMO_CARD = "0012345678"  # the demo resident's access card (printed by `anju demo`)
DEMO_PIN = "246810"  # the demo resident's door PIN (printed by `anju demo`)
COMMUNITY_CODE = "510104003001001"  # 锦江区 · 书院街街道 · 某社区居委会 · 小区 001 (illustrative)
ISSUER = "安居 Anju"

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"

USERS: list[tuple[str, str, Role]] = [
    ("resident", "王芳 (住户)", Role.RESIDENT),
    ("guard", "李强 (保安)", Role.GUARD),
    ("maintenance", "张磊 (维修)", Role.MAINTENANCE),
    ("manager", "刘敏 (物业经理)", Role.PROPERTY_MANAGER),
    ("police", "陈警官 (民警)", Role.POLICE),
    ("officer", "杨静 (社区)", Role.COMMUNITY_OFFICER),
    ("sysadmin", "系统管理员", Role.SYSTEM_ADMIN),
    ("secadmin", "安全管理员", Role.SECURITY_ADMIN),
    ("auditor", "审计管理员", Role.AUDIT_ADMIN),
]


def _id_number(seq: int) -> str:
    """A well-formed (checksummed) but fictitious Chengdu ID number."""
    body = f"510104{1960 + seq % 40}{1 + seq % 12:02d}{1 + seq % 28:02d}{seq % 1000:03d}"
    return body + id_check_digit(body)


async def seed(cipher: FieldCipher) -> bool:
    """Create the demo community unless it exists; True when it was created now."""
    if await Community.exists().where(Community.code == COMMUNITY_CODE):
        return False
    async with DB.transaction():
        station = Jurisdiction(name="锦江分局书院街派出所", code="510104510000")
        await station.save()
        community = Community(
            code=COMMUNITY_CODE,
            name="锦城花园",
            address="成都市锦江区书院街88号",
            jurisdiction=station.id,
        )
        await community.save()
        first_household = first_person = None
        seq = 0
        for b in range(1, 4):
            building = Building(
                community=community.id,
                number=str(b),
                name=f"{b}栋",
                code=f"{COMMUNITY_CODE}{b:03d}",
                floors=18,
            )
            await building.save()
            for u in (1, 2):
                unit = Unit(
                    community=community.id,
                    building=building.id,
                    number=str(u),
                    code=f"{building.code}{u:02d}",
                )
                await unit.save()
                for floor in (1, 2, 3):
                    for door in (1, 2):
                        room = f"{floor:02d}{door:02d}"
                        household = Household(
                            community=community.id,
                            building=building.id,
                            unit=unit.id,
                            room=room,
                            code=f"{unit.code}{room}",
                            housing="rented" if seq % 5 == 4 else "owned",
                        )
                        await household.save()
                        seq += 1
                        phone = f"138{seq:08d}"
                        id_number = _id_number(seq)
                        person = Person(
                            community=community.id,
                            household=household.id,
                            category=(
                                "tenant"
                                if seq % 5 == 4
                                else "floating"
                                if seq % 7 == 6
                                else "permanent"
                            ),
                            relation="tenant" if seq % 5 == 4 else "owner",
                            name=_SURNAMES[seq % 20] + _GIVEN[(seq * 7) % 20],
                            phone=cipher.encrypt(phone, context="persons.phone"),
                            phone_index=cipher.blind_index(phone, kind="phone"),
                            id_number=cipher.encrypt(id_number, context="persons.id_number"),
                            id_number_index=cipher.blind_index(id_number, kind="id_number"),
                        )
                        await person.save()
                        if first_household is None:
                            first_household, first_person = household.id, person.id
        for username, name, role in USERS:
            account = Account(
                username=username,
                display_name=name,
                password_hash=hash_password(DEMO_PASSWORD),
                password_changed_at=datetime.now(UTC),
                person=first_person if role == Role.RESIDENT else None,
            )
            if role != Role.RESIDENT:
                account.totp_secret = cipher.encrypt(
                    pyotp.random_base32(), context="accounts.totp_secret"
                )
                account.totp_confirmed = True
            await account.save()
            await RoleAssignment(
                account=account.id,
                role=role,
                community=None
                if role in (Role.POLICE, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
                else community.id,
                household=first_household if role == Role.RESIDENT else None,
                jurisdiction=station.id if role == Role.POLICE else None,
            ).save()
        await seed_defaults(community.id)  # emergency plans and the fire fail-safe rule
        await _seed_vehicles(cipher, community.id)
        if first_household is not None and first_person is not None:
            await _seed_access(community.id, first_household, first_person)
        resident = await Account.select(Account.id).where(Account.username == "resident").first()
        if first_household is not None and resident is not None:
            await seed_demo_pass(cipher, household_id=first_household, account_id=resident["id"])
        await record(
            "demo.seeded",
            actor_name="anju demo",
            target_type="community",
            target_id=community.id,
            community_id=community.id,
        )
    return True


async def _seed_access(community_id: UUID, household_id: UUID, person_id: UUID) -> None:
    """A weekday schedule, a couriers' group, and a card and a PIN for the demo resident.

    Access points come with the bridge's inventory (every door controller and lift gets one);
    the resident's card and PIN pass the community gates and their unit's door.
    """
    schedule = AccessSchedule(
        community=community_id,
        name="工作日 08:00-18:00",
        windows=[{"days": [1, 2, 3, 4, 5], "start": "08:00", "end": "18:00"}],
        holidays=["2026-10-01", "2027-01-01"],
        created_at=datetime.now(UTC),
    )
    await schedule.save()
    await AccessGroup(
        community=community_id,
        name="快递员",
        points=[],
        schedule=schedule.id,
        created_at=datetime.now(UTC),
    ).save()
    for kind, value in (("card", DEMO_CARD), ("pin", DEMO_PIN)):
        await create_credential(
            community_id=community_id,
            kind=kind,
            person_id=person_id,
            household_id=household_id,
            value=value,
        )


# The residents' plates and the blacklisted one the demo site's sim cameras see (the scenario's
# `plates` and `blacklisted` in device_bridge/demo.toml: tests/device_bridge/test_traffic.py
# checks that the two lists agree).
DEMO_PLATES = ["川A12345", "川AD12345", "川A8B5S2", "川A6Z0D7", "川A3C7K9", "川A20519"]
DEMO_BLACKLISTED = ["川A99999"]


async def _seed_vehicles(cipher: FieldCipher, community_id: UUID) -> None:
    """The residents' cars (active, one per household in turn) and the blacklisted one, each
    with its plate credential, as the registry's steps leave them (api/vehicles/registry.py)."""
    homes = await Household.select(Household.id).where(Household.community == community_id)
    now = datetime.now(UTC)
    cars = [(p, "resident") for p in DEMO_PLATES] + [(p, "blacklisted") for p in DEMO_BLACKLISTED]
    for n, (plate, vehicle_class) in enumerate(cars):
        blocked = vehicle_class == "blacklisted"
        household = None if blocked else homes[n % len(homes)]["id"]
        credential = await create_credential(
            community_id=community_id,
            kind="plate_block" if blocked else "plate",
            person_id=None,
            household_id=household,
            value=plate,
        )
        await Vehicle(
            community=community_id,
            household=household,
            colour="green" if len(plate) == 8 else "blue",
            vehicle_type="new_energy" if len(plate) == 8 else "car",
            plate_class=plates.classify(plate) or "standard",
            vehicle_class=vehicle_class,
            status="active",
            reason="演示：多次冲卡" if blocked else "",
            credential=credential,
            created_at=now,
            updated_at=now,
            **msgspec.structs.asdict(identifiers.stored(cipher, plate)),
        ).save()


def access_notes() -> list[str]:
    """What `anju demo` prints about access control."""
    return [
        f"Access: resident's card {DEMO_CARD}, PIN {DEMO_PIN} (gates and unit 1-1's door);",
        "  a weekday schedule and a 快递员 group are seeded for the manager to try.",
        "Self-registration: 住户 → 认证申请 shows the join link; its SMS codes are in this log.",
    ]


async def logins(cipher: FieldCipher) -> list[tuple[str, str, str, str | None]]:
    """(username, role, password, otpauth URI or None) for every demo account."""
    out = []
    for username, _, role in USERS:
        account = await Account.objects().where(Account.username == username).first()
        if account is None:
            continue
        uri = None
        if account.totp_secret:
            secret = cipher.decrypt(account.totp_secret, context="accounts.totp_secret")
            uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
        out.append((username, role.value, DEMO_PASSWORD, uri))
    return out


async def bridge_token() -> str:
    """A one-time enrolment token for the demo community's simulated site."""
    community = await Community.select(Community.id).where(Community.code == COMMUNITY_CODE).first()
    assert community, "seed the demo first"
    token, _ = await new_token(community["id"], hours=1, actor=None, actor_name="anju demo")
    return token
