"""Managers enrol, list and revoke credentials; residents fetch their own dynamic QR code."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from piccolo.custom_types import Combinable

from api.access.credentials import (
    after_commit,
    create_credential,
    issue_qr,
    revoke_credentials,
)
from api.access.schemas import CredentialCreate, CredentialPage, CredentialRead, QrToken
from api.access.tables import AccessGroup, AccessPoint, Credential
from api.accounts.tables import Account
from api.audit.service import record
from api.biometrics.tables import FaceTemplate
from api.communities.tables import Household
from api.core.auth import Caller, Scope, require_staff
from api.core.effects import Effects
from api.core.errors import Conflict, InvalidInput, NotFound
from api.core.paging import equals, paged_page
from api.people.moves import MovingOut
from api.people.tables import Person
from api.piccolo_conf import DB


class NoHousehold(InvalidInput):
    """Household access for a person who belongs to no household."""

    code = "no_household"
    message = "The person belongs to no household."


class AlreadyRevoked(Conflict):
    """The credential is revoked already."""

    code = "credential_already_revoked"
    message = "The credential is revoked already."


_COLUMNS = (
    Credential.id,
    Credential.community,
    Credential.kind,
    Credential.person,
    Credential.person.name.as_alias("person_name"),
    Credential.household,
    Credential.visitor_pass,
    Credential.masked,
    Credential.template,
    Credential.label,
    Credential.groups,
    Credential.points,
    Credential.floors,
    Credential.valid_from,
    Credential.valid_until,
    Credential.uses,
    Credential.status,
    Credential.revoked_at,
    Credential.revoke_reason,
    Credential.created_at,
)


def _read(r: dict[str, Any]) -> CredentialRead:
    return CredentialRead(
        id=r["id"],
        community_id=r["community"],
        kind=r["kind"],
        person_id=r["person"],
        person_name=r["person_name"],
        household_id=r["household"],
        visitor_pass_id=r["visitor_pass"],
        masked=r["masked"],
        face_id=r["template"],
        label=r["label"],
        group_ids=[UUID(str(g)) for g in r["groups"] or []],
        point_ids=[UUID(str(p)) for p in r["points"] or []],
        floors=list(r["floors"] or []),
        valid_from=r["valid_from"],
        valid_until=r["valid_until"],
        uses=r["uses"],
        status=r["status"],
        revoked_at=r["revoked_at"],
        revoke_reason=r["revoke_reason"],
        created_at=r["created_at"],
    )


async def _refs(community_id: UUID, data: CredentialCreate) -> None:
    for table, ids in ((AccessGroup, data.group_ids), (AccessPoint, data.point_ids)):
        if ids and await table.count().where(
            table.id.is_in(list(set(ids))) & (table.community == community_id)
        ) != len(set(ids)):
            raise InvalidInput("An access group or point is not in this community.")
    if data.face_id is not None and not await FaceTemplate.exists().where(
        (FaceTemplate.id == data.face_id) & (FaceTemplate.community == community_id)
    ):
        raise InvalidInput("No such enrolled face in this community.", field="face_id")


async def enrol(caller: Caller, data: CredentialCreate, effects: Effects) -> CredentialRead:
    """Enrol a card, PIN or face for a person of a community the caller manages."""
    person = (
        await Person.select(Person.community, Person.household)
        .where(Person.id == data.person_id)
        .first()
    )
    if person is None:
        raise NotFound()
    community = person["community"]
    require_staff(caller, "credential.write", community)
    if data.household_access and person["household"] is None:
        raise NoHousehold(field="household_access")
    await _refs(community, data)
    async with DB.transaction():
        credential_id = await create_credential(
            community_id=community,
            kind=data.kind,
            person_id=data.person_id,
            household_id=person["household"] if data.household_access else None,
            value=data.value,
            template_id=data.face_id,
            groups=data.group_ids,
            points=data.point_ids,
            floors=data.floors,
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            created_by=caller.account_id,
        )
        await record(
            "credential.create",
            actor=caller,
            target_type="credential",
            target_id=credential_id,
            community_id=community,
            details={"kind": data.kind, "person_id": str(data.person_id)},
        )
    after_commit(effects, community)
    return await get(caller, credential_id)


async def search(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    person_id: UUID | None = None,
    household_id: UUID | None = None,
    visitor_pass_id: UUID | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> CredentialPage:
    """Credentials in the caller's communities, newest first; values masked."""
    return await paged_page(
        CredentialPage,
        _read,
        Credential.select(*_COLUMNS)
        .order_by(Credential.created_at, ascending=False)
        .output(load_json=True),
        Scope.of(caller, "credential.read").where(Credential.community),
        equals(Credential.community, community_id),
        equals(Credential.person, person_id),
        equals(Credential.household, household_id),
        equals(Credential.visitor_pass, visitor_pass_id),
        equals(Credential.kind, kind),
        equals(Credential.status, status),
        page=page,
        page_size=page_size,
    )


async def get(caller: Caller, credential_id: UUID) -> CredentialRead:
    """One credential in scope."""
    Scope.of(caller, "credential.read")
    row = (
        await Credential.select(*_COLUMNS)
        .where(Credential.id == credential_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound()
    require_staff(caller, "credential.read", row["community"])
    return _read(row)


async def revoke(
    caller: Caller, credential_id: UUID, *, reason: str, effects: Effects
) -> CredentialRead:
    """Revoke a credential; every reader refuses it within seconds (audited with the reason)."""
    row = (
        await Credential.select(Credential.community, Credential.status, Credential.kind)
        .where(Credential.id == credential_id)
        .first()
    )
    if row is None:
        raise NotFound()
    require_staff(caller, "credential.write", row["community"])
    if row["status"] != "active":
        raise AlreadyRevoked()
    async with DB.transaction():
        await revoke_credentials([credential_id], reason=reason, by=caller.account_id)
        await record(
            "credential.revoke",
            actor=caller,
            target_type="credential",
            target_id=credential_id,
            community_id=row["community"],
            purpose=reason,
            details={"kind": row["kind"]},
        )
    after_commit(effects, row["community"])
    return await get(caller, credential_id)


async def revoke_on_move_out(moving: MovingOut, caller: Caller | None, effects: Effects) -> int:
    """A person who moved out passes no door any more: every active credential of theirs (card,
    PIN, QR, phone key, face, fingerprint, plate) is revoked in the caller's transaction (people's
    move-out, through the hook api/app.py wires), audited, and pushed after commit; their face
    comes off the face readers with that delta (api/biometrics/placement.py). So are the household
    QR codes and phone keys of the accounts bound to them, and, when they were the household's last
    resident, every household credential bound to no person (a visitor's pass keeps its own
    window). How many were revoked."""
    who: Combinable = Credential.person == moving.person_id
    if moving.household_id is not None:
        household = (
            (Credential.household == moving.household_id)
            & Credential.person.is_null()
            & Credential.visitor_pass.is_null()
        )
        accounts = await Account.select(Account.id).where(Account.person == moving.person_id)
        if moving.last_resident:
            who |= household
        elif accounts:
            who |= household & Credential.created_by.is_in([a["id"] for a in accounts])
    rows = await Credential.select(Credential.id, Credential.community).where(
        who & (Credential.status == "active")
    )
    if not rows:
        return 0
    ids = [r["id"] for r in rows]
    communities = await revoke_credentials(
        ids, reason=moving.reason, by=caller.account_id if caller else None
    )
    for credential_id, community_id in ((r["id"], r["community"]) for r in rows):
        await record(
            "credential.revoke",
            actor=caller,
            target_type="credential",
            target_id=credential_id,
            community_id=community_id,
            purpose=moving.reason,
            details={"person_id": str(moving.person_id)},
        )
    after_commit(effects, *communities)
    return len(ids)


class Home(msgspec.Struct, frozen=True, kw_only=True):
    """Whose a resident's own credentials are: the person, the household, its community."""

    person: UUID | None
    household: UUID
    community: UUID


async def resident_home(caller: Caller) -> Home:
    """The caller's own household among those `access.qr` lets them act for (NotFound: none)."""
    households = sorted(Scope.of(caller, "access.qr").households)
    account = (
        await Account.select(Account.person, Account.person.household.as_alias("home"))
        .where(Account.id == caller.account_id)
        .first()
    )
    person_id = account["person"] if account else None
    household_id = (account["home"] if account and account["home"] in households else None) or (
        households[0] if households else None
    )
    if household_id is None:
        raise NotFound()
    home = await Household.select(Household.community).where(Household.id == household_id).first()
    if home is None:
        raise NotFound()
    return Home(person=person_id, household=household_id, community=home["community"])


async def my_qr(caller: Caller, effects: Effects) -> QrToken:
    """The caller's dynamic QR (its household's qr credential, made on first request)."""
    home = await resident_home(caller)
    where = (
        (Credential.kind == "qr")
        & (Credential.household == home.household)
        & (Credential.status == "active")
        & (Credential.visitor_pass.is_null())
    )
    where &= Credential.person == home.person if home.person else Credential.person.is_null()
    found = await Credential.select(Credential.id).where(where).first()
    if found is None:
        async with DB.transaction():
            credential_id = await create_credential(
                community_id=home.community,
                kind="qr",
                person_id=home.person,
                household_id=home.household,
                created_by=caller.account_id,
            )
            await record(
                "credential.create",
                actor=caller,
                target_type="credential",
                target_id=credential_id,
                community_id=home.community,
                details={"kind": "qr"},
            )
        after_commit(effects, home.community)
    else:
        credential_id = found["id"]
    token, expires_at = await issue_qr(credential_id)
    return QrToken(token=token, expires_at=expires_at, credential_id=credential_id)
