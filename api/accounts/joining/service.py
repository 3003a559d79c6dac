"""Self-registration (业主认证): a person proves a phone through the community's join link and
files a request; a property manager approves it (the account, the person, the resident role) or
rejects it.

What a stranger can learn is bounded on purpose. The link shows the community's buildings and
units, never rooms or residents; sending a code answers the same for any valid number; filing
answers the same whether the room exists or not (a request for a missing room is kept, and the
manager sees "no such room"). Codes and requests are budgeted per phone and per client address
in Redis, so every api process shares the counts. A code lives 5 minutes and dies after 5 wrong
tries or its one use; only its hash is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from redis.asyncio import Redis

from api.accounts.joining.schemas import (
    CodeSent,
    JoinBuilding,
    JoinFiled,
    JoinLinkRead,
    JoinPage,
    JoinRequestCreate,
    JoinRequestPage,
    JoinRequestRead,
    JoinUnit,
    Status,
)
from api.accounts.joining.tables import JoinLink, JoinRequest
from api.accounts.policy import PolicyReader
from api.accounts.tables import Account, RoleAssignment
from api.audit.service import record
from api.communities.tables import Building, Community, Household, Unit
from api.core.auth import Caller, Role, Scope, require_staff
from api.core.crypto import FieldCipher, mask_phone, normalize_phone, valid_phone
from api.core.errors import Conflict, InvalidInput, NotFound
from api.core.paging import equals, paged_page
from api.core.passwords import check_policy, hash_password
from api.core.ratelimit import spend
from api.core.sms import SmsSender
from api.people.service import CONTEXTS, InvalidPhone
from api.people.tables import Person
from api.piccolo_conf import DB

CODE_TTL = 300  # s a code lives
CODE_TRIES = 5  # wrong codes before it dies
CODES_PER_PHONE = (3, 900)  # codes a number may receive per window (s)
CODES_PER_ADDRESS = (10, 3600)  # codes one client address may ask for per window (s)
REQUESTS_PER_ADDRESS = (10, 3600)  # requests one client address may file per window (s)
PATH = "/join/"


class WrongCode(InvalidInput):
    """The one-time code is wrong, expired, used or tried too often."""

    code = "wrong_code"
    message = "The code is wrong or has expired; ask for a new one."


class NoSuchUnit(InvalidInput):
    """The unit is not one of the community's (the page lists them)."""

    code = "no_such_unit"
    message = "Pick a unit from the list."


class UsernameTaken(Conflict):
    """Another account has the user name."""

    code = "username_taken"
    message = "That user name is taken."


class AlreadyPending(Conflict):
    """The phone has a request waiting in this community."""

    code = "request_pending"
    message = "A request for this phone is already waiting for the manager."


class NotPending(Conflict):
    """The request was approved or rejected already."""

    code = "not_pending"
    message = "The request has been decided already."


class NoSuchRoom(Conflict):
    """The request names a room the unit does not have: it can only be rejected."""

    code = "no_such_room"
    message = "The unit has no such room; reject the request or add the household first."


def _now() -> datetime:
    return datetime.now(UTC)


_COLUMNS = (
    *JoinRequest.all_columns(),
    JoinRequest.unit._.number.as_alias("unit_number"),
    JoinRequest.unit._.building._.number.as_alias("building_number"),
)


class JoinService:
    """The public join flow and the manager's review; one instance per request."""

    def __init__(
        self, cipher: FieldCipher, redis: Redis, sms: SmsSender, *, policy: PolicyReader
    ) -> None:
        self.cipher, self.redis, self.sms, self.policy = cipher, redis, sms, policy

    # --- the public side -------------------------------------------------------------------

    async def page(self, code: str) -> JoinPage:
        """The community's name, buildings and units; NotFound for an unknown link."""
        community_id = await self._community(code)
        community = await Community.select(Community.name).where(Community.id == community_id)
        buildings = await (
            Building.select(Building.id, Building.number, Building.name)
            .where(Building.community == community_id)
            .order_by(Building.number)
        )
        units = await (
            Unit.select(Unit.id, Unit.number, Unit.building)
            .where(Unit.community == community_id)
            .order_by(Unit.number)
        )
        return JoinPage(
            community_name=community[0]["name"],
            buildings=[
                JoinBuilding(
                    id=b["id"],
                    number=b["number"],
                    name=b["name"],
                    units=[
                        JoinUnit(id=u["id"], number=u["number"])
                        for u in units
                        if u["building"] == b["id"]
                    ],
                )
                for b in buildings
            ],
        )

    async def send_code(self, code: str, phone: str, *, ip: str | None) -> CodeSent:
        """Text a fresh 6-digit code to the phone (replacing an earlier one), within budgets."""
        community_id = await self._community(code)
        phone = self._phone(phone)
        index = self.cipher.blind_index(phone, kind="phone")
        await self._spend(f"address:{ip}", *CODES_PER_ADDRESS)
        await self._spend(f"phone:{index}", *CODES_PER_PHONE)
        otp = f"{secrets.randbelow(1_000_000):06d}"
        key = self._otp_key(community_id, index)
        await self.redis.delete(key)
        await self.redis.hset(key, mapping={"hash": self._hash(index, otp), "tries": 0})  # type: ignore[misc]
        await self.redis.expire(key, CODE_TTL)
        await self.sms.send(phone, f"【安居】您的业主认证验证码为 {otp}，5 分钟内有效。")
        return CodeSent(expires_in=CODE_TTL)

    async def file(self, code: str, data: JoinRequestCreate, *, ip: str | None) -> JoinFiled:
        """Check the code and file the request; the answer does not say whether the room exists."""
        community_id = await self._community(code)
        phone = self._phone(data.phone)
        index = self.cipher.blind_index(phone, kind="phone")
        unit = (
            await Unit.select(Unit.id)
            .where((Unit.id == data.unit_id) & (Unit.community == community_id))
            .first()
        )
        if unit is None:
            raise NoSuchUnit(field="unit_id")
        await self._spend(f"file:{ip}", *REQUESTS_PER_ADDRESS)
        await self._check_code(community_id, index, data.code)
        rules = await self.policy.current()
        check_policy(
            data.password,
            username=data.username,
            min_length=rules.password_min_length,
            min_classes=rules.password_min_classes,
        )
        if await Account.exists().where(Account.username == data.username):
            raise UsernameTaken(field="username")
        room = data.room.strip()
        household = (
            await Household.select(Household.id)
            .where((Household.unit == data.unit_id) & (Household.room == room))
            .first()
        )
        request = JoinRequest(
            community=community_id,
            unit=data.unit_id,
            room=room,
            household=household["id"] if household else None,
            name=data.name.strip(),
            phone=self.cipher.encrypt(phone, context=CONTEXTS["phone"]),
            phone_index=index,
            username=data.username,
            password_hash=hash_password(data.password),
            created_at=_now(),
        )
        async with DB.transaction():
            if await JoinRequest.exists().where(
                (JoinRequest.community == community_id)
                & (JoinRequest.phone_index == index)
                & (JoinRequest.status == "pending")
            ):
                raise AlreadyPending()
            await request.save()
            await record(
                "join.requested",
                actor_name=data.username,
                target_type="join_request",
                target_id=request.id,
                community_id=community_id,
                ip=ip,
            )
        return JoinFiled(status="pending")

    # --- the manager's side ----------------------------------------------------------------

    async def link(self, caller: Caller, community_id: UUID) -> JoinLinkRead:
        """The community's join link, made at the first ask."""
        require_staff(caller, "join.review", community_id)
        row = await JoinLink.select(JoinLink.code).where(JoinLink.community == community_id).first()
        if row is None:
            code = secrets.token_urlsafe(12)
            async with DB.transaction():
                await JoinLink(community=community_id, code=code, created_at=_now()).save()
                await record(
                    "join.link_created",
                    actor=caller,
                    target_type="community",
                    target_id=community_id,
                    community_id=community_id,
                )
        else:
            code = row["code"]
        return JoinLinkRead(community_id=community_id, code=code, path=PATH + code)

    async def search(
        self,
        caller: Caller,
        *,
        page: int,
        page_size: int,
        community_id: UUID | None = None,
        status: Status | None = "pending",
    ) -> JoinRequestPage:
        """Requests in the caller's communities, oldest first (the queue to work through)."""
        where = Scope.of(caller, "join.review").where(JoinRequest.community)
        return await paged_page(
            JoinRequestPage,
            self._read,
            JoinRequest.select(*_COLUMNS).order_by(JoinRequest.created_at),
            where,
            equals(JoinRequest.community, community_id),
            equals(JoinRequest.status, status),
            page=page,
            page_size=page_size,
        )

    async def get(self, caller: Caller, request_id: UUID) -> JoinRequestRead:
        """One request in scope."""
        return self._read(await self._row(caller, request_id))

    async def approve(self, caller: Caller, request_id: UUID) -> JoinRequestRead:
        """The account (with the password the person chose), the person in the household (the
        one registered with this phone, or a new one) and the resident role, in one step."""
        row = await self._row(caller, request_id)
        if row["status"] != "pending":
            raise NotPending()
        if row["household"] is None:
            raise NoSuchRoom()
        if await Account.exists().where(Account.username == row["username"]):
            raise UsernameTaken(field="username")
        async with DB.transaction():
            person = (
                await Person.select(Person.id)
                .where(
                    (Person.household == row["household"])
                    & (Person.phone_index == row["phone_index"])
                    & Person.moved_out_on.is_null()
                )
                .first()
            )
            person_id = person["id"] if person else await self._new_person(row)
            account = Account(
                username=row["username"],
                display_name=row["name"],
                password_hash=row["password_hash"],
                password_changed_at=_now(),
                person=person_id,
            )
            await account.save()
            await RoleAssignment(
                account=account.id,
                role=Role.RESIDENT,
                community=row["community"],
                household=row["household"],
            ).save()
            await self._decide(caller, row, "approved", account_id=account.id)
            await record(
                "join.approved",
                actor=caller,
                target_type="join_request",
                target_id=request_id,
                community_id=row["community"],
                details={
                    "account_id": str(account.id),
                    "person_id": str(person_id),
                    "person_created": person is None,
                },
            )
        return await self.get(caller, request_id)

    async def reject(self, caller: Caller, request_id: UUID, reason: str) -> JoinRequestRead:
        """Refuse the request with a reason; nothing is created."""
        row = await self._row(caller, request_id)
        if row["status"] != "pending":
            raise NotPending()
        async with DB.transaction():
            await self._decide(caller, row, "rejected", reason=reason)
            await record(
                "join.rejected",
                actor=caller,
                target_type="join_request",
                target_id=request_id,
                community_id=row["community"],
                details={"reason": reason},
            )
        return await self.get(caller, request_id)

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    async def _community(code: str) -> UUID:
        row = await JoinLink.select(JoinLink.community).where(JoinLink.code == code).first()
        if row is None:
            raise NotFound()
        community: UUID = row["community"]
        return community

    @staticmethod
    def _phone(value: str) -> str:
        if not valid_phone(value):
            raise InvalidPhone(field="phone")
        return normalize_phone(value)

    async def _spend(self, what: str, limit: int, window: int) -> None:
        """Count one use of a budget; TooManyRequests once it is spent for the window."""
        await spend(self.redis, f"anju:join:budget:{what}", limit, window)

    @staticmethod
    def _otp_key(community_id: UUID, index: str) -> str:
        return f"anju:join:otp:{community_id}:{index}"

    @staticmethod
    def _hash(index: str, otp: str) -> str:
        return hashlib.sha256(f"{index}:{otp}".encode()).hexdigest()

    async def _check_code(self, community_id: UUID, index: str, otp: str) -> None:
        """Spend one try of the phone's code; the right code is used up."""
        key = self._otp_key(community_id, index)
        stored = await self.redis.hget(key, "hash")  # type: ignore[misc]
        if stored is None:
            raise WrongCode(field="code")
        tries = await self.redis.hincrby(key, "tries", 1)  # type: ignore[misc]
        if tries > CODE_TRIES:
            await self.redis.delete(key)
            raise WrongCode(field="code")
        expected = stored.decode() if isinstance(stored, bytes) else str(stored)
        if not hmac.compare_digest(expected, self._hash(index, otp)):
            raise WrongCode(field="code")
        await self.redis.delete(key)

    @staticmethod
    async def _row(caller: Caller, request_id: UUID) -> dict[str, Any]:
        where = Scope.of(caller, "join.review").where(JoinRequest.community)
        if where is None:
            raise NotFound()
        row = await JoinRequest.select(*_COLUMNS).where(where, JoinRequest.id == request_id).first()
        if row is None:
            raise NotFound()
        return row

    async def _new_person(self, row: dict[str, Any]) -> UUID:
        """A registry entry for the person, with the proven phone and no ID number yet."""
        phone = self.cipher.decrypt(row["phone"], context=CONTEXTS["phone"])
        person = Person(
            community=row["community"],
            household=row["household"],
            category="permanent",
            relation="member",
            name=row["name"],
            phone=row["phone"],
            phone_index=self.cipher.blind_index(phone, kind="phone"),
            id_number=self.cipher.encrypt("", context=CONTEXTS["id_number"]),
            id_number_index="",  # the manager registers the ID number later
            moved_in_on=date.today(),
        )
        await person.save()
        person_id: UUID = person.id
        return person_id

    @staticmethod
    async def _decide(
        caller: Caller,
        row: dict[str, Any],
        status: Status,
        *,
        account_id: UUID | None = None,
        reason: str = "",
    ) -> None:
        await JoinRequest.update(
            {
                JoinRequest.status: status,
                JoinRequest.reason: reason,
                JoinRequest.account: account_id,
                JoinRequest.decided_by: caller.account_id,
                JoinRequest.decided_at: _now(),
            }
        ).where(JoinRequest.id == row["id"])

    def _read(self, row: dict[str, Any]) -> JoinRequestRead:
        phone = self.cipher.decrypt(row["phone"], context=CONTEXTS["phone"])
        return JoinRequestRead(
            id=row["id"],
            community_id=row["community"],
            building_number=row["building_number"],
            unit_number=row["unit_number"],
            room=row["room"],
            room_found=row["household"] is not None,
            household_id=row["household"],
            name=row["name"],
            phone=mask_phone(phone),
            username=row["username"],
            status=row["status"],
            reason=row["reason"],
            account_id=row["account"],
            created_at=row["created_at"],
            decided_at=row["decided_at"],
        )
